/* Helpers shared by the cmocka unit tests (see support.h). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

/* ---- the test database ---- */

typedef struct col_type {
    const char *table, *column, *type;
} col_type_t;

/* Every table a unit test binds to: the sample domain as views/010_orders.sql creates it (sqlgen
 * checks the numeric casts), the tables of data/values/values.json and data/header/header.json
 * (vals, other, lits) and of data/planner/counters.json (counters, copies). The binding rows of
 * test_mapping rely on what is absent: the tables nosuch, gone and ghost, and the columns nocol,
 * nokey, nover, c1 and c2 of vals. */
static const col_type_t col_types[] = {
    {"order_detail", "order_id", "text"},
    {"order_detail", "customer_id", "text"},
    {"order_detail", "status", "text"},
    {"order_detail", "total_amount", "numeric(14,2)"},
    {"order_detail", "item_count", "integer"},
    {"order_detail", "items", "jsonb"},
    {"order_detail", "payment_id", "text"},
    {"order_detail", "tracking_number", "text"},
    {"order_detail", "cancel_reason", "text"},
    {"order_detail", "created_at", "timestamp with time zone"},
    {"order_detail", "updated_at", "timestamp with time zone"},
    {"customer_summary", "customer_id", "text"},
    {"customer_summary", "orders_created", "bigint"},
    {"customer_summary", "orders_cancelled", "bigint"},
    {"customer_summary", "total_ordered", "numeric(16,2)"},
    {"customer_summary", "last_order_at", "timestamp with time zone"},
    {"vals", "id", "text"},
    {"vals", "t", "text"},
    {"vals", "t2", "text"},
    {"vals", "i", "bigint"},
    {"vals", "n", "numeric"},
    {"vals", "ts", "timestamp with time zone"},
    {"vals", "k", "text"},
    {"vals", "j", "jsonb"},
    {"vals", "arr", "text[]"},
    {"vals", "iarr", "integer[]"},
    {"vals", "cnt", "bigint"},
    {"vals", "v", "bigint"},
    {"other", "id", "text"},
    {"other", "x", "text"},
    {"lits", "id", "text"},
    {"lits", "s", "text"},
    {"lits", "i", "bigint"},
    {"lits", "n", "numeric"},
    {"lits", "neg", "numeric"},
    {"lits", "b", "boolean"},
    {"lits", "f", "boolean"},
    {"lits", "nul", "text"},
    {"lits", "obj_text", "text"},
    {"lits", "obj_json", "jsonb"},
    {"lits", "str_json", "jsonb"},
    {"lits", "bare_num", "numeric"},
    {"lits", "bare_bool", "boolean"},
    {"lits", "bare_null", "text"},
    {"counters", "id", "text"},
    {"counters", "n", "bigint"},
    {"counters", "label", "text"},
    {"copies", "id", "text"},
    {"copies", "n", "bigint"},
    {"copies", "label", "text"},
};

const char *support_column_type(void *ctx, const char *table, const char *column)
{
    (void)ctx;
    for (size_t i = 0; i < N_ROWS(col_types); i++) {
        if (strcmp(col_types[i].table, table) != 0)
            continue;
        if (!column)
            return "";
        if (strcmp(col_types[i].column, column) == 0)
            return col_types[i].type;
    }
    return NULL;
}

const char *support_data_dir(void)
{
    static char buf[1024];
    const char *d = getenv("PROJECTOR_TEST_DATA");
    if (d)
        return d;
    const char *slash = strrchr(__FILE__, '/');
    snprintf(buf, sizeof(buf), "%.*s/data", slash ? (int)(slash - __FILE__) : 1,
             slash ? __FILE__ : ".");
    return buf;
}

/* ---- mapping sets for a group of tests ---- */

static mapping_set_t *sets[8];

/* mapping_type_fn: column defaults are not known here. */
static const char *no_default(void *ctx, const char *table, const char *column)
{
    (void)ctx;
    (void)table;
    (void)column;
    return NULL;
}

int support_sets_load(const char *const *dirs, size_t n)
{
    assert_true(n <= N_ROWS(sets));
    for (size_t i = 0; i < n; i++) {
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/%s", support_data_dir(), dirs[i]);
        errlist_t *errs = errlist_new();
        sets[i] = mapping_set_load(dir, errs);
        if (sets[i])
            mapping_bind_types(mapping_set_get(sets[i], 0), support_column_type, NULL, errs);
        if (sets[i])
            mapping_bind_declared(mapping_set_get(sets[i], 0), support_column_type, no_default,
                                  NULL);
        int bad = errlist_count(errs) > 0;
        if (bad)
            errlist_print(errs, stderr);
        errlist_destroy(errs);
        if (bad)
            return -1;
    }
    return 0;
}

const mapping_t *support_mapping(size_t i)
{
    assert_true(i < N_ROWS(sets));
    assert_non_null(sets[i]);
    return mapping_set_get(sets[i], 0);
}

int support_sets_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(sets); i++) {
        mapping_set_destroy(sets[i]);
        sets[i] = NULL;
    }
    return 0;
}

int support_is_action(const mapping_action_info_t *a, const char *label)
{
    char where[128];
    snprintf(where, sizeof(where), "$.events.%s", label);
    size_t n = strlen(a->where), k = strlen(where);
    return n >= k && strcmp(a->where + n - k, where) == 0;
}

/* ---- texts and files ---- */

char *support_dq(const char *text_sq)
{
    char *out = malloc(strlen(text_sq) + 1), *o = out;
    assert_non_null(out);
    for (const char *s = text_sq; *s; s++) {
        if (s[0] == '\\' && (s[1] == '\\' || s[1] == '\'')) {
            if (s[1] == '\\')
                *o++ = *s;
            *o++ = *++s;
        } else {
            *o++ = *s == '\'' ? '"' : *s;
        }
    }
    *o = '\0';
    return out;
}

void support_write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

void support_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- captured output ---- */

struct support_capture {
    char *buf;
    size_t len;
    FILE *f;
};

support_capture_t *support_capture_new(void)
{
    support_capture_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    return c;
}

FILE *support_capture_stream(support_capture_t *c)
{
    return c->f;
}

char *support_capture_text(support_capture_t *c)
{
    fclose(c->f);
    char *text = c->buf;
    free(c);
    return text;
}
