/* `projector rebuild`: requests, cancels and follows rebuilds of a projection, which the
 * running instances carry out (rebuilder.h). */
#ifndef PROJECTOR_REBUILD_H
#define PROJECTOR_REBUILD_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "mapping.h"

typedef struct rebuild_opts {
    const char *projection;
    int in_place; /* --in-place: truncate and replay into the same tables */
    int wait;     /* --wait: show progress until the rebuild is over */
    int cancel;   /* --cancel: cancel the active rebuild */
    int keep_old; /* --keep-old: keep the old generation's tables after a blue/green switch */
} rebuild_opts_t;

/* Requests a rebuild of projection m on connection c (brokers through rk, for the watermarks
 * every partition has now: the rebuild's start and target): blue/green, or in place. Refuses
 * (returns 2) when a topic lost its earliest events and m does not allow it, or when a rebuild
 * of m is active already; returns 0 with *id set once the request is recorded and the running
 * instances notified; -1 on a failure. errstr says why. Blocks. */
int rebuild_request(PGconn *c, rd_kafka_t *rk, const mapping_t *m, int in_place, int keep_old,
                    long long *id, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Cancels the active rebuild of m in one transaction: points m's search aliases back at the
 * live generation's indices when a switch that did not commit left them on the build's
 * (generation_reconcile_search()), marks it cancelled and, while a blue/green build runs, drops
 * its partial generation (waiting for its batches in flight) and its search indices (the search
 * engine of cfg).
 * Returns 0 with *id, 2 when none is active or it has switched already, -1 on a failure
 * (errstr). Blocks. */
int rebuild_cancel(PGconn *c, const config_t *cfg, const mapping_t *m, long long *id, char *errstr,
                   size_t errstr_size) __attribute__((warn_unused_result));

/* Runs the command against the database and brokers of cfg. Blocks (with --wait, until the
 * rebuild is over). Returns an exit code: 0; 1 on a failure (or a cancelled or failed rebuild
 * with --wait); 2 when refused. */
int rebuild_run(const config_t *cfg, const rebuild_opts_t *o);

#endif
