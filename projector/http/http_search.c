/* GET/POST /v1/search/{index}: searches an index the mappings write, through the search engine.
 *
 * GET takes q=TEXT (matched against every text and keyword field of the index's definition),
 * filter.FIELD=VALUE (exact: a term filter), FIELD=VALUE (a match: exact on keyword fields,
 * analysed on text fields), limit or size, from, and sort=field[:asc|desc][,...]; all conditions
 * must hold. POST takes a search body (query, size, from, sort, _source, search_after,
 * track_total_hits) as the engine's _search API does. Both answer {"index", "total", "hits":
 * [{"id", "score", "document"}]}. Documents are visible once the index refreshes (its
 * refresh_interval, 1 s by default). */
#include "http_search.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_reply.h"
#include "sink_es.h"
#include "strbuf.h"
#include "xalloc.h"

#define SEARCH_MAX_WINDOW 10000 /* from + size, as the engine's default max_result_window */

/* The mapping that writes index, or NULL. */
static const mapping_t *index_owner(const http_ctx_t *ctx, const char *index)
{
    for (size_t i = 0; i < mapping_set_count(ctx->set); i++) {
        const mapping_t *m = mapping_set_get(ctx->set, i);
        for (size_t k = 0; k < mapping_index_count(m); k++)
            if (strcmp(mapping_index(m, k), index) == 0)
                return m;
    }
    return NULL;
}

/* q=TEXT: a match on each text and keyword field of the index's definition, any of which may
 * hold (the definition's top-level properties). Returns the query, or NULL when the definition
 * cannot be read or names no such field (errstr). */
static json_t *text_query(const http_ctx_t *ctx, const mapping_t *m, const char *index,
                          const char *text, char *errstr, size_t errsz)
{
    static const char *const searchable[] = {"text", "keyword", NULL}; /* field types */
    char *def = NULL;
    if (sink_es_definition(ctx->cfg, m, index, &def, errstr, errsz) != 0)
        return NULL;
    json_t *root = json_loads(def, 0, NULL);
    free(def);
    json_t *props = json_object_get(json_object_get(root, "mappings"), "properties");
    json_t *should = json_array();
    const char *name;
    json_t *p;
    json_object_foreach(props, name, p)
    {
        if (http_req_choice(json_string_value(json_object_get(p, "type")), searchable) >= 0)
            json_array_append_new(should, json_pack("{s:{s:s}}", "match", name, text));
    }
    json_decref(root);
    if (!json_array_size(should)) {
        snprintf(errstr, errsz, "q: the index's definition has no text or keyword field");
        json_decref(should);
        return NULL;
    }
    return json_pack("{s:{s:o,s:i}}", "bool", "should", should, "minimum_should_match", 1);
}

static int parse_count(const char *s, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Adds sort=field[:asc|desc][,...] to body. Returns 0 or -1. */
static int add_sort(json_t *body, const char *spec)
{
    static const char *const orders[] = {"asc", "desc", NULL};
    json_t *sort = json_array();
    char *copy = xstrdup(spec), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        const char *order = "asc";
        if (colon) {
            *colon = '\0';
            order = colon + 1;
        }
        if (!*tok || http_req_choice(order, orders) < 0)
            rc = -1;
        else
            json_array_append_new(sort, json_pack("{s:{s:s}}", tok, "order", order));
    }
    free(copy);
    json_object_set_new(body, "sort", sort);
    return rc;
}

/* A GET search being built from the query parameters. */
typedef struct search_query {
    const http_ctx_t *ctx;
    const mapping_t *m;
    const char *index;
    json_t *body, *must, *filter; /* the search body; the bool query's must and filter */
    long size, from;
    char why[300]; /* a refusal that is not a constant */
} search_query_t;

/* Adds cond (taken) to into; returns NULL, or why it could not be built. */
static const char *add_cond(search_query_t *s, json_t *into, json_t *cond)
{
    if (!cond || json_array_append_new(into, cond) != 0) {
        snprintf(s->why, sizeof(s->why), "a condition could not be built from a parameter");
        return s->why;
    }
    return NULL;
}

/* The parameters (param_fn: returns NULL, or why kv is refused). */
typedef const char *(*param_fn)(search_query_t *s, const http_arg_t *kv);

static const char *p_text(search_query_t *s, const http_arg_t *kv)
{
    json_t *cond = text_query(s->ctx, s->m, s->index, kv->value, s->why, sizeof(s->why));
    return cond ? add_cond(s, s->must, cond) : s->why;
}

static const char *p_filter(search_query_t *s, const http_arg_t *kv)
{
    return add_cond(s, s->filter, json_pack("{s:{s:s}}", "term", kv->key + 7, kv->value));
}

static const char *p_size(search_query_t *s, const http_arg_t *kv)
{
    return parse_count(kv->value, SEARCH_MAX_WINDOW, &s->size) ? "limit (size): expected 0 to 10000"
                                                               : NULL;
}

static const char *p_from(search_query_t *s, const http_arg_t *kv)
{
    return parse_count(kv->value, SEARCH_MAX_WINDOW, &s->from) ? "from: expected 0 to 10000" : NULL;
}

static const char *p_sort(search_query_t *s, const http_arg_t *kv)
{
    return add_sort(s->body, kv->value) ? "sort: expected field[:asc|desc][,field[:asc|desc]...]"
                                        : NULL;
}

static const char *p_unnamed(search_query_t *s, const http_arg_t *kv)
{
    (void)s, (void)kv;
    return "a parameter without a name";
}

/* Any other name: a match on the field of that name. */
static const char *p_match(search_query_t *s, const http_arg_t *kv)
{
    return add_cond(s, s->must, json_pack("{s:{s:s}}", "match", kv->key, kv->value));
}

static const struct search_param {
    const char *name;
    int prefix; /* name is a prefix, followed by at least one character (the field) */
    param_fn fn;
} search_params[] = {
    {"q", 0, p_text},    {"filter.", 1, p_filter}, {"size", 0, p_size}, {"limit", 0, p_size},
    {"from", 0, p_from}, {"sort", 0, p_sort},      {"", 0, p_unnamed},
};

/* Adds one query parameter to the search (see search_params). Returns NULL, or why the
 * parameter is refused. */
static const char *add_param(search_query_t *s, const http_arg_t *kv)
{
    for (size_t i = 0; i < sizeof(search_params) / sizeof(search_params[0]); i++) {
        const struct search_param *p = &search_params[i];
        size_t n = strlen(p->name);
        if (p->prefix ? strncmp(kv->key, p->name, n) == 0 && kv->key[n]
                      : strcmp(kv->key, p->name) == 0)
            return p->fn(s, kv);
    }
    return p_match(s, kv);
}

/* Builds the search body of a GET. Returns it, or NULL after answering 400. */
static json_t *body_of_query(const http_ctx_t *ctx, const mapping_t *m, const char *index,
                             http_req_t *req)
{
    search_query_t s = {.ctx = ctx, .m = m, .index = index, .size = 10, .from = 0};
    s.body = json_object();
    s.must = json_array();
    s.filter = json_array();
    const char *bad = NULL;
    for (size_t i = 0; i < req->nargs && !bad; i++)
        bad = add_param(&s, &req->args[i]);
    if (!bad && s.size + s.from > SEARCH_MAX_WINDOW)
        bad = "from + size: at most 10000";
    if (bad) {
        http_reply_error(req, 400, "invalid_query", bad);
        json_decref(s.must);
        json_decref(s.filter);
        json_decref(s.body);
        return NULL;
    }
    json_object_set_new(s.body, "size", json_integer(s.size));
    json_object_set_new(s.body, "from", json_integer(s.from));
    if (json_array_size(s.must) || json_array_size(s.filter)) {
        json_object_set_new(s.body, "query",
                            json_pack("{s:{s:o,s:o}}", "bool", "must", s.must, "filter", s.filter));
    } else {
        json_decref(s.must);
        json_decref(s.filter);
        json_object_set_new(s.body, "query", json_pack("{s:{}}", "match_all"));
    }
    return s.body;
}

/* Reads the search body of a POST. Returns it, or NULL after answering 400. */
static json_t *body_of_post(http_req_t *req)
{
    static const char *const allowed[] = {
        "query", "size", "from", "sort", "search_after", "_source", "track_total_hits", NULL};
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(body)) {
        http_reply_errorf(req, 400, "invalid_body", "the body is not a JSON object: %s",
                          body ? "another JSON value" : jerr.text);
        json_decref(body);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (http_req_choice(key, allowed) < 0) {
            http_reply_errorf(req, 400, "invalid_body",
                              "$.%s: not a search key here (query, size, from, sort, "
                              "search_after, _source, track_total_hits)",
                              key);
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

/* Answers with the hits of an engine's _search answer. */
static void reply_hits(http_req_t *req, const char *index, const strbuf_t *resp)
{
    json_t *r = json_loadb(resp->data, resp->len, 0, NULL);
    json_t *hits = json_object_get(json_object_get(r, "hits"), "hits");
    json_t *total = json_object_get(json_object_get(r, "hits"), "total");
    if (!json_is_array(hits)) {
        http_reply_error(req, 502, "search_failed", "the search engine's answer has no hits");
        json_decref(r);
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h)
    {
        json_t *item =
            json_pack("{s:O?,s:O?,s:O?}", "id", json_object_get(h, "_id"), "score",
                      json_object_get(h, "_score"), "document", json_object_get(h, "_source"));
        json_t *sort = json_object_get(h, "sort");
        if (sort)
            json_object_set(item, "sort", sort);
        json_array_append_new(out, item);
    }
    json_t *n = json_is_object(total) ? json_object_get(total, "value") : total;
    http_reply_json(req, 200, json_pack("{s:s,s:O?,s:o}", "index", index, "total", n, "hits", out));
    json_decref(r);
}

/* The engine's error as "type: reason", for a 4xx. */
static void reply_engine_error(http_req_t *req, int status, const strbuf_t *resp)
{
    json_t *r = json_loadb(resp->data ? resp->data : "", resp->len, 0, NULL);
    json_t *e = json_object_get(r, "error");
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *reason = json_string_value(json_object_get(e, "reason"));
    strbuf_t msg = STRBUF_INIT;
    strbuf_printf(&msg, "%s: %s", type ? type : "error",
                  reason              ? reason
                  : json_is_string(e) ? json_string_value(e)
                                      : "the search was refused");
    if (status == 404)
        http_reply_error(req, 404, "index_not_found", msg.data);
    else if (status == 429 || status >= 500)
        http_reply_error(req, 503, "search_unavailable", msg.data);
    else
        http_reply_error(req, 400, "invalid_search", msg.data);
    strbuf_free(&msg);
    json_decref(r);
}

void http_search(http_ctx_t *ctx, http_req_t *req, const char *rest)
{
    char *index = NULL;
    if (*rest == '/' && http_decode(rest + 1, strlen(rest + 1), 0, &index) != 0) {
        http_reply_error(req, 400, "invalid_path",
                         "index name: a NUL byte or invalid UTF-8 after percent-decoding");
        return;
    }
    const mapping_t *m = index && *index && !strchr(index, '/') ? index_owner(ctx, index) : NULL;
    if (!m) {
        http_reply_error(req, 404, "unknown_index", "no mapping writes an index of that name");
        free(index);
        return;
    }
    json_t *body = /* parameters first: a bad one is a 400 whether the engine answers or not */
        req->method == EVHTTP_REQ_POST ? body_of_post(req) : body_of_query(ctx, m, index, req);
    if (body && !ctx->es) {
        http_reply_error(req, 503, "search_unavailable", "no Elasticsearch URL is set (es.url)");
        json_decref(body);
    } else if (body) {
        char *text = json_dumps(body, JSON_COMPACT), path[600], err[512];
        snprintf(path, sizeof(path), "/%s/_search", index); /* index: a name the mappings hold */
        strbuf_t resp = STRBUF_INIT;
        int status =
            es_client_request(ctx->es, "POST", path, text, strlen(text), &resp, err, sizeof(err));
        if (status < 0)
            http_reply_error(req, 503, "search_unavailable", err);
        else if (status == 200)
            reply_hits(req, index, &resp);
        else
            reply_engine_error(req, status, &resp);
        strbuf_free(&resp);
        free(text);
        json_decref(body);
    }
    free(index);
}
