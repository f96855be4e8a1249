/* Read-your-writes, on a worker: a read carrying min_position=topic:partition:offset[,...] (or
 * the header X-Min-Position) is validated here and marked held; the loop thread holds it until
 * the positions are applied (http_waits.c). */
#include "http_wait.h"

#include <stdlib.h>
#include <string.h>

#include "http_reply.h"
#include "http_utf8.h"
#include "xalloc.h"

#define WAIT_MS_DEFAULT 5000
#define WAIT_MS_MAX 30000

/* ---- on a worker: validation ---- */

/* Parses "topic:partition:offset[,...]" into req's wait arrays; returns NULL or the problem. */
static const char *parse_positions(http_req_t *req, const char *spec)
{
    if (!http_utf8_valid(spec, strlen(spec)))
        return "not valid UTF-8";
    char *copy = xstrdup(spec), *save = NULL;
    const char *bad = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && !bad; item = strtok_r(NULL, ",", &save)) {
        char *c2 = strrchr(item, ':');
        char *c1 = c2 ? memrchr(item, ':', (size_t)(c2 - item)) : NULL;
        char *end1 = NULL, *end2 = NULL;
        long part = c1 ? strtol(c1 + 1, &end1, 10) : -1;
        long long off = c2 ? strtoll(c2 + 1, &end2, 10) : -1;
        if (!c1 || c1 == item || part < 0 || part > INT32_MAX || end1 != c2 || off < 0 || *end2) {
            bad = "expected topic:partition:offset[,...]";
            break;
        }
        if (req->nwait == HTTP_MAX_POSITIONS) {
            bad = "more than " HTTP_STR(HTTP_MAX_POSITIONS) " positions";
            break;
        }
        *c1 = '\0';
        req->wait_topics = xrealloc(req->wait_topics, (req->nwait + 1) * sizeof(char *));
        req->wait_parts = xrealloc(req->wait_parts, (req->nwait + 1) * sizeof(int32_t));
        req->wait_offsets = xrealloc(req->wait_offsets, (req->nwait + 1) * sizeof(int64_t));
        req->wait_topics[req->nwait] = xstrdup(item);
        req->wait_parts[req->nwait] = (int32_t)part;
        req->wait_offsets[req->nwait++] = off;
    }
    free(copy);
    return bad ? bad : req->nwait ? NULL : "expected topic:partition:offset[,...]";
}

int http_wait_positions(http_req_t *req, const mapping_t *m)
{
    if (req->released)
        return 1;
    const char *name = "min_position", *spec = http_req_arg(req, name);
    if (!spec && (spec = http_req_header(req, "X-Min-Position")))
        name = "X-Min-Position";
    if (!spec)
        return 1;
    const char *wait = http_req_arg(req, "wait_ms");
    char *end = NULL;
    long wait_ms = wait ? strtol(wait, &end, 10) : WAIT_MS_DEFAULT;
    if (wait && (!*wait || *end || wait_ms < 0 || wait_ms > WAIT_MS_MAX)) {
        http_reply_error(req, 400, "invalid_position", "wait_ms: expected 0..30000");
        return 0;
    }
    const char *bad = parse_positions(req, spec);
    if (bad) {
        http_reply_errorf(req, 400, "invalid_position", "%s: %s", name, bad);
        return 0;
    }
    req->wait_m = m;
    req->wait_ms = wait_ms;
    req->hold = 1;
    return 0;
}
