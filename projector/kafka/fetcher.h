/* A projection's Kafka side, on its own thread: group membership, fetching, decoding batches. */
#ifndef PROJECTOR_FETCHER_H
#define PROJECTOR_FETCHER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "generation.h"
#include "mapping.h"
#include "planner.h"

/* A batch of decoded events, in poll order (partition order within each partition). Owned by
 * the fetcher; lent to the applier between fetcher_next() and fetcher_release(). */
typedef struct fetch_batch {
    rd_kafka_message_t **msgs;
    event_t *events; /* events[i] decodes msgs[i] */
    size_t n;
    /* the partitions of its events, stamped when the batch was cut: expected is where the
     * previous batch of the partition ended (or the stored position the fetch started from),
     * next follows its last event */
    event_position_t *pos;
    size_t npos;
    arena_t *arena;   /* error texts, header values and (json_alloc.h) the parsed values of this
                         batch: reset when the batch is emptied */
    arena_t **arenas; /* the same, one per decode worker (arenas[0] is arena): an event's
                         values are in the arena of the worker that decoded it */
    uint64_t generation;
} fetch_batch_t;

typedef struct fetcher fetcher_t;

/* Reads the stored positions of pos[0, n) (topic and partition set) into their expected
 * (EVENT_POS_NONE: none stored yet; EVENT_POS_NO_ROW: a build's partition without a row).
 * Called on the fetching thread at each assignment; returns 0, or -1 with errstr set (retried
 * until it answers). Blocks. */
typedef int (*fetcher_positions_fn)(void *ctx, event_position_t *pos, size_t n, char *errstr,
                                    size_t errstr_size);

/* Returns a fetcher for projection m and generation gen (copied; joins its consumer group once
 * started, resumes from the stored positions read_positions reads, with ctx: borrowed, used on
 * the fetching thread only), or NULL with errstr set. Caller owns it. */
fetcher_t *fetcher_new(const config_t *cfg, const mapping_t *m, const generation_t *gen,
                       fetcher_positions_fn read_positions, void *ctx, char *errstr,
                       size_t errstr_size);
/* Stops the thread if running, leaves the group, frees everything. */
void fetcher_destroy(fetcher_t *f);

/* Subscribes and starts the fetching thread. Returns 0 or -1 (logged). */
int fetcher_start(fetcher_t *f) __attribute__((warn_unused_result));
/* Stops fetching, leaves the group (committing nothing further) and joins the thread. */
void fetcher_stop(fetcher_t *f);

/* Waits up to timeout_ms for the next batch that is still current (older ones, from before a
 * rebalance or a rewind, are dropped). Returns NULL when none came. */
fetch_batch_t *fetcher_next(fetcher_t *f, int timeout_ms);
/* Gives a batch back once applied or dropped; its messages are freed on the fetching thread. */
void fetcher_release(fetcher_t *f, fetch_batch_t *b);

/* 1 while batch b (lent) is still of the current generation: no rebalance or rewind since it
 * was cut (else its partitions may be another instance's now). */
int fetcher_current(fetcher_t *f, const fetch_batch_t *b);
/* Records a partition's stored position: after a commit, or as found when stale (ignored when
 * the partition is no longer assigned here). */
void fetcher_advance(fetcher_t *f, const char *topic, int32_t partition, int64_t next);
/* Drops every batch fetched so far and re-reads each assigned partition from its stored
 * position as last recorded (after a stale batch: record the stored position first). */
void fetcher_rewind(fetcher_t *f);
/* Copies up to max assigned partitions with their recorded positions (topic strings stay valid
 * until the next rebalance) into pos; returns how many. */
size_t fetcher_assigned(fetcher_t *f, event_position_t *pos, size_t max);
/* Commits offsets to Kafka asynchronously, for lag tools (positions live in PostgreSQL). */
void fetcher_commit(fetcher_t *f, rd_kafka_topic_partition_list_t *offsets);

#endif
