/* `projector check` against the Schema Registry: the fields the upcasters read, in the schemas
 * of their versions. */
#ifndef PROJECTOR_CHECK_SCHEMAS_H
#define PROJECTOR_CHECK_SCHEMAS_H

#include <stdio.h>

#include "errlist.h"
#include "mapping.h"

/* 1 when a mapping of set takes its versions from the Schema Registry. */
int check_schemas_wanted(const mapping_set_t *set);

/* For each mapping of set whose versions are the writer schemas' (registry_configure() done):
 * checks the fields its upcasters read against the schema of each upcaster's version, adding
 * each problem to errs ("file: json.path: message"); an upcaster whose version the registry has
 * no schema of is noted on notes. Returns 0, or -1 when the registry did not answer (errstr
 * says why: the fields were not all checked). Blocks on the registry. */
int check_schemas(const mapping_set_t *set, errlist_t *errs, FILE *notes, char *errstr,
                  size_t errstr_size);

#endif
