/* Inside `projector run`: carries out the rebuild requests of projector.rebuilds.
 *
 * Every instance runs one rebuilder thread with its own connection, LISTENing on channel
 * projector_rebuild and polling every 2 s. Each step that changes a rebuild's state takes the
 * rebuild's row first (FOR UPDATE SKIP LOCKED or NOWAIT), so when several instances react to
 * the same notification exactly one carries a step out and the others find it done:
 *
 *   in place, requested   -> done       truncate, reset the positions (generation_reset)
 *   blue/green, requested -> building   create the build schema and positions
 *   building              -> switching  every build partition lags by <= rebuild.max.lag:
 *                                       move the tables and positions (generation_switch)
 *   switching             -> done       drop the old generation (unless kept: its tables
 *                                       and search indices) and the build schema
 *
 * While a rebuild builds, every instance runs a build worker for it: a consumer of the build
 * generation (its own consumer group, positions key and search path), so the group spreads the
 * partitions over the instances, and a restarted instance resumes from the build's stored
 * positions. Build workers stop when the rebuild leaves 'building' (switched or cancelled). */
#include "rebuilder.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "consumer.h"
#include "generation.h"
#include "kafka_conf.h"
#include "log.h"
#include "pg_exec.h"
#include "rebuild_status.h"
#include "schema.h"
#include "sink_es.h"
#include "stats.h"
#include "xalloc.h"

#define POLL_MS 2000        /* the fallback poll when no notification comes */
#define SWITCH_CHECK_S 1.0  /* how often a building rebuild's lag is checked */
#define PROGRESS_LOG_S 10.0 /* how often a building rebuild's progress is logged */

typedef struct build_worker {
    long long rebuild_id; /* 0: none running */
    consumer_t *consumer;
    stats_t *stats;
    pthread_t thread;
    atomic_int stop;
    double last_check, last_log;
} build_worker_t;

struct rebuilder {
    const config_t *cfg;
    const mapping_set_t *set;
    pthread_t thread;
    atomic_int stop;
    PGconn *conn;            /* LISTENs, and carries out the steps */
    rd_kafka_t *rk;          /* for the watermarks (lag); no group */
    build_worker_t *workers; /* per projection of set */
    time_t last_warn;
};

/* One active rebuild, as read from projector.rebuilds. */
typedef struct active {
    long long id;
    char idtext[24];
    int in_place, number, old_number, keep_old;
    rebuild_state_t state;
} active_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Warns at most every 10 s (a database that is down would repeat it every poll). */
static void warn(rebuilder_t *rb, const char *projection, const char *what, const char *err)
{
    time_t t = time(NULL);
    if (t - rb->last_warn < 10)
        return;
    rb->last_warn = t;
    LOG(LOG_WARN, "projection=%s rebuild: %s: %s (retrying)", projection, what, err);
}

/* ---- build workers ---- */

static void *build_main(void *arg)
{
    build_worker_t *w = arg;
    consumer_run(w->consumer, &w->stop);
    return NULL;
}

static void worker_stop(build_worker_t *w)
{
    if (!w->rebuild_id)
        return;
    w->stop = 1;
    pthread_join(w->thread, NULL);
    consumer_destroy(w->consumer);
    stats_destroy(w->stats);
    w->consumer = NULL;
    w->stats = NULL;
    w->rebuild_id = 0;
}

static void worker_start(rebuilder_t *rb, size_t i, const active_t *a)
{
    build_worker_t *w = &rb->workers[i];
    const mapping_t *m = mapping_set_get(rb->set, i);
    generation_t g;
    generation_build(&g, rb->cfg, m, a->number);
    char err[512];
    w->stats = stats_new(g.key);
    w->consumer = consumer_new(rb->cfg, m, &g, w->stats, err, sizeof(err));
    if (!w->consumer) {
        warn(rb, mapping_name(m), "cannot start the build worker", err);
        stats_destroy(w->stats);
        w->stats = NULL;
        return;
    }
    w->stop = 0;
    w->last_check = w->last_log = now_s();
    if (pthread_create(&w->thread, NULL, build_main, w) != 0) {
        consumer_destroy(w->consumer);
        stats_destroy(w->stats);
        warn(rb, mapping_name(m), "cannot start the build worker", "pthread_create failed");
        return;
    }
    w->rebuild_id = a->id;
    LOG(LOG_INFO,
        "projection=%s rebuild id=%lld: building generation %d in schema %s (group %s, "
        "positions %s)",
        mapping_name(m), a->id, a->number, g.schema, g.group, g.key);
}

/* ---- steps (each in one transaction that holds the rebuild's row) ---- */

/* Rolls the open transaction back. */
static void rollback(PGconn *c)
{
    if (pg_exec(c, "ROLLBACK", 0, NULL, 0, NULL, NULL) != 0) {
        /* the connection is lost: the loop sees it and connects again */
    }
}

/* Begins a transaction holding rebuild a in state `state`. Returns 1 when held, 0 when another
 * instance holds it or it moved on (rolled back), -1 on an error (rolled back; errstr). */
static int take(PGconn *c, const active_t *a, rebuild_state_t state, int nowait, char *errstr,
                size_t errsz)
{
    const char *params[] = {a->idtext, rebuild_state_name(state)};
    PGresult *r = NULL;
    if (pg_exec(c, "BEGIN", 0, NULL, 0, NULL, NULL) != 0 ||
        pg_exec(c,
                nowait ? "SELECT 1 FROM projector.rebuilds WHERE id = $1 AND state = $2"
                         " FOR UPDATE NOWAIT"
                       : "SELECT 1 FROM projector.rebuilds WHERE id = $1 AND state = $2"
                         " FOR UPDATE SKIP LOCKED",
                2, params, 0, &r, NULL) != 0) {
        const char *e = PQerrorMessage(c);
        int busy = strstr(e, "could not obtain lock") != NULL;
        snprintf(errstr, errsz, "%s", e);
        errstr[strcspn(errstr, "\n")] = '\0';
        rollback(c);
        return busy ? 0 : -1;
    }
    int rows = PQntuples(r);
    PQclear(r);
    if (!rows)
        rollback(c);
    return rows ? 1 : 0;
}

/* Sets the held rebuild's state (with the timestamp column ts, if any), notifies and commits.
 * Returns 0 or -1 (errstr; rolled back). */
static int finish_step(PGconn *c, const mapping_t *m, const active_t *a, rebuild_state_t state,
                       const char *ts, char *errstr, size_t errsz)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE projector.rebuilds SET state = $2%s%s%s WHERE id = $1",
             ts ? ", " : "", ts ? ts : "", ts ? " = now()" : "");
    const char *params[] = {a->idtext, rebuild_state_name(state), mapping_name(m)};
    int rc = pg_exec(c, sql, 2, params, 0, NULL, NULL);
    if (rc == 0)
        rc = pg_exec(c, "SELECT pg_notify('projector_rebuild', $1)", 1, params + 2, 0, NULL, NULL);
    if (rc == 0)
        rc = pg_exec(c, "COMMIT", 0, NULL, 0, NULL, NULL);
    if (rc != 0) {
        snprintf(errstr, errsz, "%s", PQerrorMessage(c));
        errstr[strcspn(errstr, "\n")] = '\0';
        rollback(c);
    }
    return rc;
}

/* Records that rebuild a cannot be carried out (a problem of the views or mapping, not of the
 * connection), in a transaction of its own. */
static void mark_failed(rebuilder_t *rb, const mapping_t *m, const active_t *a, const char *why)
{
    LOG(LOG_ERROR, "projection=%s rebuild id=%lld failed: %s", mapping_name(m), a->id, why);
    /* only a rebuild that has not switched: a switched one can only go on to done */
    const char *params[] = {a->idtext, why, rebuild_state_name(REBUILD_FAILED),
                            rebuild_state_name(REBUILD_REQUESTED),
                            rebuild_state_name(REBUILD_BUILDING)};
    const char *name[] = {mapping_name(m)};
    int updated = pg_exec(rb->conn,
                          "UPDATE projector.rebuilds SET state = $3, error = $2,"
                          " finished_at = now() WHERE id = $1 AND state IN ($4, $5)",
                          5, params, 0, NULL, NULL);
    int notified =
        pg_exec(rb->conn, "SELECT pg_notify('projector_rebuild', $1)", 1, name, 0, NULL, NULL);
    if (updated != 0 || notified != 0) {
        /* best effort: the rebuild stays as it was, and the next pass tries it again */
    }
}

static void do_in_place(rebuilder_t *rb, const mapping_t *m, const active_t *a)
{
    char err[1024];
    int held = take(rb->conn, a, REBUILD_REQUESTED, 0, err, sizeof(err));
    if (held <= 0) {
        if (held < 0)
            warn(rb, mapping_name(m), "taking up an in-place rebuild", err);
        return;
    }
    if (generation_reset(rb->conn, rb->cfg, m, err, sizeof(err)) != 0) {
        rollback(rb->conn);
        warn(rb, mapping_name(m), "resetting in place", err);
        return;
    }
    if (pg_exec(rb->conn, "UPDATE projector.rebuilds SET started_at = now() WHERE id = $1", 1,
                (const char *const[]){a->idtext}, 0, NULL, NULL) != 0) {
        /* then finish_step() fails too, and says why */
    }
    if (finish_step(rb->conn, m, a, REBUILD_DONE, "finished_at", err, sizeof(err)) != 0) {
        warn(rb, mapping_name(m), "resetting in place", err);
        return;
    }
    LOG(LOG_INFO,
        "projection=%s rebuild id=%lld in place: tables truncated and positions reset; the "
        "workers replay from the earliest offsets",
        mapping_name(m), a->id);
}

static int do_claim(rebuilder_t *rb, const mapping_t *m, const active_t *a)
{
    char err[1024];
    int held = take(rb->conn, a, REBUILD_REQUESTED, 0, err, sizeof(err));
    if (held <= 0) {
        if (held < 0)
            warn(rb, mapping_name(m), "taking up a blue/green rebuild", err);
        return -1;
    }
    if (generation_create(rb->conn, rb->cfg, m, a->id, a->number, err, sizeof(err)) != 0 ||
        sink_es_generation_create(rb->cfg, m, a->number, err, sizeof(err)) != 0) {
        rollback(rb->conn);
        if (PQstatus(rb->conn) == CONNECTION_OK)
            mark_failed(rb, m, a, err);
        else
            warn(rb, mapping_name(m), "creating the new generation", err);
        return -1;
    }
    if (finish_step(rb->conn, m, a, REBUILD_BUILDING, "started_at", err, sizeof(err)) != 0) {
        warn(rb, mapping_name(m), "creating the new generation", err);
        return -1;
    }
    LOG(LOG_INFO, "projection=%s rebuild id=%lld: generation %d created beside generation %d",
        mapping_name(m), a->id, a->number, a->old_number);
    return 0;
}

static void do_finish(rebuilder_t *rb, const mapping_t *m, const active_t *a)
{
    char err[1024], old[192], build[192];
    generation_old_schema(old, sizeof(old), mapping_name(m), a->old_number);
    generation_build_schema(build, sizeof(build), mapping_name(m));
    int held = take(rb->conn, a, REBUILD_SWITCHING, 0, err, sizeof(err));
    if (held <= 0) {
        if (held < 0)
            warn(rb, mapping_name(m), "finishing a switch", err);
        return;
    }
    int rc = generation_drop_schema(rb->conn, build, err, sizeof(err));
    if (rc == 0 && !a->keep_old)
        rc = generation_drop_schema(rb->conn, old, err, sizeof(err));
    /* the old generation's search indices, out of the aliases since the switch */
    if (rc == 0 && !a->keep_old)
        rc = sink_es_generation_drop_replaced(rb->cfg, m, a->number, err, sizeof(err)) ? -1 : 0;
    if (rc != 0) {
        rollback(rb->conn);
        warn(rb, mapping_name(m), "dropping the old generation", err);
        return;
    }
    if (finish_step(rb->conn, m, a, REBUILD_DONE, "finished_at", err, sizeof(err)) != 0) {
        warn(rb, mapping_name(m), "dropping the old generation", err);
        return;
    }
    LOG(LOG_INFO, "projection=%s rebuild id=%lld done: generation %d is live; generation %d %s%s",
        mapping_name(m), a->id, a->number, a->old_number,
        a->keep_old ? "is kept in schema " : "was dropped", a->keep_old ? old : "");
}

/* Is every partition of the build within rebuild.max.lag of its high watermark? Logs progress
 * every PROGRESS_LOG_S. */
static int caught_up(rebuilder_t *rb, const mapping_t *m, const active_t *a, build_worker_t *w)
{
    rebuild_status_t st;
    char err[512];
    int found = rebuild_status_read(rb->conn, rb->rk, a->id, NULL, &st, err, sizeof(err));
    if (found != 1) {
        if (found < 0)
            warn(rb, mapping_name(m), "reading progress", err);
        return 0;
    }
    long long max = config_int(rb->cfg, CFG_REBUILD_MAX_LAG), worst = 0;
    for (size_t i = 0; i < st.nparts && worst >= 0; i++)
        worst = st.parts[i].lag < 0 ? -1 : st.parts[i].lag > worst ? st.parts[i].lag : worst;
    double t = now_s();
    if (t - w->last_log >= PROGRESS_LOG_S) {
        w->last_log = t;
        LOG(LOG_INFO,
            "projection=%s rebuild id=%lld generation %d: %lld/%lld events replayed, lag at most "
            "%lld (switches at %lld)",
            mapping_name(m), a->id, a->number, st.replayed, st.total, worst, max);
    }
    rebuild_status_free(&st);
    return worst >= 0 && worst <= max;
}

static void do_switch(rebuilder_t *rb, size_t i, const active_t *a)
{
    const mapping_t *m = mapping_set_get(rb->set, i);
    build_worker_t *w = &rb->workers[i];
    double t = now_s();
    if (t - w->last_check < SWITCH_CHECK_S)
        return;
    w->last_check = t;
    if (!caught_up(rb, m, a, w))
        return;
    char err[1024] = "";
    int held = take(rb->conn, a, REBUILD_BUILDING, 1, err, sizeof(err));
    if (held <= 0) {
        if (held < 0)
            warn(rb, mapping_name(m), "switching", err);
        return;
    }
    /* Readers and live batches wait for this transaction: bounded, then tried again later. */
    if (pg_exec(rb->conn, "SET LOCAL lock_timeout = '5s'", 0, NULL, 0, NULL, NULL) != 0 ||
        generation_switch(rb->conn, rb->cfg, m, a->old_number, a->number, err, sizeof(err)) != 0) {
        if (!err[0])
            snprintf(err, sizeof(err), "%s", PQerrorMessage(rb->conn));
        /* An _aliases request may have been applied without its answer (a timeout): the
         * aliases go back to the live generation while this transaction still holds every
         * position, so no live batch writes through them meanwhile. */
        char why[512];
        size_t len = strlen(err);
        if (sink_es_reconcile_aliases(rb->cfg, m, a->old_number, why, sizeof(why)) != 0)
            snprintf(err + len, sizeof(err) - len, "; then reconciling the aliases: %s", why);
        rollback(rb->conn);
        warn(rb, mapping_name(m), "switching", err);
        return;
    }
    if (finish_step(rb->conn, m, a, REBUILD_SWITCHING, "switched_at", err, sizeof(err)) != 0) {
        warn(rb, mapping_name(m), "switching", err);
        return;
    }
    LOG(LOG_INFO, "projection=%s rebuild id=%lld: switched to generation %d", mapping_name(m),
        a->id, a->number);
    worker_stop(w);
    do_finish(rb, m, a);
}

/* ---- the loop ---- */

/* Reads the active rebuild of m. Returns 1 (a filled), 0 (none) or -1 (database error). */
static int read_active(rebuilder_t *rb, const mapping_t *m, active_t *a)
{
    const char *params[] = {mapping_name(m)};
    PGresult *r = NULL;
    if (pg_exec(rb->conn,
                "SELECT id, mode, state, generation, old_generation, keep_old"
                " FROM projector.rebuilds WHERE projection = $1 AND state IN " REBUILD_ACTIVE_SQL
                " ORDER BY id LIMIT 1",
                1, params, 0, &r, NULL) != 0) {
        warn(rb, mapping_name(m), "reading projector.rebuilds", PQerrorMessage(rb->conn));
        return -1;
    }
    int found = PQntuples(r) > 0;
    if (found) {
        a->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        snprintf(a->idtext, sizeof(a->idtext), "%lld", a->id);
        a->in_place = strcmp(PQgetvalue(r, 0, 1), "in-place") == 0;
        a->state = rebuild_state_parse(PQgetvalue(r, 0, 2));
        a->number = atoi(PQgetvalue(r, 0, 3));
        a->old_number = atoi(PQgetvalue(r, 0, 4));
        a->keep_old = strcmp(PQgetvalue(r, 0, 5), "t") == 0;
    }
    PQclear(r);
    return found;
}

static void reconcile(rebuilder_t *rb, size_t i)
{
    const mapping_t *m = mapping_set_get(rb->set, i);
    build_worker_t *w = &rb->workers[i];
    active_t a;
    int found = read_active(rb, m, &a);
    if (found < 0)
        return;
    if (!found || (w->rebuild_id && w->rebuild_id != a.id) || a.state != REBUILD_BUILDING)
        worker_stop(w); /* over (switched, cancelled, failed), or another one */
    if (!found)
        return;
    if (a.in_place) {
        if (a.state == REBUILD_REQUESTED)
            do_in_place(rb, m, &a);
        return;
    }
    if (a.state == REBUILD_REQUESTED) {
        if (do_claim(rb, m, &a) != 0)
            return;
        a.state = REBUILD_BUILDING;
    }
    if (a.state == REBUILD_SWITCHING) {
        do_finish(rb, m, &a);
        return;
    }
    if (!w->rebuild_id)
        worker_start(rb, i, &a);
    if (w->rebuild_id)
        do_switch(rb, i, &a);
}

/* Connects and LISTENs. Returns 0 or -1 (logged, rate-limited). */
static int connect_listen(rebuilder_t *rb)
{
    char err[1024];
    rb->conn = schema_connect(config_str(rb->cfg, CFG_PG), err, sizeof(err));
    if (rb->conn && pg_exec(rb->conn, "LISTEN projector_rebuild", 0, NULL, 0, NULL, NULL) == 0)
        return 0;
    if (rb->conn)
        snprintf(err, sizeof(err), "%s", PQerrorMessage(rb->conn));
    warn(rb, "*", "connecting", err);
    PQfinish(rb->conn);
    rb->conn = NULL;
    return -1;
}

/* Waits up to POLL_MS for a notification (any: each pass looks at every projection). */
static void wait_notified(rebuilder_t *rb)
{
    for (int waited = 0; waited < POLL_MS && !rb->stop; waited += 250) {
        struct pollfd p = {PQsocket(rb->conn), POLLIN, 0};
        if (p.fd < 0 || poll(&p, 1, 250) < 0)
            break;
        if (!p.revents)
            continue;
        if (!PQconsumeInput(rb->conn))
            break;
        int got = 0;
        PGnotify *n;
        while ((n = PQnotifies(rb->conn))) {
            got = 1;
            PQfreemem(n);
        }
        if (got)
            return;
    }
    if (PQstatus(rb->conn) != CONNECTION_OK) {
        PQfinish(rb->conn);
        rb->conn = NULL;
    }
}

static void *rebuilder_main(void *arg)
{
    rebuilder_t *rb = arg;
    while (!rb->stop) {
        if (!rb->conn && connect_listen(rb) != 0) {
            backoff_nap(&rb->stop, 1000);
            continue;
        }
        for (size_t i = 0; i < mapping_set_count(rb->set) && rb->conn; i++)
            reconcile(rb, i);
        if (rb->conn && PQstatus(rb->conn) != CONNECTION_OK) {
            PQfinish(rb->conn);
            rb->conn = NULL;
        }
        if (rb->conn)
            wait_notified(rb);
    }
    for (size_t i = 0; i < mapping_set_count(rb->set); i++)
        worker_stop(&rb->workers[i]);
    return NULL;
}

rebuilder_t *rebuilder_start(const config_t *cfg, const mapping_set_t *set, char *errstr,
                             size_t errstr_size)
{
    rebuilder_t *rb = xcalloc(1, sizeof(*rb));
    rb->cfg = cfg;
    rb->set = set;
    rb->workers = xcalloc(mapping_set_count(set) + 1, sizeof(*rb->workers));
    rd_kafka_conf_t *kc = kafka_conf_new(cfg, KAFKA_CONF_PRODUCER, NULL, NULL, errstr, errstr_size);
    if (!kc || !(rb->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, errstr_size))) {
        if (kc)
            rd_kafka_conf_destroy(kc);
        goto fail;
    }
    if (pthread_create(&rb->thread, NULL, rebuilder_main, rb) != 0) {
        snprintf(errstr, errstr_size, "cannot start the rebuilder thread");
        goto fail;
    }
    return rb;
fail:
    if (rb->rk)
        rd_kafka_destroy(rb->rk);
    free(rb->workers);
    free(rb);
    return NULL;
}

void rebuilder_stop(rebuilder_t *rb)
{
    if (!rb)
        return;
    rb->stop = 1;
    pthread_join(rb->thread, NULL);
    PQfinish(rb->conn);
    rd_kafka_destroy(rb->rk);
    free(rb->workers);
    free(rb);
}
