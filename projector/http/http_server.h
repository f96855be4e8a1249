/* The HTTP API's libevent side: the event-loop thread, which owns every libevent object, and the
 * pool of workers that answer what needs the database or the search engine. */
#ifndef PROJECTOR_HTTP_SERVER_H
#define PROJECTOR_HTTP_SERVER_H

#include "http_ctx.h"

typedef struct http_server http_server_t;

/* Binds http.listen and serves on a thread of its own with workers workers, each with a copy
 * of shared (its own database connection and search client). shared's cfg, views, set and
 * stats are borrowed and must outlive the server. Returns the server (caller owns:
 * http_server_stop()), or NULL with errstr. Blocks while connecting the workers. */
http_server_t *http_server_start(const http_ctx_t *shared, int workers, char *errstr,
                                 size_t errstr_size);
/* Stops serving, joins the threads and frees the server; NULL: nothing. */
void http_server_stop(http_server_t *s);

#endif
