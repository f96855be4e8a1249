/* Avro binary to JSON values, with the writer's schema (avro-c): what registry-avro decodes
 * with, on its own for the tests. */
#ifndef PROJECTOR_DECODE_AVRO_H
#define PROJECTOR_DECODE_AVRO_H

#include <jansson.h>
#include <stddef.h>

/* A writer's schema made ready to decode with: avro-c's schema and class, and its JSON (avro-c
 * ignores logical types). Read-only once made: shared by every decoding thread. */
typedef struct avro_json_schema avro_json_schema_t;

/* Parses the Avro schema text. Returns it (the caller owns it: avro_json_schema_destroy()), or
 * NULL with errstr set. Allocates outside any json_alloc.h scope. */
avro_json_schema_t *avro_json_schema_new(const char *text, char *errstr, size_t errstr_size);
void avro_json_schema_destroy(avro_json_schema_t *s);

/* Decodes the Avro binary datum data[0, len) written with s into a JSON value (the caller owns
 * it), mapped as decode_avro.c says; or NULL with errstr saying why (the bytes do not decode, or
 * bytes are left over, or a value has no JSON form, naming its path). Thread-safe. */
json_t *avro_json_decode(const avro_json_schema_t *s, const void *data, size_t len, char *errstr,
                         size_t errstr_size);

#endif
