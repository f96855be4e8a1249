/* What a PostgreSQL error (its SQLSTATE) says about a batch: the database, or one event's data. */
#ifndef PROJECTOR_SQLSTATE_H
#define PROJECTOR_SQLSTATE_H

typedef enum {
    SQLSTATE_RETRY,  /* the database, not the events (outage, lock, schema): wait and retry */
    SQLSTATE_EVENT,  /* an event's data (classes 22, 23, 54): isolate the event, dead-letter it */
    SQLSTATE_SERIAL, /* one row hit twice by a statement (21000): plan the batch serially */
    SQLSTATE_SCHEMA, /* the views no longer fit the mapping (class 42: a column or table missing,
                        a privilege revoked): neither an outage nor an event's fault; wait */
} sqlstate_class_t;

/* The class of SQLSTATE state (five characters); NULL (no SQLSTATE: the connection failed) and
 * anything the table does not name are SQLSTATE_RETRY. The longest matching prefix wins. */
sqlstate_class_t sqlstate_classify(const char *state);

/* The class's name ("retry", "event", "serial", "schema"), for logs and tests. */
const char *sqlstate_class_name(sqlstate_class_t c);

#endif
