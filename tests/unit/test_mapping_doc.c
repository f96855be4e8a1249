/* Unit tests of document actions ("index", "delete_document"): load errors, binding, evaluation,
 * and the statement that reads from_row documents.
 *
 * Mapping and event texts are written with ' for " (support_dq). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mapping.h"
#include "sqlgen.h"
#include "support.h"

#define HEAD "'version': 1, 'projection': 'p', 'topics': ['t']"
#define UPSERT "{'upsert': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}}"
#define MAP(actions) "{" HEAD ", 'events': {'E': [" UPSERT ", " actions "]}}"
#define ROW_DOC(rest) "{'index': 'docs', 'id': '$.id', 'from_row': {'table': 'vals', " rest

/* Loads text_sq as the only mapping of a directory and binds it. Returns the set, or NULL with
 * the problems in errs. */
static mapping_set_t *load_one(const char *text_sq, errlist_t *errs, char *dir)
{
    char *text = support_dq(text_sq);
    support_write_file(dir, "a.json", text);
    free(text);
    mapping_set_t *set = mapping_set_load(dir, errs);
    if (set)
        mapping_bind_types(mapping_set_get(set, 0), support_column_type, NULL, errs);
    return set;
}

/* ---- load and binding errors ---- */

typedef struct load_row {
    const char *name;
    const char *mapping;
    const char *where; /* the problem's JSON path */
    const char *msg;   /* a substring of it */
} load_row_t;

static const load_row_t load_rows[] = {
    {"upper-case index name", MAP("{'index': 'Docs', 'id': '$.id', 'document': {'a': '$.t'}}"),
     "$.events.E[1]", "\"index\" takes an index name"},
    {"index name starting with _", MAP("{'index': '_docs', 'id': '$.id', 'document': {'a': 1}}"),
     "$.events.E[1]", "not starting with '_'"},
    {"index name not a string", MAP("{'index': 3, 'id': '$.id', 'document': {'a': 1}}"),
     "$.events.E[1]", "takes an index name"},
    {"index and delete_document", MAP("{'index': 'docs', 'delete_document': 'docs', 'id': '$.id'}"),
     "$.events.E[1]", "one of \"index\" and \"delete_document\""},
    {"missing id", MAP("{'index': 'docs', 'document': {'a': '$.t'}}"), "$.events.E[1].id",
     "needs the document's \"id\""},
    {"bad id path", MAP("{'index': 'docs', 'id': 'id', 'document': {'a': '$.t'}}"),
     "$.events.E[1].id", ""},
    {"neither from_row nor document", MAP("{'index': 'docs', 'id': '$.id'}"), "$.events.E[1]",
     "either \"from_row\""},
    {"from_row and document", MAP(ROW_DOC("'key': {'id': '$.id'}}, 'document': {'a': 1}}")),
     "$.events.E[1]", "either \"from_row\""},
    {"fields without from_row",
     MAP("{'index': 'docs', 'id': '$.id', 'document': {'a': 1}, 'fields': {'a': 'id'}}"),
     "$.events.E[1]", "\"fields\" goes with \"from_row\""},
    {"empty document", MAP("{'index': 'docs', 'id': '$.id', 'document': {}}"),
     "$.events.E[1].document", "non-empty object"},
    {"document field with a bad path",
     MAP("{'index': 'docs', 'id': '$.id', 'document': {'a': 'x'}}"), "$.events.E[1].document.a",
     ""},
    {"from_row a string", MAP("{'index': 'docs', 'id': '$.id', 'from_row': 'vals'}"),
     "$.events.E[1].from_row", "expected {\"table\""},
    {"from_row without key", MAP(ROW_DOC("'x': 1}}")), "$.events.E[1].from_row",
     "expected {\"table\""},
    {"from_row with an unknown field", MAP(ROW_DOC("'key': {'id': '$.id'}, 'x': 1}}")),
     "$.events.E[1].from_row.x", "unknown field"},
    {"from_row of a table the mapping does not write",
     MAP("{'index': 'docs', 'id': '$.id', 'from_row': {'table': 'other', 'key': {'id': "
         "'$.id'}}}"),
     "$.events.E[1]", "no action of this mapping writes"},
    {"from_row by other key columns", MAP(ROW_DOC("'key': {'t': '$.t'}}}")), "$.events.E[1]",
     "from_row reads table vals by (t) but the mapping writes it by (id)"},
    {"field neither column nor sql",
     MAP(ROW_DOC("'key': {'id': '$.id'}}, 'fields': {'a': {'sql': 1}}}")), "$.events.E[1].fields.a",
     "expected a column name or {\"sql\""},
    {"field with sql and more",
     MAP(ROW_DOC("'key': {'id': '$.id'}}, 'fields': {'a': {'sql': 't', 'x': 1}}}")),
     "$.events.E[1].fields.a", "expected a column name"},
    {"fields empty", MAP(ROW_DOC("'key': {'id': '$.id'}}, 'fields': {}}")), "$.events.E[1].fields",
     "expected {\"document field\""},
    {"unknown field of an index action",
     MAP("{'index': 'docs', 'id': '$.id', 'document': {'a': 1}, 'routing': 'x'}"),
     "$.events.E[1].routing", "unknown field"},
    {"delete_document with a document",
     MAP("{'delete_document': 'docs', 'id': '$.id', 'document': {'a': 1}}"),
     "$.events.E[1].document", "unknown field"},
    {"field column not in the table",
     MAP(ROW_DOC("'key': {'id': '$.id'}}, 'fields': {'a': "
                 "'nocol'}}")),
     "$.events.E[1].fields.a", "column vals.nocol does not exist"},
};

static void test_load_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(load_rows); i++) {
        const load_row_t *r = &load_rows[i];
        char dir[] = "/tmp/projector-mapdoc-XXXXXX";
        assert_non_null(mkdtemp(dir));
        errlist_t *errs = errlist_new();
        mapping_set_t *set = load_one(r->mapping, errs, dir);
        char want[600];
        snprintf(want, sizeof(want), "%s/a.json: %s: ", dir, r->where);
        int found = 0;
        for (size_t k = 0; k < errlist_count(errs); k++) {
            const char *e = errlist_get(errs, k);
            found |= strncmp(e, want, strlen(want)) == 0 && strstr(e, r->msg) != NULL;
        }
        if (!found) {
            fprintf(stderr, "%s: expected \"%s...%s\", got %zu problem(s):\n", r->name, want,
                    r->msg, errlist_count(errs));
            for (size_t k = 0; k < errlist_count(errs); k++)
                fprintf(stderr, "  %s\n", errlist_get(errs, k));
            fail_msg("%s", r->name);
        }
        mapping_set_destroy(set);
        errlist_destroy(errs);
        support_remove_dir(dir);
    }
}

/* ---- evaluation ---- */

#define EVAL_MAP                                                                                   \
    "{" HEAD ", 'events': {"                                                                       \
    "'Built': [{'index': 'docs', 'id': '$.id', 'document': {'id': '$.id', 'n': '$.n', 's': "       \
    "'$.s', 'lit': {'literal': 'x\\'y'}, 'items': {'count': '$.items'}, 'total': {'sum': "         \
    "'$.items[*].q'}, 'skus': {'collect': '$.items[*].sku'}, 'topic': {'meta': 'topic'}, "         \
    "'offset': {'meta': 'offset'}, 'obj': '$.obj', 'opt': {'path': '$.nope', 'optional': "         \
    "true}}}],"                                                                                    \
    "'Row': [" UPSERT ", {'index': 'docs', 'id': '$.id', 'from_row': {'table': 'vals', 'key': "    \
    "{'id': '$.id'}}}, {'index': 'more', 'id': {'meta': 'key'}, 'document': {'k': {'meta': "       \
    "'key'}}}],"                                                                                   \
    "'Gone': [{'delete_document': 'docs', 'id': '$.id'}]}}"

typedef struct eval_row {
    const char *name;
    const char *event;
    mapping_result_t rc;
    size_t nops;
    size_t op;         /* the op checked */
    const char *id;    /* its id */
    const char *body;  /* its body, NULL for none */
    const char *key;   /* from_row: its key value */
    const char *error; /* MAPPING_BAD: a substring */
} eval_row_t;

static const eval_row_t eval_rows[] = {
    {"built document, every kind of value",
     "{'type': 'Built', 'id': 'd-1', 'n': 2.5, 's': 'caf\\u00e9 \\'q\\'', 'items': [{'q': 2, "
     "'sku': 'A'}, {'q': '1.5', 'sku': 'B'}], 'obj': {'a': [1, null]}}",
     MAPPING_OK, 1, 0, "d-1",
     "{'id':'d-1','n':2.5,'s':'caf\xc3\xa9 "
     "\\'q\\'','lit':'x\\'y','items':2,'total':3.5,'skus':['A',"
     "'B'],'topic':'t','offset':7,'obj':{'a':[1,null]},'opt':null}",
     NULL, NULL},
    {"numeric id", "{'type': 'Built', 'id': 42, 'n': 1, 's': '', 'items': [], 'obj': null}",
     MAPPING_OK, 1, 0, "42", NULL, NULL, NULL},
    {"null id", "{'type': 'Built', 'id': null}", MAPPING_BAD, 0, 0, NULL, NULL, NULL,
     "$.events.Built[0].id: the document id is null"},
    {"empty id", "{'type': 'Built', 'id': ''}", MAPPING_BAD, 0, 0, NULL, NULL, NULL,
     "the document id is empty"},
    {"missing id", "{'type': 'Built'}", MAPPING_BAD, 0, 0, NULL, NULL, NULL,
     "required field $.id is missing"},
    {"missing document field", "{'type': 'Built', 'id': 'x'}", MAPPING_BAD, 0, 0, NULL, NULL, NULL,
     "$.events.Built[0].document.n: required field $.n is missing"},
    {"from_row document", "{'type': 'Row', 'id': 'r-1', 't': 'v'}", MAPPING_OK, 2, 0, "r-1", NULL,
     "r-1", NULL},
    {"document id from the message key", "{'type': 'Row', 'id': 'r-1', 't': 'v'}", MAPPING_OK, 2, 1,
     "k-9", "{'k':'k-9'}", NULL, NULL},
    {"delete", "{'type': 'Gone', 'id': 'g-1'}", MAPPING_OK, 1, 0, "g-1", NULL, NULL, NULL},
    {"type not named", "{'type': 'Other', 'id': 'x'}", MAPPING_SKIP, 0, 0, NULL, NULL, NULL, NULL},
    {"no type (mapping_eval refuses it)", "{'id': 'x'}", MAPPING_SKIP, 0, 0, NULL, NULL, NULL,
     NULL},
};

static void run_eval_row(const mapping_t *m, const eval_row_t *r, arena_t *arena)
{
    char *text = support_dq(r->event);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc)
        fail_msg("%s: event does not parse: %s", r->name, jerr.text);
    mapping_event_t ev = {doc, "t", 0, 7, -1, "k-9", 3, NULL, NULL, 0, 0, NULL, 0, 0, NULL, 0};
    mapping_doc_op_t ops[8];
    size_t nops = 99;
    char err[1024] = "";
    mapping_result_t rc = mapping_eval_docs(m, &ev, arena, ops, &nops, err, sizeof(err));
    if (rc != r->rc)
        fail_msg("%s: result %d, expected %d (%s)", r->name, rc, r->rc, err);
    if (rc == MAPPING_BAD && !strstr(err, r->error))
        fail_msg("%s: error \"%s\" lacks \"%s\"", r->name, err, r->error);
    if (rc == MAPPING_OK) {
        if (nops != r->nops)
            fail_msg("%s: %zu ops, expected %zu", r->name, nops, r->nops);
        const mapping_doc_op_t *op = &ops[r->op];
        assert_string_equal(op->id, r->id);
        if (r->body) {
            char *want = support_dq(r->body);
            if (!op->body || strcmp(op->body, want) != 0)
                fail_msg("%s: body\n  %s\nexpected\n  %s", r->name, op->body ? op->body : "NULL",
                         want);
            free(want);
        } else if (op->doc->table == NULL && op->doc->kind == MAPPING_DOC_INDEX) {
            assert_non_null(op->body);
        } else {
            assert_null(op->body);
        }
        if (r->key)
            assert_string_equal(op->keys[0], r->key);
        else
            assert_null(op->keys);
    }
    json_decref(doc);
    free(text);
}

static void test_eval(void **state)
{
    (void)state;
    char dir[] = "/tmp/projector-mapdoc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    errlist_t *errs = errlist_new();
    mapping_set_t *set = load_one(EVAL_MAP, errs, dir);
    if (!set || errlist_count(errs))
        fail_msg("the evaluation mapping does not load: %s",
                 errlist_count(errs) ? errlist_get(errs, 0) : "?");
    const mapping_t *m = mapping_set_get(set, 0);
    assert_int_equal(mapping_doc_count(m), 4);
    assert_int_equal(mapping_index_count(m), 2);
    assert_string_equal(mapping_index(m, 0), "docs");
    assert_string_equal(mapping_index(m, 1), "more");
    arena_t *arena = arena_new();
    for (size_t i = 0; i < N_ROWS(eval_rows); i++)
        run_eval_row(m, &eval_rows[i], arena);
    arena_destroy(arena);
    mapping_set_destroy(set);
    errlist_destroy(errs);
    support_remove_dir(dir);
}

/* ---- the statement reading from_row documents ---- */

typedef struct sql_row {
    const char *name;
    const char *action; /* the document action, with ' for " */
    const char *sql;
} sql_row_t;

static const sql_row_t sql_rows[] = {
    {"whole row", ROW_DOC("'key': {'id': '$.id'}}}"),
     "SELECT u.ord, r.doc FROM unnest($1::text[]) WITH ORDINALITY AS u(p1, ord) CROSS JOIN "
     "LATERAL (SELECT (to_jsonb(t))::text AS doc FROM \"vals\" AS t WHERE t.\"id\" = u.p1::text "
     "FOR SHARE) AS r"},
    {"fields, a column and an expression",
     ROW_DOC("'key': {'id': '$.id'}}, 'fields': {'it\\'s': 't', 'up': {'sql': 'upper(t2)'}}}"),
     "SELECT u.ord, r.doc FROM unnest($1::text[]) WITH ORDINALITY AS u(p1, ord) CROSS JOIN "
     "LATERAL (SELECT (jsonb_build_object('it''s', t.\"t\", 'up', (upper(t2))))::text AS doc "
     "FROM \"vals\" AS t WHERE t.\"id\" = u.p1::text FOR SHARE) AS r"},
};

static void test_doc_rows_sql(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(sql_rows); i++) {
        char dir[] = "/tmp/projector-mapdoc-XXXXXX";
        assert_non_null(mkdtemp(dir));
        errlist_t *errs = errlist_new();
        char mapping[4096];
        snprintf(mapping, sizeof(mapping), "{%s, 'events': {'E': [%s, %s]}}", HEAD, UPSERT,
                 sql_rows[i].action);
        mapping_set_t *set = load_one(mapping, errs, dir);
        if (!set || errlist_count(errs))
            fail_msg("%s: does not load: %s", sql_rows[i].name,
                     errlist_count(errs) ? errlist_get(errs, 0) : "?");
        char *sql = sqlgen_doc_rows(mapping_doc_info(mapping_set_get(set, 0), 0));
        if (strcmp(sql, sql_rows[i].sql) != 0)
            fail_msg("%s:\n  %s\nexpected\n  %s", sql_rows[i].name, sql, sql_rows[i].sql);
        free(sql);
        mapping_set_destroy(set);
        errlist_destroy(errs);
        support_remove_dir(dir);
    }
}

/* The sample domain indexes one document per order, read from its order_detail row. */
static void test_orders_documents(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s", support_data_dir(), SUPPORT_ORDERS_DIR);
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(dir, errs);
    assert_non_null(set);
    const mapping_t *m = mapping_set_get(set, 0);
    mapping_bind_types((mapping_t *)m, support_column_type, NULL, errs);
    assert_int_equal(errlist_count(errs), 0);
    assert_int_equal(mapping_index_count(m), 1);
    assert_string_equal(mapping_index(m, 0), "orders");
    assert_int_equal(mapping_doc_count(m), 4); /* one per event type */
    for (size_t i = 0; i < mapping_doc_count(m); i++) {
        const mapping_doc_info_t *d = mapping_doc_info(m, i);
        assert_string_equal(d->table, "order_detail");
        assert_int_equal(d->nkeys, 1);
        assert_string_equal(d->keys[0].type, "text");
        assert_int_equal(d->nfields, 9);
    }
    mapping_set_destroy(set);
    errlist_destroy(errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_doc_rows_sql),
        cmocka_unit_test(test_orders_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
