/* Mapping test cases: a directory's events.ndjson and expected.json, read and checked. */
#ifndef PROJECTOR_TESTCASE_H
#define PROJECTOR_TESTCASE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "errlist.h"

/* The time of events that give none: 2026-01-01T00:00:00Z, so cases are deterministic. */
#define TESTCASE_DEFAULT_TIMESTAMP_MS 1767225600000LL

/* One event of events.ndjson, as a Kafka message would carry it. */
typedef struct testcase_event {
    int line; /* 1-based line of events.ndjson */
    char *topic;
    int32_t partition;
    int64_t offset; /* assigned per (topic, partition) in file order, from 0 */
    int64_t timestamp_ms;
    char *key; /* NULL: no key */
    size_t key_len;
    char *value; /* NULL: a tombstone */
    size_t value_len;
    json_t *headers; /* object of strings, or NULL */
} testcase_event_t;

typedef struct testcase {
    char *dir;  /* as given */
    char *name; /* the directory's last component */
    testcase_event_t *events;
    size_t nevents;
    json_t *expected; /* expected.json, or NULL when there is none (allowed with --update) */
} testcase_t;

/* Parses one line of events.ndjson (text, NUL-terminated) into e (zeroed by the caller): value
 * (required; a string is the raw value, null a tombstone, anything else re-serialised), key,
 * headers, topic (default_topic when absent), partition (default 0) and timestamp (ms since the
 * epoch or RFC 3339; default TESTCASE_DEFAULT_TIMESTAMP_MS). The offset is left to the caller.
 * Returns 0, or -1 with errstr saying what is wrong (without the place). e owns its strings
 * (testcase_event_free()). Does not block. */
int testcase_parse_event(const char *text, const char *default_topic, testcase_event_t *e,
                         char *errstr, size_t errstr_size) __attribute__((warn_unused_result));
void testcase_event_free(testcase_event_t *e);

/* Reads case directory dir: its events.ndjson and, when present, expected.json (required unless
 * expected_optional). Returns the case (caller owns, testcase_destroy()), or NULL with each problem
 * added to errs as "dir/file:line: message" or "dir/expected.json: $.path: message". Dead letters
 * of expected.json given by "offset" (with "topic" and "partition" defaulting as for events) are
 * turned into their "line". Does not block. */
testcase_t *testcase_load(const char *dir, const char *default_topic, int expected_optional,
                          errlist_t *errs);
void testcase_destroy(testcase_t *c);

/* The line of the event at (topic, partition, offset), or 0 when the case has none. */
int testcase_line_of(const testcase_t *c, const char *topic, int32_t partition, int64_t offset);

#endif
