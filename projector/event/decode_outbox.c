/* The Debezium outbox event router's format: the value is the outbox row's payload, a JSON
 * object; or a JSON document inside a JSON string (the router without expand.json.payload); or
 * either wrapped as {"schema": ..., "payload": ...} by the JsonConverter with schemas enabled.
 * The event type is a header (the mapping's, "eventType" by default: the router's
 * table.fields.additional.placement=type:header:eventType), the event id the "id" header,
 * readable as {"meta": "outbox.id"}; the key is the aggregate id. */
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "event_msg.h"

#define ID_HEADER "id"

void event_decode_outbox(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    json_error_t jerr;
    json_t *v = json_loadb(msg->value, msg->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!v) {
        event_decode_fail(e, arena, "outbox payload: invalid JSON at line %d, column %d: %s",
                          jerr.line, jerr.column, jerr.text);
        return;
    }
    const char *where = "the value";
    json_t *p = event_json_converter_payload(v);
    if (!p) {
        p = v;
    } else {
        where = "$.payload (the JsonConverter's envelope)";
    }
    if (json_is_string(p)) {
        char what[160];
        snprintf(what, sizeof(what), "outbox payload: the JSON string of %s", where);
        e->ev.doc =
            event_decode_object(e, what, json_string_value(p), json_string_length(p), arena);
    } else if (json_is_object(p)) {
        e->ev.doc = json_incref(p);
    } else {
        event_decode_fail(e, arena, "outbox payload: %s is not a JSON object or a string of one",
                          where);
    }
    json_decref(v);
    if (!e->ev.doc)
        return;
    const char *id = event_header(msg->headers, ID_HEADER, arena);
    if (id) {
        mapping_attr_t *a = arena_alloc(arena, sizeof(*a));
        a->name = "outbox.id";
        a->value = id;
        e->ev.attrs = a;
        e->ev.nattrs = 1;
    }
}
