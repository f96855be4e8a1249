/* `projector dlq list|show|replay|discard`: inspect dead letters and apply them after a fix. */
#ifndef PROJECTOR_CMD_DLQ_H
#define PROJECTOR_CMD_DLQ_H

#include <stddef.h>

#include "cmd_args.h"

/* Parses the --since value text: an RFC 3339 time (2026-11-27, 2026-11-27T10:00Z,
 * 2026-11-27T10:00:00.5+01:00; no offset means UTC) or a duration back from now_s (seconds since
 * the epoch): a number and a unit, s, m, h, d or w (90s, 30m, 1h, 7d, 2w). Writes the time as
 * RFC 3339 text PostgreSQL reads into out. Returns 0, or -1 with errstr naming the accepted
 * forms. Does not block. */
int cmd_dlq_parse_since(const char *text, long long now_s, char *out, size_t out_size, char *errstr,
                        size_t errstr_size) __attribute__((warn_unused_result));

/* The dlq command (main.c's table): reads its action (list, show, replay, discard), its flags
 * (--projection P, --since TIME, --id N, --all) and the settings from argv, then runs the action
 * against the database of the settings (and, for replay, the mappings). Blocks. Returns an exit
 * code: 0; 1 when a replayed event failed again or the database failed; 2 for bad arguments. */
int cmd_dlq_main(const cmd_args_command_t *c, int argc, char **argv);

#endif
