/* The status endpoints of the HTTP API: health (/healthz, /readyz), projection status
 * (/v1/projections), metrics (/metrics, Prometheus text; the counters are the exact ones stored
 * with the data) and the OpenAPI document. Every response is JSON (errors are {"error": {"code",
 * "message"}}) but /metrics. */
#include "http_status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_db.h"
#include "http_reply.h"
#include "rebuild_status.h"
#include "stall.h"
#include "strbuf.h"
#include "version.h"
#include "xalloc.h"

extern const char projector_openapi_json[]; /* api/openapi.json, embedded by the build */

/* ---- health ---- */

void http_status_healthz(http_ctx_t *ctx, http_req_t *req, const char *rest)
{
    (void)ctx, (void)rest;
    http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* ---- projections ---- */

static PGresult *positions(http_ctx_t *ctx, const char *projection)
{
    const char *params[] = {projection ? projection : ""};
    return PQexecParams(ctx->conn,
                        "SELECT p.projection, p.topic, p.partition, p.next_offset, p.applied,"
                        " p.skipped, p.dead_lettered, to_char(p.updated_at AT TIME ZONE 'UTC',"
                        " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), (SELECT count(*) FROM"
                        " projector.dead_letters d WHERE d.projection = p.projection AND"
                        " d.topic = p.topic AND d.partition = p.partition AND"
                        " d.replayed_at IS NULL) FROM projector.positions p"
                        /* not a generation being built ("<name>#g<N>"): its progress is the
                           rebuild's */
                        " WHERE ($1 = '' AND strpos(p.projection, '#') = 0) OR p.projection = $1"
                        " ORDER BY 1, 2, 3",
                        1, NULL, params, NULL, NULL, 0);
}

/* The high watermark of a partition, or -1 when the broker does not answer (within 1 s). */
static long long high_watermark(http_ctx_t *ctx, const char *topic, int32_t partition)
{
    int64_t lo, hi;
    if (!ctx->rk || rd_kafka_query_watermark_offsets(ctx->rk, topic, partition, &lo, &hi, 1000))
        return -1;
    return (long long)hi;
}

/* Events of the partition not applied yet: high watermark - next offset (all, before the
 * first); -1 when unknown. */
static long long lag_of(http_ctx_t *ctx, PGresult *r, int i)
{
    long long hi = high_watermark(ctx, PQgetvalue(r, i, 1), atoi(PQgetvalue(r, i, 2)));
    if (hi < 0)
        return -1;
    long long next = PQgetisnull(r, i, 3) ? 0 : strtoll(PQgetvalue(r, i, 3), NULL, 10);
    return hi > next ? hi - next : 0;
}

void http_status_readyz(http_ctx_t *ctx, http_req_t *req, const char *rest)
{
    (void)rest;
    if (http_db_ok(ctx->conn) != 0) {
        http_reply_error(req, 503, "database_unavailable", PQerrorMessage(ctx->conn));
        return;
    }
    for (size_t i = 0; i < mapping_set_count(ctx->set); i++) {
        const char *name = mapping_name(mapping_set_get(ctx->set, i));
        stall_t st;
        if (stall_find(ctx->conn, name, i < ctx->nstats ? ctx->stats[i] : NULL, &st)) {
            char msg[1400];
            snprintf(msg, sizeof(msg), "projection %s is stalled since %s (%s): %s", name, st.since,
                     st.instance, st.reason);
            http_reply_error(req, 503, stats_stall_name(st.cause), msg);
            return;
        }
    }
    PGresult *r = positions(ctx, NULL);
    long long worst = 0;
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r) && worst >= 0; i++) {
        long long lag = lag_of(ctx, r, i);
        worst = lag < 0 ? -1 : lag > worst ? lag : worst;
    }
    PQclear(r);
    if (worst < 0)
        http_reply_error(req, 503, "kafka_unavailable", "the brokers do not answer");
    else if (worst > ctx->max_lag)
        http_reply_json(req, 503,
                        json_pack("{s:{s:s,s:s,s:I}}", "error", "code", "lagging", "message",
                                  "a partition lags by more than ready.max.lag", "lag",
                                  (json_int_t)worst));
    else
        http_reply_json(req, 200,
                        json_pack("{s:s,s:I}", "status", "ready", "lag", (json_int_t)worst));
}

/* "paused" when projector.projections says so; "failed" when this process's worker of m could
 * not start; "stalled" when an instance's worker has failed the same batch for longer than
 * stall.after.ms (stalled: its JSON, or null); "rebuilding" while a rebuild is active (rebuild:
 * its JSON); else "live". */
static const char *projection_state(http_ctx_t *ctx, const mapping_t *m, json_t *rebuild,
                                    json_t *stalled)
{
    const char *params[] = {mapping_name(m)};
    PGresult *r =
        PQexecParams(ctx->conn, "SELECT 1 FROM projector.projections WHERE name = $1 AND paused", 1,
                     NULL, params, NULL, NULL, 0);
    int paused = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    PQclear(r);
    int failed = 0;
    for (size_t i = 0; i < ctx->nstats; i++)
        failed |= mapping_set_get(ctx->set, i) == m && stats_failed(ctx->stats[i]);
    return paused                                             ? "paused"
           : failed                                           ? "failed"
           : json_is_object(stalled)                          ? "stalled"
           : json_is_true(json_object_get(rebuild, "active")) ? "rebuilding"
                                                              : "live";
}

/* The live generation of m's tables (1 before any blue/green rebuild). */
static int live_generation(http_ctx_t *ctx, const mapping_t *m)
{
    const char *params[] = {mapping_name(m)};
    PGresult *r =
        PQexecParams(ctx->conn, "SELECT generation FROM projector.projections WHERE name = $1", 1,
                     NULL, params, NULL, NULL, 0);
    int g = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 1;
    PQclear(r);
    return g;
}

/* The latest rebuild of m with its progress (events/s: average since it started), or null. */
static json_t *rebuild_json(http_ctx_t *ctx, const mapping_t *m)
{
    rebuild_status_t st;
    char err[512];
    if (rebuild_status_read(ctx->conn, ctx->rk, 0, mapping_name(m), &st, err, sizeof(err)) != 1)
        return json_null();
    double rate =
        st.seconds > 0 && st.state != REBUILD_REQUESTED ? (double)st.replayed / st.seconds : -1;
    json_t *j = rebuild_status_json(&st, rate);
    rebuild_status_free(&st);
    return j;
}

static json_t *projection_json(http_ctx_t *ctx, const mapping_t *m, PGresult *r)
{
    json_t *parts = json_array();
    long long applied = 0, skipped = 0, dead = 0, unresolved = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), mapping_name(m)) != 0)
            continue;
        json_t *next = PQgetisnull(r, i, 3) ? json_null()
                                            : json_integer(strtoll(PQgetvalue(r, i, 3), NULL, 10));
        long long lag = lag_of(ctx, r, i);
        json_array_append_new(
            parts, json_pack("{s:s,s:i,s:o,s:o,s:I,s:I,s:I,s:s}", "topic", PQgetvalue(r, i, 1),
                             "partition", atoi(PQgetvalue(r, i, 2)), "next_offset", next, "lag",
                             lag < 0 ? json_null() : json_integer(lag), "applied",
                             (json_int_t)strtoll(PQgetvalue(r, i, 4), NULL, 10), "skipped",
                             (json_int_t)strtoll(PQgetvalue(r, i, 5), NULL, 10), "dead_lettered",
                             (json_int_t)strtoll(PQgetvalue(r, i, 6), NULL, 10), "updated_at",
                             PQgetvalue(r, i, 7)));
        applied += strtoll(PQgetvalue(r, i, 4), NULL, 10);
        skipped += strtoll(PQgetvalue(r, i, 5), NULL, 10);
        dead += strtoll(PQgetvalue(r, i, 6), NULL, 10);
        unresolved += strtoll(PQgetvalue(r, i, 8), NULL, 10);
    }
    json_t *topics = json_array();
    for (size_t t = 0; t < mapping_topic_count(m); t++)
        json_array_append_new(topics, json_string(mapping_topic(m, t)));
    json_t *rate = json_null(), *last = json_null();
    const stats_t *local = NULL;
    for (size_t i = 0; i < ctx->nstats; i++) {
        if (mapping_set_get(ctx->set, i) != m)
            continue;
        local = ctx->stats[i];
        rate = json_real(round(stats_rate(ctx->stats[i]))); /* 52.0, not 51.619999999999997 */
        int64_t ms = stats_last_event_ms(ctx->stats[i]);
        last = ms < 0 ? json_null() : json_integer(ms);
    }
    json_t *rebuild = rebuild_json(ctx, m);
    stall_t st;
    json_t *stalled = stall_json(stall_find(ctx->conn, mapping_name(m), local, &st) ? &st : NULL);
    return json_pack("{s:s,s:s,s:o,s:i,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:o,s:o}", "name",
                     mapping_name(m), "state", projection_state(ctx, m, rebuild, stalled),
                     "stalled", stalled, "generation", live_generation(ctx, m), "events_per_s",
                     rate, "last_event_ms", last, "topics", topics, "applied", (json_int_t)applied,
                     "skipped", (json_int_t)skipped, "dead_lettered", (json_int_t)dead,
                     "dead_letters_unresolved", (json_int_t)unresolved, "partitions", parts,
                     "rebuild", rebuild);
}

void http_status_projections(http_ctx_t *ctx, http_req_t *req, const char *rest)
{
    const char *name = rest && rest[0] == '/' && rest[1] ? rest + 1 : NULL;
    const mapping_t *only = http_ctx_projection(ctx, name);
    if (name && !only) {
        http_reply_error(req, 404, "unknown_projection", "no projection of that name");
        return;
    }
    PGresult *r = positions(ctx, name);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        http_reply_error(req, 503, "database_error", PQerrorMessage(ctx->conn));
        PQclear(r);
        return;
    }
    if (only) {
        http_reply_json(req, 200, projection_json(ctx, only, r));
    } else {
        json_t *all = json_array();
        for (size_t i = 0; i < mapping_set_count(ctx->set); i++)
            json_array_append_new(all, projection_json(ctx, mapping_set_get(ctx->set, i), r));
        http_reply_json(req, 200, json_pack("{s:o}", "projections", all));
    }
    PQclear(r);
}

/* ---- metrics (Prometheus text; the counters are the exact ones stored with the data) ---- */

static void label(strbuf_t *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            strbuf_append(sb, "\\", 1);
        if (*s == '\n')
            strbuf_puts(sb, "\\n");
        else
            strbuf_append(sb, s, 1);
    }
}

/* Rebuild progress gauges: per projection, of its latest rebuild (labelled with the generation
 * it replays into and its mode). */
static void rebuild_metrics(http_ctx_t *ctx, strbuf_t *out)
{
    static const char *const names[][2] = {
        {"projector_rebuild_events_replayed", "Events the rebuild has replayed."},
        {"projector_rebuild_events_target", "Events the topics held when the rebuild was asked."},
        {"projector_rebuild_active", "1 while the rebuild runs (in place: until caught up)."},
    };
    rebuild_status_t *st = xcalloc(mapping_set_count(ctx->set) + 1, sizeof(*st));
    int *found = xcalloc(mapping_set_count(ctx->set) + 1, sizeof(int));
    char err[512];
    for (size_t i = 0; i < mapping_set_count(ctx->set); i++)
        found[i] =
            rebuild_status_read(ctx->conn, NULL, 0, mapping_name(mapping_set_get(ctx->set, i)),
                                &st[i], err, sizeof(err)) == 1;
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        strbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", names[k][0], names[k][1],
                      names[k][0]);
        for (size_t i = 0; i < mapping_set_count(ctx->set); i++) {
            if (!found[i])
                continue;
            long long v = k == 0   ? st[i].replayed
                          : k == 1 ? st[i].total
                                   : rebuild_status_active(&st[i]);
            strbuf_printf(out, "%s{projection=\"", names[k][0]);
            label(out, st[i].projection);
            strbuf_printf(out, "\",generation=\"%d\",mode=\"%s\"} %lld\n", st[i].generation,
                          st[i].mode, v);
        }
    }
    for (size_t i = 0; i < mapping_set_count(ctx->set); i++)
        if (found[i])
            rebuild_status_free(&st[i]);
    free(st);
    free(found);
}

/* projector_build_info: the versions this process runs with, as labels of a constant 1. */
static void build_info(strbuf_t *out)
{
    version_component_t v[VERSION_COMPONENTS];
    version_components(v);
    strbuf_puts(out, "# HELP projector_build_info The versions of projector (version) and of the "
                     "libraries it runs with; always 1.\n# TYPE projector_build_info gauge\n"
                     "projector_build_info{version=\"");
    label(out, v[0].version);
    for (int i = 1; i < VERSION_COMPONENTS; i++) {
        strbuf_printf(out, "\",%s=\"", v[i].name);
        label(out, v[i].version);
    }
    strbuf_puts(out, "\"} 1\n");
}

void http_status_metrics(http_ctx_t *ctx, http_req_t *req, const char *rest)
{
    (void)rest;
    PGresult *r = positions(ctx, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        http_reply_error(req, 503, "database_error", PQerrorMessage(ctx->conn));
        PQclear(r);
        return;
    }
    static const struct {
        int col;
        const char *name, *type, *help;
    } series[] = {
        {4, "projector_events_applied_total", "counter", "Events applied."},
        {5, "projector_events_skipped_total", "counter", "Events of types the mapping skips."},
        {6, "projector_events_dead_lettered_total", "counter", "Events dead-lettered."},
        {8, "projector_dead_letters_unresolved", "gauge", "Dead letters not replayed yet."},
        {3, "projector_position", "gauge", "Next offset to apply, as stored with the data."},
        {-1, "projector_lag", "gauge", "Events of the partition not applied yet (-1: unknown)."},
    };
    strbuf_t out = STRBUF_INIT;
    for (size_t s = 0; s < sizeof(series) / sizeof(series[0]); s++) {
        strbuf_printf(&out, "# HELP %s %s\n# TYPE %s %s\n", series[s].name, series[s].help,
                      series[s].name, series[s].type);
        for (int i = 0; i < PQntuples(r); i++) {
            strbuf_printf(&out, "%s{projection=\"", series[s].name);
            label(&out, PQgetvalue(r, i, 0));
            strbuf_puts(&out, "\",topic=\"");
            label(&out, PQgetvalue(r, i, 1));
            if (series[s].col < 0)
                strbuf_printf(&out, "\",partition=\"%s\"} %lld\n", PQgetvalue(r, i, 2),
                              lag_of(ctx, r, i));
            else
                strbuf_printf(&out, "\",partition=\"%s\"} %s\n", PQgetvalue(r, i, 2),
                              PQgetisnull(r, i, series[s].col) ? "0"
                                                               : PQgetvalue(r, i, series[s].col));
        }
    }
    rebuild_metrics(ctx, &out);
    stats_render(ctx->stats, ctx->nstats, &out);
    strbuf_puts(&out, "# HELP projector_up 1 while the API serves.\n# TYPE projector_up gauge\n"
                      "projector_up 1\n");
    build_info(&out);
    http_reply_text(req, 200, out.data, out.len, "text/plain; version=0.0.4; charset=utf-8");
    strbuf_free(&out);
    PQclear(r);
}

void http_status_openapi(http_ctx_t *ctx, http_req_t *req, const char *rest)
{
    (void)ctx, (void)rest;
    http_reply_text(req, 200, projector_openapi_json, strlen(projector_openapi_json),
                    "application/json");
}
