/* Unit tests of planner: levels, grouping, lookups from prefetched and in-batch rows, cuts.
 *
 * Event texts in the tables are written with ' for " to stay readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "planner.h"
#include "support.h"

/* ---- helpers ---- */

/* P_COUNTERS_OTHER and P_COUNTERS_SAME: the counters mapping as if the database had planned its
 * Reset statement writing table counter_log, or counters (mapping_add_sql_write()); P_COUNTERS
 * was not planned (a sql action may then write any table). */
enum { P_ORDERS, P_COUNTERS, P_COUNTERS_OTHER, P_COUNTERS_SAME, P__COUNT };

static const char *const mapping_dirs[P__COUNT] = {SUPPORT_ORDERS_DIR, "planner", "planner",
                                                   "planner"};

/* Records that the Reset statement of set `which` writes table. */
static void plan_reset(size_t which, const char *table)
{
    mapping_t *m = (mapping_t *)support_mapping(which); /* the set's own, loaded for this */
    for (size_t i = 0; i < mapping_action_count(m); i++)
        if (support_is_action(mapping_action_info(mapping_action(m, i)), "Reset[0]"))
            mapping_add_sql_write(m, i, table);
}

static int setup_sets(void **state)
{
    (void)state;
    if (support_sets_load(mapping_dirs, P__COUNT) != 0)
        return -1;
    plan_reset(P_COUNTERS_OTHER, "counter_log");
    plan_reset(P_COUNTERS_SAME, "counters");
    return 0;
}

/* An event that failed to decode, as the consumer hands it over. */
#define DECODE_FAILED "(decode failed)"

typedef struct batch {
    event_t ev[8];
    size_t n;
} batch_t;

static void batch_build(batch_t *b, const char *const *texts, size_t max)
{
    memset(b, 0, sizeof(*b));
    for (; b->n < max && texts[b->n]; b->n++) {
        event_t *e = &b->ev[b->n];
        e->ev.topic = "order-events";
        e->ev.partition = 0;
        e->ev.offset = 100 + (int64_t)b->n;
        e->ev.timestamp_ms = -1;
        e->state = EVENT_PENDING;
        if (strcmp(texts[b->n], DECODE_FAILED) == 0) {
            e->state = EVENT_DEAD;
            e->stage = EVENT_STAGE_DECODE;
            e->error = "not JSON";
            continue;
        }
        char *text = support_dq(texts[b->n]);
        json_error_t jerr;
        e->ev.doc = json_loads(text, 0, &jerr);
        if (!e->ev.doc)
            fail_msg("event %zu does not parse: %s\n%s", b->n, jerr.text, text);
        free(text);
    }
}

static void batch_free(batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->ev[i].ev.doc);
}

/* ---- plans ---- */

typedef struct want_group {
    const char *action; /* "OrderCreated[0]": the end of the action's place in the file */
    size_t nrows;
    const char *params[10]; /* the first params, in order */
} want_group_t;

typedef struct plan_row {
    const char *name;
    int which; /* P_ORDERS or P_COUNTERS */
    const char *events[8];
    size_t lo, hi; /* the sub-batch; hi 0: every event */
    int serial;
    size_t prefetch_n[2];    /* keys planner_prefetch returns per fetch */
    const char *prefetch[2]; /* and the first key column's literal */
    /* per fetch and key ord 1, 2, 3, the values of the fetch's lookups (all NULL: no row) */
    const char *found[2][3][4];
    size_t end;             /* what planner_plan returns; 0: hi */
    const char *states;     /* per event: P pending, S skipped, D dead */
    const char *dead_error; /* substring of the error of the events it marks dead */
    want_group_t groups[6];
} plan_row_t;

#define TS "2024-01-02T03:04:05Z"
#define CREATED(o, c)                                                                              \
    "{'type': 'OrderCreated', 'orderId': '" o "', 'customerId': '" c "', 'totalAmount': 10, "      \
    "'items': [{'sku': 'A', 'quantity': 2}], 'occurredAt': '" TS "'}"
#define PAID(o)                                                                                    \
    "{'type': 'OrderPaid', 'orderId': '" o "', 'paymentId': 'pay', 'occurredAt': '" TS "'}"
#define SHIPPED(o)                                                                                 \
    "{'type': 'OrderShipped', 'orderId': '" o "', 'trackingNumber': 'trk', 'occurredAt': '" TS "'" \
    "}"
#define CANCELLED(o)                                                                               \
    "{'type': 'OrderCancelled', 'orderId': '" o "', 'reason': 'r', 'occurredAt': '" TS "'}"
#define ADD(id, n, label) "{'type': 'Add', 'id': '" id "', 'n': " n ", 'label': '" label "'}"
#define COPY(id, src) "{'type': 'Copy', 'id': '" id "', 'src': '" src "'}"
#define COPY_LABEL(id, src) "{'type': 'CopyLabel', 'id': '" id "', 'src': '" src "'}"
#define MOVE(src) "{'type': 'Move', 'src': '" src "'}"

static const plan_row_t plan_rows[] = {
    {.name = "two orders of two customers: one statement per action",
     .which = P_ORDERS,
     .events = {CREATED("o-1", "c-1"), CREATED("o-2", "c-2")},
     .states = "PP",
     .groups = {{"OrderCreated[0]",
                 2,
                 {"{\"o-1\",\"o-2\"}", "{\"c-1\",\"c-2\"}", "{\"CREATED\",\"CREATED\"}",
                  "{\"10\",\"10\"}", "{\"2\",\"2\"}",
                  "{\"[{\\\"sku\\\":\\\"A\\\",\\\"quantity\\\":2}]\","
                  "\"[{\\\"sku\\\":\\\"A\\\",\\\"quantity\\\":2}]\"}",
                  "{\"" TS "\",\"" TS "\"}", "{\"" TS "\",\"" TS "\"}"}},
                {"OrderCreated[1]",
                 2,
                 {"{\"c-1\",\"c-2\"}", "{\"1\",\"1\"}", "{\"10\",\"10\"}",
                  "{\"" TS "\",\"" TS "\"}"}}}},
    {.name = "created then paid: the update folds into the upsert, one row write",
     .which = P_ORDERS,
     .events = {CREATED("o-1", "c-1"), PAID("o-1")},
     .states = "PP",
     .groups = {{"OrderCreated[1]", 1, {"{\"c-1\"}"}},
                {"OrderCreated[0]", 1, {"{\"o-1\"}", "{\"c-1\"}", "{\"PAID\"}", "{\"10\"}"}}}},
    {.name = "created then paid, one row operation at a time: no fold",
     .which = P_ORDERS,
     .events = {CREATED("o-1", "c-1"), PAID("o-1")},
     .serial = 1,
     .states = "PP",
     .groups = {{"OrderCreated[0]", 1, {"{\"o-1\"}"}},
                {"OrderCreated[1]", 1, {"{\"c-1\"}"}},
                {"OrderPaid[0]", 1, {"{\"o-1\"}", "{\"PAID\"}", "{\"pay\"}", "{\"" TS "\"}"}}}},
    {.name = "paid then created: order of the row kept",
     .which = P_ORDERS,
     .events = {PAID("o-1"), CREATED("o-1", "c-1")},
     .states = "PP",
     .groups = {{"OrderCreated[1]", 1, {"{\"c-1\"}"}},
                {"OrderPaid[0]", 1, {"{\"o-1\"}"}},
                {"OrderCreated[0]", 1, {"{\"o-1\"}"}}}},
    {.name = "created, paid, shipped: one upsert with the last values",
     .which = P_ORDERS,
     .events = {CREATED("o-1", "c-1"), PAID("o-1"), SHIPPED("o-1")},
     .states = "PPP",
     .groups = {{"OrderCreated[1]", 1, {"{\"c-1\"}"}},
                {"OrderCreated[0]", 1, {"{\"o-1\"}", "{\"c-1\"}", "{\"SHIPPED\"}"}}}},
    {.name = "same customer twice: one customer_summary statement, its adds and max folded",
     .which = P_ORDERS,
     .events = {CREATED("o-1", "c-1"), CREATED("o-2", "c-1")},
     .states = "PP",
     .groups = {{"OrderCreated[0]", 2, {"{\"o-1\",\"o-2\"}", "{\"c-1\",\"c-1\"}"}},
                {"OrderCreated[1]", 1, {"{\"c-1\"}", "{\"{\\\"1\\\",\\\"1\\\"}\"}"}}}},
    {.name = "paid for two orders: one statement",
     .which = P_ORDERS,
     .events = {PAID("o-1"), PAID("o-2"), PAID("o-3")},
     .states = "PPP",
     .groups = {{"OrderPaid[0]",
                 3,
                 {"{\"o-1\",\"o-2\",\"o-3\"}", "{\"PAID\",\"PAID\",\"PAID\"}"}}}},
    {.name = "cancel of an order created in the sub-batch: lookup from the batch; the order's "
             "update folds into its upsert, the customer's add does not",
     .which = P_ORDERS,
     .events = {CREATED("o-1", "c-1"), CANCELLED("o-1")},
     .prefetch_n = {1},
     .prefetch = {"{\"o-1\"}"},
     .states = "PP",
     .groups = {{"OrderCreated[1]", 1, {"{\"c-1\"}"}},
                {"OrderCreated[0]", 1, {"{\"o-1\"}", "{\"c-1\"}", "{\"CANCELLED\"}"}},
                {"OrderCancelled[0]", 1, {"{\"c-1\"}", "{\"1\"}"}}}},
    {.name = "cancel of an order not in the sub-batch: lookup from the prefetch",
     .which = P_ORDERS,
     .events = {CANCELLED("o-9")},
     .prefetch_n = {1},
     .prefetch = {"{\"o-9\"}"},
     .found = {{{"c-1"}}},
     .states = "P",
     .groups = {{"OrderCancelled[0]", 1, {"{\"c-1\"}", "{\"1\"}"}},
                {"OrderCancelled[1]", 1, {"{\"o-9\"}", "{\"CANCELLED\"}"}}}},
    {.name = "cancel of an unknown order: dead",
     .which = P_ORDERS,
     .events = {PAID("o-2"), CANCELLED("o-9")},
     .prefetch_n = {1},
     .prefetch = {"{\"o-9\"}"},
     .states = "PD",
     .dead_error = "$.events.OrderCancelled[0].key.customer_id: key column "
                   "customer_summary.customer_id is null",
     .groups = {{"OrderPaid[0]", 1, {"{\"o-2\"}"}}}},
    {.name = "two cancels, only the second order found",
     .which = P_ORDERS,
     .events = {CANCELLED("o-8"), CANCELLED("o-9")},
     .prefetch_n = {2},
     .prefetch = {"{\"o-8\",\"o-9\"}"},
     .found = {{{NULL}, {"c-2"}}},
     .states = "DP",
     .dead_error = "key column customer_summary.customer_id is null",
     .groups = {{"OrderCancelled[0]", 1, {"{\"c-2\"}"}}, {"OrderCancelled[1]", 1, {"{\"o-9\"}"}}}},
    {.name =
         "the same order cancelled twice: its key fetched once, both adds of its customer folded",
     .which = P_ORDERS,
     .events = {CANCELLED("o-9"), CANCELLED("o-9")},
     .prefetch_n = {1},
     .prefetch = {"{\"o-9\"}"},
     .found = {{{"c-1"}}},
     .states = "PP",
     .groups = {{"OrderCancelled[0]", 1, {"{\"c-1\"}", "{\"{\\\"1\\\",\\\"1\\\"}\"}"}},
                {"OrderCancelled[1]", 1, {"{\"o-9\"}"}}}}, /* the two updates of o-9, folded */
    {.name = "created and paid are not prefetched",
     .which = P_ORDERS,
     .events = {CREATED("o-1", "c-1"), PAID("o-2"), CANCELLED("o-3")},
     .prefetch_n = {1},
     .prefetch = {"{\"o-3\"}"},
     .found = {{{"c-3"}}},
     .states = "PPP",
     .groups = {{"OrderCreated[0]", 1, {"{\"o-1\"}"}},
                {"OrderCreated[1]", 1, {"{\"c-1\"}"}},
                {"OrderPaid[0]", 1, {"{\"o-2\"}"}},
                {"OrderCancelled[0]", 1, {"{\"c-3\"}"}},
                {"OrderCancelled[1]", 1, {"{\"o-3\"}"}}}},
    {.name = "unknown type skipped",
     .which = P_ORDERS,
     .events = {"{'type': 'OrderRefunded', 'orderId': 'o-1'}", PAID("o-1")},
     .states = "SP",
     .groups = {{"OrderPaid[0]", 1, {"{\"o-1\"}"}}}},
    {.name = "event that cannot be mapped is dead, the rest planned",
     .which = P_ORDERS,
     .events = {"{'type': 'OrderPaid', 'orderId': 'o-1', 'occurredAt': 'x'}", PAID("o-2")},
     .states = "DP",
     .dead_error = "$.events.OrderPaid[0].columns.payment_id: required field $.paymentId is "
                   "missing",
     .groups = {{"OrderPaid[0]", 1, {"{\"o-2\"}"}}}},
    {.name = "event without a type is dead",
     .which = P_ORDERS,
     .events = {"{'orderId': 'o-1'}", PAID("o-2")},
     .states = "DP",
     .dead_error = "$.type: no event type",
     .groups = {{"OrderPaid[0]", 1, {"{\"o-2\"}"}}}},
    {.name = "events dead on arrival are left alone",
     .which = P_ORDERS,
     .events = {DECODE_FAILED, PAID("o-1")},
     .states = "DP",
     .dead_error = "not JSON",
     .groups = {{"OrderPaid[0]", 1, {"{\"o-1\"}"}}}},
    {.name = "serial: one statement per operation",
     .which = P_ORDERS,
     .events = {CREATED("o-1", "c-1"), CREATED("o-2", "c-2")},
     .serial = 1,
     .states = "PP",
     .groups = {{"OrderCreated[0]", 1, {"{\"o-1\"}"}},
                {"OrderCreated[1]", 1, {"{\"c-1\"}"}},
                {"OrderCreated[0]", 1, {"{\"o-2\"}"}},
                {"OrderCreated[1]", 1, {"{\"c-2\"}"}}}},
    {.name = "array literals quote \" and \\ and spell NULL",
     .which = P_ORDERS,
     .events = {"{'type': 'OrderCreated', 'orderId': 'o\\\"1', 'customerId': 'c\\\\1', "
                "'totalAmount': 1, 'items': ['{x, y}'], 'occurredAt': null}"},
     .states = "P",
     .groups = {{"OrderCreated[0]",
                 1,
                 {"{\"o\\\"1\"}", "{\"c\\\\1\"}", "{\"CREATED\"}", "{\"1\"}", "{\"0\"}",
                  "{\"[\\\"{x, y}\\\"]\"}", "{NULL}", "{NULL}"}},
                {"OrderCreated[1]", 1, {"{\"c\\\\1\"}", "{\"1\"}", "{\"1\"}", "{NULL}"}}}},
    {.name = "a sub-range of the batch",
     .which = P_ORDERS,
     .events = {PAID("o-1"), PAID("o-2"), PAID("o-3")},
     .lo = 1,
     .hi = 2,
     .states = "PPP",
     .groups = {{"OrderPaid[0]", 1, {"{\"o-2\"}"}}}},
    /* lookups of values written in the sub-batch */
    {.name = "lookup of a column an add changed: cut before it",
     .which = P_COUNTERS,
     .events = {ADD("a", "1", "L"), COPY("x", "a"), ADD("b", "1", "L")},
     .prefetch_n = {1},
     .prefetch = {"{\"a\"}"},
     .found = {{{"5", "L", "L", "5"}}},
     .end = 1,
     .states = "PPP",
     .groups = {{"Add[0]", 1, {"{\"a\"}", "{\"1\"}", "{\"L\"}"}}}},
    {.name = "lookup of a column an add did not touch: no cut",
     .which = P_COUNTERS,
     .events = {ADD("b", "1", "L"), COPY("x", "a")},
     .prefetch_n = {1},
     .prefetch = {"{\"a\"}"},
     .found = {{{"5", "L", "L", "5"}}},
     .states = "PP",
     .groups = {{"Add[0]", 1, {"{\"b\"}"}}, {"Copy[0]", 1, {"{\"x\"}", "{\"5\"}"}}}},
    {.name = "lookup of a column set in the sub-batch: answered from it",
     .which = P_COUNTERS,
     .events = {ADD("a", "1", "new"), COPY_LABEL("x", "a")},
     .prefetch_n = {1},
     .prefetch = {"{\"a\"}"},
     .found = {{{"7", "old", "old", "7"}}},
     .states = "PP",
     .groups = {{"Add[0]", 1, {"{\"a\"}"}}, {"CopyLabel[0]", 1, {"{\"x\"}", "{\"new\"}"}}}},
    {.name = "lookup after a delete: no row",
     .which = P_COUNTERS,
     .events = {"{'type': 'Drop', 'id': 'a'}", COPY_LABEL("x", "a")},
     .prefetch_n = {1},
     .prefetch = {"{\"a\"}"},
     .found = {{{"7", "old", "old", "7"}}},
     .states = "PP",
     .groups = {{"CopyLabel[0]", 1, {"{\"x\"}", "{NULL}"}}, {"Drop[0]", 1, {"{\"a\"}"}}}},
    {.name = "lookup after a sql action: cut before it, its key left to the next sub-batch",
     .which = P_COUNTERS,
     .events = {"{'type': 'Reset', 'id': 'z'}", COPY_LABEL("x", "a")},
     .prefetch_n = {0},
     .end = 1,
     .states = "PP",
     .groups = {{"Reset[0]", 1, {"z"}}}},
    {.name = "the keys before a sql action are prefetched, not those after it",
     .which = P_COUNTERS,
     .events = {COPY_LABEL("x", "a"), "{'type': 'Reset', 'id': 'z'}", COPY_LABEL("y", "b"),
                COPY_LABEL("w", "c")},
     .prefetch_n = {1},
     .prefetch = {"{\"a\"}"},
     .found = {{{"1", "la", "la", "1"}}},
     .end = 2,
     .states = "PPPP",
     .groups = {{"CopyLabel[0]", 1, {"{\"x\"}", "{\"la\"}"}}, {"Reset[0]", 1, {"z"}}}},
    {.name = "the first event's lookup reads the prefetch",
     .which = P_COUNTERS,
     .events = {COPY_LABEL("x", "a"), COPY_LABEL("y", "b")},
     .prefetch_n = {2},
     .prefetch = {"{\"a\",\"b\"}"},
     .found = {{{"1", "la", "la", "1"}, {"2", "lb", "lb", "2"}}},
     .states = "PP",
     .groups = {{"CopyLabel[0]", 2, {"{\"x\",\"y\"}", "{\"la\",\"lb\"}"}}}},
    {.name = "a sql action planned to write another table: no cut, the keys after it prefetched",
     .which = P_COUNTERS_OTHER,
     .events = {COPY_LABEL("x", "a"), "{'type': 'Reset', 'id': 'z'}", COPY_LABEL("y", "b"),
                COPY_LABEL("w", "c")},
     .prefetch_n = {3},
     .prefetch = {"{\"a\",\"b\",\"c\"}"},
     .found = {{{"1", "la", "la", "1"}, {"2", "lb", "lb", "2"}, {"3", "lc", "lc", "3"}}},
     .states = "PPPP",
     .groups = {{"CopyLabel[0]", 1, {"{\"x\"}", "{\"la\"}"}},
                {"Reset[0]", 1, {"z"}},
                {"CopyLabel[0]", 2, {"{\"y\",\"w\"}", "{\"lb\",\"lc\"}"}}}},
    {.name = "past a sql action of another table, a value set before it is known, an added one "
             "is not",
     .which = P_COUNTERS_OTHER,
     .events = {ADD("a", "1", "new"), "{'type': 'Reset', 'id': 'z'}", COPY_LABEL("x", "a"),
                COPY("y", "a")},
     .prefetch_n = {1},
     .prefetch = {"{\"a\"}"},
     .found = {{{"5", "old", "old", "5"}}},
     .end = 3,
     .states = "PPPP",
     .groups = {{"Add[0]", 1, {"{\"a\"}"}},
                {"Reset[0]", 1, {"z"}},
                {"CopyLabel[0]", 1, {"{\"x\"}", "{\"new\"}"}}}},
    {.name = "a sql action planned to write the looked-up table: cut before the lookup",
     .which = P_COUNTERS_SAME,
     .events = {COPY_LABEL("x", "a"), "{'type': 'Reset', 'id': 'z'}", COPY_LABEL("y", "b")},
     .prefetch_n = {1},
     .prefetch = {"{\"a\"}"},
     .found = {{{"1", "la", "la", "1"}}},
     .end = 2,
     .states = "PPP",
     .groups = {{"CopyLabel[0]", 1, {"{\"x\"}", "{\"la\"}"}}, {"Reset[0]", 1, {"z"}}}},
    {.name = "a sql action is a barrier: its own level, raw params",
     .which = P_COUNTERS,
     .events = {ADD("a", "1", "L"), "{'type': 'Reset', 'id': 'b\\\\'}", ADD("c", "2", "L")},
     .states = "PPP",
     .groups = {{"Add[0]", 1, {"{\"a\"}", "{\"1\"}"}},
                {"Reset[0]", 1, {"b\\"}},
                {"Add[0]", 1, {"{\"c\"}", "{\"2\"}"}}}},
    {.name = "adds to two rows: one statement",
     .which = P_COUNTERS,
     .events = {ADD("a", "1", "L"), ADD("b", "-2", "M")},
     .states = "PP",
     .groups = {{"Add[0]", 2, {"{\"a\",\"b\"}", "{\"1\",\"-2\"}", "{\"L\",\"M\"}"}}}},
    {.name = "adds to one row: one statement, the list of both operands",
     .which = P_COUNTERS,
     .events = {ADD("a", "1", "L"), ADD("a", "2", "L"), ADD("a", "3", "M")},
     .states = "PPP",
     .groups = {{"Add[0]", 1, {"{\"a\"}", "{\"{\\\"1\\\",\\\"2\\\",\\\"3\\\"}\"}", "{\"M\"}"}}}},
    {.name = "a negative add to one row: two statements (a sum could overflow where steps do not)",
     .which = P_COUNTERS,
     .events = {ADD("a", "1", "L"), ADD("a", "-2", "L")},
     .states = "PP",
     .groups = {{"Add[0]", 1, {"{\"a\"}", "{\"1\"}"}}, {"Add[0]", 1, {"{\"a\"}", "{\"-2\"}"}}}},
};

/* Regression rows for bugs these tests found (now fixed). A fresh planner whose sub-batch yields no
 * row operation calls qsort(NULL, 0, ...) in build_groups(), which UBSan rejects. */
static const plan_row_t regression_rows[] = {
    {.name = "an empty sub-batch",
     .which = P_ORDERS,
     .events = {PAID("o-1")},
     .lo = 1,
     .hi = 1,
     .states = "P"},
    {.name = "a sub-batch of unknown types only",
     .which = P_ORDERS,
     .events = {"{'type': 'OrderRefunded'}"},
     .states = "S"},
    {.name = "a sub-batch of dead events only",
     .which = P_ORDERS,
     .events = {CANCELLED("o-9")},
     .prefetch_n = {1},
     .prefetch = {"{\"o-9\"}"},
     .states = "D",
     .dead_error = "key column customer_summary.customer_id is null"},
    /* The collecting pass stops at the first null key, so a later lookup of the same event is
     * never prefetched: planning cuts before the event, and at the start of the next sub-batch
     * marks it dead ("internal: lookup could not be resolved"). */
    {.name = "every lookup of an event is prefetched, not only those before a lookup key",
     .which = P_COUNTERS,
     .events = {ADD("q", "1", "L"), MOVE("a")},
     .prefetch_n = {1},
     .prefetch = {"{\"a\"}"},
     .found = {{{"5", "x", "x", "5"}}},
     .states = "PP",
     .groups = {{"Add[0]", 1, {"{\"q\"}"}}, {"Move[0]", 1, {"{\"x\"}", "{\"5\"}"}}}},
};

/* Prints the plan (on a mismatch: what to compare the row with). */
static void print_plan(const char *row, const planner_t *p)
{
    fprintf(stderr, "%s: the plan:\n", row);
    for (size_t g = 0; g < planner_group_count(p); g++) {
        const plan_group_t *got = planner_group(p, g);
        fprintf(stderr, "  %s, %zu rows:", got->action->where, got->nrows);
        for (size_t k = 0; k < got->nparams && k < 4; k++)
            fprintf(stderr, " %s", got->params[k] ? got->params[k] : "NULL");
        fprintf(stderr, "\n");
    }
}

static void check_groups(const char *row, const planner_t *p, const want_group_t *want,
                         size_t nwant_max)
{
    size_t nwant = 0;
    while (nwant < nwant_max && want[nwant].action)
        nwant++;
    if (planner_group_count(p) != nwant) {
        print_plan(row, p);
        fail_msg("%s: %zu groups, expected %zu", row, planner_group_count(p), nwant);
    }
    for (size_t g = 0; g < nwant; g++) {
        const plan_group_t *got = planner_group(p, g);
        const want_group_t *w = &want[g];
        if (!support_is_action(got->action, w->action))
            print_plan(row, p);
        if (!support_is_action(got->action, w->action))
            fail_msg("%s: group %zu is %s, expected $.events.%s", row, g, got->action->where,
                     w->action);
        if (got->nrows != w->nrows)
            fail_msg("%s: group %zu has %zu rows, expected %zu", row, g, got->nrows, w->nrows);
        const mapping_action_info_t *a = got->action;
        size_t np = a->kind == MAPPING_SQL ? a->nparams : a->nkeys + a->ncols + (a->guard ? 1 : 0);
        if (got->nparams != np)
            fail_msg("%s: group %zu has %zu params, expected %zu", row, g, got->nparams, np);
        for (size_t k = 0; k < N_ROWS(w->params) && w->params[k]; k++) {
            if (k >= got->nparams)
                fail_msg("%s: group %zu has no param %zu", row, g, k + 1);
            if (!got->params[k] || strcmp(got->params[k], w->params[k]) != 0)
                fail_msg("%s: group %zu param %zu is %s, expected %s", row, g, k + 1,
                         got->params[k] ? got->params[k] : "NULL", w->params[k]);
        }
    }
}

/* Checks the keys of each fetch and answers them with the row's found values. */
static void check_prefetch(const plan_row_t *r, planner_t *p)
{
    for (size_t f = 0; f < planner_fetch_count(p); f++) {
        const char *const *params = NULL;
        const int *ids;
        size_t n = planner_prefetch(p, f, &params), nl = planner_fetch_lookups(p, f, &ids);
        if (n != r->prefetch_n[f])
            fail_msg("%s: fetch %zu prefetches %zu keys, expected %zu", r->name, f, n,
                     r->prefetch_n[f]);
        if (n && strcmp(params[0], r->prefetch[f]) != 0)
            fail_msg("%s: fetch %zu prefetches %s, expected %s", r->name, f, params[0],
                     r->prefetch[f]);
        for (size_t k = 0; k < N_ROWS(r->found[f]); k++) {
            int row = 0;
            for (size_t j = 0; j < nl; j++)
                row |= r->found[f][k][j] != NULL;
            for (size_t j = 0; row && j < nl; j++)
                planner_prefetch_result(p, f, k + 1, j, r->found[f][k][j]);
        }
    }
}

static void check_states(const plan_row_t *r, const batch_t *b)
{
    if (strlen(r->states) != b->n)
        fail_msg("%s: the row lists %zu states for %zu events", r->name, strlen(r->states), b->n);
    for (size_t i = 0; i < b->n; i++) {
        const event_t *e = &b->ev[i];
        static const char names[] = {'P', 'S', 'D', 'A'};
        char got = names[e->state];
        if (got != r->states[i])
            fail_msg("%s: event %zu is %c, expected %c", r->name, i, got, r->states[i]);
        if (e->state != EVENT_DEAD)
            continue;
        const char *stage = e->ev.doc ? "map" : "decode";
        if (strcmp(event_stage_name(e->stage), stage) != 0)
            fail_msg("%s: event %zu dead at stage %s, expected %s", r->name, i,
                     event_stage_name(e->stage), stage);
        if (!e->error || !strstr(e->error, r->dead_error))
            fail_msg("%s: event %zu error \"%s\" does not contain \"%s\"", r->name, i,
                     e->error ? e->error : "NULL", r->dead_error);
    }
}

static void run_plan_rows(const plan_row_t *rows, size_t nrows)
{
    arena_t *err_arena = arena_new();
    for (size_t i = 0; i < nrows; i++) {
        const plan_row_t *r = &rows[i];
        const mapping_t *m = support_mapping(r->which);
        batch_t b;
        batch_build(&b, r->events, N_ROWS(r->events));
        size_t hi = r->hi ? r->hi : b.n;
        planner_t *p = planner_new(m);
        planner_begin(p, b.ev, r->lo, hi, err_arena, r->serial);
        check_prefetch(r, p);
        size_t end = planner_plan(p);
        size_t want_end = r->end ? r->end : hi;
        if (end != want_end)
            fail_msg("%s: planned up to %zu, expected %zu", r->name, end, want_end);
        check_states(r, &b);
        check_groups(r->name, p, r->groups, N_ROWS(r->groups));
        planner_destroy(p);
        batch_free(&b);
        arena_reset(err_arena);
    }
    arena_destroy(err_arena);
}

static void test_plan(void **state)
{
    (void)state;
    run_plan_rows(plan_rows, N_ROWS(plan_rows));
}

static void test_plan_regressions(void **state)
{
    (void)state;
    run_plan_rows(regression_rows, N_ROWS(regression_rows));
}

/* A cut, then the caller applies the planned part and begins again at the cut: the lookup now
 * reads the refetched value. The same planner serves both sub-batches. */
static void test_cut_and_resume(void **state)
{
    (void)state;
    const mapping_t *m = support_mapping(P_COUNTERS);
    static const char *const texts[] = {ADD("a", "1", "L"), COPY("x", "a"), COPY("y", "a"), NULL};
    batch_t b;
    batch_build(&b, texts, 8);
    arena_t *err_arena = arena_new();
    planner_t *p = planner_new(m);
    const char *const *params;

    planner_begin(p, b.ev, 0, b.n, err_arena, 0);
    assert_int_equal(planner_prefetch(p, 0, &params), 1);
    assert_string_equal(params[0], "{\"a\"}");
    planner_prefetch_result(p, 0, 1, 0, "5");
    assert_int_equal(planner_plan(p), 1);
    assert_int_equal(planner_group_count(p), 1);

    planner_begin(p, b.ev, 1, b.n, err_arena, 0);
    assert_int_equal(planner_prefetch(p, 0, &params), 1);
    assert_string_equal(params[0], "{\"a\"}");
    planner_prefetch_result(p, 0, 1, 0, "6");
    planner_prefetch_result(p, 0, 2, 0, "ignored: no such key");
    planner_prefetch_result(p, 0, 0, 0, "ignored: ords start at 1");
    planner_prefetch_result(p, 0, 1, 4, "ignored: the fetch has 4 lookups");
    assert_int_equal(planner_plan(p), 3);
    assert_int_equal(planner_group_count(p), 1);
    const plan_group_t *g = planner_group(p, 0);
    assert_int_equal(g->nrows, 2);
    assert_string_equal(g->params[0], "{\"x\",\"y\"}");
    assert_string_equal(g->params[1], "{\"6\",\"6\"}");
    for (size_t i = 0; i < b.n; i++)
        assert_int_equal(b.ev[i].state, EVENT_PENDING);

    planner_destroy(p);
    arena_destroy(err_arena);
    batch_free(&b);
}

/* A prefetch keeps its literal when asked twice, and begin starts afresh. */
static void test_prefetch_repeat(void **state)
{
    (void)state;
    const mapping_t *m = support_mapping(P_ORDERS);
    static const char *const texts[] = {CANCELLED("o-\\\"1"), CANCELLED("o-2"), NULL};
    batch_t b;
    batch_build(&b, texts, 8);
    arena_t *err_arena = arena_new();
    planner_t *p = planner_new(m);
    const char *const *params;
    planner_begin(p, b.ev, 0, b.n, err_arena, 0);
    assert_int_equal(planner_prefetch(p, 0, &params), 2);
    assert_string_equal(params[0], "{\"o-\\\"1\",\"o-2\"}");
    assert_int_equal(planner_prefetch(p, 0, &params), 2);
    assert_string_equal(params[0], "{\"o-\\\"1\",\"o-2\"}");
    planner_begin(p, b.ev, 1, b.n, err_arena, 0);
    assert_int_equal(planner_prefetch(p, 0, &params), 1);
    assert_string_equal(params[0], "{\"o-2\"}");
    planner_begin(p, b.ev, 0, 0, err_arena, 0);
    assert_int_equal(planner_prefetch(p, 0, &params), 0);
    planner_destroy(p);
    arena_destroy(err_arena);
    batch_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_plan_regressions),
        cmocka_unit_test(test_cut_and_resume),
        cmocka_unit_test(test_prefetch_repeat),
    };
    return cmocka_run_group_tests(tests, setup_sets, support_sets_teardown);
}
