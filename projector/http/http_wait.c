/* Read-your-writes: a read carrying min_position=topic:partition:offset[,...] (or the header
 * X-Min-Position) is answered only once the table's projection has applied those positions;
 * after wait_ms (default 5 s, at most 30 s) it is answered 504 with the positions reached.
 *
 * A worker validates the positions and hands the request back to the loop thread, which holds
 * it (at most WAITING_MAX at once, HTTP_MAX_POSITIONS positions each). While any is held, one
 * poll job at a time reads the stored positions of their projections (one small query,
 * however many wait) on a worker; the loop thread compares, sends each request whose
 * positions are applied back to the workers to be answered, and answers the expired ones. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "hmap.h"
#include "http_internal.h"
#include "strbuf.h"
#include "xalloc.h"

#define WAIT_MS_DEFAULT 5000
#define WAIT_MS_MAX 30000
#define RECHECK_MS 20
#define WAITING_MAX 256 /* requests held at once; more are refused with 503 */

/* ---- on a worker: validation ---- */

/* Parses "topic:partition:offset[,...]" into req's wait arrays; returns NULL or the problem. */
static const char *parse_positions(http_req_t *req, const char *spec)
{
    if (!http_utf8_valid(spec, strlen(spec)))
        return "not valid UTF-8";
    char *copy = strdup(spec), *save = NULL;
    const char *bad = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && !bad; item = strtok_r(NULL, ",", &save)) {
        char *c2 = strrchr(item, ':');
        char *c1 = c2 ? memrchr(item, ':', (size_t)(c2 - item)) : NULL;
        char *end1 = NULL, *end2 = NULL;
        long part = c1 ? strtol(c1 + 1, &end1, 10) : -1;
        long long off = c2 ? strtoll(c2 + 1, &end2, 10) : -1;
        if (!c1 || c1 == item || part < 0 || part > INT32_MAX || end1 != c2 || off < 0 || *end2) {
            bad = "expected topic:partition:offset[,...]";
            break;
        }
        if (req->nwait == HTTP_MAX_POSITIONS) {
            bad = "more than " HTTP_STR(HTTP_MAX_POSITIONS) " positions";
            break;
        }
        *c1 = '\0';
        req->wait_topics = realloc(req->wait_topics, (req->nwait + 1) * sizeof(char *));
        req->wait_parts = realloc(req->wait_parts, (req->nwait + 1) * sizeof(int32_t));
        req->wait_offsets = realloc(req->wait_offsets, (req->nwait + 1) * sizeof(int64_t));
        if (!req->wait_topics || !req->wait_parts || !req->wait_offsets)
            abort();
        req->wait_topics[req->nwait] = strdup(item);
        req->wait_parts[req->nwait] = (int32_t)part;
        req->wait_offsets[req->nwait++] = off;
    }
    free(copy);
    return bad ? bad : req->nwait ? NULL : "expected topic:partition:offset[,...]";
}

int http_wait_positions(http_ctx_t *ctx, http_req_t *req, const mapping_t *m)
{
    (void)ctx;
    if (req->released)
        return 1;
    const char *name = "min_position", *spec = http_req_arg(req, name);
    if (!spec && (spec = http_req_header(req, "X-Min-Position")))
        name = "X-Min-Position";
    if (!spec)
        return 1;
    const char *wait = http_req_arg(req, "wait_ms");
    char *end = NULL;
    long wait_ms = wait ? strtol(wait, &end, 10) : WAIT_MS_DEFAULT;
    if (wait && (!*wait || *end || wait_ms < 0 || wait_ms > WAIT_MS_MAX)) {
        http_reply_error(req, 400, "invalid_position", "wait_ms: expected 0..30000");
        return 0;
    }
    const char *bad = parse_positions(req, spec);
    if (bad) {
        http_reply_errorf(req, 400, "invalid_position", "%s: %s", name, bad);
        return 0;
    }
    req->wait_m = m;
    req->wait_ms = wait_ms;
    req->hold = 1;
    return 0;
}

/* ---- on a worker: the poll ---- */

void http_waits_poll_run(http_ctx_t *ctx, http_req_t *poll)
{
    const char *params[] = {poll->body};
    poll->result = PQexecParams(ctx->conn,
                                "SELECT projection, topic, partition, next_offset FROM"
                                " projector.positions WHERE projection = ANY($1::text[])",
                                1, NULL, params, NULL, NULL, 0);
}

/* ---- on the loop thread ---- */

struct http_waits {
    http_server_t *s;
    http_req_t *held[WAITING_MAX];
    size_t n;
    struct event *timer;
    int polling; /* a poll job is with the workers */
};

static void on_timer(evutil_socket_t fd, short what, void *arg);

http_waits_t *http_waits_new(http_server_t *s)
{
    http_waits_t *w = xcalloc(1, sizeof(*w));
    w->s = s;
    w->timer = evtimer_new(http_server_base(s), on_timer, w);
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
    http_server_dispatch(w->s, poll);
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
        http_server_send(w->s, req);
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
            http_server_dispatch(w->s, req);
            continue;
        }
        if (!ok)
            http_reply_error(req, 503, "database_error", PQresultErrorMessage(r));
        else if (past(&req->deadline))
            reply_timeout(req, map, &key);
        if (req->status) {
            http_server_send(w->s, req);
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
