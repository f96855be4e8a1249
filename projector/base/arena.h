/* A bump allocator for per-batch values, released all at once when the batch is done. */
#ifndef PROJECTOR_ARENA_H
#define PROJECTOR_ARENA_H

#include <stddef.h>

typedef struct arena arena_t;

/* Returns an empty arena; aborts on out-of-memory. */
arena_t *arena_new(void);
void arena_destroy(arena_t *a);
/* Returns n bytes aligned for any type; valid until arena_reset(). Aborts on out-of-memory. */
void *arena_alloc(arena_t *a, size_t n);
/* Copies n bytes of s and a NUL into the arena. */
char *arena_strndup(arena_t *a, const char *s, size_t n);
/* Releases every allocation, keeping the first block and up to 8 MiB more for reuse. */
void arena_reset(arena_t *a);

#endif
