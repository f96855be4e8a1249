/* The Confluent Schema Registry client: wire-format headers and the schemas of ids.
 *
 * Ids are immutable in the registry (an id always names the same schema), so a schema fetched
 * once is kept for the process: the cache only grows, and its entries are never freed, which
 * is what lets callers borrow them without a reference count. A lookup takes cache_mu only; a
 * miss takes fetch_mu too, looks again and fetches, so that each id is fetched once however
 * many decoding threads ask at the same time. An id the registry does not hold is not cached:
 * it may be registered later. */
#include "registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

/* The settings registry_configure() copied. */
static struct {
    char *url, *user, *password, *ca_file;
    long timeout_ms;
} conf;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER; /* cache, ncache, parsed */
static pthread_mutex_t fetch_mu = PTHREAD_MUTEX_INITIALIZER; /* one fetch at a time */
static registry_schema_t **cache;
static size_t ncache;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_rc;

static void curl_init(void)
{
    curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *copy_set(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

void registry_configure(const config_t *cfg)
{
    free(conf.url);
    free(conf.user);
    free(conf.password);
    free(conf.ca_file);
    conf.url = copy_set(config_str(cfg, CFG_REGISTRY_URL));
    conf.user = copy_set(config_str(cfg, CFG_REGISTRY_USER));
    conf.password = copy_set(config_str(cfg, CFG_REGISTRY_PASSWORD));
    conf.ca_file = copy_set(config_str(cfg, CFG_REGISTRY_CA_FILE));
    conf.timeout_ms = (long)config_int(cfg, CFG_REGISTRY_TIMEOUT_MS);
}

int registry_wire_header(const void *value, size_t len, int32_t *id, size_t *payload_at,
                         char *errstr, size_t errstr_size)
{
    const unsigned char *v = value;
    if (len < 5) {
        snprintf(errstr, errstr_size,
                 "the value is %zu bytes, shorter than the schema registry's 5-byte header "
                 "(magic byte 0, 4-byte schema id)",
                 len);
        return -1;
    }
    if (v[0] != 0) {
        snprintf(errstr, errstr_size,
                 "the value does not start with the schema registry's magic byte 0 (found 0x%02x): "
                 "not in the registry's wire format",
                 v[0]);
        return -1;
    }
    uint32_t u = (uint32_t)v[1] << 24 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 8 | v[4];
    *id = (int32_t)u;
    *payload_at = 5;
    return 0;
}

static registry_schema_t *cached(int32_t id)
{
    registry_schema_t *s = NULL;
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < ncache && !s; i++)
        if (cache[i]->id == id)
            s = cache[i];
    pthread_mutex_unlock(&cache_mu);
    return s;
}

static size_t on_data(char *data, size_t size, size_t n, void *userdata)
{
    strbuf_append(userdata, data, size * n);
    return size * n;
}

/* GETs url into body; returns the HTTP status, or 0 with errstr set when no answer came. */
static long http_get(const char *url, strbuf_t *body, char *errstr, size_t errstr_size)
{
    char curl_err[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(errstr, errstr_size, "curl_easy_init failed");
        return 0;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, conf.timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "projector/" PROJECTOR_VERSION);
    if (conf.user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, conf.user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, conf.password ? conf.password : "");
    }
    if (conf.ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, conf.ca_file);
    struct curl_slist *hdrs =
        curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json, application/json");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(errstr, errstr_size, "%s", *curl_err ? curl_err : curl_easy_strerror(rc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return status;
}

/* GETs path (from the registry's URL on) into *answer (NULL when the body is not JSON; the
 * caller json_decref()s it) and *status. Returns REGISTRY_OK when the registry answered with
 * anything but an outage; REGISTRY_UNREACHABLE (no answer, a timeout, 5xx, 429, refused
 * credentials) or REGISTRY_BAD (no registry.url) with errstr set. */
static registry_result_t get_json(const char *path, long *status, json_t **answer, char *errstr,
                                  size_t errstr_size)
{
    *answer = NULL;
    if (!conf.url) {
        snprintf(errstr, errstr_size, "registry.url is not set");
        return REGISTRY_BAD;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_rc != CURLE_OK) {
        snprintf(errstr, errstr_size, "curl_global_init: %s", curl_easy_strerror(curl_rc));
        return REGISTRY_UNREACHABLE;
    }
    char url[2048];
    size_t n = strlen(conf.url);
    snprintf(url, sizeof(url), "%.*s%s", (int)(n && conf.url[n - 1] == '/' ? n - 1 : n), conf.url,
             path);
    strbuf_t body = STRBUF_INIT;
    char err[512];
    *status = http_get(url, &body, err, sizeof(err));
    registry_result_t r = REGISTRY_OK;
    if (*status == 0) {
        snprintf(errstr, errstr_size, "%s", err);
        r = REGISTRY_UNREACHABLE;
    } else {
        *answer = json_loadb(body.data, body.len, 0, NULL);
        const char *msg = json_string_value(json_object_get(*answer, "message"));
        if (*status >= 500 || *status == 429 || *status == 401 || *status == 403) {
            snprintf(errstr, errstr_size, "HTTP %ld%s%s", *status, msg ? ": " : "", msg ? msg : "");
            json_decref(*answer);
            *answer = NULL;
            r = REGISTRY_UNREACHABLE;
        }
    }
    strbuf_free(&body);
    return r;
}

/* The registry's error message in answer, or "HTTP <status>". */
static const char *message_of(const json_t *answer, long status, char *buf, size_t size)
{
    const char *msg = json_string_value(json_object_get(answer, "message"));
    if (msg)
        return msg;
    snprintf(buf, size, "HTTP %ld", status);
    return buf;
}

/* Fetches id's schema into *out (fetch_mu held). */
static registry_result_t fetch(int32_t id, registry_schema_t **out, char *errstr,
                               size_t errstr_size)
{
    char path[64], mb[32];
    snprintf(path, sizeof(path), "/schemas/ids/%d", id);
    long status;
    json_t *j;
    registry_result_t r = get_json(path, &status, &j, errstr, errstr_size);
    if (r != REGISTRY_OK)
        return r;
    r = REGISTRY_BAD;
    if (status == 404) {
        snprintf(errstr, errstr_size, "schema id %d is not in the registry (%s)", id,
                 message_of(j, status, mb, sizeof(mb)));
        r = REGISTRY_NOT_FOUND;
    } else if (status != 200) {
        snprintf(errstr, errstr_size, "schema id %d: the registry answered HTTP %ld: %s", id,
                 status, message_of(j, status, mb, sizeof(mb)));
    } else if (!json_is_string(json_object_get(j, "schema"))) {
        snprintf(errstr, errstr_size, "schema id %d: the registry's answer has no \"schema\"", id);
    } else {
        const char *type = json_string_value(json_object_get(j, "schemaType"));
        registry_schema_t *s = xcalloc(1, sizeof(*s));
        s->id = id;
        s->type = xstrdup(type ? type : "AVRO");
        s->text = xstrdup(json_string_value(json_object_get(j, "schema")));
        s->record = registry_record_name(s->type, s->text);
        *out = s;
        r = REGISTRY_OK;
    }
    json_decref(j);
    return r;
}

registry_result_t registry_schema(int32_t id, const registry_schema_t **schema, char *errstr,
                                  size_t errstr_size)
{
    registry_schema_t *s = cached(id);
    if (s) {
        *schema = s;
        return REGISTRY_OK;
    }
    pthread_mutex_lock(&fetch_mu);
    s = cached(id); /* another thread may have fetched it meanwhile */
    registry_result_t r = s ? REGISTRY_OK : fetch(id, &s, errstr, errstr_size);
    if (r == REGISTRY_OK && !cached(id)) {
        pthread_mutex_lock(&cache_mu);
        cache = xrealloc(cache, (ncache + 1) * sizeof(*cache));
        cache[ncache++] = s;
        pthread_mutex_unlock(&cache_mu);
    }
    pthread_mutex_unlock(&fetch_mu);
    if (r == REGISTRY_OK)
        *schema = s;
    return r;
}

void *registry_schema_parsed(const registry_schema_t *s,
                             void *(*make)(const char *text, char *errstr, size_t errstr_size),
                             char *errstr, size_t errstr_size)
{
    registry_schema_t *w = (registry_schema_t *)s; /* the cache's own entry */
    pthread_mutex_lock(&cache_mu);
    if (!w->parsed)
        w->parsed = make(w->text, errstr, errstr_size);
    void *p = w->parsed;
    pthread_mutex_unlock(&cache_mu);
    return p;
}

/* ---- the subjects and versions of an id ---- */

/* The pairs of one id, cached like the schemas (never freed). */
typedef struct id_versions {
    int32_t id;
    registry_subject_version_t *pairs;
    size_t n;
} id_versions_t;

static id_versions_t **vcache; /* under cache_mu */
static size_t nvcache;

static id_versions_t *vcached(int32_t id)
{
    id_versions_t *v = NULL;
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < nvcache && !v; i++)
        if (vcache[i]->id == id)
            v = vcache[i];
    pthread_mutex_unlock(&cache_mu);
    return v;
}

/* Reads a GET /schemas/ids/{id}/versions answer: [{"subject": S, "version": N}, ...]. */
static registry_result_t versions_of(int32_t id, long status, json_t *j, id_versions_t **out,
                                     char *errstr, size_t errstr_size)
{
    char mb[32];
    if (status == 404 && json_integer_value(json_object_get(j, "error_code")) == 40403) {
        snprintf(errstr, errstr_size, "schema id %d is not in the registry (%s)", id,
                 message_of(j, status, mb, sizeof(mb)));
        return REGISTRY_NOT_FOUND;
    }
    if (status == 404) { /* not Confluent's "Schema not found": the path is unknown */
        snprintf(errstr, errstr_size,
                 "the registry does not serve GET /schemas/ids/%d/versions (HTTP 404: %s): it "
                 "cannot say the versions of schema ids",
                 id, message_of(j, status, mb, sizeof(mb)));
        return REGISTRY_BAD;
    }
    if (status != 200) {
        snprintf(errstr, errstr_size,
                 "the versions of schema id %d: the registry answered HTTP %ld: %s", id, status,
                 message_of(j, status, mb, sizeof(mb)));
        return REGISTRY_BAD;
    }
    if (!json_is_array(j)) {
        snprintf(errstr, errstr_size,
                 "the versions of schema id %d: the registry's answer is not a list", id);
        return REGISTRY_BAD;
    }
    size_t i;
    json_t *p;
    json_array_foreach(j, i, p)
    {
        json_t *ver = json_object_get(p, "version");
        if (!json_is_string(json_object_get(p, "subject")) || !json_is_integer(ver) ||
            json_integer_value(ver) < 1) {
            snprintf(errstr, errstr_size,
                     "the versions of schema id %d: the registry's answer is not a list of "
                     "{\"subject\", \"version\"}",
                     id);
            return REGISTRY_BAD;
        }
    }
    id_versions_t *v = xcalloc(1, sizeof(*v));
    v->id = id;
    v->pairs = xcalloc(json_array_size(j) + 1, sizeof(*v->pairs));
    json_array_foreach(j, i, p)
    {
        v->pairs[v->n].subject = xstrdup(json_string_value(json_object_get(p, "subject")));
        v->pairs[v->n++].version = (long)json_integer_value(json_object_get(p, "version"));
    }
    *out = v;
    return REGISTRY_OK;
}

registry_result_t registry_schema_versions(int32_t id, const registry_subject_version_t **pairs,
                                           size_t *n, char *errstr, size_t errstr_size)
{
    id_versions_t *v = vcached(id);
    registry_result_t r = REGISTRY_OK;
    if (!v) {
        pthread_mutex_lock(&fetch_mu);
        v = vcached(id); /* another thread may have fetched it meanwhile */
        if (!v) {
            char path[80];
            snprintf(path, sizeof(path), "/schemas/ids/%d/versions?deleted=true", id);
            long status;
            json_t *j;
            r = get_json(path, &status, &j, errstr, errstr_size);
            if (r == REGISTRY_OK)
                r = versions_of(id, status, j, &v, errstr, errstr_size);
            json_decref(j);
            if (r == REGISTRY_OK) {
                pthread_mutex_lock(&cache_mu);
                vcache = xrealloc(vcache, (nvcache + 1) * sizeof(*vcache));
                vcache[nvcache++] = v;
                pthread_mutex_unlock(&cache_mu);
            }
        }
        pthread_mutex_unlock(&fetch_mu);
    }
    if (r == REGISTRY_OK) {
        *pairs = v->pairs;
        *n = v->n;
    }
    return r;
}

/* ---- for check: subjects and their versions ---- */

registry_result_t registry_subjects(char ***subjects, size_t *n, char *errstr, size_t errstr_size)
{
    long status;
    json_t *j;
    char mb[32];
    *subjects = NULL;
    *n = 0;
    registry_result_t r = get_json("/subjects", &status, &j, errstr, errstr_size);
    if (r == REGISTRY_OK && (status != 200 || !json_is_array(j))) {
        snprintf(errstr, errstr_size, "GET /subjects: the registry answered HTTP %ld: %s", status,
                 status == 200 ? "not a list" : message_of(j, status, mb, sizeof(mb)));
        r = REGISTRY_BAD;
    }
    size_t i;
    json_t *s;
    if (r == REGISTRY_OK) {
        *subjects = xcalloc(json_array_size(j) + 1, sizeof(char *));
        json_array_foreach(j, i, s) if (json_is_string(s))(*subjects)[(*n)++] =
            xstrdup(json_string_value(s));
    }
    json_decref(j);
    return r;
}

registry_result_t registry_subject_schema(const char *subject, long version, char **type,
                                          char **text, char *errstr, size_t errstr_size)
{
    pthread_once(&curl_once, curl_init);
    char *esc = curl_easy_escape(NULL, subject, 0);
    char path[1200], mb[32];
    snprintf(path, sizeof(path), "/subjects/%s/versions/%ld", esc ? esc : subject, version);
    curl_free(esc);
    long status;
    json_t *j;
    registry_result_t r = get_json(path, &status, &j, errstr, errstr_size);
    if (r != REGISTRY_OK)
        return r;
    const char *t = json_string_value(json_object_get(j, "schemaType"));
    if (status == 404) {
        snprintf(errstr, errstr_size, "%s", message_of(j, status, mb, sizeof(mb)));
        r = REGISTRY_NOT_FOUND;
    } else if (status != 200 || !json_is_string(json_object_get(j, "schema"))) {
        snprintf(errstr, errstr_size, "subject %s version %ld: the registry answered HTTP %ld: %s",
                 subject, version, status,
                 status == 200 ? "no \"schema\"" : message_of(j, status, mb, sizeof(mb)));
        r = REGISTRY_BAD;
    } else {
        *type = xstrdup(t ? t : "AVRO");
        *text = xstrdup(json_string_value(json_object_get(j, "schema")));
    }
    json_decref(j);
    return r;
}
