/* Folding the operations on one row within a sub-batch (plan_fold.h says when and why). */
#include "plan_fold.h"

#include <stdlib.h>
#include <string.h>

#include "sqlgen.h"
#include "strbuf.h"
#include "xalloc.h"

#define LIST_MAX 8192 /* bytes of a list literal, beyond which a row's ops stop folding */

/* The action a fold plans; folds with equal columns share one. */
typedef struct shape {
    mapping_action_info_t info;
    mapping_column_info_t *cols;
} shape_t;

/* What each operand of a list must be for the list to fold exactly (plan_fold.h). */
typedef enum {
    CHECK_NONE,
    CHECK_NONNEG, /* not negative: integer types, numeric without a scale */
    CHECK_SCALE,  /* not negative, a plain decimal of at most the column's scale digits */
} check_t;

/* Where a column of the fold takes its value from. */
typedef enum {
    SRC_A,    /* a's value */
    SRC_B,    /* b's value */
    SRC_LIST, /* a's operand or list, then b's operand */
} src_t;

struct plan_fold {
    int first, second; /* the ids folded, in order */
    const shape_t *shape;
    /* or a delete that wins: the action that does a then b, with its own values (whole_b: b's) */
    const mapping_action_info_t *whole;
    int whole_b;
    src_t *src;          /* per column of the fold */
    size_t *at_a, *at_b; /* the column's value in a's and b's values */
    check_t *check;      /* per column: what a's operand and b's must be */
    int *scale;          /* per column: the numeric scale CHECK_SCALE allows */
    int *a_list;         /* 1: a's value is a list already */
    int *notnull;        /* 1: b's value must not be NULL (an add to a column's default) */
};

struct plan_folds {
    int next_id;
    plan_fold_t **folds;
    size_t n;
    shape_t **shapes;
    size_t nshapes;
};

static const char *const int_types[] = {"smallint", "integer", "bigint", NULL};
/* types whose equal values print the same (numeric only with a scale: the declared type) */
static const char *const order_types[] = {"smallint",
                                          "integer",
                                          "bigint",
                                          "date",
                                          "timestamp without time zone",
                                          "timestamp with time zone",
                                          "uuid",
                                          NULL};

static int type_in(const char *type, const char *const *types)
{
    for (size_t i = 0; type && types[i]; i++)
        if (strcmp(type, types[i]) == 0)
            return 1;
    return 0;
}

/* The scale of a declared "numeric(p,s)", or -1 for any other. */
static int numeric_scale(const char *declared)
{
    const char *comma = declared ? strchr(declared, ',') : NULL;
    if (!comma || strncmp(declared, "numeric(", 8) != 0)
        return -1;
    return atoi(comma + 1);
}

/* 1 when column c's operands fold into a list; sets what each operand must be. */
static int fold_rule(const mapping_column_info_t *c, check_t *check, int *scale)
{
    *check = CHECK_NONE;
    *scale = numeric_scale(c->declared);
    if (!mapping_colop_def(c->op)->fold || !c->type)
        return 0;
    switch (c->op) {
    case COLOP_ADD:
        if (type_in(c->type, int_types) || (c->declared && strcmp(c->declared, "numeric") == 0))
            *check = CHECK_NONNEG;
        else if (*scale >= 0)
            *check = CHECK_SCALE;
        else
            return 0;
        return 1;
    case COLOP_MAX:
    case COLOP_MIN:
        return type_in(c->type, order_types) || *scale >= 0 ||
               (c->declared && strncmp(c->declared, "timestamp(", 10) == 0);
    case COLOP_APPEND:
        return 1;
    default:
        return 0;
    }
}

/* 1 when operand v (text, or NULL) passes check: no sum of such operands rounds or overflows
 * where the operations one by one would not. */
static int operand_ok(const char *v, check_t check, int scale)
{
    if (!v || check == CHECK_NONE)
        return 1;
    while (*v == ' ')
        v++;
    if (*v == '-')
        return 0;
    if (check == CHECK_NONNEG)
        return 1;
    if (*v == '+')
        v++;
    size_t digits = strspn(v, "0123456789"), frac = 0;
    v += digits;
    if (*v == '.') {
        frac = strspn(v + 1, "0123456789");
        v += 1 + frac;
        digits += frac;
    }
    while (*v == ' ')
        v++;
    return digits > 0 && !*v && frac <= (size_t)scale;
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
        free(f->folds[i]->check);
        free(f->folds[i]->scale);
        free(f->folds[i]->a_list);
        free(f->folds[i]->notnull);
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

/* 1 when op c of b, applied to a new row's default (the upsert a inserts the row without the
 * column), leaves what op's own insert would: with no default (NULL) for max, min, append and
 * set_if_null; with none or 0 for add and subtract, when the operand is not NULL (*notnull); with
 * an empty array for append. */
static int starts_neutral(const mapping_column_info_t *c, int *notnull)
{
    const char *d = c->default_expr;
    if (!d)
        return 0;
    switch (c->op) {
    case COLOP_ADD:
    case COLOP_SUBTRACT:
        *notnull = 1;
        return !*d || strcmp(d, "0") == 0;
    case COLOP_APPEND:
        return !*d || strcmp(d, "'[]'::jsonb") == 0;
    case COLOP_MAX:
    case COLOP_MIN:
    case COLOP_SET_IF_NULL:
        return !*d;
    default:
        return 0;
    }
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
        /* a new row starts from the column's default */
        if (cb->op != COLOP_SET && a->kind != MAPPING_UPDATE &&
            !starts_neutral(cb, &d->notnull[*n]))
            return -1;
        i = (*n)++;
    } else if (cb->op != COLOP_SET) {
        const mapping_column_info_t *ca = &a->cols[i];
        /* a set, then add, max or min: the list of the set value and the operands */
        int after_set = ca->op == COLOP_SET && !ca->folded && cb->op != COLOP_APPEND;
        if (!fold_rule(cb, &d->check[i], &d->scale[i]) || (ca->op != cb->op && !after_set))
            return -1;
        cols[i] = *ca;
        cols[i].op = cb->op;
        cols[i].folded = after_set ? 2 : ca->folded ? ca->folded : 1;
        d->src[i] = SRC_LIST;
        d->at_b[i] = b->nkeys + k;
        d->a_list[i] = a->cols[i].folded;
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
    d->check = xcalloc(max, sizeof(*d->check));
    d->scale = xcalloc(max, sizeof(*d->scale));
    d->a_list = xcalloc(max, sizeof(*d->a_list));
    d->notnull = xcalloc(max, sizeof(*d->notnull));
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

/* Which of a then b on one row does what both do, being a delete: 1 a (an unguarded delete,
 * then an update or a delete, which find no row), 2 b (an unguarded delete after an upsert,
 * update or delete that does not move the row), or 0. */
static int delete_wins(const mapping_action_info_t *a, const mapping_action_info_t *b)
{
    if (!same_keys(a, b))
        return 0;
    if (a->kind == MAPPING_DELETE && !a->guard &&
        (b->kind == MAPPING_UPDATE || b->kind == MAPPING_DELETE))
        return 1;
    if (b->kind == MAPPING_DELETE && !b->guard && a->kind != MAPPING_SQL && !moves_key(a))
        return 2;
    return 0;
}

const plan_fold_t *plan_folds_get(plan_folds_t *f, const mapping_action_info_t *a,
                                  const mapping_action_info_t *b)
{
    int wins = delete_wins(a, b);
    if (!wins && !foldable(a, b))
        return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (f->folds[i]->first == a->id && f->folds[i]->second == b->id)
            return f->folds[i]->shape || f->folds[i]->whole ? f->folds[i] : NULL;
    if (wins) {
        plan_fold_t *d = xcalloc(1, sizeof(*d));
        d->first = a->id;
        d->second = b->id;
        d->whole = wins == 1 ? a : b;
        d->whole_b = wins == 2;
        f->folds = xrealloc(f->folds, (f->n + 1) * sizeof(*f->folds));
        f->folds[f->n++] = d;
        return d;
    }
    plan_fold_t *d = make(f, a, b);
    return d->shape ? d : NULL;
}

const mapping_action_info_t *plan_fold_info(const plan_fold_t *d)
{
    return d->whole ? d->whole : &d->shape->info;
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
    if (d->whole) {
        const char *const *src = d->whole_b ? vb : va;
        size_t n = sqlgen_param_count(d->whole);
        const char **v = arena_alloc(arena, (n + 1) * sizeof(char *));
        memcpy(v, src, n * sizeof(char *));
        return v;
    }
    const mapping_action_info_t *info = &d->shape->info;
    for (size_t i = 0; i < info->ncols; i++)
        if (d->src[i] == SRC_LIST &&
            ((!d->a_list[i] && !operand_ok(va[d->at_a[i]], d->check[i], d->scale[i])) ||
             !operand_ok(vb[d->at_b[i]], d->check[i], d->scale[i])))
            return NULL;
        else if (d->notnull[i] && !vb[d->at_b[i]])
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
