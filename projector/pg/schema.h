/* The database side of the mappings: apply the views (.sql files), read column types,
 * check statements. */
#ifndef PROJECTOR_SCHEMA_H
#define PROJECTOR_SCHEMA_H

#include <libpq-fe.h>
#include <stddef.h>

#include "config.h"
#include "errlist.h"
#include "mapping.h"

typedef struct schema schema_t;

/* Creates the projector schema (positions, dead letters) and applies every the views directory's
 * .sql files file in name order, each in its own transaction, under an advisory lock so instances
 * do not race. The files must be idempotent (CREATE ... IF NOT EXISTS). Blocks. Returns 0, or -1
 * with "file: message" in errstr. */
int schema_migrate(PGconn *conn, const char *views_dir, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Creates the projector schema and runs every .sql file of the views directory in name order:
 * each in its own transaction when own_transactions, else inside the caller's (check rolls it
 * back). Blocks. */
int schema_apply_views(PGconn *conn, const char *views_dir, int own_transactions, char *errstr,
                       size_t errstr_size) __attribute__((warn_unused_result));

/* Runs the views directory's .sql files in name order inside the caller's transaction (a
 * rebuild's, with its build schema first on the search path), without the projector schema.
 * Blocks. Returns 0, or -1 with "file: message" in errstr. */
int schema_run_views(PGconn *conn, const char *views_dir, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Reads the columns of every table and view visible on the search path. Blocks. Returns the
 * schema (caller owns, schema_destroy()) or NULL with errstr set. */
schema_t *schema_load(PGconn *conn, char *errstr, size_t errstr_size);
void schema_destroy(schema_t *s);
/* mapping_type_fn: the type of table.column, or with column NULL a non-NULL value when the
 * table exists; NULL when absent. ctx is the schema_t. */
const char *schema_type(void *ctx, const char *table, const char *column);
/* mapping_type_fn: the type of table.column with its modifiers ("numeric(16,2)"), or NULL. */
const char *schema_declared_type(void *ctx, const char *table, const char *column);
/* mapping_type_fn: the default of table.column as pg_get_expr() prints it ("0"), "" when it has
 * none, NULL when there is no such column. */
const char *schema_column_default(void *ctx, const char *table, const char *column);

/* Binds every mapping of set to the schema and prepares each sql action to check its parameter
 * count; adds each problem to errs. Blocks. */
void schema_check_mappings(PGconn *conn, schema_t *s, mapping_set_t *set, errlist_t *errs);

/* Connects with conninfo (empty: libpq's PG* variables); the server's notices go to the log (at
 * debug level; warnings at warn). Blocks. Returns the connection or NULL with errstr set (one
 * line). */
PGconn *schema_connect(const char *conninfo, char *errstr, size_t errstr_size);

/* Is a connection failure (schema_connect()'s errstr) permanent: the server refused the
 * connection for what it is (no such database 3D000, authentication 28P01/28000, no privilege
 * 42501, ...), not for the state it is in (starting up or shutting down 57P03, too many
 * connections 53300) or because it could not be reached? Returns 1 or 0. */
int schema_connect_refused(const char *errstr);

/* Routes conn's notices through the log, as schema_connect() does. */
void schema_log_notices(PGconn *conn);

/* Loads the mappings (CFG_MAPPINGS) and binds them to the (migrated) database's column types.
 * Blocks. Returns the set (caller owns), or NULL after printing every problem as
 * "file: json.path: message". */
mapping_set_t *schema_prepare_mappings(const config_t *cfg, PGconn *conn);

#endif
