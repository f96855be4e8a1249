/* Generations of a projection's tables: the live one under the stable names, and one being
 * built beside it by a blue/green rebuild, and the database steps that create, switch and drop
 * them.
 *
 * The live generation's tables are plain tables under their stable names, wherever the search
 * path finds them. A generation being built lives in a schema of its own
 * (projector_build_<projection>), made by the views DDL run with that schema first on the
 * search path; its workers apply through a connection with the same search path, under their
 * own positions key and consumer group. The switch moves tables between schemas in one
 * transaction (ALTER TABLE ... SET SCHEMA), so a reader resolving a stable name sees the old
 * generation or the new one, never a missing or partly built table. */
#include "generation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_exec.h"
#include "rebuild_state.h"
#include "schema.h"
#include "sink_es.h"
#include "strbuf.h"
#include "xalloc.h"

void generation_live(generation_t *g, const config_t *cfg, const mapping_t *m)
{
    memset(g, 0, sizeof(*g));
    snprintf(g->key, sizeof(g->key), "%s", mapping_name(m));
    snprintf(g->group, sizeof(g->group), "%s.%s", config_str(cfg, CFG_GROUP), mapping_name(m));
}

void generation_build(generation_t *g, const config_t *cfg, const mapping_t *m, int number)
{
    memset(g, 0, sizeof(*g));
    g->number = number;
    snprintf(g->key, sizeof(g->key), "%s#g%d", mapping_name(m), number);
    generation_build_schema(g->schema, sizeof(g->schema), mapping_name(m));
    snprintf(g->group, sizeof(g->group), "%s.%s.g%d", config_str(cfg, CFG_GROUP), mapping_name(m),
             number);
}

size_t generation_batch_max(const generation_t *g, const config_t *cfg)
{
    return (size_t)config_int(cfg, g->number ? CFG_REBUILD_BATCH_MAX_EVENTS : CFG_BATCH_MAX_EVENTS);
}

void generation_build_schema(char *out, size_t outsz, const char *projection)
{
    snprintf(out, outsz, "projector_build_%s", projection);
}

void generation_old_schema(char *out, size_t outsz, const char *projection, int number)
{
    snprintf(out, outsz, "projector_old_%s_g%d", projection, number);
}

/* Appends t to out[0, *n) unless it is there or out is full. */
static void add_table(const char **out, size_t *n, size_t max, const char *t)
{
    for (size_t k = 0; k < *n; k++)
        if (strcmp(out[k], t) == 0)
            return;
    if (*n < max)
        out[(*n)++] = t;
}

size_t generation_tables(const mapping_t *m, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < mapping_action_count(m); i++) {
        const mapping_action_info_t *a = mapping_action_info(mapping_action(m, i));
        if (a->kind != MAPPING_SQL)
            add_table(out, &n, max, a->table);
    }
    for (size_t i = 0; i < mapping_sql_table_count(m); i++)
        add_table(out, &n, max, mapping_sql_table(m, i));
    return n;
}

/* Sets errstr to "what: message" for statement e failed; returns -1. */
static int failed(const char *what, const pg_err_t *e, char *errstr, size_t errsz)
{
    snprintf(errstr, errsz, "%s: %s", what, e->msg);
    return -1;
}

/* One statement of a sequence, and what it does (for its error). */
typedef struct step {
    const char *sql, *what;
} step_t;

/* Runs steps[0, n) in order inside the caller's transaction, each with the same n_params
 * parameters of type text (a statement may leave some unused), up to the first that fails.
 * Returns 0, or -1 with "what: message" in errstr. Blocks. */
static int run_steps(PGconn *c, const step_t *steps, size_t n, int n_params,
                     const char *const *params, char *errstr, size_t errsz)
{
    pg_err_t e;
    for (size_t i = 0; i < n; i++)
        if (pg_exec(c, steps[i].sql, n_params, params, PG_TEXT, NULL, &e) != 0)
            return failed(steps[i].what, &e, errstr, errsz);
    return 0;
}

/* Runs the views DDL with schema first on the search path (for this transaction only). */
static int views_into(PGconn *c, const config_t *cfg, const char *schema, char *errstr,
                      size_t errsz)
{
    const char *params[] = {schema};
    PGresult *r = NULL;
    pg_err_t e;
    if (pg_exec(c,
                "SELECT current_setting('search_path'), set_config('search_path', quote_ident($1)"
                " || ', ' || current_setting('search_path'), true)",
                1, params, PG_TEXT, &r, &e) != 0)
        return failed("setting the search path", &e, errstr, errsz);
    char *saved = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    int rc = schema_run_views(c, config_str(cfg, CFG_VIEWS), errstr, errsz);
    const char *restore[] = {saved};
    if (rc == 0 && pg_exec(c, "SELECT set_config('search_path', $1, true)", 1, restore, PG_TEXT,
                           NULL, &e) != 0)
        rc = failed("restoring the search path", &e, errstr, errsz);
    free(saved);
    return rc;
}

/* Checks that the views DDL run into schema created every table m writes there. Returns 0, or
 * -1 with errstr. */
static int check_built(PGconn *c, const config_t *cfg, const mapping_t *m, const char *schema,
                       char *errstr, size_t errsz)
{
    const char *tables[64];
    size_t nt = generation_tables(m, tables, 64);
    for (size_t i = 0; i < nt; i++) {
        const char *params[] = {schema, tables[i]};
        PGresult *r = NULL;
        pg_err_t e;
        if (pg_exec(c, "SELECT to_regclass(quote_ident($1) || '.' || quote_ident($2)) IS NOT NULL",
                    2, params, PG_TEXT, &r, &e) != 0)
            return failed("checking the build tables", &e, errstr, errsz);
        int found = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (!found) {
            snprintf(errstr, errsz,
                     "%s: the views DDL did not create table %s in the build schema %s: views "
                     "must create their tables with unqualified names (CREATE TABLE IF NOT EXISTS "
                     "%s, not public.%s)",
                     config_str(cfg, CFG_VIEWS), tables[i], schema, tables[i], tables[i]);
            return -1;
        }
    }
    return 0;
}

int generation_create(PGconn *c, const config_t *cfg, const mapping_t *m, long long rebuild_id,
                      int number, char *errstr, size_t errstr_size)
{
    generation_t g;
    generation_build(&g, cfg, m, number);
    if (generation_drop_schema(c, g.schema, errstr, errstr_size) != 0)
        return -1;
    char *ident = PQescapeIdentifier(c, g.schema, strlen(g.schema));
    strbuf_t sql = STRBUF_INIT;
    strbuf_printf(&sql, "CREATE SCHEMA %s", ident);
    PQfreemem(ident);
    pg_err_t e;
    int rc = 0;
    if (pg_exec(c, sql.data, 0, NULL, PG_TEXT, NULL, &e) != 0)
        rc = failed("creating the build schema", &e, errstr, errstr_size);
    strbuf_free(&sql);
    if (rc == 0)
        rc = views_into(c, cfg, g.schema, errstr, errstr_size);
    if (rc == 0)
        rc = check_built(c, cfg, m, g.schema, errstr, errstr_size);
    if (rc != 0)
        return -1;
    static const step_t steps[] = {
        {"DELETE FROM projector.positions WHERE projection = $1", "clearing build positions"},
        {"DELETE FROM projector.dead_letters WHERE projection = $1", "clearing build dead letters"},
        {"INSERT INTO projector.positions (projection, topic, partition)"
         " SELECT $1, topic, partition FROM projector.rebuild_partitions"
         " WHERE rebuild_id = $2::bigint",
         "creating build positions"},
    };
    char id[24];
    snprintf(id, sizeof(id), "%lld", rebuild_id);
    const char *params[] = {g.key, id};
    return run_steps(c, steps, sizeof(steps) / sizeof(steps[0]), 2, params, errstr, errstr_size);
}

/* Prints the quoted "schema"."table" into sb. */
static void qualified(PGconn *c, strbuf_t *sb, const char *schema, const char *table)
{
    char *s = PQescapeIdentifier(c, schema, strlen(schema));
    char *t = PQescapeIdentifier(c, table, strlen(table));
    strbuf_printf(sb, "%s.%s", s, t);
    PQfreemem(s);
    PQfreemem(t);
}

/* Finds where the stable name of table resolves now (the connection's search path) or, when no
 * such table exists, the first schema of the path, into *schema (caller frees). Returns 1 when
 * the table exists, 0 when not, -1 with errstr. */
static int live_schema(PGconn *c, const char *table, char **schema, char *errstr, size_t errsz)
{
    const char *params[] = {table};
    PGresult *r = NULL;
    pg_err_t e;
    if (pg_exec(c,
                "SELECT n.nspname FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace"
                " WHERE t.oid = to_regclass(quote_ident($1))",
                1, params, PG_TEXT, &r, &e) != 0)
        return failed("finding the live table", &e, errstr, errsz);
    int found = PQntuples(r) > 0;
    if (!found) { /* no live table: the new one goes to the first schema of the path */
        PQclear(r);
        if (pg_exec(c, "SELECT current_schema()", 0, NULL, PG_TEXT, &r, &e) != 0)
            return failed("current schema", &e, errstr, errsz);
    }
    *schema = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

/* Moves table from schema to schema `to` (ALTER TABLE ... SET SCHEMA). Returns 0, or -1 with
 * "what: message" in errstr. */
static int set_schema(PGconn *c, const char *schema, const char *table, const char *to,
                      const char *what, char *errstr, size_t errsz)
{
    strbuf_t sql = STRBUF_INIT;
    char *to_ident = PQescapeIdentifier(c, to, strlen(to));
    strbuf_puts(&sql, "ALTER TABLE ");
    qualified(c, &sql, schema, table);
    strbuf_printf(&sql, " SET SCHEMA %s", to_ident);
    PQfreemem(to_ident);
    pg_err_t e;
    int rc = 0;
    if (pg_exec(c, sql.data, 0, NULL, PG_TEXT, NULL, &e) != 0)
        rc = failed(what, &e, errstr, errsz);
    strbuf_free(&sql);
    return rc;
}

/* Moves the mapping's tables: live ones to old_schema, built ones under the stable names. */
static int move_tables(PGconn *c, const mapping_t *m, const char *build, const char *old,
                       char *errstr, size_t errsz)
{
    const char *tables[64];
    size_t nt = generation_tables(m, tables, 64);
    strbuf_t sql = STRBUF_INIT;
    char *old_ident = PQescapeIdentifier(c, old, strlen(old));
    strbuf_printf(&sql, "CREATE SCHEMA IF NOT EXISTS %s", old_ident);
    PQfreemem(old_ident);
    pg_err_t e;
    int rc = 0;
    if (pg_exec(c, sql.data, 0, NULL, PG_TEXT, NULL, &e) != 0)
        rc = failed("creating the old generation's schema", &e, errstr, errsz);
    strbuf_free(&sql);
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        char *live = NULL;
        int found = live_schema(c, tables[i], &live, errstr, errsz);
        rc = found < 0 ? -1 : 0;
        if (found > 0)
            rc = set_schema(c, live, tables[i], old, "moving the live table away", errstr, errsz);
        if (rc == 0)
            rc = set_schema(c, build, tables[i], live, "moving the built table in", errstr, errsz);
        free(live);
    }
    return rc;
}

int generation_switch(PGconn *c, const config_t *cfg, const mapping_t *m, int old_number,
                      int number, char *errstr, size_t errstr_size)
{
    generation_t g = {0};
    snprintf(g.key, sizeof(g.key), "%s#g%d", mapping_name(m), number);
    char build[192], old[192], num[16];
    generation_build_schema(build, sizeof(build), mapping_name(m));
    generation_old_schema(old, sizeof(old), mapping_name(m), old_number);
    snprintf(num, sizeof(num), "%d", number);
    const char *params[] = {mapping_name(m), g.key, num};
    /* Both generations' positions, in the order every worker locks its own: live batches and
     * build batches in flight finish first; later ones wait for this commit and then find their
     * positions moved. */
    pg_err_t e;
    int rc = 0;
    if (pg_exec(c,
                "SELECT 1 FROM projector.positions WHERE projection IN ($1, $2)"
                " ORDER BY projection, topic, partition FOR UPDATE",
                2, params, PG_TEXT, NULL, &e) != 0)
        rc = failed("locking positions", &e, errstr, errstr_size);
    if (rc == 0)
        rc = move_tables(c, m, build, old, errstr, errstr_size);
    static const step_t steps[] = {
        {"UPDATE projector.positions p SET next_offset = b.next_offset, applied = b.applied,"
         " skipped = b.skipped, dead_lettered = b.dead_lettered, updated_at = now()"
         " FROM projector.positions b WHERE p.projection = $1 AND b.projection = $2"
         " AND b.topic = p.topic AND b.partition = p.partition",
         "taking over the build positions"},
        {"UPDATE projector.positions p SET next_offset = NULL, applied = 0, skipped = 0,"
         " dead_lettered = 0, updated_at = now() WHERE p.projection = $1 AND NOT EXISTS"
         " (SELECT 1 FROM projector.positions b WHERE b.projection = $2 AND b.topic = p.topic"
         " AND b.partition = p.partition)",
         "resetting partitions the build did not cover"},
        {"INSERT INTO projector.positions (projection, topic, partition, next_offset, applied,"
         " skipped, dead_lettered) SELECT $1, topic, partition, next_offset, applied, skipped,"
         " dead_lettered FROM projector.positions WHERE projection = $2 ON CONFLICT DO NOTHING",
         "adding build positions"},
        {"DELETE FROM projector.positions WHERE projection = $2", "dropping build positions"},
        {"DELETE FROM projector.dead_letters WHERE projection = $1",
         "dropping the old generation's dead letters"},
        {"UPDATE projector.dead_letters SET projection = $1 WHERE projection = $2",
         "taking over the build dead letters"},
        {"DELETE FROM projector.table_identity WHERE projection IN ($1, $2)",
         "forgetting the moved tables' identity (the next batches record it)"},
        {"INSERT INTO projector.projections (name, generation) VALUES ($1, $3::int)"
         " ON CONFLICT (name) DO UPDATE SET generation = EXCLUDED.generation, updated_at = now()",
         "recording the live generation"},
    };
    if (rc == 0)
        rc = run_steps(c, steps, sizeof(steps) / sizeof(steps[0]), 3, params, errstr, errstr_size);
    if (rc == 0)
        rc = sink_es_generation_switch(cfg, m, number, errstr, errstr_size);
    return rc;
}

int generation_reconcile_search(PGconn *c, const config_t *cfg, const mapping_t *m, char *errstr,
                                size_t errstr_size)
{
    if (!mapping_index_count(m))
        return 0;
    const char *params[] = {mapping_name(m)};
    PGresult *r = NULL;
    pg_err_t e;
    /* A switch holds its rebuild's row FOR UPDATE from before its _aliases request until its
     * COMMIT: wait for it, and keep the next one from starting until this transaction ends. */
    if (pg_exec(c,
                "SELECT 1 FROM projector.rebuilds WHERE projection = $1"
                " AND state IN " REBUILD_ACTIVE_SQL " FOR SHARE",
                1, params, PG_TEXT, NULL, &e) != 0)
        return failed("locking the active rebuild", &e, errstr, errstr_size);
    if (pg_exec(
            c, "SELECT coalesce((SELECT generation FROM projector.projections WHERE name = $1), 1)",
            1, params, PG_TEXT, &r, &e) != 0)
        return failed("reading the live generation", &e, errstr, errstr_size);
    int live = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return sink_es_reconcile_aliases(cfg, m, live, errstr, errstr_size);
}

int generation_drop_schema(PGconn *c, const char *schema, char *errstr, size_t errstr_size)
{
    char *ident = PQescapeIdentifier(c, schema, strlen(schema));
    strbuf_t sql = STRBUF_INIT;
    strbuf_printf(&sql, "DROP SCHEMA IF EXISTS %s CASCADE", ident);
    PQfreemem(ident);
    static const char quiet[] = "SET LOCAL client_min_messages = warning"; /* no NOTICEs */
    if (pg_exec(c, quiet, 0, NULL, PG_SIMPLE, NULL, NULL) != 0) {
        /* then the DROP fails too, and says why */
    }
    pg_err_t e;
    int rc = 0;
    if (pg_exec(c, sql.data, 0, NULL, PG_TEXT, NULL, &e) != 0)
        rc = failed(schema, &e, errstr, errstr_size);
    strbuf_free(&sql);
    return rc;
}

int generation_discard(PGconn *c, const config_t *cfg, const mapping_t *m, int number, char *errstr,
                       size_t errstr_size)
{
    char key[192], build[192];
    snprintf(key, sizeof(key), "%s#g%d", mapping_name(m), number);
    generation_build_schema(build, sizeof(build), mapping_name(m));
    const char *params[] = {key};
    static const step_t steps[] = {
        {"SELECT 1 FROM projector.positions WHERE projection = $1"
         " ORDER BY topic, partition FOR UPDATE",
         "locking build positions"},
        {"DELETE FROM projector.positions WHERE projection = $1", "dropping build positions"},
        {"DELETE FROM projector.dead_letters WHERE projection = $1", "dropping build dead letters"},
    };
    int rc = run_steps(c, steps, sizeof(steps) / sizeof(steps[0]), 1, params, errstr, errstr_size);
    if (rc == 0)
        rc = generation_drop_schema(c, build, errstr, errstr_size);
    if (rc == 0)
        rc = sink_es_generation_discard(cfg, m, number, errstr, errstr_size);
    return rc;
}

int generation_reset(PGconn *c, const config_t *cfg, const mapping_t *m, char *errstr,
                     size_t errstr_size)
{
    const char *tables[64];
    size_t nt = generation_tables(m, tables, 64);
    if (!nt) {
        snprintf(errstr, errstr_size, "the mapping writes no table");
        return -1;
    }
    static const step_t lock = {"SELECT 1 FROM projector.positions WHERE projection = $1"
                                " ORDER BY topic, partition FOR UPDATE",
                                "locking positions"};
    static const step_t clear[] = {
        {"UPDATE projector.positions SET next_offset = NULL, applied = 0, skipped = 0,"
         " dead_lettered = 0, updated_at = now() WHERE projection = $1",
         "resetting positions"},
        {"DELETE FROM projector.dead_letters WHERE projection = $1", "dropping dead letters"},
    };
    const char *params[] = {mapping_name(m)};
    int rc = run_steps(c, &lock, 1, 1, params, errstr, errstr_size);
    strbuf_t sql = STRBUF_INIT;
    strbuf_puts(&sql, "TRUNCATE");
    for (size_t i = 0; i < nt; i++) {
        char *ident = PQescapeIdentifier(c, tables[i], strlen(tables[i]));
        strbuf_printf(&sql, "%s %s", i ? "," : "", ident);
        PQfreemem(ident);
    }
    pg_err_t e;
    if (rc == 0 && pg_exec(c, sql.data, 0, NULL, PG_TEXT, NULL, &e) != 0)
        rc = failed("truncating", &e, errstr, errstr_size);
    strbuf_free(&sql);
    if (rc == 0)
        rc = run_steps(c, clear, sizeof(clear) / sizeof(clear[0]), 1, params, errstr, errstr_size);
    /* new empty indices behind the aliases, now that no batch of the old state writes any */
    if (rc == 0 && sink_es_recreate(cfg, m, errstr, errstr_size) != 0)
        rc = -1;
    return rc;
}
