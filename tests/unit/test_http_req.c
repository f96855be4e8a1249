/* Unit tests of the HTTP API's requests and replies (http_req.c): UTF-8 validation, percent-
 * decoding that refuses NUL bytes and invalid UTF-8, bounded valid-UTF-8 messages, the query
 * parser, and replies that are valid JSON whatever the request held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errlist.h"
#include "http_reply.h"
#include "http_req.h"
#include "http_route.h"
#include "http_utf8.h"
#include "support.h"

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int valid;
    } rows[] = {
        {"", 1},
        {"abc", 1},
        {"\xc3\xa9", 1},         /* é */
        {"\xf0\x9f\x98\x80", 1}, /* U+1F600 */
        {"\xef\xbf\xbd", 1},     /* U+FFFD */
        {"\xff", 0},             /* never in UTF-8 */
        {"\xc3", 0},             /* cut */
        {"a\xc3", 0},            /* cut at the end */
        {"\xc0\xaf", 0},         /* overlong '/' */
        {"\xe0\x80\xaf", 0},     /* overlong */
        {"\xed\xa0\x80", 0},     /* a surrogate */
        {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
        {"\xc3\x28", 0},         /* a bad continuation */
        {"\xe2\x82", 0},         /* cut three-byte form */
    };
    for (size_t i = 0; i < N_ROWS(rows); i++)
        if (http_utf8_valid(rows[i].s, strlen(rows[i].s)) != rows[i].valid)
            fail_msg("row %zu: valid %d, expected %d", i, !rows[i].valid, rows[i].valid);
}

static void test_decode(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int plus, rc;
        const char *out;
    } rows[] = {
        {"a%20b", 0, 0, "a b"}, {"a+b", 1, 0, "a b"},         {"a+b", 0, 0, "a+b"},
        {"%41%4a", 0, 0, "AJ"}, {"%4", 0, 0, "%4"},           {"%zz", 0, 0, "%zz"},
        {"%", 0, 0, "%"},       {"%C3%A9", 0, 0, "\xc3\xa9"}, {"o-1%00junk", 0, -1, NULL},
        {"%00", 1, -1, NULL},   {"%FF", 0, -1, NULL},         {"%C3", 0, -1, NULL},
        {"\xff", 0, -1, NULL},  {"%ED%A0%80", 0, -1, NULL},   {"", 0, 0, ""},
    };
    for (size_t i = 0; i < N_ROWS(rows); i++) {
        char *out = (char *)"unset";
        int rc = http_decode(rows[i].in, strlen(rows[i].in), rows[i].plus, &out);
        if (rc != rows[i].rc)
            fail_msg("row %zu (%s): rc %d, expected %d", i, rows[i].in, rc, rows[i].rc);
        if (rc == 0 && strcmp(out, rows[i].out) != 0)
            fail_msg("row %zu (%s): \"%s\", expected \"%s\"", i, rows[i].in, out, rows[i].out);
        if (rc != 0 && out != NULL)
            fail_msg("row %zu: out is not NULL after a refusal", i);
        free(rc == 0 ? out : NULL);
    }
}

static void test_utf8_append(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t max;
        const char *out;
    } rows[] = {
        {"abc", 10, "abc"},
        {"", 10, ""},
        {"a\xff"
         "b",
         10,
         "a\xef\xbf\xbd"
         "b"},
        {"\xc3\xa9\xc3\xa9\xc3\xa9", 4, "\xc3\xa9\xc3\xa9..."}, /* never cut inside é */
        {"\xc3\xa9\xc3\xa9\xc3\xa9", 5, "\xc3\xa9\xc3\xa9..."},
        {"abc\xc3", 10, "abc\xef\xbf\xbd"},
        {"abcdef", 3, "abc..."},
    };
    for (size_t i = 0; i < N_ROWS(rows); i++) {
        strbuf_t sb = STRBUF_INIT;
        http_utf8_append(&sb, rows[i].in, strlen(rows[i].in), rows[i].max);
        if (strcmp(sb.data, rows[i].out) != 0)
            fail_msg("row %zu: \"%s\", expected \"%s\"", i, sb.data, rows[i].out);
        if (!http_utf8_valid(sb.data, sb.len))
            fail_msg("row %zu: not valid UTF-8", i);
        strbuf_free(&sb);
    }
}

/* The reply's error code, or "" when the body is not the error object. */
static const char *error_code(const http_req_t *req, json_t **doc)
{
    *doc = json_loadb(req->out.data ? req->out.data : "", req->out.len, 0, NULL);
    const char *code = json_string_value(json_object_get(json_object_get(*doc, "error"), "code"));
    const char *msg = json_string_value(json_object_get(json_object_get(*doc, "error"), "message"));
    return code && msg ? code : "";
}

static void test_parse_args(void **state)
{
    (void)state;
    static char many[2048];
    for (int i = 0; i <= HTTP_MAX_ARGS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sa%d=1", i ? "&" : "", i);
    static const struct {
        const char *query;
        int rc;
        size_t nargs;
        const char *key, *value; /* of the first argument */
        const char *code;        /* when refused */
    } rows[] = {
        {NULL, 0, 0, NULL, NULL, NULL},
        {"", 0, 0, NULL, NULL, NULL},
        {"a=1&b=2", 0, 2, "a", "1", NULL},
        {"a&&b=", 0, 2, "a", "", NULL},
        {"=x", 0, 1, "", "x", NULL},
        {"q=a+b%2Bc", 0, 1, "q", "a b+c", NULL},
        {"k%C3%A9=v", 0, 1, "k\xc3\xa9", "v", NULL},
        {"%ff=1", -1, 0, NULL, NULL, "invalid_parameter"},
        {"\xff=1", -1, 0, NULL, NULL, "invalid_parameter"},
        {"a=%00", -1, 0, NULL, NULL, "invalid_parameter"},
        {"a=SHIPPED%00junk", -1, 0, NULL, NULL, "invalid_parameter"},
        {"filter.status=%FF", -1, 0, NULL, NULL, "invalid_parameter"},
        {many, -1, 0, NULL, NULL, "too_many_parameters"},
    };
    for (size_t i = 0; i < N_ROWS(rows); i++) {
        http_req_t *req = http_req_new(EVHTTP_REQ_GET, "/x", rows[i].query, NULL, 0);
        int rc = http_req_parse_args(req);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d, expected %d", i, rc, rows[i].rc);
        if (rc == 0 && req->nargs != rows[i].nargs)
            fail_msg("row %zu: %zu arguments, expected %zu", i, req->nargs, rows[i].nargs);
        if (rc == 0 && rows[i].key &&
            (strcmp(req->args[0].key, rows[i].key) || strcmp(req->args[0].value, rows[i].value)))
            fail_msg("row %zu: %s=%s", i, req->args[0].key, req->args[0].value);
        if (rc != 0) {
            json_t *doc;
            const char *code = error_code(req, &doc);
            if (req->status != 400 || strcmp(code, rows[i].code) != 0)
                fail_msg("row %zu: %d %s, expected 400 %s", i, req->status, code, rows[i].code);
            json_decref(doc);
        }
        http_req_free(req);
    }
}

static void test_replies(void **state)
{
    (void)state;
    char long_msg[6000] = "";
    for (int i = 0; i < 2500; i++)
        strcat(long_msg, "\xc3\xa9");
    static const struct {
        const char *message;
        size_t max_len; /* of the message in the reply */
    } rows[] = {
        {"plain", 5},
        {"\xff\xfe bytes", 20},
        {"cut \xc3", 10},
        {"ends in a newline\n", 17},
        {NULL, HTTP_MAX_MESSAGE + 3}, /* long_msg */
    };
    for (size_t i = 0; i < N_ROWS(rows); i++) {
        http_req_t *req = http_req_new(EVHTTP_REQ_GET, "/", NULL, NULL, 0);
        http_reply_error(req, 400, "c", rows[i].message ? rows[i].message : long_msg);
        json_t *doc;
        if (strcmp(error_code(req, &doc), "c") != 0 || req->status != 400)
            fail_msg("row %zu: not the error object: %s", i, req->out.data);
        const char *msg =
            json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
        if (strlen(msg) > rows[i].max_len)
            fail_msg("row %zu: message of %zu bytes", i, strlen(msg));
        json_decref(doc);
        http_req_free(req);
    }
    http_req_t *req = http_req_new(EVHTTP_REQ_GET, "/", NULL, NULL, 0);
    http_reply_json(req, 200, NULL); /* a json_pack() that failed */
    json_t *doc = NULL;
    if (req->status != 500 || strcmp(error_code(req, &doc), "internal_error") != 0)
        fail_msg("a NULL body: %d %s", req->status, req->out.data);
    json_decref(doc);
    http_reply_errorf(req, 400, "x", "%s: %d", "\xc3\xa9\xff", 7);
    if (req->status != 400 || strcmp(error_code(req, &doc), "x") != 0)
        fail_msg("errorf: %s", req->out.data);
    json_decref(doc);
    http_req_free(req);
}

/* Admin requests through the router, with no database: allowed ones answer 503. */
static void test_admin(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/%s", support_data_dir(), SUPPORT_ORDERS_DIR);
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(dir, errs);
    errlist_destroy(errs);
    if (!set)
        fail_msg("cannot load %s", dir);
    static char long_token[561], long_wrong[600], long_right[600];
    memset(long_token, 't', 560);
    snprintf(long_right, sizeof(long_right), "Bearer %s", long_token);
    snprintf(long_wrong, sizeof(long_wrong), "Bearer %.*sx", 559, long_token);
    static const struct {
        const char *token, *peer, *host, *origin, *auth;
        int status;
    } rows[] = {
        {"", "127.0.0.1", NULL, NULL, NULL, 503},
        {"", "127.0.0.1", "127.0.0.1:8080", NULL, NULL, 503},
        {"", "127.0.0.1", "localhost:8080", "http://localhost:8080", NULL, 503},
        {"", "::1", "[::1]:8080", "http://[::1]:8080", NULL, 503},
        {"", "::ffff:127.0.0.1", "127.3.4.5", "https://127.0.0.1", NULL, 503},
        {"", "10.0.0.1", "127.0.0.1", NULL, NULL, 403},
        {"", "127.0.0.1", "evil.example:8080", NULL, NULL, 403},
        {"", "127.0.0.1", "127.0.0.1.evil.example", NULL, NULL, 403},
        {"", "127.0.0.1", "localhost", "http://evil.example", NULL, 403},
        {"", "127.0.0.1", "localhost", "null", NULL, 403},
        {"", "127.0.0.1", "localhost", "http://localhost.evil.example", NULL, 403},
        {"s3cret", "10.0.0.1", "evil.example", NULL, "Bearer s3cret", 503},
        {"s3cret", "127.0.0.1", NULL, NULL, NULL, 401},
        {"s3cret", "127.0.0.1", NULL, NULL, "Bearer s3cre", 401},
        {"s3cret", "127.0.0.1", NULL, NULL, "Bearer s3crett", 401},
        {"s3cret", "127.0.0.1", NULL, NULL, "bearer s3cret", 401},
        {long_token, "127.0.0.1", NULL, NULL, long_wrong, 401},
        {long_token, "127.0.0.1", NULL, NULL, long_right, 503},
    };
    for (size_t i = 0; i < N_ROWS(rows); i++) {
        http_ctx_t ctx = {.token = rows[i].token, .set = set};
        http_req_t *req =
            http_req_new(EVHTTP_REQ_POST, "/v1/projections/orders/pause", NULL, NULL, 0);
        snprintf(req->peer, sizeof(req->peer), "%s", rows[i].peer);
        if (rows[i].host)
            http_req_add_header(req, "Host", rows[i].host);
        if (rows[i].origin)
            http_req_add_header(req, "Origin", rows[i].origin);
        if (rows[i].auth)
            http_req_add_header(req, "Authorization", rows[i].auth);
        if (http_route(&ctx, req, 0) != 1 || req->status != rows[i].status)
            fail_msg("row %zu: status %d, expected %d: %s", i, req->status, rows[i].status,
                     req->out.data);
        json_t *doc;
        if (!*error_code(req, &doc))
            fail_msg("row %zu: not the error object", i);
        json_decref(doc);
        http_req_free(req);
    }
    mapping_set_destroy(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid),  cmocka_unit_test(test_decode),
        cmocka_unit_test(test_utf8_append), cmocka_unit_test(test_parse_args),
        cmocka_unit_test(test_replies),     cmocka_unit_test(test_admin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
