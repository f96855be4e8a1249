/* `projector check [--offline]`: its arguments. */
#include "cmd_check.h"

#include <stddef.h>
#include <stdio.h>

#include "service.h"

static const cmd_args_flag_t flags[] = {
    {"--offline", NULL, offsetof(service_check_opts_t, offline), NULL,
     "check the files and settings alone; without it the views and\n"
     "mappings are checked against the database, the fields that\n"
     "upcasters read against the Schema Registry's schemas of their\n"
     "versions (versions: {\"registry\": ...}), and an unreachable\n"
     "database or registry is a failure (exit 1)"},
};

/* cmd_args_spec_t.usage: the usage line, the summary and --offline. */
static void usage(FILE *out, const cmd_args_command_t *c)
{
    fprintf(out, "usage: projector check [--offline] [options]\n\n%s.\n\n", c->summary);
    cmd_args_help_flags(out, 11, flags, sizeof(flags) / sizeof(flags[0]));
    fputc('\n', out);
}

/* cmd_args_spec_t.execute: service_check(); returns its exit code. */
static int execute(const config_t *cfg, const void *opts)
{
    return service_check(cfg, opts);
}

static const cmd_args_spec_t spec = {
    .flags = flags,
    .nflags = sizeof(flags) / sizeof(flags[0]),
    .usage = usage,
    .execute = execute,
};

int cmd_check_main(const cmd_args_command_t *c, int argc, char **argv)
{
    service_check_opts_t o = {0};
    return cmd_args_run(c, &spec, &o, argc, argv);
}
