/* Document actions of a mapping ("index", "delete_document"): parse, bind and evaluate them.
 *
 *   {"index": "orders", "id": "$.orderId",
 *    "from_row": {"table": "order_detail", "key": {"order_id": "$.orderId"}},
 *    "fields": {"orderId": "order_id", "skus": {"sql": "jsonb_path_query_array(items,
 * '$[*].sku')"}}}
 *   {"index": "orders", "id": "$.orderId", "document": {"orderId": "$.orderId", ...}}
 *   {"delete_document": "orders", "id": "$.orderId"}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping_internal.h"
#include "strbuf.h"
#include "xalloc.h"

#define DOC_ID_MAX 512 /* bytes; Elasticsearch refuses longer ids */

struct mapping_doc {
    mapping_doc_info_t info; /* first: mapping_doc_info_of() returns it */
    value_spec_t id;
    column_spec_t *keys; /* from_row */
    mapping_column_info_t *key_infos;
    mapping_doc_field_t *fields; /* from_row */
    char **built_names;          /* "document": each field's name as a JSON string */
    value_spec_t *built;
    size_t nbuilt;
};

int mapping_doc_is(json_t *j)
{
    return json_is_object(j) &&
           (json_object_get(j, "index") != NULL || json_object_get(j, "delete_document") != NULL);
}

mapping_doc_info_t *mapping_doc_info_of(mapping_doc_t *d)
{
    return &d->info;
}

void mapping_doc_free(mapping_doc_t *d)
{
    if (!d)
        return;
    mapping_value_free(&d->id);
    mapping_column_free(d->keys, d->info.nkeys);
    free(d->key_infos);
    for (size_t i = 0; i < d->info.nfields; i++) {
        free((char *)d->fields[i].name);
        free((char *)d->fields[i].column);
        free((char *)d->fields[i].sql);
    }
    free(d->fields);
    for (size_t i = 0; i < d->nbuilt; i++) {
        free(d->built_names[i]);
        mapping_value_free(&d->built[i]);
    }
    free(d->built_names);
    free(d->built);
    free((char *)d->info.index);
    free((char *)d->info.table);
    free((char *)d->info.where);
    free(d);
}

/* Elasticsearch's rules for index (and alias) names. */
static int valid_index_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || strchr("-_+", s[0]) || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* Parses "from_row" (table and key) into d. Returns 0, or -1 after adding the problems to
 * errs. */
static int parse_from_row(mapping_doc_t *d, json_t *fr, const char *file, const char *where,
                          errlist_t *errs)
{
    static const char *const allowed[] = {"table", "key", NULL};
    char w[600];
    snprintf(w, sizeof(w), "%s.from_row", where);
    if (!json_is_object(fr) || !json_is_string(json_object_get(fr, "table")) ||
        !json_is_object(json_object_get(fr, "key")) ||
        json_object_size(json_object_get(fr, "key")) == 0) {
        errlist_add(errs, file, w, "expected {\"table\": name, \"key\": {column: value, ...}}");
        return -1;
    }
    int rc = mapping_column_check_fields(file, errs, fr, w, allowed);
    d->info.table = xstrdup(json_string_value(json_object_get(fr, "table")));
    json_t *key = json_object_get(fr, "key");
    d->keys = xcalloc(json_object_size(key), sizeof(*d->keys));
    const char *name;
    json_t *spec;
    json_object_foreach(key, name, spec)
    {
        char kw[700];
        snprintf(kw, sizeof(kw), "%s.key.%s", w, name);
        column_spec_t *c = &d->keys[d->info.nkeys++];
        c->info.name = xstrdup(name);
        if (mapping_value_parse(&c->val, spec, file, kw, NULL, NULL, errs) != 0)
            rc = -1;
    }
    d->key_infos = mapping_column_infos(d->keys, d->info.nkeys);
    d->info.keys = d->key_infos;
    return rc;
}

/* Parses "fields" of a from_row document into d. Returns 0, or -1 after adding the problems
 * to errs. */
static int parse_row_fields(mapping_doc_t *d, json_t *fields, const char *file, const char *where,
                            errlist_t *errs)
{
    char w[600];
    snprintf(w, sizeof(w), "%s.fields", where);
    if (!json_is_object(fields) || json_object_size(fields) == 0) {
        errlist_add(errs, file, w,
                    "expected {\"document field\": \"column\" or {\"sql\": expression}, ...}");
        return -1;
    }
    int rc = 0;
    d->fields = xcalloc(json_object_size(fields), sizeof(*d->fields));
    const char *name;
    json_t *spec;
    json_object_foreach(fields, name, spec)
    {
        mapping_doc_field_t *f = &d->fields[d->info.nfields++];
        f->name = xstrdup(name);
        json_t *sql = json_is_object(spec) ? json_object_get(spec, "sql") : NULL;
        if (json_is_string(spec) && json_string_length(spec) > 0) {
            f->column = xstrdup(json_string_value(spec));
        } else if (json_is_string(sql) && json_object_size(spec) == 1) {
            f->sql = xstrdup(json_string_value(sql));
        } else {
            char fw[700];
            snprintf(fw, sizeof(fw), "%s.%s", w, name);
            errlist_add(
                errs, file, fw,
                "expected a column name or {\"sql\": an expression over the row's columns}");
            rc = -1;
        }
    }
    d->info.fields = d->fields;
    return rc;
}

/* Parses "document" (fields built from the event) into d. Returns 0, or -1 after adding the
 * problems to errs. */
static int parse_built(mapping_doc_t *d, json_t *doc, const char *file, const char *where,
                       errlist_t *errs)
{
    char w[600];
    snprintf(w, sizeof(w), "%s.document", where);
    if (!json_is_object(doc) || json_object_size(doc) == 0) {
        errlist_add(errs, file, w, "expected a non-empty object of field: value");
        return -1;
    }
    int rc = 0;
    d->built_names = xcalloc(json_object_size(doc), sizeof(char *));
    d->built = xcalloc(json_object_size(doc), sizeof(value_spec_t));
    const char *name;
    json_t *spec;
    json_object_foreach(doc, name, spec)
    {
        char fw[700];
        snprintf(fw, sizeof(fw), "%s.%s", w, name);
        json_t *s = json_string(name);
        d->built_names[d->nbuilt] = mapping_value_dumps(s);
        json_decref(s);
        value_spec_t *vs = &d->built[d->nbuilt++];
        if (mapping_value_parse(vs, spec, file, fw, NULL, NULL, errs) != 0)
            rc = -1;
        vs->target = TARGET_JSON;
    }
    return rc;
}

/* Parses what an index action indexes: from_row (with fields) or document. Returns 0, or -1
 * after adding the problems to errs. */
static int parse_body(mapping_doc_t *d, json_t *j, const char *file, const char *where,
                      errlist_t *errs)
{
    json_t *fr = json_object_get(j, "from_row"), *doc = json_object_get(j, "document"),
           *fields = json_object_get(j, "fields");
    if (d->info.kind == MAPPING_DOC_DELETE)
        return 0;
    if (!fr == !doc) {
        errlist_add(errs, file, where,
                    "an index action takes either \"from_row\" (the document is the row the "
                    "event's writes left) or \"document\" (built from the event)");
        return -1;
    }
    if (fields && !fr) {
        errlist_add(errs, file, where, "\"fields\" goes with \"from_row\"");
        return -1;
    }
    if (doc)
        return parse_built(d, doc, file, where, errs);
    int rc = parse_from_row(d, fr, file, where, errs);
    if (fields && parse_row_fields(d, fields, file, where, errs) != 0)
        rc = -1;
    return rc;
}

mapping_doc_t *mapping_doc_parse(json_t *j, const char *file, const char *where, errlist_t *errs)
{
    static const char *const allowed_index[] = {"index",    "id",     "from_row",
                                                "document", "fields", NULL};
    static const char *const allowed_delete[] = {"delete_document", "id", NULL};
    json_t *index = json_object_get(j, "index"), *del = json_object_get(j, "delete_document");
    if (index && del) {
        errlist_add(errs, file, where, "an action has one of \"index\" and \"delete_document\"");
        return NULL;
    }
    json_t *name = index ? index : del;
    if (!json_is_string(name) || !valid_index_name(json_string_value(name))) {
        errlist_add(errs, file, where,
                    "\"%s\" takes an index name: lower-case letters, digits, '_', '-', '.', not "
                    "starting with '_', '-' or '+'",
                    index ? "index" : "delete_document");
        return NULL;
    }
    mapping_doc_t *d = xcalloc(1, sizeof(*d));
    d->info.kind = index ? MAPPING_DOC_INDEX : MAPPING_DOC_DELETE;
    d->info.index = xstrdup(json_string_value(name));
    char w[600];
    snprintf(w, sizeof(w), "%s: %s", file, where);
    d->info.where = xstrdup(w);
    int rc =
        mapping_column_check_fields(file, errs, j, where, index ? allowed_index : allowed_delete);
    json_t *id = json_object_get(j, "id");
    snprintf(w, sizeof(w), "%s.id", where);
    if (!id) {
        errlist_add(errs, file, w, "a document action needs the document's \"id\"");
        rc = -1;
    } else if (mapping_value_parse(&d->id, id, file, w, NULL, NULL, errs) != 0) {
        rc = -1;
    }
    if (parse_body(d, j, file, where, errs) != 0)
        rc = -1;
    if (rc != 0) {
        mapping_doc_free(d);
        return NULL;
    }
    return d;
}

char *mapping_doc_key_names(const mapping_doc_t *d)
{
    if (!d->info.table)
        return NULL;
    return mapping_column_names(d->keys, d->info.nkeys);
}

void mapping_doc_bind(mapping_doc_t *d, mapping_type_fn fn, void *ctx, const char *file,
                      errlist_t *errs)
{
    if (!d->info.table || !fn(ctx, d->info.table, NULL))
        return;
    const char *where = d->info.where + strlen(file) + 2;
    char w[700];
    snprintf(w, sizeof(w), "%s.from_row", where);
    mapping_column_bind_list(d->keys, d->key_infos, d->info.nkeys, d->info.table, w, "key", fn, ctx,
                             file, errs);
    for (size_t i = 0; i < d->info.nfields; i++) {
        const mapping_doc_field_t *f = &d->fields[i];
        if (f->column && !fn(ctx, d->info.table, f->column)) {
            snprintf(w, sizeof(w), "%s.fields.%s", where, f->name);
            errlist_add(errs, file, w, "column %s.%s does not exist in the database", d->info.table,
                        f->column);
        }
    }
}

/* A value that is text for PostgreSQL but a string in JSON: quoted; NULL when it cannot be. */
static char *quote_json(arena_t *arena, const char *s)
{
    json_t *j = json_string(s);
    char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!q)
        return NULL;
    char *out = arena_strndup(arena, q, strlen(q));
    free(q);
    return out;
}

/* Renders one field of a document built from the event as JSON text. */
static value_rc_t built_field(const value_spec_t *vs, const value_ctx_t *vc, const char **out,
                              char *errstr, size_t errsz)
{
    value_rc_t rc = mapping_value_eval(vs, vc, out, errstr, errsz);
    if (rc != VALUE_OK)
        return rc;
    if (!*out) {
        *out = "null";
        return VALUE_OK;
    }
    int textual = vs->kind == SRC_META &&
                  (vs->meta == META_TOPIC || vs->meta == META_KEY || vs->meta == META_TIMESTAMP);
    if (!textual)
        return VALUE_OK;
    if (!(*out = quote_json(vc->arena, *out))) {
        snprintf(errstr, errsz, "%s: the value is not valid UTF-8", vs->where);
        return VALUE_BAD;
    }
    return VALUE_OK;
}

/* Renders a document built from the event as JSON text into *out (in vc->arena). Returns
 * VALUE_OK, or VALUE_BAD with errstr set. */
static value_rc_t build_document(const mapping_doc_t *d, const value_ctx_t *vc, const char **out,
                                 char *errstr, size_t errsz)
{
    strbuf_t sb = STRBUF_INIT;
    strbuf_puts(&sb, "{");
    value_rc_t rc = VALUE_OK;
    for (size_t i = 0; i < d->nbuilt && rc == VALUE_OK; i++) {
        const char *v;
        rc = built_field(&d->built[i], vc, &v, errstr, errsz);
        if (rc == VALUE_OK)
            strbuf_printf(&sb, "%s%s:%s", i ? "," : "", d->built_names[i], v);
    }
    strbuf_puts(&sb, "}");
    *out = rc == VALUE_OK ? arena_strndup(vc->arena, sb.data, sb.len) : NULL;
    strbuf_free(&sb);
    return rc;
}

value_rc_t mapping_doc_eval(const mapping_doc_t *d, const value_ctx_t *vc, mapping_doc_op_t *op,
                            char *errstr, size_t errstr_size)
{
    memset(op, 0, sizeof(*op));
    op->doc = &d->info;
    value_rc_t rc = mapping_value_eval(&d->id, vc, &op->id, errstr, errstr_size);
    if (rc != VALUE_OK)
        return rc;
    if (!op->id || !*op->id || strlen(op->id) > DOC_ID_MAX) {
        snprintf(errstr, errstr_size, "%s: the document id is %s", d->id.where,
                 !op->id   ? "null"
                 : *op->id ? "longer than 512 bytes (Elasticsearch's limit)"
                           : "empty");
        return VALUE_BAD;
    }
    if (d->nbuilt)
        return build_document(d, vc, &op->body, errstr, errstr_size);
    if (!d->info.table)
        return VALUE_OK;
    const char **keys = arena_alloc(vc->arena, d->info.nkeys * sizeof(char *));
    for (size_t i = 0; i < d->info.nkeys; i++) {
        if ((rc = mapping_value_eval(&d->keys[i].val, vc, &keys[i], errstr, errstr_size)) !=
            VALUE_OK)
            return rc;
        if (!keys[i]) {
            snprintf(errstr, errstr_size, "%s: key column %s.%s is null", d->keys[i].val.where,
                     d->info.table, d->keys[i].info.name);
            return VALUE_BAD;
        }
    }
    op->keys = keys;
    return VALUE_OK;
}
