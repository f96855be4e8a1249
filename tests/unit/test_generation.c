/* Unit tests of generation naming (build schema, positions key, consumer group), the tables a
 * rebuild recreates, and the rebuild states' names and SQL lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "generation.h"
#include "rebuild_status.h"
#include "support.h"

typedef struct naming_row {
    const char *group; /* the group setting */
    int number;        /* 0: live */
    const char *key, *schema, *consumer_group;
    const char *old_schema; /* of generation number - 1 (number > 1) */
} naming_row_t;

/* The sample mapping's projection is "orders". */
static const naming_row_t naming_rows[] = {
    {"projector", 0, "orders", "", "projector.orders", NULL},
    {"projector", 1, "orders#g1", "projector_build_orders", "projector.orders.g1", NULL},
    {"projector", 2, "orders#g2", "projector_build_orders", "projector.orders.g2",
     "projector_old_orders_g1"},
    {"app.read", 17, "orders#g17", "projector_build_orders", "app.read.orders.g17",
     "projector_old_orders_g16"},
};

static void test_naming(void **state)
{
    (void)state;
    const mapping_t *m = support_mapping(0);
    for (size_t i = 0; i < N_ROWS(naming_rows); i++) {
        const naming_row_t *r = &naming_rows[i];
        config_t *cfg = config_new();
        char err[256];
        assert_int_equal(config_set(cfg, "group", r->group, "test", err, sizeof(err)), 0);
        generation_t g;
        if (r->number)
            generation_build(&g, cfg, m, r->number);
        else
            generation_live(&g, cfg, m);
        if (g.number != r->number || strcmp(g.key, r->key) != 0 ||
            strcmp(g.schema, r->schema) != 0 || strcmp(g.group, r->consumer_group) != 0)
            fail_msg("row %zu: got number %d key %s schema \"%s\" group %s", i, g.number, g.key,
                     g.schema, g.group);
        /* live batches take batch.max.events, a build's rebuild.batch.max.events */
        assert_int_equal(generation_batch_max(&g, cfg), r->number ? 10000 : 5000);
        assert_int_equal(
            config_set(cfg, "rebuild.batch.max.events", "300", "test", err, sizeof(err)), 0);
        assert_int_equal(generation_batch_max(&g, cfg), r->number ? 300 : 5000);
        if (r->old_schema) {
            char old[192];
            generation_old_schema(old, sizeof(old), mapping_name(m), r->number - 1);
            assert_string_equal(old, r->old_schema);
        }
        config_destroy(cfg);
    }
}

static void test_tables(void **state)
{
    (void)state;
    const char *tables[8];
    size_t n = generation_tables(support_mapping(0), tables, 8);
    assert_int_equal(n, 2); /* order_detail and customer_summary, each once */
    assert_string_equal(tables[0], "order_detail");
    assert_string_equal(tables[1], "customer_summary");
    assert_int_equal(generation_tables(support_mapping(0), tables, 1), 1);
}

static const struct {
    rebuild_state_t state;
    const char *name;
} state_rows[] = {
    {REBUILD_REQUESTED, "requested"}, {REBUILD_BUILDING, "building"},
    {REBUILD_SWITCHING, "switching"}, {REBUILD_DONE, "done"},
    {REBUILD_CANCELLED, "cancelled"}, {REBUILD_FAILED, "failed"},
};

static void test_states(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(state_rows); i++) {
        assert_string_equal(rebuild_state_name(state_rows[i].state), state_rows[i].name);
        assert_int_equal(rebuild_state_parse(state_rows[i].name), state_rows[i].state);
    }
    assert_int_equal(rebuild_state_parse("exploded"), REBUILD_FAILED);
}

/* Which states are active, and the SQL lists made from the table (the text the schema and the
 * queries had when they spelled the names out). */
static const struct {
    rebuild_state_t state;
    int active;
} active_rows[] = {
    {REBUILD_REQUESTED, 1}, {REBUILD_BUILDING, 1},  {REBUILD_SWITCHING, 1},
    {REBUILD_DONE, 0},      {REBUILD_CANCELLED, 0}, {REBUILD_FAILED, 0},
};

static void test_state_sql(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(active_rows); i++)
        assert_int_equal(rebuild_state_active(active_rows[i].state), active_rows[i].active);
    assert_string_equal(REBUILD_STATES_SQL,
                        "'requested', 'building', 'switching', 'done', 'cancelled', 'failed'");
    assert_string_equal(REBUILD_ACTIVE_SQL, "('requested', 'building', 'switching')");
}

static int setup(void **state)
{
    (void)state;
    static const char *const dirs[] = {SUPPORT_ORDERS_DIR};
    return support_sets_load(dirs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_naming),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_state_sql),
    };
    return cmocka_run_group_tests(tests, setup, support_sets_teardown);
}
