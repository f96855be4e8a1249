/* The CloudEvents 1.0 format, Kafka protocol binding: binary mode (the attributes in ce_*
 * headers, the value is the data) and structured mode (content-type application/cloudevents+json:
 * the value is the envelope, its data in "data" or "data_base64"). The mapping's paths read the
 * data, a JSON object; the event type is the "type" attribute; every attribute is readable as
 * {"meta": "ce.<attribute>"}. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode.h"
#include "event_msg.h"
#include "json_alloc.h"

/* The attributes every event has (CloudEvents 1.0, "Required Attributes"). */
static const char *const required[] = {"specversion", "id", "source", "type"};

#define STRUCTURED_TYPE "application/cloudevents+json"
#define BATCH_TYPE "application/cloudevents-batch+json"

/* Attributes collected into the arena as the event's attrs, "ce.<name>" = value. */
typedef struct attrs {
    mapping_attr_t *a;
    size_t n, cap;
} attrs_t;

static void attr_add(attrs_t *at, const char *name, const char *value, size_t len, arena_t *arena)
{
    if (at->n == at->cap) {
        size_t cap = at->cap ? 2 * at->cap : 16;
        mapping_attr_t *a = arena_alloc(arena, cap * sizeof(*a));
        if (at->n)
            memcpy(a, at->a, at->n * sizeof(*a));
        at->a = a;
        at->cap = cap;
    }
    char *n = arena_alloc(arena, strlen(name) + 4);
    memcpy(n, "ce.", 3);
    strcpy(n + 3, name);
    at->a[at->n].name = n;
    at->a[at->n].value = arena_strndup(arena, value, len);
    at->n++;
}

static const char *attr_get(const attrs_t *at, const char *name)
{
    for (size_t i = at->n; i-- > 0;)
        if (strcmp(at->a[i].name + 3, name) == 0)
            return at->a[i].value;
    return NULL;
}

/* A mode of the binding, as messages name it: where its attributes are. */
typedef struct ce_mode {
    const char *name;
    const char *place; /* what precedes an attribute's name where it is: "header ce_", "$." */
} ce_mode_t;

static const ce_mode_t binary = {"binary", "header ce_"};
static const ce_mode_t structured = {"structured", "$."};

/* Checks the required attributes and sets e's type and attrs; 0, or -1 with e dead. */
static int finish_attrs(event_t *e, const attrs_t *at, const ce_mode_t *mode, arena_t *arena)
{
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const char *v = attr_get(at, required[i]);
        if (!v || !*v) {
            event_decode_fail(e, arena,
                              "CloudEvents %s mode: the required attribute %s is missing (%s%s)",
                              mode->name, required[i], mode->place, required[i]);
            return -1;
        }
    }
    const char *sv = attr_get(at, "specversion");
    if (strcmp(sv, "1.0") != 0) {
        event_decode_fail(e, arena, "CloudEvents %s mode: specversion \"%s\" is not 1.0",
                          mode->name, sv);
        return -1;
    }
    e->ev.type_header = attr_get(at, "type");
    e->ev.attrs = at->a;
    e->ev.nattrs = at->n;
    return 0;
}

/* Binary mode: attributes from the ce_ headers (and datacontenttype from content-type). */
static void decode_binary(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    attrs_t at = {NULL, 0, 0};
    const char *name;
    const void *v;
    size_t len;
    const event_headers_t *h = msg->headers;
    for (size_t i = 0; h && h->at(h->ctx, i, &name, &v, &len) == 0; i++) {
        if (!v)
            continue;
        if (strncmp(name, "ce_", 3) == 0 && name[3])
            attr_add(&at, name + 3, v, len, arena);
        else if (strcasecmp(name, "content-type") == 0)
            attr_add(&at, "datacontenttype", v, len, arena);
    }
    if (finish_attrs(e, &at, &binary, arena) != 0)
        return;
    e->ev.doc = event_decode_object(e, "CloudEvents binary mode: the data (the value)", msg->value,
                                    msg->len, arena);
}

static int b64_digit(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 s (standard alphabet, padding optional) into a malloc'd buffer (*n bytes);
 * NULL when s is not base64. */
static unsigned char *b64_decode(const char *s, size_t len, size_t *n)
{
    while (len && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return NULL;
    unsigned char *out = malloc(len / 4 * 3 + 3);
    unsigned bits = 0;
    int nbits = 0;
    *n = 0;
    for (size_t i = 0; out && i < len; i++) {
        int d = b64_digit((unsigned char)s[i]);
        if (d < 0) {
            free(out);
            return NULL;
        }
        bits = (bits << 6) | (unsigned)d;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[(*n)++] = (unsigned char)(bits >> nbits);
            bits &= (1u << nbits) - 1;
        }
    }
    return out;
}

/* The data of a structured envelope: "data" (a JSON object) or "data_base64" (base64 of JSON). */
static json_t *structured_data(event_t *e, json_t *env, arena_t *arena)
{
    json_t *data = json_object_get(env, "data"), *b64 = json_object_get(env, "data_base64");
    if (data && b64) {
        event_decode_fail(e, arena, "CloudEvents structured mode: both data and data_base64");
        return NULL;
    }
    if (data) {
        if (json_is_object(data))
            return json_incref(data);
        event_decode_fail(e, arena, "CloudEvents structured mode: $.data is not a JSON object");
        return NULL;
    }
    if (!json_is_string(b64)) {
        event_decode_fail(e, arena, "CloudEvents structured mode: %s",
                          b64 ? "$.data_base64 is not a string" : "no data or data_base64");
        return NULL;
    }
    size_t n;
    unsigned char *bytes = b64_decode(json_string_value(b64), json_string_length(b64), &n);
    if (!bytes) {
        event_decode_fail(e, arena, "CloudEvents structured mode: $.data_base64 is not base64");
        return NULL;
    }
    json_t *j = event_decode_object(e, "CloudEvents structured mode: the decoded $.data_base64",
                                    bytes, n, arena);
    free(bytes);
    return j;
}

/* Structured mode: the value is the envelope. */
static void decode_structured(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    json_t *env = event_decode_object(e, "CloudEvents structured mode: the envelope (the value)",
                                      msg->value, msg->len, arena);
    if (!env)
        return;
    attrs_t at = {NULL, 0, 0};
    const char *k;
    json_t *v;
    json_object_foreach(env, k, v)
    {
        if (strcmp(k, "data") == 0 || strcmp(k, "data_base64") == 0 || json_is_null(v))
            continue;
        if (json_is_string(v)) {
            attr_add(&at, k, json_string_value(v), json_string_length(v), arena);
        } else {
            size_t n;
            const char *text = json_alloc_text(v, JSON_COMPACT | JSON_ENCODE_ANY, arena, &n);
            attr_add(&at, k, text, n, arena);
        }
    }
    if (finish_attrs(e, &at, &structured, arena) == 0)
        e->ev.doc = structured_data(e, env, arena);
    json_decref(env);
}

/* 1 when content type ct (may be NULL) starts with the media type mt, case aside. */
static int is_media(const char *ct, const char *mt)
{
    size_t n = strlen(mt);
    while (ct && isspace((unsigned char)*ct))
        ct++;
    return ct && strncasecmp(ct, mt, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

void event_decode_cloudevents(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    const char *ct = event_header(msg->headers, "content-type", arena);
    if (is_media(ct, BATCH_TYPE))
        event_decode_fail(e, arena, "CloudEvents batch mode (%s) is not supported", BATCH_TYPE);
    else if (is_media(ct, STRUCTURED_TYPE))
        decode_structured(e, msg, arena);
    else
        decode_binary(e, msg, arena);
}
