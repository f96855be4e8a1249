/* The fetcher's decoding: a batch's messages into events (decoded, upcast, evaluated), on the
 * fetching thread and the decode workers at once. */
#ifndef PROJECTOR_FETCH_DECODE_H
#define PROJECTOR_FETCH_DECODE_H

#include <librdkafka/rdkafka.h>

#include "arena.h"
#include "config.h"
#include "decode.h"
#include "event.h"
#include "fetcher.h"
#include "mapping.h"

typedef struct fetch_decoder fetch_decoder_t;

/* Returns the decoder of m's format for the fetcher of projection `label`, with its decode
 * workers (decode.threads of cfg; 0: one per CPU beyond two, up to 4, at least one), or NULL with
 * errstr set (no decoder for the format, or the format's settings are missing). m is borrowed
 * (cfg is read here only). Caller owns it. */
fetch_decoder_t *fetch_decoder_new(const config_t *cfg, const mapping_t *m, const char *label,
                                   char *errstr, size_t errstr_size);
void fetch_decoder_destroy(fetch_decoder_t *d);
/* The workers a batch is decoded on, the fetching thread included: each has its own arena in a
 * batch (fetch_batch_t.arenas). */
int fetch_decoder_workers(const fetch_decoder_t *d);

/* Fills e from msg: metadata, and the value decoded once in the mapping's format, upcast, with
 * its values in arena. Returns EVENT_DECODE_RETRY when the decoder cannot decide yet (e->error
 * says why). Call inside arena's json_alloc.h scope. */
event_decode_status_t fetch_decode_one(const fetch_decoder_t *d, rd_kafka_message_t *msg,
                                       event_t *e, arena_t *arena);

/* Decodes b's messages into b->events and evaluates them (event_evaluate()), spread over the
 * workers in contiguous ranges, each worker in its own arena of b. An event whose decoder could
 * not decide, and once one could not, every event not decoded yet, is left with e->retry set
 * and not evaluated: the caller decodes those again in order (fetch_decode_one(), b->arena) and
 * evaluates them. Call outside any json_alloc.h scope. */
void fetch_decode_batch(const fetch_decoder_t *d, fetch_batch_t *b);

#endif
