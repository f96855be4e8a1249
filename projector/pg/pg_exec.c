/* Running one statement and reading its error. */
#include "pg_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The line of sql that a statement position (1-based character offset) falls on. */
static int line_of(const char *sql, const char *pos)
{
    if (!pos)
        return 0;
    long p = strtol(pos, NULL, 10);
    int line = 1;
    for (long i = 0; i < p - 1 && sql[i]; i++)
        line += sql[i] == '\n';
    return line;
}

int pg_exec(PGconn *c, const char *sql, int n, const char *const *params, int flags,
            PGresult **rows, pg_err_t *err)
{
    static const Oid text[16] = {25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25};
    PGresult *r;
    if (flags & PG_SIMPLE)
        r = PQexec(c, sql);
    else
        r = PQexecParams(c, sql, n, (flags & PG_TEXT) && n > 0 && n <= 16 ? text : NULL, params,
                         NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (rows)
            *rows = r;
        else
            PQclear(r);
        return 0;
    }
    if (err) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state ? state : "");
        snprintf(err->msg, sizeof(err->msg), "%s", msg ? msg : PQerrorMessage(c));
        err->msg[strcspn(err->msg, "\n")] = '\0';
        err->line = line_of(sql, PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION));
    }
    PQclear(r);
    return -1;
}

int pg_run(PGconn *c, const char *sql, int n, const char *const *params, int flags,
           const char *what, char *errstr, size_t errsz)
{
    pg_err_t e;
    if (pg_exec(c, sql, n, params, flags, NULL, &e) == 0)
        return 0;
    if (e.line)
        snprintf(errstr, errsz, "%s:%d: %s", what, e.line, e.msg);
    else
        snprintf(errstr, errsz, "%s: %s", what, e.msg);
    return -1;
}
