/* Applies a mapping test case in a scratch database, without Kafka or a search engine.
 *
 * The scratch database is the isolation: sink_pg commits each batch with its positions, so a
 * rolled-back transaction cannot hold a case; a database of its own, dropped at the end, leaves
 * nothing in the user's. Its TimeZone is UTC, so timestamps read the same everywhere. Each run
 * gets a new sink (a fresh connection), as a restarted instance would. */
#include "test_run.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applier.h"
#include "arena.h"
#include "decode.h"
#include "generation.h"
#include "pg_exec.h"
#include "schema.h"
#include "sink_pg.h"
#include "sqlgen.h"
#include "strbuf.h"
#include "teststate.h"
#include "xalloc.h"

struct test_run {
    const config_t *cfg;
    PGconn *admin; /* the user's database: creates and drops the scratch one */
    PGconn *conn;  /* the scratch database */
    char *conninfo;
    char name[64];
    mapping_set_t *set;
    json_t *keys, *indices;
    json_t *docs; /* the current run's documents: index -> id -> document */
};

/* Appends keyword='value' to a conninfo string. */
static void put_kv(strbuf_t *sb, const char *k, const char *v)
{
    strbuf_printf(sb, "%s%s='", sb->len ? " " : "", k);
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            strbuf_puts(sb, "\\");
        strbuf_append(sb, v, 1);
    }
    strbuf_puts(sb, "'");
}

/* conninfo (keywords or a URI) with dbname replaced. Returns it (caller frees) or NULL. */
static char *with_dbname(const char *conninfo, const char *dbname, char *errstr, size_t errsz)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        snprintf(errstr, errsz, "pg: %s", perr ? perr : "cannot be parsed");
        PQfreemem(perr);
        return NULL;
    }
    strbuf_t sb = STRBUF_INIT;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && strcmp(o->keyword, "dbname") != 0)
            put_kv(&sb, o->keyword, o->val);
    put_kv(&sb, "dbname", dbname);
    PQconninfoFree(opts);
    return sb.data;
}

/* Creates the scratch database and connects to it. Returns 0, or -1 after printing why. */
static int create_scratch(test_run_t *r)
{
    char err[1024], sql[256];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    srand((unsigned)(ts.tv_nsec ^ getpid()));
    snprintf(r->name, sizeof(r->name), "projector_test_%d_%06x", (int)getpid(),
             (unsigned)rand() & 0xffffff);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", r->name);
    pg_err_t e;
    if (pg_exec(r->admin, sql, 0, NULL, PG_SIMPLE, NULL, &e) != 0) {
        r->name[0] = '\0';
        if (strcmp(e.sqlstate, "42501") == 0) /* insufficient_privilege */
            fprintf(stderr,
                    "projector test: the role may not create databases (%s): the cases run in a "
                    "scratch database that projector test creates and drops, which needs the "
                    "CREATEDB privilege (ALTER ROLE ... CREATEDB)\n",
                    e.msg);
        else
            fprintf(stderr, "projector test: creating a scratch database: %s\n", e.msg);
        return -1;
    }
    snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET timezone TO 'UTC'", r->name);
    if (pg_exec(r->admin, sql, 0, NULL, PG_SIMPLE, NULL, &e) != 0) {
        fprintf(stderr, "projector test: scratch database %s: %s\n", r->name, e.msg);
        return -1;
    }
    if (!(r->conninfo = with_dbname(config_str(r->cfg, CFG_PG), r->name, err, sizeof(err))) ||
        !(r->conn = schema_connect(r->conninfo, err, sizeof(err)))) {
        fprintf(stderr, "projector test: scratch database %s: %s\n", r->name, err);
        return -1;
    }
    return 0;
}

/* The primary key columns of table, as a JSON array (new reference; [] when none), or NULL with
 * *e saying why. */
static json_t *primary_key(PGconn *c, const char *table, pg_err_t *e)
{
    strbuf_t name = STRBUF_INIT;
    sqlgen_put_table(&name, table);
    const char *params[] = {name.data};
    PGresult *r = NULL;
    int rc = pg_exec(c,
                     "SELECT coalesce(json_agg(a.attname ORDER BY"
                     " array_position(i.indkey, a.attnum)), '[]')::text FROM pg_index i"
                     " JOIN pg_attribute a ON a.attrelid = i.indrelid"
                     " AND a.attnum = ANY (i.indkey)"
                     " WHERE i.indrelid = $1::regclass AND i.indisprimary",
                     1, params, 0, &r, e);
    strbuf_free(&name);
    json_t *cols = rc == 0 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    if (rc == 0 && !cols)
        snprintf(e->msg, sizeof(e->msg), "the server's answer is not JSON");
    PQclear(r);
    return cols;
}

/* Fills r->keys and r->indices from the mappings (and, for tables only sql actions write, the
 * tables' primary keys). Returns 0, or -1 after printing why. */
static int collect_keys(test_run_t *r)
{
    r->keys = json_object();
    r->indices = json_array();
    for (size_t i = 0; i < mapping_set_count(r->set); i++) {
        const mapping_t *m = mapping_set_get(r->set, i);
        for (size_t a = 0; a < mapping_action_count(m); a++) {
            const mapping_action_info_t *info = mapping_action_info(mapping_action(m, a));
            if (!info->table || json_object_get(r->keys, info->table))
                continue;
            json_t *cols = json_array();
            for (size_t k = 0; k < info->nkeys; k++)
                json_array_append_new(cols, json_string(info->keys[k].name));
            json_object_set_new(r->keys, info->table, cols);
        }
        const char *tables[256];
        size_t n = generation_tables(m, tables, 256);
        for (size_t t = 0; t < n; t++) {
            if (json_object_get(r->keys, tables[t]))
                continue;
            pg_err_t e;
            json_t *cols = primary_key(r->conn, tables[t], &e);
            if (!cols) {
                fprintf(stderr, "projector test: reading the primary key of %s: %s\n", tables[t],
                        e.msg);
                return -1;
            }
            json_object_set_new(r->keys, tables[t], cols);
        }
        for (size_t x = 0; x < mapping_index_count(m); x++)
            json_array_append_new(r->indices, json_string(mapping_index(m, x)));
    }
    return 0;
}

test_run_t *test_run_new(const config_t *cfg, int *exit_code)
{
    test_run_t *r = xcalloc(1, sizeof(*r));
    char err[1024];
    r->cfg = cfg;
    *exit_code = 1;
    if (!(r->admin = schema_connect(config_str(cfg, CFG_PG), err, sizeof(err)))) {
        fprintf(stderr, "projector test: %s\n", err);
        goto fail;
    }
    if (create_scratch(r) != 0)
        goto fail;
    if (schema_migrate(r->conn, config_str(cfg, CFG_VIEWS), err, sizeof(err)) != 0) {
        fprintf(stderr, "projector test: views: %s\n", err);
        *exit_code = 2;
        goto fail;
    }
    if (!(r->set = schema_prepare_mappings(cfg, r->conn))) {
        *exit_code = 2;
        goto fail;
    }
    if (collect_keys(r) != 0)
        goto fail;
    return r;
fail:
    test_run_destroy(r);
    return NULL;
}

int test_run_destroy(test_run_t *r)
{
    if (!r)
        return 0;
    int rc = 0;
    if (r->conn)
        PQfinish(r->conn);
    if (r->name[0]) {
        char sql[160];
        pg_err_t e;
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", r->name);
        if (pg_exec(r->admin, sql, 0, NULL, PG_SIMPLE, NULL, &e) != 0) {
            fprintf(stderr, "projector test: the scratch database %s could not be dropped: %s\n",
                    r->name, e.msg);
            rc = -1;
        }
    }
    if (r->admin)
        PQfinish(r->admin);
    mapping_set_destroy(r->set);
    json_decref(r->keys);
    json_decref(r->indices);
    json_decref(r->docs);
    free(r->conninfo);
    free(r);
    return rc;
}

const json_t *test_run_keys(const test_run_t *r)
{
    return r->keys;
}

const json_t *test_run_indices(const test_run_t *r)
{
    return r->indices;
}

/* Empties what a previous run wrote. */
static int reset(test_run_t *r, char *errstr, size_t errsz)
{
    strbuf_t sql = STRBUF_INIT;
    strbuf_puts(&sql, "TRUNCATE projector.positions, projector.dead_letters,"
                      " projector.table_identity");
    const char *t;
    json_t *v;
    json_object_foreach(r->keys, t, v)
    {
        strbuf_puts(&sql, ", ");
        sqlgen_put_table(&sql, t);
    }
    strbuf_puts(&sql, " RESTART IDENTITY CASCADE");
    pg_err_t e;
    int rc = pg_exec(r->conn, sql.data, 0, NULL, PG_SIMPLE, NULL, &e);
    if (rc != 0)
        snprintf(errstr, errsz, "%s", e.msg);
    strbuf_free(&sql);
    json_decref(r->docs);
    r->docs = json_object();
    for (size_t i = 0; i < json_array_size(r->indices); i++)
        json_object_set_new(r->docs, json_string_value(json_array_get(r->indices, i)),
                            json_object());
    return rc;
}

/* sink_index_fn: keeps the documents as a search engine would hold them. */
static int store_docs(void *ctx, event_doc_t *docs, size_t n, int64_t version, arena_t *arena,
                      char *errstr, size_t errstr_size)
{
    test_run_t *r = ctx;
    (void)version, (void)arena;
    for (size_t i = 0; i < n; i++) {
        json_t *index = json_object_get(r->docs, docs[i].index);
        if (!index)
            json_object_set_new(r->docs, docs[i].index, index = json_object());
        if (!docs[i].body) {
            json_object_del(index, docs[i].id);
            continue;
        }
        json_t *doc = json_loads(docs[i].body, JSON_DECODE_ANY, NULL);
        if (!doc) {
            snprintf(errstr, errstr_size, "document %s of index %s is not JSON", docs[i].id,
                     docs[i].index);
            return -1;
        }
        json_object_set_new(index, docs[i].id, doc);
    }
    return 0;
}

static int consumes(const mapping_t *m, const char *topic)
{
    for (size_t i = 0; i < mapping_topic_count(m); i++)
        if (strcmp(mapping_topic(m, i), topic) == 0)
            return 1;
    return 0;
}

/* event_headers_t over a test event's headers (ctx: a JSON object of strings, may be NULL). */
static int header_at(void *ctx, size_t i, const char **name, const void **value, size_t *len)
{
    size_t k = 0;
    const char *n;
    json_t *v;
    json_object_foreach((json_t *)ctx, n, v)
    {
        if (k++ == i) {
            *name = n;
            *value = json_string_value(v);
            *len = json_string_length(v);
            return 0;
        }
    }
    return -1;
}

/* Fills ev with the events of c that m consumes, decoded; returns how many. */
static size_t build_events(const test_run_t *r, const mapping_t *m, const testcase_t *c,
                           event_t *ev, arena_t *arena)
{
    size_t n = 0, max = (size_t)config_int(r->cfg, CFG_MAX_EVENT_BYTES);
    const char *header = mapping_type_header(m), *suffix = config_str(r->cfg, CFG_DLQ_SUFFIX);
    for (size_t i = 0; i < c->nevents; i++) {
        const testcase_event_t *e = &c->events[i];
        if (!consumes(m, e->topic))
            continue;
        event_t *p = &ev[n++];
        memset(p, 0, sizeof(*p));
        p->ev.topic = e->topic;
        p->ev.partition = e->partition;
        p->ev.offset = e->offset;
        p->ev.timestamp_ms = e->timestamp_ms;
        p->ev.key = e->key;
        p->ev.key_len = e->key_len;
        p->ev.type_header = header ? json_string_value(json_object_get(e->headers, header)) : NULL;
        const char *vh = mapping_version_header(m);
        p->ev.version_header = vh ? json_string_value(json_object_get(e->headers, vh)) : NULL;
        if (mapping_dlq_topic(m)) {
            p->dlq_topic = mapping_dlq_topic(m);
        } else {
            char *t = arena_alloc(arena, strlen(e->topic) + strlen(suffix) + 1);
            sprintf(t, "%s%s", e->topic, suffix);
            p->dlq_topic = t;
        }
        event_headers_t headers = {header_at, e->headers};
        if (event_decode(p, event_decoder_find(mapping_format(m)), &headers, e->value, e->value_len,
                         max, arena) == EVENT_DECODE_RETRY)
            event_kill(p, EVENT_STAGE_DECODE, p->error); /* a test does not wait */
        if (event_resolve(p, m, arena) == EVENT_DECODE_RETRY)
            event_kill(p, EVENT_STAGE_UPCAST, p->error);
    }
    return n;
}

/* The distinct partitions of ev[0, n) into pos (room for n); returns how many. */
static size_t partitions_of(const event_t *ev, size_t n, event_position_t *pos)
{
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < np && (pos[k].partition != ev[i].ev.partition ||
                          strcmp(pos[k].topic, ev[i].ev.topic) != 0))
            k++;
        if (k == np) {
            memset(&pos[np], 0, sizeof(pos[np]));
            pos[np].topic = ev[i].ev.topic;
            pos[np++].partition = ev[i].ev.partition;
        }
        pos[k].next = ev[i].ev.offset + 1;
    }
    return np;
}

static size_t position_index(const event_position_t *pos, size_t np, const event_t *e)
{
    size_t k = 0;
    while (k + 1 < np &&
           (pos[k].partition != e->ev.partition || strcmp(pos[k].topic, e->ev.topic) != 0))
        k++;
    return k;
}

static const char *const sink_rc_names[] = {
    [SINK_OK] = "ok",
    [SINK_STALE] = "a position moved",
    [SINK_RETRY] = "the database failed",
    [SINK_PAUSED] = "the projection is paused",
    [SINK_RETRY_INDEX] = "the indexer failed",
    [SINK_REFUSED] = "a table was re-created",
    [SINK_SCHEMA] = "the views do not fit the mapping",
};

/* Applies ev[0, n) through sink (the row store of st): one batch, or one event per batch. */
static int apply_events(sink_pg_t *sink, const applier_stores_t *st, event_t *ev, size_t n,
                        int single, arena_t *arena, char *errstr, size_t errsz)
{
    event_position_t *pos = xcalloc(n + 1, sizeof(*pos));
    size_t np = partitions_of(ev, n, pos);
    int rc = np ? sink_pg_positions(sink, pos, np, errstr, errsz) : 0;
    sink_rc_t src = SINK_OK;
    char err[1024] = "";
    if (rc == 0 && !single) {
        sink_batch_t b = {ev, n, pos, np, arena};
        src = applier_batch(st, &b, err, sizeof(err));
    } else {
        for (size_t i = 0; rc == 0 && src == SINK_OK && i < n; i++) {
            event_position_t *p = &pos[position_index(pos, np, &ev[i])];
            p->next = ev[i].ev.offset + 1;
            sink_batch_t b = {&ev[i], 1, p, 1, arena};
            src = applier_batch(st, &b, err, sizeof(err));
        }
    }
    if (rc == 0 && src != SINK_OK) {
        snprintf(errstr, errsz, "applying the events: %s%s%s", sink_rc_names[src],
                 err[0] ? ": " : "", err);
        rc = -1;
    }
    free(pos);
    return rc;
}

static int run_mapping(test_run_t *r, const mapping_t *m, const testcase_t *c, int single,
                       char *errstr, size_t errsz)
{
    event_t *ev = xcalloc(c->nevents + 1, sizeof(*ev));
    arena_t *arena = arena_new();
    size_t n = build_events(r, m, c, ev, arena);
    generation_t live;
    generation_live(&live, r->cfg, m);
    sink_pg_t *sink = sink_pg_new(r->conninfo, m, &live);
    sink_docs_t docs = {store_docs, r};
    applier_stores_t st = {sink_pg_rows(sink), mapping_doc_count(m) ? &docs : NULL, NULL, NULL,
                           live.key};
    int rc = apply_events(sink, &st, ev, n, single, arena, errstr, errsz);
    if (rc != 0) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", errstr);
        snprintf(errstr, errsz, "projection %s: %s", mapping_name(m), msg);
    }
    sink_pg_destroy(sink);
    for (size_t i = 0; i < n; i++)
        json_decref(ev[i].ev.doc);
    free(ev);
    arena_destroy(arena);
    return rc;
}

/* error without the mapping file's directory: golden files do not depend on --mappings. */
static json_t *portable_error(const test_run_t *r, const char *error)
{
    for (size_t i = 0; i < mapping_set_count(r->set); i++) {
        const char *file = mapping_file(mapping_set_get(r->set, i));
        const char *base = strrchr(file, '/');
        size_t len = strlen(file);
        if (base && strncmp(error, file, len) == 0 && error[len] == ':') {
            strbuf_t sb = STRBUF_INIT;
            strbuf_printf(&sb, "%s%s", base + 1, error + len);
            json_t *s = json_string(sb.data);
            strbuf_free(&sb);
            return s;
        }
    }
    return json_string(error);
}

static int read_dead(test_run_t *r, const testcase_t *c, json_t *state, char *errstr, size_t errsz)
{
    PGresult *res = NULL;
    pg_err_t e;
    int ok =
        pg_exec(r->conn,
                "SELECT projection, topic, partition, \"offset\", stage, error"
                " FROM projector.dead_letters ORDER BY topic, partition, \"offset\", projection",
                0, NULL, PG_SIMPLE, &res, &e) == 0;
    if (!ok)
        snprintf(errstr, errsz, "reading the dead letters: %s", e.msg);
    json_t *dead = json_array();
    json_object_set_new(state, "dead_letters", dead);
    for (int i = 0; ok && i < PQntuples(res); i++) {
        json_t *d = json_object();
        int line = testcase_line_of(c, PQgetvalue(res, i, 1), atoi(PQgetvalue(res, i, 2)),
                                    strtoll(PQgetvalue(res, i, 3), NULL, 10));
        json_object_set_new(d, "line", json_integer(line));
        json_object_set_new(d, "stage", json_string(PQgetvalue(res, i, 4)));
        json_object_set_new(d, "error", portable_error(r, PQgetvalue(res, i, 5)));
        if (mapping_set_count(r->set) > 1)
            json_object_set_new(d, "projection", json_string(PQgetvalue(res, i, 0)));
        json_array_append_new(dead, d);
    }
    PQclear(res);
    return ok ? 0 : -1;
}

json_t *test_run_case(test_run_t *r, const testcase_t *c, int single, char *errstr,
                      size_t errstr_size)
{
    json_t *state = json_object();
    int rc = reset(r, errstr, errstr_size);
    for (size_t i = 0; rc == 0 && i < mapping_set_count(r->set); i++)
        rc = run_mapping(r, mapping_set_get(r->set, i), c, single, errstr, errstr_size);
    if (rc == 0)
        rc = teststate_read_tables(r->conn, r->keys, state, errstr, errstr_size);
    if (rc == 0)
        json_object_set(state, "documents", r->docs);
    if (rc == 0)
        rc = read_dead(r, c, state, errstr, errstr_size);
    if (rc != 0) {
        json_decref(state);
        return NULL;
    }
    return state;
}
