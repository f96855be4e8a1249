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

static void disconnect(sink_pg_t *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
}

void sink_pg_destroy(sink_pg_t *s)
{
    if (!s)
        return;
    disconnect(s);
    sink_pg_docs_free(s);
    free(s->tables);
    planner_destroy(s->planner);
    free(s->q);
    free(s->conninfo);
    free(s);
}

void sink_pg_set_indexer(sink_pg_t *s, sink_index_fn fn, void *ctx)
{
    s->index_fn = fn;
    s->index_ctx = ctx;
}

uint64_t sink_pg_rows_written(const sink_pg_t *s)
{
    return s->rows_written;
}

/* ---- connection ---- */

int sink_pg_prepare(sink_pg_t *s, const char *name, const char *sql, char *errstr, size_t errsz)
{
    PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(errstr, errsz, "preparing %s: %s", name, PQerrorMessage(s->conn));
    PQclear(r);
    return ok ? 0 : -1;
}

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
    disconnect(s);
    if (!(s->conn = schema_connect(s->conninfo, errstr, errsz)))
        return -1;
    if (s->gen.schema[0] && set_build_path(s, errstr, errsz) != 0) {
        disconnect(s);
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
    for (size_t i = 0; rc == 0 && i < mapping_lookup_count(s->m); i++) {
        char name[32], *sql = sqlgen_lookup(mapping_lookup_info(s->m, i));
        snprintf(name, sizeof(name), "l%zu", i);
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
        disconnect(s);
    return rc;
}

/* ---- the pipeline ---- */

static void expect(sink_pg_t *s, q_kind_t kind, int id, const mapping_action_info_t *act)
{
    if (s->nq == s->qcap) {
        s->qcap = s->qcap ? 2 * s->qcap : 64;
        s->q = xrealloc(s->q, s->qcap * sizeof(q_expect_t));
    }
    s->q[s->nq++] = (q_expect_t){kind, id, act};
}

void sink_pg_send(sink_pg_t *s, const char *name, int n, const char *const *params,
                  const int *lengths, const int *formats, q_kind_t kind, int id,
                  const mapping_action_info_t *act)
{
    if (s->err == ERR_NONE && !PQsendQueryPrepared(s->conn, name, n, params, lengths, formats, 0)) {
        s->err = ERR_RETRY;
        snprintf(s->errmsg, sizeof(s->errmsg), "sending %s: %s", name, PQerrorMessage(s->conn));
    }
    expect(s, kind, id, act);
}

static void send_sql(sink_pg_t *s, const char *sql)
{
    if (s->err == ERR_NONE && !PQsendQueryParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
        s->err = ERR_RETRY;
        snprintf(s->errmsg, sizeof(s->errmsg), "sending %s: %s", sql, PQerrorMessage(s->conn));
    }
    expect(s, Q_PLAIN, 0, NULL);
}

/* The class of a failed statement's error: a lost connection is the database's. */
static err_class_t classify(PGconn *c, const char *state)
{
    static const err_class_t of[] = {[SQLSTATE_RETRY] = ERR_RETRY,
                                     [SQLSTATE_EVENT] = ERR_EVENT,
                                     [SQLSTATE_SERIAL] = ERR_SERIAL,
                                     [SQLSTATE_SCHEMA] = ERR_SCHEMA};
    return PQstatus(c) != CONNECTION_OK ? ERR_RETRY : of[sqlstate_classify(state)];
}

static void record_error(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    s->err = classify(s->conn, state);
    if (!msg)
        msg = PQerrorMessage(s->conn);
    snprintf(s->errmsg, sizeof(s->errmsg), "%s%sPostgreSQL error %s: %s%s%s",
             q->act ? q->act->where : "", q->act ? ": " : "", state ? state : "(none)", msg,
             detail ? " (" : "", detail ? detail : "");
    if (detail)
        strncat(s->errmsg, ")", sizeof(s->errmsg) - strlen(s->errmsg) - 1);
    s->errmsg[strcspn(s->errmsg, "\n")] = '\0';
}

static void handle_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    if (q->kind == Q_PARKED) {
        sink_pg_park_from_rows(s, r);
        return;
    }
    if (q->kind == Q_PAUSED) {
        s->paused = PQntuples(r) > 0;
        return;
    }
    if (q->kind == Q_TABLES) {
        sink_pg_tables_result(s, r);
        return;
    }
    if (q->kind == Q_TARGETS) {
        sink_pg_targets_result(s, r);
        return;
    }
    if (q->kind == Q_DOC_ROWS || q->kind == Q_DOC_VERSION) {
        sink_pg_docs_result(s, r, q);
        return;
    }
    if (q->kind == Q_COUNT) {
        s->counted = PQntuples(r);
    } else if (q->kind == Q_GROUP) {
        s->rows_pending += strtoull(PQcmdTuples(r), NULL, 10);
    } else if (q->kind == Q_LOOKUP) {
        for (int i = 0; i < PQntuples(r); i++)
            planner_prefetch_result(s->planner, q->id, strtoull(PQgetvalue(r, i, 0), NULL, 10),
                                    PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1));
    } else if (q->kind == Q_LOCK) {
        for (size_t k = 0; k < s->npos; k++)
            s->pos[k].actual = -2; /* no row */
        for (int i = 0; i < PQntuples(r); i++) {
            for (size_t k = 0; k < s->npos; k++) {
                event_position_t *p = &s->pos[k];
                if (strcmp(p->topic, PQgetvalue(r, i, 0)) == 0 &&
                    p->partition == atoi(PQgetvalue(r, i, 1)))
                    p->actual = PQgetisnull(r, i, 2) ? -1 : strtoll(PQgetvalue(r, i, 2), NULL, 10);
            }
        }
    }
}

/* Syncs the pipeline and reads every result. Returns the class of the first error. */
err_class_t sink_pg_sync(sink_pg_t *s)
{
    if (s->err == ERR_NONE && PQpipelineSync(s->conn) != 1) {
        s->err = ERR_RETRY;
        snprintf(s->errmsg, sizeof(s->errmsg), "sync: %s", PQerrorMessage(s->conn));
    }
    for (size_t i = 0; i < s->nq && PQstatus(s->conn) == CONNECTION_OK; i++) {
        PGresult *r;
        while ((r = PQgetResult(s->conn))) {
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_FATAL_ERROR && s->err == ERR_NONE)
                record_error(s, r, &s->q[i]);
            else if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && s->err == ERR_NONE)
                handle_rows(s, r, &s->q[i]);
            PQclear(r);
        }
    }
    /* the sync point */
    PGresult *r;
    while (PQstatus(s->conn) == CONNECTION_OK && (r = PQgetResult(s->conn))) {
        int done = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (done)
            break;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        if (s->err == ERR_NONE)
            snprintf(s->errmsg, sizeof(s->errmsg), "connection lost: %s", PQerrorMessage(s->conn));
        s->err = ERR_RETRY;
        s->errmsg[strcspn(s->errmsg, "\n")] = '\0';
    }
    s->nq = 0;
    err_class_t e = s->err;
    s->err = ERR_NONE;
    return e;
}

static err_class_t run_sql(sink_pg_t *s, const char *sql)
{
    send_sql(s, sql);
    return sink_pg_sync(s);
}

/* ---- positions ---- */

/* Builds the text[]/int[] literals of the positions' topics and partitions. */
static void position_arrays(const event_position_t *pos, size_t n, strbuf_t *topics,
                            strbuf_t *parts)
{
    strbuf_reset(topics);
    strbuf_reset(parts);
    strbuf_puts(topics, "{");
    strbuf_puts(parts, "{");
    for (size_t i = 0; i < n; i++) {
        if (i) {
            strbuf_puts(topics, ",");
            strbuf_puts(parts, ",");
        }
        strbuf_array_elem(topics, pos[i].topic);
        strbuf_printf(parts, "%d", pos[i].partition);
    }
    strbuf_puts(topics, "}");
    strbuf_puts(parts, "}");
}

static void send_lock(sink_pg_t *s, strbuf_t *topics, strbuf_t *parts)
{
    const char *params[] = {s->gen.key, topics->data, parts->data};
    sink_pg_send(s, "pos_lock", 3, params, NULL, NULL, Q_LOCK, 0, NULL);
}

int sink_pg_positions(sink_pg_t *s, event_position_t *pos, size_t npos, char *errstr,
                      size_t errstr_size)
{
    if (sink_pg_connect(s, errstr, errstr_size) != 0)
        return -1;
    strbuf_t topics = STRBUF_INIT, parts = STRBUF_INIT;
    position_arrays(pos, npos, &topics, &parts);
    const char *params[] = {s->gen.key, topics.data, parts.data};
    s->pos = pos;
    s->npos = npos;
    if (!s->gen.number) /* a build's rows exist from its start; once gone, it is over */
        sink_pg_send(s, "pos_ensure", 3, params, NULL, NULL, Q_PLAIN, 0, NULL);
    send_sql(s, "BEGIN");
    send_lock(s, &topics, &parts);
    send_sql(s, "COMMIT");
    err_class_t e = sink_pg_sync(s);
    strbuf_free(&topics);
    strbuf_free(&parts);
    if (e != ERR_NONE) {
        snprintf(errstr, errstr_size, "reading positions: %s", s->errmsg);
        run_sql(s, "ROLLBACK");
        return -1;
    }
    for (size_t i = 0; i < npos; i++)
        pos[i].expected = pos[i].actual < -1 && !s->gen.number ? -1 : pos[i].actual;
    return 0;
}

/* ---- applying ---- */

/* Applies events[lo, hi) inside the open transaction, sub-batch by sub-batch. */
static err_class_t apply_range(sink_pg_t *s, event_t *ev, size_t lo, size_t hi, arena_t *err_arena)
{
    for (size_t i = lo; i < hi;) {
        planner_begin(s->planner, ev, i, hi, err_arena, s->serial);
        for (size_t l = 0; l < mapping_lookup_count(s->m); l++) {
            const char *const *params;
            size_t n = planner_prefetch(s->planner, (int)l, &params);
            if (!n)
                continue;
            char name[32];
            snprintf(name, sizeof(name), "l%zu", l);
            sink_pg_send(s, name, (int)mapping_lookup_info(s->m, l)->nkeys, params, NULL, NULL,
                         Q_LOOKUP, (int)l, NULL);
        }
        err_class_t e = s->nq ? sink_pg_sync(s) : ERR_NONE;
        if (e != ERR_NONE)
            return e;
        size_t end = planner_plan(s->planner);
        for (size_t g = 0; g < planner_group_count(s->planner); g++) {
            const plan_group_t *grp = planner_group(s->planner, g);
            char name[32];
            snprintf(name, sizeof(name), "a%d", grp->action->id);
            sink_pg_send(s, name, (int)grp->nparams, grp->params, NULL, NULL, Q_GROUP, 0,
                         grp->action);
        }
        e = s->nq ? sink_pg_sync(s) : ERR_NONE;
        if (e != ERR_NONE)
            return e;
        i = end;
    }
    return ERR_NONE;
}

/* Whether a dead event stays dead through another attempt at its batch: what did not depend on
 * the attempt (decoding, documents that cannot be built) or was decided by an earlier one. */
/* Makes events pending again for another attempt, but for what does not depend on it. */
static void reset_states(event_t *ev, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++) {
        if (ev[i].state == EVENT_DEAD && event_stage_sticky(ev[i].stage))
            continue;
        ev[i].state = EVENT_PENDING;
        ev[i].stage = EVENT_STAGE_NONE;
        ev[i].error = NULL;
    }
}

/* Applies events[lo, hi) under a savepoint; when an event's data fails, halves the range until
 * the failing events are found alone, and marks them dead. */
static err_class_t apply_careful(sink_pg_t *s, event_t *ev, size_t lo, size_t hi,
                                 arena_t *err_arena)
{
    size_t pending = 0, last = lo;
    for (size_t i = lo; i < hi; i++)
        if (ev[i].state == EVENT_PENDING) {
            pending++;
            last = i;
        }
    if (!pending)
        return ERR_NONE;
    err_class_t e = run_sql(s, "SAVEPOINT careful");
    if (e != ERR_NONE)
        return e;
    uint64_t rows_before = s->rows_pending;
    e = apply_range(s, ev, lo, hi, err_arena);
    if (e == ERR_NONE)
        return run_sql(s, "RELEASE SAVEPOINT careful");
    if (e != ERR_EVENT)
        return e;
    char msg[sizeof(s->errmsg)];
    memcpy(msg, s->errmsg, sizeof(msg));
    s->rows_pending = rows_before;
    e = run_sql(s, "ROLLBACK TO SAVEPOINT careful");
    if (e == ERR_NONE)
        e = run_sql(s, "RELEASE SAVEPOINT careful");
    if (e != ERR_NONE)
        return e;
    reset_states(ev, lo, hi);
    if (pending == 1) {
        ev[last].state = EVENT_DEAD;
        ev[last].stage = EVENT_STAGE_APPLY;
        ev[last].error = arena_strndup(err_arena, msg, strlen(msg));
        return ERR_NONE;
    }
    size_t mid = lo + (hi - lo) / 2;
    e = apply_careful(s, ev, lo, mid, err_arena);
    return e != ERR_NONE ? e : apply_careful(s, ev, mid, hi, err_arena);
}

static event_position_t *position_of(sink_pg_t *s, const event_t *e)
{
    for (size_t k = 0; k < s->npos; k++)
        if (s->pos[k].partition == e->ev.partition && strcmp(s->pos[k].topic, e->ev.topic) == 0)
            return &s->pos[k];
    return NULL;
}

static void send_dead_letter(sink_pg_t *s, const event_t *e)
{
    char part[16], off[24], ts[24];
    snprintf(part, sizeof(part), "%d", e->ev.partition);
    snprintf(off, sizeof(off), "%lld", (long long)e->ev.offset);
    snprintf(ts, sizeof(ts), "%lld", (long long)e->ev.timestamp_ms);
    const char *params[11] = {s->gen.key,
                              e->ev.topic,
                              part,
                              off,
                              e->ev.key,
                              (const char *)e->value,
                              event_stage_name(e->stage),
                              e->error,
                              e->dlq_topic,
                              e->ev.type_header,
                              e->ev.timestamp_ms >= 0 ? ts : NULL};
    int lengths[11] = {0, 0, 0, 0, (int)e->ev.key_len, (int)e->value_len, 0, 0, 0, 0, 0};
    int formats[11] = {0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
    sink_pg_send(s, "dead_insert", 11, params, lengths, formats, Q_PLAIN, 0, NULL);
}

/* Sends the dead letters, the advanced positions and COMMIT. */
static err_class_t finish(sink_pg_t *s, event_t *ev, size_t n, strbuf_t *topics, strbuf_t *parts)
{
    for (size_t k = 0; k < s->npos; k++)
        s->pos[k].applied = s->pos[k].skipped = s->pos[k].dead = 0;
    for (size_t i = 0; i < n; i++) {
        event_position_t *p = position_of(s, &ev[i]);
        if (ev[i].state == EVENT_DEAD) {
            send_dead_letter(s, &ev[i]);
            if (p)
                p->dead++;
        } else if (p) {
            if (ev[i].state == EVENT_SKIPPED)
                p->skipped++;
            else
                p->applied++;
        }
    }
    strbuf_t arr[4] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT};
    for (int a = 0; a < 4; a++)
        strbuf_puts(&arr[a], "{");
    for (size_t k = 0; k < s->npos; k++) {
        const event_position_t *p = &s->pos[k];
        strbuf_printf(&arr[0], "%s%lld", k ? "," : "", (long long)p->next);
        strbuf_printf(&arr[1], "%s%lld", k ? "," : "", (long long)p->applied);
        strbuf_printf(&arr[2], "%s%lld", k ? "," : "", (long long)p->skipped);
        strbuf_printf(&arr[3], "%s%lld", k ? "," : "", (long long)p->dead);
    }
    for (int a = 0; a < 4; a++)
        strbuf_puts(&arr[a], "}");
    const char *params[] = {s->gen.key,  topics->data, parts->data, arr[0].data,
                            arr[1].data, arr[2].data,  arr[3].data};
    sink_pg_send(s, "pos_advance", 7, params, NULL, NULL, Q_PLAIN, 0, NULL);
    send_sql(s, "COMMIT");
    err_class_t e = sink_pg_sync(s);
    for (int a = 0; a < 4; a++)
        strbuf_free(&arr[a]);
    return e;
}

/* Starts the transaction and checks the positions. Returns ERR_NONE, an error, or sets
 * *stale when a position moved. */
static err_class_t begin_checked(sink_pg_t *s, strbuf_t *topics, strbuf_t *parts, int *stale)
{
    const char *name[] = {s->gen.key};
    send_sql(s, "BEGIN");
    sink_pg_send(s, "paused", 1, name, NULL, NULL, Q_PAUSED, 0, NULL);
    send_lock(s, topics, parts);
    sink_pg_tables_send(s);
    if (mapping_parks(s->m))
        sink_pg_park_send_query(s);
    err_class_t e = sink_pg_sync(s);
    if (e != ERR_NONE)
        return e;
    if (s->paused)
        return ERR_PAUSED;
    *stale = 0;
    for (size_t k = 0; k < s->npos; k++) {
        event_position_t *p = &s->pos[k];
        p->stale = p->actual != p->expected || p->expected < -1; /* -2: no row to advance */
        *stale |= p->stale;
    }
    return *stale ? ERR_NONE : sink_pg_tables_after(s);
}

/* One attempt at the whole batch. */
static err_class_t attempt(sink_pg_t *s, event_t *ev, size_t n, arena_t *err_arena,
                           strbuf_t *topics, strbuf_t *parts, sink_dead_fn dead_fn, void *dead_ctx,
                           int *stale)
{
    reset_states(ev, 0, n);
    s->rows_pending = 0;
    err_class_t e = begin_checked(s, topics, parts, stale);
    if (e != ERR_NONE || *stale)
        return e;
    e = apply_range(s, ev, 0, n, err_arena);
    if (e == ERR_EVENT) {
        LOG(LOG_WARN, "projection=%s %s; isolating the failing events", s->gen.key, s->errmsg);
        e = run_sql(s, "ROLLBACK");
        if (e == ERR_NONE)
            e = begin_checked(s, topics, parts, stale);
        if (e != ERR_NONE || *stale)
            return e;
        reset_states(ev, 0, n);
        e = apply_careful(s, ev, 0, n, err_arena);
    }
    if (e == ERR_NONE && mapping_parks(s->m))
        e = sink_pg_park_followers(s);
    if (e == ERR_NONE && s->index_fn)
        e = sink_pg_docs_index(s, ev, n);
    if (e != ERR_NONE)
        return e;
    int dead = 0;
    for (size_t i = 0; i < n; i++)
        dead += ev[i].state == EVENT_DEAD;
    if (dead && dead_fn && dead_fn(dead_ctx, ev, n) != 0) {
        snprintf(s->errmsg, sizeof(s->errmsg), "publishing %d dead letter(s) failed", dead);
        return ERR_RETRY;
    }
    return finish(s, ev, n, topics, parts);
}

sink_rc_t sink_pg_apply(sink_pg_t *s, event_t *events, size_t n, arena_t *err_arena,
                        event_position_t *pos, size_t npos, sink_dead_fn dead_fn, void *dead_ctx,
                        char *errstr, size_t errstr_size)
{
    if (sink_pg_connect(s, errstr, errstr_size) != 0)
        return SINK_RETRY;
    s->pos = pos;
    s->npos = npos;
    s->serial = 0;
    s->ev = events;
    s->nev = n;
    s->err_arena = err_arena;
    strbuf_t topics = STRBUF_INIT, parts = STRBUF_INIT;
    position_arrays(pos, npos, &topics, &parts);
    if (s->index_fn) {
        reset_states(events, 0, n);
        sink_pg_docs_eval(s, events, n);
    }
    int stale = 0;
    err_class_t e;
    for (;;) {
        e = attempt(s, events, n, err_arena, &topics, &parts, dead_fn, dead_ctx, &stale);
        if (e == ERR_AGAIN) { /* converges: each round marks more events dead, never fewer */
            run_sql(s, "ROLLBACK");
            continue;
        }
        if (e == ERR_SERIAL && !s->serial) {
            LOG(LOG_INFO, "projection=%s %s; applying this batch one row operation at a time",
                s->gen.key, s->errmsg);
            run_sql(s, "ROLLBACK");
            s->serial = 1;
            continue;
        }
        break;
    }
    strbuf_free(&topics);
    strbuf_free(&parts);
    if (e == ERR_PAUSED || e == ERR_MOVED) {
        run_sql(s, "ROLLBACK");
        if (e == ERR_MOVED)
            snprintf(errstr, errstr_size, "%s", s->errmsg);
        return e == ERR_PAUSED ? SINK_PAUSED : SINK_REFUSED;
    }
    if (e == ERR_NONE && stale) {
        run_sql(s, "ROLLBACK");
        return SINK_STALE;
    }
    if (e != ERR_NONE) {
        snprintf(errstr, errstr_size, "%s", s->errmsg);
        if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
            run_sql(s, "ROLLBACK");
        else
            disconnect(s);
        return e == ERR_INDEX ? SINK_RETRY_INDEX : e == ERR_SCHEMA ? SINK_SCHEMA : SINK_RETRY;
    }
    for (size_t i = 0; i < n; i++)
        if (events[i].state == EVENT_PENDING)
            events[i].state = EVENT_APPLIED;
    for (size_t k = 0; k < npos; k++)
        pos[k].expected = pos[k].next;
    s->rows_written += s->rows_pending;
    return SINK_OK;
}

/* Applies a replayed event inside the replay's transaction, with its documents: an event whose
 * documents are refused is undone (savepoint) and stays dead. */
static err_class_t replay_apply(sink_pg_t *s, event_t *ev, arena_t *err_arena)
{
    s->ev = ev;
    s->nev = 1;
    s->err_arena = err_arena;
    if (!s->index_fn)
        return apply_careful(s, ev, 0, 1, err_arena);
    sink_pg_docs_eval(s, ev, 1);
    if (ev->state != EVENT_PENDING)
        return ERR_NONE;
    err_class_t e = run_sql(s, "SAVEPOINT replay");
    if (e == ERR_NONE)
        e = apply_careful(s, ev, 0, 1, err_arena);
    if (e == ERR_NONE && ev->state == EVENT_PENDING)
        e = sink_pg_docs_index(s, ev, 1);
    if (e == ERR_AGAIN) /* refused by the search engine: ev is dead, its writes go */
        e = run_sql(s, "ROLLBACK TO SAVEPOINT replay");
    return e;
}

sink_rc_t sink_pg_replay(sink_pg_t *s, int64_t dead_id, event_t *ev, arena_t *err_arena,
                         char *errstr, size_t errstr_size)
{
    if (sink_pg_connect(s, errstr, errstr_size) != 0)
        return SINK_RETRY;
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)dead_id);
    const char *params[3] = {id, NULL, NULL};
    s->counted = 0;
    s->rows_pending = 0;
    send_sql(s, "BEGIN");
    sink_pg_send(s, "replay_lock", 1, params, NULL, NULL, Q_COUNT, 0, NULL);
    err_class_t e = sink_pg_sync(s);
    if (e == ERR_NONE && !s->counted) {
        run_sql(s, "ROLLBACK");
        return SINK_STALE; /* replayed already, or gone */
    }
    if (e == ERR_NONE && ev->state == EVENT_PENDING)
        e = replay_apply(s, ev, err_arena);
    if (e == ERR_NONE) {
        if (ev->state == EVENT_DEAD) {
            params[1] = event_stage_name(ev->stage);
            params[2] = ev->error;
            sink_pg_send(s, "replay_failed", 3, params, NULL, NULL, Q_PLAIN, 0, NULL);
        } else {
            sink_pg_send(s, "replay_done", 1, params, NULL, NULL, Q_PLAIN, 0, NULL);
        }
        send_sql(s, "COMMIT");
        e = sink_pg_sync(s);
    }
    if (e != ERR_NONE) {
        snprintf(errstr, errstr_size, "%s", s->errmsg);
        if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
            run_sql(s, "ROLLBACK");
        return e == ERR_INDEX ? SINK_RETRY_INDEX : SINK_RETRY;
    }
    if (ev->state == EVENT_PENDING)
        ev->state = EVENT_APPLIED;
    s->rows_written += s->rows_pending;
    return SINK_OK;
}
