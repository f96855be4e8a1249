/* `projector broker`: librdkafka's mock Kafka cluster, for development, demos and tests.
 *
 * Prints the bootstrap servers as the first line of stdout. Reads optional fault-injection
 * commands on stdin, one per line:
 *   down [BROKER]        disconnect a broker (all when omitted) and refuse connections
 *   up [BROKER]          accept connections again
 *   rtt MS [BROKER]      delay every response
 *   leader TOPIC PARTITION BROKER   move a partition's leadership
 *   error APIKEY COUNT CODE         fail the next COUNT requests of a kind (0 Produce, 1 Fetch,
 *                                   8 OffsetCommit, ...) with a Kafka error code
 *   clear-errors APIKEY             forget the errors still pending for a kind
 * The mock keeps only the last ~5 MiB or 100,000 messages of each partition, in memory. */
#include "broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: projector broker [--partitions N] [--topic NAME[:PARTITIONS]]... "
            "[--brokers-count N]\n\n"
            "Runs librdkafka's in-memory mock Kafka cluster on loopback and prints its bootstrap\n"
            "servers as the first line of stdout; runs until SIGINT/SIGTERM. Each topic named is\n"
            "created with N partitions (default 4); other topics are created on first use.\n"
            "Each partition keeps only its last ~5 MiB or 100,000 messages: use enough\n"
            "partitions for large workloads. For development, demos and tests only.\n\n"
            "Commands on stdin (fault injection): down [BROKER], up [BROKER], rtt MS [BROKER],\n"
            "leader TOPIC PARTITION BROKER, error APIKEY COUNT CODE (the next COUNT requests of\n"
            "that kind fail with that Kafka error code), clear-errors APIKEY.\n");
}

static void run_command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char *argv[4] = {0};
    int argc = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && argc < 4; tok = strtok(NULL, " \t\r\n"))
        argv[argc++] = tok;
    if (!argc)
        return;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    int32_t broker = -1;
    if (strcmp(argv[0], "down") == 0 || strcmp(argv[0], "up") == 0) {
        if (argc > 1)
            broker = atoi(argv[1]);
        err = argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(mc, broker)
                                : rd_kafka_mock_broker_set_up(mc, broker);
    } else if (strcmp(argv[0], "rtt") == 0 && argc >= 2) {
        if (argc > 2)
            broker = atoi(argv[2]);
        err = rd_kafka_mock_broker_set_rtt(mc, broker, atoi(argv[1]));
    } else if (strcmp(argv[0], "leader") == 0 && argc == 4) {
        err = rd_kafka_mock_partition_set_leader(mc, argv[1], atoi(argv[2]), atoi(argv[3]));
    } else if (strcmp(argv[0], "error") == 0 && argc == 4 && atoi(argv[2]) > 0) {
        size_t cnt = (size_t)atoi(argv[2]);
        rd_kafka_resp_err_t *errs = xcalloc(cnt, sizeof(*errs));
        for (size_t i = 0; i < cnt; i++)
            errs[i] = (rd_kafka_resp_err_t)atoi(argv[3]);
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(argv[1]), cnt, errs);
        free(errs);
    } else if (strcmp(argv[0], "clear-errors") == 0 && argc == 2) {
        rd_kafka_mock_clear_request_errors(mc, (int16_t)atoi(argv[1]));
    } else {
        fprintf(stderr, "projector broker: unknown command \"%s\"\n", argv[0]);
        return;
    }
    fprintf(stderr, "projector broker: %s: %s\n", argv[0], rd_kafka_err2str(err));
}

/* Serves stdin commands until SIGINT/SIGTERM. */
static void serve(rd_kafka_mock_cluster_t *mc, const sigset_t *signals)
{
    int stdin_open = 1;
    char line[512];
    size_t len = 0;
    for (;;) {
        struct timespec zero = {0, 0};
        if (sigtimedwait(signals, NULL, &zero) > 0)
            return;
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        if (!stdin_open || poll(&pfd, 1, 200) <= 0) {
            if (!stdin_open)
                usleep(200000);
            continue;
        }
        ssize_t n = read(STDIN_FILENO, line + len, sizeof(line) - 1 - len);
        if (n <= 0) {
            stdin_open = 0;
            continue;
        }
        len += (size_t)n;
        line[len] = '\0';
        char *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            run_command(mc, line);
            memmove(line, nl + 1, len - (size_t)(nl + 1 - line) + 1);
            len -= (size_t)(nl + 1 - line);
        }
        if (len == sizeof(line) - 1)
            len = 0; /* an over-long line is dropped */
    }
}

int broker_main(int argc, char **argv)
{
    int partitions = 4, nbrokers = 1;
    const char *topics[64];
    int ntopics = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--partitions") == 0 && i + 1 < argc) {
            partitions = atoi(argv[++i]);
        } else if (strcmp(a, "--brokers-count") == 0 && i + 1 < argc) {
            nbrokers = atoi(argv[++i]);
        } else if (strcmp(a, "--topic") == 0 && i + 1 < argc && ntopics < 64) {
            topics[ntopics++] = argv[++i];
        } else {
            fprintf(stderr, "projector broker: unknown or incomplete option \"%s\"\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (partitions < 1 || partitions > 10000 || nbrokers < 1 || nbrokers > 16) {
        fprintf(stderr, "projector broker: --partitions takes 1..10000, --brokers-count 1..16\n");
        return 2;
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "projector broker: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        fprintf(stderr, "projector broker: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        char name[256];
        snprintf(name, sizeof(name), "%s", topics[i]);
        char *colon = strchr(name, ':');
        int n = partitions;
        if (colon) {
            *colon = '\0';
            n = atoi(colon + 1);
        }
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, n, 1);
        if (e)
            fprintf(stderr, "projector broker: topic %s: %s\n", name, rd_kafka_err2str(e));
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    serve(mc, &signals);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
