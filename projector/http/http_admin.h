/* The admin endpoints: POST /v1/projections/{name}/pause, /resume, /rebuild, /rebuild/cancel. */
#ifndef PROJECTOR_HTTP_ADMIN_H
#define PROJECTOR_HTTP_ADMIN_H

#include "http_ctx.h"
#include "http_req.h"

/* The handler of POST /v1/projections...; rest is the path after "/v1/projections". Blocks on
 * ctx->conn. */
void http_admin(http_ctx_t *ctx, http_req_t *req, const char *rest);

#endif
