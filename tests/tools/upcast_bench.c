/* The decode side's cost of upcasting: events/s through event_decode() + event_resolve() (what
 * the fetcher thread does per message) for the sample mapping as it is, the same mapping with
 * "versions" and upcasters and events already at the current version, and old events that two
 * upcasters bring to it. Usage: upcast_bench MAPPINGS_DIR [EVENTS] (MAPPINGS_DIR holds
 * orders.json). Prints one line per case, the best of 7 rounds. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "decode.h"
#include "errlist.h"
#include "mapping.h"

static const char upcasters[] =
    "{\"field\": \"$.schemaVersion\", \"default\": 1, \"current\": {\"OrderCreated\": 3}}";
static const char steps[] =
    "{\"OrderCreated\": {\"1\": [{\"set\": \"$.totalAmount\", \"value\": {\"divide\": "
    "[\"$.total\", 100], \"scale\": 2}}, {\"drop\": \"$.total\"}], \"2\": [{\"rename\": "
    "\"$.lines\", \"to\": \"$.items\"}]}}";

/* Loads dir/orders.json, with versions and upcasters when versioned, from a copy in tmp. */
static mapping_set_t *load(const char *dir, int versioned, const char *tmp)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/orders.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    if (!m)
        return NULL;
    if (versioned) {
        json_object_set_new(m, "versions", json_loads(upcasters, 0, NULL));
        json_object_set_new(m, "upcasters", json_loads(steps, 0, NULL));
    }
    snprintf(path, sizeof(path), "%s/orders.json", tmp);
    json_dump_file(m, path, JSON_COMPACT);
    json_decref(m);
    errlist_t *errs = errlist_new();
    mapping_set_t *set = mapping_set_load(tmp, errs);
    errlist_print(errs, stderr);
    errlist_destroy(errs);
    return set;
}

/* Event i as version v (3: current; 1: cents and lines). */
static char *event_text(int i, int v)
{
    char *s = malloc(512);
    if (v == 3)
        snprintf(s, 512,
                 "{\"type\":\"OrderCreated\",\"schemaVersion\":3,\"orderId\":\"o-%d\","
                 "\"customerId\":\"c-%d\",\"totalAmount\":\"%d.%02d\",\"occurredAt\":"
                 "\"2026-11-30T10:00:00Z\",\"items\":[{\"sku\":\"s-1\",\"quantity\":2},{\"sku\":"
                 "\"s-2\",\"quantity\":1}]}",
                 i, i % 1000, i % 500, i % 100);
    else
        snprintf(s, 512,
                 "{\"type\":\"OrderCreated\",\"orderId\":\"o-%d\",\"customerId\":\"c-%d\","
                 "\"total\":%d,\"occurredAt\":\"2026-11-30T10:00:00Z\",\"lines\":[{\"sku\":"
                 "\"s-1\",\"quantity\":2},{\"sku\":\"s-2\",\"quantity\":1}]}",
                 i, i % 1000, i % 50000);
    return s;
}

static double run(const mapping_t *m, char **texts, int n)
{
    arena_t *arena = arena_new();
    const event_decoder_t *d = event_decoder_find("json");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        event_t e;
        memset(&e, 0, sizeof(e));
        event_decode(&e, d, NULL, texts[i], strlen(texts[i]), 1 << 20, arena);
        event_resolve(&e, m, arena);
        if (e.state != EVENT_PENDING)
            abort();
        json_decref(e.ev.doc);
        if ((i & 1023) == 0)
            arena_reset(arena);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    arena_destroy(arena);
    return n / ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: upcast_bench MAPPINGS_DIR [EVENTS]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 200000;
    char tmp[] = "/tmp/upcast_bench.XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    mapping_set_t *plain = load(argv[1], 0, tmp), *versioned = load(argv[1], 1, tmp);
    if (!plain || !versioned)
        return 1;
    char **cur = malloc(sizeof(char *) * (size_t)n), **old = malloc(sizeof(char *) * (size_t)n);
    for (int i = 0; i < n; i++) {
        cur[i] = event_text(i, 3);
        old[i] = event_text(i, 1);
    }
    const struct {
        const char *name;
        mapping_set_t *set;
        char **texts;
    } cases[] = {
        {"no versions, current events", plain, cur},
        {"versions, events at the current version", versioned, cur},
        {"versions, v1 events upcast to v3", versioned, old},
    };
    enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
    double best[NCASES] = {0};
    for (int r = 0; r < 7; r++) /* rounds alternate the cases: a busy machine slows them alike */
        for (size_t c = 0; c < NCASES; c++) {
            double eps = run(mapping_set_get(cases[c].set, 0), cases[c].texts, n);
            best[c] = eps > best[c] ? eps : best[c];
        }
    for (size_t c = 0; c < NCASES; c++)
        printf("%-42s %10.0f events/s\n", cases[c].name, best[c]);
    for (int i = 0; i < n; i++) {
        free(cur[i]);
        free(old[i]);
    }
    free(cur);
    free(old);
    mapping_set_destroy(plain);
    mapping_set_destroy(versioned);
    char path[4096];
    snprintf(path, sizeof(path), "%s/orders.json", tmp);
    remove(path);
    remove(tmp);
    return 0;
}
