/* The status endpoints of the HTTP API: health, projection status, metrics and the OpenAPI
 * document. Each is a handler (http_ctx.h); rest is the path after its route's prefix. */
#ifndef PROJECTOR_HTTP_STATUS_H
#define PROJECTOR_HTTP_STATUS_H

#include "http_ctx.h"
#include "http_req.h"

/* GET /healthz: 200 while the API serves; needs no database. */
void http_status_healthz(http_ctx_t *ctx, http_req_t *req, const char *rest);
/* GET /readyz: 200 while the database answers, no projection is stalled and no partition lags
 * by more than ctx->max_lag; else 503 saying why. Blocks on the database and the brokers. */
void http_status_readyz(http_ctx_t *ctx, http_req_t *req, const char *rest);
/* GET /v1/projections[/{name}]: the state, counters and partitions of each projection (or of
 * one). Blocks on the database and the brokers. */
void http_status_projections(http_ctx_t *ctx, http_req_t *req, const char *rest);
/* GET /metrics: Prometheus text. Blocks on the database and the brokers. */
void http_status_metrics(http_ctx_t *ctx, http_req_t *req, const char *rest);
/* GET /v1/openapi.json: the API's description (embedded by the build); needs no database. */
void http_status_openapi(http_ctx_t *ctx, http_req_t *req, const char *rest);

#endif
