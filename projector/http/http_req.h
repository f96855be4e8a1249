/* The HTTP API's requests, free of libevent: what the loop thread copies out of each request,
 * the parsed query, and the reply a handler fills (http_reply.h builds it).
 *
 * The seam: the event-loop thread (http_server.c) copies each request into an http_req_t, the
 * router (http_route()) answers it by filling the same struct's reply, and the loop thread sends
 * that reply. Handlers never touch libevent objects, so they run on worker threads, and the fuzz
 * target drives the router with requests made from bytes. */
#ifndef PROJECTOR_HTTP_REQ_H
#define PROJECTOR_HTTP_REQ_H

#include <event2/http.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mapping.h"
#include "strbuf.h"

#define HTTP_STR_(x) #x
#define HTTP_STR(x) HTTP_STR_(x)
#define HTTP_MAX_ARGS 64      /* query parameters per request (400 beyond) */
#define HTTP_MAX_POSITIONS 64 /* min_position entries per request (400 beyond) */
#define HTTP_MAX_BODY 65536   /* request body bytes (413 beyond) */

/* What an http_req_t carries to a worker. */
typedef enum {
    HTTP_JOB_REQUEST = 0, /* a client's request: routed */
    HTTP_JOB_POLL = 1, /* the server's own job: the positions poll of held reads (http_waits.c) */
} http_job_t;

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
    /* read-your-writes (http_wait.c, http_waits.c) */
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
    http_job_t kind;
    PGresult *result; /* a poll job's answer */
} http_req_t;

/* A request with a copy of path, query and body (body may be NULL with len 0). Aborts on
 * out-of-memory; the caller owns it: free with http_req_free(). */
http_req_t *http_req_new(enum evhttp_cmd_type method, const char *path, const char *query,
                         const char *body, size_t body_len);
/* Adds a header (name and value are copied). */
void http_req_add_header(http_req_t *req, const char *name, const char *value);
/* Frees req and everything it holds, its reply and poll result included; NULL: nothing. */
void http_req_free(http_req_t *req);
/* The value of a request header (case-insensitive name), or NULL; borrowed from req. */
const char *http_req_header(const http_req_t *req, const char *name);
/* The first value of query parameter name, or NULL; borrowed from req. */
const char *http_req_arg(const http_req_t *req, const char *name);
/* Parses req->query into req->args: percent-decoding ('+' is a space), refusing NUL bytes,
 * invalid UTF-8 and more than HTTP_MAX_ARGS parameters. Returns 0, or -1 after answering 400. */
int http_req_parse_args(http_req_t *req) __attribute__((warn_unused_result));
/* The index of value in names (a NULL-terminated list of the choices a parameter has), or -1
 * when value is NULL or none of them. */
int http_req_choice(const char *value, const char *const *names);
/* Percent-decodes s[0..n) into *out (caller frees). Returns 0, or -1 (*out NULL) when the
 * result holds a NUL byte or is not valid UTF-8. */
int http_decode(const char *s, size_t n, int plus, char **out) __attribute__((warn_unused_result));

#endif
