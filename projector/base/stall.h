/* A projection's stalled state, as readers see it: this process's worker (its statistics) or
 * any instance's, through projector.stalls. */
#ifndef PROJECTOR_STALL_H
#define PROJECTOR_STALL_H

#include <jansson.h>
#include <libpq-fe.h>

#include "stats.h"

typedef struct stall {
    stats_stall_t cause;
    char since[40];    /* RFC 3339 UTC */
    char reason[1024]; /* the last error of the batch, e.g. "database: PostgreSQL error ..." */
    char instance[160];
} stall_t;

/* Whether projection is stalled: per local (this process's worker of it, or NULL), else per
 * the unexpired rows of projector.stalls on c (a failed query counts as not stalled). Fills
 * out when so. Returns 1 or 0. Blocks (one query when local does not say). */
int stall_find(PGconn *c, const char *projection, const stats_t *local, stall_t *out);

/* {"cause", "since", "reason", "instance"} of st, or JSON null when st is NULL. New reference. */
json_t *stall_json(const stall_t *st);

/* This process's name in projector.stalls: "host:pid". */
void stall_instance(char *out, size_t outsz);

#endif
