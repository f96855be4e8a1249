/* What every decoder shares: headers, JSON objects, decode failures. */
#include "event_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *event_header(const event_headers_t *h, const char *name, arena_t *arena)
{
    const char *n, *found = NULL;
    const void *v;
    size_t len, found_len = 0;
    for (size_t i = 0; h && h->at(h->ctx, i, &n, &v, &len) == 0; i++) {
        if (strcmp(n, name) == 0) {
            found = v;
            found_len = len;
        }
    }
    return found ? arena_strndup(arena, found, found_len) : NULL;
}

void event_decode_fail(event_t *e, arena_t *arena, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    event_kill(e, EVENT_STAGE_DECODE, arena_strndup(arena, why, strlen(why)));
}

void event_decode_retry(event_t *e, arena_t *arena, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    e->retry = 1;
    e->error = arena_strndup(arena, why, strlen(why));
}

json_t *event_decode_object(event_t *e, const char *what, const void *text, size_t len,
                            arena_t *arena)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        event_decode_fail(e, arena, "%s: invalid JSON at line %d, column %d: %s", what, jerr.line,
                          jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        event_decode_fail(e, arena, "%s is not a JSON object", what);
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *event_json_converter_payload(json_t *j)
{
    if (json_is_object(j) && json_object_size(j) == 2 && json_object_get(j, "schema"))
        return json_object_get(j, "payload");
    return NULL;
}
