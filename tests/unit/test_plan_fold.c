/* Unit tests of plan_fold: which operations on one row fold, and the fold's columns and values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "plan_fold.h"

#define N_ROWS(a) (sizeof(a) / sizeof((a)[0]))

static const mapping_column_info_t key_id[] = {{"id", "text", COLOP_SET}};
static const mapping_column_info_t key_email[] = {{"email", "text", COLOP_SET}};
static const mapping_column_info_t guard_v = {"v", "bigint", COLOP_SET};
static const mapping_column_info_t cols_ab[] = {{"a", "text", COLOP_SET},
                                                {"b", "numeric", COLOP_ADD}};
static const mapping_column_info_t cols_a[] = {{"a", "text", COLOP_SET}};
static const mapping_column_info_t cols_c[] = {{"c", "text", COLOP_SET}};
static const mapping_column_info_t cols_b_add[] = {{"b", "numeric", COLOP_ADD}};
static const mapping_column_info_t cols_id[] = {{"id", "text", COLOP_SET}};

#define ACTION(i, k, t, K, C, g)                                                                   \
    {                                                                                              \
        .id = i, .kind = k, .table = "t", .table_id = t, .keys = K, .nkeys = 1, .cols = C,         \
        .ncols = N_ROWS(C), .guard = g, .where = "f: $.events.X[" #i "]"                           \
    }

static const mapping_action_info_t upsert_ab = ACTION(0, MAPPING_UPSERT, 0, key_id, cols_ab, NULL);
static const mapping_action_info_t update_a = ACTION(1, MAPPING_UPDATE, 0, key_id, cols_a, NULL);
static const mapping_action_info_t update_c = ACTION(2, MAPPING_UPDATE, 0, key_id, cols_c, NULL);
static const mapping_action_info_t update_b_add =
    ACTION(3, MAPPING_UPDATE, 0, key_id, cols_b_add, NULL);
static const mapping_action_info_t upsert_a_guard =
    ACTION(4, MAPPING_UPSERT, 0, key_id, cols_a, &guard_v);
static const mapping_action_info_t update_a_email =
    ACTION(5, MAPPING_UPDATE, 0, key_email, cols_a, NULL);
static const mapping_action_info_t upsert_c = ACTION(6, MAPPING_UPSERT, 0, key_id, cols_c, NULL);
static const mapping_action_info_t update_a_other =
    ACTION(7, MAPPING_UPDATE, 1, key_id, cols_a, NULL);
static const mapping_action_info_t update_moves_id =
    ACTION(8, MAPPING_UPDATE, 0, key_id, cols_id, NULL);
static const mapping_action_info_t delete_row = {
    .id = 9, .kind = MAPPING_DELETE, .table = "t", .table_id = 0, .keys = key_id, .nkeys = 1};

static const struct {
    const char *what;
    const mapping_action_info_t *a, *b;
    int folds;
    const char *cols;   /* the fold's columns and ops: "a=set,b=add,c=set" */
    const char *values; /* with a's values {k, A, B} and b's {k, X}: the fold's */
} rows[] = {
    {"upsert then a set update of another column", &upsert_ab, &update_c, 1, "a=0,b=1,c=0",
     "k,A,B,X"},
    {"upsert then a set update of one of its columns", &upsert_ab, &update_a, 1, "a=0,b=1",
     "k,X,B"},
    {"update then update", &update_a, &update_c, 1, "a=0,c=0", "k,A,X"},
    {"upsert then a set upsert (the row exists)", &upsert_ab, &upsert_c, 1, "a=0,b=1,c=0",
     "k,A,B,X"},
    {"update then upsert: the row may not exist before", &update_a, &upsert_c, 0, NULL, NULL},
    {"an add update reads the row", &upsert_ab, &update_b_add, 0, NULL, NULL},
    {"a guarded upsert", &upsert_a_guard, &update_c, 0, NULL, NULL},
    {"then a guarded upsert", &upsert_ab, &upsert_a_guard, 0, NULL, NULL},
    {"other key columns", &upsert_ab, &update_a_email, 0, NULL, NULL},
    {"another table", &upsert_ab, &update_a_other, 0, NULL, NULL},
    {"an update that moves the row", &upsert_ab, &update_moves_id, 0, NULL, NULL},
    {"a delete", &upsert_ab, &delete_row, 0, NULL, NULL},
};

static void test_rows(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t r = 0; r < N_ROWS(rows); r++) {
        plan_folds_t *f = plan_folds_new(100);
        const mapping_action_info_t *d = plan_folds_get(f, rows[r].a, rows[r].b);
        if (!d != !rows[r].folds)
            fail_msg("%s: %s, expected %s", rows[r].what, d ? "folds" : "does not fold",
                     rows[r].folds ? "a fold" : "none");
        if (d) {
            char got[256] = "";
            for (size_t i = 0; i < d->ncols; i++)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s=%d", i ? "," : "",
                         d->cols[i].name, d->cols[i].op == COLOP_ADD);
            if (strcmp(got, rows[r].cols) != 0)
                fail_msg("%s: columns %s, expected %s", rows[r].what, got, rows[r].cols);
            assert_int_equal(d->id, 100);
            assert_int_equal(d->kind, rows[r].a->kind);
            assert_null(d->guard);
            assert_ptr_equal(plan_folds_get(f, rows[r].a, rows[r].b), d); /* made once */
            const char *va[] = {"k", "A", "B"}, *vb[] = {"k", "X"};
            const char **v = plan_folds_values(d, va, vb, arena);
            char vals[256] = "";
            for (size_t i = 0; i < d->nkeys + d->ncols; i++)
                snprintf(vals + strlen(vals), sizeof(vals) - strlen(vals), "%s%s", i ? "," : "",
                         v[i]);
            if (strcmp(vals, rows[r].values) != 0)
                fail_msg("%s: values %s, expected %s", rows[r].what, vals, rows[r].values);
        }
        plan_folds_destroy(f);
    }
    arena_destroy(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rows)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
