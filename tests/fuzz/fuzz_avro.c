/* libFuzzer target: Avro binary datums to JSON values (decode_avro.c), with one writer's schema
 * holding every type and logical type the conversion maps. Whatever the bytes, the datum
 * decodes to a JSON object or is refused with a reason, without a crash and without a
 * runaway allocation (the input claims a length or a count it does not hold). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "decode_avro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char schema[] =
    "{\"type\": \"record\", \"name\": \"R\", \"namespace\": \"fuzz\", \"fields\": ["
    "{\"name\": \"s\", \"type\": \"string\"}, {\"name\": \"b\", \"type\": \"boolean\"},"
    "{\"name\": \"i\", \"type\": \"int\"}, {\"name\": \"l\", \"type\": \"long\"},"
    "{\"name\": \"f\", \"type\": \"float\"}, {\"name\": \"d\", \"type\": \"double\"},"
    "{\"name\": \"by\", \"type\": \"bytes\"},"
    "{\"name\": \"fx\", \"type\": {\"type\": \"fixed\", \"name\": \"F\", \"size\": 3}},"
    "{\"name\": \"e\", \"type\": {\"type\": \"enum\", \"name\": \"E\", \"symbols\": [\"A\", "
    "\"B\"]}},"
    "{\"name\": \"u\", \"type\": [\"null\", \"int\", \"string\", \"E\"]},"
    "{\"name\": \"dec\", \"type\": {\"type\": \"bytes\", \"logicalType\": \"decimal\", "
    "\"precision\": 30, \"scale\": 4}},"
    "{\"name\": \"fdec\", \"type\": {\"type\": \"fixed\", \"name\": \"D\", \"size\": 9, "
    "\"logicalType\": \"decimal\", \"precision\": 20, \"scale\": 2}},"
    "{\"name\": \"date\", \"type\": {\"type\": \"int\", \"logicalType\": \"date\"}},"
    "{\"name\": \"ms\", \"type\": {\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}},"
    "{\"name\": \"us\", \"type\": {\"type\": \"long\", \"logicalType\": \"timestamp-micros\"}},"
    "{\"name\": \"uuid\", \"type\": {\"type\": \"fixed\", \"name\": \"U\", \"size\": 16, "
    "\"logicalType\": \"uuid\"}},"
    "{\"name\": \"items\", \"type\": {\"type\": \"array\", \"items\": {\"type\": \"record\", "
    "\"name\": \"Item\", \"fields\": [{\"name\": \"n\", \"type\": [\"null\", \"fuzz.E\"]}]}}},"
    "{\"name\": \"m\", \"type\": {\"type\": \"map\", \"values\": [\"null\", \"long\"]}},"
    "{\"name\": \"nulls\", \"type\": {\"type\": \"array\", \"items\": \"null\"}}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static avro_json_schema_t *s;
    char err[512];
    if (!s) {
        s = avro_json_schema_new(schema, err, sizeof(err));
        if (!s)
            abort();
    }
    err[0] = '\0';
    json_t *j = avro_json_decode(s, data, size, err, sizeof(err));
    if (!j && !err[0])
        abort(); /* a refusal has its reason */
    if (j && !json_is_object(j))
        abort(); /* a record decodes to an object */
    json_decref(j);
    return 0;
}
