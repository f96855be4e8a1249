/* What a PostgreSQL error (its SQLSTATE) says about a batch: the database, or one event's data.
 *
 * An error of the event's data is permanent for that event: the batch is bisected under
 * savepoints until the event fails alone, and only then is it dead-lettered; so a class listed
 * here as data that a whole batch could provoke (a statement too complex for a large batch)
 * costs bisection, never an event that would apply alone. Everything else waits: a failing
 * database is waited out, never skipped. */
#include "sqlstate.h"

#include <string.h>

/* SQLSTATE prefixes (a class: two characters; a condition: five) and what they mean here. */
static const struct {
    const char *prefix;
    sqlstate_class_t cls;
} rules[] = {
    {"21000", SQLSTATE_SERIAL}, /* cardinality violation: ON CONFLICT hit a row twice */
    {"22", SQLSTATE_EVENT},     /* data exception: a value the column's type cannot take */
    {"23", SQLSTATE_EVENT},     /* integrity constraint violation: not null, check, unique */
    {"54", SQLSTATE_EVENT},     /* program limit exceeded: 54000 index row too large, 54001
                                   statement too complex, 54011 too many columns, 54023 too many
                                   arguments: the event's values are too large */
    {"08", SQLSTATE_RETRY},     /* connection exception */
    {"40", SQLSTATE_RETRY},     /* transaction rollback: deadlock, serialization failure */
    {"42", SQLSTATE_SCHEMA},    /* syntax or access rule: the statements were checked at start,
                                   so the schema drifted (42703 missing column, 42P01 missing
                                   table, 42501 privilege, 42804 type); waited out, stalled */
    {"53", SQLSTATE_RETRY},     /* insufficient resources: disk full, out of memory */
    {"55", SQLSTATE_RETRY},     /* object not in prerequisite state: lock not available */
    {"57", SQLSTATE_RETRY},     /* operator intervention: shutdown, query canceled */
};

sqlstate_class_t sqlstate_classify(const char *state)
{
    if (!state)
        return SQLSTATE_RETRY;
    size_t best = 0;
    sqlstate_class_t cls = SQLSTATE_RETRY;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        size_t n = strlen(rules[i].prefix);
        if (n > best && strncmp(state, rules[i].prefix, n) == 0) {
            best = n;
            cls = rules[i].cls;
        }
    }
    return cls;
}

const char *sqlstate_class_name(sqlstate_class_t c)
{
    static const char *const names[] = {[SQLSTATE_RETRY] = "retry",
                                        [SQLSTATE_EVENT] = "event",
                                        [SQLSTATE_SERIAL] = "serial",
                                        [SQLSTATE_SCHEMA] = "schema"};
    return names[c];
}
