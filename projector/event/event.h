/* One event of a batch, its fate (state and dead-letter stage), and the per-partition positions
 * and document writes a batch carries from the fetcher to the stores. */
#ifndef PROJECTOR_EVENT_H
#define PROJECTOR_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "mapping.h"

typedef enum {
    EVENT_PENDING, /* not yet applied */
    EVENT_SKIPPED, /* its type is not in the mapping: counted, nothing written */
    EVENT_DEAD,    /* cannot be projected: goes to the dead-letter topic */
    EVENT_APPLIED, /* its writes are part of the batch */
} event_state_t;

/* Where a dead event failed: the projector.stage header and the dead_letters.stage column carry
 * its name (event_stage_name()). */
typedef enum {
    EVENT_STAGE_NONE,     /* not dead */
    EVENT_STAGE_DECODE,   /* "decode": the value is not an event of the topic's format */
    EVENT_STAGE_MAP,      /* "map": the mapping cannot evaluate it (a path missing, a bad type) */
    EVENT_STAGE_DOCUMENT, /* "map" as well: its search document cannot be built (decided once per
                           * batch, before the rows: stays dead through another attempt) */
    EVENT_STAGE_APPLY,    /* "apply": the database refused its writes (constraint, data) */
    EVENT_STAGE_PARKED,   /* "parked": behind a dead event of the same key */
    EVENT_STAGE_INDEX,    /* "index": the search engine refused its document for good */
    EVENT_STAGE_UPCAST,   /* "upcast": no upcaster brings it to its type's current version, or
                           * one cannot transform it (decided at decode: stays dead) */
} event_stage_t;

/* The stage's name, as users read it in dead letters. */
const char *event_stage_name(event_stage_t stage);
/* 1 when an event dead at stage stays dead through another attempt at its batch: what did not
 * depend on the attempt (decoding, documents) or was decided by an earlier one. */
int event_stage_sticky(event_stage_t stage);

/* One event of a batch. The fetcher fills ev, value and dlq_topic; decode failures arrive
 * already EVENT_DEAD with stage and error set. */
typedef struct event {
    mapping_event_t ev; /* ev.doc is NULL when the value could not be decoded */
    const void *value;
    size_t value_len;
    const char *dlq_topic;
    const void *source; /* the consumer's message (rd_kafka_message_t), for dead letters */
    event_state_t state;
    event_stage_t stage; /* for EVENT_DEAD */
    const char *error;   /* for EVENT_DEAD: why, naming the JSON path; with retry: why */
    int retry; /* the decoder cannot decide yet (a service it needs, the schema registry, is
                * unreachable): still EVENT_PENDING, to be decoded again (event_decode()) */
    /* the registry formats: the writer's schema (registry.h; borrowed for the process), else
     * NULL */
    const struct registry_schema *schema;
    /* The answer of mapping_eval() when it was given on the decoding side (event_evaluate():
     * a rule without lookups does not depend on the database), else evaluated = 0 and the
     * planner evaluates the event. */
    int evaluated;
    mapping_result_t eval_result;
    const mapping_op_t *ops; /* eval_result MAPPING_OK: nops row operations */
    size_t nops;
    const char *eval_error; /* eval_result MAPPING_BAD: why */
} event_t;

/* Marks e dead at stage with error (borrowed: the caller keeps it alive with the batch). */
void event_kill(event_t *e, event_stage_t stage, const char *error);

/* A stored position value that is not an offset. */
enum {
    EVENT_POS_NONE = -1,  /* no position stored yet: the partition starts at its earliest offset */
    EVENT_POS_NO_ROW = -2 /* a build generation's partition without a position row: the build is
                           * over, or the partition is not part of it */
};

/* A partition's position within one batch. */
typedef struct event_position {
    const char *topic;
    int32_t partition;
    int64_t expected; /* next offset stored, as this instance believes; EVENT_POS_NONE: none */
    int64_t next;     /* next offset once the batch is applied */
    /* filled by the row store's apply: */
    int64_t applied, skipped, dead;
    int stale;      /* the stored position differed from expected */
    int64_t actual; /* the stored position when stale (EVENT_POS_NONE, EVENT_POS_NO_ROW) */
} event_position_t;

/* What event_positions_stamp() found. */
typedef enum {
    EVENT_STAMP_OK,
    EVENT_STAMP_UNASSIGNED, /* a partition of the batch is not assigned here any more */
    EVENT_STAMP_AGAIN,      /* an offset does not follow on: delivered again */
} event_stamp_t;

/* Where a partition's next batch starts (its cut): returns 0 with *cut set, or -1 when the
 * partition is not assigned. */
typedef int (*event_cut_fn)(void *ctx, const char *topic, int32_t partition, int64_t *cut);

/* Fills pos (room for one entry per partition of the batch; *npos set) with the positions of
 * events[0, n): per partition, expected is its cut (cut_of) and next the offset after its last
 * event. The offsets of a partition must start at or after its cut and rise within the batch
 * (gaps are fine: compaction, transactions); an offset at or below one already seen is a message
 * delivered again, which applied with these positions would be applied twice: returns
 * EVENT_STAMP_AGAIN with *at its index. Topics are borrowed from the events. */
event_stamp_t event_positions_stamp(const event_t *events, size_t n, event_position_t *pos,
                                    size_t *npos, event_cut_fn cut_of, void *ctx, size_t *at);

/* A document write of a batch, as the document store gets it. */
typedef struct event_doc {
    const char *index; /* the index (alias) */
    const char *id;
    const char *body;  /* the document's JSON, or NULL: delete the document */
    size_t event;      /* the batch's event whose writes the document reflects last */
    const char *error; /* set by the document store when it refuses the document for good */
} event_doc_t;

#endif
