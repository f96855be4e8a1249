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
    int set;             /* 1: stats_set_stalled(since, cause, reason); 0: stats_clear_stalled() */
    int64_t since;       /* ms since the epoch */
    stats_stall_t cause; /* for set */
    const char *reason;  /* for set */
    size_t reason_size;  /* the reader's buffer */
    int want;            /* stats_stalled() */
    const char *want_reason;
    const char *want_gauge; /* the projector_stalled lines of stats_render() */
} steps[] = {
    {"a new worker is not stalled", 0, 0, STATS_STALL_FAILING, NULL, 64, 0, NULL,
     "projector_stalled{projection=\"orders\",cause=\"stalled\"} 0\n"
     "projector_stalled{projection=\"orders\",cause=\"schema_mismatch\"} 0\n"
     "projector_stalled{projection=\"orders\",cause=\"table_recreated\"} 0\n"},
    {"stalled on the database", 1, 1764600000123, STATS_STALL_FAILING,
     "database: PostgreSQL error 55P03: x", 64, 1, "database: PostgreSQL error 55P03: x",
     "projector_stalled{projection=\"orders\",cause=\"stalled\"} 1\n"
     "projector_stalled{projection=\"orders\",cause=\"schema_mismatch\"} 0\n"},
    {"the reason follows the last error, since stays", 1, 1764600000123, STATS_STALL_FAILING,
     "dead-letter topic: 1 of 1 dead letter(s) not acknowledged", 64, 1,
     "dead-letter topic: 1 of 1 dead letter(s) not acknowledged",
     "projector_stalled{projection=\"orders\",cause=\"stalled\"} 1\n"},
    {"a short buffer gets the reason cut", 1, 1764600000123, STATS_STALL_FAILING,
     "search engine: 503", 8, 1, "search ",
     "projector_stalled{projection=\"orders\",cause=\"stalled\"} 1\n"},
    {"the views no longer fit", 1, 1764600000456, STATS_STALL_SCHEMA,
     "the views no longer fit the mapping: 42703", 64, 1,
     "the views no longer fit the mapping: 42703",
     "projector_stalled{projection=\"orders\",cause=\"stalled\"} 0\n"
     "projector_stalled{projection=\"orders\",cause=\"schema_mismatch\"} 1\n"
     "projector_stalled{projection=\"orders\",cause=\"table_recreated\"} 0\n"},
    {"a table was re-created", 1, 1764600000789, STATS_STALL_REFUSED, "table t was re-created", 64,
     1, "table t was re-created",
     "projector_stalled{projection=\"orders\",cause=\"table_recreated\"} 1\n"},
    {"the batch went through", 0, 0, STATS_STALL_FAILING, NULL, 64, 0, NULL,
     "projector_stalled{projection=\"orders\",cause=\"stalled\"} 0\n"
     "projector_stalled{projection=\"orders\",cause=\"schema_mismatch\"} 0\n"
     "projector_stalled{projection=\"orders\",cause=\"table_recreated\"} 0\n"},
};

/* Each cause's name, and back. */
static void test_stall_names(void **state)
{
    (void)state;
    static const struct {
        stats_stall_t cause;
        const char *name;
    } names[] = {{STATS_STALL_FAILING, "stalled"},
                 {STATS_STALL_SCHEMA, "schema_mismatch"},
                 {STATS_STALL_REFUSED, "table_recreated"}};
    for (size_t i = 0; i < N_ROWS(names); i++) {
        if (strcmp(stats_stall_name(names[i].cause), names[i].name) != 0 ||
            stats_stall_parse(names[i].name) != names[i].cause)
            fail_msg("cause %s", names[i].name);
    }
    if (stats_stall_parse("no such cause") != STATS_STALL_FAILING)
        fail_msg("an unknown cause is not read as stalled");
}

static void test_stalled(void **state)
{
    (void)state;
    stats_t *s = stats_new("orders");
    for (size_t i = 0; i < N_ROWS(steps); i++) {
        if (steps[i].set)
            stats_set_stalled(s, steps[i].since, steps[i].cause, steps[i].reason);
        else if (i)
            stats_clear_stalled(s);
        char reason[64] = "";
        int64_t since = -1;
        stats_stall_t cause = STATS_STALL__COUNT;
        int got = stats_stalled(s, &since, &cause, reason, steps[i].reason_size);
        if (got && cause != steps[i].cause)
            fail_msg("%s: cause %s, expected %s", steps[i].what, stats_stall_name(cause),
                     stats_stall_name(steps[i].cause));
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
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stalled),
                                       cmocka_unit_test(test_stall_names)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
