/* What the files of the mapping module share: struct layouts and internal calls; not for the rest
 * of the program.
 *
 * Layering inside mapping/ (a file calls only the files to its left, never back):
 *   jpath, mapping_colop <- mapping_value <- mapping_column <- mapping_doc, mapping_action
 *   <- mapping_load, mapping_bind, mapping_eval
 *   mapping_value <- mapping_upcast (loading upcasters) <- mapping_load
 *   mapping_value <- mapping_upcast_eval (applying them)
 */
#ifndef PROJECTOR_MAPPING_INTERNAL_H
#define PROJECTOR_MAPPING_INTERNAL_H

#include <jansson.h>

#include "errlist.h"
#include "jpath.h"
#include "mapping.h"
#include "mapping_value.h"

/* A column of an action, a lookup or a document's row key, with the value it gets. */
typedef struct column_spec {
    mapping_column_info_t info; /* name, type, op */
    value_spec_t val;
} column_spec_t;

struct mapping_action {
    mapping_action_info_t info; /* first: mapping_action_info() returns it */
    column_spec_t *keys, *cols, guard;
    mapping_column_info_t *key_infos, *col_infos;
    int has_guard;
    value_spec_t *params;
    int has_lookup;
    /* MAPPING_SQL: the tables its plan writes (mapping_add_sql_write()); writes_known 0 until
     * the database planned it and the plan named one */
    char **writes;
    size_t nwrites;
    int writes_known;
};

typedef struct lookup_spec {
    mapping_lookup_info_t info;
    column_spec_t *keys;
    mapping_column_info_t *key_infos;
    char *where; /* JSON path of the lookup, e.g. $.events.E[0].params[1].lookup */
} lookup_spec_t;

typedef struct event_rule {
    char *type;
    mapping_action_t **actions; /* borrowed from the mapping's list */
    size_t nactions;
    mapping_doc_t **docs; /* borrowed from the mapping's list */
    size_t ndocs;
    int has_lookup;
} event_rule_t;

/* Where a mapping finds an event's type. */
typedef enum {
    TYPE_FIELD,    /* a path in the value (type_path) */
    TYPE_HEADER,   /* a Kafka header (type_header) */
    TYPE_ENVELOPE, /* the envelope's own type (cloudevents' type attribute, debezium's
                    * operation), which the decoder sets */
} type_source_t;

/* The event type reserved for a tombstone's rule, in $.events. */
#define MAPPING_TOMBSTONE "$tombstone"

struct mapping {
    char *name, *file, *dlq_topic, *type_header;
    const char *format; /* a row of the format table (mapping_load.c) */
    type_source_t type_source;
    const event_rule_t *tombstone; /* the $tombstone rule, or NULL: tombstones are skipped */
    int park;            /* on_dead_letter: park later events of a dead-lettered event's key */
    int partial_rebuild; /* allow_partial_rebuild: rebuild from what the topics still hold */
    jpath_t *type_path;
    char **topics;
    size_t ntopics;
    event_rule_t *rules;
    size_t nrules;
    mapping_action_t **actions;
    size_t nactions;
    lookup_spec_t *lookups;
    size_t nlookups;
    mapping_doc_t **docs;
    size_t ndocs;
    char **indices; /* distinct indices the document actions write */
    size_t nindices;
    char **tables;
    char **table_keys; /* per table: key column names joined by ',', or NULL when never written */
    size_t ntables;
    char **sql_tables; /* tables the sql actions write, as the database planned them */
    size_t nsql_tables;
    struct mapping_upcast *upcast; /* "versions" and "upcasters" (mapping_upcast.c), or NULL */
};

struct mapping_set {
    mapping_t **items;
    size_t n;
};

/* Parse context: the file being parsed, where its problems go, and the mapping being built. */
typedef struct mapping_pctx {
    const char *file;
    errlist_t *errs;
    mapping_t *m;
} mapping_pctx_t;

/* ---- column lists (mapping_column.c) ---- */

/* Adds "unknown field" to errs for each key of obj (at where) not in allowed (NULL-ended).
 * Returns 0, or -1 when one was found. */
int mapping_column_check_fields(const char *file, errlist_t *errs, json_t *obj, const char *where,
                                const char *const *allowed);
/* Frees cols[0, n) and what they own, then cols. */
void mapping_column_free(column_spec_t *cols, size_t n);
/* Returns a copy of the columns' infos (caller frees; the strings stay the columns'). */
mapping_column_info_t *mapping_column_infos(const column_spec_t *cols, size_t n);
/* Returns the columns' names joined by ',' (caller frees). */
char *mapping_column_names(const column_spec_t *cols, size_t n);
/* Binds column c (found at where) to the type of table's column: records the type and the
 * rendering its value needs; adds a problem to errs when the column is missing or its op cannot
 * take that type. */
void mapping_column_bind(column_spec_t *c, const char *table, const char *where, mapping_type_fn fn,
                         void *ctx, const char *file, errlist_t *errs);
/* Binds cols (found at where.part) to the types of table's columns, updating infos[]. */
void mapping_column_bind_list(column_spec_t *cols, mapping_column_info_t *infos, size_t n,
                              const char *table, const char *where, const char *part,
                              mapping_type_fn fn, void *ctx, const char *file, errlist_t *errs);

/* ---- document actions (mapping_doc.c) ---- */

/* 1 when the action object j is a document action ("index" or "delete_document"). */
int mapping_doc_is(json_t *j);
/* Parses document action j found at file/where. Returns it, or NULL after adding the problems
 * to errs. Caller owns it (mapping_doc_free()). */
mapping_doc_t *mapping_doc_parse(json_t *j, const char *file, const char *where, errlist_t *errs);
void mapping_doc_free(mapping_doc_t *d);
/* The document action's public description; its id is set by the caller. */
mapping_doc_info_t *mapping_doc_info_of(mapping_doc_t *d);
/* from_row: the key's columns as spelled in the mapping, joined by ',' (caller frees); NULL
 * for other documents. */
char *mapping_doc_key_names(const mapping_doc_t *d);
/* Binds a from_row document's key and field columns to the table's types. */
void mapping_doc_bind(mapping_doc_t *d, mapping_type_fn fn, void *ctx, const char *file,
                      errlist_t *errs);
/* Evaluates the document action for vc's event into op. Returns VALUE_OK or VALUE_BAD (errstr
 * names the mapping's JSON path and the problem). */
value_rc_t mapping_doc_eval(const mapping_doc_t *d, const value_ctx_t *vc, mapping_doc_op_t *op,
                            char *errstr, size_t errstr_size);

/* ---- table and sql actions, and the lookups their values use (mapping_action.c) ---- */

/* Parses action j found at where. Returns it (the caller owns it: mapping_action_free()), or
 * NULL after adding the problems to pc->errs. Its lookups and tables are recorded on pc->m. */
mapping_action_t *mapping_action_parse(mapping_pctx_t *pc, json_t *j, const char *where);
void mapping_action_free(mapping_action_t *a);

#endif
