/* The database connections of the HTTP API's workers: session settings and reconnection. */
#include "http_db.h"

#include <poll.h>

#include "pg_exec.h"

void http_db_setup(PGconn *conn)
{
    if (pg_exec(conn, "SET application_name = 'projector-http'; SET statement_timeout = '10s'", 0,
                NULL, PG_SIMPLE, NULL, NULL) != 0)
        return; /* the next statement says what is wrong with the connection */
}

void http_db_prepare(PGconn *conn)
{
    if (!conn)
        return;
    if (PQstatus(conn) == CONNECTION_OK) {
        /* An idle connection has nothing to read unless the server closed it (a restart):
         * reading then shows it is gone. */
        struct pollfd p = {PQsocket(conn), POLLIN, 0};
        if (poll(&p, 1, 0) <= 0 || (PQconsumeInput(conn) && PQstatus(conn) == CONNECTION_OK))
            return;
    }
    PQreset(conn);
    if (PQstatus(conn) == CONNECTION_OK)
        http_db_setup(conn);
}

int http_db_ok(PGconn *conn)
{
    http_db_prepare(conn);
    return pg_exec(conn, "SELECT 1", 0, NULL, PG_SIMPLE, NULL, NULL);
}
