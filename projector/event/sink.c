/* What every store shares about a batch's documents. */
#include "sink.h"

#include <stdio.h>
#include <string.h>

size_t sink_docs_refuse(event_t *events, const event_doc_t *docs, size_t ndocs, arena_t *arena)
{
    size_t dead = 0;
    for (size_t i = 0; i < ndocs; i++) {
        const event_doc_t *d = &docs[i];
        if (!d->error || events[d->event].state != EVENT_PENDING)
            continue;
        char msg[1536];
        snprintf(msg, sizeof(msg), "search engine refused document %s of index %s: %s", d->id,
                 d->index, d->error);
        event_kill(&events[d->event], EVENT_STAGE_INDEX, arena_strndup(arena, msg, strlen(msg)));
        dead++;
    }
    return dead;
}

sink_rc_t sink_docs_write(const sink_docs_t *d, event_t *events, event_doc_t *docs, size_t n,
                          int64_t version, arena_t *doc_arena, arena_t *err_arena, char *errstr,
                          size_t errstr_size)
{
    char err[1024];
    int w = d->write(d->ctx, docs, n, version, doc_arena, err, sizeof(err));
    if (w < 0) {
        snprintf(errstr, errstr_size, "%s", err);
        return SINK_RETRY_INDEX;
    }
    if (w > 0 && sink_docs_refuse(events, docs, n, err_arena) == 0) {
        snprintf(errstr, errstr_size, "the search engine refused documents: %s", err);
        return SINK_RETRY_INDEX;
    }
    return w > 0 ? SINK_AGAIN : SINK_OK;
}
