/* The read-model endpoints: GET /v1/views, /v1/views/{table}[/{key}...], and the catalog of the
 * read tables they serve. */
#ifndef PROJECTOR_HTTP_VIEWS_H
#define PROJECTOR_HTTP_VIEWS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "http_ctx.h"
#include "http_req.h"
#include "mapping.h"

typedef struct http_column {
    char *name, *type; /* type without modifiers, for casts */
} http_column_t;

/* A read table the mappings write, as the API serves it. */
struct http_view {
    char *table;
    const mapping_t *m;
    const char **keys; /* key column names (borrowed from the mapping) */
    size_t nkeys;
    http_column_t *cols;
    size_t ncols;
};

/* The handler of GET /v1/views...; rest is the path after "/v1/views". */
void http_views(http_ctx_t *ctx, http_req_t *req, const char *rest);
/* Loads the views of set (borrowed: the views point into it) from the database's catalog into
 * *views (caller owns: http_views_free()); returns 0 or -1 with errstr. Blocks. */
int http_views_load(PGconn *conn, const mapping_set_t *set, http_view_t **views, size_t *nviews,
                    char *errstr, size_t errstr_size) __attribute__((warn_unused_result));
void http_views_free(http_view_t *views, size_t nviews);

#endif
