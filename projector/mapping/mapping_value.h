/* Value sources of a mapping (paths, literals, metadata, computed, lookups): parse and evaluate. */
#ifndef PROJECTOR_MAPPING_VALUE_H
#define PROJECTOR_MAPPING_VALUE_H

#include <jansson.h>

#include "arena.h"
#include "errlist.h"
#include "jpath.h"
#include "mapping.h"

typedef enum {
    SRC_PATH,    /* "$.a.b": the value at a path */
    SRC_LITERAL, /* {"literal": v} or a bare number/boolean/null */
    SRC_META,    /* {"meta": "topic|partition|offset|timestamp|key"}, or an envelope attribute
                  * ("ce.<attribute>", "outbox.id") */
    SRC_SUM,     /* {"sum": "$.items[*].quantity"}: exact decimal sum */
    SRC_COUNT,   /* {"count": "$.items"}: array length, or number of matches */
    SRC_COLLECT, /* {"collect": "$.items[*].sku"}: the matches as an array */
    SRC_LOOKUP,  /* {"lookup": {...}}: a column of a row found by key */
} src_kind_t;

typedef enum {
    META_TOPIC,
    META_PARTITION,
    META_OFFSET,
    META_TIMESTAMP,
    META_KEY,
    META_ATTR, /* an attribute of the envelope, by name (attr): NULL when the event has none */
} meta_t;

/* How a value is rendered for its column: plain text, JSON text, or an array literal. */
typedef enum { TARGET_TEXT, TARGET_JSON, TARGET_ARRAY } value_target_t;

typedef struct value_spec {
    src_kind_t kind;
    jpath_t *path;
    char *lit_text; /* NULL for a JSON null literal */
    char *lit_json;
    json_t *lit_value; /* the literal itself, for array columns */
    meta_t meta;
    char *attr;    /* META_ATTR: "ce.id", "outbox.id" */
    int optional;  /* a missing path yields NULL instead of an error */
    int lookup_id; /* SRC_LOOKUP */
    char *where;   /* the spec's JSON path in the mapping file */
    value_target_t target;
} value_spec_t;

typedef enum { VALUE_OK, VALUE_BAD, VALUE_CUT } value_rc_t;

typedef struct value_ctx {
    const mapping_event_t *ev;
    arena_t *arena;
    mapping_lookup_fn lookup;
    void *lookup_ctx;
} value_ctx_t;

/* Registers a lookup found while parsing; returns its id, or -1 after adding problems. */
typedef int (*value_lookup_reg_fn)(void *ctx, const char *table, const char *column, json_t *key,
                                   const char *file, const char *where, errlist_t *errs);

/* The format whose envelope carries meta attribute name ("ce.id": "cloudevents"), or NULL when
 * name is not an attribute. */
const char *mapping_value_attr_format(const char *name);

/* Parses spec (found at file/where) into vs. Lookups are allowed only when reg is set.
 * Returns 0, or -1 after adding the problems to errs; vs is always safe to free. */
int mapping_value_parse(value_spec_t *vs, json_t *spec, const char *file, const char *where,
                        value_lookup_reg_fn reg, void *reg_ctx, errlist_t *errs)
    __attribute__((warn_unused_result));
void mapping_value_free(value_spec_t *vs);
/* The rendering a PostgreSQL type needs. */
value_target_t mapping_value_target(const char *pgtype);
/* Returns the compact JSON text of v (caller frees); aborts, as xalloc.h does, when out of
 * memory (v NULL: a failed jansson allocation). */
char *mapping_value_dumps(const json_t *v);
/* Evaluates a non-lookup spec against vc->ev: *out is text in vc->arena or the event, or NULL. */
value_rc_t mapping_value_eval(const value_spec_t *vs, const value_ctx_t *vc, const char **out,
                              char *errstr, size_t errstr_size);

#endif
