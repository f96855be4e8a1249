/* Requests and replies of the HTTP API, free of libevent: the query parser that refuses what
 * cannot be a parameter (NUL bytes, invalid UTF-8), and the reply builders, which always
 * produce valid JSON whatever bytes the request held. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"
#include "xalloc.h"

static char *dup_or_null(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

http_req_t *http_req_new(enum evhttp_cmd_type method, const char *path, const char *query,
                         const char *body, size_t body_len)
{
    http_req_t *req = xcalloc(1, sizeof(*req));
    req->method = method;
    req->path = dup_or_null(path ? path : "/", strlen(path ? path : "/"));
    req->query = query ? dup_or_null(query, strlen(query)) : NULL;
    req->body = dup_or_null(body ? body : "", body ? body_len : 0);
    req->body_len = body ? body_len : 0;
    return req;
}

void http_req_add_header(http_req_t *req, const char *name, const char *value)
{
    req->headers = xrealloc(req->headers, (req->nheaders + 2) * sizeof(char *));
    req->headers[req->nheaders++] = dup_or_null(name, strlen(name));
    req->headers[req->nheaders++] = dup_or_null(value, strlen(value));
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

/* ---- UTF-8 ---- */

/* The length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    static const struct {
        unsigned char lead_min, lead_max, len, second_min, second_max;
    } forms[] = {
        {0x00, 0x7f, 1, 0, 0},       {0xc2, 0xdf, 2, 0x80, 0xbf}, {0xe0, 0xe0, 3, 0xa0, 0xbf},
        {0xe1, 0xec, 3, 0x80, 0xbf}, {0xed, 0xed, 3, 0x80, 0x9f}, {0xee, 0xef, 3, 0x80, 0xbf},
        {0xf0, 0xf0, 4, 0x90, 0xbf}, {0xf1, 0xf3, 4, 0x80, 0xbf}, {0xf4, 0xf4, 4, 0x80, 0x8f},
    };
    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        if (s[0] < forms[f].lead_min || s[0] > forms[f].lead_max)
            continue;
        size_t len = forms[f].len;
        if (len > n)
            return 0;
        if (len > 1 && (s[1] < forms[f].second_min || s[1] > forms[f].second_max))
            return 0;
        for (size_t i = 2; i < len; i++)
            if ((s[i] & 0xc0) != 0x80)
                return 0;
        return len;
    }
    return 0;
}

int http_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

void http_utf8_append(strbuf_t *sb, const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        const char *piece = len ? s + i : "\xef\xbf\xbd"; /* U+FFFD */
        size_t plen = len ? len : 3;
        if (used + plen > max) {
            strbuf_puts(sb, "...");
            return;
        }
        strbuf_append(sb, piece, plen);
        used += plen;
        i += len ? len : 1;
    }
    if (!sb->data)
        strbuf_puts(sb, "");
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

/* ---- replies ---- */

void http_reply_reset(http_req_t *req)
{
    req->status = 0;
    req->content_type = NULL;
    req->challenge = 0;
    req->hold = 0;
    strbuf_reset(&req->out);
}

void http_reply_text(http_req_t *req, int status, const char *body, size_t len,
                     const char *content_type)
{
    strbuf_reset(&req->out);
    strbuf_append(&req->out, body, len);
    req->status = status;
    req->content_type = content_type;
}

static const char internal_error[] =
    "{\"error\":{\"code\":\"internal_error\",\"message\":\"the reply could not be built\"}}";

void http_reply_json(http_req_t *req, int status, json_t *body)
{
    /* 15 significant digits: a number read from JSON text (a search document's 791.53) is
       written back as it was, not as 791.52999999999997 */
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    if (text)
        http_reply_text(req, status, text, strlen(text), "application/json");
    else
        http_reply_text(req, 500, internal_error, sizeof(internal_error) - 1, "application/json");
    free(text);
    json_decref(body);
}

void http_reply_error(http_req_t *req, int status, const char *code, const char *message)
{
    strbuf_t clean = STRBUF_INIT;
    http_utf8_append(&clean, message, strlen(message), HTTP_MAX_MESSAGE);
    size_t n = clean.len;
    while (n && (clean.data[n - 1] == '\n' || clean.data[n - 1] == ' '))
        clean.data[--n] = '\0'; /* libpq's messages end in a newline */
    http_reply_json(req, status,
                    json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", clean.data));
    strbuf_free(&clean);
}

void http_reply_errorf(http_req_t *req, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    http_reply_error(req, status, code, msg);
    free(msg);
}
