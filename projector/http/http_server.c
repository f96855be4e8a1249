/* The HTTP API's libevent side: one event-loop thread owns every libevent object; a pool of
 * worker threads answers the requests that need the database or the search engine.
 *
 * The loop thread copies each request into an http_req_t, answers it itself when it needs
 * no database (http_route(..., on_loop)), else queues it for the workers; a worker fills the
 * reply and queues it back (event_active wakes the loop), and the loop sends it. A request
 * handed to us is safe to answer whatever its client did meanwhile: libevent stops reading a
 * connection while its request is with us, and evhttp_send_reply() frees a request whose
 * connection is gone (libevent 2.1.12, http.c: evhttp_send(), evhttp_connection_incoming_fail()).
 *
 * Connections (http_conn.c) are capped below the descriptor limit and closed when they do not
 * deliver a whole request within HTTP_REQUEST_DEADLINE_S. */
#include "http_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "http_conn.h"
#include "http_db.h"
#include "http_reply.h"
#include "http_route.h"
#include "http_waits.h"
#include "log.h"
#include "schema.h"
#include "sink_es.h"
#include "xalloc.h"

#define HTTP_LIBEVENT_MAX_BODY (4 * HTTP_MAX_BODY) /* libevent's own limit; ours is lower */

typedef struct worker {
    http_server_t *s;
    pthread_t thread;
    int started;
    http_ctx_t ctx; /* its own conn and es */
} worker_t;

struct http_server {
    struct event_base *base;
    struct evhttp *http;
    http_conns_t *conns;
    pthread_t loop;
    int loop_started;
    http_ctx_t loop_ctx; /* no conn, no es: the loop answers only what needs neither */
    http_waits_t *waits;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    http_req_t *todo, **todo_tail; /* for the workers */
    http_req_t *done, **done_tail; /* answered, for the loop */
    struct event *done_ev;
    int stopping;
    worker_t *workers;
    int nworkers;
};

/* ---- the queues ---- */

static void push(http_req_t ***tail, http_req_t *req)
{
    req->next = NULL;
    **tail = req;
    *tail = &req->next;
}

static http_req_t *take_all(http_req_t **head, http_req_t ***tail)
{
    http_req_t *all = *head;
    *head = NULL;
    *tail = head;
    return all;
}

/* Hands req to the workers (taken). */
static void dispatch(http_server_t *s, http_req_t *req)
{
    pthread_mutex_lock(&s->mu);
    push(&s->todo_tail, req);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Sends req's reply and frees req (taken). */
static void send_reply(http_server_t *s, http_req_t *req)
{
    if (!req->status)
        http_reply_json(req, 500, NULL);
    struct evhttp_request *ev = req->ev;
    if (ev) {
        struct evkeyvalq *out = evhttp_request_get_output_headers(ev);
        evhttp_add_header(out, "Content-Type",
                          req->content_type ? req->content_type : "application/json");
        if (req->challenge)
            evhttp_add_header(out, "WWW-Authenticate", "Bearer");
        struct evbuffer *buf = evbuffer_new();
        if (!buf)
            abort();
        evbuffer_add(buf, req->out.data ? req->out.data : "", req->out.len);
        struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
        http_conn_t *c = evcon ? http_conns_find(s->conns, evcon) : NULL;
        http_conn_sending(c, 1);
        evhttp_send_reply(ev, req->status, NULL, buf);
        http_conn_sending(c, 0);
        evbuffer_free(buf);
    }
    http_req_free(req);
}

/* The held reads' way back into the server (http_waits_io_t). */
static void waits_dispatch(void *arg, http_req_t *req)
{
    dispatch(arg, req);
}

static void waits_send(void *arg, http_req_t *req)
{
    send_reply(arg, req);
}

/* ---- the workers ---- */

/* Runs req on a worker; a read that failed on a connection the server closed (a restart)
 * runs once more on a new connection. */
static void run(http_ctx_t *ctx, http_req_t *req)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        http_db_prepare(ctx->conn);
        if (req->kind == HTTP_JOB_POLL) {
            PQclear(req->result);
            http_waits_poll_run(ctx->conn, req);
            if (PQresultStatus(req->result) == PGRES_TUPLES_OK)
                return;
        } else {
            http_reply_reset(req);
            http_route(ctx, req, 0);
            if (req->status != 503 || req->method != EVHTTP_REQ_GET)
                return;
        }
        if (!ctx->conn || PQstatus(ctx->conn) == CONNECTION_OK)
            return;
    }
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    http_server_t *s = w->s;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->todo && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        http_req_t *req = s->stopping ? NULL : s->todo;
        if (req && !(s->todo = req->next))
            s->todo_tail = &s->todo;
        pthread_mutex_unlock(&s->mu);
        if (!req)
            return NULL;
        run(&w->ctx, req);
        pthread_mutex_lock(&s->mu);
        push(&s->done_tail, req);
        pthread_mutex_unlock(&s->mu);
        event_active(s->done_ev, EV_READ, 0);
    }
}

/* On the loop thread: sends what the workers answered, holds what waits for positions. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    http_server_t *s = arg;
    pthread_mutex_lock(&s->mu);
    http_req_t *all = take_all(&s->done, &s->done_tail);
    pthread_mutex_unlock(&s->mu);
    while (all) {
        http_req_t *req = all;
        all = req->next;
        if (req->kind == HTTP_JOB_POLL)
            http_waits_polled(s->waits, req);
        else if (req->hold)
            http_waits_hold(s->waits, req);
        else
            send_reply(s, req);
    }
}

/* ---- requests ---- */

/* Copies what the handlers need out of libevent's request. */
static http_req_t *snapshot(struct evhttp_request *ev)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    struct evbuffer *in = evhttp_request_get_input_buffer(ev);
    size_t len = evbuffer_get_length(in);
    http_req_t *req =
        http_req_new(evhttp_request_get_command(ev), uri ? evhttp_uri_get_path(uri) : NULL,
                     uri ? evhttp_uri_get_query(uri) : NULL,
                     len ? (const char *)evbuffer_pullup(in, -1) : NULL, len);
    struct evkeyval *kv;
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(ev), next)
    http_req_add_header(req, kv->key, kv->value);
    char *host = NULL;
    ev_uint16_t port;
    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    if (evcon)
        evhttp_connection_get_peer(evcon, &host, &port);
    snprintf(req->peer, sizeof(req->peer), "%s", host ? host : "");
    req->ev = ev;
    return req;
}

static void on_request(struct evhttp_request *ev, void *arg)
{
    http_server_t *s = arg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    http_conn_request(evcon ? http_conns_find(s->conns, evcon) : NULL);
    http_req_t *req = snapshot(ev);
    if (http_route(&s->loop_ctx, req, 1))
        send_reply(s, req);
    else
        dispatch(s, req);
}

/* ---- start and stop ---- */

static void *serve(void *arg)
{
    http_server_t *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

/* Gives worker w its own database connection and search client; returns 0 or -1. */
static int worker_init(worker_t *w, http_server_t *s, const http_ctx_t *shared, char *errstr,
                       size_t errstr_size)
{
    w->s = s;
    w->ctx = *shared;
    w->ctx.conn = schema_connect(config_str(shared->cfg, CFG_PG), errstr, errstr_size);
    if (!w->ctx.conn)
        return -1;
    http_db_setup(w->ctx.conn);
    w->ctx.es = NULL;
    es_settings_t es = sink_es_settings(shared->cfg);
    if (es.url && !(w->ctx.es = es_client_new(&es, errstr, errstr_size)))
        return -1;
    return 0;
}

/* Binds host:port of http.listen; returns 0 or -1 with errstr. */
static int bind_listen(http_server_t *s, const config_t *cfg, char *errstr, size_t errstr_size)
{
    const char *listen = config_str(cfg, CFG_HTTP_LISTEN);
    char *host = xmalloc(strlen(listen) + 1);
    int port, rc = -1;
    if (config_listen(cfg, host, strlen(listen) + 1, &port) != 0) {
        snprintf(errstr, errstr_size, "http.listen: expected host:port, got \"%s\"", listen);
        goto done;
    }
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)port);
    if (!bound) {
        snprintf(errstr, errstr_size, "http.listen: cannot listen on %s", listen);
        goto done;
    }
    s->conns = http_conns_new(s->base, s->http, evhttp_bound_socket_get_listener(bound));
    rc = 0;
done:
    free(host);
    return rc;
}

static void free_list(http_req_t *all)
{
    while (all) {
        http_req_t *next = all->next;
        http_req_free(all); /* their libevent requests go with evhttp_free() */
        all = next;
    }
}

http_server_t *http_server_start(const http_ctx_t *shared, int workers, char *errstr,
                                 size_t errstr_size)
{
    evthread_use_pthreads();
    http_server_t *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->todo_tail = &s->todo;
    s->done_tail = &s->done;
    s->loop_ctx = *shared;
    s->workers = xcalloc((size_t)workers, sizeof(*s->workers));
    s->nworkers = workers;
    for (int i = 0; i < workers; i++)
        if (worker_init(&s->workers[i], s, shared, errstr, errstr_size) != 0)
            goto fail;
    s->base = event_base_new();
    s->http = evhttp_new(s->base);
    if (!s->base || !s->http)
        abort();
    evhttp_set_max_headers_size(s->http, 16384);
    evhttp_set_max_body_size(s->http, HTTP_LIBEVENT_MAX_BODY);
    evhttp_set_timeout(s->http, 30);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(s->http, on_request, s);
    s->done_ev = event_new(s->base, -1, 0, on_done, s);
    s->waits = http_waits_new(s->base, &(http_waits_io_t){waits_dispatch, waits_send, s});
    if (bind_listen(s, shared->cfg, errstr, errstr_size) != 0)
        goto fail;
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0) {
            snprintf(errstr, errstr_size, "cannot start the HTTP workers");
            goto fail;
        }
        s->workers[i].started = 1;
    }
    if (pthread_create(&s->loop, NULL, serve, s) != 0) {
        snprintf(errstr, errstr_size, "cannot start the HTTP thread");
        goto fail;
    }
    s->loop_started = 1;
    LOG(LOG_INFO,
        "http listening on %s with %d workers (connections while descriptors stay below "
        "%d)",
        config_str(shared->cfg, CFG_HTTP_LISTEN), workers, http_conns_cap(s->conns));
    return s;
fail:
    http_server_stop(s);
    return NULL;
}

void http_server_stop(http_server_t *s)
{
    if (!s)
        return;
    if (s->loop_started) {
        event_base_loopbreak(s->base);
        pthread_join(s->loop, NULL);
    }
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i].started)
            pthread_join(s->workers[i].thread, NULL);
    free_list(take_all(&s->todo, &s->todo_tail));
    free_list(take_all(&s->done, &s->done_tail));
    http_waits_free(s->waits);
    if (s->http)
        evhttp_free(s->http); /* closes every connection */
    http_conns_free(s->conns);
    if (s->done_ev)
        event_free(s->done_ev);
    if (s->base)
        event_base_free(s->base);
    for (int i = 0; i < s->nworkers; i++) {
        PQfinish(s->workers[i].ctx.conn);
        es_client_destroy(s->workers[i].ctx.es);
    }
    free(s->workers);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
