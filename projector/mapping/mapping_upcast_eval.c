/* Applying upcasters to an event: read its type and version, then run the upcaster of each
 * version up to the current one (mapping_upcast.c loads and checks them). Values are computed
 * as JSON: the mapping's value language, plus exact decimal multiply/divide and concat. */
#include "mapping_upcast.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "mapping_upcast_internal.h"
#include "xalloc.h"

/* One upcast: what the steps need, and the parts done so far. */
typedef struct up_run {
    const mapping_t *m;
    const struct mapping_upcast *u;
    const mapping_event_t *ev; /* the event as decoded: its metadata */
    arena_t *arena;            /* for the values the mapping's language renders as text */
    json_t *parts;             /* [{"type": T, "event": {...}}, ...] */
    char *errstr;
    size_t errsz;
    const char *type; /* the type and version of the step running, for messages */
    long version;
    const char *last_type; /* the type of the last part done: the event's own, or a new one */
} up_run_t;

/* Fails the run: "file: step-where: message (TYPE version V)". Returns -1. */
static int fail(up_run_t *r, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(up_run_t *r, const char *where, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(r->errstr, r->errsz, "%s: %s: %s (event %s version %ld)", r->m->file, where, msg,
             r->type, r->version);
    return -1;
}

/* ---- fields ---- */

static json_t *field_get(json_t *doc, const up_field_t *f)
{
    for (size_t i = 0; doc && i < f->n; i++)
        doc = json_object_get(doc, f->keys[i]);
    return doc;
}

/* The object holding f's last key (created along the way when create), or NULL when a field on
 * the way is not an object (or is missing, without create). */
static json_t *field_parent(json_t *doc, const up_field_t *f, int create)
{
    for (size_t i = 0; doc && i + 1 < f->n; i++) {
        json_t *next = json_object_get(doc, f->keys[i]);
        if (!next && create) {
            next = json_object();
            json_object_set_new(doc, f->keys[i], next);
        }
        doc = json_is_object(next) ? next : NULL;
    }
    return doc;
}

/* Sets f in doc to v (taking the reference). */
static int field_set(up_run_t *r, json_t *doc, const up_field_t *f, json_t *v, const char *where)
{
    json_t *parent = field_parent(doc, f, 1);
    if (!parent) {
        json_decref(v);
        return fail(r, where, "cannot write %s: a field on its way is not an object", f->text);
    }
    json_object_set_new(parent, f->keys[f->n - 1], v);
    return 0;
}

/* ---- decimals: exact, as the mapping's sum is ---- */

typedef struct dec {
    __int128 m; /* the value is m / 10^scale */
    int scale;
} dec_t;

static const __int128 DEC_LIMIT = (__int128)1000000000000000000 * 1000000000000000000; /* 1e36 */

static __int128 pow10i(int n)
{
    __int128 p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* Parses a decimal text (optional sign, digits, optional fraction; no exponent). */
static int dec_parse(const char *s, dec_t *d)
{
    int neg = *s == '-', digits = 0, frac = -1;
    if (*s == '-' || *s == '+')
        s++;
    d->m = 0;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || frac >= 18 || d->m >= DEC_LIMIT / 10)
            return -1;
        d->m = d->m * 10 + (*s - '0');
        digits++;
        frac += frac >= 0;
    }
    d->scale = frac < 0 ? 0 : frac;
    if (neg)
        d->m = -d->m;
    return digits ? 0 : -1;
}

static int dec_of_json(json_t *v, dec_t *d)
{
    char buf[64];
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof(buf), "%.*f", prec - 1, json_real_value(v));
            if (strtod(buf, NULL) == json_real_value(v))
                break;
        }
    } else if (json_is_string(v)) {
        return dec_parse(json_string_value(v), d);
    } else {
        return -1;
    }
    return dec_parse(buf, d);
}

/* Rounds d (half away from zero) to scale digits, or trims its trailing zeros when scale < 0. */
static int dec_round(dec_t *d, int scale)
{
    if (scale < 0) {
        while (d->scale > 0 && d->m % 10 == 0) {
            d->m /= 10;
            d->scale--;
        }
        return 0;
    }
    if (scale >= d->scale) {
        __int128 p = pow10i(scale - d->scale);
        if (__builtin_mul_overflow(d->m, p, &d->m) || d->m >= DEC_LIMIT || d->m <= -DEC_LIMIT)
            return -1;
    } else {
        __int128 p = pow10i(d->scale - scale), q = d->m / p, rem = d->m % p;
        if (2 * (rem < 0 ? -rem : rem) >= p)
            q += d->m < 0 ? -1 : 1;
        d->m = q;
    }
    d->scale = scale;
    return 0;
}

static json_t *dec_json(dec_t d)
{
    char digits[64], out[72], *o = out;
    int n = 0;
    unsigned __int128 u = d.m < 0 ? (unsigned __int128)(-d.m) : (unsigned __int128)d.m;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u || n <= d.scale);
    if (d.m < 0)
        *o++ = '-';
    for (int i = n - 1; i >= 0; i--) {
        *o++ = digits[i];
        if (i == d.scale && d.scale > 0)
            *o++ = '.';
    }
    *o = '\0';
    return json_string(out);
}

/* ---- values ---- */

static json_t *value_eval(up_run_t *r, const up_value_t *v, json_t *doc);

static void collect_one(json_t *v, void *ctx)
{
    json_array_append_new(ctx, json_deep_copy(v));
}

/* A value of the mapping's language, as JSON (NULL after fail()). */
static json_t *spec_eval(up_run_t *r, const value_spec_t *vs, json_t *doc)
{
    if (vs->kind == SRC_PATH) {
        json_t *v = jpath_get(vs->path, doc);
        if (!v && !vs->optional) {
            fail(r, vs->where, "required field %s is missing", jpath_text(vs->path));
            return NULL;
        }
        return v ? json_deep_copy(v) : json_null();
    }
    if (vs->kind == SRC_LITERAL)
        return vs->lit_value ? json_deep_copy(vs->lit_value) : json_null();
    if (vs->kind == SRC_COLLECT) {
        json_t *arr = json_array();
        jpath_each(vs->path, doc, collect_one, arr);
        return arr;
    }
    if (!r->arena)
        r->arena = arena_new();
    mapping_event_t ev = *r->ev;
    ev.doc = doc;
    value_ctx_t vc = {&ev, r->arena, NULL, NULL};
    const char *text;
    char err[512];
    if (mapping_value_eval(vs, &vc, &text, err, sizeof(err)) != VALUE_OK) {
        fail(r, vs->where, "%s",
             err + (strncmp(err, vs->where, strlen(vs->where)) == 0 ? strlen(vs->where) + 2 : 0));
        return NULL;
    }
    if (!text)
        return json_null();
    return vs->kind == SRC_COUNT ? json_integer(strtoll(text, NULL, 10)) : json_string(text);
}

/* {"multiply"|"divide": [a, b]}: exact, rounded to the value's scale when it has one. */
static json_t *arith_eval(up_run_t *r, const up_value_t *v, json_t *doc)
{
    dec_t d[2];
    for (int i = 0; i < 2; i++) {
        json_t *x = value_eval(r, &v->args[i], doc);
        if (!x)
            return NULL;
        int bad = dec_of_json(x, &d[i]);
        json_decref(x);
        if (bad) {
            fail(r, v->args[i].where, "not a decimal number");
            return NULL;
        }
    }
    dec_t out;
    if (v->kind == UPV_MULTIPLY) {
        out.scale = d[0].scale + d[1].scale;
        if (__builtin_mul_overflow(d[0].m, d[1].m, &out.m) || out.m >= DEC_LIMIT ||
            out.m <= -DEC_LIMIT)
            goto range;
        if (out.scale > 18 && dec_round(&out, 18) != 0)
            goto range;
    } else {
        if (d[1].m == 0) {
            fail(r, v->where, "division by zero");
            return NULL;
        }
        /* the quotient at 18 fractional digits, rounded */
        dec_t num = d[0];
        if (dec_round(&num, 18) != 0 || __builtin_mul_overflow(num.m, pow10i(d[1].scale), &num.m))
            goto range;
        __int128 q = num.m / d[1].m, rem = num.m % d[1].m;
        if (2 * (rem < 0 ? -rem : rem) >= (d[1].m < 0 ? -d[1].m : d[1].m))
            q += (num.m < 0) != (d[1].m < 0) ? -1 : 1;
        out = (dec_t){q, 18};
    }
    if (dec_round(&out, v->scale) != 0)
        goto range;
    return dec_json(out);
range:
    fail(r, v->where, "the result is out of range (36 digits)");
    return NULL;
}

/* Appends the text of x (a string as it is, null as nothing, others as JSON) to buf. */
static void concat_one(char *buf, size_t size, json_t *x)
{
    size_t n = strlen(buf);
    if (json_is_string(x)) {
        snprintf(buf + n, size - n, "%s", json_string_value(x));
    } else if (!json_is_null(x)) {
        /* json_dumpb, not json_dumps: this runs in the fetcher's arena scope (json_alloc.h) */
        size_t len = json_dumpb(x, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        char *s = xmalloc(len + 1);
        s[json_dumpb(x, s, len, JSON_COMPACT | JSON_ENCODE_ANY)] = '\0';
        snprintf(buf + n, size - n, "%s", s);
        free(s);
    }
}

static json_t *concat_eval(up_run_t *r, const up_value_t *v, json_t *doc)
{
    char buf[4096] = "";
    for (size_t i = 0; i < v->nargs; i++) {
        json_t *x = value_eval(r, &v->args[i], doc);
        if (!x)
            return NULL;
        concat_one(buf, sizeof(buf), x);
        json_decref(x);
    }
    if (strlen(buf) == sizeof(buf) - 1) {
        fail(r, v->where, "the text is over %zu bytes", sizeof(buf) - 2);
        return NULL;
    }
    return json_string(buf);
}

/* The value v computes on doc (a new reference), or NULL after fail(). */
static json_t *value_eval(up_run_t *r, const up_value_t *v, json_t *doc)
{
    switch (v->kind) {
    case UPV_VALUE:
        return spec_eval(r, &v->spec, doc);
    case UPV_MULTIPLY:
    case UPV_DIVIDE:
        return arith_eval(r, v, doc);
    case UPV_CONCAT:
        return concat_eval(r, v, doc);
    }
    return NULL;
}

/* ---- steps ---- */

static int rename_field(up_run_t *r, json_t *doc, const up_step_t *s)
{
    json_t *parent = field_parent(doc, &s->field, 0);
    json_t *v = parent ? json_object_get(parent, s->field.keys[s->field.n - 1]) : NULL;
    if (!v)
        return s->optional ? 0 : fail(r, s->where, "rename: %s is missing", s->field.text);
    if (field_get(doc, &s->to))
        return fail(r, s->where, "rename: %s is there already: a rename never replaces a field",
                    s->to.text);
    json_incref(v);
    json_object_del(parent, s->field.keys[s->field.n - 1]);
    return field_set(r, doc, &s->to, v, s->where);
}

/* Runs step s on doc; a type rename sets *type. A split is chain()'s. */
static int step_run(up_run_t *r, json_t *doc, const up_step_t *s, const char **type)
{
    json_t *v;
    switch (s->op) {
    case UP_RENAME:
        return rename_field(r, doc, s);
    case UP_DROP: {
        json_t *parent = field_parent(doc, &s->field, 0);
        if (parent)
            json_object_del(parent, s->field.keys[s->field.n - 1]);
        return 0;
    }
    case UP_DEFAULT:
        if (field_get(doc, &s->field))
            return 0;
        /* fall through */
    case UP_SET:
        if (!(v = value_eval(r, &s->val, doc)))
            return -1;
        return field_set(r, doc, &s->field, v, s->where);
    case UP_TYPE:
        *type = s->type;
        return 0;
    case UP_SPLIT:
        break;
    }
    return 0;
}

static int steps_run(up_run_t *r, json_t *doc, const up_step_t *steps, size_t n, const char **type)
{
    for (size_t i = 0; i < n; i++)
        if (steps[i].op != UP_SPLIT && step_run(r, doc, &steps[i], type) != 0)
            return -1;
    return 0;
}

static int chain(up_run_t *r, const char *type, long version, json_t *doc, int upcast);

/* Splits doc (owned) at version into s's parts, each going on at version + 1. */
static int split(up_run_t *r, const up_step_t *s, long version, json_t *doc)
{
    int rc = 0;
    const char *from = r->type; /* for messages: each part's steps run on the event split */
    for (size_t p = 0; rc == 0 && p < s->nparts; p++) {
        json_t *part = json_deep_copy(doc);
        const char *type = s->parts[p].type;
        r->type = from;
        r->version = version;
        rc = steps_run(r, part, s->parts[p].steps, s->parts[p].nsteps, &type);
        if (rc == 0)
            rc = chain(r, type, version + 1, part, 1);
        else
            json_decref(part);
    }
    json_decref(doc);
    return rc;
}

/* Brings doc (owned) of type at version to its type's current version, appending the result to
 * r->parts; its version is written when it changed (upcast 1: it did before). */
static int chain(up_run_t *r, const char *type, long version, json_t *doc, int upcast)
{
    const struct mapping_upcast *u = r->u;
    for (long cur; (cur = mapping_upcast_current(u, type)) >= 0 && version != cur; version++) {
        r->type = type;
        r->version = version;
        const upcaster_t *up = mapping_upcast_find(u, type, version);
        if (version > cur || !up) {
            json_decref(doc);
            return fail(r, "$.upcasters",
                        version > cur ? "the version is newer than %s's current one, %ld"
                                      : "no upcaster from this version of %s to %ld",
                        type, version > cur ? cur : version + 1);
        }
        if (steps_run(r, doc, up->steps, up->nsteps, &type) != 0) {
            json_decref(doc);
            return -1;
        }
        if (up->nsteps && up->steps[up->nsteps - 1].op == UP_SPLIT)
            return split(r, &up->steps[up->nsteps - 1], version, doc);
        upcast = 1;
    }
    if (upcast && u->version_field.n && /* a header's or schema's version stays the message's */
        field_set(r, doc, &u->version_field, json_integer(version), "$.versions") != 0) {
        json_decref(doc);
        return -1;
    }
    r->last_type = type;
    json_t *part = json_object();
    json_object_set_new(part, "type", json_string_nocheck(type));
    json_object_set_new(part, "event", doc);
    json_array_append_new(r->parts, part);
    return 0;
}

/* ---- the event ---- */

/* The version v holds: a positive integer, or a text of one; -1 when it is neither. */
static long version_of(json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) > 0 && json_integer_value(v) < 1000000
                   ? (long)json_integer_value(v)
                   : -1;
    const char *s = json_string_value(v);
    char *end;
    long n = s && *s >= '1' && *s <= '9' ? strtol(s, &end, 10) : -1;
    return n > 0 && n < 1000000 && !*end ? n : -1;
}

/* Hands the parts of r to ev: one is ev's new doc (its type written to the type's field); more,
 * or one of a new type when the type is a header, make ev a split, whose parts carry their
 * types (the header stays the message's, so a dead letter replays from the original). */
static int finish(up_run_t *r, mapping_event_t *ev, const char *type0)
{
    size_t n = json_array_size(r->parts);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(r->parts, i);
        const char *t = json_string_value(json_object_get(p, "type"));
        for (size_t k = 0; k < i; k++)
            if (strcmp(t, json_string_value(
                              json_object_get(json_array_get(r->parts, k), "type"))) == 0)
                return fail(r, "$.upcasters", "the split yields two parts of type %s", t);
        if (r->u->type_field.n && (n > 1 || r->last_type != type0) &&
            field_set(r, json_object_get(p, "event"), &r->u->type_field, json_string(t),
                      "$.event_type") != 0)
            return -1;
    }
    int split = n > 1 || (r->last_type != type0 && !r->u->type_field.n);
    json_t *doc = split ? r->parts : json_object_get(json_array_get(r->parts, 0), "event");
    json_incref(doc);
    json_decref(ev->doc);
    ev->doc = doc;
    ev->nparts = split ? n : 0;
    return 0;
}

int mapping_upcast(const mapping_t *m, mapping_event_t *ev, char *errstr, size_t errstr_size)
{
    const struct mapping_upcast *u = m->upcast;
    if (!u || !ev->doc || ev->nparts) /* a split is upcast already */
        return 0;
    const char *type = m->type_source != TYPE_FIELD
                           ? ev->type_header
                           : json_string_value(jpath_get(m->type_path, ev->doc));
    long current = type ? mapping_upcast_current(u, type) : -1;
    if (current < 0)
        return 0;
    long version;
    if (u->version_registry) {
        version = ev->schema_version > 0 ? ev->schema_version : u->default_version;
    } else {
        json_t *jv = u->version_header
                         ? (ev->version_header ? json_string_nocheck(ev->version_header) : NULL)
                         : json_incref(jpath_get(u->version_path, ev->doc));
        version = jv ? version_of(jv) : u->default_version;
        json_decref(jv);
    }
    if (version == current)
        return 0;
    up_run_t r = {m, u, ev, NULL, NULL, errstr, errstr_size, type, version, NULL};
    if (version < 0)
        return u->version_header
                   ? fail(&r, "$.versions.header",
                          "header %s: the version is not a positive "
                          "integer",
                          u->version_header)
                   : fail(&r, "$.versions.field", "%s: the version is not a positive integer",
                          jpath_text(u->version_path));
    char *type0 = xstrdup(type); /* type may be the doc's, which the steps change */
    r.type = type0;
    r.parts = json_array();
    int rc = chain(&r, type0, version, json_incref(ev->doc), 0);
    if (rc == 0)
        rc = finish(&r, ev, type0);
    json_decref(r.parts);
    arena_destroy(r.arena);
    free(type0);
    return rc;
}
