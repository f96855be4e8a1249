/* jansson's allocations routed into a per-thread arena: the values parsed for one batch live and
 * die together, so they are bump-allocated and dropped with the batch instead of being freed
 * node by node. */
#ifndef PROJECTOR_JSON_ALLOC_H
#define PROJECTOR_JSON_ALLOC_H

#include "arena.h"

/* Makes jansson allocate through this module. Call once, first thing in main(), before any
 * jansson value exists (a value allocated before would be freed wrongly). Not thread-safe. */
void json_alloc_install(void);

/* From now on, this thread's jansson allocations come from a (NULL: from malloc again) and
 * freeing them does nothing; they are released when a is reset or destroyed, so every value
 * allocated in a must be dead by then. Values allocated elsewhere are freed as usual whatever
 * the thread. Returns the previous arena. Without json_alloc_install() it does nothing. */
arena_t *json_alloc_use(arena_t *a);

#endif
