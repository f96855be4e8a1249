/* Set-based SQL for mapping actions: one statement applies many rows passed as text arrays. */
#ifndef PROJECTOR_SQLGEN_H
#define PROJECTOR_SQLGEN_H

#include "mapping.h"
#include "strbuf.h"

/* Returns the statement for action a (caller frees). Table actions take one text[] parameter
 * per value of an op (keys, columns, guard), row i of each array being one op; a sql action
 * is the user's statement unchanged. */
char *sqlgen_action(const mapping_action_info_t *a);
/* Returns the statement that fetches lookup l for many keys (one text[] per key column); it
 * yields (ordinality, value::text) for the keys whose row exists. Caller frees. */
char *sqlgen_lookup(const mapping_lookup_info_t *l);
/* The same for lookups ls[0..n) of one table by the same key columns (ls[0]'s): "SELECT u.ord,
 * t.<column of ls[0]>::text, ..., t.<column of ls[n-1]>::text FROM ...". Caller frees. */
char *sqlgen_lookups(const mapping_lookup_info_t *const *ls, size_t n);
/* Returns the statement that reads the documents of from_row action d for many keys (one text[]
 * per key column), locking the rows (FOR SHARE) so that no other writer changes them before the
 * transaction ends; it yields (ordinality, document::text) for the keys whose row exists.
 * Caller frees. */
char *sqlgen_doc_rows(const mapping_doc_info_t *d);
/* Appends a column name as a double-quoted identifier. */
void sqlgen_put_ident(strbuf_t *sb, const char *name);
/* Appends a table name as an identifier; "schema.table" becomes "schema"."table". */
void sqlgen_put_table(strbuf_t *sb, const char *name);
/* Number of parameters the statement of a takes. */
size_t sqlgen_param_count(const mapping_action_info_t *a);

#endif
