/* Value sources of a mapping (paths, literals, metadata, computed, lookups): parse and evaluate. */
#include "mapping_value.h"

#include "strbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_alloc.h"
#include "xalloc.h"

void mapping_value_free(value_spec_t *vs)
{
    jpath_destroy(vs->path);
    free(vs->lit_text);
    free(vs->lit_json);
    free(vs->attr);
    json_decref(vs->lit_value);
    free(vs->where);
    memset(vs, 0, sizeof(*vs));
}

value_target_t mapping_value_target(const char *pgtype)
{
    if (strcmp(pgtype, "jsonb") == 0 || strcmp(pgtype, "json") == 0)
        return TARGET_JSON;
    size_t n = strlen(pgtype);
    if (n > 2 && strcmp(pgtype + n - 2, "[]") == 0)
        return TARGET_ARRAY;
    return TARGET_TEXT;
}

/* Prints d with the fewest significant digits (up to 17) that read back as d: 99.95, not
 * 99.950000000000003. */
static void format_real(char *buf, size_t size, double d)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* ---- parsing ---- */

static const char *const meta_names[] = {"topic", "partition", "offset", "timestamp", "key"};

typedef struct source_key {
    const char *name;
    src_kind_t kind;
} source_key_t;

static const source_key_t source_keys[] = {
    {"path", SRC_PATH},   {"literal", SRC_LITERAL}, {"meta", SRC_META},     {"sum", SRC_SUM},
    {"count", SRC_COUNT}, {"collect", SRC_COLLECT}, {"lookup", SRC_LOOKUP},
};

static int parse_path(value_spec_t *vs, json_t *p, const char *file, const char *where,
                      errlist_t *errs)
{
    char err[256];
    if (!json_is_string(p)) {
        errlist_add(errs, file, where, "expected a JSON path string such as \"$.orderId\"");
        return -1;
    }
    if (jpath_compile(json_string_value(p), &vs->path, err, sizeof(err)) != 0) {
        errlist_add(errs, file, where, "%s", err);
        return -1;
    }
    if (vs->kind == SRC_PATH && jpath_is_multi(vs->path)) {
        errlist_add(errs, file, where,
                    "a [*] path matches many values: use {\"sum\": ...}, "
                    "{\"count\": ...} or {\"collect\": ...}");
        return -1;
    }
    return 0;
}

static int parse_literal(value_spec_t *vs, json_t *v)
{
    if (json_is_null(v))
        return 0;
    char num[64];
    if (json_is_real(v)) {
        format_real(num, sizeof(num), json_real_value(v));
        vs->lit_json = xstrdup(num);
    } else {
        vs->lit_json = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    }
    vs->lit_value = json_incref(v);
    if (json_is_string(v))
        vs->lit_text = xstrdup(json_string_value(v));
    else if (json_is_true(v) || json_is_false(v))
        vs->lit_text = xstrdup(json_is_true(v) ? "true" : "false");
    else
        vs->lit_text = xstrdup(vs->lit_json);
    return vs->lit_json ? 0 : -1;
}

/* The envelope attributes a meta value may name: a prefix and the format whose decoder sets
 * them ("ce." takes any attribute name: CloudEvents extensions are the producer's). */
static const struct {
    const char *prefix;
    int any; /* 1: any name after the prefix; 0: the prefix is the whole name */
    const char *format;
} attr_names[] = {
    {"ce.", 1, "cloudevents"},
    {"outbox.id", 0, "debezium-outbox"},
    {"debezium.op", 0, "debezium"},
};

const char *mapping_value_attr_format(const char *name)
{
    for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++) {
        size_t n = strlen(attr_names[i].prefix);
        if (strncmp(name, attr_names[i].prefix, n) == 0 &&
            (attr_names[i].any ? name[n] != '\0' : name[n] == '\0'))
            return attr_names[i].format;
    }
    return NULL;
}

static int parse_meta(value_spec_t *vs, json_t *v, const char *file, const char *where,
                      errlist_t *errs)
{
    for (int i = 0; json_is_string(v) && i < (int)META_ATTR; i++) {
        if (strcmp(json_string_value(v), meta_names[i]) == 0) {
            vs->meta = (meta_t)i;
            return 0;
        }
    }
    if (json_is_string(v) && mapping_value_attr_format(json_string_value(v))) {
        vs->meta = META_ATTR;
        vs->attr = xstrdup(json_string_value(v));
        return 0;
    }
    errlist_add(errs, file, where,
                "\"meta\" is one of topic, partition, offset, timestamp, key, or an envelope "
                "attribute: ce.<attribute> (format cloudevents), outbox.id (format "
                "debezium-outbox), debezium.op (format debezium)");
    return -1;
}

static int parse_lookup(value_spec_t *vs, json_t *v, const char *file, const char *where,
                        value_lookup_reg_fn reg, void *reg_ctx, errlist_t *errs)
{
    if (!reg) {
        errlist_add(errs, file, where, "a lookup is not allowed here");
        return -1;
    }
    json_t *table = json_object_get(v, "table"), *column = json_object_get(v, "column");
    json_t *key = json_object_get(v, "key");
    if (!json_is_object(v) || !json_is_string(table) || !json_is_string(column) || !key ||
        json_object_size(v) != 3) {
        errlist_add(errs, file, where,
                    "a lookup is {\"table\": t, \"column\": c, \"key\": {\"col\": value, ...}}");
        return -1;
    }
    char w[512];
    snprintf(w, sizeof(w), "%s.lookup", where);
    vs->lookup_id =
        reg(reg_ctx, json_string_value(table), json_string_value(column), key, file, w, errs);
    return vs->lookup_id < 0 ? -1 : 0;
}

/* Parses the object form: one source key, plus "op" (read by the caller) and "optional". */
static int parse_object(value_spec_t *vs, json_t *spec, const char *file, const char *where,
                        value_lookup_reg_fn reg, void *reg_ctx, errlist_t *errs)
{
    int found = 0;
    json_t *src = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(spec, k, v)
    {
        if (strcmp(k, "op") == 0)
            continue;
        if (strcmp(k, "optional") == 0) {
            if (!json_is_boolean(v)) {
                errlist_add(errs, file, where, "\"optional\" takes true or false");
                return -1;
            }
            vs->optional = json_is_true(v);
            continue;
        }
        size_t i;
        for (i = 0; i < sizeof(source_keys) / sizeof(source_keys[0]); i++)
            if (strcmp(k, source_keys[i].name) == 0)
                break;
        if (i == sizeof(source_keys) / sizeof(source_keys[0])) {
            errlist_add(errs, file, where,
                        "unknown field \"%s\" (a value is one of path, literal, meta, sum, count, "
                        "collect, lookup, with optional \"op\" and \"optional\")",
                        k);
            return -1;
        }
        vs->kind = source_keys[i].kind;
        src = v;
        found++;
    }
    if (found != 1) {
        errlist_add(errs, file, where,
                    "a value has exactly one of path, literal, meta, sum, count, collect, lookup");
        return -1;
    }
    switch (vs->kind) {
    case SRC_LITERAL:
        return parse_literal(vs, src);
    case SRC_META:
        return parse_meta(vs, src, file, where, errs);
    case SRC_LOOKUP:
        return parse_lookup(vs, src, file, where, reg, reg_ctx, errs);
    default:
        return parse_path(vs, src, file, where, errs);
    }
}

int mapping_value_parse(value_spec_t *vs, json_t *spec, const char *file, const char *where,
                        value_lookup_reg_fn reg, void *reg_ctx, errlist_t *errs)
{
    memset(vs, 0, sizeof(*vs));
    vs->where = xstrdup(where);
    if (json_is_string(spec)) {
        if (json_string_value(spec)[0] != '$') {
            errlist_add(errs, file, where,
                        "a string value is a JSON path (\"$.field\"); for a constant text write "
                        "{\"literal\": \"%s\"}",
                        json_string_value(spec));
            return -1;
        }
        vs->kind = SRC_PATH;
        return parse_path(vs, spec, file, where, errs);
    }
    if (json_is_object(spec))
        return parse_object(vs, spec, file, where, reg, reg_ctx, errs);
    if (json_is_array(spec)) {
        errlist_add(errs, file, where, "expected a JSON path, a constant or a value object");
        return -1;
    }
    vs->kind = SRC_LITERAL;
    return parse_literal(vs, spec);
}

/* ---- evaluation ---- */

static const char *arena_printf_int(arena_t *a, long long v)
{
    char *p = arena_alloc(a, 24);
    snprintf(p, 24, "%lld", v);
    return p;
}

/* Renders a JSON string as a PostgreSQL text value; refuses NUL characters. */
static value_rc_t string_text(const value_spec_t *vs, json_t *v, const char **out, char *errstr,
                              size_t errsz)
{
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        snprintf(errstr, errsz,
                 "%s: the string holds a NUL character (\\u0000), which a "
                 "PostgreSQL text value cannot hold",
                 vs->where);
        return VALUE_BAD;
    }
    *out = s;
    return VALUE_OK;
}

char *mapping_value_dumps(const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!s) { /* jansson fails only when out of memory here: do as xalloc.h does */
        fputs("projector: out of memory\n", stderr);
        abort();
    }
    return s;
}

/* v's compact JSON text, written straight into the arena (no malloc'ed copy on the way). */
static const char *dump_json(arena_t *a, json_t *v)
{
    return json_alloc_text(v, JSON_COMPACT | JSON_ENCODE_ANY, a, NULL);
}

/* Renders the elements of a JSON array as a PostgreSQL array literal (objects and arrays as
 * their JSON text). Returns NULL when an element holds a NUL character. */
static const char *pg_array_literal(arena_t *a, json_t *arr)
{
    strbuf_t sb = STRBUF_INIT;
    strbuf_puts(&sb, "{");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        char num[64];
        const char *s = num;
        if (i)
            strbuf_puts(&sb, ",");
        if (json_is_null(e)) {
            strbuf_puts(&sb, "NULL");
            continue;
        }
        if (json_is_string(e)) {
            s = json_string_value(e);
            if (strlen(s) != json_string_length(e)) {
                strbuf_free(&sb);
                return NULL;
            }
        } else if (json_is_integer(e)) {
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(e));
        } else if (json_is_real(e)) {
            format_real(num, sizeof(num), json_real_value(e));
        } else if (json_is_boolean(e)) {
            snprintf(num, sizeof(num), "%s", json_is_true(e) ? "true" : "false");
        } else {
            s = dump_json(a, e);
        }
        strbuf_array_elem(&sb, s);
    }
    strbuf_puts(&sb, "}");
    const char *out = arena_strndup(a, sb.data, sb.len);
    strbuf_free(&sb);
    return out;
}

/* Renders a JSON value for the spec's target column. */
static value_rc_t render(const value_spec_t *vs, json_t *v, arena_t *a, const char **out,
                         char *errstr, size_t errsz)
{
    if (json_is_null(v)) {
        *out = NULL;
        return VALUE_OK;
    }
    if (json_is_real(v)) {
        char *p = arena_alloc(a, 32);
        format_real(p, 32, json_real_value(v));
        *out = p;
    } else if (vs->target == TARGET_JSON) {
        *out = dump_json(a, v);
    } else if (vs->target == TARGET_ARRAY && json_is_array(v)) {
        *out = pg_array_literal(a, v);
        if (!*out) {
            snprintf(errstr, errsz,
                     "%s: an array element holds a NUL character (\\u0000), "
                     "which a PostgreSQL text value cannot hold",
                     vs->where);
            return VALUE_BAD;
        }
    } else if (json_is_string(v))
        return string_text(vs, v, out, errstr, errsz);
    else if (json_is_integer(v))
        *out = arena_printf_int(a, (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        *out = json_is_true(v) ? "true" : "false";
    else
        *out = dump_json(a, v);
    return VALUE_OK;
}

/* ---- exact decimal sums ---- */

typedef struct decsum {
    __int128 total; /* scaled by 10^18 */
    int scale;      /* most fractional digits seen */
    int bad;
    json_t *bad_value;
} decsum_t;

static int parse_decimal(const char *s, __int128 *out, int *scale)
{
    int neg = 0, digits = 0, frac = -1;
    __int128 v = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        /* at most 19 integer and 18 fractional digits: 10^37 fits the 128-bit total */
        if (*s < '0' || *s > '9' || (frac < 0 && digits >= 19) || frac >= 18)
            return -1;
        v = v * 10 + (*s - '0');
        digits++;
        if (frac >= 0)
            frac++;
    }
    if (!digits)
        return -1;
    int f = frac < 0 ? 0 : frac;
    for (int i = f; i < 18; i++)
        v *= 10;
    *out = neg ? -v : v;
    *scale = f;
    return 0;
}

static void sum_one(json_t *v, void *ctx)
{
    decsum_t *d = ctx;
    char buf[64];
    const char *s = buf;
    if (json_is_integer(v))
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        format_real(buf, sizeof(buf), json_real_value(v));
    else if (json_is_string(v))
        s = json_string_value(v);
    else
        s = NULL;
    __int128 x;
    int scale;
    if (d->bad || !s || parse_decimal(s, &x, &scale) != 0 || strchr(s, 'e') || strchr(s, 'E')) {
        if (!d->bad)
            d->bad_value = v;
        d->bad = 1;
        return;
    }
    if (__builtin_add_overflow(d->total, x, &d->total)) {
        d->bad_value = v;
        d->bad = 1;
        return;
    }
    if (scale > d->scale)
        d->scale = scale;
}

static const char *format_decimal(arena_t *a, __int128 v, int scale)
{
    char digits[64];
    int n = 0, neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-v) : (unsigned __int128)v;
    for (int i = 0; i < 18 - scale; i++)
        u /= 10;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u || n <= scale);
    char *out = arena_alloc(a, (size_t)n + 3), *o = out;
    if (neg)
        *o++ = '-';
    for (int i = n - 1; i >= 0; i--) {
        *o++ = digits[i];
        if (i == scale && scale > 0)
            *o++ = '.';
    }
    *o = '\0';
    return out;
}

static value_rc_t eval_sum(const value_spec_t *vs, const value_ctx_t *vc, const char **out,
                           char *errstr, size_t errsz)
{
    decsum_t d = {0, 0, 0, NULL};
    jpath_each(vs->path, vc->ev->doc, sum_one, &d);
    if (d.bad) {
        snprintf(errstr, errsz,
                 "%s: %s: every value summed must be a number or a decimal string of at most 19 "
                 "integer and 18 fractional digits, and the sum must stay in that range",
                 vs->where, jpath_text(vs->path));
        return VALUE_BAD;
    }
    *out = format_decimal(vc->arena, d.total, d.scale);
    return VALUE_OK;
}

static void count_one(json_t *v, void *ctx)
{
    (void)v;
    (*(size_t *)ctx)++;
}

static void collect_one(json_t *v, void *ctx)
{
    json_array_append(ctx, v);
}

static value_rc_t eval_meta(const value_spec_t *vs, const value_ctx_t *vc, const char **out,
                            char *errstr, size_t errsz)
{
    const mapping_event_t *ev = vc->ev;
    switch (vs->meta) {
    case META_TOPIC:
        *out = ev->topic;
        break;
    case META_PARTITION:
        *out = arena_printf_int(vc->arena, ev->partition);
        break;
    case META_OFFSET:
        *out = arena_printf_int(vc->arena, (long long)ev->offset);
        break;
    case META_TIMESTAMP: {
        if (ev->timestamp_ms < 0) {
            *out = NULL;
            break;
        }
        time_t secs = (time_t)(ev->timestamp_ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        char *p = arena_alloc(vc->arena, 40);
        size_t n = strftime(p, 40, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(p + n, 40 - n, ".%03dZ", (int)(ev->timestamp_ms % 1000));
        *out = p;
        break;
    }
    case META_KEY:
        if (!ev->key) {
            *out = NULL;
        } else if (memchr(ev->key, '\0', ev->key_len)) {
            snprintf(errstr, errsz, "%s: the message key holds a NUL byte", vs->where);
            return VALUE_BAD;
        } else {
            *out = arena_strndup(vc->arena, ev->key, ev->key_len);
        }
        break;
    case META_ATTR:
        for (size_t i = 0; i < ev->nattrs; i++)
            if (strcmp(ev->attrs[i].name, vs->attr) == 0)
                *out = ev->attrs[i].value;
        break;
    }
    return VALUE_OK;
}

value_rc_t mapping_value_eval(const value_spec_t *vs, const value_ctx_t *vc, const char **out,
                              char *errstr, size_t errstr_size)
{
    *out = NULL;
    switch (vs->kind) {
    case SRC_PATH: {
        json_t *v = jpath_get(vs->path, vc->ev->doc);
        if (!v) {
            if (vs->optional)
                return VALUE_OK;
            snprintf(errstr, errstr_size, "%s: required field %s is missing", vs->where,
                     jpath_text(vs->path));
            return VALUE_BAD;
        }
        return render(vs, v, vc->arena, out, errstr, errstr_size);
    }
    case SRC_LITERAL:
        if (vs->target == TARGET_ARRAY && json_is_array(vs->lit_value))
            return render(vs, vs->lit_value, vc->arena, out, errstr, errstr_size);
        *out = vs->target == TARGET_JSON ? vs->lit_json : vs->lit_text;
        return VALUE_OK;
    case SRC_META:
        return eval_meta(vs, vc, out, errstr, errstr_size);
    case SRC_SUM:
        return eval_sum(vs, vc, out, errstr, errstr_size);
    case SRC_COUNT: {
        size_t n = 0;
        if (jpath_is_multi(vs->path)) {
            jpath_each(vs->path, vc->ev->doc, count_one, &n);
        } else {
            json_t *v = jpath_get(vs->path, vc->ev->doc);
            n = json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0;
        }
        *out = arena_printf_int(vc->arena, (long long)n);
        return VALUE_OK;
    }
    case SRC_COLLECT: {
        json_t *arr = json_array();
        jpath_each(vs->path, vc->ev->doc, collect_one, arr);
        value_rc_t rc = render(vs, arr, vc->arena, out, errstr, errstr_size);
        json_decref(arr);
        return rc;
    }
    case SRC_LOOKUP:
        break;
    }
    snprintf(errstr, errstr_size, "%s: internal: lookup evaluated as a plain value", vs->where);
    return VALUE_BAD;
}
