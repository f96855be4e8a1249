/* `projector run`, `serve` and `migrate`: the commands that take settings alone. */
#ifndef PROJECTOR_CMD_RUN_H
#define PROJECTOR_CMD_RUN_H

#include "cmd_args.h"

/* The commands of main.c's table: each reads the settings from argv and runs service_run(),
 * service_serve() or service_migrate() (service.h says what each does and how long it blocks).
 * Each returns an exit code (2 for bad arguments). */
int cmd_run_main(const cmd_args_command_t *c, int argc, char **argv);
int cmd_run_serve_main(const cmd_args_command_t *c, int argc, char **argv);
int cmd_run_migrate_main(const cmd_args_command_t *c, int argc, char **argv);

#endif
