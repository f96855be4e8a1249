/* Applies a mapping test case in a scratch database with the projector's own planner and
 * statements (sink_pg), without Kafka or a search engine, and reads the state it leaves. */
#ifndef PROJECTOR_TEST_RUN_H
#define PROJECTOR_TEST_RUN_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "mapping.h"
#include "testcase.h"

typedef struct test_run test_run_t;

/* Creates a scratch database (projector_test_<pid>_<random>) on the server cfg's pg names,
 * migrates cfg's views into it and binds cfg's mappings to it. Blocks. Returns the run (caller
 * owns; test_run_destroy() drops the database), or NULL with *exit_code 1 (the server failed or
 * the role may not create databases) or 2 (invalid views or mappings), after printing why. */
test_run_t *test_run_new(const config_t *cfg, int *exit_code);
/* Drops the scratch database. Returns 0, or -1 after printing why (it names the database). */
int test_run_destroy(test_run_t *r);

/* The tables the mappings write with their key columns ({table: [columns]}; [] when the table has
 * neither a mapping key nor a primary key: its rows are keyed by all their columns), and the
 * indices they write ([names]). Borrowed. */
const json_t *test_run_keys(const test_run_t *r);
const json_t *test_run_indices(const test_run_t *r);

/* Empties the mappings' tables and the projector's positions and dead letters, applies case c
 * (each event to every projection consuming its topic) all in one batch per projection, or one
 * event per batch when single, and returns the state it left in expected.json's form (caller
 * owns), or NULL with errstr (the database failed). Blocks. */
json_t *test_run_case(test_run_t *r, const testcase_t *c, int single, char *errstr,
                      size_t errstr_size);

#endif
