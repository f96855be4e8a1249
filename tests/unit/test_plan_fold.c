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

static const mapping_column_info_t key_id[] = {{"id", "text", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t key_email[] = {{"email", "text", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t guard_v = {"v", "bigint", COLOP_SET, 0, NULL, NULL};
static const mapping_column_info_t cols_ab[] = {
    {"a", "text", COLOP_SET, 0, NULL, NULL}, {"b", "numeric", COLOP_ADD, 0, "numeric(12,2)", NULL}};
static const mapping_column_info_t cols_a[] = {{"a", "text", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t cols_c[] = {{"c", "text", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t cols_b_add[] = {
    {"b", "numeric", COLOP_ADD, 0, "numeric(12,2)", NULL}};
static const mapping_column_info_t cols_b_set[] = {
    {"b", "numeric", COLOP_SET, 0, "numeric(12,2)", NULL}};
static const mapping_column_info_t cols_b_max[] = {
    {"b", "numeric", COLOP_MAX, 0, "numeric(12,2)", NULL}};
static const mapping_column_info_t cols_b_sub[] = {
    {"b", "numeric", COLOP_SUBTRACT, 0, "numeric(12,2)", NULL}};
static const mapping_column_info_t cols_id[] = {{"id", "text", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t cols_f_add[] = {
    {"f", "double precision", COLOP_ADD, 0, NULL, NULL}};
static const mapping_column_info_t cols_n_max[] = {{"n", "numeric", COLOP_MAX, 0, "numeric", NULL}};
static const mapping_column_info_t cols_u_add[] = {{"u", "numeric", COLOP_ADD, 0, NULL, NULL}};
static const mapping_column_info_t cols_d0_add[] = {{"d", "bigint", COLOP_ADD, 0, NULL, "0"}};
static const mapping_column_info_t cols_d5_add[] = {{"d", "bigint", COLOP_ADD, 0, NULL, "5"}};
static const mapping_column_info_t cols_m_max[] = {
    {"m", "timestamp with time zone", COLOP_MAX, 0, NULL, ""}};
static const mapping_column_info_t cols_n_add[] = {{"n", "numeric", COLOP_ADD, 0, "numeric", NULL}};
static const mapping_column_info_t cols_i_min[] = {{"i", "integer", COLOP_MIN, 0, NULL, NULL}};
static const mapping_column_info_t cols_t_max[] = {
    {"t", "timestamp with time zone", COLOP_MAX, 0, NULL, NULL}};
static const mapping_column_info_t cols_j_app[] = {{"j", "jsonb", COLOP_APPEND, 0, NULL, NULL}};
static const mapping_column_info_t cols_j_sin[] = {
    {"j", "jsonb", COLOP_SET_IF_NULL, 0, NULL, NULL}};

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
static const mapping_action_info_t upsert_b_add =
    ACTION(10, MAPPING_UPSERT, 0, key_id, cols_b_add, NULL);
static const mapping_action_info_t update_b_set =
    ACTION(11, MAPPING_UPDATE, 0, key_id, cols_b_set, NULL);
static const mapping_action_info_t update_b_max =
    ACTION(12, MAPPING_UPDATE, 0, key_id, cols_b_max, NULL);
static const mapping_action_info_t update_b_sub =
    ACTION(13, MAPPING_UPDATE, 0, key_id, cols_b_sub, NULL);
static const mapping_action_info_t update_f_add =
    ACTION(14, MAPPING_UPDATE, 0, key_id, cols_f_add, NULL);
static const mapping_action_info_t update_n_max =
    ACTION(15, MAPPING_UPDATE, 0, key_id, cols_n_max, NULL);
static const mapping_action_info_t update_n_add =
    ACTION(16, MAPPING_UPDATE, 0, key_id, cols_n_add, NULL);
static const mapping_action_info_t update_u_add =
    ACTION(21, MAPPING_UPDATE, 0, key_id, cols_u_add, NULL);
static const mapping_action_info_t update_d0_add =
    ACTION(22, MAPPING_UPDATE, 0, key_id, cols_d0_add, NULL);
static const mapping_action_info_t update_d5_add =
    ACTION(23, MAPPING_UPDATE, 0, key_id, cols_d5_add, NULL);
static const mapping_action_info_t update_m_max =
    ACTION(24, MAPPING_UPDATE, 0, key_id, cols_m_max, NULL);
static const mapping_action_info_t update_i_min =
    ACTION(17, MAPPING_UPDATE, 0, key_id, cols_i_min, NULL);
static const mapping_action_info_t upsert_t_max =
    ACTION(18, MAPPING_UPSERT, 0, key_id, cols_t_max, NULL);
static const mapping_action_info_t update_j_app =
    ACTION(19, MAPPING_UPDATE, 0, key_id, cols_j_app, NULL);
static const mapping_action_info_t update_j_sin =
    ACTION(20, MAPPING_UPDATE, 0, key_id, cols_j_sin, NULL);

static const struct {
    const char *what;
    const mapping_action_info_t *a, *b;
    int folds;
    const char *cols;   /* the fold's columns and ops, [] for a list: "a=set,b=add[],c=set" */
    const char *values; /* with a's values {k, 1, 2} and b's {k, 3}: the fold's */
} rows[] = {
    {"upsert then a set update of another column", &upsert_ab, &update_c, 1, "a=set,b=add,c=set",
     "k,1,2,3"},
    {"upsert then a set update of one of its columns", &upsert_ab, &update_a, 1, "a=set,b=add",
     "k,3,2"},
    {"update then update", &update_a, &update_c, 1, "a=set,c=set", "k,1,3"},
    {"upsert then a set upsert (the row exists)", &upsert_ab, &upsert_c, 1, "a=set,b=add,c=set",
     "k,1,2,3"},
    {"update then upsert: the row may not exist before", &update_a, &upsert_c, 0, NULL, NULL},
    {"an add after an add: the list of both", &upsert_ab, &update_b_add, 1, "a=set,b=add[]",
     "k,1,{\"2\",\"3\"}"},
    {"an add upsert after an add upsert", &upsert_b_add, &upsert_b_add, 1, "b=add[]",
     "k,{\"1\",\"3\"}"},
    {"a set after an add", &upsert_ab, &update_b_set, 1, "a=set,b=set", "k,1,3"},
    {"an add after a set: the list from the set value", &update_b_set, &update_b_add, 1,
     "b=add[set]", "k,{\"1\",\"3\"}"},
    {"a set, then adds: still from the set value", &update_b_set, &update_b_add, 1, "b=add[set]",
     "k,{\"1\",\"3\"}"},
    {"a max after an add", &upsert_ab, &update_b_max, 0, NULL, NULL},
    {"a subtract has no fold", &update_b_sub, &update_b_sub, 0, NULL, NULL},
    {"an add to a float column is not exact", &update_f_add, &update_f_add, 0, NULL, NULL},
    {"an add to an unconstrained numeric", &update_n_add, &update_n_add, 1, "n=add[]",
     "k,{\"1\",\"3\"}"},
    {"a max of unconstrained numerics (1.0 and 1.00 tie)", &update_n_max, &update_n_max, 0, NULL,
     NULL},
    {"an add to a numeric of unknown scale", &update_u_add, &update_u_add, 0, NULL, NULL},
    {"a max of numeric(12,2)", &update_b_max, &update_b_max, 1, "b=max[]", "k,{\"1\",\"3\"}"},
    {"a min of integers", &update_i_min, &update_i_min, 1, "i=min[]", "k,{\"1\",\"3\"}"},
    {"a max of timestamptz upserts", &upsert_t_max, &upsert_t_max, 1, "t=max[]", "k,{\"1\",\"3\"}"},
    {"an append after an append", &update_j_app, &update_j_app, 1, "j=append[]", "k,{\"1\",\"3\"}"},
    {"a set_if_null has no fold", &update_j_sin, &update_j_sin, 0, NULL, NULL},
    {"an update then an add to another column", &update_a, &update_b_add, 1, "a=set,b=add",
     "k,1,3"},
    {"an upsert then an add to a column it does not write (the default)", &upsert_c, &update_b_add,
     0, NULL, NULL},
    {"an upsert then an add to a column it does not write, whose default is 0", &upsert_c,
     &update_d0_add, 1, "c=set,d=add", "k,1,3"},
    {"an upsert then an add to a column it does not write, whose default is 5", &upsert_c,
     &update_d5_add, 0, NULL, NULL},
    {"an upsert then a max of a column it does not write, without a default", &upsert_c,
     &update_m_max, 1, "c=set,m=max", "k,1,3"},
    {"a guarded upsert", &upsert_a_guard, &update_c, 0, NULL, NULL},
    {"then a guarded upsert", &upsert_ab, &upsert_a_guard, 0, NULL, NULL},
    {"other key columns", &upsert_ab, &update_a_email, 0, NULL, NULL},
    {"another table", &upsert_ab, &update_a_other, 0, NULL, NULL},
    {"an update that moves the row", &upsert_ab, &update_moves_id, 0, NULL, NULL},
};

/* "k,A,..." from n values. */
static void join(char *out, size_t size, const char *const *v, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", v[i] ? v[i] : "NULL");
}

static void test_rows(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t r = 0; r < N_ROWS(rows); r++) {
        plan_folds_t *f = plan_folds_new(100);
        const plan_fold_t *fold = plan_folds_get(f, rows[r].a, rows[r].b);
        if (!fold != !rows[r].folds)
            fail_msg("%s: %s, expected %s", rows[r].what, fold ? "folds" : "does not fold",
                     rows[r].folds ? "a fold" : "none");
        if (fold) {
            const mapping_action_info_t *d = plan_fold_info(fold);
            char got[256] = "";
            for (size_t i = 0; i < d->ncols; i++)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s=%s%s", i ? "," : "",
                         d->cols[i].name, mapping_colop_def(d->cols[i].op)->name,
                         d->cols[i].folded == 2 ? "[set]"
                         : d->cols[i].folded    ? "[]"
                                                : "");
            if (strcmp(got, rows[r].cols) != 0)
                fail_msg("%s: columns %s, expected %s", rows[r].what, got, rows[r].cols);
            assert_int_equal(d->id, 100);
            assert_int_equal(d->kind, rows[r].a->kind);
            assert_null(d->guard);
            assert_ptr_equal(plan_folds_get(f, rows[r].a, rows[r].b), fold); /* made once */
            const char *va[] = {"k", "1", "2"}, *vb[] = {"k", "3"};
            const char **v = plan_fold_values(fold, va, vb, arena);
            assert_non_null(v);
            char vals[256];
            join(vals, sizeof(vals), v, d->nkeys + d->ncols);
            if (strcmp(vals, rows[r].values) != 0)
                fail_msg("%s: values %s, expected %s", rows[r].what, vals, rows[r].values);
        }
        plan_folds_destroy(f);
    }
    arena_destroy(arena);
}

/* The values of a chain of adds, one value a time: the list, or none (NULL) past a negative. */
static const struct {
    const char *what;
    const char *values[4]; /* of the first action, then of each next, NULL-terminated by "" */
    const char *list;      /* the list, or NULL: does not fold */
} chains[] = {
    {"three adds", {"1.5", "2", "3", ""}, "{\"1.5\",\"2\",\"3\"}"},
    {"a NULL operand", {NULL, "2", ""}, "{NULL,\"2\"}"},
    {"a negative first value", {"-1", "2", ""}, NULL},
    {"a negative later value, blanks before", {"1", " -2", ""}, NULL},
    {"more decimals than the column's scale", {"1.5", "2.125", ""}, NULL},
    {"an exponent", {"1", "1e2", ""}, NULL},
    {"blanks and a plus sign", {" +1.25 ", "2.", ""}, "{\" +1.25 \",\"2.\"}"},
};

static void test_chains(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t r = 0; r < N_ROWS(chains); r++) {
        plan_folds_t *f = plan_folds_new(100);
        const mapping_action_info_t *a = &upsert_b_add;
        const char *first[] = {"k", chains[r].values[0]};
        const char **v = (const char **)first;
        for (size_t i = 1; v && !(chains[r].values[i] && !*chains[r].values[i]); i++) {
            const plan_fold_t *fold = plan_folds_get(f, a, &update_b_add);
            assert_non_null(fold);
            const char *vb[] = {"k", chains[r].values[i]};
            v = plan_fold_values(fold, v, vb, arena);
            a = plan_fold_info(fold);
            assert_int_equal(a->id, 100); /* the chain stays one action */
        }
        if (!v != !chains[r].list)
            fail_msg("%s: %s", chains[r].what, v ? "folds" : "does not fold");
        if (v && strcmp(v[1], chains[r].list) != 0)
            fail_msg("%s: list %s, expected %s", chains[r].what, v[1], chains[r].list);
        plan_folds_destroy(f);
    }
    /* a list past 8 KiB stops folding */
    plan_folds_t *f = plan_folds_new(100);
    const plan_fold_t *fold = plan_folds_get(f, &upsert_b_add, &update_b_add);
    const char *first[] = {"k", "1"}, *vb[] = {"k", "12345678"};
    const char **v = (const char **)first;
    size_t steps = 0;
    while (v) {
        v = plan_fold_values(steps ? plan_folds_get(f, plan_fold_info(fold), &update_b_add) : fold,
                             v, vb, arena);
        steps++;
    }
    assert_in_range(steps, 700, 900);
    plan_folds_destroy(f);
    /* an add of NULL to a new row's default 0 leaves 0, the add's own insert NULL: not folded */
    f = plan_folds_new(100);
    fold = plan_folds_get(f, &upsert_c, &update_d0_add);
    const char *vc[] = {"k", "c"}, *vnull[] = {"k", NULL};
    assert_null(plan_fold_values(fold, vc, vnull, arena));
    plan_folds_destroy(f);
    arena_destroy(arena);
}

static const mapping_action_info_t delete_guarded = {.id = 25,
                                                     .kind = MAPPING_DELETE,
                                                     .table = "t",
                                                     .table_id = 0,
                                                     .keys = key_id,
                                                     .nkeys = 1,
                                                     .guard = &guard_v};

/* A delete wins over what came before it on the row, and over an update or delete after it. */
static const struct {
    const char *what;
    const mapping_action_info_t *a, *b;
    const mapping_action_info_t *fold; /* NULL: does not fold */
    const char *values;                /* with a's values {k, 1, 2} and b's {k, 3} */
} deletes[] = {
    {"an upsert then a delete", &upsert_ab, &delete_row, &delete_row, "kb"},
    {"a guarded upsert then a delete", &upsert_a_guard, &delete_row, &delete_row, "kb"},
    {"a delete then an update (no row)", &delete_row, &update_a, &delete_row, "ka"},
    {"a delete then a delete", &delete_row, &delete_row, &delete_row, "ka"},
    {"a delete then an upsert: an insert", &delete_row, &upsert_c, NULL, NULL},
    {"an update moving the row then a delete", &update_moves_id, &delete_row, NULL, NULL},
    {"an upsert then a guarded delete", &upsert_ab, &delete_guarded, NULL, NULL},
    {"a delete by other key columns", &update_a_email, &delete_row, NULL, NULL},
};

static void test_deletes(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t r = 0; r < N_ROWS(deletes); r++) {
        plan_folds_t *f = plan_folds_new(100);
        const plan_fold_t *fold = plan_folds_get(f, deletes[r].a, deletes[r].b);
        if (!fold != !deletes[r].fold)
            fail_msg("%s: %s", deletes[r].what, fold ? "folds" : "does not fold");
        if (fold) {
            assert_ptr_equal(plan_fold_info(fold), deletes[r].fold);
            const char *va[] = {"ka", "1", "2"}, *vb[] = {"kb", "3"};
            const char **v = plan_fold_values(fold, va, vb, arena);
            assert_non_null(v);
            if (strcmp(v[0], deletes[r].values) != 0)
                fail_msg("%s: key %s, expected %s", deletes[r].what, v[0], deletes[r].values);
            assert_ptr_equal(plan_folds_get(f, deletes[r].a, deletes[r].b), fold);
        }
        plan_folds_destroy(f);
    }
    arena_destroy(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rows), cmocka_unit_test(test_chains),
                                       cmocka_unit_test(test_deletes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
