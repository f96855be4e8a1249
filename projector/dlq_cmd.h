/* `projector dlq list|show|replay|discard`: inspect dead letters and apply them after a fix. */
#ifndef PROJECTOR_DLQ_CMD_H
#define PROJECTOR_DLQ_CMD_H

#include "config.h"

typedef struct dlq_cmd_opts {
    const char *action;     /* "list", "show", "replay" or "discard" */
    const char *projection; /* only this projection's dead letters, or NULL */
    const char *since;      /* only those dead-lettered at or after this time, or NULL */
    long long id;           /* only this one (0: any) */
    int all;                /* list: include the replayed ones */
} dlq_cmd_opts_t;

/* Runs the action against the database of cfg (and, for replay, the mappings). Blocks. Returns
 * an exit code: 0; 1 when a replayed event failed again or the database failed; 2 for bad
 * arguments. */
int dlq_cmd_run(const config_t *cfg, const dlq_cmd_opts_t *o);

#endif
