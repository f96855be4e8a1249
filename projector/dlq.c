/* Dead-letter publishing: failed events go to <topic>.dlq with the error in their headers. */
#include "dlq.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_conf.h"
#include "log.h"

struct dlq {
    rd_kafka_t *rk;
    char *projection;
};

/* Delivery accounting of one dlq_publish() call. */
typedef struct delivery {
    int pending;
    int failed;
    char error[256];
} delivery_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    delivery_t *d = m->_private;
    if (!d)
        return;
    d->pending--;
    if (m->err) {
        d->failed++;
        snprintf(d->error, sizeof(d->error), "%s [%d]: %s", rd_kafka_topic_name(m->rkt),
                 m->partition, rd_kafka_err2str(m->err));
    }
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
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    dlq_t *d = calloc(1, sizeof(*d));
    if (!d || !(d->projection = strdup(projection)))
        abort();
    d->rk = rk;
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

static rd_kafka_headers_t *dead_headers(const dlq_t *d, const plan_event_t *e)
{
    const rd_kafka_message_t *src = e->source;
    rd_kafka_headers_t *orig = NULL, *h;
    if (src && rd_kafka_message_headers(src, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
        h = rd_kafka_headers_copy(orig);
    else
        h = rd_kafka_headers_new(8);
    char num[32];
    add_header(h, "projector.error", e->error ? e->error : "");
    add_header(h, "projector.stage", e->stage ? e->stage : "");
    add_header(h, "projector.projection", d->projection);
    add_header(h, "projector.topic", e->ev.topic);
    snprintf(num, sizeof(num), "%d", e->ev.partition);
    add_header(h, "projector.partition", num);
    snprintf(num, sizeof(num), "%lld", (long long)e->ev.offset);
    add_header(h, "projector.offset", num);
    return h;
}

static int produce_one(dlq_t *d, const plan_event_t *e, delivery_t *dv, char *errstr, size_t errsz)
{
    rd_kafka_headers_t *h = dead_headers(d, e);
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(e->dlq_topic), RD_KAFKA_V_KEY(e->ev.key, e->ev.key_len),
            RD_KAFKA_V_VALUE((void *)e->value, e->value_len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(dv),
            RD_KAFKA_V_END);
        if (!err) {
            dv->pending++;
            return 0; /* the producer owns h now */
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 100) {
            snprintf(errstr, errsz, "producing to %s: %s", e->dlq_topic, rd_kafka_err2str(err));
            rd_kafka_headers_destroy(h);
            return -1;
        }
        rd_kafka_poll(d->rk, 100);
    }
}

int dlq_publish(dlq_t *d, plan_event_t *events, size_t n, char *errstr, size_t errstr_size)
{
    delivery_t dv = {0, 0, ""};
    int rc = 0, count = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (events[i].state != PLAN_DEAD)
            continue;
        rc = produce_one(d, &events[i], &dv, errstr, errstr_size);
        count++;
    }
    rd_kafka_flush(d->rk, 30000);
    while (dv.pending > 0) /* after a timed-out flush: wait for the reports, then fail */
        rd_kafka_poll(d->rk, 100);
    if (rc == 0 && dv.failed) {
        snprintf(errstr, errstr_size, "%d of %d dead letter(s) not acknowledged: %s", dv.failed,
                 count, dv.error);
        rc = -1;
    }
    if (rc == 0)
        LOG(LOG_DEBUG, "projection=%s published %d dead letter(s)", d->projection, count);
    return rc;
}
