/* The pipeline of a sink_pg connection: statements are queued (libpq pipeline mode) with what
 * takes their rows, then one sync reads every result and classifies the first error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_pg_internal.h"
#include "sqlstate.h"
#include "xalloc.h"

int sink_pg_prepare(sink_pg_t *s, const char *name, const char *sql, char *errstr, size_t errsz)
{
    PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(errstr, errsz, "preparing %s: %s", name, PQerrorMessage(s->conn));
    PQclear(r);
    return ok ? 0 : -1;
}

static void expect(sink_pg_t *s, sink_pg_rows_fn on_rows, int id, const mapping_action_info_t *act)
{
    if (s->nq == s->qcap) {
        s->qcap = s->qcap ? 2 * s->qcap : 64;
        s->q = xrealloc(s->q, s->qcap * sizeof(q_expect_t));
    }
    s->q[s->nq++] = (q_expect_t){on_rows, id, act};
}

void sink_pg_send(sink_pg_t *s, const char *name, int n, const char *const *params,
                  const int *lengths, const int *formats, sink_pg_rows_fn on_rows, int id,
                  const mapping_action_info_t *act)
{
    if (s->err == ERR_NONE && !PQsendQueryPrepared(s->conn, name, n, params, lengths, formats, 0)) {
        s->err = ERR_RETRY;
        snprintf(s->errmsg, sizeof(s->errmsg), "sending %s: %s", name, PQerrorMessage(s->conn));
    }
    expect(s, on_rows, id, act);
}

void sink_pg_send_prepare(sink_pg_t *s, const char *name, const char *sql, sink_pg_rows_fn on_rows,
                          int id)
{
    if (s->err == ERR_NONE && !PQsendPrepare(s->conn, name, sql, 0, NULL)) {
        s->err = ERR_RETRY;
        snprintf(s->errmsg, sizeof(s->errmsg), "preparing %s: %s", name, PQerrorMessage(s->conn));
    }
    expect(s, on_rows, id, NULL);
}

void sink_pg_send_sql(sink_pg_t *s, const char *sql)
{
    if (s->err == ERR_NONE && !PQsendQueryParams(s->conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
        s->err = ERR_RETRY;
        snprintf(s->errmsg, sizeof(s->errmsg), "sending %s: %s", sql, PQerrorMessage(s->conn));
    }
    expect(s, NULL, 0, NULL);
}

void sink_pg_count_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)q;
    s->counted = PQntuples(r);
}

/* The class of a failed statement's error: a lost connection is the database's. */
static err_class_t classify(PGconn *c, const char *state)
{
    static const err_class_t of[] = {[SQLSTATE_RETRY] = ERR_RETRY,
                                     [SQLSTATE_EVENT] = ERR_EVENT,
                                     [SQLSTATE_SERIAL] = ERR_SERIAL,
                                     [SQLSTATE_SCHEMA] = ERR_SCHEMA};
    return PQstatus(c) != CONNECTION_OK ? ERR_RETRY : of[sqlstate_classify(state)];
}

static void record_error(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    s->err = classify(s->conn, state);
    if (!msg)
        msg = PQerrorMessage(s->conn);
    snprintf(s->errmsg, sizeof(s->errmsg), "%s%sPostgreSQL error %s: %s%s%s",
             q->act ? q->act->where : "", q->act ? ": " : "", state ? state : "(none)", msg,
             detail ? " (" : "", detail ? detail : "");
    if (detail)
        strncat(s->errmsg, ")", sizeof(s->errmsg) - strlen(s->errmsg) - 1);
    s->errmsg[strcspn(s->errmsg, "\n")] = '\0';
}

/* Reads the results up to the sync point; marks the connection's loss as the first error. */
static void read_sync_point(sink_pg_t *s)
{
    PGresult *r;
    while (PQstatus(s->conn) == CONNECTION_OK && (r = PQgetResult(s->conn))) {
        int done = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (done)
            break;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        if (s->err == ERR_NONE)
            snprintf(s->errmsg, sizeof(s->errmsg), "connection lost: %s", PQerrorMessage(s->conn));
        s->err = ERR_RETRY;
        s->errmsg[strcspn(s->errmsg, "\n")] = '\0';
    }
}

err_class_t sink_pg_sync(sink_pg_t *s)
{
    if (s->err == ERR_NONE && PQpipelineSync(s->conn) != 1) {
        s->err = ERR_RETRY;
        snprintf(s->errmsg, sizeof(s->errmsg), "sync: %s", PQerrorMessage(s->conn));
    }
    for (size_t i = 0; i < s->nq && PQstatus(s->conn) == CONNECTION_OK; i++) {
        PGresult *r;
        while ((r = PQgetResult(s->conn))) {
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_FATAL_ERROR && s->err == ERR_NONE)
                record_error(s, r, &s->q[i]);
            else if ((st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && s->err == ERR_NONE &&
                     s->q[i].on_rows)
                s->q[i].on_rows(s, r, &s->q[i]);
            PQclear(r);
        }
    }
    read_sync_point(s);
    s->nq = 0;
    err_class_t e = s->err;
    s->err = ERR_NONE;
    return e;
}

err_class_t sink_pg_run_sql(sink_pg_t *s, const char *sql)
{
    sink_pg_send_sql(s, sql);
    return sink_pg_sync(s);
}
