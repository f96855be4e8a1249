/* The state a mapping test case leaves, in expected.json's form, and the differences between two.
 *
 * Rows are matched by their table's key columns, documents by id, dead letters by line and
 * stage; values are compared through a canonical text (integral numbers as integers, others as
 * doubles, object keys sorted),
 * so that 1.50 from a numeric column equals the 1.5 a user writes. */
#include "teststate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_exec.h"
#include "sqlgen.h"
#include "xalloc.h"

const teststate_labels_t teststate_expected_labels = {"missing", "extra", "expected", "got"};

#define TEXT_FLAGS (JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

/* A copy of v with every integral number an integer and every other one a real: 1 and 1.0
 * compare equal, and integers keep all their 64 bits. */
static json_t *canon(json_t *v)
{
    const char *k;
    json_t *x, *out;
    size_t i;
    double d;
    switch (json_typeof(v)) {
    case JSON_REAL:
        d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9.2e18)
            return json_integer((json_int_t)d);
        return json_real(d);
    case JSON_OBJECT:
        out = json_object();
        json_object_foreach(v, k, x) json_object_set_new(out, k, canon(x));
        return out;
    case JSON_ARRAY:
        out = json_array();
        json_array_foreach(v, i, x) json_array_append_new(out, canon(x));
        return out;
    default:
        return json_incref(v);
    }
}

/* v's canonical text (caller frees). */
static char *canon_text(json_t *v)
{
    json_t *c = canon(v);
    char *s = json_dumps(c, TEXT_FLAGS | JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(c);
    if (!s)
        abort();
    return s;
}

static int same(json_t *a, json_t *b)
{
    char *x = canon_text(a), *y = canon_text(b);
    int eq = strcmp(x, y) == 0;
    free(x);
    free(y);
    return eq;
}

/* Appends v as JSON text. */
static void put_json(strbuf_t *out, json_t *v)
{
    char *s = json_dumps(v, TEXT_FLAGS);
    strbuf_puts(out, s ? s : "?");
    free(s);
}

/* The key of row: its key columns (all of them when cols is empty) in order, as an object for
 * display (*shown, new reference) and as canonical text (returned; caller frees). NULL when the
 * row lacks a key column. */
static char *row_key(json_t *row, const json_t *cols, json_t **shown)
{
    if (!json_array_size(cols)) {
        *shown = json_incref(row);
        return canon_text(row);
    }
    json_t *key = json_object(), *c;
    size_t i;
    json_array_foreach(cols, i, c)
    {
        json_t *v = json_object_get(row, json_string_value(c));
        if (!v) {
            json_decref(key);
            return NULL;
        }
        json_object_set(key, json_string_value(c), v);
    }
    *shown = key;
    return canon_text(key);
}

/* The row of rows whose key is key, or NULL. */
static json_t *find_row(json_t *rows, const json_t *cols, const char *key, size_t *at)
{
    json_t *r;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        json_t *shown = NULL;
        char *k = row_key(r, cols, &shown);
        int hit = k && strcmp(k, key) == 0;
        free(k);
        json_decref(shown);
        if (hit) {
            *at = i;
            return r;
        }
    }
    return NULL;
}

/* Compares the fields of a (all of them) with b's; prefix names the row or document, noun what
 * its fields are ("column", "field"). */
static size_t diff_fields(const char *prefix, const char *noun, json_t *a, json_t *b,
                          const teststate_labels_t *l, strbuf_t *out)
{
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach(a, k, v)
    {
        json_t *w = json_object_get(b, k);
        if (w && same(v, w))
            continue;
        strbuf_printf(out, "%s: %s: %s ", prefix, k, l->first);
        put_json(out, v);
        strbuf_printf(out, ", %s ", l->second);
        if (w)
            put_json(out, w);
        else
            strbuf_printf(out, "(no such %s)", noun);
        strbuf_puts(out, "\n");
        n++;
    }
    return n;
}

static void put_row_line(strbuf_t *out, const char *table, const char *what, json_t *shown)
{
    strbuf_printf(out, "table %s: %s row ", table, what);
    put_json(out, shown);
    strbuf_puts(out, "\n");
}

static size_t diff_table(const char *table, json_t *a, json_t *b, const json_t *cols,
                         const teststate_labels_t *l, strbuf_t *out)
{
    size_t n = 0, nb = json_array_size(b), i;
    char *matched = xcalloc(nb + 1, 1);
    json_t *r;
    json_array_foreach(a, i, r)
    {
        json_t *shown = NULL;
        char *key = row_key(r, cols, &shown);
        size_t at = 0;
        json_t *other = key ? find_row(b, cols, key, &at) : NULL;
        if (!other) {
            put_row_line(out, table, l->missing, shown);
            n++;
        } else {
            matched[at] = 1;
            strbuf_t prefix = STRBUF_INIT;
            strbuf_printf(&prefix, "table %s: row ", table);
            put_json(&prefix, shown);
            n += diff_fields(prefix.data, "column", r, other, l, out);
            strbuf_free(&prefix);
        }
        free(key);
        json_decref(shown);
    }
    json_array_foreach(b, i, r)
    {
        json_t *shown = NULL;
        char *key = matched[i] ? NULL : row_key(r, cols, &shown);
        if (key) {
            put_row_line(out, table, l->extra, shown);
            n++;
        }
        free(key);
        json_decref(shown);
    }
    free(matched);
    return n;
}

static size_t diff_index(const char *index, json_t *a, json_t *b, const teststate_labels_t *l,
                         strbuf_t *out)
{
    const char *id;
    json_t *doc;
    size_t n = 0;
    json_object_foreach(a, id, doc)
    {
        json_t *other = json_object_get(b, id);
        if (!other) {
            strbuf_printf(out, "index %s: %s document %s\n", index, l->missing, id);
            n++;
            continue;
        }
        strbuf_t prefix = STRBUF_INIT;
        strbuf_printf(&prefix, "index %s: document %s", index, id);
        n += diff_fields(prefix.data, "field", doc, other, l, out);
        strbuf_free(&prefix);
    }
    json_object_foreach(b, id, doc)
    {
        if (!json_object_get(a, id)) {
            strbuf_printf(out, "index %s: %s document %s\n", index, l->extra, id);
            n++;
        }
    }
    return n;
}

static const char *str_of(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The first dead letter of b not taken yet with d's line and stage, or -1. */
static long find_dead(json_t *b, json_t *d, const char *taken)
{
    json_t *x;
    size_t i;
    json_int_t line = json_integer_value(json_object_get(d, "line"));
    json_array_foreach(b, i, x)
    {
        if (!taken[i] && json_integer_value(json_object_get(x, "line")) == line &&
            strcmp(str_of(x, "stage"), str_of(d, "stage")) == 0)
            return (long)i;
    }
    return -1;
}

static size_t diff_dead(json_t *a, json_t *b, const teststate_labels_t *l, strbuf_t *out)
{
    size_t n = 0, i;
    char *taken = xcalloc(json_array_size(b) + 1, 1);
    json_t *d;
    json_array_foreach(a, i, d)
    {
        long line = (long)json_integer_value(json_object_get(d, "line"));
        long at = find_dead(b, d, taken);
        if (at < 0) {
            strbuf_printf(out, "dead letters: %s line %ld (stage %s)\n", l->missing, line,
                          str_of(d, "stage"));
            n++;
            continue;
        }
        taken[at] = 1;
        const char *want = str_of(d, "error"),
                   *got = str_of(json_array_get(b, (size_t)at), "error");
        if (!strstr(got, want)) {
            strbuf_printf(out, "dead letter line %ld (stage %s): error: %s \"%s\", %s \"%s\"\n",
                          line, str_of(d, "stage"), l->first, want, l->second, got);
            n++;
        }
    }
    json_array_foreach(b, i, d)
    {
        if (taken[i])
            continue;
        strbuf_printf(out, "dead letters: %s line %ld (stage %s): %s\n", l->extra,
                      (long)json_integer_value(json_object_get(d, "line")), str_of(d, "stage"),
                      str_of(d, "error"));
        n++;
    }
    free(taken);
    return n;
}

/* Compares every table (or index) of section that a or b names, a's first. */
static size_t diff_section(const json_t *a, const json_t *b, const char *section,
                           const json_t *keys, const teststate_labels_t *l, strbuf_t *out)
{
    json_t *sa = json_object_get(a, section), *sb = json_object_get(b, section);
    json_t *names = json_object(), *v, *none_rows = json_array(), *none_docs = json_object();
    const char *k;
    json_object_foreach(sa, k, v) json_object_set(names, k, json_true());
    json_object_foreach(sb, k, v) json_object_set(names, k, json_true());
    size_t n = 0;
    int tables = strcmp(section, "tables") == 0;
    json_t *none = tables ? none_rows : none_docs;
    json_object_foreach(names, k, v)
    {
        json_t *x = json_object_get(sa, k), *y = json_object_get(sb, k);
        if (tables)
            n += diff_table(k, x ? x : none, y ? y : none, json_object_get(keys, k), l, out);
        else
            n += diff_index(k, x ? x : none, y ? y : none, l, out);
    }
    json_decref(names);
    json_decref(none_rows);
    json_decref(none_docs);
    return n;
}

size_t teststate_diff(const json_t *a, const json_t *b, const json_t *keys,
                      const teststate_labels_t *l, strbuf_t *out)
{
    json_t *none = json_array(), *da = json_object_get(a, "dead_letters");
    json_t *db = json_object_get(b, "dead_letters");
    size_t n = diff_section(a, b, "tables", keys, l, out);
    n += diff_section(a, b, "documents", keys, l, out);
    n += diff_dead(da ? da : none, db ? db : none, l, out);
    json_decref(none);
    return n;
}

/* Parses one row as row_to_json() rendered it; numbers too large for an integer become reals. */
static json_t *parse_row(const char *text)
{
    json_t *row = json_loads(text, 0, NULL);
    return row ? row : json_loads(text, JSON_DECODE_INT_AS_REAL, NULL);
}

static int read_table(PGconn *conn, const char *table, const json_t *cols, json_t *rows,
                      char *errstr, size_t errsz)
{
    strbuf_t sql = STRBUF_INIT;
    strbuf_puts(&sql, "SELECT row_to_json(t)::text FROM ");
    sqlgen_put_table(&sql, table);
    strbuf_puts(&sql, " t ORDER BY ");
    json_t *c;
    size_t i;
    json_array_foreach(cols, i, c)
    {
        strbuf_puts(&sql, i ? ", t." : "t.");
        sqlgen_put_ident(&sql, json_string_value(c));
    }
    if (!json_array_size(cols))
        strbuf_puts(&sql, "row_to_json(t)::text");
    PGresult *r = NULL;
    pg_err_t e;
    int ok = pg_exec(conn, sql.data, 0, NULL, PG_SIMPLE, &r, &e) == 0;
    strbuf_free(&sql);
    if (!ok)
        snprintf(errstr, errsz, "reading table %s: %s", table, e.msg);
    for (int k = 0; ok && k < PQntuples(r); k++) {
        json_t *row = parse_row(PQgetvalue(r, k, 0));
        if (!row) {
            snprintf(errstr, errsz, "reading table %s: a row is not JSON jansson reads", table);
            ok = 0;
        }
        json_array_append_new(rows, row);
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int teststate_read_tables(PGconn *conn, const json_t *keys, json_t *state, char *errstr,
                          size_t errstr_size)
{
    json_t *tables = json_object(), *cols;
    json_object_set_new(state, "tables", tables);
    const char *t;
    json_object_foreach((json_t *)keys, t, cols)
    {
        json_t *rows = json_array();
        json_object_set_new(tables, t, rows);
        if (read_table(conn, t, cols, rows, errstr, errstr_size) != 0)
            return -1;
    }
    return 0;
}

static void check_rows(const char *table, json_t *rows, const json_t *cols, const char *file,
                       errlist_t *errs)
{
    json_t *seen = json_object(), *r;
    size_t i;
    json_array_foreach(rows, i, r)
    {
        char where[512];
        snprintf(where, sizeof(where), "$.tables.%s[%zu]", table, i);
        json_t *shown = NULL;
        char *key = json_is_object(r) ? row_key(r, cols, &shown) : NULL;
        if (!json_is_object(r))
            errlist_add(errs, file, where, "a row is an object of columns");
        else if (!key)
            errlist_add(errs, file, where, "the row lacks a key column of %s", table);
        else if (json_object_get(seen, key))
            errlist_add(errs, file, where, "a second row with the key of row %lld",
                        (long long)json_integer_value(json_object_get(seen, key)));
        else
            json_object_set_new(seen, key, json_integer((json_int_t)i));
        free(key);
        json_decref(shown);
    }
    json_decref(seen);
}

void teststate_check(const json_t *expected, const json_t *keys, const json_t *indices,
                     const char *file, errlist_t *errs)
{
    const char *k, *id;
    json_t *v, *doc;
    json_object_foreach(json_object_get(expected, "tables"), k, v)
    {
        if (!json_object_get(keys, k))
            errlist_add(errs, file, "$.tables", "%s is not a table the mappings write", k);
        else if (!json_is_array(v))
            errlist_add(errs, file, "$.tables", "%s: must be an array of rows", k);
        else
            check_rows(k, v, json_object_get(keys, k), file, errs);
    }
    json_object_foreach(json_object_get(expected, "documents"), k, v)
    {
        size_t i, known = 0;
        json_t *x;
        json_array_foreach(indices, i, x) known |= strcmp(json_string_value(x), k) == 0;
        if (!known)
            errlist_add(errs, file, "$.documents", "%s is not an index the mappings write", k);
        else if (!json_is_object(v))
            errlist_add(errs, file, "$.documents", "%s: must be an object: id -> document", k);
        json_object_foreach(json_is_object(v) ? v : NULL, id, doc)
        {
            if (!json_is_object(doc))
                errlist_add(errs, file, "$.documents", "%s.%s: a document is an object", k, id);
        }
    }
}

int teststate_write(const json_t *state, const char *path, char *errstr, size_t errstr_size)
{
    char *text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        snprintf(errstr, errstr_size, "%s: cannot be written", path);
    free(text);
    return ok ? 0 : -1;
}
