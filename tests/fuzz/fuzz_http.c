/* libFuzzer target: the HTTP API's request path (routing, parameter parsing, handlers, error
 * replies) with no database or search engine: every request is answered (DB-bound handlers
 * with 503 or their parameter errors) or held for its positions, and every JSON reply parses,
 * errors as {"error": {"code", "message"}}.
 *
 * Input: a method byte (even GET, odd POST), the request target up to '\n' ("path?query"),
 * header lines "Name: value\n" up to an empty line, then the body. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errlist.h"
#include "http_reply.h"
#include "http_route.h"
#include "http_views.h"
#include "mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static http_ctx_t ctx;
static http_view_t view;
static http_column_t cols[] = {{"order_id", "text"},
                               {"status", "text"},
                               {"total_amount", "numeric"},
                               {"created_at", "timestamp with time zone"}};
static const char *keys[] = {"order_id"};

static void setup(void)
{
    errlist_t *errs = errlist_new();
    const char *dir = getenv("PROJECTOR_FUZZ_HTTP_MAPPINGS");
    mapping_set_t *set = mapping_set_load(dir ? dir : PROJECTOR_SOURCE_DIR "/mappings", errs);
    if (!set || !mapping_set_count(set))
        abort();
    errlist_destroy(errs);
    config_t *cfg = config_new();
    if (config_set(cfg, "views", PROJECTOR_SOURCE_DIR "/views", "fuzz", NULL, 0) != 0)
        abort();
    view = (http_view_t){"order_detail", mapping_set_get(set, 0), keys, 1, cols, 4};
    ctx = (http_ctx_t){.cfg = cfg, .token = "", .views = &view, .nviews = 1, .set = set};
}

/* A request made from the input (see the file's comment). */
static http_req_t *request(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    char *target = strndup(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    p = nl ? nl + 1 : end;
    http_req_t *req =
        http_req_new(data[0] & 1 ? EVHTTP_REQ_POST : EVHTTP_REQ_GET, target, q, NULL, 0);
    free(target);
    while (p < end && *p != '\n') {
        nl = memchr(p, '\n', (size_t)(end - p));
        char *line = strndup(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            http_req_add_header(req, line, colon + 1 + (colon[1] == ' '));
        }
        free(line);
        p = nl ? nl + 1 : end;
    }
    p += p < end;
    free(req->body);
    req->body = malloc((size_t)(end - p) + 1);
    memcpy(req->body, p, (size_t)(end - p));
    req->body[end - p] = '\0';
    req->body_len = (size_t)(end - p);
    snprintf(req->peer, sizeof(req->peer), "127.0.0.1");
    return req;
}

static void check(const http_req_t *req)
{
    if (req->hold)
        return;
    if (req->status < 200 || req->status > 599)
        abort();
    if (!req->content_type || strcmp(req->content_type, "application/json") != 0)
        return;
    json_error_t err;
    json_t *j = json_loadb(req->out.data ? req->out.data : "", req->out.len, 0, &err);
    if (!j)
        abort(); /* a JSON reply that does not parse */
    if (req->status >= 400) {
        json_t *e = json_object_get(j, "error");
        if (!json_is_string(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "message")))
            abort(); /* an error that is not the error object */
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx.set)
        setup();
    if (size < 1)
        return 0;
    http_req_t *req = request(data, size);
    if (!http_route(&ctx, req, 1)) { /* as the loop thread, then as a worker */
        http_reply_reset(req);
        http_route(&ctx, req, 0);
    }
    check(req);
    if (req->hold) { /* released: answered now */
        req->released = 1;
        http_reply_reset(req);
        http_route(&ctx, req, 0);
        check(req);
    }
    http_req_free(req);
    return 0;
}
