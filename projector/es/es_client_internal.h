/* What es_client.c shares with es_client_alias.c (the aliased indices): the URL of the request
 * and the reading of error answers. Not for other modules. */
#ifndef PROJECTOR_ES_CLIENT_INTERNAL_H
#define PROJECTOR_ES_CLIENT_INTERNAL_H

#include <string.h>

#include "es_client.h"
#include "strbuf.h"

/* Returns the URL of the current (or last) request of c ("" before the first), owned by c. */
const char *es_client_target(const es_client_t *c);
/* That URL for messages without its query string: "%.*s" with ES_CLIENT_SHOWN(c). */
#define ES_CLIENT_SHOWN(c) (int)strcspn(es_client_target(c), "?"), es_client_target(c)

/* Returns 1 when the answer in resp is an error of Elasticsearch type `type`, else 0. */
int es_client_answer_error_is(const strbuf_t *resp, const char *type);

/* Sets errstr to "<method> <url>: HTTP <status>: <type>: <reason> ..." for a failed answer in
 * resp of the last request of c (the first 200 bytes of an answer that is not an error's JSON). */
void es_client_http_error(const es_client_t *c, const char *method, int status,
                          const strbuf_t *resp, char *errstr, size_t errstr_size);

#endif
