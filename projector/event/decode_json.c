/* The plain JSON format: the value is the event, a JSON object. */
#include "decode.h"
#include "event_msg.h"

void event_decode_json(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    json_error_t jerr;
    e->ev.doc = json_loadb(msg->value, msg->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!e->ev.doc) {
        event_decode_fail(e, arena, "invalid JSON at line %d, column %d: %s", jerr.line,
                          jerr.column, jerr.text);
    } else if (!json_is_object(e->ev.doc)) {
        event_kill(e, EVENT_STAGE_DECODE, "$: the event is not a JSON object");
    }
}
