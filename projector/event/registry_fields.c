/* Which fields a registered schema lets an event have: Avro records (nested records, arrays,
 * maps, unions such as ["null", T], named types referenced by name) and JSON Schema objects
 * (properties, items, local $ref, anyOf/oneOf/allOf). `check` asks it for the fields the
 * upcasters read. */
#include "registry.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct walk {
    int avro;
    json_t *root;
    json_t *names; /* Avro: full and short name -> definition */
    int depth;
} walk_t;

static void avro_names(json_t *s, const char *ns, json_t *names)
{
    size_t i;
    json_t *b;
    if (json_is_array(s)) {
        json_array_foreach(s, i, b) avro_names(b, ns, names);
        return;
    }
    if (!json_is_object(s))
        return;
    const char *name = json_string_value(json_object_get(s, "name"));
    const char *own = json_string_value(json_object_get(s, "namespace"));
    char full[512];
    if (name && json_is_string(json_object_get(s, "type"))) {
        const char *space = strchr(name, '.') ? NULL : own ? own : ns;
        snprintf(full, sizeof(full), "%s%s%s", space ? space : "", space && *space ? "." : "",
                 name);
        json_object_set(names, full, s);
        const char *dot = strrchr(full, '.');
        json_object_set(names, dot ? dot + 1 : full, s);
        ns = own ? own : ns;
    }
    json_array_foreach(json_object_get(s, "fields"), i, b)
        avro_names(json_object_get(b, "type"), ns, names);
    avro_names(json_object_get(s, "items"), ns, names);
    avro_names(json_object_get(s, "values"), ns, names);
    if (json_is_object(json_object_get(s, "type")) || json_is_array(json_object_get(s, "type")))
        avro_names(json_object_get(s, "type"), ns, names);
}

static int has(walk_t *w, json_t *s, const char *const *keys, size_t n);

/* Avro: whether schema s can hold keys[0, n). */
static int avro_has(walk_t *w, json_t *s, const char *const *keys, size_t n)
{
    if (json_is_string(s)) {
        json_t *named = json_object_get(w->names, json_string_value(s));
        return named ? has(w, named, keys, n) : 0; /* a primitive has no fields */
    }
    if (json_is_array(s)) { /* a union: any branch */
        size_t i;
        json_t *b;
        json_array_foreach(s, i, b) if (has(w, b, keys, n) == 1) return 1;
        return 0;
    }
    const char *type = json_string_value(json_object_get(s, "type"));
    if (!type)
        return has(w, json_object_get(s, "type"), keys, n);
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(s, "fields"), i, f)
        {
            const char *name = json_string_value(json_object_get(f, "name"));
            if (name && strcmp(name, keys[0]) == 0)
                return has(w, json_object_get(f, "type"), keys + 1, n - 1);
        }
        return 0;
    }
    if (strcmp(type, "array") == 0)
        return strcmp(keys[0], "*") == 0 ? has(w, json_object_get(s, "items"), keys + 1, n - 1) : 0;
    if (strcmp(type, "map") == 0)
        return has(w, json_object_get(s, "values"), keys + 1, n - 1);
    json_t *named = json_object_get(w->names, type);
    return named && named != s ? has(w, named, keys, n) : 0;
}

/* JSON Schema: whether schema s can hold keys[0, n); 1 as well where it does not say (an object
 * without properties). */
static int json_has(walk_t *w, json_t *s, const char *const *keys, size_t n)
{
    if (!json_is_object(s))
        return 1; /* true, or no schema: anything */
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    if (ref && strncmp(ref, "#/", 2) == 0) {
        json_t *at = w->root;
        char part[256];
        for (const char *p = ref + 2; *p && at;) {
            size_t k = strcspn(p, "/");
            snprintf(part, sizeof(part), "%.*s", (int)k, p);
            at = json_object_get(at, part);
            p += k + (p[k] == '/');
        }
        return at ? has(w, at, keys, n) : 1;
    }
    static const char *const comb[] = {"anyOf", "oneOf", "allOf"};
    for (size_t c = 0; c < 3; c++) {
        json_t *list = json_object_get(s, comb[c]);
        size_t i;
        json_t *b;
        if (!json_is_array(list))
            continue;
        int any = 0;
        json_array_foreach(list, i, b) any |= has(w, b, keys, n) == 1;
        if (any || !json_object_get(s, "properties"))
            return any;
    }
    const char *type = json_string_value(json_object_get(s, "type"));
    if (type && strcmp(type, "object") != 0 && strcmp(type, "array") != 0)
        return 0; /* a string, a number, null: no fields */
    if (type && strcmp(type, "array") == 0 && strcmp(keys[0], "*") != 0)
        return 0;
    if (strcmp(keys[0], "*") == 0)
        return json_object_get(s, "items") ? has(w, json_object_get(s, "items"), keys + 1, n - 1)
                                           : !json_object_get(s, "properties");
    json_t *props = json_object_get(s, "properties");
    if (!json_is_object(props))
        return 1;
    json_t *p = json_object_get(props, keys[0]);
    return p ? has(w, p, keys + 1, n - 1) : 0;
}

static int has(walk_t *w, json_t *s, const char *const *keys, size_t n)
{
    if (n == 0)
        return 1;
    if (!s || ++w->depth > 64) /* a recursive type: say it can */
        return 1;
    int r = w->avro ? avro_has(w, s, keys, n) : json_has(w, s, keys, n);
    w->depth--;
    return r;
}

/* The top level for an event of type type: a union's record branch named type (full name or
 * the last part of it), else the schema. */
static json_t *top_for(walk_t *w, json_t *s, const char *type)
{
    size_t i;
    json_t *b;
    if (!w->avro || !json_is_array(s))
        return s;
    json_array_foreach(s, i, b)
    {
        json_t *def = json_is_string(b) ? json_object_get(w->names, json_string_value(b)) : b;
        const char *name = json_string_value(json_object_get(def, "name"));
        const char *dot = name ? strrchr(name, '.') : NULL;
        if (name && (strcmp(name, type) == 0 || (dot && strcmp(dot + 1, type) == 0)))
            return def;
    }
    return s;
}

int registry_schema_has(const char *schema_type, const char *text, const char *event_type,
                        const char *const *keys, size_t n)
{
    walk_t w = {strcmp(schema_type, "AVRO") == 0, NULL, json_object(), 0};
    if (!w.avro && strcmp(schema_type, "JSON") != 0) {
        json_decref(w.names);
        return -1; /* Protobuf: not read here */
    }
    w.root = json_loads(text, JSON_DECODE_ANY, NULL);
    int r = -1;
    if (w.root) {
        if (w.avro)
            avro_names(w.root, NULL, w.names);
        r = has(&w, top_for(&w, w.root, event_type), keys, n);
    }
    json_decref(w.root);
    json_decref(w.names);
    return r;
}
