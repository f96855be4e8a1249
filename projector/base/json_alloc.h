/* jansson's allocations routed into a per-thread arena: the values parsed for one batch live and
 * die together, so they are bump-allocated and dropped with the batch instead of being freed
 * node by node. */
#ifndef PROJECTOR_JSON_ALLOC_H
#define PROJECTOR_JSON_ALLOC_H

#include <jansson.h>

#include "arena.h"

/* Makes jansson allocate through this module (malloc and free outside an arena scope, so
 * json_dumps() results are still freed with free()). Call once, first thing in main(), before
 * any thread starts. */
void json_alloc_install(void);

/* Opens (a != NULL) or closes (NULL) this thread's arena scope: inside it, jansson allocates
 * from a and freeing is a no-op. So every value allocated in the scope must be dropped with the
 * arena (reset or destroyed) and never released outside a scope (json_decref() to zero,
 * free() of a json_dumps() result); and nothing allocated outside may be released inside (it
 * would leak). Returns the previous arena. Without json_alloc_install() it does nothing (and
 * returns NULL). */
arena_t *json_alloc_use(arena_t *a);

/* 1 once json_alloc_install() ran: values decoded in a scope need no json_decref(). */
int json_alloc_installed(void);

/* The JSON text of v (json_dumpb() flags) written into arena a, NUL-terminated, its length in
 * *len when len is given: what to use instead of json_dumps() in a scope (or anywhere a copy in
 * an arena is wanted). Never NULL: "" for a value jansson cannot encode. */
const char *json_alloc_text(const json_t *v, size_t flags, arena_t *a, size_t *len);

#endif
