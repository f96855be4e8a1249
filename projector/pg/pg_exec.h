/* Running one statement and reading its error: the helper every PostgreSQL caller uses. */
#ifndef PROJECTOR_PG_EXEC_H
#define PROJECTOR_PG_EXEC_H

#include <libpq-fe.h>
#include <stddef.h>

/* How pg_exec() sends the statement. */
enum {
    PG_SIMPLE = 1, /* the simple protocol: several statements allowed, no parameters */
    PG_TEXT = 2,   /* the parameters are declared text (so a statement may leave some unused);
                    * without it their types are inferred from the statement */
};

/* Why a statement failed. */
typedef struct pg_err {
    char sqlstate[6]; /* "" when the server sent none (the connection failed) */
    int line;         /* the line of sql the error points at (1-based), 0: none */
    char msg[1024];   /* the primary message, on one line */
} pg_err_t;

/* Runs sql on c with n text parameters. Returns 0 when it succeeded, handing the result over in
 * *rows when rows is given (caller clears it); else -1 with err filled (when given). Blocks. */
int pg_exec(PGconn *c, const char *sql, int n, const char *const *params, int flags,
            PGresult **rows, pg_err_t *err) __attribute__((warn_unused_result));

/* Like pg_exec() for a statement whose result is not needed, with the error as "what: message"
 * ("what:LINE: message" when it points at a line) in errstr. Returns 0 or -1 (a best-effort
 * statement, such as a ROLLBACK, may ignore it). Blocks. */
int pg_run(PGconn *c, const char *sql, int n, const char *const *params, int flags,
           const char *what, char *errstr, size_t errsz);

#endif
