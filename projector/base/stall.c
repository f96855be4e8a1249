/* A projection's stalled state, as readers see it: this process's worker (its statistics) or
 * any instance's, through projector.stalls (written by the stalled workers, sink_pg_guard.c). */
#include "stall.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void stall_instance(char *out, size_t outsz)
{
    char host[128] = "";
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "localhost");
    snprintf(out, outsz, "%s:%ld", host, (long)getpid());
}

static void format_ms(char *out, size_t outsz, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[32];
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outsz, "%s.%03dZ", day, (int)(ms % 1000));
}

int stall_find(PGconn *c, const char *projection, const stats_t *local, stall_t *out)
{
    int64_t since_ms;
    if (local && stats_stalled(local, &since_ms, &out->cause, out->reason, sizeof(out->reason))) {
        format_ms(out->since, sizeof(out->since), since_ms);
        stall_instance(out->instance, sizeof(out->instance));
        return 1;
    }
    if (!c)
        return 0;
    const char *params[] = {projection};
    PGresult *r = PQexecParams(
        c,
        "SELECT to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), reason,"
        " instance, cause FROM projector.stalls WHERE projection = $1 AND expires_at > now()"
        " ORDER BY since LIMIT 1",
        1, NULL, params, NULL, NULL, 0);
    int found = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (found) {
        snprintf(out->since, sizeof(out->since), "%s", PQgetvalue(r, 0, 0));
        snprintf(out->reason, sizeof(out->reason), "%s", PQgetvalue(r, 0, 1));
        snprintf(out->instance, sizeof(out->instance), "%s", PQgetvalue(r, 0, 2));
        out->cause = stats_stall_parse(PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    return found;
}

json_t *stall_json(const stall_t *st)
{
    if (!st)
        return json_null();
    return json_pack("{s:s,s:s,s:s,s:s}", "cause", stats_stall_name(st->cause), "since", st->since,
                     "reason", st->reason, "instance", st->instance);
}
