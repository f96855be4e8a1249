/* The HTTP API (libevent): read models, projection status, health and metrics. This module
 * starts and stops it: the context every handler shares (the brokers' client for lag, the read
 * tables from the catalog) and the server (http_server.c), whose loop thread answers what needs
 * no database and hands every other request to a pool of workers, each with its own database
 * connection, so the projection workers never wait for the API. The route table is in
 * http_route.c. */
#include "http_api.h"

#include <stdlib.h>

#include "http_ctx.h"
#include "http_server.h"
#include "http_views.h"
#include "kafka_conf.h"
#include "schema.h"
#include "xalloc.h"

struct http_api {
    http_ctx_t shared; /* conn and es unset: each worker has its own */
    http_view_t *views;
    size_t nviews;
    http_server_t *server;
};

http_api_t *http_api_start(const config_t *cfg, const mapping_set_t *set, stats_t *const *stats,
                           size_t nstats, char *errstr, size_t errstr_size)
{
    http_api_t *api = xcalloc(1, sizeof(*api));
    http_ctx_t *c = &api->shared;
    c->cfg = cfg;
    c->set = set;
    c->stats = stats;
    c->nstats = nstats;
    c->max_lag = config_int(cfg, CFG_READY_MAX_LAG);
    c->token = config_str(cfg, CFG_HTTP_TOKEN);
    rd_kafka_conf_t *kconf =
        kafka_conf_new(cfg, KAFKA_CONF_PRODUCER, NULL, NULL, errstr, errstr_size);
    if (!kconf || !(c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, errstr_size))) {
        if (kconf)
            rd_kafka_conf_destroy(kconf);
        goto fail;
    }
    PGconn *conn = schema_connect(config_str(cfg, CFG_PG), errstr, errstr_size);
    if (!conn)
        goto fail;
    int rc = http_views_load(conn, set, &api->views, &api->nviews, errstr, errstr_size);
    PQfinish(conn);
    if (rc != 0)
        goto fail;
    c->views = api->views;
    c->nviews = api->nviews;
    api->server = http_server_start(c, (int)config_int(cfg, CFG_HTTP_WORKERS), errstr, errstr_size);
    if (!api->server)
        goto fail;
    return api;
fail:
    http_views_free(api->views, api->nviews);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    free(api);
    return NULL;
}

void http_api_stop(http_api_t *api)
{
    if (!api)
        return;
    http_server_stop(api->server);
    http_views_free(api->views, api->nviews);
    rd_kafka_destroy(api->shared.rk);
    free(api);
}
