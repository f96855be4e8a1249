/* librdkafka configuration from the settings: brokers plus pass-through properties. */
#include "kafka_conf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

/* librdkafka's properties with the clients they apply to ('C', 'P' or '*'), read once from its
 * own table (rd_kafka_conf_properties_show(): "name | C/P | range | ..."). */
typedef struct prop_scope {
    char name[64];
    char scope;
} prop_scope_t;

static prop_scope_t *scopes;
static size_t nscopes;
static pthread_once_t scopes_once = PTHREAD_ONCE_INIT;

static void scopes_read(void)
{
    char *text = NULL, *save = NULL;
    size_t len = 0, cap = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    rd_kafka_conf_properties_show(f);
    fclose(f);
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[64], scope[8];
        if (sscanf(line, "%63s | %7[CP*/] |", name, scope) != 2 || strcmp(name, "Property") == 0)
            continue;
        if (nscopes == cap) {
            cap = cap ? 2 * cap : 256;
            prop_scope_t *grown = xrealloc(scopes, cap * sizeof(*scopes));
            scopes = grown;
        }
        snprintf(scopes[nscopes].name, sizeof(scopes[nscopes].name), "%s", name);
        scopes[nscopes++].scope = strchr(scope, '/') ? '*' : scope[0];
    }
    free(text);
}

/* Does property name apply to kind? Unknown names apply (librdkafka then names the problem). */
static int applies(const char *name, kafka_conf_kind_t kind)
{
    if (kind == KAFKA_CONF_ANY)
        return 1;
    pthread_once(&scopes_once, scopes_read);
    for (size_t i = 0; i < nscopes; i++)
        if (strcmp(scopes[i].name, name) == 0)
            return scopes[i].scope == '*' ||
                   scopes[i].scope == (kind == KAFKA_CONF_CONSUMER ? 'C' : 'P');
    return 1;
}

/* The client prefixes of -X names: "consumer.NAME" sets NAME on consumers only. */
static const struct {
    const char *prefix;
    kafka_conf_kind_t kind;
} client_prefixes[] = {{"consumer.", KAFKA_CONF_CONSUMER}, {"producer.", KAFKA_CONF_PRODUCER}};

/* The property a user's name sets for kind, or NULL when it is not for that kind. */
static const char *user_property(const char *name, kafka_conf_kind_t kind)
{
    for (size_t i = 0; i < sizeof(client_prefixes) / sizeof(client_prefixes[0]); i++) {
        size_t n = strlen(client_prefixes[i].prefix);
        if (strncmp(name, client_prefixes[i].prefix, n) == 0)
            return kind == KAFKA_CONF_ANY || kind == client_prefixes[i].kind ? name + n : NULL;
    }
    return applies(name, kind) ? name : NULL;
}

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

rd_kafka_conf_t *kafka_conf_new(const config_t *cfg, kafka_conf_kind_t kind,
                                const kafka_prop_t *defaults, const kafka_prop_t *forced,
                                char *errstr, size_t errstr_size)
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
        const char *name;
        config_kafka_get(cfg, i, &name, &user[0].value);
        if (!(user[0].name = user_property(name, kind)))
            continue;
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
