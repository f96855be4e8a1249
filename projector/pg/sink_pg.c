/* Applies planned batches to PostgreSQL in one transaction each, with the stored positions.
 *
 * A batch costs a few round trips whatever its size: BEGIN and the position lock, then per
 * sub-batch the lookup prefetch and the planned statements (libpq pipeline mode), then dead
 * letters, the position update and COMMIT. The position lock (SELECT ... FOR UPDATE) with the
 * expected-position check is what makes a stale instance unable to apply a batch twice. */
#include "sink_pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generation.h"
#include "log.h"
#include "schema.h"
#include "sink_pg_internal.h"
#include "sqlgen.h"
#include "sqlstate.h"
#include "strbuf.h"
#include "xalloc.h"

static const char sql_lock[] =
    "SELECT topic, partition, next_offset FROM projector.positions WHERE projection = $1"
    " AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))"
    " ORDER BY topic, partition FOR UPDATE";
static const char sql_advance[] =
    "UPDATE projector.positions p SET next_offset = u.n, applied = p.applied + u.a,"
    " skipped = p.skipped + u.s, dead_lettered = p.dead_lettered + u.d, updated_at = now()"
    " FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])"
    " AS u(t, pt, n, a, s, d) WHERE p.projection = $1 AND p.topic = u.t AND p.partition = u.pt";
static const char sql_ensure[] =
    "INSERT INTO projector.positions (projection, topic, partition)"
    " SELECT $1, t, pt FROM unnest($2::text[], $3::int[]) AS u(t, pt) ON CONFLICT DO NOTHING";
static const char sql_dead[] =
    "INSERT INTO projector.dead_letters (projection, topic, partition, \"offset\", key, value,"
    " stage, error, dlq_topic, type_header, event_timestamp_ms)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (projection, topic, partition, \"offset\") DO UPDATE SET stage = EXCLUDED.stage,"
    " error = EXCLUDED.error, created_at = now()";
static const char sql_paused[] = "SELECT 1 FROM projector.projections WHERE name = $1 AND paused";
/* A replay: lock the dead letter while it is unresolved; then resolve it or record the new
 * error; the position counters move the event from dead-lettered to applied. */
static const char sql_replay_lock[] =
    "SELECT id FROM projector.dead_letters WHERE id = $1 AND replayed_at IS NULL FOR UPDATE";
static const char sql_replay_done[] =
    "WITH d AS (UPDATE projector.dead_letters SET replayed_at = now() WHERE id = $1"
    " RETURNING projection, topic, partition)"
    " UPDATE projector.positions p SET dead_lettered = p.dead_lettered - 1,"
    " applied = p.applied + 1 FROM d"
    " WHERE p.projection = d.projection AND p.topic = d.topic AND p.partition = d.partition";
static const char sql_replay_failed[] =
    "UPDATE projector.dead_letters SET stage = $2, error = $3 WHERE id = $1";

sink_pg_t *sink_pg_new(const char *conninfo, const mapping_t *m, const generation_t *gen)
{
    sink_pg_t *s = xcalloc(1, sizeof(*s));
    s->conninfo = xstrdup(conninfo ? conninfo : "");
    s->m = m;
    s->gen = *gen;
    s->planner = planner_new(m);
    return s;
}

void sink_pg_disconnect(sink_pg_t *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
    s->nfolds_ready = 0; /* prepared statements go with the connection */
}

void sink_pg_destroy(sink_pg_t *s)
{
    if (!s)
        return;
    sink_pg_disconnect(s);
    sink_pg_docs_free(s);
    free(s->tables);
    strbuf_free(&s->topics);
    strbuf_free(&s->parts);
    planner_destroy(s->planner);
    free(s->q);
    free(s->folds_ready);
    free(s->conninfo);
    free(s);
}

uint64_t sink_pg_rows_written(const sink_pg_t *s)
{
    return s->rows_written;
}

/* ---- connection ---- */

/* A generation being built: its schema first on the search path, so the mapping's unqualified
 * table names resolve to its tables. Returns 0 or -1 (retriable). */
static int set_build_path(sink_pg_t *s, char *errstr, size_t errsz)
{
    const char *params[] = {s->gen.schema};
    PGresult *r = PQexecParams(s->conn,
                               "SELECT set_config('search_path', quote_ident($1) || ', ' ||"
                               " current_setting('search_path'), false)",
                               1, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(errstr, errsz, "setting the search path: %s", PQerrorMessage(s->conn));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Connects if needed and prepares every statement. Returns 0 or -1 (retriable). */
int sink_pg_connect(sink_pg_t *s, char *errstr, size_t errsz)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        return 0;
    sink_pg_disconnect(s);
    if (!(s->conn = schema_connect(s->conninfo, errstr, errsz)))
        return -1;
    if (s->gen.schema[0] && set_build_path(s, errstr, errsz) != 0) {
        sink_pg_disconnect(s);
        return -1;
    }
    int rc = sink_pg_prepare(s, "pos_lock", sql_lock, errstr, errsz) ||
             sink_pg_prepare(s, "pos_advance", sql_advance, errstr, errsz) ||
             sink_pg_prepare(s, "pos_ensure", sql_ensure, errstr, errsz) ||
             sink_pg_prepare(s, "dead_insert", sql_dead, errstr, errsz) ||
             sink_pg_prepare(s, "paused", sql_paused, errstr, errsz) ||
             sink_pg_prepare(s, "replay_lock", sql_replay_lock, errstr, errsz) ||
             sink_pg_prepare(s, "replay_done", sql_replay_done, errstr, errsz) ||
             sink_pg_prepare(s, "replay_failed", sql_replay_failed, errstr, errsz);
    for (size_t i = 0; rc == 0 && i < mapping_action_count(s->m); i++) {
        const mapping_action_info_t *a = mapping_action_info(mapping_action(s->m, i));
        char name[32], *sql = sqlgen_action(a);
        snprintf(name, sizeof(name), "a%d", a->id);
        rc = sink_pg_prepare(s, name, sql, errstr, errsz);
        free(sql);
    }
    for (size_t f = 0; rc == 0 && f < planner_fetch_count(s->planner); f++) {
        const int *ids;
        size_t n = planner_fetch_lookups(s->planner, f, &ids);
        const mapping_lookup_info_t **ls = xrealloc(NULL, n * sizeof(*ls));
        for (size_t j = 0; j < n; j++)
            ls[j] = mapping_lookup_info(s->m, (size_t)ids[j]);
        char name[32], *sql = sqlgen_lookups(ls, n);
        free(ls);
        snprintf(name, sizeof(name), "l%zu", f);
        rc = sink_pg_prepare(s, name, sql, errstr, errsz);
        free(sql);
    }
    if (rc == 0)
        rc = sink_pg_docs_prepare(s, errstr, errsz);
    if (rc == 0)
        rc = sink_pg_guard_prepare(s, errstr, errsz);
    if (rc == 0)
        rc = sink_pg_park_prepare(s, errstr, errsz);
    if (rc == 0 && PQenterPipelineMode(s->conn) != 1) {
        snprintf(errstr, errsz, "cannot enter pipeline mode: %s", PQerrorMessage(s->conn));
        rc = -1;
    }
    if (rc != 0)
        sink_pg_disconnect(s);
    return rc;
}

/* ---- positions ---- */

/* The rows of a position lock: each position's stored next offset as its actual
 * (EVENT_POS_NONE: a row without one; EVENT_POS_NO_ROW: no row). */
static void lock_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)q;
    for (size_t k = 0; k < s->npos; k++)
        s->pos[k].actual = EVENT_POS_NO_ROW;
    for (int i = 0; i < PQntuples(r); i++) {
        for (size_t k = 0; k < s->npos; k++) {
            event_position_t *p = &s->pos[k];
            if (strcmp(p->topic, PQgetvalue(r, i, 0)) == 0 &&
                p->partition == atoi(PQgetvalue(r, i, 1)))
                p->actual =
                    PQgetisnull(r, i, 2) ? EVENT_POS_NONE : strtoll(PQgetvalue(r, i, 2), NULL, 10);
        }
    }
}

void sink_pg_position_arrays(sink_pg_t *s)
{
    strbuf_reset(&s->topics);
    strbuf_reset(&s->parts);
    strbuf_puts(&s->topics, "{");
    strbuf_puts(&s->parts, "{");
    for (size_t i = 0; i < s->npos; i++) {
        if (i) {
            strbuf_puts(&s->topics, ",");
            strbuf_puts(&s->parts, ",");
        }
        strbuf_array_elem(&s->topics, s->pos[i].topic);
        strbuf_printf(&s->parts, "%d", s->pos[i].partition);
    }
    strbuf_puts(&s->topics, "}");
    strbuf_puts(&s->parts, "}");
}

void sink_pg_send_lock(sink_pg_t *s)
{
    const char *params[] = {s->gen.key, s->topics.data, s->parts.data};
    sink_pg_send(s, "pos_lock", 3, params, NULL, NULL, lock_rows, 0, NULL);
}

int sink_pg_positions(sink_pg_t *s, event_position_t *pos, size_t npos, char *errstr,
                      size_t errstr_size)
{
    if (sink_pg_connect(s, errstr, errstr_size) != 0)
        return -1;
    s->pos = pos;
    s->npos = npos;
    sink_pg_position_arrays(s);
    const char *params[] = {s->gen.key, s->topics.data, s->parts.data};
    if (!s->gen.number) /* a build's rows exist from its start; once gone, it is over */
        sink_pg_send(s, "pos_ensure", 3, params, NULL, NULL, NULL, 0, NULL);
    sink_pg_send_sql(s, "BEGIN");
    sink_pg_send_lock(s);
    sink_pg_send_sql(s, "COMMIT");
    err_class_t e = sink_pg_sync(s);
    if (e != ERR_NONE) {
        snprintf(errstr, errstr_size, "reading positions: %s", s->errmsg);
        sink_pg_run_sql(s, "ROLLBACK");
        return -1;
    }
    for (size_t i = 0; i < npos; i++)
        pos[i].expected =
            pos[i].actual == EVENT_POS_NO_ROW && !s->gen.number ? EVENT_POS_NONE : pos[i].actual;
    return 0;
}
