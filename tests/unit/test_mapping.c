/* Unit tests of mapping: load and validation errors, type binding, evaluation of events.
 *
 * Mapping and event texts in the tables are written with ' for " to stay readable; \' stands for
 * a real apostrophe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mapping.h"
#include "support.h"

/* ---- helpers ---- */

/* Writes text_sq, with ' turned into " (support_dq), to the file dir/name. */
static void write_sq(const char *dir, const char *name, const char *text_sq)
{
    char *text = support_dq(text_sq);
    support_write_file(dir, name, text);
    free(text);
}

/* Returns the problems of errs, one a line (caller frees). */
static char *all_errors(const errlist_t *errs)
{
    support_capture_t *c = support_capture_new();
    errlist_print(errs, support_capture_stream(c));
    return support_capture_text(c);
}

/* An expected problem: "<file>: <where>: ...msg..." (file relative to the directory, NULL for
 * the directory itself; where NULL when the problem names no JSON path). */
typedef struct want_err {
    const char *file;
    const char *where;
    const char *msg;
} want_err_t;

static int has_error(const errlist_t *errs, const char *dir, const want_err_t *w)
{
    char prefix[1024];
    int n = w->file ? snprintf(prefix, sizeof(prefix), "%s/%s: ", dir, w->file)
                    : snprintf(prefix, sizeof(prefix), "%s: ", dir);
    if (w->where)
        snprintf(prefix + n, sizeof(prefix) - (size_t)n, "%s: ", w->where);
    for (size_t i = 0; i < errlist_count(errs); i++) {
        const char *e = errlist_get(errs, i);
        if (strncmp(e, prefix, strlen(prefix)) == 0 && strstr(e + strlen(prefix), w->msg))
            return 1;
    }
    return 0;
}

static void check_errors(const char *row, const errlist_t *errs, const char *dir,
                         const want_err_t *want, size_t nwant, int exact_count)
{
    size_t n = 0;
    for (; n < nwant && want[n].msg; n++) {
        if (!has_error(errs, dir, &want[n])) {
            char *all = all_errors(errs);
            fail_msg("%s: no problem \"%s/%s: %s: ...%s...\" among:\n%s", row, dir,
                     want[n].file ? want[n].file : "", want[n].where ? want[n].where : "",
                     want[n].msg, all);
        }
    }
    if (exact_count && errlist_count(errs) != n) {
        char *all = all_errors(errs);
        fail_msg("%s: %zu problems, expected %zu:\n%s", row, errlist_count(errs), n, all);
    }
}

/* ---- (a) load errors ---- */

#define HEAD "'version': 1, 'projection': 'p', 'topics': ['t']"
#define EVENTS(x) "{" HEAD ", 'events': {" x "}}"
#define E1(action) EVENTS("'E': [" action "]")
#define UPSERT_VALS(cols) "{'upsert': 'vals', 'key': {'id': '$.id'}, 'columns': {" cols "}}"
#define LOOKUP_T(key) "{'lookup': {'table': 'vals', 'column': 't', 'key': {" key "}}}"

typedef struct load_row {
    const char *name;
    const char *files[3][2]; /* {file name, content} */
    want_err_t errs[3];
} load_row_t;

static const load_row_t load_rows[] = {
    /* the file header */
    {"wrong version",
     {{"a.json", "{'version': 2, 'projection': 'p', 'topics': ['t'], 'events': {'E': []}}"}},
     {{"a.json", "$.version", "expected 1 (the mapping format version)"}}},
    {"version as a string",
     {{"a.json", "{'version': '1', 'projection': 'p', 'topics': ['t'], 'events': {'E': []}}"}},
     {{"a.json", "$.version", "expected 1"}}},
    {"missing version",
     {{"a.json", "{'projection': 'p', 'topics': ['t'], 'events': {'E': []}}"}},
     {{"a.json", "$.version", "expected 1"}}},
    {"upper-case projection name",
     {{"a.json", "{'version': 1, 'projection': 'Orders', 'topics': ['t'], 'events': {'E': []}}"}},
     {{"a.json", "$.projection", "expected a name of lower-case letters, digits, '_' and '-'"}}},
    {"projection name with a space",
     {{"a.json", "{'version': 1, 'projection': 'a b', 'topics': ['t'], 'events': {'E': []}}"}},
     {{"a.json", "$.projection", "lower-case letters"}}},
    {"empty projection name",
     {{"a.json", "{'version': 1, 'projection': '', 'topics': ['t'], 'events': {'E': []}}"}},
     {{"a.json", "$.projection", "lower-case letters"}}},
    {"missing projection",
     {{"a.json", "{'version': 1, 'topics': ['t'], 'events': {'E': []}}"}},
     {{"a.json", "$.projection", "lower-case letters"}}},
    {"missing topics",
     {{"a.json", "{'version': 1, 'projection': 'p', 'events': {'E': []}}"}},
     {{"a.json", "$.topics", "expected a non-empty list of topic names"}}},
    {"empty topics",
     {{"a.json", "{'version': 1, 'projection': 'p', 'topics': [], 'events': {'E': []}}"}},
     {{"a.json", "$.topics", "expected a non-empty list of topic names"}}},
    {"topics not a list",
     {{"a.json", "{'version': 1, 'projection': 'p', 'topics': 't', 'events': {'E': []}}"}},
     {{"a.json", "$.topics", "non-empty list"}}},
    {"empty topic name",
     {{"a.json", "{'version': 1, 'projection': 'p', 'topics': [''], 'events': {'E': []}}"}},
     {{"a.json", "$.topics[0]", "expected a topic name"}}},
    {"topic not a string",
     {{"a.json", "{'version': 1, 'projection': 'p', 'topics': ['t', 5], 'events': {'E': []}}"}},
     {{"a.json", "$.topics[1]", "expected a topic name"}}},
    {"unknown top-level field",
     {{"a.json", "{" HEAD ", 'extra': 1, 'events': {'E': []}}"}},
     {{"a.json", "$.extra", "unknown field"}}},
    {"dead_letter_topic not a string",
     {{"a.json", "{" HEAD ", 'dead_letter_topic': 5, 'events': {'E': []}}"}},
     {{"a.json", "$.dead_letter_topic", "expected a topic name"}}},
    {"event_type field without $",
     {{"a.json", "{" HEAD ", 'event_type': {'field': 'type'}, 'events': {'E': []}}"}},
     {{"a.json", "$.event_type.field", "a JSON path starts with '$'"}}},
    {"event_type with field and header",
     {{"a.json", "{" HEAD ", 'event_type': {'field': '$.t', 'header': 'h'}, 'events': {'E': []}}"}},
     {{"a.json", "$.event_type", "expected {\"field\": \"$.type\"} or {\"header\": \"name\"}"}}},
    {"event_type a string",
     {{"a.json", "{" HEAD ", 'event_type': '$.type', 'events': {'E': []}}"}},
     {{"a.json", "$.event_type", "expected {\"field\""}}},
    {"event_type header not a string",
     {{"a.json", "{" HEAD ", 'event_type': {'header': 1}, 'events': {'E': []}}"}},
     {{"a.json", "$.event_type", "expected {\"field\""}}},
    {"several header problems at once",
     {{"a.json", "{'version': 3, 'projection': 'P', 'events': {'E': []}}"}},
     {{"a.json", "$.version", "expected 1"},
      {"a.json", "$.projection", "lower-case letters"},
      {"a.json", "$.topics", "non-empty list"}}},
    /* events and actions */
    {"missing events",
     {{"a.json", "{" HEAD "}"}},
     {{"a.json", "$.events", "expected an object mapping each event type to a list of actions"}}},
    {"empty events", {{"a.json", EVENTS("")}}, {{"a.json", "$.events", "expected an object"}}},
    {"actions not a list",
     {{"a.json", EVENTS("'E': {}")}},
     {{"a.json", "$.events.E", "expected a list of actions"}}},
    {"action not an object",
     {{"a.json", E1("'x'")}},
     {{"a.json", "$.events.E[0]", "an action is an object"}}},
    {"action with two kinds",
     {{"a.json", E1("{'upsert': 'vals', 'update': 'vals', 'key': {'id': '$.id'}, "
                    "'columns': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0]", "an action has exactly one of upsert, update, delete, sql"}}},
    {"action with sql and delete",
     {{"a.json", E1("{'delete': 'vals', 'sql': 'SELECT 1', 'key': {'id': '$.id'}}")}},
     {{"a.json", "$.events.E[0]", "exactly one of"}}},
    {"action with no kind",
     {{"a.json", E1("{'key': {'id': '$.id'}, 'columns': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0]",
       "an action needs one of \"upsert\", \"update\", \"delete\" (a table) or \"sql\""}}},
    {"second action with no kind",
     {{"a.json", EVENTS("'E': [" UPSERT_VALS("'t': '$.t'") ", {'table': 'vals'}]")}},
     {{"a.json", "$.events.E[1]", "an action needs one of"}}},
    {"table not a string",
     {{"a.json", E1("{'upsert': 5, 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0]", "\"upsert\" takes a string"}}},
    {"sql not a string",
     {{"a.json", E1("{'sql': 5}")}},
     {{"a.json", "$.events.E[0]", "\"sql\" takes a string"}}},
    {"unknown field in an action",
     {{"a.json", E1("{'upsert': 'vals', 'key': {'id': '$.id'}, 'colums': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0].colums", "unknown field"},
      {"a.json", "$.events.E[0].columns", "expected a non-empty object of column: value"}}},
    {"missing key",
     {{"a.json", E1("{'upsert': 'vals', 'columns': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0].key", "expected a non-empty object of column: value"}}},
    {"empty key",
     {{"a.json", E1("{'update': 'vals', 'key': {}, 'columns': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0].key", "non-empty object"}}},
    {"missing columns",
     {{"a.json", E1("{'update': 'vals', 'key': {'id': '$.id'}}")}},
     {{"a.json", "$.events.E[0].columns", "non-empty object"}}},
    /* column ops */
    {"unknown op",
     {{"a.json", E1(UPSERT_VALS("'t': {'path': '$.t', 'op': 'mul'}"))}},
     {{"a.json", "$.events.E[0].columns.t",
       "unknown op (expected set, add, subtract, max, min, append or set_if_null)"}}},
    {"op not a string",
     {{"a.json", E1(UPSERT_VALS("'i': {'path': '$.i', 'op': 1}"))}},
     {{"a.json", "$.events.E[0].columns.i", "unknown op"}}},
    {"op in a key",
     {{"a.json", E1("{'upsert': 'vals', 'key': {'id': {'path': '$.id', 'op': 'add'}}, "
                    "'columns': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0].key.id", "\"op\" is not allowed here"}}},
    /* value specs */
    {"plain string not a path",
     {{"a.json", E1(UPSERT_VALS("'t': 'CREATED'"))}},
     {{"a.json", "$.events.E[0].columns.t",
       "a string value is a JSON path (\"$.field\"); for a constant text write "
       "{\"literal\": \"CREATED\"}"}}},
    {"empty string value",
     {{"a.json", E1(UPSERT_VALS("'t': ''"))}},
     {{"a.json", "$.events.E[0].columns.t", "a string value is a JSON path"}}},
    {"plain string key not a path",
     {{"a.json", E1("{'upsert': 'vals', 'key': {'id': 'id'}, 'columns': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0].key.id", "a string value is a JSON path"}}},
    {"[*] path as a plain value",
     {{"a.json", E1(UPSERT_VALS("'t': '$.items[*].sku'"))}},
     {{"a.json", "$.events.E[0].columns.t",
       "a [*] path matches many values: use {\"sum\": ...}, {\"count\": ...} or "
       "{\"collect\": ...}"}}},
    {"[*] path in a path object",
     {{"a.json", E1(UPSERT_VALS("'t': {'path': '$.items[*].sku', 'optional': true}"))}},
     {{"a.json", "$.events.E[0].columns.t", "a [*] path matches many values"}}},
    {"bad path",
     {{"a.json", E1(UPSERT_VALS("'t': '$.a..b'"))}},
     {{"a.json", "$.events.E[0].columns.t", "empty field name at position 4"}}},
    {"bad path in sum",
     {{"a.json", E1(UPSERT_VALS("'n': {'sum': '$.items[x]'}"))}},
     {{"a.json", "$.events.E[0].columns.n", "expected an index, * or a quoted key"}}},
    {"sum of a non-string",
     {{"a.json", E1(UPSERT_VALS("'n': {'sum': 5}"))}},
     {{"a.json", "$.events.E[0].columns.n", "expected a JSON path string such as \"$.orderId\""}}},
    {"array as a value",
     {{"a.json", E1(UPSERT_VALS("'t': [1]"))}},
     {{"a.json", "$.events.E[0].columns.t", "expected a JSON path, a constant or a value object"}}},
    {"two sources in one value",
     {{"a.json", E1(UPSERT_VALS("'t': {'path': '$.t', 'literal': 1}"))}},
     {{"a.json", "$.events.E[0].columns.t",
       "a value has exactly one of path, literal, meta, sum, count, collect, lookup"}}},
    {"no source in a value",
     {{"a.json", E1(UPSERT_VALS("'t': {'optional': true}"))}},
     {{"a.json", "$.events.E[0].columns.t", "a value has exactly one of"}}},
    {"unknown field in a value",
     {{"a.json", E1(UPSERT_VALS("'t': {'pth': '$.t'}"))}},
     {{"a.json", "$.events.E[0].columns.t", "unknown field \"pth\""}}},
    {"optional not a boolean",
     {{"a.json", E1(UPSERT_VALS("'t': {'path': '$.t', 'optional': 'yes'}"))}},
     {{"a.json", "$.events.E[0].columns.t", "\"optional\" takes true or false"}}},
    {"unknown meta",
     {{"a.json", E1(UPSERT_VALS("'t': {'meta': 'headers'}"))}},
     {{"a.json", "$.events.E[0].columns.t",
       "\"meta\" is one of topic, partition, offset, timestamp, key"}}},
    {"malformed lookup",
     {{"a.json", E1(UPSERT_VALS("'t': {'lookup': {'table': 'other', 'column': 'x'}}"))}},
     {{"a.json", "$.events.E[0].columns.t", "a lookup is {\"table\": t, \"column\": c"}}},
    {"lookup with an extra field",
     {{"a.json", E1(UPSERT_VALS("'t': {'lookup': {'table': 'other', 'column': 'x', "
                                "'key': {'id': '$.id'}, 'default': 1}}"))}},
     {{"a.json", "$.events.E[0].columns.t", "a lookup is {"}}},
    {"op in a lookup key",
     {{"a.json",
       EVENTS("'E': [{'upsert': 'other', 'key': {'id': '$.id'}, "
              "'columns': {'x': " LOOKUP_T("'id': {'path': '$.id', 'op': 'max'}") "}}]")}},
     {{"a.json", "$.events.E[0].columns.x.lookup.key.id", "\"op\" is not allowed here"}}},
    {"lookup inside a lookup key",
     {{"a.json", EVENTS("'E': [{'upsert': 'other', 'key': {'id': '$.id'}, "
                        "'columns': {'x': " LOOKUP_T("'id': " LOOKUP_T("'id': '$.id'")) "}}]")}},
     {{"a.json", "$.events.E[0].columns.x.lookup.key.id", "a lookup is not allowed here"}}},
    /* sql actions */
    {"sql with more placeholders than params",
     {{"a.json", E1("{'sql': 'UPDATE vals SET t = $1 WHERE id = $2', 'params': ['$.t']}")}},
     {{"a.json", "$.events.E[0].params", "the statement uses 2 parameter(s) but 1 are given"}}},
    {"sql with fewer placeholders than params",
     {{"a.json", E1("{'sql': 'DELETE FROM vals WHERE id = $1', 'params': ['$.id', '$.t']}")}},
     {{"a.json", "$.events.E[0].params", "uses 1 parameter(s) but 2 are given"}}},
    {"sql with params but no placeholder",
     {{"a.json", E1("{'sql': 'SELECT 1', 'params': ['$.id']}")}},
     {{"a.json", "$.events.E[0].params", "uses 0 parameter(s)"}}},
    {"sql placeholder inside a string literal is not counted",
     {{"a.json", E1("{'sql': 'SELECT \\'$1\\', $1', 'params': ['$.a', '$.b']}")}},
     {{"a.json", "$.events.E[0].params", "uses 1 parameter(s) but 2 are given"}}},
    {"sql placeholder $10 counts as ten",
     {{"a.json", E1("{'sql': 'SELECT $10', 'params': ['$.a']}")}},
     {{"a.json", "$.events.E[0].params", "uses 10 parameter(s)"}}},
    {"sql params not a list",
     {{"a.json", E1("{'sql': 'SELECT $1', 'params': '$.a'}")}},
     {{"a.json", "$.events.E[0]", "\"params\" takes an array of values"}}},
    {"sql action with a key",
     {{"a.json", E1("{'sql': 'SELECT 1', 'key': {'id': '$.id'}}")}},
     {{"a.json", "$.events.E[0].key", "unknown field"}}},
    {"bad sql param",
     {{"a.json", E1("{'sql': 'SELECT $1', 'params': ['id']}")}},
     {{"a.json", "$.events.E[0].params[0]", "a string value is a JSON path"}}},
    /* delete and guard */
    {"delete with columns",
     {{"a.json", E1("{'delete': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}}")}},
     {{"a.json", "$.events.E[0]", "a delete takes no \"columns\""}}},
    {"guard without value",
     {{"a.json", E1("{'update': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}, "
                    "'guard': {'column': 'v'}}")}},
     {{"a.json", "$.events.E[0].guard",
       "expected {\"column\": version column, \"value\": the event's version}"}}},
    {"guard column not a string",
     {{"a.json", E1("{'update': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}, "
                    "'guard': {'column': 1, 'value': '$.v'}}")}},
     {{"a.json", "$.events.E[0].guard", "expected {\"column\""}}},
    {"guard with an unknown field",
     {{"a.json", E1("{'update': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}, "
                    "'guard': {'column': 'v', 'value': '$.v', 'strict': true}}")}},
     {{"a.json", "$.events.E[0].guard.strict", "unknown field"}}},
    {"guard column also in columns",
     {{"a.json", E1("{'upsert': 'vals', 'key': {'id': '$.id'}, "
                    "'columns': {'t': '$.t', 'v': '$.v'}, 'guard': {'column': 'v', 'value': "
                    "'$.v'}}")}},
     {{"a.json", "$.events.E[0]",
       "column v is the guard's version column: the guard sets it, so leave it out of "
       "\"columns\""}}},
    {"lookup in a guard",
     {{"a.json", E1("{'update': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}, "
                    "'guard': {'column': 'v', 'value': " LOOKUP_T("'id': '$.id'") "}}")}},
     {{"a.json", "$.events.E[0].guard.value", "a lookup is not allowed here"}}},
    /* rules across actions */
    {"lookup after a write to the same table",
     {{"a.json", EVENTS("'E': [" UPSERT_VALS("'t': '$.t'") ", {'upsert': 'other', 'key': {'id': "
                                                           "'$.id'}, 'columns': {'x': " LOOKUP_T(
                                                               "'id': '$.id'") "}}]")}},
     {{"a.json", "$.events.E[1]",
       "this lookup reads table vals, which action 0 of the same event writes first; put the "
       "lookup before that write"}}},
    {"lookup after a sql action",
     {{"a.json", EVENTS("'E': [{'sql': 'SELECT 1'}, {'upsert': 'other', 'key': {'id': '$.id'}, "
                        "'columns': {'x': " LOOKUP_T("'id': '$.id'") "}}]")}},
     {{"a.json", "$.events.E[1]", "this lookup reads table vals, which action 0"}}},
    {"lookup after a write to the same table, third action",
     {{"a.json", EVENTS("'E': [{'upsert': 'other', 'key': {'id': '$.id'}, 'columns': {'x': "
                        "'$.x'}}, " UPSERT_VALS(
                            "'t': '$.t'") ", {'update': 'other', 'key': {'id': '$.id'}, "
                                          "'columns': {'x': " LOOKUP_T("'id': '$.id'") "}}]")}},
     {{"a.json", "$.events.E[2]", "which action 1 of the same event writes first"}}},
    {"two writes to one table with different keys",
     {{"a.json", EVENTS("'E': [" UPSERT_VALS(
                     "'t': '$.t'") "], 'F': [{'update': 'vals', "
                                   "'key': {'t': '$.t'}, 'columns': {'t2': '$.t2'}}]")}},
     {{"a.json", "$.events.F[0]",
       "table vals is keyed by (id) elsewhere in this mapping, here by (t); every write to a "
       "table must use the same key columns in the same order"}}},
    {"two writes to one table with keys in another order",
     {{"a.json", EVENTS("'E': [{'upsert': 'vals', 'key': {'id': '$.id', 't': '$.t'}, "
                        "'columns': {'n': '$.n'}}], 'F': [{'delete': 'vals', "
                        "'key': {'t': '$.t', 'id': '$.id'}}]")}},
     {{"a.json", "$.events.F[0]", "keyed by (id,t) elsewhere in this mapping, here by (t,id)"}}},
    {"lookup keyed differently from the writes",
     {{"a.json",
       EVENTS("'E': [{'upsert': 'other', 'key': {'id': '$.id'}, 'columns': {'x': " LOOKUP_T(
           "'t': '$.t'") "}}], 'F': [" UPSERT_VALS("'t': '$.t'") "]")}},
     {{"a.json", "$.events.E[0].columns.x.lookup",
       "a lookup in table vals uses key (t) but the mapping writes it by (id)"}}},
    /* files and directories */
    {"not JSON", {{"a.json", "{'version': 1,"}}, {{"a.json", NULL, "line 1, column"}}},
    {"not an object", {{"a.json", "[]"}}, {{"a.json", "$", "a mapping is a JSON object"}}},
    {"duplicate JSON key",
     {{"a.json", "{'version': 1, 'version': 1}"}},
     {{"a.json", NULL, "duplicate object key"}}},
    {"duplicate projection names across files",
     {{"a.json", E1(UPSERT_VALS("'t': '$.t'"))}, {"b.json", E1(UPSERT_VALS("'t2': '$.t'"))}},
     {{"b.json", "$.projection", "projection \"p\" is also defined in "},
      {"b.json", "$.projection", "/a.json"}}},
    {"one bad file among good ones",
     {{"a.json", E1(UPSERT_VALS("'t': '$.t'"))},
      {"b.json", "{'version': 0, 'projection': 'q', 'topics': ['t'], 'events': {'E': []}}"},
      {"c.json", "{'version': 1, 'projection': 'r', 'topics': ['t'], 'events': {'E': []}}"}},
     {{"b.json", "$.version", "expected 1"}}},
};

/* Regression rows for bugs these tests found (now fixed). A directory without mapping files makes
 * mapping_set_load() call qsort(NULL, 0, ...), which UBSan rejects. */
static const load_row_t regression_load_rows[] = {
    {"empty directory",
     {{NULL, NULL}},
     {{NULL, NULL, "no mapping files (*.json) in this directory"}}},
    {"only hidden and other files",
     {{".hidden.json", "not json"}, {"README.md", "# notes"}, {"a.json.bak", "{}"}},
     {{NULL, NULL, "no mapping files (*.json) in this directory"}}},
};

static void run_load_rows(const load_row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const load_row_t *r = &rows[i];
        char dir[] = "/tmp/projector-mapping-XXXXXX";
        assert_non_null(mkdtemp(dir));
        for (size_t f = 0; f < N_ROWS(r->files) && r->files[f][0]; f++)
            write_sq(dir, r->files[f][0], r->files[f][1]);
        errlist_t *errs = errlist_new();
        mapping_set_t *set = mapping_set_load(dir, errs);
        if (set)
            fail_msg("%s: the set loaded, expected problems", r->name);
        check_errors(r->name, errs, dir, r->errs, N_ROWS(r->errs), 0);
        errlist_destroy(errs);
        support_remove_dir(dir);
    }
}

static void test_load_errors(void **state)
{
    (void)state;
    run_load_rows(load_rows, N_ROWS(load_rows));
}

static void test_load_regressions(void **state)
{
    (void)state;
    run_load_rows(regression_load_rows, N_ROWS(regression_load_rows));
}

static void test_load_missing_dir(void **state)
{
    (void)state;
    errlist_t *errs = errlist_new();
    assert_null(mapping_set_load("/nonexistent/projector-mappings", errs));
    assert_int_equal(errlist_count(errs), 1);
    assert_non_null(strstr(errlist_get(errs, 0), "/nonexistent/projector-mappings: "));
    assert_non_null(strstr(errlist_get(errs, 0), "cannot open the mappings directory"));
    errlist_destroy(errs);
}

/* Files load in name order; hidden and non-.json files are ignored. */
static void test_load_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/projector-mapping-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_sq(dir, "b.json",
             "{'version': 1, 'projection': 'second', 'topics': ['t'], 'events': {'E': []}}");
    write_sq(dir, "a.json",
             "{'version': 1, 'projection': 'first', 'topics': ['t1', 't2'], "
             "'dead_letter_topic': 'dead', 'events': {'E': []}}");
    write_sq(dir, ".c.json", "broken");
    write_sq(dir, "d.txt", "broken");
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(dir, errs);
    assert_non_null(set);
    assert_int_equal(errlist_count(errs), 0);
    assert_int_equal(mapping_set_count(set), 2);
    const mapping_t *a = mapping_set_get(set, 0), *b = mapping_set_get(set, 1);
    assert_string_equal(mapping_name(a), "first");
    assert_string_equal(mapping_name(b), "second");
    assert_int_equal(mapping_topic_count(a), 2);
    assert_string_equal(mapping_topic(a, 1), "t2");
    assert_string_equal(mapping_dlq_topic(a), "dead");
    assert_null(mapping_dlq_topic(b));
    assert_null(mapping_type_header(a));
    assert_non_null(strstr(mapping_file(a), "/a.json"));
    mapping_set_destroy(set);
    errlist_destroy(errs);
    support_remove_dir(dir);
}

/* The tables sql actions write, as the database planned them: action 0 (A) writes stock,
 * action 1 (B) was planned without a table it writes (a function), action 2 is an upsert. */
typedef struct sql_write_row {
    size_t action;
    const char *table;
    int want; /* mapping_sql_may_write() */
} sql_write_row_t;

static const sql_write_row_t sql_write_rows[] = {
    {0, "stock", 1},       {0, "public.stock", 1},    {0, "app.stock", 1},
    {0, "reservation", 0}, {0, "app.reservation", 0}, {0, "stock_level", 0},
    {1, "stock", 1},       {1, "reservation", 1},     {2, "reservation", 1},
};

static void test_sql_writes(void **state)
{
    (void)state;
    char dir[] = "/tmp/projector-mapping-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_sq(dir, "w.json",
             "{'version': 1, 'projection': 'w', 'topics': ['t'], 'events': {"
             "'A': [{'sql': 'UPDATE stock SET n = 1 WHERE id = $1', 'params': ['$.id']}],"
             "'B': [{'sql': 'SELECT f($1)', 'params': ['$.id']}],"
             "'C': [{'upsert': 'stock', 'key': {'id': '$.id'}, 'columns': {'n': '$.n'}}]}}");
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(dir, errs);
    assert_non_null(set);
    mapping_t *m = mapping_set_get(set, 0);
    /* not planned yet: any table */
    assert_int_equal(mapping_sql_may_write(mapping_action(m, 0), "reservation"), 1);
    mapping_add_sql_write(m, 0, "stock");
    mapping_add_sql_write(m, 0, "stock"); /* twice: kept once */
    assert_int_equal(mapping_sql_table_count(m), 1);
    assert_string_equal(mapping_sql_table(m, 0), "stock");
    for (size_t i = 0; i < N_ROWS(sql_write_rows); i++) {
        const sql_write_row_t *r = &sql_write_rows[i];
        int got = mapping_sql_may_write(mapping_action(m, r->action), r->table);
        if (got != r->want)
            fail_msg("action %zu, table %s: may write %d, expected %d", r->action, r->table, got,
                     r->want);
    }
    mapping_set_destroy(set);
    errlist_destroy(errs);
    support_remove_dir(dir);
}

/* ---- (b) binding to column types ---- */

typedef struct bind_row {
    const char *name;
    const char *mapping;
    want_err_t errs[3]; /* exactly these problems */
} bind_row_t;

static const bind_row_t bind_rows[] = {
    {"every table and column exists",
     E1(UPSERT_VALS("'t': '$.t', 'j': {'path': '$.j', 'op': 'append'}, 'n': {'path': '$.n', "
                    "'op': 'add'}")),
     {{NULL, NULL, NULL}}},
    {"sql action needs no types",
     E1("{'sql': 'SELECT $1', 'params': ['$.a']}"),
     {{NULL, NULL, NULL}}},
    {"missing table",
     E1("{'upsert': 'nosuch', 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}}"),
     {{"m.json", "$.events.E[0]",
       "table nosuch does not exist in the database (is it created by a .sql file of the views "
       "directory, and was 'projector migrate' run?)"}}},
    {"missing table of a delete",
     E1("{'delete': 'gone', 'key': {'id': '$.id'}}"),
     {{"m.json", "$.events.E[0]", "table gone does not exist in the database"}}},
    {"missing column",
     E1(UPSERT_VALS("'t': '$.t', 'nocol': '$.x'")),
     {{"m.json", "$.events.E[0].columns.nocol",
       "column vals.nocol does not exist in the database"}}},
    {"missing key column",
     E1("{'update': 'vals', 'key': {'nokey': '$.id'}, 'columns': {'t': '$.t'}}"),
     {{"m.json", "$.events.E[0].key.nokey", "column vals.nokey does not exist in the database"}}},
    {"missing guard column",
     E1("{'update': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.t'}, 'guard': "
        "{'column': 'nover', 'value': '$.v'}}"),
     {{"m.json", "$.events.E[0].guard.column", "column vals.nover does not exist"}}},
    {"two missing columns in two events",
     EVENTS("'E': [" UPSERT_VALS("'c1': '$.a'") "], 'F': [" UPSERT_VALS(
         "'t': '$.t', 'c2': '$.b'") "]"),
     {{"m.json", "$.events.E[0].columns.c1", "column vals.c1 does not exist"},
      {"m.json", "$.events.F[0].columns.c2", "column vals.c2 does not exist"}}},
    {"append on a text column",
     E1(UPSERT_VALS("'t': {'path': '$.t', 'op': 'append'}")),
     {{"m.json", "$.events.E[0].columns.t", "op \"append\" needs a jsonb column; vals.t is text"}}},
    {"append on a text[] column",
     E1("{'update': 'vals', 'key': {'id': '$.id'}, 'columns': {'arr': {'path': '$.a', 'op': "
        "'append'}}}"),
     {{"m.json", "$.events.E[0].columns.arr",
       "op \"append\" needs a jsonb column; vals.arr is "
       "text[]"}}},
    {"lookup of a missing column",
     E1("{'upsert': 'other', 'key': {'id': '$.id'}, 'columns': {'x': {'lookup': {'table': 'vals', "
        "'column': 'nocol', 'key': {'id': '$.id'}}}}}"),
     {{"m.json", "$.events.E[0].columns.x.lookup.column",
       "column vals.nocol does not exist in the database"}}},
    {"lookup by a missing key column",
     E1("{'upsert': 'other', 'key': {'id': '$.id'}, 'columns': {'x': {'lookup': {'table': 'vals', "
        "'column': 't', 'key': {'nokey': '$.id'}}}}}"),
     {{"m.json", "$.events.E[0].columns.x.lookup.key.nokey", "column vals.nokey does not exist"}}},
    {"lookup in a missing table",
     E1("{'upsert': 'other', 'key': {'id': '$.id'}, 'columns': {'x': {'lookup': {'table': "
        "'ghost', 'column': 't', 'key': {'id': '$.id'}}}}}"),
     {{"m.json", "$.events.E[0].columns.x.lookup", "table ghost does not exist in the database"}}},
    {"lookup of a sql parameter: its place named",
     EVENTS("'ReservationReleased': [{'sql': 'UPDATE vals SET t = $1 WHERE id = $2', 'params': "
            "['$.t', {'lookup': {'table': 'vals', 'column': 'nocol', 'key': {'id': '$.id'}}}]}]"),
     {{"m.json", "$.events.ReservationReleased[0].params[1].lookup.column",
       "column vals.nocol does not exist in the database"}}},
};

static void test_bind(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(bind_rows); i++) {
        const bind_row_t *r = &bind_rows[i];
        char dir[] = "/tmp/projector-mapping-XXXXXX";
        assert_non_null(mkdtemp(dir));
        write_sq(dir, "m.json", r->mapping);
        errlist_t *errs = errlist_new();
        mapping_set_t *set = mapping_set_load(dir, errs);
        if (!set) {
            char *all = all_errors(errs);
            fail_msg("%s: does not load:\n%s", r->name, all);
        }
        mapping_bind_types(mapping_set_get(set, 0), support_column_type, NULL, errs);
        check_errors(r->name, errs, dir, r->errs, N_ROWS(r->errs), 1);
        mapping_set_destroy(set);
        errlist_destroy(errs);
        support_remove_dir(dir);
    }
}

/* ---- (c) evaluation ---- */

enum { M_ORDERS, M_VALUES, M_HEADER, M__COUNT };

static const char *const mapping_dirs[M__COUNT] = {SUPPORT_ORDERS_DIR, "values", "header"};

static int setup_sets(void **state)
{
    (void)state;
    return support_sets_load(mapping_dirs, M__COUNT);
}

/* The sample mapping as loaded and bound. */
static void test_orders_shape(void **state)
{
    (void)state;
    const mapping_t *m = support_mapping(M_ORDERS);
    assert_string_equal(mapping_name(m), "orders");
    assert_int_equal(mapping_topic_count(m), 1);
    assert_string_equal(mapping_topic(m, 0), "order-events");
    assert_null(mapping_dlq_topic(m));
    assert_null(mapping_type_header(m));
    assert_int_equal(mapping_action_count(m), 6);
    assert_int_equal(mapping_table_count(m), 2);
    assert_string_equal(mapping_table(m, 0), "order_detail");
    assert_string_equal(mapping_table(m, 1), "customer_summary");
    assert_int_equal(mapping_lookup_count(m), 1);
    const mapping_lookup_info_t *l = mapping_lookup_info(m, 0);
    assert_string_equal(l->table, "order_detail");
    assert_int_equal(l->table_id, 0);
    assert_string_equal(l->column, "customer_id");
    assert_int_equal(l->nkeys, 1);
    assert_string_equal(l->keys[0].name, "order_id");
    assert_string_equal(l->keys[0].type, "text");
    const mapping_action_info_t *a = mapping_action_info(mapping_action(m, 0));
    assert_int_equal(a->id, 0);
    assert_int_equal(a->kind, MAPPING_UPSERT);
    assert_string_equal(a->table, "order_detail");
    assert_int_equal(a->nkeys, 1);
    assert_int_equal(a->ncols, 7);
    assert_string_equal(a->cols[4].name, "items");
    assert_string_equal(a->cols[4].type, "jsonb");
    assert_null(a->guard);
    assert_non_null(strstr(a->where, "orders.json: $.events.OrderCreated[0]"));
    const mapping_action_info_t *cs = mapping_action_info(mapping_action(m, 1));
    assert_int_equal(cs->cols[0].op, COLOP_ADD);
    assert_int_equal(cs->cols[2].op, COLOP_MAX);
    assert_string_equal(cs->cols[2].type, "timestamp with time zone");
    const mapping_t *h = support_mapping(M_HEADER);
    assert_string_equal(mapping_type_header(h), "type");
    assert_string_equal(mapping_dlq_topic(h), "hdr-dead");
}

#define SQL_NULL "\x01(SQL NULL)"

typedef enum { LK_UNUSED, LK_VALUE, LK_NULL, LK_CUT } lookup_mode_t;

typedef struct lookup_ctx {
    lookup_mode_t mode;
    int calls;
    int id;
    const char *key;
} lookup_ctx_t;

static int fixed_lookup(void *ctx, int id, const char *const *keys, const char **value)
{
    lookup_ctx_t *lc = ctx;
    lc->calls++;
    lc->id = id;
    lc->key = keys[0];
    *value = lc->mode == LK_VALUE ? "c-9" : NULL;
    return lc->mode == LK_CUT;
}

typedef struct eval_row {
    const char *name;
    int which; /* M_ORDERS, ... */
    const char *event;
    mapping_result_t rc;
    size_t nops;
    size_t op;               /* whose values are checked */
    const char *values[16];  /* NULL-terminated; SQL_NULL for NULL */
    const char *error;       /* substring, for MAPPING_BAD */
    lookup_mode_t lookup;    /* LK_UNUSED: the resolver must not be called */
    const char *lookup_key;  /* the key the resolver must see */
    const char *type_header; /* the event's type header */
    int meta;                /* 1: use ts, key, key_len below */
    int64_t ts;
    const char *key;
    size_t key_len;
} eval_row_t;

#define TS "2024-01-02T03:04:05Z"
#define ITEMS_JSON "[{\"sku\":\"A\",\"quantity\":1},{\"sku\":\"B\",\"quantity\":2}]"
#define CREATED_FIELDS                                                                             \
    "'orderId': 'o-1', 'customerId': 'c-1', 'items': [{'sku': 'A', 'quantity': 1}, "               \
    "{'sku': 'B', 'quantity': 2}], 'occurredAt': '" TS "'"

static const eval_row_t eval_rows[] = {
    /* the sample domain */
    {.name = "OrderCreated: order_detail row",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 120.5}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 0,
     .values = {"o-1", "c-1", "CREATED", "120.5", "3", ITEMS_JSON, TS, TS}},
    {.name = "OrderCreated: customer_summary row",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 120.5}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 1,
     .values = {"c-1", "1", "120.5", TS}},
    {.name = "OrderCreated: amount as a decimal string kept as given",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': '120.50'}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 1,
     .values = {"c-1", "1", "120.50", TS}},
    {.name = "OrderCreated: integer amount",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 120}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 0,
     .values = {"o-1", "c-1", "CREATED", "120", "3", ITEMS_JSON, TS, TS}},
    {.name = "OrderCreated: quantities as strings, item text with a quote",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', 'orderId': 'o-2', 'customerId': 'c-2', 'totalAmount': 1, "
              "'items': [{'sku': 'say \\\"hi\\\"', 'quantity': '2'}, {'quantity': '0.5'}], "
              "'occurredAt': '" TS "'}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 0,
     .values = {"o-2", "c-2", "CREATED", "1", "2.5",
                "[{\"sku\":\"say \\\"hi\\\"\",\"quantity\":\"2\"},{\"quantity\":\"0.5\"}]", TS,
                TS}},
    {.name = "OrderCreated: no items",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', 'orderId': 'o-3', 'customerId': 'c-1', 'totalAmount': 0, "
              "'items': [], 'occurredAt': '" TS "'}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 0,
     .values = {"o-3", "c-1", "CREATED", "0", "0", "[]", TS, TS}},
    {.name = "OrderCreated: numeric order id",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 1, 'orderId': 17}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 0,
     .values = {"17", "c-1", "CREATED", "1", "3", ITEMS_JSON, TS, TS}},
    {.name = "OrderCreated: null occurredAt gives NULL columns",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 1, 'occurredAt': null}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 0,
     .values = {"o-1", "c-1", "CREATED", "1", "3", ITEMS_JSON, SQL_NULL, SQL_NULL}},
    {.name = "OrderCreated: missing totalAmount",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS "}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCreated[0].columns.total_amount: required field $.totalAmount is "
              "missing"},
    {.name = "OrderCreated: missing items",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', 'orderId': 'o-1', 'customerId': 'c-1', 'totalAmount': 1, "
              "'occurredAt': '" TS "'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCreated[0].columns.items: required field $.items is missing"},
    {.name = "OrderCreated: quantity not a number",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', 'orderId': 'o-1', 'customerId': 'c-1', 'totalAmount': 1, "
              "'items': [{'quantity': 'two'}], 'occurredAt': '" TS "'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCreated[0].columns.item_count: $.items[*].quantity: every value "
              "summed must be a number or a decimal string"},
    {.name = "OrderCreated: null order id",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 1, 'orderId': null}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCreated[0].key.order_id: key column order_detail.order_id is null"},
    {.name = "OrderCreated: missing order id",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', 'customerId': 'c-1', 'totalAmount': 1, 'items': [], "
              "'occurredAt': '" TS "'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCreated[0].key.order_id: required field $.orderId is missing"},
    {.name = "OrderCreated: null customer id fails the second action",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 1, 'customerId': null}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCreated[1].key.customer_id: key column customer_summary.customer_id "
              "is null"},
    {.name = "OrderCreated: NUL in a text value",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 1, "
              "'customerId': 'c\\u00001'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCreated[0].columns.customer_id: the string holds a NUL character "
              "(\\u0000)"},
    {.name = "OrderPaid",
     .which = M_ORDERS,
     .event =
         "{'type': 'OrderPaid', 'orderId': 'o-1', 'paymentId': 'pay-1', 'occurredAt': '" TS "'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .op = 0,
     .values = {"o-1", "PAID", "pay-1", TS}},
    {.name = "OrderPaid: missing paymentId",
     .which = M_ORDERS,
     .event = "{'type': 'OrderPaid', 'orderId': 'o-1', 'occurredAt': '" TS "'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderPaid[0].columns.payment_id: required field $.paymentId is missing"},
    {.name = "OrderShipped",
     .which = M_ORDERS,
     .event = "{'type': 'OrderShipped', 'orderId': 'o-1', 'trackingNumber': 'trk-1', "
              "'occurredAt': '" TS "'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .op = 0,
     .values = {"o-1", "SHIPPED", "trk-1", TS}},
    {.name = "OrderCancelled: customer found by lookup",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCancelled', 'orderId': 'o-1', 'reason': 'changed mind', "
              "'occurredAt': '" TS "'}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 0,
     .values = {"c-9", "1"},
     .lookup = LK_VALUE,
     .lookup_key = "o-1"},
    {.name = "OrderCancelled: order_detail row",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCancelled', 'orderId': 'o-1', 'reason': 'changed mind', "
              "'occurredAt': '" TS "'}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 1,
     .values = {"o-1", "CANCELLED", "changed mind", TS},
     .lookup = LK_VALUE,
     .lookup_key = "o-1"},
    {.name = "OrderCancelled: lookup finds no row",
     .which = M_ORDERS,
     .event =
         "{'type': 'OrderCancelled', 'orderId': 'o-404', 'reason': 'r', 'occurredAt': '" TS "'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCancelled[0].key.customer_id: key column "
              "customer_summary.customer_id is null",
     .lookup = LK_NULL,
     .lookup_key = "o-404"},
    {.name = "OrderCancelled: lookup cannot be known yet",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCancelled', 'orderId': 'o-1', 'reason': 'r', 'occurredAt': '" TS "'}",
     .rc = MAPPING_CUT,
     .nops = 0,
     .lookup = LK_CUT,
     .lookup_key = "o-1"},
    {.name = "OrderCancelled: null lookup key",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCancelled', 'orderId': null, 'reason': 'r', 'occurredAt': '" TS "'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCancelled[0].key.customer_id.lookup.key.order_id: lookup key "
              "order_id is null"},
    {.name = "OrderCancelled: missing lookup key",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCancelled', 'reason': 'r', 'occurredAt': '" TS "'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCancelled[0].key.customer_id.lookup.key.order_id: required field "
              "$.orderId is missing"},
    {.name = "OrderCancelled: missing reason after the lookup",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCancelled', 'orderId': 'o-1', 'occurredAt': '" TS "'}",
     .rc = MAPPING_BAD,
     .error = "$.events.OrderCancelled[1].columns.cancel_reason: required field $.reason is "
              "missing",
     .lookup = LK_VALUE,
     .lookup_key = "o-1"},
    {.name = "unknown type is skipped",
     .which = M_ORDERS,
     .event = "{'type': 'OrderRefunded', 'orderId': 'o-1'}",
     .rc = MAPPING_SKIP},
    {.name = "empty type is skipped",
     .which = M_ORDERS,
     .event = "{'type': '', 'orderId': 'o-1'}",
     .rc = MAPPING_SKIP},
    {.name = "type is case-sensitive",
     .which = M_ORDERS,
     .event = "{'type': 'orderpaid', 'orderId': 'o-1'}",
     .rc = MAPPING_SKIP},
    {.name = "missing type",
     .which = M_ORDERS,
     .event = "{'orderId': 'o-1'}",
     .rc = MAPPING_BAD,
     .error = "$.type: no event type"},
    {.name = "null type",
     .which = M_ORDERS,
     .event = "{'type': null}",
     .rc = MAPPING_BAD,
     .error = "$.type: the event type is not a string"},
    {.name = "numeric type",
     .which = M_ORDERS,
     .event = "{'type': 5}",
     .rc = MAPPING_BAD,
     .error = "$.type: the event type is not a string"},
    {.name = "event is an array",
     .which = M_ORDERS,
     .event = "[{'type': 'OrderPaid'}]",
     .rc = MAPPING_BAD,
     .error = "$.type: no event type"},
    /* literals of each JSON type, rendered for their column */
    {.name = "literals",
     .which = M_VALUES,
     .event = "{'type': 'Literals', 'id': 'l-1'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"l-1", "CREATED", "42", "1.5", "-3", "true", "false", SQL_NULL, "{\"a\":[1,\"x\"]}",
                "{\"a\":[1,\"x\"]}", "\"x\"", "7", "false", SQL_NULL}},
    /* metadata */
    {.name = "meta",
     .which = M_VALUES,
     .event = "{'type': 'Meta', 'id': 'm-1'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"m-1", "topic-a", "3", "1042", "2023-11-14T22:13:20.123Z", "k-1"}},
    {.name = "meta: no timestamp, no key",
     .which = M_VALUES,
     .event = "{'type': 'Meta', 'id': 'm-1'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"m-1", "topic-a", "3", "1042", SQL_NULL, SQL_NULL},
     .meta = 1,
     .ts = -1,
     .key = NULL},
    {.name = "meta: epoch, empty key",
     .which = M_VALUES,
     .event = "{'type': 'Meta', 'id': 'm-1'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"m-1", "topic-a", "3", "1042", "1970-01-01T00:00:00.000Z", ""},
     .meta = 1,
     .ts = 0,
     .key = "",
     .key_len = 0},
    {.name = "meta: milliseconds padded, key not NUL-terminated",
     .which = M_VALUES,
     .event = "{'type': 'Meta', 'id': 'm-1'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"m-1", "topic-a", "3", "1042", "2001-09-09T01:46:40.005Z", "k-1"},
     .meta = 1,
     .ts = 1000000000005,
     .key = "k-123",
     .key_len = 3},
    {.name = "meta: key with a NUL byte",
     .which = M_VALUES,
     .event = "{'type': 'Meta', 'id': 'm-1'}",
     .rc = MAPPING_BAD,
     .error = "$.events.Meta[0].columns.k: the message key holds a NUL byte",
     .meta = 1,
     .ts = 0,
     .key = "a\0b",
     .key_len = 3},
    /* exact decimal sums */
    {.name = "sum of integers",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': 1}, {'q': 2}, {'q': 3}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "6"}},
    {.name = "sum of decimal strings is exact",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '0.1'}, {'q': '0.2'}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "0.3"}},
    {.name = "sum of JSON reals is exact",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': 0.1}, {'q': 0.2}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "0.3"}},
    {.name = "sum keeps the largest scale",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '1.50'}, {'q': 2}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "3.50"}},
    {.name = "sum with negatives below zero",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '-0.5'}, {'q': '0.25'}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "-0.25"}},
    {.name = "sum to zero keeps the scale",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '-0.5'}, {'q': '+0.5'}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "0.0"}},
    {.name = "sum of a real",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': 1.25}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "1.25"}},
    {.name = "sum of 18 fractional digits",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '0.000000000000000001'}, {'q': 1}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "1.000000000000000001"}},
    {.name = "sum of 19-digit integers",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '9999999999999999999'}, {'q': 1}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "10000000000000000000"}},
    {.name = "a 20-digit integer is beyond the exact range",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '99999999999999999999'}]}",
     .rc = MAPPING_BAD,
     .error = "at most 19 integer and 18 fractional digits"},
    {.name = "sum of nothing",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': []}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "0"}},
    {.name = "sum of a missing array",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "0"}},
    {.name = "sum skips elements without the field",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': 4}, {}, {'x': 1}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"s", "4"}},
    {.name = "sum of a word",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': 1}, {'q': 'abc'}]}",
     .rc = MAPPING_BAD,
     .error = "$.events.Sum[0].columns.n: $.items[*].q: every value summed must be a number or a "
              "decimal string"},
    {.name = "sum of a boolean",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': true}]}",
     .rc = MAPPING_BAD,
     .error = "$.events.Sum[0].columns.n: $.items[*].q: every value summed"},
    {.name = "sum of a null",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': null}]}",
     .rc = MAPPING_BAD,
     .error = "every value summed must be a number"},
    {.name = "sum of an exponent string",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '1e3'}]}",
     .rc = MAPPING_BAD,
     .error = "every value summed must be a number"},
    {.name = "sum of an empty string",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': ''}]}",
     .rc = MAPPING_BAD,
     .error = "every value summed must be a number"},
    {.name = "sum of a lone point",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '.'}]}",
     .rc = MAPPING_BAD,
     .error = "every value summed must be a number"},
    {.name = "sum of two points",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '1.2.3'}]}",
     .rc = MAPPING_BAD,
     .error = "every value summed must be a number"},
    {.name = "sum of a padded number",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': ' 1'}]}",
     .rc = MAPPING_BAD,
     .error = "every value summed must be a number"},
    /* counts */
    {.name = "count of an array and of matches",
     .which = M_VALUES,
     .event = "{'type': 'Count', 'id': 'c', 'items': [{'q': 1}, {'q': 2}, {}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"c", "3", "2"}},
    {.name = "count of a missing array",
     .which = M_VALUES,
     .event = "{'type': 'Count', 'id': 'c'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"c", "0", "0"}},
    {.name = "count of an object's members",
     .which = M_VALUES,
     .event = "{'type': 'Count', 'id': 'c', 'items': {'a': 1, 'b': 2}}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"c", "2", "0"}},
    {.name = "count of a string",
     .which = M_VALUES,
     .event = "{'type': 'Count', 'id': 'c', 'items': 'abc'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"c", "0", "0"}},
    /* collect into jsonb, text[], text and integer[] */
    {.name = "collect with quotes and backslashes",
     .which = M_VALUES,
     .event = "{'type': 'Collect', 'id': 'k', 'items': [{'sku': 'a', 'q': 1}, "
              "{'sku': 'b\\\"c', 'q': 2.5}, {'sku': 'd\\\\e', 'q': true}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"k", "[\"a\",\"b\\\"c\",\"d\\\\e\"]", "{\"a\",\"b\\\"c\",\"d\\\\e\"}",
                "[\"a\",\"b\\\"c\",\"d\\\\e\"]", "{\"1\",\"2.5\",\"true\"}"}},
    {.name = "collect with nulls and gaps",
     .which = M_VALUES,
     .event = "{'type': 'Collect', 'id': 'k', 'items': [{'sku': null}, {'q': 1}, {'sku': 'NULL'}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"k", "[null,\"NULL\"]", "{NULL,\"NULL\"}", "[null,\"NULL\"]", "{\"1\"}"}},
    {.name = "collect of nothing",
     .which = M_VALUES,
     .event = "{'type': 'Collect', 'id': 'k', 'items': []}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"k", "[]", "{}", "[]", "{}"}},
    {.name = "collect from a missing array",
     .which = M_VALUES,
     .event = "{'type': 'Collect', 'id': 'k'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"k", "[]", "{}", "[]", "{}"}},
    {.name = "collect of commas and braces",
     .which = M_VALUES,
     .event = "{'type': 'Collect', 'id': 'k', 'items': [{'sku': 'a,b'}, {'sku': '{c}'}, "
              "{'sku': ''}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"k", "[\"a,b\",\"{c}\",\"\"]", "{\"a,b\",\"{c}\",\"\"}", "[\"a,b\",\"{c}\",\"\"]",
                "{}"}},
    /* optional and required paths */
    {.name = "optional path missing gives NULL",
     .which = M_VALUES,
     .event = "{'type': 'Optional', 'id': 'o', 'req': 'r'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"o", SQL_NULL, "r"}},
    {.name = "optional path present",
     .which = M_VALUES,
     .event = "{'type': 'Optional', 'id': 'o', 'maybe': 'here', 'req': 'r'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"o", "here", "r"}},
    {.name = "required path null is NULL, not missing",
     .which = M_VALUES,
     .event = "{'type': 'Optional', 'id': 'o', 'maybe': null, 'req': null}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"o", SQL_NULL, SQL_NULL}},
    {.name = "required path missing",
     .which = M_VALUES,
     .event = "{'type': 'Optional', 'id': 'o', 'maybe': 'here'}",
     .rc = MAPPING_BAD,
     .error = "$.events.Optional[0].columns.t2: required field $.req is missing"},
    /* a path's value rendered for text, jsonb and text[] columns */
    {.name = "render a string",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': 'x'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", "x", "\"x\"", "x"}},
    {.name = "render an empty string",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': ''}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", "", "\"\"", ""}},
    {.name = "render a non-ASCII string",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': 'caf\\u00e9'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", "caf\xc3\xa9", "\"caf\xc3\xa9\"", "caf\xc3\xa9"}},
    {.name = "render an integer",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': 9007199254740993}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", "9007199254740993", "9007199254740993", "9007199254740993"}},
    {.name = "render a negative real",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': -2.5}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", "-2.5", "-2.5", "-2.5"}},
    {.name = "render a boolean",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': true}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", "true", "true", "true"}},
    {.name = "render an object",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': {'a': 1, 'b': [true]}}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", "{\"a\":1,\"b\":[true]}", "{\"a\":1,\"b\":[true]}", "{\"a\":1,\"b\":[true]}"}},
    {.name = "render an array",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': ['a', 1, null]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", "[\"a\",1,null]", "[\"a\",1,null]", "{\"a\",\"1\",NULL}"}},
    {.name = "render null",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': null}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"r", SQL_NULL, SQL_NULL, SQL_NULL}},
    {.name = "render a missing value",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r'}",
     .rc = MAPPING_BAD,
     .error = "$.events.Render[0].columns.t: required field $.v is missing"},
    {.name = "render a string with NUL",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': 'r', 'v': 'a\\u0000b'}",
     .rc = MAPPING_BAD,
     .error = "$.events.Render[0].columns.t: the string holds a NUL character"},
    {.name = "key with NUL",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': '\\u0000', 'v': 1}",
     .rc = MAPPING_BAD,
     .error = "$.events.Render[0].key.id: the string holds a NUL character"},
    {.name = "boolean key",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': true, 'v': 1}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"true", "1", "1", "1"}},
    {.name = "null key",
     .which = M_VALUES,
     .event = "{'type': 'Render', 'id': null, 'v': 1}",
     .rc = MAPPING_BAD,
     .error = "$.events.Render[0].key.id: key column vals.id is null"},
    /* guards, deletes, sql, empty rules */
    {.name = "guard value follows the columns",
     .which = M_VALUES,
     .event = "{'type': 'Guarded', 'id': 'g', 't': 'x', 'version': 3}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"g", "x", "3"}},
    {.name = "null guard version",
     .which = M_VALUES,
     .event = "{'type': 'Guarded', 'id': 'g', 't': 'x', 'version': null}",
     .rc = MAPPING_BAD,
     .error = "$.events.Guarded[0].guard.value: the guard's version is null"},
    {.name = "missing guard version",
     .which = M_VALUES,
     .event = "{'type': 'Guarded', 'id': 'g', 't': 'x'}",
     .rc = MAPPING_BAD,
     .error = "$.events.Guarded[0].guard.value: required field $.version is missing"},
    {.name = "delete has only its key",
     .which = M_VALUES,
     .event = "{'type': 'Removed', 'id': 'd'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"d"}},
    {.name = "sql params in order",
     .which = M_VALUES,
     .event = "{'type': 'Sql', 'id': 'q', 't': {'a': 1}}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"{\"a\":1}", "q"}},
    {.name = "sql param missing",
     .which = M_VALUES,
     .event = "{'type': 'Sql', 'id': 'q'}",
     .rc = MAPPING_BAD,
     .error = "$.events.Sql[0].params[0]: required field $.t is missing"},
    {.name = "known type with no actions",
     .which = M_VALUES,
     .event = "{'type': 'Nothing'}",
     .rc = MAPPING_OK,
     .nops = 0},
    /* type from a header */
    {.name = "type from the header",
     .which = M_HEADER,
     .event = "{'id': 'h-1'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"h-1", "topic-a"},
     .type_header = "Ping"},
    {.name = "header type not in the mapping",
     .which = M_HEADER,
     .event = "{'id': 'h-1'}",
     .rc = MAPPING_SKIP,
     .type_header = "Pong"},
    {.name = "no type header",
     .which = M_HEADER,
     .event = "{'id': 'h-1'}",
     .rc = MAPPING_BAD,
     .error = "no \"type\" header with the event type"},
    {.name = "type in the value is ignored when read from a header",
     .which = M_HEADER,
     .event = "{'type': 'Ping', 'id': 'h-1'}",
     .rc = MAPPING_BAD,
     .error = "no \"type\" header"},
};

/* Regression rows for bugs these tests found (now fixed). */
static const eval_row_t regression_rows[] = {
    {.name = "a JSON real is rendered as written, not as %.17g",
     .which = M_ORDERS,
     .event = "{'type': 'OrderCreated', " CREATED_FIELDS ", 'totalAmount': 99.95}",
     .rc = MAPPING_OK,
     .nops = 2,
     .op = 1,
     .values = {"c-1", "1", "99.95", TS}},
    {.name = "a literal array for a text[] column is an array literal",
     .which = M_VALUES,
     .event = "{'type': 'LiteralArray', 'id': 'a'}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"a", "{\"a\",\"b\"}"}},
    {.name = "objects collected into text[] are their JSON text",
     .which = M_VALUES,
     .event = "{'type': 'Collect', 'id': 'k', 'items': [{'sku': {'a': 1}}]}",
     .rc = MAPPING_OK,
     .nops = 1,
     .values = {"k", "[{\"a\":1}]", "{\"{\\\"a\\\":1}\"}", "[{\"a\":1}]", "{}"}},
    {.name = "a NUL collected into text[] is refused, not cut short",
     .which = M_VALUES,
     .event = "{'type': 'Collect', 'id': 'k', 'items': [{'sku': 'a\\u0000b'}]}",
     .rc = MAPPING_BAD,
     .error = "NUL"},
    {.name = "a sum beyond the exact range is refused, not overflowed",
     .which = M_VALUES,
     .event = "{'type': 'Sum', 'id': 's', 'items': [{'q': '999999999999999999999'}]}",
     .rc = MAPPING_BAD,
     .error = "$.events.Sum[0].columns.n"},
};

static const char *result_name(mapping_result_t rc)
{
    static const char *const names[] = {"MAPPING_OK", "MAPPING_SKIP", "MAPPING_BAD", "MAPPING_CUT"};
    return (unsigned)rc < 4 ? names[rc] : "?";
}

static void run_eval_row(const eval_row_t *r, arena_t *arena)
{
    const mapping_t *m = support_mapping(r->which);
    char *text = support_dq(r->event);
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (!doc)
        fail_msg("%s: event does not parse: %s\n%s", r->name, jerr.text, text);
    free(text);
    mapping_event_t ev = {doc, "topic-a", 3, 1042, 1700000000123, "k-1", 3, r->type_header, NULL, 0,
                          0,   NULL,      0, 0,    NULL,          0};
    if (r->meta) {
        ev.timestamp_ms = r->ts;
        ev.key = r->key;
        ev.key_len = r->key_len;
    }
    lookup_ctx_t lc = {r->lookup, 0, -1, NULL};
    mapping_op_t ops[8];
    size_t nops = 99;
    char err[1024] = "";
    mapping_result_t rc =
        mapping_eval(m, &ev, arena, fixed_lookup, &lc, ops, &nops, err, sizeof(err));
    if (rc != r->rc)
        fail_msg("%s: %s, expected %s (error \"%s\")", r->name, result_name(rc), result_name(r->rc),
                 err);
    if (rc == MAPPING_OK && nops != r->nops)
        fail_msg("%s: %zu ops, expected %zu", r->name, nops, r->nops);
    if (rc != MAPPING_OK && rc != MAPPING_BAD && nops != 0)
        fail_msg("%s: %zu ops with %s", r->name, nops, result_name(rc));
    if (r->lookup == LK_UNUSED && lc.calls)
        fail_msg("%s: the lookup resolver was called", r->name);
    if (r->lookup_key && (lc.calls != 1 || lc.id != 0 || strcmp(lc.key, r->lookup_key) != 0))
        fail_msg("%s: resolver called %d times, last for lookup %d key %s; expected once for 0 %s",
                 r->name, lc.calls, lc.id, lc.key ? lc.key : "NULL", r->lookup_key);
    if (r->error) {
        if (!strstr(err, r->error))
            fail_msg("%s: error \"%s\" does not contain \"%s\"", r->name, err, r->error);
        if (strstr(r->error, "$.events") && strncmp(err, mapping_file(m), strlen(mapping_file(m))))
            fail_msg("%s: error \"%s\" does not start with the mapping file", r->name, err);
    }
    if (rc == MAPPING_OK && r->values[0]) {
        const mapping_action_info_t *a = mapping_action_info(ops[r->op].action);
        size_t nvals =
            a->kind == MAPPING_SQL ? a->nparams : a->nkeys + a->ncols + (a->guard ? 1 : 0);
        size_t want = 0;
        while (want < N_ROWS(r->values) && r->values[want])
            want++;
        if (nvals != want)
            fail_msg("%s: op %zu has %zu values, the row lists %zu", r->name, r->op, nvals, want);
        for (size_t k = 0; k < nvals; k++) {
            const char *got = ops[r->op].values[k];
            const char *exp = strcmp(r->values[k], SQL_NULL) == 0 ? NULL : r->values[k];
            int ok = exp ? got && strcmp(got, exp) == 0 : got == NULL;
            if (!ok)
                fail_msg("%s: op %zu value %zu is %s%s%s, expected %s%s%s", r->name, r->op, k,
                         got ? "'" : "", got ? got : "NULL", got ? "'" : "", exp ? "'" : "",
                         exp ? exp : "NULL", exp ? "'" : "");
        }
    }
    json_decref(doc);
    arena_reset(arena);
}

static void test_eval(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t i = 0; i < N_ROWS(eval_rows); i++)
        run_eval_row(&eval_rows[i], arena);
    arena_destroy(arena);
}

static void test_eval_regressions(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t i = 0; i < N_ROWS(regression_rows); i++)
        run_eval_row(&regression_rows[i], arena);
    arena_destroy(arena);
}

/* ---- mapping_event_has_lookups ---- */

typedef struct has_lookups_row {
    int which;
    const char *event;
    const char *type_header;
    int want;
} has_lookups_row_t;

static const has_lookups_row_t has_lookups_rows[] = {
    {M_ORDERS, "{'type': 'OrderCancelled', 'orderId': 'o-1'}", NULL, 1},
    {M_ORDERS, "{'type': 'OrderCancelled'}", NULL, 1},
    {M_ORDERS, "{'type': 'OrderCreated', 'orderId': 'o-1'}", NULL, 0},
    {M_ORDERS, "{'type': 'OrderPaid'}", NULL, 0},
    {M_ORDERS, "{'type': 'OrderRefunded'}", NULL, 0},
    {M_ORDERS, "{'kind': 'OrderCancelled'}", NULL, 0},
    {M_ORDERS, "{'type': 7}", NULL, 0},
    {M_HEADER, "{'type': 'Ping'}", "Ping", 0},
    {M_HEADER, "{'type': 'Ping'}", NULL, 0},
};

static void test_has_lookups(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(has_lookups_rows); i++) {
        const has_lookups_row_t *r = &has_lookups_rows[i];
        char *text = support_dq(r->event);
        json_t *doc = json_loads(text, 0, NULL);
        assert_non_null(doc);
        mapping_event_t ev = {doc,  "t", 0, 0,    -1, NULL, 0,    r->type_header,
                              NULL, 0,   0, NULL, 0,  0,    NULL, 0};
        int got = mapping_event_has_lookups(support_mapping(r->which), &ev);
        if (got != r->want)
            fail_msg("%s: has_lookups %d, expected %d", text, got, r->want);
        free(text);
        json_decref(doc);
    }
}

int main(void)
{
    const struct CMUnitTest load_tests[] = {
        cmocka_unit_test(test_load_errors),      cmocka_unit_test(test_load_regressions),
        cmocka_unit_test(test_load_missing_dir), cmocka_unit_test(test_load_order),
        cmocka_unit_test(test_sql_writes),       cmocka_unit_test(test_bind),
    };
    const struct CMUnitTest eval_tests[] = {
        cmocka_unit_test(test_orders_shape),
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_eval_regressions),
        cmocka_unit_test(test_has_lookups),
    };
    int failed = cmocka_run_group_tests(load_tests, NULL, NULL);
    failed += cmocka_run_group_tests(eval_tests, setup_sets, support_sets_teardown);
    return failed;
}
