/* Unit tests of the column operation table: every op has a name and SQL templates, renders as
 * expected, is listed to people, and round-trips through parsing a mapping file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mapping.h"
#include "support.h"

/* What each op must be: its templates rendered with cur = t.c, and v = V (operand, insert,
 * update) or v = X (excluded, as EXCLUDED."c" would be). One row per op. */
typedef struct colop_row {
    mapping_colop_t op;
    const char *name;
    const char *operand;  /* of V */
    const char *insert;   /* of V */
    const char *excluded; /* of X */
    const char *update;   /* of t.c and V */
    const char *column_type;
    int yields_value;
} colop_row_t;

static const colop_row_t colop_rows[] = {
    {COLOP_SET, "set", "V", "V", "X", "V", NULL, 1},
    {COLOP_ADD, "add", "V", "V", "X", "coalesce(t.c, 0) + coalesce(V, 0)", NULL, 0},
    {COLOP_SUBTRACT, "subtract", "V", "-V", "(-X)", "coalesce(t.c, 0) - coalesce(V, 0)", NULL, 0},
    {COLOP_MAX, "max", "V", "V", "X", "greatest(t.c, V)", NULL, 0},
    {COLOP_MIN, "min", "V", "V", "X", "least(t.c, V)", NULL, 0},
    {COLOP_APPEND, "append", "jsonb_build_array(V)", "V", "X", "coalesce(t.c, '[]'::jsonb) || V",
     "jsonb", 0},
    {COLOP_SET_IF_NULL, "set_if_null", "V", "V", "X", "coalesce(t.c, V)", NULL, 0},
};

/* Returns template tmpl rendered with cur and v (caller frees). */
static char *render(const char *tmpl, const char *cur, const char *v)
{
    strbuf_t sb = STRBUF_INIT;
    strbuf_puts(&sb, "");
    mapping_colop_render(&sb, tmpl, cur, v);
    return sb.data;
}

static void check_render(const char *op, const char *what, const char *tmpl, const char *cur,
                         const char *v, const char *want)
{
    char *got = render(tmpl, cur, v);
    if (strcmp(got, want) != 0)
        fail_msg("op %s: %s renders as\n  %s\nexpected\n  %s", op, what, got, want);
    free(got);
}

/* Every row of the table is complete and found by its op and its name; every op has a row. */
static void test_table_is_complete(void **state)
{
    (void)state;
    assert_int_equal(mapping_colop_count(), COLOP_N);
    for (size_t i = 0; i < mapping_colop_count(); i++) {
        const mapping_colop_def_t *d = mapping_colop_at(i);
        assert_non_null(d);
        assert_true(d->name && d->name[0]);
        assert_true(d->comment && d->comment[0]);
        const char *const tmpls[] = {d->operand, d->insert, d->excluded, d->update};
        for (size_t k = 0; k < N_ROWS(tmpls); k++) {
            if (!tmpls[k] || !strstr(tmpls[k], "{v}"))
                fail_msg("op %s: template %zu lacks {v}", d->name, k);
            if (k < 3 && strstr(tmpls[k], "{cur}"))
                fail_msg("op %s: template %zu has no current value to use", d->name, k);
        }
        assert_ptr_equal(mapping_colop_def(d->op), d);
        assert_ptr_equal(mapping_colop_by_name(d->name), d);
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(mapping_colop_at(k)->name, d->name);
    }
    assert_null(mapping_colop_at(mapping_colop_count()));
    assert_null(mapping_colop_by_name("sum"));
    assert_null(mapping_colop_by_name(""));
    for (int op = 0; op < COLOP_N; op++)
        assert_int_equal(mapping_colop_def((mapping_colop_t)op)->op, op);
}

/* Each op's templates say what its row of colop_rows says. */
static void test_rows_render(void **state)
{
    (void)state;
    assert_int_equal(N_ROWS(colop_rows), mapping_colop_count());
    for (size_t i = 0; i < N_ROWS(colop_rows); i++) {
        const colop_row_t *r = &colop_rows[i];
        const mapping_colop_def_t *d = mapping_colop_def(r->op);
        assert_string_equal(d->name, r->name);
        check_render(r->name, "operand", d->operand, NULL, "V", r->operand);
        check_render(r->name, "insert", d->insert, NULL, "V", r->insert);
        check_render(r->name, "excluded", d->excluded, NULL, "X", r->excluded);
        check_render(r->name, "update", d->update, "t.c", "V", r->update);
        if (!r->column_type)
            assert_null(d->column_type);
        else
            assert_string_equal(d->column_type, r->column_type);
        assert_int_equal(d->yields_value, r->yields_value);
    }
}

/* The list people read in "unknown op (expected ...)", in table order. */
static void test_expected_list(void **state)
{
    (void)state;
    char buf[256];
    mapping_colop_expected(buf, sizeof(buf));
    assert_string_equal(buf, "set, add, subtract, max, min, append or set_if_null");
    char small[8];
    mapping_colop_expected(small, sizeof(small));
    assert_string_equal(small, "set, ad");
    check_render("-", "text without placeholders", "least(a, b) {x}", "C", "V", "least(a, b) {x}");
}

/* Every op's name, written as "op" in a mapping file, loads as that op. */
static void test_round_trip_through_parsing(void **state)
{
    (void)state;
    for (size_t i = 0; i < mapping_colop_count(); i++) {
        const mapping_colop_def_t *d = mapping_colop_at(i);
        char dir[] = "/tmp/projector-colop-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char text[512];
        snprintf(text, sizeof(text),
                 "{\"version\": 1, \"projection\": \"p\", \"topics\": [\"t\"], \"events\": "
                 "{\"E\": [{\"upsert\": \"vals\", \"key\": {\"id\": \"$.id\"}, \"columns\": "
                 "{\"c\": {\"path\": \"$.c\", \"op\": \"%s\"}}}]}}",
                 d->name);
        support_write_file(dir, "m.json", text);
        errlist_t *errs = errlist_new();
        mapping_set_t *set = mapping_set_load(dir, errs);
        if (!set)
            fail_msg("op %s: the mapping does not load: %s", d->name, errlist_get(errs, 0));
        const mapping_t *m = mapping_set_get(set, 0);
        assert_int_equal(mapping_action_count(m), 1);
        const mapping_action_info_t *a = mapping_action_info(mapping_action(m, 0));
        assert_int_equal(a->ncols, 1);
        assert_int_equal(a->cols[0].op, d->op);
        mapping_set_destroy(set);
        errlist_destroy(errs);
        support_remove_dir(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_complete),
        cmocka_unit_test(test_rows_render),
        cmocka_unit_test(test_expected_list),
        cmocka_unit_test(test_round_trip_through_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
