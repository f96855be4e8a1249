/* Unit tests of the Schema Registry formats: the wire header (magic byte, schema id, payload)
 * and Avro binary to JSON values, each type and logical type (the datums were written by
 * Debian's python3-avro). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
