/* Folding the operations on one row within a sub-batch (plan_fold.h says when and why). */
#include "plan_fold.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef struct fold {
    mapping_action_info_t info; /* first: plan_folds_get() returns it */
    int first, second;          /* the ids folded, in order */
    mapping_column_info_t *cols;
    /* per column of the fold: where its value is, in a's values (from_b 0) or b's (from_b 1) */
    size_t *at;
    char *from_b;
} fold_t;

struct plan_folds {
    int next_id;
    fold_t **folds;
    size_t n;
};

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
        free(f->folds[i]->cols);
        free(f->folds[i]->at);
        free(f->folds[i]->from_b);
        free(f->folds[i]);
    }
    free(f->folds);
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
    if (!writes_a || !writes_b || a->guard || b->guard || !same_keys(a, b) || moves_key(a) ||
        moves_key(b))
        return 0;
    for (size_t i = 0; i < b->ncols; i++)
        if (b->cols[i].op != COLOP_SET)
            return 0;
    return 1;
}

/* Makes the fold of a then b: a's columns (b's where b sets them too), then b's others. */
static fold_t *make(plan_folds_t *f, const mapping_action_info_t *a, const mapping_action_info_t *b)
{
    fold_t *d = xcalloc(1, sizeof(*d));
    size_t max = a->ncols + b->ncols;
    d->cols = xcalloc(max + 1, sizeof(*d->cols));
    d->at = xcalloc(max + 1, sizeof(*d->at));
    d->from_b = xcalloc(max + 1, 1);
    size_t n = 0;
    for (size_t i = 0; i < a->ncols; i++, n++) {
        d->cols[n] = a->cols[i];
        d->at[n] = a->nkeys + i;
    }
    for (size_t k = 0; k < b->ncols; k++) {
        size_t i = 0;
        while (i < a->ncols && strcmp(a->cols[i].name, b->cols[k].name) != 0)
            i++;
        size_t slot = i < a->ncols ? i : n++;
        d->cols[slot] = b->cols[k];
        d->at[slot] = b->nkeys + k;
        d->from_b[slot] = 1;
    }
    d->info = *a;
    d->info.id = f->next_id++;
    d->info.cols = d->cols;
    d->info.ncols = n;
    d->first = a->id;
    d->second = b->id;
    f->folds = xrealloc(f->folds, (f->n + 1) * sizeof(*f->folds));
    f->folds[f->n++] = d;
    return d;
}

const mapping_action_info_t *plan_folds_get(plan_folds_t *f, const mapping_action_info_t *a,
                                            const mapping_action_info_t *b)
{
    if (!foldable(a, b))
        return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (f->folds[i]->first == a->id && f->folds[i]->second == b->id)
            return &f->folds[i]->info;
    return &make(f, a, b)->info;
}

const char **plan_folds_values(const mapping_action_info_t *fold, const char *const *va,
                               const char *const *vb, arena_t *arena)
{
    const fold_t *d = (const fold_t *)fold;
    const char **v = arena_alloc(arena, (fold->nkeys + fold->ncols + 1) * sizeof(char *));
    for (size_t i = 0; i < fold->nkeys; i++)
        v[i] = va[i];
    for (size_t i = 0; i < fold->ncols; i++)
        v[fold->nkeys + i] = d->from_b[i] ? vb[d->at[i]] : va[d->at[i]];
    return v;
}
