/* jansson's allocations routed into a per-thread arena. */
#include "json_alloc.h"

#include <jansson.h>
#include <stdlib.h>

#include "xalloc.h"

static int installed;
static _Thread_local arena_t *current;

static void *json_alloc(size_t n)
{
    return current ? arena_alloc(current, n) : xmalloc(n);
}

static void json_free(void *p)
{
    if (!current)
        free(p);
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

int json_alloc_installed(void)
{
    return installed;
}

const char *json_alloc_text(const json_t *v, size_t flags, arena_t *a, size_t *len)
{
    char buf[2048];
    size_t n = json_dumpb(v, buf, sizeof(buf), flags);
    char *out;
    if (n <= sizeof(buf)) {
        out = arena_strndup(a, buf, n);
    } else {
        out = arena_alloc(a, n + 1);
        n = json_dumpb(v, out, n, flags);
        out[n] = '\0';
    }
    if (len)
        *len = n;
    return out;
}
