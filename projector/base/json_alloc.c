/* jansson's allocations routed into a per-thread arena.
 *
 * Every block jansson gets carries a header saying where it came from, so that json_free can
 * tell an arena block (nothing to do) from a malloc'ed one (free it), whichever thread frees it
 * and whatever arena was in use when it was allocated. */
#include "json_alloc.h"

#include <jansson.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include "xalloc.h"

/* Sits before each block; its size keeps the block aligned for any type. */
typedef union header {
    uint64_t from_arena;
    max_align_t align;
} header_t;

static int installed;
static _Thread_local arena_t *current;

static void *json_alloc(size_t n)
{
    header_t *h;
    if (current) {
        h = arena_alloc(current, sizeof(header_t) + n);
        h->from_arena = 1;
    } else {
        h = xmalloc(sizeof(header_t) + n);
        h->from_arena = 0;
    }
    return h + 1;
}

static void json_free(void *p)
{
    if (!p)
        return;
    header_t *h = (header_t *)p - 1;
    if (!h->from_arena)
        free(h);
}

void json_alloc_install(void)
{
    json_set_alloc_funcs(json_alloc, json_free);
    installed = 1;
}

arena_t *json_alloc_use(arena_t *a)
{
    arena_t *was = current;
    if (installed)
        current = a;
    return was;
}
