/* Command line: parses the subcommand and its settings, then dispatches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config.h"
#include "log.h"
#include "service.h"

typedef struct command {
    const char *name;
    int (*run)(const config_t *cfg); /* NULL: takes its own arguments (broker) */
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"run", service_run, "join the consumer group and project events until SIGINT/SIGTERM"},
    {"migrate", service_migrate,
     "apply the views directory's .sql files to the database (idempotent)"},
    {"check", service_check, "validate settings, mappings and views; exit 2 listing problems"},
    {"broker", NULL, "run the embedded Kafka-protocol broker (development and tests)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: projector COMMAND [options]\n\n"
                 "A CQRS read-model projector: Kafka events -> PostgreSQL read tables.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'projector COMMAND --help' for a command's options; --version.\n");
}

static void command_help(const command_t *c)
{
    printf("usage: projector %s [--config FILE] [options]\n\n%s.\n\n", c->name, c->summary);
    config_print_help(stdout);
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
    return config_set(cfg, setting, v, "flag", err, errsz);
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_INVALID;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("projector %s\n", PROJECTOR_VERSION);
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
        config_t *cfg = config_new();
        int rc = parse_settings(c, argc - 2, argv + 2, cfg);
        rc = rc == 0 ? c->run(cfg) : rc > 0 ? EXIT_OK : EXIT_INVALID;
        config_destroy(cfg);
        return rc;
    }
    fprintf(stderr, "projector: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return EXIT_INVALID;
}
