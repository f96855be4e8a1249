/* The state a mapping test case leaves (rows, documents, dead letters) in expected.json's form,
 * and the differences between two such states. */
#ifndef PROJECTOR_TESTSTATE_H
#define PROJECTOR_TESTSTATE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "errlist.h"
#include "strbuf.h"

/* How a comparison names its two sides: the expected state against the actual one, or one
 * mode's state against the other's. */
typedef struct teststate_labels {
    const char *missing; /* a row, document or dead letter only the first state has */
    const char *extra;   /* one only the second has */
    const char *first;   /* a value of the first state */
    const char *second;  /* a value of the second */
} teststate_labels_t;

/* "missing", "extra", "expected", "got". */
extern const teststate_labels_t teststate_expected_labels;

/* Reads every table of keys (an object: table -> array of its key column names; an empty array
 * keys the rows by all their columns) through conn into state's "tables" (table -> array of rows
 * as row_to_json() renders them, ordered by key). Blocks. Returns 0, or -1 with errstr. */
int teststate_read_tables(PGconn *conn, const json_t *keys, json_t *state, char *errstr,
                          size_t errstr_size) __attribute__((warn_unused_result));

/* Checks an expected state (expected.json of file) against the tables the mappings write (keys,
 * as above) and the indices they write (an array of names): every table and index it names is
 * written by a mapping, every row is an object with its table's key columns, no two rows of a
 * table share a key, every document is an object. Adds each problem to errs. Does not block. */
void teststate_check(const json_t *expected, const json_t *keys, const json_t *indices,
                     const char *file, errlist_t *errs);

/* Compares state b with state a: appends to out one line per difference, each ending in "\n":
 * "table T: missing row {key}", "table T: extra row {key}", "table T: row {key}: column:
 * expected V, got W", the same for "index I: document ID", and for dead letters ("dead letters:
 * missing line N (stage S)"). Values compare as JSON, numbers numerically (1.50 equals 1.5).
 * Columns and fields a row or document of a leaves out are not compared; a table or index a
 * state leaves out has no rows; an "error" of a dead letter of a must be contained in b's.
 * Returns the number of differences. Does not block. */
size_t teststate_diff(const json_t *a, const json_t *b, const json_t *keys,
                      const teststate_labels_t *l, strbuf_t *out);

/* Writes state to path as JSON, indented, keys sorted. Returns 0, or -1 with errstr. */
int teststate_write(const json_t *state, const char *path, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

#endif
