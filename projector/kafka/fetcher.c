/* A projection's Kafka side, on its own thread: group membership, fetching, decoding batches.
 *
 * Decoding (JSON parsing) and freeing run here while the applier thread has PostgreSQL apply
 * the previous batch, so the two overlap. Batches carry a generation: a rebalance or a rewind
 * starts a new one, and batches of an older generation are dropped, never applied. Everything
 * fetched after a rewind starts at the stored positions, so each partition's stream stays
 * contiguous from what PostgreSQL holds.
 *
 * Each batch is stamped, when it is cut, with the positions it moves: per partition, where the
 * previous batch of the same generation ended, or the stored position the fetch (re)started
 * from; the applier's commit holds only where PostgreSQL still stores exactly that. */
#include "fetcher.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "decode.h"
#include "fetch_decode.h"
#include "json_alloc.h"
#include "kafka_conf.h"
#include "log.h"
#include "xalloc.h"

#define FETCH_BATCHES 4 /* one being filled, up to two ready, one being applied */
/* A build generation's batches are larger (rebuild.batch.max.events): it holds two, one being
 * filled while the other is applied, so that its memory stays near a live worker's. */
#define BUILD_BATCHES 2

/* Where a batch buffer is. */
typedef enum {
    BATCH_FREE,    /* empty: the fetching thread may take it */
    BATCH_FILLING, /* being polled into and decoded on the fetching thread */
    BATCH_READY,   /* decoded, in the FIFO for the applier */
    BATCH_LENT,    /* with the applier, from fetcher_next() to fetcher_release() */
} batch_state_t;

typedef struct part_state {
    char *topic;
    int32_t partition;
    int64_t expected; /* next offset stored in PostgreSQL (EVENT_POS_NONE: start at the
                         earliest; EVENT_POS_NO_ROW: not part of this build) */
    int64_t cut;      /* where the next batch of the partition starts: the end of the last one
                         cut, or the stored position the fetch (re)started from */
} part_state_t;

struct fetcher {
    const config_t *cfg;
    const mapping_t *m;
    fetch_decoder_t *dec; /* the topics' format, on the decode workers */
    generation_t gen;     /* consumer group, positions key and log label */
    rd_kafka_t *rk;
    fetcher_positions_fn read_positions; /* on assignment, on the fetching thread */
    void *positions_ctx;
    size_t cap; /* events per batch */
    pthread_t thread;
    int running;
    int joined; /* the first assignment arrived (logged once) */
    atomic_int stop;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cond;
    part_state_t *parts;
    size_t nparts;
    uint64_t generation;
    int rewind; /* the applier asked for a rewind */
    fetch_batch_t batches[FETCH_BATCHES];
    fetch_batch_t *ready[FETCH_BATCHES]; /* FIFO of decoded batches */
    size_t nready;
    batch_state_t state[FETCH_BATCHES];
    int nbatches; /* of batches[] in use: FETCH_BATCHES, or BUILD_BATCHES for a build */
};

/* ---- partition state (call with mu held) ---- */

static part_state_t *find_part(fetcher_t *f, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < f->nparts; i++)
        if (f->parts[i].partition == partition && strcmp(f->parts[i].topic, topic) == 0)
            return &f->parts[i];
    return NULL;
}

static void set_part(fetcher_t *f, const char *topic, int32_t partition, int64_t expected)
{
    part_state_t *p = find_part(f, topic, partition);
    if (!p) {
        f->parts = xrealloc(f->parts, (f->nparts + 1) * sizeof(*f->parts));
        p = &f->parts[f->nparts++];
        p->topic = xstrdup(topic);
        p->partition = partition;
    }
    p->expected = expected;
    p->cut = expected;
}

static void remove_part(fetcher_t *f, const char *topic, int32_t partition)
{
    part_state_t *p = find_part(f, topic, partition);
    if (!p)
        return;
    free(p->topic);
    *p = f->parts[--f->nparts];
}

/* The next offset stored for a partition, as this instance believes; returns 0, or -1 when the
 * partition is not assigned here any more. */
static int expected_of(fetcher_t *f, const char *topic, int32_t partition, int64_t *expected)
{
    pthread_mutex_lock(&f->mu);
    part_state_t *p = find_part(f, topic, partition);
    if (p)
        *expected = p->expected;
    pthread_mutex_unlock(&f->mu);
    return p ? 0 : -1;
}

int fetcher_current(fetcher_t *f, const fetch_batch_t *b)
{
    pthread_mutex_lock(&f->mu);
    int current = b->generation == f->generation;
    pthread_mutex_unlock(&f->mu);
    return current;
}

/* event_cut_fn over the fetcher's partitions (mu held). */
static int cut_of(void *ctx, const char *topic, int32_t partition, int64_t *cut)
{
    part_state_t *ps = find_part(ctx, topic, partition);
    if (ps)
        *cut = ps->cut;
    return ps ? 0 : -1;
}

/* Stamps b with the positions of its partitions and moves their cut past it (mu held). Returns
 * 0, or -1 when one of its partitions is no longer assigned here, or when its offsets do not
 * follow on from the last batch cut (and on within the batch): librdkafka 2.0 can deliver a
 * partition's messages again after a resume (its issue #4637); such a batch is dropped and
 * everything is read again from the stored positions, so no event is applied twice. */
static int stamp_positions(fetcher_t *f, fetch_batch_t *b)
{
    size_t at = 0;
    event_stamp_t st = event_positions_stamp(b->events, b->n, b->pos, &b->npos, cut_of, f, &at);
    if (st == EVENT_STAMP_UNASSIGNED)
        return -1;
    if (st == EVENT_STAMP_AGAIN) {
        const mapping_event_t *ev = &b->events[at].ev;
        int64_t after = EVENT_POS_NONE;
        for (size_t k = 0; k < b->npos; k++)
            if (b->pos[k].partition == ev->partition && strcmp(b->pos[k].topic, ev->topic) == 0)
                after = b->pos[k].next;
        LOG(LOG_WARN,
            "projection=%s topic=%s partition=%d offset %lld delivered again after %lld: "
            "reading again from the stored positions",
            f->gen.key, ev->topic, ev->partition, (long long)ev->offset, (long long)after);
        f->generation++;
        f->rewind = 1;
        return -1;
    }
    for (size_t k = 0; k < b->npos; k++)
        find_part(f, b->pos[k].topic, b->pos[k].partition)->cut = b->pos[k].next;
    return 0;
}

void fetcher_advance(fetcher_t *f, const char *topic, int32_t partition, int64_t next)
{
    pthread_mutex_lock(&f->mu);
    part_state_t *p = find_part(f, topic, partition);
    if (p)
        p->expected = next;
    pthread_mutex_unlock(&f->mu);
}

void fetcher_rewind(fetcher_t *f)
{
    pthread_mutex_lock(&f->mu);
    f->generation++;
    f->rewind = 1;
    pthread_mutex_unlock(&f->mu);
}

size_t fetcher_assigned(fetcher_t *f, event_position_t *pos, size_t max)
{
    pthread_mutex_lock(&f->mu);
    size_t n = 0;
    for (; n < f->nparts && n < max; n++) {
        memset(&pos[n], 0, sizeof(pos[n]));
        pos[n].topic = f->parts[n].topic;
        pos[n].partition = f->parts[n].partition;
        pos[n].expected = f->parts[n].expected;
    }
    pthread_mutex_unlock(&f->mu);
    return n;
}

void fetcher_commit(fetcher_t *f, rd_kafka_topic_partition_list_t *offsets)
{
    rd_kafka_commit(f->rk, offsets, 1);
}

/* ---- assignment (on the fetching thread, inside poll) ---- */

/* Reads the stored positions of list's partitions (retrying while the database is down), sets
 * them as the list's offsets and records them. Returns 0, or -1 when stopped first. */
static int load_positions(fetcher_t *f, rd_kafka_topic_partition_list_t *list)
{
    event_position_t *pos = xcalloc((size_t)list->cnt + 1, sizeof(*pos));
    for (int i = 0; i < list->cnt; i++) {
        pos[i].topic = list->elems[i].topic;
        pos[i].partition = list->elems[i].partition;
    }
    char err[1024];
    long backoff = 100, max = (long)config_int(f->cfg, CFG_RETRY_BACKOFF_MAX_MS);
    while (f->read_positions(f->positions_ctx, pos, (size_t)list->cnt, err, sizeof(err)) != 0) {
        if (atomic_load(&f->stop)) {
            free(pos);
            return -1;
        }
        LOG(LOG_WARN, "projection=%s cannot read stored positions, retrying in %ld ms: %s",
            f->gen.key, backoff, err);
        backoff_nap(&f->stop, backoff);
        backoff = backoff_next(backoff, max);
    }
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &list->elems[i];
        tp->offset = pos[i].expected >= 0 ? pos[i].expected : RD_KAFKA_OFFSET_BEGINNING;
        set_part(f, tp->topic, tp->partition, pos[i].expected);
    }
    pthread_mutex_unlock(&f->mu);
    for (int i = 0; i < list->cnt; i++) {
        if (pos[i].expected >= 0)
            LOG(LOG_INFO, "projection=%s topic=%s partition=%d assigned, resuming at offset %lld",
                f->gen.key, pos[i].topic, pos[i].partition, (long long)pos[i].expected);
        else
            LOG(LOG_INFO,
                "projection=%s topic=%s partition=%d assigned, nothing applied yet: "
                "starting at the earliest offset",
                f->gen.key, pos[i].topic, pos[i].partition);
    }
    free(pos);
    return 0;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *list, void *opaque)
{
    fetcher_t *f = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    pthread_mutex_lock(&f->mu);
    f->generation++; /* whatever was fetched is re-read from the stored positions */
    pthread_mutex_unlock(&f->mu);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (!f->joined) /* the brokers answered: the group has this member now */
            LOG(LOG_INFO, "projection=%s joined group %s: %d partition(s) assigned", f->gen.key,
                f->gen.group, list->cnt);
        f->joined = 1;
        if (load_positions(f, list) != 0)
            return;
        if (cooperative)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, list));
        else
            rd_kafka_assign(rk, list);
        return;
    }
    LOG(LOG_INFO, "projection=%s %d partition(s) revoked", f->gen.key, list->cnt);
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < list->cnt; i++)
        remove_part(f, list->elems[i].topic, list->elems[i].partition);
    pthread_mutex_unlock(&f->mu);
    if (cooperative)
        rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, list));
    else
        rd_kafka_assign(rk, NULL);
}

/* Seeks every assigned partition to its recorded stored position. */
static void seek_to_stored(fetcher_t *f)
{
    pthread_mutex_lock(&f->mu);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)f->nparts + 1);
    for (size_t i = 0; i < f->nparts; i++) {
        rd_kafka_topic_partition_list_add(l, f->parts[i].topic, f->parts[i].partition)->offset =
            f->parts[i].expected >= 0 ? f->parts[i].expected : RD_KAFKA_OFFSET_BEGINNING;
        f->parts[i].cut = f->parts[i].expected;
    }
    pthread_mutex_unlock(&f->mu);
    if (l->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(f->rk, l, 10000);
        if (e) {
            LOG(LOG_WARN, "projection=%s seek: %s", f->gen.key, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- batches ---- */

/* Empties b. Its parsed values were allocated in its arena (json_alloc.h) when the allocator is
 * installed: they go with the arena, with nothing to free one by one. */
static void clear_batch(fetch_batch_t *b)
{
    int in_arena = json_alloc_installed();
    for (size_t i = 0; i < b->n; i++) {
        if (!in_arena)
            json_decref(b->events[i].ev.doc);
        b->events[i].ev.doc = NULL;
        rd_kafka_message_destroy(b->msgs[i]);
    }
    b->n = 0;
    for (int w = 0; b->arenas && b->arenas[w]; w++)
        arena_reset(b->arenas[w]);
}

/* Returns a free batch, marked as being filled (call with mu held), or NULL when none is. */
static fetch_batch_t *find_free(fetcher_t *f)
{
    for (int i = 0; i < f->nbatches; i++) {
        if (f->state[i] == BATCH_FREE) {
            f->state[i] = BATCH_FILLING;
            f->batches[i].generation = f->generation;
            return &f->batches[i];
        }
    }
    return NULL;
}

/* Pauses (pause=1) or resumes every partition assigned to this consumer. */
static void pause_assigned(fetcher_t *f, int pause)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(f->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR || !l)
        return;
    if (l->cnt)
        pause ? rd_kafka_pause_partitions(f->rk, l) : rd_kafka_resume_partitions(f->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* While every batch waits for the applier (the database is down, say), the partitions are
 * paused and the consumer is still polled, so it stays in the group and serves rebalances
 * without buffering more. A message that arrives anyway is dropped, and what was fetched is
 * then read again from the stored positions. */
static void wait_paused(fetcher_t *f)
{
    LOG(LOG_INFO, "projection=%s every batch waits for the database: partitions paused",
        f->gen.key);
    pause_assigned(f, 1);
    int dropped = 0;
    for (;;) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(f->rk, 100);
        if (msg) {
            dropped |= !msg->err;
            rd_kafka_message_destroy(msg);
        }
        pthread_mutex_lock(&f->mu);
        int free_one = 0;
        for (int i = 0; i < f->nbatches; i++)
            free_one |= f->state[i] == BATCH_FREE;
        if (free_one || atomic_load(&f->stop)) {
            if (dropped) { /* batches fetched before what was dropped are dropped too */
                f->generation++;
                f->rewind = 1;
            }
            pthread_mutex_unlock(&f->mu);
            break;
        }
        pthread_mutex_unlock(&f->mu);
    }
    pause_assigned(f, 0);
    LOG(LOG_INFO, "projection=%s partitions resumed", f->gen.key);
}

/* Polls the paused consumer for about ms (staying in the group, serving rebalances), dropping
 * what arrives anyway; returns 1 when something was dropped. Outside any json_alloc.h scope. */
static int poll_paused(fetcher_t *f, long ms)
{
    int dropped = 0;
    struct timespec end = backoff_deadline(CLOCK_MONOTONIC, ms), now;
    do {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(f->rk, 100);
        if (msg) {
            dropped |= !msg->err;
            rd_kafka_message_destroy(msg);
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (!atomic_load(&f->stop) &&
             (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec)));
    return dropped;
}

/* Decodes b's message i into its event, waiting while the decoder cannot decide (the schema
 * registry unreachable: retriable). Meanwhile the partitions are paused and nothing further is
 * consumed; the message is decoded again after a backoff, so partition order holds. Logged
 * once per outage. Returns 0, or -1 when stopped or when b went stale while waiting (a
 * rebalance; or a message that arrived anyway was dropped): b is then dropped and everything is
 * read again from the stored positions. Call inside b's json_alloc.h scope. */
static int decode_waiting(fetcher_t *f, fetch_batch_t *b, size_t i)
{
    event_t *e = &b->events[i];
    if (fetch_decode_one(f->dec, b->msgs[i], e, b->arena) == EVENT_DECODE_OK)
        return 0;
    LOG(LOG_WARN,
        "projection=%s topic=%s partition=%d offset=%lld %s; waiting, consuming nothing further",
        f->gen.key, e->ev.topic, e->ev.partition, (long long)e->ev.offset, e->error);
    long backoff = 100, max = (long)config_int(f->cfg, CFG_RETRY_BACKOFF_MAX_MS);
    int rc = 0, dropped = 0;
    arena_t *scope = json_alloc_use(NULL); /* polling may serve a rebalance */
    pause_assigned(f, 1);
    for (;;) {
        dropped |= poll_paused(f, backoff_jitter(backoff));
        if (atomic_load(&f->stop) || dropped || !fetcher_current(f, b)) {
            rc = -1;
            break;
        }
        json_alloc_use(scope);
        event_decode_status_t st = fetch_decode_one(f->dec, b->msgs[i], e, b->arena);
        json_alloc_use(NULL);
        if (st == EVENT_DECODE_OK)
            break;
        backoff = backoff_next(backoff, max);
    }
    pause_assigned(f, 0);
    json_alloc_use(scope);
    if (rc != 0) { /* what was fetched is read again from the stored positions */
        pthread_mutex_lock(&f->mu);
        f->generation++;
        f->rewind = 1;
        pthread_mutex_unlock(&f->mu);
    } else {
        LOG(LOG_INFO, "projection=%s topic=%s partition=%d offset=%lld decoded: going on",
            f->gen.key, e->ev.topic, e->ev.partition, (long long)e->ev.offset);
    }
    return rc;
}

/* Takes a free batch (emptied) to fill, waiting while all are in use: up to 5 s as is, then
 * with the partitions paused. NULL when stopping. */
static fetch_batch_t *take_free(fetcher_t *f)
{
    fetch_batch_t *b = NULL;
    for (int waited = 0; !b; waited++) {
        pthread_mutex_lock(&f->mu);
        b = find_free(f);
        if (!b && !atomic_load(&f->stop) && waited < 50) {
            struct timespec ts = backoff_deadline(CLOCK_REALTIME, 100);
            pthread_cond_timedwait(&f->cond, &f->mu, &ts);
            b = find_free(f);
        }
        int stop = atomic_load(&f->stop);
        pthread_mutex_unlock(&f->mu);
        if (b || stop)
            break;
        if (waited >= 50) /* 5 s: the applier is not just busy */
            wait_paused(f);
    }
    if (b)
        clear_batch(b);
    return b;
}

static void set_state(fetcher_t *f, fetch_batch_t *b, batch_state_t state)
{
    f->state[b - f->batches] = state;
}

/* Is b still of the current generation (no rebalance, no rewind asked for since it began)? */
static int still_current(fetcher_t *f, fetch_batch_t *b)
{
    pthread_mutex_lock(&f->mu);
    int current = b->generation == f->generation && !f->rewind;
    f->rewind = 0;
    pthread_mutex_unlock(&f->mu);
    return current;
}

/* Polls into b: waits for the first message, then takes what is ready. Returns 0, or -1 when
 * the batch became stale (rebalance or rewind) while filling. */
static int gather(fetcher_t *f, fetch_batch_t *b)
{
    int wait = (int)config_int(f->cfg, CFG_BATCH_WAIT_MS);
    while (b->n < f->cap && !atomic_load(&f->stop)) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(f->rk, b->n ? 0 : wait);
        if (!still_current(f, b)) {
            if (msg)
                rd_kafka_message_destroy(msg);
            return -1;
        }
        if (!msg)
            break;
        if (msg->err) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                LOG(LOG_WARN, "projection=%s topic=%s partition=%d consume error: %s", f->gen.key,
                    msg->rkt ? rd_kafka_topic_name(msg->rkt) : "-", msg->partition,
                    rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
            continue;
        }
        int64_t expected;
        if (expected_of(f, rd_kafka_topic_name(msg->rkt), msg->partition, &expected) != 0 ||
            expected == EVENT_POS_NO_ROW || (expected >= 0 && msg->offset < expected)) {
            /* not ours, not part of this build (no position row), or already applied */
            rd_kafka_message_destroy(msg);
            continue;
        }
        b->msgs[b->n++] = msg;
    }
    return 0;
}

static void *fetch_main(void *arg)
{
    fetcher_t *f = arg;
    char name[16]; /* what top -H and perf show: "fetch <projection>", cut to 15 bytes */
    snprintf(name, sizeof(name), "fetch %s", f->gen.key);
    pthread_setname_np(pthread_self(), name);
    while (!atomic_load(&f->stop)) {
        fetch_batch_t *b = take_free(f);
        if (!b)
            break;
        int stale = gather(f, b) != 0;
        if (stale) /* what was fetched since the stored positions is dropped: read it again */
            seek_to_stored(f);
        int ok = !stale && b->n > 0;
        if (ok)
            fetch_decode_batch(f->dec, b);
        for (size_t i = 0; ok && i < b->n; i++) { /* in order: what could not be decided */
            if (!b->events[i].retry)
                continue;
            arena_t *was = json_alloc_use(b->arena);
            ok = decode_waiting(f, b, i) == 0;
            json_alloc_use(was);
            if (ok)
                event_evaluate(&b->events[i], f->m, b->arena);
        }
        pthread_mutex_lock(&f->mu);
        if (ok && b->generation == f->generation && stamp_positions(f, b) == 0) {
            set_state(f, b, BATCH_READY);
            f->ready[f->nready++] = b;
            pthread_cond_broadcast(&f->cond);
        } else {
            set_state(f, b, BATCH_FREE);
        }
        pthread_mutex_unlock(&f->mu);
    }
    LOG(LOG_INFO, "projection=%s leaving the group", f->gen.key);
    rd_kafka_consumer_close(f->rk);
    return NULL;
}

fetch_batch_t *fetcher_next(fetcher_t *f, int timeout_ms)
{
    struct timespec ts = backoff_deadline(CLOCK_REALTIME, timeout_ms);
    fetch_batch_t *b = NULL;
    pthread_mutex_lock(&f->mu);
    while (!b) {
        while (!f->nready && !atomic_load(&f->stop))
            if (pthread_cond_timedwait(&f->cond, &f->mu, &ts) != 0)
                break;
        if (!f->nready)
            break;
        b = f->ready[0];
        memmove(f->ready, f->ready + 1, --f->nready * sizeof(f->ready[0]));
        if (b->generation != f->generation) {
            set_state(f, b, BATCH_FREE); /* from before a rebalance or rewind */
            b = NULL;
        } else {
            set_state(f, b, BATCH_LENT);
        }
    }
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
    return b;
}

void fetcher_release(fetcher_t *f, fetch_batch_t *b)
{
    pthread_mutex_lock(&f->mu);
    set_state(f, b, BATCH_FREE);
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
}

/* ---- life cycle ---- */

fetcher_t *fetcher_new(const config_t *cfg, const mapping_t *m, const generation_t *gen,
                       fetcher_positions_fn read_positions, void *ctx, char *errstr,
                       size_t errstr_size)
{
    fetcher_t *f = xcalloc(1, sizeof(*f));
    f->cfg = cfg;
    f->m = m;
    f->gen = *gen;
    f->cap = generation_batch_max(gen, cfg);
    f->nbatches = gen->number ? BUILD_BATCHES : FETCH_BATCHES;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->read_positions = read_positions;
    f->positions_ctx = ctx;
    f->dec = fetch_decoder_new(cfg, m, gen->key, errstr, errstr_size);
    if (!f->dec)
        goto fail;
    int workers = fetch_decoder_workers(f->dec);
    for (int i = 0; i < FETCH_BATCHES; i++) {
        fetch_batch_t *b = &f->batches[i];
        b->msgs = xcalloc(f->cap, sizeof(rd_kafka_message_t *));
        b->events = xcalloc(f->cap, sizeof(event_t));
        b->pos = xcalloc(f->cap, sizeof(event_position_t));
        b->arenas = xcalloc((size_t)workers + 1, sizeof(arena_t *)); /* NULL-terminated */
        for (int w = 0; w < workers; w++)
            b->arenas[w] = arena_new();
        b->arena = b->arenas[0];
    }
    const char *group = gen->group;
    /* fetch.wait.max.ms: how long a broker may hold a fetch while it has nothing new. A broker
     * answers as soon as data arrives, but librdkafka's embedded (mock) broker only at the end
     * of the wait, which then is the event-to-row latency at low load; 10 ms keeps it low there
     * and costs an idle consumer about 100 small fetches a second. */
    const kafka_prop_t defaults[] = {
        {"queued.max.messages.kbytes", "16384"}, {"fetch.wait.max.ms", "10"}, {NULL, NULL}};
    const kafka_prop_t forced[] = {{"group.id", group},
                                   {"enable.auto.commit", "false"},
                                   {"enable.auto.offset.store", "false"},
                                   {"auto.offset.reset", "earliest"},
                                   {"enable.partition.eof", "false"},
                                   {NULL, NULL}};
    rd_kafka_conf_t *conf =
        kafka_conf_new(cfg, KAFKA_CONF_CONSUMER, defaults, forced, errstr, errstr_size);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, f);
    f->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!f->rk) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_poll_set_consumer(f->rk);
    return f;
fail:
    fetcher_destroy(f);
    return NULL;
}

int fetcher_start(fetcher_t *f)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)mapping_topic_count(f->m));
    for (size_t i = 0; i < mapping_topic_count(f->m); i++)
        rd_kafka_topic_partition_list_add(l, mapping_topic(f->m, i), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(f->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        LOG(LOG_ERROR, "projection=%s subscribe: %s", f->gen.key, rd_kafka_err2str(err));
        return -1;
    }
    if (pthread_create(&f->thread, NULL, fetch_main, f) != 0) {
        LOG(LOG_ERROR, "projection=%s cannot start the fetching thread", f->gen.key);
        return -1;
    }
    f->running = 1;
    LOG(LOG_INFO,
        "projection=%s subscribed as group %s; waiting for the brokers to assign partitions",
        f->gen.key, f->gen.group);
    return 0;
}

void fetcher_stop(fetcher_t *f)
{
    if (!f->running)
        return;
    pthread_mutex_lock(&f->mu);
    atomic_store(&f->stop, 1);
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    f->running = 0;
}

void fetcher_destroy(fetcher_t *f)
{
    if (!f)
        return;
    fetcher_stop(f);
    for (int i = 0; i < FETCH_BATCHES; i++) {
        fetch_batch_t *b = &f->batches[i];
        clear_batch(b);
        free(b->msgs);
        free(b->events);
        free(b->pos);
        for (int w = 0; b->arenas && b->arenas[w]; w++)
            arena_destroy(b->arenas[w]);
        free(b->arenas);
    }
    if (f->rk)
        rd_kafka_destroy(f->rk);
    for (size_t i = 0; i < f->nparts; i++)
        free(f->parts[i].topic);
    free(f->parts);
    fetch_decoder_destroy(f->dec);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->mu);
    free(f);
}
