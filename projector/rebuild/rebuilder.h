/* Inside `projector run`: carries out the rebuild requests of projector.rebuilds for the
 * projections this instance runs, builds new generations and switches to them. */
#ifndef PROJECTOR_REBUILDER_H
#define PROJECTOR_REBUILDER_H

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "mapping.h"

typedef struct rebuilder rebuilder_t;

/* Starts the rebuilder's thread for the projections of set (borrowed, as cfg, until
 * rebuilder_stop()). It LISTENs on channel projector_rebuild (and polls every 2 s), and per
 * active rebuild of a projection of set: resets the tables of an in-place one; creates the build
 * schema of a blue/green one, runs a build worker for it while it builds (the build's consumer
 * group spreads its partitions over the instances), switches once every partition lags by at
 * most rebuild.max.lag events, and drops the old generation. Returns the rebuilder (caller owns),
 * or NULL with errstr set. */
rebuilder_t *rebuilder_start(const config_t *cfg, const mapping_set_t *set, char *errstr,
                             size_t errstr_size);
/* Stops the build workers (each finishes its batch in hand) and the thread; frees r. Blocks. */
void rebuilder_stop(rebuilder_t *r);

#endif
