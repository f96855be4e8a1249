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

#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

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
    sink_es_t *s = xcalloc(1, sizeof(*s));
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
static void put_doc(strbuf_t *sb, const event_doc_t *d, int64_t version, int generation)
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
static int send_chunk(sink_es_t *s, event_doc_t *docs, size_t n, int64_t version, arena_t *arena,
                      outcome_t *out, char *errstr, size_t errsz)
{
    strbuf_reset(&s->body);
    for (size_t i = 0; i < n; i++)
        put_doc(&s->body, &docs[i], version, s->generation);
    if (n > s->results_cap) {
        s->results_cap = n;
        s->results = xrealloc(s->results, n * sizeof(*s->results));
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

int sink_es_write(void *ctx, event_doc_t *docs, size_t n, int64_t version, arena_t *arena,
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

/* ---- generations of a blue/green rebuild: an index per generation behind the alias ----
 *
 * Generation N's index "<alias>-g<N>" is created with a record of the indices it replaces (those
 * the alias pointed at then, the live generation's) in the "_meta" of its mappings:
 * {"projector": {"generation": N, "replaces": [...]}}. The engine keeps _meta as given and
 * returns it with the mappings, so the record outlives any crash. It says where the alias goes
 * back to when a switch moved it but did not commit in PostgreSQL (sink_es_reconcile_aliases),
 * and what to delete once the switch has committed (sink_es_generation_drop_replaced). */

void sink_es_generation_index(const char *alias, int number, char *out, size_t size)
{
    snprintf(out, size, "%s-g%d", alias, number);
}

/* The generation N >= 1 when index is "<alias>-g<N>", else 0. */
static int generation_of(const char *alias, const char *index)
{
    size_t n = strlen(alias);
    if (strncmp(index, alias, n) != 0 || strncmp(index + n, "-g", 2) != 0)
        return 0;
    const char *digits = index + n + 2;
    if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 9)
        return 0;
    return atoi(digits);
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

/* Returns 1 when index exists, 0 when not, -1 when the cluster failed (errstr). */
static int index_exists(es_client_t *c, const char *index, char *errstr, size_t errsz)
{
    char path[310];
    snprintf(path, sizeof(path), "/%s", index);
    int status = es_client_request(c, "HEAD", path, NULL, 0, NULL, errstr, errsz);
    if (status == 200 || status == 404)
        return status == 200;
    if (status > 0)
        snprintf(errstr, errsz, "HEAD %s: HTTP %d", path, status);
    return -1;
}

/* Reads the indices alias points at into *names (a sorted JSON array of strings, new reference;
 * empty when there is no such alias). Returns 0, or -1 (errstr; *names NULL). */
static int alias_names(es_client_t *c, const char *alias, json_t **names, char *errstr,
                       size_t errsz)
{
    strbuf_t cur = STRBUF_INIT;
    int found = es_client_alias_indices(c, alias, &cur, errstr, errsz);
    *names = found >= 0 ? json_loadb(cur.data ? cur.data : "", cur.len, 0, NULL) : NULL;
    strbuf_free(&cur);
    if (found >= 0 && !json_is_array(*names)) {
        snprintf(errstr, errsz, "alias %s: unreadable list of indices", alias);
        json_decref(*names);
        *names = NULL;
    }
    return *names ? 0 : -1;
}

/* Returns 1 when the JSON array names holds the string name. */
static int has_name(json_t *names, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return 1;
    }
    return 0;
}

/* Appends the names to sb, comma-separated (for the log). */
static void put_names(strbuf_t *sb, json_t *names)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) strbuf_printf(sb, "%s%s", i ? "," : "", json_string_value(v));
}

/* Points alias at the indices of target (the first its write index) and takes it off the
 * indices of cur that target does not hold, in one _aliases request: atomic, a search sees the
 * old indices or the new ones, never neither. Returns 0 or -1 (errstr). */
static int move_alias(es_client_t *c, const char *alias, json_t *target, json_t *cur, char *errstr,
                      size_t errsz)
{
    json_t *actions = json_array(), *name;
    size_t i;
    json_array_foreach(target, i, name)
    {
        json_array_append_new(actions, json_pack("{s:{s:O,s:s,s:b}}", "add", "index", name, "alias",
                                                 alias, "is_write_index", i == 0));
    }
    json_array_foreach(cur, i, name)
    {
        if (!has_name(target, json_string_value(name)))
            json_array_append_new(
                actions, json_pack("{s:{s:O,s:s}}", "remove", "index", name, "alias", alias));
    }
    json_t *body = json_pack("{s:o}", "actions", actions);
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        abort();
    int rc = request_ok(c, "POST", "/_aliases", text, 0, errstr, errsz);
    free(text);
    json_decref(body);
    return rc;
}

/* Reads the record of generation index `index`: the indices it replaces, into *out (new
 * reference). Returns 1, 0 when the index does not exist or keeps no record (*out NULL), or -1
 * when the cluster failed (errstr). */
static int read_record(es_client_t *c, const char *index, json_t **out, char *errstr, size_t errsz)
{
    char path[320];
    snprintf(path, sizeof(path), "/%s/_mapping", index);
    strbuf_t resp = STRBUF_INIT;
    int status = es_client_request(c, "GET", path, NULL, 0, &resp, errstr, errsz);
    *out = NULL;
    if (status == 200) {
        json_t *doc = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
        json_t *meta =
            json_object_get(json_object_get(json_object_get(doc, index), "mappings"), "_meta");
        json_t *names = json_object_get(json_object_get(meta, "projector"), "replaces"), *v;
        int ok = json_is_array(names);
        size_t i;
        json_array_foreach(names, i, v) ok &= json_is_string(v);
        if (ok)
            *out = json_incref(names);
        json_decref(doc);
    } else if (status > 0 && status != 404) {
        snprintf(errstr, errsz, "GET %s: HTTP %d: %.400s", path, status,
                 resp.data ? resp.data : "");
    }
    strbuf_free(&resp);
    return *out ? 1 : status == 200 || status == 404 ? 0 : -1;
}

/* Returns definition (a views/<alias>.es.json, compact JSON) with its record set: generation
 * number replaces the indices in replaces. Caller frees. */
static char *with_record(const char *definition, int number, json_t *replaces)
{
    json_t *root = json_loads(definition, 0, NULL);
    if (!root)
        abort(); /* sink_es_definition() wrote it */
    json_t *mappings = json_object_get(root, "mappings");
    if (!json_is_object(mappings)) {
        mappings = json_object();
        json_object_set_new(root, "mappings", mappings);
    }
    json_t *meta = json_object_get(mappings, "_meta");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(mappings, "_meta", meta);
    }
    json_object_set_new(meta, "projector",
                        json_pack("{s:i,s:O}", "generation", number, "replaces", replaces));
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!out)
        abort();
    return out;
}

static int create_step(es_client_t *c, const config_t *cfg, const mapping_t *m, const char *alias,
                       const void *arg, char *errstr, size_t errsz)
{
    int number = *(const int *)arg;
    char index[300], path[310], *def = NULL;
    sink_es_generation_index(alias, number, index, sizeof(index));
    snprintf(path, sizeof(path), "/%s", index);
    if (sink_es_definition(cfg, m, alias, &def, errstr, errsz) != 0)
        return -2;
    int rc = index_exists(c, index, errstr, errsz); /* 1: a resumed build, the index is there */
    json_t *live = NULL;
    if (rc == 0 && (rc = alias_names(c, alias, &live, errstr, errsz)) == 0) {
        char *body = with_record(def, number, live);
        rc = request_ok(c, "PUT", path, body, 0, errstr, errsz);
        free(body);
    }
    json_decref(live);
    free(def);
    return rc < 0 ? -1 : 0;
}

int sink_es_generation_create(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                              size_t errstr_size)
{
    return each_alias(cfg, m, create_step, &number, errstr, errstr_size);
}

static int switch_step(es_client_t *c, const config_t *cfg, const mapping_t *m, const char *alias,
                       const void *arg, char *errstr, size_t errsz)
{
    (void)cfg, (void)m;
    char index[300];
    sink_es_generation_index(alias, *(const int *)arg, index, sizeof(index));
    json_t *cur = NULL, *target = json_pack("[s]", index);
    int rc = alias_names(c, alias, &cur, errstr, errsz);
    if (rc == 0)
        rc = move_alias(c, alias, target, cur, errstr, errsz);
    json_decref(target);
    json_decref(cur);
    return rc;
}

int sink_es_generation_switch(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                              size_t errstr_size)
{
    return each_alias(cfg, m, switch_step, &number, errstr, errstr_size);
}

static int drop_replaced_step(es_client_t *c, const config_t *cfg, const mapping_t *m,
                              const char *alias, const void *arg, char *errstr, size_t errsz)
{
    (void)cfg;
    char index[300];
    sink_es_generation_index(alias, *(const int *)arg, index, sizeof(index));
    json_t *replaced = NULL, *cur = NULL, *name;
    int rc = read_record(c, index, &replaced, errstr, errsz);
    if (rc == 0)
        LOG(LOG_WARN,
            "projection=%s index %s keeps no record of the indices it replaced behind alias %s: "
            "delete those yourself",
            mapping_name(m), index, alias);
    if (rc > 0)
        rc = alias_names(c, alias, &cur, errstr, errsz);
    size_t i;
    json_array_foreach(replaced, i, name)
    {
        char path[310];
        snprintf(path, sizeof(path), "/%s", json_string_value(name));
        if (rc == 0 && !has_name(cur, json_string_value(name))) /* never what readers see */
            rc = request_ok(c, "DELETE", path, NULL, 404, errstr, errsz);
    }
    json_decref(replaced);
    json_decref(cur);
    return rc < 0 ? -1 : 0;
}

int sink_es_generation_drop_replaced(const config_t *cfg, const mapping_t *m, int number,
                                     char *errstr, size_t errstr_size)
{
    return each_alias(cfg, m, drop_replaced_step, &number, errstr, errstr_size);
}

static int discard_step(es_client_t *c, const config_t *cfg, const mapping_t *m, const char *alias,
                        const void *arg, char *errstr, size_t errsz)
{
    (void)cfg, (void)m;
    char index[300], path[310];
    sink_es_generation_index(alias, *(const int *)arg, index, sizeof(index));
    json_t *cur = NULL;
    if (alias_names(c, alias, &cur, errstr, errsz) != 0)
        return -1;
    int live = has_name(cur, index); /* never drop what readers see */
    json_decref(cur);
    snprintf(path, sizeof(path), "/%s", index);
    return live ? 0 : request_ok(c, "DELETE", path, NULL, 404, errstr, errsz);
}

int sink_es_generation_discard(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                               size_t errstr_size)
{
    return each_alias(cfg, m, discard_step, &number, errstr, errstr_size);
}

/* ---- reconciling an alias with the live generation ---- */

/* The indices of generation `live` behind alias, which points at generation `other`'s index
 * instead: what that index replaces (its record) when it is a later generation's (a build's),
 * else "<alias>-g<live>". Returns 0 with *target (new reference), -1 when the cluster failed,
 * -2 when they cannot be found (errstr). */
static int live_indices(es_client_t *c, const char *alias, int other, int live, json_t **target,
                        char *errstr, size_t errsz)
{
    char index[300];
    json_t *names = NULL, *name;
    int rc = 0;
    if (other > live) {
        sink_es_generation_index(alias, other, index, sizeof(index));
        rc = read_record(c, index, &names, errstr, errsz);
        size_t i;
        json_array_foreach(names, i, name)
        {
            int there = rc > 0 ? index_exists(c, json_string_value(name), errstr, errsz) : 0;
            rc = there < 0 ? -1 : there ? rc : 0;
        }
        if (rc > 0 && json_array_size(names)) {
            *target = names;
            return 0;
        }
        json_decref(names);
        if (rc < 0)
            return -1;
    }
    sink_es_generation_index(alias, live, index, sizeof(index));
    if ((rc = index_exists(c, index, errstr, errsz)) > 0) {
        *target = json_pack("[s]", index);
        return 0;
    }
    if (rc == 0)
        snprintf(errstr, errsz,
                 "alias %s points at %s-g%d, but generation %d is live and its index cannot be "
                 "found (%s-g%d does not exist, and %s-g%d names no existing index it replaced): "
                 "point the alias at the live generation's index yourself (POST /_aliases)",
                 alias, alias, other, live, alias, live, alias, other);
    return rc < 0 ? -1 : -2;
}

static int reconcile_step(es_client_t *c, const config_t *cfg, const mapping_t *m,
                          const char *alias, const void *arg, char *errstr, size_t errsz)
{
    (void)cfg;
    int live = *(const int *)arg, other = 0;
    json_t *cur = NULL, *target = NULL, *name;
    if (alias_names(c, alias, &cur, errstr, errsz) != 0)
        return -1;
    size_t i;
    json_array_foreach(cur, i, name)
    {
        int g = generation_of(alias, json_string_value(name));
        if (g && g != live)
            other = g;
    }
    int rc = other ? live_indices(c, alias, other, live, &target, errstr, errsz) : 0;
    if (other && rc == 0)
        rc = move_alias(c, alias, target, cur, errstr, errsz);
    if (other && rc == 0) {
        strbuf_t from = STRBUF_INIT, to = STRBUF_INIT;
        put_names(&from, cur);
        put_names(&to, target);
        LOG(LOG_WARN, "projection=%s alias %s moved %sfrom %s to %s (the live generation %d)",
            mapping_name(m), alias, other > live ? "back " : "", from.data, to.data, live);
        strbuf_free(&from);
        strbuf_free(&to);
    }
    json_decref(cur);
    json_decref(target);
    return rc;
}

int sink_es_reconcile_aliases(const config_t *cfg, const mapping_t *m, int live, char *errstr,
                              size_t errstr_size)
{
    return each_alias(cfg, m, reconcile_step, &live, errstr, errstr_size);
}
