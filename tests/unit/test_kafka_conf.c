/* Unit tests of kafka_conf: each -X property reaches the clients it applies to, and only those. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "kafka_conf.h"
#include "support.h"

typedef struct prop_row {
    const char *user_name, *user_value; /* as given with -X */
    const char *property;               /* the librdkafka property to read back */
    const char *producer, *consumer;    /* its value in each kind of conf */
} prop_row_t;

static const prop_row_t prop_rows[] = {
    /* consumer properties stay out of producers, and producer ones out of consumers */
    {"session.timeout.ms", "6000", "session.timeout.ms", "45000", "6000"},
    {"max.poll.interval.ms", "400000", "max.poll.interval.ms", "300000", "400000"},
    {"linger.ms", "7", "linger.ms", "7", "5"},
    {"queue.buffering.max.ms", "9", "queue.buffering.max.ms", "9", "5"},
    /* properties of both kinds reach both */
    {"socket.timeout.ms", "12345", "socket.timeout.ms", "12345", "12345"},
    {"client.id", "mine", "client.id", "mine", "mine"},
    /* a client prefix sends a property to one kind only */
    {"consumer.socket.timeout.ms", "23456", "socket.timeout.ms", "60000", "23456"},
    {"producer.socket.timeout.ms", "34567", "socket.timeout.ms", "34567", "60000"},
    {"consumer.session.timeout.ms", "7000", "session.timeout.ms", "45000", "7000"},
};

/* The value of property in a conf of kind made from one -X name=value. */
static void value_in(const prop_row_t *r, kafka_conf_kind_t kind, char *out, size_t out_size)
{
    config_t *cfg = config_new();
    config_add_kafka(cfg, r->user_name, r->user_value);
    char err[512] = "";
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, kind, NULL, NULL, err, sizeof(err));
    if (!conf)
        fail_msg("-X %s=%s: %s", r->user_name, r->user_value, err);
    size_t n = out_size;
    if (rd_kafka_conf_get(conf, r->property, out, &n) != RD_KAFKA_CONF_OK)
        fail_msg("%s: not a property", r->property);
    rd_kafka_conf_destroy(conf);
    config_destroy(cfg);
}

static void test_properties_by_client(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(prop_rows); i++) {
        const prop_row_t *r = &prop_rows[i];
        char producer[256], consumer[256];
        value_in(r, KAFKA_CONF_PRODUCER, producer, sizeof(producer));
        value_in(r, KAFKA_CONF_CONSUMER, consumer, sizeof(consumer));
        if (strcmp(producer, r->producer) != 0 || strcmp(consumer, r->consumer) != 0)
            fail_msg("-X %s=%s: %s is %s in producers and %s in consumers, expected %s and %s",
                     r->user_name, r->user_value, r->property, producer, consumer, r->producer,
                     r->consumer);
    }
}

/* Validation (check) sets every property, so an unknown one is named whatever its prefix. */
static void test_unknown_property(void **state)
{
    (void)state;
    static const char *const names[] = {"no.such.property", "consumer.no.such.property",
                                        "producer.no.such"};
    for (size_t i = 0; i < N_ROWS(names); i++) {
        config_t *cfg = config_new();
        config_add_kafka(cfg, names[i], "1");
        char err[512] = "";
        rd_kafka_conf_t *conf = kafka_conf_new(cfg, KAFKA_CONF_ANY, NULL, NULL, err, sizeof(err));
        if (conf)
            fail_msg("-X %s=1 was accepted", names[i]);
        if (!strstr(err, "kafka property") || !strstr(err, "no.such"))
            fail_msg("-X %s=1: the message does not name it: %s", names[i], err);
        config_destroy(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_properties_by_client),
        cmocka_unit_test(test_unknown_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
