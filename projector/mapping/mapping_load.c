/* Declarative mappings: load and validate the mapping files, evaluate events into row operations.
 */
#include "mapping.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpath.h"
#include "mapping_internal.h"
#include "mapping_value.h"
#include "xalloc.h"

struct mapping_action {
    mapping_action_info_t info; /* first: mapping_action_info() returns it */
    column_spec_t *keys, *cols, guard;
    mapping_column_info_t *key_infos, *col_infos;
    int has_guard;
    value_spec_t *params;
    int has_lookup;
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

struct mapping {
    char *name, *file, *dlq_topic, *type_header;
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
};

struct mapping_set {
    mapping_t **items;
    size_t n;
};

/* Parse context: the file, and a buffer holding the JSON path being parsed. */
typedef struct pctx {
    const char *file;
    errlist_t *errs;
    mapping_t *m;
} pctx_t;

static int mapping_register_lookup(void *mp, const char *table, const char *column, json_t *key,
                                   const char *file, const char *where, errlist_t *errs);

void *mapping_xcalloc(size_t n, size_t size)
{
    void *p = xcalloc(n ? n : 1, size);
    return p;
}

char *mapping_xstrdup(const char *s)
{
    char *d = xstrdup(s);
    return d;
}

/* ---- tables ---- */

static int table_id(mapping_t *m, const char *table)
{
    for (size_t i = 0; i < m->ntables; i++)
        if (strcmp(m->tables[i], table) == 0)
            return (int)i;
    m->tables = realloc(m->tables, (m->ntables + 1) * sizeof(char *));
    m->table_keys = realloc(m->table_keys, (m->ntables + 1) * sizeof(char *));
    if (!m->tables || !m->table_keys)
        abort();
    m->tables[m->ntables] = mapping_xstrdup(table);
    m->table_keys[m->ntables] = NULL;
    return (int)m->ntables++;
}

static char *join_names(const column_spec_t *cols, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(cols[i].info.name) + 1;
    char *s = mapping_xcalloc(len, 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, cols[i].info.name);
    }
    return s;
}

/* ---- column lists ---- */

/* Parses {"col": spec, ...} at where; allow_op permits an "op" in each spec. */
static int parse_columns(pctx_t *pc, json_t *obj, const char *where, int allow_op, int allow_lookup,
                         column_spec_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!json_is_object(obj) || json_object_size(obj) == 0) {
        errlist_add(pc->errs, pc->file, where, "expected a non-empty object of column: value");
        return -1;
    }
    column_spec_t *cols = mapping_xcalloc(json_object_size(obj), sizeof(*cols));
    size_t n = 0;
    int rc = 0;
    const char *name;
    json_t *spec;
    json_object_foreach(obj, name, spec)
    {
        char w[512];
        snprintf(w, sizeof(w), "%s.%s", where, name);
        column_spec_t *c = &cols[n++];
        c->info.name = mapping_xstrdup(name);
        c->info.op = COLOP_SET;
        json_t *op = json_is_object(spec) ? json_object_get(spec, "op") : NULL;
        const mapping_colop_def_t *def;
        if (op) {
            if (!allow_op) {
                errlist_add(pc->errs, pc->file, w, "\"op\" is not allowed here");
                rc = -1;
            } else if (!json_is_string(op) ||
                       !(def = mapping_colop_by_name(json_string_value(op)))) {
                char names[256];
                mapping_colop_expected(names, sizeof(names));
                errlist_add(pc->errs, pc->file, w, "unknown op (expected %s)", names);
                rc = -1;
            } else {
                c->info.op = def->op;
            }
        }
        if (value_spec_parse(&c->val, spec, pc->file, w,
                             allow_lookup ? mapping_register_lookup : NULL, pc->m, pc->errs) != 0)
            rc = -1;
    }
    *out = cols;
    *nout = n;
    return rc;
}

void mapping_free_columns(column_spec_t *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)cols[i].info.name);
        free((char *)cols[i].info.type);
        value_spec_free(&cols[i].val);
    }
    free(cols);
}

mapping_column_info_t *mapping_infos_of(const column_spec_t *cols, size_t n)
{
    mapping_column_info_t *infos = mapping_xcalloc(n, sizeof(*infos));
    for (size_t i = 0; i < n; i++)
        infos[i] = cols[i].info;
    return infos;
}

/* ---- lookups: value specs register them on the mapping ---- */

static int mapping_register_lookup(void *mp, const char *table, const char *column, json_t *key,
                                   const char *file, const char *where, errlist_t *errs)
{
    mapping_t *m = mp;
    pctx_t pc = {file, errs, m};
    char w[512];
    snprintf(w, sizeof(w), "%s.key", where);
    column_spec_t *keys;
    size_t nkeys;
    if (parse_columns(&pc, key, w, 0, 0, &keys, &nkeys) != 0) {
        mapping_free_columns(keys, nkeys);
        return -1;
    }
    m->lookups = xrealloc(m->lookups, (m->nlookups + 1) * sizeof(*m->lookups));
    lookup_spec_t *l = &m->lookups[m->nlookups];
    memset(l, 0, sizeof(*l));
    l->keys = keys;
    l->info.table = mapping_xstrdup(table);
    l->info.table_id = table_id(m, table);
    l->info.column = mapping_xstrdup(column);
    l->info.nkeys = nkeys;
    l->where = mapping_xstrdup(where);
    return (int)m->nlookups++;
}

/* ---- actions ---- */

static const char *const action_kinds[] = {"upsert", "update", "delete", "sql"};

static int action_kind_of(pctx_t *pc, json_t *a, const char *where, mapping_kind_t *kind)
{
    int found = -1;
    for (int i = 0; i < 4; i++) {
        if (!json_object_get(a, action_kinds[i]))
            continue;
        if (found >= 0) {
            errlist_add(pc->errs, pc->file, where,
                        "an action has exactly one of upsert, update, "
                        "delete, sql");
            return -1;
        }
        found = i;
    }
    if (found < 0) {
        errlist_add(pc->errs, pc->file, where,
                    "an action needs one of \"upsert\", \"update\", \"delete\" (a table) or "
                    "\"sql\" (a statement)");
        return -1;
    }
    if (!json_is_string(json_object_get(a, action_kinds[found]))) {
        errlist_add(pc->errs, pc->file, where, "\"%s\" takes a string", action_kinds[found]);
        return -1;
    }
    *kind = (mapping_kind_t)found;
    return 0;
}

int mapping_check_fields(const char *file, errlist_t *errs, json_t *obj, const char *where,
                         const char *const *allowed)
{
    int rc = 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, k) == 0;
        if (!ok) {
            char w[512];
            snprintf(w, sizeof(w), "%s.%s", where, k);
            errlist_add(errs, file, w, "unknown field");
            rc = -1;
        }
    }
    (void)v;
    return rc;
}

/* Counts the highest $N placeholder in sql, outside quoted strings. */
static size_t sql_max_param(const char *sql)
{
    size_t max = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '$' && p[1] >= '1' && p[1] <= '9') {
            size_t n = strtoul(p + 1, NULL, 10);
            if (n > max)
                max = n;
        }
    }
    return max;
}

static int parse_sql_action(pctx_t *pc, mapping_action_t *a, json_t *j, const char *where)
{
    static const char *const allowed[] = {"sql", "params", NULL};
    int rc = mapping_check_fields(pc->file, pc->errs, j, where, allowed);
    a->info.sql = mapping_xstrdup(json_string_value(json_object_get(j, "sql")));
    a->info.table_id = -1;
    json_t *params = json_object_get(j, "params");
    size_t n = params ? json_array_size(params) : 0;
    if (params && !json_is_array(params)) {
        errlist_add(pc->errs, pc->file, where, "\"params\" takes an array of values");
        return -1;
    }
    a->params = mapping_xcalloc(n, sizeof(value_spec_t));
    a->info.nparams = n;
    for (size_t i = 0; i < n; i++) {
        char w[512];
        snprintf(w, sizeof(w), "%s.params[%zu]", where, i);
        if (value_spec_parse(&a->params[i], json_array_get(params, i), pc->file, w,
                             mapping_register_lookup, pc->m, pc->errs) != 0)
            rc = -1;
        a->has_lookup |= a->params[i].kind == SRC_LOOKUP;
    }
    size_t used = sql_max_param(a->info.sql);
    if (used != n) {
        char w[512];
        snprintf(w, sizeof(w), "%s.params", where);
        errlist_add(pc->errs, pc->file, w, "the statement uses %zu parameter(s) but %zu are given",
                    used, n);
        rc = -1;
    }
    return rc;
}

static int parse_guard(pctx_t *pc, mapping_action_t *a, json_t *g, const char *where)
{
    static const char *const allowed[] = {"column", "value", NULL};
    char w[512];
    snprintf(w, sizeof(w), "%s.guard", where);
    if (!json_is_object(g) || !json_is_string(json_object_get(g, "column")) ||
        !json_object_get(g, "value")) {
        errlist_add(pc->errs, pc->file, w,
                    "expected {\"column\": version column, \"value\": the event's version}");
        return -1;
    }
    int rc = mapping_check_fields(pc->file, pc->errs, g, w, allowed);
    a->has_guard = 1;
    a->guard.info.name = mapping_xstrdup(json_string_value(json_object_get(g, "column")));
    a->guard.info.op = COLOP_SET;
    snprintf(w, sizeof(w), "%s.guard.value", where);
    if (value_spec_parse(&a->guard.val, json_object_get(g, "value"), pc->file, w, NULL, NULL,
                         pc->errs) != 0)
        rc = -1;
    return rc;
}

static int parse_table_action(pctx_t *pc, mapping_action_t *a, json_t *j, const char *where)
{
    static const char *const allowed[] = {"upsert",  "update", "delete", "key",
                                          "columns", "guard",  NULL};
    int rc = mapping_check_fields(pc->file, pc->errs, j, where, allowed);
    a->info.table =
        mapping_xstrdup(json_string_value(json_object_get(j, action_kinds[a->info.kind])));
    a->info.table_id = table_id(pc->m, a->info.table);
    char w[512];
    snprintf(w, sizeof(w), "%s.key", where);
    if (parse_columns(pc, json_object_get(j, "key"), w, 0, 1, &a->keys, &a->info.nkeys) != 0)
        rc = -1;
    json_t *cols = json_object_get(j, "columns");
    if (a->info.kind == MAPPING_DELETE) {
        if (cols) {
            errlist_add(pc->errs, pc->file, where, "a delete takes no \"columns\"");
            rc = -1;
        }
    } else {
        snprintf(w, sizeof(w), "%s.columns", where);
        if (parse_columns(pc, cols, w, 1, 1, &a->cols, &a->info.ncols) != 0)
            rc = -1;
    }
    json_t *g = json_object_get(j, "guard");
    if (g && parse_guard(pc, a, g, where) != 0)
        rc = -1;
    for (size_t i = 0; a->has_guard && i < a->info.ncols; i++) {
        if (strcmp(a->cols[i].info.name, a->guard.info.name) == 0) {
            errlist_add(pc->errs, pc->file, where,
                        "column %s is the guard's version column: the guard sets it, so leave it "
                        "out of \"columns\"",
                        a->guard.info.name);
            rc = -1;
        }
    }
    for (size_t i = 0; i < a->info.nkeys; i++)
        a->has_lookup |= a->keys[i].val.kind == SRC_LOOKUP;
    for (size_t i = 0; i < a->info.ncols; i++)
        a->has_lookup |= a->cols[i].val.kind == SRC_LOOKUP;
    return rc;
}

static void action_free(mapping_action_t *a)
{
    if (!a)
        return;
    mapping_free_columns(a->keys, a->info.nkeys);
    mapping_free_columns(a->cols, a->info.ncols);
    if (a->has_guard) {
        free((char *)a->guard.info.name);
        free((char *)a->guard.info.type);
        value_spec_free(&a->guard.val);
    }
    for (size_t i = 0; i < a->info.nparams; i++)
        value_spec_free(&a->params[i]);
    free(a->params);
    free(a->key_infos);
    free(a->col_infos);
    free((char *)a->info.table);
    free((char *)a->info.sql);
    free((char *)a->info.where);
    free(a);
}

static mapping_action_t *parse_action(pctx_t *pc, json_t *j, const char *where)
{
    if (!json_is_object(j)) {
        errlist_add(pc->errs, pc->file, where, "an action is an object");
        return NULL;
    }
    mapping_kind_t kind;
    if (action_kind_of(pc, j, where, &kind) != 0)
        return NULL;
    mapping_action_t *a = mapping_xcalloc(1, sizeof(*a));
    a->info.kind = kind;
    char w[600];
    snprintf(w, sizeof(w), "%s: %s", pc->file, where);
    a->info.where = mapping_xstrdup(w);
    int rc = kind == MAPPING_SQL ? parse_sql_action(pc, a, j, where)
                                 : parse_table_action(pc, a, j, where);
    if (rc != 0) {
        action_free(a);
        return NULL;
    }
    a->key_infos = mapping_infos_of(a->keys, a->info.nkeys);
    a->col_infos = mapping_infos_of(a->cols, a->info.ncols);
    a->info.keys = a->key_infos;
    a->info.cols = a->col_infos;
    a->info.guard = a->has_guard ? &a->guard.info : NULL;
    return a;
}

/* ---- the file ---- */

/* Lookups see the rows as they were before the event: an action may not look up a table that an
 * earlier action of the same event writes (or any table after a sql action). */
static int check_lookup_order(pctx_t *pc, const event_rule_t *r, size_t first_lookup,
                              const char *where)
{
    mapping_t *m = pc->m;
    for (size_t l = first_lookup; l < m->nlookups; l++) {
        for (size_t i = 0; i < r->nactions; i++) {
            const mapping_action_info_t *prev = &r->actions[i]->info;
            if (prev->kind == MAPPING_SQL || prev->table_id == m->lookups[l].info.table_id) {
                errlist_add(pc->errs, pc->file, where,
                            "this lookup reads table %s, which action %zu of the same event "
                            "writes first; put the lookup before that write",
                            m->lookups[l].info.table, i);
                return -1;
            }
        }
    }
    return 0;
}

/* Parses a document action of rule r and records it, with its index. */
static int add_doc(pctx_t *pc, event_rule_t *r, json_t *j, const char *where)
{
    mapping_t *m = pc->m;
    mapping_doc_t *d = mapping_doc_parse(j, pc->file, where, pc->errs);
    if (!d)
        return -1;
    mapping_doc_info_of(d)->id = (int)m->ndocs;
    m->docs = xrealloc(m->docs, (m->ndocs + 1) * sizeof(*m->docs));
    m->docs[m->ndocs++] = d;
    r->docs[r->ndocs++] = d;
    const char *index = mapping_doc_info_of(d)->index;
    for (size_t i = 0; i < m->nindices; i++)
        if (strcmp(m->indices[i], index) == 0)
            return 0;
    m->indices = xrealloc(m->indices, (m->nindices + 1) * sizeof(*m->indices));
    m->indices[m->nindices++] = mapping_xstrdup(index);
    return 0;
}

static int parse_rules(pctx_t *pc, json_t *events)
{
    mapping_t *m = pc->m;
    if (!json_is_object(events) || json_object_size(events) == 0) {
        errlist_add(pc->errs, pc->file, "$.events",
                    "expected an object mapping each event type to a list of actions");
        return -1;
    }
    m->rules = mapping_xcalloc(json_object_size(events), sizeof(event_rule_t));
    int rc = 0;
    const char *type;
    json_t *list;
    json_object_foreach(events, type, list)
    {
        event_rule_t *r = &m->rules[m->nrules++];
        r->type = mapping_xstrdup(type);
        char w[512];
        snprintf(w, sizeof(w), "$.events.%s", type);
        if (!json_is_array(list)) {
            errlist_add(pc->errs, pc->file, w, "expected a list of actions");
            rc = -1;
            continue;
        }
        r->actions = mapping_xcalloc(json_array_size(list), sizeof(mapping_action_t *));
        r->docs = mapping_xcalloc(json_array_size(list), sizeof(mapping_doc_t *));
        for (size_t i = 0; i < json_array_size(list); i++) {
            char aw[512];
            snprintf(aw, sizeof(aw), "%s[%zu]", w, i);
            if (mapping_doc_is(json_array_get(list, i))) {
                if (add_doc(pc, r, json_array_get(list, i), aw) != 0)
                    rc = -1;
                continue;
            }
            size_t lookups_before = m->nlookups;
            mapping_action_t *a = parse_action(pc, json_array_get(list, i), aw);
            if (!a) {
                rc = -1;
                continue;
            }
            if (check_lookup_order(pc, r, lookups_before, aw) != 0)
                rc = -1;
            a->info.id = (int)m->nactions;
            m->actions = xrealloc(m->actions, (m->nactions + 1) * sizeof(*m->actions));
            m->actions[m->nactions++] = a;
            r->actions[r->nactions++] = a;
            r->has_lookup |= a->has_lookup;
        }
    }
    return rc;
}

/* Every write to a table must use the same key columns, so rows are identified one way. */
static int check_table_keys(pctx_t *pc)
{
    mapping_t *m = pc->m;
    int rc = 0;
    for (size_t i = 0; i < m->nactions; i++) {
        mapping_action_t *a = m->actions[i];
        if (a->info.kind == MAPPING_SQL)
            continue;
        char *keys = join_names(a->keys, a->info.nkeys);
        char **slot = &m->table_keys[a->info.table_id];
        if (!*slot) {
            *slot = keys;
            continue;
        }
        if (strcmp(*slot, keys) != 0) {
            errlist_add(pc->errs, pc->file, a->info.where + strlen(pc->file) + 2,
                        "table %s is keyed by (%s) elsewhere in this mapping, here by (%s); "
                        "every write to a table must use the same key columns in the same order",
                        a->info.table, *slot, keys);
            rc = -1;
        }
        free(keys);
    }
    for (size_t i = 0; i < m->ndocs; i++) {
        const mapping_doc_info_t *d = mapping_doc_info_of(m->docs[i]);
        char *keys = mapping_doc_key_names(m->docs[i]);
        const char *tk = NULL;
        for (size_t t = 0; keys && t < m->ntables; t++)
            if (strcmp(m->tables[t], d->table) == 0)
                tk = m->table_keys[t];
        const char *w = d->where + strlen(pc->file) + 2;
        if (keys && !tk) {
            errlist_add(pc->errs, pc->file, w,
                        "from_row reads table %s, which no action of this mapping writes (the "
                        "document is the row the event's writes left)",
                        d->table);
            rc = -1;
        } else if (keys && strcmp(tk, keys) != 0) {
            errlist_add(pc->errs, pc->file, w,
                        "from_row reads table %s by (%s) but the mapping writes it by (%s)",
                        d->table, keys, tk);
            rc = -1;
        }
        free(keys);
    }
    for (size_t i = 0; i < m->nlookups; i++) {
        lookup_spec_t *l = &m->lookups[i];
        const char *tk = m->table_keys[l->info.table_id];
        char *keys = join_names(l->keys, l->info.nkeys);
        if (tk && strcmp(tk, keys) != 0) {
            errlist_add(pc->errs, pc->file, l->where,
                        "a lookup in table %s uses key (%s) but the mapping writes it by (%s)",
                        l->info.table, keys, tk);
            rc = -1;
        }
        free(keys);
        l->key_infos = mapping_infos_of(l->keys, l->info.nkeys);
        l->info.keys = l->key_infos;
    }
    return rc;
}

static int parse_event_type(pctx_t *pc, json_t *et)
{
    mapping_t *m = pc->m;
    json_t *field = json_is_object(et) ? json_object_get(et, "field") : NULL;
    json_t *header = json_is_object(et) ? json_object_get(et, "header") : NULL;
    if (!et) {
        field = NULL;
    } else if (!json_is_object(et) || (!!field == !!header) || json_object_size(et) != 1 ||
               (field && !json_is_string(field)) || (header && !json_is_string(header))) {
        errlist_add(pc->errs, pc->file, "$.event_type",
                    "expected {\"field\": \"$.type\"} or {\"header\": \"name\"}");
        return -1;
    }
    if (header) {
        m->type_header = mapping_xstrdup(json_string_value(header));
        return 0;
    }
    char err[256];
    const char *expr = field ? json_string_value(field) : "$.type";
    if (jpath_compile(expr, &m->type_path, err, sizeof(err)) != 0) {
        errlist_add(pc->errs, pc->file, "$.event_type.field", "%s", err);
        return -1;
    }
    return 0;
}

static int parse_topics(pctx_t *pc, json_t *topics)
{
    mapping_t *m = pc->m;
    if (!json_is_array(topics) || json_array_size(topics) == 0) {
        errlist_add(pc->errs, pc->file, "$.topics", "expected a non-empty list of topic names");
        return -1;
    }
    m->topics = mapping_xcalloc(json_array_size(topics), sizeof(char *));
    for (size_t i = 0; i < json_array_size(topics); i++) {
        json_t *t = json_array_get(topics, i);
        if (!json_is_string(t) || json_string_length(t) == 0) {
            char w[64];
            snprintf(w, sizeof(w), "$.topics[%zu]", i);
            errlist_add(pc->errs, pc->file, w, "expected a topic name");
            return -1;
        }
        m->topics[m->ntopics++] = mapping_xstrdup(json_string_value(t));
    }
    return 0;
}

static int parse_header(pctx_t *pc, json_t *root)
{
    static const char *const allowed[] = {"version",     "projection",     "topics",
                                          "event_type",  "events",         "dead_letter_topic",
                                          "description", "on_dead_letter", "allow_partial_rebuild",
                                          NULL};
    int rc = mapping_check_fields(pc->file, pc->errs, root, "$", allowed);
    json_t *v = json_object_get(root, "version");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        errlist_add(pc->errs, pc->file, "$.version", "expected 1 (the mapping format version)");
        rc = -1;
    }
    json_t *name = json_object_get(root, "projection");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        strspn(json_string_value(name), "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
            json_string_length(name)) {
        errlist_add(pc->errs, pc->file, "$.projection",
                    "expected a name of lower-case letters, digits, '_' and '-'");
        rc = -1;
    } else {
        pc->m->name = mapping_xstrdup(json_string_value(name));
    }
    json_t *dlq = json_object_get(root, "dead_letter_topic");
    if (dlq && !json_is_string(dlq)) {
        errlist_add(pc->errs, pc->file, "$.dead_letter_topic", "expected a topic name");
        rc = -1;
    } else if (dlq) {
        pc->m->dlq_topic = mapping_xstrdup(json_string_value(dlq));
    }
    json_t *partial = json_object_get(root, "allow_partial_rebuild");
    if (partial && !json_is_boolean(partial)) {
        errlist_add(pc->errs, pc->file, "$.allow_partial_rebuild", "expected true or false");
        rc = -1;
    }
    pc->m->partial_rebuild = json_is_true(partial);
    json_t *policy = json_object_get(root, "on_dead_letter");
    if (policy && (!json_is_string(policy) || (strcmp(json_string_value(policy), "skip") != 0 &&
                                               strcmp(json_string_value(policy), "park") != 0))) {
        errlist_add(pc->errs, pc->file, "$.on_dead_letter", "expected \"skip\" or \"park\"");
        rc = -1;
    } else if (policy) {
        pc->m->park = strcmp(json_string_value(policy), "park") == 0;
    }
    if (parse_topics(pc, json_object_get(root, "topics")) != 0)
        rc = -1;
    if (parse_event_type(pc, json_object_get(root, "event_type")) != 0)
        rc = -1;
    return rc;
}

static void mapping_destroy(mapping_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nactions; i++)
        action_free(m->actions[i]);
    free(m->actions);
    for (size_t i = 0; i < m->nrules; i++) {
        free(m->rules[i].type);
        free(m->rules[i].actions);
        free(m->rules[i].docs);
    }
    for (size_t i = 0; i < m->ndocs; i++)
        mapping_doc_free(m->docs[i]);
    free(m->docs);
    for (size_t i = 0; i < m->nindices; i++)
        free(m->indices[i]);
    free(m->indices);
    free(m->rules);
    for (size_t i = 0; i < m->nlookups; i++) {
        mapping_free_columns(m->lookups[i].keys, m->lookups[i].info.nkeys);
        free(m->lookups[i].key_infos);
        free((char *)m->lookups[i].info.table);
        free((char *)m->lookups[i].info.column);
        free(m->lookups[i].where);
    }
    free(m->lookups);
    for (size_t i = 0; i < m->ntables; i++) {
        free(m->tables[i]);
        free(m->table_keys[i]);
    }
    free(m->tables);
    free(m->table_keys);
    for (size_t i = 0; i < m->nsql_tables; i++)
        free(m->sql_tables[i]);
    free(m->sql_tables);
    for (size_t i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    jpath_destroy(m->type_path);
    free(m->name);
    free(m->file);
    free(m->dlq_topic);
    free(m->type_header);
    free(m);
}

/* Loads one mapping file; returns it, or NULL with problems added to errs. */
static mapping_t *mapping_load_file(const char *path, errlist_t *errs)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        errlist_add(errs, path, NULL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    mapping_t *m = mapping_xcalloc(1, sizeof(*m));
    m->file = mapping_xstrdup(path);
    pctx_t pc = {path, errs, m};
    int rc = -1;
    if (!json_is_object(root)) {
        errlist_add(errs, path, "$", "a mapping is a JSON object");
    } else {
        rc = parse_header(&pc, root);
        if (parse_rules(&pc, json_object_get(root, "events")) != 0)
            rc = -1;
        if (rc == 0 && check_table_keys(&pc) != 0)
            rc = -1;
    }
    json_decref(root);
    if (rc != 0) {
        mapping_destroy(m);
        return NULL;
    }
    return m;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

mapping_set_t *mapping_set_load(const char *dir, errlist_t *errs)
{
    DIR *d = opendir(dir);
    if (!d) {
        errlist_add(errs, dir, NULL, "cannot open the mappings directory: %m");
        return NULL;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !ends_with(de->d_name, ".json"))
            continue;
        names = xrealloc(names, (n + 1) * sizeof(char *));
        names[n++] = mapping_xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(char *), cmp_names);
    mapping_set_t *set = mapping_xcalloc(1, sizeof(*set));
    set->items = mapping_xcalloc(n, sizeof(mapping_t *));
    size_t before = errlist_count(errs);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        mapping_t *m = mapping_load_file(path, errs);
        for (size_t k = 0; m && k < set->n; k++) {
            if (strcmp(set->items[k]->name, m->name) == 0)
                errlist_add(errs, path, "$.projection", "projection \"%s\" is also defined in %s",
                            m->name, set->items[k]->file);
        }
        if (m)
            set->items[set->n++] = m;
        free(names[i]);
    }
    free(names);
    if (n == 0)
        errlist_add(errs, dir, NULL, "no mapping files (*.json) in this directory");
    if (errlist_count(errs) > before) {
        mapping_set_destroy(set);
        return NULL;
    }
    return set;
}

void mapping_set_destroy(mapping_set_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        mapping_destroy(set->items[i]);
    free(set->items);
    free(set);
}

size_t mapping_set_count(const mapping_set_t *set)
{
    return set->n;
}

mapping_t *mapping_set_get(const mapping_set_t *set, size_t i)
{
    return set->items[i];
}

/* ---- binding to the database's column types ---- */

static void bind_column(column_spec_t *c, const char *table, const char *where, mapping_type_fn fn,
                        void *ctx, const char *file, errlist_t *errs)
{
    const char *type = fn(ctx, table, c->info.name);
    if (!type) {
        errlist_add(errs, file, where, "column %s.%s does not exist in the database", table,
                    c->info.name);
        return;
    }
    free((char *)c->info.type);
    c->info.type = mapping_xstrdup(type);
    c->val.target = value_target_of(type);
    const mapping_colop_def_t *op = mapping_colop_def(c->info.op);
    if (op->column_type && strcmp(type, op->column_type) != 0)
        errlist_add(errs, file, where, "op \"%s\" needs a %s column; %s.%s is %s", op->name,
                    op->column_type, table, c->info.name, type);
}

void mapping_bind_list(column_spec_t *cols, mapping_column_info_t *infos, size_t n,
                       const char *table, const char *where, const char *part, mapping_type_fn fn,
                       void *ctx, const char *file, errlist_t *errs)
{
    for (size_t i = 0; i < n; i++) {
        char w[600];
        snprintf(w, sizeof(w), "%s.%s.%s", where, part, cols[i].info.name);
        bind_column(&cols[i], table, w, fn, ctx, file, errs);
        infos[i] = cols[i].info;
    }
}

/* The JSON path of the first action or lookup of m that names table i ($.events if none). */
static const char *first_use(const mapping_t *m, int table)
{
    for (size_t i = 0; i < m->nactions; i++)
        if (m->actions[i]->info.kind != MAPPING_SQL && m->actions[i]->info.table_id == table)
            return m->actions[i]->info.where + strlen(m->file) + 2;
    for (size_t i = 0; i < m->nlookups; i++)
        if (m->lookups[i].info.table_id == table)
            return m->lookups[i].where;
    return "$.events";
}

void mapping_bind_types(mapping_t *m, mapping_type_fn typefn, void *ctx, errlist_t *errs)
{
    for (size_t i = 0; i < m->ntables; i++) {
        if (!typefn(ctx, m->tables[i], NULL))
            errlist_add(errs, m->file, first_use(m, (int)i),
                        "table %s does not exist in the database "
                        "(is it created by a .sql file of the views directory, and was 'projector "
                        "migrate' run?)",
                        m->tables[i]);
    }
    for (size_t i = 0; i < m->nactions; i++) {
        mapping_action_t *a = m->actions[i];
        if (a->info.kind == MAPPING_SQL || !typefn(ctx, a->info.table, NULL))
            continue;
        const char *where = a->info.where + strlen(m->file) + 2;
        mapping_bind_list(a->keys, a->key_infos, a->info.nkeys, a->info.table, where, "key", typefn,
                          ctx, m->file, errs);
        mapping_bind_list(a->cols, a->col_infos, a->info.ncols, a->info.table, where, "columns",
                          typefn, ctx, m->file, errs);
        if (a->has_guard) {
            char w[600];
            snprintf(w, sizeof(w), "%s.guard.column", where);
            bind_column(&a->guard, a->info.table, w, typefn, ctx, m->file, errs);
        }
    }
    for (size_t i = 0; i < m->ndocs; i++)
        mapping_doc_bind(m->docs[i], typefn, ctx, m->file, errs);
    for (size_t i = 0; i < m->nlookups; i++) {
        lookup_spec_t *l = &m->lookups[i];
        if (!typefn(ctx, l->info.table, NULL))
            continue;
        mapping_bind_list(l->keys, l->key_infos, l->info.nkeys, l->info.table, l->where, "key",
                          typefn, ctx, m->file, errs);
        if (!typefn(ctx, l->info.table, l->info.column)) {
            char w[600];
            snprintf(w, sizeof(w), "%s.column", l->where);
            errlist_add(errs, m->file, w, "column %s.%s does not exist in the database",
                        l->info.table, l->info.column);
        }
    }
}

/* ---- accessors ---- */

const char *mapping_name(const mapping_t *m)
{
    return m->name;
}
const char *mapping_file(const mapping_t *m)
{
    return m->file;
}
size_t mapping_topic_count(const mapping_t *m)
{
    return m->ntopics;
}
const char *mapping_topic(const mapping_t *m, size_t i)
{
    return m->topics[i];
}
const char *mapping_dlq_topic(const mapping_t *m)
{
    return m->dlq_topic;
}
int mapping_allows_partial_rebuild(const mapping_t *m)
{
    return m->partial_rebuild;
}
int mapping_parks(const mapping_t *m)
{
    return m->park;
}
const char *mapping_type_header(const mapping_t *m)
{
    return m->type_header;
}
size_t mapping_action_count(const mapping_t *m)
{
    return m->nactions;
}
const mapping_action_t *mapping_action(const mapping_t *m, size_t i)
{
    return m->actions[i];
}
const mapping_action_info_t *mapping_action_info(const mapping_action_t *a)
{
    return &a->info;
}
size_t mapping_lookup_count(const mapping_t *m)
{
    return m->nlookups;
}
const mapping_lookup_info_t *mapping_lookup_info(const mapping_t *m, size_t i)
{
    return &m->lookups[i].info;
}
size_t mapping_table_count(const mapping_t *m)
{
    return m->ntables;
}
const char *mapping_table(const mapping_t *m, size_t i)
{
    return m->tables[i];
}
void mapping_add_sql_table(mapping_t *m, const char *table)
{
    for (size_t i = 0; i < m->nsql_tables; i++)
        if (strcmp(m->sql_tables[i], table) == 0)
            return;
    m->sql_tables = xrealloc(m->sql_tables, (m->nsql_tables + 1) * sizeof(char *));
    m->sql_tables[m->nsql_tables++] = mapping_xstrdup(table);
}
size_t mapping_sql_table_count(const mapping_t *m)
{
    return m->nsql_tables;
}
const char *mapping_sql_table(const mapping_t *m, size_t i)
{
    return m->sql_tables[i];
}
size_t mapping_doc_count(const mapping_t *m)
{
    return m->ndocs;
}
const mapping_doc_info_t *mapping_doc_info(const mapping_t *m, size_t i)
{
    return mapping_doc_info_of(m->docs[i]);
}
size_t mapping_index_count(const mapping_t *m)
{
    return m->nindices;
}
const char *mapping_index(const mapping_t *m, size_t i)
{
    return m->indices[i];
}

/* ---- evaluation ---- */

static const event_rule_t *find_rule(const mapping_t *m, const mapping_event_t *ev, char *errstr,
                                     size_t errsz, int *bad)
{
    const char *type = NULL;
    *bad = 0;
    if (ev->resolved)
        return ev->rule;
    if (m->type_header) {
        type = ev->type_header;
        if (!type) {
            snprintf(errstr, errsz, "%s: $.event_type: no \"%s\" header with the event type",
                     m->file, m->type_header);
            *bad = 1;
            return NULL;
        }
    } else {
        json_t *t = jpath_get(m->type_path, ev->doc);
        if (!json_is_string(t)) {
            snprintf(errstr, errsz, "%s: $.event_type: %s: %s", m->file, jpath_text(m->type_path),
                     t ? "the event type is not a string" : "no event type");
            *bad = 1;
            return NULL;
        }
        type = json_string_value(t);
    }
    for (size_t i = 0; i < m->nrules; i++)
        if (strcmp(m->rules[i].type, type) == 0)
            return &m->rules[i];
    return NULL;
}

int mapping_event_resolve(const mapping_t *m, mapping_event_t *ev, char *errstr, size_t errsz)
{
    int bad;
    ev->resolved = 0;
    ev->rule = find_rule(m, ev, errstr, errsz, &bad);
    if (bad)
        return -1;
    ev->resolved = 1;
    return 0;
}

int mapping_event_has_lookups(const mapping_t *m, const mapping_event_t *ev)
{
    char err[8];
    int bad;
    const event_rule_t *r = find_rule(m, ev, err, sizeof(err), &bad);
    return r && r->has_lookup;
}

/* Evaluates one lookup source: its key values from the event, then the resolver. */
static value_rc_t eval_lookup(const mapping_t *m, const value_spec_t *vs, const value_ctx_t *vc,
                              const char **out, char *errstr, size_t errsz)
{
    const lookup_spec_t *l = &m->lookups[vs->lookup_id];
    const char **keys = arena_alloc(vc->arena, l->info.nkeys * sizeof(char *));
    for (size_t i = 0; i < l->info.nkeys; i++) {
        value_rc_t rc = value_eval(&l->keys[i].val, vc, &keys[i], errstr, errsz);
        if (rc != VALUE_OK)
            return rc;
        if (!keys[i]) {
            snprintf(errstr, errsz, "%s: lookup key %s is null", l->keys[i].val.where,
                     l->keys[i].info.name);
            return VALUE_BAD;
        }
    }
    return vc->lookup(vc->lookup_ctx, vs->lookup_id, keys, out) ? VALUE_CUT : VALUE_OK;
}

static value_rc_t eval_spec(const mapping_t *m, const value_spec_t *vs, const value_ctx_t *vc,
                            const char **out, char *errstr, size_t errsz)
{
    if (vs->kind == SRC_LOOKUP)
        return eval_lookup(m, vs, vc, out, errstr, errsz);
    return value_eval(vs, vc, out, errstr, errsz);
}

static value_rc_t eval_action(const mapping_t *m, const mapping_action_t *a, const value_ctx_t *vc,
                              const char **vals, char *errstr, size_t errsz)
{
    size_t k = 0;
    value_rc_t rc;
    if (a->info.kind == MAPPING_SQL) {
        for (size_t i = 0; i < a->info.nparams; i++)
            if ((rc = eval_spec(m, &a->params[i], vc, &vals[k++], errstr, errsz)) != VALUE_OK)
                return rc;
        return VALUE_OK;
    }
    for (size_t i = 0; i < a->info.nkeys; i++, k++) {
        if ((rc = eval_spec(m, &a->keys[i].val, vc, &vals[k], errstr, errsz)) != VALUE_OK)
            return rc;
        if (!vals[k]) {
            snprintf(errstr, errsz, "%s: key column %s.%s is null", a->keys[i].val.where,
                     a->info.table, a->keys[i].info.name);
            return VALUE_BAD;
        }
    }
    for (size_t i = 0; i < a->info.ncols; i++)
        if ((rc = eval_spec(m, &a->cols[i].val, vc, &vals[k++], errstr, errsz)) != VALUE_OK)
            return rc;
    if (a->has_guard) {
        if ((rc = eval_spec(m, &a->guard.val, vc, &vals[k], errstr, errsz)) != VALUE_OK)
            return rc;
        if (!vals[k]) {
            snprintf(errstr, errsz, "%s: the guard's version is null", a->guard.val.where);
            return VALUE_BAD;
        }
    }
    return VALUE_OK;
}

mapping_result_t mapping_eval(const mapping_t *m, const mapping_event_t *ev, arena_t *arena,
                              mapping_lookup_fn lookup, void *lookup_ctx, mapping_op_t *ops,
                              size_t *nops, char *errstr, size_t errstr_size)
{
    *nops = 0;
    int bad;
    const event_rule_t *r = find_rule(m, ev, errstr, errstr_size, &bad);
    if (!r)
        return bad ? MAPPING_BAD : MAPPING_SKIP;
    value_ctx_t vc = {ev, arena, lookup, lookup_ctx};
    for (size_t i = 0; i < r->nactions; i++) {
        const mapping_action_t *a = r->actions[i];
        size_t nvals = a->info.kind == MAPPING_SQL
                           ? a->info.nparams
                           : a->info.nkeys + a->info.ncols + (size_t)a->has_guard;
        const char **vals = arena_alloc(arena, (nvals ? nvals : 1) * sizeof(char *));
        value_rc_t rc = eval_action(m, a, &vc, vals, errstr, errstr_size);
        if (rc == VALUE_BAD) {
            char msg[1024];
            snprintf(msg, sizeof(msg), "%s", errstr);
            snprintf(errstr, errstr_size, "%s: %s", m->file, msg);
            return MAPPING_BAD;
        }
        if (rc == VALUE_CUT)
            return MAPPING_CUT;
        ops[*nops].action = a;
        ops[*nops].values = vals;
        (*nops)++;
    }
    return MAPPING_OK;
}

mapping_result_t mapping_eval_docs(const mapping_t *m, const mapping_event_t *ev, arena_t *arena,
                                   mapping_doc_op_t *ops, size_t *nops, char *errstr,
                                   size_t errstr_size)
{
    *nops = 0;
    int bad;
    const event_rule_t *r = find_rule(m, ev, errstr, errstr_size, &bad);
    if (!r) /* an event without a type is mapping_eval()'s to refuse */
        return MAPPING_SKIP;
    value_ctx_t vc = {ev, arena, NULL, NULL};
    for (size_t i = 0; i < r->ndocs; i++) {
        if (mapping_doc_eval(r->docs[i], &vc, &ops[*nops], errstr, errstr_size) != VALUE_OK) {
            char msg[1024];
            snprintf(msg, sizeof(msg), "%s", errstr);
            snprintf(errstr, errstr_size, "%s: %s", m->file, msg);
            return MAPPING_BAD;
        }
        (*nops)++;
    }
    return MAPPING_OK;
}
