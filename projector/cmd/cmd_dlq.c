/* `projector dlq list|show|replay|discard`: inspect dead-lettered events, apply them after a fix.
 *
 * projector.dead_letters is the exact record (the dead-letter topic may hold a duplicate after
 * a crash). A replay applies the event as the current mapping says, in one transaction that
 * also resolves the record, so replaying twice applies it once. */
#include "cmd_dlq.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "decode.h"
#include "generation.h"
#include "log.h"
#include "mapping.h"
#include "rfc3339.h"
#include "schema.h"
#include "service.h"
#include "sink_es.h"
#include "sink_pg.h"
#include "xalloc.h"

typedef struct dlq_action dlq_action_t;

/* The options of `projector dlq`. */
typedef struct dlq_opts {
    const dlq_action_t *action;
    const char *projection; /* only this projection's dead letters, or NULL */
    char since[128];        /* only those dead-lettered at or after this time (RFC 3339, as
                               cmd_dlq_parse_since() gives it), or "" */
    long long id;           /* only this one (0: any) */
    int all;                /* list: include the replayed ones */
} dlq_opts_t;

/* An action of `projector dlq ACTION`. */
struct dlq_action {
    const char *name;
    /* Runs it on connection c (the database of cfg). Returns an exit code. Blocks. */
    int (*run)(const config_t *cfg, PGconn *c, const dlq_opts_t *o);
    const char *help; /* its text in --help, lines separated by '\n' */
};

/* The filters every action shares, as parameters $1..$4 of the queries below. Dead letters of
 * a generation being built ("<projection>#g<N>", the projection's at the switch) only when
 * named. */
static const char filter[] = " WHERE (($1 = '' AND strpos(projection, '#') = 0) OR projection = $1)"
                             " AND ($2 = '' OR created_at >= $2::timestamptz)"
                             " AND ($3 = 0 OR id = $3::bigint)"
                             " AND ($4 OR replayed_at IS NULL)";

/* Seconds per duration unit of --since. */
static const struct {
    char unit;
    long long seconds;
} since_units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};

static int parse_duration(const char *text, long long now_s, char *out, size_t out_size)
{
    char *end;
    long long n = strtoll(text, &end, 10);
    if (!isdigit((unsigned char)text[0]) || end[0] == '\0' || end[1] != '\0' || n > 100000000)
        return -1;
    for (size_t i = 0; i < sizeof(since_units) / sizeof(since_units[0]); i++) {
        if (since_units[i].unit != end[0])
            continue;
        time_t t = (time_t)(now_s - n * since_units[i].seconds);
        struct tm tm;
        if (!gmtime_r(&t, &tm))
            return -1;
        strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return 0;
    }
    return -1;
}

int cmd_dlq_parse_since(const char *text, long long now_s, char *out, size_t out_size, char *errstr,
                        size_t errstr_size)
{
    if (parse_duration(text, now_s, out, out_size) == 0)
        return 0;
    rfc3339_t t;
    if (rfc3339_parse(text, &t) == 0) { /* PostgreSQL reads it: UTC where no offset is given */
        snprintf(out, out_size, "%s%s", text, t.has_offset ? "" : t.has_time ? "Z" : "T00:00:00Z");
        return 0;
    }
    snprintf(errstr, errstr_size,
             "--since %s: expected an RFC 3339 time (2026-11-27, 2026-11-27T10:00Z, "
             "2026-11-27T10:00:00+01:00; UTC unless an offset is given) or a duration back from "
             "now (90s, 30m, 1h, 7d, 2w)",
             text);
    return -1;
}

/* Prints why a query failed: the raw error, or what to do when the control tables are not
 * there yet. */
static void query_failed(PGconn *c, PGresult *r, const char *action)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "42P01") == 0)
        fprintf(stderr,
                "projector dlq %s: the database has no dead-letter table yet"
                " (projector.dead_letters): run 'projector migrate' (or start 'projector run')"
                " first\n",
                action);
    else
        fprintf(stderr, "projector dlq %s: %s", action, PQerrorMessage(c));
}

static PGresult *query(PGconn *c, const char *select, const dlq_opts_t *o, int all)
{
    char sql[2048], id[24];
    snprintf(sql, sizeof(sql), "%s%s ORDER BY projection, topic, partition, \"offset\"", select,
             filter);
    snprintf(id, sizeof(id), "%lld", o->id);
    const char *params[4] = {o->projection ? o->projection : "", o->since, id,
                             all ? "true" : "false"};
    PGresult *r = PQexecParams(c, sql, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        query_failed(c, r, o->action->name);
        PQclear(r);
        return NULL;
    }
    return r;
}

static int list(const config_t *cfg, PGconn *c, const dlq_opts_t *o)
{
    (void)cfg;
    PGresult *r =
        query(c,
              "SELECT id, projection, topic || '/' || partition || '/' || \"offset\","
              " stage, CASE WHEN discarded THEN 'discarded' WHEN replayed_at IS NULL THEN 'dead'"
              " ELSE 'replayed' END,"
              " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
              " left(error, 100) FROM projector.dead_letters",
              o, o->all);
    if (!r)
        return 1;
    printf("%-8s %-14s %-28s %-7s %-10s %-21s %s\n", "ID", "PROJECTION", "TOPIC/PARTITION/OFFSET",
           "STAGE", "STATUS", "DEAD-LETTERED AT", "ERROR");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-8s %-14s %-28s %-7s %-10s %-21s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
               PQgetvalue(r, i, 6));
    printf("(%d dead letter(s)%s)\n", PQntuples(r), o->all ? "" : " not replayed");
    PQclear(r);
    return 0;
}

/* Prints bytes as text, escaping what is not printable ASCII or UTF-8 continuation. */
static void print_bytes(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\')
            fputs("\\\\", stdout);
        else if (p[i] >= 0x20 && p[i] != 0x7f)
            putchar(p[i]);
        else
            printf("\\x%02x", p[i]);
    }
    putchar('\n');
}

static int show(const config_t *cfg, PGconn *c, const dlq_opts_t *o)
{
    (void)cfg;
    if (!o->id) {
        fprintf(stderr,
                "projector dlq show: give the dead letter's --id (see 'projector dlq list')\n");
        return 2;
    }
    PGresult *r = query(c,
                        "SELECT id, projection, topic, partition, \"offset\", stage, error,"
                        " dlq_topic, created_at, replayed_at, type_header, key, value"
                        " FROM projector.dead_letters",
                        o, 1);
    if (!r)
        return 1;
    if (PQntuples(r) == 0) {
        fprintf(stderr, "projector dlq show: no dead letter %lld\n", o->id);
        PQclear(r);
        return 1;
    }
    static const char *const names[] = {"id",         "projection",  "topic",      "partition",
                                        "offset",     "stage",       "error",      "dlq_topic",
                                        "created_at", "replayed_at", "type_header"};
    for (int k = 0; k < 11; k++)
        printf("%-12s %s\n", names[k], PQgetisnull(r, 0, k) ? "-" : PQgetvalue(r, 0, k));
    for (int k = 11; k < 13; k++) {
        printf("%-12s ", k == 11 ? "key" : "value");
        size_t n = 0;
        unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, k), &n);
        if (PQgetisnull(r, 0, k) || !bytes)
            printf("-\n");
        else
            print_bytes(bytes, n);
        PQfreemem(bytes);
    }
    PQclear(r);
    return 0;
}

static const mapping_t *find_mapping(const mapping_set_t *set, const char *name)
{
    for (size_t i = 0; i < mapping_set_count(set); i++)
        if (strcmp(mapping_name(mapping_set_get(set, i)), name) == 0)
            return mapping_set_get(set, i);
    return NULL;
}

/* Opens the sink of projection m, with its indexer when m writes documents. Returns 0, or -1
 * after printing why. */
static int open_sink(const config_t *cfg, const mapping_t *m, sink_pg_t **sink, sink_es_t **es)
{
    if (mapping_doc_count(m)) {
        char err[512];
        if (!(*es = sink_es_new(cfg, NULL, 0, err, sizeof(err)))) {
            printf("projection %s writes documents: %s\n", mapping_name(m), err);
            return -1;
        }
    }
    generation_t live;
    generation_live(&live, cfg, m);
    *sink = sink_pg_new(config_str(cfg, CFG_PG), m, &live);
    return 0;
}

/* Replays row i of r (columns as in replay()'s query) with sink, and es for its documents (NULL:
 * none); returns 1 when it failed again or could not be applied, else 0. */
static int replay_one(const config_t *cfg, const mapping_t *m, PGresult *r, int i, sink_pg_t *sink,
                      sink_es_t *es, arena_t *arena)
{
    size_t klen = 0, vlen = 0;
    unsigned char *key = PQgetisnull(r, i, 5)
                             ? NULL
                             : PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 5), &klen);
    unsigned char *value = PQgetisnull(r, i, 6)
                               ? NULL
                               : PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 6), &vlen);
    event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.ev.topic = PQgetvalue(r, i, 2);
    ev.ev.partition = atoi(PQgetvalue(r, i, 3));
    ev.ev.offset = strtoll(PQgetvalue(r, i, 4), NULL, 10);
    ev.ev.timestamp_ms = PQgetisnull(r, i, 8) ? -1 : strtoll(PQgetvalue(r, i, 8), NULL, 10);
    ev.ev.key = (const char *)key;
    ev.ev.key_len = klen;
    ev.ev.type_header = PQgetisnull(r, i, 7) ? NULL : PQgetvalue(r, i, 7);
    /* the headers are not stored: only the type header's value (ce_* attributes are lost) */
    if (event_decode(&ev, event_decoder_find(mapping_format(m)), NULL, value, vlen,
                     (size_t)config_int(cfg, CFG_MAX_EVENT_BYTES), arena) == EVENT_DECODE_RETRY)
        event_kill(&ev, EVENT_STAGE_DECODE, ev.error); /* the registry unreachable: stays dead */
    char err[1024];
    sink_docs_t docs = {sink_es_write, es};
    sink_rc_t rc = sink_pg_replay(sink, strtoll(PQgetvalue(r, i, 0), NULL, 10), &ev, arena,
                                  es ? &docs : NULL, err, sizeof(err));
    const char *id = PQgetvalue(r, i, 0);
    int failed = 0;
    if (rc == SINK_RETRY || rc == SINK_RETRY_INDEX) {
        printf("id %s: not replayed, the %s failed: %s\n", id,
               rc == SINK_RETRY ? "database" : "search engine", err);
        failed = 1;
    } else if (rc == SINK_STALE) {
        printf("id %s: already replayed\n", id);
    } else if (ev.state == EVENT_DEAD) {
        printf("id %s: fails again (%s): %s\n", id, event_stage_name(ev.stage), ev.error);
        failed = 1;
    } else {
        printf("id %s: replayed (%s/%s/%s)\n", id, ev.ev.topic, PQgetvalue(r, i, 3),
               PQgetvalue(r, i, 4));
    }
    json_decref(ev.ev.doc);
    PQfreemem(key);
    PQfreemem(value);
    arena_reset(arena);
    return failed;
}

/* Is dead letter id still unresolved? */
static int still_dead(PGconn *c, const char *id)
{
    const char *params[] = {id};
    PGresult *r = PQexecParams(c,
                               "SELECT 1 FROM projector.dead_letters WHERE id = $1::bigint"
                               " AND replayed_at IS NULL",
                               1, NULL, params, NULL, NULL, 0);
    int dead = PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) > 0;
    PQclear(r);
    return dead;
}

static int discard(const config_t *cfg, PGconn *c, const dlq_opts_t *o)
{
    (void)cfg;
    if (!o->id) {
        fprintf(stderr, "projector dlq discard: give the dead letter's --id\n");
        return 2;
    }
    char id[24];
    snprintf(id, sizeof(id), "%lld", o->id);
    const char *params[] = {id};
    PGresult *r = PQexecParams(c,
                               "UPDATE projector.dead_letters SET replayed_at = now(),"
                               " discarded = true WHERE id = $1::bigint AND replayed_at IS NULL",
                               1, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    int n = ok ? atoi(PQcmdTuples(r)) : 0;
    if (!ok)
        query_failed(c, r, "discard");
    else if (!n)
        fprintf(stderr, "projector dlq discard: no unresolved dead letter %s\n", id);
    else
        printf("id %s: discarded; events parked behind it apply at the next 'dlq replay'\n", id);
    PQclear(r);
    return ok && n ? 0 : 1;
}

static int replay(const config_t *cfg, PGconn *c, const dlq_opts_t *o)
{
    mapping_set_t *set = schema_prepare_mappings(cfg, c);
    if (!set)
        return 2;
    PGresult *r = query(c,
                        "SELECT id, projection, topic, partition, \"offset\", key, value,"
                        " type_header, event_timestamp_ms, stage, (SELECT min(h.id) FROM"
                        " projector.dead_letters h WHERE h.projection = d.projection AND"
                        " h.topic = d.topic AND h.key = d.key AND h.\"offset\" < d.\"offset\""
                        " AND h.replayed_at IS NULL) FROM projector.dead_letters d",
                        o, 0);
    if (!r) {
        mapping_set_destroy(set);
        return 1;
    }
    size_t n = mapping_set_count(set);
    sink_pg_t **sinks = xcalloc(n + 1, sizeof(*sinks));
    sink_es_t **indexers = xcalloc(n + 1, sizeof(*indexers));
    arena_t *arena = arena_new();
    int failed = 0, done = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const mapping_t *m = find_mapping(set, PQgetvalue(r, i, 1));
        if (!m) {
            printf("id %s: projection %s is not in %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   config_str(cfg, CFG_MAPPINGS));
            failed++;
            continue;
        }
        size_t k = 0;
        while (mapping_set_get(set, k) != m)
            k++;
        if (!sinks[k] && open_sink(cfg, m, &sinks[k], &indexers[k]) != 0) {
            printf("id %s: not replayed\n", PQgetvalue(r, i, 0));
            failed++;
            continue;
        }
        /* A parked event waits for the one it is parked behind (replayed just before it, in
         * offset order, when it is replayed in this run). */
        const char *head = PQgetvalue(r, i, 10);
        if (strcmp(PQgetvalue(r, i, 9), "parked") == 0 && !PQgetisnull(r, i, 10) &&
            still_dead(c, head)) {
            printf("id %s: still parked behind id %s\n", PQgetvalue(r, i, 0), head);
            failed++;
            continue;
        }
        int f = replay_one(cfg, m, r, i, sinks[k], indexers[k], arena);
        failed += f;
        done += !f;
    }
    printf("%d replayed, %d still dead-lettered\n", done, failed);
    for (size_t k = 0; k < n; k++) {
        sink_pg_destroy(sinks[k]);
        sink_es_destroy(indexers[k]);
    }
    free(sinks);
    free(indexers);
    arena_destroy(arena);
    PQclear(r);
    mapping_set_destroy(set);
    return failed ? 1 : 0;
}

/* The actions, each with its text in --help. */
static const dlq_action_t actions[] = {
    {"list", list, "dead letters not replayed yet (--all: every one)"},
    {"show", show, "one dead letter with its key and value (--id N)"},
    {"replay", replay,
     "apply the dead letters again with the current mappings, each once;\n"
     "one that fails again stays, with its new error (exit code 1)"},
    {"discard", discard,
     "resolve one (--id N) without applying it; what was parked behind it\n"
     "applies at the next replay"},
};

/* cmd_args_spec_t.positional: the first argument naming an action is the action. */
static int take_action(void *opts, const char *arg, char *errstr, size_t errstr_size)
{
    dlq_opts_t *o = opts;
    (void)errstr, (void)errstr_size;
    if (o->action)
        return 0; /* a second one is an unexpected argument */
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(arg, actions[i].name) == 0) {
            o->action = &actions[i];
            return 1;
        }
    return 0;
}

/* --since TIME into o->since, as PostgreSQL reads it. Returns 0 or -1 with errstr. */
static int set_since(void *opts, const char *value, char *errstr, size_t errstr_size)
{
    dlq_opts_t *o = opts;
    return cmd_dlq_parse_since(value, (long long)time(NULL), o->since, sizeof(o->since), errstr,
                               errstr_size);
}

/* --id N: a dead letter's id, from 1. Returns 0 or -1 with errstr. */
static int set_id(void *opts, const char *value, char *errstr, size_t errstr_size)
{
    dlq_opts_t *o = opts;
    char *end;
    o->id = strtoll(value, &end, 10);
    if (*end || o->id <= 0) {
        snprintf(errstr, errstr_size, "--id takes a dead letter's id (a number)");
        return -1;
    }
    return 0;
}

/* The flags of every action (--projection and --id are filters, --all is list's). */
static const cmd_args_flag_t flags[] = {
    {"--projection", "P", offsetof(dlq_opts_t, projection), NULL, NULL},
    {"--since", "TIME", 0, set_since,
     "an RFC 3339 time (2026-11-27T10:00Z; UTC unless an offset is\n"
     "given) or a duration back from now (90s, 30m, 1h, 7d, 2w)"},
    {"--id", "N", 0, set_id, NULL},
    {"--all", NULL, offsetof(dlq_opts_t, all), NULL, NULL},
};

/* cmd_args_spec_t.check: an action is named (unless for --help). */
static int check_action(const void *opts, int help, char *errstr, size_t errstr_size)
{
    const dlq_opts_t *o = opts;
    if (o->action || help)
        return 0;
    snprintf(errstr, errstr_size, "say list, show, replay or discard (see 'projector dlq --help')");
    return -1;
}

/* cmd_args_spec_t.usage: the usage line, the summary, the actions and the flags. */
static void usage(FILE *out, const cmd_args_command_t *c)
{
    fprintf(out,
            "usage: projector dlq list|show|replay|discard [--projection P] [--since TIME] "
            "[--id N] [--all] [options]\n\n%s.\n\n",
            c->summary);
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        cmd_args_help_row(out, 9, actions[i].name, actions[i].help);
    fprintf(out, "  --projection P, --id N: filters\n");
    cmd_args_help_flags(out, 15, flags, sizeof(flags) / sizeof(flags[0]));
    fputc('\n', out);
}

/* cmd_args_spec_t.execute: runs the action against the database of cfg. */
static int execute(const config_t *cfg, const void *opts)
{
    const dlq_opts_t *o = opts;
    char err[1024];
    PGconn *c = schema_connect(config_str(cfg, CFG_PG), err, sizeof(err));
    if (!c) {
        fprintf(stderr, "projector dlq: %s\n", err);
        return EXIT_FAILURE_RUNTIME;
    }
    int rc = o->action->run(cfg, c, o);
    PQfinish(c);
    return rc;
}

static const cmd_args_spec_t spec = {
    .flags = flags,
    .nflags = sizeof(flags) / sizeof(flags[0]),
    .positional = take_action,
    .check = check_action,
    .usage = usage,
    .execute = execute,
};

int cmd_dlq_main(const cmd_args_command_t *c, int argc, char **argv)
{
    dlq_opts_t o;
    memset(&o, 0, sizeof(o));
    return cmd_args_run(c, &spec, &o, argc, argv);
}
