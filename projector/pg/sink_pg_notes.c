/* The records a worker keeps of itself for readers elsewhere, best effort (each expires): its
 * stall (projector.stalls), that it consumes (projector.instances), and which offsets an
 * in-place rebuild replays (kept out of its latency). Statements prepared by sink_pg_guard.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_pg_internal.h"
#include "xalloc.h"

/* Runs prepared statement `name` with params on its own (connecting first when needed); on_rows
 * takes its rows. Returns 0, or -1 when the database failed (best effort: the
 * callers' records expire). Blocks. */
static int run_one(sink_pg_t *s, const char *name, int n, const char *const *params,
                   sink_pg_rows_fn on_rows)
{
    char err[256];
    if (sink_pg_connect(s, err, sizeof(err)) != 0)
        return -1;
    sink_pg_send(s, name, n, params, NULL, NULL, on_rows, 0, NULL);
    return sink_pg_sync(s) == ERR_NONE ? 0 : -1;
}

int sink_pg_stall_note(sink_pg_t *s, const char *instance, int64_t since_ms, const char *cause,
                       const char *reason, int64_t ttl_ms)
{
    char since[24], ttl[24];
    snprintf(since, sizeof(since), "%lld", (long long)since_ms);
    snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
    const char *params[] = {s->gen.key, instance, since, reason, ttl, cause};
    return run_one(s, "stall_note", 6, params, NULL);
}

int sink_pg_stall_clear(sink_pg_t *s, const char *instance)
{
    const char *params[] = {s->gen.key, instance};
    return run_one(s, "stall_clear", 2, params, NULL);
}

int sink_pg_instance_note(sink_pg_t *s, const char *instance, const char *partitions,
                          int64_t ttl_ms)
{
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
    const char *params[] = {s->gen.key, instance, partitions, ttl};
    return run_one(s, "instance_note", 4, params, NULL);
}

int sink_pg_instance_clear(sink_pg_t *s, const char *instance)
{
    const char *params[] = {s->gen.key, instance};
    return run_one(s, "instance_clear", 2, params, NULL);
}

/* The rows of replay_targets, into s->targets. */
static void targets_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)q;
    int n = PQntuples(r);
    sink_target_t *t = xrealloc(s->targets, ((size_t)n + 1) * sizeof(*t));
    s->targets = t;
    s->ntargets = 0;
    for (int k = 0; k < n; k++, s->ntargets++) {
        snprintf(t[k].topic, sizeof(t[k].topic), "%s", PQgetvalue(r, k, 0));
        t[k].partition = atoi(PQgetvalue(r, k, 1));
        t[k].until = strtoll(PQgetvalue(r, k, 2), NULL, 10);
    }
}

int sink_pg_replay_targets(sink_pg_t *s, sink_target_t **out, size_t *n)
{
    const char *params[] = {s->gen.key};
    s->targets = NULL;
    s->ntargets = 0;
    int rc = run_one(s, "replay_targets", 1, params, targets_rows);
    if (rc == 0) {
        *out = s->targets;
        *n = s->ntargets;
    } else {
        free(s->targets);
    }
    s->targets = NULL;
    s->ntargets = 0;
    return rc;
}
