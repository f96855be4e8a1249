/* Unit tests of rfc3339_parse(): the forms it reads (dates, times with and without seconds,
 * fractions, offsets), the parts it says were given and the instant, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rfc3339.h"
#include "support.h"

/* 2026-11-27T10:00:00Z */
#define T10 1795773600000LL

typedef struct rfc3339_row {
    const char *text;
    int ok; /* 1: read as below; 0: refused */
    int has_time, has_seconds, has_offset;
    long long ms;
} rfc3339_row_t;

static const rfc3339_row_t rfc3339_rows[] = {
    /* a date alone: its midnight, UTC */
    {"2026-11-27", 1, 0, 0, 0, T10 - 10 * 3600000LL},
    {"1970-01-01", 1, 0, 0, 0, 0},
    /* a time without seconds, without an offset */
    {"2026-11-27T10:00", 1, 1, 0, 0, T10},
    {"2026-11-27t10:00", 1, 1, 0, 0, T10},
    {"2026-11-27 10:00", 1, 1, 0, 0, T10},
    {"2026-11-27T10:00Z", 1, 1, 0, 1, T10},
    {"2026-11-27T10:00z", 1, 1, 0, 1, T10},
    /* seconds, fractions (cut to ms), offsets */
    {"2026-11-27T10:00:30", 1, 1, 1, 0, T10 + 30000},
    {"2026-11-27T10:00:00Z", 1, 1, 1, 1, T10},
    {"2026-11-27T10:00:00.5Z", 1, 1, 1, 1, T10 + 500},
    {"2026-11-27T10:00:00.25Z", 1, 1, 1, 1, T10 + 250},
    {"2026-11-27T10:00:00.123456Z", 1, 1, 1, 1, T10 + 123},
    {"2026-11-27T10:00:00.999999999Z", 1, 1, 1, 1, T10 + 999},
    {"2026-11-27T11:00:00.250+01:00", 1, 1, 1, 1, T10 + 250},
    {"2026-11-27T04:30:00-05:30", 1, 1, 1, 1, T10},
    {"2026-11-27T10:00+00:00", 1, 1, 0, 1, T10},
    {"2026-11-27T10:00-00:00", 1, 1, 0, 1, T10},
    {"2026-11-28T09:59:00+23:59", 1, 1, 1, 1, T10},
    {"2016-12-31T23:59:60Z", 1, 1, 1, 1, 1483228800000LL},
    {"2026-02-30T00:00:00Z", 1, 1, 1, 1, 1772409600000LL},
    {"2026-11-27T23:59:59Z", 1, 1, 1, 1, T10 + 13 * 3600000LL + 59 * 60000 + 59000},
    /* refused: not digits where digits go, out of range, incomplete, trailing text */
    {"", 0, 0, 0, 0, 0},
    {"garbage", 0, 0, 0, 0, 0},
    {"26-11-27", 0, 0, 0, 0, 0},
    {"2026-1-27", 0, 0, 0, 0, 0},
    {"2026-11-7", 0, 0, 0, 0, 0},
    {"+202-11-27T10:00:00Z", 0, 0, 0, 0, 0},
    {" 2026-11-27", 0, 0, 0, 0, 0},
    {"2026-+1-27T10:00:00Z", 0, 0, 0, 0, 0},
    {"2026/11/27", 0, 0, 0, 0, 0},
    {"2026-13-01", 0, 0, 0, 0, 0},
    {"2026-00-10", 0, 0, 0, 0, 0},
    {"2026-11-00", 0, 0, 0, 0, 0},
    {"2026-11-32", 0, 0, 0, 0, 0},
    {"2026-11-27Z", 0, 0, 0, 0, 0},
    {"2026-11-27+01:00", 0, 0, 0, 0, 0},
    {"2026-11-27T", 0, 0, 0, 0, 0},
    {"2026-11-27T10", 0, 0, 0, 0, 0},
    {"2026-11-27T1:00", 0, 0, 0, 0, 0},
    {"2026-11-27T24:00", 0, 0, 0, 0, 0},
    {"2026-11-27T10:60", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00:", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00:61Z", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00:0Z", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00:00.", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00:00.Z", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00.5Z", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00+1", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00+01", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00+0100", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00+24:00", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00+01:60", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00+-1:00", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00+01:00:00", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00Zjunk", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00:00ZZ", 0, 0, 0, 0, 0},
    {"2026-11-27T10:00 ", 0, 0, 0, 0, 0},
    {"2026-11-27junk", 0, 0, 0, 0, 0},
    {"2026-11-27'; DROP TABLE x; --", 0, 0, 0, 0, 0},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(rfc3339_rows); i++) {
        const rfc3339_row_t *r = &rfc3339_rows[i];
        rfc3339_t t;
        int rc = rfc3339_parse(r->text, &t);
        if (!r->ok && rc == 0)
            fail_msg("'%s': accepted (%lld ms), expected a refusal", r->text, (long long)t.ms);
        if (!r->ok)
            continue;
        if (rc != 0)
            fail_msg("'%s': refused, expected %lld ms", r->text, r->ms);
        if (t.has_time != r->has_time || t.has_seconds != r->has_seconds ||
            t.has_offset != r->has_offset)
            fail_msg("'%s': time %d seconds %d offset %d, expected %d %d %d", r->text, t.has_time,
                     t.has_seconds, t.has_offset, r->has_time, r->has_seconds, r->has_offset);
        if (t.ms != r->ms)
            fail_msg("'%s': %lld ms, expected %lld", r->text, (long long)t.ms, r->ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
