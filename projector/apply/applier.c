/* One batch through the stores: the applier owns the sequence, the stores do each step. */
#include "applier.h"

#include <stdio.h>

#include "log.h"

/* The batch's documents, written to the document store inside the row store's transaction.
 * Returns SINK_OK, SINK_AGAIN (documents refused for good: their events are now dead) or an
 * error. */
static sink_rc_t write_documents(const applier_stores_t *st, sink_batch_t *b, char *errstr,
                                 size_t errsz)
{
    event_doc_t *docs;
    size_t n;
    int64_t version;
    arena_t *arena;
    sink_rc_t rc =
        st->rows.ops->documents(st->rows.store, &docs, &n, &version, &arena, errstr, errsz);
    if (rc != SINK_OK || !n)
        return rc;
    return sink_docs_write(st->docs, b->events, docs, n, version, arena, b->arena, errstr, errsz);
}

/* Publishes the batch's dead events, if any. Returns SINK_OK or SINK_RETRY. */
static sink_rc_t publish_dead(const applier_stores_t *st, sink_batch_t *b, char *errstr,
                              size_t errsz)
{
    int dead = 0;
    for (size_t i = 0; i < b->n; i++)
        dead += b->events[i].state == EVENT_DEAD;
    if (!dead || !st->dead || st->dead(st->dead_ctx, b->events, b->n) == 0)
        return SINK_OK;
    snprintf(errstr, errsz, "publishing %d dead letter(s) failed", dead);
    return SINK_RETRY;
}

/* One attempt at the whole batch. */
static sink_rc_t attempt(const applier_stores_t *st, sink_batch_t *b, int serial, char *errstr,
                         size_t errsz)
{
    const sink_rows_ops_t *ops = st->rows.ops;
    sink_rc_t rc = ops->begin(st->rows.store, serial, errstr, errsz);
    if (rc == SINK_OK)
        rc = ops->rows(st->rows.store, errstr, errsz);
    if (rc == SINK_OK && st->docs)
        rc = write_documents(st, b, errstr, errsz);
    if (rc == SINK_OK)
        rc = publish_dead(st, b, errstr, errsz);
    if (rc == SINK_OK)
        rc = ops->finish(st->rows.store, errstr, errsz);
    return rc;
}

sink_rc_t applier_batch(const applier_stores_t *st, sink_batch_t *b, char *errstr,
                        size_t errstr_size)
{
    st->rows.ops->start(st->rows.store, b, st->docs != NULL);
    int serial = 0;
    for (;;) {
        sink_rc_t rc = attempt(st, b, serial, errstr, errstr_size);
        if (rc == SINK_OK)
            return SINK_OK;
        st->rows.ops->abort(st->rows.store);
        if (rc == SINK_AGAIN) /* converges: each round marks more events dead, never fewer */
            continue;
        if (rc == SINK_SERIAL && !serial) {
            LOG(LOG_INFO, "projection=%s %s; applying this batch one row operation at a time",
                st->label, errstr);
            serial = 1;
            continue;
        }
        return rc == SINK_SERIAL ? SINK_RETRY : rc;
    }
}
