/* The Confluent Schema Registry as decoders use it: the wire format's header, the writer's
 * schema of an id (GET /schemas/ids/{id}) and the subjects and versions it is registered under
 * (GET /schemas/ids/{id}/versions), each fetched once per id for the process; and as `check`
 * uses it: the subjects, and a subject's schema at a version. */
#ifndef PROJECTOR_REGISTRY_H
#define PROJECTOR_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mapping.h"

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
    /* the record's full name, as RecordNameStrategy names subjects: an Avro record's
     * namespace.name, a JSON Schema's title; NULL when it has none (registry_record_name()) */
    const char *record;
    void *parsed; /* what a decoder made of it once (registry_schema_parsed()); NULL before */
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

/* The record full name of a schema of type type ("AVRO", "JSON") and text: a new string (the
 * caller frees it), or NULL when the schema has none (not a record, no title). */
char *registry_record_name(const char *type, const char *text);

/* One subject and version a schema id is registered under. */
typedef struct registry_subject_version {
    const char *subject;
    long version;
} registry_subject_version_t;

/* The subjects and versions id is registered under (soft-deleted ones included: an event keeps
 * the version it was written with): from the cache, else fetched (once per id for the process,
 * like registry_schema()). *pairs (*n of them) are borrowed for the process. Returns REGISTRY_OK,
 * REGISTRY_NOT_FOUND (the registry holds no schema id), REGISTRY_UNREACHABLE or REGISTRY_BAD,
 * with errstr set. Thread-safe; blocks on a fetch (up to registry.timeout.ms). */
registry_result_t registry_schema_versions(int32_t id, const registry_subject_version_t **pairs,
                                           size_t *n, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* What registry_choose_subject() found. */
typedef enum {
    REGISTRY_CHOSEN,     /* *version is set */
    REGISTRY_NO_SUBJECT, /* no pair under the subject(s) chosen: errstr says which, and the
                          * subjects the id has */
    REGISTRY_AMBIGUOUS,  /* two or more pairs could be it: errstr names them */
} registry_choice_t;

/* Chooses, among the n pairs of schema id (whose record full name is record, may be NULL) for
 * an event of topic, the version under the subject that how (and named, for
 * MAPPING_SUBJECT_NAMED) says. Writes why not into errstr (naming the id, the subjects
 * considered, those the id has, and what to set). Does not block. */
registry_choice_t registry_choose_subject(int32_t id, const registry_subject_version_t *pairs,
                                          size_t n, mapping_subject_t how, const char *named,
                                          const char *topic, const char *record, long *version,
                                          char *errstr, size_t errstr_size);

/* Whether an event of event_type written with a schema (schema_type "AVRO" or "JSON", text) can
 * have the field keys[0, n) (object keys; "*" an array's element): 1 it can (for JSON Schema
 * also where the schema does not say: no "properties"), 0 it cannot, -1 not known (another
 * schema type, or text that is not JSON). Of a top-level Avro union, the record named
 * event_type is taken when there is one. Does not block. */
int registry_schema_has(const char *schema_type, const char *text, const char *event_type,
                        const char *const *keys, size_t n);

/* For `check`: the subjects the registry has (GET /subjects; *subjects and each string new, the
 * caller frees them), and the schema of subject at version (GET /subjects/{s}/versions/{v};
 * *type and *text new: REGISTRY_NOT_FOUND when the registry has no such subject or version).
 * Not cached. Block up to registry.timeout.ms. */
registry_result_t registry_subjects(char ***subjects, size_t *n, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));
registry_result_t registry_subject_schema(const char *subject, long version, char **type,
                                          char **text, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

#endif
