/* Read-your-writes: a read carrying min_position=topic:partition:offset[,...] (or the header
 * X-Min-Position) is answered only once the table's projection has applied those positions,
 * re-checked on a timer so other requests are served meanwhile; after wait_ms (default 5 s,
 * at most 30 s) it is answered 504 with the positions reached. */
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "backoff.h"
#include "http_internal.h"
#include "strbuf.h"

#define WAIT_MS_DEFAULT 5000
#define WAIT_MS_MAX 30000
#define RECHECK_MS 20
#define WAITING_MAX 256 /* requests held at once; more are refused with 503 */

typedef struct pending {
    http_ctx_t *ctx;
    struct evhttp_request *req;
    const mapping_t *m;
    char *rest, *query;
    strbuf_t topics, parts, offsets; /* array literals */
    size_t n;
    struct timespec deadline;
    struct event *timer;
    http_then_fn then;
} pending_t;

static void on_close(struct evhttp_connection *conn, void *arg);

static void pending_free(pending_t *p)
{
    p->ctx->waiting--;
    struct evhttp_connection *conn = p->req ? evhttp_request_get_connection(p->req) : NULL;
    if (conn)
        evhttp_connection_set_closecb(conn, NULL, NULL);
    if (p->timer)
        event_free(p->timer);
    strbuf_free(&p->topics);
    strbuf_free(&p->parts);
    strbuf_free(&p->offsets);
    free(p->rest);
    free(p->query);
    free(p);
}

/* Parses "topic:partition:offset[,...]" into p's arrays; returns 0 or -1. */
static int parse_positions(pending_t *p, const char *spec)
{
    char *copy = strdup(spec), *save = NULL;
    int rc = 0;
    strbuf_puts(&p->topics, "{");
    strbuf_puts(&p->parts, "{");
    strbuf_puts(&p->offsets, "{");
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        char *c2 = strrchr(item, ':');
        char *c1 = c2 ? memrchr(item, ':', (size_t)(c2 - item)) : NULL;
        char *end1, *end2;
        long part = c1 ? strtol(c1 + 1, &end1, 10) : -1;
        long long off = c2 ? strtoll(c2 + 1, &end2, 10) : -1;
        if (!c1 || c1 == item || part < 0 || end1 != c2 || off < 0 || *end2) {
            rc = -1;
            break;
        }
        *c1 = '\0';
        const char *sep = p->n ? "," : "";
        strbuf_puts(&p->topics, sep);
        strbuf_array_elem(&p->topics, item);
        strbuf_printf(&p->parts, "%s%ld", sep, part);
        strbuf_printf(&p->offsets, "%s%lld", sep, off);
        p->n++;
    }
    strbuf_puts(&p->topics, "}");
    strbuf_puts(&p->parts, "}");
    strbuf_puts(&p->offsets, "}");
    free(copy);
    return rc == 0 && p->n ? 0 : -1;
}

/* Runs the positions query: the wanted positions with the stored next offset of each. */
static PGresult *positions(pending_t *p)
{
    const char *params[] = {mapping_name(p->m), p->topics.data, p->parts.data, p->offsets.data};
    return PQexecParams(p->ctx->conn,
                        "SELECT u.t, u.p, u.o, s.next_offset FROM unnest($2::text[], $3::int[],"
                        " $4::bigint[]) AS u(t, p, o) LEFT JOIN projector.positions s ON"
                        " s.projection = $1 AND s.topic = u.t AND s.partition = u.p",
                        4, NULL, params, NULL, NULL, 0);
}

/* 1 when every wanted position is applied, 0 when not yet, -1 on a database error. */
static int reached(PGresult *r)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        if (PQgetisnull(r, i, 3) ||
            strtoll(PQgetvalue(r, i, 3), NULL, 10) <= strtoll(PQgetvalue(r, i, 2), NULL, 10))
            return 0;
    return 1;
}

static void reply_timeout(pending_t *p, PGresult *r)
{
    json_t *current = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(
            current,
            json_pack("{s:s,s:i,s:I,s:o}", "topic", PQgetvalue(r, i, 0), "partition",
                      atoi(PQgetvalue(r, i, 1)), "wanted",
                      (json_int_t)strtoll(PQgetvalue(r, i, 2), NULL, 10), "next_offset",
                      PQgetisnull(r, i, 3) ? json_null()
                                           : json_integer(strtoll(PQgetvalue(r, i, 3), NULL, 10))));
    http_reply_json(p->req, 504,
                    json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "position_timeout", "message",
                              "the projection has not applied min_position yet", "current",
                              current));
}

static int past(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Checks p: answers it (through then, or 504/503) and frees it, or re-arms the timer. */
static void check(pending_t *p)
{
    PGresult *r = positions(p);
    int ok = reached(r);
    struct evhttp_connection *conn = evhttp_request_get_connection(p->req);
    if (conn && (ok != 0 || past(&p->deadline)))
        evhttp_connection_set_closecb(conn, NULL, NULL); /* answered now */
    if (ok == 1) {
        p->ctx->released = p->req;
        p->then(p->ctx, p->req, p->rest, p->query);
        p->ctx->released = NULL;
    } else if (ok < 0) {
        http_reply_error(p->req, 503, "database_error", PQerrorMessage(p->ctx->conn));
    } else if (past(&p->deadline)) {
        reply_timeout(p, r);
    } else {
        PQclear(r);
        struct timeval tv = {0, RECHECK_MS * 1000};
        evtimer_add(p->timer, &tv);
        return;
    }
    PQclear(r);
    p->req = NULL; /* answered: libevent owns it again */
    pending_free(p);
}

/* The client went away while waiting: forget the request (libevent frees it). */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    pending_t *p = arg;
    p->req = NULL;
    pending_free(p);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    check(arg);
}

int http_wait_positions(http_ctx_t *ctx, struct evhttp_request *req, const mapping_t *m,
                        const char *rest, const char *query, http_then_fn then)
{
    if (req == ctx->released)
        return 1;
    struct evkeyvalq args;
    TAILQ_INIT(&args);
    if (query)
        evhttp_parse_query_str(query, &args);
    const char *spec = evhttp_find_header(&args, "min_position");
    if (!spec)
        spec = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Min-Position");
    const char *wait = evhttp_find_header(&args, "wait_ms");
    if (!spec) {
        evhttp_clear_headers(&args);
        return 1;
    }
    if (ctx->waiting >= WAITING_MAX) {
        evhttp_clear_headers(&args);
        http_reply_error(req, 503, "too_many_waiting",
                         "too many reads are waiting for their positions; retry later");
        return 0;
    }
    pending_t *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    ctx->waiting++;
    p->ctx = ctx;
    p->req = req;
    p->m = m;
    p->rest = strdup(rest);
    p->query = query ? strdup(query) : NULL;
    p->then = then;
    long wait_ms = wait ? strtol(wait, NULL, 10) : WAIT_MS_DEFAULT;
    int bad = parse_positions(p, spec) != 0;
    evhttp_clear_headers(&args);
    if (bad || wait_ms < 0 || wait_ms > WAIT_MS_MAX) {
        http_reply_error(req, 400, "invalid_position",
                         bad ? "min_position: expected topic:partition:offset[,...]"
                             : "wait_ms: expected 0..30000");
        p->req = NULL;
        pending_free(p);
        return 0;
    }
    p->deadline = backoff_deadline(CLOCK_MONOTONIC, wait_ms);
    p->timer = evtimer_new(ctx->base, on_timer, p);
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, p);
    check(p);
    return 0;
}
