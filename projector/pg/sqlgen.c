/* Set-based SQL for mapping actions: one statement applies many rows passed as text arrays. */
#include "sqlgen.h"

#include <string.h>

#include "strbuf.h"

/* Appends an identifier, double-quoted; with qualified, "schema.table" becomes
 * "schema"."table". */
static void put_name(strbuf_t *sb, const char *name, int qualified)
{
    strbuf_puts(sb, "\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            strbuf_puts(sb, "\"\"");
        else if (*p == '.' && qualified)
            strbuf_puts(sb, "\".\"");
        else
            strbuf_append(sb, p, 1);
    }
    strbuf_puts(sb, "\"");
}

void sqlgen_put_ident(strbuf_t *sb, const char *name)
{
    put_name(sb, name, 0);
}

void sqlgen_put_table(strbuf_t *sb, const char *name)
{
    put_name(sb, name, 1);
}

size_t sqlgen_param_count(const mapping_action_info_t *a)
{
    if (a->kind == MAPPING_SQL)
        return a->nparams;
    return a->nkeys + a->ncols + (a->guard ? 1 : 0);
}

/* "FROM unnest($1::text[], ...) AS u(p1, ...)" for n parameters. */
static void put_unnest(strbuf_t *sb, size_t n, int ordinality)
{
    strbuf_puts(sb, " unnest(");
    for (size_t i = 1; i <= n; i++)
        strbuf_printf(sb, "%s$%zu::text[]", i > 1 ? ", " : "", i);
    strbuf_puts(sb, ordinality ? ") WITH ORDINALITY AS u(" : ") AS u(");
    for (size_t i = 1; i <= n; i++)
        strbuf_printf(sb, "%sp%zu", i > 1 ? ", " : "", i);
    strbuf_puts(sb, ordinality ? ", ord)" : ")");
}

/* Parameter i (1-based) cast to the column's type. */
static void put_value(strbuf_t *sb, size_t i, const mapping_column_info_t *c)
{
    strbuf_printf(sb, "u.p%zu::%s", i, c->type);
}

/* The event's value of column c, parameter i (1-based), cast to the type c's op needs (the
 * column's own type when the op takes any); an array of it when c's value is a list. */
static void put_event_value(strbuf_t *sb, size_t i, const mapping_column_info_t *c)
{
    const char *type = mapping_colop_def(c->op)->column_type;
    strbuf_printf(sb, "u.p%zu::%s%s", i, type ? type : c->type, c->folded ? "[]" : "");
}

/* What c's op combines with the current value: from parameter i (a list's fold). */
static void put_operand(strbuf_t *sb, size_t i, const mapping_column_info_t *c)
{
    strbuf_t ev = STRBUF_INIT;
    put_event_value(&ev, i, c);
    const mapping_colop_def_t *def = mapping_colop_def(c->op);
    mapping_colop_render(sb, c->folded ? def->fold : def->operand, NULL, ev.data);
    strbuf_free(&ev);
}

/* The value a new row gets in column c: from parameter i. */
static void put_insert(strbuf_t *sb, size_t i, const mapping_column_info_t *c)
{
    strbuf_t operand = STRBUF_INIT;
    put_operand(&operand, i, c);
    mapping_colop_render(sb, mapping_colop_def(c->op)->insert, NULL, operand.data);
    strbuf_free(&operand);
}

/* "c = <new value>": c's op over t."c" (the current value) and operand (SQL of the operand); a
 * list that starts with a set value is the new value itself. */
static void put_assign(strbuf_t *sb, const mapping_column_info_t *c, const char *operand)
{
    strbuf_t cur = STRBUF_INIT;
    strbuf_puts(&cur, "t.");
    sqlgen_put_ident(&cur, c->name);
    sqlgen_put_ident(sb, c->name);
    strbuf_puts(sb, " = ");
    const char *update = c->folded == 2 ? "{v}" : mapping_colop_def(c->op)->update;
    mapping_colop_render(sb, update, cur.data, operand);
    strbuf_free(&cur);
}

static void put_key_match(strbuf_t *sb, const mapping_action_info_t *a)
{
    for (size_t i = 0; i < a->nkeys; i++) {
        strbuf_puts(sb, i ? " AND t." : " WHERE t.");
        sqlgen_put_ident(sb, a->keys[i].name);
        strbuf_puts(sb, " = ");
        put_value(sb, i + 1, &a->keys[i]);
    }
    if (a->guard) {
        size_t g = a->nkeys + a->ncols + 1;
        strbuf_puts(sb, " AND (t.");
        sqlgen_put_ident(sb, a->guard->name);
        strbuf_puts(sb, " IS NULL OR t.");
        sqlgen_put_ident(sb, a->guard->name);
        strbuf_puts(sb, " <= ");
        put_value(sb, g, a->guard);
        strbuf_puts(sb, ")");
    }
}

static void gen_upsert(strbuf_t *sb, const mapping_action_info_t *a)
{
    size_t n = sqlgen_param_count(a);
    strbuf_puts(sb, "INSERT INTO ");
    sqlgen_put_table(sb, a->table);
    strbuf_puts(sb, " AS t (");
    for (size_t i = 0; i < n; i++) {
        const mapping_column_info_t *c = i < a->nkeys              ? &a->keys[i]
                                         : i < a->nkeys + a->ncols ? &a->cols[i - a->nkeys]
                                                                   : a->guard;
        if (i)
            strbuf_puts(sb, ", ");
        sqlgen_put_ident(sb, c->name);
    }
    strbuf_puts(sb, ") SELECT ");
    for (size_t i = 0; i < n; i++) {
        const mapping_column_info_t *c = i < a->nkeys              ? &a->keys[i]
                                         : i < a->nkeys + a->ncols ? &a->cols[i - a->nkeys]
                                                                   : a->guard;
        if (i)
            strbuf_puts(sb, ", ");
        if (i >= a->nkeys && i < a->nkeys + a->ncols)
            put_insert(sb, i + 1, c);
        else
            put_value(sb, i + 1, c);
    }
    strbuf_puts(sb, " FROM");
    put_unnest(sb, n, 0);
    strbuf_puts(sb, " ON CONFLICT (");
    for (size_t i = 0; i < a->nkeys; i++) {
        if (i)
            strbuf_puts(sb, ", ");
        sqlgen_put_ident(sb, a->keys[i].name);
    }
    strbuf_puts(sb, ") DO UPDATE SET ");
    for (size_t i = 0; i < a->ncols + (a->guard ? 1 : 0); i++) {
        const mapping_column_info_t *c = i < a->ncols ? &a->cols[i] : a->guard;
        /* EXCLUDED holds what the insert would have written; the op's row undoes that */
        strbuf_t ex = STRBUF_INIT, operand = STRBUF_INIT;
        strbuf_puts(&ex, "EXCLUDED.");
        sqlgen_put_ident(&ex, c->name);
        mapping_colop_render(&operand, mapping_colop_def(c->op)->excluded, NULL, ex.data);
        if (i)
            strbuf_puts(sb, ", ");
        put_assign(sb, c, operand.data);
        strbuf_free(&ex);
        strbuf_free(&operand);
    }
    if (a->ncols == 0 && !a->guard) {
        /* Only keys: nothing to update, but the row must exist. */
        sqlgen_put_ident(sb, a->keys[0].name);
        strbuf_puts(sb, " = EXCLUDED.");
        sqlgen_put_ident(sb, a->keys[0].name);
    }
    if (a->guard) {
        strbuf_puts(sb, " WHERE t.");
        sqlgen_put_ident(sb, a->guard->name);
        strbuf_puts(sb, " IS NULL OR t.");
        sqlgen_put_ident(sb, a->guard->name);
        strbuf_puts(sb, " <= EXCLUDED.");
        sqlgen_put_ident(sb, a->guard->name);
    }
}

static void gen_update(strbuf_t *sb, const mapping_action_info_t *a)
{
    strbuf_puts(sb, "UPDATE ");
    sqlgen_put_table(sb, a->table);
    strbuf_puts(sb, " AS t SET ");
    for (size_t i = 0; i < a->ncols + (a->guard ? 1 : 0); i++) {
        const mapping_column_info_t *c = i < a->ncols ? &a->cols[i] : a->guard;
        strbuf_t operand = STRBUF_INIT;
        put_operand(&operand, a->nkeys + i + 1, c);
        if (i)
            strbuf_puts(sb, ", ");
        put_assign(sb, c, operand.data);
        strbuf_free(&operand);
    }
    strbuf_puts(sb, " FROM");
    put_unnest(sb, sqlgen_param_count(a), 0);
    put_key_match(sb, a);
}

static void gen_delete(strbuf_t *sb, const mapping_action_info_t *a)
{
    strbuf_puts(sb, "DELETE FROM ");
    sqlgen_put_table(sb, a->table);
    strbuf_puts(sb, " AS t USING");
    put_unnest(sb, sqlgen_param_count(a), 0);
    put_key_match(sb, a);
}

char *sqlgen_action(const mapping_action_info_t *a)
{
    strbuf_t sb = STRBUF_INIT;
    switch (a->kind) {
    case MAPPING_UPSERT:
        gen_upsert(&sb, a);
        break;
    case MAPPING_UPDATE:
        gen_update(&sb, a);
        break;
    case MAPPING_DELETE:
        gen_delete(&sb, a);
        break;
    case MAPPING_SQL:
        strbuf_puts(&sb, a->sql);
        break;
    }
    return sb.data;
}

char *sqlgen_lookups(const mapping_lookup_info_t *const *ls, size_t n)
{
    const mapping_lookup_info_t *l = ls[0];
    strbuf_t sb = STRBUF_INIT;
    strbuf_puts(&sb, "SELECT u.ord");
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(&sb, ", t.");
        sqlgen_put_ident(&sb, ls[i]->column);
        strbuf_puts(&sb, "::text");
    }
    strbuf_puts(&sb, " FROM");
    put_unnest(&sb, l->nkeys, 1);
    strbuf_puts(&sb, " JOIN ");
    sqlgen_put_table(&sb, l->table);
    strbuf_puts(&sb, " AS t ON ");
    for (size_t i = 0; i < l->nkeys; i++) {
        if (i)
            strbuf_puts(&sb, " AND ");
        strbuf_puts(&sb, "t.");
        sqlgen_put_ident(&sb, l->keys[i].name);
        strbuf_puts(&sb, " = ");
        put_value(&sb, i + 1, &l->keys[i]);
    }
    return sb.data;
}

char *sqlgen_lookup(const mapping_lookup_info_t *l)
{
    return sqlgen_lookups(&l, 1);
}

/* Appends s as a standard-conforming string literal. */
static void put_literal(strbuf_t *sb, const char *s)
{
    strbuf_puts(sb, "'");
    for (const char *p = s; *p; p++) {
        strbuf_append(sb, p, 1);
        if (*p == '\'')
            strbuf_append(sb, p, 1);
    }
    strbuf_puts(sb, "'");
}

/* The document of a from_row action as a jsonb expression over the row t. */
static void put_document(strbuf_t *sb, const mapping_doc_info_t *d)
{
    if (!d->nfields) {
        strbuf_puts(sb, "to_jsonb(t)");
        return;
    }
    for (size_t i = 0; i < d->nfields; i++) {
        /* jsonb_build_object takes at most 100 arguments */
        strbuf_puts(sb, i == 0        ? "jsonb_build_object("
                        : i % 50 == 0 ? ") || jsonb_build_object("
                                      : ", ");
        put_literal(sb, d->fields[i].name);
        strbuf_puts(sb, ", ");
        if (d->fields[i].column) {
            strbuf_puts(sb, "t.");
            sqlgen_put_ident(sb, d->fields[i].column);
        } else {
            strbuf_printf(sb, "(%s)", d->fields[i].sql);
        }
    }
    strbuf_puts(sb, ")");
}

char *sqlgen_doc_rows(const mapping_doc_info_t *d)
{
    strbuf_t sb = STRBUF_INIT;
    strbuf_puts(&sb, "SELECT u.ord, r.doc FROM");
    put_unnest(&sb, d->nkeys, 1);
    strbuf_puts(&sb, " CROSS JOIN LATERAL (SELECT (");
    put_document(&sb, d);
    strbuf_puts(&sb, ")::text AS doc FROM ");
    sqlgen_put_table(&sb, d->table);
    strbuf_puts(&sb, " AS t WHERE ");
    for (size_t i = 0; i < d->nkeys; i++) {
        strbuf_puts(&sb, i ? " AND t." : "t.");
        sqlgen_put_ident(&sb, d->keys[i].name);
        strbuf_puts(&sb, " = ");
        put_value(&sb, i + 1, &d->keys[i]);
    }
    strbuf_puts(&sb, " FOR SHARE) AS r");
    return sb.data;
}
