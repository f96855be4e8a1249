/* The table of column operations: names, SQL templates and column types; lookups in it. */
#include "mapping_colop.h"

#include <stdio.h>
#include <string.h>

/* In the order the ops are listed to people ("unknown op (expected set, add, ...)"). */
static const mapping_colop_def_t colops[] = {
    {COLOP_SET, "set", "c = v", "{v}", "{v}", "{v}", "{v}", NULL, 1, NULL},
    {COLOP_ADD, "add", "c = c + v; a new row gets v", "{v}", "{v}", "{v}",
     "coalesce({cur}, 0) + coalesce({v}, 0)", NULL, 0,
     "(SELECT coalesce(sum(x), 0) FROM unnest({v}) AS x)"},
    {COLOP_SUBTRACT, "subtract", "c = c - v; a new row gets -v (so EXCLUDED holds -v)", "{v}",
     "-{v}", "(-{v})", "coalesce({cur}, 0) - coalesce({v}, 0)", NULL, 0, NULL},
    {COLOP_MAX, "max", "c = greatest(c, v)", "{v}", "{v}", "{v}", "greatest({cur}, {v})", NULL, 0,
     "(SELECT max(x) FROM unnest({v}) AS x)"},
    {COLOP_MIN, "min", "c = least(c, v)", "{v}", "{v}", "{v}", "least({cur}, {v})", NULL, 0,
     "(SELECT min(x) FROM unnest({v}) AS x)"},
    {COLOP_APPEND, "append", "jsonb array c = c || [v]; a new row gets [v]",
     "jsonb_build_array({v})", "{v}", "{v}", "coalesce({cur}, '[]'::jsonb) || {v}", "jsonb", 0,
     "(SELECT jsonb_agg(x ORDER BY o) FROM unnest({v}) WITH ORDINALITY AS a(x, o))"},
    {COLOP_SET_IF_NULL, "set_if_null", "c = coalesce(c, v): the first value stays", "{v}", "{v}",
     "{v}", "coalesce({cur}, {v})", NULL, 0, NULL},
};

_Static_assert(sizeof(colops) / sizeof(colops[0]) == COLOP_N, "one row per mapping_colop_t");

size_t mapping_colop_count(void)
{
    return sizeof(colops) / sizeof(colops[0]);
}

const mapping_colop_def_t *mapping_colop_at(size_t i)
{
    return i < mapping_colop_count() ? &colops[i] : NULL;
}

const mapping_colop_def_t *mapping_colop_def(mapping_colop_t op)
{
    for (size_t i = 0; i < mapping_colop_count(); i++)
        if (colops[i].op == op)
            return &colops[i];
    return &colops[0]; /* not reached for op < COLOP_N: the assertion above */
}

const mapping_colop_def_t *mapping_colop_by_name(const char *name)
{
    for (size_t i = 0; i < mapping_colop_count(); i++)
        if (strcmp(colops[i].name, name) == 0)
            return &colops[i];
    return NULL;
}

void mapping_colop_expected(char *buf, size_t size)
{
    size_t n = mapping_colop_count(), len = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int k = snprintf(buf + len, size - len, "%s%s", sep, colops[i].name);
        if (k < 0)
            break;
        len += (size_t)k;
    }
}

void mapping_colop_render(strbuf_t *sb, const char *tmpl, const char *cur, const char *v)
{
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{cur}", 5) == 0) {
            strbuf_puts(sb, cur ? cur : "");
            p += 5;
        } else if (strncmp(p, "{v}", 3) == 0) {
            strbuf_puts(sb, v);
            p += 3;
        } else {
            size_t k = strcspn(p + 1, "{") + 1;
            strbuf_append(sb, p, k);
            p += k;
        }
    }
}
