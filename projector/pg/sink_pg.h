/* Applies planned batches to PostgreSQL in one transaction each, with the stored positions. */
#ifndef PROJECTOR_SINK_PG_H
#define PROJECTOR_SINK_PG_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "generation.h"
#include "mapping.h"
#include "planner.h"

typedef struct sink_pg sink_pg_t;

typedef enum {
    SINK_OK,          /* committed: the batch's writes and positions */
    SINK_STALE,       /* nothing written: a position moved under us (see stale/actual); re-seek */
    SINK_RETRY,       /* nothing written: the database failed; wait and call again */
    SINK_PAUSED,      /* nothing written: the projection is paused; wait and call again */
    SINK_RETRY_INDEX, /* nothing committed: the search engine failed; wait and call again */
    SINK_REFUSED,     /* nothing written: a table was re-created under the stored positions
                       * (errstr says which); nothing applies until a rebuild resets them */
    SINK_SCHEMA,      /* nothing written: the views no longer fit the mapping (a column or table
                       * missing, a privilege revoked: errstr says which); wait and call again */
} sink_rc_t;

/* Called once the batch's dead events are known, before the commit: publish them (the
 * dead-letter topic) and return 0, or -1 to roll back and retry the batch. */
typedef int (*sink_dead_fn)(void *ctx, event_t *events, size_t n);

/* Writes docs[0, n) with external version `version` (texts in arena). Returns 0 when every
 * document is written (or already holds a newer version), -1 when the writes failed retriably
 * (errstr says why), 1 when some documents were refused for good (their error is set; the others
 * are written). Blocks. */
typedef int (*sink_index_fn)(void *ctx, event_doc_t *docs, size_t n, int64_t version,
                             arena_t *arena, char *errstr, size_t errstr_size);

/* Returns a sink for projection m (borrowed) applying to generation gen (copied): the live
 * tables, or a generation being built (its schema first on the search path, its own positions
 * key; its position rows are never created here). Connects lazily. Caller owns it. */
sink_pg_t *sink_pg_new(const char *conninfo, const mapping_t *m, const generation_t *gen);
void sink_pg_destroy(sink_pg_t *s);

/* Sets the indexer of the projection's documents (needed when its mapping has index actions):
 * each batch's documents are written through it after the batch's writes and before its commit,
 * so a batch's position is final only once both stores have it. */
void sink_pg_set_indexer(sink_pg_t *s, sink_index_fn fn, void *ctx);

/* Creates missing position rows (live generation only) and reads the stored positions into
 * pos[i].expected (-1: none stored yet; a build generation: -2 when the partition has no row,
 * i.e. the build is over or the partition is not part of it). Blocks. Returns 0, or -1 with errstr
 * set (retriable: the database is unreachable). */
int sink_pg_positions(sink_pg_t *s, event_position_t *pos, size_t npos, char *errstr,
                      size_t errstr_size) __attribute__((warn_unused_result));

/* Applies events[0, n) (partition order within each partition) and advances pos in one
 * transaction, committing only if every stored position still equals pos[i].expected. Events
 * that fail for themselves are isolated (bisection under savepoints) and marked EVENT_DEAD; every
 * other event is applied once. Error texts go to err_arena. Blocks. */
sink_rc_t sink_pg_apply(sink_pg_t *s, event_t *events, size_t n, arena_t *err_arena,
                        event_position_t *pos, size_t npos, sink_dead_fn dead_fn, void *dead_ctx,
                        char *errstr, size_t errstr_size) __attribute__((warn_unused_result));

/* Applies one dead-lettered event again (projector.dead_letters row dead_id, after a mapping
 * fix), outside the stream, in one transaction that locks the dead letter while unresolved:
 * SINK_OK with ev->state EVENT_APPLIED (resolved; the partition's counters move it from
 * dead-lettered to applied) or EVENT_DEAD (failed again; its record holds the new error);
 * SINK_STALE when it was resolved already; SINK_RETRY on a database failure. Blocks. */
sink_rc_t sink_pg_replay(sink_pg_t *s, int64_t dead_id, event_t *ev, arena_t *err_arena,
                         char *errstr, size_t errstr_size) __attribute__((warn_unused_result));

/* Records (best effort: the database may be down) that this worker, instance ("host:pid"), has
 * been stalled since since_ms (ms since the epoch) for cause (stats_stall_name()) and reason;
 * readers ignore the record ttl_ms after this call unless it is noted again. Returns 0 or -1.
 * Blocks. */
int sink_pg_stall_note(sink_pg_t *s, const char *instance, int64_t since_ms, const char *cause,
                       const char *reason, int64_t ttl_ms);
/* Deletes the record (best effort). Returns 0 or -1. Blocks. */
int sink_pg_stall_clear(sink_pg_t *s, const char *instance);
/* Records (best effort) that instance ("host:pid") consumes the projection with partitions
 * ("topic/partition,..."); readers ignore the record ttl_ms after this call unless it is noted
 * again. Returns 0 or -1. Blocks. */
int sink_pg_instance_note(sink_pg_t *s, const char *instance, const char *partitions,
                          int64_t ttl_ms);
/* Deletes that record (best effort), at a clean stop. Returns 0 or -1. Blocks. */
int sink_pg_instance_clear(sink_pg_t *s, const char *instance);
/* A partition an in-place rebuild replays, up to offset `until` (the high watermark at its
 * request): the live workers' events below it are replays. */
typedef struct sink_target {
    char topic[256];
    int32_t partition;
    int64_t until;
} sink_target_t;

/* The partitions the projection's latest rebuild replays when that rebuild is in place (none
 * otherwise): *out (caller frees) gets *n of them. Returns 0, or -1 (nothing set) when the
 * database cannot say. Blocks. */
int sink_pg_replay_targets(sink_pg_t *s, sink_target_t **out, size_t *n);

/* Rows inserted, updated or deleted by actions so far (committed batches only). */
uint64_t sink_pg_rows_written(const sink_pg_t *s);

#endif
