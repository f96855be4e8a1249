/* libFuzzer target: one Kafka message through every decoder of the table (decode.c). The input
 * is the message's headers, one "name=value" line each, then an empty line and the value (no
 * empty line: no headers, the whole input is the value); its first byte picks the decoder. A
 * decoded event is a JSON object with its attributes set, a refused one is dead at stage decode
 * with a reason, whatever the bytes. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "decode.h"
#include "mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 16

typedef struct fuzz_headers {
    char *name[MAX_HEADERS];
    const char *value[MAX_HEADERS];
    size_t len[MAX_HEADERS];
    size_t n;
} fuzz_headers_t;

static int header_at(void *ctx, size_t i, const char **name, const void **value, size_t *len)
{
    fuzz_headers_t *h = ctx;
    if (i >= h->n)
        return -1;
    *name = h->name[i];
    *value = h->value[i];
    *len = h->len[i];
    return 0;
}

/* Splits text[0, size) into headers (names copied NUL-terminated, values borrowed) and returns
 * where the value starts. */
static size_t split(const char *text, size_t size, fuzz_headers_t *h)
{
    const char *end = memmem(text, size, "\n\n", 2);
    if (!end)
        return 0;
    for (const char *p = text; p < end && h->n < MAX_HEADERS;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(le - p));
        const char *ne = eq ? eq : le;
        h->name[h->n] = strndup(p, (size_t)(ne - p));
        h->value[h->n] = eq ? eq + 1 : NULL;
        h->len[h->n] = eq ? (size_t)(le - eq - 1) : 0;
        h->n++;
        p = le + 1;
    }
    return (size_t)(end + 2 - text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static arena_t *arena;
    if (!arena)
        arena = arena_new();
    if (size < 1)
        return 0;
    const event_decoder_t *d =
        event_decoder_find(mapping_format_name(data[0] % mapping_format_count()));
    if (!d)
        abort(); /* every format a mapping may name has its decoder */
    const char *text = (const char *)data + 1;
    fuzz_headers_t h = {0};
    size_t at = split(text, size - 1, &h);
    event_headers_t headers = {header_at, &h};
    event_t e;
    memset(&e, 0, sizeof(e));
    event_decode_status_t st =
        event_decode(&e, d, &headers, text + at, size - 1 - at, 1 << 20, arena);
    if (st == EVENT_DECODE_RETRY) {
        if (e.state != EVENT_PENDING || e.ev.doc || !e.error || !*e.error)
            abort(); /* "try again later" leaves the event pending, with the reason */
    } else if (e.state == EVENT_PENDING) {
        if (!json_is_object(e.ev.doc) || e.ev.tombstone)
            abort(); /* a value decodes to an object */
        for (size_t i = 0; i < e.ev.nattrs; i++)
            if (!e.ev.attrs[i].name || !e.ev.attrs[i].value)
                abort();
        if ((strcmp(d->format, "cloudevents") == 0 || strcmp(d->format, "debezium") == 0) &&
            !e.ev.type_header)
            abort(); /* a CloudEvent has its type, a change event its operation */
    } else if (e.state != EVENT_DEAD || e.stage != EVENT_STAGE_DECODE || !e.error || !*e.error) {
        abort(); /* a refusal is at stage decode, with its reason */
    }
    json_decref(e.ev.doc);
    for (size_t i = 0; i < h.n; i++)
        free(h.name[i]);
    arena_reset(arena);
    return 0;
}
