/* The table of decoders, and what every format shares: the size limit, tombstones, the rule. */
#include "decode.h"
#include "decode_registry.h"
#include "upcast.h"

#include <stdio.h>
#include <string.h>

static const event_decoder_t decoders[] = {
    {"json", event_decode_json},
    {"cloudevents", event_decode_cloudevents},
    {"debezium-outbox", event_decode_outbox},
    {"debezium", event_decode_debezium},
    {"registry-json", event_decode_registry_json},
    {"registry-avro", event_decode_registry_avro},
};

const event_decoder_t *event_decoder_find(const char *format)
{
    for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
        if (strcmp(decoders[i].format, format) == 0)
            return &decoders[i];
    return NULL;
}

int event_decoder_check(const event_decoder_t *d, const config_t *cfg, char *errstr,
                        size_t errstr_size)
{
    int registry =
        d->decode == event_decode_registry_json || d->decode == event_decode_registry_avro;
    if (!registry || *config_str(cfg, CFG_REGISTRY_URL))
        return 0;
    snprintf(errstr, errstr_size,
             "format %s reads the writer's schemas from a schema registry, but no registry URL is "
             "set: --registry-url (PROJECTOR_REGISTRY_URL, config key registry.url)",
             d->format);
    return -1;
}

event_decode_status_t event_decode(event_t *e, const event_decoder_t *d,
                                   const event_headers_t *headers, const void *value, size_t len,
                                   size_t max_bytes, arena_t *arena)
{
    e->value = value;
    e->value_len = len;
    e->state = EVENT_PENDING;
    e->stage = EVENT_STAGE_NONE;
    e->error = NULL;
    e->retry = 0;
    e->schema = NULL;
    e->ev.schema_version = 0;
    e->ev.doc = NULL;
    e->ev.rule = NULL;
    e->ev.resolved = 0;
    e->ev.attrs = NULL;
    e->ev.nattrs = 0;
    e->ev.tombstone = 0;
    if (len > max_bytes) {
        event_decode_fail(e, arena, "the event is %zu bytes, over max.event.bytes (%zu)", len,
                          max_bytes);
        return EVENT_DECODE_OK;
    }
    if (!value) {
        e->ev.tombstone = 1;
        e->ev.doc = json_object();
        return EVENT_DECODE_OK;
    }
    event_msg_t msg = {value, len, headers};
    d->decode(e, &msg, arena);
    if (!e->retry)
        return EVENT_DECODE_OK;
    json_decref(e->ev.doc); /* in case the decoder made one */
    e->ev.doc = NULL;
    return EVENT_DECODE_RETRY;
}

void event_evaluate(event_t *e, const mapping_t *m, arena_t *arena)
{
    e->evaluated = 0;
    if (e->state != EVENT_PENDING || mapping_event_has_lookups(m, &e->ev))
        return;
    mapping_op_t *ops = arena_alloc(arena, (mapping_action_count(m) + 1) * sizeof(*ops));
    char err[1024];
    size_t n = 0;
    e->eval_result = mapping_eval(m, &e->ev, arena, NULL, NULL, ops, &n, err, sizeof(err));
    e->ops = ops;
    e->nops = n;
    e->eval_error = e->eval_result == MAPPING_BAD ? arena_strndup(arena, err, strlen(err)) : NULL;
    e->evaluated = 1;
}

event_decode_status_t event_resolve(event_t *e, const mapping_t *m, arena_t *arena)
{
    char why[8];
    if (event_registry_version(e, m, arena) == EVENT_DECODE_RETRY) {
        json_decref(e->ev.doc);
        e->ev.doc = NULL;
        return EVENT_DECODE_RETRY;
    }
    event_upcast(e, m, arena);
    if (e->state == EVENT_PENDING)
        (void)mapping_event_resolve(m, &e->ev, why, sizeof(why));
    return EVENT_DECODE_OK;
}
