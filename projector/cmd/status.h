/* `projector status`: every projection's generation, positions and lag, and its rebuild's
 * progress. */
#ifndef PROJECTOR_STATUS_H
#define PROJECTOR_STATUS_H

#include "config.h"

/* Prints the status of every projection of the mappings directory, read from the database and
 * the brokers of cfg. Blocks. Returns an exit code: 0, 1 when the database cannot be read, 2
 * for invalid mappings. */
int status_run(const config_t *cfg);

#endif
