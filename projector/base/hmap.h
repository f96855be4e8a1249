/* A string-keyed hash map with integer values, cleared cheaply between batches. */
#ifndef PROJECTOR_HMAP_H
#define PROJECTOR_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hmap hmap_t;

/* Returns an empty map; aborts on out-of-memory. Free with hmap_destroy(). */
hmap_t *hmap_new(void);
void hmap_destroy(hmap_t *m);
/* Removes every entry, keeping the memory for reuse. */
void hmap_clear(hmap_t *m);
/* Returns a pointer to the value slot of key (copied on first use, value 0 then);
 * *created is set to 1 when the entry is new. The pointer is valid until the next put. */
int64_t *hmap_put(hmap_t *m, const char *key, size_t keylen, int *created);
/* Returns the value slot of key, or NULL when absent. */
int64_t *hmap_get(const hmap_t *m, const char *key, size_t keylen);
size_t hmap_count(const hmap_t *m);

#endif
