/* Unit tests of sqlstate: which PostgreSQL errors are an event's data and which are waited out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sqlstate.h"

#define N_ROWS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *state; /* NULL: no SQLSTATE (the connection failed) */
    sqlstate_class_t want;
    const char *what;
} rows[] = {
    {"22P02", SQLSTATE_EVENT, "invalid text representation"},
    {"22001", SQLSTATE_EVENT, "string too long for the column"},
    {"22003", SQLSTATE_EVENT, "numeric value out of range"},
    {"23502", SQLSTATE_EVENT, "not null violation"},
    {"23505", SQLSTATE_EVENT, "unique violation"},
    {"23514", SQLSTATE_EVENT, "check violation"},
    {"54000", SQLSTATE_EVENT, "index row too large"},
    {"54001", SQLSTATE_EVENT, "statement too complex"},
    {"54011", SQLSTATE_EVENT, "too many columns"},
    {"54023", SQLSTATE_EVENT, "too many arguments"},
    {"21000", SQLSTATE_SERIAL, "ON CONFLICT hit one row twice"},
    {"21001", SQLSTATE_RETRY, "another cardinality condition is not the serial case"},
    {"08006", SQLSTATE_RETRY, "connection failure"},
    {"40001", SQLSTATE_RETRY, "serialization failure"},
    {"40P01", SQLSTATE_RETRY, "deadlock"},
    {"42703", SQLSTATE_SCHEMA, "undefined column: schema drift"},
    {"42P01", SQLSTATE_SCHEMA, "undefined table: schema drift"},
    {"42501", SQLSTATE_SCHEMA, "insufficient privilege"},
    {"42804", SQLSTATE_SCHEMA, "datatype mismatch: a column type changed"},
    {"42P10", SQLSTATE_SCHEMA, "no unique constraint for ON CONFLICT: an index dropped"},
    {"53100", SQLSTATE_RETRY, "disk full"},
    {"55P03", SQLSTATE_RETRY, "lock not available"},
    {"57014", SQLSTATE_RETRY, "query canceled (statement timeout)"},
    {"57P01", SQLSTATE_RETRY, "admin shutdown"},
    {"XX000", SQLSTATE_RETRY, "internal error"},
    {"25P02", SQLSTATE_RETRY, "in failed transaction"},
    {"", SQLSTATE_RETRY, "empty"},
    {NULL, SQLSTATE_RETRY, "no SQLSTATE"},
};

static void test_classify(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(rows); i++) {
        sqlstate_class_t got = sqlstate_classify(rows[i].state);
        if (got != rows[i].want)
            fail_msg("%s (%s): %s, expected %s", rows[i].state ? rows[i].state : "NULL",
                     rows[i].what, sqlstate_class_name(got), sqlstate_class_name(rows[i].want));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_classify)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
