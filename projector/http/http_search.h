/* The search endpoints: GET/POST /v1/search/{index}, through the search engine. */
#ifndef PROJECTOR_HTTP_SEARCH_H
#define PROJECTOR_HTTP_SEARCH_H

#include "http_ctx.h"
#include "http_req.h"

/* The handler of GET/POST /v1/search...; rest is the path after "/v1/search". Blocks on
 * ctx->es. */
void http_search(http_ctx_t *ctx, http_req_t *req, const char *rest);

#endif
