/* Replies of the HTTP API: the builders every handler answers with; they always produce valid
 * JSON whatever bytes the request held. */
#include "http_reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_utf8.h"
#include "xalloc.h"

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
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    msg[0] = '\0';
    if (n > 0)
        vsnprintf(msg, (size_t)n + 1, fmt, again);
    va_end(again);
    http_reply_error(req, status, code, msg);
    free(msg);
}
