/* Test tool: produces messages with per-message headers, which kcat's -H (one set for a whole run)
 * cannot: each line of stdin is {"key": text|null, "value": text|null, "headers": [[name, value],
 * ...]}, a null value being a tombstone; "value_hex" instead of "value" gives binary bytes (the
 * schema registry's wire format). Usage: produce_lines BROKERS TOPIC < lines. Exits 0 once
 * every message is acknowledged, else 1 with the reason on stderr. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

static long long failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err && failed++ == 0)
        fprintf(stderr, "produce_lines: delivery failed: %s\n", rd_kafka_err2str(m->err));
}

/* The headers of line l ([[name, value], ...]) as librdkafka's (the caller owns them), or NULL
 * after printing the problem. */
static rd_kafka_headers_t *headers_of(json_t *h, long long l)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(json_array_size(h));
    for (size_t i = 0; i < json_array_size(h); i++) {
        json_t *p = json_array_get(h, i);
        const char *name = json_string_value(json_array_get(p, 0));
        json_t *v = json_array_get(p, 1);
        if (!name || (!json_is_string(v) && !json_is_null(v))) {
            fprintf(stderr, "produce_lines: line %lld: a header is [name, text or null]\n", l);
            rd_kafka_headers_destroy(hdrs);
            return NULL;
        }
        rd_kafka_header_add(hdrs, name, -1, json_string_value(v),
                            v && json_is_string(v) ? (ssize_t)json_string_length(v) : 0);
    }
    return hdrs;
}

/* Decodes hex text into a new buffer of *len bytes (the caller frees it), or NULL when not hex. */
static char *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    char *out = n % 2 ? NULL : malloc(n / 2 + 1);
    for (size_t i = 0; out && i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            free(out);
            return NULL;
        }
        out[i] = (char)v;
    }
    *len = n / 2;
    return out;
}

/* Produces line l; 0, or -1 after printing the problem. */
static int produce(rd_kafka_t *rk, const char *topic, const char *line, long long l)
{
    json_error_t jerr;
    json_t *j = json_loads(line, 0, &jerr);
    json_t *key = json_object_get(j, "key"), *value = json_object_get(j, "value");
    if (!json_is_object(j) || (key && !json_is_string(key) && !json_is_null(key)) ||
        (value && !json_is_string(value) && !json_is_null(value))) {
        fprintf(stderr, "produce_lines: line %lld: expected {\"key\", \"value\", \"headers\"}\n",
                l);
        json_decref(j);
        return -1;
    }
    rd_kafka_headers_t *hdrs = headers_of(json_object_get(j, "headers"), l);
    if (!hdrs) {
        json_decref(j);
        return -1;
    }
    const char *vdata = json_string_value(value);
    size_t vlen = json_is_string(value) ? json_string_length(value) : 0;
    char *bin = NULL;
    if (json_is_string(json_object_get(j, "value_hex"))) {
        bin = unhex(json_string_value(json_object_get(j, "value_hex")), &vlen);
        if (!bin) {
            fprintf(stderr, "produce_lines: line %lld: value_hex is not hex\n", l);
            rd_kafka_headers_destroy(hdrs);
            json_decref(j);
            return -1;
        }
        vdata = bin;
    }
    rd_kafka_resp_err_t err;
    do {
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_KEY(json_string_value(key),
                                               json_is_string(key) ? json_string_length(key) : 0),
                                RD_KAFKA_V_VALUE((void *)vdata, vlen), RD_KAFKA_V_HEADERS(hdrs),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 100);
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    free(bin);
    json_decref(j);
    if (err) {
        rd_kafka_headers_destroy(hdrs);
        fprintf(stderr, "produce_lines: line %lld: %s\n", l, rd_kafka_err2str(err));
        return -1;
    }
    rd_kafka_poll(rk, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: produce_lines BROKERS TOPIC < lines\n");
        return 2;
    }
    char errstr[512];
    const char *const props[][2] = {
        {"bootstrap.servers", argv[1]},
        {"enable.idempotence", "true"},
        {"linger.ms", "5"},
        {"queue.buffering.max.messages", "1000000"},
        {"partitioner", "murmur2_random"},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof(errstr))) {
            fprintf(stderr, "produce_lines: %s\n", errstr);
            return 1;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "produce_lines: %s\n", errstr);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long long l = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, stdin) > 0)
        rc = produce(rk, argv[2], line, ++l);
    free(line);
    if (rd_kafka_flush(rk, 600000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "produce_lines: flush timed out\n");
        rc = -1;
    }
    rd_kafka_destroy(rk);
    if (failed)
        fprintf(stderr, "produce_lines: %lld message(s) not delivered\n", failed);
    return rc == 0 && !failed ? 0 : 1;
}
