/* Column lists of a mapping (action columns, keys, document row keys): free, copy, bind to the
 * database's types; and the unknown-field check every mapping object goes through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_internal.h"
#include "strbuf.h"
#include "xalloc.h"

int mapping_column_check_fields(const char *file, errlist_t *errs, json_t *obj, const char *where,
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

void mapping_column_free(column_spec_t *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)cols[i].info.name);
        free((char *)cols[i].info.type);
        free((char *)cols[i].info.declared);
        free((char *)cols[i].info.default_expr);
        mapping_value_free(&cols[i].val);
    }
    free(cols);
}

mapping_column_info_t *mapping_column_infos(const column_spec_t *cols, size_t n)
{
    mapping_column_info_t *infos = xcalloc(n, sizeof(*infos));
    for (size_t i = 0; i < n; i++)
        infos[i] = cols[i].info;
    return infos;
}

char *mapping_column_names(const column_spec_t *cols, size_t n)
{
    strbuf_t sb = STRBUF_INIT;
    strbuf_puts(&sb, "");
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(&sb, i ? "," : "");
        strbuf_puts(&sb, cols[i].info.name);
    }
    return sb.data;
}

void mapping_column_bind(column_spec_t *c, const char *table, const char *where, mapping_type_fn fn,
                         void *ctx, const char *file, errlist_t *errs)
{
    const char *type = fn(ctx, table, c->info.name);
    if (!type) {
        errlist_add(errs, file, where, "column %s.%s does not exist in the database", table,
                    c->info.name);
        return;
    }
    free((char *)c->info.type);
    c->info.type = xstrdup(type);
    c->val.target = mapping_value_target(type);
    const mapping_colop_def_t *op = mapping_colop_def(c->info.op);
    if (op->column_type && strcmp(type, op->column_type) != 0)
        errlist_add(errs, file, where, "op \"%s\" needs a %s column; %s.%s is %s", op->name,
                    op->column_type, table, c->info.name, type);
}

void mapping_column_bind_list(column_spec_t *cols, mapping_column_info_t *infos, size_t n,
                              const char *table, const char *where, const char *part,
                              mapping_type_fn fn, void *ctx, const char *file, errlist_t *errs)
{
    for (size_t i = 0; i < n; i++) {
        char w[600];
        snprintf(w, sizeof(w), "%s.%s.%s", where, part, cols[i].info.name);
        mapping_column_bind(&cols[i], table, w, fn, ctx, file, errs);
        infos[i] = cols[i].info;
    }
}
