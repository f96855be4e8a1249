/* The HTTP API's router: the route table {method, path prefix, handler} and the checks every
 * request passes before its handler (query parameters, body size). */
#ifndef PROJECTOR_HTTP_ROUTE_H
#define PROJECTOR_HTTP_ROUTE_H

#include "http_ctx.h"
#include "http_req.h"

/* Answers req: parses its query, finds its route and runs the handler on the calling thread.
 * With on_loop set, answers only what needs no database (health, the OpenAPI document, 404,
 * 405, bad parameters) and returns 0 when the request must go to a worker; else returns 1
 * (req answered, or marked held: http_wait.h). */
int http_route(http_ctx_t *ctx, http_req_t *req, int on_loop);

#endif
