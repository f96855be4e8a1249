/* Waiting between retries: capped exponential backoff with jitter, cut short by a stop. */
#ifndef PROJECTOR_BACKOFF_H
#define PROJECTOR_BACKOFF_H

#include <stdatomic.h>
#include <time.h>

/* The wait after `current` ms: doubled, at most max. */
long backoff_next(long current, long max);
/* A random wait between ms/2 and ms, so instances retrying together spread out. */
long backoff_jitter(long ms);
/* The time ms milliseconds from now on clock (for timed waits and deadlines). */
struct timespec backoff_deadline(clockid_t clock, long ms);
/* Sleeps ms milliseconds in slices of at most 100 ms, returning early once *stop is set. */
void backoff_nap(const atomic_int *stop, long ms);

#endif
