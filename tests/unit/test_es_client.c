/* Unit tests of es_client: _bulk answers, settings and URL checks, and the requests it sends to a
 * scripted HTTP server in this process (status classes, headers, gzip, alias administration). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "es_client.h"
#include "support.h"

/* ---- es_client_parse_bulk ---- */

typedef struct item_want {
    es_item_rc_t rc;
    int status;
    const char *error; /* the exact error text, or NULL */
} item_want_t;

typedef struct parse_row {
    const char *name;
    const char *answer; /* ' for " */
    size_t nitems;
    int rc;
    const char *error; /* substring of errstr when rc != 0 */
    item_want_t items[4];
} parse_row_t;

#define VERSION_CONFLICT                                                                           \
    "{'type':'version_conflict_engine_exception','reason':'[o-1]: version conflict, current "      \
    "version [5] is higher or equal to the one provided [3]'}"

static const parse_row_t parse_rows[] = {
    {"created, updated, deleted",
     "{'took':3,'errors':false,'items':[{'index':{'_id':'a','status':201,'result':'created'}},"
     "{'update':{'_id':'b','status':200,'result':'updated'}},"
     "{'delete':{'_id':'c','status':200,'result':'deleted'}}]}",
     3,
     0,
     NULL,
     {{ES_ITEM_OK, 201, NULL}, {ES_ITEM_OK, 200, NULL}, {ES_ITEM_OK, 200, NULL}}},
    {"filtered answer (filter_path)",
     "{'errors':false,'items':[{'index':{'status':200}},{'create':{'status':201}}]}",
     2,
     0,
     NULL,
     {{ES_ITEM_OK, 200, NULL}, {ES_ITEM_OK, 201, NULL}}},
    {"delete of a missing document",
     "{'errors':false,'items':[{'delete':{'_id':'x','status':404,'result':'not_found'}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_OK, 404, NULL}}},
    {"errors:false is trusted (fast path)",
     "{'errors':false,'items':[{'index':{'status':409,'error':" VERSION_CONFLICT "}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_OK, 409, NULL}}},
    {"not_found delete among errors",
     "{'errors':true,'items':[{'delete':{'status':404,'result':'not_found'}},"
     "{'index':{'status':409,'error':" VERSION_CONFLICT "}}]}",
     2,
     0,
     NULL,
     {{ES_ITEM_OK, 404, NULL},
      {ES_ITEM_CONFLICT, 409,
       "version_conflict_engine_exception: [o-1]: version conflict, current version [5] is "
       "higher or equal to the one provided [3]"}}},
    {"404 with an error",
     "{'errors':true,'items':[{'update':{'status':404,'error':{'type':'document_missing_"
     "exception','reason':'[o-1]: document missing'}}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_PERMANENT, 404, "document_missing_exception: [o-1]: document missing"}}},
    {"429 rejected",
     "{'errors':true,'items':[{'index':{'status':429,'error':{'type':'es_rejected_execution_"
     "exception','reason':'rejected execution of coordinating operation'}}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_RETRY, 429,
       "es_rejected_execution_exception: rejected execution of coordinating operation"}}},
    {"503 unavailable shards",
     "{'errors':true,'items':[{'index':{'status':503,'error':{'type':'unavailable_shards_"
     "exception','reason':'primary shard is not active'}}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_RETRY, 503, "unavailable_shards_exception: primary shard is not active"}}},
    {"500 without an error object",
     "{'errors':true,'items':[{'index':{'status':500}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_RETRY, 500, "HTTP 500"}}},
    {"403 index block",
     "{'errors':true,'items':[{'index':{'status':403,'error':{'type':'cluster_block_exception',"
     "'reason':'index [o] blocked by: [FORBIDDEN/8/index write (api)];'}}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_RETRY, 403,
       "cluster_block_exception: index [o] blocked by: [FORBIDDEN/8/index write (api)];"}}},
    {"400 mapper_parsing_exception with caused_by",
     "{'errors':true,'items':[{'index':{'status':400,'error':{'type':'mapper_parsing_exception',"
     "'reason':'failed to parse field [n] of type [long]','caused_by':{'type':'illegal_"
     "argument_exception','reason':'For input string: \\u0022abc\\u0022'}}}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_PERMANENT, 400,
       "mapper_parsing_exception: failed to parse field [n] of type [long] (caused by "
       "illegal_argument_exception: For input string: \"abc\")"}}},
    {"one level of caused_by",
     "{'errors':true,'items':[{'index':{'status':400,'error':{'type':'a','reason':'ra',"
     "'caused_by':{'type':'b','reason':'rb','caused_by':{'type':'c','reason':'rc'}}}}}]}",
     1,
     0,
     NULL,
     {{ES_ITEM_PERMANENT, 400, "a: ra (caused by b: rb)"}}},
    {"error without a reason, error as a string, error without type and reason",
     "{'errors':true,'items':[{'index':{'status':400,'error':{'type':'strict_dynamic_mapping_"
     "exception'}}},{'index':{'status':400,'error':'old style'}},"
     "{'index':{'status':422,'error':{'x':1}}}]}",
     3,
     0,
     NULL,
     {{ES_ITEM_PERMANENT, 400, "strict_dynamic_mapping_exception"},
      {ES_ITEM_PERMANENT, 400, "old style"},
      {ES_ITEM_PERMANENT, 422, "{\"x\":1}"}}},
    {"no errors flag: every item classified",
     "{'items':[{'index':{'status':201}},{'index':{'status':409,'error':" VERSION_CONFLICT "}}]}",
     2,
     0,
     NULL,
     {{ES_ITEM_OK, 201, NULL}, {ES_ITEM_CONFLICT, 409, NULL}}},
    {"mixed",
     "{'errors':true,'items':[{'index':{'status':200}},{'index':{'status':409,'error':"
     "" VERSION_CONFLICT "}},{'create':{'status':429,'error':{'type':'r','reason':'busy'}}},"
     "{'index':{'status':400,'error':{'type':'mapper_parsing_exception','reason':'bad'}}}]}",
     4,
     0,
     NULL,
     {{ES_ITEM_OK, 200, NULL},
      {ES_ITEM_CONFLICT, 409, NULL},
      {ES_ITEM_RETRY, 429, "r: busy"},
      {ES_ITEM_PERMANENT, 400, "mapper_parsing_exception: bad"}}},
    {"no actions", "{'errors':false,'items':[]}", 0, 0, NULL, {{0, 0, NULL}}},
    {"fewer items than actions",
     "{'errors':false,'items':[{'index':{'status':200}},{'index':{'status':200}}]}",
     3,
     -1,
     "answer has 2 items for 3 actions",
     {{0, 0, NULL}}},
    {"more items than actions",
     "{'errors':false,'items':[{'index':{'status':200}},{'index':{'status':200}}]}",
     1,
     -1,
     "answer has 2 items for 1 actions",
     {{0, 0, NULL}}},
    {"malformed JSON", "{'errors':tru", 1, -1, "unparsable JSON at line 1", {{0, 0, NULL}}},
    {"empty answer", "", 1, -1, "unparsable JSON", {{0, 0, NULL}}},
    {"not an object", "[1]", 1, -1, "no \"items\" array", {{0, 0, NULL}}},
    {"items not an array",
     "{'errors':false,'items':{}}",
     1,
     -1,
     "no \"items\" array",
     {{0, 0, NULL}}},
    {"item without a status",
     "{'errors':true,'items':[{'index':{'status':200}},{'index':{'_id':'x'}}]}",
     2,
     -1,
     "item 1 has no status",
     {{0, 0, NULL}}},
    {"item not an object",
     "{'errors':true,'items':[7]}",
     1,
     -1,
     "item 0 has no status",
     {{0, 0, NULL}}},
    {"status a string",
     "{'errors':false,'items':[{'index':{'status':'200'}}]}",
     1,
     -1,
     "item 0 has no status",
     {{0, 0, NULL}}},
};

static void check_items(const char *name, const item_want_t *want, const es_item_result_t *got,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const item_want_t *w = &want[i];
        const es_item_result_t *g = &got[i];
        if (g->rc != w->rc || g->status != w->status)
            fail_msg("%s: item %zu is rc %d status %d, expected rc %d status %d", name, i,
                     (int)g->rc, g->status, (int)w->rc, w->status);
        if (w->rc == ES_ITEM_OK && g->error)
            fail_msg("%s: item %zu is OK with error \"%s\"", name, i, g->error);
        if (w->rc != ES_ITEM_OK && !g->error)
            fail_msg("%s: item %zu failed without an error text", name, i);
        if (w->error && strcmp(g->error, w->error) != 0)
            fail_msg("%s: item %zu error \"%s\", expected \"%s\"", name, i, g->error, w->error);
    }
}

static void test_parse_bulk(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t i = 0; i < N_ROWS(parse_rows); i++) {
        const parse_row_t *r = &parse_rows[i];
        char *answer = support_dq(r->answer);
        es_item_result_t results[4];
        memset(results, 0xa5, sizeof(results));
        char err[256] = "";
        int rc = es_client_parse_bulk(answer, strlen(answer), r->nitems, results, arena, err,
                                      sizeof(err));
        if (rc != r->rc)
            fail_msg("%s: returned %d, expected %d (error \"%s\")", r->name, rc, r->rc, err);
        if (r->error && !strstr(err, r->error))
            fail_msg("%s: error \"%s\" does not contain \"%s\"", r->name, err, r->error);
        if (rc == 0)
            check_items(r->name, r->items, results, r->nitems);
        free(answer);
        arena_reset(arena);
    }
    arena_destroy(arena);
}

/* ---- es_client_new: settings and URLs ---- */

typedef struct new_row {
    const char *url;
    const char *user, *password, *api_key, *ca_file;
    long timeout_ms;
    const char *want; /* es_client_url() when it succeeds; NULL: it fails */
    const char *error;
} new_row_t;

static const new_row_t new_rows[] = {
    {"http://localhost:9200", NULL, NULL, NULL, NULL, 1000, "http://localhost:9200", NULL},
    {"https://es.example.com:9243", "u", "p", NULL, NULL, 0, "https://es.example.com:9243", NULL},
    {"HTTP://LOCALHOST:9200", NULL, NULL, "a2V5", NULL, 1, "HTTP://LOCALHOST:9200", NULL},
    {"http://localhost:9200/", NULL, NULL, NULL, NULL, 1000, "http://localhost:9200", NULL},
    {"http://proxy.example/es//", "u", "", NULL, NULL, 1000, "http://proxy.example/es", NULL},
    {"http://[::1]:9200", "", "", "", "", 1000, "http://[::1]:9200", NULL},
    {"http://127.0.0.1", "u", NULL, NULL, "/dev/null", 1000, "http://127.0.0.1", NULL},
    {NULL, NULL, NULL, NULL, NULL, 1000, NULL, "Elasticsearch URL: not set"},
    {"", NULL, NULL, NULL, NULL, 1000, NULL, "Elasticsearch URL: not set"},
    {"localhost:9200", NULL, NULL, NULL, NULL, 1000, NULL,
     "Elasticsearch URL \"localhost:9200\": the scheme must be http:// or https://"},
    {"ftp://host", NULL, NULL, NULL, NULL, 1000, NULL, "the scheme must be http:// or https://"},
    {"httpx://host", NULL, NULL, NULL, NULL, 1000, NULL, "the scheme must be http"},
    {"file:///etc/passwd", NULL, NULL, NULL, NULL, 1000, NULL, "the scheme must be http"},
    {"//host:9200", NULL, NULL, NULL, NULL, 1000, NULL, "the scheme must be http"},
    {"http://", NULL, NULL, NULL, NULL, 1000, NULL, "Elasticsearch URL \"http://\": "},
    {"http://host:99999", NULL, NULL, NULL, NULL, 1000, NULL, "Elasticsearch URL \"http://host"},
    {"http://ho st:9200", NULL, NULL, NULL, NULL, 1000, NULL, "Elasticsearch URL \"http://ho st"},
    {"http://elastic:s3cret@host:9200", NULL, NULL, NULL, NULL, 1000, NULL,
     "Elasticsearch URL \"http://***@host:9200\": credentials do not belong in the URL"},
    {"ftp://elastic:s3cret@host/x@y", NULL, NULL, NULL, NULL, 1000, NULL,
     "\"ftp://***@host/x@y\": the scheme"},
    {"http://host:9200/?pretty", NULL, NULL, NULL, NULL, 1000, NULL, "a query string"},
    {"http://host:9200/#top", NULL, NULL, NULL, NULL, 1000, NULL, "a fragment"},
    {"http://host", NULL, "s3cret", NULL, NULL, 1000, NULL,
     "Elasticsearch http://host: a password is set without a user"},
    {"http://host", "u", "s3cret", "a2V5", NULL, 1000, NULL, "not both"},
    {"http://host", NULL, NULL, "s3cret\r\nX-Evil: 1", NULL, 1000, NULL, "line break"},
    {"http://host", NULL, NULL, NULL, NULL, -1, NULL, "the timeout is negative"},
    {"http://host", NULL, NULL, NULL, "/nonexistent/ca.pem", 1000, NULL,
     "Elasticsearch CA file /nonexistent/ca.pem: No such file or directory"},
};

static void test_new(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(new_rows); i++) {
        const new_row_t *r = &new_rows[i];
        es_settings_t s = {r->url, r->user, r->password, r->api_key, r->ca_file, r->timeout_ms, 0};
        char err[256] = "";
        es_client_t *c = es_client_new(&s, err, sizeof(err));
        const char *name = r->url ? r->url : "(null)";
        if (r->want && !c)
            fail_msg("%s: refused: %s", name, err);
        if (!r->want && c)
            fail_msg("%s: accepted, expected \"%s\"", name, r->error);
        if (c && strcmp(es_client_url(c), r->want) != 0)
            fail_msg("%s: es_client_url is \"%s\", expected \"%s\"", name, es_client_url(c),
                     r->want);
        if (r->error && !strstr(err, r->error))
            fail_msg("%s: error \"%s\" does not contain \"%s\"", name, err, r->error);
        if (strstr(err, "s3cret"))
            fail_msg("%s: the error shows the secret: \"%s\"", name, err);
        es_client_destroy(c);
    }
    char err[64];
    assert_null(es_client_new(NULL, err, sizeof(err)));
    es_client_destroy(NULL);
}

/* ---- a scripted HTTP server in this process ---- */

/* Each row starts a server of its own (a thread on a new loopback port) with its script, and
 * stops it before looking at what it recorded: nothing of one row (a kept-alive connection, a
 * request libcurl sends once more, a client that gave up before its request was read) can reach
 * the next row's script, and whatever a client sent has been read and recorded when the row
 * checks it. Only a row that tests the client timeout depends on timing; nothing waits without
 * a bound. */
enum {
    CLIENT_MS = 10000, /* the client timeout of a row that expects an answer: never reached */
    TIMEOUT_MS = 1000, /* the client timeout of a row that tests it: the server stays silent */
    HANG_MS = 20000,   /* how long HANG stays silent at most, waiting for the client to give up */
    IDLE_MS = 20000,   /* how long the server waits at most for a connection or a request */
    JOIN_MS = 30000,   /* how long stopping the server may take at most */
    WATCHDOG_S = 60,   /* how long the whole binary may run */
    MAX_SCRIPT = 16,   /* answers in one script */
};

/* Statuses of a canned answer that are not HTTP statuses. */
enum {
    END = 0,  /* the end of a script */
    DROP = 1, /* close the connection without answering */
    HANG = 2, /* wait for the client to give up, then close without answering */
};

typedef struct canned {
    int status;
    const char *body; /* ' for " */
} canned_t;

/* While the thread runs, only it touches the script and what it records; the main thread reads
 * them after srv_stop() (done, under mu, orders the two). */
static struct server {
    int fd, port; /* the listening socket (non-blocking) and its port */
    int wake[2];  /* a pipe: a byte in it asks the thread to stop */
    int running;  /* the thread was started and not joined yet */
    int stopping; /* the thread's: stop was asked, so only take what is there, without waiting */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;                        /* under mu: the thread is finished with srv */
    canned_t script[MAX_SCRIPT + 1]; /* answered in order, up to END; 599 once it runs out */
    size_t next;
    int conns;           /* connections accepted */
    strbuf_t log;        /* "<method> <target>[ <body>]\n" per request, bodies gunzipped */
    strbuf_t headers;    /* the header lines of the last request */
    es_client_t *client; /* the row's client: srv_stop() destroys it */
} srv = {
    .fd = -1, .wake = {-1, -1}, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void gunzip_into(strbuf_t *out, const char *in, size_t n)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK) { /* no cmocka assertion in the server thread */
        strbuf_puts(out, "(bad gzip)");
        return;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    int zrc;
    do {
        char buf[4096];
        zs.next_out = (Bytef *)buf;
        zs.avail_out = sizeof(buf);
        zrc = inflate(&zs, Z_NO_FLUSH);
        strbuf_append(out, buf, sizeof(buf) - zs.avail_out);
    } while (zrc == Z_OK);
    if (zrc != Z_STREAM_END)
        strbuf_puts(out, "(bad gzip)");
    inflateEnd(&zs);
}

/* Records one request (head: the request line and header lines, each ending in \r\n, then a
 * NUL) and returns its canned answer. */
static canned_t srv_take(const char *head, size_t head_len, const char *body, size_t body_len)
{
    static const canned_t unscripted = {599, "{'error':'unscripted request'}"};
    const char *eol = strstr(head, "\r\n");
    const char *sp = memchr(head, ' ', (size_t)(eol - head));
    const char *sp2 = sp ? memchr(sp + 1, ' ', (size_t)(eol - sp - 1)) : NULL;
    strbuf_append(&srv.log, head, (size_t)((sp2 ? sp2 : eol) - head));
    if (body_len > 0) {
        strbuf_puts(&srv.log, " ");
        if (strcasestr(head, "\r\nContent-Encoding: gzip\r\n"))
            gunzip_into(&srv.log, body, body_len);
        else
            strbuf_append(&srv.log, body, body_len);
    }
    strbuf_puts(&srv.log, "\n");
    strbuf_reset(&srv.headers);
    strbuf_append(&srv.headers, eol + 2, head_len - (size_t)(eol + 2 - head));
    return srv.script[srv.next].status != END ? srv.script[srv.next++] : unscripted;
}

/* Waits until fd a is ready for a_events or, when b >= 0, b is readable: at most ms, or, once
 * stop was asked, not at all (the client is gone then: what it sent is there). Returns a bit
 * mask: 1 for a, 2 for b; 0 when neither is ready. */
static int srv_wait(int a, short a_events, int b, int ms)
{
    for (;;) {
        struct pollfd p[3] = {{.fd = a, .events = a_events},
                              {.fd = b, .events = POLLIN}, /* poll() skips a negative fd */
                              {.fd = srv.stopping ? -1 : srv.wake[0], .events = POLLIN}};
        int n = poll(p, 3, srv.stopping ? 0 : ms);
        if (n < 0 && errno == EINTR)
            continue;
        int ready = n > 0 ? (p[0].revents ? 1 : 0) | (p[1].revents ? 2 : 0) : 0;
        if (ready || n <= 0 || srv.stopping)
            return ready;
        srv.stopping = 1; /* the stop pipe: look once more, without waiting */
    }
}

/* Returns 1 when in holds a whole request, with the lengths of its head (through the empty
 * line) and body, else 0. */
static int srv_request_in(const strbuf_t *in, size_t *head_len, size_t *body_len)
{
    static const char cl[] = "\r\nContent-Length:";
    const char *end = in->len > 0 ? memmem(in->data, in->len, "\r\n\r\n", 4) : NULL;
    if (!end)
        return 0;
    *head_len = (size_t)(end - in->data) + 4;
    *body_len = 0;
    for (size_t i = 0; i + sizeof(cl) - 1 < *head_len; i++)
        if (strncasecmp(in->data + i, cl, sizeof(cl) - 1) == 0)
            *body_len = strtoul(in->data + i + sizeof(cl) - 1, NULL, 10);
    return in->len >= *head_len + *body_len;
}

/* Sends all of data. Returns 0, or -1 when the client is gone or does not read. */
static int srv_send(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (!(srv_wait(fd, POLLOUT, -1, IDLE_MS) & 1))
                return -1;
            continue;
        }
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Answers the requests of one connection until it closes, an answer drops it, it idles while
 * a new connection waits (its client gave it up), or stop was asked and it has nothing more. */
static void srv_serve(int fd)
{
    strbuf_t in = STRBUF_INIT;
    for (;;) {
        size_t head_len, body_len;
        if (!srv_request_in(&in, &head_len, &body_len)) {
            if (!(srv_wait(fd, POLLIN, in.len == 0 ? srv.fd : -1, IDLE_MS) & 1))
                break;
            char buf[4096];
            ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                continue;
            if (n <= 0)
                break;
            strbuf_append(&in, buf, (size_t)n);
            continue;
        }
        in.data[head_len - 2] = '\0'; /* the head ends in one \r\n */
        int head_only = strncmp(in.data, "HEAD ", 5) == 0;
        canned_t a = srv_take(in.data, head_len - 2, in.data + head_len, body_len);
        size_t used = head_len + body_len; /* keep what follows the request */
        memmove(in.data, in.data + used, in.len - used + 1);
        in.len -= used;
        if (a.status == HANG) /* until the client gives up (or stop is asked) */
            srv_wait(fd, POLLIN, -1, HANG_MS);
        if (a.status == DROP || a.status == HANG)
            break;
        char *body = support_dq(a.body ? a.body : "");
        strbuf_t out = STRBUF_INIT;
        strbuf_printf(&out,
                      "HTTP/1.1 %d Canned\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      a.status, strlen(body), head_only ? "" : body);
        int sent = srv_send(fd, out.data, out.len);
        strbuf_free(&out);
        free(body);
        if (sent != 0)
            break;
    }
    strbuf_free(&in);
    close(fd);
}

/* Serves one connection after another until stop is asked (and none waits any more) or none
 * comes for IDLE_MS. */
static void *srv_main(void *arg)
{
    (void)arg;
    while (srv_wait(srv.fd, POLLIN, -1, IDLE_MS) & 1) {
        int fd = accept4(srv.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            srv.conns++;
            srv_serve(fd);
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                   errno != ECONNABORTED) {
            break;
        }
    }
    pthread_mutex_lock(&srv.mu);
    srv.done = 1;
    pthread_cond_signal(&srv.cv);
    pthread_mutex_unlock(&srv.mu);
    return NULL;
}

/* Destroys the row's client, which closes its connections, lets the server take what reached
 * it (every request the client sent is recorded then) and stops it. The log and the headers
 * stay for the checks. Does nothing more when no server runs. */
static void srv_stop(void)
{
    es_client_destroy(srv.client);
    srv.client = NULL;
    if (srv.running) {
        ssize_t w;
        do
            w = write(srv.wake[1], "x", 1);
        while (w < 0 && errno == EINTR);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until); /* the clock of srv.cv */
        until.tv_sec += JOIN_MS / 1000;
        pthread_mutex_lock(&srv.mu);
        while (!srv.done && pthread_cond_timedwait(&srv.cv, &srv.mu, &until) != ETIMEDOUT)
            ;
        int done = srv.done;
        pthread_mutex_unlock(&srv.mu);
        if (!done) {
            fprintf(stderr, "the scripted server did not stop within %d ms\n", JOIN_MS);
            abort(); /* it still uses srv: no later test could trust it */
        }
        pthread_join(srv.thread, NULL); /* returns at once: the thread is past its work */
        srv.running = 0;
    }
    int *fds[] = {&srv.fd, &srv.wake[0], &srv.wake[1]};
    for (size_t i = 0; i < N_ROWS(fds); i++)
        if (*fds[i] >= 0) {
            close(*fds[i]);
            *fds[i] = -1;
        }
}

/* Starts a server on a new port that answers with script (up to END; copied). */
static void srv_start(const canned_t *script)
{
    srv_stop();
    size_t n = 0;
    for (; script && script[n].status != END; n++) {
        assert_true(n < MAX_SCRIPT);
        srv.script[n] = script[n];
    }
    srv.script[n] = (canned_t){END, NULL};
    srv.next = 0;
    srv.conns = 0;
    srv.stopping = 0;
    srv.done = 0; /* no thread runs */
    strbuf_reset(&srv.log);
    strbuf_reset(&srv.headers);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(srv.fd, 16) != 0 || getsockname(srv.fd, (struct sockaddr *)&sa, &len) != 0 ||
        pipe2(srv.wake, O_CLOEXEC) != 0)
        fail_msg("scripted server: %s", strerror(errno));
    srv.port = ntohs(sa.sin_port);
    int rc = pthread_create(&srv.thread, NULL, srv_main, NULL);
    if (rc != 0)
        fail_msg("scripted server: pthread_create: %s", strerror(rc));
    srv.running = 1;
}

/* The teardown of a test that uses the server: stops it when a failed check left it running. */
static int srv_cleanup(void **state)
{
    (void)state;
    srv_stop();
    return 0;
}

static int srv_teardown(void **state)
{
    (void)state;
    srv_stop();
    strbuf_free(&srv.log);
    strbuf_free(&srv.headers);
    return 0;
}

/* Returns a client of the server, the row's (srv_stop() destroys it); timeout_ms is CLIENT_MS
 * but in rows that test the timeout. */
static es_client_t *srv_client(const char *user, const char *password, const char *api_key,
                               int gzip, long timeout_ms)
{
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
    es_settings_t s = {url, user, password, api_key, NULL, timeout_ms, gzip};
    assert_null(srv.client);
    srv.client = es_client_new(&s, err, sizeof(err));
    if (!srv.client)
        fail_msg("es_client_new: %s", err);
    return srv.client;
}

/* Replaces the server's URL in err with "ES", so expected errors can be written whole. */
static void srv_unport(char *err)
{
    char url[64];
    int n = snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
    for (char *at; (at = strstr(err, url));) {
        memcpy(at, "ES", 2);
        memmove(at + 2, at + n, strlen(at + n) + 1);
    }
}

/* Compares the requests the server recorded (after srv_stop()) with want_sq. */
static void check_log(const char *name, const char *want_sq)
{
    assert_false(srv.running);
    char *want = support_dq(want_sq);
    const char *got = srv.log.data ? srv.log.data : "";
    if (strcmp(got, want) != 0)
        fail_msg("%s: requests\n%s\nexpected\n%s", name, got, want);
    free(want);
}

/* ---- es_client_bulk: whole-request outcomes ---- */

#define BULK_BODY "{\"index\":{\"_index\":\"o\",\"_id\":\"1\"}}\n{\"n\":1}\n"
#define BULK_LOG                                                                                   \
    "POST /_bulk?filter_path=errors,items.*.status,items.*.error "                                 \
    "{'index':{'_index':'o','_id':'1'}"                                                            \
    "}\n{'n':1}\n\n"

typedef struct bulk_row {
    canned_t answer;
    int rc;
    const char *error; /* the start of errstr when rc != 0 (curl adds detail) */
} bulk_row_t;

static const bulk_row_t bulk_rows[] = {
    {{200, "{'errors':false,'items':[{'index':{'status':201}}]}"}, 0, NULL},
    {{201, "{'errors':false,'items':[{'index':{'status':201}}]}"}, 0, NULL},
    {{200, "{'errors':false,'items':[]}"},
     -1,
     "POST ES/_bulk: _bulk answer has 0 items for 1 actions"},
    {{200, "<html>"}, -1, "POST ES/_bulk: _bulk answer: unparsable JSON at line 1 column 1: "},
    {{429, "{'error':{'type':'es_rejected_execution_exception','reason':'rejected execution'},"
           "'status':429}"},
     -1,
     "POST ES/_bulk: HTTP 429: es_rejected_execution_exception: rejected execution"},
    {{503, "{'error':{'type':'cluster_block_exception','reason':'blocked by: "
           "[SERVICE_UNAVAILABLE/1/state not recovered]'}}"},
     -1,
     "POST ES/_bulk: HTTP 503: cluster_block_exception: blocked by: [SERVICE_UNAVAILABLE/1/state "
     "not "
     "recovered]"},
    {{502, "<html>\r\n<body>Bad Gateway</body>\r\n</html>"},
     -1,
     "POST ES/_bulk: HTTP 502: <html>  <body>Bad Gateway</body>  </html>"},
    {{401, "{'error':{'type':'security_exception','reason':'unable to authenticate user [u]'}}"},
     -1,
     "POST ES/_bulk: HTTP 401: security_exception: unable to authenticate user [u]"},
    {{403, "{'error':{'type':'security_exception','reason':'action [indices:data/write/bulk] is "
           "unauthorized'}}"},
     -1,
     "POST ES/_bulk: HTTP 403: security_exception: action [indices:data/write/bulk] is "
     "unauthorized"},
    {{404, ""}, -1, "POST ES/_bulk: HTTP 404"},
    {{400, "{'error':{'root_cause':[],'type':'illegal_argument_exception','reason':'Malformed "
           "action/metadata line [1]'},'status':400}"},
     -2,
     "POST ES/_bulk: HTTP 400: illegal_argument_exception: Malformed action/metadata line [1]"},
    {{400, "{'error':{'type':'x_content_parse_exception','reason':'[1:2] Unexpected',"
           "'caused_by':{'type':'json_parse_exception','reason':'Unexpected character'}}}"},
     -2,
     "POST ES/_bulk: HTTP 400: x_content_parse_exception: [1:2] Unexpected (caused by "
     "json_parse_exception: Unexpected character)"},
    {{413, ""}, -2, "POST ES/_bulk: HTTP 413"},
    {{DROP, NULL}, -1, "POST ES/_bulk: Server returned nothing"},
    {{HANG, NULL}, -1, "POST ES/_bulk: Timeout was reached"},
};

/* Each row has a client of its own: on a new connection, libcurl does not repeat a request
 * that got no answer (see test_reuse). */
static void test_bulk(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t i = 0; i < N_ROWS(bulk_rows); i++) {
        const bulk_row_t *r = &bulk_rows[i];
        const canned_t script[] = {r->answer, {END, NULL}};
        char name[32], err[512] = "";
        snprintf(name, sizeof(name), "row %zu (%d)", i, r->answer.status);
        srv_start(script);
        es_client_t *c =
            srv_client(NULL, NULL, NULL, 0, r->answer.status == HANG ? TIMEOUT_MS : CLIENT_MS);
        es_item_result_t res[1];
        int rc = es_client_bulk(c, BULK_BODY, strlen(BULK_BODY), 1, res, arena, err, sizeof(err));
        srv_stop();
        srv_unport(err);
        if (rc != r->rc)
            fail_msg("%s: returned %d, expected %d (error \"%s\")", name, rc, r->rc, err);
        if (r->error && strncmp(err, r->error, strlen(r->error)) != 0)
            fail_msg("%s: error \"%s\" does not start with \"%s\"", name, err, r->error);
        check_log(name, BULK_LOG);
        arena_reset(arena);
    }
    arena_destroy(arena);
}

static void test_no_answer(void **state)
{
    (void)state;
    /* A bound socket that does not listen refuses connections. */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    char url[64], want[128], err[512] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    es_settings_t s = {url, "elastic", "s3cret", NULL, NULL, CLIENT_MS, 1};
    es_client_t *c = es_client_new(&s, err, sizeof(err));
    assert_non_null(c);
    srv.client = c; /* for srv_stop() */
    arena_t *arena = arena_new();
    es_item_result_t res[1];
    assert_int_equal(es_client_bulk(c, "{}\n", 3, 1, res, arena, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "POST %s/_bulk: Couldn't connect to server", url);
    if (!strstr(err, want) || strstr(err, "s3cret"))
        fail_msg("error \"%s\", expected \"%s\" without the password", err, want);
    strbuf_t resp = STRBUF_INIT;
    strbuf_puts(&resp, "kept");
    assert_int_equal(es_client_request(c, "GET", "_cat/health", NULL, 0, &resp, err, sizeof(err)),
                     -1);
    snprintf(want, sizeof(want), "GET %s/_cat/health: ", url);
    assert_non_null(strstr(err, want));
    assert_string_equal(resp.data, "kept");
    strbuf_free(&resp);
    arena_destroy(arena);
    srv_stop();
    close(fd);
}

/* ---- es_client_request: what goes on the wire ---- */

typedef struct wire_row {
    const char *user, *password, *api_key;
    int gzip;
    const char *method, *path, *body;
    const char *log;            /* ' for " */
    const char *headers[4];     /* header lines the request must have */
    const char *not_headers[2]; /* header names it must not have */
} wire_row_t;

static const wire_row_t wire_rows[] = {
    {NULL,
     NULL,
     NULL,
     0,
     "GET",
     "/_cluster/health",
     NULL,
     "GET /_cluster/health\n",
     {"User-Agent: projector/"},
     {"Authorization:", "Content-Type:"}},
    {"elastic",
     "s3cret",
     NULL,
     0,
     "PUT",
     "/o-1",
     "{'settings':{}}",
     "PUT /o-1 {'settings':{}}\n",
     {"Authorization: Basic ZWxhc3RpYzpzM2NyZXQ=", "Content-Type: application/json"},
     {"Content-Encoding:", "Expect:"}},
    {NULL,
     NULL,
     "aWQ6a2V5",
     0,
     "DELETE",
     "o-1",
     NULL,
     "DELETE /o-1\n",
     {"Authorization: ApiKey aWQ6a2V5"},
     {"Content-Type:", NULL}},
    {NULL,
     NULL,
     NULL,
     1,
     "POST",
     "/o/_bulk?refresh=true",
     "{'index':{}}\n{'a':1}\n",
     "POST /o/_bulk?refresh=true {'index':{}}\n{'a':1}\n\n",
     {"Content-Type: application/x-ndjson", "Content-Encoding: gzip", "Accept-Encoding: "},
     {NULL, NULL}},
    {NULL,
     NULL,
     NULL,
     1,
     "POST",
     "/o/_search",
     "{'query':{'match_all':{}}}",
     "POST /o/_search {'query':{'match_all':{}}}\n",
     {"Content-Type: application/json", "Content-Encoding: gzip"},
     {NULL, NULL}},
    {NULL,
     NULL,
     NULL,
     1,
     "POST",
     "/o/_refresh",
     NULL,
     "POST /o/_refresh\n",
     {"Content-Length: 0"},
     {"Content-Encoding:", "Content-Type:"}},
    {NULL, NULL, NULL, 0, "HEAD", "/o", NULL, "HEAD /o\n", {NULL}, {NULL, NULL}},
    {NULL, NULL, NULL, 0, "GET", "/o/_doc/1", NULL, "GET /o/_doc/1\n", {NULL}, {NULL, NULL}},
};

static void test_wire(void **state)
{
    (void)state;
    static const canned_t ok[] = {{200, "{'ok':true}"}, {END, NULL}};
    for (size_t i = 0; i < N_ROWS(wire_rows); i++) {
        const wire_row_t *r = &wire_rows[i];
        char name[64], err[512] = "";
        snprintf(name, sizeof(name), "row %zu (%s %s)", i, r->method, r->path);
        srv_start(ok);
        es_client_t *c = srv_client(r->user, r->password, r->api_key, r->gzip, CLIENT_MS);
        char *body = r->body ? support_dq(r->body) : NULL;
        strbuf_t resp = STRBUF_INIT;
        int status = es_client_request(c, r->method, r->path, body, body ? strlen(body) : 0, &resp,
                                       err, sizeof(err));
        srv_stop();
        if (status != 200)
            fail_msg("%s: returned %d (error \"%s\")", name, status, err);
        const char *want_resp = strcmp(r->method, "HEAD") == 0 ? "" : "{\"ok\":true}";
        if (strcmp(resp.data ? resp.data : "", want_resp) != 0)
            fail_msg("%s: answer \"%s\"", name, resp.data);
        check_log(name, r->log);
        const char *headers = srv.headers.data ? srv.headers.data : "";
        for (size_t k = 0; k < N_ROWS(r->headers) && r->headers[k]; k++)
            if (!strcasestr(headers, r->headers[k]))
                fail_msg("%s: no \"%s\" in\n%s", name, r->headers[k], headers);
        for (size_t k = 0; k < N_ROWS(r->not_headers) && r->not_headers[k]; k++)
            if (strcasestr(headers, r->not_headers[k]))
                fail_msg("%s: \"%s\" in\n%s", name, r->not_headers[k], headers);
        strbuf_free(&resp);
        free(body);
    }
}

/* One client, many requests, answers of every kind in between: each gets its own answer, on a
 * kept-alive connection until the server drops it. When a reused connection closes without an
 * answer, libcurl sends the request once more on a new one (a _bulk may thus reach the cluster
 * twice: its versions make that harmless); a second silence is the caller's error. */
static void test_reuse(void **state)
{
    (void)state;
    static const canned_t script[] = {
        {200, "{'n':1}"}, {404, "{'n':2}"}, {DROP, NULL},     {200, "{'n':3}"},
        {DROP, NULL},     {DROP, NULL},     {500, "{'n':4}"}, {END, NULL},
    };
    static const int want_status[] = {200, 404, 200, -1, 500};
    static const char *const want_resp[] = {"{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "", "{\"n\":4}"};
    srv_start(script);
    es_client_t *c = srv_client(NULL, NULL, NULL, 0, CLIENT_MS);
    for (size_t i = 0; i < N_ROWS(want_status); i++) {
        strbuf_t resp = STRBUF_INIT;
        char err[256] = "";
        int status = es_client_request(c, i % 2 ? "POST" : "GET", "/x", i % 2 ? "{}" : NULL,
                                       i % 2 ? 2 : 0, &resp, err, sizeof(err));
        if (status != want_status[i] || strcmp(resp.data ? resp.data : "", want_resp[i]) != 0)
            fail_msg("request %zu: %d \"%s\" (%s), expected %d \"%s\"", i, status,
                     resp.data ? resp.data : "", err, want_status[i], want_resp[i]);
        if (status < 0 && !strstr(err, "POST http://127.0.0.1:"))
            fail_msg("request %zu: error \"%s\"", i, err);
        strbuf_free(&resp);
    }
    srv_stop();
    check_log("reuse", "GET /x\nPOST /x {}\nGET /x\nGET /x\nPOST /x {}\nPOST /x {}\nGET /x\n");
    /* 1, 2 and the first try of 3; 3 and the first try of 4; 4 again; 5 */
    if (srv.conns != 4)
        fail_msg("reuse: %d connections, expected 4", srv.conns);
}

/* ---- aliases ---- */

typedef enum { OP_ENSURE, OP_REPLACE, OP_LIST } op_t;

typedef struct alias_row {
    const char *name;
    op_t op;
    const char *alias, *suffix, *definition; /* definition: ' for " */
    canned_t script[7];
    int rc;
    const char *log;   /* the requests sent, ' for " */
    const char *error; /* the start of errstr when rc != 0 */
    const char *out;   /* OP_LIST: what es_client_alias_indices() wrote */
} alias_row_t;

#define DEF "{'settings':{'number_of_shards':1},'mappings':{'dynamic':'strict'}}"
#define ACK                                                                                        \
    {                                                                                              \
        200, "{'acknowledged':true}"                                                               \
    }
#define NO_ALIAS                                                                                   \
    {                                                                                              \
        404, "{'error':'alias [orders] missing','status':404}"                                     \
    }
#define ALIAS_V1                                                                                   \
    {                                                                                              \
        200, "{'orders-v1':{'aliases':{'orders':{'is_write_index':true}}}}"                        \
    }
#define EXISTS                                                                                     \
    {                                                                                              \
        400, "{'error':{'type':'resource_already_exists_exception','reason':'index [orders-v1/x] " \
             "already exists'},'status':400}"                                                      \
    }
#define ADD_V1                                                                                     \
    "POST /_aliases {'actions':[{'add':{'index':'orders-v1','alias':'orders','is_write_index':"    \
    "true}}]}\n"
#define GET_ALIAS "GET /_alias/orders\n"
#define PUT_V1 "PUT /orders-v1 " DEF "\n"

static const alias_row_t alias_rows[] = {
    {"ensure: the alias exists",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {ALIAS_V1},
     0,
     GET_ALIAS,
     NULL,
     NULL},
    {"ensure: created",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS, ACK, ACK},
     0,
     GET_ALIAS PUT_V1 ADD_V1,
     NULL,
     NULL},
    {"ensure: another process made it meanwhile",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS, EXISTS, ALIAS_V1},
     0,
     GET_ALIAS PUT_V1 GET_ALIAS,
     NULL,
     NULL},
    {"ensure: the index is there, not the alias",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS, EXISTS, NO_ALIAS, ACK},
     0,
     GET_ALIAS PUT_V1 GET_ALIAS ADD_V1,
     NULL,
     NULL},
    {"ensure: the alias appeared before ours was added",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS,
      ACK,
      {400, "{'error':{'type':'illegal_state_exception','reason':'alias [orders] has more than "
            "one write index [orders-v1,orders-v0]'}}"},
      ALIAS_V1},
     0,
     GET_ALIAS PUT_V1 ADD_V1 GET_ALIAS,
     NULL,
     NULL},
    {"ensure: the alias cannot be added",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS,
      ACK,
      {400, "{'error':{'type':'invalid_alias_name_exception','reason':'Invalid alias name'}}"},
      NO_ALIAS},
     -1,
     GET_ALIAS PUT_V1 ADD_V1 GET_ALIAS,
     "alias orders: POST ES/_aliases: HTTP 400: invalid_alias_name_exception: Invalid alias "
     "name",
     NULL},
    {"ensure: a bad mapping",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS,
      {400, "{'error':{'type':'mapper_parsing_exception','reason':'Failed','caused_by':{'type':"
            "'illegal_argument_exception','reason':'no type [txt]'}}}"}},
     -1,
     GET_ALIAS PUT_V1,
     "alias orders: PUT ES/orders-v1: HTTP 400: mapper_parsing_exception: Failed (caused by "
     "illegal_argument_exception: no type [txt])",
     NULL},
    {"ensure: the lookup fails",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {{500, "{'error':{'type':'master_not_discovered_exception','reason':null}}"}},
     -1,
     GET_ALIAS,
     "alias orders: GET ES/_alias/orders: HTTP 500: master_not_discovered_exception",
     NULL},
    {"ensure: no answer (twice: libcurl retries on a new connection)",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS, {DROP, NULL}, {DROP, NULL}},
     -1,
     GET_ALIAS PUT_V1 PUT_V1,
     "alias orders: PUT ES/orders-v1: Server returned nothing",
     NULL},
    {"ensure: a re-check after the race fails",
     OP_ENSURE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS, EXISTS, {DROP, NULL}, {DROP, NULL}},
     -1,
     GET_ALIAS PUT_V1 GET_ALIAS GET_ALIAS,
     "alias orders: GET ES/_alias/orders: Server returned nothing",
     NULL},
    {"replace: from v1 to v2",
     OP_REPLACE,
     "orders",
     "v2",
     DEF,
     {ALIAS_V1, ACK, ACK, ACK},
     0,
     GET_ALIAS "PUT /orders-v2 " DEF "\n"
               "POST /_aliases {'actions':[{'add':{'index':'orders-v2','alias':'orders',"
               "'is_write_index':true}},{'remove':{'index':'orders-v1','alias':'orders'}}]}\n"
               "DELETE /orders-v1\n",
     NULL,
     NULL},
    {"replace: no alias yet",
     OP_REPLACE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS, ACK, ACK},
     0,
     GET_ALIAS PUT_V1 ADD_V1,
     NULL,
     NULL},
    {"replace: two old indices, one gone already",
     OP_REPLACE,
     "orders",
     "v3",
     "{}",
     {{200, "{'orders-v2':{'aliases':{'orders':{}}},'orders-v1':{'aliases':{'orders':{}}}}"},
      ACK,
      ACK,
      {404, "{'error':{'type':'index_not_found_exception','reason':'no such index'}}"},
      ACK},
     0,
     GET_ALIAS "PUT /orders-v3 {}\n"
               "POST /_aliases {'actions':[{'add':{'index':'orders-v3','alias':'orders',"
               "'is_write_index':true}},{'remove':{'index':'orders-v1','alias':'orders'}},"
               "{'remove':{'index':'orders-v2','alias':'orders'}}]}\n"
               "DELETE /orders-v1\nDELETE /orders-v2\n",
     NULL,
     NULL},
    {"replace: the new index exists",
     OP_REPLACE,
     "orders",
     "v1",
     DEF,
     {NO_ALIAS, EXISTS},
     -1,
     GET_ALIAS PUT_V1,
     "alias orders: index orders-v1 exists already",
     NULL},
    {"replace: onto the current index",
     OP_REPLACE,
     "orders",
     "v1",
     DEF,
     {ALIAS_V1},
     -1,
     GET_ALIAS,
     "alias orders: index orders-v1 is behind the alias already",
     NULL},
    {"replace: the swap fails",
     OP_REPLACE,
     "orders",
     "v2",
     DEF,
     {ALIAS_V1, ACK, {400, "{'error':{'type':'illegal_argument_exception','reason':'bad'}}"}},
     -1,
     GET_ALIAS "PUT /orders-v2 " DEF "\n"
               "POST /_aliases {'actions':[{'add':{'index':'orders-v2','alias':'orders',"
               "'is_write_index':true}},{'remove':{'index':'orders-v1','alias':'orders'}}]}\n",
     "alias orders: POST ES/_aliases: HTTP 400: illegal_argument_exception: bad",
     NULL},
    {"replace: the old index stays",
     OP_REPLACE,
     "orders",
     "v2",
     DEF,
     {ALIAS_V1,
      ACK,
      ACK,
      {500, "{'error':{'type':'process_cluster_event_timeout_exception',"
            "'reason':'timed out'}}"}},
     -1,
     GET_ALIAS "PUT /orders-v2 " DEF "\n"
               "POST /_aliases {'actions':[{'add':{'index':'orders-v2','alias':'orders',"
               "'is_write_index':true}},{'remove':{'index':'orders-v1','alias':'orders'}}]}\n"
               "DELETE /orders-v1\n",
     "alias orders: moved to index orders-v2, but deleting the old index orders-v1: DELETE "
     "ES/orders-v1: HTTP 500: process_cluster_event_timeout_exception: timed out",
     NULL},
    {"list: sorted",
     OP_LIST,
     "orders",
     NULL,
     NULL,
     {{200, "{'orders-b':{'aliases':{'orders':{}}},'orders-a':{'aliases':{'orders':{}}}}"}},
     1,
     GET_ALIAS,
     NULL,
     "['orders-a','orders-b']"},
    {"list: no alias", OP_LIST, "orders", NULL, NULL, {NO_ALIAS}, 0, GET_ALIAS, NULL, "[]"},
    {"list: refused",
     OP_LIST,
     "orders",
     NULL,
     NULL,
     {{403, "{'error':{'type':'security_exception','reason':'unauthorized'}}"}},
     -1,
     GET_ALIAS,
     "alias orders: GET ES/_alias/orders: HTTP 403: security_exception: unauthorized",
     ""},
    {"ensure: upper case",
     OP_ENSURE,
     "Orders",
     "v1",
     DEF,
     {{END, NULL}},
     -1,
     "",
     "alias \"Orders\" may hold only a-z, 0-9",
     NULL},
    {"ensure: a slash",
     OP_ENSURE,
     "orders",
     "v1/x",
     DEF,
     {{END, NULL}},
     -1,
     "",
     "index suffix \"v1/x\" may hold only",
     NULL},
    {"ensure: empty suffix",
     OP_ENSURE,
     "orders",
     "",
     DEF,
     {{END, NULL}},
     -1,
     "",
     "index suffix \"\" is empty",
     NULL},
    {"replace: hidden alias",
     OP_REPLACE,
     "_orders",
     "v1",
     DEF,
     {{END, NULL}},
     -1,
     "",
     "alias \"_orders\" may not start with",
     NULL},
    {"ensure: a definition that is no object",
     OP_ENSURE,
     "orders",
     "v1",
     "[]",
     {{END, NULL}},
     -1,
     "",
     "definition of index orders-v1: not a JSON object",
     NULL},
    {"replace: an unparsable definition",
     OP_REPLACE,
     "orders",
     "v1",
     "{'settings':",
     {{END, NULL}},
     -1,
     "",
     "definition of index orders-v1: unparsable JSON at line 1",
     NULL},
    {"list: no name", OP_LIST, "", NULL, NULL, {{END, NULL}}, -1, "", "alias \"\" is empty", ""},
};

/* Each row has a client of its own, as each has a server of its own. */
static void test_alias(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(alias_rows); i++) {
        const alias_row_t *r = &alias_rows[i];
        char *def = r->definition ? support_dq(r->definition) : NULL, err[1024] = "";
        strbuf_t out = STRBUF_INIT;
        srv_start(r->script);
        es_client_t *c = srv_client(NULL, NULL, NULL, 0, CLIENT_MS);
        int rc = r->op == OP_ENSURE
                     ? es_client_ensure_alias(c, r->alias, def, r->suffix, err, sizeof(err))
                 : r->op == OP_REPLACE
                     ? es_client_replace_index(c, r->alias, def, r->suffix, err, sizeof(err))
                     : es_client_alias_indices(c, r->alias, &out, err, sizeof(err));
        srv_stop();
        srv_unport(err);
        if (rc != r->rc)
            fail_msg("%s: returned %d, expected %d (error \"%s\")", r->name, rc, r->rc, err);
        if (r->error && strncmp(err, r->error, strlen(r->error)) != 0)
            fail_msg("%s: error \"%s\" does not start with \"%s\"", r->name, err, r->error);
        check_log(r->name, r->log);
        if (r->out) {
            char *want = support_dq(r->out);
            if (strcmp(out.data ? out.data : "", want) != 0)
                fail_msg("%s: listed \"%s\", expected \"%s\"", r->name, out.data, want);
            free(want);
        }
        strbuf_free(&out);
        free(def);
    }
}

/* Ends the process should it still run after WATCHDOG_S: a failure, never a hang. */
static void on_watchdog(int sig)
{
    (void)sig;
    static const char msg[] = "test_es_client: still running after the watchdog's limit\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    _exit(1);
}

int main(void)
{
    signal(SIGALRM, on_watchdog);
    alarm(WATCHDOG_S);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bulk),
        cmocka_unit_test(test_new),
        cmocka_unit_test_teardown(test_bulk, srv_cleanup),
        cmocka_unit_test_teardown(test_no_answer, srv_cleanup),
        cmocka_unit_test_teardown(test_wire, srv_cleanup),
        cmocka_unit_test_teardown(test_reuse, srv_cleanup),
        cmocka_unit_test_teardown(test_alias, srv_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, srv_teardown);
}
