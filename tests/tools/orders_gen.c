/* Test tool: deterministic order-domain workload generator and expected read-model calculator. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define EPOCH0 1767225600LL        /* 2026-01-01T00:00:00Z */
#define ORDER_ID_LIMIT 100000000LL /* o-%08u stays 8 digits (bytewise order == numeric) */
#define CUSTOMER_LIMIT 1000000LL   /* c-%06u stays 6 digits */
#define WINDOW 200                 /* open orders whose events are interleaved */
#define MAX_ITEMS 5
#define UNKNOWN_EVERY 50 /* one OrderNoteAdded after every 50th good event */
#define MSG_MAX 2048
#define KAFKA_TIMEOUT_MS 10000
#define FLUSH_TIMEOUT_MS 600000
#define PACE_SLICE_NS 100000000LL /* with --rate, serve the output at least every 100 ms */

/* ---------------------------------------------------------------- errors */

__attribute__((format(printf, 3, 4))) static void errf(char *errstr, size_t errstr_size,
                                                       const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

static void sleep_ns(long long ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};

    nanosleep(&ts, NULL);
}

static void sleep_ms(long ms)
{
    sleep_ns(ms * 1000000LL);
}

/* Returns CLOCK_MONOTONIC in nanoseconds. */
static long long mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------------------------------------------------------------- PRNG (splitmix64) */

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Returns a uniform value in [0, n). */
static uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* ---------------------------------------------------------------- message buffer */

/* Fixed-size buffer for one message; overflow is sticky and checked before sending. */
typedef struct msgbuf {
    size_t len;
    int overflow;
    char data[MSG_MAX];
} msgbuf_t;

static void mb_reset(msgbuf_t *mb)
{
    mb->len = 0;
    mb->overflow = 0;
    mb->data[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void mb_printf(msgbuf_t *mb, const char *fmt, ...)
{
    size_t room = sizeof(mb->data) - mb->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(mb->data + mb->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        mb->overflow = 1;
        return;
    }
    mb->len += (size_t)n;
}

/* Appends s as a JSON string; bytes >= 0x80 pass through unchanged. */
static void mb_json_string(msgbuf_t *mb, const char *s)
{
    mb_printf(mb, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            mb_printf(mb, "\\%c", c);
        else if (c < 0x20)
            mb_printf(mb, "\\u%04x", c);
        else
            mb_printf(mb, "%c", c);
    }
    mb_printf(mb, "\"");
}

/* Appends ,"occurredAt":"<RFC 3339>"} closing the object. */
static void mb_tail(msgbuf_t *mb, long long ts)
{
    time_t t = (time_t)ts;
    struct tm tm;
    char when[32];

    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    mb_printf(mb, ",\"occurredAt\":\"%s\"}", when);
}

/* ---------------------------------------------------------------- configuration */

struct config {
    long long events;
    long long customers; /* -1: max(10, events / 20) */
    long long seed;
    long long poison;
    long long partitions;
    long long start_order;
    long long rate; /* messages per second, 0 = as fast as possible */
    int quiet;
    const char *brokers;
    const char *topic;
    const char *ndjson;
    const char *expect_dir;
};

enum opt_type { OPT_INT, OPT_STR, OPT_FLAG };

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset;
    long long min, max, def; /* OPT_INT only; def < 0 is computed later */
    const char *arg;
    const char *help;
};

#define CFG(field) offsetof(struct config, field)

static const struct opt opts[] = {
    {"events", OPT_INT, CFG(events), 0, ORDER_ID_LIMIT - 1, 1000, "N", "good events to emit"},
    {"customers", OPT_INT, CFG(customers), 1, CUSTOMER_LIMIT - 1, -1, "C",
     "distinct customers (default max(10, N/20))"},
    {"seed", OPT_INT, CFG(seed), 0, LLONG_MAX, 1, "S", "PRNG seed"},
    {"poison", OPT_INT, CFG(poison), 0, ORDER_ID_LIMIT - 1, 0, "P",
     "poison messages spread through the stream (not counted in N)"},
    {"brokers", OPT_STR, CFG(brokers), 0, 0, 0, "LIST", "produce to Kafka (needs --topic)"},
    {"topic", OPT_STR, CFG(topic), 0, 0, 0, "NAME", "Kafka topic"},
    {"ndjson", OPT_STR, CFG(ndjson), 0, 0, 0, "FILE",
     "write key<TAB>value lines to FILE ('-' = stdout) instead"},
    {"expect-dir", OPT_STR, CFG(expect_dir), 0, 0, 0, "DIR", "write the expected state to DIR"},
    {"partitions", OPT_INT, CFG(partitions), 0, 1000000, 0, "K",
     "topic partition count, only quoted in the 'topic overflowed' advice"},
    {"start-order", OPT_INT, CFG(start_order), 0, ORDER_ID_LIMIT - 1, 0, "I",
     "first order number (a later wave must start at >= I + N + P)"},
    {"rate", OPT_INT, CFG(rate), 0, 1000000, 0, "R",
     "messages per second, evenly paced, each sent at once (0: unpaced)"},
    {"quiet", OPT_FLAG, CFG(quiet), 0, 0, 0, NULL, "no summary line on stderr"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *fp)
{
    fprintf(fp, "usage: orders_gen --events N [options]\n"
                "Emits a deterministic order workload and computes the expected read model.\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[40];

        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        if (opts[i].type == OPT_INT && opts[i].def >= 0)
            fprintf(fp, "  %-22s %s (default %lld)\n", left, opts[i].help, opts[i].def);
        else
            fprintf(fp, "  %-22s %s\n", left, opts[i].help);
    }
}

static void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].type == OPT_INT)
            *(long long *)((char *)cfg + opts[i].offset) = opts[i].def;
}

static const struct opt *opt_find(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/* Stores val (NULL for flags) into the field o describes. Returns 0 or -1. */
static int opt_set(struct config *cfg, const struct opt *o, const char *val, char *errstr,
                   size_t errstr_size)
{
    void *field = (char *)cfg + o->offset;
    char *end;
    long long v;

    if (o->type == OPT_FLAG) {
        *(int *)field = 1;
        return 0;
    }
    if (o->type == OPT_STR) {
        *(const char **)field = val;
        return 0;
    }
    errno = 0;
    v = strtoll(val, &end, 10);
    if (errno || end == val || *end || v < o->min || v > o->max) {
        errf(errstr, errstr_size, "--%s: \"%s\" is not an integer in [%lld, %lld]", o->name, val,
             o->min, o->max);
        return -1;
    }
    *(long long *)field = v;
    return 0;
}

/* Checks combinations and fills computed defaults. Returns 0 or -1. */
static int config_finish(struct config *cfg, char *errstr, size_t errstr_size)
{
    if (cfg->customers < 0)
        cfg->customers = cfg->events / 20 > 10 ? cfg->events / 20 : 10;
    if (cfg->customers >= CUSTOMER_LIMIT)
        cfg->customers = CUSTOMER_LIMIT - 1;
    if (cfg->start_order + cfg->events + cfg->poison >= ORDER_ID_LIMIT) {
        errf(errstr, errstr_size, "--start-order + --events + --poison must stay below %lld",
             ORDER_ID_LIMIT);
        return -1;
    }
    if (!cfg->brokers != !cfg->topic) {
        errf(errstr, errstr_size, "--brokers and --topic go together");
        return -1;
    }
    if (cfg->brokers && cfg->ndjson) {
        errf(errstr, errstr_size, "choose one of --brokers/--topic and --ndjson");
        return -1;
    }
    if (!cfg->brokers && !cfg->ndjson && !cfg->expect_dir) {
        errf(errstr, errstr_size,
             "nothing to do: give --brokers/--topic, --ndjson or --expect-dir");
        return -1;
    }
    return 0;
}

/* Parses argv into cfg. Returns 0, 1 when --help was asked for, or -1 with errstr set. */
static int config_parse(struct config *cfg, int argc, char **argv, char *errstr, size_t errstr_size)
{
    config_defaults(cfg);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *val = NULL;
        const struct opt *o;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            return 1;
        if (strncmp(arg, "--", 2) != 0) {
            errf(errstr, errstr_size, "unexpected argument \"%s\"", arg);
            return -1;
        }
        arg += 2;
        eq = strchr(arg, '=');
        o = opt_find(arg, eq ? (size_t)(eq - arg) : strlen(arg));
        if (!o) {
            errf(errstr, errstr_size, "unknown option \"%s\"", argv[i]);
            return -1;
        }
        if (eq)
            val = eq + 1;
        else if (o->type != OPT_FLAG && i + 1 < argc)
            val = argv[++i];
        if ((o->type == OPT_FLAG) != (val == NULL)) {
            errf(errstr, errstr_size, "--%s %s", o->name,
                 o->type == OPT_FLAG ? "takes no value" : "needs a value");
            return -1;
        }
        if (opt_set(cfg, o, val, errstr, errstr_size))
            return -1;
    }
    return config_finish(cfg, errstr, errstr_size);
}

/* ---------------------------------------------------------------- output backends */

struct output;

struct output_ops {
    /* Sends one message; does not take ownership. May block while the queue is full. */
    int (*put)(struct output *out, const char *key, const char *val, size_t len, char *errstr,
               size_t errstr_size);
    /* Flushes and verifies; prints the summary unless quiet. Returns 0 or -1. */
    int (*finish)(struct output *out, long long good, long long poison, int quiet, char *errstr,
                  size_t errstr_size);
    /* Pushes out what was sent so far without blocking (paced runs call it while waiting to
     * send the next message). May be NULL. */
    void (*idle)(struct output *out);
    void (*destroy)(struct output *out);
};

struct output {
    const struct output_ops *ops;
};

/* -- NDJSON-ish file: key TAB value NL */

struct file_out {
    struct output base;
    FILE *fp;
    const char *path;
    long long messages;
};

static int file_put(struct output *out, const char *key, const char *val, size_t len, char *errstr,
                    size_t errstr_size)
{
    struct file_out *fo = (struct file_out *)out;

    fputs(key, fo->fp);
    fputc('\t', fo->fp);
    fwrite(val, 1, len, fo->fp);
    if (fputc('\n', fo->fp) == EOF) {
        errf(errstr, errstr_size, "%s: write failed: %s", fo->path, strerror(errno));
        return -1;
    }
    fo->messages++;
    return 0;
}

static int file_finish(struct output *out, long long good, long long poison, int quiet,
                       char *errstr, size_t errstr_size)
{
    struct file_out *fo = (struct file_out *)out;
    int failed = fflush(fo->fp) != 0 || ferror(fo->fp);

    if (fo->fp != stdout && fclose(fo->fp) != 0)
        failed = 1;
    fo->fp = NULL;
    if (failed) {
        errf(errstr, errstr_size, "%s: write failed: %s", fo->path, strerror(errno));
        return -1;
    }
    if (!quiet)
        fprintf(stderr, "orders_gen: wrote %lld messages (%lld good, %lld poison) to %s\n",
                fo->messages, good, poison, fo->path);
    return 0;
}

static void file_destroy(struct output *out)
{
    struct file_out *fo = (struct file_out *)out;

    if (fo->fp && fo->fp != stdout)
        fclose(fo->fp);
    free(fo);
}

static void file_idle(struct output *out)
{
    fflush(((struct file_out *)out)->fp);
}

static const struct output_ops file_ops = {file_put, file_finish, file_idle, file_destroy};

/* Opens path ("-" = stdout) for writing. Returns a new output owned by the caller, or NULL. */
static struct output *file_out_new(const char *path, char *errstr, size_t errstr_size)
{
    struct file_out *fo = calloc(1, sizeof(*fo));

    if (!fo) {
        errf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    fo->base.ops = &file_ops;
    fo->path = path;
    fo->fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!fo->fp) {
        errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        free(fo);
        return NULL;
    }
    return &fo->base;
}

/* -- Kafka producer */

struct kafka_out {
    struct output base;
    rd_kafka_t *rk;
    const char *topic;
    long long advised_partitions; /* --partitions, 0 if not given */
    long long before;             /* messages in the topic before this run */
    long long produced, bytes, delivered, failed;
    char first_err[256];
};

static void kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kafka_out *ko = opaque;

    (void)rk;
    if (!m->err) {
        ko->delivered++;
        return;
    }
    if (ko->failed++ == 0)
        snprintf(ko->first_err, sizeof(ko->first_err), "partition %d: %s", (int)m->partition,
                 rd_kafka_err2str(m->err));
}

/* Returns the topic's partition count in *cnt (0 if the topic does not exist). Blocks; retries
 * topic-level errors such as a leader election for a few seconds, not an unreachable broker. */
static int kafka_partition_count(rd_kafka_t *rk, const char *topic, int *cnt, char *errstr,
                                 size_t errstr_size)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__INVALID_ARG;

    for (int attempt = 0; rkt && attempt < 20; attempt++) {
        const struct rd_kafka_metadata *md;

        if (attempt)
            sleep_ms(250);
        if ((err = rd_kafka_metadata(rk, 0, rkt, &md, KAFKA_TIMEOUT_MS)))
            break;
        err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        *cnt = err ? 0 : md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        if (!err || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            rd_kafka_topic_destroy(rkt);
            return 0;
        }
    }
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    errf(errstr, errstr_size, "topic %s: metadata from the brokers: %s", topic,
         rd_kafka_err2str(err));
    return -1;
}

/* Reads one partition's watermarks, retrying broker-side errors briefly. Blocks. */
static int kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t *lo,
                            int64_t *hi, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

    for (int attempt = 0; attempt < 10; attempt++) {
        if (attempt)
            sleep_ms(200);
        err = rd_kafka_query_watermark_offsets(rk, topic, partition, lo, hi, KAFKA_TIMEOUT_MS);
        if (!err)
            return 0;
        if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT)
            break;
    }
    errf(errstr, errstr_size, "topic %s partition %d: watermarks: %s", topic, (int)partition,
         rd_kafka_err2str(err));
    return -1;
}

struct topic_stats {
    int partitions;
    long long messages; /* sum of (high - low) */
    int bad_partition;  /* first partition whose low watermark is not 0, or -1 */
    long long bad_low;
};

/* Reads the partition count and watermarks of ko->topic. Blocks. Returns 0 or -1. */
static int kafka_topic_stats(struct kafka_out *ko, struct topic_stats *st, char *errstr,
                             size_t errstr_size)
{
    memset(st, 0, sizeof(*st));
    st->bad_partition = -1;
    if (kafka_partition_count(ko->rk, ko->topic, &st->partitions, errstr, errstr_size))
        return -1;
    for (int p = 0; p < st->partitions; p++) {
        int64_t lo, hi;

        if (kafka_watermarks(ko->rk, ko->topic, p, &lo, &hi, errstr, errstr_size))
            return -1;
        st->messages += hi - lo;
        if (lo != 0 && st->bad_partition < 0) {
            st->bad_partition = p;
            st->bad_low = lo;
        }
    }
    return 0;
}

static int kafka_put(struct output *out, const char *key, const char *val, size_t len, char *errstr,
                     size_t errstr_size)
{
    struct kafka_out *ko = (struct kafka_out *)out;
    rd_kafka_resp_err_t err;

    for (;;) {
        err =
            rd_kafka_producev(ko->rk, RD_KAFKA_V_TOPIC(ko->topic), RD_KAFKA_V_KEY(key, strlen(key)),
                              RD_KAFKA_V_VALUE((void *)val, len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(ko->rk, 100);
    }
    if (err) {
        errf(errstr, errstr_size, "topic %s: produce key %s: %s", ko->topic, key,
             rd_kafka_err2str(err));
        return -1;
    }
    ko->bytes += (long long)(strlen(key) + len);
    if (++ko->produced % 1000 == 0)
        rd_kafka_poll(ko->rk, 0);
    return 0;
}

/* Suggests a partition count that keeps every partition well under the embedded broker's
 * retention (~5 MiB or 100,000 messages per partition). */
static long long kafka_advice(const struct kafka_out *ko, int partitions, long long total)
{
    long long avg = ko->produced ? ko->bytes / ko->produced + 32 : 300;
    long long by_bytes = total * avg / (4LL << 20) + 1;
    long long by_count = total / 80000 + 1;
    long long have = ko->advised_partitions > partitions ? ko->advised_partitions : partitions;
    long long want = by_bytes > by_count ? by_bytes : by_count;

    return want > have ? want : have * 2;
}

static int kafka_verify(struct kafka_out *ko, struct topic_stats *st, char *errstr,
                        size_t errstr_size)
{
    long long expected = ko->before + ko->produced;
    long long advice;

    if (kafka_topic_stats(ko, st, errstr, errstr_size))
        return -1;
    if (st->bad_partition < 0 && st->messages == expected)
        return 0;
    advice = kafka_advice(ko, st->partitions, expected);
    if (st->bad_partition >= 0)
        errf(errstr, errstr_size,
             "topic %s partition %d: low watermark is %lld, not 0: the broker dropped old "
             "messages (the embedded broker keeps ~5 MiB or 100,000 messages per partition); "
             "use more partitions: recreate the topic with at least %lld",
             ko->topic, st->bad_partition, st->bad_low, advice);
    else
        errf(errstr, errstr_size,
             "topic %s holds %lld messages on %d partitions, expected %lld (%lld before + %lld "
             "produced); if the broker dropped messages, use more partitions: recreate the "
             "topic with at least %lld",
             ko->topic, st->messages, st->partitions, expected, ko->before, ko->produced, advice);
    return -1;
}

static int kafka_finish(struct output *out, long long good, long long poison, int quiet,
                        char *errstr, size_t errstr_size)
{
    struct kafka_out *ko = (struct kafka_out *)out;
    struct topic_stats st;

    rd_kafka_flush(ko->rk, FLUSH_TIMEOUT_MS);
    if (ko->delivered != ko->produced) {
        errf(errstr, errstr_size,
             "topic %s: only %lld of %lld messages delivered (%lld failed; first: %s)", ko->topic,
             ko->delivered, ko->produced, ko->failed, ko->failed ? ko->first_err : "timed out");
        return -1;
    }
    if (kafka_verify(ko, &st, errstr, errstr_size))
        return -1;
    if (!quiet)
        fprintf(stderr,
                "orders_gen: produced %lld messages (%lld good, %lld poison) to %s on %d "
                "partitions\n",
                ko->produced, good, poison, ko->topic, st.partitions);
    return 0;
}

static void kafka_destroy(struct output *out)
{
    struct kafka_out *ko = (struct kafka_out *)out;

    if (ko->rk)
        rd_kafka_destroy(ko->rk);
    free(ko);
}

static void kafka_idle(struct output *out)
{
    rd_kafka_poll(((struct kafka_out *)out)->rk, 0);
}

static const struct output_ops kafka_ops = {kafka_put, kafka_finish, kafka_idle, kafka_destroy};

/* Returns a new producer configuration owned by the caller, or NULL. With paced (rate > 0)
 * sends, each message goes out at once instead of lingering for a batch. */
static rd_kafka_conf_t *kafka_conf_new(const char *brokers, long long rate, char *errstr,
                                       size_t errstr_size)
{
    const char *const props[][2] = {
        {"enable.idempotence", "true"},              /* no duplicates or reordering on retry */
        {"linger.ms", rate ? "0" : "5"},             /* 0 with --rate: send each at once */
        {"batch.num.messages", "10000"},             /* large batches for throughput */
        {"queue.buffering.max.messages", "1000000"}, /* QUEUE_FULL only on huge runs */
        {"partitioner", "murmur2_random"},           /* same partitions as the Java client */
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, errstr_size))
        goto fail;
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, errstr_size))
            goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Creates the producer and records how many messages the topic holds already. Blocks on
 * metadata. Returns a new output owned by the caller, or NULL. */
static struct output *kafka_out_new(const struct config *cfg, char *errstr, size_t errstr_size)
{
    struct kafka_out *ko = calloc(1, sizeof(*ko));
    rd_kafka_conf_t *conf;
    struct topic_stats st;

    if (!ko) {
        errf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    ko->base.ops = &kafka_ops;
    ko->topic = cfg->topic;
    ko->advised_partitions = cfg->partitions;
    if (!(conf = kafka_conf_new(cfg->brokers, cfg->rate, errstr, errstr_size)))
        goto fail;
    rd_kafka_conf_set_opaque(conf, ko);
    if (!(ko->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size))) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    if (kafka_topic_stats(ko, &st, errstr, errstr_size))
        goto fail;
    ko->before = st.messages;
    return &ko->base;
fail:
    kafka_destroy(&ko->base);
    return NULL;
}

/* ---------------------------------------------------------------- domain model */

enum ev_type { EV_CREATED, EV_PAID, EV_SHIPPED, EV_CANCELLED };

struct item {
    uint16_t sku;
    uint8_t qty;
    uint32_t price; /* cents */
};

/* An order as generated; the applied fields form its expected read-model row. */
struct order {
    uint32_t no;
    uint32_t customer;
    long long total; /* cents */
    long long created_at, updated_at;
    struct item items[MAX_ITEMS];
    uint8_t nitems;
    uint8_t plan;   /* index into plans[] */
    uint8_t step;   /* events emitted so far */
    uint8_t status; /* enum ev_type of the latest applied event */
    uint8_t paid;
};

struct customer {
    long long created, cancelled;
    long long total; /* cents */
    long long last_order_at;
};

/* Life cycles, picked per order by a per-mille draw below `upto`. */
struct plan {
    unsigned upto;
    uint8_t nsteps;
    uint8_t steps[3];
};

static const struct plan plans[] = {
    {190, 1, {EV_CREATED}},                        /* 19%: stays created */
    {250, 2, {EV_CREATED, EV_CANCELLED}},          /* 6%: cancelled unpaid */
    {415, 2, {EV_CREATED, EV_PAID}},               /* 16.5%: stays paid */
    {475, 3, {EV_CREATED, EV_PAID, EV_CANCELLED}}, /* 6%: cancelled after payment */
    {1000, 3, {EV_CREATED, EV_PAID, EV_SHIPPED}},  /* 52.5%: shipped */
};

static const char *const cancel_reasons[] = {
    "customer request",
    "payment timeout",
    "out of stock",
    "changed my mind: \"too slow\" \\ caf\xc3\xa9",
};

#define NREASONS (sizeof(cancel_reasons) / sizeof(cancel_reasons[0]))

static const char *order_reason(const struct order *o)
{
    return cancel_reasons[o->no % NREASONS];
}

/* Generator state: the workload plus the expected state it implies. */
struct gen {
    const struct config *cfg;
    rng_t rng;
    struct output *out;   /* borrowed; NULL when only computing the expected state */
    struct order *orders; /* ascending order numbers */
    size_t norders, cap;
    struct customer *customers;
    uint32_t window[WINDOW]; /* indexes into orders[] of orders with events left */
    unsigned nopen;
    long long next_order; /* next unused order number */
    long long seq;        /* message sequence: eventId and occurredAt */
    long long good, unknown, poison;
    long long sent;    /* messages handed to the output */
    long long pace_t0; /* with --rate: mono_ns() when the first message was sent */
    msgbuf_t mb;
};

/* ---------------------------------------------------------------- event formatting */

static void mb_head(msgbuf_t *mb, long long seq, const char *type, const uint32_t *order_no)
{
    mb_printf(mb, "{\"eventId\":\"e-%lld\",\"type\":\"%s\"", seq, type);
    if (order_no)
        mb_printf(mb, ",\"orderId\":\"o-%08u\"", (unsigned)*order_no);
}

static void mb_items(msgbuf_t *mb, const struct order *o)
{
    mb_printf(mb, ",\"items\":[");
    for (unsigned i = 0; i < o->nitems; i++) {
        const struct item *it = &o->items[i];

        mb_printf(mb, "%s{\"sku\":\"SKU-%04u\",\"quantity\":%u,\"price\":\"%u.%02u\"}",
                  i ? "," : "", (unsigned)it->sku, (unsigned)it->qty, it->price / 100,
                  it->price % 100);
    }
    mb_printf(mb, "]");
}

static void body_created(msgbuf_t *mb, const struct order *o)
{
    mb_printf(mb, ",\"customerId\":\"c-%06u\"", (unsigned)o->customer);
    mb_items(mb, o);
    mb_printf(mb, ",\"totalAmount\":\"%lld.%02lld\"", o->total / 100, o->total % 100);
}

static void body_paid(msgbuf_t *mb, const struct order *o)
{
    mb_printf(mb, ",\"paymentId\":\"p-%08u\"", (unsigned)o->no);
}

static void body_shipped(msgbuf_t *mb, const struct order *o)
{
    mb_printf(mb, ",\"trackingNumber\":\"TRK%08u\"", (unsigned)o->no);
}

static void body_cancelled(msgbuf_t *mb, const struct order *o)
{
    mb_printf(mb, ",\"reason\":");
    mb_json_string(mb, order_reason(o));
}

/* ---------------------------------------------------------------- expected-state updates */

static void apply_created(struct gen *g, struct order *o, long long ts)
{
    struct customer *c = &g->customers[o->customer];

    o->created_at = ts;
    c->created++;
    c->total += o->total;
    if (ts > c->last_order_at)
        c->last_order_at = ts;
}

static void apply_paid(struct gen *g, struct order *o, long long ts)
{
    (void)g;
    (void)ts;
    o->paid = 1;
}

static void apply_shipped(struct gen *g, struct order *o, long long ts)
{
    (void)g;
    (void)o;
    (void)ts;
}

static void apply_cancelled(struct gen *g, struct order *o, long long ts)
{
    (void)ts;
    g->customers[o->customer].cancelled++;
}

struct ev_kind {
    const char *type;
    const char *status;
    void (*body)(msgbuf_t *mb, const struct order *o);
    void (*apply)(struct gen *g, struct order *o, long long ts);
};

static const struct ev_kind ev_kinds[] = {
    [EV_CREATED] = {"OrderCreated", "CREATED", body_created, apply_created},
    [EV_PAID] = {"OrderPaid", "PAID", body_paid, apply_paid},
    [EV_SHIPPED] = {"OrderShipped", "SHIPPED", body_shipped, apply_shipped},
    [EV_CANCELLED] = {"OrderCancelled", "CANCELLED", body_cancelled, apply_cancelled},
};

/* ---------------------------------------------------------------- emitting */

/* With --rate, waits until message number g->sent is due (t0 + sent / rate), serving the
 * output meanwhile. Blocks. */
static void gen_pace(struct gen *g)
{
    long long due, left;

    if (!g->cfg->rate)
        return;
    if (g->sent == 0)
        g->pace_t0 = mono_ns();
    due = g->pace_t0 + g->sent * 1000000000LL / g->cfg->rate;
    for (;;) {
        if (g->out->ops->idle)
            g->out->ops->idle(g->out);
        if ((left = due - mono_ns()) <= 0)
            return;
        sleep_ns(left < PACE_SLICE_NS ? left : PACE_SLICE_NS);
    }
}

/* Sends g->mb keyed by order number `no` and advances the sequence. Returns 0 or -1. */
static int gen_send(struct gen *g, uint32_t no, char *errstr, size_t errstr_size)
{
    char key[16];

    g->seq++;
    if (g->mb.overflow) {
        errf(errstr, errstr_size, "internal: message for o-%08u exceeds %d bytes", (unsigned)no,
             MSG_MAX);
        return -1;
    }
    if (!g->out)
        return 0;
    snprintf(key, sizeof(key), "o-%08u", (unsigned)no);
    gen_pace(g);
    g->sent++;
    return g->out->ops->put(g->out, key, g->mb.data, g->mb.len, errstr, errstr_size);
}

/* Emits event `ev` for orders[idx] and applies it to the expected state. */
static int emit_good(struct gen *g, size_t idx, enum ev_type ev, char *errstr, size_t errstr_size)
{
    struct order *o = &g->orders[idx];
    const struct ev_kind *k = &ev_kinds[ev];
    long long ts = EPOCH0 + g->seq;

    mb_reset(&g->mb);
    mb_head(&g->mb, g->seq, k->type, &o->no);
    k->body(&g->mb, o);
    mb_tail(&g->mb, ts);
    k->apply(g, o, ts);
    o->status = (uint8_t)ev;
    o->updated_at = ts;
    g->good++;
    return gen_send(g, o->no, errstr, errstr_size);
}

/* Emits an event type the projector does not know; it must change nothing. */
static int emit_unknown(struct gen *g, uint32_t no, char *errstr, size_t errstr_size)
{
    mb_reset(&g->mb);
    mb_head(&g->mb, g->seq, "OrderNoteAdded", &no);
    mb_printf(&g->mb, ",\"note\":\"x\"");
    mb_tail(&g->mb, EPOCH0 + g->seq);
    g->unknown++;
    return gen_send(g, no, errstr, errstr_size);
}

static void order_fill_random(rng_t *r, struct order *o, uint32_t customers)
{
    unsigned draw;

    o->customer = rng_below(r, customers);
    o->nitems = (uint8_t)(1 + rng_below(r, MAX_ITEMS));
    o->total = 0;
    for (unsigned i = 0; i < o->nitems; i++) {
        struct item *it = &o->items[i];

        it->sku = (uint16_t)rng_below(r, 500);
        it->qty = (uint8_t)(1 + rng_below(r, 5));
        it->price = 100 + rng_below(r, 19901);
        o->total += (long long)it->qty * it->price;
    }
    draw = rng_below(r, 1000);
    o->plan = 0;
    while (draw >= plans[o->plan].upto)
        o->plan++;
}

/* Appends a new order with a fresh number to g->orders; its index goes to *idx. */
static int order_new(struct gen *g, size_t *idx, char *errstr, size_t errstr_size)
{
    struct order *o;

    if (g->norders == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        struct order *grown = realloc(g->orders, cap * sizeof(*grown));

        if (!grown) {
            errf(errstr, errstr_size, "out of memory for %zu orders", cap);
            return -1;
        }
        g->orders = grown;
        g->cap = cap;
    }
    *idx = g->norders++;
    o = &g->orders[*idx];
    memset(o, 0, sizeof(*o));
    o->no = (uint32_t)g->next_order++;
    order_fill_random(&g->rng, o, (uint32_t)g->cfg->customers);
    return 0;
}

/* Opens a new order or advances a random open one (even odds while the window has room, so
 * orders of all stages interleave from the start). The order's number goes to *no. */
static int gen_step(struct gen *g, uint32_t *no, char *errstr, size_t errstr_size)
{
    int create = g->nopen == 0 || (g->nopen < WINDOW && rng_below(&g->rng, 2) == 0);
    struct order *o;
    size_t idx;

    if (create) {
        if (order_new(g, &idx, errstr, errstr_size))
            return -1;
        if (plans[g->orders[idx].plan].nsteps > 1)
            g->window[g->nopen++] = (uint32_t)idx;
    } else {
        uint32_t k = rng_below(&g->rng, g->nopen);

        idx = g->window[k];
        if (g->orders[idx].step + 1 == plans[g->orders[idx].plan].nsteps)
            g->window[k] = g->window[--g->nopen];
    }
    o = &g->orders[idx];
    *no = o->no;
    return emit_good(g, idx, (enum ev_type)plans[o->plan].steps[o->step++], errstr, errstr_size);
}

/* ---------------------------------------------------------------- poison */

static void poison_truncated(struct gen *g, uint32_t no)
{
    (void)no;
    mb_printf(&g->mb, "{\"type\":\"OrderCreated\",\"orderId\":");
}

static void poison_not_object(struct gen *g, uint32_t no)
{
    (void)no;
    mb_printf(&g->mb, "[1,2,3]");
}

static void poison_no_order_id(struct gen *g, uint32_t no)
{
    struct order o = {.no = no};

    order_fill_random(&g->rng, &o, (uint32_t)g->cfg->customers);
    mb_head(&g->mb, g->seq, "OrderCreated", NULL);
    body_created(&g->mb, &o);
    mb_tail(&g->mb, EPOCH0 + g->seq);
}

static void poison_bad_amount(struct gen *g, uint32_t no)
{
    struct order o = {.no = no};

    order_fill_random(&g->rng, &o, (uint32_t)g->cfg->customers);
    mb_head(&g->mb, g->seq, "OrderCreated", &no);
    mb_printf(&g->mb, ",\"customerId\":\"c-%06u\"", (unsigned)o.customer);
    mb_items(&g->mb, &o);
    mb_printf(&g->mb, ",\"totalAmount\":\"not-a-number\"");
    mb_tail(&g->mb, EPOCH0 + g->seq);
}

static void poison_bad_utf8(struct gen *g, uint32_t no)
{
    struct order o = {.no = no};

    order_fill_random(&g->rng, &o, (uint32_t)g->cfg->customers);
    mb_head(&g->mb, g->seq, "OrderCreated", &no);
    mb_printf(&g->mb, ",\"customerId\":\"c-\xc3\x28\"");
    mb_items(&g->mb, &o);
    mb_printf(&g->mb, ",\"totalAmount\":\"%lld.%02lld\"", o.total / 100, o.total % 100);
    mb_tail(&g->mb, EPOCH0 + g->seq);
}

/* Poison kinds, used in turn; each formats the whole message into g->mb. */
static void (*const poison_kinds[])(struct gen *g, uint32_t no) = {
    poison_truncated, poison_not_object, poison_no_order_id, poison_bad_amount, poison_bad_utf8,
};

#define NPOISON_KINDS (sizeof(poison_kinds) / sizeof(poison_kinds[0]))

/* Emits the poison messages whose evenly spread slot has been reached. */
static int emit_due_poison(struct gen *g, char *errstr, size_t errstr_size)
{
    long long n = g->cfg->events, p = g->cfg->poison;

    while (g->poison < p && (g->poison + 1) * n / (p + 1) <= g->good) {
        uint32_t no = (uint32_t)g->next_order++;

        mb_reset(&g->mb);
        poison_kinds[g->poison % NPOISON_KINDS](g, no);
        g->poison++;
        if (gen_send(g, no, errstr, errstr_size))
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- generator */

static int gen_init(struct gen *g, const struct config *cfg, char *errstr, size_t errstr_size)
{
    memset(g, 0, sizeof(*g));
    g->cfg = cfg;
    g->rng.s = (uint64_t)cfg->seed;
    g->next_order = cfg->start_order;
    /* A later wave starts at >= start + N + P, and a run emits fewer than 2 * (N + P)
     * messages, so eventIds stay unique and occurredAt keeps rising across waves. */
    g->seq = 2 * cfg->start_order;
    g->customers = calloc((size_t)cfg->customers, sizeof(*g->customers));
    if (!g->customers) {
        errf(errstr, errstr_size, "out of memory for %lld customers", cfg->customers);
        return -1;
    }
    return 0;
}

static void gen_free(struct gen *g)
{
    free(g->orders);
    free(g->customers);
    g->orders = NULL;
    g->customers = NULL;
}

/* Emits exactly cfg->events good events plus the unknown and poison ones. */
static int gen_run(struct gen *g, char *errstr, size_t errstr_size)
{
    while (g->good < g->cfg->events) {
        uint32_t no;

        if (emit_due_poison(g, errstr, errstr_size) || gen_step(g, &no, errstr, errstr_size))
            return -1;
        if (g->good % UNKNOWN_EVERY == 0 && emit_unknown(g, no, errstr, errstr_size))
            return -1;
    }
    return emit_due_poison(g, errstr, errstr_size);
}

/* ---------------------------------------------------------------- expected state */

static void write_order_row(FILE *fp, const struct order *o)
{
    unsigned count = 0;

    for (unsigned i = 0; i < o->nitems; i++)
        count += o->items[i].qty;
    fprintf(fp, "o-%08u|c-%06u|%s|%lld.%02lld|%u|", (unsigned)o->no, (unsigned)o->customer,
            ev_kinds[o->status].status, o->total / 100, o->total % 100, count);
    for (unsigned i = 0; i < o->nitems; i++)
        fprintf(fp, "%sSKU-%04u:%u:%u.%02u", i ? "," : "", (unsigned)o->items[i].sku,
                (unsigned)o->items[i].qty, o->items[i].price / 100, o->items[i].price % 100);
    fputc('|', fp);
    if (o->paid)
        fprintf(fp, "p-%08u", (unsigned)o->no);
    fputc('|', fp);
    if (o->status == EV_SHIPPED)
        fprintf(fp, "TRK%08u", (unsigned)o->no);
    fputc('|', fp);
    if (o->status == EV_CANCELLED)
        fputs(order_reason(o), fp);
    fprintf(fp, "|%lld|%lld\n", o->created_at, o->updated_at);
}

static void write_order_detail(FILE *fp, const struct gen *g)
{
    for (size_t i = 0; i < g->norders; i++)
        write_order_row(fp, &g->orders[i]);
}

/* The search document of each order (index orders), in the order_docs.txt format the tests
 * write from the search engine's documents. */
static void write_order_docs(FILE *fp, const struct gen *g)
{
    for (size_t i = 0; i < g->norders; i++) {
        const struct order *o = &g->orders[i];
        unsigned count = 0;

        for (unsigned k = 0; k < o->nitems; k++)
            count += o->items[k].qty;
        fprintf(fp, "o-%08u|c-%06u|%s|%lld.%02lld|%u|", (unsigned)o->no, (unsigned)o->customer,
                ev_kinds[o->status].status, o->total / 100, o->total % 100, count);
        for (unsigned k = 0; k < o->nitems; k++)
            fprintf(fp, "%sSKU-%04u", k ? "," : "", (unsigned)o->items[k].sku);
        fprintf(fp, "|%s|%lld|%lld\n", o->status == EV_CANCELLED ? order_reason(o) : "",
                o->created_at, o->updated_at);
    }
}

static void write_customer_summary(FILE *fp, const struct gen *g)
{
    for (long long i = 0; i < g->cfg->customers; i++) {
        const struct customer *c = &g->customers[i];

        if (c->created)
            fprintf(fp, "c-%06lld|%lld|%lld|%lld.%02lld|%lld\n", i, c->created, c->cancelled,
                    c->total / 100, c->total % 100, c->last_order_at);
    }
}

static void write_counts(FILE *fp, const struct gen *g)
{
    fprintf(fp, "good %lld\nunknown %lld\npoison %lld\nmessages %lld\n", g->good, g->unknown,
            g->poison, g->good + g->unknown + g->poison);
}

static const struct {
    const char *name;
    void (*write)(FILE *fp, const struct gen *g);
} expect_files[] = {
    {"order_detail.txt", write_order_detail},
    {"customer_summary.txt", write_customer_summary},
    {"order_docs.txt", write_order_docs},
    {"counts.txt", write_counts},
};

/* Creates dir and its parents as needed. Returns 0 or -1. */
static int mkdir_p(const char *dir, char *errstr, size_t errstr_size)
{
    char path[4096];

    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        errf(errstr, errstr_size, "%s: path too long", dir);
        return -1;
    }
    for (char *p = path + 1;; p++) {
        char c = *p;

        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            errf(errstr, errstr_size, "%s: mkdir: %s", path, strerror(errno));
            return -1;
        }
        *p = c;
        if (!c)
            return 0;
    }
}

static int expect_write(const struct gen *g, const char *dir, char *errstr, size_t errstr_size)
{
    if (mkdir_p(dir, errstr, errstr_size))
        return -1;
    for (size_t i = 0; i < sizeof(expect_files) / sizeof(expect_files[0]); i++) {
        char path[4200];
        FILE *fp;
        int failed;

        snprintf(path, sizeof(path), "%s/%s", dir, expect_files[i].name);
        if (!(fp = fopen(path, "w"))) {
            errf(errstr, errstr_size, "%s: %s", path, strerror(errno));
            return -1;
        }
        expect_files[i].write(fp, g);
        failed = ferror(fp);
        if (fclose(fp) != 0 || failed) {
            errf(errstr, errstr_size, "%s: write failed", path);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- main */

static int run(const struct config *cfg)
{
    struct output *out = NULL;
    char errstr[1024] = "";
    struct gen g;
    int rc = 1;

    if (gen_init(&g, cfg, errstr, sizeof(errstr)))
        goto done;
    if (cfg->brokers)
        out = kafka_out_new(cfg, errstr, sizeof(errstr));
    else if (cfg->ndjson)
        out = file_out_new(cfg->ndjson, errstr, sizeof(errstr));
    if ((cfg->brokers || cfg->ndjson) && !out)
        goto done;
    g.out = out;
    if (gen_run(&g, errstr, sizeof(errstr)))
        goto done;
    if (out && out->ops->finish(out, g.good, g.poison, cfg->quiet, errstr, sizeof(errstr)))
        goto done;
    if (cfg->expect_dir && expect_write(&g, cfg->expect_dir, errstr, sizeof(errstr)))
        goto done;
    if (!out && !cfg->quiet)
        fprintf(stderr, "orders_gen: computed %lld messages (%lld good, %lld poison), sent none\n",
                g.good + g.unknown + g.poison, g.good, g.poison);
    rc = 0;
done:
    if (rc)
        fprintf(stderr, "orders_gen: %s\n", errstr);
    if (out)
        out->ops->destroy(out);
    gen_free(&g);
    return rc;
}

int main(int argc, char **argv)
{
    struct config cfg;
    char errstr[512];
    int rc = config_parse(&cfg, argc, argv, errstr, sizeof(errstr));

    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "orders_gen: %s (see --help)\n", errstr);
        return 2;
    }
    return run(&cfg);
}
