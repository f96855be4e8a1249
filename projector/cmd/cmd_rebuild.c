/* `projector rebuild PROJECTION [--in-place] [--wait] [--keep-old] | --cancel`: its arguments. */
#include "cmd_rebuild.h"

#include <stddef.h>
#include <stdio.h>

#include "rebuild.h"

/* cmd_args_spec_t.positional: the first positional argument is the projection. */
static int take_projection(void *opts, const char *arg, char *errstr, size_t errstr_size)
{
    rebuild_opts_t *o = opts;
    (void)errstr, (void)errstr_size;
    if (o->projection)
        return 0;
    o->projection = arg;
    return 1;
}

/* A projection is named (unless for --help), and the flags go together. */
static int check_flags(const void *opts, int help, char *errstr, size_t errstr_size)
{
    const rebuild_opts_t *o = opts;
    if (!o->projection && !help)
        snprintf(errstr, errstr_size,
                 "name the projection (projector rebuild PROJECTION [--in-place] [--wait] "
                 "[--keep-old] [--cancel])");
    else if (o->cancel && (o->in_place || o->wait))
        snprintf(errstr, errstr_size, "--cancel takes no --in-place or --wait");
    else if (o->keep_old && o->in_place)
        snprintf(errstr, errstr_size,
                 "--keep-old is for blue/green rebuilds (an in-place "
                 "rebuild has no old generation)");
    else
        return 0;
    return -1;
}

/* The flags, in the order --help tells them. */
static const cmd_args_flag_t flags[] = {
    {"--in-place", NULL, offsetof(rebuild_opts_t, in_place), NULL,
     "truncate the projection's tables, reset its positions and replay\n"
     "its topics from the earliest offsets (readers see the tables refill)"},
    {"--keep-old", NULL, offsetof(rebuild_opts_t, keep_old), NULL,
     "keep the old generation's tables (schema projector_old_<P>_g<N>)"},
    {"--wait", NULL, offsetof(rebuild_opts_t, wait), NULL,
     "show progress until the rebuild is over"},
    {"--cancel", NULL, offsetof(rebuild_opts_t, cancel), NULL,
     "cancel the active rebuild and drop its partial generation"},
};

/* cmd_args_spec_t.usage: the usage lines, what each kind of rebuild does, the summary. */
static void usage(FILE *out, const cmd_args_command_t *c)
{
    fprintf(out, "usage: projector rebuild PROJECTION [--in-place] [--wait] [--keep-old] "
                 "[options]\n"
                 "       projector rebuild PROJECTION --cancel [options]\n\n");
    cmd_args_help_row(out, 12, "(default)",
                      "blue/green: the running instances build a new generation of the\n"
                      "projection's tables from the earliest offsets beside the live one,\n"
                      "which keeps serving and projecting; once it has caught up, readers\n"
                      "are switched to it in one transaction and the old one is dropped");
    cmd_args_help_flags(out, 12, flags, sizeof(flags) / sizeof(flags[0]));
    fprintf(out, "\n%s.\n\n", c->summary);
}

/* cmd_args_spec_t.execute: rebuild_run(); returns its exit code. */
static int execute(const config_t *cfg, const void *opts)
{
    return rebuild_run(cfg, opts);
}

static const cmd_args_spec_t spec = {
    .flags = flags,
    .nflags = sizeof(flags) / sizeof(flags[0]),
    .positional = take_projection,
    .check = check_flags,
    .usage = usage,
    .execute = execute,
};

int cmd_rebuild_main(const cmd_args_command_t *c, int argc, char **argv)
{
    rebuild_opts_t o = {0};
    return cmd_args_run(c, &spec, &o, argc, argv);
}
