/* Decoders of Kafka messages into events: one row per format in a table, one file per format
 * (decode_<format>.c), so that a new format is a file and a row. */
#ifndef PROJECTOR_DECODE_H
#define PROJECTOR_DECODE_H

#include <stddef.h>

#include "arena.h"
#include "event.h"
#include "event_msg.h"
#include "mapping.h"

/* Decodes msg into e: e->ev.doc (the JSON object the mapping's paths read; the caller owns it:
 * json_decref), and for an envelope e->ev.type_header (its event type) and e->ev.attrs; or marks
 * e dead at EVENT_STAGE_DECODE with the reason. Texts in arena. Does not block. */
typedef void (*event_decode_fn)(event_t *e, const event_msg_t *msg, arena_t *arena);

typedef struct event_decoder {
    const char *format; /* as a mapping names it ($.format) */
    event_decode_fn decode;
} event_decoder_t;

/* The decoder of format, or NULL when there is none by that name. */
const event_decoder_t *event_decoder_find(const char *format);

/* Sets e's value and decodes it with d: over max_bytes, it is dead at EVENT_STAGE_DECODE; no value
 * (a tombstone) is an event with e->ev.tombstone set and an empty object as its doc, which the
 * mapping's "$tombstone" rule takes (none: it is skipped); else d decodes it, with headers (may be
 * NULL). Texts in arena; the caller owns e->ev.doc (json_decref). Does not block. */
void event_decode(event_t *e, const event_decoder_t *d, const event_headers_t *headers,
                  const void *value, size_t len, size_t max_bytes, arena_t *arena);
/* Once e's metadata is complete (its type header): upcasts it to its type's current version
 * (upcast.h; a failure kills it at EVENT_STAGE_UPCAST, the reason in arena) and resolves its
 * rule of m once, so that no evaluation looks it up again. An event without a readable type is
 * left to the evaluation, which reports it (stage map). */
void event_resolve(event_t *e, const mapping_t *m, arena_t *arena);

/* Once resolved: evaluates the row operations of a pending event whose rule has no lookup (its
 * values do not depend on the database), so that the planner on the applying thread only
 * plans them; values and texts in arena. Leaves other events to the planner. Does not block.
 * Call outside a json_alloc.h arena scope (evaluating may free what it allocates). */
void event_evaluate(event_t *e, const mapping_t *m, arena_t *arena);

/* The decoders (decode_<format>.c). */
void event_decode_json(event_t *e, const event_msg_t *msg, arena_t *arena);
void event_decode_cloudevents(event_t *e, const event_msg_t *msg, arena_t *arena);
void event_decode_outbox(event_t *e, const event_msg_t *msg, arena_t *arena);
void event_decode_debezium(event_t *e, const event_msg_t *msg, arena_t *arena);

#endif
