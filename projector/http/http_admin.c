/* The admin endpoints: POST /v1/projections/{name}/pause, /resume, /rebuild, /rebuild/cancel.
 *
 * With http.token set they want "Authorization: Bearer <token>" (the whole token, compared in
 * constant time). Without one they answer only a loopback client whose request names a
 * loopback Host and, when it has one, a loopback Origin: a web page on another site cannot
 * drive them through the user's browser, neither directly (its Origin) nor by DNS rebinding
 * (its Host). */
#include "http_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_reply.h"
#include "rebuild.h"

/* Does the whole of auth equal "Bearer <token>"? Constant time in the token's bytes. */
static int token_matches(const char *auth, const char *token)
{
    if (!auth || strncmp(auth, "Bearer ", 7) != 0)
        return 0;
    auth += 7;
    size_t n = strlen(token), m = strlen(auth);
    unsigned diff = n != m;
    for (size_t i = 0; i < m; i++) /* no early exit inside the token */
        diff |= (unsigned char)auth[i] ^ (unsigned char)token[i % n];
    return diff == 0;
}

/* Is host[0..n) a loopback name or address: localhost, 127.x.x.x, ::1, [::1]? */
static int loopback_host(const char *host, size_t n)
{
    static const char *const names[] = {"localhost", "::1", "[::1]", "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && strncasecmp(host, names[i], n) == 0)
            return 1;
    unsigned a, b, c, d;
    char end;
    char buf[64];
    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, host, n);
    buf[n] = '\0';
    return sscanf(buf, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

/* Is authority "host[:port]" loopback? */
static int loopback_authority(const char *s)
{
    size_t n = strlen(s);
    const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
    if (colon && s[0] == '[')
        colon++;
    else if (colon && strchr(s, ':') != colon)
        colon = NULL; /* a bare IPv6 address */
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1))
        n = (size_t)(colon - s);
    return loopback_host(s, n);
}

/* Is origin "scheme://authority" loopback? */
static int loopback_origin(const char *origin)
{
    const char *sep = strstr(origin, "://");
    return sep && loopback_authority(sep + 3);
}

/* Admin requests need the bearer token when one is configured, else a loopback client (see
 * the file's comment). Returns 1 when allowed; else answers 401/403 and returns 0. */
static int admin_allowed(http_ctx_t *ctx, http_req_t *req)
{
    if (*ctx->token) {
        if (!token_matches(http_req_header(req, "Authorization"), ctx->token)) {
            req->challenge = 1;
            http_reply_error(req, 401, "unauthorized", "a valid bearer token is required");
            return 0;
        }
        return 1;
    }
    const char *host = http_req_header(req, "Host"), *origin = http_req_header(req, "Origin");
    const char *why = !loopback_host(req->peer, strlen(req->peer)) ? "loopback clients only"
                      : host && !loopback_authority(host)          ? "a loopback Host only"
                      : origin && !loopback_origin(origin)         ? "no cross-site Origin"
                                                                   : NULL;
    if (!why)
        return 1;
    http_reply_errorf(req, 403, "forbidden",
                      "without http.token, admin endpoints answer %s (set http.token to allow "
                      "other clients with the token)",
                      why);
    return 0;
}

/* Is the query argument name "true" (or "1")? */
static int query_flag(const http_req_t *req, const char *name)
{
    static const char *const yes[] = {"true", "1", NULL};
    return http_req_choice(http_req_arg(req, name), yes) >= 0;
}

/* POST /v1/projections/{name}/rebuild?mode=blue-green|in-place[&keep_old=true]: as
 * `projector rebuild`; the running instances carry it out. */
static void rebuild_post(http_ctx_t *ctx, http_req_t *req, const mapping_t *m)
{
    static const char *const modes[] = {"blue-green", "in-place", NULL}; /* in_place: 1 */
    const char *mode = http_req_arg(req, "mode");
    int in_place = http_req_choice(mode, modes) == 1;
    int keep_old = query_flag(req, "keep_old");
    int bad = mode && http_req_choice(mode, modes) < 0;
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
static void rebuild_cancel_post(http_ctx_t *ctx, http_req_t *req, const mapping_t *m)
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
static void pause_post(http_ctx_t *ctx, http_req_t *req, const mapping_t *m, int pause)
{
    const char *params[] = {mapping_name(m), pause ? "true" : "false"};
    PGresult *r = PQexecParams(ctx->conn,
                               "INSERT INTO projector.projections (name, paused) VALUES ($1, $2)"
                               " ON CONFLICT (name) DO UPDATE SET paused = EXCLUDED.paused,"
                               " updated_at = now()",
                               2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        http_reply_error(req, 503, "database_error", PQerrorMessage(ctx->conn));
    else
        http_reply_json(
            req, 200,
            json_pack("{s:s,s:s}", "name", mapping_name(m), "state", pause ? "paused" : "live"));
    PQclear(r);
}

static void pause_action(http_ctx_t *ctx, http_req_t *req, const mapping_t *m)
{
    pause_post(ctx, req, m, 1);
}

static void resume_action(http_ctx_t *ctx, http_req_t *req, const mapping_t *m)
{
    pause_post(ctx, req, m, 0);
}

/* The admin actions: what follows /v1/projections/{name}/. */
static const struct admin_action {
    enum evhttp_cmd_type method;
    const char *action;
    void (*fn)(http_ctx_t *ctx, http_req_t *req, const mapping_t *m);
} admin_actions[] = {
    {EVHTTP_REQ_POST, "pause", pause_action},
    {EVHTTP_REQ_POST, "resume", resume_action},
    {EVHTTP_REQ_POST, "rebuild", rebuild_post},
    {EVHTTP_REQ_POST, "rebuild/cancel", rebuild_cancel_post},
};

/* The action of rest ("/{name}/{action}[/{sub}]", name into name[0..256)), or NULL. */
static const struct admin_action *find_action(const http_req_t *req, const char *rest,
                                              char name[256])
{
    char action[32], sub[32] = "", key[64];
    int n = sscanf(rest, "/%255[^/]/%31[^/]/%31[^/]", name, action, sub);
    if (n < 2)
        return NULL;
    snprintf(key, sizeof(key), "%s%s%s", action, n == 3 ? "/" : "", n == 3 ? sub : "");
    for (size_t i = 0; i < sizeof(admin_actions) / sizeof(admin_actions[0]); i++)
        if (admin_actions[i].method == req->method && strcmp(admin_actions[i].action, key) == 0)
            return &admin_actions[i];
    return NULL;
}

void http_admin(http_ctx_t *ctx, http_req_t *req, const char *rest)
{
    char name[256];
    const struct admin_action *a = find_action(req, rest, name);
    if (!a) {
        http_reply_error(req, 404, "not_found",
                         "POST /v1/projections/{name}/pause, /resume, /rebuild or "
                         "/rebuild/cancel");
        return;
    }
    const mapping_t *m = http_ctx_projection(ctx, name);
    if (!m) {
        http_reply_error(req, 404, "unknown_projection", "no projection of that name");
        return;
    }
    if (!admin_allowed(ctx, req))
        return;
    if (!ctx->conn)
        http_reply_error(req, 503, "database_unavailable", "no database connection");
    else
        a->fn(ctx, req, m);
}
