/* `projector dlq list|show|replay|discard`: inspect dead letters and apply them after a fix. */
#ifndef PROJECTOR_DLQ_CMD_H
#define PROJECTOR_DLQ_CMD_H

#include "config.h"

typedef struct dlq_cmd_opts {
    const char *action;     /* "list", "show", "replay" or "discard" */
    const char *projection; /* only this projection's dead letters, or NULL */
    const char *since;      /* only those dead-lettered at or after this time (RFC 3339, as
                               dlq_cmd_parse_since() gives it), or NULL */
    long long id;           /* only this one (0: any) */
    int all;                /* list: include the replayed ones */
} dlq_cmd_opts_t;

/* Parses the --since value text: an RFC 3339 time (2026-11-27, 2026-11-27T10:00Z,
 * 2026-11-27T10:00:00.5+01:00; no offset means UTC) or a duration back from now_s (seconds since
 * the epoch): a number and a unit, s, m, h, d or w (90s, 30m, 1h, 7d, 2w). Writes the time as
 * RFC 3339 text PostgreSQL reads into out. Returns 0, or -1 with errstr naming the accepted
 * forms. Does not block. */
int dlq_cmd_parse_since(const char *text, long long now_s, char *out, size_t out_size, char *errstr,
                        size_t errstr_size) __attribute__((warn_unused_result));

/* Runs the action against the database of cfg (and, for replay, the mappings). Blocks. Returns
 * an exit code: 0; 1 when a replayed event failed again or the database failed; 2 for bad
 * arguments. */
int dlq_cmd_run(const config_t *cfg, const dlq_cmd_opts_t *o);

#endif
