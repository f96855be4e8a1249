/* The HTTP API's connections (on the loop thread): a cap below the descriptor limit, a
 * deadline for each request to arrive whole, and JSON for libevent's own error replies. */
#ifndef PROJECTOR_HTTP_CONN_H
#define PROJECTOR_HTTP_CONN_H

#include <event2/http.h>
#include <event2/listener.h>

#define HTTP_REQUEST_DEADLINE_S 10 /* from its first byte (or the accept) to the whole request */
#define HTTP_FD_RESERVE 128        /* descriptors kept for the database, brokers and search */

typedef struct http_conns http_conns_t;
typedef struct http_conn http_conn_t;

/* Watches the connections of http accepted by listener (borrowed): stops accepting while the
 * lowest free descriptor is at the cap (the soft RLIMIT_NOFILE less HTTP_FD_RESERVE) or
 * accept() fails, logging that at most every 10 s; closes connections that do not deliver a
 * request within HTTP_REQUEST_DEADLINE_S. Free with http_conns_free() after evhttp_free(). */
http_conns_t *http_conns_new(struct event_base *base, struct evhttp *http,
                             struct evconnlistener *listener);
void http_conns_free(http_conns_t *cs);
int http_conns_cap(const http_conns_t *cs);
/* The record of evcon, or NULL. */
http_conn_t *http_conns_find(http_conns_t *cs, struct evhttp_connection *evcon);
/* A whole request arrived on c (NULL: nothing to do): its deadline is met. */
void http_conn_request(http_conn_t *c);
/* Brackets our own reply on c (NULL: nothing to do); output written outside it is libevent's
 * own error page, which is replaced by the JSON error object. */
void http_conn_sending(http_conn_t *c, int on);

#endif
