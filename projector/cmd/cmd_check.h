/* `projector check [--offline]`: validates settings, mappings and views. */
#ifndef PROJECTOR_CMD_CHECK_H
#define PROJECTOR_CMD_CHECK_H

#include "cmd_args.h"

/* The check command (main.c's table): reads --offline and the settings from argv, then checks
 * (service_check()). Blocks. Returns an exit code: 0; 1 when the database cannot be reached (and
 * not --offline); 2 for bad arguments or problems found. */
int cmd_check_main(const cmd_args_command_t *c, int argc, char **argv);

#endif
