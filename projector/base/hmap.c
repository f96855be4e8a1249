/* A string-keyed hash map with integer values, cleared cheaply between batches. */
#include "hmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

typedef struct slot {
    uint64_t hash; /* 0 marks an empty slot */
    size_t keyoff; /* offset of the key in the arena */
    size_t keylen;
    int64_t value;
} slot_t;

struct hmap {
    slot_t *slots;
    size_t cap; /* power of two */
    size_t count;
    char *arena; /* key bytes, back to back */
    size_t arena_len, arena_cap;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

hmap_t *hmap_new(void)
{
    hmap_t *m = xrealloc(NULL, sizeof(*m));
    memset(m, 0, sizeof(*m));
    m->cap = 64;
    m->slots = xrealloc(NULL, m->cap * sizeof(slot_t));
    memset(m->slots, 0, m->cap * sizeof(slot_t));
    return m;
}

void hmap_destroy(hmap_t *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m->arena);
    free(m);
}

void hmap_clear(hmap_t *m)
{
    if (m->count)
        memset(m->slots, 0, m->cap * sizeof(slot_t));
    m->count = 0;
    m->arena_len = 0;
}

size_t hmap_count(const hmap_t *m)
{
    return m->count;
}

static slot_t *find(const hmap_t *m, uint64_t h, const char *key, size_t keylen)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot_t *s = &m->slots[i];
        if (s->hash == 0)
            return s;
        if (s->hash == h && s->keylen == keylen && memcmp(m->arena + s->keyoff, key, keylen) == 0)
            return s;
    }
}

static void grow(hmap_t *m)
{
    slot_t *old = m->slots;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = xrealloc(NULL, m->cap * sizeof(slot_t));
    memset(m->slots, 0, m->cap * sizeof(slot_t));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].hash == 0)
            continue;
        size_t mask = m->cap - 1;
        size_t j = old[i].hash & mask;
        while (m->slots[j].hash != 0)
            j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
}

int64_t *hmap_put(hmap_t *m, const char *key, size_t keylen, int *created)
{
    if ((m->count + 1) * 4 > m->cap * 3)
        grow(m);
    uint64_t h = hash_bytes(key, keylen);
    slot_t *s = find(m, h, key, keylen);
    if (s->hash != 0) {
        if (created)
            *created = 0;
        return &s->value;
    }
    if (m->arena_len + keylen > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap : 4096;
        while (cap < m->arena_len + keylen)
            cap *= 2;
        m->arena = xrealloc(m->arena, cap);
        m->arena_cap = cap;
    }
    if (keylen)
        memcpy(m->arena + m->arena_len, key, keylen);
    s->hash = h;
    s->keyoff = m->arena_len;
    s->keylen = keylen;
    s->value = 0;
    m->arena_len += keylen;
    m->count++;
    if (created)
        *created = 1;
    return &s->value;
}

int64_t *hmap_get(const hmap_t *m, const char *key, size_t keylen)
{
    slot_t *s = find(m, hash_bytes(key, keylen), key, keylen);
    return s->hash ? &s->value : NULL;
}
