/* A mapping's "versions" and "upcasters": parse them and check them (versions, gaps, types,
 * steps), reporting each problem with the file and its JSON path. mapping_upcast_eval.c applies
 * them.
 *
 * A chain cannot loop: an upcaster turns version V of a type into V + 1 and versions only go up,
 * below the type's current version, so an event takes at most (current - its version) steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_upcast_internal.h"
#include "xalloc.h"

typedef struct up_pctx {
    const char *file;
    errlist_t *errs;
    json_t *events; /* the mapping's "events": the types it names */
    struct mapping_upcast *u;
} up_pctx_t;

/* ---- fields and values ---- */

static void field_free(up_field_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->keys[i]);
    free(f->keys);
    free(f->text);
    memset(f, 0, sizeof(*f));
}

/* Parses "$.a.b" (object keys only: a step writes and removes fields) into f. */
static int field_parse(up_field_t *f, json_t *j, const up_pctx_t *pc, const char *where)
{
    const char *s = json_string_value(j);
    memset(f, 0, sizeof(*f));
    if (!s || strncmp(s, "$.", 2) != 0 || strpbrk(s, "[]*\"' ") || strstr(s, "..") ||
        s[strlen(s) - 1] == '.') {
        errlist_add(
            pc->errs, pc->file, where,
            "expected a field path of object keys, such as \"$.total\" or \"$.customer.id\"");
        return -1;
    }
    f->text = xstrdup(s);
    for (const char *p = s + 2; *p;) {
        size_t n = strcspn(p, ".");
        f->keys = xrealloc(f->keys, (f->n + 1) * sizeof(char *));
        f->keys[f->n++] = xstrndup(p, n);
        p += n + (p[n] == '.');
    }
    return 0;
}

/* 1 when a and b name the same field, or one lies inside the other. */
static int field_overlaps(const up_field_t *a, const up_field_t *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a->keys[i], b->keys[i]) != 0)
            return 0;
    return a->n && b->n;
}

static void value_free(up_value_t *v)
{
    mapping_value_free(&v->spec);
    for (size_t i = 0; i < v->nargs; i++)
        value_free(&v->args[i]);
    free(v->args);
    free(v->where);
    memset(v, 0, sizeof(*v));
}

static const struct {
    const char *name;
    up_value_kind_t kind;
} computed[] = {{"multiply", UPV_MULTIPLY}, {"divide", UPV_DIVIDE}, {"concat", UPV_CONCAT}};

static int value_parse(up_value_t *v, json_t *j, const up_pctx_t *pc, const char *where);

/* Parses {"multiply"|"divide": [a, b], "scale": n} or {"concat": [a, ...]} at where. */
static int computed_parse(up_value_t *v, json_t *j, json_t *args, const up_pctx_t *pc,
                          const char *where)
{
    json_t *scale = json_object_get(j, "scale");
    int arith = v->kind != UPV_CONCAT;
    size_t want = json_object_size(j) - (arith && scale ? 1 : 0);
    if (!json_is_array(args) || json_array_size(args) < 2 ||
        (arith && json_array_size(args) != 2) || want != 1) {
        errlist_add(pc->errs, pc->file, where,
                    arith ? "expected {\"multiply\" or \"divide\": [a, b]} with an optional "
                            "\"scale\" (fractional digits)"
                          : "expected {\"concat\": [a, b, ...]}: two values or more");
        return -1;
    }
    v->scale = -1;
    if (scale && (!json_is_integer(scale) || json_integer_value(scale) < 0 ||
                  json_integer_value(scale) > 18)) {
        errlist_add(pc->errs, pc->file, where, "\"scale\" is a number of digits, 0 to 18");
        return -1;
    }
    if (scale)
        v->scale = (int)json_integer_value(scale);
    v->args = xcalloc(json_array_size(args), sizeof(up_value_t));
    int rc = 0;
    for (size_t i = 0; i < json_array_size(args); i++, v->nargs++) {
        char w[512];
        snprintf(w, sizeof(w), "%s.%s[%zu]", where, computed[v->kind - UPV_MULTIPLY].name, i);
        if (value_parse(&v->args[i], json_array_get(args, i), pc, w) != 0)
            rc = -1;
    }
    return rc;
}

/* Parses a value at where: a computed one, or any value of the mapping's language but a
 * lookup (upcasting sees the event alone). */
static int value_parse(up_value_t *v, json_t *j, const up_pctx_t *pc, const char *where)
{
    memset(v, 0, sizeof(*v));
    v->where = xstrdup(where);
    for (size_t i = 0; json_is_object(j) && i < sizeof(computed) / sizeof(computed[0]); i++) {
        json_t *args = json_object_get(j, computed[i].name);
        if (args) {
            v->kind = computed[i].kind;
            return computed_parse(v, j, args, pc, where);
        }
    }
    v->kind = UPV_VALUE;
    return mapping_value_parse(&v->spec, j, pc->file, where, NULL, NULL, pc->errs);
}

/* ---- steps ---- */

static void steps_free(up_step_t *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        up_step_t *s = &steps[i];
        free(s->where);
        field_free(&s->field);
        field_free(&s->to);
        value_free(&s->val);
        free(s->type);
        for (size_t p = 0; p < s->nparts; p++) {
            free(s->parts[p].type);
            steps_free(s->parts[p].steps, s->parts[p].nsteps);
        }
        free(s->parts);
    }
    free(steps);
}

/* 1 when type is one the mapping's events name. */
static int named(const up_pctx_t *pc, const char *type)
{
    return json_object_get(pc->events, type) != NULL;
}

static int steps_parse(up_step_t **out, size_t *nout, json_t *list, const up_pctx_t *pc,
                       const char *where, int in_part);

/* Parses a split's parts (j, at where): two or more, of distinct event types. */
static int split_parse(up_step_t *s, json_t *j, const up_pctx_t *pc, const char *where)
{
    if (!json_is_array(j) || json_array_size(j) < 2) {
        errlist_add(
            pc->errs, pc->file, where,
            "a split is a list of two parts or more: [{\"type\": T, \"steps\": [...]}, ...]");
        return -1;
    }
    s->parts = xcalloc(json_array_size(j), sizeof(up_part_t));
    int rc = 0;
    for (size_t i = 0; i < json_array_size(j); i++, s->nparts++) {
        json_t *p = json_array_get(j, i), *type = json_object_get(p, "type");
        json_t *steps = json_object_get(p, "steps");
        char w[512];
        snprintf(w, sizeof(w), "%s.split[%zu]", where, i);
        if (!json_is_object(p) || !json_is_string(type) ||
            json_object_size(p) != (size_t)(1 + !!steps)) {
            errlist_add(pc->errs, pc->file, w,
                        "a part is {\"type\": T, \"steps\": [...]} (steps optional): a copy of the "
                        "event, shaped by its steps, of type T");
            rc = -1;
            continue;
        }
        s->parts[i].type = xstrdup(json_string_value(type));
        for (size_t k = 0; k < i; k++)
            if (s->parts[k].type && strcmp(s->parts[k].type, s->parts[i].type) == 0) {
                errlist_add(pc->errs, pc->file, w, "parts %zu and %zu are both of type %s", k, i,
                            s->parts[i].type);
                rc = -1;
            }
        strncat(w, ".steps", sizeof(w) - strlen(w) - 1);
        if (steps && steps_parse(&s->parts[i].steps, &s->parts[i].nsteps, steps, pc, w, 1) != 0)
            rc = -1;
    }
    return rc;
}

typedef struct step_kind {
    const char *name;
    up_op_t op;
    const char *usage;
} step_kind_t;

static const step_kind_t step_kinds[] = {
    {"rename", UP_RENAME, "{\"rename\": \"$.from\", \"to\": \"$.to\"} (\"optional\": true)"},
    {"drop", UP_DROP, "{\"drop\": \"$.field\"}"},
    {"default", UP_DEFAULT, "{\"default\": \"$.field\", \"value\": V}"},
    {"set", UP_SET, "{\"set\": \"$.field\", \"value\": V}"},
    {"type", UP_TYPE, "{\"type\": \"NewType\"}"},
    {"split", UP_SPLIT, "{\"split\": [{\"type\": T, \"steps\": [...]}, ...]}"},
};

/* The arguments of each step kind besides its own key. */
static int step_args_ok(const step_kind_t *k, json_t *j)
{
    size_t n = json_object_size(j);
    switch (k->op) {
    case UP_RENAME:
        return json_object_get(j, "to") &&
               n == (size_t)2 + (size_t)(json_object_get(j, "optional") &&
                                         json_is_boolean(json_object_get(j, "optional")));
    case UP_DEFAULT:
    case UP_SET:
        return json_object_get(j, "value") && n == 2;
    default:
        return n == 1;
    }
}

/* Parses the arguments of step s (kind k, object j at where). */
static int step_fill(up_step_t *s, const step_kind_t *k, json_t *j, const up_pctx_t *pc,
                     const char *where, int in_part)
{
    json_t *arg = json_object_get(j, k->name);
    char w[600];
    snprintf(w, sizeof(w), "%s.%s", where, k->name);
    switch (k->op) {
    case UP_RENAME:
        s->optional = json_is_true(json_object_get(j, "optional"));
        if (field_parse(&s->field, arg, pc, w) != 0)
            return -1;
        snprintf(w, sizeof(w), "%s.to", where);
        if (field_parse(&s->to, json_object_get(j, "to"), pc, w) != 0)
            return -1;
        if (field_overlaps(&s->field, &s->to)) {
            errlist_add(pc->errs, pc->file, w, "renames %s onto itself or into itself",
                        s->field.text);
            return -1;
        }
        return 0;
    case UP_DROP:
        return field_parse(&s->field, arg, pc, w);
    case UP_DEFAULT:
    case UP_SET:
        if (field_parse(&s->field, arg, pc, w) != 0)
            return -1;
        snprintf(w, sizeof(w), "%s.value", where);
        return value_parse(&s->val, json_object_get(j, "value"), pc, w);
    case UP_TYPE:
        if (!json_is_string(arg) || json_string_length(arg) == 0) {
            errlist_add(pc->errs, pc->file, w, "expected the event type's new name");
            return -1;
        }
        s->type = xstrdup(json_string_value(arg));
        return 0;
    case UP_SPLIT:
        if (in_part) {
            errlist_add(pc->errs, pc->file, w, "a part of a split cannot split again");
            return -1;
        }
        return split_parse(s, arg, pc, where);
    }
    return -1;
}

/* A rename may not land on a field that an earlier step of the same list writes. */
static int check_rename_target(const up_step_t *steps, size_t i, const up_pctx_t *pc)
{
    for (size_t k = 0; k < i; k++) {
        const up_field_t *written = steps[k].op == UP_RENAME ? &steps[k].to
                                    : steps[k].op == UP_DEFAULT || steps[k].op == UP_SET
                                        ? &steps[k].field
                                        : NULL;
        if (written && field_overlaps(written, &steps[i].to)) {
            errlist_add(pc->errs, pc->file, steps[i].where,
                        "renames onto %s, which step %zu writes first (%s): a rename never "
                        "replaces a field",
                        steps[i].to.text, k, written->text);
            return -1;
        }
    }
    return 0;
}

/* Parses one step (j, at where) into s. */
static int step_parse(up_step_t *s, json_t *j, const up_pctx_t *pc, const char *where, int in_part)
{
    s->where = xstrdup(where);
    const step_kind_t *k = NULL;
    for (size_t i = 0; json_is_object(j) && i < sizeof(step_kinds) / sizeof(step_kinds[0]); i++)
        if (json_object_get(j, step_kinds[i].name)) {
            if (k) {
                errlist_add(pc->errs, pc->file, where,
                            "a step has one of rename, drop, default, "
                            "set, type, split");
                return -1;
            }
            k = &step_kinds[i];
        }
    if (!k) {
        errlist_add(pc->errs, pc->file, where,
                    "expected a step: rename, drop, default, set, type or split");
        return -1;
    }
    s->op = k->op;
    if (!step_args_ok(k, j)) {
        errlist_add(pc->errs, pc->file, where, "expected %s", k->usage);
        return -1;
    }
    return step_fill(s, k, j, pc, where, in_part);
}

/* Parses a list of steps (at where) into *out. A split must be the last step. */
static int steps_parse(up_step_t **out, size_t *nout, json_t *list, const up_pctx_t *pc,
                       const char *where, int in_part)
{
    if (!json_is_array(list)) {
        errlist_add(pc->errs, pc->file, where, "expected a list of steps");
        return -1;
    }
    up_step_t *steps = xcalloc(json_array_size(list) + 1, sizeof(up_step_t));
    *out = steps;
    int rc = 0;
    for (size_t i = 0; i < json_array_size(list); i++, (*nout)++) {
        char w[512];
        snprintf(w, sizeof(w), "%s[%zu]", where, i);
        if (step_parse(&steps[i], json_array_get(list, i), pc, w, in_part) != 0) {
            rc = -1;
            continue;
        }
        if (steps[i].op == UP_RENAME && check_rename_target(steps, i, pc) != 0)
            rc = -1;
        if (steps[i].op == UP_SPLIT && i + 1 < json_array_size(list)) {
            errlist_add(pc->errs, pc->file, w,
                        "a split is the last step of its upcaster (each part continues with the "
                        "upcasters of its own type)");
            rc = -1;
        }
    }
    return rc;
}

/* ---- the upcasters of the file ---- */

long mapping_upcast_current(const struct mapping_upcast *u, const char *type)
{
    for (size_t i = 0; i < u->ntypes; i++)
        if (strcmp(u->types[i].type, type) == 0)
            return u->types[i].current;
    return -1;
}

const upcaster_t *mapping_upcast_find(const struct mapping_upcast *u, const char *type,
                                      long version)
{
    for (size_t i = 0; i < u->nups; i++)
        if (u->ups[i].version == version && strcmp(u->ups[i].type, type) == 0)
            return &u->ups[i];
    return NULL;
}

void mapping_upcast_free(struct mapping_upcast *u)
{
    if (!u)
        return;
    free(u->version_header);
    free(u->subject_name);
    jpath_destroy(u->version_path);
    field_free(&u->version_field);
    field_free(&u->type_field);
    for (size_t i = 0; i < u->ntypes; i++)
        free(u->types[i].type);
    free(u->types);
    for (size_t i = 0; i < u->nups; i++) {
        free(u->ups[i].type);
        free(u->ups[i].where);
        steps_free(u->ups[i].steps, u->ups[i].nsteps);
    }
    free(u->ups);
    free(u);
}

/* A version: a positive integer (JSON, or the key of an upcaster); -1 when it is not one. */
static long version_of_key(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s >= '1' && *s <= '9' && !*end && v > 0 && v < 1000000 ? v : -1;
}

/* The subject strategies of $.versions.registry, by name. */
static const struct {
    const char *name;
    mapping_subject_t how;
} strategies[] = {
    {"topic", MAPPING_SUBJECT_TOPIC},
    {"record", MAPPING_SUBJECT_RECORD},
    {"topic-record", MAPPING_SUBJECT_TOPIC_RECORD},
};

#define REGISTRY_USAGE                                                                             \
    "expected true (the subject of the writer's schema that the id has among <topic>-value, "      \
    "<record full name> and <topic>-<record full name>), {\"strategy\": \"topic\", \"record\" "    \
    "or \"topic-record\"} or {\"subject\": \"name\"}"

/* $.versions.registry (j), for a mapping of format format: the version is the writer schema's
 * version under its subject, chosen as j says. */
static int version_registry_parse(up_pctx_t *pc, json_t *j, const char *format)
{
    struct mapping_upcast *u = pc->u;
    if (!format || strncmp(format, "registry-", 9) != 0) {
        errlist_add(pc->errs, pc->file, "$.versions.registry",
                    "the schema's version is known for the Schema Registry formats only "
                    "(\"format\": \"registry-avro\" or \"registry-json\"), not %s",
                    format ? format : "json");
        return -1;
    }
    u->version_registry = 1;
    json_t *strategy = json_object_get(j, "strategy"), *subject = json_object_get(j, "subject");
    if (json_is_true(j))
        return 0;
    if (json_is_object(j) && json_object_size(j) == 1 && json_is_string(subject) &&
        json_string_length(subject)) {
        u->subject = MAPPING_SUBJECT_NAMED;
        u->subject_name = xstrdup(json_string_value(subject));
        return 0;
    }
    for (size_t i = 0; json_is_object(j) && json_object_size(j) == 1 && json_is_string(strategy) &&
                       i < sizeof(strategies) / sizeof(strategies[0]);
         i++)
        if (strcmp(strategies[i].name, json_string_value(strategy)) == 0) {
            u->subject = strategies[i].how;
            return 0;
        }
    errlist_add(pc->errs, pc->file, "$.versions.registry", REGISTRY_USAGE);
    return -1;
}

/* Where the version is: exactly one of $.versions.field (a path of the event),
 * $.versions.header (a Kafka header's name) and $.versions.registry (the writer schema's). */
static int version_source_parse(up_pctx_t *pc, json_t *versions, const char *format)
{
    struct mapping_upcast *u = pc->u;
    json_t *field = json_object_get(versions, "field"),
           *header = json_object_get(versions, "header");
    json_t *registry = json_object_get(versions, "registry");
    if (!!field + !!header + !!registry != 1) {
        errlist_add(pc->errs, pc->file, "$.versions",
                    "give where the version is: \"field\" (a path such as \"$.schemaVersion\"), "
                    "\"header\" (a Kafka header's name) or \"registry\" (the writer schema's "
                    "version in the Schema Registry), one of them");
        return -1;
    }
    if (registry)
        return version_registry_parse(pc, registry, format);
    if (header) {
        if (!json_is_string(header) || !json_string_length(header)) {
            errlist_add(pc->errs, pc->file, "$.versions.header", "expected a header name");
            return -1;
        }
        u->version_header = xstrdup(json_string_value(header));
        return 0;
    }
    char err[256];
    if (field_parse(&u->version_field, field, pc, "$.versions.field") != 0)
        return -1;
    if (jpath_compile(json_string_value(field), &u->version_path, err, sizeof(err)) != 0) {
        errlist_add(pc->errs, pc->file, "$.versions.field", "%s", err);
        return -1;
    }
    return 0;
}

/* Parses $.versions: where the version is, its default, each type's current version. */
static int versions_parse(up_pctx_t *pc, json_t *j, const char *format)
{
    struct mapping_upcast *u = pc->u;
    static const char *const allowed[] = {"field",   "header",  "registry",
                                          "default", "current", NULL};
    if (!json_is_object(j)) {
        errlist_add(pc->errs, pc->file, "$.versions",
                    "expected {\"field\": \"$.schemaVersion\", \"default\": 1, \"current\": "
                    "{\"EventType\": 3, ...}}");
        return -1;
    }
    if (mapping_column_check_fields(pc->file, pc->errs, j, "$.versions", allowed) != 0)
        return -1;
    json_t *dflt = json_object_get(j, "default"), *current = json_object_get(j, "current");
    if (version_source_parse(pc, j, format) != 0)
        return -1;
    u->default_version = 1;
    if (dflt && (!json_is_integer(dflt) || json_integer_value(dflt) < 1 ||
                 json_integer_value(dflt) >= 1000000)) {
        errlist_add(pc->errs, pc->file, "$.versions.default",
                    "expected the version (a positive integer) of an event without one");
        return -1;
    }
    if (dflt)
        u->default_version = (long)json_integer_value(dflt);
    if (!json_is_object(current) || json_object_size(current) == 0) {
        errlist_add(pc->errs, pc->file, "$.versions.current",
                    "expected each versioned event type's current version: {\"OrderCreated\": 3}");
        return -1;
    }
    u->types = xcalloc(json_object_size(current), sizeof(up_current_t));
    int rc = 0;
    const char *type;
    json_t *v;
    json_object_foreach(current, type, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) >= 1000000) {
            errlist_add(pc->errs, pc->file, "$.versions.current",
                        "%s: expected its current version, a positive integer", type);
            rc = -1;
            continue;
        }
        u->types[u->ntypes].type = xstrdup(type);
        u->types[u->ntypes++].current = (long)json_integer_value(v);
    }
    return rc;
}

/* Parses $.upcasters.TYPE (j): an object of versions, each a list of steps. */
static int upcasters_of_type(up_pctx_t *pc, const char *type, json_t *j)
{
    struct mapping_upcast *u = pc->u;
    char w[512];
    snprintf(w, sizeof(w), "$.upcasters.%s", type);
    long current = mapping_upcast_current(u, type);
    if (!json_is_object(j)) {
        errlist_add(pc->errs, pc->file, w,
                    "expected an object of versions: {\"1\": [steps to version 2], ...}");
        return -1;
    }
    if (current < 0) {
        errlist_add(pc->errs, pc->file, w,
                    "upcasters for %s, which $.versions.current gives no current version", type);
        return -1;
    }
    int rc = 0;
    const char *key;
    json_t *steps;
    json_object_foreach(j, key, steps)
    {
        char vw[600];
        snprintf(vw, sizeof(vw), "%s.%s", w, key);
        long version = version_of_key(key);
        if (version < 0 || version >= current) {
            errlist_add(pc->errs, pc->file, vw,
                        version < 0 ? "unknown version: a version is a positive integer"
                                    : "unknown version: %s is at version %ld, an upcaster turns "
                                      "an older version into the next one",
                        type, current);
            rc = -1;
            continue;
        }
        upcaster_t *up = &u->ups[u->nups++];
        up->type = xstrdup(type);
        up->version = version;
        up->where = xstrdup(vw);
        if (steps_parse(&up->steps, &up->nsteps, steps, pc, vw, 0) != 0)
            rc = -1;
    }
    return rc;
}

/* Every version of type from its oldest upcaster's up to its current one has an upcaster (older
 * versions, or the default, may be no version the type ever had: a type that a rename or a
 * split brings in starts later). */
static int check_gaps(up_pctx_t *pc, const up_current_t *t)
{
    const struct mapping_upcast *u = pc->u;
    long lowest = t->current;
    for (size_t i = 0; i < u->nups; i++)
        if (strcmp(u->ups[i].type, t->type) == 0 && u->ups[i].version < lowest)
            lowest = u->ups[i].version;
    if (u->default_version > t->current) {
        errlist_add(pc->errs, pc->file, "$.versions.default",
                    "the default version %ld is newer than %s's current version %ld",
                    u->default_version, t->type, t->current);
        return -1;
    }
    for (long v = lowest; v < t->current; v++) {
        if (!mapping_upcast_find(u, t->type, v)) {
            char w[512];
            snprintf(w, sizeof(w), "$.upcasters.%s", t->type);
            errlist_add(pc->errs, pc->file, w,
                        "a gap: no upcaster for version %ld (versions %ld to %ld reach the "
                        "current version %ld one by one)",
                        v, lowest, t->current - 1, t->current);
            return -1;
        }
    }
    return 0;
}

/* A type a step of upcaster `version` produces is one the mapping names, or a versioned one
 * (whose own upcasters go on from version + 1), and not the type it comes from. */
static int check_type(up_pctx_t *pc, const char *from, const char *to, long version,
                      const char *where)
{
    long current = mapping_upcast_current(pc->u, to);
    if (strcmp(from, to) == 0) {
        errlist_add(pc->errs, pc->file, where, "renames %s to itself", to);
        return -1;
    }
    if (!named(pc, to) && current < 0) {
        errlist_add(pc->errs, pc->file, where,
                    "type %s is neither an event type of $.events nor one of $.versions.current",
                    to);
        return -1;
    }
    if (current >= 0 && version + 1 > current) {
        errlist_add(pc->errs, pc->file, where,
                    "the event becomes version %ld of %s, whose current version is %ld: a type "
                    "keeps the version numbers of the event it comes from",
                    version + 1, to, current);
        return -1;
    }
    return 0;
}

/* Checks the types the steps of (type)'s upcasters produce; *renames is set when one does. */
static int check_types(up_pctx_t *pc, const char *type, int *renames)
{
    int rc = 0;
    for (size_t i = 0; i < pc->u->nups; i++) {
        const upcaster_t *up = &pc->u->ups[i];
        if (strcmp(up->type, type) != 0)
            continue;
        for (size_t k = 0; k < up->nsteps; k++) {
            const up_step_t *s = &up->steps[k];
            if (s->op == UP_TYPE) {
                *renames = 1;
                rc |= check_type(pc, type, s->type, up->version, s->where);
            }
            for (size_t p = 0; s->op == UP_SPLIT && p < s->nparts; p++) {
                *renames = 1;
                rc |= check_type(pc, "", s->parts[p].type, up->version, s->where);
            }
        }
    }
    return rc;
}

/* Checks every versioned type: known to the mapping, or renamed into one; no gaps. */
static int check_all(up_pctx_t *pc)
{
    int rc = 0;
    for (size_t i = 0; i < pc->u->ntypes; i++) {
        const up_current_t *t = &pc->u->types[i];
        int renames = 0;
        rc |= check_types(pc, t->type, &renames);
        if (!named(pc, t->type) && !renames) {
            char w[512];
            snprintf(w, sizeof(w), "$.versions.current.%s", t->type);
            errlist_add(pc->errs, pc->file, w,
                        "%s is not an event type of $.events, and no upcaster of it renames it "
                        "into one",
                        t->type);
            rc = -1;
        }
        rc |= check_gaps(pc, t);
    }
    return rc;
}

/* Where type renames write the type: the event_type field (a header needs nothing). */
static int type_field_parse(up_pctx_t *pc, json_t *et)
{
    if (json_object_get(et, "header"))
        return 0;
    json_t *field = json_object_get(et, "field");
    json_t *dflt = json_string("$.type");
    int rc = 0;
    if (field_parse(&pc->u->type_field, field ? field : dflt, pc, "$.event_type.field") != 0)
        rc = -1;
    json_decref(dflt);
    return rc;
}

/* mapping_schema_fn of a mapping alone: no version's schema is known. */
static int no_schema(void *ctx, const char *type, long version, const char *const *keys, size_t n,
                     char *why, size_t why_size)
{
    (void)ctx, (void)type, (void)version, (void)keys, (void)n, (void)why, (void)why_size;
    return -1;
}

int mapping_upcast_parse(mapping_pctx_t *mpc, json_t *root)
{
    json_t *versions = json_object_get(root, "versions");
    json_t *upcasters = json_object_get(root, "upcasters");
    if (!versions && !upcasters)
        return 0;
    json_t *events = json_object_get(root, "events");
    up_pctx_t pc = {mpc->file, mpc->errs, json_is_object(events) ? events : NULL, NULL};
    json_t *none = json_object();
    if (!pc.events)
        pc.events = none;
    pc.u = mpc->m->upcast = xcalloc(1, sizeof(struct mapping_upcast));
    int rc = -1;
    if (!versions) {
        errlist_add(pc.errs, pc.file, "$.upcasters",
                    "upcasters need $.versions: where the version is, and the current ones");
    } else if (upcasters && !json_is_object(upcasters)) {
        errlist_add(pc.errs, pc.file, "$.upcasters",
                    "expected {\"EventType\": {\"1\": [steps to version 2], ...}, ...}");
    } else if (versions_parse(&pc, versions, json_string_value(json_object_get(root, "format"))) ==
               0) {
        rc = type_field_parse(&pc, json_object_get(root, "event_type"));
        size_t n = 0;
        const char *type;
        json_t *j;
        json_object_foreach(upcasters, type, j) n += json_is_object(j) ? json_object_size(j) : 0;
        pc.u->ups = xcalloc(n + 1, sizeof(upcaster_t));
        json_object_foreach(upcasters, type, j) rc |= upcasters_of_type(&pc, type, j);
        if (rc == 0)
            rc = check_all(&pc);
        if (rc == 0) /* a read of what an earlier step removed; no schema is known here */
            rc = mapping_upcast_fields(mpc->m, no_schema, NULL, pc.errs);
    }
    json_decref(none);
    json_object_del(root, "versions");
    json_object_del(root, "upcasters");
    return rc;
}

const char *mapping_version_header(const mapping_t *m)
{
    return m->upcast ? m->upcast->version_header : NULL;
}

int mapping_version_registry(const mapping_t *m, mapping_subject_t *how, const char **subject)
{
    if (!m->upcast || !m->upcast->version_registry)
        return 0;
    *how = m->upcast->subject;
    *subject = m->upcast->subject_name;
    return 1;
}
