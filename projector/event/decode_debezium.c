/* Debezium change events, a table's CDC stream: the value is the change event envelope
 * {"before", "after", "op", "source", "ts_ms", "transaction"}, or that wrapped as
 * {"schema": ..., "payload": ...} by the JsonConverter with schemas enabled. The mapping's paths
 * read the envelope (its payload), so $.after.<column> and $.before.<column> are the row's images
 * and $.source.table, $.ts_ms the change's origin; the operation selects the rule under a name
 * (ops[] below), and is readable as {"meta": "debezium.op"}. A delete's tombstone (no value) is
 * every format's: event_decode() makes it one before this decoder runs. */
#include <stdio.h>
#include <string.h>

#include "decode.h"
#include "event_msg.h"

/* The operations of a change event ($.op, Debezium's "op" field). type is the event type, the
 * name a mapping's "events" gives the rule: words, not letters, so that a mapping reads as what
 * happened to the row. image: the row image the operation always carries (a create, an update or
 * a snapshot read without "after" is not a change event); a delete's "before" is not required:
 * without REPLICA IDENTITY it may be null, which the rule's paths then report. */
typedef struct dbz_op {
    const char *op;
    const char *type;
    const char *image; /* "after", or NULL: none required */
    const char *what;  /* for messages */
} dbz_op_t;

static const dbz_op_t ops[] = {
    {"c", "create", "after", "a create"},  {"u", "update", "after", "an update"},
    {"d", "delete", NULL, "a delete"},     {"r", "read", "after", "a snapshot read"},
    {"t", "truncate", NULL, "a truncate"}, {"m", "message", NULL, "a logical decoding message"},
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))
#define KNOWN_OPS "c, u, d, r, t or m"

/* The operation of env's $.op; NULL with e dead (at is where the payload is: "$" or "$.payload").
 */
static const dbz_op_t *find_op(event_t *e, json_t *env, const char *at, arena_t *arena)
{
    json_t *op = json_object_get(env, "op");
    if (!json_is_string(op)) {
        event_decode_fail(e, arena, "debezium change event: %s.op %s (one of " KNOWN_OPS ")", at,
                          op ? "is not a string" : "is missing");
        return NULL;
    }
    for (size_t i = 0; i < NOPS; i++)
        if (strcmp(ops[i].op, json_string_value(op)) == 0)
            return &ops[i];
    event_decode_fail(
        e, arena,
        "debezium change event: %s.op \"%.64s\" is not an operation (one of " KNOWN_OPS ")", at,
        json_string_value(op));
    return NULL;
}

/* Sets e's doc, type and attrs from change event env (borrowed); or marks e dead. */
static void take_change(event_t *e, json_t *env, const char *at, arena_t *arena)
{
    const dbz_op_t *op = find_op(e, env, at, arena);
    if (!op)
        return;
    if (op->image) {
        json_t *row = json_object_get(env, op->image);
        if (!json_is_object(row)) {
            event_decode_fail(e, arena,
                              "debezium change event: %s.%s %s: %s (op %s) carries the row's new "
                              "image",
                              at, op->image,
                              !row                ? "is missing"
                              : json_is_null(row) ? "is null"
                                                  : "is not a JSON object",
                              op->what, op->op);
            return;
        }
    }
    mapping_attr_t *a = arena_alloc(arena, sizeof(*a));
    a->name = "debezium.op";
    a->value = op->op;
    e->ev.attrs = a;
    e->ev.nattrs = 1;
    e->ev.type_header = op->type;
    e->ev.doc = json_incref(env);
}

void event_decode_debezium(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    json_error_t jerr;
    json_t *v = json_loadb(msg->value, msg->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!v) {
        event_decode_fail(
            e, arena, "debezium change event: the value: invalid JSON at line %d, column %d: %s",
            jerr.line, jerr.column, jerr.text);
        return;
    }
    json_t *env = event_json_converter_payload(v);
    const char *at = "$.payload";
    if (!env) {
        env = v;
        at = "$";
    }
    if (json_is_object(env))
        take_change(e, env, at, arena);
    else
        event_decode_fail(e, arena, "debezium change event: %s is not a JSON object",
                          env == v ? "the value" : "$.payload (the JsonConverter's envelope)");
    json_decref(v);
}
