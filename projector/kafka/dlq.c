/* Dead-letter publishing: failed events go to <topic>.dlq with the error in their headers.
 *
 * A dead letter must never wait for something that cannot happen: one larger than the
 * producer's message.max.bytes (an event near max.event.bytes, with its headers) is published
 * with its value truncated to fit (header projector.value_truncated: the original size), and
 * one the broker refuses for its size or form is published once more without its value and its
 * original headers; refused again, it is left out of the topic (logged as an error). In every
 * case projector.dead_letters keeps the whole event (key, value, type), which `projector dlq
 * show` and `replay` read. */
#include "dlq.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_conf.h"
#include "log.h"
#include "xalloc.h"

/* Bytes kept free of a message's budget: librdkafka's per-record overhead (36) and the record
 * batch header (61), with room to spare. */
#define DLQ_SLACK 512

struct dlq {
    rd_kafka_t *rk;
    char *projection;
    size_t max_bytes; /* the producer's message.max.bytes */
};

/* How much of a dead letter is published. */
typedef enum {
    DLQ_WHOLE,   /* key, value (truncated to fit when too large) and every header */
    DLQ_MINIMAL, /* key and the projector.* headers only: the broker refused the whole one */
} dlq_form_t;

/* Delivery accounting of one dlq_publish() call. */
typedef struct delivery {
    int pending;
    int failed;
    char error[256];
} delivery_t;

/* One dead letter in flight. */
typedef struct slot {
    delivery_t *dv;
    const event_t *e;
    rd_kafka_resp_err_t err; /* its delivery report's */
} slot_t;

/* Errors a broker answers for this message alone, which retrying it as it is cannot mend. */
static const rd_kafka_resp_err_t refused_for_good[] = {
    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,    /* larger than the broker's or topic's limit */
    RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, /* its batch is, for the message alone */
    RD_KAFKA_RESP_ERR_INVALID_RECORD,        /* e.g. no key on a compacted topic */
};

static int is_refused_for_good(rd_kafka_resp_err_t err)
{
    for (size_t i = 0; i < sizeof(refused_for_good) / sizeof(refused_for_good[0]); i++)
        if (err == refused_for_good[i])
            return 1;
    return 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    slot_t *s = m->_private;
    if (!s)
        return;
    s->dv->pending--;
    s->err = m->err;
    if (m->err && !is_refused_for_good(m->err)) {
        s->dv->failed++;
        snprintf(s->dv->error, sizeof(s->dv->error), "%s [%d]: %s", rd_kafka_topic_name(m->rkt),
                 m->partition, rd_kafka_err2str(m->err));
    }
}

/* The producer's message.max.bytes (librdkafka's default when it cannot be read). */
static size_t max_message_bytes(rd_kafka_conf_t *conf)
{
    char buf[32];
    size_t n = sizeof(buf);
    if (rd_kafka_conf_get(conf, "message.max.bytes", buf, &n) != RD_KAFKA_CONF_OK)
        return 1000000;
    long long v = strtoll(buf, NULL, 10);
    return v > 0 ? (size_t)v : 1000000;
}

dlq_t *dlq_new(const config_t *cfg, const char *projection, char *errstr, size_t errstr_size)
{
    /* A dead letter not acknowledged within 10 s fails the batch, which is retried: the
     * worker never waits longer than that, so a stop request is served within it too. */
    static const kafka_prop_t defaults[] = {
        {"linger.ms", "5"}, {"message.timeout.ms", "10000"}, {NULL, NULL}};
    static const kafka_prop_t forced[] = {{"enable.idempotence", "true"}, {NULL, NULL}};
    rd_kafka_conf_t *conf =
        kafka_conf_new(cfg, KAFKA_CONF_PRODUCER, defaults, forced, errstr, errstr_size);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    size_t max_bytes = max_message_bytes(conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    dlq_t *d = xcalloc(1, sizeof(*d));
    d->projection = xstrdup(projection);
    d->rk = rk;
    d->max_bytes = max_bytes;
    return d;
}

void dlq_destroy(dlq_t *d)
{
    if (!d)
        return;
    rd_kafka_flush(d->rk, 10000);
    rd_kafka_destroy(d->rk);
    free(d->projection);
    free(d);
}

static void add_header(rd_kafka_headers_t *h, const char *name, const char *value)
{
    rd_kafka_header_add(h, name, -1, value, -1);
}

/* The headers' size on the wire, at most (each: two varints, name and value). */
static size_t headers_size(const rd_kafka_headers_t *h)
{
    size_t total = 0, size;
    const char *name;
    const void *value;
    for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &value, &size) == 0; i++)
        total += 10 + strlen(name) + size;
    return total;
}

/* The dead letter's headers: the event's own (DLQ_WHOLE) and the projector.* ones. */
static rd_kafka_headers_t *dead_headers(const dlq_t *d, const event_t *e, dlq_form_t form)
{
    const rd_kafka_message_t *src = e->source;
    rd_kafka_headers_t *orig = NULL, *h;
    size_t norig = 0;
    if (src && rd_kafka_message_headers(src, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
        norig = rd_kafka_header_cnt(orig);
    h = form == DLQ_WHOLE && norig ? rd_kafka_headers_copy(orig) : rd_kafka_headers_new(10);
    char num[32];
    add_header(h, "projector.error", e->error ? e->error : "");
    add_header(h, "projector.stage", event_stage_name(e->stage));
    add_header(h, "projector.projection", d->projection);
    add_header(h, "projector.topic", e->ev.topic);
    snprintf(num, sizeof(num), "%d", e->ev.partition);
    add_header(h, "projector.partition", num);
    snprintf(num, sizeof(num), "%lld", (long long)e->ev.offset);
    add_header(h, "projector.offset", num);
    if (form == DLQ_MINIMAL && norig) {
        snprintf(num, sizeof(num), "%zu", norig);
        add_header(h, "projector.headers_dropped", num);
    }
    return h;
}

/* How many bytes of e's value fit in a message with headers h (already holding every other
 * header); adds projector.value_truncated (the original size) when not all of it does. */
static size_t value_fit(const dlq_t *d, const event_t *e, rd_kafka_headers_t *h, dlq_form_t form)
{
    size_t room = 0, fixed = DLQ_SLACK + e->ev.key_len + headers_size(h) + 64;
    if (d->max_bytes > fixed)
        room = d->max_bytes - fixed;
    size_t keep = form == DLQ_MINIMAL ? 0 : e->value_len < room ? e->value_len : room;
    if (keep < e->value_len) {
        char num[32];
        snprintf(num, sizeof(num), "%zu", e->value_len);
        add_header(h, "projector.value_truncated", num);
        if (form == DLQ_WHOLE)
            LOG(LOG_WARN,
                "projection=%s topic=%s partition=%d offset=%lld dead letter of %zu bytes is "
                "larger than message.max.bytes (%zu): published to %s with its value cut to %zu "
                "bytes; projector.dead_letters keeps all of it",
                d->projection, e->ev.topic, e->ev.partition, (long long)e->ev.offset,
                e->value_len + e->ev.key_len + headers_size(h), d->max_bytes, e->dlq_topic, keep);
    }
    return keep;
}

/* Queues the dead letter of s->e in the given form. Returns 0, or -1 with errstr set; a
 * message the producer refuses for its size (sets s->err) is not an error. */
static int produce_one(dlq_t *d, slot_t *s, dlq_form_t form, char *errstr, size_t errsz)
{
    const event_t *e = s->e;
    rd_kafka_headers_t *h = dead_headers(d, e, form);
    size_t len = value_fit(d, e, h, form);
    s->err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(e->dlq_topic), RD_KAFKA_V_KEY(e->ev.key, e->ev.key_len),
            RD_KAFKA_V_VALUE(e->value ? (void *)(len ? e->value : "") : NULL, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(s),
            RD_KAFKA_V_END);
        if (!err) {
            s->dv->pending++;
            return 0; /* the producer owns h now */
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && tries <= 100) {
            rd_kafka_poll(d->rk, 100);
            continue;
        }
        rd_kafka_headers_destroy(h);
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            s->err = err;
            return 0;
        }
        snprintf(errstr, errsz, "producing to %s: %s", e->dlq_topic, rd_kafka_err2str(err));
        return -1;
    }
}

/* Waits for every report of the call (after a timed-out flush too). */
static void wait_reports(dlq_t *d, delivery_t *dv)
{
    rd_kafka_flush(d->rk, 30000);
    while (dv->pending > 0)
        rd_kafka_poll(d->rk, 100);
}

/* Publishes once more, in the minimal form, each dead letter refused for good; one refused
 * again is left out of the topic. Returns 0, or -1 with errstr set. */
static int publish_refused(dlq_t *d, slot_t *slots, int count, delivery_t *dv, char *errstr,
                           size_t errsz)
{
    int again = 0, rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        if (!is_refused_for_good(slots[i].err))
            continue;
        LOG(LOG_WARN,
            "projection=%s topic=%s partition=%d offset=%lld dead letter refused by %s (%s): "
            "publishing it without its value and original headers",
            d->projection, slots[i].e->ev.topic, slots[i].e->ev.partition,
            (long long)slots[i].e->ev.offset, slots[i].e->dlq_topic,
            rd_kafka_err2str(slots[i].err));
        rc = produce_one(d, &slots[i], DLQ_MINIMAL, errstr, errsz);
        again++;
    }
    if (!again)
        return rc;
    wait_reports(d, dv);
    for (int i = 0; i < count; i++)
        if (is_refused_for_good(slots[i].err))
            LOG(LOG_ERROR,
                "projection=%s topic=%s partition=%d offset=%lld dead letter cannot be published "
                "to %s (%s), even without its value and headers: it is only in "
                "projector.dead_letters",
                d->projection, slots[i].e->ev.topic, slots[i].e->ev.partition,
                (long long)slots[i].e->ev.offset, slots[i].e->dlq_topic,
                rd_kafka_err2str(slots[i].err));
    return rc;
}

int dlq_publish(dlq_t *d, event_t *events, size_t n, char *errstr, size_t errstr_size)
{
    delivery_t dv = {0, 0, ""};
    int rc = 0, count = 0;
    slot_t *slots = xcalloc(n ? n : 1, sizeof(*slots));
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (events[i].state != EVENT_DEAD)
            continue;
        slots[count] = (slot_t){&dv, &events[i], RD_KAFKA_RESP_ERR_NO_ERROR};
        rc = produce_one(d, &slots[count++], DLQ_WHOLE, errstr, errstr_size);
    }
    wait_reports(d, &dv);
    if (rc == 0 && !dv.failed)
        rc = publish_refused(d, slots, count, &dv, errstr, errstr_size);
    if (rc == 0 && dv.failed) {
        snprintf(errstr, errstr_size, "%d of %d dead letter(s) not acknowledged: %s", dv.failed,
                 count, dv.error);
        rc = -1;
    }
    if (rc == 0)
        LOG(LOG_DEBUG, "projection=%s published %d dead letter(s)", d->projection, count);
    free(slots);
    return rc;
}
