/* The database side of the mappings: apply the views (.sql files), read column types,
 * check statements. */
#include "schema.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "log.h"
#include "pg_exec.h"
#include "rebuild_state.h"
#include "sqlgen.h"
#include "strbuf.h"
#include "xalloc.h"

static const char internal_ddl[] =
    "CREATE SCHEMA IF NOT EXISTS projector;\n"
    "CREATE TABLE IF NOT EXISTS projector.positions (\n"
    "  projection text NOT NULL,\n"
    "  topic text NOT NULL,\n"
    "  partition int NOT NULL,\n"
    "  next_offset bigint,\n" /* NULL: nothing applied yet; start at the earliest offset */
    "  applied bigint NOT NULL DEFAULT 0,\n"
    "  skipped bigint NOT NULL DEFAULT 0,\n"
    "  dead_lettered bigint NOT NULL DEFAULT 0,\n"
    "  updated_at timestamptz NOT NULL DEFAULT now(),\n"
    "  PRIMARY KEY (projection, topic, partition));\n"
    "CREATE TABLE IF NOT EXISTS projector.dead_letters (\n"
    "  id bigserial PRIMARY KEY,\n"
    "  projection text NOT NULL,\n"
    "  topic text NOT NULL,\n"
    "  partition int NOT NULL,\n"
    "  \"offset\" bigint NOT NULL,\n"
    "  key bytea,\n"
    "  value bytea,\n"
    "  stage text NOT NULL,\n"
    "  error text NOT NULL,\n"
    "  dlq_topic text NOT NULL,\n"
    "  created_at timestamptz NOT NULL DEFAULT now(),\n"
    "  UNIQUE (projection, topic, partition, \"offset\"));\n"
    "CREATE TABLE IF NOT EXISTS projector.projections (\n" /* set through the HTTP API */
    "  name text PRIMARY KEY,\n"
    "  paused boolean NOT NULL DEFAULT false,\n"
    "  updated_at timestamptz NOT NULL DEFAULT now());\n"
    "ALTER TABLE projector.dead_letters\n"
    "  ADD COLUMN IF NOT EXISTS type_header text,\n"          /* the event type, when a header */
    "  ADD COLUMN IF NOT EXISTS event_timestamp_ms bigint,\n" /* the message's timestamp */
    "  ADD COLUMN IF NOT EXISTS replayed_at timestamptz,\n"   /* resolved by 'projector dlq' */
    "  ADD COLUMN IF NOT EXISTS discarded boolean NOT NULL DEFAULT false;\n"
    "ALTER TABLE projector.projections\n" /* the live generation of the tables (rebuilds) */
    "  ADD COLUMN IF NOT EXISTS generation int NOT NULL DEFAULT 1;\n"
    /* Rebuild requests, written by 'projector rebuild' and the HTTP API, carried out by the
       running instances (NOTIFY projector_rebuild, and a poll). States:
         requested  waiting for an instance to take it up
         building   blue/green: the new generation is being built in its schema
         switching  blue/green: switched; the old generation is being dropped (or kept)
         done       finished (in place: the tables were reset, the replay is live)
         cancelled  cancelled before the switch; the partial generation was dropped
         failed     could not be carried out (see error) */
    "CREATE TABLE IF NOT EXISTS projector.rebuilds (\n"
    "  id bigserial PRIMARY KEY,\n"
    "  projection text NOT NULL,\n"
    "  mode text NOT NULL CHECK (mode IN ('in-place', 'blue-green')),\n"
    "  generation int NOT NULL,\n"     /* blue/green: the one built; in place: the live one */
    "  old_generation int NOT NULL,\n" /* the live generation at the request */
    "  state text NOT NULL DEFAULT 'requested' CHECK (state IN (" REBUILD_STATES_SQL ")),\n"
    "  keep_old boolean NOT NULL DEFAULT false,\n"
    "  requested_at timestamptz NOT NULL DEFAULT now(),\n"
    "  started_at timestamptz,\n"
    "  switched_at timestamptz,\n"
    "  finished_at timestamptz,\n"
    "  error text);\n"
    "CREATE UNIQUE INDEX IF NOT EXISTS rebuilds_one_active ON projector.rebuilds (projection)\n"
    "  WHERE state IN " REBUILD_ACTIVE_SQL ";\n"
    "CREATE TABLE IF NOT EXISTS projector.rebuild_partitions (\n"
    "  rebuild_id bigint NOT NULL REFERENCES projector.rebuilds ON DELETE CASCADE,\n"
    "  topic text NOT NULL,\n"
    "  partition int NOT NULL,\n"
    "  start_offset bigint NOT NULL,\n"  /* the log start offset at the request */
    "  target_offset bigint NOT NULL,\n" /* the high watermark at the request */
    "  PRIMARY KEY (rebuild_id, topic, partition));\n"
    /* Projections whose worker has failed the same batch for longer than stall.after.ms, per
       instance: written by that worker while it retries (best effort: not while the database
       is down), deleted once the batch goes through; a row past expires_at (its instance
       stopped refreshing it: crashed) is ignored. */
    "CREATE TABLE IF NOT EXISTS projector.stalls (\n"
    "  projection text NOT NULL,\n"
    "  instance text NOT NULL,\n" /* host:pid */
    "  since timestamptz NOT NULL,\n"
    "  reason text NOT NULL,\n"
    "  updated_at timestamptz NOT NULL DEFAULT now(),\n"
    "  expires_at timestamptz NOT NULL,\n"
    "  PRIMARY KEY (projection, instance));\n"
    "ALTER TABLE projector.stalls ADD COLUMN IF NOT EXISTS cause text NOT NULL DEFAULT 'stalled';\n"
    /* The instances consuming each projection, per positions key: refreshed by each worker every
       few seconds, deleted when it stops; a row past expires_at (a crashed instance) is
       ignored. projector status shows them. */
    "CREATE TABLE IF NOT EXISTS projector.instances (\n"
    "  projection text NOT NULL,\n"
    "  instance text NOT NULL,\n"   /* host:pid */
    "  partitions text NOT NULL,\n" /* topic/partition,... assigned to it */
    "  seen_at timestamptz NOT NULL DEFAULT now(),\n"
    "  expires_at timestamptz NOT NULL,\n"
    "  PRIMARY KEY (projection, instance));\n"
    /* The tables (OIDs) a projection's positions were written with, per positions key: a table
       dropped and created again under its name (another OID) while the positions say events
       were applied to the old one is refused until a rebuild (sink_pg_guard.c). Recorded by
       the first batch; forgotten by a blue/green switch (its tables move). */
    "CREATE TABLE IF NOT EXISTS projector.table_identity (\n"
    "  projection text NOT NULL,\n"
    "  table_name text NOT NULL,\n"
    "  oid oid NOT NULL,\n"
    "  recorded_at timestamptz NOT NULL DEFAULT now(),\n"
    "  PRIMARY KEY (projection, table_name));\n"
    /* external versions of search documents: taken by each batch attempt (sink_pg_docs.c) */
    "CREATE SEQUENCE IF NOT EXISTS projector.document_versions;\n";

/* A notice from the server: "already exists, skipping" and the like at debug level, warnings
 * at warn, on one log line. */
static void notice_to_log(void *arg, const PGresult *r)
{
    (void)arg;
    const char *severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    int warning = severity && strcmp(severity, "WARNING") == 0;
    LOG(warning ? LOG_WARN : LOG_DEBUG, "postgres %s: %s", severity ? severity : "notice",
        msg ? msg : PQresultErrorMessage(r));
}

void schema_log_notices(PGconn *conn)
{
    PQsetNoticeReceiver(conn, notice_to_log, NULL);
}

PGconn *schema_connect(const char *conninfo, char *errstr, size_t errstr_size)
{
    PGconn *c = PQconnectdb(conninfo ? conninfo : "");
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(errstr, errstr_size, "cannot connect to PostgreSQL: %s", PQerrorMessage(c));
        /* libpq's message has several lines (a FATAL, then DETAIL/HINT): keep one */
        char *out = errstr;
        for (const char *p = errstr; *p; p++) {
            if (*p != '\n' && *p != '\t')
                *out++ = *p;
            else if (out > errstr && out[-1] != ' ')
                *out++ = ' ';
        }
        while (out > errstr && out[-1] == ' ')
            out--;
        *out = '\0';
        PQfinish(c);
        return NULL;
    }
    schema_log_notices(c);
    PQclear(PQexec(c, "SET application_name = 'projector'"));
    return c;
}

int schema_connect_refused(const char *errstr)
{
    /* libpq gives no SQLSTATE for a failed connection: the server's refusals are FATAL
       messages, and these are the ones that pass with time */
    static const char *const passing[] = {
        "the database system is starting up",
        "the database system is shutting down",
        "the database system is in recovery",
        "not yet accepting connections",
        "too many clients already",
        "remaining connection slots are reserved",
        "the database system is not accepting",
        "terminating connection due to administrator",
    };
    if (!strstr(errstr, "FATAL:"))
        return 0;
    for (size_t i = 0; i < sizeof(passing) / sizeof(passing[0]); i++)
        if (strstr(errstr, passing[i]))
            return 0;
    return 1;
}

static char *read_file(const char *path, char *errstr, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errsz, "%s: cannot read: %m", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        snprintf(errstr, errsz, "%s: cannot read", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists dir's *.sql files in name order; returns the count or -1. */
static int list_sql(const char *dir, char ***out, char *errstr, size_t errsz)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(errstr, errsz, "%s: cannot open the views directory: %m", dir);
        return -1;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".sql") != 0)
            continue;
        char **nn = xrealloc(names, (size_t)(n + 1) * sizeof(char *));
        names = nn;
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof(char *), cmp_names);
    *out = names;
    return n;
}

static int apply_file(PGconn *c, const char *path, char *errstr, size_t errsz)
{
    char *sql = read_file(path, errstr, errsz);
    if (!sql)
        return -1;
    int rc = pg_run(c, "BEGIN", 0, NULL, PG_SIMPLE, path, errstr, errsz);
    if (rc == 0)
        rc = pg_run(c, sql, 0, NULL, PG_SIMPLE, path, errstr, errsz);
    char ignore[64];
    if (rc == 0)
        rc = pg_run(c, "COMMIT", 0, NULL, PG_SIMPLE, path, errstr, errsz);
    else
        pg_run(c, "ROLLBACK", 0, NULL, PG_SIMPLE, path, ignore, sizeof(ignore));
    free(sql);
    return rc;
}

/* Runs the projector schema's DDL (when internal) and the views files. */
static int apply_views(PGconn *conn, const char *views_dir, int own_transactions, int internal,
                       char *errstr, size_t errstr_size)
{
    char **names = NULL;
    int n = list_sql(views_dir, &names, errstr, errstr_size);
    if (n < 0)
        return -1;
    int rc = internal ? pg_run(conn, internal_ddl, 0, NULL, PG_SIMPLE, "projector schema", errstr,
                               errstr_size)
                      : 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", views_dir, names[i]);
        if (rc == 0 && own_transactions) {
            rc = apply_file(conn, path, errstr, errstr_size);
        } else if (rc == 0) {
            char *sql = read_file(path, errstr, errstr_size);
            rc = sql ? pg_run(conn, sql, 0, NULL, PG_SIMPLE, path, errstr, errstr_size) : -1;
            free(sql);
        }
        if (rc == 0)
            LOG(LOG_DEBUG, "views file=%s applied", path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int schema_apply_views(PGconn *conn, const char *views_dir, int own_transactions, char *errstr,
                       size_t errstr_size)
{
    return apply_views(conn, views_dir, own_transactions, 1, errstr, errstr_size);
}

int schema_run_views(PGconn *conn, const char *views_dir, char *errstr, size_t errstr_size)
{
    return apply_views(conn, views_dir, 0, 0, errstr, errstr_size);
}

int schema_migrate(PGconn *conn, const char *views_dir, char *errstr, size_t errstr_size)
{
    int rc = pg_run(conn, "SELECT pg_advisory_lock(hashtext('projector.migrate'))", 0, NULL,
                    PG_SIMPLE, "migrate", errstr, errstr_size);
    if (rc == 0)
        rc = schema_apply_views(conn, views_dir, 1, errstr, errstr_size);
    char ignore[64];
    pg_run(conn, "SELECT pg_advisory_unlock(hashtext('projector.migrate'))", 0, NULL, PG_SIMPLE,
           "migrate", ignore, sizeof(ignore));
    return rc;
}

/* ---- column types ---- */

struct schema {
    hmap_t *cols; /* "table\x1fcolumn" -> index into types; "table\x1f" -> 0 */
    char **types;
    char **declared; /* per type: with its modifiers */
    char **defaults; /* per type: the column's default, "" for none */
    size_t ntypes;
};

schema_t *schema_load(PGconn *conn, char *errstr, size_t errstr_size)
{
    PGresult *r = PQexec(conn, "SELECT c.relname, a.attname, format_type(a.atttypid, NULL),"
                               " format_type(a.atttypid, a.atttypmod),"
                               " coalesce(pg_get_expr(d.adbin, d.adrelid), '')"
                               " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                               " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid"
                               " AND d.adnum = a.attnum"
                               /* types without modifiers: casts then never truncate; the
                                  assignment to the column checks length and precision */
                               " WHERE c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0"
                               " AND NOT a.attisdropped AND pg_table_is_visible(c.oid)");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(errstr, errstr_size, "reading the database's tables: %s", PQerrorMessage(conn));
        PQclear(r);
        return NULL;
    }
    schema_t *s = xcalloc(1, sizeof(*s));
    s->cols = hmap_new();
    s->types = calloc((size_t)PQntuples(r) + 1, sizeof(char *));
    s->declared = calloc((size_t)PQntuples(r) + 1, sizeof(char *));
    s->defaults = calloc((size_t)PQntuples(r) + 1, sizeof(char *));
    for (int i = 0; i < PQntuples(r); i++) {
        char key[512];
        int n = snprintf(key, sizeof(key), "%s\x1f", PQgetvalue(r, i, 0));
        *hmap_put(s->cols, key, (size_t)n, NULL) = -1;
        n = snprintf(key, sizeof(key), "%s\x1f%s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        s->types[s->ntypes] = strdup(PQgetvalue(r, i, 2));
        s->declared[s->ntypes] = strdup(PQgetvalue(r, i, 3));
        s->defaults[s->ntypes] = strdup(PQgetvalue(r, i, 4));
        *hmap_put(s->cols, key, (size_t)n, NULL) = (int64_t)s->ntypes++;
    }
    PQclear(r);
    return s;
}

void schema_destroy(schema_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ntypes; i++) {
        free(s->types[i]);
        free(s->declared[i]);
        free(s->defaults[i]);
    }
    free(s->types);
    free(s->declared);
    free(s->defaults);
    hmap_destroy(s->cols);
    free(s);
}

/* The index of (table, column) among the columns read (-1: the table, no column), or NULL. */
static const int64_t *column_at(const schema_t *s, const char *table, const char *column)
{
    char key[512];
    int n = snprintf(key, sizeof(key), "%s\x1f%s", table, column ? column : "");
    return hmap_get(s->cols, key, (size_t)n);
}

const char *schema_type(void *ctx, const char *table, const char *column)
{
    schema_t *s = ctx;
    const int64_t *v = column_at(s, table, column);
    if (!v)
        return NULL;
    return *v < 0 ? "" : s->types[*v];
}

const char *schema_declared_type(void *ctx, const char *table, const char *column)
{
    schema_t *s = ctx;
    const int64_t *v = column_at(s, table, column);
    return v && *v >= 0 ? s->declared[*v] : NULL;
}

const char *schema_column_default(void *ctx, const char *table, const char *column)
{
    schema_t *s = ctx;
    const int64_t *v = column_at(s, table, column);
    return v && *v >= 0 ? s->defaults[*v] : NULL;
}

/* Prepares and plans a statement of the mapping (at: "file: path" of its action; a: the action,
 * or NULL for a document read), inside a savepoint or transaction that is rolled back, so the
 * database reports what it cannot run: a missing unique key for ON CONFLICT (found when
 * planning), a type without the operator an op needs, a wrong parameter count, a document
 * field's bad expression. */
/* Appends to names (a JSON array) the tables that the plan nodes (EXPLAIN's JSON) below node
 * modify. */
static void modified_tables(json_t *node, json_t *names)
{
    if (!json_is_object(node))
        return;
    const char *type = json_string_value(json_object_get(node, "Node Type"));
    const char *rel = json_string_value(json_object_get(node, "Relation Name"));
    if (type && rel && strcmp(type, "ModifyTable") == 0)
        json_array_append_new(names, json_string(rel));
    size_t i;
    json_t *child;
    json_array_foreach(json_object_get(node, "Plans"), i, child) modified_tables(child, names);
}

/* 1 when statement sql may write more than the tables names of its plan: one of them has
 * triggers (foreign key actions included) or is not found by its name, or the statement names a
 * volatile function outside the system schemas; also when the question fails. Blocks. */
static int writes_beyond_plan(PGconn *conn, const char *sql, json_t *names)
{
    static const char q[] =
        "SELECT EXISTS (SELECT FROM unnest($1::text[]) AS n(rel)"
        " LEFT JOIN pg_trigger t ON t.tgrelid = to_regclass(quote_ident(n.rel))"
        " WHERE to_regclass(quote_ident(n.rel)) IS NULL OR t.oid IS NOT NULL)"
        " OR EXISTS (SELECT FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace"
        " WHERE s.nspname NOT IN ('pg_catalog', 'information_schema') AND p.provolatile = 'v'"
        " AND position(lower(p.proname) IN lower($2)) > 0)";
    strbuf_t lit = STRBUF_INIT;
    size_t i;
    json_t *n;
    strbuf_puts(&lit, "{");
    json_array_foreach(names, i, n)
    {
        strbuf_puts(&lit, i ? "," : "");
        strbuf_array_elem(&lit, json_string_value(n));
    }
    strbuf_puts(&lit, "}");
    const char *params[] = {lit.data, sql};
    PGresult *r = PQexecParams(conn, q, 2, NULL, params, NULL, NULL, 0);
    int beyond = PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
                 strcmp(PQgetvalue(r, 0, 0), "f") != 0;
    PQclear(r);
    strbuf_free(&lit);
    return beyond;
}

/* Records the tables that sql action number action (statement sql) writes, from its plan
 * (EXPLAIN (FORMAT JSON) output in r): as the mapping's sql tables (mapping_add_sql_table()),
 * and as the action's own writes (mapping_add_sql_write(): lookups of other tables stay known
 * past it) unless it may write beyond them (writes_beyond_plan()). Blocks. */
static void note_sql_tables(PGconn *conn, mapping_t *m, size_t action, const char *sql, PGresult *r)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        return;
    json_t *plans = json_loads(PQgetvalue(r, 0, 0), 0, NULL), *names = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(plans, i, p) modified_tables(json_object_get(p, "Plan"), names);
    int beyond = json_array_size(names) && writes_beyond_plan(conn, sql, names);
    json_array_foreach(names, i, p)
    {
        if (beyond)
            mapping_add_sql_table(m, json_string_value(p));
        else
            mapping_add_sql_write(m, action, json_string_value(p));
    }
    json_decref(names);
    json_decref(plans);
}

static void check_statement(PGconn *conn, mapping_t *m, const char *at, const char *sql,
                            const mapping_action_info_t *a, errlist_t *errs)
{
    const char *where = at + strlen(mapping_file(m)) + 2;
    int in_txn = PQtransactionStatus(conn) == PQTRANS_INTRANS;
    PQclear(PQexec(conn, in_txn ? "SAVEPOINT projector_check" : "BEGIN"));
    PGresult *r = PQprepare(conn, "projector_check", sql, 0, NULL);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        r = PQdescribePrepared(conn, "projector_check");
        int n = PQresultStatus(r) == PGRES_COMMAND_OK ? PQnparams(r) : 0;
        PQclear(r);
        strbuf_t explain = STRBUF_INIT;
        int sql_action = a && a->kind == MAPPING_SQL;
        strbuf_puts(&explain, sql_action ? "EXPLAIN (FORMAT JSON) EXECUTE projector_check"
                                         : "EXPLAIN EXECUTE projector_check");
        for (int i = 0; i < n; i++)
            strbuf_puts(&explain, i ? ", NULL" : "(NULL");
        strbuf_puts(&explain, n ? ")" : "");
        r = PQexec(conn, explain.data);
        strbuf_free(&explain);
        if (sql_action)
            note_sql_tables(conn, m, (size_t)a->id, sql, r);
        if (a && a->kind == MAPPING_SQL && (size_t)n != a->nparams)
            errlist_add(errs, mapping_file(m), where,
                        "the statement takes %d parameter(s) but \"params\" gives %zu", n,
                        a->nparams);
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        errlist_add(errs, mapping_file(m), where, "the statement does not run: %s",
                    PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    PQclear(r);
    PQclear(PQexec(conn, in_txn ? "ROLLBACK TO SAVEPOINT projector_check" : "ROLLBACK"));
    PQclear(PQexec(conn, "DEALLOCATE projector_check")); /* not transactional */
}

void schema_check_mappings(PGconn *conn, schema_t *s, mapping_set_t *set, errlist_t *errs)
{
    for (size_t i = 0; i < mapping_set_count(set); i++) {
        mapping_t *m = mapping_set_get(set, i);
        size_t before = errlist_count(errs);
        mapping_bind_types(m, schema_type, s, errs);
        if (errlist_count(errs) > before)
            continue; /* statements of unbound columns would only repeat the problems */
        mapping_bind_declared(m, schema_declared_type, schema_column_default, s);
        for (size_t k = 0; k < mapping_action_count(m); k++) {
            const mapping_action_info_t *a = mapping_action_info(mapping_action(m, k));
            char *sql = sqlgen_action(a);
            check_statement(conn, m, a->where, sql, a, errs);
            free(sql);
        }
        for (size_t k = 0; k < mapping_doc_count(m); k++) {
            const mapping_doc_info_t *d = mapping_doc_info(m, k);
            if (!d->table || d->kind != MAPPING_DOC_INDEX)
                continue;
            char *sql = sqlgen_doc_rows(d);
            check_statement(conn, m, d->where, sql, NULL, errs);
            free(sql);
        }
    }
}

mapping_set_t *schema_prepare_mappings(const config_t *cfg, PGconn *conn)
{
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(config_str(cfg, CFG_MAPPINGS), errs);
    if (set) {
        char err[1024];
        schema_t *schema = schema_load(conn, err, sizeof(err));
        if (!schema)
            errlist_add(errs, "database", NULL, "%s", err);
        else
            schema_check_mappings(conn, schema, set, errs);
        schema_destroy(schema);
    }
    if (errlist_count(errs)) {
        errlist_print(errs, stderr);
        mapping_set_destroy(set);
        set = NULL;
    }
    errlist_destroy(errs);
    return set;
}
