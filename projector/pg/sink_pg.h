/* The PostgreSQL row store: batches applied in one transaction each, with the stored positions. */
#ifndef PROJECTOR_SINK_PG_H
#define PROJECTOR_SINK_PG_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "generation.h"
#include "mapping.h"
#include "planner.h"
#include "sink.h"

typedef struct sink_pg sink_pg_t;

/* Returns a sink for projection m (borrowed) applying to generation gen (copied): the live
 * tables, or a generation being built (its schema first on the search path, its own positions
 * key; its position rows are never created here). Connects lazily. Caller owns it. */
sink_pg_t *sink_pg_new(const char *conninfo, const mapping_t *m, const generation_t *gen);
void sink_pg_destroy(sink_pg_t *s);

/* Creates missing position rows (live generation only) and reads the stored positions into
 * pos[i].expected (EVENT_POS_NONE: none stored yet; a build generation: EVENT_POS_NO_ROW when the
 * partition has no row, i.e. the build is over or the partition is not part of it). Blocks. Returns
 * 0, or -1 with errstr set (retriable: the database is unreachable). */
int sink_pg_positions(sink_pg_t *s, event_position_t *pos, size_t npos, char *errstr,
                      size_t errstr_size) __attribute__((warn_unused_result));

/* The row store for the applier (event/sink.h): each batch in one transaction, committed only
 * if every stored position still equals the batch's expected one; events that fail for
 * themselves are isolated (bisection under savepoints) and marked dead, every other event is
 * applied once. A build generation's positions are never created here. */
sink_rows_t sink_pg_rows(sink_pg_t *s);

/* Applies one dead-lettered event again (projector.dead_letters row dead_id, after a mapping
 * fix), outside the stream, in one transaction that locks the dead letter while unresolved:
 * SINK_OK with ev->state EVENT_APPLIED (resolved; the partition's counters move it from
 * dead-lettered to applied) or EVENT_DEAD (failed again; its record holds the new error);
 * SINK_STALE when it was resolved already; SINK_RETRY on a database failure. With docs, its
 * documents are written to that store inside the transaction. Blocks. */
sink_rc_t sink_pg_replay(sink_pg_t *s, int64_t dead_id, event_t *ev, arena_t *err_arena,
                         const sink_docs_t *docs, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

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
