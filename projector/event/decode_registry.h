/* What the Schema Registry formats share: the wire header and the writer's schema of an event. */
#ifndef PROJECTOR_DECODE_REGISTRY_H
#define PROJECTOR_DECODE_REGISTRY_H

#include <stddef.h>

#include "arena.h"
#include "event.h"
#include "event_msg.h"
#include "registry.h"

/* Reads msg's wire header and the schema of its id (of type type: "JSON", "AVRO"). Returns the
 * schema (borrowed for the process) with *payload_at set; or NULL with e dead at stage decode
 * (no header, an unknown id, a schema of another type) or marked retry (the registry
 * unreachable). Blocks while the schema is fetched. */
const registry_schema_t *event_registry_schema(event_t *e, const event_msg_t *msg, const char *type,
                                               size_t *payload_at, arena_t *arena);

#endif
