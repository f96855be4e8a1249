/* Binding a loaded mapping to the database: the type of every column it names, and a problem
 * for each table or column the database lacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_internal.h"
#include "xalloc.h"

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
        mapping_column_bind_list(a->keys, a->key_infos, a->info.nkeys, a->info.table, where, "key",
                                 typefn, ctx, m->file, errs);
        mapping_column_bind_list(a->cols, a->col_infos, a->info.ncols, a->info.table, where,
                                 "columns", typefn, ctx, m->file, errs);
        if (a->has_guard) {
            char w[600];
            snprintf(w, sizeof(w), "%s.guard.column", where);
            mapping_column_bind(&a->guard, a->info.table, w, typefn, ctx, m->file, errs);
        }
    }
    for (size_t i = 0; i < m->ndocs; i++)
        mapping_doc_bind(m->docs[i], typefn, ctx, m->file, errs);
    for (size_t i = 0; i < m->nlookups; i++) {
        lookup_spec_t *l = &m->lookups[i];
        if (!typefn(ctx, l->info.table, NULL))
            continue;
        mapping_column_bind_list(l->keys, l->key_infos, l->info.nkeys, l->info.table, l->where,
                                 "key", typefn, ctx, m->file, errs);
        if (!typefn(ctx, l->info.table, l->info.column)) {
            char w[600];
            snprintf(w, sizeof(w), "%s.column", l->where);
            errlist_add(errs, m->file, w, "column %s.%s does not exist in the database",
                        l->info.table, l->info.column);
        }
    }
}

void mapping_bind_declared(mapping_t *m, mapping_type_fn declfn, mapping_type_fn deffn, void *ctx)
{
    for (size_t i = 0; i < m->nactions; i++) {
        mapping_action_t *a = m->actions[i];
        if (a->info.kind == MAPPING_SQL)
            continue;
        for (size_t k = 0; k < a->info.ncols; k++) {
            const char *t = declfn(ctx, a->info.table, a->cols[k].info.name);
            free((char *)a->cols[k].info.declared);
            a->cols[k].info.declared = t ? xstrdup(t) : NULL;
            a->col_infos[k].declared = a->cols[k].info.declared;
            t = deffn(ctx, a->info.table, a->cols[k].info.name);
            free((char *)a->cols[k].info.default_expr);
            a->cols[k].info.default_expr = t ? xstrdup(t) : NULL;
            a->col_infos[k].default_expr = a->cols[k].info.default_expr;
        }
    }
}
