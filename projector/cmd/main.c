/* Command line: parses the subcommand and its settings, then dispatches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "config.h"
#include "dlq_cmd.h"
#include "log.h"
#include "rebuild.h"
#include "service.h"
#include "status.h"
#include "test_cmd.h"
#include "version.h"

static dlq_cmd_opts_t dlq_opts;

static int run_dlq(const config_t *cfg)
{
    return dlq_cmd_run(cfg, &dlq_opts);
}

static service_check_opts_t check_opts;

static int run_check(const config_t *cfg)
{
    return service_check(cfg, &check_opts);
}

static rebuild_opts_t rebuild_opts;

static int run_rebuild(const config_t *cfg)
{
    return rebuild_run(cfg, &rebuild_opts);
}

static test_cmd_opts_t test_opts;

static int run_test(const config_t *cfg)
{
    return test_cmd_run(cfg, &test_opts);
}

typedef struct command {
    const char *name;
    int (*run)(const config_t *cfg); /* NULL: takes its own arguments (broker) */
    const char *summary;
    /* the settings it reads, as name prefixes (config_print_help()); NULL: every setting */
    const char *const *reads;
} command_t;

/* Name prefixes of the settings each command reads, for its --help. */
static const char *const reads_serve[] = {"pg",     "brokers", "mappings", "views", "http.",
                                          "ready.", "es.",     "log.",     NULL};
static const char *const reads_migrate[] = {"pg", "mappings", "views", "es.", "log.", NULL};
static const char *const reads_rebuild[] = {"pg",    "brokers", "group", "mappings",
                                            "views", "es.",     "log.",  NULL};
static const char *const reads_status[] = {"pg",    "brokers", "group", "mappings",
                                           "views", "log.",    NULL};
static const char *const reads_dlq[] = {"pg",  "brokers", "mappings",        "views", "dlq.",
                                        "es.", "log.",    "max.event.bytes", NULL};
static const char *const reads_test[] = {"pg",   "mappings",        "views", "dlq.",
                                         "log.", "max.event.bytes", NULL};

static const command_t commands[] = {
    {"run", service_run, "join the consumer group and project events until SIGINT/SIGTERM", NULL},
    {"serve", service_serve, "serve the HTTP API (read models, status, metrics) without consuming",
     reads_serve},
    {"migrate", service_migrate,
     "apply the views directory's .sql files to the database (idempotent)", reads_migrate},
    {"check", run_check, "validate settings, mappings and views; exit 2 listing problems", NULL},
    {"rebuild", run_rebuild, "recompute a projection from its topics' earliest events",
     reads_rebuild},
    {"status", status_run, "show each projection's generation, lag and rebuild progress",
     reads_status},
    {"dlq", run_dlq, "dead letters: list, show, replay after a mapping fix, discard", reads_dlq},
    {"test", run_test,
     "run mapping test cases (events in, rows, documents, dead letters expected), no Kafka",
     reads_test},
    {"broker", NULL, "run the embedded Kafka-protocol broker (development and tests)", NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: projector COMMAND [options]\n\n"
                 "A CQRS read-model projector: Kafka events -> PostgreSQL read tables.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'projector COMMAND --help' for a command's options; 'projector help settings'"
                 " for every setting;\n--version (-V) for the versions of projector and its"
                 " libraries.\n");
}

/* --version: the project's and its libraries' versions, as psql and kcat users expect. */
static void print_version(void)
{
    version_component_t v[VERSION_COMPONENTS];
    version_components(v);
    printf("%s %s\n", v[0].name, v[0].version);
    for (int i = 1; i < VERSION_COMPONENTS; i++)
        printf("  %s %s\n", v[i].name, v[i].version);
}

static void command_help(const command_t *c)
{
    if (c->run == run_dlq)
        printf("usage: projector dlq list|show|replay|discard [--projection P] [--since TIME] "
               "[--id N] [--all] [options]\n\n"
               "%s.\n\n",
               c->summary);
    if (c->run == run_dlq)
        printf("  list     dead letters not replayed yet (--all: every one)\n"
               "  show     one dead letter with its key and value (--id N)\n"
               "  replay   apply the dead letters again with the current mappings, each once;\n"
               "           one that fails again stays, with its new error (exit code 1)\n"
               "  discard  resolve one (--id N) without applying it; what was parked behind it\n"
               "           applies at the next replay\n"
               "  --projection P, --id N: filters\n"
               "  --since TIME   an RFC 3339 time (2026-11-27T10:00Z; UTC unless an offset is\n"
               "                 given) or a duration back from now (90s, 30m, 1h, 7d, 2w)\n\n");
    if (c->run == run_rebuild)
        printf(
            "usage: projector rebuild PROJECTION [--in-place] [--wait] [--keep-old] [options]\n"
            "       projector rebuild PROJECTION --cancel [options]\n\n"
            "  (default)   blue/green: the running instances build a new generation of the\n"
            "              projection's tables from the earliest offsets beside the live one,\n"
            "              which keeps serving and projecting; once it has caught up, readers\n"
            "              are switched to it in one transaction and the old one is dropped\n"
            "  --in-place  truncate the projection's tables, reset its positions and replay\n"
            "              its topics from the earliest offsets (readers see the tables refill)\n"
            "  --keep-old  keep the old generation's tables (schema projector_old_<P>_g<N>)\n"
            "  --wait      show progress until the rebuild is over\n"
            "  --cancel    cancel the active rebuild and drop its partial generation\n\n"
            "%s.\n\n",
            c->summary);
    if (c->run == run_test)
        printf(
            "usage: projector test [--update] [--junit FILE] [options] CASE_DIR...\n\n%s.\n\n"
            "  CASE_DIR      a directory with events.ndjson (one event a line: {\"value\": ...,\n"
            "                \"key\", \"headers\", \"topic\", \"partition\", \"timestamp\"}) and\n"
            "                expected.json ({\"tables\": {T: [rows]}, \"documents\": {I: {id:\n"
            "                doc}}, \"dead_letters\": [{\"line\": N, \"stage\": S}]}); a "
            "directory\n"
            "                without events.ndjson stands for each of its case directories\n"
            "  --update      write each case's actual state (set-based) as its expected.json\n"
            "  --junit FILE  write a JUnit XML report (one testcase per case and mode)\n\n"
            "Each case runs twice, all events in one batch and one event per batch, in a\n"
            "scratch database created on the --pg server and dropped afterwards (the role needs\n"
            "CREATEDB); both must give the expected state. Exit codes: 0 every case passed,\n"
            "1 a case failed (or the database failed), 2 invalid mappings, views or cases.\n\n",
            c->summary);
    else if (c->run == run_check)
        printf("usage: projector check [--offline] [options]\n\n%s.\n\n"
               "  --offline  check the files and settings alone; without it the views and\n"
               "             mappings are checked against the database, and an unreachable\n"
               "             database is a failure (exit 1)\n\n",
               c->summary);
    else if (c->run != run_dlq && c->run != run_rebuild && c->run != run_test)
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

static int apply_flag(config_t *cfg, int argc, char **argv, int *i, char *err, size_t errsz)
{
    const char *a = argv[*i];
    if (strcmp(a, "-X") == 0 && *i + 1 < argc) {
        const char *kv = argv[++*i];
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

/* Builds the settings: defaults, config file, environment, flags. Returns 0, 1 for --help,
 * or -1 after printing the problem. */
static int parse_settings(const command_t *c, int argc, char **argv, config_t *cfg)
{
    char err[1024];
    const char *file = getenv("PROJECTOR_CONFIG");
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            command_help(c);
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
        if (apply_flag(cfg, argc, argv, &i, err, sizeof(err)) != 0)
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

/* Takes the dlq action and its own options out of args (in place); returns how many arguments
 * are left for the settings, or -1 after printing the problem. */
static int take_dlq_args(int n, char **args)
{
    int out = 0;
    for (int i = 0; i < n; i++) {
        const char *a = args[i], *v = i + 1 < n ? args[i + 1] : NULL;
        if (!dlq_opts.action && (strcmp(a, "list") == 0 || strcmp(a, "show") == 0 ||
                                 strcmp(a, "replay") == 0 || strcmp(a, "discard") == 0)) {
            dlq_opts.action = a;
        } else if (strcmp(a, "--projection") == 0 && v) {
            dlq_opts.projection = args[++i];
        } else if (strcmp(a, "--since") == 0 && v) {
            static char since[128];
            char err[512];
            if (dlq_cmd_parse_since(args[++i], (long long)time(NULL), since, sizeof(since), err,
                                    sizeof(err)) != 0) {
                fprintf(stderr, "projector dlq: %s\n", err);
                return -1;
            }
            dlq_opts.since = since;
        } else if (strcmp(a, "--id") == 0 && v) {
            char *end;
            dlq_opts.id = strtoll(args[++i], &end, 10);
            if (*end || dlq_opts.id <= 0) {
                fprintf(stderr, "projector dlq: --id takes a dead letter's id (a number)\n");
                return -1;
            }
        } else if (strcmp(a, "--all") == 0) {
            dlq_opts.all = 1;
        } else {
            args[out++] = args[i];
        }
    }
    int help = 0;
    for (int i = 0; i < out; i++)
        help |= strcmp(args[i], "--help") == 0 || strcmp(args[i], "-h") == 0;
    if (!dlq_opts.action && !help) {
        fprintf(stderr,
                "projector dlq: say list, show, replay or discard (see 'projector dlq --help')\n");
        return -1;
    }
    return out;
}

/* The rebuild command's own flags: each sets one field of rebuild_opts. */
static const struct {
    const char *flag;
    int *field;
} rebuild_flags[] = {
    {"--in-place", &rebuild_opts.in_place},
    {"--wait", &rebuild_opts.wait},
    {"--cancel", &rebuild_opts.cancel},
    {"--keep-old", &rebuild_opts.keep_old},
};

/* The rebuild flag a is, or NULL. */
static int *rebuild_flag(const char *a)
{
    for (size_t k = 0; k < sizeof(rebuild_flags) / sizeof(rebuild_flags[0]); k++)
        if (strcmp(a, rebuild_flags[k].flag) == 0)
            return rebuild_flags[k].field;
    return NULL;
}

/* Takes the projection name and the rebuild flags out of args; returns how many arguments are
 * left for the settings, or -1 after printing the problem. */
static int take_rebuild_args(int n, char **args)
{
    int out = 0, help = 0;
    for (int i = 0; i < n; i++) {
        int *field = rebuild_flag(args[i]);
        if (field)
            *field = 1;
        else if (args[i][0] != '-' && !rebuild_opts.projection &&
                 (i == 0 || args[i - 1][0] != '-' || strchr(args[i - 1], '=') ||
                  rebuild_flag(args[i - 1])))
            rebuild_opts.projection = args[i];
        else
            args[out++] = args[i];
        help |= strcmp(args[i], "--help") == 0 || strcmp(args[i], "-h") == 0;
    }
    if (!rebuild_opts.projection && !help) {
        fprintf(stderr, "projector rebuild: name the projection (projector rebuild PROJECTION "
                        "[--in-place] [--wait] [--keep-old] [--cancel])\n");
        return -1;
    }
    if (rebuild_opts.cancel && (rebuild_opts.in_place || rebuild_opts.wait)) {
        fprintf(stderr, "projector rebuild: --cancel takes no --in-place or --wait\n");
        return -1;
    }
    if (rebuild_opts.keep_old && rebuild_opts.in_place) {
        fprintf(stderr, "projector rebuild: --keep-old is for blue/green rebuilds (an in-place "
                        "rebuild has no old generation)\n");
        return -1;
    }
    return out;
}

/* Takes check's own flag (--offline) out of args; returns how many are left. */
static int take_check_args(int n, char **args)
{
    int out = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(args[i], "--offline") == 0)
            check_opts.offline = 1;
        else
            args[out++] = args[i];
    }
    return out;
}

/* Does option a take the next argument as its value (a setting's flag, -X, --config, --junit)? */
static int takes_value(const char *a)
{
    return !strchr(a, '=') && (config_flag_setting(a) || strcmp(a, "-X") == 0 ||
                               strcmp(a, "--config") == 0 || strcmp(a, "--junit") == 0);
}

/* Takes test's own flags and the case directories out of args; returns how many arguments are
 * left for the settings, or -1 after printing the problem. */
static int take_test_args(int n, char **args)
{
    int out = 0, help = 0;
    static const char *cases[1024];
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        help |= strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
        if (strcmp(a, "--update") == 0) {
            test_opts.update = 1;
        } else if (strcmp(a, "--junit") == 0 && i + 1 < n) {
            test_opts.junit = args[++i];
        } else if (strncmp(a, "--junit=", 8) == 0) {
            test_opts.junit = a + 8;
        } else if (a[0] != '-' && (i == 0 || !takes_value(args[i - 1]))) {
            if (test_opts.ncases == sizeof(cases) / sizeof(cases[0])) {
                fprintf(stderr, "projector test: at most 1024 case directories\n");
                return -1;
            }
            cases[test_opts.ncases++] = a;
        } else {
            args[out++] = args[i];
        }
    }
    test_opts.cases = cases;
    if (!test_opts.ncases && !help) {
        fprintf(stderr, "projector test: name the case directories (projector test [--update] "
                        "[--junit FILE] CASE_DIR...)\n");
        return -1;
    }
    return out;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_INVALID;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0 ||
        strcmp(argv[1], "version") == 0) {
        print_version();
        return EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0 && argc > 2 && strcmp(argv[2], "settings") == 0) {
        config_print_help(stdout, NULL);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const command_t *c = &commands[i];
        if (strcmp(argv[1], c->name) != 0)
            continue;
        if (!c->run)
            return broker_main(argc - 2, argv + 2);
        int nargs = argc - 2;
        char **args = argv + 2;
        if (c->run == run_dlq && (nargs = take_dlq_args(nargs, args)) < 0)
            return EXIT_INVALID;
        if (c->run == run_rebuild && (nargs = take_rebuild_args(nargs, args)) < 0)
            return EXIT_INVALID;
        if (c->run == run_test && (nargs = take_test_args(nargs, args)) < 0)
            return EXIT_INVALID;
        if (c->run == run_check)
            nargs = take_check_args(nargs, args);
        config_t *cfg = config_new();
        int rc = parse_settings(c, nargs, args, cfg);
        rc = rc == 0 ? c->run(cfg) : rc > 0 ? EXIT_OK : EXIT_INVALID;
        config_destroy(cfg);
        return rc;
    }
    fprintf(stderr, "projector: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return EXIT_INVALID;
}
