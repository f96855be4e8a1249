/* A bump allocator for per-batch values, released all at once when the batch is done. */
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef struct block {
    struct block *next;
    size_t used, size;
    max_align_t data[];
} block_t;

struct arena {
    block_t *head;
    block_t *spare; /* standard blocks kept by arena_reset() for the next batch */
    int nspare;
};

#define ARENA_BLOCK (256 * 1024)
/* Standard blocks a reset keeps (8 MiB): a batch's arena is refilled by the next batch, and
 * memory returned to the kernel comes back as fresh pages it must zero again. */
#define ARENA_KEEP 32

static block_t *block_new(size_t size, block_t *next)
{
    block_t *b = xmalloc(sizeof(block_t) + size);
    b->next = next;
    b->used = 0;
    b->size = size;
    return b;
}

arena_t *arena_new(void)
{
    arena_t *a = xmalloc(sizeof(*a));
    a->head = block_new(ARENA_BLOCK, NULL);
    a->spare = NULL;
    a->nspare = 0;
    return a;
}

void arena_destroy(arena_t *a)
{
    if (!a)
        return;
    for (block_t *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    for (block_t *b = a->spare, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(a);
}

void *arena_alloc(arena_t *a, size_t n)
{
    size_t align = sizeof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    block_t *b = a->head;
    if (b->used + n > b->size) {
        if (n <= ARENA_BLOCK && a->spare) {
            b = a->spare;
            a->spare = b->next;
            a->nspare--;
            b->next = a->head;
            b->used = 0;
        } else {
            b = block_new(n > ARENA_BLOCK ? n : ARENA_BLOCK, a->head);
        }
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void arena_reset(arena_t *a)
{
    block_t *b = a->head;
    while (b->next) {
        block_t *n = b->next;
        if (b->size == ARENA_BLOCK && a->nspare < ARENA_KEEP) {
            b->next = a->spare;
            a->spare = b;
            a->nspare++;
        } else {
            free(b);
        }
        b = n;
    }
    b->used = 0;
    a->head = b;
}
