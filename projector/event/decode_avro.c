/* The Schema Registry wire format with Avro payloads ("registry-avro"): magic byte 0, the
 * schema id, then an Avro binary datum, decoded with avro-c and the writer's schema (fetched
 * from the registry once per id) into the JSON object the mapping reads.
 *
 * avro-c reads the datum but knows nothing of logical types, so the conversion walks the
 * value and the schema's JSON side by side: records become objects, maps objects, arrays
 * arrays, a union the value of its branch (null as null), an enum its symbol; bytes and fixed
 * become base64 text; decimal (bytes or fixed) an exact decimal string with the schema's scale,
 * date "YYYY-MM-DD", timestamp-millis and -micros RFC 3339 UTC text with 3 or 6 fraction
 * digits, uuid its string (a fixed(16) uuid its 8-4-4-4-12 hex form). */
#include "decode_avro.h"
#include "decode.h"
#include "decode_registry.h"

#include <avro.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_alloc.h"

/* avro-c allocates what a datum claims before reading it (a string's length, an array's
 * count), so a few corrupt bytes could ask for gigabytes. While a datum is read, the thread's
 * limit refuses any single allocation larger than what that many bytes can legitimately hold;
 * avro-c then reports the datum as undecodable. Outside a read (0) nothing is limited. */
static _Thread_local size_t alloc_limit;
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void *guarded_alloc(void *user_data, void *ptr, size_t osize, size_t nsize)
{
    (void)user_data;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return alloc_limit && nsize > alloc_limit ? NULL : realloc(ptr, nsize);
}

static void alloc_install(void)
{
    avro_set_allocator(guarded_alloc, NULL);
}

struct avro_json_schema {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    json_t *json;  /* the schema's JSON: logical types, fields, branches */
    json_t *names; /* full and short name -> the definition of each named type */
};

/* Where a conversion is (a JSON path for messages) and what went wrong. */
typedef struct conv {
    const avro_json_schema_t *s;
    char path[256];
    size_t plen;
    char err[256];
} conv_t;

/* ---- the schema's JSON ---- */

static void collect_names(json_t *s, const char *ns, json_t *names);

static void collect_named(json_t *s, const char *ns, json_t *names)
{
    const char *name = json_string_value(json_object_get(s, "name"));
    const char *own = json_string_value(json_object_get(s, "namespace"));
    char full[512];
    if (name) {
        const char *space = strchr(name, '.') ? NULL : own ? own : ns;
        snprintf(full, sizeof(full), "%s%s%s", space ? space : "", space && *space ? "." : "",
                 name);
        json_object_set(names, full, s);
        const char *dot = strrchr(full, '.');
        if (!json_object_get(names, dot ? dot + 1 : full))
            json_object_set(names, dot ? dot + 1 : full, s);
        if (dot) {
            full[dot - full] = '\0';
            ns = full;
        } else {
            ns = NULL;
        }
    }
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(s, "fields"), i, f)
        collect_names(json_object_get(f, "type"), ns, names);
    collect_names(json_object_get(s, "items"), ns, names);
    collect_names(json_object_get(s, "values"), ns, names);
}

/* Records every named type (record, enum, fixed) under s in names. */
static void collect_names(json_t *s, const char *ns, json_t *names)
{
    size_t i;
    json_t *b;
    if (json_is_array(s))
        json_array_foreach(s, i, b) collect_names(b, ns, names);
    else if (json_is_object(s))
        collect_named(s, ns, names);
}

/* The definition s names: a named type's, or s itself. */
static const json_t *resolve(const conv_t *c, const json_t *s)
{
    const json_t *named =
        json_is_string(s) ? json_object_get(c->s->names, json_string_value(s)) : NULL;
    return named ? named : s;
}

/* The definition of schema s: a named type's, that of {"type": "SomeNamedType"}, or s. */
static const json_t *definition(const conv_t *c, const json_t *s)
{
    s = resolve(c, s);
    if (json_is_object(s) && !json_is_string(json_object_get(s, "name")) &&
        json_is_string(json_object_get(s, "type")) &&
        json_object_get(c->s->names, json_string_value(json_object_get(s, "type"))))
        s = resolve(c, json_object_get(s, "type"));
    return s;
}

static const char *logical_of(const json_t *s)
{
    return json_string_value(json_object_get(s, "logicalType"));
}

avro_json_schema_t *avro_json_schema_new(const char *text, char *errstr, size_t errstr_size)
{
    pthread_once(&alloc_once, alloc_install);
    arena_t *scope = json_alloc_use(NULL); /* kept for the process, not the batch */
    avro_json_schema_t *s = calloc(1, sizeof(*s));
    if (!s || avro_schema_from_json_length(text, strlen(text), &s->schema) != 0) {
        snprintf(errstr, errstr_size, "the writer's schema is not an Avro schema: %s",
                 avro_strerror());
        free(s);
        json_alloc_use(scope);
        return NULL;
    }
    s->iface = avro_generic_class_from_schema(s->schema);
    s->json = json_loads(text, JSON_DECODE_ANY, NULL);
    s->names = json_object();
    collect_names(s->json, NULL, s->names);
    json_alloc_use(scope);
    if (!s->iface || !s->json) {
        snprintf(errstr, errstr_size, "avro-c cannot read with the writer's schema: %s",
                 avro_strerror());
        avro_json_schema_destroy(s);
        return NULL;
    }
    return s;
}

void avro_json_schema_destroy(avro_json_schema_t *s)
{
    if (!s)
        return;
    arena_t *scope = json_alloc_use(NULL);
    if (s->iface)
        avro_value_iface_decref(s->iface);
    avro_schema_decref(s->schema);
    json_decref(s->json);
    json_decref(s->names);
    json_alloc_use(scope);
    free(s);
}

/* ---- texts of logical types ---- */

/* Days since 1970-01-01 as a civil date (Howard Hinnant's days_from_civil, inverted). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static json_t *date_text(int64_t days)
{
    int64_t y;
    int m, d;
    char buf[32];
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, sizeof(buf), "%04" PRId64 "-%02d-%02d", y, m, d);
    return json_string(buf);
}

/* t units of 1/per second since the epoch as RFC 3339 UTC text with digits fraction digits. */
static json_t *timestamp_text(int64_t t, int64_t per, int digits)
{
    int64_t secs = t / per, frac = t % per;
    if (frac < 0) {
        frac += per;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    char buf[64];
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, sizeof(buf), "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%0*" PRId64 "Z", y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), digits, frac);
    return json_string(buf);
}

/* A big-endian two's complement integer of len bytes, with scale digits after the point, as
 * exact decimal text; NULL when longer than 64 bytes. */
static json_t *decimal_text(const unsigned char *b, size_t len, int scale)
{
    unsigned char mag[64];
    char digits[200];
    size_t n = 0;
    if (len > sizeof(mag) || scale < 0 || scale > 100)
        return NULL;
    int neg = len && (b[0] & 0x80);
    unsigned carry = 1;
    for (size_t i = len; i-- > 0;) { /* the magnitude: negated when negative */
        unsigned v = neg ? (unsigned)(unsigned char)~b[i] + carry : b[i];
        carry = neg ? v >> 8 : 0;
        mag[i] = (unsigned char)v;
    }
    for (int nonzero = 1; nonzero;) { /* divide by 10 until nothing is left */
        unsigned rem = 0;
        nonzero = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned cur = rem << 8 | mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            nonzero |= mag[i];
        }
        digits[n++] = (char)('0' + rem);
    }
    while (n <= (size_t)scale) /* at least one digit before the point */
        digits[n++] = '0';
    char out[256];
    size_t o = 0;
    int zero = 1;
    for (size_t i = 0; i < n; i++)
        zero &= digits[i] == '0';
    if (neg && !zero)
        out[o++] = '-';
    for (size_t i = n; i-- > 0;) {
        out[o++] = digits[i];
        if (i == (size_t)scale && scale > 0)
            out[o++] = '.';
    }
    out[o - (scale > 0 && out[o - 1] == '.')] = '\0';
    return json_string(out);
}

static json_t *base64_text(const unsigned char *b, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((len + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < len ? (uint32_t)b[i + 1] << 8 : 0) |
                     (i + 2 < len ? b[i + 2] : 0);
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    json_t *j = json_string(out);
    free(out);
    return j;
}

static json_t *uuid_text(const unsigned char *b)
{
    char buf[40];
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%02x", b[i]);
    }
    return json_string(buf);
}

/* ---- values ---- */

static json_t *fail_at(conv_t *c, const char *what)
{
    if (!*c->err)
        snprintf(c->err, sizeof(c->err), "%.*s: %s", (int)c->plen, c->path, what);
    return NULL;
}

static json_t *convert(conv_t *c, avro_value_t *v, const json_t *s);

/* Appends path segment seg (".name", "[i]") to c's path; returns the length to restore. */
static size_t path_push(conv_t *c, const char *seg)
{
    size_t was = c->plen;
    int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s", seg);
    c->plen = n > 0 && (size_t)n < sizeof(c->path) - c->plen ? c->plen + (size_t)n : was;
    return was;
}

/* Converts child (schema s) at path segment seg. */
static json_t *convert_child(conv_t *c, avro_value_t *child, const json_t *s, const char *seg)
{
    size_t was = path_push(c, seg);
    json_t *j = convert(c, child, s);
    c->plen = was;
    return j;
}

static json_t *convert_record(conv_t *c, avro_value_t *v, const json_t *s)
{
    json_t *obj = json_object(), *fields = json_object_get(s, "fields");
    size_t n = 0;
    avro_value_get_size(v, &n);
    for (size_t i = 0; i < n; i++) {
        avro_value_t child;
        const char *name = NULL;
        char seg[160];
        if (avro_value_get_by_index(v, i, &child, &name) != 0)
            return json_decref(obj), fail_at(c, "a field avro-c cannot read");
        snprintf(seg, sizeof(seg), ".%s", name);
        json_t *f =
            convert_child(c, &child, json_object_get(json_array_get(fields, i), "type"), seg);
        if (!f)
            return json_decref(obj), NULL;
        json_object_set_new(obj, name, f);
    }
    return obj;
}

/* A map (is_map) or an array. */
static json_t *convert_collection(conv_t *c, avro_value_t *v, const json_t *s, int is_map)
{
    json_t *out = is_map ? json_object() : json_array();
    const json_t *elem = json_object_get(s, is_map ? "values" : "items");
    size_t n = 0;
    avro_value_get_size(v, &n);
    for (size_t i = 0; i < n; i++) {
        avro_value_t child;
        const char *key = NULL;
        char seg[160];
        if (avro_value_get_by_index(v, i, &child, &key) != 0)
            return json_decref(out), fail_at(c, "an element avro-c cannot read");
        if (is_map)
            snprintf(seg, sizeof(seg), "[\"%s\"]", key);
        else
            snprintf(seg, sizeof(seg), "[%zu]", i);
        json_t *j = convert_child(c, &child, elem, seg);
        if (!j)
            return json_decref(out), NULL;
        if (is_map)
            json_object_set_new(out, key, j);
        else
            json_array_append_new(out, j);
    }
    return out;
}

/* bytes or fixed: a decimal, a uuid (fixed 16) or base64. */
static json_t *convert_bytes(conv_t *c, const void *buf, size_t size, const json_t *s)
{
    const char *lt = logical_of(s);
    if (lt && strcmp(lt, "decimal") == 0) {
        json_t *j = decimal_text(buf, size, (int)json_integer_value(json_object_get(s, "scale")));
        return j ? j : fail_at(c, "a decimal of more than 64 bytes or a scale over 100");
    }
    if (lt && strcmp(lt, "uuid") == 0 && size == 16)
        return uuid_text(buf);
    return base64_text(buf, size);
}

/* int and long, with their logical types. */
static json_t *convert_integer(int64_t x, const json_t *s)
{
    const char *lt = logical_of(s);
    if (lt && strcmp(lt, "date") == 0)
        return date_text(x);
    if (lt && strcmp(lt, "timestamp-millis") == 0)
        return timestamp_text(x, 1000, 3);
    if (lt && strcmp(lt, "timestamp-micros") == 0)
        return timestamp_text(x, 1000000, 6);
    return json_integer(x);
}

static json_t *convert_scalar(conv_t *c, avro_value_t *v, const json_t *s)
{
    const void *buf = NULL;
    size_t size = 0;
    int32_t i32 = 0;
    int64_t i64 = 0;
    double d = 0;
    float f = 0;
    int b = 0;
    switch (avro_value_get_type(v)) {
    case AVRO_STRING: {
        const char *str = "";
        avro_value_get_string(v, &str, &size);
        json_t *j = json_stringn(str, size ? size - 1 : 0);
        return j ? j : fail_at(c, "a string that is not UTF-8");
    }
    case AVRO_BYTES:
        avro_value_get_bytes(v, &buf, &size);
        return convert_bytes(c, buf, size, s);
    case AVRO_FIXED:
        avro_value_get_fixed(v, &buf, &size);
        return convert_bytes(c, buf, size, s);
    case AVRO_INT32:
        avro_value_get_int(v, &i32);
        return convert_integer(i32, s);
    case AVRO_INT64:
        avro_value_get_long(v, &i64);
        return convert_integer(i64, s);
    case AVRO_FLOAT:
        avro_value_get_float(v, &f);
        return isfinite(f) ? json_real(f) : fail_at(c, "a float that is not a finite number");
    case AVRO_DOUBLE:
        avro_value_get_double(v, &d);
        return isfinite(d) ? json_real(d) : fail_at(c, "a double that is not a finite number");
    case AVRO_BOOLEAN:
        avro_value_get_boolean(v, &b);
        return json_boolean(b);
    case AVRO_NULL:
        return json_null();
    default:
        return fail_at(c, "an Avro type the projector does not read");
    }
}

static json_t *convert(conv_t *c, avro_value_t *v, const json_t *s)
{
    s = definition(c, s);
    switch (avro_value_get_type(v)) {
    case AVRO_RECORD:
        return convert_record(c, v, s);
    case AVRO_MAP:
        return convert_collection(c, v, s, 1);
    case AVRO_ARRAY:
        return convert_collection(c, v, s, 0);
    case AVRO_ENUM: {
        int idx = 0;
        avro_value_get_enum(v, &idx);
        const char *sym = avro_schema_enum_get(avro_value_get_schema(v), idx);
        return sym ? json_string(sym) : fail_at(c, "an enum index past its symbols");
    }
    case AVRO_UNION: {
        int disc = 0;
        avro_value_t branch;
        if (avro_value_get_discriminant(v, &disc) != 0 ||
            avro_value_get_current_branch(v, &branch) != 0)
            return fail_at(c, "a union without a branch");
        return convert(c, &branch, json_array_get(s, (size_t)disc));
    }
    default:
        return convert_scalar(c, v, s);
    }
}

/* ---- checking a datum before avro-c reads it ----
 *
 * avro-c allocates what a datum claims (a length, a count) before reading it and does not free
 * it when the read then fails, so a corrupt datum would leak. The datum is first walked against
 * the schema's JSON (lengths within the payload, union and enum indexes in range, counts
 * bounded, nothing left over): avro-c only reads datums that are whole, and a refusal names
 * the path. */

typedef struct walk {
    const unsigned char *p, *end;
    size_t elems, max_elems; /* array and map elements so far, and the most allowed */
} walk_t;

static int walk_fail(conv_t *c, const char *what)
{
    fail_at(c, what);
    return -1;
}

/* Reads a zigzag varint (int, long, lengths, counts, indexes). */
static int walk_long(conv_t *c, walk_t *w, int64_t *out)
{
    uint64_t u = 0;
    for (int shift = 0;; shift += 7) {
        if (w->p >= w->end)
            return walk_fail(c, "cut short");
        if (shift > 63)
            return walk_fail(c, "a number longer than 10 bytes");
        unsigned char b = *w->p++;
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

static int walk_skip(conv_t *c, walk_t *w, int64_t n)
{
    if (n < 0 || n > w->end - w->p)
        return walk_fail(c, n < 0 ? "a negative length" : "a length past the payload's end");
    w->p += n;
    return 0;
}

static int walk(conv_t *c, walk_t *w, const json_t *s);

/* Walks an array (items) or a map (values): blocks of a count (negative: followed by the
 * block's size in bytes), the last one empty. */
static int walk_blocks(conv_t *c, walk_t *w, const json_t *elem, int is_map)
{
    for (int64_t count, size;;) {
        if (walk_long(c, w, &count) != 0)
            return -1;
        if (count == 0)
            return 0;
        if (count < 0 && (count == INT64_MIN || walk_long(c, w, &size) != 0))
            return count == INT64_MIN ? walk_fail(c, "a block count out of range") : -1;
        count = count < 0 ? -count : count;
        if ((uint64_t)count > w->max_elems - w->elems)
            return walk_fail(c, "more array or map elements than the payload can hold");
        w->elems += (size_t)count;
        for (int64_t i = 0; i < count; i++) {
            int64_t klen;
            if (is_map && (walk_long(c, w, &klen) != 0 || walk_skip(c, w, klen) != 0))
                return -1;
            if (walk(c, w, elem) != 0)
                return -1;
        }
    }
}

/* An index into the count entries of a union or an enum. */
static int walk_index(conv_t *c, walk_t *w, size_t count, int64_t *idx, const char *what)
{
    if (walk_long(c, w, idx) != 0)
        return -1;
    return *idx >= 0 && (uint64_t)*idx < count ? 0 : walk_fail(c, what);
}

static int walk_record(conv_t *c, walk_t *w, const json_t *s)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(s, "fields"), i, f)
    {
        char seg[160];
        snprintf(seg, sizeof(seg), ".%s", json_string_value(json_object_get(f, "name")));
        size_t was = path_push(c, seg);
        int rc = walk(c, w, json_object_get(f, "type"));
        c->plen = was;
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int walk(conv_t *c, walk_t *w, const json_t *s)
{
    s = definition(c, s);
    int64_t n;
    if (json_is_array(s))
        return walk_index(c, w, json_array_size(s), &n, "a union branch past the union") != 0
                   ? -1
                   : walk(c, w, json_array_get(s, (size_t)n));
    const char *t =
        json_is_string(s) ? json_string_value(s) : json_string_value(json_object_get(s, "type"));
    if (!t)
        return walk_fail(c, "a schema the projector does not read");
    if (strcmp(t, "null") == 0)
        return 0;
    if (strcmp(t, "boolean") == 0)
        return walk_skip(c, w, 1);
    if (strcmp(t, "int") == 0 || strcmp(t, "long") == 0)
        return walk_long(c, w, &n);
    if (strcmp(t, "float") == 0 || strcmp(t, "double") == 0)
        return walk_skip(c, w, t[0] == 'f' ? 4 : 8);
    if (strcmp(t, "bytes") == 0 || strcmp(t, "string") == 0)
        return walk_long(c, w, &n) != 0 ? -1 : walk_skip(c, w, n);
    if (strcmp(t, "fixed") == 0)
        return walk_skip(c, w, json_integer_value(json_object_get(s, "size")));
    if (strcmp(t, "enum") == 0)
        return walk_index(c, w, json_array_size(json_object_get(s, "symbols")), &n,
                          "an enum index past its symbols");
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0)
        return walk_blocks(c, w, json_object_get(s, t[0] == 'm' ? "values" : "items"), t[0] == 'm');
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0)
        return walk_record(c, w, s);
    return walk_fail(c, "an Avro type the projector does not read");
}

json_t *avro_json_decode(const avro_json_schema_t *s, const void *data, size_t len, char *errstr,
                         size_t errstr_size)
{
    conv_t c = {.s = s, .path = "$", .plen = 1};
    walk_t w = {data, (const unsigned char *)data + len, 0, (len + 1) * 16};
    if (walk(&c, &w, s->json) != 0 || w.p != w.end) {
        snprintf(errstr, errstr_size, "the payload does not decode with the writer's schema: %s",
                 *c.err ? c.err : "bytes left over after the datum");
        return NULL;
    }
    avro_value_t v;
    if (avro_generic_value_new(s->iface, &v) != 0) {
        snprintf(errstr, errstr_size, "avro-c: %s", avro_strerror());
        return NULL;
    }
    avro_reader_t r = avro_reader_memory(data, (int64_t)len);
    json_t *j = NULL;
    alloc_limit = 64 * len + 65536;
    int rc = avro_value_read(r, &v);
    alloc_limit = 0;
    if (rc != 0) {
        snprintf(errstr, errstr_size, "the payload does not decode with the writer's schema: %s",
                 avro_strerror());
    } else if (avro_skip(r, 1) == 0) { /* avro_reader_is_eof() is for files only */
        snprintf(errstr, errstr_size,
                 "the payload does not decode with the writer's schema: bytes left over after "
                 "the datum");
    } else {
        j = convert(&c, &v, s->json);
        if (!j)
            snprintf(errstr, errstr_size, "%s", c.err);
    }
    avro_reader_free(r);
    avro_value_decref(&v);
    return j;
}

static void *make_schema(const char *text, char *errstr, size_t errstr_size)
{
    return avro_json_schema_new(text, errstr, errstr_size);
}

void event_decode_registry_avro(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    size_t at;
    const registry_schema_t *rs = event_registry_schema(e, msg, "AVRO", &at, arena);
    if (!rs)
        return;
    char err[512];
    const avro_json_schema_t *s = registry_schema_parsed(rs, make_schema, err, sizeof(err));
    if (!s) {
        event_decode_fail(e, arena, "schema id %d: %s", rs->id, err);
        return;
    }
    json_t *doc =
        avro_json_decode(s, (const char *)msg->value + at, msg->len - at, err, sizeof(err));
    if (!doc) {
        event_decode_fail(e, arena, "schema id %d: %s", rs->id, err);
    } else if (!json_is_object(doc)) {
        event_decode_fail(e, arena, "schema id %d: the Avro value is not a record", rs->id);
        json_decref(doc);
    } else {
        e->ev.doc = doc;
    }
}
