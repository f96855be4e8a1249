/* Elasticsearch / OpenSearch over HTTP (libcurl): requests, _bulk with per-item results, and the
 * index-behind-an-alias administration that migrations and rebuilds need. */
#ifndef PROJECTOR_ES_CLIENT_H
#define PROJECTOR_ES_CLIENT_H

#include <stddef.h>

#include "arena.h"
#include "strbuf.h"

typedef struct es_client es_client_t;

/* How to reach the cluster. Strings are copied by es_client_new(); NULL or "" means unset. */
typedef struct es_settings {
    const char *url;  /* "http://host:9200" or "https://...", no trailing path */
    const char *user; /* basic auth, with password */
    const char *password;
    const char *api_key; /* "Authorization: ApiKey <api_key>" (the base64 id:key as issued) */
    const char *ca_file; /* PEM bundle to verify the server's certificate with */
    long timeout_ms;     /* whole-request timeout */
    int gzip;            /* 1: gzip request bodies (Content-Encoding: gzip) */
} es_settings_t;

/* What one _bulk item came to. */
typedef enum {
    ES_ITEM_OK,        /* 200/201, or a delete that found nothing (404 not_found) */
    ES_ITEM_CONFLICT,  /* 409: the document holds this version or a newer one already */
    ES_ITEM_RETRY,     /* 429 or 5xx: try the item again later */
    ES_ITEM_PERMANENT, /* any other error (400 mapper_parsing_exception, ...): the item is bad */
} es_item_rc_t;

typedef struct es_item_result {
    es_item_rc_t rc;
    int status;        /* the item's HTTP status */
    const char *error; /* for errors: "<type>: <reason>" (in the caller's arena); else NULL */
} es_item_result_t;

/* Returns a client (one keep-alive connection, reused), or NULL with errstr set (bad URL, ...).
 * Does not block. Caller owns it. The URL must be http:// or https://, without credentials
 * (use user/password or api_key), query or fragment; trailing slashes are dropped. A password
 * needs a user; user/password and api_key exclude each other; timeout_ms 0 means no timeout.
 * The first call initialises libcurl for the process (curl_global_init, once).
 * A client serves one thread at a time. */
es_client_t *es_client_new(const es_settings_t *settings, char *errstr, size_t errstr_size);
void es_client_destroy(es_client_t *c);

/* Returns the base URL (as given, without trailing slashes; never with credentials), for
 * messages. Owned by c. */
const char *es_client_url(const es_client_t *c);

/* Performs one request (body may be NULL). Returns the HTTP status with the response body in
 * resp (appended; caller frees; NULL discards it), or -1 with errstr set when no response came
 * (connection refused or dropped, timeout, TLS failure): errstr is "<method> <url>: <curl's
 * error>". A body is sent as application/x-ndjson to _bulk and _msearch, else as
 * application/json (gzipped when settings->gzip). Blocks up to the timeout. */
int es_client_request(es_client_t *c, const char *method, const char *path, const char *body,
                      size_t body_len, strbuf_t *resp, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Sends an NDJSON _bulk body of nitems actions (POST /_bulk) and fills results[0, nitems) from
 * the per-item answers (error texts in arena). Returns 0 when the answer was read (items may
 * still have failed: see results), -1 when the request as a whole failed retriably (no answer,
 * 429, 5xx, an answer that does not match the request; also 401, 403, 404, 407 and 408, which
 * are about the settings or the path to the cluster, not the body) or -2 when it failed
 * permanently (another 4xx: the body itself was refused); errstr says why. Blocks. */
int es_client_bulk(es_client_t *c, const char *body, size_t body_len, size_t nitems,
                   es_item_result_t *results, arena_t *arena, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Parses a _bulk answer (for es_client_bulk() and its tests): same returns as it, for a 200.
 * Items: 2xx, and 404 without an "error" (a delete of a missing document), are ES_ITEM_OK; 409
 * ES_ITEM_CONFLICT; 429, 5xx, 401 and 403 (security_exception, cluster_block_exception: not the
 * document's fault) ES_ITEM_RETRY; the rest ES_ITEM_PERMANENT. "errors": false is trusted: every
 * item is OK then. An error text is "<type>: <reason> (caused by <type>: <reason>)". Returns -1
 * for unparsable JSON, no items array, an item without a status, or an item count other than
 * nitems. */
int es_client_parse_bulk(const char *resp, size_t resp_len, size_t nitems,
                         es_item_result_t *results, arena_t *arena, char *errstr,
                         size_t errstr_size) __attribute__((warn_unused_result));

/* Makes sure alias exists: when it does not, creates index "<alias>-<suffix>" from definition
 * (the JSON of a views/<name>.es.json file: settings, mappings) and points alias at it, atomically
 * (POST /_aliases with is_write_index). An existing alias is left as it is. Safe to race with
 * another process doing the same: an index that exists already is used, and an alias that
 * appeared meanwhile counts as success (an index this call created for it, under another suffix
 * than the winner's, is then left empty and unaliased). Returns 0, or -1 with errstr naming the
 * alias and the cluster's error. Blocks. */
int es_client_ensure_alias(es_client_t *c, const char *alias, const char *definition,
                           const char *suffix, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Creates index "<alias>-<suffix>" from definition, moves alias to it in one _aliases request
 * and deletes the indices alias pointed at before (for rebuilds; the alias need not exist yet).
 * Fails, changing nothing, when that index exists already. Returns 0 or -1 (errstr). Blocks. */
int es_client_replace_index(es_client_t *c, const char *alias, const char *definition,
                            const char *suffix, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Lists the indices alias points at into out (JSON array of names, sorted, appended; [] when
 * there is no such alias). Returns 1 when the alias exists, 0 when not, -1 on error (errstr).
 * Blocks.
 *
 * Alias names and suffixes are made of a-z, 0-9, '.', '_', '-' and '+' and do not start with
 * '_', '-' or '+'; the definition must be a JSON object. Else these functions return -1. */
int es_client_alias_indices(es_client_t *c, const char *alias, strbuf_t *out, char *errstr,
                            size_t errstr_size) __attribute__((warn_unused_result));

#endif
