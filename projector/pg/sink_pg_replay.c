/* Replaying one dead-lettered event after a mapping fix (`projector dlq replay`), outside the
 * stream, in one transaction that locks its dead letter while unresolved. */
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "sink_pg_internal.h"

/* Reads the replayed event's documents and has the document store write them. Returns
 * ERR_NONE, ERR_AGAIN (refused: the event is dead, stage index), ERR_INDEX or a database
 * error. Blocks. */
static err_class_t write_docs(sink_pg_t *s, event_t *ev, const sink_docs_t *docs)
{
    err_class_t e = sink_pg_docs_collect(s, ev, 1);
    if (e != ERR_NONE || !s->ndocs)
        return e;
    sink_rc_t rc = sink_docs_write(docs, ev, s->docs, s->ndocs, s->doc_version, s->doc_arena,
                                   s->err_arena, s->errmsg, sizeof(s->errmsg));
    return rc == SINK_OK ? ERR_NONE : rc == SINK_AGAIN ? ERR_AGAIN : ERR_INDEX;
}

/* Applies a replayed event inside the replay's transaction, with its documents: an event whose
 * documents are refused is undone (savepoint) and stays dead. */
static err_class_t replay_apply(sink_pg_t *s, event_t *ev, arena_t *err_arena,
                                const sink_docs_t *docs)
{
    s->ev = ev;
    s->nev = 1;
    s->err_arena = err_arena;
    if (!docs)
        return sink_pg_apply_careful(s, ev, 0, 1, err_arena);
    sink_pg_docs_eval(s, ev, 1);
    if (ev->state != EVENT_PENDING)
        return ERR_NONE;
    err_class_t e = sink_pg_run_sql(s, "SAVEPOINT replay");
    if (e == ERR_NONE)
        e = sink_pg_apply_careful(s, ev, 0, 1, err_arena);
    if (e == ERR_NONE && ev->state == EVENT_PENDING)
        e = write_docs(s, ev, docs);
    if (e == ERR_AGAIN) /* refused by the search engine: ev is dead, its writes go */
        e = sink_pg_run_sql(s, "ROLLBACK TO SAVEPOINT replay");
    return e;
}

sink_rc_t sink_pg_replay(sink_pg_t *s, int64_t dead_id, event_t *ev, arena_t *err_arena,
                         const sink_docs_t *docs, char *errstr, size_t errstr_size)
{
    if (sink_pg_connect(s, errstr, errstr_size) != 0)
        return SINK_RETRY;
    /* upcasts it, as the fetcher does; the registry unreachable, it stays dead */
    if (event_resolve(ev, s->m, err_arena) == EVENT_DECODE_RETRY)
        event_kill(ev, EVENT_STAGE_UPCAST, ev->error);
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)dead_id);
    const char *params[3] = {id, NULL, NULL};
    s->counted = 0;
    s->rows_pending = 0;
    sink_pg_send_sql(s, "BEGIN");
    sink_pg_send(s, "replay_lock", 1, params, NULL, NULL, sink_pg_count_rows, 0, NULL);
    err_class_t e = sink_pg_sync(s);
    if (e == ERR_NONE && !s->counted) {
        sink_pg_run_sql(s, "ROLLBACK");
        return SINK_STALE; /* replayed already, or gone */
    }
    if (e == ERR_NONE && ev->state == EVENT_PENDING)
        e = replay_apply(s, ev, err_arena, docs);
    if (e == ERR_NONE) {
        if (ev->state == EVENT_DEAD) {
            params[1] = event_stage_name(ev->stage);
            params[2] = ev->error;
            sink_pg_send(s, "replay_failed", 3, params, NULL, NULL, NULL, 0, NULL);
        } else {
            sink_pg_send(s, "replay_done", 1, params, NULL, NULL, NULL, 0, NULL);
        }
        sink_pg_send_sql(s, "COMMIT");
        e = sink_pg_sync(s);
    }
    if (e != ERR_NONE) {
        snprintf(errstr, errstr_size, "%s", s->errmsg);
        if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
            sink_pg_run_sql(s, "ROLLBACK");
        return e == ERR_INDEX ? SINK_RETRY_INDEX : SINK_RETRY;
    }
    if (ev->state == EVENT_PENDING)
        ev->state = EVENT_APPLIED;
    s->rows_written += s->rows_pending;
    return SINK_OK;
}
