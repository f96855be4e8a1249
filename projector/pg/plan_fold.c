/* Folding the operations on one row within a sub-batch (plan_fold.h says when and why). */
#include "plan_fold.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

#define LIST_MAX 8192 /* bytes of a list literal, beyond which a row's ops stop folding */

/* The action a fold plans; folds with equal columns share one. */
typedef struct shape {
    mapping_action_info_t info;
    mapping_column_info_t *cols;
} shape_t;

/* Where a column of the fold takes its value from. */
typedef enum {
    SRC_A,    /* a's value */
    SRC_B,    /* b's value */
    SRC_LIST, /* a's operand or list, then b's operand */
} src_t;

struct plan_fold {
    int first, second; /* the ids folded, in order */
    const shape_t *shape;
    src_t *src;             /* per column of the fold */
    size_t *at_a, *at_b;    /* the column's value in a's and b's values */
    int *check_a, *check_b; /* 1: that value must not be negative (add) */
    int *a_list;            /* 1: a's value is a list already */
};

struct plan_folds {
    int next_id;
    plan_fold_t **folds;
    size_t n;
    shape_t **shapes;
    size_t nshapes;
};

/* The column types on which an op's lists fold exactly (plan_fold.h): "name" matches name and
 * name(...), "name(" only the latter. */
static const char *const add_types[] = {"smallint", "integer", "bigint", "numeric", NULL};
static const char *const order_types[] = {"smallint",
                                          "integer",
                                          "bigint",
                                          "numeric(",
                                          "date",
                                          "timestamp without time zone",
                                          "timestamp with time zone",
                                          "timestamp(",
                                          "text",
                                          "character varying",
                                          "uuid",
                                          NULL};
static const struct {
    mapping_colop_t op;
    const char *const *types; /* NULL: any */
    int nonneg;               /* 1: no operand may be negative */
} fold_rules[] = {
    {COLOP_ADD, add_types, 1},
    {COLOP_MAX, order_types, 0},
    {COLOP_MIN, order_types, 0},
    {COLOP_APPEND, NULL, 0},
};

static int type_in(const char *type, const char *const *types)
{
    for (size_t i = 0; types[i]; i++) {
        size_t n = strlen(types[i]);
        if (strncmp(type, types[i], n) == 0 &&
            (types[i][n - 1] == '(' || !type[n] || type[n] == '('))
            return 1;
    }
    return 0;
}

/* The rule by which column c's operands fold into a list, or -1. */
static int fold_rule(const mapping_column_info_t *c)
{
    for (size_t i = 0; i < sizeof(fold_rules) / sizeof(fold_rules[0]); i++)
        if (fold_rules[i].op == c->op && mapping_colop_def(c->op)->fold &&
            (!fold_rules[i].types || (c->type && type_in(c->type, fold_rules[i].types))))
            return (int)i;
    return -1;
}

plan_folds_t *plan_folds_new(int first_id)
{
    plan_folds_t *f = xcalloc(1, sizeof(*f));
    f->next_id = first_id;
    return f;
}

void plan_folds_destroy(plan_folds_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->folds[i]->src);
        free(f->folds[i]->at_a);
        free(f->folds[i]->at_b);
        free(f->folds[i]->check_a);
        free(f->folds[i]->check_b);
        free(f->folds[i]->a_list);
        free(f->folds[i]);
    }
    for (size_t i = 0; i < f->nshapes; i++) {
        free(f->shapes[i]->cols);
        free(f->shapes[i]);
    }
    free(f->folds);
    free(f->shapes);
    free(f);
}

static int same_keys(const mapping_action_info_t *a, const mapping_action_info_t *b)
{
    if (a->table_id != b->table_id || a->nkeys != b->nkeys)
        return 0;
    for (size_t i = 0; i < a->nkeys; i++)
        if (strcmp(a->keys[i].name, b->keys[i].name) != 0)
            return 0;
    return 1;
}

/* 1 when action x writes one of its own key columns (moves the row). */
static int moves_key(const mapping_action_info_t *x)
{
    for (size_t i = 0; i < x->ncols; i++)
        for (size_t k = 0; k < x->nkeys; k++)
            if (strcmp(x->cols[i].name, x->keys[k].name) == 0)
                return 1;
    return 0;
}

static int foldable(const mapping_action_info_t *a, const mapping_action_info_t *b)
{
    int writes_a = a->kind == MAPPING_UPSERT || a->kind == MAPPING_UPDATE;
    int writes_b =
        b->kind == MAPPING_UPDATE || (b->kind == MAPPING_UPSERT && a->kind == MAPPING_UPSERT);
    return writes_a && writes_b && !a->guard && !b->guard && same_keys(a, b) && !moves_key(a) &&
           !moves_key(b);
}

/* The shape with d's columns (cols[0..n)), made when there is none yet. */
static const shape_t *shape_of(plan_folds_t *f, const mapping_action_info_t *a,
                               const mapping_column_info_t *cols, size_t n)
{
    for (size_t i = 0; i < f->nshapes; i++) {
        const shape_t *s = f->shapes[i];
        int same = s->info.kind == a->kind && s->info.table_id == a->table_id &&
                   s->info.keys == a->keys && s->info.ncols == n;
        for (size_t c = 0; same && c < n; c++)
            same = strcmp(s->cols[c].name, cols[c].name) == 0 && s->cols[c].op == cols[c].op &&
                   s->cols[c].folded == cols[c].folded;
        if (same)
            return s;
    }
    shape_t *s = xcalloc(1, sizeof(*s));
    s->cols = xcalloc(n + 1, sizeof(*s->cols));
    memcpy(s->cols, cols, n * sizeof(*cols));
    s->info = *a;
    s->info.id = f->next_id++;
    s->info.cols = s->cols;
    s->info.ncols = n;
    f->shapes = xrealloc(f->shapes, (f->nshapes + 1) * sizeof(*f->shapes));
    f->shapes[f->nshapes++] = s;
    return s;
}

/* Places b's column k into d (columns cols[0..*n)): returns 0, or -1 when it does not fold. */
static int place(plan_fold_t *d, mapping_column_info_t *cols, size_t *n,
                 const mapping_action_info_t *a, const mapping_action_info_t *b, size_t k)
{
    const mapping_column_info_t *cb = &b->cols[k];
    size_t i = 0;
    while (i < a->ncols && strcmp(a->cols[i].name, cb->name) != 0)
        i++;
    if (i == a->ncols) { /* a does not write it */
        if (cb->op != COLOP_SET && a->kind != MAPPING_UPDATE)
            return -1; /* a new row would start from the column's default */
        i = (*n)++;
    } else if (cb->op != COLOP_SET) {
        int rule = fold_rule(cb);
        if (rule < 0 || a->cols[i].op != cb->op)
            return -1;
        cols[i] = a->cols[i];
        cols[i].folded = 1;
        d->src[i] = SRC_LIST;
        d->at_b[i] = b->nkeys + k;
        d->a_list[i] = a->cols[i].folded;
        d->check_a[i] = fold_rules[rule].nonneg && !a->cols[i].folded;
        d->check_b[i] = fold_rules[rule].nonneg;
        return 0;
    }
    cols[i] = *cb;
    d->src[i] = SRC_B;
    d->at_b[i] = b->nkeys + k;
    return 0;
}

/* Makes the fold of a then b (a's columns, b's in their place, then b's others), or NULL. */
static plan_fold_t *make(plan_folds_t *f, const mapping_action_info_t *a,
                         const mapping_action_info_t *b)
{
    size_t max = a->ncols + b->ncols + 1, n = a->ncols;
    plan_fold_t *d = xcalloc(1, sizeof(*d));
    mapping_column_info_t *cols = xcalloc(max, sizeof(*cols));
    d->src = xcalloc(max, sizeof(*d->src));
    d->at_a = xcalloc(max, sizeof(*d->at_a));
    d->at_b = xcalloc(max, sizeof(*d->at_b));
    d->check_a = xcalloc(max, sizeof(*d->check_a));
    d->check_b = xcalloc(max, sizeof(*d->check_b));
    d->a_list = xcalloc(max, sizeof(*d->a_list));
    for (size_t i = 0; i < a->ncols; i++) {
        cols[i] = a->cols[i];
        d->src[i] = SRC_A;
        d->at_a[i] = a->nkeys + i;
    }
    int ok = 1;
    for (size_t k = 0; ok && k < b->ncols; k++)
        ok = place(d, cols, &n, a, b, k) == 0;
    d->first = a->id;
    d->second = b->id;
    d->shape = ok ? shape_of(f, a, cols, n) : NULL;
    free(cols);
    f->folds = xrealloc(f->folds, (f->n + 1) * sizeof(*f->folds));
    f->folds[f->n++] = d; /* kept when it does not fold too: asked once */
    return d;
}

const plan_fold_t *plan_folds_get(plan_folds_t *f, const mapping_action_info_t *a,
                                  const mapping_action_info_t *b)
{
    if (!foldable(a, b))
        return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (f->folds[i]->first == a->id && f->folds[i]->second == b->id)
            return f->folds[i]->shape ? f->folds[i] : NULL;
    plan_fold_t *d = make(f, a, b);
    return d->shape ? d : NULL;
}

const mapping_action_info_t *plan_fold_info(const plan_fold_t *d)
{
    return &d->shape->info;
}

/* 1 when v (text of a number, or NULL) may be negative. */
static int negative(const char *v)
{
    if (!v)
        return 0;
    while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r' || *v == '\f' || *v == '\v')
        v++;
    return *v == '-';
}

/* The list of a's operand or list va (folded: a literal) then vb, in arena; NULL past LIST_MAX. */
static const char *list_append(const char *va, int folded, const char *vb, arena_t *arena)
{
    strbuf_t sb = STRBUF_INIT;
    if (folded) {
        strbuf_append(&sb, va, strlen(va) - 1); /* without its closing brace */
        strbuf_puts(&sb, ",");
    } else {
        strbuf_puts(&sb, "{");
        strbuf_array_elem(&sb, va);
        strbuf_puts(&sb, ",");
    }
    strbuf_array_elem(&sb, vb);
    strbuf_puts(&sb, "}");
    const char *out = sb.len <= LIST_MAX ? arena_strndup(arena, sb.data, sb.len) : NULL;
    strbuf_free(&sb);
    return out;
}

const char **plan_fold_values(const plan_fold_t *d, const char *const *va, const char *const *vb,
                              arena_t *arena)
{
    const mapping_action_info_t *info = &d->shape->info;
    for (size_t i = 0; i < info->ncols; i++)
        if ((d->check_a[i] && negative(va[d->at_a[i]])) ||
            (d->check_b[i] && negative(vb[d->at_b[i]])))
            return NULL;
    const char **v = arena_alloc(arena, (info->nkeys + info->ncols + 1) * sizeof(char *));
    for (size_t i = 0; i < info->nkeys; i++)
        v[i] = va[i];
    for (size_t i = 0; i < info->ncols; i++) {
        const char **out = &v[info->nkeys + i];
        if (d->src[i] == SRC_A)
            *out = va[d->at_a[i]];
        else if (d->src[i] == SRC_B)
            *out = vb[d->at_b[i]];
        else
            *out = list_append(va[d->at_a[i]], d->a_list[i], vb[d->at_b[i]], arena);
        if (d->src[i] == SRC_LIST && !*out)
            return NULL;
    }
    return v;
}
