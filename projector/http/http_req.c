/* Requests of the HTTP API, free of libevent: their copies of what the client sent, and the
 * query parser that refuses what cannot be a parameter (NUL bytes, invalid UTF-8). */
#include "http_req.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_reply.h"
#include "http_utf8.h"
#include "xalloc.h"

http_req_t *http_req_new(enum evhttp_cmd_type method, const char *path, const char *query,
                         const char *body, size_t body_len)
{
    http_req_t *req = xcalloc(1, sizeof(*req));
    req->method = method;
    req->path = xstrdup(path ? path : "/");
    req->query = xstrdup_or_null(query);
    req->body = xstrndup(body ? body : "", body ? body_len : 0);
    req->body_len = body ? body_len : 0;
    return req;
}

void http_req_add_header(http_req_t *req, const char *name, const char *value)
{
    req->headers = xrealloc(req->headers, (req->nheaders + 2) * sizeof(char *));
    req->headers[req->nheaders++] = xstrdup(name);
    req->headers[req->nheaders++] = xstrdup(value);
}

static void free_args(http_req_t *req)
{
    for (size_t i = 0; i < req->nargs; i++) {
        free(req->args[i].key);
        free(req->args[i].value);
    }
    free(req->args);
    req->args = NULL;
    req->nargs = 0;
}

void http_req_free(http_req_t *req)
{
    if (!req)
        return;
    free_args(req);
    for (size_t i = 0; i < req->nheaders; i++)
        free(req->headers[i]);
    for (size_t i = 0; i < req->nwait; i++)
        free(req->wait_topics[i]);
    free(req->wait_topics);
    free(req->wait_parts);
    free(req->wait_offsets);
    free(req->headers);
    free(req->path);
    free(req->query);
    free(req->body);
    strbuf_free(&req->out);
    PQclear(req->result);
    free(req);
}

const char *http_req_header(const http_req_t *req, const char *name)
{
    for (size_t i = 0; i + 1 < req->nheaders; i += 2)
        if (strcasecmp(req->headers[i], name) == 0)
            return req->headers[i + 1];
    return NULL;
}

const char *http_req_arg(const http_req_t *req, const char *name)
{
    for (size_t i = 0; i < req->nargs; i++)
        if (strcmp(req->args[i].key, name) == 0)
            return req->args[i].value;
    return NULL;
}

int http_req_choice(const char *value, const char *const *names)
{
    for (int i = 0; value && names[i]; i++)
        if (strcmp(value, names[i]) == 0)
            return i;
    return -1;
}

/* ---- the query string ---- */

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

int http_decode(const char *s, size_t n, int plus, char **out)
{
    char *d = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
        if (s[i] == '%' && hi >= 0 && lo >= 0) {
            d[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[o++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    d[o] = '\0';
    if (memchr(d, '\0', o) || !http_utf8_valid(d, o)) {
        free(d);
        *out = NULL;
        return -1;
    }
    *out = d;
    return 0;
}

/* Answers 400 for a parameter that does not decode; names it as far as it can be shown. */
static void reply_bad_arg(http_req_t *req, const char *raw, size_t n, const char *what)
{
    strbuf_t name = STRBUF_INIT;
    http_utf8_append(&name, raw, n, 200);
    http_reply_errorf(req, 400, "invalid_parameter",
                      "%s: %s (a NUL byte or invalid UTF-8 after percent-decoding)", name.data,
                      what);
    strbuf_free(&name);
}

int http_req_parse_args(http_req_t *req)
{
    free_args(req);
    const char *q = req->query;
    if (!q)
        return 0;
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        if (len) {
            if (req->nargs == HTTP_MAX_ARGS) {
                http_reply_errorf(req, 400, "too_many_parameters",
                                  "the query string has more than %d parameters", HTTP_MAX_ARGS);
                return -1;
            }
            char *key, *value;
            if (http_decode(q, klen, 1, &key) != 0) {
                reply_bad_arg(req, q, klen, "the parameter's name does not decode");
                return -1;
            }
            if (http_decode(eq ? eq + 1 : "", eq ? len - klen - 1 : 0, 1, &value) != 0) {
                strbuf_t name = STRBUF_INIT;
                http_utf8_append(&name, key, strlen(key), 200);
                http_reply_errorf(req, 400, "invalid_parameter",
                                  "%s: the value does not decode (a NUL byte or invalid UTF-8 "
                                  "after percent-decoding)",
                                  name.data);
                strbuf_free(&name);
                free(key);
                return -1;
            }
            req->args = xrealloc(req->args, (req->nargs + 1) * sizeof(*req->args));
            req->args[req->nargs].key = key;
            req->args[req->nargs++].value = value;
        }
        q += len + (q[len] == '&');
    }
    return 0;
}
