/* `projector rebuild`: requests, cancels and follows rebuilds of a projection.
 *
 * A request is a row of projector.rebuilds (with the watermarks of every partition at the
 * request in projector.rebuild_partitions) and a NOTIFY on channel projector_rebuild; the
 * running instances carry it out (rebuilder.c), so it works with any number of instances on
 * any number of machines. Only one rebuild of a projection is active at a time (a unique
 * partial index). A cancel is one transaction here: it puts the search aliases back on the live
 * generation's indices if a switch that did not commit moved them, marks the rebuild cancelled
 * and drops the partial generation (waiting for its batches in flight). */
#include "rebuild.h"

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "generation.h"
#include "kafka_conf.h"
#include "mapping.h"
#include "pg_exec.h"
#include "rebuild_status.h"
#include "schema.h"
#include "strbuf.h"
#include "xalloc.h"

typedef struct partition_mark {
    char *topic;
    int32_t partition;
    int64_t lo, hi; /* watermarks when the rebuild started */
} partition_mark_t;

typedef struct marks {
    partition_mark_t *p;
    size_t n;
} marks_t;

static void marks_free(marks_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->p[i].topic);
    free(m->p);
}

/* Reads every partition's watermarks of the mapping's topics. Returns 0 or -1 (errstr). */
static int read_marks(rd_kafka_t *rk, const mapping_t *m, marks_t *out, char *errstr, size_t errsz)
{
    for (size_t t = 0; t < mapping_topic_count(m); t++) {
        const char *topic = mapping_topic(m, t);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        rd_kafka_topic_destroy(rkt);
        if (err || md->topic_cnt != 1 || md->topics[0].err) {
            snprintf(errstr, errsz, "topic %s: %s", topic,
                     rd_kafka_err2str(err  ? err
                                      : md ? md->topics[0].err
                                           : err));
            if (md)
                rd_kafka_metadata_destroy(md);
            return -1;
        }
        for (int p = 0; p < md->topics[0].partition_cnt; p++) {
            partition_mark_t mk = {xstrdup(topic), md->topics[0].partitions[p].id, 0, 0};
            err = rd_kafka_query_watermark_offsets(rk, topic, mk.partition, &mk.lo, &mk.hi, 10000);
            if (err) {
                snprintf(errstr, errsz, "topic %s partition %d: %s", topic, mk.partition,
                         rd_kafka_err2str(err));
                free(mk.topic);
                rd_kafka_metadata_destroy(md);
                return -1;
            }
            out->p = xrealloc(out->p, (out->n + 1) * sizeof(*out->p));
            out->p[out->n++] = mk;
        }
        rd_kafka_metadata_destroy(md);
    }
    return 0;
}

/* Refuses when a topic no longer holds its earliest events, unless the mapping accepts it. */
static int check_complete(const mapping_t *m, const marks_t *mk, char *errstr, size_t errsz)
{
    for (size_t i = 0; i < mk->n; i++) {
        if (mk->p[i].lo == 0 || mapping_allows_partial_rebuild(m))
            continue;
        snprintf(errstr, errsz,
                 "refused: topic %s partition %d starts at offset %lld (older events were "
                 "deleted), so a rebuild would lose them; set \"allow_partial_rebuild\": true in "
                 "%s to rebuild from what is left",
                 mk->p[i].topic, mk->p[i].partition, (long long)mk->p[i].lo, mapping_file(m));
        return -1;
    }
    return 0;
}

/* Puts the message of the failed statement e into errstr; returns -1. */
static int failed(const pg_err_t *e, char *errstr, size_t errsz)
{
    snprintf(errstr, errsz, "%s", e->msg);
    return -1;
}

/* Opens a transaction on c. */
static void begin(PGconn *c)
{
    if (pg_exec(c, "BEGIN", 0, NULL, PG_SIMPLE, NULL, NULL) != 0) {
        /* then the first statement fails too, and says why */
    }
}

/* Ends the transaction begin() opened: commits it when rc is 0, else rolls it back. Returns rc,
 * or -1 with errstr when the COMMIT failed. */
static int end_transaction(PGconn *c, int rc, char *errstr, size_t errsz)
{
    if (pg_exec(c, rc == 0 ? "COMMIT" : "ROLLBACK", 0, NULL, PG_SIMPLE, NULL, NULL) != 0 &&
        rc == 0) {
        snprintf(errstr, errsz, "%s", PQerrorMessage(c));
        rc = -1;
    }
    return rc;
}

/* Names the active rebuild of projection in errstr (for a refusal). */
static void describe_active(PGconn *c, const char *projection, char *errstr, size_t errsz)
{
    rebuild_status_t st;
    char err[256];
    if (rebuild_status_read(c, NULL, 0, projection, &st, err, sizeof(err)) == 1 &&
        rebuild_status_active(&st))
        snprintf(errstr, errsz,
                 "refused: a rebuild of %s is already active (id %lld, %s, %s); cancel it with "
                 "'projector rebuild %s --cancel'",
                 projection, st.id, st.mode, rebuild_state_name(st.state), projection);
    else
        snprintf(errstr, errsz, "refused: a rebuild of %s is already active", projection);
    if (st.parts)
        rebuild_status_free(&st);
}

/* Inserts the watermarks of every partition in mk as rebuild idtext's partitions, in the open
 * transaction. Returns 0 or -1 (errstr). */
static int insert_partitions(PGconn *c, const char *idtext, const marks_t *mk, char *errstr,
                             size_t errsz)
{
    strbuf_t arr[4] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT};
    for (int a = 0; a < 4; a++)
        strbuf_puts(&arr[a], "{");
    for (size_t i = 0; i < mk->n; i++) {
        if (i)
            for (int a = 0; a < 4; a++)
                strbuf_puts(&arr[a], ",");
        strbuf_array_elem(&arr[0], mk->p[i].topic);
        strbuf_printf(&arr[1], "%d", mk->p[i].partition);
        strbuf_printf(&arr[2], "%lld", (long long)mk->p[i].lo);
        strbuf_printf(&arr[3], "%lld", (long long)mk->p[i].hi);
    }
    for (int a = 0; a < 4; a++)
        strbuf_puts(&arr[a], "}");
    const char *pp[] = {idtext, arr[0].data, arr[1].data, arr[2].data, arr[3].data};
    pg_err_t e;
    int rc = 0;
    if (pg_exec(c,
                "INSERT INTO projector.rebuild_partitions (rebuild_id, topic, partition,"
                " start_offset, target_offset) SELECT $1, * FROM"
                " unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[])",
                5, pp, 0, NULL, &e) != 0)
        rc = failed(&e, errstr, errsz);
    for (int a = 0; a < 4; a++)
        strbuf_free(&arr[a]);
    return rc;
}

/* Inserts the request and its partitions and notifies, in the open transaction. Returns 0, 2
 * when another rebuild is active (the transaction is then aborted), -1 on a failure. */
static int insert_request(PGconn *c, const mapping_t *m, const marks_t *mk, int in_place,
                          int keep_old, long long *id, char *errstr, size_t errsz)
{
    const char *name[] = {mapping_name(m)};
    PGresult *r = NULL;
    pg_err_t e;
    if (pg_exec(c,
                "SELECT coalesce((SELECT generation FROM projector.projections WHERE name = $1),"
                " 1), coalesce((SELECT max(generation) FROM projector.rebuilds"
                " WHERE projection = $1), 0)",
                1, name, 0, &r, &e) != 0)
        return failed(&e, errstr, errsz);
    int live = atoi(PQgetvalue(r, 0, 0)), highest = atoi(PQgetvalue(r, 0, 1));
    PQclear(r);
    char gen[16], old[16];
    snprintf(gen, sizeof(gen), "%d", in_place ? live : (live > highest ? live : highest) + 1);
    snprintf(old, sizeof(old), "%d", live);
    const char *params[] = {mapping_name(m), in_place ? "in-place" : "blue-green", gen, old,
                            keep_old ? "true" : "false"};
    if (pg_exec(c,
                "INSERT INTO projector.rebuilds (projection, mode, generation,"
                " old_generation, keep_old) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                5, params, 0, &r, &e) != 0) {
        snprintf(errstr, errsz, "%s", PQerrorMessage(c));
        return strcmp(e.sqlstate, "23505") == 0 ? 2 : -1; /* unique_violation: one is active */
    }
    *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    char idtext[24];
    snprintf(idtext, sizeof(idtext), "%lld", *id);
    PQclear(r);
    if (insert_partitions(c, idtext, mk, errstr, errsz) != 0)
        return -1;
    if (pg_exec(c, "SELECT pg_notify('projector_rebuild', $1)", 1, name, 0, NULL, &e) != 0)
        return failed(&e, errstr, errsz);
    return 0;
}

int rebuild_request(PGconn *c, rd_kafka_t *rk, const mapping_t *m, int in_place, int keep_old,
                    long long *id, char *errstr, size_t errstr_size)
{
    marks_t mk = {NULL, 0};
    int rc = read_marks(rk, m, &mk, errstr, errstr_size);
    if (rc == 0 && check_complete(m, &mk, errstr, errstr_size) != 0)
        rc = 2;
    if (rc == 0) {
        begin(c);
        rc = insert_request(c, m, &mk, in_place, keep_old, id, errstr, errstr_size);
        rc = end_transaction(c, rc, errstr, errstr_size);
        if (rc == 2)
            describe_active(c, mapping_name(m), errstr, errstr_size);
    }
    marks_free(&mk);
    return rc;
}

/* The cancel, in the open transaction. */
static int cancel_locked(PGconn *c, const config_t *cfg, const mapping_t *m, long long *id,
                         char *errstr, size_t errsz)
{
    const char *name[] = {mapping_name(m)};
    PGresult *r = NULL;
    pg_err_t e;
    if (pg_exec(c,
                "SELECT id, mode, state, generation FROM projector.rebuilds"
                " WHERE projection = $1 AND state IN " REBUILD_ACTIVE_SQL " FOR UPDATE",
                1, name, 0, &r, &e) != 0)
        return failed(&e, errstr, errsz);
    if (PQntuples(r) == 0 || rebuild_state_parse(PQgetvalue(r, 0, 2)) == REBUILD_SWITCHING) {
        snprintf(errstr, errsz, "%s",
                 PQntuples(r) ? "refused: the rebuild has switched already"
                              : "no rebuild of this projection is active");
        PQclear(r);
        return 2;
    }
    *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    int building = rebuild_state_parse(PQgetvalue(r, 0, 2)) == REBUILD_BUILDING &&
                   strcmp(PQgetvalue(r, 0, 1), "blue-green") == 0;
    int number = atoi(PQgetvalue(r, 0, 3));
    char idtext[24];
    snprintf(idtext, sizeof(idtext), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    /* A switch that moved the aliases and did not commit leaves them on this build's indices:
     * back to the live generation's first, so that the discard can delete them. */
    if (generation_reconcile_search(c, cfg, m, errstr, errsz) != 0)
        return -1;
    if (building && generation_discard(c, cfg, m, number, errstr, errsz) != 0)
        return -1;
    const char *params[] = {idtext, rebuild_state_name(REBUILD_CANCELLED)};
    if (pg_exec(c, "UPDATE projector.rebuilds SET state = $2, finished_at = now() WHERE id = $1", 2,
                params, 0, NULL, &e) != 0 ||
        pg_exec(c, "SELECT pg_notify('projector_rebuild', $1)", 1, name, 0, NULL, &e) != 0)
        return failed(&e, errstr, errsz);
    return 0;
}

int rebuild_cancel(PGconn *c, const config_t *cfg, const mapping_t *m, long long *id, char *errstr,
                   size_t errstr_size)
{
    begin(c);
    int rc = cancel_locked(c, cfg, m, id, errstr, errstr_size);
    return end_transaction(c, rc, errstr, errstr_size);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Follows rebuild id until it is over: a bar on a terminal, else a line every few seconds.
 * Returns the exit code: 0 when it completed, 1 when it was cancelled or failed. */
static int wait_progress(PGconn *c, rd_kafka_t *rk, long long id)
{
    int tty = isatty(STDOUT_FILENO);
    double t0 = now_s(), last_line = 0;
    long long first = -1, shown = -1; /* events replayed at the last line printed (piped) */
    rebuild_status_t st;
    char err[512];
    for (;;) {
        int found = rebuild_status_read(c, rk, id, NULL, &st, err, sizeof(err));
        if (found != 1) {
            fprintf(stderr, "projector rebuild: %s\n", found ? err : "the rebuild is gone");
            return 1;
        }
        double t = now_s();
        if (first < 0 && st.state != REBUILD_REQUESTED)
            first = st.replayed, t0 = t;
        double rate = first >= 0 && t > t0 + 0.5 ? (double)(st.replayed - first) / (t - t0) : -1;
        int active = rebuild_status_active(&st);
        if (tty) {
            printf("\r");
            rebuild_status_print_line(stdout, &st, rate, 1);
        } else if (!active ||
                   (t - last_line >= 3 && (st.replayed != shown || t - last_line >= 30))) {
            rebuild_status_print_line(stdout, &st, rate, 0); /* piped: a line when it moved */
            last_line = t;
            shown = st.replayed;
        }
        fflush(stdout);
        if (!active)
            break;
        rebuild_status_free(&st);
        usleep(tty ? 500000 : 1000000);
    }
    printf("%s", tty ? "\n" : "");
    int rc = 0;
    if (st.state == REBUILD_CANCELLED) {
        printf("rebuild %s: cancelled\n", st.projection);
        rc = 1;
    } else if (st.state == REBUILD_FAILED) {
        printf("rebuild %s: failed: %s\n", st.projection, st.error);
        rc = 1;
    } else if (strcmp(st.mode, "in-place") == 0) {
        printf("rebuild %s: caught up (%lld events replayed)\n", st.projection, st.total);
    } else {
        char old[192];
        generation_old_schema(old, sizeof(old), st.projection, st.old_generation);
        printf("rebuild %s: switched to generation %d (%lld events replayed); the old generation "
               "%s\n",
               st.projection, st.generation, st.replayed,
               st.keep_old ? "is kept in schema " : "was dropped");
        if (st.keep_old)
            printf("  %s\n", old);
    }
    rebuild_status_free(&st);
    return rc;
}

/* Without --wait: waits up to 10 s for an instance to take the request up, and says what
 * happened. Returns 0. */
static int report_pickup(PGconn *c, const mapping_t *m, long long id)
{
    rebuild_status_t st;
    char err[512];
    int found = 0;
    for (int i = 0; i < 100; i++) {
        found = rebuild_status_read(c, NULL, id, NULL, &st, err, sizeof(err));
        if (found != 1 || st.state != REBUILD_REQUESTED)
            break;
        rebuild_status_free(&st);
        found = 0;
        usleep(100000);
    }
    if (found != 1)
        printf("rebuild %s: requested (id %lld); no running instance has taken it up yet: the "
               "first 'projector run' of this projection will\n",
               mapping_name(m), id);
    else if (strcmp(st.mode, "in-place") == 0)
        printf("rebuild %s: tables truncated and positions reset; running instances replay from "
               "the earliest offsets\n",
               mapping_name(m));
    else
        printf("rebuild %s: %s generation %d beside the live one (id %lld); 'projector status' "
               "shows its progress\n",
               mapping_name(m), st.state == REBUILD_FAILED ? "failed to build" : "building",
               st.generation, id);
    if (found == 1)
        rebuild_status_free(&st);
    return 0;
}

int rebuild_run(const config_t *cfg, const rebuild_opts_t *o)
{
    char err[1024];
    PGconn *c = schema_connect(config_str(cfg, CFG_PG), err, sizeof(err));
    if (!c) {
        fprintf(stderr, "projector rebuild: %s\n", err);
        return 1;
    }
    int rc = 1;
    rd_kafka_t *rk = NULL;
    mapping_set_t *set = schema_prepare_mappings(cfg, c);
    const mapping_t *m = NULL;
    for (size_t i = 0; set && i < mapping_set_count(set); i++)
        if (strcmp(mapping_name(mapping_set_get(set, i)), o->projection) == 0)
            m = mapping_set_get(set, i);
    if (!set) {
        fprintf(stderr,
                "projector rebuild: the mappings in %s failed validation (above): nothing was "
                "requested (were the views applied? 'projector migrate')\n",
                config_str(cfg, CFG_MAPPINGS));
        rc = 2;
        goto done;
    }
    if (!m) {
        fprintf(stderr, "projector rebuild: no projection \"%s\" in %s\n", o->projection,
                config_str(cfg, CFG_MAPPINGS));
        rc = 2;
        goto done;
    }
    long long id = 0;
    if (o->cancel) {
        int r = rebuild_cancel(c, cfg, m, &id, err, sizeof(err));
        if (r == 0)
            printf("rebuild %s: cancelled (id %lld); the partial generation was dropped\n",
                   mapping_name(m), id);
        else
            fprintf(stderr, "projector rebuild: %s\n", err);
        rc = r == 0 ? 0 : r == 2 ? 2 : 1;
        goto done;
    }
    rd_kafka_conf_t *kc = kafka_conf_new(cfg, KAFKA_CONF_PRODUCER, NULL, NULL, err, sizeof(err));
    if (!kc || !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err)))) {
        if (kc)
            rd_kafka_conf_destroy(kc);
        fprintf(stderr, "projector rebuild: %s\n", err);
        goto done;
    }
    int r = rebuild_request(c, rk, m, o->in_place, o->keep_old, &id, err, sizeof(err));
    if (r != 0) {
        fprintf(stderr, "projector rebuild: %s\n", err);
        rc = r == 2 ? 2 : 1;
        goto done;
    }
    printf("rebuild %s: requested (id %lld, %s)\n", mapping_name(m), id,
           o->in_place ? "in place" : "blue/green");
    fflush(stdout);
    rc = o->wait ? wait_progress(c, rk, id) : report_pickup(c, m, id);
done:
    if (rk)
        rd_kafka_destroy(rk);
    mapping_set_destroy(set);
    PQfinish(c);
    return rc;
}
