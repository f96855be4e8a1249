/* `projector status`: every projection's generation, positions and lag, and its rebuild's
 * progress (events replayed / total, events/s since it started, time left, lag per partition
 * of the generation replaying). */
#include "cmd_status.h"

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errlist.h"
#include "kafka_conf.h"
#include "mapping.h"
#include "rebuild_status.h"
#include "schema.h"
#include "stall.h"

/* The instances consuming m (rows of projector.instances not expired: an expired one is of an
 * instance that crashed), as "instance, partitions" rows; NULL when the table cannot be read. */
static PGresult *read_instances(PGconn *c, const mapping_t *m)
{
    const char *params[] = {mapping_name(m)};
    PGresult *r = PQexecParams(c,
                               "SELECT instance, partitions FROM projector.instances WHERE"
                               " projection = $1 AND expires_at > now() ORDER BY 1",
                               1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    PQclear(r);
    return NULL;
}

/* Prints the live generation of m, its state, the instances consuming it and its partitions
 * (with their lag when rk, else "unknown"). Returns 0 or -1 (printed). */
static int print_live(PGconn *c, rd_kafka_t *rk, const mapping_t *m)
{
    const char *params[] = {mapping_name(m)};
    PGresult *r = PQexecParams(
        c,
        "SELECT coalesce((SELECT generation FROM projector.projections WHERE name = $1), 1),"
        " coalesce((SELECT paused FROM projector.projections WHERE name = $1), false)",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "projector status: %s", PQerrorMessage(c));
        PQclear(r);
        return -1;
    }
    stall_t st;
    int stalled = stall_find(c, mapping_name(m), NULL, &st);
    PGresult *in = read_instances(c, m);
    int consumers = in ? PQntuples(in) : -1;
    printf("projection %s: generation %s, %s\n", mapping_name(m), PQgetvalue(r, 0, 0),
           strcmp(PQgetvalue(r, 0, 1), "t") == 0 ? "paused"
           : stalled                             ? "stalled"
           : consumers == 0                      ? "no instance consuming"
                                                 : "live");
    PQclear(r);
    for (int i = 0; i < consumers; i++)
        printf("  consumed by %s: %s\n", PQgetvalue(in, i, 0),
               *PQgetvalue(in, i, 1) ? PQgetvalue(in, i, 1) : "no partition assigned yet");
    PQclear(in);
    if (stalled)
        printf("  stalled: %s (%s since %s, instance %s)\n", st.reason, stats_stall_name(st.cause),
               st.since, st.instance);
    r = PQexecParams(c,
                     "SELECT topic, partition, next_offset, applied, skipped, dead_lettered FROM"
                     " projector.positions WHERE projection = $1 ORDER BY 1, 2",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "projector status: %s", PQerrorMessage(c));
        PQclear(r);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        long long next = PQgetisnull(r, i, 2) ? -1 : strtoll(PQgetvalue(r, i, 2), NULL, 10);
        int64_t lo = 0, hi = 0;
        int known = rk && !rd_kafka_query_watermark_offsets(
                              rk, PQgetvalue(r, i, 0), atoi(PQgetvalue(r, i, 1)), &lo, &hi, 2000);
        long long at = next < 0 ? lo : next;
        printf("  %s/%s: next %s, lag ", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               next < 0 ? "-" : PQgetvalue(r, i, 2));
        if (known)
            printf("%lld", hi > at ? (long long)hi - at : 0);
        else
            printf("unknown");
        printf(", applied %s, skipped %s, dead-lettered %s\n", PQgetvalue(r, i, 3),
               PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    }
    PQclear(r);
    return 0;
}

/* Prints the latest rebuild of m, if any. Returns 0 or -1 (printed). */
static int print_rebuild(PGconn *c, rd_kafka_t *rk, const mapping_t *m)
{
    rebuild_status_t st;
    char err[512];
    int found = rebuild_status_read(c, rk, 0, mapping_name(m), &st, err, sizeof(err));
    if (found < 0) {
        fprintf(stderr, "projector status: %s\n", err);
        return -1;
    }
    if (!found) {
        printf("  no rebuild\n");
        return 0;
    }
    double rate =
        st.seconds > 0 && st.state != REBUILD_REQUESTED ? (double)st.replayed / st.seconds : -1;
    printf("  %s (id %lld): ", rebuild_status_active(&st) ? "rebuilding" : "last rebuild", st.id);
    rebuild_status_print_line(stdout, &st, rate, 0);
    if (rebuild_status_active(&st))
        rebuild_status_print_parts(stdout, &st);
    rebuild_status_free(&st);
    return 0;
}

/* Prints the status of every projection of the mappings directory, read from the database and
 * the brokers of cfg. Returns an exit code: 0, 1 when the database cannot be read, 2 for invalid
 * mappings. */
static int show_status(const config_t *cfg)
{
    char err[1024];
    PGconn *c = schema_connect(config_str(cfg, CFG_PG), err, sizeof(err));
    if (!c) {
        fprintf(stderr, "projector status: %s\n", err);
        return 1;
    }
    int rc = 1;
    rd_kafka_t *rk = NULL;
    /* names and topics only: not bound to the database, so a table that drifted from its
     * mapping (the projection is stalled) does not keep its status from being shown */
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(config_str(cfg, CFG_MAPPINGS), errs);
    if (errlist_count(errs))
        errlist_print(errs, stderr);
    errlist_destroy(errs);
    if (!set) {
        rc = 2;
        goto done;
    }
    /* librdkafka's own connection errors would repeat what the one check below says */
    static const kafka_prop_t quiet[] = {{"log_level", "2"}, {NULL, NULL}};
    rd_kafka_conf_t *kc = kafka_conf_new(cfg, KAFKA_CONF_PRODUCER, quiet, NULL, err, sizeof(err));
    if (!kc || !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err)))) {
        if (kc)
            rd_kafka_conf_destroy(kc);
        fprintf(stderr, "projector status: %s\n", err);
        goto done;
    }
    /* brokers that do not answer: one short check, then no lag instead of a timeout each */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 0, NULL, &md, 3000);
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_t *lag_rk = merr ? NULL : rk;
    rc = 0;
    for (size_t i = 0; rc == 0 && i < mapping_set_count(set); i++) {
        const mapping_t *m = mapping_set_get(set, i);
        if (print_live(c, lag_rk, m) != 0 || print_rebuild(c, lag_rk, m) != 0)
            rc = 1;
    }
    if (merr) {
        fprintf(stderr,
                "projector status: the brokers at %s do not answer (%s): lags are unknown; give "
                "the cluster with --brokers (PROJECTOR_BROKERS)\n",
                config_str(cfg, CFG_BROKERS), rd_kafka_err2str(merr));
        rc = 1;
    }
done:
    if (rk)
        rd_kafka_destroy(rk);
    mapping_set_destroy(set);
    PQfinish(c);
    return rc;
}

int cmd_status_main(const cmd_args_command_t *c, int argc, char **argv)
{
    return cmd_args_run_plain(c, argc, argv, show_status);
}
