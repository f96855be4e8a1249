/* Unit tests of upcasting: each step kind, chains, defaults, type renames, splits (and their
 * evaluation, part by part), events that cannot be upcast (stage "upcast"), and the checks of
 * "versions" and "upcasters" at load.
 *
 * Mapping and event texts are written with ' for " (support_dq). Each row's mapping is the
 * template below with the row's "versions" and "upcasters" in place of %s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "mapping.h"
#include "mapping_upcast.h"
#include "support.h"

static const char template_sq[] =
    "{'version': 1, 'projection': 'p', 'topics': ['t'], %s"
    " 'events': {"
    "  'A': [{'upsert': 'ta', 'key': {'id': '$.id'}, 'columns': {'x': {'path': '$.x', "
    "'optional': true}}}],"
    "  'B': [{'upsert': 'tb', 'key': {'id': '$.id'}, 'columns': {'y': {'path': '$.y', "
    "'optional': true}}}],"
    "  'C': [{'upsert': 'tc', 'key': {'id': '$.id'}, 'columns': {'z': {'path': '$.z', "
    "'optional': true}}}]"
    " }%s}";

/* "versions" with field $.v, default 1 and these current versions (sq). */
#define V(current) "'versions': {'field': '$.v', 'default': 1, 'current': " current "},"

/* A step doubling the text $.s. */
#define DOUBLE "{'set': '$.s', 'value': {'concat': ['$.s', '$.s']}}, "

static char dir[] = "/tmp/test_upcast.XXXXXX";

/* Loads the template with head (before "events") and tail (after it). Returns the set or NULL;
 * the problems go to errs. */
static mapping_set_t *load(const char *head, const char *tail, errlist_t *errs)
{
    char text[8192];
    snprintf(text, sizeof(text), template_sq, head, tail);
    char *dq = support_dq(text);
    support_write_file(dir, "p.json", dq);
    free(dq);
    return mapping_set_load(dir, errs);
}

static char *all_errors(const errlist_t *errs)
{
    support_capture_t *c = support_capture_new();
    errlist_print(errs, support_capture_stream(c));
    return support_capture_text(c);
}

/* ---- upcasting events ---- */

typedef struct up_row {
    const char *name;
    const char *versions;  /* "versions", with its trailing comma */
    const char *upcasters; /* "'upcasters': {...}" */
    const char *event;
    const char *type_header;    /* for a mapping with event_type header "type" */
    int rc;                     /* 0 or -1 */
    const char *want;           /* rc 0: the doc after (sq); -1: a piece of the error */
    const char *want_header;    /* the type header after, when it changes */
    const char *version_header; /* the version header's value, for versions from a header */
    long schema_version;        /* the writer schema's version, for versions from the registry */
} up_row_t;

/* "versions" read from header "v", default 1, these current versions (sq). */
#define VH(current) "'versions': {'header': 'v', 'default': 1, 'current': " current "},"

/* "versions" from the Schema Registry (format registry-avro), these current versions (sq). */
#define VR(current)                                                                                \
    "'format': 'registry-avro', 'versions': {'registry': true, 'current': " current "},"

static const up_row_t up_rows[] = {
    {.name = "a schema version is upcast; the doc gets no version field",
     .versions = VR("{'A': 3}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.x', 'value': {'literal': 7}}], '2': "
                  "[{'rename': '$.x', 'to': '$.w'}]}}",
     .event = "{'type': 'A', 'id': 'k'}",
     .schema_version = 1,
     .want = "{'type': 'A', 'id': 'k', 'w': 7}"},
    {.name = "a schema version takes the upcasters from it on",
     .versions = VR("{'A': 3}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.x', 'value': {'literal': 7}}], '2': "
                  "[{'set': '$.w', 'value': {'literal': 8}}]}}",
     .event = "{'type': 'A', 'id': 'k', 'v': 1}",
     .schema_version = 2,
     .want = "{'type': 'A', 'id': 'k', 'v': 1, 'w': 8}"},
    {.name = "the current schema version is left alone, whatever the doc says",
     .versions = VR("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.x', 'value': {'literal': 7}}]}}",
     .event = "{'type': 'A', 'id': 'k', 'schemaVersion': 1}",
     .schema_version = 2,
     .want = "{'type': 'A', 'id': 'k', 'schemaVersion': 1}"},
    {.name = "a schema version newer than the current one fails",
     .versions = VR("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': []}}",
     .event = "{'type': 'A', 'id': 'k'}",
     .schema_version = 5,
     .rc = -1,
     .want = "the version is newer than A's current one, 2 (event A version 5)"},
    {.name = "a version header is upcast; the doc gets no version field",
     .versions = VH("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.x', 'value': {'literal': 7}}]}}",
     .event = "{'type': 'A', 'id': 'k'}",
     .version_header = "1",
     .want = "{'type': 'A', 'id': 'k', 'x': 7}"},
    {.name = "a current version header is left alone",
     .versions = VH("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.x', 'value': {'literal': 7}}]}}",
     .event = "{'type': 'A', 'id': 'k', 'v': 1}",
     .version_header = "2",
     .want = "{'type': 'A', 'id': 'k', 'v': 1}"},
    {.name = "no version header is the default version",
     .versions = VH("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.x', 'value': {'literal': 7}}]}}",
     .event = "{'type': 'A', 'id': 'k'}",
     .want = "{'type': 'A', 'id': 'k', 'x': 7}"},
    {.name = "a version header that is not a positive integer fails",
     .versions = VH("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': []}}",
     .event = "{'type': 'A', 'id': 'k'}",
     .version_header = "two",
     .rc = -1,
     .want = "$.versions.header: header v: the version is not a positive integer"},
    {.name = "a current event is left alone",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}]}}",
     .event = "{'type': 'A', 'v': 2, 'x': 1}",
     .want = "{'type': 'A', 'v': 2, 'x': 1}"},
    {.name = "an unversioned type is left alone",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}]}}",
     .event = "{'type': 'B', 'x': 1}",
     .want = "{'type': 'B', 'x': 1}"},
    {.name = "an event without a type is left to the evaluation",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}]}}",
     .event = "{'x': 1}",
     .want = "{'x': 1}"},
    {.name = "rename moves a field, and the version is written",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'rename': '$.items', 'to': '$.lines'}]}}",
     .event = "{'type': 'A', 'v': 1, 'items': [1, 2]}",
     .want = "{'type': 'A', 'v': 2, 'lines': [1, 2]}"},
    {.name = "rename into a nested field creates its objects",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'rename': '$.cid', 'to': '$.customer.id'}]}}",
     .event = "{'type': 'A', 'v': 1, 'cid': 'c1'}",
     .want = "{'type': 'A', 'v': 2, 'customer': {'id': 'c1'}}"},
    {.name = "rename of a missing field fails, naming the step",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'rename': '$.items', 'to': '$.lines'}]}}",
     .event = "{'type': 'A', 'v': 1}",
     .rc = -1,
     .want = "$.upcasters.A.1[0]: rename: $.items is missing (event A version 1)"},
    {.name = "an optional rename of a missing field does nothing",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'rename': '$.items', 'to': '$.lines', 'optional': "
                  "true}]}}",
     .event = "{'type': 'A', 'v': 1}",
     .want = "{'type': 'A', 'v': 2}"},
    {.name = "rename onto a field the event has fails",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'rename': '$.items', 'to': '$.lines'}]}}",
     .event = "{'type': 'A', 'v': 1, 'items': 1, 'lines': 2}",
     .rc = -1,
     .want = "$.upcasters.A.1[0]: rename: $.lines is there already"},
    {.name = "rename into a field that is not an object fails",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'rename': '$.cid', 'to': '$.customer.id'}]}}",
     .event = "{'type': 'A', 'v': 1, 'cid': 'c1', 'customer': 'x'}",
     .rc = -1,
     .want = "$.upcasters.A.1[0]: cannot write $.customer.id"},
    {.name = "drop removes a field; a missing one is no error",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}, {'drop': '$.nope.deeper'}]}}",
     .event = "{'type': 'A', 'v': 1, 'x': 1, 'y': 2}",
     .want = "{'type': 'A', 'v': 2, 'y': 2}"},
    {.name = "default sets a missing field",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'default': '$.currency', 'value': {'literal': "
                  "'EUR'}}]}}",
     .event = "{'type': 'A', 'v': 1}",
     .want = "{'type': 'A', 'v': 2, 'currency': 'EUR'}"},
    {.name = "default keeps a field that is there",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'default': '$.currency', 'value': {'literal': "
                  "'EUR'}}]}}",
     .event = "{'type': 'A', 'v': 1, 'currency': 'USD'}",
     .want = "{'type': 'A', 'v': 2, 'currency': 'USD'}"},
    {.name = "set from a path copies the value",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.b', 'value': '$.a.c'}]}}",
     .event = "{'type': 'A', 'v': 1, 'a': {'c': [1]}}",
     .want = "{'type': 'A', 'v': 2, 'a': {'c': [1]}, 'b': [1]}"},
    {.name = "set from a missing path fails, naming the value",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.b', 'value': '$.a'}]}}",
     .event = "{'type': 'A', 'v': 1}",
     .rc = -1,
     .want = "$.upcasters.A.1[0].value: required field $.a is missing"},
    {.name = "set from an optional missing path is null",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.b', 'value': {'path': '$.a', 'optional': "
                  "true}}]}}",
     .event = "{'type': 'A', 'v': 1}",
     .want = "{'type': 'A', 'v': 2, 'b': null}"},
    {.name = "set replaces a field; sum, count, collect and meta compute",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.n', 'value': {'sum': '$.i[*].q'}}, "
                  "{'set': '$.c', 'value': {'count': '$.i'}}, {'set': '$.s', 'value': "
                  "{'collect': '$.i[*].q'}}, {'set': '$.t', 'value': {'meta': 'topic'}}, "
                  "{'set': '$.l', 'value': true}]}}",
     .event = "{'type': 'A', 'v': 1, 'n': 'old', 'i': [{'q': 1.5}, {'q': 2}]}",
     .want =
         "{'type': 'A', 'v': 2, 'n': '3.5', 'c': 2, 's': [1.5, 2], 'i': [{'q': 1.5}, {'q': 2}], "
         "'t': 'topic-a', 'l': true}"},
    {.name = "a sum that cannot be made fails",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.n', 'value': {'sum': '$.i[*]'}}]}}",
     .event = "{'type': 'A', 'v': 1, 'i': ['x']}",
     .rc = -1,
     .want = "$.upcasters.A.1[0].value: $.i[*]: every value summed"},
    {.name = "divide cents into a decimal string, at a scale",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.amount', 'value': {'divide': ['$.total', "
                  "100], 'scale': 2}}, {'drop': '$.total'}]}}",
     .event = "{'type': 'A', 'v': 1, 'total': 1230}",
     .want = "{'type': 'A', 'v': 2, 'amount': '12.30'}"},
    {.name = "divide without a scale is exact, trimmed",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'divide': ['$.t', 8]}}]}}",
     .event = "{'type': 'A', 'v': 1, 't': '-1'}",
     .want = "{'type': 'A', 'v': 2, 't': '-1', 'a': '-0.125'}"},
    {.name = "divide rounds half away from zero",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'divide': ['$.t', 3], "
                  "'scale': 2}}, {'set': '$.b', 'value': {'divide': [-5, 1000], 'scale': 2}}]}}",
     .event = "{'type': 'A', 'v': 1, 't': 2}",
     .want = "{'type': 'A', 'v': 2, 't': 2, 'a': '0.67', 'b': '-0.01'}"},
    {.name = "divide by zero fails",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'divide': ['$.t', 0]}}]}}",
     .event = "{'type': 'A', 'v': 1, 't': 2}",
     .rc = -1,
     .want = "$.upcasters.A.1[0].value: division by zero"},
    {.name = "divide of a text that is not a number fails, naming the operand",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'divide': ['$.t', 2]}}]}}",
     .event = "{'type': 'A', 'v': 1, 't': '1e5'}",
     .rc = -1,
     .want = "$.upcasters.A.1[0].value.divide[0]: not a decimal number"},
    {.name = "multiply is exact",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.ms', 'value': {'multiply': ['$.s', "
                  "1000]}}, {'set': '$.p', 'value': {'multiply': ['$.s', {'literal': '0.1'}]}}]}}",
     .event = "{'type': 'A', 'v': 1, 's': 1.25}",
     .want = "{'type': 'A', 'v': 2, 's': 1.25, 'ms': '1250', 'p': '0.125'}"},
    {.name = "multiply out of range fails",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'multiply': ['$.s', "
                  "'$.s']}}]}}",
     .event = "{'type': 'A', 'v': 1, 's': '99999999999999999999999'}",
     .rc = -1,
     .want = "out of range"},
    {.name = "divide out of range fails",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'divide': ['$.s', "
                  "{'literal': '0.001'}]}}]}}",
     .event = "{'type': 'A', 'v': 1, 's': '99999999999999999999'}",
     .rc = -1,
     .want = "$.upcasters.A.1[0].value: the result is out of range"},
    {.name = "concat over its size fails",
     .versions = V("{'A': 2}"),
     .upcasters =
         "'upcasters': {'A': {'1': [" DOUBLE DOUBLE DOUBLE DOUBLE DOUBLE DOUBLE DOUBLE DOUBLE DOUBLE
         "{'drop': '$.x'}]}}",
     .event = "{'type': 'A', 'v': 1, 's': 'abcdefghij'}",
     .rc = -1,
     .want = "$.upcasters.A.1[8].value: the text is over 4094 bytes"},
    {.name = "a version field that cannot be written fails",
     .versions = "'versions': {'field': '$.meta.v', 'current': {'A': 2}},",
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}]}}",
     .event = "{'type': 'A', 'meta': 'x'}",
     .rc = -1,
     .want = "$.versions: cannot write $.meta.v: a field on its way is not an object"},
    {.name = "concat joins texts; null is nothing",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'set': '$.name', 'value': {'concat': ['$.first', "
                  "{'literal': ' '}, '$.last', {'path': '$.mid', 'optional': true}, 7]}}]}}",
     .event = "{'type': 'A', 'v': 1, 'first': 'Ada', 'last': 'Lovelace'}",
     .want = "{'type': 'A', 'v': 2, 'first': 'Ada', 'last': 'Lovelace', 'name': 'Ada Lovelace7'}"},
    {.name = "a chain runs each upcaster in turn",
     .versions = V("{'A': 4}"),
     .upcasters = "'upcasters': {'A': {'1': [{'rename': '$.a', 'to': '$.b'}], '2': [{'rename': "
                  "'$.b', 'to': '$.c'}], '3': [{'rename': '$.c', 'to': '$.d'}]}}",
     .event = "{'type': 'A', 'v': 2, 'b': 1}",
     .want = "{'type': 'A', 'v': 4, 'd': 1}"},
    {.name = "a missing version is the default",
     .versions = "'versions': {'field': '$.meta.v', 'default': 2, 'current': {'A': 3}},",
     .upcasters = "'upcasters': {'A': {'2': [{'default': '$.x', 'value': 0}]}}",
     .event = "{'type': 'A'}",
     .want = "{'type': 'A', 'x': 0, 'meta': {'v': 3}}"},
    {.name = "a version given as a text counts",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}]}}",
     .event = "{'type': 'A', 'v': '1', 'x': 1}",
     .want = "{'type': 'A', 'v': 2}"},
    {.name = "a version that is not a positive integer fails",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}]}}",
     .event = "{'type': 'A', 'v': 1.5}",
     .rc = -1,
     .want = "$.versions.field: $.v: the version is not a positive integer"},
    {.name = "a version newer than the current one fails",
     .versions = V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}]}}",
     .event = "{'type': 'A', 'v': 3}",
     .rc = -1,
     .want = "$.upcasters: the version is newer than A's current one, 2 (event A version 3)"},
    {.name = "a version without an upcaster fails",
     .versions = "'versions': {'field': '$.v', 'default': 2, 'current': {'A': 3}},",
     .upcasters = "'upcasters': {'A': {'2': [{'drop': '$.x'}]}}",
     .event = "{'type': 'A', 'v': 1}",
     .rc = -1,
     .want = "$.upcasters: no upcaster from this version of A to 2 (event A version 1)"},
    {.name = "a type rename writes the type and goes on with the new type's upcasters",
     .versions = V("{'Old': 2, 'A': 3}"),
     .upcasters = "'upcasters': {'Old': {'1': [{'type': 'A'}]}, 'A': {'2': [{'set': '$.x', "
                  "'value': 1}]}}",
     .event = "{'type': 'Old', 'v': 1}",
     .want = "{'type': 'A', 'v': 3, 'x': 1}"},
    {.name = "a type rename with a header type makes a part of the new type; the header stays",
     .versions = "'event_type': {'header': 'type'}, " V("{'Old': 2}"),
     .upcasters = "'upcasters': {'Old': {'1': [{'type': 'B'}]}}",
     .event = "{'v': 1}",
     .type_header = "Old",
     .want = "[{'type': 'B', 'event': {'v': 2}}]",
     .want_header = "Old"},
    {.name = "a header type's own event is upcast in place",
     .versions = "'event_type': {'header': 'type'}, " V("{'A': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'drop': '$.x'}]}}",
     .event = "{'v': 1, 'x': 1}",
     .type_header = "A",
     .want = "{'v': 2}",
     .want_header = "A"},
    {.name = "a split makes parts, each upcast on with its own type",
     .versions = V("{'A': 2, 'B': 3}"),
     .upcasters = "'upcasters': {'A': {'1': [{'split': [{'type': 'A', 'steps': [{'drop': "
                  "'$.y'}]}, {'type': 'B', 'steps': [{'drop': '$.x'}]}]}]}, 'B': {'2': [{'set': "
                  "'$.z', 'value': '$.y'}]}}",
     .event = "{'type': 'A', 'v': 1, 'id': 'k', 'x': 1, 'y': 2}",
     .want = "[{'type': 'A', 'event': {'type': 'A', 'v': 2, 'id': 'k', 'x': 1}}, {'type': 'B', "
             "'event': {'type': 'B', 'v': 3, 'id': 'k', 'y': 2, 'z': 2}}]"},
    {.name = "a split whose parts end with one type fails",
     .versions = V("{'A': 2, 'B': 3, 'C': 3}"),
     .upcasters = "'upcasters': {'A': {'1': [{'split': [{'type': 'B'}, {'type': 'C'}]}]}, 'B': "
                  "{'2': [{'set': '$.q', 'value': 1}]}, 'C': {'2': [{'type': 'B'}]}}",
     .event = "{'type': 'A', 'v': 1}",
     .rc = -1,
     .want = "the split yields two parts of type B"},
    {.name = "a failing step of a part fails the event",
     .versions = V("{'A': 2, 'B': 2}"),
     .upcasters = "'upcasters': {'A': {'1': [{'split': [{'type': 'A'}, {'type': 'B', 'steps': "
                  "[{'rename': '$.q', 'to': '$.r'}]}]}]}}",
     .event = "{'type': 'A', 'v': 1}",
     .rc = -1,
     .want = "$.upcasters.A.1[0].split[1].steps[0]: rename: $.q is missing (event A version 1)"},
    {.name = "a failing part after an upcast one names the event split",
     .versions = V("{'A': 2, 'B': 3}"),
     .upcasters = "'upcasters': {'A': {'1': [{'split': [{'type': 'B'}, {'type': 'C', 'steps': "
                  "[{'drop': '$.x'}, {'rename': '$.q', 'to': '$.r'}]}]}]}, 'B': {'2': []}}",
     .event = "{'type': 'A', 'v': 1}",
     .rc = -1,
     .want = "$.upcasters.A.1[0].split[1].steps[1]: rename: $.q is missing (event A version 1)"},
};

static void run_up_row(const up_row_t *r)
{
    errlist_t *errs = errlist_new();
    char tail[4096];
    snprintf(tail, sizeof(tail), ", %s", r->upcasters);
    mapping_set_t *set = load(r->versions, tail, errs);
    if (!set) {
        char *e = all_errors(errs);
        fail_msg("%s: the mapping does not load:\n%s", r->name, e);
    }
    const mapping_t *m = mapping_set_get(set, 0);
    char *text = support_dq(r->event);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(doc);
    mapping_event_t ev = {doc,
                          "topic-a",
                          0,
                          1,
                          -1,
                          NULL,
                          0,
                          r->type_header,
                          NULL,
                          0,
                          0,
                          NULL,
                          0,
                          0,
                          r->version_header,
                          r->schema_version};
    char err[1024] = "";
    int rc = mapping_upcast(m, &ev, err, sizeof(err));
    if (rc != r->rc)
        fail_msg("%s: returned %d, expected %d (%s)", r->name, rc, r->rc, err);
    if (rc != 0 && !strstr(err, r->want))
        fail_msg("%s: error\n  %s\nwithout\n  %s", r->name, err, r->want);
    if (rc == 0) {
        char *want_text = support_dq(r->want);
        json_t *want = json_loads(want_text, 0, NULL);
        free(want_text);
        char *got = json_dumps(ev.doc, JSON_COMPACT | JSON_SORT_KEYS);
        if (!want || !json_equal(want, ev.doc))
            fail_msg("%s: got %s", r->name, got);
        free(got);
        assert_int_equal(ev.nparts, json_is_array(want) ? json_array_size(want) : 0);
        json_decref(want);
    }
    if (r->want_header && (!ev.type_header || strcmp(ev.type_header, r->want_header) != 0))
        fail_msg("%s: type header %s, expected %s", r->name, ev.type_header, r->want_header);
    json_decref(ev.doc);
    mapping_set_destroy(set);
    errlist_destroy(errs);
}

static void test_upcast_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(up_rows); i++)
        run_up_row(&up_rows[i]);
}

/* ---- the checks at load ---- */

typedef struct check_row {
    const char *name;
    const char *head; /* before "events" */
    const char *tail; /* after it */
    const char *where;
    const char *msg;
} check_row_t;

static const check_row_t check_rows[] = {
    {"upcasters without versions", "", ", 'upcasters': {}", "$.upcasters", "need $.versions"},
    {"versions not an object", "'versions': 3,", "", "$.versions", "expected {"},
    {"versions from a field and a header",
     "'versions': {'field': '$.v', 'header': 'v', 'current': {'A': 2}},", "", "$.versions",
     "one of them"},
    {"versions from nowhere", "'versions': {'current': {'A': 2}},", "", "$.versions",
     "give where the version is"},
    {"versions from a field and the registry",
     "'format': 'registry-avro', 'versions': {'field': '$.v', 'registry': true, 'current': {'A': "
     "2}},",
     "", "$.versions",
     "\"registry\" (the writer schema\\'s version in the Schema Registry), one of them"},
    {"versions from a header and the registry",
     "'format': 'registry-json', 'versions': {'header': 'v', 'registry': {'strategy': 'topic'}, "
     "'current': {'A': 2}},",
     "", "$.versions", "one of them"},
    {"versions from the registry of a json mapping",
     "'versions': {'registry': true, 'current': {'A': 2}},", "", "$.versions.registry",
     "the schema\\'s version is known for the Schema Registry formats only (\"format\": "
     "\"registry-avro\" or \"registry-json\"), not json"},
    {"versions from the registry of a cloudevents mapping",
     "'format': 'cloudevents', 'versions': {'registry': true, 'current': {'A': 2}},", "",
     "$.versions.registry", "not cloudevents"},
    {"an unknown subject strategy",
     "'format': 'registry-avro', 'versions': {'registry': {'strategy': 'topic-value'}, "
     "'current': {'A': 2}},",
     "", "$.versions.registry", "{\"strategy\": \"topic\", \"record\" or \"topic-record\"}"},
    {"registry false",
     "'format': 'registry-avro', 'versions': {'registry': false, 'current': {'A': 2}},", "",
     "$.versions.registry", "expected true"},
    {"a subject and a strategy",
     "'format': 'registry-avro', 'versions': {'registry': {'subject': 's', 'strategy': 'topic'}, "
     "'current': {'A': 2}},",
     "", "$.versions.registry", "{\"subject\": \"name\"}"},
    {"an empty subject",
     "'format': 'registry-avro', 'versions': {'registry': {'subject': ''}, 'current': {'A': 2}},",
     "", "$.versions.registry", "expected true"},
    {"a version header that is not a name", "'versions': {'header': '', 'current': {'A': 2}},", "",
     "$.versions.header", "expected a header name"},
    {"an unknown field of versions", "'versions': {'field': '$.v', 'current': {'A': 1}, 'x': 1},",
     "", "$.versions.x", "unknown field"},
    {"a version field that is not a field path",
     "'versions': {'field': '$.a[0]', 'current': {'A': 1}},", "", "$.versions.field",
     "field path of object keys"},
    {"a bad default", "'versions': {'field': '$.v', 'default': 0, 'current': {'A': 1}},", "",
     "$.versions.default", "positive integer"},
    {"no current versions", "'versions': {'field': '$.v', 'current': {}},", "",
     "$.versions.current", "current version"},
    {"a current version that is not an integer", V("{'A': 'x'}"), "", "$.versions.current",
     "A: expected its current version"},
    {"a default newer than a current version",
     "'versions': {'field': '$.v', 'default': 3, 'current': {'A': 2}},",
     ", 'upcasters': {'A': {'1': []}}", "$.versions.default", "newer than A\\'s current version 2"},
    {"upcasters not an object", V("{'A': 1}"), ", 'upcasters': []", "$.upcasters", "expected {"},
    {"a type's upcasters not an object", V("{'A': 2}"), ", 'upcasters': {'A': []}", "$.upcasters.A",
     "expected an object of versions"},
    {"upcasters of an unversioned type", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': []}, 'B': {'1': []}}", "$.upcasters.B",
     "gives no current version"},
    {"an unknown version: not a number", V("{'A': 2}"), ", 'upcasters': {'A': {'one': []}}",
     "$.upcasters.A.one", "unknown version"},
    {"an unknown version: at the current one", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [], '2': []}}", "$.upcasters.A.2",
     "unknown version: A is at version 2"},
    {"a gap", V("{'A': 4}"), ", 'upcasters': {'A': {'1': [], '3': []}}", "$.upcasters.A",
     "a gap: no upcaster for version 2"},
    {"a type rename past the new type's current version", V("{'A': 3, 'B': 1}"),
     ", 'upcasters': {'A': {'1': [{'type': 'B'}], '2': []}}", "$.upcasters.A.1[0]",
     "the event becomes version 2 of B, whose current version is 1"},
    {"a versioned type the mapping does not name", V("{'A': 1, 'Z': 2}"),
     ", 'upcasters': {'Z': {'1': [{'drop': '$.x'}]}}", "$.versions.current.Z",
     "Z is not an event type of $.events"},
    {"steps not a list", V("{'A': 2}"), ", 'upcasters': {'A': {'1': {}}}", "$.upcasters.A.1",
     "expected a list of steps"},
    {"an unknown step", V("{'A': 2}"), ", 'upcasters': {'A': {'1': [{'move': '$.a'}]}}",
     "$.upcasters.A.1[0]", "expected a step"},
    {"two kinds in one step", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'drop': '$.a', 'type': 'B'}]}}", "$.upcasters.A.1[0]",
     "one of rename"},
    {"a step's extra field", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'drop': '$.a', 'to': '$.b'}]}}", "$.upcasters.A.1[0]",
     "expected {'drop'"},
    {"a rename without to", V("{'A': 2}"), ", 'upcasters': {'A': {'1': [{'rename': '$.a'}]}}",
     "$.upcasters.A.1[0]", "expected {'rename'"},
    {"a rename onto itself", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'rename': '$.a', 'to': '$.a.b'}]}}", "$.upcasters.A.1[0].to",
     "onto itself or into itself"},
    {"a rename onto a field an earlier step writes", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'set': '$.b', 'value': 1}, {'rename': '$.a', 'to': '$.b'}]}}",
     "$.upcasters.A.1[1]", "which step 0 writes first"},
    {"a bad field path", V("{'A': 2}"), ", 'upcasters': {'A': {'1': [{'drop': 'a'}]}}",
     "$.upcasters.A.1[0].drop", "field path"},
    {"a bad value", V("{'A': 2}"), ", 'upcasters': {'A': {'1': [{'set': '$.a', 'value': 'text'}]}}",
     "$.upcasters.A.1[0].value", "a string value is a JSON path"},
    {"a lookup", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'lookup': {'table': 'ta', 'column': "
     "'x', 'key': {'id': '$.id'}}}}]}}",
     "$.upcasters.A.1[0].value", "a lookup is not allowed here"},
    {"divide of one value", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'divide': ['$.t']}}]}}",
     "$.upcasters.A.1[0].value", "expected {'multiply' or 'divide'"},
    {"a bad scale", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'divide': ['$.t', 2], 'scale': "
     "19}}]}}",
     "$.upcasters.A.1[0].value", "'scale' is a number of digits"},
    {"concat of one value", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'concat': ['$.t']}}]}}",
     "$.upcasters.A.1[0].value", "two values or more"},
    {"a bad operand", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'set': '$.a', 'value': {'concat': ['$.t', 'x']}}]}}",
     "$.upcasters.A.1[0].value.concat[1]", "JSON path"},
    {"a type rename to nothing", V("{'A': 2}"), ", 'upcasters': {'A': {'1': [{'type': ''}]}}",
     "$.upcasters.A.1[0].type", "new name"},
    {"a type rename to itself", V("{'A': 2}"), ", 'upcasters': {'A': {'1': [{'type': 'A'}]}}",
     "$.upcasters.A.1[0]", "renames A to itself"},
    {"a type rename to an unknown type", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'type': 'Q'}]}}", "$.upcasters.A.1[0]",
     "type Q is neither an event type"},
    {"a type rename with a type field that is not a field path",
     "'event_type': {'field': '$.t[0]'}, " V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'type': 'B'}]}}", "$.event_type.field", "field path"},
    {"a split of one part", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'split': [{'type': 'A'}]}]}}", "$.upcasters.A.1[0]",
     "two parts or more"},
    {"a split part without a type", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'split': [{'type': 'A'}, {'steps': []}]}]}}",
     "$.upcasters.A.1[0].split[1]", "a part is {"},
    {"a split into two parts of one type", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'split': [{'type': 'B'}, {'type': 'B'}]}]}}",
     "$.upcasters.A.1[0].split[1]", "both of type B"},
    {"a split into an unknown type", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'split': [{'type': 'B'}, {'type': 'Q'}]}]}}",
     "$.upcasters.A.1[0]", "type Q is neither"},
    {"a read of what an earlier step drops", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'drop': '$.x'}, {'set': '$.y', 'value': {'concat': ['$.s', "
     "'$.x']}}]}}",
     "$.upcasters.A.1[1].value.concat[1]",
     "reads $.x, which $.upcasters.A.1[0] (a drop) removes first: it is never there"},
    {"a read of what an earlier step renames away", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'rename': '$.a', 'to': '$.b'}, {'rename': '$.a.c', 'to': "
     "'$.d'}]}}",
     "$.upcasters.A.1[1]", "reads $.a.c, which $.upcasters.A.1[0] (a rename) removes first"},
    {"a split that is not the last step", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'split': [{'type': 'A'}, {'type': 'B'}]}, {'drop': '$.x'}]}}",
     "$.upcasters.A.1[0]", "the last step"},
    {"a split within a split", V("{'A': 2}"),
     ", 'upcasters': {'A': {'1': [{'split': [{'type': 'A'}, {'type': 'B', 'steps': [{'split': "
     "[]}]}]}]}}",
     "$.upcasters.A.1[0].split[1].steps[0].split", "cannot split again"},
};

static void test_check_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(check_rows); i++) {
        const check_row_t *r = &check_rows[i];
        errlist_t *errs = errlist_new();
        mapping_set_t *set = load(r->head, r->tail, errs);
        char *e = all_errors(errs);
        char *msg = support_dq(r->msg), prefix[512];
        snprintf(prefix, sizeof(prefix), "%s/p.json: %s: ", dir, r->where);
        const char *at = strstr(e, prefix);
        if (set || !at || !strstr(at, msg))
            fail_msg("%s: expected \"%s%s\", got:\n%s", r->name, prefix, msg, e);
        free(msg);
        free(e);
        mapping_set_destroy(set);
        errlist_destroy(errs);
    }
}

/* ---- events: the dead letter, and the evaluation of a split ---- */

static const char split_sq[] =
    ", 'upcasters': {'A': {'1': [{'split': [{'type': 'B', 'steps': [{'rename': '$.x', 'to': "
    "'$.y'}]}, {'type': 'A'}]}]}}";

/* A split's parts are evaluated in order, each with its own type's actions. */
static void test_split_eval(void **state)
{
    (void)state;
    errlist_t *errs = errlist_new();
    mapping_set_t *set = load(V("{'A': 2}"), split_sq, errs);
    assert_non_null(set);
    const mapping_t *m = mapping_set_get(set, 0);
    event_t e;
    memset(&e, 0, sizeof(e));
    const char *value = "{\"type\": \"A\", \"v\": 1, \"id\": \"k\", \"x\": 5}";
    arena_t *arena = arena_new();
    event_decode(&e, event_decoder_find("json"), NULL, value, strlen(value), 1 << 20, arena);
    event_resolve(&e, m, arena);
    assert_int_equal(e.state, EVENT_PENDING);
    assert_int_equal(e.ev.nparts, 2);
    assert_true(mapping_event_has_lookups(m, &e.ev) == 0);
    mapping_op_t ops[3];
    size_t nops = 0;
    char err[512];
    assert_int_equal(mapping_eval(m, &e.ev, arena, NULL, NULL, ops, &nops, err, sizeof(err)),
                     MAPPING_OK);
    assert_int_equal(nops, 2);
    assert_string_equal(mapping_action_info(ops[0].action)->table, "tb");
    assert_string_equal(ops[0].values[1], "5");
    assert_string_equal(mapping_action_info(ops[1].action)->table, "ta");
    assert_string_equal(ops[1].values[1], "5");
    mapping_doc_op_t docs[1];
    assert_int_equal(mapping_eval_docs(m, &e.ev, arena, docs, &nops, err, sizeof(err)), MAPPING_OK);
    assert_int_equal(nops, 0);
    json_decref(e.ev.doc);
    arena_destroy(arena);
    mapping_set_destroy(set);
    errlist_destroy(errs);
}

/* With a header type, a renamed event is evaluated by its new type's rules; the header stays. */
static void test_header_rename_eval(void **state)
{
    (void)state;
    errlist_t *errs = errlist_new();
    mapping_set_t *set = load("'event_type': {'header': 'type'}, " V("{'Old': 2}"),
                              ", 'upcasters': {'Old': {'1': [{'type': 'B'}]}}", errs);
    assert_non_null(set);
    const mapping_t *m = mapping_set_get(set, 0);
    const char *value = "{\"id\": \"k\", \"y\": 3}";
    arena_t *arena = arena_new();
    event_t e;
    memset(&e, 0, sizeof(e));
    e.ev.type_header = "Old";
    event_decode(&e, event_decoder_find("json"), NULL, value, strlen(value), 1 << 20, arena);
    event_resolve(&e, m, arena);
    assert_int_equal(e.state, EVENT_PENDING);
    assert_string_equal(e.ev.type_header, "Old");
    mapping_op_t ops[3];
    size_t nops = 0;
    char err[512];
    assert_int_equal(mapping_eval(m, &e.ev, arena, NULL, NULL, ops, &nops, err, sizeof(err)),
                     MAPPING_OK);
    assert_int_equal(nops, 1);
    assert_string_equal(mapping_action_info(ops[0].action)->table, "tb");
    assert_string_equal(ops[0].values[1], "3");
    json_decref(e.ev.doc);
    arena_destroy(arena);
    mapping_set_destroy(set);
    errlist_destroy(errs);
}

/* An event that cannot be upcast is dead at stage "upcast", its reason naming the step. */
static void test_dead_letter(void **state)
{
    (void)state;
    errlist_t *errs = errlist_new();
    mapping_set_t *set = load(V("{'A': 2}"), split_sq, errs);
    assert_non_null(set);
    const char *value = "{\"type\": \"A\", \"v\": 1, \"id\": \"k\"}";
    arena_t *arena = arena_new();
    event_t e;
    memset(&e, 0, sizeof(e));
    event_decode(&e, event_decoder_find("json"), NULL, value, strlen(value), 1 << 20, arena);
    event_resolve(&e, mapping_set_get(set, 0), arena);
    assert_int_equal(e.state, EVENT_DEAD);
    assert_string_equal(event_stage_name(e.stage), "upcast");
    assert_true(event_stage_sticky(e.stage));
    assert_non_null(strstr(e.error, "p.json: $.upcasters.A.1[0].split[0].steps[0]: rename: $.x "
                                    "is missing (event A version 1)"));
    json_decref(e.ev.doc);
    arena_destroy(arena);
    mapping_set_destroy(set);
    errlist_destroy(errs);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    support_remove_dir(dir);
    return 0;
}

/* ---- the fields upcasters read, against a schema of each version ---- */

/* A schema of every version: A v1 has id, x, s, c.d and items[*].q; A v2 has id and w; B v1 has
 * nothing known (-1). */
static int fake_schema(void *ctx, const char *type, long version, const char *const *keys, size_t n,
                       char *why, size_t why_size)
{
    (void)ctx;
    static const char *const v1[] = {"id",    "x",       "s",         "c", "c.d",
                                     "items", "items.*", "items.*.q", NULL};
    static const char *const v2[] = {"id", "w", NULL};
    if (strcmp(type, "A") != 0)
        return -1;
    char path[256] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s", i ? "." : "", keys[i]);
    for (const char *const *f = version == 1 ? v1 : v2; *f; f++)
        if (strcmp(*f, path) == 0)
            return 1;
    snprintf(why, why_size, "schema A v%ld", version);
    return 0;
}

typedef struct fields_row {
    const char *name;
    const char *upcasters; /* of A (2 versions: A current 3) */
    const char *want[3];   /* "where: message" pieces, none when it passes */
} fields_row_t;

static const fields_row_t fields_rows[] = {
    {"fields the versions have",
     "{'1': [{'rename': '$.x', 'to': '$.y'}, {'set': '$.t', 'value': "
     "{'divide': ['$.c.d', 100]}}, {'set': '$.q', 'value': '$.items[0].q'}], '2': [{'drop': "
     "'$.w'}]}",
     {NULL}},
    {"a rename of a field the version cannot have",
     "{'1': [{'rename': '$.nope', 'to': '$.y'}], '2': []}",
     {"$.upcasters.A.1[0]: reads $.nope, which version 1 of A cannot have: schema A v1"}},
    {"an optional rename and optional paths are not checked",
     "{'1': [{'rename': '$.nope', 'to': '$.y', 'optional': true}, {'set': '$.t', 'value': "
     "{'path': '$.nope', 'optional': true}}], '2': []}",
     {NULL}},
    {"the args of computed values",
     "{'1': [{'set': '$.t', 'value': {'concat': ['$.s', '$.zz']}}], '2': [{'default': '$.u', "
     "'value': {'multiply': ['$.x', 2]}}]}",
     {"$.upcasters.A.1[0].value.concat[1]: reads $.zz, which version 1 of A cannot have",
      "$.upcasters.A.2[0].value.multiply[0]: reads $.x, which version 2 of A cannot have"}},
    {"what an earlier step writes is there",
     "{'1': [{'set': '$.n.m', 'value': 1}, {'rename': '$.n.m', 'to': '$.k'}, {'default': '$.j', "
     "'value': '$.k'}, {'rename': '$.j', 'to': '$.jj'}], '2': []}",
     {NULL}},
    {"a nested field of the version",
     "{'1': [{'rename': '$.c.e', 'to': '$.y'}], '2': []}",
     {"$.upcasters.A.1[0]: reads $.c.e, which version 1 of A cannot have"}},
    {"a split's parts start from the steps before it",
     "{'1': [{'set': '$.p', 'value': 1}, {'split': [{'type': 'A', 'steps': [{'rename': '$.p', "
     "'to': '$.pp'}]}, {'type': 'B', 'steps': [{'rename': '$.nope', 'to': '$.q'}]}]}], '2': []}",
     {"$.upcasters.A.1[1].split[1].steps[0]: reads $.nope, which version 1 of A cannot have"}},
};

static void test_fields_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(fields_rows); i++) {
        const fields_row_t *r = &fields_rows[i];
        char tail[4096];
        snprintf(tail, sizeof(tail), ", 'upcasters': {'A': %s}", r->upcasters);
        errlist_t *errs = errlist_new();
        mapping_set_t *set = load(V("{'A': 3, 'B': 2}"), tail, errs);
        if (!set)
            fail_msg("%s: the mapping does not load:\n%s", r->name, all_errors(errs));
        int rc = mapping_upcast_fields(mapping_set_get(set, 0), fake_schema, NULL, errs);
        char *e = all_errors(errs);
        size_t want = 0;
        while (want < 3 && r->want[want])
            want++;
        if (rc != (want ? -1 : 0) || errlist_count(errs) != want)
            fail_msg("%s: returned %d with %zu problem(s), expected %zu:\n%s", r->name, rc,
                     errlist_count(errs), want, e);
        for (size_t k = 0; k < want; k++)
            if (!strstr(e, r->want[k]))
                fail_msg("%s: no \"%s\" in:\n%s", r->name, r->want[k], e);
        free(e);
        mapping_set_destroy(set);
        errlist_destroy(errs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upcast_rows), cmocka_unit_test(test_check_rows),
        cmocka_unit_test(test_split_eval),  cmocka_unit_test(test_header_rename_eval),
        cmocka_unit_test(test_dead_letter), cmocka_unit_test(test_fields_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
