/* `projector rebuild PROJECTION`: requests, cancels and follows a rebuild of a projection. */
#ifndef PROJECTOR_CMD_REBUILD_H
#define PROJECTOR_CMD_REBUILD_H

#include "cmd_args.h"

/* The rebuild command (main.c's table): reads the projection, --in-place, --wait, --keep-old or
 * --cancel and the settings from argv, then runs the rebuild (rebuild_run()). Blocks (with --wait,
 * until the rebuild is over). Returns an exit code: 0; 1 on a failure (or a cancelled or failed
 * rebuild with --wait); 2 for bad arguments or when refused. */
int cmd_rebuild_main(const cmd_args_command_t *c, int argc, char **argv);

#endif
