/* Read-your-writes, on the loop thread: a read carrying min_position (validated and marked held
 * by http_wait.c) is answered only once the table's projection has applied those positions;
 * after wait_ms (default 5 s, at most 30 s) it is answered 504 with the positions reached.
 *
 * The loop thread holds such requests (at most WAITING_MAX at once, HTTP_MAX_POSITIONS
 * positions each). While any is held, one poll job at a time reads the stored positions of
 * their projections (one small query, however many wait) on a worker; the loop thread
 * compares, sends each request whose positions are applied back to the workers to be answered,
 * and answers the expired ones. */
#include "http_waits.h"

#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "hmap.h"
#include "http_reply.h"
#include "strbuf.h"
#include "xalloc.h"

#define RECHECK_MS 20
#define WAITING_MAX 256 /* requests held at once; more are refused with 503 */

/* ---- on a worker: the poll ---- */

void http_waits_poll_run(PGconn *conn, http_req_t *poll)
{
    const char *params[] = {poll->body};
    poll->result = PQexecParams(conn,
                                "SELECT projection, topic, partition, next_offset FROM"
                                " projector.positions WHERE projection = ANY($1::text[])",
                                1, NULL, params, NULL, NULL, 0);
}

/* ---- on the loop thread ---- */

struct http_waits {
    http_waits_io_t io;
    http_req_t *held[WAITING_MAX];
    size_t n;
    struct event *timer;
    int polling; /* a poll job is with the workers */
};

static void on_timer(evutil_socket_t fd, short what, void *arg);

http_waits_t *http_waits_new(struct event_base *base, const http_waits_io_t *io)
{
    http_waits_t *w = xcalloc(1, sizeof(*w));
    w->io = *io;
    w->timer = evtimer_new(base, on_timer, w);
    return w;
}

void http_waits_free(http_waits_t *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        http_req_free(w->held[i]); /* the server closes their connections */
    event_free(w->timer);
    free(w);
}

static void start_poll(http_waits_t *w)
{
    strbuf_t names = STRBUF_INIT;
    strbuf_puts(&names, "{");
    for (size_t i = 0; i < w->n; i++) {
        strbuf_puts(&names, i ? "," : "");
        strbuf_array_elem(&names, mapping_name(w->held[i]->wait_m));
    }
    strbuf_puts(&names, "}");
    http_req_t *poll = http_req_new(EVHTTP_REQ_GET, "/", NULL, names.data, names.len);
    strbuf_free(&names);
    poll->kind = HTTP_JOB_POLL;
    w->polling = 1;
    w->io.dispatch(w->io.arg, poll);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    http_waits_t *w = arg;
    if (w->n && !w->polling)
        start_poll(w);
}

void http_waits_hold(http_waits_t *w, http_req_t *req)
{
    req->hold = 0;
    if (w->n == WAITING_MAX) {
        http_reply_error(req, 503, "too_many_waiting",
                         "too many reads are waiting for their positions; retry later");
        w->io.send(w->io.arg, req);
        return;
    }
    req->deadline = backoff_deadline(CLOCK_MONOTONIC, req->wait_ms);
    w->held[w->n++] = req;
    if (!w->polling)
        start_poll(w);
}

static size_t position_key(strbuf_t *key, const char *projection, const char *topic, int part)
{
    strbuf_reset(key);
    strbuf_printf(key, "%s%c%s%c%d", projection, 0x1f, topic, 0x1f, part);
    return key->len;
}

static int past(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* 1 when every position req waits for is applied (next offsets in map), else 0. */
static int reached(const http_req_t *req, const hmap_t *map, strbuf_t *key)
{
    for (size_t i = 0; i < req->nwait; i++) {
        size_t n =
            position_key(key, mapping_name(req->wait_m), req->wait_topics[i], req->wait_parts[i]);
        const int64_t *next = hmap_get(map, key->data, n);
        if (!next || *next <= req->wait_offsets[i])
            return 0;
    }
    return 1;
}

static void reply_timeout(http_req_t *req, const hmap_t *map, strbuf_t *key)
{
    json_t *current = json_array();
    for (size_t i = 0; i < req->nwait; i++) {
        size_t n =
            position_key(key, mapping_name(req->wait_m), req->wait_topics[i], req->wait_parts[i]);
        const int64_t *next = hmap_get(map, key->data, n);
        json_array_append_new(current, json_pack("{s:s,s:i,s:I,s:o}", "topic", req->wait_topics[i],
                                                 "partition", (int)req->wait_parts[i], "wanted",
                                                 (json_int_t)req->wait_offsets[i], "next_offset",
                                                 next ? json_integer(*next) : json_null()));
    }
    http_reply_json(req, 504,
                    json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "position_timeout", "message",
                              "the projection has not applied min_position yet", "current",
                              current));
}

void http_waits_polled(http_waits_t *w, http_req_t *poll)
{
    w->polling = 0;
    PGresult *r = poll->result;
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    hmap_t *map = hmap_new();
    strbuf_t key = STRBUF_INIT;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 3))
            continue;
        size_t n =
            position_key(&key, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), atoi(PQgetvalue(r, i, 2)));
        *hmap_put(map, key.data, n, NULL) = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    }
    size_t kept = 0;
    for (size_t i = 0; i < w->n; i++) {
        http_req_t *req = w->held[i];
        if (ok && reached(req, map, &key)) {
            req->released = 1;
            w->io.dispatch(w->io.arg, req);
            continue;
        }
        if (!ok)
            http_reply_error(req, 503, "database_error", PQresultErrorMessage(r));
        else if (past(&req->deadline))
            reply_timeout(req, map, &key);
        if (req->status) {
            w->io.send(w->io.arg, req);
            continue;
        }
        w->held[kept++] = req;
    }
    w->n = kept;
    strbuf_free(&key);
    hmap_destroy(map);
    http_req_free(poll);
    struct timeval tv = {0, RECHECK_MS * 1000};
    if (w->n)
        evtimer_add(w->timer, &tv);
}
