/* A rebuild's state and progress, read from projector.rebuilds and the positions.
 *
 * Progress counts offsets: per partition, how far the replaying generation's stored position
 * went from the log start at the request towards the high watermark at the request. The
 * replaying generation is the build one (<projection>#g<N>) for a blue/green rebuild until the
 * switch, and the live one for an in-place rebuild. */
#include "rebuild_status.h"

#include <stdlib.h>
#include <string.h>

#include "pg_exec.h"
#include "xalloc.h"

static const char sql_by_id[] =
    "SELECT id, projection, mode, state, generation, old_generation, keep_old,"
    " extract(epoch FROM now() - coalesce(started_at, requested_at)), coalesce(error, '')"
    " FROM projector.rebuilds WHERE id = $1";
static const char sql_latest[] =
    "SELECT id, projection, mode, state, generation, old_generation, keep_old,"
    " extract(epoch FROM now() - coalesce(started_at, requested_at)), coalesce(error, '')"
    " FROM projector.rebuilds WHERE projection = $1"
    " ORDER BY state IN " REBUILD_ACTIVE_SQL " DESC, id DESC LIMIT 1";
static const char sql_parts[] =
    "SELECT rp.topic, rp.partition, rp.start_offset, rp.target_offset, p.next_offset"
    " FROM projector.rebuild_partitions rp LEFT JOIN projector.positions p"
    " ON p.projection = $2 AND p.topic = rp.topic AND p.partition = rp.partition"
    " WHERE rp.rebuild_id = $1 ORDER BY 1, 2";

void rebuild_status_free(rebuild_status_t *s)
{
    free(s->parts);
    s->parts = NULL;
    s->nparts = 0;
}

/* Where the replay of s is stored: the build generation's key before the switch, else the live
 * positions (in place; and blue/green once switched, when the build rows became the live ones). */
static void replay_key(const rebuild_status_t *s, char *key, size_t keysz)
{
    int building = strcmp(s->mode, "blue-green") == 0 &&
                   (s->state == REBUILD_REQUESTED || s->state == REBUILD_BUILDING);
    if (building)
        snprintf(key, keysz, "%s#g%d", s->projection, s->generation);
    else
        snprintf(key, keysz, "%s", s->projection);
}

static int read_parts(PGconn *c, rd_kafka_t *rk, rebuild_status_t *s, char *errstr, size_t errsz)
{
    char id[24], key[192];
    snprintf(id, sizeof(id), "%lld", s->id);
    replay_key(s, key, sizeof(key));
    const char *params[] = {id, key};
    PGresult *r = NULL;
    if (pg_exec(c, sql_parts, 2, params, 0, &r, NULL) != 0) {
        snprintf(errstr, errsz, "reading the rebuild's partitions: %s", PQerrorMessage(c));
        return -1;
    }
    s->nparts = (size_t)PQntuples(r);
    s->parts = xcalloc(s->nparts + 1, sizeof(*s->parts));
    int switched = strcmp(s->mode, "blue-green") == 0 &&
                   (s->state == REBUILD_SWITCHING || s->state == REBUILD_DONE);
    s->caught_up = 1;
    for (size_t i = 0; i < s->nparts; i++) {
        rebuild_part_t *p = &s->parts[i];
        snprintf(p->topic, sizeof(p->topic), "%s", PQgetvalue(r, (int)i, 0));
        p->partition = atoi(PQgetvalue(r, (int)i, 1));
        p->start = strtoll(PQgetvalue(r, (int)i, 2), NULL, 10);
        p->target = strtoll(PQgetvalue(r, (int)i, 3), NULL, 10);
        p->next = PQgetisnull(r, (int)i, 4) ? -1 : strtoll(PQgetvalue(r, (int)i, 4), NULL, 10);
        long long at = p->next < 0 ? p->start : p->next;
        if (switched && at < p->target)
            at = p->target; /* switched: what the build replayed is live now */
        s->total += p->target - p->start;
        s->replayed += at <= p->start ? 0 : (at > p->target ? p->target : at) - p->start;
        s->caught_up &= at >= p->target;
        int64_t lo, hi;
        p->lag = -1;
        if (rk && !rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &lo, &hi, 1000))
            p->lag = hi > (p->next < 0 ? lo : p->next) ? hi - (p->next < 0 ? lo : p->next) : 0;
    }
    PQclear(r);
    return 0;
}

int rebuild_status_read(PGconn *c, rd_kafka_t *rk, long long id, const char *projection,
                        rebuild_status_t *out, char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof(*out));
    char idtext[24];
    snprintf(idtext, sizeof(idtext), "%lld", id);
    const char *params[] = {id > 0 ? idtext : projection};
    PGresult *r = NULL;
    if (pg_exec(c, id > 0 ? sql_by_id : sql_latest, 1, params, 0, &r, NULL) != 0) {
        snprintf(errstr, errstr_size, "reading projector.rebuilds: %s", PQerrorMessage(c));
        errstr[strcspn(errstr, "\n")] = '\0';
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    out->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    snprintf(out->projection, sizeof(out->projection), "%s", PQgetvalue(r, 0, 1));
    snprintf(out->mode, sizeof(out->mode), "%s", PQgetvalue(r, 0, 2));
    out->state = rebuild_state_parse(PQgetvalue(r, 0, 3));
    out->generation = atoi(PQgetvalue(r, 0, 4));
    out->old_generation = atoi(PQgetvalue(r, 0, 5));
    out->keep_old = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
    out->seconds = strtod(PQgetvalue(r, 0, 7), NULL);
    snprintf(out->error, sizeof(out->error), "%s", PQgetvalue(r, 0, 8));
    PQclear(r);
    if (read_parts(c, rk, out, errstr, errstr_size) != 0) {
        rebuild_status_free(out);
        return -1;
    }
    return 1;
}

int rebuild_status_active(const rebuild_status_t *s)
{
    if (rebuild_state_active(s->state))
        return 1;
    return strcmp(s->mode, "in-place") == 0 && s->state == REBUILD_DONE && !s->caught_up;
}

/* Seconds left at rate, or -1 when unknown. */
static double seconds_left(const rebuild_status_t *s, double rate)
{
    return rate > 0 ? (double)(s->total - s->replayed) / rate : -1;
}

json_t *rebuild_status_json(const rebuild_status_t *s, double rate)
{
    json_t *parts = json_array();
    for (size_t i = 0; i < s->nparts; i++) {
        const rebuild_part_t *p = &s->parts[i];
        json_array_append_new(parts,
                              json_pack("{s:s,s:i,s:I,s:I,s:o,s:o}", "topic", p->topic, "partition",
                                        p->partition, "start_offset", (json_int_t)p->start,
                                        "target_offset", (json_int_t)p->target, "next_offset",
                                        p->next < 0 ? json_null() : json_integer(p->next), "lag",
                                        p->lag < 0 ? json_null() : json_integer(p->lag)));
    }
    double left = seconds_left(s, rate);
    return json_pack("{s:I,s:s,s:s,s:i,s:i,s:b,s:b,s:I,s:I,s:o,s:o,s:f,s:o,s:o}", "id",
                     (json_int_t)s->id, "mode", s->mode, "state", rebuild_state_name(s->state),
                     "generation", s->generation, "old_generation", s->old_generation, "keep_old",
                     s->keep_old, "active", rebuild_status_active(s), "events_replayed",
                     (json_int_t)s->replayed, "events_total", (json_int_t)s->total, "events_per_s",
                     rate < 0 ? json_null() : json_real(rate), "seconds_left",
                     left < 0 ? json_null() : json_real(left), "seconds", s->seconds, "error",
                     s->error[0] ? json_string(s->error) : json_null(), "partitions", parts);
}

/* The state as people read it: an in-place rebuild is "done" in projector.rebuilds as soon as
 * its tables are truncated, while the instances are still replaying. */
static const char *shown_state(const rebuild_status_t *s)
{
    if (strcmp(s->mode, "in-place") == 0 && s->state == REBUILD_DONE && !s->caught_up)
        return "replaying";
    return rebuild_state_name(s->state);
}

/* ", 1200 events/s, about 40 s left" while it moves; ", waiting for an instance" while nothing
 * has moved yet; the average rate once it is over. */
static void print_pace(FILE *out, const rebuild_status_t *s, double rate)
{
    double left = seconds_left(s, rate);
    if (!rebuild_status_active(s)) {
        if (rate > 0)
            fprintf(out, ", %.0f events/s", rate);
    } else if (rate > 0 && left >= 0) {
        fprintf(out, ", %.0f events/s, about %.0f s left", rate, left);
    } else if (s->state == REBUILD_REQUESTED || s->replayed == 0) {
        fputs(", waiting for an instance", out);
    } else {
        fputs(", no progress yet", out);
    }
}

void rebuild_status_print_line(FILE *out, const rebuild_status_t *s, double rate, int bar)
{
    int pct = s->total ? (int)(100 * s->replayed / s->total) : 100;
    fprintf(out, "rebuild %s %s generation %d %s", s->projection, s->mode, s->generation,
            shown_state(s));
    if (bar) {
        char b[31];
        memset(b, '#', (size_t)(pct * 30 / 100));
        memset(b + pct * 30 / 100, '.', (size_t)(30 - pct * 30 / 100));
        b[30] = '\0';
        fprintf(out, " [%s] %3d%% %lld/%lld events", b, pct, s->replayed, s->total);
        print_pace(out, s, rate);
        fputs("  ", out); /* covers what a longer line before left on the terminal */
        return;
    }
    fprintf(out, ": %lld/%lld events (%d%%)", s->replayed, s->total, pct);
    print_pace(out, s, rate);
    long long worst = -1;
    for (size_t i = 0; rebuild_status_active(s) && i < s->nparts; i++) /* over: lags are gone */
        worst = s->parts[i].lag > worst ? s->parts[i].lag : worst;
    if (worst >= 0)
        fprintf(out, ", lag at most %lld", worst);
    if (s->error[0])
        fprintf(out, " (%s)", s->error);
    fputc('\n', out);
}

void rebuild_status_print_parts(FILE *out, const rebuild_status_t *s)
{
    for (size_t i = 0; i < s->nparts; i++) {
        const rebuild_part_t *p = &s->parts[i];
        fprintf(out, "    %s/%d: next %lld of %lld (started at %lld), lag ", p->topic, p->partition,
                p->next < 0 ? p->start : p->next, p->target, p->start);
        if (p->lag < 0)
            fprintf(out, "unknown\n");
        else
            fprintf(out, "%lld\n", p->lag);
    }
}
