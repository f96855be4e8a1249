/* librdkafka configuration from the settings: brokers plus pass-through properties. */
#include "kafka_conf.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

/* librdkafka logs through our logger, context first. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    log_level_t l = level <= 3   ? LOG_ERROR
                    : level <= 4 ? LOG_WARN
                    : level <= 6 ? LOG_INFO
                                 : LOG_DEBUG;
    LOG(l, "kafka=%s facility=%s %s", rd_kafka_name(rk), fac, buf);
}

static int set_all(rd_kafka_conf_t *conf, const kafka_prop_t *props, char *errstr, size_t errsz)
{
    char err[512];
    for (; props && props->name; props++) {
        if (rd_kafka_conf_set(conf, props->name, props->value, err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(errstr, errsz, "kafka property %s: %s", props->name, err);
            return -1;
        }
    }
    return 0;
}

rd_kafka_conf_t *kafka_conf_new(const config_t *cfg, const kafka_prop_t *defaults,
                                const kafka_prop_t *forced, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const kafka_prop_t base[] = {{"bootstrap.servers", config_str(cfg, CFG_BROKERS)},
                                 {"client.id", "projector"},
                                 {"log.connection.close", "false"},
                                 {NULL, NULL}};
    if (set_all(conf, base, errstr, errstr_size) != 0 ||
        set_all(conf, defaults, errstr, errstr_size) != 0)
        goto fail;
    rd_kafka_conf_set_log_cb(conf, on_log);
    for (size_t i = 0; i < config_kafka_count(cfg); i++) {
        kafka_prop_t user[2] = {{NULL, NULL}, {NULL, NULL}};
        config_kafka_get(cfg, i, &user[0].name, &user[0].value);
        if (set_all(conf, user, errstr, errstr_size) != 0)
            goto fail;
    }
    if (set_all(conf, forced, errstr, errstr_size) != 0)
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
