/* The HTTP API (libevent): read models, projection status, health and metrics.
 *
 * One thread with its own event loop and database connection serves every request in turn;
 * the projection workers never wait for it. Every response is JSON (errors are
 * {"error": {"code", "message"}}) but /metrics, which is Prometheus text. */
#include "http_api.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "http_internal.h"
#include "kafka_conf.h"
#include "log.h"
#include "rebuild.h"
#include "rebuild_status.h"
#include "schema.h"
#include "sink_es.h"
#include "stall.h"
#include "strbuf.h"

extern const char projector_openapi_json[]; /* api/openapi.json, embedded by the build */

struct http_api {
    http_ctx_t ctx;
    struct event_base *base;
    struct evhttp *http;
    pthread_t thread;
};

/* ---- responses ---- */

void http_reply_text(struct evhttp_request *req, int status, const char *body, size_t len,
                     const char *content_type)
{
    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, body, len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
    evhttp_send_reply(req, status, NULL, buf);
    evbuffer_free(buf);
}

void http_reply_json(struct evhttp_request *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    http_reply_text(req, status, text, strlen(text), "application/json");
    free(text);
    json_decref(body);
}

void http_reply_error(struct evhttp_request *req, int status, const char *code, const char *message)
{
    http_reply_json(req, status,
                    json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

/* ---- health ---- */

static void h_healthz(http_ctx_t *ctx, struct evhttp_request *req, const char *rest,
                      const char *query)
{
    (void)ctx, (void)rest, (void)query;
    http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Reconnects when the connection was lost; returns 0 when the database answers. */
static int db_ok(http_ctx_t *ctx)
{
    if (PQstatus(ctx->conn) != CONNECTION_OK)
        PQreset(ctx->conn);
    PGresult *r = PQexec(ctx->conn, "SELECT 1");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok ? 0 : -1;
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
    if (rd_kafka_query_watermark_offsets(ctx->rk, topic, partition, &lo, &hi, 1000))
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

static void h_readyz(http_ctx_t *ctx, struct evhttp_request *req, const char *rest,
                     const char *query)
{
    (void)rest, (void)query;
    if (db_ok(ctx) != 0) {
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
            http_reply_error(req, 503, "stalled", msg);
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
        rate = json_real(stats_rate(ctx->stats[i]));
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

static void h_projections(http_ctx_t *ctx, struct evhttp_request *req, const char *rest,
                          const char *query)
{
    (void)query;
    const char *name = rest && rest[0] == '/' && rest[1] ? rest + 1 : NULL;
    const mapping_t *only = NULL;
    for (size_t i = 0; name && i < mapping_set_count(ctx->set); i++)
        if (strcmp(mapping_name(mapping_set_get(ctx->set, i)), name) == 0)
            only = mapping_set_get(ctx->set, i);
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
        {"projector_rebuild_events_total", "Events the topics held when the rebuild was asked."},
        {"projector_rebuild_active", "1 while the rebuild runs (in place: until caught up)."},
    };
    rebuild_status_t *st = calloc(mapping_set_count(ctx->set) + 1, sizeof(*st));
    int *found = calloc(mapping_set_count(ctx->set) + 1, sizeof(int));
    if (!st || !found)
        abort();
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

static void h_metrics(http_ctx_t *ctx, struct evhttp_request *req, const char *rest,
                      const char *query)
{
    (void)rest, (void)query;
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
    http_reply_text(req, 200, out.data, out.len, "text/plain; version=0.0.4");
    strbuf_free(&out);
    PQclear(r);
}

static void h_openapi(http_ctx_t *ctx, struct evhttp_request *req, const char *rest,
                      const char *query)
{
    (void)ctx, (void)rest, (void)query;
    http_reply_text(req, 200, projector_openapi_json, strlen(projector_openapi_json),
                    "application/json");
}

/* ---- admin ---- */

/* Admin requests need the bearer token when one is configured, else a loopback client.
 * Returns 1 when allowed; else answers 401/403 and returns 0. */
static int admin_allowed(http_ctx_t *ctx, struct evhttp_request *req)
{
    if (*ctx->token) {
        const char *auth =
            evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        char want[512];
        snprintf(want, sizeof(want), "Bearer %s", ctx->token);
        size_t n = strlen(want), diff = !auth || strlen(auth) != n;
        for (size_t i = 0; !diff && i < n; i++) /* no early exit inside the token */
            diff |= (size_t)(auth[i] ^ want[i]);
        if (diff) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
            http_reply_error(req, 401, "unauthorized", "a valid bearer token is required");
            return 0;
        }
        return 1;
    }
    char *host = NULL;
    ev_uint16_t port;
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &host, &port);
    if (host && (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 ||
                 strcmp(host, "::ffff:127.0.0.1") == 0))
        return 1;
    http_reply_error(req, 403, "forbidden",
                     "admin endpoints answer loopback clients only unless http.token is set");
    return 0;
}

/* Is the query argument name "true" (or "1")? */
static int query_flag(struct evkeyvalq *args, const char *name)
{
    const char *v = evhttp_find_header(args, name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* POST /v1/projections/{name}/rebuild?mode=blue-green|in-place[&keep_old=true]: as
 * `projector rebuild`; the running instances carry it out. */
static void rebuild_post(http_ctx_t *ctx, struct evhttp_request *req, const mapping_t *m,
                         const char *query)
{
    struct evkeyvalq args;
    TAILQ_INIT(&args);
    if (query)
        evhttp_parse_query_str(query, &args);
    const char *mode = evhttp_find_header(&args, "mode");
    int in_place = mode && strcmp(mode, "in-place") == 0;
    int keep_old = query_flag(&args, "keep_old");
    int bad = mode && !in_place && strcmp(mode, "blue-green") != 0;
    evhttp_clear_headers(&args);
    if (bad || (keep_old && in_place)) {
        http_reply_error(req, 400, "bad_request",
                         bad ? "mode is blue-green (the default) or in-place"
                             : "keep_old is for blue-green rebuilds");
        return;
    }
    char err[1024];
    long long id = 0;
    int rc = rebuild_request(ctx->conn, ctx->rk, m, in_place, keep_old, &id, err, sizeof(err));
    if (rc == 2)
        http_reply_error(req, 409, "rebuild_refused", err);
    else if (rc != 0)
        http_reply_error(req, 503, "rebuild_failed", err);
    else
        http_reply_json(req, 202,
                        json_pack("{s:s,s:I,s:s,s:s,s:b}", "name", mapping_name(m), "id",
                                  (json_int_t)id, "mode", in_place ? "in-place" : "blue-green",
                                  "state", "requested", "keep_old", keep_old));
}

/* POST /v1/projections/{name}/rebuild/cancel: as `projector rebuild --cancel`. */
static void rebuild_cancel_post(http_ctx_t *ctx, struct evhttp_request *req, const mapping_t *m)
{
    char err[1024];
    long long id = 0;
    int rc = rebuild_cancel(ctx->conn, ctx->cfg, m, &id, err, sizeof(err));
    if (rc == 2)
        http_reply_error(req, 409, "nothing_to_cancel", err);
    else if (rc != 0)
        http_reply_error(req, 503, "database_error", err);
    else
        http_reply_json(req, 200,
                        json_pack("{s:s,s:I,s:s}", "name", mapping_name(m), "id", (json_int_t)id,
                                  "state", "cancelled"));
}

/* POST /v1/projections/{name}/pause|resume: recorded in projector.projections, which every
 * instance reads with each batch. */
static void h_projection_admin(http_ctx_t *ctx, struct evhttp_request *req, const char *rest,
                               const char *query)
{
    (void)query;
    char name[256], action[32], sub[32] = "";
    int n = sscanf(rest, "/%255[^/]/%31[^/]/%31[^/]", name, action, sub);
    int cancel = n == 3 && strcmp(action, "rebuild") == 0 && strcmp(sub, "cancel") == 0;
    if ((n != 2 && !cancel) || (strcmp(action, "pause") != 0 && strcmp(action, "resume") != 0 &&
                                strcmp(action, "rebuild") != 0)) {
        http_reply_error(req, 404, "not_found",
                         "POST /v1/projections/{name}/pause, /resume, /rebuild or "
                         "/rebuild/cancel");
        return;
    }
    const mapping_t *m = NULL;
    for (size_t i = 0; i < mapping_set_count(ctx->set); i++)
        if (strcmp(mapping_name(mapping_set_get(ctx->set, i)), name) == 0)
            m = mapping_set_get(ctx->set, i);
    if (!m) {
        http_reply_error(req, 404, "unknown_projection", "no projection of that name");
        return;
    }
    if (!admin_allowed(ctx, req))
        return;
    if (cancel) {
        rebuild_cancel_post(ctx, req, m);
        return;
    }
    if (strcmp(action, "rebuild") == 0) {
        rebuild_post(ctx, req, m, query);
        return;
    }
    int pause = strcmp(action, "pause") == 0;
    const char *params[] = {name, pause ? "true" : "false"};
    PGresult *r = PQexecParams(ctx->conn,
                               "INSERT INTO projector.projections (name, paused) VALUES ($1, $2)"
                               " ON CONFLICT (name) DO UPDATE SET paused = EXCLUDED.paused,"
                               " updated_at = now()",
                               2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        http_reply_error(req, 503, "database_error", PQerrorMessage(ctx->conn));
    else
        http_reply_json(req, 200,
                        json_pack("{s:s,s:s}", "name", name, "state", pause ? "paused" : "live"));
    PQclear(r);
}

/* ---- routing ---- */

typedef void (*handler_fn)(http_ctx_t *ctx, struct evhttp_request *req, const char *rest,
                           const char *query);

static const struct route {
    enum evhttp_cmd_type method;
    const char *prefix;
    int exact; /* the path must equal prefix; else prefix, then "" or "/..." */
    handler_fn fn;
} routes[] = {
    {EVHTTP_REQ_GET, "/healthz", 1, h_healthz},
    {EVHTTP_REQ_GET, "/readyz", 1, h_readyz},
    {EVHTTP_REQ_GET, "/metrics", 1, h_metrics},
    {EVHTTP_REQ_GET, "/v1/openapi.json", 1, h_openapi},
    {EVHTTP_REQ_GET, "/v1/views", 0, http_views},
    {EVHTTP_REQ_GET, "/v1/projections", 0, h_projections},
    {EVHTTP_REQ_POST, "/v1/projections", 0, h_projection_admin},
    {EVHTTP_REQ_GET, "/v1/search", 0, http_search},
    {EVHTTP_REQ_POST, "/v1/search", 0, http_search},
};

static void on_request(struct evhttp_request *req, void *arg)
{
    http_ctx_t *ctx = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
    if (!path)
        path = "/";
    int path_known = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t n = strlen(routes[i].prefix);
        if (strncmp(path, routes[i].prefix, n) != 0 || (routes[i].exact && path[n]) ||
            (!routes[i].exact && path[n] && path[n] != '/'))
            continue;
        path_known = 1;
        if (evhttp_request_get_command(req) != routes[i].method)
            continue;
        routes[i].fn(ctx, req, path + n, query);
        return;
    }
    if (path_known)
        http_reply_error(req, 405, "method_not_allowed", "not with this method");
    else
        http_reply_error(req, 404, "not_found", "no such endpoint (see /v1/openapi.json)");
}

static void *serve(void *arg)
{
    http_api_t *api = arg;
    event_base_dispatch(api->base);
    return NULL;
}

http_api_t *http_api_start(const config_t *cfg, const mapping_set_t *set, stats_t *const *stats,
                           size_t nstats, char *errstr, size_t errstr_size)
{
    char host[256];
    const char *listen = config_str(cfg, CFG_HTTP_LISTEN);
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
        snprintf(errstr, errstr_size, "http.listen: expected host:port, got \"%s\"", listen);
        return NULL;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    evthread_use_pthreads();
    http_api_t *api = calloc(1, sizeof(*api));
    if (!api)
        abort();
    api->ctx.set = set;
    api->ctx.cfg = cfg;
    api->ctx.stats = stats;
    api->ctx.nstats = nstats;
    api->ctx.conn = schema_connect(config_str(cfg, CFG_PG), errstr, errstr_size);
    if (!api->ctx.conn)
        goto fail;
    api->ctx.max_lag = config_int(cfg, CFG_READY_MAX_LAG);
    api->ctx.token = config_str(cfg, CFG_HTTP_TOKEN);
    rd_kafka_conf_t *kconf = kafka_conf_new(cfg, NULL, NULL, errstr, errstr_size);
    if (!kconf || !(api->ctx.rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, errstr_size))) {
        if (kconf)
            rd_kafka_conf_destroy(kconf);
        goto fail;
    }
    PQclear(PQexec(api->ctx.conn, "SET application_name = 'projector-http';"
                                  " SET statement_timeout = '10s'"));
    if (http_views_load(&api->ctx, errstr, errstr_size) != 0)
        goto fail;
    es_settings_t es = sink_es_settings(cfg);
    if (es.url && !(api->ctx.es = es_client_new(&es, errstr, errstr_size)))
        goto fail;
    api->base = event_base_new();
    api->ctx.base = api->base;
    api->http = evhttp_new(api->base);
    evhttp_set_max_headers_size(api->http, 16384);
    evhttp_set_max_body_size(api->http, 65536);
    evhttp_set_timeout(api->http, 30);
    evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(api->http, on_request, &api->ctx);
    if (evhttp_bind_socket(api->http, host, (ev_uint16_t)atoi(colon + 1)) != 0) {
        snprintf(errstr, errstr_size, "http.listen: cannot listen on %s", listen);
        goto fail;
    }
    if (pthread_create(&api->thread, NULL, serve, api) != 0) {
        snprintf(errstr, errstr_size, "cannot start the HTTP thread");
        goto fail;
    }
    LOG(LOG_INFO, "http listening on %s", listen);
    return api;
fail:
    if (api->http)
        evhttp_free(api->http);
    if (api->base)
        event_base_free(api->base);
    http_views_free(&api->ctx);
    PQfinish(api->ctx.conn);
    es_client_destroy(api->ctx.es);
    if (api->ctx.rk)
        rd_kafka_destroy(api->ctx.rk);
    free(api);
    return NULL;
}

void http_api_stop(http_api_t *api)
{
    if (!api)
        return;
    event_base_loopbreak(api->base);
    pthread_join(api->thread, NULL);
    evhttp_free(api->http);
    event_base_free(api->base);
    http_views_free(&api->ctx);
    PQfinish(api->ctx.conn);
    rd_kafka_destroy(api->ctx.rk);
    es_client_destroy(api->ctx.es);
    free(api);
}
