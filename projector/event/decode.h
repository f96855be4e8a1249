/* Decoders of Kafka messages into events: one row per format in a table, one file per format
 * (decode_<format>.c), so that a new format is a file and a row. */
#ifndef PROJECTOR_DECODE_H
#define PROJECTOR_DECODE_H

#include <stddef.h>

#include "arena.h"
#include "config.h"
#include "event.h"
#include "event_msg.h"
#include "mapping.h"

/* Decodes msg into e: e->ev.doc (the JSON object the mapping's paths read; the caller owns it:
 * json_decref), and for an envelope e->ev.type_header (its event type) and e->ev.attrs; or marks
 * e dead at EVENT_STAGE_DECODE with the reason; or, when a service it needs does not answer (the
 * schema registry), leaves e pending with e->retry set (event_decode_retry()). Texts in arena.
 * Does not block, but for the registry formats' first fetch of a schema id. */
typedef void (*event_decode_fn)(event_t *e, const event_msg_t *msg, arena_t *arena);

typedef struct event_decoder {
    const char *format; /* as a mapping names it ($.format) */
    event_decode_fn decode;
} event_decoder_t;

/* Whether d can run with cfg: the registry formats' decoders read schemas from the schema
 * registry and need registry.url. Writes the message into errstr and returns -1, else returns 0. */
int event_decoder_check(const event_decoder_t *d, const config_t *cfg, char *errstr,
                        size_t errstr_size);

/* The decoder of format, or NULL when there is none by that name. */
const event_decoder_t *event_decoder_find(const char *format);

/* What event_decode() decided. */
typedef enum {
    EVENT_DECODE_OK,    /* e is decoded, or dead at a stage: go on */
    EVENT_DECODE_RETRY, /* e cannot be decoded yet (the schema registry is unreachable: e->error
                         * says why): wait, consume nothing further, and decode it again */
} event_decode_status_t;

/* Sets e's value and decodes it with d: over max_bytes, it is dead at EVENT_STAGE_DECODE; no value
 * (a tombstone) is an event with e->ev.tombstone set and an empty object as its doc, which the
 * mapping's "$tombstone" rule takes (none: it is skipped); else d decodes it, with headers (may be
 * NULL). Texts in arena; the caller owns e->ev.doc (json_decref). Returns EVENT_DECODE_RETRY when
 * d cannot decide yet (e pending, e->ev.doc NULL), else EVENT_DECODE_OK. Blocks only while a
 * registry format fetches a schema. */
event_decode_status_t event_decode(event_t *e, const event_decoder_t *d,
                                   const event_headers_t *headers, const void *value, size_t len,
                                   size_t max_bytes, arena_t *arena);
/* Once e's metadata is complete (its type header): reads its version from the Schema Registry
 * when m says so (event_registry_version()), upcasts it to its type's current version
 * (upcast.h; a failure kills it at EVENT_STAGE_UPCAST, the reason in arena) and resolves its
 * rule of m once, so that no evaluation looks it up again. An event without a readable type is
 * left to the evaluation, which reports it (stage map). Returns EVENT_DECODE_RETRY when the
 * registry does not answer (e pending with e->retry set and e->error saying why, e->ev.doc
 * freed: decode it again later), else EVENT_DECODE_OK. Blocks only on the registry's first
 * answer for a schema id. */
event_decode_status_t event_resolve(event_t *e, const mapping_t *m, arena_t *arena);

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
void event_decode_registry_json(event_t *e, const event_msg_t *msg, arena_t *arena);
void event_decode_registry_avro(event_t *e, const event_msg_t *msg, arena_t *arena);

#endif
