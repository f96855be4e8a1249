/* `projector rebuild`: recompute a projection's read tables from the start of its topics. */
#ifndef PROJECTOR_REBUILD_H
#define PROJECTOR_REBUILD_H

#include "config.h"

typedef struct rebuild_opts {
    const char *projection;
    int in_place; /* --in-place: truncate and replay into the same tables */
    int wait;     /* --wait: show progress until the replay has caught up */
} rebuild_opts_t;

/* Runs the rebuild against the database and brokers of cfg. Blocks (with --wait, until the
 * replay has caught up). Returns an exit code: 0; 1 on a failure; 2 when refused. */
int rebuild_run(const config_t *cfg, const rebuild_opts_t *o);

#endif
