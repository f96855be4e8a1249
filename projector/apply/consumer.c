/* A projection worker: applies the batches its fetcher decodes, exactly once.
 *
 * The positions stored in PostgreSQL are the truth: on assignment the fetcher seeks to them,
 * and a batch commits only where they still hold what this instance expects (the expected
 * positions the fetcher stamped on the batch when it cut it). Each batch goes through the stores
 * in the applier's sequence (applier.c). Offsets are committed to Kafka afterwards, for lag
 * tools only. */
#include "consumer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applier.h"
#include "backoff.h"
#include "dlq.h"
#include "fetcher.h"
#include "log.h"
#include "sink_es.h"
#include "sink_pg.h"
#include "stall.h"
#include "strbuf.h"
#include "xalloc.h"

#define LATENCY_BUCKETS 10000 /* 0..9999 ms; the last slot counts anything longer */

struct consumer {
    const config_t *cfg;
    const mapping_t *m;
    generation_t gen;
    fetcher_t *fetcher;
    sink_pg_t *sink;
    sink_pg_t *positions; /* the fetching thread's connection, for the positions at assignment */
    sink_es_t *es;        /* when the mapping has index actions */
    dlq_t *dlq;
    sink_docs_t docs;        /* the search sink as the document store */
    applier_stores_t stores; /* what a batch goes through */
    const atomic_int *stop;
    consumer_state_t state;
    stats_t *stats;
    event_position_t *pos; /* scratch: the assigned partitions (idle checks, instance notes) */
    int build_over;        /* a build generation found a partition without a position row */
    /* progress */
    uint64_t applied, skipped, dead, since_log;
    time_t last_retry_log;
    const char *failing; /* while retrying: "database", "search engine", "dead-letter topic" */
    char dlq_error[512]; /* the last dead-letter publishing error of the batch, or "" */
    /* stalled: the same batch failing for longer than stall.after.ms (or refused) */
    char instance[160]; /* host:pid, in projector.stalls */
    int stalled, refused_logged;
    int64_t stalled_since_ms;
    double stall_noted;        /* when projector.stalls was last written (monotonic s), or 0 */
    stats_stall_t stall_cause; /* the cause written then */
    /* an in-place rebuild's replay: events below these offsets are replays, kept out of the
       event-to-row latency (their timestamps are of long ago) */
    sink_target_t *replay;
    size_t nreplay;
    /* event-to-row latency: message timestamp to the commit that applied it, 1 ms buckets */
    uint64_t latency[LATENCY_BUCKETS + 1];
    uint64_t latency_count;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fetcher_positions_fn: the stored positions, on the fetcher's own connection. */
static int read_positions(void *ctx, event_position_t *pos, size_t n, char *errstr, size_t errsz)
{
    return sink_pg_positions(ctx, pos, n, errstr, errsz);
}

/* sink_dead_fn: logs the batch's dead events and publishes them to the dead-letter topic. */
static int on_dead(void *ctx, event_t *events, size_t n)
{
    consumer_t *c = ctx;
    for (size_t i = 0; i < n; i++) {
        const event_t *e = &events[i];
        if (e->state == EVENT_DEAD)
            LOG(LOG_WARN,
                "projection=%s topic=%s partition=%d offset=%lld stage=%s dead-lettered "
                "to %s: %s",
                c->gen.key, e->ev.topic, e->ev.partition, (long long)e->ev.offset,
                event_stage_name(e->stage), e->dlq_topic, e->error);
    }
    if (dlq_publish(c->dlq, events, n, c->dlq_error, sizeof(c->dlq_error)) != 0) {
        stats_dlq_error(c->stats);
        LOG(LOG_WARN, "projection=%s dead-letter topic unavailable: %s", c->gen.key, c->dlq_error);
        return -1;
    }
    c->dlq_error[0] = '\0';
    return 0;
}

consumer_t *consumer_new(const config_t *cfg, const mapping_t *m, const generation_t *gen,
                         stats_t *stats, char *errstr, size_t errstr_size)
{
    consumer_t *c = xcalloc(1, sizeof(*c));
    c->cfg = cfg;
    c->m = m;
    c->gen = *gen;
    c->stats = stats;
    stall_instance(c->instance, sizeof(c->instance));
    c->pos = xcalloc(generation_batch_max(gen, cfg), sizeof(*c->pos));
    c->sink = sink_pg_new(config_str(cfg, CFG_PG), m, gen);
    if (mapping_doc_count(m)) {
        char err[512];
        c->es = sink_es_new(cfg, stats, gen->number, err, sizeof(err));
        if (!c->es) {
            snprintf(errstr, errstr_size, "projection %s (%s) writes documents: %s",
                     mapping_name(m), mapping_file(m), err);
            goto fail;
        }
        c->docs = (sink_docs_t){sink_es_write, c->es};
    }
    c->dlq = dlq_new(cfg, mapping_name(m), errstr, errstr_size);
    if (!c->dlq)
        goto fail;
    c->positions = sink_pg_new(config_str(cfg, CFG_PG), m, gen);
    c->fetcher = fetcher_new(cfg, m, gen, read_positions, c->positions, errstr, errstr_size);
    if (!c->fetcher)
        goto fail;
    c->stores =
        (applier_stores_t){sink_pg_rows(c->sink), c->es ? &c->docs : NULL, on_dead, c, c->gen.key};
    return c;
fail:
    consumer_destroy(c);
    return NULL;
}

void consumer_destroy(consumer_t *c)
{
    if (!c)
        return;
    fetcher_destroy(c->fetcher);
    dlq_destroy(c->dlq);
    sink_pg_destroy(c->sink);
    sink_pg_destroy(c->positions);
    sink_es_destroy(c->es);
    free(c->pos);
    free(c->replay);
    free(c);
}

consumer_state_t consumer_state(const consumer_t *c)
{
    return c->state;
}

/* Wall-clock time in ms since the epoch, as Kafka timestamps are. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is e an event an in-place rebuild replays (below its partition's target offset)? */
static int replayed(const consumer_t *c, const mapping_event_t *e)
{
    for (size_t i = 0; i < c->nreplay; i++)
        if (c->replay[i].partition == e->partition && e->offset < c->replay[i].until &&
            strcmp(c->replay[i].topic, e->topic) == 0)
            return 1;
    return 0;
}

/* Reads which offsets the projection's latest in-place rebuild replays (best effort: kept as
 * they were when the database cannot say). */
static void load_replay(consumer_t *c)
{
    sink_target_t *t = NULL;
    size_t n = 0;
    if (sink_pg_replay_targets(c->sink, &t, &n) != 0)
        return;
    free(c->replay);
    c->replay = t;
    c->nreplay = n;
}

/* Records each applied event's latency from its message timestamp to now (the commit); the
 * events an in-place rebuild replays are not live traffic and stay out of it. */
static void record_latency(consumer_t *c, const fetch_batch_t *b)
{
    int64_t now_ms = wall_ms();
    for (size_t i = 0; i < b->n; i++) {
        const event_t *e = &b->events[i];
        if (e->state != EVENT_APPLIED || e->ev.timestamp_ms < 0 || replayed(c, &e->ev))
            continue;
        int64_t ms = now_ms - e->ev.timestamp_ms;
        stats_event(c->stats, e->ev.timestamp_ms, ms);
        c->latency[ms < 0 ? 0 : ms > LATENCY_BUCKETS ? LATENCY_BUCKETS : ms]++;
        c->latency_count++;
    }
}

/* The q-quantile (0..1) of the recorded latencies, in milliseconds. */
static double latency_quantile(const consumer_t *c, double q)
{
    if (!c->latency_count)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)(c->latency_count - 1)) + 1, seen = 0;
    for (size_t ms = 0; ms <= LATENCY_BUCKETS; ms++) {
        seen += c->latency[ms];
        if (seen >= rank)
            return (double)ms;
    }
    return LATENCY_BUCKETS;
}

static void after_commit(consumer_t *c, const fetch_batch_t *b)
{
    record_latency(c, b);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)b->npos);
    for (size_t k = 0; k < b->npos; k++) {
        const event_position_t *p = &b->pos[k];
        fetcher_advance(c->fetcher, p->topic, p->partition, p->next);
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->next;
        c->applied += (uint64_t)p->applied;
        c->skipped += (uint64_t)p->skipped;
        c->dead += (uint64_t)p->dead;
    }
    c->since_log += b->n;
    fetcher_commit(c->fetcher, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* A build generation's partition without a position row: at the switch or cancel they all go
 * (the rebuilder stops this worker soon); a partition the rebuild did not record (added to the
 * topic since) never has one. Its events are not fetched for this build any more. */
static void build_row_gone(consumer_t *c, const char *topic, int32_t partition)
{
    if (!c->build_over)
        LOG(LOG_INFO,
            "projection=%s topic=%s partition=%d has no build position (the rebuild is over, or "
            "the partition is newer than the rebuild): not applied by this build",
            c->gen.key, topic, partition);
    c->build_over = 1;
    fetcher_advance(c->fetcher, topic, partition, EVENT_POS_NO_ROW);
}

static void on_stale(consumer_t *c, const fetch_batch_t *b)
{
    for (size_t k = 0; k < b->npos; k++) {
        const event_position_t *p = &b->pos[k];
        if (!p->stale)
            continue;
        if (c->gen.number && p->actual == EVENT_POS_NO_ROW) { /* rows go at a switch, cancel */
            build_row_gone(c, p->topic, p->partition);
            continue;
        }
        LOG(LOG_WARN,
            "projection=%s topic=%s partition=%d stored position is %lld, expected "
            "%lld: another instance applied it; re-reading from the stored position",
            c->gen.key, p->topic, p->partition, (long long)p->actual, (long long)p->expected);
        fetcher_advance(c->fetcher, p->topic, p->partition,
                        p->actual == EVENT_POS_NO_ROW ? EVENT_POS_NONE : p->actual);
    }
    load_replay(c); /* a rebuild in place may be what moved them */
    fetcher_rewind(c->fetcher);
}

/* How often a stalled worker refreshes its row of projector.stalls (seconds). */
#define STALL_REFRESH_S 5

/* After a failed attempt at a batch failing since `since` (monotonic s): once that is longer
 * than stall.after.ms, or at once for a schema mismatch or a refusal, the projection is stalled
 * for cause with reason: in its statistics and, best effort (the database may be what fails),
 * in projector.stalls. */
static void stall_update(consumer_t *c, double since, size_t nevents, stats_stall_t cause,
                         const char *reason)
{
    double t = now_s();
    if (!c->stalled && cause == STATS_STALL_FAILING &&
        (t - since) * 1000.0 < (double)config_int(c->cfg, CFG_STALL_AFTER_MS))
        return;
    if (!c->stalled) {
        c->stalled = 1;
        c->stalled_since_ms = wall_ms() - (int64_t)((t - since) * 1000.0);
        c->stall_noted = 0;
        if (cause == STATS_STALL_FAILING) /* the others were logged as errors already */
            LOG(LOG_WARN, "projection=%s stalled: a batch of %zu events has failed for %.1f s: %s",
                c->gen.key, nevents, t - since, reason);
    }
    stats_set_stalled(c->stats, c->stalled_since_ms, cause, reason);
    if (c->stall_noted > 0 && t - c->stall_noted < STALL_REFRESH_S && cause == c->stall_cause)
        return; /* a new cause is written at once */
    long long max = config_int(c->cfg, CFG_RETRY_BACKOFF_MAX_MS);
    int64_t ttl = 3 * (max > STALL_REFRESH_S * 1000 ? max : STALL_REFRESH_S * 1000) + 5000;
    if (sink_pg_stall_note(c->sink, c->instance, c->stalled_since_ms, stats_stall_name(cause),
                           reason, ttl) == 0) {
        c->stall_noted = t;
        c->stall_cause = cause;
    }
}

/* The batch went through (or is no longer this worker's to apply): no longer stalled. */
static void stall_clear(consumer_t *c, double since)
{
    c->refused_logged = 0;
    if (!c->stalled)
        return;
    LOG(LOG_INFO, "projection=%s no longer stalled, after %.1f s", c->gen.key, now_s() - since);
    c->stalled = 0;
    c->stall_noted = 0;
    stats_clear_stalled(c->stats);
    if (sink_pg_stall_clear(c->sink, c->instance) != 0)
        LOG(LOG_DEBUG, "projection=%s projector.stalls not cleared (it expires)", c->gen.key);
}

/* After a failed attempt: logs (a refusal once, as an error; a failure at most every 10 s),
 * updates the stalled state and waits the backoff. Returns 0 to try again, -1 when stopped. */
static int after_failure(consumer_t *c, const fetch_batch_t *b, sink_rc_t rc, const char *err,
                         double since, long *backoff, long max)
{
    if (rc == SINK_RETRY && !c->dlq_error[0])
        stats_db_error(c->stats);
    c->failing = rc == SINK_RETRY_INDEX ? "search engine"
                 : rc == SINK_SCHEMA    ? "views"
                 : c->dlq_error[0]      ? "dead-letter topic"
                                        : "database";
    char reason[1024];
    stats_stall_t cause = rc == SINK_REFUSED  ? STATS_STALL_REFUSED
                          : rc == SINK_SCHEMA ? STATS_STALL_SCHEMA
                                              : STATS_STALL_FAILING;
    if (rc == SINK_REFUSED) {
        snprintf(reason, sizeof(reason), "%s", err);
        if (!c->refused_logged)
            LOG(LOG_ERROR, "projection=%s %s; nothing is applied until then", c->gen.key, err);
        c->refused_logged = 1;
    } else if (rc == SINK_SCHEMA) {
        snprintf(reason, sizeof(reason), "the views no longer fit the mapping: %s", err);
        if (!c->refused_logged)
            LOG(LOG_ERROR,
                "projection=%s the views no longer fit the mapping: %s; %zu events wait, nothing "
                "is applied until the table or column is back (or the mapping changed and the "
                "instances restarted)",
                c->gen.key, err, b->n);
        c->refused_logged = 1;
    } else {
        snprintf(reason, sizeof(reason), "%s: %s", c->failing,
                 c->dlq_error[0] ? c->dlq_error : err);
        time_t t = time(NULL);
        if (c->state != CONSUMER_RETRYING || t - c->last_retry_log >= 10) {
            LOG(LOG_WARN,
                "projection=%s %s error, %zu events wait (retrying, backoff up to %ld ms): %s",
                c->gen.key, c->failing, b->n, max, err);
            c->last_retry_log = t;
        }
    }
    c->state = CONSUMER_RETRYING;
    stall_update(c, since, b->n, cause, reason);
    backoff_nap(c->stop, backoff_jitter(*backoff));
    if (atomic_load(c->stop)) {
        LOG(LOG_WARN,
            "projection=%s stopping with a batch of %zu events not applied; it is "
            "consumed again at the next start",
            c->gen.key, b->n);
        return -1;
    }
    *backoff = backoff_next(*backoff, max);
    return 0;
}

/* While paused: logs it once and waits. Returns 0 to try again, -1 when stopped. */
static int while_paused(consumer_t *c)
{
    if (c->state != CONSUMER_PAUSED)
        LOG(LOG_INFO,
            "projection=%s paused; nothing is applied until it is resumed "
            "(POST /v1/projections/%s/resume)",
            c->gen.key, mapping_name(c->m));
    c->state = CONSUMER_PAUSED;
    backoff_nap(c->stop, 250);
    return atomic_load(c->stop) ? -1 : 0;
}

/* Applies batch b, waiting out database failures. Returns 0 when the batch is done (applied,
 * or dropped as stale), -1 when stopped while retrying. */
static int apply_batch(consumer_t *c, fetch_batch_t *b)
{
    if (!fetcher_current(c->fetcher, b))
        return 0; /* a partition moved to another instance since: its new owner applies it */
    sink_batch_t sb = {b->events, b->n, b->pos, b->npos, b->arena};
    long backoff = 100, max = (long)config_int(c->cfg, CFG_RETRY_BACKOFF_MAX_MS);
    double since = now_s();
    for (;;) {
        char err[1024];
        c->dlq_error[0] = '\0';
        sink_rc_t rc = applier_batch(&c->stores, &sb, err, sizeof(err));
        if (rc == SINK_OK) {
            stats_batch(c->stats, b->n, now_s() - since);
            if (c->state == CONSUMER_PAUSED)
                LOG(LOG_INFO, "projection=%s resumed", c->gen.key);
            if (c->state == CONSUMER_RETRYING)
                LOG(LOG_INFO, "projection=%s %s back after %.1f s; batch applied", c->gen.key,
                    c->failing, now_s() - since);
            stall_clear(c, since);
            c->state = CONSUMER_RUNNING;
            after_commit(c, b);
            return 0;
        }
        if (rc == SINK_STALE) {
            stall_clear(c, since);
            stats_stale(c->stats);
            on_stale(c, b);
            return 0;
        }
        if (rc == SINK_PAUSED) {
            stall_clear(c, since);
            if (while_paused(c) != 0)
                return -1;
            since = now_s(); /* waiting while paused is no failure */
            continue;
        }
        if (c->state == CONSUMER_PAUSED) {
            LOG(LOG_INFO, "projection=%s resumed", c->gen.key);
            c->state = CONSUMER_RUNNING;
        }
        if (after_failure(c, b, rc, err, since, &backoff, max) != 0)
            return -1;
    }
}

static void log_progress(consumer_t *c, double *last)
{
    double t = now_s();
    if (t - *last < 10)
        return;
    stats_set_rate(c->stats, (double)c->since_log / (t - *last));
    if (!c->since_log) {
        *last = t;
        return;
    }
    LOG(LOG_INFO,
        "projection=%s applied=%llu skipped=%llu dead_lettered=%llu rows_written=%llu "
        "events/s=%.0f",
        c->gen.key, (unsigned long long)c->applied, (unsigned long long)c->skipped,
        (unsigned long long)c->dead, (unsigned long long)sink_pg_rows_written(c->sink),
        (double)c->since_log / (t - *last));
    c->since_log = 0;
    *last = t;
}

/* While idle, checks every second that the stored positions of the assigned partitions are
 * still what this worker expects: a rebuild (or another instance) may have moved them without
 * a batch of ours noticing. When one moved, everything is re-read from the stored positions. */
static void check_idle(consumer_t *c, double *last)
{
    double t = now_s();
    if (t - *last < 1)
        return;
    *last = t;
    size_t n = fetcher_assigned(c->fetcher, c->pos, generation_batch_max(&c->gen, c->cfg));
    if (!n)
        return;
    int64_t *was = xcalloc(n, sizeof(*was));
    for (size_t i = 0; i < n; i++)
        was[i] = c->pos[i].expected;
    char err[512];
    int moved = 0;
    if (sink_pg_positions(c->sink, c->pos, n, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (c->pos[i].expected == was[i])
                continue;
            moved = 1;
            if (c->gen.number && c->pos[i].expected == EVENT_POS_NO_ROW) {
                build_row_gone(c, c->pos[i].topic, c->pos[i].partition);
                continue;
            }
            LOG(LOG_WARN,
                "projection=%s topic=%s partition=%d stored position moved from %lld to %lld "
                "(a rebuild, or another instance): re-reading from it",
                c->gen.key, c->pos[i].topic, c->pos[i].partition, (long long)was[i],
                (long long)c->pos[i].expected);
            fetcher_advance(c->fetcher, c->pos[i].topic, c->pos[i].partition, c->pos[i].expected);
        }
    }
    if (moved) {
        load_replay(c); /* a rebuild in place may be what moved them */
        fetcher_rewind(c->fetcher);
    }
    free(was);
}

/* How often a worker records itself in projector.instances (seconds); a record lives three
 * times as long. */
#define INSTANCE_REFRESH_S 5

/* Every few seconds: records in projector.instances that this instance consumes the
 * projection, with the partitions assigned to it (best effort). */
static void note_instance(consumer_t *c, double *last)
{
    double t = now_s();
    if (*last > 0 && t - *last < INSTANCE_REFRESH_S)
        return;
    *last = t;
    size_t n = fetcher_assigned(c->fetcher, c->pos, generation_batch_max(&c->gen, c->cfg));
    strbuf_t parts = STRBUF_INIT;
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&parts, "%s%s/%d", i ? "," : "", c->pos[i].topic, (int)c->pos[i].partition);
    if (sink_pg_instance_note(c->sink, c->instance, parts.data ? parts.data : "",
                              INSTANCE_REFRESH_S * 3000) != 0)
        LOG(LOG_DEBUG, "projection=%s projector.instances not written", c->gen.key);
    strbuf_free(&parts);
    load_replay(c); /* a rebuild in place requested meanwhile */
}

int consumer_run(consumer_t *c, const atomic_int *stop)
{
    c->stop = stop;
    c->state = CONSUMER_STARTING;
    char name[16]; /* what top -H and perf show: "apply <projection>", cut to 15 bytes */
    snprintf(name, sizeof(name), "apply %s", c->gen.key);
    pthread_setname_np(pthread_self(), name);
    if (fetcher_start(c->fetcher) != 0) {
        c->state = CONSUMER_FAILED;
        stats_set_failed(c->stats);
        return -1;
    }
    double last_log = now_s(), last_check = last_log, last_note = 0;
    int wait = (int)config_int(c->cfg, CFG_BATCH_WAIT_MS);
    while (!atomic_load(stop)) {
        fetch_batch_t *b = fetcher_next(c->fetcher, wait);
        if (b) {
            c->state = c->state == CONSUMER_STARTING ? CONSUMER_RUNNING : c->state;
            apply_batch(c, b);
            fetcher_release(c->fetcher, b);
            last_check = now_s();
        } else {
            check_idle(c, &last_check);
        }
        note_instance(c, &last_note);
        log_progress(c, &last_log);
    }
    LOG(LOG_INFO,
        "projection=%s stopping: applied=%llu skipped=%llu dead_lettered=%llu "
        "rows_written=%llu latency_ms_p50=%.0f latency_ms_p99=%.0f",
        c->gen.key, (unsigned long long)c->applied, (unsigned long long)c->skipped,
        (unsigned long long)c->dead, (unsigned long long)sink_pg_rows_written(c->sink),
        latency_quantile(c, 0.50), latency_quantile(c, 0.99));
    if (c->stalled && sink_pg_stall_clear(c->sink, c->instance) != 0)
        LOG(LOG_DEBUG, "projection=%s projector.stalls not cleared (it expires)", c->gen.key);
    if (sink_pg_instance_clear(c->sink, c->instance) != 0)
        LOG(LOG_DEBUG, "projection=%s projector.instances not cleared (it expires)", c->gen.key);
    fetcher_stop(c->fetcher);
    c->state = CONSUMER_STOPPED;
    return 0;
}
