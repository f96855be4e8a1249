/* Mapping test cases: a directory's events.ndjson and expected.json, read and checked.
 *
 * Offsets are assigned per (topic, partition) in file order, as a broker would, so that a dead
 * letter can be named by its offset as well as by its line. */
#include "testcase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc3339.h"
#include "xalloc.h"

/* A timestamp's RFC 3339 time, which must give seconds and an offset
 * (YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)), into ms since the epoch. Returns 0 or -1. */
static int parse_time(const char *s, int64_t *ms)
{
    rfc3339_t t;
    if (rfc3339_parse(s, &t) != 0 || !t.has_seconds || !t.has_offset)
        return -1;
    *ms = t.ms;
    return 0;
}

/* Is name one of names[0, n)? */
static int listed(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* The fields an event line may have. */
static const char *const event_fields[] = {"value", "key",       "headers",
                                           "topic", "partition", "timestamp"};

static int check_fields(json_t *o, char *errstr, size_t errsz)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (listed(k, event_fields, sizeof(event_fields) / sizeof(event_fields[0])))
            continue;
        snprintf(errstr, errsz,
                 "unknown field \"%s\" (an event has value, and optionally key, headers, "
                 "topic, partition, timestamp)",
                 k);
        return -1;
    }
    if (!json_object_get(o, "value")) {
        snprintf(errstr, errsz, "no \"value\" (null for a tombstone)");
        return -1;
    }
    return 0;
}

static int take_value(json_t *v, testcase_event_t *e)
{
    if (json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        e->value = xstrndup(json_string_value(v), json_string_length(v));
        e->value_len = json_string_length(v);
        return 0;
    }
    e->value = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!e->value)
        abort();
    e->value_len = strlen(e->value);
    return 0;
}

static int take_meta(json_t *o, const char *default_topic, testcase_event_t *e, char *errstr,
                     size_t errsz)
{
    json_t *key = json_object_get(o, "key"), *headers = json_object_get(o, "headers");
    json_t *topic = json_object_get(o, "topic"), *part = json_object_get(o, "partition");
    json_t *ts = json_object_get(o, "timestamp");
    if (key && !json_is_string(key) && !json_is_null(key))
        return snprintf(errstr, errsz, "\"key\" must be a string"), -1;
    if (json_is_string(key)) {
        e->key = xstrndup(json_string_value(key), json_string_length(key));
        e->key_len = json_string_length(key);
    }
    const char *hk;
    json_t *hv;
    if (headers && !json_is_object(headers))
        return snprintf(errstr, errsz, "\"headers\" must be an object of strings"), -1;
    json_object_foreach(headers, hk, hv)
    {
        if (!json_is_string(hv))
            return snprintf(errstr, errsz, "headers.%s: a header's value must be a string", hk), -1;
    }
    e->headers = json_incref(headers);
    if (topic && (!json_is_string(topic) || !json_string_length(topic)))
        return snprintf(errstr, errsz, "\"topic\" must be a topic's name"), -1;
    e->topic = xstrdup(topic ? json_string_value(topic) : default_topic);
    if (part && (!json_is_integer(part) || json_integer_value(part) < 0 ||
                 json_integer_value(part) > INT32_MAX))
        return snprintf(errstr, errsz, "\"partition\" must be a number from 0"), -1;
    e->partition = part ? (int32_t)json_integer_value(part) : 0;
    e->timestamp_ms = TESTCASE_DEFAULT_TIMESTAMP_MS;
    if (json_is_integer(ts) && json_integer_value(ts) >= 0)
        e->timestamp_ms = json_integer_value(ts);
    else if (ts && (!json_is_string(ts) || parse_time(json_string_value(ts), &e->timestamp_ms)))
        return snprintf(errstr, errsz,
                        "\"timestamp\" must be ms since the epoch or an RFC 3339 time "
                        "(2026-11-27T10:00:00Z)"),
               -1;
    return 0;
}

int testcase_parse_event(const char *text, const char *default_topic, testcase_event_t *e,
                         char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    int rc = -1;
    if (!o)
        snprintf(errstr, errstr_size, "invalid JSON: %s (column %d)", jerr.text, jerr.column);
    else if (!json_is_object(o))
        snprintf(errstr, errstr_size, "an event is a JSON object: {\"value\": ...}");
    else if (check_fields(o, errstr, errstr_size) == 0 &&
             take_meta(o, default_topic, e, errstr, errstr_size) == 0)
        rc = take_value(json_object_get(o, "value"), e);
    json_decref(o);
    if (rc != 0)
        testcase_event_free(e);
    return rc;
}

void testcase_event_free(testcase_event_t *e)
{
    free(e->topic);
    free(e->key);
    free(e->value);
    json_decref(e->headers);
    memset(e, 0, sizeof(*e));
}

/* The next offset of (topic, partition) after events[0, n). */
static int64_t next_offset(const testcase_event_t *events, size_t n, const testcase_event_t *e)
{
    int64_t next = 0;
    for (size_t i = 0; i < n; i++)
        if (events[i].partition == e->partition && strcmp(events[i].topic, e->topic) == 0)
            next = events[i].offset + 1;
    return next;
}

static int load_events(testcase_t *c, const char *default_topic, errlist_t *errs)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/events.ndjson", c->dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        errlist_add(errs, path, NULL,
                    "cannot be read (a case has events.ndjson: one event a line)");
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, nerr = errlist_count(errs);
    ssize_t len;
    for (int no = 1; (len = getline(&line, &cap, f)) >= 0; no++) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!line[strspn(line, " \t")])
            continue;
        testcase_event_t e;
        memset(&e, 0, sizeof(e));
        char err[1024];
        if (testcase_parse_event(line, default_topic, &e, err, sizeof(err)) != 0) {
            errlist_add(errs, path, NULL, "line %d: %s", no, err);
            continue;
        }
        e.line = no;
        e.offset = next_offset(c->events, c->nevents, &e);
        c->events = xrealloc(c->events, (c->nevents + 1) * sizeof(*c->events));
        c->events[c->nevents++] = e;
    }
    free(line);
    fclose(f);
    return errlist_count(errs) > nerr ? -1 : 0;
}

int testcase_line_of(const testcase_t *c, const char *topic, int32_t partition, int64_t offset)
{
    for (size_t i = 0; i < c->nevents; i++)
        if (c->events[i].offset == offset && c->events[i].partition == partition &&
            strcmp(c->events[i].topic, topic) == 0)
            return c->events[i].line;
    return 0;
}

/* The fields of a dead letter of expected.json are known ones. */
static void check_dead_fields(json_t *d, const char *path, const char *where, errlist_t *errs)
{
    static const char *const fields[] = {"line",  "offset", "topic",     "partition",
                                         "stage", "error",  "projection"};
    const char *k;
    json_t *v;
    json_object_foreach(d, k, v)
    {
        if (!listed(k, fields, sizeof(fields) / sizeof(fields[0])))
            errlist_add(errs, path, where,
                        "unknown field \"%s\" (a dead letter has line or offset, topic, "
                        "partition, stage, error, projection)",
                        k);
    }
}

/* Checks dead letter i of expected.json and gives it its line. */
static void check_dead(testcase_t *c, json_t *d, size_t i, const char *default_topic,
                       const char *path, errlist_t *errs)
{
    char where[64];
    snprintf(where, sizeof(where), "$.dead_letters[%zu]", i);
    json_t *line = json_object_get(d, "line"), *off = json_object_get(d, "offset");
    if (!json_is_object(d) || !json_is_string(json_object_get(d, "stage")) ||
        (!json_is_integer(line) && !json_is_integer(off))) {
        errlist_add(errs, path, where,
                    "a dead letter is {\"line\": N, \"stage\": S} (or \"offset\" for the line, "
                    "with \"topic\" and \"partition\"; \"error\": text it contains, optional)");
        return;
    }
    check_dead_fields(d, path, where, errs);
    json_t *err = json_object_get(d, "error");
    if (err && !json_is_string(err))
        errlist_add(errs, path, where, "\"error\" must be a string");
    int no = 0;
    if (json_is_integer(line)) {
        for (size_t k = 0; k < c->nevents; k++)
            no = c->events[k].line == json_integer_value(line) ? c->events[k].line : no;
    } else {
        json_t *t = json_object_get(d, "topic"), *p = json_object_get(d, "partition");
        no = testcase_line_of(c, json_is_string(t) ? json_string_value(t) : default_topic,
                              json_is_integer(p) ? (int32_t)json_integer_value(p) : 0,
                              json_integer_value(off));
    }
    if (!no) {
        errlist_add(errs, path, where, "no event of events.ndjson is at that %s",
                    json_is_integer(line) ? "line" : "offset");
        return;
    }
    json_object_set_new(d, "line", json_integer(no));
    json_object_del(d, "offset");
    json_object_del(d, "topic");
    json_object_del(d, "partition");
}

/* The sections of expected.json and what each holds. */
static const struct {
    const char *name;
    json_type type;
    const char *form;
} sections[] = {
    {"tables", JSON_OBJECT, "{\"table\": [rows...]}"},
    {"documents", JSON_OBJECT, "{\"index\": {\"id\": {document}}}"},
    {"dead_letters", JSON_ARRAY, "[{\"line\": N, \"stage\": S}]"},
};

static void check_expected(testcase_t *c, const char *default_topic, const char *path,
                           errlist_t *errs)
{
    const char *k;
    json_t *v;
    size_t n = sizeof(sections) / sizeof(sections[0]);
    json_object_foreach(c->expected, k, v)
    {
        size_t i = 0;
        while (i < n && strcmp(k, sections[i].name) != 0)
            i++;
        if (i == n)
            errlist_add(errs, path, NULL,
                        "unknown key \"%s\" (expected.json has tables, documents, dead_letters)",
                        k);
        else if (json_typeof(v) != sections[i].type)
            errlist_add(errs, path, NULL, "$.%s: must be %s", k, sections[i].form);
    }
    json_t *dead = json_object_get(c->expected, "dead_letters"), *d;
    size_t i;
    if (json_is_array(dead))
        json_array_foreach(dead, i, d) check_dead(c, d, i, default_topic, path, errs);
}

testcase_t *testcase_load(const char *dir, const char *default_topic, int expected_optional,
                          errlist_t *errs)
{
    testcase_t *c = xcalloc(1, sizeof(*c));
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    c->dir = xstrndup(dir, len);
    const char *slash = strrchr(c->dir, '/');
    c->name = xstrdup(slash ? slash + 1 : c->dir);
    size_t nerr = errlist_count(errs);
    load_events(c, default_topic, errs);
    char path[4096];
    snprintf(path, sizeof(path), "%s/expected.json", c->dir);
    FILE *f = fopen(path, "r");
    json_error_t jerr;
    if (!f && !expected_optional)
        errlist_add(errs, path, NULL,
                    "cannot be read ('projector test --update' writes it from the actual state)");
    else if (f && !(c->expected = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr)))
        errlist_add(errs, path, NULL, "line %d: invalid JSON: %s", jerr.line, jerr.text);
    else if (c->expected && !json_is_object(c->expected))
        errlist_add(errs, path, NULL, "must be an object: {\"tables\": ..., \"documents\": ...}");
    else if (c->expected)
        check_expected(c, default_topic, path, errs);
    if (f)
        fclose(f);
    if (errlist_count(errs) > nerr) {
        testcase_destroy(c);
        return NULL;
    }
    return c;
}

void testcase_destroy(testcase_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nevents; i++)
        testcase_event_free(&c->events[i]);
    free(c->events);
    json_decref(c->expected);
    free(c->dir);
    free(c->name);
    free(c);
}
