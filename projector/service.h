/* The run, migrate and check commands: settings and mappings in, projections running. */
#ifndef PROJECTOR_SERVICE_H
#define PROJECTOR_SERVICE_H

#include "config.h"

/* Exit codes of every command. */
enum { EXIT_OK = 0, EXIT_FAILURE_RUNTIME = 1, EXIT_INVALID = 2 };

/* `projector run`: migrates, checks, then runs one worker per projection until SIGINT/SIGTERM.
 * Blocks. Returns an exit code. */
int service_run(const config_t *cfg);
/* `projector migrate`: applies the views directory's .sql files. Returns an exit code. */
int service_migrate(const config_t *cfg);
/* `projector check`: lists every problem of settings, mappings and views as
 * "file: json.path: message" (against the database when reachable). Returns an exit code. */
int service_check(const config_t *cfg);

#endif
