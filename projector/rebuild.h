/* `projector rebuild`: recompute a projection's read tables from the start of its topics. */
#ifndef PROJECTOR_REBUILD_H
#define PROJECTOR_REBUILD_H

#include "config.h"

typedef struct rebuild_opts {
    const char *projection;
    int in_place; /* --in-place: truncate and replay into the same tables */
    int wait;     /* --wait: show progress until the replay has caught up */
} rebuild_opts_t;

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "mapping.h"

/* Rebuilds projection m in place on connection c (brokers through rk, for the watermarks; the
 * search engine of cfg): refuses (returns 2) when a topic lost its earliest events and m does
 * not allow it, else truncates, puts new empty indices behind m's aliases, resets and returns 0;
 * -1 on a failure. errstr says why. Blocks. */
int rebuild_in_place(PGconn *c, rd_kafka_t *rk, const config_t *cfg, const mapping_t *m,
                     char *errstr, size_t errstr_size);

/* Runs the rebuild against the database and brokers of cfg. Blocks (with --wait, until the
 * replay has caught up). Returns an exit code: 0; 1 on a failure; 2 when refused. */
int rebuild_run(const config_t *cfg, const rebuild_opts_t *o);

#endif
