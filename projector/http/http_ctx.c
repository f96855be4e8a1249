/* What the HTTP API's handlers share about their context: finding a projection by name. */
#include "http_ctx.h"

#include <string.h>

const mapping_t *http_ctx_projection(const http_ctx_t *ctx, const char *name)
{
    const mapping_t *found = NULL;
    for (size_t i = 0; name && i < mapping_set_count(ctx->set); i++)
        if (strcmp(mapping_name(mapping_set_get(ctx->set, i)), name) == 0)
            found = mapping_set_get(ctx->set, i);
    return found;
}
