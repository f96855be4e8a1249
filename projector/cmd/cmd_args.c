/* A command's command line, walked once with its tables.
 *
 * Two passes, as the precedence of settings needs: the first takes the command's own flags (its
 * table) and positional arguments out of argv; the second reads the settings from what is left,
 * after the config file and the environment. The first pass knows which arguments are values
 * (a flag of the command's table or of the settings table that takes one, -X, --config), so it
 * skips them whole and never mistakes a value for a positional argument. */
#include "cmd_args.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "registry.h"
#include "service.h"
#include "xalloc.h"

/* Is a --help or -h? */
static int is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* The flag of spec that a is ("--flag", or "--flag=VALUE" for one taking a value), or NULL. */
static const cmd_args_flag_t *own_flag(const cmd_args_spec_t *spec, const char *a)
{
    size_t n = strcspn(a, "=");
    for (size_t i = 0; i < spec->nflags; i++) {
        const cmd_args_flag_t *f = &spec->flags[i];
        if (f->value ? strlen(f->flag) == n && strncmp(a, f->flag, n) == 0
                     : strcmp(a, f->flag) == 0)
            return f;
    }
    return NULL;
}

/* Does a, left for the settings, take the next argument as its value (a setting's flag, -X,
 * --config, without "=VALUE")? */
static int setting_takes_next(const char *a)
{
    return !strchr(a, '=') &&
           (config_flag_setting(a) || strcmp(a, "-X") == 0 || strcmp(a, "--config") == 0);
}

/* Sets what flag f (with value v; NULL for a flag that takes none) sets in opts. Returns 0 or -1
 * with errstr. */
static int apply_own(const cmd_args_flag_t *f, void *opts, const char *v, char *err, size_t errsz)
{
    if (f->set)
        return f->set(opts, v, err, errsz);
    char *field = (char *)opts + f->field;
    if (f->value)
        memcpy(field, &v, sizeof(v));
    else
        *(int *)(void *)field = 1;
    return 0;
}

/* Takes the command's own flags and positional arguments out of argv[0, argc) into opts; puts the
 * others, in order, in rest (room for argc) and sets *help when --help is among them. Returns
 * how many were left in rest, or -1 with err. A flag of the table that lacks its value is left
 * too (the settings then refuse it). */
static int take_own(const cmd_args_spec_t *spec, void *opts, int argc, char **argv, char **rest,
                    int *help, char *err, size_t errsz)
{
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        const cmd_args_flag_t *f = own_flag(spec, a);
        if (f && (!f->value || eq || i + 1 < argc)) {
            const char *v = !f->value ? NULL : eq ? eq + 1 : argv[++i];
            if (apply_own(f, opts, v, err, errsz) != 0)
                return -1;
            continue;
        }
        *help |= is_help(a);
        if (setting_takes_next(a) && i + 1 < argc) {
            rest[n++] = argv[i++];
            rest[n++] = argv[i];
            continue;
        }
        int took = a[0] != '-' && spec->positional ? spec->positional(opts, a, err, errsz) : 0;
        if (took < 0)
            return -1;
        if (!took)
            rest[n++] = argv[i];
    }
    return n;
}

/* Prints the --help of command c: its usage (spec's or the plain one), the settings it reads,
 * the precedence and the exit codes. */
static void command_help(const cmd_args_command_t *c, const cmd_args_spec_t *spec)
{
    if (spec->usage)
        spec->usage(stdout, c);
    else
        printf("usage: projector %s [--config FILE] [options]\n\n%s.\n\n", c->name, c->summary);
    config_print_help(stdout, c->reads);
    if (c->reads)
        printf("\nThese are the settings '%s' reads; 'projector help settings' lists all.\n",
               c->name);
    printf("\nPrecedence: defaults < config file < environment < flags. Where --pg and "
           "PROJECTOR_PG are unset,\nlibpq's PG* variables (PGHOST, PGPORT, PGDATABASE, ...) "
           "apply.\nExit codes: 0 ok, 1 runtime failure, 2 invalid settings, mappings or views.\n");
}

/* Returns the value of --name VALUE or --name=VALUE at argv[*i] (advancing *i), or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* -X property=value: a librdkafka property. */
static int apply_kafka(config_t *cfg, const char *kv, char *err, size_t errsz)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(err, errsz, "-X %s: expected -X property=value", kv);
        return -1;
    }
    char key[256];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
    config_add_kafka(cfg, key, eq + 1);
    return 0;
}

/* Applies the setting argv[*i] (with its value, advancing *i) to cfg. Returns 0 or -1 with err. */
static int apply_setting(config_t *cfg, int argc, char **argv, int *i, char *err, size_t errsz)
{
    const char *a = argv[*i];
    if (strcmp(a, "-X") == 0 && *i + 1 < argc)
        return apply_kafka(cfg, argv[++*i], err, errsz);
    if (a[0] != '-') {
        snprintf(err, errsz, "%s: unexpected argument (options start with --)", a);
        return -1;
    }
    char flag[128];
    snprintf(flag, sizeof(flag), "%.*s", (int)strcspn(a, "="), a);
    const char *setting = config_flag_setting(flag);
    const char *v = setting ? flag_value(argc, argv, i, flag) : NULL;
    if (strcmp(flag, "--config") == 0 && flag_value(argc, argv, i, "--config"))
        return 0; /* read before the others */
    if (!setting || !v) {
        snprintf(err, errsz, "%s: %s", a, setting ? "needs a value" : "unknown option");
        return -1;
    }
    char inner[1024];
    if (config_set(cfg, setting, v, "flag", inner, sizeof(inner)) == 0)
        return 0;
    /* inner is "flag: name: message": say which flag */
    snprintf(err, errsz, "%s: %s", flag, inner + strlen("flag: "));
    return -1;
}

/* Builds the settings from argv[0, argc): defaults, config file, environment, flags. Returns 0,
 * 1 after printing --help, or -1 after printing the problem. */
static int parse_settings(const cmd_args_command_t *c, const cmd_args_spec_t *spec, int argc,
                          char **argv, config_t *cfg)
{
    char err[1024];
    const char *file = getenv("PROJECTOR_CONFIG");
    for (int i = 0; i < argc; i++) {
        if (is_help(argv[i])) {
            command_help(c, spec);
            return 1;
        }
        const char *v = flag_value(argc, argv, &i, "--config");
        if (v)
            file = v;
    }
    if (file && config_load_file(cfg, file, err, sizeof(err)) != 0)
        goto fail;
    if (config_load_env(cfg, err, sizeof(err)) != 0)
        goto fail;
    for (int i = 0; i < argc; i++)
        if (apply_setting(cfg, argc, argv, &i, err, sizeof(err)) != 0)
            goto fail;
    if (log_set_level(config_str(cfg, CFG_LOG_LEVEL)) != 0 ||
        log_set_format(config_str(cfg, CFG_LOG_FORMAT)) != 0) {
        snprintf(err, sizeof(err), "invalid log settings");
        goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "projector %s: %s\n(see 'projector %s --help')\n", c->name, err, c->name);
    return -1;
}

int cmd_args_run(const cmd_args_command_t *c, const cmd_args_spec_t *spec, void *opts, int argc,
                 char **argv)
{
    char err[1024];
    char **rest = xcalloc((size_t)argc + 1, sizeof(*rest));
    int help = 0, n = take_own(spec, opts, argc, argv, rest, &help, err, sizeof(err));
    if (n >= 0 && spec->check && spec->check(opts, help, err, sizeof(err)) != 0)
        n = -1;
    if (n < 0) {
        fprintf(stderr, "projector %s: %s\n", c->name, err);
        free(rest);
        return EXIT_INVALID;
    }
    config_t *cfg = config_new();
    int rc = parse_settings(c, spec, n, rest, cfg);
    if (rc == 0)
        registry_configure(cfg); /* for the registry formats' decoders */
    rc = rc == 0 ? spec->execute(cfg, opts) : rc > 0 ? EXIT_OK : EXIT_INVALID;
    config_destroy(cfg);
    free(rest);
    return rc;
}

/* The options of a command that takes settings alone: what it runs. */
typedef struct plain_opts {
    int (*run)(const config_t *cfg);
} plain_opts_t;

/* cmd_args_spec_t.execute of a plain command: runs what its options name. */
static int run_plain(const config_t *cfg, const void *opts)
{
    return ((const plain_opts_t *)opts)->run(cfg);
}

static const cmd_args_spec_t plain_spec = {.execute = run_plain};

int cmd_args_run_plain(const cmd_args_command_t *c, int argc, char **argv,
                       int (*run)(const config_t *cfg))
{
    plain_opts_t o = {run};
    return cmd_args_run(c, &plain_spec, &o, argc, argv);
}

void cmd_args_help_row(FILE *out, int width, const char *label, const char *text)
{
    fprintf(out, "  %-*s", width, label);
    for (const char *p = text;;) {
        size_t len = strcspn(p, "\n");
        fprintf(out, "%.*s\n", (int)len, p);
        if (!p[len])
            return;
        p += len + 1;
        fprintf(out, "  %*s", width, "");
    }
}

void cmd_args_help_flags(FILE *out, int width, const cmd_args_flag_t *flags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char label[128];
        if (!flags[i].help)
            continue;
        snprintf(label, sizeof(label), "%s%s%s", flags[i].flag, flags[i].value ? " " : "",
                 flags[i].value ? flags[i].value : "");
        cmd_args_help_row(out, width, label, flags[i].help);
    }
}
