/* Shared by the HTTP API's files (http_*.c), its unit tests and its fuzz target.
 *
 * The seam: the event-loop thread (http_server.c) copies each request into an http_req_t, the
 * router (http_route()) answers it by filling the same struct's reply, and the loop thread sends
 * that reply. Handlers never touch libevent objects, so they run on worker threads, and the fuzz
 * target drives the router with requests made from bytes. */
#ifndef PROJECTOR_HTTP_INTERNAL_H
#define PROJECTOR_HTTP_INTERNAL_H

#include <event2/http.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <time.h>

#include "config.h"
#include "es_client.h"
#include "mapping.h"
#include "stats.h"
#include "strbuf.h"

#define HTTP_STR_(x) #x
#define HTTP_STR(x) HTTP_STR_(x)
#define HTTP_MAX_ARGS 64      /* query parameters per request (400 beyond) */
#define HTTP_MAX_POSITIONS 64 /* min_position entries per request (400 beyond) */
#define HTTP_MAX_BODY 65536   /* request body bytes (413 beyond) */
#define HTTP_MAX_MESSAGE 1024 /* bytes of an error message; longer ones end in "..." */

typedef struct http_column {
    char *name, *type; /* type without modifiers, for casts */
} http_column_t;

/* A read table the mappings write, as the API serves it. */
typedef struct http_view {
    char *table;
    const mapping_t *m;
    const char **keys; /* key column names (borrowed from the mapping) */
    size_t nkeys;
    http_column_t *cols;
    size_t ncols;
} http_view_t;

/* What a handler may use. One per worker thread: conn and es are that worker's own; the rest
 * is shared and read-only while serving. conn NULL (the fuzz target): DB-bound handlers
 * answer 503. */
typedef struct http_ctx {
    const config_t *cfg;
    PGconn *conn;
    es_client_t *es;   /* searches; NULL when es.url is empty */
    rd_kafka_t *rk;    /* for high watermarks (lag); no group; NULL: lag unknown */
    long long max_lag; /* /readyz: ready while every partition's lag is at most this */
    const char *token; /* admin endpoints: "Bearer <token>"; empty: loopback clients only */
    const http_view_t *views;
    size_t nviews;
    const mapping_set_t *set;
    stats_t *const *stats; /* per projection of set, when this process consumes */
    size_t nstats;
} http_ctx_t;

typedef struct http_arg {
    char *key, *value; /* percent-decoded, NUL-free, valid UTF-8 */
} http_arg_t;

/* One request and, once answered, its reply. */
typedef struct http_req {
    enum evhttp_cmd_type method;
    char *path;  /* as sent (percent-encoded) */
    char *query; /* as sent, or NULL */
    http_arg_t *args;
    size_t nargs;
    char **headers; /* name, value, name, value, ... */
    size_t nheaders;
    char *body;
    size_t body_len;
    char peer[64]; /* the client's address */
    /* the reply */
    int status; /* 0 until answered */
    const char *content_type;
    strbuf_t out;
    int challenge; /* add "WWW-Authenticate: Bearer" */
    /* read-your-writes (http_wait.c) */
    int hold;     /* the handler asks the loop to hold the request for its positions */
    int released; /* its positions are applied: answer it now */
    const mapping_t *wait_m;
    char **wait_topics;
    int32_t *wait_parts;
    int64_t *wait_offsets;
    size_t nwait;
    long wait_ms;
    struct timespec deadline;
    /* the loop's bookkeeping (http_server.c) */
    struct evhttp_request *ev;
    struct http_req *next;
    int kind; /* 0: a request; else the server's own job */
    PGresult *result;
} http_req_t;

/* ---- requests and replies (http_req.c) ---- */

/* A request with a copy of path, query and body (body may be NULL with len 0). Aborts on
 * out-of-memory; free with http_req_free(). */
http_req_t *http_req_new(enum evhttp_cmd_type method, const char *path, const char *query,
                         const char *body, size_t body_len);
void http_req_add_header(http_req_t *req, const char *name, const char *value);
void http_req_free(http_req_t *req);
/* The value of a request header (case-insensitive name), or NULL. */
const char *http_req_header(const http_req_t *req, const char *name);
/* The first value of query parameter name, or NULL. */
const char *http_req_arg(const http_req_t *req, const char *name);
/* Parses req->query into req->args: percent-decoding ('+' is a space), refusing NUL bytes,
 * invalid UTF-8 and more than HTTP_MAX_ARGS parameters. Returns 0, or -1 after answering 400. */
int http_req_parse_args(http_req_t *req) __attribute__((warn_unused_result));
/* Percent-decodes s[0..n) into *out (caller frees). Returns 0, or -1 (*out NULL) when the
 * result holds a NUL byte or is not valid UTF-8. */
int http_decode(const char *s, size_t n, int plus, char **out) __attribute__((warn_unused_result));
/* Is s[0..n) valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)? */
int http_utf8_valid(const char *s, size_t n);
/* Appends s[0..n) to sb as valid UTF-8: each invalid byte becomes U+FFFD; at most max bytes,
 * cut between characters and ended with "..." when cut. */
void http_utf8_append(strbuf_t *sb, const char *s, size_t n, size_t max);
/* Resets the reply (to answer the request again). */
void http_reply_reset(http_req_t *req);

/* Answers with a JSON body (taken: the reference is released on every path). NULL (a
 * json_pack() that failed) answers 500 internal_error instead. */
void http_reply_json(http_req_t *req, int status, json_t *body);
/* Answers with a body as it is. */
void http_reply_text(http_req_t *req, int status, const char *body, size_t len,
                     const char *content_type);
/* Answers {"error": {"code": code, "message": message}}; message may hold request bytes: it is
 * made valid UTF-8 and bounded (HTTP_MAX_MESSAGE). */
void http_reply_error(http_req_t *req, int status, const char *code, const char *message);
void http_reply_errorf(http_req_t *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- routing (http_api.c) ---- */

/* Answers req: parses its query, finds its route and runs the handler on the calling thread.
 * With on_loop set, answers only what needs no database (health, the OpenAPI document, 404,
 * 405, bad parameters) and returns 0 when the request must go to a worker; else returns 1. */
int http_route(http_ctx_t *ctx, http_req_t *req, int on_loop);

/* ---- handlers ---- */

/* Read-your-writes (http_wait.c): when req carries min_position or X-Min-Position and is not
 * released yet, validates the positions and marks req held for projection m (the loop holds
 * it until they are applied, then routes it again), or answers 400. Returns 1 when the caller
 * may answer now, 0 when req is held or answered. */
int http_wait_positions(http_ctx_t *ctx, http_req_t *req, const mapping_t *m);

/* GET /v1/views, /v1/views/{table}[/{key}...]. rest is the path after "/v1/views". */
void http_views(http_ctx_t *ctx, http_req_t *req, const char *rest);
/* GET/POST /v1/search/{index} (http_search.c). */
void http_search(http_ctx_t *ctx, http_req_t *req, const char *rest);
/* POST /v1/projections/{name}/... (http_admin.c). */
void http_admin(http_ctx_t *ctx, http_req_t *req, const char *rest);
/* Loads the views of set from the database's catalog into *views; returns 0 or -1 with
 * errstr. */
int http_views_load(PGconn *conn, const mapping_set_t *set, http_view_t **views, size_t *nviews,
                    char *errstr, size_t errstr_size);
void http_views_free(http_view_t *views, size_t nviews);

/* ---- the server (http_server.c) and the held reads (http_wait.c), on the loop thread ---- */

typedef struct http_server http_server_t;
typedef struct http_waits http_waits_t;

#define HTTP_JOB_POLL 1 /* http_req_t.kind of the positions poll of held reads */

/* Binds http.listen and serves on a thread of its own with workers workers, each with a copy
 * of shared (its own database connection and search client). shared's views, set and stats
 * are borrowed. Returns the server, or NULL with errstr. */
http_server_t *http_server_start(const http_ctx_t *shared, int workers, char *errstr,
                                 size_t errstr_size);
/* Stops serving, joins the threads and frees the server. */
void http_server_stop(http_server_t *s);
struct event_base *http_server_base(http_server_t *s);
/* Hands req to the workers (taken). */
void http_server_dispatch(http_server_t *s, http_req_t *req);
/* Sends req's reply and frees req (taken). */
void http_server_send(http_server_t *s, http_req_t *req);

http_waits_t *http_waits_new(http_server_t *s);
/* Holds req (taken, marked hold by http_wait_positions()) until its positions are applied
 * (then dispatched again, released) or its wait_ms pass (504). */
void http_waits_hold(http_waits_t *w, http_req_t *req);
/* Takes the answer of a poll job (taken). */
void http_waits_polled(http_waits_t *w, http_req_t *poll);
/* Answers every held request 503 and frees w. */
void http_waits_free(http_waits_t *w);
/* On a worker: runs a poll job's query (the stored positions of its projections). */
void http_waits_poll_run(http_ctx_t *ctx, http_req_t *poll);

/* Sets up a worker's connection (application name, statement timeout); reconnects when it is
 * bad or the server closed it. Blocks while connecting. */
void http_db_prepare(PGconn *conn);

#endif
