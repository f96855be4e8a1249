/* `projector rebuild`: recompute a projection's read tables from the start of its topics.
 *
 * In place: one transaction locks the projection's positions (waiting for batches in flight),
 * truncates the tables its mapping writes, resets the positions and drops its dead letters.
 * Running workers then find their expected positions gone (the optimistic check, or their idle
 * check) and replay from the earliest offsets; the consumer group's committed offsets follow as
 * they commit. Readers see the tables refill. */
#include "rebuild.h"

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka_conf.h"
#include "mapping.h"
#include "schema.h"
#include "service.h"
#include "sink_es.h"
#include "strbuf.h"

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
            partition_mark_t mk = {strdup(topic), md->topics[0].partitions[p].id, 0, 0};
            err = rd_kafka_query_watermark_offsets(rk, topic, mk.partition, &mk.lo, &mk.hi, 10000);
            if (err) {
                snprintf(errstr, errsz, "topic %s partition %d: %s", topic, mk.partition,
                         rd_kafka_err2str(err));
                free(mk.topic);
                rd_kafka_metadata_destroy(md);
                return -1;
            }
            out->p = realloc(out->p, (out->n + 1) * sizeof(*out->p));
            if (!out->p)
                abort();
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

/* Truncates the tables, recreates the search indices and resets the positions, in one
 * transaction: the indices are replaced once the position lock and the tables' locks are held,
 * so no batch of the old generation writes documents after that. */
static int reset_in_place(PGconn *c, const config_t *cfg, const mapping_t *m, char *errstr,
                          size_t errsz)
{
    strbuf_t sql = STRBUF_INIT;
    strbuf_puts(&sql, "BEGIN; SELECT 1 FROM projector.positions WHERE projection = ");
    char *lit = PQescapeLiteral(c, mapping_name(m), strlen(mapping_name(m)));
    strbuf_printf(&sql, "%s FOR UPDATE; TRUNCATE", lit);
    int first = 1;
    for (size_t i = 0; i < mapping_action_count(m); i++) {
        const mapping_action_info_t *a = mapping_action_info(mapping_action(m, i));
        int seen = 0;
        for (size_t k = 0; k < i && a->kind != MAPPING_SQL; k++) {
            const mapping_action_info_t *b = mapping_action_info(mapping_action(m, k));
            seen |= b->kind != MAPPING_SQL && strcmp(a->table, b->table) == 0;
        }
        if (a->kind == MAPPING_SQL || seen)
            continue;
        char *ident = PQescapeIdentifier(c, a->table, strlen(a->table));
        strbuf_printf(&sql, "%s %s", first ? "" : ",", ident);
        PQfreemem(ident);
        first = 0;
    }
    PGresult *r = first ? NULL : PQexec(c, sql.data);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(errstr, errsz, "%s", first ? "the mapping writes no table" : PQerrorMessage(c));
    PQclear(r);
    if (ok && sink_es_recreate(cfg, m, errstr, errsz) != 0)
        ok = 0;
    strbuf_reset(&sql);
    strbuf_printf(&sql,
                  "UPDATE projector.positions SET next_offset = NULL, applied = 0, skipped = 0,"
                  " dead_lettered = 0, updated_at = now() WHERE projection = %s;"
                  " DELETE FROM projector.dead_letters WHERE projection = %s; COMMIT",
                  lit, lit);
    PQfreemem(lit);
    r = ok ? PQexec(c, sql.data) : NULL;
    if (ok && PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(errstr, errsz, "%s", PQerrorMessage(c));
        ok = 0;
    }
    PQclear(r);
    if (!ok)
        PQclear(PQexec(c, "ROLLBACK"));
    strbuf_free(&sql);
    return ok ? 0 : -1;
}

/* The in-place rebuild once the watermarks are known: 0, 2 (refused) or -1. */
static int rebuild_marked(PGconn *c, const config_t *cfg, const mapping_t *m, const marks_t *mk,
                          char *errstr, size_t errstr_size)
{
    if (check_complete(m, mk, errstr, errstr_size) != 0)
        return 2;
    return reset_in_place(c, cfg, m, errstr, errstr_size);
}

int rebuild_in_place(PGconn *c, rd_kafka_t *rk, const config_t *cfg, const mapping_t *m,
                     char *errstr, size_t errstr_size)
{
    marks_t mk = {NULL, 0};
    int rc = read_marks(rk, m, &mk, errstr, errstr_size) == 0
                 ? rebuild_marked(c, cfg, m, &mk, errstr, errstr_size)
                 : -1;
    marks_free(&mk);
    return rc;
}

/* Sum of the stored next offsets (0 for none) over the marked partitions, and whether every
 * partition reached its high watermark of the start. */
static long long replayed(PGconn *c, const mapping_t *m, const marks_t *mk, int *done)
{
    const char *params[] = {mapping_name(m)};
    PGresult *r = PQexecParams(c,
                               "SELECT topic, partition, coalesce(next_offset, 0) FROM"
                               " projector.positions WHERE projection = $1",
                               1, NULL, params, NULL, NULL, 0);
    long long sum = 0;
    *done = PQresultStatus(r) == PGRES_TUPLES_OK;
    for (size_t i = 0; i < mk->n; i++) {
        long long next = 0;
        for (int k = 0; *done && k < PQntuples(r); k++)
            if (strcmp(PQgetvalue(r, k, 0), mk->p[i].topic) == 0 &&
                atoi(PQgetvalue(r, k, 1)) == mk->p[i].partition)
                next = strtoll(PQgetvalue(r, k, 2), NULL, 10);
        long long from = mk->p[i].lo, upto = mk->p[i].hi;
        sum += next > from ? (next > upto ? upto : next) - from : 0;
        *done &= next >= upto;
    }
    PQclear(r);
    return sum;
}

/* Shows progress until every partition is back at its high watermark of the start. */
static void wait_progress(PGconn *c, const mapping_t *m, const marks_t *mk)
{
    long long total = 0;
    for (size_t i = 0; i < mk->n; i++)
        total += mk->p[i].hi - mk->p[i].lo;
    int tty = isatty(STDOUT_FILENO);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int done;
        long long n = replayed(c, m, mk, &done);
        clock_gettime(CLOCK_MONOTONIC, &now);
        double secs = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        double rate = secs > 0 ? (double)n / secs : 0;
        double left = rate > 0 ? (double)(total - n) / rate : 0;
        int pct = total ? (int)(100 * n / total) : 100;
        if (tty) {
            char bar[31];
            memset(bar, '#', (size_t)(pct * 30 / 100));
            memset(bar + pct * 30 / 100, '.', (size_t)(30 - pct * 30 / 100));
            bar[30] = '\0';
            printf("\rrebuild %s [%s] %3d%% %lld/%lld events, %.0f events/s, %.0f s left ",
                   mapping_name(m), bar, pct, n, total, rate, left);
        } else {
            printf("rebuild %s: %lld/%lld events (%d%%), %.0f events/s, about %.0f s left\n",
                   mapping_name(m), n, total, pct, rate, left);
        }
        fflush(stdout);
        if (done)
            break;
        sleep(tty ? 1 : 2);
    }
    printf("%srebuild %s: caught up (%lld events replayed)\n", tty ? "\n" : "", mapping_name(m),
           total);
}

int rebuild_run(const config_t *cfg, const rebuild_opts_t *o)
{
    if (!o->in_place) {
        fprintf(stderr, "projector rebuild: only --in-place rebuilds exist so far (blue/green "
                        "rebuilds are not built yet)\n");
        return 2;
    }
    char err[1024];
    PGconn *c = schema_connect(config_str(cfg, CFG_PG), err, sizeof(err));
    if (!c) {
        fprintf(stderr, "projector rebuild: %s\n", err);
        return 1;
    }
    int rc = 1;
    marks_t mk = {NULL, 0};
    rd_kafka_t *rk = NULL;
    mapping_set_t *set = service_prepare_mappings(cfg, c);
    const mapping_t *m = NULL;
    for (size_t i = 0; set && i < mapping_set_count(set); i++)
        if (strcmp(mapping_name(mapping_set_get(set, i)), o->projection) == 0)
            m = mapping_set_get(set, i);
    if (!m) {
        fprintf(stderr, "projector rebuild: no projection \"%s\" in %s\n", o->projection,
                config_str(cfg, CFG_MAPPINGS));
        rc = 2;
        goto done;
    }
    rd_kafka_conf_t *kc = kafka_conf_new(cfg, NULL, NULL, err, sizeof(err));
    if (!kc || !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err)))) {
        if (kc)
            rd_kafka_conf_destroy(kc);
        fprintf(stderr, "projector rebuild: %s\n", err);
        goto done;
    }
    if (read_marks(rk, m, &mk, err, sizeof(err)) != 0) {
        fprintf(stderr, "projector rebuild: %s\n", err);
        goto done;
    }
    int r = rebuild_marked(c, cfg, m, &mk, err, sizeof(err));
    if (r != 0) {
        fprintf(stderr, "projector rebuild: %s\n", err);
        rc = r == 2 ? 2 : 1;
        goto done;
    }
    printf("rebuild %s: tables truncated and positions reset; running instances replay from the "
           "earliest offsets\n",
           mapping_name(m));
    fflush(stdout);
    if (o->wait)
        wait_progress(c, m, &mk);
    rc = 0;
done:
    marks_free(&mk);
    if (rk)
        rd_kafka_destroy(rk);
    mapping_set_destroy(set);
    PQfinish(c);
    return rc;
}
