/* What the Schema Registry formats share: the wire header and the writer's schema of an event. */
#ifndef PROJECTOR_DECODE_REGISTRY_H
#define PROJECTOR_DECODE_REGISTRY_H

#include <stddef.h>

#include "arena.h"
#include "decode.h"
#include "event.h"
#include "event_msg.h"
#include "registry.h"

/* Reads msg's wire header and the schema of its id (of type type: "JSON", "AVRO"). Returns the
 * schema (borrowed for the process) with *payload_at set; or NULL with e dead at stage decode
 * (no header, an unknown id, a schema of another type) or marked retry (the registry
 * unreachable). Blocks while the schema is fetched. */
const registry_schema_t *event_registry_schema(event_t *e, const event_msg_t *msg, const char *type,
                                               size_t *payload_at, arena_t *arena);

/* For a mapping whose versions are the writer schemas' (mapping_version_registry()): sets
 * e->ev.schema_version to the version of e's writer schema under its subject, chosen as m says
 * (registry_choose_subject(); the subjects and versions of its id fetched once per id). Leaves
 * e as it is when it is not pending, has no writer's schema (a tombstone) or m reads versions
 * elsewhere. When no subject or more than one fits, e is dead at EVENT_STAGE_UPCAST with the
 * reason (in arena: the id, the subjects, what to set). Returns EVENT_DECODE_RETRY when the
 * registry does not answer (e marked retry), else EVENT_DECODE_OK. Blocks on a fetch. */
event_decode_status_t event_registry_version(event_t *e, const mapping_t *m, arena_t *arena);

#endif
