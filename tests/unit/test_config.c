/* Unit tests of config: config_set validation, config files, environment variables, flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "support.h"

static const char *const env_names[] = {
    "PROJECTOR_BROKERS",
    "PROJECTOR_PG",
    "PROJECTOR_GROUP",
    "PROJECTOR_MAPPINGS",
    "PROJECTOR_VIEWS",
    "PROJECTOR_BATCH_MAX_EVENTS",
    "PROJECTOR_BATCH_WAIT_MS",
    "PROJECTOR_MAX_EVENT_BYTES",
    "PROJECTOR_RETRY_BACKOFF_MAX_MS",
    "PROJECTOR_DLQ_SUFFIX",
    "PROJECTOR_LOG_LEVEL",
    "PROJECTOR_LOG_FORMAT",
    "PROJECTOR_STALL_AFTER_MS",
};

static void clear_env(void)
{
    for (size_t i = 0; i < N_ROWS(env_names); i++)
        unsetenv(env_names[i]);
}

/* An expected value of one setting after a row: the text, and for integer settings the number
 * (int_value is checked when is_int is set). */
typedef struct expect {
    config_key_t key;
    const char *text;
    int is_int;
    long long int_value;
} expect_t;

static void check_expect(const char *row, const config_t *cfg, const expect_t *e)
{
    if (!e->text)
        return;
    const char *got = config_str(cfg, e->key);
    if (strcmp(got, e->text) != 0)
        fail_msg("%s: setting %d is \"%s\", expected \"%s\"", row, (int)e->key, got, e->text);
    if (e->is_int && config_int(cfg, e->key) != e->int_value)
        fail_msg("%s: setting %d is %lld, expected %lld", row, (int)e->key, config_int(cfg, e->key),
                 e->int_value);
}

static void check_error(const char *row, int rc, int want_rc, const char *err, const char *want)
{
    if (rc != want_rc)
        fail_msg("%s: returned %d, expected %d (error \"%s\")", row, rc, want_rc, err);
    if (want && !strstr(err, want))
        fail_msg("%s: error \"%s\" does not contain \"%s\"", row, err, want);
}

/* ---- defaults ---- */

static const expect_t default_rows[] = {
    {CFG_BROKERS, "localhost:9092", 0, 0},
    {CFG_PG, "", 0, 0},
    {CFG_GROUP, "projector", 0, 0},
    {CFG_MAPPINGS, "./mappings", 0, 0},
    {CFG_VIEWS, "./views", 0, 0},
    {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000},
    {CFG_BATCH_WAIT_MS, "100", 1, 100},
    {CFG_MAX_EVENT_BYTES, "1048576", 1, 1048576},
    {CFG_RETRY_BACKOFF_MAX_MS, "10000", 1, 10000},
    {CFG_DLQ_SUFFIX, ".dlq", 0, 0},
    {CFG_LOG_LEVEL, "info", 0, 0},
    {CFG_LOG_FORMAT, "text", 0, 0},
    {CFG_STALL_AFTER_MS, "60000", 1, 60000},
};

static void test_defaults(void **state)
{
    (void)state;
    config_t *cfg = config_new();
    for (size_t i = 0; i < N_ROWS(default_rows); i++)
        check_expect("defaults", cfg, &default_rows[i]);
    assert_int_equal(config_kafka_count(cfg), 0);
    config_destroy(cfg);
}

/* ---- config_set ---- */

typedef struct set_row {
    const char *name;
    const char *value;
    int rc;
    const char *error; /* substring, when rc is -1 */
    expect_t after;    /* on failure: the default is kept */
} set_row_t;

static const set_row_t set_rows[] = {
    /* integers within bounds, bounds included */
    {"batch.max.events", "250", 0, NULL, {CFG_BATCH_MAX_EVENTS, "250", 1, 250}},
    {"batch.max.events", "1", 0, NULL, {CFG_BATCH_MAX_EVENTS, "1", 1, 1}},
    {"batch.max.events", "100000", 0, NULL, {CFG_BATCH_MAX_EVENTS, "100000", 1, 100000}},
    {"batch.wait.ms", "60000", 0, NULL, {CFG_BATCH_WAIT_MS, "60000", 1, 60000}},
    {"max.event.bytes", "64", 0, NULL, {CFG_MAX_EVENT_BYTES, "64", 1, 64}},
    {"retry.backoff.max.ms", "10", 0, NULL, {CFG_RETRY_BACKOFF_MAX_MS, "10", 1, 10}},
    {"rebuild.max.lag", "0", 0, NULL, {CFG_REBUILD_MAX_LAG, "0", 1, 0}},
    {"http.workers", "1", 0, NULL, {CFG_HTTP_WORKERS, "1", 1, 1}},
    {"http.workers", "64", 0, NULL, {CFG_HTTP_WORKERS, "64", 1, 64}},
    {"http.workers", "0", -1, "0 is out of range 1..64", {CFG_HTTP_WORKERS, "4", 1, 4}},
    {"http.workers", "65", -1, "65 is out of range 1..64", {CFG_HTTP_WORKERS, "4", 1, 4}},
    {"rebuild.max.lag", "250000", 0, NULL, {CFG_REBUILD_MAX_LAG, "250000", 1, 250000}},
    {"rebuild.max.lag",
     "-1",
     -1,
     "-1 is out of range 0..1000000000",
     {CFG_REBUILD_MAX_LAG, "1000", 1, 1000}},
    {"rebuild.batch.max.events",
     "100000",
     0,
     NULL,
     {CFG_REBUILD_BATCH_MAX_EVENTS, "100000", 1, 100000}},
    {"rebuild.batch.max.events", "1", 0, NULL, {CFG_REBUILD_BATCH_MAX_EVENTS, "1", 1, 1}},
    {"rebuild.batch.max.events",
     "100001",
     -1,
     "100001 is out of range 1..100000",
     {CFG_REBUILD_BATCH_MAX_EVENTS, "10000", 1, 10000}},
    {"stall.after.ms", "100", 0, NULL, {CFG_STALL_AFTER_MS, "100", 1, 100}},
    {"stall.after.ms", "86400000", 0, NULL, {CFG_STALL_AFTER_MS, "86400000", 1, 86400000}},
    {"stall.after.ms",
     "99",
     -1,
     "99 is out of range 100..86400000",
     {CFG_STALL_AFTER_MS, "60000", 1, 60000}},
    {"stall.after.ms",
     "86400001",
     -1,
     "86400001 is out of range 100..86400000",
     {CFG_STALL_AFTER_MS, "60000", 1, 60000}},
    /* integers out of range, below and above */
    {"batch.max.events",
     "0",
     -1,
     "origin-x: batch.max.events: 0 is out of range 1..100000",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.max.events",
     "-5",
     -1,
     "-5 is out of range 1..100000",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.max.events",
     "100001",
     -1,
     "100001 is out of range 1..100000",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.wait.ms", "0", -1, "0 is out of range 1..60000", {CFG_BATCH_WAIT_MS, "100", 1, 100}},
    {"batch.wait.ms",
     "60001",
     -1,
     "60001 is out of range 1..60000",
     {CFG_BATCH_WAIT_MS, "100", 1, 100}},
    {"max.event.bytes",
     "63",
     -1,
     "63 is out of range 64..104857600",
     {CFG_MAX_EVENT_BYTES, "1048576", 1, 1048576}},
    {"max.event.bytes",
     "104857601",
     -1,
     "104857601 is out of range 64..104857600",
     {CFG_MAX_EVENT_BYTES, "1048576", 1, 1048576}},
    {"retry.backoff.max.ms",
     "9",
     -1,
     "9 is out of range 10..600000",
     {CFG_RETRY_BACKOFF_MAX_MS, "10000", 1, 10000}},
    {"retry.backoff.max.ms",
     "600001",
     -1,
     "600001 is out of range 10..600000",
     {CFG_RETRY_BACKOFF_MAX_MS, "10000", 1, 10000}},
    /* not integers */
    {"batch.max.events",
     "abc",
     -1,
     "origin-x: batch.max.events: expected an integer, got \"abc\"",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.max.events",
     "",
     -1,
     "expected an integer, got \"\"",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.max.events",
     "12abc",
     -1,
     "expected an integer, got \"12abc\"",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.max.events", "5 ", -1, "expected an integer", {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.max.events", "1.5", -1, "expected an integer", {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.max.events",
     "0x10",
     -1,
     "expected an integer",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    {"batch.max.events",
     "99999999999999999999",
     -1,
     "expected an integer",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
    /* enums */
    {"log.level", "debug", 0, NULL, {CFG_LOG_LEVEL, "debug", 0, 0}},
    {"log.level", "error", 0, NULL, {CFG_LOG_LEVEL, "error", 0, 0}},
    {"log.level", "warn", 0, NULL, {CFG_LOG_LEVEL, "warn", 0, 0}},
    {"log.level",
     "verbose",
     -1,
     "origin-x: log.level: \"verbose\" is not one of error|warn|info|debug",
     {CFG_LOG_LEVEL, "info", 0, 0}},
    {"log.level", "DEBUG", -1, "is not one of", {CFG_LOG_LEVEL, "info", 0, 0}},
    {"log.level", "inf", -1, "is not one of", {CFG_LOG_LEVEL, "info", 0, 0}},
    {"log.level", "info|debug", -1, "is not one of", {CFG_LOG_LEVEL, "info", 0, 0}},
    {"log.level", "", -1, "\"\" is not one of", {CFG_LOG_LEVEL, "info", 0, 0}},
    {"log.format", "json", 0, NULL, {CFG_LOG_FORMAT, "json", 0, 0}},
    {"log.format", "yaml", -1, "\"yaml\" is not one of text|json", {CFG_LOG_FORMAT, "text", 0, 0}},
    /* strings take anything */
    {"brokers", "k1:9092,k2:9092", 0, NULL, {CFG_BROKERS, "k1:9092,k2:9092", 0, 0}},
    {"pg", "postgresql://u@h/db", 0, NULL, {CFG_PG, "postgresql://u@h/db", 0, 0}},
    {"dlq.suffix", "", 0, NULL, {CFG_DLQ_SUFFIX, "", 0, 0}},
    {"group", "g1", 0, NULL, {CFG_GROUP, "g1", 0, 0}},
    /* unknown names */
    {"batch.max", "5", -1, "origin-x: unknown setting \"batch.max\"", {CFG_BROKERS, NULL, 0, 0}},
    {"BROKERS", "x", -1, "unknown setting \"BROKERS\"", {CFG_BROKERS, "localhost:9092", 0, 0}},
    {"kafka", "x", -1, "unknown setting \"kafka\"", {CFG_BROKERS, NULL, 0, 0}},
    {"--brokers", "x", -1, "unknown setting \"--brokers\"", {CFG_BROKERS, NULL, 0, 0}},
    {"", "x", -1, "unknown setting \"\"", {CFG_BROKERS, NULL, 0, 0}},
};

static void test_set(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(set_rows); i++) {
        const set_row_t *r = &set_rows[i];
        char row[128], err[512] = "";
        snprintf(row, sizeof(row), "set %s=\"%s\"", r->name, r->value);
        config_t *cfg = config_new();
        int rc = config_set(cfg, r->name, r->value, "origin-x", err, sizeof(err));
        check_error(row, rc, r->rc, err, r->error);
        check_expect(row, cfg, &r->after);
        config_destroy(cfg);
    }
}

/* ---- config_load_file ---- */

typedef struct kafka_pair {
    const char *key, *value;
} kafka_pair_t;

typedef struct file_row {
    const char *name;
    const char *content; /* NULL: the file does not exist */
    int rc;
    const char *error; /* substring after "<path>", when rc is -1 */
    expect_t after[3];
    kafka_pair_t kafka[4]; /* expected pass-through properties, in order */
} file_row_t;

static const file_row_t file_rows[] = {
    {"valid file",
     "{\"brokers\": \"b1:9092\", \"batch.max.events\": 250, \"log.level\": \"debug\",\n"
     " \"kafka\": {\"security.protocol\": \"SSL\", \"socket.timeout.ms\": 3000,\n"
     "           \"enable.idempotence\": true}}",
     0,
     NULL,
     {{CFG_BROKERS, "b1:9092", 0, 0},
      {CFG_BATCH_MAX_EVENTS, "250", 1, 250},
      {CFG_LOG_LEVEL, "debug", 0, 0}},
     {{"security.protocol", "SSL"}, {"socket.timeout.ms", "3000"}, {"enable.idempotence", "true"}}},
    {"integer given as a string",
     "{\"batch.wait.ms\": \"250\"}",
     0,
     NULL,
     {{CFG_BATCH_WAIT_MS, "250", 1, 250}},
     {{NULL, NULL}}},
    {"empty object keeps defaults",
     "{}",
     0,
     NULL,
     {{CFG_BROKERS, "localhost:9092", 0, 0}, {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
     {{NULL, NULL}}},
    {"empty kafka object", "{\"kafka\": {}}", 0, NULL, {{CFG_BROKERS, NULL, 0, 0}}, {{NULL, NULL}}},
    {"unknown key",
     "{\"batch_max_events\": 5}",
     -1,
     ": $.batch_max_events: unknown setting",
     {{CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
     {{NULL, NULL}}},
    {"unknown key after a good one",
     "{\"brokers\": \"x:1\", \"bogus\": 1}",
     -1,
     ": $.bogus: unknown setting",
     {{CFG_BROKERS, NULL, 0, 0}},
     {{NULL, NULL}}},
    {"array value",
     "{\"brokers\": [\"a\"]}",
     -1,
     ": $.brokers: expected a string or number",
     {{CFG_BROKERS, "localhost:9092", 0, 0}},
     {{NULL, NULL}}},
    {"null value",
     "{\"brokers\": null}",
     -1,
     ": $.brokers: expected a string or number",
     {{CFG_BROKERS, NULL, 0, 0}},
     {{NULL, NULL}}},
    {"object value",
     "{\"log.level\": {\"x\": 1}}",
     -1,
     ": $.log.level: expected a string or number",
     {{CFG_LOG_LEVEL, "info", 0, 0}},
     {{NULL, NULL}}},
    {"fractional number for an integer",
     "{\"batch.max.events\": 1.5}",
     -1,
     ": $.batch.max.events: ",
     {{CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
     {{NULL, NULL}}},
    {"out of range",
     "{\"batch.max.events\": 0}",
     -1,
     ": $.batch.max.events: 0 is out of range 1..100000",
     {{CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
     {{NULL, NULL}}},
    {"not an integer",
     "{\"batch.max.events\": \"many\"}",
     -1,
     ": $.batch.max.events: expected an integer, got \"many\"",
     {{CFG_BATCH_MAX_EVENTS, "5000", 1, 5000}},
     {{NULL, NULL}}},
    {"boolean for an integer",
     "{\"batch.max.events\": true}",
     -1,
     ": $.batch.max.events: expected an integer, got \"true\"",
     {{CFG_BATCH_MAX_EVENTS, NULL, 0, 0}},
     {{NULL, NULL}}},
    {"bad enum",
     "{\"log.format\": \"yaml\"}",
     -1,
     ": $.log.format: \"yaml\" is not one of text|json",
     {{CFG_LOG_FORMAT, "text", 0, 0}},
     {{NULL, NULL}}},
    {"kafka not an object",
     "{\"kafka\": \"x\"}",
     -1,
     ": $.kafka: expected an object of librdkafka properties",
     {{CFG_BROKERS, NULL, 0, 0}},
     {{NULL, NULL}}},
    {"kafka property not a scalar",
     "{\"kafka\": {\"a\": {\"b\": 1}}}",
     -1,
     ": $.kafka.a: expected a string, number or boolean",
     {{CFG_BROKERS, NULL, 0, 0}},
     {{NULL, NULL}}},
    {"kafka property null",
     "{\"kafka\": {\"client.id\": null}}",
     -1,
     ": $.kafka.client.id: expected a string, number or boolean",
     {{CFG_BROKERS, NULL, 0, 0}},
     {{NULL, NULL}}},
    {"not an object",
     "[1, 2]",
     -1,
     ": $: expected a JSON object",
     {{CFG_BROKERS, NULL, 0, 0}},
     {{NULL, NULL}}},
    {"invalid JSON",
     "{\n  \"brokers\": \"a\",\n  oops\n}\n",
     -1,
     ":3:",
     {{CFG_BROKERS, "localhost:9092", 0, 0}},
     {{NULL, NULL}}},
    {"unterminated string",
     "{\"brokers\": \"a}",
     -1,
     ":1:",
     {{CFG_BROKERS, NULL, 0, 0}},
     {{NULL, NULL}}},
    {"duplicate key",
     "{\"brokers\": \"a\",\n \"brokers\": \"b\"}",
     -1,
     "duplicate object key",
     {{CFG_BROKERS, "localhost:9092", 0, 0}},
     {{NULL, NULL}}},
    {"missing file",
     NULL,
     -1,
     "cannot read the config file: No such file or directory",
     {{CFG_BROKERS, NULL, 0, 0}},
     {{NULL, NULL}}},
};

static void test_load_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/projector-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < N_ROWS(file_rows); i++) {
        const file_row_t *r = &file_rows[i];
        char name[32], path[256], err[1024] = "";
        snprintf(name, sizeof(name), "row%zu.json", i);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (r->content)
            support_write_file(dir, name, r->content);
        config_t *cfg = config_new();
        int rc = config_load_file(cfg, path, err, sizeof(err));
        check_error(r->name, rc, r->rc, err, r->error);
        if (r->rc != 0 && strncmp(err, path, strlen(path)) != 0)
            fail_msg("%s: error \"%s\" does not start with the file name", r->name, err);
        for (size_t k = 0; k < N_ROWS(r->after); k++)
            check_expect(r->name, cfg, &r->after[k]);
        if (r->rc == 0) {
            size_t n = 0;
            while (n < N_ROWS(r->kafka) && r->kafka[n].key)
                n++;
            if (config_kafka_count(cfg) != n)
                fail_msg("%s: %zu kafka properties, expected %zu", r->name, config_kafka_count(cfg),
                         n);
            for (size_t k = 0; k < n; k++) {
                const char *key, *value;
                config_kafka_get(cfg, k, &key, &value);
                if (strcmp(key, r->kafka[k].key) != 0 || strcmp(value, r->kafka[k].value) != 0)
                    fail_msg("%s: kafka property %zu is %s=%s, expected %s=%s", r->name, k, key,
                             value, r->kafka[k].key, r->kafka[k].value);
            }
        }
        config_destroy(cfg);
        unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* ---- config_load_env ---- */

typedef struct env_row {
    const char *var; /* NULL: nothing set */
    const char *value;
    int rc;
    const char *error;
    expect_t after;
    const char *dump_line; /* a line config_dump prints afterwards, or NULL */
} env_row_t;

static const env_row_t env_rows[] = {
    {"PROJECTOR_BATCH_MAX_EVENTS",
     "42",
     0,
     NULL,
     {CFG_BATCH_MAX_EVENTS, "42", 1, 42},
     "batch.max.events = 42 (env)"},
    {"PROJECTOR_BATCH_MAX_EVENTS",
     "0",
     -1,
     "PROJECTOR_BATCH_MAX_EVENTS: batch.max.events: 0 is out of range 1..100000",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000},
     "batch.max.events = 5000 (default)"},
    {"PROJECTOR_BATCH_MAX_EVENTS",
     "lots",
     -1,
     "PROJECTOR_BATCH_MAX_EVENTS: batch.max.events: expected an integer, got \"lots\"",
     {CFG_BATCH_MAX_EVENTS, "5000", 1, 5000},
     NULL},
    {"PROJECTOR_BATCH_WAIT_MS", "250", 0, NULL, {CFG_BATCH_WAIT_MS, "250", 1, 250}, NULL},
    {"PROJECTOR_STALL_AFTER_MS", "1500", 0, NULL, {CFG_STALL_AFTER_MS, "1500", 1, 1500}, NULL},
    {"PROJECTOR_MAX_EVENT_BYTES", "64", 0, NULL, {CFG_MAX_EVENT_BYTES, "64", 1, 64}, NULL},
    {"PROJECTOR_MAX_EVENT_BYTES",
     "1",
     -1,
     "PROJECTOR_MAX_EVENT_BYTES: max.event.bytes: 1 is out of range 64..104857600",
     {CFG_MAX_EVENT_BYTES, "1048576", 1, 1048576},
     NULL},
    {"PROJECTOR_RETRY_BACKOFF_MAX_MS",
     "600001",
     -1,
     "PROJECTOR_RETRY_BACKOFF_MAX_MS: retry.backoff.max.ms: 600001 is out of range",
     {CFG_RETRY_BACKOFF_MAX_MS, "10000", 1, 10000},
     NULL},
    {"PROJECTOR_BROKERS",
     "k:9092",
     0,
     NULL,
     {CFG_BROKERS, "k:9092", 0, 0},
     "brokers = k:9092 (env)"},
    {"PROJECTOR_PG", "", 0, NULL, {CFG_PG, "", 0, 0}, "pg =  (env)"},
    {"PROJECTOR_PG",
     "host=h password=s3cret",
     0,
     NULL,
     {CFG_PG, "host=h password=s3cret", 0, 0},
     "pg = (set, contains a password) (env)"},
    {"PROJECTOR_GROUP", "g2", 0, NULL, {CFG_GROUP, "g2", 0, 0}, NULL},
    {"PROJECTOR_MAPPINGS", "/etc/m", 0, NULL, {CFG_MAPPINGS, "/etc/m", 0, 0}, NULL},
    {"PROJECTOR_VIEWS", "/etc/v", 0, NULL, {CFG_VIEWS, "/etc/v", 0, 0}, NULL},
    {"PROJECTOR_DLQ_SUFFIX", "-dead", 0, NULL, {CFG_DLQ_SUFFIX, "-dead", 0, 0}, NULL},
    {"PROJECTOR_LOG_LEVEL", "warn", 0, NULL, {CFG_LOG_LEVEL, "warn", 0, 0}, NULL},
    {"PROJECTOR_LOG_LEVEL",
     "loud",
     -1,
     "PROJECTOR_LOG_LEVEL: log.level: \"loud\" is not one of error|warn|info|debug",
     {CFG_LOG_LEVEL, "info", 0, 0},
     NULL},
    {"PROJECTOR_LOG_FORMAT", "json", 0, NULL, {CFG_LOG_FORMAT, "json", 0, 0}, NULL},
    {"PROJECTOR_UNKNOWN_THING", "1", 0, NULL, {CFG_BROKERS, "localhost:9092", 0, 0}, NULL},
    {NULL, NULL, 0, NULL, {CFG_LOG_LEVEL, "info", 0, 0}, "log.level = info (default)"},
};

/* Returns what config_dump prints (caller frees). */
static char *dump_text(const config_t *cfg)
{
    support_capture_t *c = support_capture_new();
    config_dump(cfg, support_capture_stream(c));
    return support_capture_text(c);
}

static void test_load_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(env_rows); i++) {
        const env_row_t *r = &env_rows[i];
        char row[256], err[512] = "";
        snprintf(row, sizeof(row), "env %s=\"%s\"", r->var ? r->var : "(none)",
                 r->value ? r->value : "");
        clear_env();
        if (r->var)
            setenv(r->var, r->value, 1);
        config_t *cfg = config_new();
        int rc = config_load_env(cfg, err, sizeof(err));
        check_error(row, rc, r->rc, err, r->error);
        check_expect(row, cfg, &r->after);
        if (r->dump_line) {
            char *dump = dump_text(cfg);
            if (!strstr(dump, r->dump_line))
                fail_msg("%s: config_dump lacks \"%s\":\n%s", row, r->dump_line, dump);
            free(dump);
        }
        config_destroy(cfg);
        if (r->var)
            unsetenv(r->var);
    }
}

/* The environment overrides the file when applied after it, as main does. */
static void test_env_after_file(void **state)
{
    (void)state;
    char path[] = "/tmp/projector-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"batch.max.events\": 10, \"brokers\": \"file:1\"}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    clear_env();
    setenv("PROJECTOR_BATCH_MAX_EVENTS", "20", 1);
    config_t *cfg = config_new();
    char err[512] = "";
    assert_int_equal(config_load_file(cfg, path, err, sizeof(err)), 0);
    assert_int_equal(config_load_env(cfg, err, sizeof(err)), 0);
    assert_int_equal(config_int(cfg, CFG_BATCH_MAX_EVENTS), 20);
    assert_string_equal(config_str(cfg, CFG_BROKERS), "file:1");
    char *dump = dump_text(cfg);
    assert_non_null(strstr(dump, "batch.max.events = 20 (env)"));
    assert_non_null(strstr(dump, "brokers = file:1 (file)"));
    free(dump);
    config_destroy(cfg);
    unsetenv("PROJECTOR_BATCH_MAX_EVENTS");
    unlink(path);
}

/* ---- flags ---- */

typedef struct flag_row {
    const char *flag;
    const char *setting; /* NULL: not a setting's flag */
} flag_row_t;

static const flag_row_t flag_rows[] = {
    {"--brokers", "brokers"},
    {"--pg", "pg"},
    {"--group", "group"},
    {"--mappings", "mappings"},
    {"--views", "views"},
    {"--batch-max-events", "batch.max.events"},
    {"--batch-wait-ms", "batch.wait.ms"},
    {"--max-event-bytes", "max.event.bytes"},
    {"--retry-backoff-max-ms", "retry.backoff.max.ms"},
    {"--dlq-suffix", "dlq.suffix"},
    {"--log-level", "log.level"},
    {"--log-format", "log.format"},
    {"--nope", NULL},
    {"brokers", NULL},
    {"-brokers", NULL},
    {"--BROKERS", NULL},
    {"--brokers=x", NULL},
    {"--batch.max.events", NULL},
    {"-X", NULL},
    {"--config", NULL},
    {"", NULL},
};

static void test_flags(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(flag_rows); i++) {
        const flag_row_t *r = &flag_rows[i];
        const char *got = config_flag_setting(r->flag);
        int ok = r->setting ? got && strcmp(got, r->setting) == 0 : got == NULL;
        if (!ok)
            fail_msg("flag '%s': got %s, expected %s", r->flag, got ? got : "NULL",
                     r->setting ? r->setting : "NULL");
    }
}

/* ---- dump masks secrets of pass-through properties ---- */

typedef struct dump_row {
    const char *key, *value;
    const char *line;
} dump_row_t;

static const dump_row_t dump_rows[] = {
    {"client.id", "proj-1", "kafka.client.id = proj-1\n"},
    {"sasl.password", "hunter2", "kafka.sasl.password = ****\n"},
    {"ssl.key.location", "/k.pem", "kafka.ssl.key.location = ****\n"},
    {"sasl.oauthbearer.client.secret", "s", "kafka.sasl.oauthbearer.client.secret = ****\n"},
    {"security.protocol", "SSL", "kafka.security.protocol = SSL\n"},
};

static void test_dump_kafka(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(dump_rows); i++) {
        const dump_row_t *r = &dump_rows[i];
        config_t *cfg = config_new();
        config_add_kafka(cfg, r->key, r->value);
        char *dump = dump_text(cfg);
        if (!strstr(dump, r->line))
            fail_msg("kafka %s: dump lacks \"%s\":\n%s", r->key, r->line, dump);
        free(dump);
        config_destroy(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),       cmocka_unit_test(test_set),
        cmocka_unit_test(test_load_file),      cmocka_unit_test(test_load_env),
        cmocka_unit_test(test_env_after_file), cmocka_unit_test(test_flags),
        cmocka_unit_test(test_dump_kafka),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    clear_env();
    return rc;
}
