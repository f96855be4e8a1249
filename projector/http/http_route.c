/* The HTTP API's router: one table maps method and path prefix to the handler of each endpoint
 * (status: http_status.c, views: http_views.c, searches: http_search.c, admin requests:
 * http_admin.c). The event-loop thread answers the routes that need no database itself; the
 * others go to a worker, so a slow query never delays /healthz. */
#include "http_route.h"

#include <string.h>

#include "http_admin.h"
#include "http_reply.h"
#include "http_search.h"
#include "http_status.h"
#include "http_views.h"

static const struct route {
    enum evhttp_cmd_type method;
    const char *prefix;
    int exact;   /* the path must equal prefix; else prefix, then "" or "/..." */
    int on_loop; /* answered by the loop thread: needs no database */
    http_handler_fn fn;
} routes[] = {
    {EVHTTP_REQ_GET, "/healthz", 1, 1, http_status_healthz},
    {EVHTTP_REQ_GET, "/readyz", 1, 0, http_status_readyz},
    {EVHTTP_REQ_GET, "/metrics", 1, 0, http_status_metrics},
    {EVHTTP_REQ_GET, "/v1/openapi.json", 1, 1, http_status_openapi},
    {EVHTTP_REQ_GET, "/v1/views", 0, 0, http_views},
    {EVHTTP_REQ_GET, "/v1/projections", 0, 0, http_status_projections},
    {EVHTTP_REQ_POST, "/v1/projections", 0, 0, http_admin},
    {EVHTTP_REQ_GET, "/v1/search", 0, 0, http_search},
    {EVHTTP_REQ_POST, "/v1/search", 0, 0, http_search},
};

int http_route(http_ctx_t *ctx, http_req_t *req, int on_loop)
{
    if (http_req_parse_args(req) != 0)
        return 1;
    if (req->body_len > HTTP_MAX_BODY) {
        http_reply_errorf(req, 413, "body_too_large", "the request body is over %d bytes",
                          HTTP_MAX_BODY);
        return 1;
    }
    const char *path = req->path;
    int path_known = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t n = strlen(routes[i].prefix);
        if (strncmp(path, routes[i].prefix, n) != 0 || (routes[i].exact && path[n]) ||
            (!routes[i].exact && path[n] && path[n] != '/'))
            continue;
        path_known = 1;
        /* HEAD is GET without the body (libevent leaves the body out of a HEAD answer) */
        if ((req->method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : req->method) != routes[i].method)
            continue;
        if (on_loop && !routes[i].on_loop)
            return 0;
        routes[i].fn(ctx, req, path + n);
        return 1;
    }
    if (path_known)
        http_reply_error(req, 405, "method_not_allowed", "not with this method");
    else
        http_reply_error(req, 404, "not_found", "no such endpoint (see /v1/openapi.json)");
    return 1;
}
