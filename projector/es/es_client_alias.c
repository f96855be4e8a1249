/* The indices behind aliases that migrations and rebuilds administer: each alias points at
 * "<alias>-<suffix>" indices made from a views/<name>.es.json definition. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_client.h"
#include "es_client_internal.h"
#include "log.h"
#include "xalloc.h"

/* Checks that name (an alias, an index or a suffix) is made of a-z, 0-9, '.', '_', '-' and '+'
 * only and does not start like a hidden or system name. */
static int check_name(const char *what, const char *name, char *errstr, size_t errstr_size)
{
    const char *problem = NULL;
    if (!name || !*name)
        problem = "is empty";
    else if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-+") != strlen(name))
        problem = "may hold only a-z, 0-9, '.', '_', '-' and '+'";
    else if (strchr("_-+", name[0]) || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        problem = "may not start with '_', '-' or '+', nor be . or ..";
    if (problem)
        snprintf(errstr, errstr_size, "%s \"%s\" %s", what, name ? name : "", problem);
    return problem ? -1 : 0;
}

/* Checks alias, suffix and definition and writes "<alias>-<suffix>" into index. */
static int check_index_args(const char *alias, const char *definition, const char *suffix,
                            char *index, size_t index_size, char *errstr, size_t errstr_size)
{
    if (check_name("alias", alias, errstr, errstr_size) != 0 ||
        check_name("index suffix", suffix, errstr, errstr_size) != 0)
        return -1;
    if ((size_t)snprintf(index, index_size, "%s-%s", alias, suffix) >= index_size) {
        snprintf(errstr, errstr_size, "index name %s-%s is longer than %zu bytes", alias, suffix,
                 index_size - 1);
        return -1;
    }
    json_error_t jerr;
    json_t *def = json_loads(definition ? definition : "", 0, &jerr);
    int ok = json_is_object(def);
    if (!def)
        snprintf(errstr, errstr_size,
                 "definition of index %s: unparsable JSON at line %d column %d: %s", index,
                 jerr.line, jerr.column, jerr.text);
    else if (!ok)
        snprintf(errstr, errstr_size, "definition of index %s: not a JSON object", index);
    json_decref(def);
    return ok ? 0 : -1;
}

/* Sends a JSON request (body may be NULL) with resp emptied first. Returns the HTTP status, or
 * -1 (errstr) without an answer. */
static int send_json(es_client_t *c, const char *method, const char *path, const char *body,
                     strbuf_t *resp, char *errstr, size_t errstr_size)
{
    strbuf_reset(resp);
    return es_client_request(c, method, path, body, body ? strlen(body) : 0, resp, errstr,
                             errstr_size);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Returns the names of an answer's top-level keys as a sorted JSON array (new reference). */
static json_t *sorted_keys(json_t *obj)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) keys[i++] = key;
    qsort(keys, n, sizeof(*keys), cmp_str);
    json_t *names = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(names, json_string(keys[i]));
    free(keys);
    return names;
}

/* Looks alias up (GET /_alias/<alias>). Returns 1 with *names (new reference, may be NULL when
 * not wanted) the sorted index names, 0 when there is no such alias (*names an empty array), or
 * -1 (errstr). */
static int alias_lookup(es_client_t *c, const char *alias, json_t **names, char *errstr,
                        size_t errstr_size)
{
    strbuf_t resp = STRBUF_INIT, path = STRBUF_INIT;
    strbuf_printf(&path, "/_alias/%s", alias);
    int rc = -1, status = send_json(c, "GET", path.data, NULL, &resp, errstr, errstr_size);
    json_t *doc = NULL, *found = NULL;
    if (status == 200 && !(doc = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL))) {
        snprintf(errstr, errstr_size, "GET %.*s: unparsable answer", ES_CLIENT_SHOWN(c));
    } else if (status == 200 || status == 404) {
        found = sorted_keys(status == 200 ? doc : NULL);
        rc = json_array_size(found) > 0;
    } else if (status > 0) {
        es_client_http_error(c, "GET", status, &resp, errstr, errstr_size);
    }
    if (rc >= 0 && names)
        *names = json_incref(found);
    json_decref(found);
    json_decref(doc);
    strbuf_free(&resp);
    strbuf_free(&path);
    return rc;
}

/* Creates index from definition (PUT /<index>). Returns 0, 1 when it exists already, or -1
 * (errstr). */
static int create_index(es_client_t *c, const char *index, const char *definition, char *errstr,
                        size_t errstr_size)
{
    strbuf_t resp = STRBUF_INIT, path = STRBUF_INIT;
    strbuf_printf(&path, "/%s", index);
    int rc = -1, status = send_json(c, "PUT", path.data, definition, &resp, errstr, errstr_size);
    if (status >= 200 && status <= 299)
        rc = 0;
    else if (status == 400 && es_client_answer_error_is(&resp, "resource_already_exists_exception"))
        rc = 1;
    else if (status > 0)
        es_client_http_error(c, "PUT", status, &resp, errstr, errstr_size);
    strbuf_free(&resp);
    strbuf_free(&path);
    return rc;
}

/* Points alias at index as its write index and takes it off the indices in old (may be NULL), in
 * one POST /_aliases. Returns 0 or -1 (errstr). */
static int move_alias(es_client_t *c, const char *alias, const char *index, json_t *old,
                      char *errstr, size_t errstr_size)
{
    json_t *actions = json_array(), *name;
    size_t i;
    json_array_append_new(actions, json_pack("{s:{s:s,s:s,s:b}}", "add", "index", index, "alias",
                                             alias, "is_write_index", 1));
    json_array_foreach(old, i, name)
    {
        json_array_append_new(actions,
                              json_pack("{s:{s:O,s:s}}", "remove", "index", name, "alias", alias));
    }
    json_t *req = json_pack("{s:o}", "actions", actions);
    char *body = json_dumps(req, JSON_COMPACT);
    if (!body)
        abort();
    strbuf_t resp = STRBUF_INIT;
    int status = send_json(c, "POST", "/_aliases", body, &resp, errstr, errstr_size);
    int rc = status >= 200 && status <= 299 ? 0 : -1;
    if (rc != 0 && status > 0)
        es_client_http_error(c, "POST", status, &resp, errstr, errstr_size);
    strbuf_free(&resp);
    free(body);
    json_decref(req);
    return rc;
}

/* Deletes index (DELETE /<index>); one already gone counts as deleted. Returns 0 or -1. */
static int delete_index(es_client_t *c, const char *index, char *errstr, size_t errstr_size)
{
    strbuf_t resp = STRBUF_INIT, path = STRBUF_INIT;
    strbuf_printf(&path, "/%s", index);
    int status = send_json(c, "DELETE", path.data, NULL, &resp, errstr, errstr_size);
    int rc = (status >= 200 && status <= 299) || status == 404 ? 0 : -1;
    if (rc != 0 && status > 0)
        es_client_http_error(c, "DELETE", status, &resp, errstr, errstr_size);
    strbuf_free(&resp);
    strbuf_free(&path);
    return rc;
}

/* ensure_alias without the "alias <alias>: " prefix on errors. */
static int ensure_alias(es_client_t *c, const char *alias, const char *definition,
                        const char *index, char *errstr, size_t errstr_size)
{
    int found = alias_lookup(c, alias, NULL, errstr, errstr_size);
    if (found != 0)
        return found > 0 ? 0 : -1;
    int existed = create_index(c, index, definition, errstr, errstr_size);
    if (existed < 0)
        return -1;
    /* Another process may be creating the alias at the same time: once it exists, whoever made
     * it, the job is done. */
    if (existed && (found = alias_lookup(c, alias, NULL, errstr, errstr_size)) != 0)
        return found > 0 ? 0 : -1;
    if (move_alias(c, alias, index, NULL, errstr, errstr_size) != 0) {
        char again[256];
        return alias_lookup(c, alias, NULL, again, sizeof(again)) == 1 ? 0 : -1;
    }
    LOG(LOG_INFO, "alias=%s index=%s created%s and aliased", alias, index,
        existed ? " earlier" : "");
    return 0;
}

int es_client_ensure_alias(es_client_t *c, const char *alias, const char *definition,
                           const char *suffix, char *errstr, size_t errstr_size)
{
    char index[256], err[1024];
    if (check_index_args(alias, definition, suffix, index, sizeof(index), errstr, errstr_size) != 0)
        return -1;
    if (ensure_alias(c, alias, definition, index, err, sizeof(err)) != 0) {
        snprintf(errstr, errstr_size, "alias %s: %s", alias, err);
        return -1;
    }
    return 0;
}

/* Returns 1 when the JSON array names holds the string name. */
static int has_name(json_t *names, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        if (strcmp(json_string_value(v), name) == 0)
            return 1;
    }
    return 0;
}

/* replace_index without the "alias <alias>: " prefix on errors. */
static int replace_index(es_client_t *c, const char *alias, const char *definition,
                         const char *index, char *errstr, size_t errstr_size)
{
    json_t *old = NULL, *name;
    size_t i;
    int rc = -1;
    if (alias_lookup(c, alias, &old, errstr, errstr_size) < 0)
        return -1;
    if (has_name(old, index)) {
        snprintf(errstr, errstr_size, "index %s is behind the alias already: pick a new suffix",
                 index);
        goto out;
    }
    int existed = create_index(c, index, definition, errstr, errstr_size);
    if (existed != 0) {
        if (existed > 0)
            snprintf(errstr, errstr_size,
                     "index %s exists already (left by an earlier attempt?): delete it or pick a "
                     "new suffix",
                     index);
        goto out;
    }
    if (move_alias(c, alias, index, old, errstr, errstr_size) != 0)
        goto out;
    LOG(LOG_INFO, "alias=%s index=%s created and aliased, replacing %zu index(es)", alias, index,
        json_array_size(old));
    json_array_foreach(old, i, name)
    {
        char err[768];
        if (delete_index(c, json_string_value(name), err, sizeof(err)) != 0) {
            snprintf(errstr, errstr_size, "moved to index %s, but deleting the old index %s: %s",
                     index, json_string_value(name), err);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(old);
    return rc;
}

int es_client_replace_index(es_client_t *c, const char *alias, const char *definition,
                            const char *suffix, char *errstr, size_t errstr_size)
{
    char index[256], err[1024];
    if (check_index_args(alias, definition, suffix, index, sizeof(index), errstr, errstr_size) != 0)
        return -1;
    if (replace_index(c, alias, definition, index, err, sizeof(err)) != 0) {
        snprintf(errstr, errstr_size, "alias %s: %s", alias, err);
        return -1;
    }
    return 0;
}

int es_client_alias_indices(es_client_t *c, const char *alias, strbuf_t *out, char *errstr,
                            size_t errstr_size)
{
    char err[1024];
    json_t *names = NULL;
    if (check_name("alias", alias, errstr, errstr_size) != 0)
        return -1;
    int rc = alias_lookup(c, alias, &names, err, sizeof(err));
    if (rc < 0) {
        snprintf(errstr, errstr_size, "alias %s: %s", alias, err);
        return -1;
    }
    char *text = json_dumps(names, JSON_COMPACT);
    if (!text)
        abort();
    strbuf_puts(out, text);
    free(text);
    json_decref(names);
    return rc;
}
