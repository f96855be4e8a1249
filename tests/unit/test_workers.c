/* Unit tests of workers: every item of a run is taken exactly once, in contiguous ranges that
 * follow worker order, on as many workers as the items allow, round after round. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "workers.h"

#define N_ROWS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ITEMS 5000
#define MAX_WORKERS 8

typedef struct {
    int taken[MAX_ITEMS]; /* by which worker, -1: not taken */
    int calls[MAX_WORKERS];
    size_t lo[MAX_WORKERS], hi[MAX_WORKERS];
    pthread_t thread[MAX_WORKERS];
} run_t;

static void take(void *ctx, int worker, size_t lo, size_t hi)
{
    run_t *r = ctx;
    r->calls[worker]++;
    r->lo[worker] = lo;
    r->hi[worker] = hi;
    r->thread[worker] = pthread_self();
    for (size_t i = lo; i < hi; i++) {
        assert_int_equal(r->taken[i], -1);
        r->taken[i] = worker;
    }
}

static const struct {
    const char *what;
    int workers;
    size_t n, grain;
    int ranges; /* how many workers get items */
} rows[] = {
    {"one worker: the caller takes all", 1, 1000, 64, 1},
    {"two workers split a batch", 2, 1000, 64, 2},
    {"four workers, an uneven count", 4, 4999, 64, 4},
    {"fewer items than two grains: the caller alone", 4, 100, 64, 1},
    {"three grains on four workers: three ranges", 4, 192, 64, 3},
    {"no items", 3, 0, 64, 0},
    {"grain 0: one item each at least", 3, 2, 0, 2},
    {"more workers than asked for are capped, never exceed items", 8, 5, 1, 5},
};

static void test_run(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_ROWS(rows); r++) {
        print_message("%s\n", rows[r].what);
        workers_t *w = workers_new(rows[r].workers, "test");
        assert_int_equal(workers_count(w), rows[r].workers);
        for (int round = 0; round < 50; round++) {
            static run_t run;
            memset(&run, 0, sizeof(run));
            for (size_t i = 0; i < MAX_ITEMS; i++)
                run.taken[i] = -1;
            workers_run(w, take, &run, rows[r].n, rows[r].grain);
            for (size_t i = 0; i < rows[r].n; i++)
                assert_true(run.taken[i] >= 0); /* every item, once (take() checks once) */
            int ranges = 0;
            size_t next = 0;
            for (int k = 0; k < rows[r].workers; k++) {
                assert_true(run.calls[k] <= 1);
                if (!run.calls[k])
                    continue;
                ranges++;
                assert_int_equal(run.lo[k], next); /* contiguous, in worker order */
                assert_true(run.hi[k] > run.lo[k]);
                next = run.hi[k];
                if (k > 0) /* a thread of its own */
                    assert_false(pthread_equal(run.thread[k], pthread_self()));
            }
            assert_int_equal(next, rows[r].n);
            assert_int_equal(ranges, rows[r].ranges);
            if (ranges)
                assert_true(pthread_equal(run.thread[0], pthread_self()));
        }
        workers_destroy(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_run)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
