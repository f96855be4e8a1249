/* Settings: one table drives defaults, parsing (file, environment, flags), validation and help. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

typedef enum { T_STRING, T_INT, T_ENUM } setting_type_t;

typedef struct setting {
    const char *name; /* in the config file, and for config_set() */
    const char *flag; /* command-line flag, or NULL */
    const char *env;  /* environment variable */
    setting_type_t type;
    const char *def;     /* default, as text */
    long long min, max;  /* bounds for T_INT */
    const char *choices; /* "|"-separated, for T_ENUM */
    const char *desc;
    /* for T_STRING: checks the form of a value (0, or -1 with errstr); NULL: any text */
    int (*valid)(const char *value, char *errstr, size_t errstr_size);
} setting_t;

static int valid_brokers(const char *v, char *errstr, size_t errstr_size);
static int valid_listen(const char *v, char *errstr, size_t errstr_size);
static int valid_http_url(const char *v, char *errstr, size_t errstr_size);

static const setting_t settings[CFG__COUNT] = {
    [CFG_BROKERS] = {"brokers", "--brokers", "PROJECTOR_BROKERS", T_STRING, "localhost:9092", 0, 0,
                     NULL, "Kafka bootstrap servers, host:port[,host:port...]", valid_brokers},
    [CFG_PG] = {"pg", "--pg", "PROJECTOR_PG", T_STRING, "", 0, 0, NULL,
                "PostgreSQL conninfo or URI; empty means libpq's PG* variables"},
    [CFG_GROUP] = {"group", "--group", "PROJECTOR_GROUP", T_STRING, "projector", 0, 0, NULL,
                   "consumer group prefix; projection P consumes as group \"<group>.P\""},
    [CFG_MAPPINGS] = {"mappings", "--mappings", "PROJECTOR_MAPPINGS", T_STRING, "./mappings", 0, 0,
                      NULL, "directory of mapping files (*.json)"},
    [CFG_VIEWS] = {"views", "--views", "PROJECTOR_VIEWS", T_STRING, "./views", 0, 0, NULL,
                   "directory of read-table DDL (*.sql), applied in name order"},
    [CFG_BATCH_MAX_EVENTS] = {"batch.max.events", "--batch-max-events",
                              "PROJECTOR_BATCH_MAX_EVENTS", T_INT, "5000", 1, 100000, NULL,
                              "most events applied in one transaction"},
    [CFG_BATCH_WAIT_MS] = {"batch.wait.ms", "--batch-wait-ms", "PROJECTOR_BATCH_WAIT_MS", T_INT,
                           "100", 1, 60000, NULL,
                           "how long an idle projection waits for a first event"},
    [CFG_DECODE_THREADS] =
        {"decode.threads", "--decode-threads", "PROJECTOR_DECODE_THREADS", T_INT, "0", 0, 16, NULL,
         "threads decoding each projection's batches; 0: one per CPU beyond two (1..4)"},
    [CFG_MAX_EVENT_BYTES] = {"max.event.bytes", "--max-event-bytes", "PROJECTOR_MAX_EVENT_BYTES",
                             T_INT, "1048576", 64, 104857600, NULL,
                             "larger events are dead-lettered unparsed"},
    [CFG_RETRY_BACKOFF_MAX_MS] = {"retry.backoff.max.ms", "--retry-backoff-max-ms",
                                  "PROJECTOR_RETRY_BACKOFF_MAX_MS", T_INT, "10000", 10, 600000,
                                  NULL, "cap of the exponential backoff after a database error"},
    [CFG_DLQ_SUFFIX] = {"dlq.suffix", "--dlq-suffix", "PROJECTOR_DLQ_SUFFIX", T_STRING, ".dlq", 0,
                        0, NULL,
                        "dead-letter topic is <topic><suffix> unless the mapping names one"},
    [CFG_LOG_LEVEL] = {"log.level", "--log-level", "PROJECTOR_LOG_LEVEL", T_ENUM, "info", 0, 0,
                       "error|warn|info|debug", "least severe level logged"},
    [CFG_HTTP_LISTEN] = {"http.listen", "--http", "PROJECTOR_HTTP", T_STRING, "127.0.0.1:8080", 0,
                         0, NULL, "HTTP API address host:port; empty: no HTTP API", valid_listen},
    [CFG_READY_MAX_LAG] = {"ready.max.lag", "--ready-max-lag", "PROJECTOR_READY_MAX_LAG", T_INT,
                           "10000", 0, 1000000000, NULL,
                           "/readyz fails while a partition lags by more events than this"},
    [CFG_HTTP_TOKEN] = {"http.token", "--http-token", "PROJECTOR_HTTP_TOKEN", T_STRING, "", 0, 0,
                        NULL,
                        "bearer token the admin endpoints require; empty: loopback clients only"},
    [CFG_ES_URL] = {"es.url", "--es-url", "PROJECTOR_ES_URL", T_STRING, "", 0, 0, NULL,
                    "Elasticsearch/OpenSearch URL, http[s]://host:port; needed by mappings with "
                    "index actions"},
    [CFG_ES_USER] = {"es.user", "--es-user", "PROJECTOR_ES_USER", T_STRING, "", 0, 0, NULL,
                     "basic-auth user for Elasticsearch (with es.password)"},
    [CFG_ES_PASSWORD] = {"es.password", "--es-password", "PROJECTOR_ES_PASSWORD", T_STRING, "", 0,
                         0, NULL, "basic-auth password for Elasticsearch"},
    [CFG_ES_API_KEY] = {"es.api.key", "--es-api-key", "PROJECTOR_ES_API_KEY", T_STRING, "", 0, 0,
                        NULL, "Elasticsearch API key (base64 id:key), sent as \"ApiKey ...\""},
    [CFG_ES_CA_FILE] = {"es.ca.file", "--es-ca-file", "PROJECTOR_ES_CA_FILE", T_STRING, "", 0, 0,
                        NULL, "PEM CA bundle to verify Elasticsearch's certificate with"},
    [CFG_ES_TIMEOUT_MS] = {"es.timeout.ms", "--es-timeout-ms", "PROJECTOR_ES_TIMEOUT_MS", T_INT,
                           "30000", 100, 600000, NULL,
                           "an Elasticsearch request taking longer fails (and is retried)"},
    [CFG_ES_BULK_MAX_BYTES] = {"es.bulk.max.bytes", "--es-bulk-max-bytes",
                               "PROJECTOR_ES_BULK_MAX_BYTES", T_INT, "5242880", 1024, 104857600,
                               NULL, "largest _bulk request body; a batch's documents are split"},
    [CFG_ES_BULK_MAX_DOCS] = {"es.bulk.max.docs", "--es-bulk-max-docs",
                              "PROJECTOR_ES_BULK_MAX_DOCS", T_INT, "5000", 1, 100000, NULL,
                              "most documents in one _bulk request"},
    [CFG_ES_GZIP] = {"es.gzip", "--es-gzip", "PROJECTOR_ES_GZIP", T_ENUM, "false", 0, 0,
                     "false|true", "gzip the _bulk request bodies"},
    [CFG_REBUILD_MAX_LAG] = {"rebuild.max.lag", "--rebuild-max-lag", "PROJECTOR_REBUILD_MAX_LAG",
                             T_INT, "1000", 0, 1000000000, NULL,
                             "a blue/green rebuild switches once no partition of the new "
                             "generation lags by more events than this"},
    [CFG_REBUILD_BATCH_MAX_EVENTS] = {"rebuild.batch.max.events", "--rebuild-batch-max-events",
                                      "PROJECTOR_REBUILD_BATCH_MAX_EVENTS", T_INT, "10000", 1,
                                      100000, NULL,
                                      "most events applied in one transaction by a blue/green "
                                      "build (its tables start empty: larger batches fold more)"},
    [CFG_STALL_AFTER_MS] = {"stall.after.ms", "--stall-after-ms", "PROJECTOR_STALL_AFTER_MS", T_INT,
                            "60000", 100, 86400000, NULL,
                            "a projection that has failed the same batch for longer is reported "
                            "stalled (/readyz, /v1/projections, projector status, metrics)"},
    [CFG_LOG_FORMAT] = {"log.format", "--log-format", "PROJECTOR_LOG_FORMAT", T_ENUM, "text", 0, 0,
                        "text|json", "log lines for people (text) or JSON lines"},
    [CFG_HTTP_WORKERS] = {"http.workers", "--http-workers", "PROJECTOR_HTTP_WORKERS", T_INT, "4", 1,
                          64, NULL,
                          "HTTP API threads answering database and search requests, each with "
                          "its own database connection"},
    [CFG_REGISTRY_URL] = {"registry.url", "--registry-url", "PROJECTOR_REGISTRY_URL", T_STRING, "",
                          0, 0, NULL,
                          "Confluent Schema Registry URL, http[s]://host:port; needed by mappings "
                          "of format registry-json or registry-avro (check reads the schemas of "
                          "upcasters' versions there)",
                          valid_http_url},
    [CFG_REGISTRY_USER] = {"registry.user", "--registry-user", "PROJECTOR_REGISTRY_USER", T_STRING,
                           "", 0, 0, NULL, "basic-auth user for the schema registry"},
    [CFG_REGISTRY_PASSWORD] = {"registry.password", "--registry-password",
                               "PROJECTOR_REGISTRY_PASSWORD", T_STRING, "", 0, 0, NULL,
                               "basic-auth password for the schema registry"},
    [CFG_REGISTRY_CA_FILE] = {"registry.ca.file", "--registry-ca-file",
                              "PROJECTOR_REGISTRY_CA_FILE", T_STRING, "", 0, 0, NULL,
                              "PEM CA bundle to verify the schema registry's certificate with"},
    [CFG_REGISTRY_TIMEOUT_MS] = {"registry.timeout.ms", "--registry-timeout-ms",
                                 "PROJECTOR_REGISTRY_TIMEOUT_MS", T_INT, "10000", 100, 600000, NULL,
                                 "a schema registry request taking longer fails (and is retried)"},
};

/* host:port with a port of 1..65535; returns 0 or -1. */
static int host_port(const char *v, size_t len)
{
    const char *colon = memrchr(v, ':', len);
    if (!colon || colon == v)
        return -1;
    size_t digits = len - (size_t)(colon - v) - 1;
    long port = 0;
    for (size_t i = 1; i <= digits; i++) {
        if (colon[i] < '0' || colon[i] > '9')
            return -1;
        port = port * 10 + (colon[i] - '0');
        if (port > 65535)
            return -1;
    }
    return digits && port > 0 ? 0 : -1;
}

/* A comma-separated list of host[:port] (librdkafka takes a bare host as port 9092). */
static int valid_brokers(const char *v, char *errstr, size_t errstr_size)
{
    for (const char *p = v;; p++) {
        size_t len = strcspn(p, ",");
        size_t blank = strspn(p, " ");
        if (blank >= len) {
            snprintf(errstr, errstr_size, "%s: expected host:port[,host:port...]",
                     *v ? "an empty broker in the list" : "empty");
            return -1;
        }
        p += len;
        if (!*p)
            return 0;
    }
}

static int valid_listen(const char *v, char *errstr, size_t errstr_size)
{
    if (!*v || host_port(v, strlen(v)) == 0)
        return 0;
    snprintf(errstr, errstr_size,
             "expected host:port (as in 127.0.0.1:8080), or empty for no HTTP API, got \"%s\"", v);
    return -1;
}

/* Empty, or an http:// or https:// URL. */
static int valid_http_url(const char *v, char *errstr, size_t errstr_size)
{
    if (!*v || strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0)
        return 0;
    snprintf(errstr, errstr_size, "expected http[s]://host:port, got \"%s\"", v);
    return -1;
}

typedef struct kv {
    char *key, *value;
} kv_t;

struct config {
    char *values[CFG__COUNT];
    const char *origins[CFG__COUNT]; /* "default", "file", "env", "flag" */
    long long ints[CFG__COUNT];
    kv_t *kafka;
    size_t nkafka;
};

config_t *config_new(void)
{
    config_t *cfg = xcalloc(1, sizeof(*cfg));
    for (int i = 0; i < CFG__COUNT; i++) {
        cfg->values[i] = xstrdup(settings[i].def);
        cfg->origins[i] = "default";
        if (settings[i].type == T_INT)
            cfg->ints[i] = strtoll(settings[i].def, NULL, 10);
    }
    return cfg;
}

void config_destroy(config_t *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < CFG__COUNT; i++)
        free(cfg->values[i]);
    for (size_t i = 0; i < cfg->nkafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    free(cfg);
}

static int find_setting(const char *name)
{
    for (int i = 0; i < CFG__COUNT; i++)
        if (strcmp(settings[i].name, name) == 0)
            return i;
    return -1;
}

const char *config_flag_setting(const char *flag)
{
    for (int i = 0; i < CFG__COUNT; i++)
        if (settings[i].flag && strcmp(settings[i].flag, flag) == 0)
            return settings[i].name;
    return NULL;
}

static int choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

int config_set(config_t *cfg, const char *name, const char *value, const char *origin, char *errstr,
               size_t errstr_size)
{
    int i = find_setting(name);
    if (i < 0) {
        snprintf(errstr, errstr_size, "%s: unknown setting \"%s\"", origin, name);
        return -1;
    }
    const setting_t *s = &settings[i];
    if (s->type == T_INT) {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end) {
            snprintf(errstr, errstr_size, "%s: %s: expected an integer, got \"%s\"", origin, name,
                     value);
            return -1;
        }
        if (v < s->min || v > s->max) {
            snprintf(errstr, errstr_size, "%s: %s: %lld is out of range %lld..%lld", origin, name,
                     v, s->min, s->max);
            return -1;
        }
        cfg->ints[i] = v;
    } else if (s->type == T_ENUM && !choice_ok(s->choices, value)) {
        snprintf(errstr, errstr_size, "%s: %s: \"%s\" is not one of %s", origin, name, value,
                 s->choices);
        return -1;
    } else if (s->valid) {
        char why[512];
        if (s->valid(value, why, sizeof(why)) != 0) {
            snprintf(errstr, errstr_size, "%s: %s: %s", origin, name, why);
            return -1;
        }
    }
    free(cfg->values[i]);
    cfg->values[i] = xstrdup(value);
    cfg->origins[i] = origin;
    return 0;
}

void config_add_kafka(config_t *cfg, const char *key, const char *value)
{
    kv_t *k = xrealloc(cfg->kafka, (cfg->nkafka + 1) * sizeof(*k));
    cfg->kafka = k;
    k[cfg->nkafka++] = (kv_t){xstrdup(key), xstrdup(value)};
}

/* Renders a JSON scalar as setting text; returns 0, or -1 for objects, arrays and null. */
static int scalar_text(json_t *v, char *buf, size_t size)
{
    if (json_is_string(v))
        snprintf(buf, size, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, size, "%.15g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
    else
        return -1;
    return 0;
}

static int load_kafka_object(config_t *cfg, const char *path, json_t *obj, char *errstr,
                             size_t errstr_size)
{
    if (!json_is_object(obj)) {
        snprintf(errstr, errstr_size, "%s: $.kafka: expected an object of librdkafka properties",
                 path);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        char buf[1024];
        if (scalar_text(v, buf, sizeof(buf)) != 0) {
            snprintf(errstr, errstr_size, "%s: $.kafka.%s: expected a string, number or boolean",
                     path, k);
            return -1;
        }
        config_add_kafka(cfg, k, buf);
    }
    return 0;
}

int config_load_file(config_t *cfg, const char *path, char *errstr, size_t errstr_size)
{
    if (access(path, R_OK) != 0) {
        snprintf(errstr, errstr_size, "%s: cannot read the config file: %s", path, strerror(errno));
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(root)) {
        snprintf(errstr, errstr_size, "%s: $: expected a JSON object", path);
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "kafka") == 0) {
            if (load_kafka_object(cfg, path, v, errstr, errstr_size) != 0)
                goto done;
            continue;
        }
        char buf[4096], origin[512];
        snprintf(origin, sizeof(origin), "%s: $.%s", path, k);
        if (find_setting(k) < 0) {
            snprintf(errstr, errstr_size, "%s: unknown setting (see 'projector run --help')",
                     origin);
            goto done;
        }
        if (scalar_text(v, buf, sizeof(buf)) != 0) {
            snprintf(errstr, errstr_size, "%s: expected a string or number", origin);
            goto done;
        }
        char inner[512];
        if (config_set(cfg, k, buf, "file", inner, sizeof(inner)) != 0) {
            /* inner starts with "file: name: ..."; keep only the message part */
            const char *msg = strchr(inner + 6, ':');
            snprintf(errstr, errstr_size, "%s: %s", origin, msg ? msg + 2 : inner);
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

int config_load_env(config_t *cfg, char *errstr, size_t errstr_size)
{
    for (int i = 0; i < CFG__COUNT; i++) {
        const char *v = getenv(settings[i].env);
        if (!v)
            continue;
        if (config_set(cfg, settings[i].name, v, settings[i].env, errstr, errstr_size) != 0)
            return -1;
        cfg->origins[i] = "env";
    }
    return 0;
}

const char *config_str(const config_t *cfg, config_key_t key)
{
    return cfg->values[key];
}

long long config_int(const config_t *cfg, config_key_t key)
{
    return cfg->ints[key];
}

int config_listen(const config_t *cfg, char *host, size_t hostsz, int *port)
{
    const char *v = cfg->values[CFG_HTTP_LISTEN];
    size_t len = strlen(v);
    if (host_port(v, len) != 0)
        return -1;
    const char *colon = memrchr(v, ':', len);
    if ((size_t)(colon - v) >= hostsz)
        return -1;
    memcpy(host, v, (size_t)(colon - v));
    host[colon - v] = '\0';
    *port = atoi(colon + 1);
    return 0;
}

size_t config_kafka_count(const config_t *cfg)
{
    return cfg->nkafka;
}

void config_kafka_get(const config_t *cfg, size_t i, const char **key, const char **value)
{
    *key = cfg->kafka[i].key;
    *value = cfg->kafka[i].value;
}

/* Does the setting's name start with one of prefixes (NULL: every setting matches)? */
static int setting_listed(const setting_t *s, const char *const *prefixes)
{
    for (size_t k = 0; prefixes && prefixes[k]; k++)
        if (strncmp(s->name, prefixes[k], strlen(prefixes[k])) == 0)
            return 1;
    return !prefixes;
}

void config_print_help(FILE *out, const char *const *prefixes)
{
    fprintf(out, "Settings (flag / environment variable / config file key, default):\n");
    for (int i = 0; i < CFG__COUNT; i++) {
        const setting_t *s = &settings[i];
        if (!setting_listed(s, prefixes))
            continue;
        fprintf(out, "  %-24s %-32s %s\n", s->flag ? s->flag : "", s->env, s->desc);
        fprintf(out, "  %-24s %-32s file key \"%s\", default \"%s\"%s%s\n", "", "", s->name, s->def,
                s->choices ? ", one of " : "", s->choices ? s->choices : "");
    }
    fprintf(out, "  %-24s %-32s %s\n", "-X key=value", "",
            "a librdkafka property (also the "
            "config file's \"kafka\" object)");
    fprintf(out, "  %-24s %-32s %s\n", "--config FILE", "PROJECTOR_CONFIG",
            "JSON config file with the keys above");
}

static int is_secret(const char *key)
{
    return strstr(key, "password") || strstr(key, "secret") || strstr(key, "key") ||
           strstr(key, "token");
}

void config_dump(const config_t *cfg, FILE *out)
{
    for (int i = 0; i < CFG__COUNT; i++) {
        const char *v = cfg->values[i];
        if (i == CFG_PG && strstr(v, "password"))
            v = "(set, contains a password)";
        else if (is_secret(settings[i].name) && *v)
            v = "****";
        fprintf(out, "%s = %s (%s)\n", settings[i].name, v, cfg->origins[i]);
    }
    for (size_t i = 0; i < cfg->nkafka; i++)
        fprintf(out, "kafka.%s = %s\n", cfg->kafka[i].key,
                is_secret(cfg->kafka[i].key) ? "****" : cfg->kafka[i].value);
}
