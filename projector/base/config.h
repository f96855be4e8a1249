/* Settings: one table drives defaults, parsing (file, environment, flags), validation and help. */
#ifndef PROJECTOR_CONFIG_H
#define PROJECTOR_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* Indexes into the settings table; keep in the table's order. */
typedef enum {
    CFG_BROKERS,
    CFG_PG,
    CFG_GROUP,
    CFG_MAPPINGS,
    CFG_VIEWS,
    CFG_BATCH_MAX_EVENTS,
    CFG_BATCH_WAIT_MS,
    CFG_DECODE_THREADS,
    CFG_MAX_EVENT_BYTES,
    CFG_RETRY_BACKOFF_MAX_MS,
    CFG_DLQ_SUFFIX,
    CFG_LOG_LEVEL,
    CFG_LOG_FORMAT,
    CFG_HTTP_LISTEN,
    CFG_READY_MAX_LAG,
    CFG_HTTP_TOKEN,
    CFG_ES_URL,
    CFG_ES_USER,
    CFG_ES_PASSWORD,
    CFG_ES_API_KEY,
    CFG_ES_CA_FILE,
    CFG_ES_TIMEOUT_MS,
    CFG_ES_BULK_MAX_BYTES,
    CFG_ES_BULK_MAX_DOCS,
    CFG_ES_GZIP,
    CFG_REBUILD_MAX_LAG,
    CFG_REBUILD_BATCH_MAX_EVENTS,
    CFG_HTTP_WORKERS,
    CFG_STALL_AFTER_MS,
    CFG_REGISTRY_URL,
    CFG_REGISTRY_USER,
    CFG_REGISTRY_PASSWORD,
    CFG_REGISTRY_CA_FILE,
    CFG_REGISTRY_TIMEOUT_MS,
    CFG__COUNT
} config_key_t;

typedef struct config config_t;

/* Returns a config holding every default; caller owns it (config_destroy()). */
config_t *config_new(void);
void config_destroy(config_t *cfg);

/* Loads a JSON config file: known settings plus a "kafka" object of librdkafka properties.
 * Returns 0, or -1 with "file: json.path: message" in errstr. */
int config_load_file(config_t *cfg, const char *path, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));
/* Applies PROJECTOR_* environment variables; returns 0 or -1 naming the variable. */
int config_load_env(config_t *cfg, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));
/* Sets a setting by its name ("batch.max.events") from text, validating type and bounds.
 * origin names where the value came from, for the message. Returns 0 or -1. */
int config_set(config_t *cfg, const char *name, const char *value, const char *origin, char *errstr,
               size_t errstr_size) __attribute__((warn_unused_result));
/* Looks up the setting a command-line flag ("--brokers") stands for; NULL when none. */
const char *config_flag_setting(const char *flag);
/* Adds a librdkafka property to pass through ("-X key=value" or the file's "kafka" object). */
void config_add_kafka(config_t *cfg, const char *key, const char *value);

const char *config_str(const config_t *cfg, config_key_t key);
long long config_int(const config_t *cfg, config_key_t key);
/* http.listen ("host:port", as its validator accepts it) split: the host into host[0..hostsz)
 * and the port. Returns 0, or -1 when the setting is empty (no HTTP API), is not host:port or
 * its host does not fit. */
int config_listen(const config_t *cfg, char *host, size_t hostsz, int *port)
    __attribute__((warn_unused_result));
/* The pass-through librdkafka properties, in the order given. */
size_t config_kafka_count(const config_t *cfg);
void config_kafka_get(const config_t *cfg, size_t i, const char **key, const char **value);

/* Prints the flags and environment variables, for --help: the settings whose names start with
 * one of prefixes (a NULL-terminated list), or every setting when prefixes is NULL. */
void config_print_help(FILE *out, const char *const *prefixes);
/* Prints every setting with its value and where it came from; secrets are masked. */
void config_dump(const config_t *cfg, FILE *out);

#endif
