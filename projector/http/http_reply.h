/* Replies of the HTTP API: a handler answers a request by filling its reply with one of these;
 * the loop thread sends it. Every JSON reply is valid JSON whatever bytes the request held, and
 * every error is {"error": {"code": code, "message": message}}. */
#ifndef PROJECTOR_HTTP_REPLY_H
#define PROJECTOR_HTTP_REPLY_H

#include <jansson.h>
#include <stddef.h>

#include "http_req.h"

#define HTTP_MAX_MESSAGE 1024 /* bytes of an error message; longer ones end in "..." */

/* Resets the reply (to answer the request again). */
void http_reply_reset(http_req_t *req);
/* Answers with a JSON body (taken: the reference is released on every path). NULL (a
 * json_pack() that failed) answers 500 internal_error instead. */
void http_reply_json(http_req_t *req, int status, json_t *body);
/* Answers with a body as it is (copied); content_type is borrowed and must outlive req (a
 * constant). */
void http_reply_text(http_req_t *req, int status, const char *body, size_t len,
                     const char *content_type);
/* Answers {"error": {"code": code, "message": message}}; message may hold request bytes: it is
 * made valid UTF-8 and bounded (HTTP_MAX_MESSAGE). */
void http_reply_error(http_req_t *req, int status, const char *code, const char *message);
void http_reply_errorf(http_req_t *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
