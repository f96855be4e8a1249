/* Unit tests of json_alloc: jansson's allocations in an arena scope, malloc outside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "json_alloc.h"

#define N_ROWS(a) (sizeof(a) / sizeof((a)[0]))

/* Values parsed in a scope are readable after it and need no decref; the arena takes them. */
static void test_scope(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    for (int round = 0; round < 3; round++) { /* the arena is reused batch after batch */
        assert_null(json_alloc_use(a));
        json_t *docs[100];
        for (int i = 0; i < 100; i++) {
            char text[128];
            snprintf(text, sizeof(text), "{\"id\": %d, \"items\": [1, 2, {\"sku\": \"s-%d\"}]}", i,
                     i);
            docs[i] = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
            assert_non_null(docs[i]);
            json_object_set_new(docs[i], "seen", json_true()); /* an upcaster's change */
            json_object_del(docs[i], "items");                 /* freeing is a no-op */
        }
        assert_ptr_equal(json_alloc_use(NULL), a);
        for (int i = 0; i < 100; i++) {
            assert_int_equal(json_integer_value(json_object_get(docs[i], "id")), i);
            assert_true(json_is_true(json_object_get(docs[i], "seen")));
            assert_null(json_object_get(docs[i], "items"));
        }
        arena_reset(a); /* no json_decref: the values go with the arena */
    }
    arena_destroy(a);
}

/* Outside a scope jansson allocates with malloc: json_dumps() results are freed with free(). */
static void test_outside(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s, s:[i,i]}", "a", "b", "c", 1, 2);
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"a\":\"b\",\"c\":[1,2]}");
    free(text);
    json_decref(v);
}

/* json_alloc_text(): the text of a value in the arena, short or long, in a scope or not. */
static const struct {
    const char *what;
    const char *json; /* parsed, then written back compact */
    size_t repeat;    /* > 0: an array of that many copies of json */
} text_rows[] = {
    {"a string", "\"h\\u00e9llo\"", 0},
    {"an object", "{\"sku\":\"s-1\",\"quantity\":2}", 0},
    {"null", "null", 0},
    {"longer than the stack buffer", "{\"sku\":\"s-1234567890\",\"quantity\":2}", 200},
};

static void test_text(void **state)
{
    (void)state;
    arena_t *a = arena_new();
    for (size_t r = 0; r < N_ROWS(text_rows); r++) {
        for (int scoped = 0; scoped < 2; scoped++) {
            json_alloc_use(scoped ? a : NULL);
            json_t *v = json_loads(text_rows[r].json, JSON_DECODE_ANY, NULL);
            assert_non_null(v);
            if (text_rows[r].repeat) {
                json_t *arr = json_array();
                for (size_t i = 0; i < text_rows[r].repeat; i++)
                    json_array_append(arr, v);
                json_decref(v);
                v = arr;
            }
            size_t len;
            const char *got = json_alloc_text(v, JSON_COMPACT | JSON_ENCODE_ANY, a, &len);
            json_alloc_use(NULL);
            char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (strcmp(got, want) != 0 || len != strlen(want))
                fail_msg("%s (scoped %d): got %.60s (%zu), want %.60s", text_rows[r].what, scoped,
                         got, len, want);
            free(want);
            if (!scoped)
                json_decref(v);
        }
    }
    arena_destroy(a);
}

/* An arena reset keeps its blocks for the next batch: allocations of every size, batch after
 * batch, stay distinct and intact (valgrind sees a block handed out twice or lost). */
static void test_reuse(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 24, 4096, 100000, 300000, 2 * 1024 * 1024};
    arena_t *a = arena_new();
    for (int round = 0; round < 4; round++) {
        char *p[64];
        size_t n[64];
        for (int i = 0; i < 64; i++) {
            n[i] = sizes[(size_t)(i + round) % (sizeof(sizes) / sizeof(sizes[0]))];
            p[i] = arena_alloc(a, n[i]);
            memset(p[i], 'a' + i % 26, n[i]);
        }
        for (int i = 0; i < 64; i++)
            for (size_t k = 0; k < n[i]; k += 997)
                assert_int_equal(p[i][k], 'a' + i % 26);
        arena_reset(a);
    }
    arena_destroy(a);
}

int main(void)
{
    json_alloc_install();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_scope), cmocka_unit_test(test_outside),
                                       cmocka_unit_test(test_text), cmocka_unit_test(test_reuse)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
