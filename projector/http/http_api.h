/* The HTTP API (libevent): read models, projection status, health and metrics. */
#ifndef PROJECTOR_HTTP_API_H
#define PROJECTOR_HTTP_API_H

#include <stddef.h>

#include "config.h"
#include "mapping.h"
#include "stats.h"

typedef struct http_api http_api_t;

/* Binds http.listen ("host:port") and starts serving: an event-loop thread of its own and
 * http.workers worker threads, each with its own database connection. set (borrowed) names the read
 * tables it serves; stats[i] (borrowed; NULL with nstats 0 when this process consumes nothing) are
 * the live statistics of projection i. Returns the server (caller owns, http_api_stop()), or NULL
 * with errstr set. */
http_api_t *http_api_start(const config_t *cfg, const mapping_set_t *set, stats_t *const *stats,
                           size_t nstats, char *errstr, size_t errstr_size);
/* Stops serving, joins the threads and frees the server. */
void http_api_stop(http_api_t *api);

#endif
