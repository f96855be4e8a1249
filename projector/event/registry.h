/* The Confluent Schema Registry as decoders use it: the wire format's header, and the writer's
 * schema of an id (GET /schemas/ids/{id}), fetched once per id for the process. */
#ifndef PROJECTOR_REGISTRY_H
#define PROJECTOR_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* What registry_schema() found. */
typedef enum {
    REGISTRY_OK,          /* the schema is known */
    REGISTRY_NOT_FOUND,   /* the registry answered that the id is not there: permanent */
    REGISTRY_UNREACHABLE, /* no answer, a timeout, 5xx, 429 or refused credentials: retriable */
    REGISTRY_BAD,         /* an answer that is no schema, or no registry.url: permanent */
} registry_result_t;

/* A schema as the registry holds it; lives as long as the process (never freed). */
typedef struct registry_schema {
    int32_t id;
    const char *type; /* schemaType: "AVRO" (the registry omits it for Avro), "JSON", ... */
    const char *text; /* the schema, as registered */
    void *parsed;     /* what a decoder made of it once (registry_schema_parsed()); NULL before */
} registry_schema_t;

/* Takes the registry settings (registry.url, .user, .password, .ca.file, .timeout.ms) from cfg
 * (copied) for every later registry_schema(). Call once, before any decoding thread starts. */
void registry_configure(const config_t *cfg);

/* Splits a wire-format value: magic byte 0, a 4-byte big-endian schema id, the payload. Returns 0
 * with *id and *payload_at (the payload's offset) set, or -1 with errstr saying what is wrong. */
int registry_wire_header(const void *value, size_t len, int32_t *id, size_t *payload_at,
                         char *errstr, size_t errstr_size) __attribute__((warn_unused_result));

/* The schema of id: from the cache, else fetched from the registry (one fetch per id for the
 * process; callers on other threads wait for it). *schema is borrowed for the process. Returns
 * REGISTRY_OK, or another result with errstr set. Thread-safe; blocks on a fetch (up to
 * registry.timeout.ms). */
registry_result_t registry_schema(int32_t id, const registry_schema_t **schema, char *errstr,
                                  size_t errstr_size) __attribute__((warn_unused_result));

/* Makes, once per schema, a decoder's parsed form: make(s->text, ...) returns it or NULL with
 * errstr set (not cached: the next call tries again). Returns s->parsed. Thread-safe. */
void *registry_schema_parsed(const registry_schema_t *s,
                             void *(*make)(const char *text, char *errstr, size_t errstr_size),
                             char *errstr, size_t errstr_size);

#endif
