/* The Schema Registry wire format with JSON Schema payloads ("registry-json"): magic byte 0, the
 * schema id, then the event as a JSON object. The payload is not validated against the schema:
 * the id must only be one the registry holds. */
#include "decode_registry.h"
#include "decode.h"

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
