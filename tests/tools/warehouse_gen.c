/* Test tool: deterministic warehouse workload generator (tests/workloads/warehouse) and the
 * expected state of its read tables, computed without the projector. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define WINDOW 300        /* open reservations whose events are interleaved */
#define WAREHOUSES 4      /* w1 .. w4 */
#define STOCK_PERCENT 20  /* share of StockReceived among the events */
#define UNKNOWN_EVERY 500 /* a release of a reservation never created after every 500th event */
#define FULFIL_PERCENT 60 /* a closed reservation is fulfilled, else released */
#define KAFKA_TIMEOUT_MS 10000
#define FLUSH_TIMEOUT_MS 600000

/* ---- PRNG (splitmix64) */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

/* ---- the domain, as the read tables must end up */

typedef struct stock {
    long long on_hand, reserved, shipped;
    int exists; /* a row: stock received or reserved once */
} stock_t;

typedef enum { RES_OPEN, RES_FULFILLED, RES_RELEASED } res_status_t;

typedef struct reservation {
    uint32_t sku, wh;
    long long qty;
    res_status_t status;
} reservation_t;

typedef struct gen {
    long long events, good, skus;
    stock_t *stock; /* [sku * WAREHOUSES + wh] */
    reservation_t *res;
    size_t nres;
    size_t *open; /* indexes into res of the open reservations */
    size_t nopen;
    long long unknown;
    /* output */
    rd_kafka_t *rk;
    const char *topic;
    FILE *ndjson;
    long long delivered, failed;
    char first_err[256];
} gen_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    gen_t *g = opaque;
    (void)rk;
    if (!m->err) {
        g->delivered++;
        return;
    }
    if (g->failed++ == 0)
        snprintf(g->first_err, sizeof(g->first_err), "partition %d: %s", (int)m->partition,
                 rd_kafka_err2str(m->err));
}

/* Sends one message (key, JSON value). Returns 0, or -1 after printing why. */
static int emit(gen_t *g, const char *key, const char *value)
{
    g->good++;
    if (g->ndjson && fprintf(g->ndjson, "%s\t%s\n", key, value) < 0) {
        fprintf(stderr, "warehouse_gen: writing the ndjson file: %s\n", strerror(errno));
        return -1;
    }
    if (!g->rk)
        return 0;
    rd_kafka_resp_err_t err;
    do {
        err = rd_kafka_producev(g->rk, RD_KAFKA_V_TOPIC(g->topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(g->rk, 100);
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    if (err) {
        fprintf(stderr, "warehouse_gen: produce to %s: %s\n", g->topic, rd_kafka_err2str(err));
        return -1;
    }
    rd_kafka_poll(g->rk, 0);
    return 0;
}

static int stock_received(gen_t *g, uint32_t sku, uint32_t wh, long long qty)
{
    stock_t *s = &g->stock[sku * WAREHOUSES + wh];
    s->on_hand += qty;
    s->exists = 1;
    char key[64], v[256];
    snprintf(key, sizeof(key), "sku-%06u/w%u", sku, wh + 1);
    snprintf(v, sizeof(v),
             "{\"type\":\"StockReceived\",\"sku\":\"sku-%06u\",\"warehouse\":\"w%u\",\"qty\":%lld}",
             sku, wh + 1, qty);
    return emit(g, key, v);
}

/* A new reservation of stock that is available (received first when it is not). */
static int reservation_created(gen_t *g)
{
    uint32_t sku = rng_below((uint32_t)g->skus), wh = rng_below(WAREHOUSES);
    long long qty = 1 + rng_below(10);
    stock_t *s = &g->stock[sku * WAREHOUSES + wh];
    if (s->on_hand - s->reserved < qty)
        return stock_received(g, sku, wh, 50 + rng_below(100));
    size_t id = g->nres++;
    g->res = realloc(g->res, g->nres * sizeof(*g->res));
    if (!g->res) {
        fprintf(stderr, "warehouse_gen: out of memory\n");
        return -1;
    }
    g->res[id] = (reservation_t){sku, wh, qty, RES_OPEN};
    g->open[g->nopen++] = id;
    s->reserved += qty;
    s->exists = 1;
    char key[32], v[256];
    snprintf(key, sizeof(key), "r-%08zu", id);
    snprintf(v, sizeof(v),
             "{\"type\":\"ReservationCreated\",\"reservationId\":\"%s\",\"sku\":\"sku-%06u\","
             "\"warehouse\":\"w%u\",\"qty\":%lld}",
             key, sku, wh + 1, qty);
    return emit(g, key, v);
}

/* Releases or fulfils a random open reservation (its events carry the id only). */
static int reservation_closed(gen_t *g)
{
    size_t at = rng_below((uint32_t)g->nopen), id = g->open[at];
    g->open[at] = g->open[--g->nopen];
    reservation_t *r = &g->res[id];
    stock_t *s = &g->stock[r->sku * WAREHOUSES + r->wh];
    int fulfil = rng_below(100) < FULFIL_PERCENT;
    s->reserved -= r->qty;
    if (fulfil) {
        s->on_hand -= r->qty;
        s->shipped += r->qty;
    }
    r->status = fulfil ? RES_FULFILLED : RES_RELEASED;
    char key[32], v[128];
    snprintf(key, sizeof(key), "r-%08zu", id);
    snprintf(v, sizeof(v), "{\"type\":\"%s\",\"reservationId\":\"%s\"}",
             fulfil ? "ReservationFulfilled" : "ReservationReleased", key);
    return emit(g, key, v);
}

/* A release of a reservation that never existed: its lookups find no row, nothing changes. */
static int unknown_released(gen_t *g)
{
    char key[32], v[128];
    snprintf(key, sizeof(key), "u-%08lld", g->unknown++);
    snprintf(v, sizeof(v), "{\"type\":\"ReservationReleased\",\"reservationId\":\"%s\"}", key);
    return emit(g, key, v);
}

static int gen_step(gen_t *g)
{
    if (g->good % UNKNOWN_EVERY == UNKNOWN_EVERY - 1)
        return unknown_released(g);
    if (rng_below(100) < STOCK_PERCENT)
        return stock_received(g, rng_below((uint32_t)g->skus), rng_below(WAREHOUSES),
                              1 + rng_below(100));
    if (g->nopen < WINDOW)
        return reservation_created(g);
    return reservation_closed(g);
}

/* ---- output */

/* Messages the topic holds (sum of high watermarks, every low watermark 0), in *n. */
static int topic_messages(gen_t *g, long long *n)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(g->rk, g->topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(g->rk, 0, rkt, &md, KAFKA_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "warehouse_gen: topic %s: metadata: %s\n", g->topic,
                rd_kafka_err2str(err ? err : md->topics[0].err));
        if (!err)
            rd_kafka_metadata_destroy(md);
        return -1;
    }
    int parts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    *n = 0;
    for (int p = 0; p < parts; p++) {
        int64_t lo, hi;
        err = rd_kafka_query_watermark_offsets(g->rk, g->topic, p, &lo, &hi, KAFKA_TIMEOUT_MS);
        if (err || lo != 0) {
            fprintf(stderr, "warehouse_gen: topic %s partition %d: %s\n", g->topic, p,
                    err ? rd_kafka_err2str(err)
                        : "the broker dropped messages (low watermark "
                          "not 0): use more partitions");
            return -1;
        }
        *n += hi;
    }
    return 0;
}

static int kafka_open(gen_t *g, const char *brokers)
{
    const char *const props[][2] = {
        {"bootstrap.servers", brokers},
        {"enable.idempotence", "true"},
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages", "1000000"},
        {"partitioner", "murmur2_random"},
    };
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err, sizeof(err))) {
            fprintf(stderr, "warehouse_gen: %s\n", err);
            rd_kafka_conf_destroy(conf);
            return -1;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, g);
    if (!(g->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)))) {
        fprintf(stderr, "warehouse_gen: %s\n", err);
        return -1;
    }
    return 0;
}

/* Flushes and checks that every message was delivered and kept: the topic holds before +
 * produced messages. */
static int kafka_close(gen_t *g, long long before)
{
    int rc = 0;
    long long after = 0;
    if (rd_kafka_flush(g->rk, FLUSH_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "warehouse_gen: flush timed out\n");
        rc = -1;
    } else if (g->failed) {
        fprintf(stderr, "warehouse_gen: %lld message(s) not delivered, the first: %s\n", g->failed,
                g->first_err);
        rc = -1;
    } else if (topic_messages(g, &after) != 0) {
        rc = -1;
    } else if (after != before + g->good) {
        fprintf(stderr, "warehouse_gen: topic %s holds %lld messages, expected %lld\n", g->topic,
                after, before + g->good);
        rc = -1;
    }
    rd_kafka_destroy(g->rk);
    g->rk = NULL;
    return rc;
}

static const char *const status_name[] = {
    [RES_OPEN] = "OPEN", [RES_FULFILLED] = "FULFILLED", [RES_RELEASED] = NULL};

/* Writes DIR/stock_level.txt, DIR/reservation.txt ('|'-separated, as psql -At prints the rows;
 * unsorted) and DIR/counts.txt. */
static int write_expected(const gen_t *g, const char *dir)
{
    char path[4096];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "warehouse_gen: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/stock_level.txt", dir);
    FILE *s = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/reservation.txt", dir);
    FILE *r = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/counts.txt", dir);
    FILE *c = fopen(path, "w");
    int rc = s && r && c ? 0 : -1;
    for (long long i = 0; !rc && i < g->skus * WAREHOUSES; i++) {
        const stock_t *st = &g->stock[i];
        if (st->exists)
            fprintf(s, "sku-%06lld|w%lld|%lld|%lld|%lld\n", i / WAREHOUSES, i % WAREHOUSES + 1,
                    st->on_hand, st->reserved, st->shipped);
    }
    for (size_t i = 0; !rc && i < g->nres; i++) {
        const reservation_t *x = &g->res[i];
        if (status_name[x->status])
            fprintf(r, "r-%08zu|sku-%06u|w%u|%lld|%s\n", i, x->sku, x->wh + 1, x->qty,
                    status_name[x->status]);
    }
    if (!rc)
        fprintf(c, "messages %lld\ngood %lld\n", g->good, g->good);
    if (s && fclose(s) != 0)
        rc = -1;
    if (r && fclose(r) != 0)
        rc = -1;
    if (c && fclose(c) != 0)
        rc = -1;
    if (rc)
        fprintf(stderr, "warehouse_gen: writing the expected state in %s failed\n", dir);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: warehouse_gen --events N [--seed S] [--skus K]\n"
                    "                     [--brokers LIST --topic NAME] [--ndjson FILE]\n"
                    "                     [--expect-dir DIR] [--quiet]\n");
    exit(2);
}

static long long number_arg(const char *flag, const char *v)
{
    char *end;
    errno = 0;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || errno || *end || n < 1) {
        fprintf(stderr, "warehouse_gen: %s takes a positive integer\n", flag);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    gen_t g = {0};
    const char *brokers = NULL, *ndjson = NULL, *expect = NULL;
    long long seed = 1;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--events"))
            g.events = number_arg(a, v), i++;
        else if (!strcmp(a, "--seed"))
            seed = number_arg(a, v), i++;
        else if (!strcmp(a, "--skus"))
            g.skus = number_arg(a, v), i++;
        else if (!strcmp(a, "--brokers") && v)
            brokers = v, i++;
        else if (!strcmp(a, "--topic") && v)
            g.topic = v, i++;
        else if (!strcmp(a, "--ndjson") && v)
            ndjson = v, i++;
        else if (!strcmp(a, "--expect-dir") && v)
            expect = v, i++;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else
            usage();
    }
    if (!g.events || (!brokers != !g.topic) || (!brokers && !ndjson && !expect))
        usage();
    if (!g.skus)
        g.skus = g.events / 50 > 10 ? g.events / 50 : 10;
    rng_state = (uint64_t)seed;
    g.stock = calloc((size_t)(g.skus * WAREHOUSES), sizeof(stock_t));
    g.open = calloc(WINDOW, sizeof(size_t));
    long long before = 0;
    if (ndjson && !(g.ndjson = strcmp(ndjson, "-") ? fopen(ndjson, "w") : stdout)) {
        fprintf(stderr, "warehouse_gen: %s: %s\n", ndjson, strerror(errno));
        return 1;
    }
    if (brokers && (kafka_open(&g, brokers) != 0 || topic_messages(&g, &before) != 0))
        return 1;
    int rc = 0;
    while (rc == 0 && g.good < g.events)
        rc = gen_step(&g);
    if (g.rk && kafka_close(&g, before) != 0)
        rc = -1;
    if (g.ndjson && g.ndjson != stdout && fclose(g.ndjson) != 0)
        rc = -1;
    if (rc == 0 && expect)
        rc = write_expected(&g, expect);
    if (rc == 0 && !quiet)
        fprintf(stderr, "warehouse_gen: %lld events (%zu reservations, %zu open, %lld unknown)\n",
                g.good, g.nres, g.nopen, g.unknown);
    free(g.stock);
    free(g.res);
    free(g.open);
    return rc == 0 ? 0 : 1;
}
