/* `projector dlq list|show|replay`: inspect dead-lettered events and apply them after a fix.
 *
 * projector.dead_letters is the exact record (the dead-letter topic may hold a duplicate after
 * a crash). A replay applies the event as the current mapping says, in one transaction that
 * also resolves the record, so replaying twice applies it once. */
#include "dlq_cmd.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "decode.h"
#include "generation.h"
#include "log.h"
#include "mapping.h"
#include "schema.h"
#include "sink_es.h"
#include "sink_pg.h"

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

/* Does text match the pattern, where 'D' is a digit and any other character stands for
 * itself? Returns the length matched (all of the pattern), or 0. */
static size_t match_digits(const char *text, const char *pattern)
{
    size_t i = 0;
    for (; pattern[i]; i++)
        if (pattern[i] == 'D' ? !isdigit((unsigned char)text[i]) : text[i] != pattern[i])
            return 0;
    return i;
}

/* Checks an RFC 3339 time: a date, optionally THH:MM[:SS[.fraction]] and Z or +HH:MM /
 * -HH:MM. Returns 1 when it names its offset, 0 when not (a date alone, or a local time), -1 when
 * it is not such a time. */
static int parse_rfc3339(const char *text)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!match_digits(text, "DDDD-DD-DD") || sscanf(text, "%4d-%2d-%2d", &y, &mo, &d) != 3 ||
        mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    const char *p = text + 10;
    if (!*p)
        return 0;
    if ((*p != 'T' && *p != 't' && *p != ' ') || !match_digits(++p, "DD:DD"))
        return -1;
    sscanf(p, "%2d:%2d", &h, &mi);
    p += 5;
    if (match_digits(p, ":DD")) {
        sscanf(p, ":%2d", &sec);
        p += 3;
        if (*p == '.' && isdigit((unsigned char)p[1]))
            for (p++; isdigit((unsigned char)*p); p++)
                ;
    }
    if (h > 23 || mi > 59 || sec > 60)
        return -1;
    if (*p == 'Z' || *p == 'z')
        return p[1] ? -1 : 1;
    if (*p == '+' || *p == '-')
        return match_digits(p + 1, "DD:DD") && !p[6] ? 1 : -1;
    return *p ? -1 : 0;
}

int dlq_cmd_parse_since(const char *text, long long now_s, char *out, size_t out_size, char *errstr,
                        size_t errstr_size)
{
    if (parse_duration(text, now_s, out, out_size) == 0)
        return 0;
    int zoned = parse_rfc3339(text);
    if (zoned >= 0) {
        snprintf(out, out_size, "%s%s", text, zoned ? "" : text[10] ? "Z" : "T00:00:00Z");
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

static PGresult *query(PGconn *c, const char *select, const dlq_cmd_opts_t *o, int all)
{
    char sql[2048], id[24];
    snprintf(sql, sizeof(sql), "%s%s ORDER BY projection, topic, partition, \"offset\"", select,
             filter);
    snprintf(id, sizeof(id), "%lld", o->id);
    const char *params[4] = {o->projection ? o->projection : "", o->since ? o->since : "", id,
                             all ? "true" : "false"};
    PGresult *r = PQexecParams(c, sql, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        query_failed(c, r, o->action);
        PQclear(r);
        return NULL;
    }
    return r;
}

static int list(PGconn *c, const dlq_cmd_opts_t *o)
{
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

static int show(PGconn *c, const dlq_cmd_opts_t *o)
{
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
    event_decode(&ev, event_decoder_find(mapping_format(m)), NULL, value, vlen,
                 (size_t)config_int(cfg, CFG_MAX_EVENT_BYTES), arena);
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

static int discard(PGconn *c, const dlq_cmd_opts_t *o)
{
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

static int replay(const config_t *cfg, PGconn *c, const dlq_cmd_opts_t *o)
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
    sink_pg_t **sinks = calloc(n + 1, sizeof(*sinks));
    sink_es_t **indexers = calloc(n + 1, sizeof(*indexers));
    if (!sinks || !indexers)
        abort();
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

int dlq_cmd_run(const config_t *cfg, const dlq_cmd_opts_t *o)
{
    char err[1024];
    PGconn *c = schema_connect(config_str(cfg, CFG_PG), err, sizeof(err));
    if (!c) {
        fprintf(stderr, "projector dlq: %s\n", err);
        return 1;
    }
    int rc;
    if (strcmp(o->action, "list") == 0)
        rc = list(c, o);
    else if (strcmp(o->action, "show") == 0)
        rc = show(c, o);
    else if (strcmp(o->action, "discard") == 0)
        rc = discard(c, o);
    else
        rc = replay(cfg, c, o);
    PQfinish(c);
    return rc;
}
