/* A projection worker: consumes its topics as a group member and applies batches exactly once.
 *
 * The positions stored in PostgreSQL are the truth: on assignment the worker seeks to them, and
 * a batch commits only where they still hold what the worker expects (sink_pg). Offsets are
 * committed to Kafka afterwards, for lag tools only. */
#include "consumer.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "dlq.h"
#include "kafka_conf.h"
#include "log.h"
#include "sink_pg.h"

typedef struct part_state {
    char *topic;
    int32_t partition;
    int64_t expected; /* next offset stored in PostgreSQL; -1: none (start at the earliest) */
} part_state_t;

struct consumer {
    const config_t *cfg;
    const mapping_t *m;
    rd_kafka_t *rk;
    sink_pg_t *sink;
    dlq_t *dlq;
    char **dlq_topics; /* per mapping topic */
    part_state_t *parts;
    size_t nparts;
    int dropped; /* a rebalance invalidated the batch being gathered */
    volatile sig_atomic_t *stop;
    consumer_state_t state;
    /* the batch */
    rd_kafka_message_t **msgs;
    plan_event_t *events;
    sink_position_t *pos;
    size_t nmsgs, npos, cap;
    arena_t *arena;
    /* progress */
    uint64_t applied, skipped, dead, since_log;
    time_t last_log, last_retry_log;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps ms milliseconds in slices, returning early when a stop is requested. */
static void nap(consumer_t *c, long ms)
{
    while (ms > 0 && !*c->stop) {
        long slice = ms > 100 ? 100 : ms;
        usleep((useconds_t)slice * 1000);
        ms -= slice;
    }
}

/* ---- assignment ---- */

static part_state_t *find_part(consumer_t *c, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < c->nparts; i++)
        if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
            return &c->parts[i];
    return NULL;
}

static void clear_parts(consumer_t *c)
{
    for (size_t i = 0; i < c->nparts; i++)
        free(c->parts[i].topic);
    c->nparts = 0;
}

/* Reads the stored positions of list's partitions (retrying while the database is down) and
 * sets them as the list's offsets. Returns 0, or -1 when stopped first. */
static int load_positions(consumer_t *c, rd_kafka_topic_partition_list_t *list)
{
    sink_position_t *pos = calloc((size_t)list->cnt + 1, sizeof(*pos));
    if (!pos)
        abort();
    for (int i = 0; i < list->cnt; i++) {
        pos[i].topic = list->elems[i].topic;
        pos[i].partition = list->elems[i].partition;
    }
    char err[1024];
    long backoff = 100;
    while (sink_pg_positions(c->sink, pos, (size_t)list->cnt, err, sizeof(err)) != 0) {
        if (*c->stop) {
            free(pos);
            return -1;
        }
        LOG(LOG_WARN, "projection=%s cannot read stored positions, retrying in %ld ms: %s",
            mapping_name(c->m), backoff, err);
        nap(c, backoff);
        backoff = backoff * 2 > config_int(c->cfg, CFG_RETRY_BACKOFF_MAX_MS)
                      ? config_int(c->cfg, CFG_RETRY_BACKOFF_MAX_MS)
                      : backoff * 2;
    }
    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &list->elems[i];
        tp->offset = pos[i].expected >= 0 ? pos[i].expected : RD_KAFKA_OFFSET_BEGINNING;
        part_state_t *p = find_part(c, tp->topic, tp->partition);
        if (!p) {
            c->parts = realloc(c->parts, (c->nparts + 1) * sizeof(*c->parts));
            if (!c->parts)
                abort();
            p = &c->parts[c->nparts++];
            p->topic = strdup(tp->topic);
            p->partition = tp->partition;
        }
        p->expected = pos[i].expected;
        if (pos[i].expected >= 0)
            LOG(LOG_INFO, "projection=%s topic=%s partition=%d assigned, resuming at offset %lld",
                mapping_name(c->m), tp->topic, tp->partition, (long long)pos[i].expected);
        else
            LOG(LOG_INFO,
                "projection=%s topic=%s partition=%d assigned, nothing applied yet: "
                "starting at the earliest offset",
                mapping_name(c->m), tp->topic, tp->partition);
    }
    free(pos);
    return 0;
}

static void remove_parts(consumer_t *c, const rd_kafka_topic_partition_list_t *list)
{
    for (int i = 0; i < list->cnt; i++) {
        part_state_t *p = find_part(c, list->elems[i].topic, list->elems[i].partition);
        if (!p)
            continue;
        free(p->topic);
        *p = c->parts[--c->nparts];
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *list, void *opaque)
{
    consumer_t *c = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (c->nmsgs)
        c->dropped = 1; /* the batch in hand is re-read from the stored positions */
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (load_positions(c, list) != 0)
            return;
        if (cooperative)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, list));
        else
            rd_kafka_assign(rk, list);
    } else {
        LOG(LOG_INFO, "projection=%s %d partition(s) revoked", mapping_name(c->m), list->cnt);
        if (cooperative) {
            remove_parts(c, list);
            rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, list));
        } else {
            clear_parts(c);
            rd_kafka_assign(rk, NULL);
        }
    }
}

/* Seeks every assigned partition back to its stored position (after a dropped batch). */
static void rewind_assigned(consumer_t *c)
{
    if (!c->nparts)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)c->nparts);
    for (size_t i = 0; i < c->nparts; i++)
        rd_kafka_topic_partition_list_add(l, c->parts[i].topic, c->parts[i].partition)->offset =
            c->parts[i].expected >= 0 ? c->parts[i].expected : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, l, 10000);
    if (e) {
        LOG(LOG_WARN, "projection=%s seek: %s", mapping_name(c->m), rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- construction ---- */

consumer_t *consumer_new(const config_t *cfg, const mapping_t *m, char *errstr, size_t errstr_size)
{
    consumer_t *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->cfg = cfg;
    c->m = m;
    c->arena = arena_new();
    c->cap = (size_t)config_int(cfg, CFG_BATCH_MAX_EVENTS);
    c->msgs = calloc(c->cap, sizeof(*c->msgs));
    c->events = calloc(c->cap, sizeof(*c->events));
    c->pos = calloc(c->cap, sizeof(*c->pos));
    c->dlq_topics = calloc(mapping_topic_count(m), sizeof(char *));
    if (!c->msgs || !c->events || !c->pos || !c->dlq_topics)
        abort();
    for (size_t i = 0; i < mapping_topic_count(m); i++) {
        char t[512];
        snprintf(t, sizeof(t), "%s%s", mapping_topic(m, i), config_str(cfg, CFG_DLQ_SUFFIX));
        c->dlq_topics[i] = strdup(mapping_dlq_topic(m) ? mapping_dlq_topic(m) : t);
    }
    c->sink = sink_pg_new(config_str(cfg, CFG_PG), m);
    c->dlq = dlq_new(cfg, mapping_name(m), errstr, errstr_size);
    if (!c->dlq)
        goto fail;

    char group[512];
    snprintf(group, sizeof(group), "%s.%s", config_str(cfg, CFG_GROUP), mapping_name(m));
    const kafka_prop_t defaults[] = {
        {"queued.max.messages.kbytes", "16384"}, {"fetch.wait.max.ms", "50"}, {NULL, NULL}};
    const kafka_prop_t forced[] = {{"group.id", group},
                                   {"enable.auto.commit", "false"},
                                   {"enable.auto.offset.store", "false"},
                                   {"auto.offset.reset", "earliest"},
                                   {"enable.partition.eof", "false"},
                                   {NULL, NULL}};
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, forced, errstr, errstr_size);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, c);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_poll_set_consumer(c->rk);
    return c;
fail:
    consumer_destroy(c);
    return NULL;
}

void consumer_destroy(consumer_t *c)
{
    if (!c)
        return;
    if (c->rk)
        rd_kafka_destroy(c->rk);
    dlq_destroy(c->dlq);
    sink_pg_destroy(c->sink);
    clear_parts(c);
    free(c->parts);
    for (size_t i = 0; i < mapping_topic_count(c->m); i++)
        free(c->dlq_topics[i]);
    free(c->dlq_topics);
    free(c->msgs);
    free(c->events);
    free(c->pos);
    arena_destroy(c->arena);
    free(c);
}

consumer_state_t consumer_state(const consumer_t *c)
{
    return c->state;
}

/* ---- one batch ---- */

static const char *dlq_topic_for(const consumer_t *c, const char *topic)
{
    for (size_t i = 0; i < mapping_topic_count(c->m); i++)
        if (strcmp(mapping_topic(c->m, i), topic) == 0)
            return c->dlq_topics[i];
    return c->dlq_topics[0];
}

static void mark_dead(consumer_t *c, plan_event_t *e, const char *why)
{
    e->state = PLAN_DEAD;
    e->stage = "decode";
    e->error = arena_strndup(c->arena, why, strlen(why));
}

/* Fills e from msg: metadata, and the value parsed once. */
static void decode(consumer_t *c, rd_kafka_message_t *msg, plan_event_t *e)
{
    memset(e, 0, sizeof(*e));
    e->source = msg;
    e->ev.topic = rd_kafka_topic_name(msg->rkt);
    e->ev.partition = msg->partition;
    e->ev.offset = msg->offset;
    e->ev.timestamp_ms = rd_kafka_message_timestamp(msg, NULL);
    e->ev.key = msg->key;
    e->ev.key_len = msg->key_len;
    e->value = msg->payload;
    e->value_len = msg->len;
    e->dlq_topic = dlq_topic_for(c, e->ev.topic);
    e->state = PLAN_PENDING;
    char why[512];
    if (msg->len > (size_t)config_int(c->cfg, CFG_MAX_EVENT_BYTES)) {
        snprintf(why, sizeof(why), "the event is %zu bytes, over max.event.bytes (%lld)", msg->len,
                 config_int(c->cfg, CFG_MAX_EVENT_BYTES));
        mark_dead(c, e, why);
        return;
    }
    if (!msg->payload) {
        mark_dead(c, e, "the message has no value (a tombstone)");
        return;
    }
    json_error_t jerr;
    e->ev.doc = json_loadb(msg->payload, msg->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!e->ev.doc) {
        snprintf(why, sizeof(why), "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        mark_dead(c, e, why);
        return;
    }
    if (!json_is_object(e->ev.doc)) {
        mark_dead(c, e, "$: the event is not a JSON object");
        return;
    }
    const char *hname = mapping_type_header(c->m);
    rd_kafka_headers_t *hdrs;
    const void *hv;
    size_t hlen;
    if (hname && rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, hname, &hv, &hlen) == RD_KAFKA_RESP_ERR_NO_ERROR && hv)
        e->ev.type_header = arena_strndup(c->arena, hv, hlen);
}

/* Polls up to batch.max.events messages: waits for the first, then takes what is ready. */
static void gather(consumer_t *c)
{
    int wait = (int)config_int(c->cfg, CFG_BATCH_WAIT_MS);
    while (c->nmsgs < c->cap && !*c->stop) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(c->rk, c->nmsgs ? 0 : wait);
        if (c->dropped && msg)
            rd_kafka_message_destroy(msg);
        if (!msg || c->dropped)
            break;
        if (msg->err) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                LOG(LOG_WARN, "projection=%s topic=%s partition=%d consume error: %s",
                    mapping_name(c->m), msg->rkt ? rd_kafka_topic_name(msg->rkt) : "-",
                    msg->partition, rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
            continue;
        }
        part_state_t *p = find_part(c, rd_kafka_topic_name(msg->rkt), msg->partition);
        if (!p || (p->expected >= 0 && msg->offset < p->expected)) {
            rd_kafka_message_destroy(msg); /* not ours, or already applied */
            continue;
        }
        c->msgs[c->nmsgs++] = msg;
    }
}

static void release_batch(consumer_t *c)
{
    for (size_t i = 0; i < c->nmsgs; i++) {
        json_decref(c->events[i].ev.doc);
        c->events[i].ev.doc = NULL;
        rd_kafka_message_destroy(c->msgs[i]);
    }
    c->nmsgs = c->npos = 0;
    arena_reset(c->arena);
}

static void build_positions(consumer_t *c)
{
    c->npos = 0;
    for (size_t i = 0; i < c->nmsgs; i++) {
        const plan_event_t *e = &c->events[i];
        sink_position_t *p = NULL;
        for (size_t k = 0; k < c->npos && !p; k++)
            if (c->pos[k].partition == e->ev.partition && strcmp(c->pos[k].topic, e->ev.topic) == 0)
                p = &c->pos[k];
        if (!p) {
            p = &c->pos[c->npos++];
            memset(p, 0, sizeof(*p));
            p->topic = e->ev.topic;
            p->partition = e->ev.partition;
            p->expected = find_part(c, e->ev.topic, e->ev.partition)->expected;
        }
        p->next = e->ev.offset + 1;
    }
}

static int on_dead(void *ctx, plan_event_t *events, size_t n)
{
    consumer_t *c = ctx;
    for (size_t i = 0; i < n; i++) {
        const plan_event_t *e = &events[i];
        if (e->state == PLAN_DEAD)
            LOG(LOG_WARN,
                "projection=%s topic=%s partition=%d offset=%lld stage=%s dead-lettered "
                "to %s: %s",
                mapping_name(c->m), e->ev.topic, e->ev.partition, (long long)e->ev.offset, e->stage,
                e->dlq_topic, e->error);
    }
    char err[512];
    if (dlq_publish(c->dlq, events, n, err, sizeof(err)) != 0) {
        LOG(LOG_WARN, "projection=%s dead-letter topic unavailable: %s", mapping_name(c->m), err);
        return -1;
    }
    return 0;
}

static void commit_to_kafka(consumer_t *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)c->npos);
    for (size_t k = 0; k < c->npos; k++)
        rd_kafka_topic_partition_list_add(l, c->pos[k].topic, c->pos[k].partition)->offset =
            c->pos[k].next;
    rd_kafka_commit(c->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
}

static void after_commit(consumer_t *c)
{
    for (size_t k = 0; k < c->npos; k++) {
        const sink_position_t *p = &c->pos[k];
        part_state_t *ps = find_part(c, p->topic, p->partition);
        if (ps)
            ps->expected = p->next;
        c->applied += (uint64_t)p->applied;
        c->skipped += (uint64_t)p->skipped;
        c->dead += (uint64_t)p->dead;
    }
    c->since_log += c->nmsgs;
    commit_to_kafka(c);
}

static void on_stale(consumer_t *c)
{
    for (size_t k = 0; k < c->npos; k++) {
        const sink_position_t *p = &c->pos[k];
        if (!p->stale)
            continue;
        LOG(LOG_WARN,
            "projection=%s topic=%s partition=%d stored position is %lld, expected "
            "%lld: another instance applied it; re-reading from the stored position",
            mapping_name(c->m), p->topic, p->partition, (long long)p->actual,
            (long long)p->expected);
        part_state_t *ps = find_part(c, p->topic, p->partition);
        if (ps)
            ps->expected = p->actual < -1 ? -1 : p->actual;
    }
}

/* Applies the gathered batch, waiting out database failures. Returns 0 when the batch is done
 * (applied, or dropped as stale), -1 when stopped while retrying. */
static int apply_batch(consumer_t *c)
{
    for (size_t i = 0; i < c->nmsgs; i++)
        decode(c, c->msgs[i], &c->events[i]);
    build_positions(c);
    long backoff = 100, max = (long)config_int(c->cfg, CFG_RETRY_BACKOFF_MAX_MS);
    double since = now_s();
    for (;;) {
        char err[1024];
        sink_rc_t rc = sink_pg_apply(c->sink, c->events, c->nmsgs, c->arena, c->pos, c->npos,
                                     on_dead, c, err, sizeof(err));
        if (rc == SINK_OK) {
            if (c->state == CONSUMER_RETRYING)
                LOG(LOG_INFO, "projection=%s database back after %.1f s; batch applied",
                    mapping_name(c->m), now_s() - since);
            c->state = CONSUMER_RUNNING;
            after_commit(c);
            return 0;
        }
        if (rc == SINK_STALE) {
            on_stale(c);
            rewind_assigned(c);
            return 0;
        }
        time_t t = time(NULL);
        if (c->state != CONSUMER_RETRYING || t - c->last_retry_log >= 10) {
            LOG(LOG_WARN,
                "projection=%s database error, %zu events wait (retrying, backoff up to "
                "%ld ms): %s",
                mapping_name(c->m), c->nmsgs, max, err);
            c->last_retry_log = t;
        }
        c->state = CONSUMER_RETRYING;
        nap(c, backoff / 2 + rand() % (backoff / 2 + 1));
        if (*c->stop) {
            LOG(LOG_WARN,
                "projection=%s stopping with a batch of %zu events not applied; it is "
                "consumed again at the next start",
                mapping_name(c->m), c->nmsgs);
            return -1;
        }
        backoff = backoff * 2 > max ? max : backoff * 2;
    }
}

static void log_progress(consumer_t *c, double *last)
{
    double t = now_s();
    if (t - *last < 10 || !c->since_log)
        return;
    LOG(LOG_INFO,
        "projection=%s applied=%llu skipped=%llu dead_lettered=%llu rows_written=%llu "
        "events/s=%.0f",
        mapping_name(c->m), (unsigned long long)c->applied, (unsigned long long)c->skipped,
        (unsigned long long)c->dead, (unsigned long long)sink_pg_rows_written(c->sink),
        (double)c->since_log / (t - *last));
    c->since_log = 0;
    *last = t;
}

static int subscribe(consumer_t *c)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)mapping_topic_count(c->m));
    for (size_t i = 0; i < mapping_topic_count(c->m); i++)
        rd_kafka_topic_partition_list_add(l, mapping_topic(c->m, i), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        LOG(LOG_ERROR, "projection=%s subscribe: %s", mapping_name(c->m), rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

int consumer_run(consumer_t *c, volatile sig_atomic_t *stop)
{
    c->stop = stop;
    c->state = CONSUMER_STARTING;
    if (subscribe(c) != 0) {
        c->state = CONSUMER_FAILED;
        return -1;
    }
    LOG(LOG_INFO, "projection=%s joined group %s.%s", mapping_name(c->m),
        config_str(c->cfg, CFG_GROUP), mapping_name(c->m));
    double last_log = now_s();
    while (!*stop) {
        gather(c);
        if (c->dropped) {
            c->dropped = 0;
            release_batch(c);
            rewind_assigned(c);
            continue;
        }
        if (c->nmsgs) {
            if (c->state == CONSUMER_STARTING)
                c->state = CONSUMER_RUNNING;
            apply_batch(c);
        }
        release_batch(c);
        log_progress(c, &last_log);
    }
    LOG(LOG_INFO,
        "projection=%s stopping: applied=%llu skipped=%llu dead_lettered=%llu "
        "rows_written=%llu; leaving the group",
        mapping_name(c->m), (unsigned long long)c->applied, (unsigned long long)c->skipped,
        (unsigned long long)c->dead, (unsigned long long)sink_pg_rows_written(c->sink));
    rd_kafka_consumer_close(c->rk);
    c->state = CONSUMER_STOPPED;
    return 0;
}
