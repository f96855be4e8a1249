/* The Schema Registry wire format with JSON Schema payloads ("registry-json"): magic byte 0, the
 * schema id, then the event as a JSON object. The payload is not validated against the schema:
 * the id must only be one the registry holds. */
#include "decode_registry.h"
#include "decode.h"

#include <stdio.h>
#include <string.h>

const registry_schema_t *event_registry_schema(event_t *e, const event_msg_t *msg, const char *type,
                                               size_t *payload_at, arena_t *arena)
{
    char err[512];
    int32_t id;
    if (registry_wire_header(msg->value, msg->len, &id, payload_at, err, sizeof(err)) != 0) {
        event_decode_fail(e, arena, "%s", err);
        return NULL;
    }
    const registry_schema_t *s = NULL;
    switch (registry_schema(id, &s, err, sizeof(err))) {
    case REGISTRY_OK:
        break;
    case REGISTRY_UNREACHABLE:
        event_decode_retry(e, arena, "schema registry unreachable (schema id %d): %s", id, err);
        return NULL;
    case REGISTRY_NOT_FOUND:
        event_decode_fail(e, arena, "schema id %d is not in the registry", id);
        return NULL;
    case REGISTRY_BAD:
        event_decode_fail(e, arena, "%s", err);
        return NULL;
    }
    e->schema = s;
    if (strcmp(s->type, type) != 0) {
        event_decode_fail(e, arena, "schema id %d is of type %s, not %s as the format expects", id,
                          s->type, type);
        return NULL;
    }
    return s;
}

void event_decode_registry_json(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    size_t at;
    if (!event_registry_schema(e, msg, "JSON", &at, arena))
        return;
    e->ev.doc =
        event_decode_object(e, "the payload", (const char *)msg->value + at, msg->len - at, arena);
}

/* e is dead at stage upcast: "file: $.versions.registry: why". */
static event_decode_status_t kill_version(event_t *e, const mapping_t *m, const char *why,
                                          arena_t *arena)
{
    char msg[1536];
    snprintf(msg, sizeof(msg), "%s: $.versions.registry: %s", mapping_file(m), why);
    event_kill(e, EVENT_STAGE_UPCAST, arena_strndup(arena, msg, strlen(msg)));
    return EVENT_DECODE_OK;
}

event_decode_status_t event_registry_version(event_t *e, const mapping_t *m, arena_t *arena)
{
    mapping_subject_t how;
    const char *named;
    if (e->state != EVENT_PENDING || !e->schema || !mapping_version_registry(m, &how, &named))
        return EVENT_DECODE_OK;
    const registry_schema_t *s = e->schema;
    const registry_subject_version_t *pairs = NULL;
    size_t n = 0;
    char err[1024];
    switch (registry_schema_versions(s->id, &pairs, &n, err, sizeof(err))) {
    case REGISTRY_OK:
        break;
    case REGISTRY_UNREACHABLE:
        event_decode_retry(
            e, arena, "schema registry unreachable (the versions of schema id %d): %s", s->id, err);
        return EVENT_DECODE_RETRY;
    case REGISTRY_NOT_FOUND:
    case REGISTRY_BAD:
        return kill_version(e, m, err, arena);
    }
    long version = 0;
    if (registry_choose_subject(s->id, pairs, n, how, named, e->ev.topic, s->record, &version, err,
                                sizeof(err)) != REGISTRY_CHOSEN) {
        return kill_version(e, m, err, arena);
    }
    e->ev.schema_version = version;
    return EVENT_DECODE_OK;
}
