/* The steps of a batch in PostgreSQL, as the applier sequences them (sink_rows_ops_t): begin
 * (the transaction, the pause flag, the position lock, the tables' identity and, for parking
 * projections, the keys with an unresolved dead letter), rows, documents, finish (dead letters,
 * positions, COMMIT), abort.
 *
 * A batch costs a few round trips whatever its size: BEGIN and the position lock, then per
 * sub-batch the lookup prefetch and the planned statements (libpq pipeline mode), then dead
 * letters, the position update and COMMIT. The position lock (SELECT ... FOR UPDATE) with the
 * expected-position check is what makes a stale instance unable to apply a batch twice.
 *
 * When an event's data fails a statement, the batch is begun again and applied under
 * savepoints, halving the failing range until the events that fail are found alone
 * (apply_careful): poison events are isolated in about log n steps, every other event is
 * applied once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sink_pg_internal.h"
#include "sqlgen.h"
#include "xalloc.h"

/* The rows of a lookup prefetch (fetch q->id: the key's ord, then a column per lookup): the
 * planner's answers. */
static void lookup_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    for (int i = 0; i < PQntuples(r); i++) {
        size_t ord = strtoull(PQgetvalue(r, i, 0), NULL, 10);
        for (int j = 1; j < PQnfields(r); j++)
            planner_prefetch_result(s->planner, (size_t)q->id, ord, (size_t)j - 1,
                                    PQgetisnull(r, i, j) ? NULL : PQgetvalue(r, i, j));
    }
}

/* The result of a planned statement: the rows it wrote. */
static void group_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)q;
    s->rows_pending += strtoull(PQcmdTuples(r), NULL, 10);
}

static void paused_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)q;
    s->paused = PQntuples(r) > 0;
}

/* Queues the lookup prefetch of the sub-batch planner_begin() started. */
static void send_prefetch(sink_pg_t *s)
{
    for (size_t f = 0; f < planner_fetch_count(s->planner); f++) {
        const char *const *params;
        size_t n = planner_prefetch(s->planner, f, &params);
        if (!n)
            continue;
        const int *ids;
        planner_fetch_lookups(s->planner, f, &ids);
        char name[32];
        snprintf(name, sizeof(name), "l%zu", f);
        sink_pg_send(s, name, (int)mapping_lookup_info(s->m, (size_t)ids[0])->nkeys, params, NULL,
                     NULL, lookup_rows, (int)f, NULL);
    }
}

/* The answer of a fold's preparation: it is prepared on this connection. */
static void fold_ready(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)r;
    s->folds_ready = xrealloc(s->folds_ready, (s->nfolds_ready + 1) * sizeof(int));
    s->folds_ready[s->nfolds_ready++] = q->id;
}

/* Prepares the statements of the planned groups that are folds (plan_fold.h) not prepared on
 * this connection yet, in a sync of their own: a fold counts as prepared once the server said
 * so. Returns ERR_NONE or the error. */
static err_class_t prepare_folds(sink_pg_t *s)
{
    size_t nactions = mapping_action_count(s->m);
    int sent = 0;
    for (size_t g = 0; g < planner_group_count(s->planner); g++) {
        const mapping_action_info_t *a = planner_group(s->planner, g)->action;
        if ((size_t)a->id < nactions)
            continue;
        int known = 0;
        for (size_t i = 0; i < s->nfolds_ready && !known; i++)
            known = s->folds_ready[i] == a->id;
        for (size_t h = 0; h < g && !known; h++) /* a fold planned twice */
            known = planner_group(s->planner, h)->action == a;
        if (known)
            continue;
        char name[32], *sql = sqlgen_action(a);
        snprintf(name, sizeof(name), "a%d", a->id);
        sink_pg_send_prepare(s, name, sql, fold_ready, a->id);
        free(sql);
        sent = 1;
    }
    return sent ? sink_pg_sync(s) : ERR_NONE;
}

/* Applies events[lo, hi) inside the open transaction, sub-batch by sub-batch. */
static err_class_t apply_range(sink_pg_t *s, event_t *ev, size_t lo, size_t hi, arena_t *err_arena)
{
    for (size_t i = lo; i < hi;) {
        planner_begin(s->planner, ev, i, hi, err_arena, s->serial);
        send_prefetch(s);
        err_class_t e = s->nq ? sink_pg_sync(s) : ERR_NONE;
        if (e != ERR_NONE)
            return e;
        size_t end = planner_plan(s->planner);
        if ((e = prepare_folds(s)) != ERR_NONE)
            return e;
        for (size_t g = 0; g < planner_group_count(s->planner); g++) {
            const plan_group_t *grp = planner_group(s->planner, g);
            char name[32];
            snprintf(name, sizeof(name), "a%d", grp->action->id);
            sink_pg_send(s, name, (int)grp->nparams, grp->params, NULL, NULL, group_rows, 0,
                         grp->action);
        }
        e = s->nq ? sink_pg_sync(s) : ERR_NONE;
        if (e != ERR_NONE)
            return e;
        i = end;
    }
    return ERR_NONE;
}

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

/* Undoes the savepoint of a range whose data failed (keeping the error) and resets its events. */
static err_class_t undo_careful(sink_pg_t *s, event_t *ev, size_t lo, size_t hi,
                                uint64_t rows_before, char *msg, size_t msgsz)
{
    snprintf(msg, msgsz, "%s", s->errmsg);
    s->rows_pending = rows_before;
    err_class_t e = sink_pg_run_sql(s, "ROLLBACK TO SAVEPOINT careful");
    if (e == ERR_NONE)
        e = sink_pg_run_sql(s, "RELEASE SAVEPOINT careful");
    if (e == ERR_NONE)
        reset_states(ev, lo, hi);
    return e;
}

err_class_t sink_pg_apply_careful(sink_pg_t *s, event_t *ev, size_t lo, size_t hi,
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
    err_class_t e = sink_pg_run_sql(s, "SAVEPOINT careful");
    if (e != ERR_NONE)
        return e;
    uint64_t rows_before = s->rows_pending;
    e = apply_range(s, ev, lo, hi, err_arena);
    if (e == ERR_NONE)
        return sink_pg_run_sql(s, "RELEASE SAVEPOINT careful");
    if (e != ERR_EVENT)
        return e;
    char msg[sizeof(s->errmsg)];
    e = undo_careful(s, ev, lo, hi, rows_before, msg, sizeof(msg));
    if (e != ERR_NONE)
        return e;
    if (pending == 1) {
        event_kill(&ev[last], EVENT_STAGE_APPLY, arena_strndup(err_arena, msg, strlen(msg)));
        return ERR_NONE;
    }
    size_t mid = lo + (hi - lo) / 2;
    e = sink_pg_apply_careful(s, ev, lo, mid, err_arena);
    return e != ERR_NONE ? e : sink_pg_apply_careful(s, ev, mid, hi, err_arena);
}

/* The answer of a step to the applier: the class of its error, with the text in errstr. */
static sink_rc_t step_rc(sink_pg_t *s, err_class_t e, char *errstr, size_t errsz)
{
    static const sink_rc_t of[] = {
        [ERR_NONE] = SINK_OK,           [ERR_RETRY] = SINK_RETRY,   [ERR_EVENT] = SINK_RETRY,
        [ERR_SERIAL] = SINK_SERIAL,     [ERR_AGAIN] = SINK_AGAIN,   [ERR_PAUSED] = SINK_PAUSED,
        [ERR_INDEX] = SINK_RETRY_INDEX, [ERR_MOVED] = SINK_REFUSED, [ERR_SCHEMA] = SINK_SCHEMA,
    };
    if (e != ERR_NONE && e != ERR_PAUSED)
        snprintf(errstr, errsz, "%s", s->errmsg);
    return of[e];
}

/* Starts the transaction and checks the positions. Returns ERR_NONE, an error, or sets
 * *stale when a position moved. */
static err_class_t begin_checked(sink_pg_t *s, int *stale)
{
    const char *name[] = {s->gen.key};
    sink_pg_send_sql(s, "BEGIN");
    sink_pg_send(s, "paused", 1, name, NULL, NULL, paused_rows, 0, NULL);
    sink_pg_send_lock(s);
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
        p->stale = p->actual != p->expected || p->expected == EVENT_POS_NO_ROW;
        *stale |= p->stale;
    }
    return *stale ? ERR_NONE : sink_pg_tables_after(s);
}

static void step_start(void *store, sink_batch_t *b, int docs)
{
    sink_pg_t *s = store;
    s->ev = b->events;
    s->nev = b->n;
    s->pos = b->pos;
    s->npos = b->npos;
    s->err_arena = b->arena;
    s->with_docs = docs;
    sink_pg_position_arrays(s);
    if (docs) {
        reset_states(s->ev, 0, s->nev);
        sink_pg_docs_eval(s, s->ev, s->nev);
    }
}

static sink_rc_t step_begin(void *store, int serial, char *errstr, size_t errsz)
{
    sink_pg_t *s = store;
    if (sink_pg_connect(s, errstr, errsz) != 0)
        return SINK_RETRY;
    s->serial = serial;
    reset_states(s->ev, 0, s->nev);
    s->rows_pending = 0;
    int stale = 0;
    err_class_t e = begin_checked(s, &stale);
    return e == ERR_NONE && stale ? SINK_STALE : step_rc(s, e, errstr, errsz);
}

static sink_rc_t step_rows(void *store, char *errstr, size_t errsz)
{
    sink_pg_t *s = store;
    err_class_t e = apply_range(s, s->ev, 0, s->nev, s->err_arena);
    if (e == ERR_EVENT) {
        LOG(LOG_WARN, "projection=%s %s; isolating the failing events", s->gen.key, s->errmsg);
        int stale = 0;
        e = sink_pg_run_sql(s, "ROLLBACK");
        if (e == ERR_NONE)
            e = begin_checked(s, &stale);
        if (e == ERR_NONE && stale)
            return SINK_STALE;
        if (e != ERR_NONE)
            return step_rc(s, e, errstr, errsz);
        reset_states(s->ev, 0, s->nev);
        e = sink_pg_apply_careful(s, s->ev, 0, s->nev, s->err_arena);
    }
    if (e == ERR_NONE && mapping_parks(s->m))
        e = sink_pg_park_followers(s);
    return step_rc(s, e, errstr, errsz);
}

static sink_rc_t step_documents(void *store, event_doc_t **docs, size_t *n, int64_t *version,
                                arena_t **arena, char *errstr, size_t errsz)
{
    sink_pg_t *s = store;
    err_class_t e = sink_pg_docs_collect(s, s->ev, s->nev);
    *docs = s->docs;
    *n = e == ERR_NONE ? s->ndocs : 0;
    *version = s->doc_version;
    *arena = s->doc_arena;
    return step_rc(s, e, errstr, errsz);
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
    sink_pg_send(s, "dead_insert", 11, params, lengths, formats, NULL, 0, NULL);
}

/* Counts each partition's applied, skipped and dead events and queues the dead letters. */
static void count_events(sink_pg_t *s)
{
    for (size_t k = 0; k < s->npos; k++)
        s->pos[k].applied = s->pos[k].skipped = s->pos[k].dead = 0;
    for (size_t i = 0; i < s->nev; i++) {
        event_position_t *p = position_of(s, &s->ev[i]);
        if (s->ev[i].state == EVENT_DEAD) {
            send_dead_letter(s, &s->ev[i]);
            if (p)
                p->dead++;
        } else if (p) {
            if (s->ev[i].state == EVENT_SKIPPED)
                p->skipped++;
            else
                p->applied++;
        }
    }
}

/* Sends the dead letters, the advanced positions and COMMIT. */
static err_class_t send_finish(sink_pg_t *s)
{
    count_events(s);
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
    const char *params[] = {s->gen.key,  s->topics.data, s->parts.data, arr[0].data,
                            arr[1].data, arr[2].data,    arr[3].data};
    sink_pg_send(s, "pos_advance", 7, params, NULL, NULL, NULL, 0, NULL);
    sink_pg_send_sql(s, "COMMIT");
    err_class_t e = sink_pg_sync(s);
    for (int a = 0; a < 4; a++)
        strbuf_free(&arr[a]);
    return e;
}

static sink_rc_t step_finish(void *store, char *errstr, size_t errsz)
{
    sink_pg_t *s = store;
    err_class_t e = send_finish(s);
    if (e != ERR_NONE)
        return step_rc(s, e, errstr, errsz);
    for (size_t i = 0; i < s->nev; i++)
        if (s->ev[i].state == EVENT_PENDING)
            s->ev[i].state = EVENT_APPLIED;
    for (size_t k = 0; k < s->npos; k++)
        s->pos[k].expected = s->pos[k].next;
    s->rows_written += s->rows_pending;
    return SINK_OK;
}

static void step_abort(void *store)
{
    sink_pg_t *s = store;
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        sink_pg_run_sql(s, "ROLLBACK");
    else
        sink_pg_disconnect(s);
}

static const sink_rows_ops_t ops = {step_start,     step_begin,  step_rows,
                                    step_documents, step_finish, step_abort};

sink_rows_t sink_pg_rows(sink_pg_t *s)
{
    return (sink_rows_t){&ops, s};
}
