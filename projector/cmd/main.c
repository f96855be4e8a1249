/* Command line: finds the command and dispatches; each command reads its own arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_args.h"
#include "cmd_broker.h"
#include "cmd_check.h"
#include "cmd_dlq.h"
#include "cmd_rebuild.h"
#include "cmd_run.h"
#include "cmd_status.h"
#include "cmd_test.h"
#include "config.h"
#include "json_alloc.h"
#include "service.h"
#include "version.h"

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

/* The commands: name, what runs it (with the arguments after its name), summary, settings read. */
static const cmd_args_command_t commands[] = {
    {"run", cmd_run_main, "join the consumer group and project events until SIGINT/SIGTERM", NULL},
    {"serve", cmd_run_serve_main,
     "serve the HTTP API (read models, status, metrics) without consuming", reads_serve},
    {"migrate", cmd_run_migrate_main,
     "apply the views directory's .sql files to the database (idempotent)", reads_migrate},
    {"check", cmd_check_main, "validate settings, mappings and views; exit 2 listing problems",
     NULL},
    {"rebuild", cmd_rebuild_main, "recompute a projection from its topics' earliest events",
     reads_rebuild},
    {"status", cmd_status_main, "show each projection's generation, lag and rebuild progress",
     reads_status},
    {"dlq", cmd_dlq_main, "dead letters: list, show, replay after a mapping fix, discard",
     reads_dlq},
    {"test", cmd_test_main,
     "run mapping test cases (events in, rows, documents, dead letters expected), no Kafka",
     reads_test},
    {"broker", cmd_broker_main, "run the embedded Kafka-protocol broker (development and tests)",
     NULL},
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

int main(int argc, char **argv)
{
    json_alloc_install(); /* before any JSON value exists */
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
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(&commands[i], argc - 2, argv + 2);
    fprintf(stderr, "projector: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return EXIT_INVALID;
}
