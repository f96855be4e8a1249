/* What the mapping modules (mapping.c, mapping_doc.c) share; not for the rest of the program. */
#ifndef PROJECTOR_MAPPING_INTERNAL_H
#define PROJECTOR_MAPPING_INTERNAL_H

#include <jansson.h>

#include "errlist.h"
#include "mapping.h"
#include "mapping_value.h"

/* A column of an action, a lookup or a document's row key, with the value it gets. */
typedef struct column_spec {
    mapping_column_info_t info; /* name, type, op */
    value_spec_t val;
} column_spec_t;

/* calloc/strdup that abort on out-of-memory. */
void *mapping_xcalloc(size_t n, size_t size);
char *mapping_xstrdup(const char *s);

/* Adds "unknown field" to errs for each key of obj (at where) not in allowed (NULL-ended).
 * Returns 0, or -1 when one was found. */
int mapping_check_fields(const char *file, errlist_t *errs, json_t *obj, const char *where,
                         const char *const *allowed);
void mapping_free_columns(column_spec_t *cols, size_t n);
/* A copy of the columns' infos (caller frees). */
mapping_column_info_t *mapping_infos_of(const column_spec_t *cols, size_t n);
/* Binds cols (found at where.part) to the types of table's columns, updating infos[]. */
void mapping_bind_list(column_spec_t *cols, mapping_column_info_t *infos, size_t n,
                       const char *table, const char *where, const char *part, mapping_type_fn fn,
                       void *ctx, const char *file, errlist_t *errs);

/* ---- document actions (mapping_doc.c) ---- */

/* 1 when the action object j is a document action ("index" or "delete_document"). */
int mapping_doc_is(json_t *j);
/* Parses document action j found at file/where. Returns it, or NULL after adding the problems
 * to errs. Caller owns it (mapping_doc_free()). */
mapping_doc_t *mapping_doc_parse(json_t *j, const char *file, const char *where, errlist_t *errs);
void mapping_doc_free(mapping_doc_t *d);
/* The document action's public description; its id is set by the caller. */
mapping_doc_info_t *mapping_doc_info_of(mapping_doc_t *d);
/* from_row: the key's columns as spelled in the mapping, joined by ',' (caller frees); NULL
 * for other documents. */
char *mapping_doc_key_names(const mapping_doc_t *d);
/* Binds a from_row document's key and field columns to the table's types. */
void mapping_doc_bind(mapping_doc_t *d, mapping_type_fn fn, void *ctx, const char *file,
                      errlist_t *errs);
/* Evaluates the document action for vc's event into op. Returns VALUE_OK or VALUE_BAD (errstr
 * names the mapping's JSON path and the problem). */
value_rc_t mapping_doc_eval(const mapping_doc_t *d, const value_ctx_t *vc, mapping_doc_op_t *op,
                            char *errstr, size_t errstr_size);

#endif
