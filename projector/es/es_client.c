/* Elasticsearch / OpenSearch over HTTP (libcurl): the client, its requests, error texts and _bulk
 * (the aliased indices are in es_client_alias.c). */
#include "es_client.h"
#include "es_client_internal.h"

#define ZLIB_CONST
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "xalloc.h"

struct es_client {
    CURL *curl;        /* one easy handle: its connection is kept alive between requests */
    char *url;         /* the base URL without trailing slashes */
    char *auth_header; /* "Authorization: ApiKey ..." or NULL; never logged */
    int gzip;          /* gzip request bodies */
    strbuf_t target;   /* the URL of the current (or last) request */
    char curl_err[CURL_ERROR_SIZE];
};

/* What a request body is, for its Content-Type. */
typedef enum {
    BODY_NONE,
    BODY_JSON,   /* application/json */
    BODY_NDJSON, /* application/x-ndjson: _bulk and _msearch */
} body_kind_t;

/* How a whole-request HTTP status counts: statuses [lo, hi] are rc. */
typedef struct status_class {
    int lo, hi;
    int rc;
} status_class_t;

/* The current request's URL for messages: "%.*s" with SHOWN(c), without the query string. */
#define SHOWN(c) (int)strcspn((c)->target.data, "?"), (c)->target.data

/* ---- process-wide setup ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- settings ---- */

static int is_set(const char *s)
{
    return s && *s;
}

/* Copies url to buf with any user:password@ replaced by ***@, for messages. */
static void redact_url(const char *url, char *buf, size_t bufsz)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t auth_len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', auth_len);
    if (!at) {
        snprintf(buf, bufsz, "%s", url);
        return;
    }
    snprintf(buf, bufsz, "%.*s***%s", (int)(host - url), url, at);
}

/* Checks that url is http(s)://host[:port][/prefix] without credentials, query or fragment. */
static int check_url(const char *url, char *errstr, size_t errstr_size)
{
    char shown[512];
    if (!is_set(url)) {
        snprintf(errstr, errstr_size, "Elasticsearch URL: not set");
        return -1;
    }
    redact_url(url, shown, sizeof(shown));
    const char *sep = strstr(url, "://");
    size_t n = sep ? (size_t)(sep - url) : 0;
    if (!sep || !((n == 4 && strncasecmp(url, "http", 4) == 0) ||
                  (n == 5 && strncasecmp(url, "https", 5) == 0))) {
        snprintf(errstr, errstr_size,
                 "Elasticsearch URL \"%s\": the scheme must be http:// or https:// (as in "
                 "http://localhost:9200)",
                 shown);
        return -1;
    }
    CURLU *u = curl_url();
    if (!u)
        abort();
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    const char *problem = NULL;
    char *part = NULL;
    if (uc != CURLUE_OK)
        problem = curl_url_strerror(uc);
    else if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK)
        problem = "credentials do not belong in the URL: set the user and password (or the API "
                  "key) instead";
    else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK)
        problem = "a query string is not allowed";
    else if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK)
        problem = "a fragment is not allowed";
    curl_free(part);
    curl_url_cleanup(u);
    if (problem) {
        snprintf(errstr, errstr_size, "Elasticsearch URL \"%s\": %s", shown, problem);
        return -1;
    }
    return 0;
}

static int check_settings(const es_settings_t *s, char *errstr, size_t errstr_size)
{
    if (!s) {
        snprintf(errstr, errstr_size, "Elasticsearch: no settings");
        return -1;
    }
    if (check_url(s->url, errstr, errstr_size) != 0)
        return -1;
    const char *problem = NULL;
    if (is_set(s->password) && !is_set(s->user))
        problem = "a password is set without a user";
    else if (is_set(s->user) && is_set(s->api_key))
        problem = "set either a user and password or an API key, not both";
    else if (is_set(s->api_key) && strpbrk(s->api_key, "\r\n"))
        problem = "the API key contains a line break";
    else if (s->timeout_ms < 0)
        problem = "the timeout is negative";
    if (problem) {
        snprintf(errstr, errstr_size, "Elasticsearch %s: %s", s->url, problem);
        return -1;
    }
    if (is_set(s->ca_file) && access(s->ca_file, R_OK) != 0) {
        snprintf(errstr, errstr_size, "Elasticsearch CA file %s: %s", s->ca_file, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the client ---- */

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    if (userdata)
        strbuf_append(userdata, ptr, size * nmemb);
    return size * nmemb;
}

/* Sets the options every request shares. Returns 0, or -1 (errstr) when libcurl refuses one. */
static int setup_handle(es_client_t *c, const es_settings_t *s, char *errstr, size_t errstr_size)
{
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "projector/" PROJECTOR_VERSION);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    const char *what = NULL;
#if LIBCURL_VERSION_NUM >= 0x075500
    CURLcode prc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    CURLcode prc = curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (prc != CURLE_OK)
        what = "restricting protocols to http and https";
    else if (curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK)
        what = "accepting compressed answers";
    else if (is_set(s->user) &&
             (curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_USERNAME, s->user) != CURLE_OK ||
              curl_easy_setopt(h, CURLOPT_PASSWORD, s->password ? s->password : "") != CURLE_OK))
        what = "setting basic authentication";
    else if (is_set(s->ca_file) && curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file) != CURLE_OK)
        what = "setting the CA file";
    if (what) {
        snprintf(errstr, errstr_size, "Elasticsearch %s: %s: not supported by this libcurl", c->url,
                 what);
        return -1;
    }
    return 0;
}

es_client_t *es_client_new(const es_settings_t *settings, char *errstr, size_t errstr_size)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        snprintf(errstr, errstr_size, "curl_global_init: %s", curl_easy_strerror(global_rc));
        return NULL;
    }
    if (check_settings(settings, errstr, errstr_size) != 0)
        return NULL;
    es_client_t *c = xcalloc(1, sizeof(*c));
    c->url = xstrdup(settings->url);
    size_t n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    c->gzip = settings->gzip;
    if (is_set(settings->api_key)) {
        strbuf_t h = STRBUF_INIT;
        strbuf_printf(&h, "Authorization: ApiKey %s", settings->api_key);
        c->auth_header = h.data;
    }
    if (!(c->curl = curl_easy_init())) {
        snprintf(errstr, errstr_size, "Elasticsearch %s: curl_easy_init failed", c->url);
        goto fail;
    }
    if (setup_handle(c, settings, errstr, errstr_size) != 0)
        goto fail;
    return c;
fail:
    es_client_destroy(c);
    return NULL;
}

void es_client_destroy(es_client_t *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    if (c->auth_header) {
        explicit_bzero(c->auth_header, strlen(c->auth_header)); /* no stray copy of the key */
        free(c->auth_header);
    }
    strbuf_free(&c->target);
    free(c->url);
    free(c);
}

const char *es_client_url(const es_client_t *c)
{
    return c->url;
}

const char *es_client_target(const es_client_t *c)
{
    return c->target.data ? c->target.data : "";
}

/* ---- requests ---- */

/* Returns the gzip (RFC 1952) of in[0, n) in a new buffer of *out_len bytes, or NULL. */
static unsigned char *gzip_body(const char *in, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (n > UINT_MAX)
        return NULL;
    /* The fastest level: JSON shrinks most of what it will at level 1, and the batch waits. */
    if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong bound = deflateBound(&zs, (uLong)n);
    unsigned char *out = bound <= UINT_MAX ? xmalloc(bound) : NULL;
    if (out) {
        zs.next_in = (const Bytef *)in;
        zs.avail_in = (uInt)n;
        zs.next_out = out;
        zs.avail_out = (uInt)bound;
        if (deflate(&zs, Z_FINISH) == Z_STREAM_END) {
            *out_len = zs.total_out;
        } else {
            free(out);
            out = NULL;
        }
    }
    deflateEnd(&zs);
    return out;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *header)
{
    struct curl_slist *l = curl_slist_append(list, header);
    if (!l)
        abort();
    return l;
}

static struct curl_slist *request_headers(const es_client_t *c, body_kind_t kind, int gzipped)
{
    /* "Expect:" spares large bodies the 100-continue round trip. */
    struct curl_slist *h = add_header(NULL, "Expect:");
    if (c->auth_header)
        h = add_header(h, c->auth_header);
    if (kind == BODY_JSON)
        h = add_header(h, "Content-Type: application/json");
    else if (kind == BODY_NDJSON)
        h = add_header(h, "Content-Type: application/x-ndjson");
    else
        h = add_header(h, "Content-Type:"); /* not curl's form type for an empty POST */
    if (gzipped)
        h = add_header(h, "Content-Encoding: gzip");
    return h;
}

/* Sets the method, and the body when there is one (POST and PUT always send one). */
static void set_method(CURL *h, const char *method, const char *body, size_t body_len)
{
    int is_post = strcmp(method, "POST") == 0;
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (body || is_post || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, is_post ? NULL : method);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
    }
}

/* Performs one request. Returns the HTTP status with the answer appended to resp (may be NULL),
 * or -1 with errstr "<method> <url>: <curl's error>" when no answer came. Blocks. */
static int perform(es_client_t *c, const char *method, const char *path, body_kind_t kind,
                   const char *body, size_t body_len, strbuf_t *resp, char *errstr,
                   size_t errstr_size)
{
    strbuf_reset(&c->target);
    strbuf_puts(&c->target, c->url);
    if (path[0] != '/')
        strbuf_puts(&c->target, "/");
    strbuf_puts(&c->target, path);
    unsigned char *gz = NULL;
    size_t sent = body ? body_len : 0;
    if (body && body_len > 0 && c->gzip) {
        if (!(gz = gzip_body(body, body_len, &sent))) {
            snprintf(errstr, errstr_size, "%s %.*s: compressing the %zu-byte body failed", method,
                     SHOWN(c), body_len);
            return -1;
        }
        body = (const char *)gz;
    }
    CURL *h = c->curl;
    struct curl_slist *headers = request_headers(c, kind, gz != NULL);
    size_t resp_start = resp ? resp->len : 0;
    curl_easy_setopt(h, CURLOPT_URL, c->target.data);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    set_method(h, method, body, sent);
    c->curl_err[0] = '\0';
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    free(gz);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status <= 0) {
        const char *what = rc != CURLE_OK ? curl_easy_strerror(rc) : "no HTTP status";
        if (c->curl_err[0] && strcmp(c->curl_err, what) != 0)
            snprintf(errstr, errstr_size, "%s %.*s: %s (%s)", method, SHOWN(c), what, c->curl_err);
        else
            snprintf(errstr, errstr_size, "%s %.*s: %s", method, SHOWN(c), what);
        if (resp)
            resp->len = resp_start; /* drop a partial answer */
        if (resp && resp->data)
            resp->data[resp_start] = '\0';
        return -1;
    }
    if (log_threshold >= LOG_DEBUG) {
        curl_off_t us = 0;
        curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
        LOG(LOG_DEBUG, "es %s %s: HTTP %ld in %.1f ms, %zu bytes sent%s", method, c->target.data,
            status, (double)us / 1000.0, sent, gz ? " (gzip)" : "");
    }
    return (int)status;
}

/* Which endpoints take NDJSON. */
static const char *const ndjson_endpoints[] = {"_bulk", "_msearch"};

static body_kind_t body_kind(const char *path, const char *body)
{
    if (!body)
        return BODY_NONE;
    size_t end = strcspn(path, "?");
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    for (size_t i = 0; i < sizeof(ndjson_endpoints) / sizeof(ndjson_endpoints[0]); i++)
        if (strlen(ndjson_endpoints[i]) == end - start &&
            strncmp(path + start, ndjson_endpoints[i], end - start) == 0)
            return BODY_NDJSON;
    return BODY_JSON;
}

int es_client_request(es_client_t *c, const char *method, const char *path, const char *body,
                      size_t body_len, strbuf_t *resp, char *errstr, size_t errstr_size)
{
    return perform(c, method, path, body_kind(path, body), body, body_len, resp, errstr,
                   errstr_size);
}

/* ---- error texts ---- */

/* Appends "<type>: <reason>" of one error object (or the text of an error string). */
static void append_type_reason(strbuf_t *out, const json_t *err)
{
    if (json_is_string(err)) {
        strbuf_puts(out, json_string_value(err));
        return;
    }
    const char *type = json_string_value(json_object_get(err, "type"));
    const char *reason = json_string_value(json_object_get(err, "reason"));
    if (!type && !reason) {
        char *raw = json_dumps(err, JSON_COMPACT | JSON_ENCODE_ANY);
        strbuf_puts(out, raw ? raw : "(unreadable error)");
        free(raw);
        return;
    }
    strbuf_puts(out, type ? type : "error");
    if (reason)
        strbuf_printf(out, ": %s", reason);
}

/* Appends "<type>: <reason> (caused by <type>: <reason>)" of an ES error value. */
static void append_error(strbuf_t *out, const json_t *err)
{
    append_type_reason(out, err);
    const json_t *cause = json_object_get(err, "caused_by");
    if (json_is_object(cause)) {
        strbuf_puts(out, " (caused by ");
        append_type_reason(out, cause);
        strbuf_puts(out, ")");
    }
}

/* Returns the "error" value of an error answer (borrowed from doc), or NULL. */
static json_t *answer_error(json_t *doc)
{
    json_t *err = json_object_get(doc, "error");
    return json_is_object(err) || json_is_string(err) ? err : NULL;
}

int es_client_answer_error_is(const strbuf_t *resp, const char *type)
{
    json_t *doc = resp->data ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
    const char *t = json_string_value(json_object_get(answer_error(doc), "type"));
    int is = t && strcmp(t, type) == 0;
    json_decref(doc);
    return is;
}

void es_client_http_error(const es_client_t *c, const char *method, int status,
                          const strbuf_t *resp, char *errstr, size_t errstr_size)
{
    strbuf_t msg = STRBUF_INIT;
    strbuf_printf(&msg, "%s %.*s: HTTP %d", method, SHOWN(c), status);
    json_t *doc = resp->data ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
    json_t *err = answer_error(doc);
    if (err) {
        strbuf_puts(&msg, ": ");
        append_error(&msg, err);
    } else if (resp->len > 0) { /* not Elasticsearch's JSON: a proxy's page, say */
        strbuf_puts(&msg, ": ");
        for (size_t i = 0; i < resp->len && i < 200; i++) {
            char ch = resp->data[i];
            strbuf_append(&msg, (unsigned char)ch < ' ' ? " " : &ch, 1);
        }
    }
    json_decref(doc);
    snprintf(errstr, errstr_size, "%s", msg.data);
    strbuf_free(&msg);
}

/* ---- _bulk ---- */

/* Whole-request statuses of a _bulk that are worth retrying; every other non-2xx refuses the
 * body. Beyond 429 and 5xx: authentication and authorization (401, 403, 407), a wrong endpoint
 * (404) and a proxy's timeout (408) are about the cluster or our settings, not the batch. */
static const status_class_t bulk_retriable[] = {
    {401, 401, 1}, {403, 404, 1}, {407, 408, 1}, {429, 429, 1}, {500, 599, 1},
};

/* Per-item statuses; 404 without an error object (a delete of a missing document) is OK and
 * everything not listed is ES_ITEM_PERMANENT. A 401 or 403 item (security_exception,
 * cluster_block_exception: a read-only or closed index) is not the document's fault: retried. */
static const status_class_t item_classes[] = {
    {200, 299, ES_ITEM_OK},       {401, 401, ES_ITEM_RETRY}, {403, 403, ES_ITEM_RETRY},
    {409, 409, ES_ITEM_CONFLICT}, {429, 429, ES_ITEM_RETRY}, {500, 599, ES_ITEM_RETRY},
};

static int classify(const status_class_t *table, size_t n, int status, int otherwise)
{
    for (size_t i = 0; i < n; i++)
        if (status >= table[i].lo && status <= table[i].hi)
            return table[i].rc;
    return otherwise;
}

/* Fills *r from one answer item ({"<action>": {"status": .., "error": ..}}). Returns 0, or -1
 * when the item has no status. With trust_ok ("errors": false) every item is OK. */
static int parse_item(json_t *item, int trust_ok, es_item_result_t *r, arena_t *arena,
                      strbuf_t *text)
{
    void *it = json_object_iter(item);
    json_t *body = it ? json_object_iter_value(it) : NULL;
    json_t *status = json_object_get(body, "status");
    if (!json_is_integer(status))
        return -1;
    r->status = (int)json_integer_value(status);
    r->error = NULL;
    json_t *err = json_object_get(body, "error");
    if (trust_ok || (r->status == 404 && !err)) {
        r->rc = ES_ITEM_OK;
        return 0;
    }
    r->rc = (es_item_rc_t)classify(item_classes, sizeof(item_classes) / sizeof(item_classes[0]),
                                   r->status, ES_ITEM_PERMANENT);
    if (r->rc == ES_ITEM_OK)
        return 0;
    strbuf_reset(text);
    if (err)
        append_error(text, err);
    else
        strbuf_printf(text, "HTTP %d", r->status);
    r->error = arena_strndup(arena, text->data, text->len);
    return 0;
}

int es_client_parse_bulk(const char *resp, size_t resp_len, size_t nitems,
                         es_item_result_t *results, arena_t *arena, char *errstr,
                         size_t errstr_size)
{
    json_error_t jerr;
    json_t *doc = json_loadb(resp, resp_len, 0, &jerr);
    if (!doc) {
        snprintf(errstr, errstr_size, "_bulk answer: unparsable JSON at line %d column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        return -1;
    }
    int rc = -1;
    json_t *items = json_object_get(doc, "items");
    if (!json_is_array(items)) {
        snprintf(errstr, errstr_size, "_bulk answer: no \"items\" array");
        goto out;
    }
    if (json_array_size(items) != nitems) {
        snprintf(errstr, errstr_size, "_bulk answer has %zu items for %zu actions",
                 json_array_size(items), nitems);
        goto out;
    }
    /* "errors": false says every item succeeded: no item needs classifying. */
    int trust_ok = json_is_false(json_object_get(doc, "errors"));
    strbuf_t text = STRBUF_INIT;
    rc = 0;
    for (size_t i = 0; i < nitems && rc == 0; i++) {
        if (parse_item(json_array_get(items, i), trust_ok, &results[i], arena, &text) != 0) {
            snprintf(errstr, errstr_size, "_bulk answer: item %zu has no status", i);
            rc = -1;
        }
    }
    strbuf_free(&text);
out:
    json_decref(doc);
    return rc;
}

int es_client_bulk(es_client_t *c, const char *body, size_t body_len, size_t nitems,
                   es_item_result_t *results, arena_t *arena, char *errstr, size_t errstr_size)
{
    static const char method[] = "POST";
    /* filter_path keeps the answer to what is read here. */
    static const char path[] = "/_bulk?filter_path=errors,items.*.status,items.*.error";
    strbuf_t resp = STRBUF_INIT;
    int rc,
        status = perform(c, method, path, BODY_NDJSON, body, body_len, &resp, errstr, errstr_size);
    if (status < 0) {
        rc = -1;
    } else if (status >= 200 && status <= 299) {
        char err[512];
        rc = es_client_parse_bulk(resp.data ? resp.data : "", resp.len, nitems, results, arena, err,
                                  sizeof(err));
        if (rc != 0)
            snprintf(errstr, errstr_size, "%s %.*s: %s", method, SHOWN(c), err);
    } else {
        es_client_http_error(c, method, status, &resp, errstr, errstr_size);
        rc = classify(bulk_retriable, sizeof(bulk_retriable) / sizeof(bulk_retriable[0]), status, 0)
                 ? -1
                 : -2;
    }
    strbuf_free(&resp);
    return rc;
}
