/* Declarative mappings: load and validate the mapping files, evaluate events into row operations.
 */
#ifndef PROJECTOR_MAPPING_H
#define PROJECTOR_MAPPING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "errlist.h"
#include "mapping_colop.h"

typedef struct mapping mapping_t;         /* one projection: one mapping file */
typedef struct mapping_set mapping_set_t; /* every projection of a directory */
typedef struct mapping_action mapping_action_t;
typedef struct mapping_doc mapping_doc_t; /* a document action: "index" or "delete_document" */

typedef enum {
    MAPPING_UPSERT, /* insert, or update the existing row by key */
    MAPPING_UPDATE, /* update the row by key; nothing when absent */
    MAPPING_DELETE, /* delete the row by key */
    MAPPING_SQL,    /* a parameterised statement of the user's */
} mapping_kind_t;

/* A column of an action as the SQL builder sees it; type is set by mapping_bind_types(). What op
 * does in SQL is its row of the column operation table (mapping_colop_def()). */
typedef struct mapping_column_info {
    const char *name;
    const char *type; /* PostgreSQL type as format_type() prints it */
    mapping_colop_t op;
    /* 0: the value is one operand; 1: a text[] literal of the operands of several actions in
     * order, combined by op's fold template (a fold, plan_fold.h); 2: the same list, whose first
     * element a set wrote: the column becomes the list's fold, whatever it held */
    int folded;
    /* the type with its modifiers ("numeric(16,2)"), from mapping_bind_declared(); NULL when
     * not known */
    const char *declared;
    /* the column's default as the database prints it ("0"), "" when it has none (NULL), NULL
     * when not known; from mapping_bind_declared() */
    const char *default_expr;
} mapping_column_info_t;

/* An action as the SQL builder sees it. An op's values are keys, then cols, then the guard. */
typedef struct mapping_action_info {
    int id; /* index among the projection's actions */
    mapping_kind_t kind;
    const char *table; /* NULL for MAPPING_SQL */
    int table_id;      /* index among the projection's tables; -1 for MAPPING_SQL */
    const mapping_column_info_t *keys;
    size_t nkeys;
    const mapping_column_info_t *cols;
    size_t ncols;
    const mapping_column_info_t *guard; /* version column, or NULL */
    const char *sql;                    /* MAPPING_SQL */
    size_t nparams;                     /* MAPPING_SQL */
    const char *where;                  /* "file: $.events.X[0]" for messages */
} mapping_action_info_t;

/* A document action, as the sinks see it. */
typedef enum {
    MAPPING_DOC_INDEX,  /* index (replace) the document */
    MAPPING_DOC_DELETE, /* delete the document */
} mapping_doc_kind_t;

/* A field of a document taken from a row: a column, or an SQL expression over the row. */
typedef struct mapping_doc_field {
    const char *name;   /* the document's field */
    const char *column; /* NULL when sql is set */
    const char *sql;
} mapping_doc_field_t;

typedef struct mapping_doc_info {
    int id; /* index among the projection's document actions */
    mapping_doc_kind_t kind;
    const char *index; /* the index (an alias) written to */
    /* from_row: the document is the row of table with these keys, as the batch left it (a
     * missing row deletes the document); NULL table when the document is built from the event */
    const char *table;
    const mapping_column_info_t *keys;
    size_t nkeys;
    const mapping_doc_field_t *fields; /* from_row; none: every column under its own name */
    size_t nfields;
    const char *where; /* "file: $.events.X[0]" for messages */
} mapping_doc_info_t;

/* One document write produced by an event. */
typedef struct mapping_doc_op {
    const mapping_doc_info_t *doc;
    const char *id;          /* the document id */
    const char *body;        /* MAPPING_DOC_INDEX built from the event: its JSON; else NULL */
    const char *const *keys; /* from_row: the row's key values (text) */
} mapping_doc_op_t;

/* A lookup: one column of one row of a table, found by key values from the event. */
typedef struct mapping_lookup_info {
    const char *table;
    int table_id;
    const char *column;
    const mapping_column_info_t *keys;
    size_t nkeys;
} mapping_lookup_info_t;

/* An attribute of the event's envelope, readable as {"meta": name}: "ce.id", "outbox.id",
 * "debezium.op". */
typedef struct mapping_attr {
    const char *name;
    const char *value;
} mapping_attr_t;

/* One event as the evaluator sees it. */
typedef struct mapping_event {
    json_t *doc; /* parsed value (borrowed) */
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* -1 when the message has none */
    const char *key;      /* may be NULL */
    size_t key_len;
    /* the event type, when the mapping reads it from a header or the envelope carries it */
    const char *type_header;
    /* the event's rule, once mapping_event_resolve() found it (NULL: its type is not mapped) */
    const struct event_rule *rule;
    int resolved;  /* 1: rule is set; 0: looked up at each evaluation */
    size_t nparts; /* 0, or an upcast split: doc is the parts' array (mapping_upcast.h) */
    const mapping_attr_t *attrs; /* the envelope's attributes (borrowed), nattrs of them */
    size_t nattrs;
    int tombstone;              /* 1: the message has no value (doc is an empty object) */
    const char *version_header; /* the version header's value (mapping_version_header()), or
                                   NULL */
    long schema_version; /* versions from the registry (mapping_version_registry()): the writer
                          * schema's version under its subject; 0 when not known */
} mapping_event_t;

/* One row operation produced by an event: values are text or NULL (SQL NULL). */
typedef struct mapping_op {
    const mapping_action_t *action;
    const char **values; /* in the arena; nkeys + ncols (+1 with a guard), or nparams */
} mapping_op_t;

typedef enum {
    MAPPING_OK,   /* ops filled */
    MAPPING_SKIP, /* event type not named by the mapping */
    MAPPING_BAD,  /* the event cannot be projected; errstr says why (permanent) */
    MAPPING_CUT,  /* a lookup needs the database state first (see mapping_lookup_fn) */
} mapping_result_t;

/* Resolves lookup `id` for key values. Returns 0 with *value set (NULL: no row or NULL),
 * or 1 when the value cannot be known yet (the caller must apply what it has first). */
typedef int (*mapping_lookup_fn)(void *ctx, int id, const char *const *keys, const char **value);

/* Loads every *.json in dir (name order). Returns the set (caller owns, mapping_set_destroy()),
 * or NULL with every problem added to errs as "file: json.path: message". Does not block. */
mapping_set_t *mapping_set_load(const char *dir, errlist_t *errs);
void mapping_set_destroy(mapping_set_t *set);
size_t mapping_set_count(const mapping_set_t *set);
mapping_t *mapping_set_get(const mapping_set_t *set, size_t i);

/* Asks typefn for the type of every table column the mapping names and records it; adds a
 * problem to errs for each missing table or column. typefn returns NULL when absent. */
typedef const char *(*mapping_type_fn)(void *ctx, const char *table, const char *column);
void mapping_bind_types(mapping_t *m, mapping_type_fn typefn, void *ctx, errlist_t *errs);
/* Records, for every column the actions write, the type with its modifiers that declfn returns
 * (NULL: not known) and the default that deffn returns ("" none, NULL not known), after
 * mapping_bind_types(). Folding reads them (plan_fold.h); the SQL casts use the types without
 * modifiers. */
void mapping_bind_declared(mapping_t *m, mapping_type_fn declfn, mapping_type_fn deffn, void *ctx);

const char *mapping_name(const mapping_t *m);
const char *mapping_file(const mapping_t *m);
size_t mapping_topic_count(const mapping_t *m);
const char *mapping_topic(const mapping_t *m, size_t i);
/* The dead-letter topic the mapping names, or NULL for the default <topic><dlq.suffix>. */
const char *mapping_dlq_topic(const mapping_t *m);
/* 1 when the mapping says "on_dead_letter": "park": the events that follow a dead-lettered
 * event with the same Kafka key are parked with it (dead-lettered, stage "parked") until it is
 * replayed or discarded; 0 for "skip" (the default: they are applied). */
int mapping_parks(const mapping_t *m);
/* 1 when "allow_partial_rebuild": true: a rebuild may start from the earliest events the topics
 * still hold, although older ones were deleted. */
int mapping_allows_partial_rebuild(const mapping_t *m);
/* The Kafka header carrying the event type, or NULL when it is read from the value or the
 * envelope (format cloudevents). */
const char *mapping_type_header(const mapping_t *m);
/* The topics' format, as $.format names it ("json" when absent): "json", "cloudevents",
 * "debezium-outbox", "debezium". */
const char *mapping_format(const mapping_t *m);
/* The formats a mapping may name: name(i) for i < count, NULL after. */
size_t mapping_format_count(void);
const char *mapping_format_name(size_t i);
/* The event types format's envelope carries (NULL-terminated; static), the only names its
 * mappings' $.events may give besides $tombstone; NULL when the producer names them (or format
 * is unknown). */
const char *const *mapping_format_types(const char *format);
size_t mapping_action_count(const mapping_t *m);
const mapping_action_t *mapping_action(const mapping_t *m, size_t i);
const mapping_action_info_t *mapping_action_info(const mapping_action_t *a);
size_t mapping_lookup_count(const mapping_t *m);
const mapping_lookup_info_t *mapping_lookup_info(const mapping_t *m, size_t i);
size_t mapping_table_count(const mapping_t *m);
const char *mapping_table(const mapping_t *m, size_t i);
/* The tables m's sql actions write (INSERT, UPDATE, DELETE, MERGE targets), as the database
 * planned the statements: filled by schema_check_mappings(), empty before. A rebuild treats them
 * as the projection's tables. add copies table; adding one twice keeps one. */
void mapping_add_sql_table(mapping_t *m, const char *table);
/* Records that sql action number i of m writes table (a ModifyTable of its plan), and adds
 * table to the mapping's sql tables. */
void mapping_add_sql_write(mapping_t *m, size_t i, const char *table);
/* 1 when sql action a may write table (a name as the mapping spells it, schema-qualified or
 * not): unless the database planned a and its plan writes only tables of other names
 * (mapping_add_sql_write()). A statement whose plan names no table it writes (SELECT f($1)) may
 * write any. What triggers and functions called by a planned statement write is not known. */
int mapping_sql_may_write(const mapping_action_t *a, const char *table);
size_t mapping_sql_table_count(const mapping_t *m);
const char *mapping_sql_table(const mapping_t *m, size_t i);

/* Evaluates ev: up to mapping_action_count() ops are written to ops (caller's array), values
 * allocated in arena. On MAPPING_BAD, errstr names the JSON path and the problem. */
mapping_result_t mapping_eval(const mapping_t *m, const mapping_event_t *ev, arena_t *arena,
                              mapping_lookup_fn lookup, void *lookup_ctx, mapping_op_t *ops,
                              size_t *nops, char *errstr, size_t errstr_size);
/* The document actions, and the distinct indices (aliases) they write, in mapping order. */
size_t mapping_doc_count(const mapping_t *m);
const mapping_doc_info_t *mapping_doc_info(const mapping_t *m, size_t i);
size_t mapping_index_count(const mapping_t *m);
const char *mapping_index(const mapping_t *m, size_t i);

/* Evaluates ev's document actions: up to mapping_doc_count() ops into ops, values in arena.
 * MAPPING_OK, MAPPING_SKIP (type not named, or none: mapping_eval() refuses the latter) or
 * MAPPING_BAD (errstr names the JSON path). */
mapping_result_t mapping_eval_docs(const mapping_t *m, const mapping_event_t *ev, arena_t *arena,
                                   mapping_doc_op_t *ops, size_t *nops, char *errstr,
                                   size_t errstr_size);
/* Finds ev's rule once, so that evaluations do not look it up again: returns 0 (ev->rule set,
 * NULL when its type is not mapped), or -1 when the event has no readable type (errstr says why;
 * the evaluations report it again). Does not block. */
int mapping_event_resolve(const mapping_t *m, mapping_event_t *ev, char *errstr, size_t errsz);
/* The Kafka header a mapping's versions are read from (upcasting), or NULL. */
const char *mapping_version_header(const mapping_t *m);

/* How the subject whose version is an event's version is chosen, for versions read from the
 * Schema Registry ("versions": {"registry": ...}). */
typedef enum {
    MAPPING_SUBJECT_ANY,          /* true: the one the id has of the three below */
    MAPPING_SUBJECT_TOPIC,        /* "topic": <topic>-value (TopicNameStrategy) */
    MAPPING_SUBJECT_RECORD,       /* "record": <record full name> (RecordNameStrategy) */
    MAPPING_SUBJECT_TOPIC_RECORD, /* "topic-record": <topic>-<record full name> */
    MAPPING_SUBJECT_NAMED,        /* {"subject": S}: S */
} mapping_subject_t;

/* 1 when m's versions are its events' writer schemas' versions in the Schema Registry, with
 * *how and *subject (MAPPING_SUBJECT_NAMED's; borrowed from m) set; else 0. */
int mapping_version_registry(const mapping_t *m, mapping_subject_t *how, const char **subject);

/* What the schema of version `version` of `type` says of the field keys[0, n) (object keys, "*"
 * for an array's element): 1 it can have it, 0 it cannot (why, up to why_size, says what the
 * schema is), -1 not known (no schema of that version). */
typedef int (*mapping_schema_fn)(void *ctx, const char *type, long version, const char *const *keys,
                                 size_t n, char *why, size_t why_size);
/* Checks that each field an upcaster T.V needs (a rename's source unless optional, the paths of
 * values that are not optional, within computed values too) is written by an earlier step of
 * it, or else is not removed by one and is a field that has() says version V of T can have.
 * Adds each problem to errs as "file: json.path: message". Returns 0, or -1 when it added one.
 * Does not block but in has(). */
int mapping_upcast_fields(const mapping_t *m, mapping_schema_fn has, void *ctx, errlist_t *errs);
/* 1 when the event's type has a sql action (a barrier: no lookup after it is known before the
 * database has run it). */
int mapping_event_has_sql(const mapping_t *m, const mapping_event_t *ev);
/* 1 when the event's type has any lookup (so it must be evaluated for prefetching). */
int mapping_event_has_lookups(const mapping_t *m, const mapping_event_t *ev);

#endif
