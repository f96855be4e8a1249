/* The plain JSON format: the value is the event, a JSON object. */
#include <stdio.h>
#include <string.h>

#include "decode.h"

void event_decode_json(event_t *e, const void *value, size_t len, arena_t *arena)
{
    json_error_t jerr;
    e->ev.doc = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
    char why[512];
    if (!e->ev.doc) {
        snprintf(why, sizeof(why), "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        event_kill(e, EVENT_STAGE_DECODE, arena_strndup(arena, why, strlen(why)));
    } else if (!json_is_object(e->ev.doc)) {
        event_kill(e, EVENT_STAGE_DECODE, "$: the event is not a JSON object");
    }
}
