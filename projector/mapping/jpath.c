/* JSON paths ($.a.b[0].c, $.items[*].qty, $["odd key"]) compiled once, evaluated per event. */
#include "jpath.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef enum { STEP_FIELD, STEP_INDEX, STEP_ALL } step_kind_t;

typedef struct step {
    step_kind_t kind;
    char *name;   /* STEP_FIELD */
    size_t index; /* STEP_INDEX */
} step_t;

struct jpath {
    char *text;
    step_t *steps;
    size_t nsteps, cap; /* steps grow geometrically: compiling is linear in the path's length */
    int multi;
};

const char *jpath_text(const jpath_t *p)
{
    return p->text;
}

size_t jpath_keys(const jpath_t *p, const char **keys, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nsteps && n < max; i++)
        keys[n++] = p->steps[i].kind == STEP_FIELD ? p->steps[i].name : "*";
    return n;
}

int jpath_is_multi(const jpath_t *p)
{
    return p->multi;
}

void jpath_destroy(jpath_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nsteps; i++)
        free(p->steps[i].name);
    free(p->steps);
    free(p->text);
    free(p);
}

/* Appends a step to p; p owns name afterwards. Returns 0. */
static int add_step(jpath_t *p, step_kind_t kind, char *name, size_t index)
{
    if (p->nsteps == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4;
        p->steps = xrealloc(p->steps, cap * sizeof(*p->steps));
        p->cap = cap;
    }
    p->steps[p->nsteps++] = (step_t){kind, name, index};
    if (kind == STEP_ALL)
        p->multi = 1;
    return 0;
}

/* Parses a ["quoted key"] step at *pos (just after '['); returns the key (allocated to its own
 * length: memory stays linear in the path however many steps it has) or NULL. */
static char *parse_quoted(const char *expr, size_t *pos)
{
    char q = expr[*pos];
    size_t end = *pos + 1, n = 0;
    for (; expr[end] && expr[end] != q; end++, n++)
        if (expr[end] == '\\' && expr[end + 1])
            end++;
    if (expr[end] != q || expr[end + 1] != ']')
        return NULL;
    char *out = xmalloc(n + 1);
    n = 0;
    for (size_t i = *pos + 1; i < end; i++) {
        if (expr[i] == '\\' && i + 1 < end)
            i++;
        out[n++] = expr[i];
    }
    out[n] = '\0';
    *pos = end + 2;
    return out;
}

/* Parses a [...] step at *pos (the '['), advancing *pos. Returns 0, or -1 with errstr set. */
static int parse_bracket(jpath_t *p, const char *expr, size_t *pos, char *errstr, size_t errsz)
{
    size_t i = *pos + 1;
    if (expr[i] == '*' && expr[i + 1] == ']') {
        *pos = i + 2;
        return add_step(p, STEP_ALL, NULL, 0);
    }
    if (expr[i] == '"' || expr[i] == '\'') {
        size_t j = i;
        char *name = parse_quoted(expr, &j);
        if (!name) {
            snprintf(errstr, errsz, "unterminated quoted key at position %zu", i);
            return -1;
        }
        *pos = j;
        return add_step(p, STEP_FIELD, name, 0);
    }
    if (!isdigit((unsigned char)expr[i])) {
        snprintf(errstr, errsz, "expected an index, * or a quoted key at position %zu", i);
        return -1;
    }
    char *end;
    unsigned long long idx = strtoull(expr + i, &end, 10);
    if (*end != ']' || idx > 1000000) {
        snprintf(errstr, errsz, "bad array index at position %zu", i);
        return -1;
    }
    *pos = (size_t)(end - expr) + 1;
    return add_step(p, STEP_INDEX, NULL, (size_t)idx);
}

/* Parses a .name step at *pos (the '.'), advancing *pos. Returns 0, or -1 with errstr set. */
static int parse_field(jpath_t *p, const char *expr, size_t *pos, char *errstr, size_t errsz)
{
    size_t i = *pos + 1, start = i;
    while (expr[i] && expr[i] != '.' && expr[i] != '[')
        i++;
    if (i == start) {
        snprintf(errstr, errsz, "empty field name at position %zu", start);
        return -1;
    }
    char *name = xstrndup(expr + start, i - start);
    *pos = i;
    return add_step(p, STEP_FIELD, name, 0);
}

int jpath_compile(const char *expr, jpath_t **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    if (expr[0] != '$') {
        snprintf(errstr, errstr_size, "a JSON path starts with '$', got \"%s\"", expr);
        return -1;
    }
    jpath_t *p = xcalloc(1, sizeof(*p));
    p->text = xstrdup(expr);
    size_t pos = 1;
    while (expr[pos]) {
        int rc;
        if (expr[pos] == '.')
            rc = parse_field(p, expr, &pos, errstr, errstr_size);
        else if (expr[pos] == '[')
            rc = parse_bracket(p, expr, &pos, errstr, errstr_size);
        else {
            snprintf(errstr, errstr_size, "unexpected '%c' at position %zu in \"%s\"", expr[pos],
                     pos, expr);
            goto fail;
        }
        if (rc != 0)
            goto fail;
    }
    *out = p;
    return 0;
fail:
    jpath_destroy(p);
    return -1;
}

/* Returns the value step s leads to from v (borrowed), or NULL. */
static json_t *step_into(const step_t *s, json_t *v)
{
    if (s->kind == STEP_FIELD)
        return json_is_object(v) ? json_object_get(v, s->name) : NULL;
    return json_is_array(v) ? json_array_get(v, s->index) : NULL;
}

json_t *jpath_get(const jpath_t *p, json_t *root)
{
    if (p->multi)
        return NULL;
    json_t *v = root;
    for (size_t i = 0; i < p->nsteps && v; i++)
        v = step_into(&p->steps[i], v);
    return v;
}

/* Calls fn for every value steps i.. of p lead to from v. Returns how many there were. */
static size_t each_from(const jpath_t *p, size_t i, json_t *v, void (*fn)(json_t *, void *),
                        void *ctx)
{
    for (; i < p->nsteps && v; i++) {
        if (p->steps[i].kind == STEP_ALL) {
            if (!json_is_array(v))
                return 0;
            size_t n = 0;
            for (size_t k = 0; k < json_array_size(v); k++)
                n += each_from(p, i + 1, json_array_get(v, k), fn, ctx);
            return n;
        }
        v = step_into(&p->steps[i], v);
    }
    if (!v)
        return 0;
    fn(v, ctx);
    return 1;
}

size_t jpath_each(const jpath_t *p, json_t *root, void (*fn)(json_t *v, void *ctx), void *ctx)
{
    return each_from(p, 0, root, fn, ctx);
}
