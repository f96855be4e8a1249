/* GET/POST /v1/search/{index}: searches an index the mappings write, through the search engine.
 *
 * GET takes q=TEXT (matched against every text and keyword field of the index's definition),
 * filter.FIELD=VALUE (exact: a term filter), FIELD=VALUE (a match: exact on keyword fields,
 * analysed on text fields), limit or size, from, and sort=field[:asc|desc][,...]; all conditions
 * must hold. POST takes a search body (query, size, from, sort, _source, search_after,
 * track_total_hits) as the engine's _search API does. Both answer {"index", "total", "hits":
 * [{"id", "score", "document"}]}. Documents are visible once the index refreshes (its
 * refresh_interval, 1 s by default). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "sink_es.h"
#include "strbuf.h"

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
        const char *type = json_string_value(json_object_get(p, "type"));
        if (type && (strcmp(type, "text") == 0 || strcmp(type, "keyword") == 0))
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
    json_t *sort = json_array();
    char *copy = strdup(spec), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        const char *order = "asc";
        if (colon) {
            *colon = '\0';
            order = colon + 1;
        }
        if (!*tok || (strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0))
            rc = -1;
        else
            json_array_append_new(sort, json_pack("{s:{s:s}}", tok, "order", order));
    }
    free(copy);
    json_object_set_new(body, "sort", sort);
    return rc;
}

/* Adds one query parameter to the bool query's must or filter (or to body). Returns NULL, or
 * why the parameter is refused (in why, or a constant). */
static const char *add_param(const http_ctx_t *ctx, const mapping_t *m, const char *index,
                             const http_arg_t *kv, json_t *body, json_t *must, json_t *filter,
                             long *size, long *from, char *why, size_t whysz)
{
    json_t *cond = NULL, *into = must;
    if (strcmp(kv->key, "q") == 0) {
        if (!(cond = text_query(ctx, m, index, kv->value, why, whysz)))
            return why;
    } else if (strncmp(kv->key, "filter.", 7) == 0 && kv->key[7]) {
        cond = json_pack("{s:{s:s}}", "term", kv->key + 7, kv->value);
        into = filter;
    } else if (strcmp(kv->key, "size") == 0 || strcmp(kv->key, "limit") == 0) {
        return parse_count(kv->value, SEARCH_MAX_WINDOW, size) ? "limit (size): expected 0 to 10000"
                                                               : NULL;
    } else if (strcmp(kv->key, "from") == 0) {
        return parse_count(kv->value, SEARCH_MAX_WINDOW, from) ? "from: expected 0 to 10000" : NULL;
    } else if (strcmp(kv->key, "sort") == 0) {
        return add_sort(body, kv->value) ? "sort: expected field[:asc|desc][,field[:asc|desc]...]"
                                         : NULL;
    } else if (!*kv->key) {
        return "a parameter without a name";
    } else {
        cond = json_pack("{s:{s:s}}", "match", kv->key, kv->value);
    }
    if (!cond || json_array_append_new(into, cond) != 0) {
        snprintf(why, whysz, "a condition could not be built from a parameter");
        return why;
    }
    return NULL;
}

/* Builds the search body of a GET. Returns it, or NULL after answering 400. */
static json_t *body_of_query(const http_ctx_t *ctx, const mapping_t *m, const char *index,
                             http_req_t *req)
{
    json_t *body = json_object(), *must = json_array(), *filter = json_array();
    long size = 10, from = 0;
    const char *bad = NULL;
    char why[300];
    for (size_t i = 0; i < req->nargs && !bad; i++)
        bad = add_param(ctx, m, index, &req->args[i], body, must, filter, &size, &from, why,
                        sizeof(why));
    if (!bad && size + from > SEARCH_MAX_WINDOW)
        bad = "from + size: at most 10000";
    if (bad) {
        http_reply_error(req, 400, "invalid_query", bad);
        json_decref(must);
        json_decref(filter);
        json_decref(body);
        return NULL;
    }
    json_object_set_new(body, "size", json_integer(size));
    json_object_set_new(body, "from", json_integer(from));
    if (json_array_size(must) || json_array_size(filter)) {
        json_object_set_new(body, "query",
                            json_pack("{s:{s:o,s:o}}", "bool", "must", must, "filter", filter));
    } else {
        json_decref(must);
        json_decref(filter);
        json_object_set_new(body, "query", json_pack("{s:{}}", "match_all"));
    }
    return body;
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
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, key) == 0;
        if (!ok) {
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
    char *msg = NULL;
    if (asprintf(&msg, "%s: %s",
                 json_string_value(json_object_get(e, "type"))
                     ? json_string_value(json_object_get(e, "type"))
                     : "error",
                 json_string_value(json_object_get(e, "reason"))
                     ? json_string_value(json_object_get(e, "reason"))
                     : (json_is_string(e) ? json_string_value(e) : "the search was refused")) < 0)
        abort();
    if (status == 404)
        http_reply_error(req, 404, "index_not_found", msg);
    else if (status == 429 || status >= 500)
        http_reply_error(req, 503, "search_unavailable", msg);
    else
        http_reply_error(req, 400, "invalid_search", msg);
    free(msg);
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
