/* libFuzzer target: one Kafka message value through decoding, upcasting (the mapping's
 * versions), mapping evaluation (JSON paths, values, sums, lookups) and batch planning, as the
 * projector runs them. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "errlist.h"
#include "mapping.h"
#include "planner.h"
#include "upcast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct column_type {
    const char *table, *column, *type;
} column_type_t;

/* The columns of the fuzzing mapping (tests/fuzz/mapping/fuzz.json). */
static const column_type_t types[] = {
    {"order_detail", "order_id", "text"},      {"order_detail", "customer_id", "text"},
    {"order_detail", "status", "text"},        {"order_detail", "total_amount", "numeric"},
    {"order_detail", "item_count", "integer"}, {"order_detail", "items", "jsonb"},
    {"order_detail", "skus", "text[]"},        {"order_detail", "created_at", "timestamptz"},
    {"order_detail", "version", "bigint"},     {"customer_summary", "customer_id", "text"},
    {"customer_summary", "n", "bigint"},       {"customer_summary", "total", "numeric"},
    {"customer_summary", "notes", "jsonb"},    {"customer_summary", "last", "text"},
};

static const char *type_of(void *ctx, const char *table, const char *column)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(types[i].table, table) != 0)
            continue;
        if (!column)
            return "";
        if (strcmp(types[i].column, column) == 0)
            return types[i].type;
    }
    return NULL;
}

static mapping_set_t *set;
static planner_t *planner;
static arena_t *arena;

static void setup(void)
{
    const char *dir = getenv("PROJECTOR_FUZZ_MAPPINGS");
    errlist_t *errs = errlist_new();
    set = mapping_set_load(dir ? dir : "tests/fuzz/mapping", errs);
    if (set)
        mapping_bind_types(mapping_set_get(set, 0), type_of, NULL, errs);
    if (!set || errlist_count(errs)) {
        errlist_print(errs, stderr);
        fprintf(stderr, "fuzz_event: set PROJECTOR_FUZZ_MAPPINGS to tests/fuzz/mapping\n");
        abort();
    }
    errlist_destroy(errs);
    planner = planner_new(mapping_set_get(set, 0));
    arena = arena_new();
}

/* An upcast event is an object, or a split's parts; one that failed is dead at "upcast". */
static void check_upcast(const event_t *e)
{
    json_t *doc = e->ev.doc;
    if (e->state == EVENT_DEAD) {
        if (e->stage != EVENT_STAGE_UPCAST || !e->error || !*e->error)
            abort();
        return;
    }
    if (!e->ev.nparts) {
        if (!json_is_object(doc))
            abort();
        return;
    }
    if (!json_is_array(doc) || json_array_size(doc) != e->ev.nparts)
        abort();
    for (size_t i = 0; i < e->ev.nparts; i++) {
        json_t *p = json_array_get(doc, i);
        if (!json_is_string(json_object_get(p, "type")) ||
            !json_is_object(json_object_get(p, "event")))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!set)
        setup();
    event_t ev[2];
    memset(ev, 0, sizeof(ev));
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }
    /* Upcast first, as event_resolve() does; "typeHeader" picks the type header. */
    char type[64];
    const char *t = json_string_value(json_object_get(doc, "typeHeader"));
    snprintf(type, sizeof(type), "%s", t ? t : "OrderCreated");
    ev[0].ev = (mapping_event_t){doc, "fuzz", 0, 0, 1700000000000, "k", 1, type, NULL, 0,
                                 0,   NULL,   0, 0, NULL};
    ev[0].state = EVENT_PENDING;
    event_upcast(&ev[0], mapping_set_get(set, 0), arena);
    check_upcast(&ev[0]);
    doc = ev[0].ev.doc;
    /* The same event twice: the second sees the first's writes through the planner. */
    ev[1] = ev[0];
    ev[1].ev.offset = 1;
    planner_begin(planner, ev, 0, 2, arena, 0);
    for (size_t f = 0; f < planner_fetch_count(planner); f++) {
        const char *const *params;
        const int *ids;
        size_t nlookups = planner_fetch_lookups(planner, f, &ids);
        if (planner_prefetch(planner, f, &params))
            for (size_t j = 0; j < nlookups; j++) /* the first key has a row, "c-1" throughout */
                planner_prefetch_result(planner, f, 1, j, "c-1");
    }
    for (size_t at = 0; at < 2;) {
        size_t end = planner_plan(planner);
        for (size_t g = 0; g < planner_group_count(planner); g++) {
            const plan_group_t *grp = planner_group(planner, g);
            for (size_t k = 0; k < grp->nparams && grp->action->kind != MAPPING_SQL; k++)
                if (strlen(grp->params[k]) < 2)
                    abort(); /* an array literal is at least "{}" */
        }
        if (end == at)
            break;
        at = end;
        if (at < 2)
            planner_begin(planner, ev, at, 2, arena, 0);
    }
    /* Documents: a document built from the event is valid JSON, whatever the event holds. */
    const mapping_t *m = mapping_set_get(set, 0);
    mapping_doc_op_t ops[8];
    size_t nops = 0;
    char err[1024];
    if (ev[0].state == EVENT_PENDING &&
        mapping_eval_docs(m, &ev[0].ev, arena, ops, &nops, err, sizeof(err)) == MAPPING_OK) {
        for (size_t i = 0; i < nops; i++) {
            if (!ops[i].id || !*ops[i].id)
                abort(); /* ids are checked non-empty */
            json_t *body = ops[i].body ? json_loads(ops[i].body, JSON_DECODE_ANY, NULL) : NULL;
            if (ops[i].body && !json_is_object(body))
                abort();
            json_decref(body);
        }
    }
    json_decref(doc);
    arena_reset(arena);
    return 0;
}
