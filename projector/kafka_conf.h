/* librdkafka configuration from the settings: brokers plus pass-through properties. */
#ifndef PROJECTOR_KAFKA_CONF_H
#define PROJECTOR_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config.h"

typedef struct kafka_prop {
    const char *name, *value;
} kafka_prop_t;

/* Returns a conf (caller owns) with bootstrap.servers, then `defaults`, then every pass-through
 * property of the user, then `forced` (what correctness depends on); or NULL with errstr naming
 * the property. Either list may be NULL (terminated by a {NULL, NULL} entry). */
rd_kafka_conf_t *kafka_conf_new(const config_t *cfg, const kafka_prop_t *defaults,
                                const kafka_prop_t *forced, char *errstr, size_t errstr_size);

#endif
