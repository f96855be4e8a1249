/* A small pool of threads that run one function over the ranges of an index space, the
 * caller's thread taking the first range: the fetcher decodes a batch's messages this way. */
#ifndef PROJECTOR_WORKERS_H
#define PROJECTOR_WORKERS_H

#include <stddef.h>

typedef struct workers workers_t;

/* Runs items [lo, hi) on worker `worker` (0: the caller's thread). */
typedef void (*workers_fn)(void *ctx, int worker, size_t lo, size_t hi);

/* Returns a pool of n workers, the caller's thread being the first: n - 1 threads, named
 * "<name> <i>" (cut to 15 bytes, as top -H shows them). n < 1 is taken as 1. Caller owns it.
 * Aborts when a thread cannot be started. */
workers_t *workers_new(int n, const char *name);
/* Stops and joins the threads; frees w. */
void workers_destroy(workers_t *w);
/* The number of workers, the caller's thread included. */
int workers_count(const workers_t *w);
/* Splits [0, n) into contiguous ranges of at least `grain` items, one per worker (fewer when n
 * is small), runs fn on each, and returns when all are done. Worker w always gets a range after
 * worker w - 1's. One run at a time per pool (call from one thread). */
void workers_run(workers_t *w, workers_fn fn, void *ctx, size_t n, size_t grain);

#endif
