/* The database connections of the HTTP API's workers: their session settings, and the check
 * that reconnects one the server closed. */
#ifndef PROJECTOR_HTTP_DB_H
#define PROJECTOR_HTTP_DB_H

#include <libpq-fe.h>

/* Sets a worker's session up: application name projector-http, statement timeout 10 s. A
 * failure is left for the next statement on conn to report. Blocks. */
void http_db_setup(PGconn *conn);
/* Makes conn (borrowed; NULL: nothing to do) ready for a request: reconnects (and sets it up
 * again) when it is bad or the server closed it. Blocks while connecting. */
void http_db_prepare(PGconn *conn);
/* Reconnects conn when needed (http_db_prepare()) and asks the database for an answer; returns
 * 0 when it answers, else -1 (PQerrorMessage(conn) says why). Blocks. */
int http_db_ok(PGconn *conn) __attribute__((warn_unused_result));

#endif
