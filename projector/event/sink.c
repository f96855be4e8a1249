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
