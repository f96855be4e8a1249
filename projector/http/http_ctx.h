/* What the HTTP API's handlers may use: the context of the thread that answers a request, and
 * the signature every handler has (the route table, http_route.c, names them). */
#ifndef PROJECTOR_HTTP_CTX_H
#define PROJECTOR_HTTP_CTX_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config.h"
#include "es_client.h"
#include "http_req.h"
#include "mapping.h"
#include "stats.h"

typedef struct http_view http_view_t; /* a read table as the API serves it (http_views.h) */

/* One per worker thread: conn and es are that worker's own; the rest is shared and read-only
 * while serving. conn NULL (the loop thread, the fuzz target): DB-bound handlers answer 503. */
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

/* A handler: answers req (fills its reply, or marks it held: http_wait.h). rest is the path
 * after the route's prefix ("" or "/..."). Runs on the thread that owns ctx; blocks on its
 * database connection or search client. */
typedef void (*http_handler_fn)(http_ctx_t *ctx, http_req_t *req, const char *rest);

/* The projection of ctx->set named name, or NULL; borrowed from the set. */
const mapping_t *http_ctx_projection(const http_ctx_t *ctx, const char *name);

#endif
