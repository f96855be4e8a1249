/* Table and sql actions of a mapping ("upsert", "update", "delete", "sql"), their column lists
 * and the lookups their values use: parse and free them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_internal.h"
#include "xalloc.h"

static int register_lookup(void *mp, const char *table, const char *column, json_t *key,
                           const char *file, const char *where, errlist_t *errs);

/* ---- tables ---- */

/* Returns table's index among m's tables, adding it (a copy) when it is new. */
static int table_id(mapping_t *m, const char *table)
{
    for (size_t i = 0; i < m->ntables; i++)
        if (strcmp(m->tables[i], table) == 0)
            return (int)i;
    m->tables = xrealloc(m->tables, (m->ntables + 1) * sizeof(char *));
    m->table_keys = xrealloc(m->table_keys, (m->ntables + 1) * sizeof(char *));
    m->tables[m->ntables] = xstrdup(table);
    m->table_keys[m->ntables] = NULL;
    return (int)m->ntables++;
}

/* Parses {"col": spec, ...} at where; allow_op permits an "op" in each spec. */
static int parse_columns(mapping_pctx_t *pc, json_t *obj, const char *where, int allow_op,
                         int allow_lookup, column_spec_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!json_is_object(obj) || json_object_size(obj) == 0) {
        errlist_add(pc->errs, pc->file, where, "expected a non-empty object of column: value");
        return -1;
    }
    column_spec_t *cols = xcalloc(json_object_size(obj), sizeof(*cols));
    size_t n = 0;
    int rc = 0;
    const char *name;
    json_t *spec;
    json_object_foreach(obj, name, spec)
    {
        char w[512];
        snprintf(w, sizeof(w), "%s.%s", where, name);
        column_spec_t *c = &cols[n++];
        c->info.name = xstrdup(name);
        c->info.op = COLOP_SET;
        json_t *op = json_is_object(spec) ? json_object_get(spec, "op") : NULL;
        const mapping_colop_def_t *def = NULL;
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
        if (mapping_value_parse(&c->val, spec, pc->file, w, allow_lookup ? register_lookup : NULL,
                                pc->m, pc->errs) != 0)
            rc = -1;
    }
    *out = cols;
    *nout = n;
    return rc;
}

/* ---- lookups: value specs register them on the mapping ---- */

/* A value_lookup_reg_fn: records the lookup on mapping mp. Returns its id, or -1 after adding
 * the problems of its key to errs. */
static int register_lookup(void *mp, const char *table, const char *column, json_t *key,
                           const char *file, const char *where, errlist_t *errs)
{
    mapping_t *m = mp;
    mapping_pctx_t pc = {file, errs, m};
    char w[512];
    snprintf(w, sizeof(w), "%s.key", where);
    column_spec_t *keys;
    size_t nkeys;
    if (parse_columns(&pc, key, w, 0, 0, &keys, &nkeys) != 0) {
        mapping_column_free(keys, nkeys);
        return -1;
    }
    m->lookups = xrealloc(m->lookups, (m->nlookups + 1) * sizeof(*m->lookups));
    lookup_spec_t *l = &m->lookups[m->nlookups];
    memset(l, 0, sizeof(*l));
    l->keys = keys;
    l->info.table = xstrdup(table);
    l->info.table_id = table_id(m, table);
    l->info.column = xstrdup(column);
    l->info.nkeys = nkeys;
    l->where = xstrdup(where);
    return (int)m->nlookups++;
}

/* ---- actions ---- */

static const char *const action_kinds[] = {"upsert", "update", "delete", "sql"};

/* Finds which of upsert, update, delete, sql action a is. Returns 0 with *kind set, or -1 after
 * adding the problem to pc->errs. */
static int action_kind_of(mapping_pctx_t *pc, json_t *a, const char *where, mapping_kind_t *kind)
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

/* Parses the statement and params of sql action j into a. Returns 0, or -1 after adding the
 * problems to pc->errs (a keeps what was parsed: mapping_action_free() frees it). */
static int parse_sql_action(mapping_pctx_t *pc, mapping_action_t *a, json_t *j, const char *where)
{
    static const char *const allowed[] = {"sql", "params", NULL};
    int rc = mapping_column_check_fields(pc->file, pc->errs, j, where, allowed);
    a->info.sql = xstrdup(json_string_value(json_object_get(j, "sql")));
    a->info.table_id = -1;
    json_t *params = json_object_get(j, "params");
    size_t n = params ? json_array_size(params) : 0;
    if (params && !json_is_array(params)) {
        errlist_add(pc->errs, pc->file, where, "\"params\" takes an array of values");
        return -1;
    }
    a->params = xcalloc(n, sizeof(value_spec_t));
    a->info.nparams = n;
    for (size_t i = 0; i < n; i++) {
        char w[512];
        snprintf(w, sizeof(w), "%s.params[%zu]", where, i);
        if (mapping_value_parse(&a->params[i], json_array_get(params, i), pc->file, w,
                                register_lookup, pc->m, pc->errs) != 0)
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

/* Parses the guard g of action a: its version column and value. Returns 0, or -1 after adding
 * the problems to pc->errs. */
static int parse_guard(mapping_pctx_t *pc, mapping_action_t *a, json_t *g, const char *where)
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
    int rc = mapping_column_check_fields(pc->file, pc->errs, g, w, allowed);
    a->has_guard = 1;
    a->guard.info.name = xstrdup(json_string_value(json_object_get(g, "column")));
    a->guard.info.op = COLOP_SET;
    snprintf(w, sizeof(w), "%s.guard.value", where);
    if (mapping_value_parse(&a->guard.val, json_object_get(g, "value"), pc->file, w, NULL, NULL,
                            pc->errs) != 0)
        rc = -1;
    return rc;
}

/* Parses the table, key, columns and guard of table action j into a. Returns 0, or -1 after
 * adding the problems to pc->errs (a keeps what was parsed: mapping_action_free() frees it). */
static int parse_table_action(mapping_pctx_t *pc, mapping_action_t *a, json_t *j, const char *where)
{
    static const char *const allowed[] = {"upsert",  "update", "delete", "key",
                                          "columns", "guard",  NULL};
    int rc = mapping_column_check_fields(pc->file, pc->errs, j, where, allowed);
    a->info.table = xstrdup(json_string_value(json_object_get(j, action_kinds[a->info.kind])));
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

void mapping_action_free(mapping_action_t *a)
{
    if (!a)
        return;
    mapping_column_free(a->keys, a->info.nkeys);
    mapping_column_free(a->cols, a->info.ncols);
    if (a->has_guard) {
        free((char *)a->guard.info.name);
        free((char *)a->guard.info.type);
        mapping_value_free(&a->guard.val);
    }
    for (size_t i = 0; i < a->info.nparams; i++)
        mapping_value_free(&a->params[i]);
    free(a->params);
    for (size_t i = 0; i < a->nwrites; i++)
        free(a->writes[i]);
    free(a->writes);
    free(a->key_infos);
    free(a->col_infos);
    free((char *)a->info.table);
    free((char *)a->info.sql);
    free((char *)a->info.where);
    free(a);
}

mapping_action_t *mapping_action_parse(mapping_pctx_t *pc, json_t *j, const char *where)
{
    if (!json_is_object(j)) {
        errlist_add(pc->errs, pc->file, where, "an action is an object");
        return NULL;
    }
    mapping_kind_t kind;
    if (action_kind_of(pc, j, where, &kind) != 0)
        return NULL;
    mapping_action_t *a = xcalloc(1, sizeof(*a));
    a->info.kind = kind;
    char w[600];
    snprintf(w, sizeof(w), "%s: %s", pc->file, where);
    a->info.where = xstrdup(w);
    int rc = kind == MAPPING_SQL ? parse_sql_action(pc, a, j, where)
                                 : parse_table_action(pc, a, j, where);
    if (rc != 0) {
        mapping_action_free(a);
        return NULL;
    }
    a->key_infos = mapping_column_infos(a->keys, a->info.nkeys);
    a->col_infos = mapping_column_infos(a->cols, a->info.ncols);
    a->info.keys = a->key_infos;
    a->info.cols = a->col_infos;
    a->info.guard = a->has_guard ? &a->guard.info : NULL;
    return a;
}

/* ---- accessors ---- */

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

int mapping_sql_may_write(const mapping_action_t *a, const char *table)
{
    if (a->info.kind != MAPPING_SQL || !a->writes_known)
        return 1;
    const char *dot = strrchr(table, '.'), *base = dot ? dot + 1 : table;
    for (size_t k = 0; k < a->nwrites; k++)
        if (strcmp(a->writes[k], base) == 0 || strcmp(a->writes[k], table) == 0)
            return 1;
    return 0;
}
