/* Dead-letter publishing: failed events go to <topic>.dlq with the error in their headers. */
#ifndef PROJECTOR_DLQ_H
#define PROJECTOR_DLQ_H

#include <stddef.h>

#include "config.h"
#include "planner.h"

typedef struct dlq dlq_t;

/* Returns a publisher (an idempotent Kafka producer) for projection `projection`, or NULL with
 * errstr set. Caller owns it. */
dlq_t *dlq_new(const config_t *cfg, const char *projection, char *errstr, size_t errstr_size);
void dlq_destroy(dlq_t *d);

/* Publishes every EVENT_DEAD event of events[0, n) to its dlq_topic with the original key, value
 * and headers plus projector.* headers naming the error, stage, projection, topic, partition and
 * offset, and waits until all are acknowledged. A dead letter larger than the producer's
 * message.max.bytes has its value cut to fit (header projector.value_truncated: the original
 * size); one the broker refuses for good (its size, its form) is published once more without
 * value and original headers (projector.headers_dropped), and refused again, left out of the
 * topic (logged): projector.dead_letters holds every one whole. Blocks (up to
 * message.timeout.ms, 10 s by default). Returns 0, or -1 with errstr set when any was not
 * acknowledged for a reason that may pass (retry the batch). */
int dlq_publish(dlq_t *d, event_t *events, size_t n, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

#endif
