/* `projector broker`: the embedded Kafka-protocol broker, for development and tests. */
#ifndef PROJECTOR_CMD_BROKER_H
#define PROJECTOR_CMD_BROKER_H

#include "cmd_args.h"

/* The broker command (main.c's table): takes its own arguments, not the settings
 * (broker_main()). Blocks until SIGINT/SIGTERM. Returns an exit code. */
int cmd_broker_main(const cmd_args_command_t *c, int argc, char **argv);

#endif
