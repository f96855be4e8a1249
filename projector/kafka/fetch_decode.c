/* The fetcher's decoding: a batch's messages into events, on the decode workers at once. Each
 * worker parses into its own arena of the batch (json_alloc.h scopes are per thread), so the
 * workers share nothing but the mapping and the decoder, which they only read. */
#include "fetch_decode.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_alloc.h"
#include "workers.h"
#include "xalloc.h"

/* Batches smaller than this are decoded on the fetching thread alone (a worker's wake-up costs
 * more than decoding a few events). */
#define DECODE_GRAIN 64
#define DECODE_AUTO_MAX 4

struct fetch_decoder {
    const mapping_t *m;
    const event_decoder_t *decoder;
    char **dlq_topics; /* per mapping topic */
    size_t max_bytes;
    workers_t *workers;
};

/* decode.threads, or for 0 the CPUs beyond two, up to DECODE_AUTO_MAX, and at least one: the
 * applying thread and librdkafka's need a core, and on the 2-vCPU development machine (with
 * PostgreSQL and the broker on it) a second decoder cost about a quarter more CPU per event in
 * scripts/bench with no more events/s. */
static int decode_threads(const config_t *cfg)
{
    long long n = config_int(cfg, CFG_DECODE_THREADS);
    if (n > 0)
        return (int)n;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long spare = cpus - 2;
    return spare < 1 ? 1 : spare > DECODE_AUTO_MAX ? DECODE_AUTO_MAX : (int)spare;
}

fetch_decoder_t *fetch_decoder_new(const config_t *cfg, const mapping_t *m, const char *label,
                                   char *errstr, size_t errstr_size)
{
    const event_decoder_t *decoder = event_decoder_find(mapping_format(m));
    if (!decoder) {
        snprintf(errstr, errstr_size, "%s: $.format: no decoder for format \"%s\"", mapping_file(m),
                 mapping_format(m));
        return NULL;
    }
    char why[512];
    if (event_decoder_check(decoder, cfg, why, sizeof(why)) != 0) {
        snprintf(errstr, errstr_size, "%s: $.format: %s", mapping_file(m), why);
        return NULL;
    }
    fetch_decoder_t *d = xcalloc(1, sizeof(*d));
    d->m = m;
    d->decoder = decoder;
    d->max_bytes = (size_t)config_int(cfg, CFG_MAX_EVENT_BYTES);
    d->dlq_topics = xcalloc(mapping_topic_count(m), sizeof(char *));
    for (size_t i = 0; i < mapping_topic_count(m); i++) {
        char t[512];
        snprintf(t, sizeof(t), "%s%s", mapping_topic(m, i), config_str(cfg, CFG_DLQ_SUFFIX));
        d->dlq_topics[i] = xstrdup(mapping_dlq_topic(m) ? mapping_dlq_topic(m) : t);
    }
    char name[16]; /* "decode <projection>" as top -H shows it, cut to 15 bytes */
    snprintf(name, sizeof(name), "dec %s", label);
    d->workers = workers_new(decode_threads(cfg), name);
    return d;
}

void fetch_decoder_destroy(fetch_decoder_t *d)
{
    if (!d)
        return;
    workers_destroy(d->workers);
    for (size_t i = 0; i < mapping_topic_count(d->m); i++)
        free(d->dlq_topics[i]);
    free(d->dlq_topics);
    free(d);
}

int fetch_decoder_workers(const fetch_decoder_t *d)
{
    return workers_count(d->workers);
}

static const char *dlq_topic_for(const fetch_decoder_t *d, const char *topic)
{
    for (size_t i = 0; i < mapping_topic_count(d->m); i++)
        if (strcmp(mapping_topic(d->m, i), topic) == 0)
            return d->dlq_topics[i];
    return d->dlq_topics[0];
}

/* event_headers_t over a message's librdkafka headers (ctx: rd_kafka_headers_t, may be NULL). */
static int header_at(void *ctx, size_t i, const char **name, const void **value, size_t *len)
{
    return ctx && rd_kafka_header_get_all(ctx, i, name, value, len) == RD_KAFKA_RESP_ERR_NO_ERROR
               ? 0
               : -1;
}

event_decode_status_t fetch_decode_one(const fetch_decoder_t *d, rd_kafka_message_t *msg,
                                       event_t *e, arena_t *arena)
{
    memset(e, 0, sizeof(*e));
    e->source = msg;
    e->ev.topic = rd_kafka_topic_name(msg->rkt);
    e->ev.partition = msg->partition;
    e->ev.offset = msg->offset;
    e->ev.timestamp_ms = rd_kafka_message_timestamp(msg, NULL);
    e->ev.key = msg->key;
    e->ev.key_len = msg->key_len;
    e->dlq_topic = dlq_topic_for(d, e->ev.topic);
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        hdrs = NULL;
    event_headers_t headers = {header_at, hdrs};
    if (event_decode(e, d->decoder, &headers, msg->payload, msg->len, d->max_bytes, arena) ==
        EVENT_DECODE_RETRY)
        return EVENT_DECODE_RETRY;
    const char *hname = mapping_type_header(d->m);
    if (e->state == EVENT_PENDING && hname)
        e->ev.type_header = event_header(&headers, hname, arena);
    const char *vname = mapping_version_header(d->m);
    if (e->state == EVENT_PENDING && vname)
        e->ev.version_header = event_header(&headers, vname, arena);
    return event_resolve(e, d->m, arena); /* versions from the registry may wait too */
}

typedef struct {
    const fetch_decoder_t *d;
    fetch_batch_t *b;
    atomic_int undecided; /* a decoder could not decide: the rest is left to the caller */
} decode_job_t;

/* workers_fn: decodes and evaluates b's messages [lo, hi) in the worker's arena. Once any
 * worker meets a message its decoder cannot decide (the schema registry unreachable), the
 * workers stop asking: the messages not decoded yet are marked for the caller, which waits for
 * the first in partition order and goes on from there. */
static void decode_range(void *ctx, int worker, size_t lo, size_t hi)
{
    decode_job_t *job = ctx;
    fetch_batch_t *b = job->b;
    arena_t *arena = b->arenas[worker];
    arena_t *was = json_alloc_use(arena); /* the batch's values go with the batch */
    for (size_t i = lo; i < hi; i++) {
        if (atomic_load_explicit(&job->undecided, memory_order_relaxed)) {
            b->events[i].retry = 1; /* not decoded: the caller decodes it */
            continue;
        }
        if (fetch_decode_one(job->d, b->msgs[i], &b->events[i], arena) == EVENT_DECODE_RETRY)
            atomic_store_explicit(&job->undecided, 1, memory_order_relaxed);
    }
    json_alloc_use(was);
    for (size_t i = lo; i < hi; i++) /* the values, off the applying thread */
        if (!b->events[i].retry)
            event_evaluate(&b->events[i], job->d->m, arena);
}

void fetch_decode_batch(const fetch_decoder_t *d, fetch_batch_t *b)
{
    decode_job_t job = {.d = d, .b = b};
    atomic_init(&job.undecided, 0);
    workers_run(d->workers, decode_range, &job, b->n, DECODE_GRAIN);
}
