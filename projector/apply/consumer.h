/* A projection worker: consumes its topics as a group member and applies batches exactly once. */
#ifndef PROJECTOR_CONSUMER_H
#define PROJECTOR_CONSUMER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "generation.h"
#include "mapping.h"
#include "stats.h"

typedef struct consumer consumer_t;

/* Lifecycle of a worker. */
typedef enum {
    CONSUMER_STARTING, /* joining the group */
    CONSUMER_RUNNING,  /* consuming and applying */
    CONSUMER_RETRYING, /* the database failed; the batch in hand waits, nothing is consumed */
    CONSUMER_PAUSED,   /* paused through the HTTP API; the batch in hand waits */
    CONSUMER_STOPPED,  /* left the group after the last batch */
    CONSUMER_FAILED,   /* could not start (see the log) */
} consumer_state_t;

/* Returns a worker for projection m (borrowed; bound to the database's types) applying to
 * generation gen (copied: the live tables, or one being built) that records its statistics in
 * stats (borrowed), or NULL with errstr set. Caller owns it. */
consumer_t *consumer_new(const config_t *cfg, const mapping_t *m, const generation_t *gen,
                         stats_t *stats, char *errstr, size_t errstr_size);
void consumer_destroy(consumer_t *c);

/* Consumes and applies until *stop becomes non-zero, then finishes the batch in hand, commits,
 * and leaves the group. Blocks. Returns 0 on a clean stop, -1 on failure. */
int consumer_run(consumer_t *c, const atomic_int *stop);

consumer_state_t consumer_state(const consumer_t *c);

#endif
