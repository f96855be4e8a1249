/* A Kafka message as decoders read it (its value and headers), and the helpers every decoder
 * shares: reading a header, parsing a JSON object, marking the event dead at stage decode. */
#ifndef PROJECTOR_EVENT_MSG_H
#define PROJECTOR_EVENT_MSG_H

#include <jansson.h>
#include <stddef.h>

#include "arena.h"
#include "event.h"

/* A message's headers, as whoever holds the message reads them (the fetcher from librdkafka, the
 * test kit from JSON): at() gives header i in message order (name NUL-terminated, value of *len
 * bytes, NULL for a header without a value) and returns 0, or -1 past the last one. All borrowed
 * for the decoding. */
typedef struct event_headers {
    int (*at)(void *ctx, size_t i, const char **name, const void **value, size_t *len);
    void *ctx;
} event_headers_t;

/* The last value of header name in h (NULL h: no headers), copied NUL-terminated into arena, or
 * NULL when absent or without a value. */
const char *event_header(const event_headers_t *h, const char *name, arena_t *arena);

/* What a decoder reads: the value (not NULL, at most the size limit) and the headers (may be
 * NULL: none). */
typedef struct event_msg {
    const void *value;
    size_t len;
    const event_headers_t *headers;
} event_msg_t;

/* Marks e dead at EVENT_STAGE_DECODE with a message formatted into arena. */
void event_decode_fail(event_t *e, arena_t *arena, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Marks e as not decodable yet, retriable (e->retry; the reason formatted into arena as
 * e->error): what a decoder says when a service it needs does not answer. */
void event_decode_retry(event_t *e, arena_t *arena, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses JSON text[0, len) as the event's object (what to call it in messages: what, e.g. "the
 * data"): returns it (the caller owns it), or NULL with e dead at stage decode. */
json_t *event_decode_object(event_t *e, const char *what, const void *text, size_t len,
                            arena_t *arena);
/* The payload of j when j is the Kafka Connect JsonConverter's envelope with schemas enabled (an
 * object of exactly "schema" and "payload"; borrowed from j), else NULL. */
json_t *event_json_converter_payload(json_t *j);

#endif
