/* Shared by the HTTP API's files (http_api.c, http_views.c); nothing else includes it. */
#ifndef PROJECTOR_HTTP_INTERNAL_H
#define PROJECTOR_HTTP_INTERNAL_H

#include <event2/http.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "es_client.h"
#include "mapping.h"
#include "stats.h"

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

typedef struct http_ctx {
    const config_t *cfg;
    PGconn *conn;
    es_client_t *es;   /* searches; NULL when es.url is empty */
    rd_kafka_t *rk;    /* for high watermarks (lag); no group */
    long long max_lag; /* /readyz: ready while every partition's lag is at most this */
    const char *token; /* admin endpoints: "Bearer <token>"; empty: loopback clients only */
    struct event_base *base;
    struct evhttp_request *released; /* being answered after waiting for its positions */
    size_t waiting;                  /* requests held for their positions */
    http_view_t *views;
    size_t nviews;
    const mapping_set_t *set;
    stats_t *const *stats; /* per projection of set, when this process consumes */
    size_t nstats;
} http_ctx_t;

/* Sends status with a JSON body (taken: the reference is released). */
void http_reply_json(struct evhttp_request *req, int status, json_t *body);
/* Sends a raw JSON text body. */
void http_reply_text(struct evhttp_request *req, int status, const char *json, size_t len,
                     const char *content_type);
/* Sends {"error": {"code": code, "message": message}}. */
void http_reply_error(struct evhttp_request *req, int status, const char *code,
                      const char *message);

typedef void (*http_then_fn)(http_ctx_t *ctx, struct evhttp_request *req, const char *rest,
                             const char *query);

/* Read-your-writes (http_wait.c): when req carries min_position or X-Min-Position, holds it
 * until projection m has applied those positions and then calls then(ctx, req, rest, query),
 * or answers 504 (or 400) itself. Returns 1 when the caller may answer now, 0 when req is
 * held or answered. */
int http_wait_positions(http_ctx_t *ctx, struct evhttp_request *req, const mapping_t *m,
                        const char *rest, const char *query, http_then_fn then);

/* GET /v1/views, /v1/views/{table}[/{key}...]. rest is the path after "/v1/views". */
void http_views(http_ctx_t *ctx, struct evhttp_request *req, const char *rest, const char *query);
/* GET/POST /v1/search/{index} (http_search.c). */
void http_search(http_ctx_t *ctx, struct evhttp_request *req, const char *rest, const char *query);
/* Loads the views of set from the database's catalog; returns 0 or -1 with errstr. */
int http_views_load(http_ctx_t *ctx, char *errstr, size_t errstr_size);
void http_views_free(http_ctx_t *ctx);

#endif
