/* Which fields each upcaster reads, against what the schema of its version says: a step that
 * needs a field (a rename's source, a value's path) that no earlier step of the upcaster wrote
 * must be one the version's schema can have. The schemas come from the caller
 * (mapping_schema_fn); mapping_upcast.c has checked the steps themselves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_upcast_internal.h"
#include "xalloc.h"

#define MAX_KEYS 32

typedef struct fields_ctx {
    const mapping_t *m;
    mapping_schema_fn has;
    void *ctx;
    errlist_t *errs;
    const upcaster_t *up;
    int rc;
} fields_ctx_t;

/* 1 when field f (keys) and step field w overlap: one is the other or lies inside it. */
static int overlaps(const char *const *keys, size_t n, const up_field_t *w)
{
    size_t k = n < w->n ? n : w->n;
    for (size_t i = 0; i < k; i++)
        if (strcmp(keys[i], w->keys[i]) != 0 && strcmp(keys[i], "*") != 0)
            return 0;
    return n && w->n;
}

/* 1 when w is keys or lies around them (w is a prefix of keys). */
static int covers(const up_field_t *w, const char *const *keys, size_t n)
{
    return w->n <= n && overlaps(keys, n, w);
}

/* Checks that the field (keys, spelled text) read at where can be there when steps[0, at) have
 * run: written by one of them, else (not removed by one) in the version's schema. */
static void need(fields_ctx_t *c, const up_step_t *steps, size_t at, const char *const *keys,
                 size_t n, const char *text, const char *where)
{
    for (size_t i = at; i-- > 0;) {
        const up_step_t *s = &steps[i];
        int writes = (s->op == UP_DEFAULT || s->op == UP_SET) ? overlaps(keys, n, &s->field)
                     : s->op == UP_RENAME                     ? overlaps(keys, n, &s->to)
                                                              : 0;
        if (writes)
            return;
        if ((s->op == UP_DROP || s->op == UP_RENAME) && covers(&s->field, keys, n)) {
            errlist_add(c->errs, c->m->file, where,
                        "reads %s, which %s (%s) removes first: it is never there", text, s->where,
                        s->op == UP_DROP ? "a drop" : "a rename");
            c->rc = -1;
            return;
        }
    }
    char why[512] = "";
    if (c->has(c->ctx, c->up->type, c->up->version, keys, n, why, sizeof(why)) == 0) {
        errlist_add(c->errs, c->m->file, where, "reads %s, which version %ld of %s cannot have: %s",
                    text, c->up->version, c->up->type, why);
        c->rc = -1;
    }
}

static void need_value(fields_ctx_t *c, const up_step_t *steps, size_t at, const up_value_t *v)
{
    if (v->kind != UPV_VALUE) {
        for (size_t i = 0; i < v->nargs; i++)
            need_value(c, steps, at, &v->args[i]);
        return;
    }
    if (v->spec.kind != SRC_PATH || v->spec.optional || !v->spec.path)
        return;
    const char *keys[MAX_KEYS];
    size_t n = jpath_keys(v->spec.path, keys, MAX_KEYS);
    need(c, steps, at, keys, n, jpath_text(v->spec.path), v->spec.where);
}

/* Checks the reads of steps[from, nsteps) (steps[0, from) ran before them). */
static void steps_need(fields_ctx_t *c, const up_step_t *steps, size_t nsteps, size_t from)
{
    for (size_t i = from; i < nsteps; i++) {
        const up_step_t *s = &steps[i];
        if (s->op == UP_RENAME && !s->optional)
            need(c, steps, i, (const char *const *)s->field.keys, s->field.n, s->field.text,
                 s->where);
        if (s->op == UP_DEFAULT || s->op == UP_SET)
            need_value(c, steps, i, &s->val);
        for (size_t p = 0; s->op == UP_SPLIT && p < s->nparts; p++) {
            /* a part's steps run on a copy of the event as steps[0, i) left it */
            size_t np = s->parts[p].nsteps;
            up_step_t *all = xcalloc(i + np + 1, sizeof(up_step_t));
            if (i)
                memcpy(all, steps, i * sizeof(up_step_t));
            if (np) /* a part without steps has none (NULL) */
                memcpy(all + i, s->parts[p].steps, np * sizeof(up_step_t));
            steps_need(c, all, i + np, i);
            free(all);
        }
    }
}

int mapping_upcast_fields(const mapping_t *m, mapping_schema_fn has, void *ctx, errlist_t *errs)
{
    if (!m->upcast)
        return 0;
    fields_ctx_t c = {m, has, ctx, errs, NULL, 0};
    for (size_t i = 0; i < m->upcast->nups; i++) {
        c.up = &m->upcast->ups[i];
        steps_need(&c, c.up->steps, c.up->nsteps, 0);
    }
    return c.rc;
}
