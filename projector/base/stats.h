/* Live per-projection statistics, written by its worker and read by the HTTP API (atomics). */
#ifndef PROJECTOR_STATS_H
#define PROJECTOR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef struct stats stats_t;

/* Event counters, exported as Prometheus counters. */
typedef enum {
    STATS_DB_ERRORS,    /* batch attempts failed on the database */
    STATS_STALE,        /* batches dropped: another instance had applied them */
    STATS_DLQ_ERRORS,   /* dead letters Kafka did not acknowledge */
    STATS_ES_REQUESTS,  /* _bulk requests sent */
    STATS_ES_DOCS,      /* documents written */
    STATS_ES_CONFLICTS, /* documents already at a newer version (409) */
    STATS_ES_ERRORS,    /* batch attempts failed on the search engine */
    STATS_ES_THROTTLED, /* documents answered 429/5xx */
    STATS_ES_REFUSED,   /* documents refused for good */
    STATS__COUNT
} stats_counter_t;

/* Returns zeroed statistics for a projection (caller owns, stats_destroy()). */
stats_t *stats_new(const char *projection);
void stats_destroy(stats_t *s);

/* A batch of `events` applied (committed) in `seconds`. */
void stats_batch(stats_t *s, size_t events, double seconds);
/* One event applied, `latency_ms` after its message timestamp (ts_ms). */
void stats_event(stats_t *s, int64_t ts_ms, int64_t latency_ms);
/* Adds n to counter c; reads a counter. */
void stats_count(stats_t *s, stats_counter_t c, uint64_t n);
uint64_t stats_counter(const stats_t *s, stats_counter_t c);
/* A batch attempt that failed on the database and is retried. */
void stats_db_error(stats_t *s);
/* A batch discarded because its stored position had moved (another instance applied it). */
void stats_stale(stats_t *s);
/* Dead letters that could not be published (the batch is retried). */
void stats_dlq_error(stats_t *s);
/* The worker could not start (see the log); the HTTP API reports the projection "failed". */
void stats_set_failed(stats_t *s);
int stats_failed(const stats_t *s);
/* The worker has failed the same batch since since_ms (ms since the epoch) for longer than
 * stall.after.ms, the last time for reason (copied); stats_clear_stalled() once it went
 * through. */
/* Why a worker is stalled; each is /readyz's error code and a value of projector.stalls.cause. */
typedef enum {
    STATS_STALL_FAILING, /* "stalled": the same batch has failed for longer than stall.after.ms */
    STATS_STALL_SCHEMA,  /* "schema_mismatch": the views no longer fit the mapping (at once) */
    STATS_STALL_REFUSED, /* "table_recreated": a table was re-created under the positions */
    STATS_STALL__COUNT
} stats_stall_t;

/* The cause's name; and the cause of a name (STATS_STALL_FAILING for an unknown one). */
const char *stats_stall_name(stats_stall_t cause);
stats_stall_t stats_stall_parse(const char *name);

void stats_set_stalled(stats_t *s, int64_t since_ms, stats_stall_t cause, const char *reason);
void stats_clear_stalled(stats_t *s);
/* Returns 1 (with since_ms, cause and reason, cut to reason_size, filled; each may be NULL)
 * while stalled, else 0. */
int stats_stalled(const stats_t *s, int64_t *since_ms, stats_stall_t *cause, char *reason,
                  size_t reason_size);
/* The rate over the last progress interval, set by the worker. */
void stats_set_rate(stats_t *s, double events_per_s);

double stats_rate(const stats_t *s);
/* The newest message timestamp applied (ms since the epoch), or -1. */
int64_t stats_last_event_ms(const stats_t *s);
/* Appends the Prometheus series (histograms and counters) of every stats in list. */
void stats_render(stats_t *const *list, size_t n, strbuf_t *out);

#endif
