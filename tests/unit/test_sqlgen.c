/* Unit tests of sqlgen: set-based statements for the sample mapping and for hand-built actions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sqlgen.h"
#include "support.h"

/* ---- helpers ---- */

static const char *const orders_dir[] = {SUPPORT_ORDERS_DIR};

static int setup_orders(void **state)
{
    (void)state;
    return support_sets_load(orders_dir, N_ROWS(orders_dir));
}

/* The action of orders.json whose place in the file ends with "$.events.<label>". */
static const mapping_action_info_t *orders_action(const char *label)
{
    const mapping_t *m = support_mapping(0);
    for (size_t i = 0; i < mapping_action_count(m); i++) {
        const mapping_action_info_t *a = mapping_action_info(mapping_action(m, i));
        if (support_is_action(a, label))
            return a;
    }
    fail_msg("orders.json has no action %s", label);
    return NULL;
}

/* What a statement must say: all of it (exact), or some fragments; and what it must not. */
typedef struct want_sql {
    size_t nparams;
    const char *exact;
    const char *has[10];
    const char *lacks[4];
} want_sql_t;

static void check_sql(const char *row, const char *sql, const want_sql_t *w, int placeholders)
{
    if (w->exact && strcmp(sql, w->exact) != 0)
        fail_msg("%s: statement\n  %s\nexpected\n  %s", row, sql, w->exact);
    for (size_t i = 0; i < N_ROWS(w->has) && w->has[i]; i++)
        if (!strstr(sql, w->has[i]))
            fail_msg("%s: statement\n  %s\nlacks\n  %s", row, sql, w->has[i]);
    for (size_t i = 0; i < N_ROWS(w->lacks) && w->lacks[i]; i++)
        if (strstr(sql, w->lacks[i]))
            fail_msg("%s: statement\n  %s\nshould not contain\n  %s", row, sql, w->lacks[i]);
    if (!placeholders)
        return;
    /* every parameter is unnested as text[], and no more */
    for (size_t k = 1; k <= w->nparams + 1; k++) {
        char ph[32];
        snprintf(ph, sizeof(ph), "$%zu::text[]", k);
        if ((strstr(sql, ph) != NULL) != (k <= w->nparams))
            fail_msg("%s: placeholder %s %s in\n  %s", row, ph,
                     k <= w->nparams ? "missing" : "unexpected", sql);
    }
}

/* ---- the sample mapping ---- */

typedef struct orders_row {
    const char *action; /* "OrderCreated[0]" */
    want_sql_t want;
} orders_row_t;

static const orders_row_t orders_rows[] = {
    {"OrderCreated[0]",
     {8,
      NULL,
      {"INSERT INTO \"order_detail\" AS t (\"order_id\", \"customer_id\", \"status\", "
       "\"total_amount\", \"item_count\", \"items\", \"created_at\", \"updated_at\") SELECT ",
       "SELECT u.p1::text, u.p2::text, u.p3::text, u.p4::numeric(14,2), u.p5::integer, "
       "u.p6::jsonb, u.p7::timestamp with time zone, u.p8::timestamp with time zone FROM",
       " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
       "$7::text[], $8::text[]) AS u(p1, p2, p3, p4, p5, p6, p7, p8) ",
       " ON CONFLICT (\"order_id\") DO UPDATE SET \"customer_id\" = EXCLUDED.\"customer_id\", ",
       "\"items\" = EXCLUDED.\"items\"", "\"updated_at\" = EXCLUDED.\"updated_at\""},
      {"\"order_id\" = EXCLUDED", " WHERE ", "coalesce"}}},
    {"OrderCreated[1]",
     {4,
      "INSERT INTO \"customer_summary\" AS t (\"customer_id\", \"orders_created\", "
      "\"total_ordered\", \"last_order_at\") SELECT u.p1::text, u.p2::bigint, "
      "u.p3::numeric(16,2), u.p4::timestamp with time zone FROM unnest($1::text[], $2::text[], "
      "$3::text[], $4::text[]) AS u(p1, p2, p3, p4) ON CONFLICT (\"customer_id\") DO UPDATE SET "
      "\"orders_created\" = coalesce(t.\"orders_created\", 0) + "
      "coalesce(EXCLUDED.\"orders_created\", 0), \"total_ordered\" = "
      "coalesce(t.\"total_ordered\", 0) + coalesce(EXCLUDED.\"total_ordered\", 0), "
      "\"last_order_at\" = greatest(t.\"last_order_at\", EXCLUDED.\"last_order_at\")",
      {NULL},
      {NULL}}},
    {"OrderCreated[1]",
     {4,
      NULL,
      {"coalesce(t.\"orders_created\", 0) + coalesce(EXCLUDED.\"orders_created\", 0)",
       "greatest(t.\"last_order_at\", EXCLUDED.\"last_order_at\")"},
      {"least(", "\"customer_id\" = EXCLUDED"}}},
    {"OrderPaid[0]",
     {4,
      "UPDATE \"order_detail\" AS t SET \"status\" = u.p2::text, \"payment_id\" = u.p3::text, "
      "\"updated_at\" = u.p4::timestamp with time zone FROM unnest($1::text[], $2::text[], "
      "$3::text[], $4::text[]) AS u(p1, p2, p3, p4) WHERE t.\"order_id\" = u.p1::text",
      {NULL},
      {NULL}}},
    {"OrderPaid[0]",
     {4,
      NULL,
      {"UPDATE \"order_detail\" AS t SET ", "FROM unnest($1::text[], "},
      {"INSERT", "ON CONFLICT", "IS NULL OR"}}},
    {"OrderShipped[0]",
     {4,
      NULL,
      {"\"tracking_number\" = u.p3::text", "WHERE t.\"order_id\" = u.p1::text"},
      {"payment_id"}}},
    {"OrderCancelled[0]",
     {2,
      "UPDATE \"customer_summary\" AS t SET \"orders_cancelled\" = "
      "coalesce(t.\"orders_cancelled\", 0) + coalesce(u.p2::bigint, 0) FROM "
      "unnest($1::text[], $2::text[]) AS u(p1, p2) WHERE t.\"customer_id\" = u.p1::text",
      {NULL},
      {NULL}}},
    {"OrderCancelled[1]",
     {4,
      NULL,
      {"UPDATE \"order_detail\" AS t SET \"status\" = u.p2::text, \"cancel_reason\" = "
       "u.p3::text, \"updated_at\" = u.p4::timestamp with time zone FROM"},
      {"customer_id"}}},
};

static void test_orders_actions(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(orders_rows); i++) {
        const orders_row_t *r = &orders_rows[i];
        const mapping_action_info_t *a = orders_action(r->action);
        if (sqlgen_param_count(a) != r->want.nparams)
            fail_msg("%s: %zu params, expected %zu", r->action, sqlgen_param_count(a),
                     r->want.nparams);
        char *sql = sqlgen_action(a);
        check_sql(r->action, sql, &r->want, 1);
        free(sql);
    }
}

static void test_orders_lookup(void **state)
{
    (void)state;
    const mapping_t *m = support_mapping(0);
    assert_int_equal(mapping_lookup_count(m), 1);
    char *sql = sqlgen_lookup(mapping_lookup_info(m, 0));
    assert_string_equal(sql, "SELECT u.ord, t.\"customer_id\"::text FROM unnest($1::text[]) WITH "
                             "ORDINALITY AS u(p1, ord) JOIN \"order_detail\" AS t ON "
                             "t.\"order_id\" = u.p1::text");
    free(sql);
}

/* ---- hand-built actions: guards, deletes, every op, awkward identifiers ---- */

static const mapping_column_info_t id_text[] = {{"id", "text", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t body_jsonb[] = {{"body", "jsonb", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t version_bigint = {"version", "bigint", COLOP_SET, 0, NULL, NULL};
static const mapping_column_info_t ab_keys[] = {{"a", "text", COLOP_SET, 0, NULL, NULL},
                                                {"b", "integer", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t every_op[] = {
    {"lo", "numeric", COLOP_MIN, 0, NULL, NULL},
    {"first", "text", COLOP_SET_IF_NULL, 0, NULL, NULL},
    {"log", "jsonb", COLOP_APPEND, 0, NULL, NULL},
    {"hits", "bigint", COLOP_ADD, 0, NULL, NULL},
    {"hi", "timestamp with time zone", COLOP_MAX, 0, NULL, NULL},
    {"stock", "integer", COLOP_SUBTRACT, 0, NULL, NULL},
};
/* the columns of a fold (plan_fold.h): each value a list of operands */
static const mapping_column_info_t folded_ops[] = {
    {"lo", "numeric", COLOP_MIN, 1, "numeric(9,2)", NULL},
    {"log", "jsonb", COLOP_APPEND, 1, NULL, NULL},
    {"hits", "bigint", COLOP_ADD, 1, NULL, NULL},
    {"hi", "timestamp with time zone", COLOP_MAX, 1, NULL, NULL},
};
static const mapping_column_info_t set_then_add[] = {{"hits", "bigint", COLOP_ADD, 2, NULL, NULL}};
static const mapping_column_info_t weird_key[] = {{"i\"d", "text", COLOP_SET, 0, NULL, NULL}};
static const mapping_column_info_t weird_col[] = {{"co\"l", "bigint", COLOP_ADD, 0, NULL, NULL}};
static const mapping_column_info_t typed_cols[] = {
    {"n", "numeric(14,2)", COLOP_SET, 0, NULL, NULL},
    {"tags", "text[]", COLOP_SET, 0, NULL, NULL},
    {"flag", "boolean", COLOP_SET_IF_NULL, 0, NULL, NULL}};
static const mapping_column_info_t dotted_col[] = {{"a.b", "text", COLOP_SET, 0, NULL, NULL}};

#define TABLE_ACTION(k, tbl, ks, cs, nc, g)                                                        \
    {                                                                                              \
        .id = 0, .kind = (k), .table = (tbl), .table_id = 0, .keys = (ks), .nkeys = N_ROWS(ks),    \
        .cols = (cs), .ncols = (nc), .guard = (g), .where = "test"                                 \
    }

static const mapping_action_info_t a_ver_upsert =
    TABLE_ACTION(MAPPING_UPSERT, "versioned", id_text, body_jsonb, 1, &version_bigint);
static const mapping_action_info_t a_ver_update =
    TABLE_ACTION(MAPPING_UPDATE, "versioned", id_text, body_jsonb, 1, &version_bigint);
static const mapping_action_info_t a_ver_delete =
    TABLE_ACTION(MAPPING_DELETE, "versioned", id_text, NULL, 0, &version_bigint);
static const mapping_action_info_t a_delete =
    TABLE_ACTION(MAPPING_DELETE, "plain", ab_keys, NULL, 0, NULL);
static const mapping_action_info_t a_ops_upsert =
    TABLE_ACTION(MAPPING_UPSERT, "plain", ab_keys, every_op, 6, NULL);
static const mapping_action_info_t a_ops_update =
    TABLE_ACTION(MAPPING_UPDATE, "plain", ab_keys, every_op, 6, NULL);
static const mapping_action_info_t a_folded_upsert =
    TABLE_ACTION(MAPPING_UPSERT, "plain", ab_keys, folded_ops, 4, NULL);
static const mapping_action_info_t a_folded_update =
    TABLE_ACTION(MAPPING_UPDATE, "plain", ab_keys, folded_ops, 4, NULL);
static const mapping_action_info_t a_set_add_upsert =
    TABLE_ACTION(MAPPING_UPSERT, "plain", ab_keys, set_then_add, 1, NULL);
static const mapping_action_info_t a_set_add_update =
    TABLE_ACTION(MAPPING_UPDATE, "plain", ab_keys, set_then_add, 1, NULL);
static const mapping_action_info_t a_keys_only =
    TABLE_ACTION(MAPPING_UPSERT, "seen", id_text, NULL, 0, NULL);
static const mapping_action_info_t a_weird =
    TABLE_ACTION(MAPPING_UPSERT, "we\"ird", weird_key, weird_col, 1, NULL);
static const mapping_action_info_t a_weird_delete =
    TABLE_ACTION(MAPPING_DELETE, "we\"ird", weird_key, NULL, 0, NULL);
static const mapping_action_info_t a_schema =
    TABLE_ACTION(MAPPING_UPDATE, "app.items", id_text, typed_cols, 3, NULL);
static const mapping_action_info_t a_typed_upsert =
    TABLE_ACTION(MAPPING_UPSERT, "app.items", id_text, typed_cols, 3, &version_bigint);
static const mapping_action_info_t a_dotted =
    TABLE_ACTION(MAPPING_UPSERT, "t", id_text, dotted_col, 1, NULL);
static const mapping_action_info_t a_sql = {
    .id = 0,
    .kind = MAPPING_SQL,
    .table_id = -1,
    .sql = "UPDATE stats SET n = n + $1 WHERE day = $2::date",
    .nparams = 2,
    .where = "test",
};

typedef struct action_row {
    const char *name;
    const mapping_action_info_t *a;
    want_sql_t want;
} action_row_t;

static const action_row_t action_rows[] = {
    {"guarded upsert",
     &a_ver_upsert,
     {3,
      "INSERT INTO \"versioned\" AS t (\"id\", \"body\", \"version\") SELECT u.p1::text, "
      "u.p2::jsonb, u.p3::bigint FROM unnest($1::text[], $2::text[], $3::text[]) AS u(p1, p2, "
      "p3) ON CONFLICT (\"id\") DO UPDATE SET \"body\" = EXCLUDED.\"body\", \"version\" = "
      "EXCLUDED.\"version\" WHERE t.\"version\" IS NULL OR t.\"version\" <= "
      "EXCLUDED.\"version\"",
      {NULL},
      {NULL}}},
    {"guarded update",
     &a_ver_update,
     {3,
      "UPDATE \"versioned\" AS t SET \"body\" = u.p2::jsonb, \"version\" = u.p3::bigint FROM "
      "unnest($1::text[], $2::text[], $3::text[]) AS u(p1, p2, p3) WHERE t.\"id\" = u.p1::text "
      "AND (t.\"version\" IS NULL OR t.\"version\" <= u.p3::bigint)",
      {NULL},
      {NULL}}},
    {"guarded delete",
     &a_ver_delete,
     {2,
      "DELETE FROM \"versioned\" AS t USING unnest($1::text[], $2::text[]) AS u(p1, p2) WHERE "
      "t.\"id\" = u.p1::text AND (t.\"version\" IS NULL OR t.\"version\" <= u.p2::bigint)",
      {NULL},
      {NULL}}},
    {"delete by two keys",
     &a_delete,
     {2,
      "DELETE FROM \"plain\" AS t USING unnest($1::text[], $2::text[]) AS u(p1, p2) WHERE "
      "t.\"a\" = u.p1::text AND t.\"b\" = u.p2::integer",
      {NULL},
      {"IS NULL"}}},
    {"upsert with every op",
     &a_ops_upsert,
     {8,
      NULL,
      {"INSERT INTO \"plain\" AS t (\"a\", \"b\", \"lo\", \"first\", \"log\", \"hits\", \"hi\", "
       "\"stock\") ",
       "SELECT u.p1::text, u.p2::integer, u.p3::numeric, u.p4::text, "
       "jsonb_build_array(u.p5::jsonb), u.p6::bigint, u.p7::timestamp with time zone, "
       "-u.p8::integer FROM",
       "ON CONFLICT (\"a\", \"b\") DO UPDATE SET ", "\"lo\" = least(t.\"lo\", EXCLUDED.\"lo\")",
       "\"first\" = coalesce(t.\"first\", EXCLUDED.\"first\")",
       "\"log\" = coalesce(t.\"log\", '[]'::jsonb) || EXCLUDED.\"log\"",
       "\"hits\" = coalesce(t.\"hits\", 0) + coalesce(EXCLUDED.\"hits\", 0)",
       "\"hi\" = greatest(t.\"hi\", EXCLUDED.\"hi\")",
       "\"stock\" = coalesce(t.\"stock\", 0) - coalesce((-EXCLUDED.\"stock\"), 0)"},
      {" WHERE ", "\"a\" = EXCLUDED"}}},
    {"update with every op",
     &a_ops_update,
     {8,
      NULL,
      {"UPDATE \"plain\" AS t SET ", "\"lo\" = least(t.\"lo\", u.p3::numeric)",
       "\"first\" = coalesce(t.\"first\", u.p4::text)",
       "\"log\" = coalesce(t.\"log\", '[]'::jsonb) || jsonb_build_array(u.p5::jsonb)",
       "\"hits\" = coalesce(t.\"hits\", 0) + coalesce(u.p6::bigint, 0)",
       "\"hi\" = greatest(t.\"hi\", u.p7::timestamp with time zone)",
       "\"stock\" = coalesce(t.\"stock\", 0) - coalesce(u.p8::integer, 0)",
       " WHERE t.\"a\" = u.p1::text AND t.\"b\" = u.p2::integer"},
      {"INSERT", "EXCLUDED"}}},
    {"upsert of folded lists: inserted combined, then as one operand",
     &a_folded_upsert,
     {6,
      NULL,
      {"SELECT u.p1::text, u.p2::integer, (SELECT min(x) FROM unnest(u.p3::numeric[]) AS x), "
       "(SELECT jsonb_agg(x ORDER BY o) FROM unnest(u.p4::jsonb[]) WITH ORDINALITY AS a(x, o)), "
       "(SELECT coalesce(sum(x), 0) FROM unnest(u.p5::bigint[]) AS x), (SELECT max(x) FROM "
       "unnest(u.p6::timestamp with time zone[]) AS x) FROM",
       "\"lo\" = least(t.\"lo\", EXCLUDED.\"lo\")",
       "\"log\" = coalesce(t.\"log\", '[]'::jsonb) || EXCLUDED.\"log\"",
       "\"hits\" = coalesce(t.\"hits\", 0) + coalesce(EXCLUDED.\"hits\", 0)",
       "\"hi\" = greatest(t.\"hi\", EXCLUDED.\"hi\")"},
      {"jsonb_build_array"}}},
    {"update of folded lists",
     &a_folded_update,
     {6,
      NULL,
      {"\"lo\" = least(t.\"lo\", (SELECT min(x) FROM unnest(u.p3::numeric[]) AS x))",
       "\"log\" = coalesce(t.\"log\", '[]'::jsonb) || (SELECT jsonb_agg(x ORDER BY o) FROM "
       "unnest(u.p4::jsonb[]) WITH ORDINALITY AS a(x, o))",
       "\"hits\" = coalesce(t.\"hits\", 0) + coalesce((SELECT coalesce(sum(x), 0) FROM "
       "unnest(u.p5::bigint[]) AS x), 0)",
       "\"hi\" = greatest(t.\"hi\", (SELECT max(x) FROM unnest(u.p6::timestamp with time "
       "zone[]) AS x))"},
      {"INSERT", "EXCLUDED", "jsonb_build_array"}}},
    {"upsert of a set then adds: the list's sum, whatever the row held",
     &a_set_add_upsert,
     {3,
      "INSERT INTO \"plain\" AS t (\"a\", \"b\", \"hits\") SELECT u.p1::text, u.p2::integer, "
      "(SELECT coalesce(sum(x), 0) FROM unnest(u.p3::bigint[]) AS x) FROM unnest($1::text[], "
      "$2::text[], $3::text[]) AS u(p1, p2, p3) ON CONFLICT (\"a\", \"b\") DO UPDATE SET "
      "\"hits\" = EXCLUDED.\"hits\"",
      {NULL},
      {NULL}}},
    {"update of a set then adds",
     &a_set_add_update,
     {3,
      "UPDATE \"plain\" AS t SET \"hits\" = (SELECT coalesce(sum(x), 0) FROM "
      "unnest(u.p3::bigint[]) AS x) FROM unnest($1::text[], $2::text[], $3::text[]) AS u(p1, "
      "p2, p3) WHERE t.\"a\" = u.p1::text AND t.\"b\" = u.p2::integer",
      {NULL},
      {NULL}}},
    {"upsert of keys only",
     &a_keys_only,
     {1,
      "INSERT INTO \"seen\" AS t (\"id\") SELECT u.p1::text FROM unnest($1::text[]) AS u(p1) ON "
      "CONFLICT (\"id\") DO UPDATE SET \"id\" = EXCLUDED.\"id\"",
      {NULL},
      {NULL}}},
    {"identifiers with a double quote",
     &a_weird,
     {2,
      "INSERT INTO \"we\"\"ird\" AS t (\"i\"\"d\", \"co\"\"l\") SELECT u.p1::text, u.p2::bigint "
      "FROM unnest($1::text[], $2::text[]) AS u(p1, p2) ON CONFLICT (\"i\"\"d\") DO UPDATE SET "
      "\"co\"\"l\" = coalesce(t.\"co\"\"l\", 0) + coalesce(EXCLUDED.\"co\"\"l\", 0)",
      {NULL},
      {NULL}}},
    {"delete with a double quote in names",
     &a_weird_delete,
     {1,
      "DELETE FROM \"we\"\"ird\" AS t USING unnest($1::text[]) AS u(p1) WHERE t.\"i\"\"d\" = "
      "u.p1::text",
      {NULL},
      {NULL}}},
    {"schema-qualified table, typed columns",
     &a_schema,
     {4,
      "UPDATE \"app\".\"items\" AS t SET \"n\" = u.p2::numeric(14,2), \"tags\" = u.p3::text[], "
      "\"flag\" = coalesce(t.\"flag\", u.p4::boolean) FROM unnest($1::text[], $2::text[], "
      "$3::text[], $4::text[]) AS u(p1, p2, p3, p4) WHERE t.\"id\" = u.p1::text",
      {NULL},
      {NULL}}},
    {"guard after the columns of an upsert",
     &a_typed_upsert,
     {5,
      NULL,
      {"INSERT INTO \"app\".\"items\" AS t (\"id\", \"n\", \"tags\", \"flag\", \"version\") ",
       "u.p4::boolean, u.p5::bigint FROM",
       "\"flag\" = coalesce(t.\"flag\", EXCLUDED.\"flag\"), \"version\" = EXCLUDED.\"version\" "
       "WHERE t.\"version\" IS NULL OR t.\"version\" <= EXCLUDED.\"version\""},
      {NULL}}},
    {"sql action is the user's statement",
     &a_sql,
     {2, "UPDATE stats SET n = n + $1 WHERE day = $2::date", {NULL}, {NULL}}},
};

/* Regression rows for bugs these tests found (now fixed). put_ident() splits every name at '.', so
 * a column named "a.b" becomes "a"."b". */
static const action_row_t regression_rows[] = {
    {"a dot in a column name is not a schema",
     &a_dotted,
     {2, NULL, {"INSERT INTO \"t\" AS t (\"id\", \"a.b\") "}, {NULL}}},
};

static void run_action_rows(const action_row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const action_row_t *r = &rows[i];
        if (sqlgen_param_count(r->a) != r->want.nparams)
            fail_msg("%s: %zu params, expected %zu", r->name, sqlgen_param_count(r->a),
                     r->want.nparams);
        char *sql = sqlgen_action(r->a);
        check_sql(r->name, sql, &r->want, r->a->kind != MAPPING_SQL);
        free(sql);
    }
}

static void test_actions(void **state)
{
    (void)state;
    run_action_rows(action_rows, N_ROWS(action_rows));
}

static void test_actions_regressions(void **state)
{
    (void)state;
    run_action_rows(regression_rows, N_ROWS(regression_rows));
}

/* ---- lookups ---- */

static const mapping_lookup_info_t l_two_keys = {
    .table = "app.items", .table_id = 0, .column = "va\"l", .keys = ab_keys, .nkeys = 2};
static const mapping_lookup_info_t l_weird = {
    .table = "we\"ird", .table_id = 0, .column = "co\"l", .keys = weird_key, .nkeys = 1};

static const mapping_lookup_info_t l_two_keys_other = {
    .table = "app.items", .table_id = 0, .column = "qty", .keys = ab_keys, .nkeys = 2};

typedef struct lookup_row {
    const char *name;
    const mapping_lookup_info_t *l[3]; /* one fetch: its lookups, NULL-terminated */
    const char *exact;
} lookup_row_t;

static const lookup_row_t lookup_rows[] = {
    {"two key columns, schema-qualified table",
     {&l_two_keys},
     "SELECT u.ord, t.\"va\"\"l\"::text FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS "
     "u(p1, p2, ord) JOIN \"app\".\"items\" AS t ON t.\"a\" = u.p1::text AND t.\"b\" = "
     "u.p2::integer"},
    {"double quotes in names",
     {&l_weird},
     "SELECT u.ord, t.\"co\"\"l\"::text FROM unnest($1::text[]) WITH ORDINALITY AS u(p1, ord) "
     "JOIN \"we\"\"ird\" AS t ON t.\"i\"\"d\" = u.p1::text"},
    {"two lookups of one table by the same keys: one statement, a column each",
     {&l_two_keys, &l_two_keys_other},
     "SELECT u.ord, t.\"va\"\"l\"::text, t.\"qty\"::text FROM unnest($1::text[], $2::text[]) "
     "WITH ORDINALITY AS u(p1, p2, ord) JOIN \"app\".\"items\" AS t ON t.\"a\" = u.p1::text AND "
     "t.\"b\" = u.p2::integer"},
};

static void test_lookups(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(lookup_rows); i++) {
        const lookup_row_t *r = &lookup_rows[i];
        size_t n = 0;
        while (n < N_ROWS(r->l) && r->l[n])
            n++;
        char *sql = n == 1 ? sqlgen_lookup(r->l[0]) : sqlgen_lookups(r->l, n);
        if (strcmp(sql, r->exact) != 0)
            fail_msg("%s: statement\n  %s\nexpected\n  %s", r->name, sql, r->exact);
        free(sql);
    }
}

int main(void)
{
    const struct CMUnitTest orders_tests[] = {
        cmocka_unit_test(test_orders_actions),
        cmocka_unit_test(test_orders_lookup),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_actions_regressions),
        cmocka_unit_test(test_lookups),
    };
    int failed = cmocka_run_group_tests(orders_tests, setup_orders, support_sets_teardown);
    failed += cmocka_run_group_tests(tests, NULL, NULL);
    return failed;
}
