/* Unit tests of `projector test`'s pieces without a database: event lines of events.ndjson
 * (fields, defaults, refusals) and the differences between an expected and an actual state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"
#include "testcase.h"
#include "teststate.h"

typedef struct event_row {
    const char *line;
    const char *value; /* the raw value, or NULL: a tombstone */
    const char *key;   /* or NULL */
    const char *topic;
    int partition;
    long long timestamp_ms;
    const char *error; /* a refusal's message contains it; NULL: accepted */
} event_row_t;

#define TS TESTCASE_DEFAULT_TIMESTAMP_MS

static const event_row_t event_rows[] = {
    {"{\"value\": {\"type\": \"A\", \"n\": 1.50}}", "{\"type\":\"A\",\"n\":1.5}", NULL, "dflt", 0,
     TS, NULL},
    {"{\"value\": \"{not json\", \"key\": \"k\"}", "{not json", "k", "dflt", 0, TS, NULL},
    {"{\"value\": null, \"key\": \"k-1\", \"partition\": 3}", NULL, "k-1", "dflt", 3, TS, NULL},
    {"{\"value\": 7, \"topic\": \"other\"}", "7", NULL, "other", 0, TS, NULL},
    {"{\"value\": [], \"timestamp\": 1000}", "[]", NULL, "dflt", 0, 1000, NULL},
    {"{\"value\": {}, \"timestamp\": \"2026-11-27T10:00:00Z\"}", "{}", NULL, "dflt", 0,
     1795773600000LL, NULL},
    {"{\"value\": {}, \"timestamp\": \"2026-11-27T11:00:00.250+01:00\"}", "{}", NULL, "dflt", 0,
     1795773600250LL, NULL},
    {"{\"value\": {}, \"headers\": {\"type\": \"A\"}}", "{}", NULL, "dflt", 0, TS, NULL},
    {"{\"value\": {}, \"timestamp\": \"2026-11-27\"}", NULL, NULL, NULL, 0, 0, "\"timestamp\""},
    {"{\"value\": {}, \"timestamp\": \"2026-11-27T10:00:00\"}", NULL, NULL, NULL, 0, 0, "RFC 3339"},
    {"{\"value\": {}, \"timestamp\": -5}", NULL, NULL, NULL, 0, 0, "\"timestamp\""},
    {"{\"value\": {}, \"partition\": -1}", NULL, NULL, NULL, 0, 0, "\"partition\""},
    {"{\"value\": {}, \"partition\": \"1\"}", NULL, NULL, NULL, 0, 0, "\"partition\""},
    {"{\"value\": {}, \"key\": 5}", NULL, NULL, NULL, 0, 0, "\"key\" must be a string"},
    {"{\"value\": {}, \"headers\": {\"a\": 1}}", NULL, NULL, NULL, 0, 0, "headers.a"},
    {"{\"value\": {}, \"headers\": []}", NULL, NULL, NULL, 0, 0, "\"headers\""},
    {"{\"value\": {}, \"topic\": \"\"}", NULL, NULL, NULL, 0, 0, "\"topic\""},
    {"{\"value\": {}, \"colour\": 1}", NULL, NULL, NULL, 0, 0, "unknown field \"colour\""},
    {"{\"key\": \"k\"}", NULL, NULL, NULL, 0, 0, "no \"value\""},
    {"{\"value\": 1, \"value\": 2}", NULL, NULL, NULL, 0, 0, "invalid JSON"},
    {"[1]", NULL, NULL, NULL, 0, 0, "a JSON object"},
    {"{\"value\": ", NULL, NULL, NULL, 0, 0, "invalid JSON"},
};

static void test_events(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(event_rows); i++) {
        const event_row_t *r = &event_rows[i];
        testcase_event_t e;
        memset(&e, 0, sizeof(e));
        char err[1024] = "";
        int rc = testcase_parse_event(r->line, "dflt", &e, err, sizeof(err));
        if (r->error) {
            if (rc == 0 || !strstr(err, r->error))
                fail_msg("%s: expected a refusal with '%s', got rc %d '%s'", r->line, r->error, rc,
                         err);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: refused: %s", r->line, err);
        if ((r->value == NULL) != (e.value == NULL) ||
            (r->value && (strcmp(r->value, e.value) || e.value_len != strlen(r->value))))
            fail_msg("%s: value %s, expected %s", r->line, e.value ? e.value : "(null)",
                     r->value ? r->value : "(null)");
        if ((r->key == NULL) != (e.key == NULL) || (r->key && strcmp(r->key, e.key)))
            fail_msg("%s: key %s", r->line, e.key ? e.key : "(null)");
        if (strcmp(r->topic, e.topic) || r->partition != e.partition ||
            r->timestamp_ms != e.timestamp_ms)
            fail_msg("%s: topic %s partition %d timestamp %lld", r->line, e.topic, e.partition,
                     (long long)e.timestamp_ms);
        testcase_event_free(&e);
    }
}

typedef struct diff_row {
    const char *expected, *actual; /* states (JSON) */
    const char *diff;              /* teststate_diff()'s lines */
} diff_row_t;

#define KEYS "{\"t\": [\"id\"], \"u\": [\"a\", \"b\"], \"w\": []}"

static const diff_row_t diff_rows[] = {
    /* equal, numbers numerically, omitted columns not compared */
    {"{\"tables\": {\"t\": [{\"id\": 1, \"x\": 1.50}]}}",
     "{\"tables\": {\"t\": [{\"id\": 1.0, \"x\": 1.5, \"y\": \"z\"}]}}", ""},
    {"{}", "{\"tables\": {\"t\": []}, \"documents\": {\"i\": {}}, \"dead_letters\": []}", ""},
    {"{\"tables\": {\"t\": [{\"id\": \"a\", \"s\": \"PAID\"}]}}",
     "{\"tables\": {\"t\": [{\"id\": \"a\", \"s\": \"CREATED\"}]}}",
     "table t: row {\"id\": \"a\"}: s: expected \"PAID\", got \"CREATED\"\n"},
    {"{\"tables\": {\"t\": [{\"id\": \"a\"}]}}", "{\"tables\": {\"t\": [{\"id\": \"b\"}]}}",
     "table t: missing row {\"id\": \"a\"}\ntable t: extra row {\"id\": \"b\"}\n"},
    {"{\"tables\": {\"t\": [{\"id\": \"a\", \"q\": 1}]}}",
     "{\"tables\": {\"t\": [{\"id\": \"a\"}]}}",
     "table t: row {\"id\": \"a\"}: q: expected 1, got (no such column)\n"},
    {"{}", "{\"tables\": {\"t\": [{\"id\": 2}]}}", "table t: extra row {\"id\": 2}\n"},
    /* a key of two columns, in key order; a table keyed by whole rows */
    {"{\"tables\": {\"u\": [{\"b\": 2, \"a\": 1, \"v\": [1, 2]}]}}",
     "{\"tables\": {\"u\": [{\"a\": 1, \"b\": 2, \"v\": [2, 1]}]}}",
     "table u: row {\"a\": 1, \"b\": 2}: v: expected [1, 2], got [2, 1]\n"},
    {"{\"tables\": {\"w\": [{\"k\": 1}, {\"k\": 2}]}}",
     "{\"tables\": {\"w\": [{\"k\": 2}, {\"k\": 3}]}}",
     "table w: missing row {\"k\": 1}\ntable w: extra row {\"k\": 3}\n"},
    /* nested values: objects compare regardless of key order */
    {"{\"tables\": {\"t\": [{\"id\": 1, \"j\": {\"a\": 1, \"b\": [true]}}]}}",
     "{\"tables\": {\"t\": [{\"id\": 1, \"j\": {\"b\": [true], \"a\": 1.0}}]}}", ""},
    /* integers keep their 64 bits; a document field missing */
    {"{\"tables\": {\"t\": [{\"id\": 9007199254740993, \"x\": 2}]}}",
     "{\"tables\": {\"t\": [{\"id\": 9007199254740992, \"x\": 2.0}]}}",
     "table t: missing row {\"id\": 9007199254740993}\n"
     "table t: extra row {\"id\": 9007199254740992}\n"},
    {"{\"documents\": {\"i\": {\"1\": {\"s\": \"A\"}}}}", "{\"documents\": {\"i\": {\"1\": {}}}}",
     "index i: document 1: s: expected \"A\", got (no such field)\n"},
    /* documents */
    {"{\"documents\": {\"i\": {\"1\": {\"s\": \"A\"}, \"2\": {}}}}",
     "{\"documents\": {\"i\": {\"1\": {\"s\": \"B\", \"t\": 0}, \"3\": {}}}}",
     "index i: document 1: s: expected \"A\", got \"B\"\nindex i: missing document 2\n"
     "index i: extra document 3\n"},
    /* dead letters: by line and stage; the error expected is contained in the actual one */
    {"{\"dead_letters\": [{\"line\": 2, \"stage\": \"map\", \"error\": \"paymentId\"}]}",
     "{\"dead_letters\": [{\"line\": 2, \"stage\": \"map\", \"error\": \"x: $.paymentId is "
     "missing\"}]}",
     ""},
    {"{\"dead_letters\": [{\"line\": 2, \"stage\": \"map\", \"error\": \"nope\"}]}",
     "{\"dead_letters\": [{\"line\": 2, \"stage\": \"map\", \"error\": \"why\"}]}",
     "dead letter line 2 (stage map): error: expected \"nope\", got \"why\"\n"},
    {"{\"dead_letters\": [{\"line\": 2, \"stage\": \"map\"}]}",
     "{\"dead_letters\": [{\"line\": 2, \"stage\": \"decode\", \"error\": \"bad\"}]}",
     "dead letters: missing line 2 (stage map)\ndead letters: extra line 2 (stage decode): bad\n"},
};

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    if (!j)
        fail_msg("bad JSON in the test table: %s", text);
    return j;
}

static void test_diff(void **state)
{
    (void)state;
    json_t *keys = parse(KEYS);
    for (size_t i = 0; i < N_ROWS(diff_rows); i++) {
        json_t *a = parse(diff_rows[i].expected), *b = parse(diff_rows[i].actual);
        strbuf_t out = STRBUF_INIT;
        size_t n = teststate_diff(a, b, keys, &teststate_expected_labels, &out);
        const char *got = out.data ? out.data : "";
        size_t lines = 0;
        for (const char *p = diff_rows[i].diff; *p; p++)
            lines += *p == '\n';
        if (strcmp(got, diff_rows[i].diff) != 0 || n != lines)
            fail_msg("row %zu: %zu difference(s):\n%s\nexpected:\n%s", i, n, got,
                     diff_rows[i].diff);
        /* a state never differs from itself */
        strbuf_t self = STRBUF_INIT;
        if (teststate_diff(b, b, keys, &teststate_expected_labels, &self) != 0)
            fail_msg("row %zu: the actual state differs from itself: %s", i, self.data);
        strbuf_free(&self);
        strbuf_free(&out);
        json_decref(a);
        json_decref(b);
    }
    json_decref(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
