/* Unit tests of stats: the stalled state a worker sets and the HTTP API reads and renders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

#define N_ROWS(a) (sizeof(a) / sizeof((a)[0]))

/* One step of a worker's life, and what a reader sees after it. */
static const struct {
    const char *what;
    int set;            /* 1: stats_set_stalled(since, reason); 0: stats_clear_stalled() */
    int64_t since;      /* ms since the epoch */
    const char *reason; /* for set */
    size_t reason_size; /* the reader's buffer */
    int want;           /* stats_stalled() */
    const char *want_reason;
    const char *want_gauge; /* the projector_stalled line of stats_render() */
} steps[] = {
    {"a new worker is not stalled", 0, 0, NULL, 64, 0, NULL,
     "projector_stalled{projection=\"orders\"} 0\n"},
    {"stalled on the database", 1, 1764600000123, "database: PostgreSQL error 42703: x", 64, 1,
     "database: PostgreSQL error 42703: x", "projector_stalled{projection=\"orders\"} 1\n"},
    {"the reason follows the last error, since stays", 1, 1764600000123,
     "dead-letter topic: 1 of 1 dead letter(s) not acknowledged", 64, 1,
     "dead-letter topic: 1 of 1 dead letter(s) not acknowledged",
     "projector_stalled{projection=\"orders\"} 1\n"},
    {"a short buffer gets the reason cut", 1, 1764600000123, "search engine: 503", 8, 1, "search ",
     "projector_stalled{projection=\"orders\"} 1\n"},
    {"the batch went through", 0, 0, NULL, 64, 0, NULL,
     "projector_stalled{projection=\"orders\"} 0\n"},
};

static void test_stalled(void **state)
{
    (void)state;
    stats_t *s = stats_new("orders");
    for (size_t i = 0; i < N_ROWS(steps); i++) {
        if (steps[i].set)
            stats_set_stalled(s, steps[i].since, steps[i].reason);
        else if (i)
            stats_clear_stalled(s);
        char reason[64] = "";
        int64_t since = -1;
        int got = stats_stalled(s, &since, reason, steps[i].reason_size);
        if (got != steps[i].want)
            fail_msg("%s: stalled %d, expected %d", steps[i].what, got, steps[i].want);
        if (got && (since != steps[i].since || strcmp(reason, steps[i].want_reason) != 0))
            fail_msg("%s: since %lld reason \"%s\"", steps[i].what, (long long)since, reason);
        strbuf_t out = STRBUF_INIT;
        stats_t *list[] = {s};
        stats_render(list, 1, &out);
        if (!strstr(out.data, steps[i].want_gauge))
            fail_msg("%s: no \"%s\" in the metrics", steps[i].what, steps[i].want_gauge);
        if (!strstr(out.data, "# TYPE projector_stalled gauge\n"))
            fail_msg("%s: no TYPE line for projector_stalled", steps[i].what);
        strbuf_free(&out);
    }
    stats_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stalled)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
