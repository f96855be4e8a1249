/* Unit tests of event_positions_stamp(): a batch's positions per partition, and the messages a
 * consumer delivered again (offsets that do not follow on), which must not be applied twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"

#define N_ROWS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_EVENTS 8

/* A message of a batch: partition p of topic "a" or "b" at offset off. */
typedef struct {
    char topic;
    int32_t partition;
    int64_t offset;
} msg_t;

/* The cuts: partitions 0..3 of "a" and 0 of "b" are assigned, with cuts; others are not. */
static int cut_of(void *ctx, const char *topic, int32_t partition, int64_t *cut)
{
    const int64_t *cuts = ctx; /* a0..a3, b0 */
    if (strcmp(topic, "a") == 0 && partition >= 0 && partition < 4) {
        *cut = cuts[partition];
        return 0;
    }
    if (strcmp(topic, "b") == 0 && partition == 0) {
        *cut = cuts[4];
        return 0;
    }
    return -1;
}

static const struct {
    const char *what;
    int64_t cuts[5];
    msg_t msgs[MAX_EVENTS];
    size_t n;
    event_stamp_t want;
    size_t at;           /* EVENT_STAMP_AGAIN: the event delivered again */
    size_t npos;         /* EVENT_STAMP_OK: partitions, in order of first event */
    int64_t expected[3]; /* their expected and next */
    int64_t next[3];
} rows[] = {
    {"one partition, from its cut",
     {10, 0, 0, 0, 0},
     {{'a', 0, 10}, {'a', 0, 11}, {'a', 0, 12}},
     3,
     EVENT_STAMP_OK,
     0,
     1,
     {10},
     {13}},
    {"gaps after the cut are fine (compaction, transaction markers)",
     {10, 0, 0, 0, 0},
     {{'a', 0, 14}, {'a', 0, 20}},
     2,
     EVENT_STAMP_OK,
     0,
     1,
     {10},
     {21}},
    {"no position stored yet: any first offset",
     {EVENT_POS_NONE, 0, 0, 0, 0},
     {{'a', 0, 5}, {'a', 0, 6}},
     2,
     EVENT_STAMP_OK,
     0,
     1,
     {EVENT_POS_NONE},
     {7}},
    {"partitions interleaved, and one of another topic with the same number",
     {10, 3, 0, 0, 40},
     {{'a', 0, 10}, {'a', 1, 3}, {'b', 0, 40}, {'a', 0, 11}, {'a', 1, 4}},
     5,
     EVENT_STAMP_OK,
     0,
     3,
     {10, 3, 40},
     {12, 5, 41}},
    {"a message below the cut: the end of the last batch delivered again",
     {10, 0, 0, 0, 0},
     {{'a', 0, 8}, {'a', 0, 9}, {'a', 0, 10}},
     3,
     EVENT_STAMP_AGAIN,
     0,
     0,
     {0},
     {0}},
    {"the batch starts again within itself (a resume re-delivered it)",
     {10, 0, 0, 0, 0},
     {{'a', 0, 10}, {'a', 0, 11}, {'a', 0, 12}, {'a', 0, 11}, {'a', 0, 12}},
     5,
     EVENT_STAMP_AGAIN,
     3,
     0,
     {0},
     {0}},
    {"the same offset twice",
     {10, 0, 0, 0, 0},
     {{'a', 0, 10}, {'a', 0, 10}},
     2,
     EVENT_STAMP_AGAIN,
     1,
     0,
     {0},
     {0}},
    {"again in the second partition while the first is in order",
     {10, 3, 0, 0, 0},
     {{'a', 0, 10}, {'a', 1, 3}, {'a', 0, 11}, {'a', 1, 3}},
     4,
     EVENT_STAMP_AGAIN,
     3,
     0,
     {0},
     {0}},
    {"again without a stored position (from the earliest)",
     {EVENT_POS_NONE, 0, 0, 0, 0},
     {{'a', 0, 0}, {'a', 0, 1}, {'a', 0, 0}},
     3,
     EVENT_STAMP_AGAIN,
     2,
     0,
     {0},
     {0}},
    {"a partition no longer assigned",
     {10, 0, 0, 0, 0},
     {{'a', 0, 10}, {'a', 7, 1}},
     2,
     EVENT_STAMP_UNASSIGNED,
     0,
     0,
     {0},
     {0}},
    {"an empty batch", {0, 0, 0, 0, 0}, {{0}}, 0, EVENT_STAMP_OK, 0, 0, {0}, {0}},
};

static void test_stamp(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_ROWS(rows); r++) {
        event_t events[MAX_EVENTS];
        event_position_t pos[MAX_EVENTS];
        memset(events, 0, sizeof(events));
        for (size_t i = 0; i < rows[r].n; i++) {
            events[i].ev.topic = rows[r].msgs[i].topic == 'a' ? "a" : "b";
            events[i].ev.partition = rows[r].msgs[i].partition;
            events[i].ev.offset = rows[r].msgs[i].offset;
        }
        int64_t cuts[5];
        memcpy(cuts, rows[r].cuts, sizeof(cuts));
        size_t npos = 99, at = 99;
        event_stamp_t got = event_positions_stamp(events, rows[r].n, pos, &npos, cut_of, cuts, &at);
        print_message("%s\n", rows[r].what);
        assert_int_equal(got, rows[r].want);
        if (got == EVENT_STAMP_AGAIN)
            assert_int_equal(at, rows[r].at);
        if (got != EVENT_STAMP_OK)
            continue;
        assert_int_equal(npos, rows[r].npos);
        for (size_t k = 0; k < npos; k++) {
            assert_int_equal(pos[k].expected, rows[r].expected[k]);
            assert_int_equal(pos[k].next, rows[r].next[k]);
            assert_int_equal(pos[k].applied + pos[k].skipped + pos[k].dead + pos[k].stale, 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stamp)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
