/* Unit tests of jpath: compile errors, single-value lookups and [*] iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "jpath.h"
#include "strbuf.h"
#include "support.h"

/* The document every evaluation row reads. */
static const char *const doc_text =
    "{\"a\": {\"b\": {\"c\": 1}},"
    " \"items\": [{\"qty\": 2, \"sku\": \"x\"}, {\"qty\": 3}, {\"sku\": \"y\"}],"
    " \"odd key\": \"v\", \"k\": true, \"a\\\"b\": 5, \"it's\": 6, \"dot.key\": 7,"
    " \"arr\": [[1, 2], [3]], \"s\": \"str\", \"n\": null, \"e\": {}, \"empty\": []}";

static json_t *load_doc(void)
{
    json_error_t jerr;
    json_t *doc = json_loads(doc_text, 0, &jerr);
    if (!doc)
        fail_msg("test document: %s", jerr.text);
    return doc;
}

/* ---- compile errors ---- */

typedef struct compile_error_row {
    const char *expr;
    const char *error; /* substring of the message */
} compile_error_row_t;

static const compile_error_row_t compile_error_rows[] = {
    {"", "starts with '$'"},
    {"a.b", "starts with '$', got \"a.b\""},
    {".a", "starts with '$'"},
    {"items[0]", "starts with '$'"},
    {"$.", "empty field name at position 2"},
    {"$..a", "empty field name at position 2"},
    {"$.a.", "empty field name at position 4"},
    {"$.a.[0]", "empty field name at position 4"},
    {"$.a[0].", "empty field name at position 7"},
    {"$[", "expected an index, * or a quoted key at position 2"},
    {"$[]", "expected an index, * or a quoted key at position 2"},
    {"$[-1]", "expected an index, * or a quoted key at position 2"},
    {"$[x]", "expected an index, * or a quoted key at position 2"},
    {"$.a[*", "expected an index, * or a quoted key at position 4"},
    {"$[1", "bad array index at position 2"},
    {"$[1x]", "bad array index at position 2"},
    {"$.a[0 ]", "bad array index at position 4"},
    {"$[1000001]", "bad array index at position 2"},
    {"$[99999999999999999999999]", "bad array index at position 2"},
    {"$[\"abc", "unterminated quoted key at position 2"},
    {"$['abc", "unterminated quoted key at position 2"},
    {"$[\"abc']", "unterminated quoted key at position 2"},
    {"$[\"abc\"", "unterminated quoted key at position 2"},
    {"$[\"a\"b]", "unterminated quoted key at position 2"},
    {"$.x[\"a\\\"]", "unterminated quoted key at position 4"},
    {"$a", "unexpected 'a' at position 1 in \"$a\""},
    {"$ .a", "unexpected ' ' at position 1"},
    {"$.a[0]x", "unexpected 'x' at position 6"},
    {"$[0]]", "unexpected ']' at position 4"},
    {"$$", "unexpected '$' at position 1"},
};

static void test_compile_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(compile_error_rows); i++) {
        const compile_error_row_t *r = &compile_error_rows[i];
        jpath_t *p = (jpath_t *)0x1;
        char err[256] = "";
        if (jpath_compile(r->expr, &p, err, sizeof(err)) != -1)
            fail_msg("'%s': compiled, expected an error containing \"%s\"", r->expr, r->error);
        if (p != NULL)
            fail_msg("'%s': *out is not NULL after a failure", r->expr);
        if (!strstr(err, r->error))
            fail_msg("'%s': error \"%s\" does not contain \"%s\"", r->expr, err, r->error);
    }
}

/* ---- single values: jpath_get ---- */

typedef struct get_row {
    const char *expr;
    int multi;
    const char *want; /* compact JSON of the value, or NULL when nothing matches */
} get_row_t;

static const get_row_t get_rows[] = {
    {"$.a.b.c", 0, "1"},
    {"$.a.b", 0, "{\"c\":1}"},
    {"$.a.b.c.d", 0, NULL}, /* field of a number */
    {"$.items[0].sku", 0, "\"x\""},
    {"$.items[1].qty", 0, "3"},
    {"$.items[2].qty", 0, NULL}, /* element without the field */
    {"$.items[3]", 0, NULL},     /* index past the end */
    {"$.items[1000000]", 0, NULL},
    {"$.arr[0][1]", 0, "2"},
    {"$.arr[1][1]", 0, NULL},
    {"$.s.x", 0, NULL},       /* field of a string */
    {"$.s[0]", 0, NULL},      /* index of a string */
    {"$.a[0]", 0, NULL},      /* index of an object */
    {"$.items.qty", 0, NULL}, /* field of an array */
    {"$[\"odd key\"]", 0, "\"v\""},
    {"$['odd key']", 0, "\"v\""},
    {"$['k']", 0, "true"},
    {"$['a']['b'].c", 0, "1"},
    {"$[\"a\\\"b\"]", 0, "5"},  /* escaped quote inside the key */
    {"$[\"it's\"]", 0, "6"},    /* the other quote inside the key */
    {"$[\"dot.key\"]", 0, "7"}, /* a dot in a quoted key is not a step */
    {"$.dot.key", 0, NULL},     /* ... but is one unquoted */
    {"$.n", 0, "null"},         /* JSON null is a match, unlike a missing field */
    {"$.missing", 0, NULL},
    {"$.e", 0, "{}"},
    {"$.empty[0]", 0, NULL},
    {"$.items[*].qty", 1, NULL}, /* multi paths never give a single value */
    {"$.items[*]", 1, NULL},
    {"$.arr[0][*]", 1, NULL},
};

static void test_get(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    for (size_t i = 0; i < N_ROWS(get_rows); i++) {
        const get_row_t *r = &get_rows[i];
        jpath_t *p;
        char err[256] = "";
        if (jpath_compile(r->expr, &p, err, sizeof(err)) != 0)
            fail_msg("'%s': does not compile: %s", r->expr, err);
        if (strcmp(jpath_text(p), r->expr) != 0)
            fail_msg("'%s': jpath_text is '%s'", r->expr, jpath_text(p));
        if (jpath_is_multi(p) != r->multi)
            fail_msg("'%s': jpath_is_multi is %d, expected %d", r->expr, jpath_is_multi(p),
                     r->multi);
        json_t *v = jpath_get(p, doc);
        char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        int ok = r->want ? got && strcmp(got, r->want) == 0 : got == NULL;
        if (!ok)
            fail_msg("'%s': got %s, expected %s", r->expr, got ? got : "(no match)",
                     r->want ? r->want : "(no match)");
        free(got);
        jpath_destroy(p);
    }
    json_decref(doc);
}

static void test_get_root(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    jpath_t *p;
    char err[256];
    assert_int_equal(jpath_compile("$", &p, err, sizeof(err)), 0);
    assert_false(jpath_is_multi(p));
    assert_ptr_equal(jpath_get(p, doc), doc);
    json_t *scalar = json_integer(42);
    assert_ptr_equal(jpath_get(p, scalar), scalar);
    json_decref(scalar);
    jpath_destroy(p);
    json_decref(doc);
}

/* ---- many values: jpath_each ---- */

typedef struct each_row {
    const char *expr;
    size_t count;
    const char *want; /* the matched values, in order, as a compact JSON array */
} each_row_t;

static const each_row_t each_rows[] = {
    {"$.items[*].qty", 2, "[2,3]"},
    {"$.items[*].sku", 2, "[\"x\",\"y\"]"},
    {"$.items[*]", 3, "[{\"qty\":2,\"sku\":\"x\"},{\"qty\":3},{\"sku\":\"y\"}]"},
    {"$.items[*]['sku']", 2, "[\"x\",\"y\"]"},
    {"$.arr[*][*]", 3, "[1,2,3]"},
    {"$.arr[*][0]", 2, "[1,3]"},
    {"$.arr[*][1]", 1, "[2]"},
    {"$.arr[1][*]", 1, "[3]"},
    {"$.empty[*]", 0, "[]"},
    {"$.a[*]", 0, "[]"}, /* object, not array */
    {"$.s[*]", 0, "[]"}, /* string, not array */
    {"$.missing[*].x", 0, "[]"},
    {"$[*]", 0, "[]"}, /* the root is an object */
    {"$.items[*].missing", 0, "[]"},
    {"$.a.b.c", 1, "[1]"}, /* a single path matches once */
    {"$.n", 1, "[null]"},  /* null is a match */
    {"$.missing", 0, "[]"},
    {"$", 1, NULL}, /* the whole document; only the count is checked */
};

static void collect(json_t *v, void *ctx)
{
    json_array_append(ctx, v);
}

static void test_each(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    for (size_t i = 0; i < N_ROWS(each_rows); i++) {
        const each_row_t *r = &each_rows[i];
        jpath_t *p;
        char err[256] = "";
        if (jpath_compile(r->expr, &p, err, sizeof(err)) != 0)
            fail_msg("'%s': does not compile: %s", r->expr, err);
        json_t *seen = json_array();
        size_t n = jpath_each(p, doc, collect, seen);
        if (n != r->count || json_array_size(seen) != r->count)
            fail_msg("'%s': %zu matches (%zu callbacks), expected %zu", r->expr, n,
                     json_array_size(seen), r->count);
        if (r->want) {
            char *got = json_dumps(seen, JSON_COMPACT);
            if (strcmp(got, r->want) != 0)
                fail_msg("'%s': matched %s, expected %s", r->expr, got, r->want);
            free(got);
        }
        json_decref(seen);
        jpath_destroy(p);
    }
    json_decref(doc);
}

/* Peak resident memory of this process, in KiB. */
static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* A path of many quoted steps ($["a"]["a"]...; 20,000 steps, 140 KB of text) compiles in memory
 * linear in its length and still finds its value: one allocation of the whole path per step
 * once made this take about 800 MB. */
static void test_long_quoted_path(void **state)
{
    (void)state;
    enum { STEPS = 20000 };
    strbuf_t expr = STRBUF_INIT;
    strbuf_puts(&expr, "$");
    for (int i = 0; i < STEPS; i++)
        strbuf_puts(&expr, i % 2 ? "[\"a\"]" : "['b\\'c']");
    long before = peak_rss_kib();
    jpath_t *p;
    char err[256] = "";
    if (jpath_compile(expr.data, &p, err, sizeof(err)) != 0)
        fail_msg("a %zu-byte path of quoted steps does not compile: %s", expr.len, err);
    long grown = peak_rss_kib() - before;
    if (grown > 64 * 1024)
        fail_msg("compiling a %zu-byte path grew the peak RSS by %ld KiB (expected well under "
                 "64 MiB)",
                 expr.len, grown);
    /* deeper than any document jansson parses: it must miss; steps are checked below */
    json_t *doc = json_pack("{s:{s:i}}", "b'c", "a", 7);
    if (jpath_get(p, doc) != NULL)
        fail_msg("a 20,000-step path matched a two-level document");
    json_decref(doc);
    jpath_destroy(p);
    if (jpath_compile("$['b\\'c'][\"a\"]", &p, err, sizeof(err)) != 0)
        fail_msg("two quoted steps: %s", err);
    doc = json_pack("{s:{s:i}}", "b'c", "a", 7);
    json_t *v = jpath_get(p, doc);
    if (!json_is_integer(v) || json_integer_value(v) != 7)
        fail_msg("$['b\\'c'][\"a\"] did not find 7");
    json_decref(doc);
    jpath_destroy(p);
    strbuf_free(&expr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_errors),   cmocka_unit_test(test_get),
        cmocka_unit_test(test_get_root),         cmocka_unit_test(test_each),
        cmocka_unit_test(test_long_quoted_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
