/* The table of decoders, and what every format shares: the size limit, tombstones, the rule. */
#include "decode.h"

#include <stdio.h>
#include <string.h>

static const event_decoder_t decoders[] = {
    {"json", event_decode_json},
    {"cloudevents", event_decode_cloudevents},
    {"debezium-outbox", event_decode_outbox},
};

const event_decoder_t *event_decoder_find(const char *format)
{
    for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
        if (strcmp(decoders[i].format, format) == 0)
            return &decoders[i];
    return NULL;
}

void event_decode(event_t *e, const event_decoder_t *d, const event_headers_t *headers,
                  const void *value, size_t len, size_t max_bytes, arena_t *arena)
{
    e->value = value;
    e->value_len = len;
    e->state = EVENT_PENDING;
    e->stage = EVENT_STAGE_NONE;
    e->error = NULL;
    e->ev.doc = NULL;
    e->ev.rule = NULL;
    e->ev.resolved = 0;
    e->ev.attrs = NULL;
    e->ev.nattrs = 0;
    e->ev.tombstone = 0;
    if (len > max_bytes) {
        event_decode_fail(e, arena, "the event is %zu bytes, over max.event.bytes (%zu)", len,
                          max_bytes);
        return;
    }
    if (!value) {
        e->ev.tombstone = 1;
        e->ev.doc = json_object();
        return;
    }
    event_msg_t msg = {value, len, headers};
    d->decode(e, &msg, arena);
}

void event_resolve(event_t *e, const mapping_t *m)
{
    char why[8];
    if (e->state == EVENT_PENDING)
        (void)mapping_event_resolve(m, &e->ev, why, sizeof(why));
}
