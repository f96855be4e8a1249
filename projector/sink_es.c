/* Writes a batch's documents to Elasticsearch/OpenSearch through _bulk, versioned.
 *
 * Every document of a batch carries the batch's version with version_type=external (see
 * sink_pg_docs.c for where versions come from): the engine keeps a document only when its
 * version is higher than the one it holds, so replays never regress a document. */
#include "sink_es.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"

struct sink_es {
    es_client_t *client;
    int generation; /* > 0: write to "<alias>-g<N>" instead of the alias */
    stats_t *stats;
    size_t max_docs, max_bytes;
    strbuf_t body;
    es_item_result_t *results;
    size_t results_cap;
};

/* What a write came to, over all its requests. */
typedef struct outcome {
    size_t throttled, refused;
    char first_error[512]; /* the first retriable failure, for the log */
} outcome_t;

static const char *opt(const config_t *cfg, config_key_t k)
{
    const char *v = config_str(cfg, k);
    return v && *v ? v : NULL;
}

es_settings_t sink_es_settings(const config_t *cfg)
{
    es_settings_t st = {
        .url = opt(cfg, CFG_ES_URL),
        .user = opt(cfg, CFG_ES_USER),
        .password = opt(cfg, CFG_ES_PASSWORD),
        .api_key = opt(cfg, CFG_ES_API_KEY),
        .ca_file = opt(cfg, CFG_ES_CA_FILE),
        .timeout_ms = (long)config_int(cfg, CFG_ES_TIMEOUT_MS),
        .gzip = strcmp(config_str(cfg, CFG_ES_GZIP), "true") == 0,
    };
    return st;
}

sink_es_t *sink_es_new(const config_t *cfg, stats_t *stats, int generation, char *errstr,
                       size_t errstr_size)
{
    es_settings_t st = sink_es_settings(cfg);
    if (!st.url) {
        snprintf(errstr, errstr_size,
                 "no Elasticsearch URL: set --es-url (PROJECTOR_ES_URL, config key es.url)");
        return NULL;
    }
    sink_es_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->stats = stats;
    s->generation = generation;
    s->max_docs = (size_t)config_int(cfg, CFG_ES_BULK_MAX_DOCS);
    s->max_bytes = (size_t)config_int(cfg, CFG_ES_BULK_MAX_BYTES);
    s->client = es_client_new(&st, errstr, errstr_size);
    if (!s->client) {
        free(s);
        return NULL;
    }
    return s;
}

void sink_es_destroy(sink_es_t *s)
{
    if (!s)
        return;
    es_client_destroy(s->client);
    strbuf_free(&s->body);
    free(s->results);
    free(s);
}

static void count(sink_es_t *s, stats_counter_t c, uint64_t n)
{
    if (s->stats && n)
        stats_count(s->stats, c, n);
}

/* Appends s as a JSON string. */
static void put_string(strbuf_t *sb, const char *s)
{
    json_t *j = json_string(s);
    char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!q)
        abort(); /* ids and index names are checked UTF-8 text */
    strbuf_puts(sb, q);
    free(q);
}

/* Appends the action (and source) lines of one document. */
static void put_doc(strbuf_t *sb, const sink_doc_t *d, int64_t version, int generation)
{
    strbuf_puts(sb, d->body ? "{\"index\":{\"_index\":" : "{\"delete\":{\"_index\":");
    char index[300];
    if (generation > 0)
        sink_es_generation_index(d->index, generation, index, sizeof(index));
    put_string(sb, generation > 0 ? index : d->index);
    strbuf_puts(sb, ",\"_id\":");
    put_string(sb, d->id);
    strbuf_printf(sb, ",\"version\":%lld,\"version_type\":\"external\"}}\n", (long long)version);
    if (d->body) {
        strbuf_puts(sb, d->body);
        strbuf_puts(sb, "\n");
    }
}

/* Sends docs[0, n) in one request. Returns 0 (items recorded in out and the docs' errors) or -1
 * (retriable, errstr). A request refused as a whole is halved until the document is alone. */
static int send_chunk(sink_es_t *s, sink_doc_t *docs, size_t n, int64_t version, arena_t *arena,
                      outcome_t *out, char *errstr, size_t errsz)
{
    strbuf_reset(&s->body);
    for (size_t i = 0; i < n; i++)
        put_doc(&s->body, &docs[i], version, s->generation);
    if (n > s->results_cap) {
        s->results_cap = n;
        s->results = realloc(s->results, n * sizeof(*s->results));
        if (!s->results)
            abort();
    }
    count(s, STATS_ES_REQUESTS, 1);
    int rc =
        es_client_bulk(s->client, s->body.data, s->body.len, n, s->results, arena, errstr, errsz);
    if (rc == -1)
        return -1;
    if (rc == -2) {
        if (n == 1) {
            docs[0].error = arena_strndup(arena, errstr, strlen(errstr));
            out->refused++;
            return 0;
        }
        size_t half = n / 2;
        if (send_chunk(s, docs, half, version, arena, out, errstr, errsz) != 0)
            return -1;
        return send_chunk(s, docs + half, n - half, version, arena, out, errstr, errsz);
    }
    for (size_t i = 0; i < n; i++) {
        const es_item_result_t *r = &s->results[i];
        if (r->rc == ES_ITEM_OK) {
            count(s, STATS_ES_DOCS, 1);
        } else if (r->rc == ES_ITEM_CONFLICT) {
            count(s, STATS_ES_CONFLICTS, 1);
        } else if (r->rc == ES_ITEM_RETRY) {
            if (!out->throttled++)
                snprintf(out->first_error, sizeof(out->first_error),
                         "document %s of index %s: status %d: %s", docs[i].id, docs[i].index,
                         r->status, r->error ? r->error : "");
        } else {
            docs[i].error = r->error ? r->error : "refused";
            out->refused++;
        }
    }
    return 0;
}

int sink_es_write(void *ctx, sink_doc_t *docs, size_t n, int64_t version, arena_t *arena,
                  char *errstr, size_t errstr_size)
{
    sink_es_t *s = ctx;
    outcome_t out = {0, 0, ""};
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo, bytes = 0;
        while (hi < n && hi - lo < s->max_docs) {
            size_t sz = strlen(docs[hi].id) + (docs[hi].body ? strlen(docs[hi].body) : 0) + 128;
            if (hi > lo && bytes + sz > s->max_bytes)
                break;
            bytes += sz;
            hi++;
        }
        if (send_chunk(s, docs + lo, hi - lo, version, arena, &out, errstr, errstr_size) != 0) {
            count(s, STATS_ES_ERRORS, 1);
            return -1;
        }
        lo = hi;
    }
    count(s, STATS_ES_THROTTLED, out.throttled);
    count(s, STATS_ES_REFUSED, out.refused);
    if (out.throttled) {
        count(s, STATS_ES_ERRORS, 1);
        snprintf(errstr, errstr_size,
                 "%s: %zu of %zu documents not written (throttled or "
                 "unavailable), first: %s",
                 "search engine", out.throttled, n, out.first_error);
        return -1;
    }
    return out.refused ? 1 : 0;
}

int sink_es_definition(const config_t *cfg, const mapping_t *m, const char *index, char **out,
                       char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.es.json", config_str(cfg, CFG_VIEWS), index);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size,
                 "%s writes index %s, but its definition %s cannot be read: line %d: %s",
                 mapping_file(m), index, path, jerr.line, jerr.text);
        return -1;
    }
    const char *key;
    json_t *v;
    int rc = json_is_object(root) ? 0 : -1;
    if (rc != 0)
        snprintf(errstr, errstr_size, "%s: $: expected {\"settings\": ..., \"mappings\": ...}",
                 path);
    json_object_foreach(root, key, v)
    {
        if (rc == 0 && ((strcmp(key, "settings") != 0 && strcmp(key, "mappings") != 0) ||
                        !json_is_object(v))) {
            snprintf(errstr, errstr_size,
                     "%s: $.%s: an index definition holds \"settings\" and \"mappings\" objects "
                     "(the alias is the file's name)",
                     path, key);
            rc = -1;
        }
    }
    *out = rc == 0 ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return rc;
}

/* A suffix for a new index behind an alias: the time in milliseconds, so names sort by age. */
static void index_suffix(char *buf, size_t size)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, size, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Runs step on every alias m writes, with one client. Returns 0, -2 when the setup is wrong (no
 * URL, a bad client setting) or what a step returned: -1 when the cluster failed, -2 for a wrong
 * setup (a missing or invalid index definition); errstr says why. */
static int each_alias(const config_t *cfg, const mapping_t *m,
                      int (*step)(es_client_t *c, const config_t *cfg, const mapping_t *m,
                                  const char *alias, const void *arg, char *errstr, size_t errsz),
                      const void *arg, char *errstr, size_t errstr_size)
{
    if (!mapping_index_count(m))
        return 0;
    es_settings_t st = sink_es_settings(cfg);
    if (!st.url) {
        snprintf(errstr, errstr_size,
                 "%s writes documents (index %s) but no Elasticsearch URL is set: --es-url "
                 "(PROJECTOR_ES_URL, config key es.url)",
                 mapping_file(m), mapping_index(m, 0));
        return -2;
    }
    es_client_t *c = es_client_new(&st, errstr, errstr_size);
    if (!c)
        return -2;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < mapping_index_count(m); i++)
        rc = step(c, cfg, m, mapping_index(m, i), arg, errstr, errstr_size);
    es_client_destroy(c);
    return rc;
}

/* Makes sure alias exists (arg: int 0), or replaces its index by a new empty one (int 1). */
static int alias_step(es_client_t *c, const config_t *cfg, const mapping_t *m, const char *alias,
                      const void *arg, char *errstr, size_t errsz)
{
    char *def = NULL, suffix[32];
    if (sink_es_definition(cfg, m, alias, &def, errstr, errsz) != 0)
        return -2;
    index_suffix(suffix, sizeof(suffix));
    int rc = *(const int *)arg ? es_client_replace_index(c, alias, def, suffix, errstr, errsz)
                               : es_client_ensure_alias(c, alias, def, suffix, errstr, errsz);
    free(def);
    return rc;
}

int sink_es_migrate(const config_t *cfg, const mapping_t *m, char *errstr, size_t errstr_size)
{
    int replace = 0;
    return each_alias(cfg, m, alias_step, &replace, errstr, errstr_size);
}

int sink_es_recreate(const config_t *cfg, const mapping_t *m, char *errstr, size_t errstr_size)
{
    int replace = 1;
    return each_alias(cfg, m, alias_step, &replace, errstr, errstr_size);
}

/* ---- generations of a blue/green rebuild: an index per generation behind the alias ---- */

void sink_es_generation_index(const char *alias, int number, char *out, size_t size)
{
    snprintf(out, size, "%s-g%d", alias, number);
}

/* Sends one request; 0 when its status is 2xx or `ok` (another acceptable status), else -1. */
static int request_ok(es_client_t *c, const char *method, const char *path, const char *body,
                      int ok, char *errstr, size_t errsz)
{
    strbuf_t resp = STRBUF_INIT;
    int status =
        es_client_request(c, method, path, body, body ? strlen(body) : 0, &resp, errstr, errsz);
    int rc = status >= 200 && status < 300 ? 0 : status == ok ? 0 : -1;
    if (rc != 0 && status > 0)
        snprintf(errstr, errsz, "%s %s: HTTP %d: %.400s", method, path, status,
                 resp.data ? resp.data : "");
    strbuf_free(&resp);
    return rc;
}

static int create_step(es_client_t *c, const config_t *cfg, const mapping_t *m, const char *alias,
                       const void *arg, char *errstr, size_t errsz)
{
    char index[300], path[310], *def = NULL;
    sink_es_generation_index(alias, *(const int *)arg, index, sizeof(index));
    snprintf(path, sizeof(path), "/%s", index);
    if (sink_es_definition(cfg, m, alias, &def, errstr, errsz) != 0)
        return -2;
    int rc = request_ok(c, "HEAD", path, NULL, 0, errstr, errsz) == 0
                 ? 0 /* a resumed build: the index is there */
                 : request_ok(c, "PUT", path, def, 0, errstr, errsz);
    free(def);
    return rc;
}

int sink_es_generation_create(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                              size_t errstr_size)
{
    return each_alias(cfg, m, create_step, &number, errstr, errstr_size);
}

typedef struct switch_arg {
    int number, keep_old;
} switch_arg_t;

static int switch_step(es_client_t *c, const config_t *cfg, const mapping_t *m, const char *alias,
                       const void *arg, char *errstr, size_t errsz)
{
    (void)cfg, (void)m;
    const switch_arg_t *sw = arg;
    char index[300];
    sink_es_generation_index(alias, sw->number, index, sizeof(index));
    strbuf_t cur = STRBUF_INIT;
    int found = es_client_alias_indices(c, alias, &cur, errstr, errsz);
    json_t *old = found > 0 ? json_loadb(cur.data, cur.len, 0, NULL) : json_array();
    strbuf_free(&cur);
    if (found < 0 || !json_is_array(old)) {
        json_decref(old);
        return -1;
    }
    json_t *actions = json_array();
    json_array_append_new(actions, json_pack("{s:{s:s,s:s,s:b}}", "add", "index", index, "alias",
                                             alias, "is_write_index", 1));
    size_t i;
    json_t *name;
    json_array_foreach(old, i, name)
    {
        if (strcmp(json_string_value(name), index) != 0)
            json_array_append_new(
                actions, json_pack("{s:{s:O,s:s}}", "remove", "index", name, "alias", alias));
    }
    json_t *body = json_pack("{s:o}", "actions", actions);
    char *text = json_dumps(body, JSON_COMPACT);
    int rc = request_ok(c, "POST", "/_aliases", text, 0, errstr, errsz);
    free(text);
    json_decref(body);
    json_array_foreach(old, i, name)
    {
        char path[310];
        snprintf(path, sizeof(path), "/%s", json_string_value(name));
        if (rc == 0 && !sw->keep_old && strcmp(json_string_value(name), index) != 0)
            rc = request_ok(c, "DELETE", path, NULL, 404, errstr, errsz);
    }
    json_decref(old);
    return rc;
}

int sink_es_generation_switch(const config_t *cfg, const mapping_t *m, int number, int keep_old,
                              char *errstr, size_t errstr_size)
{
    switch_arg_t sw = {number, keep_old};
    return each_alias(cfg, m, switch_step, &sw, errstr, errstr_size);
}

static int discard_step(es_client_t *c, const config_t *cfg, const mapping_t *m, const char *alias,
                        const void *arg, char *errstr, size_t errsz)
{
    (void)cfg, (void)m;
    char index[300], path[310];
    sink_es_generation_index(alias, *(const int *)arg, index, sizeof(index));
    strbuf_t cur = STRBUF_INIT;
    int found = es_client_alias_indices(c, alias, &cur, errstr, errsz);
    int live = found > 0 && strstr(cur.data, index) != NULL; /* never drop what readers see */
    strbuf_free(&cur);
    if (found < 0)
        return -1;
    snprintf(path, sizeof(path), "/%s", index);
    return live ? 0 : request_ok(c, "DELETE", path, NULL, 404, errstr, errsz);
}

int sink_es_generation_discard(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                               size_t errstr_size)
{
    return each_alias(cfg, m, discard_step, &number, errstr, errstr_size);
}
