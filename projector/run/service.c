/* The run, migrate and check commands: settings and mappings in, projections running. */
#include "service.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "check_schemas.h"
#include "consumer.h"
#include "decode.h"
#include "errlist.h"
#include "es_client.h"
#include "generation.h"
#include "http_api.h"
#include "kafka_conf.h"
#include "log.h"
#include "mapping.h"
#include "rebuilder.h"
#include "registry.h"
#include "schema.h"
#include "sink_es.h"
#include "xalloc.h"

static atomic_int stop_requested;

typedef struct worker {
    pthread_t thread;
    consumer_t *consumer;
    int rc;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    w->rc = consumer_run(w->consumer, &stop_requested);
    return NULL;
}

/* Waits *backoff_ms, or less when one of signals arrives (returns 1: stop); then grows
 * *backoff_ms up to retry.backoff.max.ms and returns 0. */
static int back_off(const config_t *cfg, const sigset_t *signals, long *backoff_ms)
{
    struct timespec ts = {*backoff_ms / 1000, (*backoff_ms % 1000) * 1000000L};
    if (sigtimedwait(signals, NULL, &ts) > 0)
        return 1;
    *backoff_ms = backoff_next(*backoff_ms, (long)config_int(cfg, CFG_RETRY_BACKOFF_MAX_MS));
    return 0;
}

/* Connects, retrying while the database is unreachable or not accepting connections yet (a
 * service may start before it). Returns the connection, or NULL with *refused set when the
 * server refused it for good (no such database, authentication, privilege: logged as an
 * error), or NULL when a stop was requested. */
static PGconn *connect_waiting(const config_t *cfg, const sigset_t *signals, int *refused)
{
    long backoff = 200;
    *refused = 0;
    for (;;) {
        char err[1024];
        PGconn *c = schema_connect(config_str(cfg, CFG_PG), err, sizeof(err));
        if (c)
            return c;
        if ((*refused = schema_connect_refused(err))) {
            LOG(LOG_ERROR, "%s (not retried: the server refused the connection)", err);
            return NULL;
        }
        LOG(LOG_WARN, "%s; retrying in %ld ms", err, backoff);
        if (back_off(cfg, signals, &backoff))
            return NULL;
    }
}

/* Creates the search indices m writes, then (in a transaction on conn) points their aliases at
 * the live generation's indices again if a switch that did not commit moved them. Returns as
 * sink_es_migrate(); -1 also when the database failed. */
static int prepare_indices(const config_t *cfg, PGconn *conn, const mapping_t *m, char *err,
                           size_t errsz)
{
    int rc = sink_es_migrate(cfg, m, err, errsz);
    if (rc != 0 || !mapping_index_count(m))
        return rc;
    if (PQstatus(conn) != CONNECTION_OK)
        PQreset(conn);
    PQclear(PQexec(conn, "BEGIN"));
    rc = generation_reconcile_search(conn, cfg, m, err, errsz);
    PGresult *r = PQexec(conn, rc == 0 ? "COMMIT" : "ROLLBACK");
    if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(err, errsz, "%s", PQerrorMessage(conn));
        rc = -1;
    }
    PQclear(r);
    return rc;
}

/* Creates the search indices the mappings write (aliases over indices from views/<alias>.es.json)
 * and reconciles their aliases with the live generations (prepare_indices()). With signals (a
 * service starting), waits out an unreachable cluster or database, retrying; without, fails at
 * once. Returns 0, 1 (stop requested), -1 (the cluster failed) or -2 (the setup is wrong);
 * failures are logged. */
static int migrate_indices(const config_t *cfg, PGconn *conn, const mapping_set_t *set,
                           const sigset_t *signals)
{
    for (size_t i = 0; i < mapping_set_count(set); i++) {
        const mapping_t *m = mapping_set_get(set, i);
        long backoff = 200;
        char err[1024];
        int rc;
        while ((rc = prepare_indices(cfg, conn, m, err, sizeof(err))) == -1 && signals) {
            LOG(LOG_WARN,
                "projection=%s search engine error while setting up its indices: %s; retrying "
                "in %ld ms",
                mapping_name(m), err, backoff);
            if (back_off(cfg, signals, &backoff))
                return 1;
        }
        if (rc != 0) {
            LOG(LOG_ERROR, "projection=%s search indices: %s", mapping_name(m), err);
            return rc;
        }
    }
    return 0;
}

static int run_workers(const config_t *cfg, mapping_set_t *set, stats_t *const *stats,
                       const sigset_t *signals)
{
    size_t n = mapping_set_count(set);
    worker_t *w = xcalloc(n, sizeof(*w));
    int rc = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        char err[512];
        generation_t live;
        generation_live(&live, cfg, mapping_set_get(set, i));
        w[i].consumer =
            consumer_new(cfg, mapping_set_get(set, i), &live, stats[i], err, sizeof(err));
        if (!w[i].consumer) {
            LOG(LOG_ERROR, "projection=%s cannot start: %s", mapping_name(mapping_set_get(set, i)),
                err);
            rc = EXIT_INVALID;
        }
    }
    size_t started = 0;
    for (size_t i = 0; rc == EXIT_OK && i < n; i++, started++)
        pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
    char err[512];
    rebuilder_t *rb = rc == EXIT_OK ? rebuilder_start(cfg, set, err, sizeof(err)) : NULL;
    if (rc == EXIT_OK && !rb) {
        LOG(LOG_ERROR, "cannot start the rebuilder: %s", err);
        rc = EXIT_FAILURE_RUNTIME;
    }
    if (rc == EXIT_OK) {
        int sig = 0;
        sigwait(signals, &sig);
        LOG(LOG_INFO, "received %s; finishing the batches in hand", strsignal(sig));
    }
    stop_requested = 1;
    rebuilder_stop(rb);
    for (size_t i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        if (w[i].rc != 0)
            rc = EXIT_FAILURE_RUNTIME;
    }
    for (size_t i = 0; i < n; i++)
        consumer_destroy(w[i].consumer);
    free(w);
    return rc;
}

int service_run(const config_t *cfg)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL); /* threads inherit it; main waits for them */

    int refused;
    PGconn *conn = connect_waiting(cfg, &signals, &refused);
    if (!conn)
        return refused ? EXIT_FAILURE_RUNTIME : EXIT_OK;
    char err[1024];
    if (schema_migrate(conn, config_str(cfg, CFG_VIEWS), err, sizeof(err)) != 0) {
        LOG(LOG_ERROR, "migrate: %s", err);
        PQfinish(conn);
        return EXIT_INVALID;
    }
    mapping_set_t *set = schema_prepare_mappings(cfg, conn);
    int ix = set ? migrate_indices(cfg, conn, set, &signals) : 0;
    PQfinish(conn);
    if (!set)
        return EXIT_INVALID;
    if (ix != 0) {
        mapping_set_destroy(set);
        return ix > 0 ? EXIT_OK : EXIT_INVALID;
    }
    size_t n = mapping_set_count(set);
    stats_t **stats = xcalloc(n + 1, sizeof(*stats));
    for (size_t i = 0; i < n; i++)
        stats[i] = stats_new(mapping_name(mapping_set_get(set, i)));
    http_api_t *api = NULL;
    int rc = EXIT_INVALID;
    if (*config_str(cfg, CFG_HTTP_LISTEN) &&
        !(api = http_api_start(cfg, set, stats, n, err, sizeof(err))))
        LOG(LOG_ERROR, "%s", err);
    else
        rc = EXIT_OK;
    LOG(LOG_INFO, "projector %s running %zu projection(s)", PROJECTOR_VERSION,
        mapping_set_count(set));
    if (rc == EXIT_OK)
        rc = run_workers(cfg, set, stats, &signals);
    http_api_stop(api);
    for (size_t i = 0; i < n; i++)
        stats_destroy(stats[i]);
    free(stats);
    mapping_set_destroy(set);
    LOG(LOG_INFO, "stopped");
    return rc;
}

int service_serve(const config_t *cfg)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    int refused;
    PGconn *conn = connect_waiting(cfg, &signals, &refused);
    if (!conn)
        return refused ? EXIT_FAILURE_RUNTIME : EXIT_OK;
    mapping_set_t *set = schema_prepare_mappings(cfg, conn);
    PQfinish(conn);
    if (!set)
        return EXIT_INVALID;
    char err[1024];
    http_api_t *api = *config_str(cfg, CFG_HTTP_LISTEN)
                          ? http_api_start(cfg, set, NULL, 0, err, sizeof(err))
                          : NULL;
    if (!api) {
        LOG(LOG_ERROR, "%s", *config_str(cfg, CFG_HTTP_LISTEN) ? err : "http.listen is empty");
        mapping_set_destroy(set);
        return EXIT_INVALID;
    }
    int sig = 0;
    sigwait(&signals, &sig);
    LOG(LOG_INFO, "received %s; stopping the HTTP API", strsignal(sig));
    http_api_stop(api);
    mapping_set_destroy(set);
    return EXIT_OK;
}

int service_migrate(const config_t *cfg)
{
    char err[1024];
    PGconn *conn = schema_connect(config_str(cfg, CFG_PG), err, sizeof(err));
    if (!conn) {
        fprintf(stderr, "projector migrate: %s\n", err);
        return EXIT_FAILURE_RUNTIME;
    }
    int rc = schema_migrate(conn, config_str(cfg, CFG_VIEWS), err, sizeof(err));
    if (rc != 0) {
        PQfinish(conn);
        fprintf(stderr, "projector migrate: %s\n", err);
        return EXIT_INVALID;
    }
    printf("views applied from %s\n", config_str(cfg, CFG_VIEWS));
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(config_str(cfg, CFG_MAPPINGS), errs);
    errlist_print(errs, stderr);
    errlist_destroy(errs);
    if (!set) {
        PQfinish(conn);
        return EXIT_INVALID;
    }
    size_t indices = 0;
    for (size_t i = 0; i < mapping_set_count(set); i++)
        indices += mapping_index_count(mapping_set_get(set, i));
    rc = migrate_indices(cfg, conn, set, NULL);
    PQfinish(conn);
    mapping_set_destroy(set);
    if (rc != 0)
        return rc == -2 ? EXIT_INVALID : EXIT_FAILURE_RUNTIME;
    if (indices)
        printf("search indices ready at %s\n", config_str(cfg, CFG_ES_URL));
    return EXIT_OK;
}

/* Checks views and mappings inside a transaction that is rolled back: nothing changes. */
static void check_against_database(const config_t *cfg, PGconn *conn, mapping_set_t *set,
                                   errlist_t *errs)
{
    char err[1024];
    PQclear(PQexec(conn, "BEGIN"));
    if (schema_apply_views(conn, config_str(cfg, CFG_VIEWS), 0, err, sizeof(err)) != 0) {
        errlist_add(errs, "views", NULL, "%s", err);
    } else if (set) {
        schema_t *schema = schema_load(conn, err, sizeof(err));
        if (schema)
            schema_check_mappings(conn, schema, set, errs);
        else
            errlist_add(errs, "database", NULL, "%s", err);
        schema_destroy(schema);
    }
    PQclear(PQexec(conn, "ROLLBACK"));
}

/* The search side of a mapping, without contacting the cluster: a URL, and each index's
 * definition file. */
static void check_indices(const config_t *cfg, const mapping_t *m, errlist_t *errs)
{
    if (mapping_index_count(m) && !*config_str(cfg, CFG_ES_URL))
        errlist_add(errs, mapping_file(m), NULL,
                    "writes documents (index %s) but no Elasticsearch URL is set: --es-url "
                    "(PROJECTOR_ES_URL, config key es.url)",
                    mapping_index(m, 0));
    for (size_t i = 0; i < mapping_index_count(m); i++) {
        char *def = NULL, err[1024];
        if (sink_es_definition(cfg, m, mapping_index(m, i), &def, err, sizeof(err)) != 0)
            errlist_add(errs, "views", NULL, "%s", err);
        free(def);
    }
}

/* The mapping's format can run with these settings (a registry format needs registry.url). */
static void check_format(const config_t *cfg, const mapping_t *m, errlist_t *errs)
{
    char err[512];
    const event_decoder_t *d = event_decoder_find(mapping_format(m));
    if (d && event_decoder_check(d, cfg, err, sizeof(err)) != 0)
        errlist_add(errs, mapping_file(m), "$.format", "%s", err);
}

/* The settings as run and serve validate them at start, without contacting anything. */
static void check_settings(const config_t *cfg, errlist_t *errs)
{
    char err[1024];
    rd_kafka_conf_t *kc = kafka_conf_new(cfg, KAFKA_CONF_ANY, NULL, NULL, err, sizeof(err));
    if (!kc)
        errlist_add(errs, "config", NULL, "%s", err);
    else
        rd_kafka_conf_destroy(kc);
    es_settings_t es = sink_es_settings(cfg);
    es_client_t *client = es.url ? es_client_new(&es, err, sizeof(err)) : NULL;
    if (es.url && !client)
        errlist_add(errs, "config", NULL, "es.url: %s", err);
    es_client_destroy(client);
}

/* For mappings whose versions come from the registry: the fields the upcasters read, against
 * the schemas of their versions (check_schemas.h). Returns 0, or 1 when they could not be
 * checked, errstr saying why. */
static int check_upcast_fields(const config_t *cfg, const mapping_set_t *set, errlist_t *errs,
                               char *errstr, size_t errstr_size)
{
    char why[400];
    if (!*config_str(cfg, CFG_REGISTRY_URL)) { /* the mapping's $.format says so too */
        snprintf(errstr, errstr_size, "no registry URL is set (--registry-url)");
        return 1;
    }
    registry_configure(cfg);
    if (check_schemas(set, errs, stderr, why, sizeof(why)) == 0)
        return 0;
    snprintf(errstr, errstr_size, "the schema registry at %.200s did not answer: %s",
             config_str(cfg, CFG_REGISTRY_URL), why);
    return 1;
}

int service_check(const config_t *cfg, const service_check_opts_t *o)
{
    errlist_t *errs = errlist_new();
    char err[1024];
    check_settings(cfg, errs);
    mapping_set_t *set = mapping_set_load(config_str(cfg, CFG_MAPPINGS), errs);
    for (size_t i = 0; set && i < mapping_set_count(set); i++) {
        check_indices(cfg, mapping_set_get(set, i), errs);
        check_format(cfg, mapping_set_get(set, i), errs);
    }
    PGconn *conn = o->offline ? NULL : schema_connect(config_str(cfg, CFG_PG), err, sizeof(err));
    if (conn) {
        check_against_database(cfg, conn, set, errs);
        PQfinish(conn);
    }
    int schemas = check_schemas_wanted(set);
    char rerr[700] = "";
    int unchecked =
        schemas && !o->offline && check_upcast_fields(cfg, set, errs, rerr, sizeof(rerr));
    int rc = errlist_count(errs) ? EXIT_INVALID : EXIT_OK;
    errlist_print(errs, stderr);
    if (unchecked) {
        fprintf(stderr,
                "projector check: the fields the upcasters read were not checked against the "
                "schemas of their versions: %s\n",
                rerr);
        rc = rc == EXIT_OK ? EXIT_FAILURE_RUNTIME : rc;
    }
    if (!o->offline && !conn) {
        fprintf(stderr,
                "projector check: %s\n(the views and mappings are checked against the database;"
                " --offline checks the files and settings alone)\n",
                err);
        rc = rc == EXIT_OK ? EXIT_FAILURE_RUNTIME : rc;
    }
    if (rc == EXIT_OK)
        printf("ok: %zu projection(s) in %s, views in %s: %s\n", set ? mapping_set_count(set) : 0,
               config_str(cfg, CFG_MAPPINGS), config_str(cfg, CFG_VIEWS),
               o->offline ? "files and settings checked (--offline: not against a database)"
                          : "settings, files, and tables, columns and statements against the "
                            "database checked");
    if (rc == EXIT_OK && schemas)
        printf("%s\n", o->offline ? "the fields the upcasters read were not checked against the "
                                    "Schema Registry's schemas (--offline)"
                                  : "the fields the upcasters read checked against the Schema "
                                    "Registry's schemas of their versions");
    mapping_set_destroy(set);
    errlist_destroy(errs);
    return rc;
}
