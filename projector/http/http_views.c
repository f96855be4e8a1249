/* The read-model endpoints: list the declared tables, get a row by key, list rows with filters
 * and keyset pagination. Only declared tables and columns are accepted; values are always bound
 * parameters. */
#include "http_views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_reply.h"
#include "http_wait.h"
#include "sqlgen.h"
#include "strbuf.h"
#include "xalloc.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX 1000

/* ---- the catalog ---- */

/* The table's name is quoted as the statements that write it quote it, so "MyTable" and
 * "my table" resolve to the tables the mappings write. */
static int load_columns(PGconn *conn, http_view_t *v, char *errstr, size_t errsz)
{
    strbuf_t quoted = STRBUF_INIT;
    sqlgen_put_table(&quoted, v->table);
    const char *params[] = {quoted.data};
    PGresult *r = PQexecParams(conn,
                               "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a"
                               " WHERE a.attrelid = to_regclass($1) AND a.attnum > 0"
                               " AND NOT a.attisdropped ORDER BY a.attnum",
                               1, NULL, params, NULL, NULL, 0);
    strbuf_free(&quoted);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
        snprintf(errstr, errsz, "table %s: %s", v->table,
                 PQresultStatus(r) == PGRES_TUPLES_OK ? "not in the database"
                                                      : PQerrorMessage(conn));
        PQclear(r);
        return -1;
    }
    v->ncols = (size_t)PQntuples(r);
    v->cols = xcalloc(v->ncols, sizeof(*v->cols));
    for (size_t i = 0; i < v->ncols; i++) {
        v->cols[i].name = xstrdup(PQgetvalue(r, (int)i, 0));
        v->cols[i].type = xstrdup(PQgetvalue(r, (int)i, 1));
    }
    PQclear(r);
    return 0;
}

static int add_view(http_view_t **views, size_t *nviews, const mapping_t *m,
                    const mapping_action_info_t *a)
{
    for (size_t i = 0; i < *nviews; i++)
        if (strcmp((*views)[i].table, a->table) == 0)
            return 0;
    *views = xrealloc(*views, (*nviews + 1) * sizeof(**views));
    http_view_t *v = &(*views)[(*nviews)++];
    memset(v, 0, sizeof(*v));
    v->table = xstrdup(a->table);
    v->m = m;
    v->nkeys = a->nkeys;
    v->keys = xcalloc(a->nkeys, sizeof(char *));
    for (size_t k = 0; k < a->nkeys; k++)
        v->keys[k] = a->keys[k].name;
    return 1;
}

int http_views_load(PGconn *conn, const mapping_set_t *set, http_view_t **views, size_t *nviews,
                    char *errstr, size_t errstr_size)
{
    for (size_t p = 0; p < mapping_set_count(set); p++) {
        const mapping_t *m = mapping_set_get(set, p);
        for (size_t i = 0; i < mapping_action_count(m); i++) {
            const mapping_action_info_t *a = mapping_action_info(mapping_action(m, i));
            if (a->kind == MAPPING_SQL || !add_view(views, nviews, m, a))
                continue;
            if (load_columns(conn, &(*views)[*nviews - 1], errstr, errstr_size) != 0)
                return -1;
        }
    }
    return 0;
}

void http_views_free(http_view_t *views, size_t nviews)
{
    for (size_t i = 0; i < nviews; i++) {
        http_view_t *v = &views[i];
        for (size_t c = 0; c < v->ncols; c++) {
            free(v->cols[c].name);
            free(v->cols[c].type);
        }
        free(v->cols);
        free(v->keys);
        free(v->table);
    }
    free(views);
}

static const http_view_t *find_view(const http_ctx_t *ctx, const char *table)
{
    for (size_t i = 0; i < ctx->nviews; i++)
        if (strcmp(ctx->views[i].table, table) == 0)
            return &ctx->views[i];
    return NULL;
}

/* The column named name[0..n), or NULL. */
static const http_column_t *find_col_n(const http_view_t *v, const char *name, size_t n)
{
    for (size_t i = 0; i < v->ncols; i++)
        if (strlen(v->cols[i].name) == n && memcmp(v->cols[i].name, name, n) == 0)
            return &v->cols[i];
    return NULL;
}

static const http_column_t *find_col(const http_view_t *v, const char *name)
{
    return find_col_n(v, name, strlen(name));
}

/* ---- GET /v1/views ---- */

static void list_views(http_ctx_t *ctx, http_req_t *req)
{
    json_t *out = json_array();
    for (size_t i = 0; i < ctx->nviews; i++) {
        const http_view_t *v = &ctx->views[i];
        json_t *keys = json_array(), *cols = json_array();
        for (size_t k = 0; k < v->nkeys; k++)
            json_array_append_new(keys, json_string(v->keys[k]));
        for (size_t c = 0; c < v->ncols; c++)
            json_array_append_new(
                cols, json_pack("{s:s,s:s}", "name", v->cols[c].name, "type", v->cols[c].type));
        json_array_append_new(out, json_pack("{s:s,s:s,s:o,s:o}", "table", v->table, "projection",
                                             mapping_name(v->m), "key", keys, "columns", cols));
    }
    http_reply_json(req, 200, json_pack("{s:o}", "views", out));
}

/* Replies with the PostgreSQL error: 400 for what the request's values caused, else 503. */
static void reply_pg_error(http_req_t *req, PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    int bad = state && (strncmp(state, "22", 2) == 0);
    http_reply_error(req, bad ? 400 : 503, bad ? "invalid_value" : "database_error",
                     msg ? msg : "the database failed");
}

/* ---- GET /v1/views/{table}/{key}... ---- */

static void get_row(http_ctx_t *ctx, http_req_t *req, const http_view_t *v, char **keys)
{
    strbuf_t sql = STRBUF_INIT;
    strbuf_puts(&sql, "SELECT row_to_json(t)::text FROM ");
    sqlgen_put_table(&sql, v->table);
    strbuf_puts(&sql, " AS t WHERE ");
    for (size_t k = 0; k < v->nkeys; k++) {
        strbuf_puts(&sql, k ? " AND t." : "t.");
        sqlgen_put_ident(&sql, v->keys[k]);
        strbuf_printf(&sql, " = $%zu::%s", k + 1, find_col(v, v->keys[k])->type);
    }
    PGresult *r = PQexecParams(ctx->conn, sql.data, (int)v->nkeys, NULL, (const char *const *)keys,
                               NULL, NULL, 0);
    strbuf_free(&sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        reply_pg_error(req, r);
    else if (PQntuples(r) == 0)
        http_reply_error(req, 404, "not_found", "no row with that key");
    else
        http_reply_text(req, 200, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0),
                        "application/json");
    PQclear(r);
}

/* ---- GET /v1/views/{table}?... ---- */

static const struct {
    const char *suffix, *op;
} filter_ops[] = {{"", "="},      {".eq", "="}, {".ne", "<>"}, {".gt", ">"},
                  {".gte", ">="}, {".lt", "<"}, {".lte", "<="}};

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(const char *s, size_t n)
{
    char *out = xmalloc(4 * (n + 2) / 3 + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        if (i + 1 < n)
            *o++ = b64[(v >> 6) & 63];
        if (i + 2 < n)
            *o++ = b64[v & 63];
    }
    *o = '\0';
    return out;
}

static char *b64_decode(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n + 1), *o = out;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64, s[i]);
        if (!p || !s[i]) {
            free(out);
            return NULL;
        }
        v = (v << 6) | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (char)((v >> bits) & 255);
        }
    }
    *o = '\0';
    return out;
}

typedef struct list_query {
    strbuf_t sql;
    const char **params;
    int nparams;
    const http_column_t *order[8]; /* order columns: order_by (if any), then the keys */
    size_t norder;
    int desc;
    long limit;
} list_query_t;

static void add_param(list_query_t *q, const char *value)
{
    q->params = xrealloc(q->params, (size_t)(q->nparams + 1) * sizeof(char *));
    q->params[q->nparams++] = value;
}

/* Adds "AND t.col op $n::type" for a filter parameter; returns 0, or -1 when it is not one. */
static int add_filter(list_query_t *q, const http_view_t *v, const char *key, const char *value)
{
    for (size_t f = sizeof(filter_ops) / sizeof(filter_ops[0]); f-- > 0;) {
        size_t klen = strlen(key), slen = strlen(filter_ops[f].suffix);
        if (klen <= slen || strcmp(key + klen - slen, filter_ops[f].suffix) != 0)
            continue;
        const http_column_t *c = find_col_n(v, key, klen - slen);
        if (!c)
            continue;
        add_param(q, value);
        strbuf_puts(&q->sql, " AND t.");
        sqlgen_put_ident(&q->sql, c->name);
        strbuf_printf(&q->sql, " %s $%d::%s", filter_ops[f].op, q->nparams, c->type);
        return 0;
    }
    return -1;
}

/* Adds the keyset condition of an "after" cursor. Returns 0 or -1 (invalid cursor). */
static int add_after(list_query_t *q, const char *cursor, json_t **decoded)
{
    char *text = b64_decode(cursor);
    *decoded = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!json_is_array(*decoded) || json_array_size(*decoded) != q->norder)
        return -1;
    strbuf_puts(&q->sql, " AND (");
    for (size_t i = 0; i < q->norder; i++) {
        strbuf_puts(&q->sql, i ? ", t." : "t.");
        sqlgen_put_ident(&q->sql, q->order[i]->name);
    }
    strbuf_printf(&q->sql, ") %s (", q->desc ? "<" : ">");
    for (size_t i = 0; i < q->norder; i++) {
        json_t *e = json_array_get(*decoded, i);
        if (!json_is_string(e))
            return -1;
        add_param(q, json_string_value(e));
        strbuf_printf(&q->sql, "%s$%d::%s", i ? ", " : "", q->nparams, q->order[i]->type);
    }
    strbuf_puts(&q->sql, ")");
    return 0;
}

/* Builds the list query from the request's parameters; replies and returns -1 on a bad one. */
static int build_list(list_query_t *q, const http_view_t *v, http_req_t *req, json_t **cursor)
{
    static const char *const reserved[] = {"order_by",     "order",   "limit", "after",
                                           "min_position", "wait_ms", NULL};
    static const char *const orders[] = {"asc", "desc", NULL}; /* desc: 1 */
    const char *order_by = http_req_arg(req, "order_by");
    const char *order = http_req_arg(req, "order");
    const char *limit = http_req_arg(req, "limit");
    const char *after = http_req_arg(req, "after");
    q->limit = LIST_LIMIT_DEFAULT;
    if (limit) {
        char *end;
        q->limit = strtol(limit, &end, 10);
        if (*end || q->limit < 1) {
            http_reply_error(req, 400, "invalid_parameter", "limit: expected a positive integer");
            return -1;
        }
        q->limit = q->limit > LIST_LIMIT_MAX ? LIST_LIMIT_MAX : q->limit;
    }
    int dir = http_req_choice(order, orders);
    if (order && dir < 0) {
        http_reply_error(req, 400, "invalid_parameter", "order: expected asc or desc");
        return -1;
    }
    q->desc = dir == 1;
    if (order_by && !find_col(v, order_by)) {
        http_reply_error(req, 400, "unknown_column", "order_by: not a column of this view");
        return -1;
    }
    int order_is_key = 0;
    for (size_t k = 0; order_by && k < v->nkeys; k++)
        order_is_key |= strcmp(order_by, v->keys[k]) == 0;
    if (order_by && !order_is_key)
        q->order[q->norder++] = find_col(v, order_by);
    for (size_t k = 0; k < v->nkeys && q->norder < 8; k++)
        q->order[q->norder++] = find_col(v, v->keys[k]);
    strbuf_puts(&q->sql, "SELECT row_to_json(t)::text");
    for (size_t i = 0; i < q->norder; i++) {
        strbuf_puts(&q->sql, ", t.");
        sqlgen_put_ident(&q->sql, q->order[i]->name);
        strbuf_puts(&q->sql, "::text");
    }
    strbuf_puts(&q->sql, " FROM ");
    sqlgen_put_table(&q->sql, v->table);
    strbuf_puts(&q->sql, " AS t WHERE true");
    for (size_t i = 0; i < q->norder; i++) { /* NULLs have no place in a keyset order */
        strbuf_puts(&q->sql, " AND t.");
        sqlgen_put_ident(&q->sql, q->order[i]->name);
        strbuf_puts(&q->sql, " IS NOT NULL");
    }
    for (size_t i = 0; i < req->nargs; i++) {
        const http_arg_t *kv = &req->args[i];
        if (http_req_choice(kv->key, reserved) < 0 && add_filter(q, v, kv->key, kv->value) != 0) {
            http_reply_errorf(req, 400, "unknown_column",
                              "%s: not a column of this view (filters are col, col.eq, col.ne, "
                              "col.gt, col.gte, col.lt, col.lte)",
                              kv->key);
            return -1;
        }
    }
    if (after && add_after(q, after, cursor) != 0) {
        http_reply_error(req, 400, "invalid_cursor", "after: not a cursor this API returned");
        return -1;
    }
    strbuf_puts(&q->sql, " ORDER BY ");
    for (size_t i = 0; i < q->norder; i++) {
        strbuf_puts(&q->sql, i ? ", t." : "t.");
        sqlgen_put_ident(&q->sql, q->order[i]->name);
        strbuf_puts(&q->sql, q->desc ? " DESC" : " ASC");
    }
    strbuf_printf(&q->sql, " LIMIT %ld", q->limit + 1);
    return 0;
}

static void list_rows(http_ctx_t *ctx, http_req_t *req, const http_view_t *v)
{
    list_query_t q;
    memset(&q, 0, sizeof(q));
    json_t *cursor = NULL;
    if (build_list(&q, v, req, &cursor) == 0) {
        PGresult *r = PQexecParams(ctx->conn, q.sql.data, q.nparams, NULL, q.params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            reply_pg_error(req, r);
        } else {
            int n = PQntuples(r), shown = n > q.limit ? (int)q.limit : n;
            strbuf_t body = STRBUF_INIT;
            strbuf_puts(&body, "{\"items\":[");
            for (int i = 0; i < shown; i++) {
                strbuf_puts(&body, i ? "," : "");
                strbuf_append(&body, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
            }
            strbuf_puts(&body, "],\"next\":");
            if (n > q.limit) {
                json_t *next = json_array();
                for (size_t c = 0; c < q.norder; c++)
                    json_array_append_new(next, json_string(PQgetvalue(r, shown - 1, (int)c + 1)));
                char *text = json_dumps(next, JSON_COMPACT);
                char *enc = b64_encode(text, strlen(text));
                strbuf_printf(&body, "\"%s\"", enc);
                free(enc);
                free(text);
                json_decref(next);
            } else {
                strbuf_puts(&body, "null");
            }
            strbuf_puts(&body, "}");
            http_reply_text(req, 200, body.data, body.len, "application/json");
            strbuf_free(&body);
        }
        PQclear(r);
    }
    json_decref(cursor);
    free(q.params);
    strbuf_free(&q.sql);
}

/* Splits rest ("/table/key...") into at most max percent-decoded segments; returns their
 * count, or -1 after answering 400 for one that holds a NUL byte or invalid UTF-8. */
static int split_path(http_req_t *req, const char *rest, char **segs, size_t max)
{
    size_t n = 0;
    for (const char *p = rest; *p && n < max;) {
        p += *p == '/';
        size_t len = strcspn(p, "/");
        if (len && http_decode(p, len, 0, &segs[n]) != 0) {
            http_reply_errorf(req, 400, "invalid_path",
                              "%s %zu: a NUL byte or invalid UTF-8 after percent-decoding",
                              n ? "key segment" : "table name", n);
            return -1;
        }
        n += len != 0;
        p += len;
    }
    return (int)n;
}

void http_views(http_ctx_t *ctx, http_req_t *req, const char *rest)
{
    if (!*rest || strcmp(rest, "/") == 0) {
        list_views(ctx, req);
        return;
    }
    char *segs[9] = {0};
    int nseg = split_path(req, rest, segs, 9);
    const http_view_t *v = nseg > 0 ? find_view(ctx, segs[0]) : NULL;
    if (nseg < 0)
        ; /* answered */
    else if (!v)
        http_reply_error(req, 404, "unknown_view", "no read table of that name is declared");
    else if (!http_wait_positions(req, v->m))
        ; /* held until the projection has applied min_position (or answered) */
    else if (nseg == 1)
        list_rows(ctx, req, v);
    else if ((size_t)nseg - 1 != v->nkeys)
        http_reply_error(req, 400, "invalid_key", "give one path segment per key column");
    else
        get_row(ctx, req, v, segs + 1);
    for (size_t i = 0; i < 9; i++)
        free(segs[i]);
}
