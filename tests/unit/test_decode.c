/* Unit tests of the event formats: each decoder on valid and invalid messages (the doc, type,
 * attributes or refusal it yields), the table of decoders against the formats a mapping may name,
 * a mapping's $.format and its envelope attributes at load, and events of each format through a
 * mapping (meta attributes, event types, tombstones). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode.h"
#include "support.h"

#define MAX_HEADERS 8

/* Headers of a row: "name=value|name=value" ("name" alone: a header without a value). */
static int row_header_at(void *ctx, size_t i, const char **name, const void **value, size_t *len)
{
    static char buf[1024];
    static char *fields[MAX_HEADERS];
    static size_t n;
    if (i == 0) { /* a new reading: split the row's headers */
        snprintf(buf, sizeof(buf), "%s", ctx ? (const char *)ctx : "");
        n = 0;
        for (char *save = NULL, *f = strtok_r(buf, "|", &save); f && n < MAX_HEADERS;
             f = strtok_r(NULL, "|", &save))
            fields[n++] = f;
    }
    if (i >= n)
        return -1;
    static char names[MAX_HEADERS][64];
    const char *eq = strchr(fields[i], '=');
    size_t k = eq ? (size_t)(eq - fields[i]) : strlen(fields[i]);
    snprintf(names[i], sizeof(names[i]), "%.*s", (int)k, fields[i]);
    *name = names[i];
    *value = eq ? eq + 1 : NULL;
    *len = eq ? strlen(eq + 1) : 0;
    return 0;
}

/* Decodes value (' for ", NULL: a tombstone) with headers in format into e. */
static void decode_row(event_t *e, const char *format, const char *value_sq, const char *headers,
                       arena_t *arena, char **value_out)
{
    const event_decoder_t *d = event_decoder_find(format);
    assert_non_null(d);
    char *value = value_sq ? support_dq(value_sq) : NULL;
    event_headers_t h = {row_header_at, (void *)headers};
    memset(e, 0, sizeof(*e));
    event_decode(e, d, &h, value, value ? strlen(value) : 0, 1 << 20, arena);
    *value_out = value;
}

/* ---- (a) decoders ---- */

typedef struct decode_row {
    const char *name;
    const char *format;
    const char *value;   /* ' for "; NULL: a tombstone */
    const char *headers; /* "name=value|...", NULL: none */
    const char *doc;     /* the decoded doc, compact with ' for "; NULL: refused */
    const char *type;    /* the envelope's event type (e->ev.type_header), or NULL */
    const char *attr;    /* "name=value" that must be among the attributes, or NULL */
    const char *error;   /* a refusal's reason contains it */
} decode_row_t;

#define CE_BIN "ce_specversion=1.0|ce_id=e-1|ce_source=/orders|ce_type=OrderPaid"
#define CE_STRUCT "content-type=application/cloudevents+json; charset=UTF-8"
#define ENV(rest)                                                                                  \
    "{'specversion': '1.0', 'id': 'e-1', 'source': '/orders', 'type': 'OrderPaid'" rest "}"
/* {"orderId": "o-1"} in base64 */
#define B64_ORDER "eyJvcmRlcklkIjogIm8tMSJ9"

/* A change event of op rest ("'c', 'after': {...}") with its source and time. */
#define DBZ(rest) "{'source': {'table': 'customers', 'lsn': 42}, 'ts_ms': 1700, 'op': " rest "}"
#define DBZ_DOC "'source':{'lsn':42,'table':'customers'},'ts_ms':1700"

static const decode_row_t decode_rows[] = {
    /* json */
    {"json object", "json", "{'type': 'A', 'n': 1}", NULL, "{'n':1,'type':'A'}", NULL, NULL, NULL},
    {"json not an object", "json", "[1]", NULL, NULL, NULL, NULL, "not a JSON object"},
    {"json invalid", "json", "{'a':", NULL, NULL, NULL, NULL, "invalid JSON at line 1"},
    {"json tombstone", "json", NULL, NULL, "{}", NULL, NULL, NULL},
    /* cloudevents, binary mode */
    {"ce binary", "cloudevents", "{'orderId': 'o-1'}", CE_BIN "|ce_subject=o-1",
     "{'orderId':'o-1'}", "OrderPaid", "ce.subject=o-1", NULL},
    {"ce binary id", "cloudevents", "{'orderId': 'o-1'}", CE_BIN, "{'orderId':'o-1'}", "OrderPaid",
     "ce.id=e-1", NULL},
    {"ce binary extension", "cloudevents", "{}", CE_BIN "|ce_tenant=acme", "{}", "OrderPaid",
     "ce.tenant=acme", NULL},
    {"ce binary content-type is datacontenttype", "cloudevents", "{}",
     CE_BIN "|content-type=application/json", "{}", "OrderPaid",
     "ce.datacontenttype=application/json", NULL},
    {"ce binary without specversion", "cloudevents", "{}", "ce_id=e-1|ce_source=/s|ce_type=T", NULL,
     NULL, NULL, "required attribute specversion is missing (header ce_specversion)"},
    {"ce binary without id", "cloudevents", "{}", "ce_specversion=1.0|ce_source=/s|ce_type=T", NULL,
     NULL, NULL, "required attribute id is missing"},
    {"ce binary without source", "cloudevents", "{}", "ce_specversion=1.0|ce_id=1|ce_type=T", NULL,
     NULL, NULL, "required attribute source is missing (header ce_source)"},
    {"ce binary without type", "cloudevents", "{}", "ce_specversion=1.0|ce_id=1|ce_source=/s", NULL,
     NULL, NULL, "required attribute type is missing"},
    {"ce binary empty id", "cloudevents", "{}", "ce_specversion=1.0|ce_id=|ce_source=/s|ce_type=T",
     NULL, NULL, NULL, "required attribute id is missing"},
    {"ce binary no headers", "cloudevents", "{}", NULL, NULL, NULL, NULL,
     "required attribute specversion is missing"},
    {"ce binary specversion 0.3", "cloudevents", "{}",
     "ce_specversion=0.3|ce_id=1|ce_source=/s|ce_type=T", NULL, NULL, NULL,
     "specversion \"0.3\" is not 1.0"},
    {"ce binary data not JSON", "cloudevents", "hello", CE_BIN, NULL, NULL, NULL,
     "the data (the value): invalid JSON"},
    {"ce binary data not an object", "cloudevents", "[1]", CE_BIN, NULL, NULL, NULL,
     "the data (the value) is not a JSON object"},
    {"ce binary tombstone", "cloudevents", NULL, CE_BIN, "{}", NULL, NULL, NULL},
    /* cloudevents, structured mode */
    {"ce structured data", "cloudevents", ENV(", 'time': '2026-01-01T00:00:00Z', 'data': {'a': 1}"),
     CE_STRUCT, "{'a':1}", "OrderPaid", "ce.time=2026-01-01T00:00:00Z", NULL},
    {"ce structured extension", "cloudevents", ENV(", 'seq': 7, 'data': {}"), CE_STRUCT, "{}",
     "OrderPaid", "ce.seq=7", NULL},
    {"ce structured content-type upper case", "cloudevents", ENV(", 'data': {}"),
     "content-type=Application/CloudEvents+JSON", "{}", "OrderPaid", "ce.source=/orders", NULL},
    {"ce structured data_base64", "cloudevents", ENV(", 'data_base64': '" B64_ORDER "'"), CE_STRUCT,
     "{'orderId':'o-1'}", "OrderPaid", NULL, NULL},
    {"ce structured data_base64 padded", "cloudevents", ENV(", 'data_base64': 'e30='"), CE_STRUCT,
     "{}", "OrderPaid", NULL, NULL},
    {"ce structured data_base64 not base64", "cloudevents", ENV(", 'data_base64': 'e3*='"),
     CE_STRUCT, NULL, NULL, NULL, "$.data_base64 is not base64"},
    {"ce structured data_base64 not JSON", "cloudevents",
     ENV(", 'data_base64': 'aGVsbG8='"), /* hello */
     CE_STRUCT, NULL, NULL, NULL, "the decoded $.data_base64: invalid JSON"},
    {"ce structured data_base64 not a string", "cloudevents", ENV(", 'data_base64': 5"), CE_STRUCT,
     NULL, NULL, NULL, "$.data_base64 is not a string"},
    {"ce structured no data", "cloudevents", ENV(""), CE_STRUCT, NULL, NULL, NULL,
     "no data or data_base64"},
    {"ce structured both data", "cloudevents", ENV(", 'data': {}, 'data_base64': 'e30='"),
     CE_STRUCT, NULL, NULL, NULL, "both data and data_base64"},
    {"ce structured data not an object", "cloudevents", ENV(", 'data': 'x'"), CE_STRUCT, NULL, NULL,
     NULL, "$.data is not a JSON object"},
    {"ce structured without id", "cloudevents",
     "{'specversion': '1.0', 'source': '/s', 'type': 'T', 'data': {}}", CE_STRUCT, NULL, NULL, NULL,
     "structured mode: the required attribute id is missing ($.id)"},
    {"ce structured envelope not JSON", "cloudevents", "{'a'", CE_STRUCT, NULL, NULL, NULL,
     "the envelope (the value): invalid JSON"},
    {"ce batch mode", "cloudevents", "[]", "content-type=application/cloudevents-batch+json", NULL,
     NULL, NULL, "batch mode"},
    /* debezium-outbox */
    {"outbox expanded", "debezium-outbox", "{'orderId': 'o-1'}", "id=ev-9|eventType=X",
     "{'orderId':'o-1'}", NULL, "outbox.id=ev-9", NULL},
    {"outbox string", "debezium-outbox", "'{\\\"orderId\\\": \\\"o-1\\\"}'", "id=ev-9",
     "{'orderId':'o-1'}", NULL, "outbox.id=ev-9", NULL},
    {"outbox wrapped", "debezium-outbox", "{'schema': {'type': 'string'}, 'payload': {'a': 1}}",
     NULL, "{'a':1}", NULL, NULL, NULL},
    {"outbox wrapped string", "debezium-outbox",
     "{'schema': {'type': 'string'}, 'payload': '{\\\"a\\\": 1}'}", NULL, "{'a':1}", NULL, NULL,
     NULL},
    {"outbox object with schema and more", "debezium-outbox", "{'schema': 1, 'payload': 2, 'c': 3}",
     NULL, "{'c':3,'payload':2,'schema':1}", NULL, NULL, NULL},
    {"outbox string not JSON", "debezium-outbox", "'not json'", NULL, NULL, NULL, NULL,
     "the JSON string of the value: invalid JSON"},
    {"outbox wrapped string not JSON", "debezium-outbox", "{'schema': {}, 'payload': 'nope'}", NULL,
     NULL, NULL, NULL, "the JSON string of $.payload (the JsonConverter's envelope)"},
    {"outbox string not an object", "debezium-outbox", "'[1]'", NULL, NULL, NULL, NULL,
     "is not a JSON object"},
    {"outbox number", "debezium-outbox", "5", NULL, NULL, NULL, NULL,
     "not a JSON object or a string of one"},
    {"outbox invalid JSON", "debezium-outbox", "{", NULL, NULL, NULL, NULL,
     "outbox payload: invalid JSON"},
    {"outbox tombstone", "debezium-outbox", NULL, "id=ev-9", "{}", NULL, NULL, NULL},
    /* debezium change events */
    {"dbz create", "debezium", DBZ("'c', 'before': null, 'after': {'id': 1, 'name': 'Ann'}"), NULL,
     "{'after':{'id':1,'name':'Ann'},'before':null,'op':'c'," DBZ_DOC "}", "create",
     "debezium.op=c", NULL},
    {"dbz update", "debezium", DBZ("'u', 'before': {'id': 1}, 'after': {'id': 1}"), NULL,
     "{'after':{'id':1},'before':{'id':1},'op':'u'," DBZ_DOC "}", "update", "debezium.op=u", NULL},
    {"dbz delete", "debezium", DBZ("'d', 'before': {'id': 1}, 'after': null"), NULL,
     "{'after':null,'before':{'id':1},'op':'d'," DBZ_DOC "}", "delete", "debezium.op=d", NULL},
    {"dbz delete without before", "debezium", DBZ("'d', 'before': null, 'after': null"), NULL,
     "{'after':null,'before':null,'op':'d'," DBZ_DOC "}", "delete", NULL, NULL},
    {"dbz snapshot read", "debezium", DBZ("'r', 'before': null, 'after': {'id': 2}"), NULL,
     "{'after':{'id':2},'before':null,'op':'r'," DBZ_DOC "}", "read", "debezium.op=r", NULL},
    {"dbz truncate", "debezium", DBZ("'t'"), NULL, "{'op':'t'," DBZ_DOC "}", "truncate",
     "debezium.op=t", NULL},
    {"dbz message", "debezium",
     "{'op': 'm', 'ts_ms': 1, 'message': {'prefix': 'p', 'content': 'eA=='}}", NULL,
     "{'message':{'content':'eA==','prefix':'p'},'op':'m','ts_ms':1}", "message", NULL, NULL},
    {"dbz wrapped create", "debezium",
     "{'schema': {'type': 'struct', 'name': 'srv.public.customers.Envelope'}, 'payload': " DBZ(
         "'c', 'after': {'id': 3}") "}",
     NULL, "{'after':{'id':3},'op':'c'," DBZ_DOC "}", "create", "debezium.op=c", NULL},
    {"dbz wrapped delete", "debezium",
     "{'schema': {}, 'payload': " DBZ("'d', 'before': {'id': 3}, 'after': null") "}", NULL,
     "{'after':null,'before':{'id':3},'op':'d'," DBZ_DOC "}", "delete", NULL, NULL},
    {"dbz headers are ignored", "debezium", DBZ("'r', 'after': {}"), "eventType=X|op=d",
     "{'after':{},'op':'r'," DBZ_DOC "}", "read", NULL, NULL},
    {"dbz tombstone", "debezium", NULL, NULL, "{}", NULL, NULL, NULL},
    {"dbz no op", "debezium", "{'after': {'id': 1}, 'source': {}}", NULL, NULL, NULL, NULL,
     "debezium change event: $.op is missing (one of c, u, d, r, t or m)"},
    {"dbz op not a string", "debezium", DBZ("1, 'after': {}"), NULL, NULL, NULL, NULL,
     "$.op is not a string"},
    {"dbz unknown op", "debezium", DBZ("'x', 'after': {}"), NULL, NULL, NULL, NULL,
     "$.op \"x\" is not an operation (one of c, u, d, r, t or m)"},
    {"dbz op as a word", "debezium", DBZ("'create', 'after': {}"), NULL, NULL, NULL, NULL,
     "$.op \"create\" is not an operation"},
    {"dbz wrapped no op", "debezium", "{'schema': {}, 'payload': {'after': {}}}", NULL, NULL, NULL,
     NULL, "$.payload.op is missing"},
    {"dbz create without after", "debezium", DBZ("'c', 'before': null"), NULL, NULL, NULL, NULL,
     "$.after is missing: a create (op c) carries the row's new image"},
    {"dbz update with null after", "debezium", DBZ("'u', 'after': null"), NULL, NULL, NULL, NULL,
     "$.after is null: an update (op u)"},
    {"dbz read with after not an object", "debezium", DBZ("'r', 'after': [1]"), NULL, NULL, NULL,
     NULL, "$.after is not a JSON object: a snapshot read (op r)"},
    {"dbz wrapped create without after", "debezium", "{'schema': {}, 'payload': {'op': 'c'}}", NULL,
     NULL, NULL, NULL, "$.payload.after is missing"},
    {"dbz not an object", "debezium", "[1]", NULL, NULL, NULL, NULL,
     "debezium change event: the value is not a JSON object"},
    {"dbz string", "debezium", "'x'", NULL, NULL, NULL, NULL, "the value is not a JSON object"},
    {"dbz invalid JSON", "debezium", "{'op': ", NULL, NULL, NULL, NULL,
     "debezium change event: the value: invalid JSON at line 1"},
    {"dbz payload not an object", "debezium", "{'schema': {}, 'payload': 'x'}", NULL, NULL, NULL,
     NULL, "$.payload (the JsonConverter's envelope) is not a JSON object"},
    {"dbz payload null", "debezium", "{'schema': null, 'payload': null}", NULL, NULL, NULL, NULL,
     "$.payload (the JsonConverter's envelope) is not a JSON object"},
};

static int has_attr(const event_t *e, const char *want)
{
    const char *eq = strchr(want, '=');
    for (size_t i = 0; i < e->ev.nattrs; i++)
        if (strlen(e->ev.attrs[i].name) == (size_t)(eq - want) &&
            strncmp(e->ev.attrs[i].name, want, (size_t)(eq - want)) == 0 &&
            strcmp(e->ev.attrs[i].value, eq + 1) == 0)
            return 1;
    return 0;
}

static void check_doc(const decode_row_t *r, const event_t *e)
{
    if (e->state != EVENT_PENDING)
        fail_msg("%s: refused (%s): %s", r->name, event_stage_name(e->stage), e->error);
    char *want = support_dq(r->doc);
    char *got = json_dumps(e->ev.doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: doc %s, expected %s", r->name, got ? got : "(null)", want);
    free(want);
    free(got);
    if ((r->type == NULL) != (e->ev.type_header == NULL) ||
        (r->type && strcmp(r->type, e->ev.type_header) != 0))
        fail_msg("%s: type %s, expected %s", r->name,
                 e->ev.type_header ? e->ev.type_header : "(null)", r->type ? r->type : "(null)");
    if (r->attr && !has_attr(e, r->attr))
        fail_msg("%s: no attribute %s", r->name, r->attr);
    if (e->ev.tombstone != (r->value == NULL))
        fail_msg("%s: tombstone %d", r->name, e->ev.tombstone);
}

static void test_decoders(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t i = 0; i < N_ROWS(decode_rows); i++) {
        const decode_row_t *r = &decode_rows[i];
        event_t e;
        char *value;
        decode_row(&e, r->format, r->value, r->headers, arena, &value);
        if (r->doc) {
            check_doc(r, &e);
        } else if (e.state != EVENT_DEAD || e.stage != EVENT_STAGE_DECODE ||
                   !strstr(e.error, r->error)) {
            fail_msg("%s: expected a decode refusal with '%s', got state %d: %s", r->name, r->error,
                     e.state, e.error ? e.error : "");
        }
        json_decref(e.ev.doc);
        free(value);
        arena_reset(arena);
    }
    arena_destroy(arena);
}

/* Every format a mapping may name has its decoder, and the size limit holds for each. */
static void test_decoder_table(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    assert_true(mapping_format_count() >= 3);
    for (size_t i = 0; i < mapping_format_count(); i++) {
        const event_decoder_t *d = event_decoder_find(mapping_format_name(i));
        if (!d)
            fail_msg("format %s has no decoder", mapping_format_name(i));
        event_t e;
        memset(&e, 0, sizeof(e));
        event_decode(&e, d, NULL, "{}", 2, 1, arena);
        if (e.state != EVENT_DEAD || !strstr(e.error, "over max.event.bytes"))
            fail_msg("%s: a value over the limit is not refused", d->format);
    }
    assert_null(mapping_format_name(mapping_format_count()));
    /* the debezium decoder's event types are those its mappings may name, one per operation */
    const char *const *types = mapping_format_types("debezium");
    assert_non_null(types);
    const char *const letters[] = {"c", "u", "d", "r", "t", "m"};
    size_t ntypes = 0;
    while (types[ntypes])
        ntypes++;
    assert_int_equal(ntypes, N_ROWS(letters));
    for (size_t i = 0; i < N_ROWS(letters); i++) {
        char value[128];
        snprintf(value, sizeof(value), "{\"op\": \"%s\", \"after\": {}}", letters[i]);
        event_t e;
        memset(&e, 0, sizeof(e));
        event_decode(&e, event_decoder_find("debezium"), NULL, value, strlen(value), 1 << 20,
                     arena);
        if (e.state != EVENT_PENDING)
            fail_msg("op %s: refused: %s", letters[i], e.error);
        if (!e.ev.type_header || strcmp(e.ev.type_header, types[i]) != 0)
            fail_msg("op %s: type %s, expected %s", letters[i],
                     e.ev.type_header ? e.ev.type_header : "(null)", types[i]);
        json_decref(e.ev.doc);
    }
    assert_null(mapping_format_types("json"));
    assert_null(mapping_format_types("cloudevents"));
    assert_null(event_decoder_find("avro"));
    arena_destroy(arena);
}

/* ---- (b) mappings: $.format and envelope attributes at load ---- */

#define HEAD "'version': 1, 'projection': 'p', 'topics': ['t']"
#define VALS_META(m)                                                                               \
    "{'upsert': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': {'meta': '" m "'}}}"

/* Writes mapping text (' for ") as the only file of a new directory; returns the directory. */
static char *write_mapping(const char *text_sq)
{
    char *dir = strdup("/tmp/projector-decode-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *text = support_dq(text_sq);
    support_write_file(dir, "m.json", text);
    free(text);
    return dir;
}

typedef struct load_row {
    const char *name;
    const char *mapping; /* ' for " */
    const char *where;   /* the JSON path the problem names; NULL: the mapping loads */
    const char *msg;
} load_row_t;

static const load_row_t load_rows[] = {
    {"no format is json", "{" HEAD ", 'events': {'E': []}}", NULL, NULL},
    {"format json", "{" HEAD ", 'format': 'json', 'events': {'E': []}}", NULL, NULL},
    {"format cloudevents", "{" HEAD ", 'format': 'cloudevents', 'events': {'E': []}}", NULL, NULL},
    {"format outbox", "{" HEAD ", 'format': 'debezium-outbox', 'events': {'E': []}}", NULL, NULL},
    {"unknown format", "{" HEAD ", 'format': 'avro', 'events': {'E': []}}", "$.format",
     "unknown format \"avro\": the known formats are \"json\", \"cloudevents\", "
     "\"debezium-outbox\""},
    {"format not a string", "{" HEAD ", 'format': 1, 'events': {'E': []}}", "$.format",
     "expected a format name: the known formats are \"json\""},
    {"ce meta with cloudevents",
     "{" HEAD ", 'format': 'cloudevents', 'events': {'E': [" VALS_META("ce.id") "]}}", NULL, NULL},
    {"ce extension meta with cloudevents",
     "{" HEAD ", 'format': 'cloudevents', 'events': {'E': [" VALS_META("ce.tenant") "]}}", NULL,
     NULL},
    {"ce meta with json", "{" HEAD ", 'events': {'E': [" VALS_META("ce.id") "]}}",
     "$.events.E[0].columns.t",
     "meta \"ce.id\" is an attribute of format cloudevents, but this mapping's $.format is json"},
    {"ce meta with outbox",
     "{" HEAD ", 'format': 'debezium-outbox', 'events': {'E': [" VALS_META("ce.source") "]}}",
     "$.events.E[0].columns.t", "is an attribute of format cloudevents"},
    {"outbox meta with cloudevents",
     "{" HEAD ", 'format': 'cloudevents', 'events': {'E': [" VALS_META("outbox.id") "]}}",
     "$.events.E[0].columns.t",
     "meta \"outbox.id\" is an attribute of format debezium-outbox, but this mapping's $.format "
     "is cloudevents"},
    {"outbox meta with outbox",
     "{" HEAD ", 'format': 'debezium-outbox', 'events': {'E': [" VALS_META("outbox.id") "]}}", NULL,
     NULL},
    {"ce. alone", "{" HEAD ", 'format': 'cloudevents', 'events': {'E': [" VALS_META("ce.") "]}}",
     "$.events.E[0].columns.t", "\"meta\" is one of topic"},
    {"outbox.other",
     "{" HEAD ", 'format': 'debezium-outbox', 'events': {'E': [" VALS_META("outbox.type") "]}}",
     "$.events.E[0].columns.t", "outbox.id (format debezium-outbox)"},
    {"ce meta in a literal is not a meta",
     "{" HEAD ", 'events': {'E': [{'upsert': 'vals', 'key': {'id': '$.id'}, 'columns': {'j': "
     "{'literal': {'meta': 'ce.id'}}}}]}}",
     NULL, NULL},
    {"tombstone rule",
     "{" HEAD ", 'events': {'$tombstone': [{'delete': 'vals', 'key': {'id': "
     "{'meta': 'key'}}}]}}",
     NULL, NULL},
    {"format debezium",
     "{" HEAD ", 'format': 'debezium', 'events': {'create': [], 'update': [], 'delete': [], "
     "'read': [], 'truncate': [], 'message': [], '$tombstone': []}}",
     NULL, NULL},
    {"debezium rule named by letter", "{" HEAD ", 'format': 'debezium', 'events': {'c': []}}",
     "$.events.c",
     "format debezium names its events by operation: \"c\" is none of \"create\", \"update\", "
     "\"delete\", \"read\", \"truncate\", \"message\" (or \"$tombstone\")"},
    {"debezium rule named by the producer",
     "{" HEAD ", 'format': 'debezium', 'events': {'create': [], 'CustomerCreated': []}}",
     "$.events.CustomerCreated", "\"CustomerCreated\" is none of"},
    {"debezium with event_type",
     "{" HEAD ", 'format': 'debezium', 'event_type': {'field': '$.op'}, 'events': {'create': []}}",
     "$.event_type", "format debezium: the envelope gives the event type (its operation)"},
    {"debezium meta with debezium",
     "{" HEAD ", 'format': 'debezium', 'events': {'create': [" VALS_META("debezium.op") "]}}", NULL,
     NULL},
    {"debezium meta with json", "{" HEAD ", 'events': {'E': [" VALS_META("debezium.op") "]}}",
     "$.events.E[0].columns.t",
     "meta \"debezium.op\" is an attribute of format debezium, but this mapping's $.format is "
     "json"},
    {"outbox meta with debezium",
     "{" HEAD ", 'format': 'debezium', 'events': {'create': [" VALS_META("outbox.id") "]}}",
     "$.events.create[0].columns.t", "is an attribute of format debezium-outbox"},
    {"debezium.other",
     "{" HEAD ", 'format': 'debezium', 'events': {'create': [" VALS_META("debezium.table") "]}}",
     "$.events.create[0].columns.t", "debezium.op (format debezium)"},
};

static void test_load(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ROWS(load_rows); i++) {
        const load_row_t *r = &load_rows[i];
        char *dir = write_mapping(r->mapping);
        errlist_t *errs = errlist_new();
        mapping_set_t *set = mapping_set_load(dir, errs);
        char prefix[512];
        snprintf(prefix, sizeof(prefix), "%s/m.json: %s: ", dir, r->where ? r->where : "");
        if (!r->where && !set)
            fail_msg("%s: refused: %s", r->name, errlist_get(errs, 0));
        if (r->where && (set || errlist_count(errs) != 1 ||
                         strncmp(errlist_get(errs, 0), prefix, strlen(prefix)) != 0 ||
                         !strstr(errlist_get(errs, 0), r->msg)))
            fail_msg("%s: expected one problem \"%s...%s\", got %s", r->name, prefix, r->msg,
                     set ? "none" : errlist_get(errs, 0));
        if (set && !r->where && strstr(r->mapping, "'format'") == NULL)
            assert_string_equal(mapping_format(mapping_set_get(set, 0)), "json");
        mapping_set_destroy(set);
        errlist_destroy(errs);
        support_remove_dir(dir);
        free(dir);
    }
}

/* ---- (c) events of each format through a mapping ---- */

#define CE_MAP                                                                                     \
    "{" HEAD ", 'format': 'cloudevents', 'events': {'OrderPaid': [{'upsert': 'vals', 'key': "      \
    "{'id': {'meta': 'ce.id'}}, 'columns': {'t': '$.orderId', 't2': {'meta': 'ce.subject'}, 'k': " \
    "{'meta': 'ce.source'}}}]}}"
#define OUTBOX_MAP                                                                                 \
    "{" HEAD ", 'format': 'debezium-outbox', 'events': {'OrderPaid': [{'upsert': 'vals', 'key': "  \
    "{'id': {'meta': 'key'}}, 'columns': {'t': '$.orderId', 't2': {'meta': 'outbox.id'}}}]}}"
#define OUTBOX_HEADER_MAP                                                                          \
    "{" HEAD ", 'format': 'debezium-outbox', 'event_type': {'header': 'type'}, 'events': "         \
    "{'OrderPaid': [{'upsert': 'vals', 'key': {'id': {'meta': 'key'}}, 'columns': {'t': "          \
    "'$.orderId'}}]}}"
#define TOMB_MAP                                                                                   \
    "{" HEAD                                                                                       \
    ", 'events': {'E': [{'upsert': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.id'}}], "    \
    "'$tombstone': [{'delete': 'vals', 'key': {'id': {'meta': 'key'}}}]}}"
#define PLAIN_MAP                                                                                  \
    "{" HEAD                                                                                       \
    ", 'events': {'E': [{'upsert': 'vals', 'key': {'id': '$.id'}, 'columns': {'t': '$.id'}}]}}"
#define TOMB_TYPE_MAP                                                                              \
    "{" HEAD ", 'events': {'$tombstone': [{'delete': 'vals', 'key': {'id': {'meta': 'key'}}}]}}"

#define DBZ_MAP                                                                                    \
    "{" HEAD ", 'format': 'debezium', 'events': {'create': [" DBZ_UPSERT                           \
    "], 'update': [" DBZ_UPSERT "], 'read': [" DBZ_UPSERT                                          \
    "], 'delete': [{'delete': 'vals', 'key': {'id': "                                              \
    "'$.before.id'}}]}}"
#define DBZ_UPSERT                                                                                 \
    "{'upsert': 'vals', 'key': {'id': '$.after.id'}, 'columns': {'t': '$.after.name', 't2': "      \
    "{'meta': 'debezium.op'}, 'k': '$.source.table'}}"

/* DBZ_MAP with an upcaster of create events: the type is the envelope's, not a path's */
#define DBZ_UPCAST_MAP                                                                             \
    "{" HEAD ", 'format': 'debezium', 'versions': {'field': '$.after.v', 'default': 1, "           \
    "'current': {'create': 2}}, 'upcasters': {'create': {'1': [{'default': '$.after.name', "       \
    "'value': {'literal': 'up'}}]}}, 'events': {'create': [" DBZ_UPSERT "]}}"

typedef struct eval_row {
    const char *name;
    const char *mapping; /* ' for " */
    const char *format;
    const char *value;   /* ' for "; NULL: a tombstone */
    const char *headers; /* "name=value|...", NULL: none */
    mapping_result_t want;
    const char *values; /* MAPPING_OK: the first op's values joined by '|' (NULL as "NULL");
                         * MAPPING_BAD: the error contains it */
} eval_row_t;

static const eval_row_t eval_rows[] = {
    {"ce binary", CE_MAP, "cloudevents", "{'orderId': 'o-1'}", CE_BIN "|ce_subject=o-1", MAPPING_OK,
     "e-1|o-1|o-1|/orders"},
    {"ce binary without subject", CE_MAP, "cloudevents", "{'orderId': 'o-1'}", CE_BIN, MAPPING_OK,
     "e-1|o-1|NULL|/orders"},
    {"ce structured", CE_MAP, "cloudevents", ENV(", 'subject': 's', 'data': {'orderId': 'o-2'}"),
     CE_STRUCT, MAPPING_OK, "e-1|o-2|s|/orders"},
    {"ce structured base64", CE_MAP, "cloudevents", ENV(", 'data_base64': '" B64_ORDER "'"),
     CE_STRUCT, MAPPING_OK, "e-1|o-1|NULL|/orders"},
    {"ce type not mapped", CE_MAP, "cloudevents", "{}",
     "ce_specversion=1.0|ce_id=1|ce_source=/s|ce_type=Other", MAPPING_SKIP, NULL},
    {"type $tombstone in a value is not the tombstone rule", TOMB_TYPE_MAP, "json",
     "{'type': '$tombstone'}", NULL, MAPPING_SKIP, NULL},
    {"ce path relative to the data", CE_MAP, "cloudevents", ENV(", 'orderId': 'top', 'data': {}"),
     CE_STRUCT, MAPPING_BAD, "required field $.orderId is missing"},
    {"outbox", OUTBOX_MAP, "debezium-outbox", "{'orderId': 'o-1'}", "id=ev-1|eventType=OrderPaid",
     MAPPING_OK, "o-1|o-1|ev-1"},
    {"outbox wrapped string", OUTBOX_MAP, "debezium-outbox",
     "{'schema': {}, 'payload': '{\\\"orderId\\\": \\\"o-3\\\"}'}", "id=ev-3|eventType=OrderPaid",
     MAPPING_OK, "o-1|o-3|ev-3"},
    {"outbox without eventType", OUTBOX_MAP, "debezium-outbox", "{'orderId': 'o-1'}", "id=ev-1",
     MAPPING_BAD, "$.event_type: no \"eventType\" header"},
    {"outbox without id", OUTBOX_MAP, "debezium-outbox", "{'orderId': 'o-1'}",
     "eventType=OrderPaid", MAPPING_OK, "o-1|o-1|NULL"},
    {"outbox type header named", OUTBOX_HEADER_MAP, "debezium-outbox", "{'orderId': 'o-1'}",
     "type=OrderPaid|eventType=Other", MAPPING_OK, "o-1|o-1"},
    {"tombstone with a rule", TOMB_MAP, "json", NULL, NULL, MAPPING_OK, "o-1"},
    {"tombstone without a rule", PLAIN_MAP, "json", NULL, NULL, MAPPING_SKIP, NULL},
    {"ce tombstone without a rule", CE_MAP, "cloudevents", NULL, NULL, MAPPING_SKIP, NULL},
    {"json event beside a tombstone rule", TOMB_MAP, "json", "{'type': 'E', 'id': 'x'}", NULL,
     MAPPING_OK, "x|x"},
    {"dbz create", DBZ_MAP, "debezium", DBZ("'c', 'before': null, 'after': {'id': 7, 'name': 'A'}"),
     NULL, MAPPING_OK, "7|A|c|customers"},
    {"dbz update reads after", DBZ_MAP, "debezium",
     DBZ("'u', 'before': {'id': 7, 'name': 'A'}, 'after': {'id': 7, 'name': 'B'}"), NULL,
     MAPPING_OK, "7|B|u|customers"},
    {"dbz snapshot read", DBZ_MAP, "debezium", DBZ("'r', 'after': {'id': 8, 'name': 'C'}"), NULL,
     MAPPING_OK, "8|C|r|customers"},
    {"dbz wrapped", DBZ_MAP, "debezium",
     "{'schema': {}, 'payload': " DBZ("'c', 'after': {'id': 9, 'name': 'D'}") "}", NULL, MAPPING_OK,
     "9|D|c|customers"},
    {"dbz delete reads before", DBZ_MAP, "debezium", DBZ("'d', 'before': {'id': 7}, 'after': null"),
     NULL, MAPPING_OK, "7"},
    {"dbz delete with a null before", DBZ_MAP, "debezium",
     DBZ("'d', 'before': null, 'after': null"), NULL, MAPPING_BAD,
     "required field $.before.id is missing"},
    {"dbz truncate not mapped", DBZ_MAP, "debezium", DBZ("'t'"), NULL, MAPPING_SKIP, NULL},
    {"dbz tombstone without a rule", DBZ_MAP, "debezium", NULL, NULL, MAPPING_SKIP, NULL},
    {"dbz upcast by the envelope's type", DBZ_UPCAST_MAP, "debezium",
     DBZ("'c', 'after': {'id': 7}"), NULL, MAPPING_OK, "7|up|c|customers"},
    {"dbz current version not upcast", DBZ_UPCAST_MAP, "debezium",
     DBZ("'c', 'after': {'id': 7, 'v': 2, 'name': 'A'}"), NULL, MAPPING_OK, "7|A|c|customers"},
};

static void check_eval(const eval_row_t *r, const event_t *e, const mapping_t *m, arena_t *arena)
{
    mapping_op_t ops[4];
    size_t nops = 0;
    char err[1024] = "";
    mapping_result_t rc = mapping_eval(m, &e->ev, arena, NULL, NULL, ops, &nops, err, sizeof(err));
    if (rc != r->want)
        fail_msg("%s: result %d, expected %d (%s)", r->name, rc, r->want, err);
    if (rc == MAPPING_BAD && !strstr(err, r->values))
        fail_msg("%s: error %s, expected ...%s...", r->name, err, r->values);
    if (rc != MAPPING_OK)
        return;
    const mapping_action_info_t *a = mapping_action_info(ops[0].action);
    char got[512] = "";
    size_t nvals = a->nkeys + a->ncols, n = 0;
    for (size_t i = 0; i < nvals; i++)
        n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", i ? "|" : "",
                              ops[0].values[i] ? ops[0].values[i] : "NULL");
    if (strcmp(got, r->values) != 0)
        fail_msg("%s: values %s, expected %s", r->name, got, r->values);
}

static void test_eval(void **state)
{
    (void)state;
    arena_t *arena = arena_new();
    for (size_t i = 0; i < N_ROWS(eval_rows); i++) {
        const eval_row_t *r = &eval_rows[i];
        char *dir = write_mapping(r->mapping);
        errlist_t *errs = errlist_new();
        mapping_set_t *set = mapping_set_load(dir, errs);
        if (!set)
            fail_msg("%s: mapping refused: %s", r->name, errlist_get(errs, 0));
        mapping_t *m = mapping_set_get(set, 0);
        mapping_bind_types(m, support_column_type, NULL, errs);
        assert_int_equal(errlist_count(errs), 0);
        event_t e;
        char *value;
        decode_row(&e, r->format, r->value, r->headers, arena, &value);
        e.ev.key = "o-1";
        e.ev.key_len = 3;
        const char *th = mapping_type_header(m);
        if (th && e.state == EVENT_PENDING) {
            event_headers_t h = {row_header_at, (void *)r->headers};
            e.ev.type_header = event_header(&h, th, arena);
        }
        event_resolve(&e, m, arena);
        if (e.state != EVENT_PENDING)
            fail_msg("%s: refused at decode: %s", r->name, e.error);
        check_eval(r, &e, m, arena);
        json_decref(e.ev.doc);
        free(value);
        arena_reset(arena);
        mapping_set_destroy(set);
        errlist_destroy(errs);
        support_remove_dir(dir);
        free(dir);
    }
    arena_destroy(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoders),
        cmocka_unit_test(test_decoder_table),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_eval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
