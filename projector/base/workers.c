/* A small pool of threads that run one function over the ranges of an index space. */
#include "workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "xalloc.h"

#define WORKERS_MAX 64

typedef struct worker {
    workers_t *pool;
    int index; /* 1 .. n - 1 */
    pthread_t thread;
} worker_t;

struct workers {
    int n;
    worker_t *threads; /* n - 1 */
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    unsigned long round; /* bumped by each run; a worker runs once per round */
    int stop;
    /* the current run */
    workers_fn fn;
    void *ctx;
    size_t lo[WORKERS_MAX], hi[WORKERS_MAX]; /* per worker */
    int pending;                             /* workers of the round not done yet */
};

static void *worker_main(void *arg)
{
    worker_t *me = arg;
    workers_t *w = me->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && w->round == seen)
            pthread_cond_wait(&w->start, &w->mu);
        if (w->stop)
            break;
        seen = w->round;
        size_t lo = w->lo[me->index], hi = w->hi[me->index];
        workers_fn fn = w->fn;
        void *ctx = w->ctx;
        pthread_mutex_unlock(&w->mu);
        if (lo < hi)
            fn(ctx, me->index, lo, hi);
        pthread_mutex_lock(&w->mu);
        if (--w->pending == 0)
            pthread_cond_signal(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

workers_t *workers_new(int n, const char *name)
{
    workers_t *w = xcalloc(1, sizeof(*w));
    w->n = n < 1 ? 1 : n > WORKERS_MAX ? WORKERS_MAX : n;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->start, NULL);
    pthread_cond_init(&w->done, NULL);
    w->threads = xcalloc((size_t)w->n, sizeof(*w->threads));
    for (int i = 1; i < w->n; i++) {
        worker_t *t = &w->threads[i - 1];
        t->pool = w;
        t->index = i;
        if (pthread_create(&t->thread, NULL, worker_main, t) != 0) {
            fprintf(stderr, "projector: cannot start a %s thread\n", name);
            abort();
        }
        char tname[16];
        snprintf(tname, sizeof(tname), "%s %d", name, i);
        pthread_setname_np(t->thread, tname);
    }
    return w;
}

void workers_destroy(workers_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->start);
    pthread_mutex_unlock(&w->mu);
    for (int i = 1; i < w->n; i++)
        pthread_join(w->threads[i - 1].thread, NULL);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->start);
    pthread_mutex_destroy(&w->mu);
    free(w->threads);
    free(w);
}

int workers_count(const workers_t *w)
{
    return w->n;
}

void workers_run(workers_t *w, workers_fn fn, void *ctx, size_t n, size_t grain)
{
    size_t parts = grain ? n / grain : n;
    if (parts > (size_t)w->n)
        parts = (size_t)w->n;
    if (parts <= 1) {
        if (n)
            fn(ctx, 0, 0, n);
        return;
    }
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < (size_t)w->n; i++) {
        w->lo[i] = i < parts ? n * i / parts : n;
        w->hi[i] = i < parts ? n * (i + 1) / parts : n;
    }
    w->fn = fn;
    w->ctx = ctx;
    w->pending = w->n - 1;
    w->round++;
    pthread_cond_broadcast(&w->start);
    pthread_mutex_unlock(&w->mu);
    fn(ctx, 0, w->lo[0], w->hi[0]);
    pthread_mutex_lock(&w->mu);
    while (w->pending > 0)
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
}
