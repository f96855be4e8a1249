/* Mapping files: load and validate them (header, event rules, the keys of each table), and the
 * accessors of what was loaded. Actions are parsed by mapping_action.c, documents by
 * mapping_doc.c. */
#include "mapping.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_internal.h"
#include "mapping_upcast_internal.h"
#include "xalloc.h"

/* ---- the file ---- */

/* Lookups see the rows as they were before the event: an action may not look up a table that an
 * earlier action of the same event writes (or any table after a sql action). */
static int check_lookup_order(mapping_pctx_t *pc, const event_rule_t *r, size_t first_lookup,
                              const char *where)
{
    mapping_t *m = pc->m;
    for (size_t l = first_lookup; l < m->nlookups; l++) {
        for (size_t i = 0; i < r->nactions; i++) {
            const mapping_action_info_t *prev = &r->actions[i]->info;
            if (prev->kind == MAPPING_SQL || prev->table_id == m->lookups[l].info.table_id) {
                errlist_add(pc->errs, pc->file, where,
                            "this lookup reads table %s, which action %zu of the same event "
                            "writes first; put the lookup before that write",
                            m->lookups[l].info.table, i);
                return -1;
            }
        }
    }
    return 0;
}

/* Parses a document action of rule r and records it, with its index. */
static int add_doc(mapping_pctx_t *pc, event_rule_t *r, json_t *j, const char *where)
{
    mapping_t *m = pc->m;
    mapping_doc_t *d = mapping_doc_parse(j, pc->file, where, pc->errs);
    if (!d)
        return -1;
    mapping_doc_info_of(d)->id = (int)m->ndocs;
    m->docs = xrealloc(m->docs, (m->ndocs + 1) * sizeof(*m->docs));
    m->docs[m->ndocs++] = d;
    r->docs[r->ndocs++] = d;
    const char *index = mapping_doc_info_of(d)->index;
    for (size_t i = 0; i < m->nindices; i++)
        if (strcmp(m->indices[i], index) == 0)
            return 0;
    m->indices = xrealloc(m->indices, (m->nindices + 1) * sizeof(*m->indices));
    m->indices[m->nindices++] = xstrdup(index);
    return 0;
}

/* Parses $.events: each event type's actions and document actions, recorded on pc->m.
 * Returns 0, or -1 after adding the problems to pc->errs. */
static int parse_rules(mapping_pctx_t *pc, json_t *events)
{
    mapping_t *m = pc->m;
    if (!json_is_object(events) || json_object_size(events) == 0) {
        errlist_add(pc->errs, pc->file, "$.events",
                    "expected an object mapping each event type to a list of actions");
        return -1;
    }
    m->rules = xcalloc(json_object_size(events), sizeof(event_rule_t));
    int rc = 0;
    const char *type;
    json_t *list;
    json_object_foreach(events, type, list)
    {
        event_rule_t *r = &m->rules[m->nrules++];
        r->type = xstrdup(type);
        if (strcmp(type, MAPPING_TOMBSTONE) == 0)
            m->tombstone = r;
        char w[512];
        snprintf(w, sizeof(w), "$.events.%s", type);
        if (!json_is_array(list)) {
            errlist_add(pc->errs, pc->file, w, "expected a list of actions");
            rc = -1;
            continue;
        }
        r->actions = xcalloc(json_array_size(list), sizeof(mapping_action_t *));
        r->docs = xcalloc(json_array_size(list), sizeof(mapping_doc_t *));
        for (size_t i = 0; i < json_array_size(list); i++) {
            char aw[512];
            snprintf(aw, sizeof(aw), "%s[%zu]", w, i);
            if (mapping_doc_is(json_array_get(list, i))) {
                if (add_doc(pc, r, json_array_get(list, i), aw) != 0)
                    rc = -1;
                continue;
            }
            size_t lookups_before = m->nlookups;
            mapping_action_t *a = mapping_action_parse(pc, json_array_get(list, i), aw);
            if (!a) {
                rc = -1;
                continue;
            }
            if (check_lookup_order(pc, r, lookups_before, aw) != 0)
                rc = -1;
            a->info.id = (int)m->nactions;
            m->actions = xrealloc(m->actions, (m->nactions + 1) * sizeof(*m->actions));
            m->actions[m->nactions++] = a;
            r->actions[r->nactions++] = a;
            r->has_lookup |= a->has_lookup;
        }
    }
    return rc;
}

/* Every write to a table must use the same key columns, so rows are identified one way. */
static int check_table_keys(mapping_pctx_t *pc)
{
    mapping_t *m = pc->m;
    int rc = 0;
    for (size_t i = 0; i < m->nactions; i++) {
        mapping_action_t *a = m->actions[i];
        if (a->info.kind == MAPPING_SQL)
            continue;
        char *keys = mapping_column_names(a->keys, a->info.nkeys);
        char **slot = &m->table_keys[a->info.table_id];
        if (!*slot) {
            *slot = keys;
            continue;
        }
        if (strcmp(*slot, keys) != 0) {
            errlist_add(pc->errs, pc->file, a->info.where + strlen(pc->file) + 2,
                        "table %s is keyed by (%s) elsewhere in this mapping, here by (%s); "
                        "every write to a table must use the same key columns in the same order",
                        a->info.table, *slot, keys);
            rc = -1;
        }
        free(keys);
    }
    for (size_t i = 0; i < m->ndocs; i++) {
        const mapping_doc_info_t *d = mapping_doc_info_of(m->docs[i]);
        char *keys = mapping_doc_key_names(m->docs[i]);
        const char *tk = NULL;
        for (size_t t = 0; keys && t < m->ntables; t++)
            if (strcmp(m->tables[t], d->table) == 0)
                tk = m->table_keys[t];
        const char *w = d->where + strlen(pc->file) + 2;
        if (keys && !tk) {
            errlist_add(pc->errs, pc->file, w,
                        "from_row reads table %s, which no action of this mapping writes (the "
                        "document is the row the event's writes left)",
                        d->table);
            rc = -1;
        } else if (keys && strcmp(tk, keys) != 0) {
            errlist_add(pc->errs, pc->file, w,
                        "from_row reads table %s by (%s) but the mapping writes it by (%s)",
                        d->table, keys, tk);
            rc = -1;
        }
        free(keys);
    }
    for (size_t i = 0; i < m->nlookups; i++) {
        lookup_spec_t *l = &m->lookups[i];
        const char *tk = m->table_keys[l->info.table_id];
        char *keys = mapping_column_names(l->keys, l->info.nkeys);
        if (tk && strcmp(tk, keys) != 0) {
            errlist_add(pc->errs, pc->file, l->where,
                        "a lookup in table %s uses key (%s) but the mapping writes it by (%s)",
                        l->info.table, keys, tk);
            rc = -1;
        }
        free(keys);
        l->key_infos = mapping_column_infos(l->keys, l->info.nkeys);
        l->info.keys = l->key_infos;
    }
    return rc;
}

/* ---- formats ---- */

/* The formats a mapping may name: what each means for the mapping (the decoders are event/'s
 * table, by the same names). */
typedef struct format_def {
    const char *name;
    type_source_t type_source; /* where the event type is when $.event_type is absent */
    const char *type_header;   /* for TYPE_HEADER */
    /* NULL: the producer names the event types, and $.event_type may say where they are; else the
     * only types the envelope carries (NULL-terminated), the names of $.events, and the envelope
     * alone says which: $.event_type is refused */
    const char *const *types;
} format_def_t;

/* A change event's operations as the debezium decoder names them (decode_debezium.c's ops[];
 * the unit tests check that the two agree). */
static const char *const debezium_types[] = {"create",   "update",  "delete", "read",
                                             "truncate", "message", NULL};

static const format_def_t formats[] = {
    {"json", TYPE_FIELD, NULL, NULL},
    {"cloudevents", TYPE_ENVELOPE, NULL, NULL},
    {"debezium-outbox", TYPE_HEADER, "eventType", NULL},
    {"debezium", TYPE_ENVELOPE, NULL, debezium_types},
    {"registry-json", TYPE_FIELD, NULL, NULL},
    {"registry-avro", TYPE_FIELD, NULL, NULL},
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

size_t mapping_format_count(void)
{
    return NFORMATS;
}

const char *mapping_format_name(size_t i)
{
    return i < NFORMATS ? formats[i].name : NULL;
}

const char *const *mapping_format_types(const char *format)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(formats[i].name, format) == 0)
            return formats[i].types;
    return NULL;
}

/* Writes "a", "b", ... (names up to NULL) into buf. */
static void quote_names(char *buf, size_t size, const char *const *names)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; names[i] && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s\"%s\"", i ? ", " : "", names[i]);
}

/* Refuses, for a format whose envelope names the event types (fmt->types), a key of $.events
 * that is none of them (the rule would never be taken) nor $tombstone. */
static int check_event_types(mapping_pctx_t *pc, json_t *events, const format_def_t *fmt)
{
    if (!fmt->types || !json_is_object(events))
        return 0;
    int rc = 0;
    const char *k;
    json_t *v;
    json_object_foreach(events, k, v)
    {
        size_t i = 0;
        while (fmt->types[i] && strcmp(fmt->types[i], k) != 0)
            i++;
        if (fmt->types[i] || strcmp(k, MAPPING_TOMBSTONE) == 0)
            continue;
        char known[256], where[300];
        quote_names(known, sizeof(known), fmt->types);
        snprintf(where, sizeof(where), "$.events.%s", k);
        errlist_add(pc->errs, pc->file, where,
                    "format %s names its events by operation: \"%s\" is none of %s (or \"%s\")",
                    fmt->name, k, known, MAPPING_TOMBSTONE);
        rc = -1;
    }
    return rc;
}

/* Parses $.format ("json" when absent). Returns its row, or NULL after adding the problem. */
static const format_def_t *parse_format(mapping_pctx_t *pc, json_t *f)
{
    const char *name = f ? json_string_value(f) : "json";
    for (size_t i = 0; name && i < NFORMATS; i++)
        if (strcmp(formats[i].name, name) == 0) {
            pc->m->format = formats[i].name;
            return &formats[i];
        }
    const char *names[NFORMATS + 1];
    for (size_t i = 0; i < NFORMATS; i++)
        names[i] = formats[i].name;
    names[NFORMATS] = NULL;
    char known[256];
    quote_names(known, sizeof(known), names);
    if (name)
        errlist_add(pc->errs, pc->file, "$.format",
                    "unknown format \"%s\": the known formats are %s (default \"json\")", name,
                    known);
    else
        errlist_add(pc->errs, pc->file, "$.format",
                    "expected a format name: the known formats are %s (default \"json\")", known);
    return NULL;
}

/* Refuses, anywhere under j (at where), a {"meta": attribute} of another format than m's. */
static int check_meta_formats(mapping_pctx_t *pc, json_t *j, const char *where)
{
    int rc = 0;
    char w[512];
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++) {
            snprintf(w, sizeof(w), "%s[%zu]", where, i);
            rc |= check_meta_formats(pc, json_array_get(j, i), w);
        }
        return rc;
    }
    if (!json_is_object(j))
        return 0;
    const char *meta = json_string_value(json_object_get(j, "meta"));
    const char *format = meta ? mapping_value_attr_format(meta) : NULL;
    if (format && strcmp(format, pc->m->format) != 0) {
        errlist_add(pc->errs, pc->file, where,
                    "meta \"%s\" is an attribute of format %s, but this mapping's $.format is %s",
                    meta, format, pc->m->format);
        rc = -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (strcmp(k, "literal") == 0)
            continue;
        snprintf(w, sizeof(w), "%s.%s", where, k);
        rc |= check_meta_formats(pc, v, w);
    }
    return rc;
}

/* Parses $.event_type (a field path or a header; when absent, the format's default: "$.type",
 * the envelope's type, or its header). Returns 0, or -1 after adding the problem to pc->errs. */
static int parse_event_type(mapping_pctx_t *pc, json_t *et, const format_def_t *fmt)
{
    mapping_t *m = pc->m;
    if (et && fmt && fmt->types) {
        errlist_add(pc->errs, pc->file, "$.event_type",
                    "format %s: the envelope gives the event type (its operation), so there is no "
                    "$.event_type",
                    fmt->name);
        return -1;
    }
    if (!et && fmt && fmt->type_source != TYPE_FIELD) {
        m->type_source = fmt->type_source;
        m->type_header = fmt->type_header ? xstrdup(fmt->type_header) : NULL;
        return 0;
    }
    json_t *field = json_is_object(et) ? json_object_get(et, "field") : NULL;
    json_t *header = json_is_object(et) ? json_object_get(et, "header") : NULL;
    if (!et) {
        field = NULL;
    } else if (!json_is_object(et) || (!!field == !!header) || json_object_size(et) != 1 ||
               (field && !json_is_string(field)) || (header && !json_is_string(header))) {
        errlist_add(pc->errs, pc->file, "$.event_type",
                    "expected {\"field\": \"$.type\"} or {\"header\": \"name\"}");
        return -1;
    }
    if (header) {
        m->type_source = TYPE_HEADER;
        m->type_header = xstrdup(json_string_value(header));
        return 0;
    }
    char err[256];
    const char *expr = field ? json_string_value(field) : "$.type";
    if (jpath_compile(expr, &m->type_path, err, sizeof(err)) != 0) {
        errlist_add(pc->errs, pc->file, "$.event_type.field", "%s", err);
        return -1;
    }
    return 0;
}

/* Parses $.topics into pc->m (copies). Returns 0, or -1 after adding the problem to pc->errs. */
static int parse_topics(mapping_pctx_t *pc, json_t *topics)
{
    mapping_t *m = pc->m;
    if (!json_is_array(topics) || json_array_size(topics) == 0) {
        errlist_add(pc->errs, pc->file, "$.topics", "expected a non-empty list of topic names");
        return -1;
    }
    m->topics = xcalloc(json_array_size(topics), sizeof(char *));
    for (size_t i = 0; i < json_array_size(topics); i++) {
        json_t *t = json_array_get(topics, i);
        if (!json_is_string(t) || json_string_length(t) == 0) {
            char w[64];
            snprintf(w, sizeof(w), "$.topics[%zu]", i);
            errlist_add(pc->errs, pc->file, w, "expected a topic name");
            return -1;
        }
        m->topics[m->ntopics++] = xstrdup(json_string_value(t));
    }
    return 0;
}

/* Parses the top-level fields other than $.events into pc->m. Returns 0, or -1 after adding
 * the problems to pc->errs. */
static int parse_header(mapping_pctx_t *pc, json_t *root)
{
    static const char *const allowed[] = {
        "version", "projection",        "topics",      "format",         "event_type",
        "events",  "dead_letter_topic", "description", "on_dead_letter", "allow_partial_rebuild",
        NULL};
    int rc = mapping_column_check_fields(pc->file, pc->errs, root, "$", allowed);
    json_t *v = json_object_get(root, "version");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        errlist_add(pc->errs, pc->file, "$.version", "expected 1 (the mapping format version)");
        rc = -1;
    }
    json_t *name = json_object_get(root, "projection");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        strspn(json_string_value(name), "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
            json_string_length(name)) {
        errlist_add(pc->errs, pc->file, "$.projection",
                    "expected a name of lower-case letters, digits, '_' and '-'");
        rc = -1;
    } else {
        pc->m->name = xstrdup(json_string_value(name));
    }
    json_t *dlq = json_object_get(root, "dead_letter_topic");
    if (dlq && !json_is_string(dlq)) {
        errlist_add(pc->errs, pc->file, "$.dead_letter_topic", "expected a topic name");
        rc = -1;
    } else if (dlq) {
        pc->m->dlq_topic = xstrdup(json_string_value(dlq));
    }
    json_t *partial = json_object_get(root, "allow_partial_rebuild");
    if (partial && !json_is_boolean(partial)) {
        errlist_add(pc->errs, pc->file, "$.allow_partial_rebuild", "expected true or false");
        rc = -1;
    }
    pc->m->partial_rebuild = json_is_true(partial);
    json_t *policy = json_object_get(root, "on_dead_letter");
    if (policy && (!json_is_string(policy) || (strcmp(json_string_value(policy), "skip") != 0 &&
                                               strcmp(json_string_value(policy), "park") != 0))) {
        errlist_add(pc->errs, pc->file, "$.on_dead_letter", "expected \"skip\" or \"park\"");
        rc = -1;
    } else if (policy) {
        pc->m->park = strcmp(json_string_value(policy), "park") == 0;
    }
    if (parse_topics(pc, json_object_get(root, "topics")) != 0)
        rc = -1;
    const format_def_t *fmt = parse_format(pc, json_object_get(root, "format"));
    if (!fmt)
        rc = -1;
    if (parse_event_type(pc, json_object_get(root, "event_type"), fmt) != 0)
        rc = -1;
    if (fmt && check_meta_formats(pc, json_object_get(root, "events"), "$.events") != 0)
        rc = -1;
    if (fmt && check_event_types(pc, json_object_get(root, "events"), fmt) != 0)
        rc = -1;
    return rc;
}

/* Frees m and everything it owns; NULL is fine. */
static void mapping_destroy(mapping_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nactions; i++)
        mapping_action_free(m->actions[i]);
    free(m->actions);
    for (size_t i = 0; i < m->nrules; i++) {
        free(m->rules[i].type);
        free(m->rules[i].actions);
        free(m->rules[i].docs);
    }
    for (size_t i = 0; i < m->ndocs; i++)
        mapping_doc_free(m->docs[i]);
    free(m->docs);
    for (size_t i = 0; i < m->nindices; i++)
        free(m->indices[i]);
    free(m->indices);
    free(m->rules);
    for (size_t i = 0; i < m->nlookups; i++) {
        mapping_column_free(m->lookups[i].keys, m->lookups[i].info.nkeys);
        free(m->lookups[i].key_infos);
        free((char *)m->lookups[i].info.table);
        free((char *)m->lookups[i].info.column);
        free(m->lookups[i].where);
    }
    free(m->lookups);
    for (size_t i = 0; i < m->ntables; i++) {
        free(m->tables[i]);
        free(m->table_keys[i]);
    }
    free(m->tables);
    free(m->table_keys);
    for (size_t i = 0; i < m->nsql_tables; i++)
        free(m->sql_tables[i]);
    free(m->sql_tables);
    for (size_t i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->topics);
    jpath_destroy(m->type_path);
    mapping_upcast_free(m->upcast);
    free(m->name);
    free(m->file);
    free(m->dlq_topic);
    free(m->type_header);
    free(m);
}

/* Loads one mapping file; returns it, or NULL with problems added to errs. */
static mapping_t *mapping_load_file(const char *path, errlist_t *errs)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        errlist_add(errs, path, NULL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    mapping_t *m = xcalloc(1, sizeof(*m));
    m->file = xstrdup(path);
    mapping_pctx_t pc = {path, errs, m};
    int rc = -1;
    if (!json_is_object(root)) {
        errlist_add(errs, path, "$", "a mapping is a JSON object");
    } else {
        int up = mapping_upcast_parse(&pc, root); /* takes its keys out of root */
        rc = parse_header(&pc, root) | up;
        if (parse_rules(&pc, json_object_get(root, "events")) != 0)
            rc = -1;
        if (rc == 0 && check_table_keys(&pc) != 0)
            rc = -1;
    }
    json_decref(root);
    if (rc != 0) {
        mapping_destroy(m);
        return NULL;
    }
    return m;
}

/* 1 when s ends with suffix. */
static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* qsort() order of file names: strcmp(). */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

mapping_set_t *mapping_set_load(const char *dir, errlist_t *errs)
{
    DIR *d = opendir(dir);
    if (!d) {
        errlist_add(errs, dir, NULL, "cannot open the mappings directory: %m");
        return NULL;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !ends_with(de->d_name, ".json"))
            continue;
        names = xrealloc(names, (n + 1) * sizeof(char *));
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(char *), cmp_names);
    mapping_set_t *set = xcalloc(1, sizeof(*set));
    set->items = xcalloc(n, sizeof(mapping_t *));
    size_t before = errlist_count(errs);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        mapping_t *m = mapping_load_file(path, errs);
        for (size_t k = 0; m && k < set->n; k++) {
            if (strcmp(set->items[k]->name, m->name) == 0)
                errlist_add(errs, path, "$.projection", "projection \"%s\" is also defined in %s",
                            m->name, set->items[k]->file);
        }
        if (m)
            set->items[set->n++] = m;
        free(names[i]);
    }
    free(names);
    if (n == 0)
        errlist_add(errs, dir, NULL, "no mapping files (*.json) in this directory");
    if (errlist_count(errs) > before) {
        mapping_set_destroy(set);
        return NULL;
    }
    return set;
}

void mapping_set_destroy(mapping_set_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        mapping_destroy(set->items[i]);
    free(set->items);
    free(set);
}

size_t mapping_set_count(const mapping_set_t *set)
{
    return set->n;
}

mapping_t *mapping_set_get(const mapping_set_t *set, size_t i)
{
    return set->items[i];
}

/* ---- accessors ---- */

const char *mapping_name(const mapping_t *m)
{
    return m->name;
}
const char *mapping_file(const mapping_t *m)
{
    return m->file;
}
size_t mapping_topic_count(const mapping_t *m)
{
    return m->ntopics;
}
const char *mapping_topic(const mapping_t *m, size_t i)
{
    return m->topics[i];
}
const char *mapping_dlq_topic(const mapping_t *m)
{
    return m->dlq_topic;
}
int mapping_allows_partial_rebuild(const mapping_t *m)
{
    return m->partial_rebuild;
}
int mapping_parks(const mapping_t *m)
{
    return m->park;
}
const char *mapping_type_header(const mapping_t *m)
{
    return m->type_header;
}
const char *mapping_format(const mapping_t *m)
{
    return m->format;
}
size_t mapping_table_count(const mapping_t *m)
{
    return m->ntables;
}
const char *mapping_table(const mapping_t *m, size_t i)
{
    return m->tables[i];
}
void mapping_add_sql_table(mapping_t *m, const char *table)
{
    for (size_t i = 0; i < m->nsql_tables; i++)
        if (strcmp(m->sql_tables[i], table) == 0)
            return;
    m->sql_tables = xrealloc(m->sql_tables, (m->nsql_tables + 1) * sizeof(char *));
    m->sql_tables[m->nsql_tables++] = xstrdup(table);
}
void mapping_add_sql_write(mapping_t *m, size_t i, const char *table)
{
    mapping_action_t *a = m->actions[i];
    mapping_add_sql_table(m, table);
    a->writes_known = 1;
    for (size_t k = 0; k < a->nwrites; k++)
        if (strcmp(a->writes[k], table) == 0)
            return;
    a->writes = xrealloc(a->writes, (a->nwrites + 1) * sizeof(char *));
    a->writes[a->nwrites++] = xstrdup(table);
}
size_t mapping_sql_table_count(const mapping_t *m)
{
    return m->nsql_tables;
}
const char *mapping_sql_table(const mapping_t *m, size_t i)
{
    return m->sql_tables[i];
}
size_t mapping_doc_count(const mapping_t *m)
{
    return m->ndocs;
}
const mapping_doc_info_t *mapping_doc_info(const mapping_t *m, size_t i)
{
    return mapping_doc_info_of(m->docs[i]);
}
size_t mapping_index_count(const mapping_t *m)
{
    return m->nindices;
}
const char *mapping_index(const mapping_t *m, size_t i)
{
    return m->indices[i];
}
