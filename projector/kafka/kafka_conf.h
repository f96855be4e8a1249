/* librdkafka configuration from the settings: brokers plus pass-through properties. */
#ifndef PROJECTOR_KAFKA_CONF_H
#define PROJECTOR_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config.h"

typedef struct kafka_prop {
    const char *name, *value;
} kafka_prop_t;

/* The kind of client a conf is for: the user's properties are passed to the clients they apply
 * to. */
typedef enum {
    KAFKA_CONF_PRODUCER, /* dead-letter publishing, watermark and metadata queries */
    KAFKA_CONF_CONSUMER, /* the projections' consumers */
    KAFKA_CONF_ANY,      /* validation only (check): every property is set */
} kafka_conf_kind_t;

/* Returns a conf (caller owns) with bootstrap.servers, then `defaults`, then the user's
 * pass-through properties that apply to kind, then `forced` (what correctness depends on); or
 * NULL with errstr naming the property. A user property "consumer.NAME" or "producer.NAME"
 * applies NAME to that kind of client only; a plain NAME applies to every client librdkafka
 * documents it for (session.timeout.ms: consumers; linger.ms: producers; client.id: both).
 * Either list may be NULL (terminated by a {NULL, NULL} entry). Does not block. */
rd_kafka_conf_t *kafka_conf_new(const config_t *cfg, kafka_conf_kind_t kind,
                                const kafka_prop_t *defaults, const kafka_prop_t *forced,
                                char *errstr, size_t errstr_size);

#endif
