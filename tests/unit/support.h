/* Helpers shared by the cmocka unit tests: the test database's column types, the test data
 * directory, mapping sets loaded for a group of tests, ' for " in JSON written into tables,
 * temporary files and captured output.
 *
 * A helper that cannot do its work fails the running test (cmocka), unless its comment says it
 * returns a status. None of them blocks beyond local file I/O. */
#ifndef PROJECTOR_TESTS_SUPPORT_H
#define PROJECTOR_TESTS_SUPPORT_H

#include <stddef.h>
#include <stdio.h>

#include "mapping.h"

/* The number of rows of a table (an array, not a pointer). */
#define N_ROWS(a) (sizeof(a) / sizeof((a)[0]))

/* The repository's mappings/ directory (orders.json), relative to support_data_dir(). */
#define SUPPORT_ORDERS_DIR "../../../mappings"

/* A mapping_type_fn over the column types of the test database (the sample domain and the tables
 * of tests/unit/data). Returns the column's type, "" for an existing table when column is NULL,
 * NULL for an unknown table or column; static strings. ctx is unused. */
const char *support_column_type(void *ctx, const char *table, const char *column);

/* Returns PROJECTOR_TEST_DATA, or tests/unit/data next to this file; a static string. */
const char *support_data_dir(void);

/* Loads each of dirs[0..n) (relative to support_data_dir()) as a mapping set and binds its first
 * mapping to support_column_type(). Returns 0, or -1 after printing the problems to stderr. The
 * sets stay here until support_sets_teardown(); at most 8. Meant for a cmocka group setup. */
int support_sets_load(const char *const *dirs, size_t n) __attribute__((warn_unused_result));

/* Returns the first mapping of set i of support_sets_load(); the set owns it, and it lives until
 * support_sets_teardown(). */
const mapping_t *support_mapping(size_t i);

/* A cmocka group teardown: destroys the sets of support_sets_load(). Returns 0. */
int support_sets_teardown(void **state);

/* Returns 1 when action a's place in its file ends with "$.events.<label>" (label such as
 * "OrderCreated[0]"), else 0. Borrows both. */
int support_is_action(const mapping_action_info_t *a, const char *label);

/* Returns a copy of text_sq with ' turned into " and \' into ' (a \\ pair is kept as it is), so
 * JSON can be written in C tables with ' for ". The caller frees it. */
char *support_dq(const char *text_sq);

/* Writes text, as given, to the file dir/name, replacing it. Borrows its arguments. */
void support_write_file(const char *dir, const char *name, const char *text);

/* Removes dir and the files in it (not subdirectories). */
void support_remove_dir(const char *dir);

/* Output captured into memory, e.g. from errlist_print() or config_dump(). */
typedef struct support_capture support_capture_t;

/* Returns a new capture; the caller ends it with support_capture_text(). */
support_capture_t *support_capture_new(void);

/* Returns the stream writing into c; c owns it. */
FILE *support_capture_stream(support_capture_t *c);

/* Closes the stream, frees c and returns the text written to it; the caller frees the text. */
char *support_capture_text(support_capture_t *c);

#endif
