/* Unit tests of the Schema Registry formats: the wire header (magic byte, schema id, payload)
 * and Avro binary to JSON values, each type and logical type (the datums were written by
 * Debian's python3-avro); the subject an event's version is read from, and record names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode_avro.h"
#include "registry.h"

/* Hex text into buf (room for 512 bytes); returns the length. */
static size_t unhex(const char *hex, unsigned char *buf)
{
    size_t n = 0;
    for (; hex[2 * n] && n < 512; n++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * n, "%2x", &v), 1);
        buf[n] = (unsigned char)v;
    }
    return n;
}

/* ---- (a) the wire header ---- */

typedef struct header_row {
    const char *name;
    const char *hex; /* the value */
    int rc;
    int32_t id;       /* rc 0 */
    const char *fail; /* rc -1: part of the message */
} header_row_t;

static const header_row_t header_rows[] = {
    {"id 1, a payload", "00000000017b7d", 0, 1, NULL},
    {"id 0x01020304", "0001020304", 0, 16909060, NULL},
    {"the largest id", "007fffffff00", 0, INT32_MAX, NULL},
    {"an empty payload", "0000000007", 0, 7, NULL},
    {"empty", "", -1, 0, "the value is 0 bytes, shorter than the schema registry's 5-byte header"},
    {"4 bytes", "00000000", -1, 0, "the value is 4 bytes, shorter"},
    {"no magic byte: JSON", "7b2274797065223a317d", -1, 0,
     "does not start with the schema registry's magic byte 0 (found 0x7b)"},
    {"magic byte 1", "010000000100", -1, 0, "magic byte 0 (found 0x01)"},
};

static void test_header(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(header_rows) / sizeof(header_rows[0]); i++) {
        const header_row_t *r = &header_rows[i];
        unsigned char buf[512];
        size_t len = unhex(r->hex, buf);
        int32_t id = -1;
        size_t at = 0;
        char err[256] = "";
        int rc = registry_wire_header(buf, len, &id, &at, err, sizeof(err));
        if (rc != r->rc)
            fail_msg("%s: returned %d, expected %d (%s)", r->name, rc, r->rc, err);
        if (rc == 0 && (id != r->id || at != 5))
            fail_msg("%s: id %d at %zu, expected %d at 5", r->name, id, at, r->id);
        if (rc != 0 && !strstr(err, r->fail))
            fail_msg("%s: \"%s\" does not say \"%s\"", r->name, err, r->fail);
    }
}

/* ---- (b) Avro datums to JSON values ---- */

#define NULLABLE_STRING                                                                            \
    "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"o\", \"type\": [\"null\", " \
    "\"string\"]}]}"

typedef struct avro_row {
    const char *name;
    const char *schema; /* the writer's */
    const char *hex;    /* the datum, as tests/unit/data/avro_rows.py writes it */
    const char *json;   /* the value expected, or NULL: refused */
    const char *fail;   /* refused: part of the message */
} avro_row_t;

static const avro_row_t avro_rows[] = {
    {"primitives",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"b\", \"type\": "
     "\"boolean\"}, {\"name\": \"i\", \"type\": \"int\"}, {\"name\": \"l\", \"type\": \"long\"}, "
     "{\"name\": \"f\", \"type\": \"float\"}, {\"name\": \"d\", \"type\": \"double\"}, {\"name\": "
     "\"s\", \"type\": \"string\"}, {\"name\": \"n\", \"type\": \"null\"}]}",
     "01099693d89fee470000c03f00000000000002c00a636166c3a9",
     "{\"b\": true, \"i\": -5, \"l\": 1234567890123, \"f\": 1.5, \"d\": -2.25, \"s\": "
     "\"caf\\u00e9\", \"n\": null}",
     NULL},
    {"nullable: null",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"o\", \"type\": [\"null\", "
     "\"string\"]}]}",
     "00", "{\"o\": null}", NULL},
    {"nullable: a value",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"o\", \"type\": [\"null\", "
     "\"string\"]}]}",
     "020278", "{\"o\": \"x\"}", NULL},
    {"union of several types: int",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"u\", \"type\": [\"null\", "
     "\"int\", \"string\"]}]}",
     "0206", "{\"u\": 3}", NULL},
    {"union of several types: string",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"u\", \"type\": [\"null\", "
     "\"int\", \"string\"]}]}",
     "040a7468726565", "{\"u\": \"three\"}", NULL},
    {"enum",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"e\", \"type\": {\"type\": "
     "\"enum\", \"name\": \"Status\", \"symbols\": [\"NEW\", \"PAID\", \"SHIPPED\"]}}]}",
     "02", "{\"e\": \"PAID\"}", NULL},
    {"array of records",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": {\"type\": "
     "\"array\", \"items\": {\"type\": \"record\", \"name\": \"Item\", \"fields\": [{\"name\": "
     "\"sku\", \"type\": \"string\"}, {\"name\": \"q\", \"type\": \"int\"}]}}}]}",
     "0402410202420400", "{\"a\": [{\"sku\": \"A\", \"q\": 1}, {\"sku\": \"B\", \"q\": 2}]}", NULL},
    {"map",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"m\", \"type\": {\"type\": "
     "\"map\", \"values\": \"long\"}}]}",
     "0402780202790300", "{\"m\": {\"x\": 1, \"y\": -2}}", NULL},
    {"bytes and fixed: base64",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"by\", \"type\": "
     "\"bytes\"}, {\"name\": \"fx\", \"type\": {\"type\": \"fixed\", \"name\": \"F4\", \"size\": "
     "4}}]}",
     "0800ff686961626364", "{\"by\": \"AP9oaQ==\", \"fx\": \"YWJjZA==\"}", NULL},
    {"decimal bytes",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"p\", \"type\": {\"type\": "
     "\"bytes\", \"logicalType\": \"decimal\", \"precision\": 14, \"scale\": 2}}, {\"name\": "
     "\"n\", \"type\": {\"type\": \"bytes\", \"logicalType\": \"decimal\", \"precision\": 14, "
     "\"scale\": 2}}, {\"name\": \"z\", \"type\": {\"type\": \"bytes\", \"logicalType\": "
     "\"decimal\", \"precision\": 14, \"scale\": 2}}, {\"name\": \"c\", \"type\": {\"type\": "
     "\"bytes\", \"logicalType\": \"decimal\", \"precision\": 14, \"scale\": 2}}]}",
     "0602320b02fb020004ce00",
     "{\"p\": \"1438.83\", \"n\": \"-0.05\", \"z\": \"0.00\", \"c\": \"-128.00\"}", NULL},
    {"decimal: large, scale 0",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"big\", \"type\": "
     "{\"type\": \"bytes\", \"logicalType\": \"decimal\", \"precision\": 38, \"scale\": 0}}]}",
     "1afe7116f0093c8c1f11b1c0f52e", "{\"big\": \"-123456789012345678901234567890\"}", NULL},
    {"decimal fixed",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"fd\", \"type\": {\"type\": "
     "\"fixed\", \"name\": \"D8\", \"size\": 8, \"logicalType\": \"decimal\", \"precision\": 18, "
     "\"scale\": 3}}]}",
     "ffffffffffffcfc7", "{\"fd\": \"-12.345\"}", NULL},
    {"date",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"d0\", \"type\": {\"type\": "
     "\"int\", \"logicalType\": \"date\"}}, {\"name\": \"d1\", \"type\": {\"type\": \"int\", "
     "\"logicalType\": \"date\"}}, {\"name\": \"d2\", \"type\": {\"type\": \"int\", "
     "\"logicalType\": \"date\"}}]}",
     "00ccbf0201", "{\"d0\": \"1970-01-01\", \"d1\": \"2026-01-01\", \"d2\": \"1969-12-31\"}",
     NULL},
    {"timestamp-millis",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"t\", \"type\": {\"type\": "
     "\"long\", \"logicalType\": \"timestamp-millis\"}}, {\"name\": \"before\", \"type\": "
     "{\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}}]}",
     "f6a1d5edee6601",
     "{\"t\": \"2026-01-01T00:00:00.123Z\", \"before\": \"1969-12-31T23:59:59.999Z\"}", NULL},
    {"timestamp-micros",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"t\", \"type\": {\"type\": "
     "\"long\", \"logicalType\": \"timestamp-micros\"}}]}",
     "80f6bcd0bff8a506", "{\"t\": \"2026-02-28T13:04:05.123456Z\"}", NULL},
    {"uuid",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"u\", \"type\": {\"type\": "
     "\"string\", \"logicalType\": \"uuid\"}}]}",
     "4836663163326635652d386130622d346331642d396532662d306131623263336434653566",
     "{\"u\": \"6f1c2f5e-8a0b-4c1d-9e2f-0a1b2c3d4e5f\"}", NULL},
    {"named type referenced",
     "{\"type\": \"record\", \"name\": \"Order\", \"namespace\": \"shop\", \"fields\": [{\"name\": "
     "\"billing\", \"type\": {\"type\": \"record\", \"name\": \"Address\", \"fields\": [{\"name\": "
     "\"city\", \"type\": \"string\"}, {\"name\": \"since\", \"type\": {\"type\": \"int\", "
     "\"logicalType\": \"date\"}}]}}, {\"name\": \"shipping\", \"type\": [\"null\", "
     "\"shop.Address\"]}, {\"name\": \"other\", \"type\": \"Address\"}]}",
     "084f736c6fa29e020208526f6d65fea30208426f6e6e98ab01",
     "{\"billing\": {\"city\": \"Oslo\", \"since\": \"2020-02-29\"}, \"shipping\": {\"city\": "
     "\"Rome\", \"since\": \"2021-03-01\"}, \"other\": {\"city\": \"Bonn\", \"since\": "
     "\"1999-12-31\"}}",
     NULL},
    {"uuid as fixed(16)",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"u\", \"type\": {\"type\": "
     "\"fixed\", \"name\": \"U\", \"size\": 16, \"logicalType\": \"uuid\"}}]}",
     "6f1c2f5e8a0b4c1d9e2f0a1b2c3d4e5f", "{\"u\": \"6f1c2f5e-8a0b-4c1d-9e2f-0a1b2c3d4e5f\"}", NULL},
    {"truncated", NULLABLE_STRING, "0206", NULL, "does not decode with the writer's schema"},
    {"bytes left over", NULLABLE_STRING, "0000", NULL, "bytes left over after the datum"},
    {"a union branch past the union", NULLABLE_STRING, "08", NULL,
     "does not decode with the writer's schema"},
    {"a string longer than the payload (1 GiB)", NULLABLE_STRING, "0280808080086162", NULL,
     "does not decode with the writer's schema"},
    {"an array of 2^40 nulls",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"a\", \"type\": {\"type\": "
     "\"array\", \"items\": \"null\"}}]}",
     "808080808040", NULL, "does not decode with the writer's schema"},
    {"a string that is not UTF-8", NULLABLE_STRING, "0202ff", NULL,
     "$.o: a string that is not UTF-8"},
    {"an enum index past its symbols",
     "{\"type\": \"record\", \"name\": \"R\", \"fields\": [{\"name\": \"e\", \"type\": {\"type\": "
     "\"enum\", \"name\": \"E\", \"symbols\": [\"A\"]}}]}",
     "08", NULL, "$.e: an enum index past its symbols"},
};

static void test_avro(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(avro_rows) / sizeof(avro_rows[0]); i++) {
        const avro_row_t *r = &avro_rows[i];
        char err[512] = "";
        avro_json_schema_t *s = avro_json_schema_new(r->schema, err, sizeof(err));
        if (!s)
            fail_msg("%s: the schema is refused: %s", r->name, err);
        unsigned char buf[512];
        size_t len = unhex(r->hex, buf);
        json_t *got = avro_json_decode(s, buf, len, err, sizeof(err));
        json_t *want = r->json ? json_loads(r->json, 0, NULL) : NULL;
        if (r->json && !want)
            fail_msg("%s: the expected JSON does not parse", r->name);
        if (want && !got)
            fail_msg("%s: refused: %s", r->name, err);
        if (want && !json_equal(want, got)) {
            char *text = json_dumps(got, JSON_SORT_KEYS);
            fail_msg("%s: got %s, expected %s", r->name, text, r->json);
        }
        if (!want && got)
            fail_msg("%s: decoded, expected a refusal", r->name);
        if (!want && !strstr(err, r->fail))
            fail_msg("%s: \"%s\" does not say \"%s\"", r->name, err, r->fail);
        json_decref(got);
        json_decref(want);
        avro_json_schema_destroy(s);
    }
}

/* A schema that is not Avro is refused, saying so. */
static void test_avro_schema(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(avro_json_schema_new("{\"type\": \"recrd\"}", err, sizeof(err)));
    assert_non_null(strstr(err, "the writer's schema is not an Avro schema"));
}

/* ---- (c) the subject an event's version is read from ---- */

static const registry_subject_version_t pairs_topic[] = {{"orders-value", 2}};
static const registry_subject_version_t pairs_both[] = {{"orders-value", 2},
                                                        {"ex.OrderCreated", 1}};
static const registry_subject_version_t pairs_three[] = {
    {"orders-value", 4}, {"other-value", 1}, {"orders-ex.OrderCreated", 3}};
static const registry_subject_version_t pairs_other[] = {{"other-value", 1}, {"ex.Other", 2}};

typedef struct subject_row {
    const char *name;
    const registry_subject_version_t *pairs;
    size_t n;
    mapping_subject_t how;
    const char *named;
    const char *record;
    registry_choice_t rc;
    long version;     /* REGISTRY_CHOSEN */
    const char *want; /* otherwise: part of the message */
} subject_row_t;

static const subject_row_t subject_rows[] = {
    {"any: the topic's subject alone", pairs_topic, 1, MAPPING_SUBJECT_ANY, NULL, "ex.OrderCreated",
     REGISTRY_CHOSEN, 2, NULL},
    {"any: the record's subject alone", pairs_other + 1, 1, MAPPING_SUBJECT_ANY, NULL, "ex.Other",
     REGISTRY_CHOSEN, 2, NULL},
    {"any: two strategies fit", pairs_both, 2, MAPPING_SUBJECT_ANY, NULL, "ex.OrderCreated",
     REGISTRY_AMBIGUOUS, 0,
     "schema id 7 is registered under 2 subjects this event's version could be read from: "
     "orders-value version 2 ({\"strategy\": \"topic\"}), ex.OrderCreated version 1 "
     "({\"strategy\": \"record\"})"},
    {"any: an unrelated subject is not a candidate", pairs_three, 3, MAPPING_SUBJECT_ANY, NULL,
     NULL, REGISTRY_CHOSEN, 4, NULL},
    {"any: none fits", pairs_other, 2, MAPPING_SUBJECT_ANY, NULL, "ex.OrderCreated",
     REGISTRY_NO_SUBJECT, 0,
     "schema id 7 has no version under the subjects orders-value, ex.OrderCreated, "
     "orders-ex.OrderCreated (its subjects: other-value (version 1), ex.Other (version 2)): set "
     "$.versions.registry to {\"subject\": ...}"},
    {"topic strategy picks the topic's", pairs_both, 2, MAPPING_SUBJECT_TOPIC, NULL,
     "ex.OrderCreated", REGISTRY_CHOSEN, 2, NULL},
    {"record strategy picks the record's", pairs_both, 2, MAPPING_SUBJECT_RECORD, NULL,
     "ex.OrderCreated", REGISTRY_CHOSEN, 1, NULL},
    {"topic-record strategy", pairs_three, 3, MAPPING_SUBJECT_TOPIC_RECORD, NULL, "ex.OrderCreated",
     REGISTRY_CHOSEN, 3, NULL},
    {"record strategy of a schema without a record name", pairs_both, 2, MAPPING_SUBJECT_RECORD,
     NULL, NULL, REGISTRY_NO_SUBJECT, 0, "(the schema has no record name)"},
    {"a named subject", pairs_three, 3, MAPPING_SUBJECT_NAMED, "other-value", NULL, REGISTRY_CHOSEN,
     1, NULL},
    {"a named subject the id is not under", pairs_topic, 1, MAPPING_SUBJECT_NAMED, "nope", NULL,
     REGISTRY_NO_SUBJECT, 0,
     "schema id 7 has no version under subject nope (its subjects: orders-value (version 2))"},
    {"an id under no subject", NULL, 0, MAPPING_SUBJECT_TOPIC, NULL, NULL, REGISTRY_NO_SUBJECT, 0,
     "(its subjects: none)"},
};

static void test_subject(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(subject_rows) / sizeof(subject_rows[0]); i++) {
        const subject_row_t *r = &subject_rows[i];
        char err[2048] = "";
        long version = 0;
        registry_choice_t rc = registry_choose_subject(
            7, r->pairs, r->n, r->how, r->named, "orders", r->record, &version, err, sizeof(err));
        if (rc != r->rc)
            fail_msg("%s: returned %d, expected %d (%s)", r->name, rc, r->rc, err);
        if (rc == REGISTRY_CHOSEN && version != r->version)
            fail_msg("%s: version %ld, expected %ld", r->name, version, r->version);
        if (rc != REGISTRY_CHOSEN && !strstr(err, r->want))
            fail_msg("%s: \"%s\" does not say \"%s\"", r->name, err, r->want);
    }
}

typedef struct record_row {
    const char *type, *text, *want; /* want NULL: no record name */
} record_row_t;

static const record_row_t record_rows[] = {
    {"AVRO",
     "{\"type\": \"record\", \"name\": \"OrderCreated\", \"namespace\": \"ex.orders\", "
     "\"fields\": []}",
     "ex.orders.OrderCreated"},
    {"AVRO", "{\"type\": \"record\", \"name\": \"a.b.C\", \"namespace\": \"x\", \"fields\": []}",
     "a.b.C"},
    {"AVRO", "{\"type\": \"record\", \"name\": \"R\", \"fields\": []}", "R"},
    {"AVRO", "[\"null\", \"string\"]", NULL},
    {"AVRO", "\"string\"", NULL},
    {"JSON", "{\"title\": \"OrderCreated\", \"type\": \"object\"}", "OrderCreated"},
    {"JSON", "{\"type\": \"object\"}", NULL},
    {"PROTOBUF", "syntax = \"proto3\";", NULL},
};

static void test_record_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(record_rows) / sizeof(record_rows[0]); i++) {
        char *got = registry_record_name(record_rows[i].type, record_rows[i].text);
        if (!record_rows[i].want ? got != NULL : !got || strcmp(got, record_rows[i].want) != 0)
            fail_msg("%s: record name %s, expected %s", record_rows[i].text, got ? got : "none",
                     record_rows[i].want ? record_rows[i].want : "none");
        free(got);
    }
}

/* ---- (d) the fields a schema lets an event have ---- */

#define AVRO_ORDER                                                                                 \
    "{\"type\": \"record\", \"name\": \"OrderCreated\", \"namespace\": \"ex\", \"fields\": ["      \
    "{\"name\": \"orderId\", \"type\": \"string\"},"                                               \
    "{\"name\": \"customer\", \"type\": [\"null\", {\"type\": \"record\", \"name\": "              \
    "\"Customer\", "                                                                               \
    "\"fields\": [{\"name\": \"id\", \"type\": \"string\"}]}]},"                                   \
    "{\"name\": \"billTo\", \"type\": [\"null\", \"Customer\"]},"                                  \
    "{\"name\": \"items\", \"type\": {\"type\": \"array\", \"items\": {\"type\": \"record\", "     \
    "\"name\": \"Item\", \"fields\": [{\"name\": \"sku\", \"type\": \"string\"}]}}},"              \
    "{\"name\": \"tags\", \"type\": {\"type\": \"map\", \"values\": \"string\"}},"                 \
    "{\"name\": \"total\", \"type\": {\"type\": \"long\", \"logicalType\": "                       \
    "\"timestamp-millis\"}}]}"

#define AVRO_UNION                                                                                 \
    "[{\"type\": \"record\", \"name\": \"ex.A\", \"fields\": [{\"name\": \"a\", \"type\": "        \
    "\"int\"}]}, {\"type\": \"record\", \"name\": \"ex.B\", \"fields\": [{\"name\": \"b\", "       \
    "\"type\": \"int\"}]}]"

#define JSON_ORDER                                                                                 \
    "{\"type\": \"object\", \"properties\": {\"orderId\": {\"type\": \"string\"}, \"customer\": "  \
    "{\"$ref\": \"#/definitions/Customer\"}, \"items\": {\"type\": \"array\", \"items\": "         \
    "{\"type\": \"object\", \"properties\": {\"sku\": {\"type\": \"string\"}}}}, \"meta\": "       \
    "{\"type\": \"object\"}, \"pay\": {\"oneOf\": [{\"type\": \"null\"}, {\"type\": \"object\", "  \
    "\"properties\": {\"card\": {\"type\": \"string\"}}}]}}, \"definitions\": {\"Customer\": "     \
    "{\"type\": \"object\", \"properties\": {\"id\": {\"type\": \"string\"}}}}}"

typedef struct has_row {
    const char *type, *schema, *event_type;
    const char *keys[4];
    int want;
} has_row_t;

static const has_row_t has_rows[] = {
    {"AVRO", AVRO_ORDER, "OrderCreated", {"orderId"}, 1},
    {"AVRO", AVRO_ORDER, "OrderCreated", {"orderID"}, 0},
    {"AVRO", AVRO_ORDER, "OrderCreated", {"customer", "id"}, 1},
    {"AVRO", AVRO_ORDER, "OrderCreated", {"customer", "name"}, 0},
    {"AVRO", AVRO_ORDER, "OrderCreated", {"billTo", "id"}, 1}, /* a named type by reference */
    {"AVRO", AVRO_ORDER, "OrderCreated", {"items", "*", "sku"}, 1},
    {"AVRO", AVRO_ORDER, "OrderCreated", {"items", "*", "qty"}, 0},
    {"AVRO", AVRO_ORDER, "OrderCreated", {"items", "sku"}, 0},
    {"AVRO", AVRO_ORDER, "OrderCreated", {"tags", "anything"}, 1},
    {"AVRO", AVRO_ORDER, "OrderCreated", {"total", "x"}, 0}, /* a primitive has no fields */
    {"AVRO", AVRO_UNION, "B", {"b"}, 1},
    {"AVRO", AVRO_UNION, "B", {"a"}, 0}, /* the branch named as the type */
    {"AVRO", AVRO_UNION, "C", {"a"}, 1}, /* no branch of that name: any branch */
    {"JSON", JSON_ORDER, "OrderCreated", {"orderId"}, 1},
    {"JSON", JSON_ORDER, "OrderCreated", {"orderid"}, 0},
    {"JSON", JSON_ORDER, "OrderCreated", {"customer", "id"}, 1},
    {"JSON", JSON_ORDER, "OrderCreated", {"customer", "name"}, 0},
    {"JSON", JSON_ORDER, "OrderCreated", {"items", "*", "sku"}, 1},
    {"JSON", JSON_ORDER, "OrderCreated", {"items", "*", "qty"}, 0},
    {"JSON", JSON_ORDER, "OrderCreated", {"meta", "whatever"}, 1}, /* no properties: anything */
    {"JSON", JSON_ORDER, "OrderCreated", {"pay", "card"}, 1},
    {"JSON", JSON_ORDER, "OrderCreated", {"pay", "iban"}, 0},
    {"JSON", JSON_ORDER, "OrderCreated", {"orderId", "x"}, 0}, /* a string has no fields */
    {"JSON", JSON_ORDER, "OrderCreated", {"items", "sku"}, 0},
    {"PROTOBUF", "syntax = \"proto3\";", "A", {"a"}, -1},
    {"AVRO", "not json", "A", {"a"}, -1},
};

static void test_schema_has(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(has_rows) / sizeof(has_rows[0]); i++) {
        const has_row_t *r = &has_rows[i];
        size_t n = 0;
        while (n < 4 && r->keys[n])
            n++;
        int got = registry_schema_has(r->type, r->schema, r->event_type, r->keys, n);
        if (got != r->want)
            fail_msg("row %zu (%s %s.%s): %d, expected %d", i, r->type, r->keys[0],
                     n > 1 ? r->keys[1] : "", got, r->want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),      cmocka_unit_test(test_avro),
        cmocka_unit_test(test_avro_schema), cmocka_unit_test(test_subject),
        cmocka_unit_test(test_record_name), cmocka_unit_test(test_schema_has),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
