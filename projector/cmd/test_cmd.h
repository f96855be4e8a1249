/* `projector test CASES...`: runs mapping test cases (events in, rows, documents and dead
 * letters expected) against a scratch database, set-based and one event per batch. */
#ifndef PROJECTOR_TEST_CMD_H
#define PROJECTOR_TEST_CMD_H

#include <stddef.h>

#include "config.h"

typedef struct test_cmd_opts {
    int update;         /* --update: write each case's actual state as its expected.json */
    const char *junit;  /* --junit FILE: write JUnit XML there, or NULL */
    const char **cases; /* case directories (a directory of cases stands for each of them) */
    size_t ncases;
} test_cmd_opts_t;

/* Runs the cases with the mappings and views of cfg in a database it creates on cfg's server and
 * drops afterwards (nothing is written to the database cfg names). Blocks. Returns an exit code:
 * 0 every case passed; 1 a case failed, or the database failed or may not be created; 2 invalid
 * mappings, views or cases (each problem printed as "file: where: message"). */
int test_cmd_run(const config_t *cfg, const test_cmd_opts_t *o);

#endif
