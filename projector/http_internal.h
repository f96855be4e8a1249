/* Shared by the HTTP API's files (http_api.c, http_views.c); nothing else includes it. */
#ifndef PROJECTOR_HTTP_INTERNAL_H
#define PROJECTOR_HTTP_INTERNAL_H

#include <event2/http.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "mapping.h"

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
    PGconn *conn;
    http_view_t *views;
    size_t nviews;
    const mapping_set_t *set;
} http_ctx_t;

/* Sends status with a JSON body (taken: the reference is released). */
void http_reply_json(struct evhttp_request *req, int status, json_t *body);
/* Sends a raw JSON text body. */
void http_reply_text(struct evhttp_request *req, int status, const char *json, size_t len,
                     const char *content_type);
/* Sends {"error": {"code": code, "message": message}}. */
void http_reply_error(struct evhttp_request *req, int status, const char *code,
                      const char *message);

/* GET /v1/views, /v1/views/{table}[/{key}...]. rest is the path after "/v1/views". */
void http_views(http_ctx_t *ctx, struct evhttp_request *req, const char *rest, const char *query);
/* Loads the views of set from the database's catalog; returns 0 or -1 with errstr. */
int http_views_load(http_ctx_t *ctx, char *errstr, size_t errstr_size);
void http_views_free(http_ctx_t *ctx);

#endif
