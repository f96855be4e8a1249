/* `projector test CASES...`: runs mapping test cases (events in, rows, documents and dead
 * letters expected) against a scratch database, set-based and one event per batch. */
#ifndef PROJECTOR_CMD_TEST_H
#define PROJECTOR_CMD_TEST_H

#include "cmd_args.h"

/* The test command (main.c's table): reads the case directories, --update, --junit FILE and the
 * settings from argv, then runs the cases with the mappings and views of the settings in a
 * database it creates on their server and drops afterwards (nothing is written to the database
 * they name). Blocks. Returns an exit code: 0 every case passed; 1 a case failed, or the database
 * failed or may not be created; 2 invalid arguments, mappings, views or cases (each problem
 * printed as "file: where: message"). */
int cmd_test_main(const cmd_args_command_t *c, int argc, char **argv);

#endif
