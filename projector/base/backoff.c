/* Waiting between retries: capped exponential backoff with jitter, cut short by a stop. */
#include "backoff.h"

#include <stdlib.h>
#include <unistd.h>

long backoff_next(long current, long max)
{
    return current * 2 > max ? max : current * 2;
}

long backoff_jitter(long ms)
{
    return ms / 2 + rand() % (ms / 2 + 1);
}

struct timespec backoff_deadline(clockid_t clock, long ms)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void backoff_nap(const atomic_int *stop, long ms)
{
    while (ms > 0 && !atomic_load(stop)) {
        long slice = ms > 100 ? 100 : ms;
        usleep((useconds_t)slice * 1000);
        ms -= slice;
    }
}
