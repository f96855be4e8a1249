/* The held reads of read-your-writes, on the loop thread: requests that wait until their
 * projection has applied the positions they name (http_wait.h marks them). */
#ifndef PROJECTOR_HTTP_WAITS_H
#define PROJECTOR_HTTP_WAITS_H

#include <event2/event.h>
#include <libpq-fe.h>

#include "http_req.h"

typedef struct http_waits http_waits_t;

/* How the held reads reach the rest of the server (the loop's own functions). */
typedef struct http_waits_io {
    void (*dispatch)(void *arg, http_req_t *req); /* to the workers (req taken) */
    void (*send)(void *arg, http_req_t *req);     /* sends req's reply and frees req (taken) */
    void *arg;
} http_waits_io_t;

/* Returns the set of held reads on base (borrowed), reaching the server through io (copied);
 * caller owns it (http_waits_free()). */
http_waits_t *http_waits_new(struct event_base *base, const http_waits_io_t *io);
/* Holds req (taken, marked hold by http_wait_positions()) until its positions are applied
 * (then dispatched again, released) or its wait_ms pass (504). */
void http_waits_hold(http_waits_t *w, http_req_t *req);
/* Takes the answer of a poll job (taken). */
void http_waits_polled(http_waits_t *w, http_req_t *poll);
/* Frees w and the requests it holds (the server closes their connections); NULL: nothing. */
void http_waits_free(http_waits_t *w);
/* On a worker: runs a poll job's query (the stored positions of its projections) on conn
 * (borrowed), into poll->result (which poll owns). Blocks. */
void http_waits_poll_run(PGconn *conn, http_req_t *poll);

#endif
