/* The run, migrate and check commands: settings and mappings in, projections running. */
#ifndef PROJECTOR_SERVICE_H
#define PROJECTOR_SERVICE_H

#include <libpq-fe.h>

#include "config.h"
#include "mapping.h"

/* Exit codes of every command. */
enum { EXIT_OK = 0, EXIT_FAILURE_RUNTIME = 1, EXIT_INVALID = 2 };

/* `projector run`: migrates, checks, then runs one worker per projection until SIGINT/SIGTERM.
 * Blocks. Returns an exit code. */
int service_run(const config_t *cfg);
/* `projector serve`: the HTTP API alone, without consuming, until SIGINT/SIGTERM. */
int service_serve(const config_t *cfg);
/* `projector migrate`: applies the views directory's .sql files. Returns an exit code. */
int service_migrate(const config_t *cfg);
typedef struct service_check_opts {
    int offline; /* --offline: check the files and settings alone, not against a database */
} service_check_opts_t;

/* `projector check`: lists every problem of settings, mappings and views as
 * "file: json.path: message", against the database unless o->offline. Blocks. Returns an exit
 * code: 0; 1 when the database cannot be reached (and not offline); 2 for problems found. */
int service_check(const config_t *cfg, const service_check_opts_t *o);

#endif
