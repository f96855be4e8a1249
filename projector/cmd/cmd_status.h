/* `projector status`: every projection's generation, positions and lag, and its rebuild's
 * progress. */
#ifndef PROJECTOR_CMD_STATUS_H
#define PROJECTOR_CMD_STATUS_H

#include "cmd_args.h"

/* The status command (main.c's table): reads the settings from argv, then prints the status of
 * every projection of the mappings directory, read from the database and the brokers. Blocks.
 * Returns an exit code: 0, 1 when the database cannot be read (or the brokers do not answer), 2
 * for bad arguments or invalid mappings. */
int cmd_status_main(const cmd_args_command_t *c, int argc, char **argv);

#endif
