/* The HTTP API's connections, on the loop thread.
 *
 * libevent 2.1 has no connection limit and no deadline for a request's head (its timeout is
 * reset by every byte), so this module keeps a record per connection, made in the evhttp
 * bufferevent callback (evhttp_set_bevcb) and holding a reference on the bufferevent, so the
 * record never outlives what it points at: it goes when libevent closes the connection (its
 * close callback) or, failing that, when the once-a-second sweep finds libevent has let the
 * bufferevent go (its callbacks cleared).
 *
 * Cap: the kernel hands out the lowest free descriptor, so while the lowest free one is below
 * the cap every connection's descriptor is below it too and the descriptors above stay free
 * for the database, the brokers and the search engine. At the cap, or when accept() fails,
 * the listener is disabled (new clients wait in the backlog; nothing spins) and re-enabled by
 * a timer once descriptors are free; that is logged at most every 10 s, with a count. */
#include "http_conn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"

#define LOG_EVERY_S 10

struct http_conn {
    http_conns_t *cs;
    struct bufferevent *bev; /* a reference of ours */
    struct evhttp_connection *evcon;
    int attached;  /* our callbacks are installed */
    int armed;     /* a request is expected by deadline */
    int busy;      /* a request is with us */
    int sending;   /* our reply is being written */
    int rewriting; /* we are replacing libevent's error page */
    long foreign;  /* where libevent's own output starts in the output buffer, or -1 */
    time_t deadline;
    LIST_ENTRY(http_conn) link;
};

struct http_conns {
    struct event_base *base;
    struct evconnlistener *listener;
    int cap;
    int paused;
    struct event *resume, *sweep;
    LIST_HEAD(, http_conn) all;
    time_t logged_at;
    unsigned long refused; /* times accepting stopped since the last log line */
};

static time_t now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec;
}

/* ---- the cap ---- */

/* The lowest free descriptor, or -1 when none is free. */
static int lowest_free(const http_conns_t *cs)
{
    int fd = dup(evconnlistener_get_fd(cs->listener));
    if (fd >= 0)
        close(fd);
    return fd;
}

static void pause_accepting(http_conns_t *cs, const char *why)
{
    cs->refused++;
    if (now_s() - cs->logged_at >= LOG_EVERY_S) {
        LOG(LOG_WARN,
            "http: not accepting connections for now: %s (%lu times in the last %d s; "
            "descriptor cap %d)",
            why, cs->refused, LOG_EVERY_S, cs->cap);
        cs->logged_at = now_s();
        cs->refused = 0;
    }
    if (cs->paused)
        return;
    evconnlistener_disable(cs->listener);
    cs->paused = 1;
    struct timeval tv = {1, 0};
    evtimer_add(cs->resume, &tv);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    http_conns_t *cs = arg;
    int low = lowest_free(cs);
    if (low >= 0 && low < cs->cap) {
        evconnlistener_enable(cs->listener);
        cs->paused = 0;
        return;
    }
    struct timeval tv = {1, 0};
    evtimer_add(cs->resume, &tv);
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)listener;
    pause_accepting(arg, strerror(errno));
}

/* ---- records ---- */

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);

static void conn_free(http_conn_t *c)
{
    LIST_REMOVE(c, link);
    if (c->attached) {
        evbuffer_remove_cb(bufferevent_get_input(c->bev), on_input, c);
        evbuffer_remove_cb(bufferevent_get_output(c->bev), on_output, c);
    }
    bufferevent_decref(c->bev);
    free(c);
}

static void arm(http_conn_t *c)
{
    c->armed = 1;
    c->deadline = now_s() + HTTP_REQUEST_DEADLINE_S;
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    conn_free(arg);
}

/* Runs right after evhttp has set the connection up (it set its callbacks after ours). */
static void attach(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    http_conn_t *c = arg;
    bufferevent_event_cb eventcb = NULL;
    void *evcon = NULL;
    bufferevent_getcb(c->bev, NULL, NULL, &eventcb, &evcon);
    if (!eventcb) { /* gone already */
        conn_free(c);
        return;
    }
    c->evcon = evcon;
    evhttp_connection_set_closecb(c->evcon, on_close, c);
    evbuffer_add_cb(bufferevent_get_input(c->bev), on_input, c);
    evbuffer_add_cb(bufferevent_get_output(c->bev), on_output, c);
    c->attached = 1;
}

/* evhttp's bufferevent callback: each accepted connection. */
static struct bufferevent *new_bev(struct event_base *base, void *arg)
{
    http_conns_t *cs = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        return NULL; /* evhttp tries itself */
    http_conn_t *c = xcalloc(1, sizeof(*c));
    c->cs = cs;
    c->bev = bev;
    c->foreign = -1;
    bufferevent_incref(bev);
    arm(c);
    LIST_INSERT_HEAD(&cs->all, c, link);
    event_base_once(base, -1, EV_TIMEOUT, attach, c, NULL);
    int low = lowest_free(cs);
    if (low < 0 || low >= cs->cap)
        pause_accepting(cs, "the descriptor cap is reached");
    return bev;
}

/* Bytes of a request arrived: from the first, the whole request is due by the deadline. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    http_conn_t *c = arg;
    if (info->n_added && !c->armed && !c->busy)
        arm(c);
}

/* Once a second: forgets records libevent let go, closes connections past their deadline. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    http_conns_t *cs = arg;
    time_t now = now_s();
    http_conn_t *c = LIST_FIRST(&cs->all), *next;
    for (; c; c = next) {
        next = LIST_NEXT(c, link);
        bufferevent_event_cb eventcb = NULL;
        bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
        if (c->attached && !eventcb)
            conn_free(c);
        else if (c->attached && c->armed && now >= c->deadline) /* frees c (on_close) */
            bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
    }
}

http_conn_t *http_conns_find(http_conns_t *cs, struct evhttp_connection *evcon)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    http_conn_t *c;
    LIST_FOREACH(c, &cs->all, link)
    if (c->bev == bev)
        return c;
    return NULL;
}

void http_conn_request(http_conn_t *c)
{
    if (!c)
        return;
    c->armed = 0;
    c->busy = 1;
}

void http_conn_sending(http_conn_t *c, int on)
{
    if (!c)
        return;
    c->sending = on;
    c->foreign = -1; /* what libevent wrote before our reply (a 100 Continue) is not an error */
    if (on)
        return;
    c->busy = 0;
    if (evbuffer_get_length(bufferevent_get_input(c->bev)))
        arm(c); /* the next request has begun */
}

/* ---- libevent's own error pages ---- */

/* Replaces the HTML error page libevent wrote from c->foreign on with the JSON error. */
static void rewrite(http_conn_t *c, struct evbuffer *out, int status)
{
    static const struct {
        int status;
        const char *code, *reason, *message;
    } errors[] = {
        {400, "bad_request", "Bad Request", "the request does not parse as HTTP"},
        {413, "too_large", "Payload Too Large", "the request's headers or body are too large"},
        {501, "not_implemented", "Not Implemented", "this method is not served"},
        {0, "http_error", "Error", "the request was refused"},
    };
    size_t e = 0;
    while (errors[e].status && errors[e].status != status)
        e++;
    char body[256], head[256];
    int blen = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
                        errors[e].code, errors[e].message);
    int hlen = snprintf(head, sizeof(head),
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                        "Connection: close\r\nContent-Length: %d\r\n\r\n",
                        status ? status : 400, errors[e].reason, blen);
    struct evbuffer *keep = evbuffer_new();
    if (!keep)
        abort();
    c->rewriting = 1;
    evbuffer_remove_buffer(out, keep, (size_t)c->foreign);
    evbuffer_drain(out, evbuffer_get_length(out));
    evbuffer_add_buffer(out, keep);
    evbuffer_add(out, head, (size_t)hlen);
    evbuffer_add(out, body, (size_t)blen);
    c->rewriting = 0;
    c->foreign = -1;
    evbuffer_free(keep);
}

/* Output not of our replies is libevent's error page (evhttp_send_error): once its HTML has
 * been written whole (it ends in "</BODY></HTML>\n"), it is replaced, before it is sent. */
static void on_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
    static const char tail[] = "</BODY></HTML>\n";
    const size_t tlen = sizeof(tail) - 1;
    http_conn_t *c = arg;
    if (info->n_deleted && c->foreign >= 0) /* written: what is left moved to the front */
        c->foreign = c->foreign > (long)info->n_deleted ? c->foreign - (long)info->n_deleted : 0;
    if (c->rewriting || c->sending || !info->n_added)
        return;
    if (c->foreign < 0)
        c->foreign = (long)info->orig_size;
    size_t len = evbuffer_get_length(out);
    if (len < (size_t)c->foreign + tlen)
        return;
    char buf[64] = "";
    struct evbuffer_ptr p;
    evbuffer_ptr_set(out, &p, len - tlen, EVBUFFER_PTR_SET);
    if (evbuffer_copyout_from(out, &p, buf, tlen) != (ev_ssize_t)tlen || memcmp(buf, tail, tlen))
        return;
    evbuffer_ptr_set(out, &p, (size_t)c->foreign, EVBUFFER_PTR_SET);
    memset(buf, 0, sizeof(buf));
    evbuffer_copyout_from(out, &p, buf, sizeof(buf) - 1);
    int status = 0;
    sscanf(buf, "HTTP/%*d.%*d %d", &status);
    rewrite(c, out, status);
}

/* ---- the set ---- */

http_conns_t *http_conns_new(struct event_base *base, struct evhttp *http,
                             struct evconnlistener *listener)
{
    http_conns_t *cs = xcalloc(1, sizeof(*cs));
    cs->base = base;
    cs->listener = listener;
    LIST_INIT(&cs->all);
    struct rlimit rl;
    long soft = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                    ? (long)rl.rlim_cur
                    : 65536;
    cs->cap = (int)(soft > 2 * HTTP_FD_RESERVE ? soft - HTTP_FD_RESERVE : soft / 2);
    cs->logged_at = now_s() - LOG_EVERY_S;
    cs->resume = evtimer_new(base, on_resume, cs);
    cs->sweep = event_new(base, -1, EV_PERSIST, on_sweep, cs);
    struct timeval tv = {1, 0};
    evtimer_add(cs->sweep, &tv);
    evconnlistener_set_error_cb(listener, on_accept_error);
    evhttp_set_bevcb(http, new_bev, cs);
    return cs;
}

int http_conns_cap(const http_conns_t *cs)
{
    return cs ? cs->cap : 0;
}

void http_conns_free(http_conns_t *cs)
{
    if (!cs)
        return;
    while (!LIST_EMPTY(&cs->all))
        conn_free(LIST_FIRST(&cs->all));
    event_free(cs->resume);
    event_free(cs->sweep);
    free(cs);
}
