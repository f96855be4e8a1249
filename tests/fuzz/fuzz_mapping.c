/* libFuzzer target: a mapping file through loading and validation (every problem must be
 * reported, never crash), then binding to column types. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errlist.h"
#include "mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static const char *any_type(void *ctx, const char *table, const char *column)
{
    (void)ctx;
    if (strcmp(table, "missing") == 0)
        return NULL;
    if (!column)
        return "";
    return strstr(column, "json") ? "jsonb" : strstr(column, "tags") ? "text[]" : "text";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/projector-fuzz-mapping.XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/m.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(dir, errs);
    if (!set && errlist_count(errs) == 0)
        abort(); /* a refusal always says why */
    if (set) {
        mapping_bind_types(mapping_set_get(set, 0), any_type, NULL, errs);
        mapping_set_destroy(set);
    }
    errlist_destroy(errs);
    return 0;
}
