/* Live per-projection statistics, written by its worker and read by the HTTP API (atomics). */
#include "stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static const double batch_size_bounds[] = {1, 10, 100, 1000, 5000, 10000, 50000};
static const double seconds_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NSIZE (sizeof(batch_size_bounds) / sizeof(batch_size_bounds[0]))
#define NSEC (sizeof(seconds_bounds) / sizeof(seconds_bounds[0]))

typedef struct histogram {
    _Atomic uint64_t buckets[NSEC + 1]; /* per bound, then +Inf; not cumulative */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_micros; /* sum of observations x 1e6 */
} histogram_t;

struct stats {
    char *projection;
    histogram_t batch_size, batch_seconds, event_latency;
    _Atomic uint64_t counters[STATS__COUNT];
    _Atomic int64_t last_event_ms;
    _Atomic uint64_t rate_milli; /* events/s x 1000 */
    _Atomic int failed;
    /* stalled: the worker writes, the HTTP API reads */
    pthread_mutex_t lock;
    int stalled;
    int64_t stalled_since_ms;
    stats_stall_t stalled_cause;
    char stalled_reason[1024];
};

stats_t *stats_new(const char *projection)
{
    stats_t *s = xcalloc(1, sizeof(*s));
    s->projection = xstrdup(projection);
    atomic_store(&s->last_event_ms, -1);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void stats_destroy(stats_t *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s->projection);
    free(s);
}

static void observe(histogram_t *h, const double *bounds, size_t n, double v)
{
    size_t i = 0;
    while (i < n && v > bounds[i])
        i++;
    atomic_fetch_add(&h->buckets[i], 1);
    atomic_fetch_add(&h->count, 1);
    atomic_fetch_add(&h->sum_micros, (uint64_t)(v * 1e6));
}

void stats_batch(stats_t *s, size_t events, double seconds)
{
    observe(&s->batch_size, batch_size_bounds, NSIZE, (double)events);
    observe(&s->batch_seconds, seconds_bounds, NSEC, seconds);
}

void stats_event(stats_t *s, int64_t ts_ms, int64_t latency_ms)
{
    observe(&s->event_latency, seconds_bounds, NSEC, (double)latency_ms / 1000.0);
    int64_t cur = atomic_load(&s->last_event_ms);
    while (ts_ms > cur && !atomic_compare_exchange_weak(&s->last_event_ms, &cur, ts_ms))
        ;
}

void stats_count(stats_t *s, stats_counter_t c, uint64_t n)
{
    atomic_fetch_add(&s->counters[c], n);
}

uint64_t stats_counter(const stats_t *s, stats_counter_t c)
{
    return atomic_load(&s->counters[c]);
}

void stats_set_failed(stats_t *s)
{
    atomic_store(&s->failed, 1);
}

int stats_failed(const stats_t *s)
{
    return atomic_load(&s->failed);
}

static const char *const stall_names[STATS_STALL__COUNT] = {
    [STATS_STALL_FAILING] = "stalled",
    [STATS_STALL_SCHEMA] = "schema_mismatch",
    [STATS_STALL_REFUSED] = "table_recreated"};

const char *stats_stall_name(stats_stall_t cause)
{
    return stall_names[cause];
}

stats_stall_t stats_stall_parse(const char *name)
{
    for (int i = 0; i < STATS_STALL__COUNT; i++)
        if (strcmp(stall_names[i], name) == 0)
            return (stats_stall_t)i;
    return STATS_STALL_FAILING;
}

void stats_set_stalled(stats_t *s, int64_t since_ms, stats_stall_t cause, const char *reason)
{
    pthread_mutex_lock(&s->lock);
    s->stalled = 1;
    s->stalled_cause = cause;
    s->stalled_since_ms = since_ms;
    snprintf(s->stalled_reason, sizeof(s->stalled_reason), "%s", reason);
    pthread_mutex_unlock(&s->lock);
}

void stats_clear_stalled(stats_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->stalled = 0;
    pthread_mutex_unlock(&s->lock);
}

int stats_stalled(const stats_t *s, int64_t *since_ms, stats_stall_t *cause, char *reason,
                  size_t reason_size)
{
    stats_t *w = (stats_t *)s; /* the lock only */
    pthread_mutex_lock(&w->lock);
    int stalled = s->stalled;
    if (stalled && since_ms)
        *since_ms = s->stalled_since_ms;
    if (stalled && cause)
        *cause = s->stalled_cause;
    if (stalled && reason && reason_size)
        snprintf(reason, reason_size, "%s", s->stalled_reason);
    pthread_mutex_unlock(&w->lock);
    return stalled;
}

void stats_db_error(stats_t *s)
{
    stats_count(s, STATS_DB_ERRORS, 1);
}

void stats_stale(stats_t *s)
{
    stats_count(s, STATS_STALE, 1);
}

void stats_dlq_error(stats_t *s)
{
    stats_count(s, STATS_DLQ_ERRORS, 1);
}

void stats_set_rate(stats_t *s, double events_per_s)
{
    atomic_store(&s->rate_milli, (uint64_t)(events_per_s * 1000.0));
}

double stats_rate(const stats_t *s)
{
    return (double)atomic_load(&s->rate_milli) / 1000.0;
}

int64_t stats_last_event_ms(const stats_t *s)
{
    return atomic_load(&s->last_event_ms);
}

static void render_histogram(stats_t *const *list, size_t n, strbuf_t *out, const char *name,
                             const char *help, size_t which, const double *bounds, size_t nb)
{
    strbuf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t k = 0; k < n; k++) {
        histogram_t *h = which == 0   ? &list[k]->batch_size
                         : which == 1 ? &list[k]->batch_seconds
                                      : &list[k]->event_latency;
        uint64_t cum = 0;
        for (size_t i = 0; i <= nb; i++) {
            cum += atomic_load(&h->buckets[i]);
            if (i < nb)
                strbuf_printf(out, "%s_bucket{projection=\"%s\",le=\"%g\"} %llu\n", name,
                              list[k]->projection, bounds[i], (unsigned long long)cum);
            else
                strbuf_printf(out, "%s_bucket{projection=\"%s\",le=\"+Inf\"} %llu\n", name,
                              list[k]->projection, (unsigned long long)cum);
        }
        strbuf_printf(out, "%s_sum{projection=\"%s\"} %.6f\n%s_count{projection=\"%s\"} %llu\n",
                      name, list[k]->projection, (double)atomic_load(&h->sum_micros) / 1e6, name,
                      list[k]->projection, (unsigned long long)atomic_load(&h->count));
    }
}

/* The counters' Prometheus names and help, by stats_counter_t. */
static const struct {
    const char *name, *help;
} counter_series[STATS__COUNT] = {
    [STATS_DB_ERRORS] = {"projector_database_errors_total",
                         "Batch attempts failed on the database and retried."},
    [STATS_STALE] = {"projector_stale_batches_total",
                     "Batches discarded because another instance had applied them."},
    [STATS_DLQ_ERRORS] = {"projector_dead_letter_publish_errors_total",
                          "Dead letters not acknowledged by Kafka (the batch was retried)."},
    [STATS_ES_REQUESTS] = {"projector_search_requests_total", "_bulk requests sent."},
    [STATS_ES_DOCS] = {"projector_search_documents_total",
                       "Documents written (indexed or deleted) in the search engine."},
    [STATS_ES_CONFLICTS] = {"projector_search_version_conflicts_total",
                            "Documents the search engine held at a newer version already (409): "
                            "counted as written."},
    [STATS_ES_ERRORS] = {"projector_search_errors_total",
                         "Batch attempts failed on the search engine (unreachable, timeout, 429, "
                         "5xx) and retried."},
    [STATS_ES_THROTTLED] = {"projector_search_throttled_documents_total",
                            "Documents answered 429 or 5xx (retried with their batch)."},
    [STATS_ES_REFUSED] = {"projector_search_refused_documents_total",
                          "Documents refused for good (400, mapping errors): their events were "
                          "dead-lettered."},
};

static void render_counter(stats_t *const *list, size_t n, strbuf_t *out, stats_counter_t c)
{
    const char *name = counter_series[c].name;
    strbuf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, counter_series[c].help, name);
    for (size_t k = 0; k < n; k++)
        strbuf_printf(out, "%s{projection=\"%s\"} %llu\n", name, list[k]->projection,
                      (unsigned long long)atomic_load(&list[k]->counters[c]));
}

void stats_render(stats_t *const *list, size_t n, strbuf_t *out)
{
    render_histogram(list, n, out, "projector_batch_events", "Events per applied batch.", 0,
                     batch_size_bounds, NSIZE);
    render_histogram(list, n, out, "projector_batch_seconds", "Time to apply and commit a batch.",
                     1, seconds_bounds, NSEC);
    render_histogram(list, n, out, "projector_event_latency_seconds",
                     "From an event's message timestamp to the commit that applied it.", 2,
                     seconds_bounds, NSEC);
    for (int c = 0; c < STATS__COUNT; c++)
        render_counter(list, n, out, (stats_counter_t)c);
    strbuf_puts(out, "# HELP projector_events_per_second Events applied per second, last 10 s.\n"
                     "# TYPE projector_events_per_second gauge\n");
    for (size_t k = 0; k < n; k++)
        strbuf_printf(out, "projector_events_per_second{projection=\"%s\"} %.1f\n",
                      list[k]->projection, stats_rate(list[k]));
    strbuf_puts(out,
                "# HELP projector_stalled 1 while the projection's worker is stalled, by cause:"
                " stalled (the same batch has failed for longer than stall.after.ms),"
                " schema_mismatch (the views no longer fit the mapping), table_recreated.\n"
                "# TYPE projector_stalled gauge\n");
    for (size_t k = 0; k < n; k++) {
        stats_stall_t cause;
        int stalled = stats_stalled(list[k], NULL, &cause, NULL, 0);
        for (int c = 0; c < STATS_STALL__COUNT; c++)
            strbuf_printf(out, "projector_stalled{projection=\"%s\",cause=\"%s\"} %d\n",
                          list[k]->projection, stall_names[c], stalled && (int)cause == c);
    }
}
