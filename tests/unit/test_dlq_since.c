/* Unit tests of dlq --since: the RFC 3339 times and durations it accepts, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmd_dlq.h"
#include "support.h"

/* 2026-12-01T12:00:00Z: "now" for the durations. */
#define NOW 1796126400LL

typedef struct since_row {
    const char *text;
    const char *want; /* the time PostgreSQL is given, or NULL: refused */
} since_row_t;

static const since_row_t since_rows[] = {
    {"2026-11-27", "2026-11-27T00:00:00Z"},
    {"2026-11-27T10:00Z", "2026-11-27T10:00Z"},
    {"2026-11-27T10:00", "2026-11-27T10:00Z"},
    {"2026-11-27 10:00:30", "2026-11-27 10:00:30Z"},
    {"2026-11-27T10:00:00.123456Z", "2026-11-27T10:00:00.123456Z"},
    {"2026-11-27T10:00:00+01:00", "2026-11-27T10:00:00+01:00"},
    {"2026-11-27T10:00:00-05:30", "2026-11-27T10:00:00-05:30"},
    {"2026-11-27t10:00z", "2026-11-27t10:00z"},
    {"90s", "2026-12-01T11:58:30Z"},
    {"30m", "2026-12-01T11:30:00Z"},
    {"1h", "2026-12-01T11:00:00Z"},
    {"7d", "2026-11-24T12:00:00Z"},
    {"2w", "2026-11-17T12:00:00Z"},
    {"0s", "2026-12-01T12:00:00Z"},
    {"garbage", NULL},
    {"", NULL},
    {"1", NULL},
    {"h", NULL},
    {"1y", NULL},
    {"1hh", NULL},
    {"-1h", NULL},
    {"1.5h", NULL},
    {"999999999999h", NULL},
    {"2026-13-01", NULL},
    {"2026-00-10", NULL},
    {"2026-11-32", NULL},
    {"2026-11-27T24:00", NULL},
    {"2026-11-27T10:60", NULL},
    {"2026-11-27T10", NULL},
    {"2026-11-27T10:00:", NULL},
    {"2026-11-27T10:00:00.", NULL},
    {"2026-11-27T10:00+1", NULL},
    {"2026-11-27T10:00Zjunk", NULL},
    {"2026-11-27junk", NULL},
    {"26-11-27", NULL},
    {"2026-11-27'; DROP TABLE x; --", NULL},
};

static void test_since(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(since_rows); i++) {
        const since_row_t *r = &since_rows[i];
        char out[128] = "", err[512] = "";
        int rc = cmd_dlq_parse_since(r->text, NOW, out, sizeof(out), err, sizeof(err));
        if (r->want && rc != 0)
            fail_msg("'%s': refused (%s), expected %s", r->text, err, r->want);
        if (r->want && strcmp(out, r->want) != 0)
            fail_msg("'%s': gave %s, expected %s", r->text, out, r->want);
        if (!r->want && rc == 0)
            fail_msg("'%s': accepted as %s, expected a refusal", r->text, out);
        if (!r->want && (!strstr(err, r->text) || !strstr(err, "RFC 3339") || !strstr(err, "1h")))
            fail_msg("'%s': the message does not name the value and the forms: %s", r->text, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_since),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
