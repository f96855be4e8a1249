/* What keeps a projection from going on wrongly or silently: the identity of its tables, and
 * the stalled state its worker records while it cannot apply a batch.
 *
 * Table identity: positions say which events are in the tables; they are only true of the
 * tables they were written with. Each batch reads, in the pipeline of its BEGIN, the OID each
 * of the mapping's tables resolves to and the OID recorded for it (projector.table_identity).
 * A table whose OID changed (dropped and created again, e.g. by `projector migrate`) while the
 * projection has applied events (a stored position) would silently miss every row written
 * before: the batch is refused until a rebuild. A rebuild in place resets the positions (the
 * new OIDs are then recorded); a blue/green switch moves tables and forgets their identity. A
 * table without a recorded OID (a new projection, an upgrade) is recorded by the batch.
 *
 * The statements of sink_pg_notes.c are prepared here too (with the connection). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_pg_internal.h"
#include "strbuf.h"
#include "xalloc.h"

static const char sql_tables_check[] =
    "SELECT t, i.oid, to_regclass(quote_ident(t))::oid, EXISTS (SELECT 1 FROM"
    " projector.positions p WHERE p.projection = $1 AND p.next_offset IS NOT NULL)"
    " FROM unnest($2::text[]) AS t LEFT JOIN projector.table_identity i"
    " ON i.projection = $1 AND i.table_name = t ORDER BY 1";
static const char sql_tables_record[] =
    "INSERT INTO projector.table_identity AS i (projection, table_name, oid)"
    " SELECT $1, t, to_regclass(quote_ident(t))::oid FROM unnest($2::text[]) AS t"
    " WHERE to_regclass(quote_ident(t)) IS NOT NULL"
    " ON CONFLICT (projection, table_name) DO UPDATE SET oid = EXCLUDED.oid, recorded_at = now()"
    " WHERE i.oid <> EXCLUDED.oid AND NOT EXISTS (SELECT 1 FROM projector.positions p"
    " WHERE p.projection = $1 AND p.next_offset IS NOT NULL)";
static const char sql_stall_note[] =
    "INSERT INTO projector.stalls (projection, instance, since, reason, expires_at, cause)"
    " VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), $4,"
    " now() + $5::bigint * interval '1 millisecond', $6) ON CONFLICT (projection, instance)"
    " DO UPDATE SET since = EXCLUDED.since, reason = EXCLUDED.reason, updated_at = now(),"
    " expires_at = EXCLUDED.expires_at, cause = EXCLUDED.cause";
static const char sql_stall_clear[] =
    "DELETE FROM projector.stalls WHERE projection = $1 AND instance = $2";
static const char sql_instance_note[] =
    "INSERT INTO projector.instances (projection, instance, partitions, expires_at)"
    " VALUES ($1, $2, $3, now() + $4::bigint * interval '1 millisecond')"
    " ON CONFLICT (projection, instance) DO UPDATE SET partitions = EXCLUDED.partitions,"
    " seen_at = now(), expires_at = EXCLUDED.expires_at";
/* The offsets an in-place rebuild of the projection replays up to (the topics' high watermarks
 * at its request): the latest rebuild, when it is in place. */
static const char sql_replay_targets[] =
    "SELECT rp.topic, rp.partition, rp.target_offset FROM projector.rebuild_partitions rp"
    " JOIN projector.rebuilds r ON r.id = rp.rebuild_id WHERE r.id = (SELECT max(id) FROM"
    " projector.rebuilds WHERE projection = $1) AND r.mode = 'in-place'";
static const char sql_instance_clear[] =
    "DELETE FROM projector.instances WHERE projection = $1 AND instance = $2";

int sink_pg_guard_prepare(sink_pg_t *s, char *errstr, size_t errstr_size)
{
    if (!s->tables) {
        const char *names[64];
        size_t n = generation_tables(s->m, names, 64);
        strbuf_t a = STRBUF_INIT;
        strbuf_puts(&a, "{");
        for (size_t i = 0; i < n; i++) {
            if (i)
                strbuf_puts(&a, ",");
            strbuf_array_elem(&a, names[i]);
        }
        strbuf_puts(&a, "}");
        s->tables = a.data; /* owned by s */
    }
    return sink_pg_prepare(s, "tables_check", sql_tables_check, errstr, errstr_size) ||
                   sink_pg_prepare(s, "tables_record", sql_tables_record, errstr, errstr_size) ||
                   sink_pg_prepare(s, "stall_note", sql_stall_note, errstr, errstr_size) ||
                   sink_pg_prepare(s, "stall_clear", sql_stall_clear, errstr, errstr_size) ||
                   sink_pg_prepare(s, "instance_note", sql_instance_note, errstr, errstr_size) ||
                   sink_pg_prepare(s, "instance_clear", sql_instance_clear, errstr, errstr_size) ||
                   sink_pg_prepare(s, "replay_targets", sql_replay_targets, errstr, errstr_size)
               ? -1
               : 0;
}

/* The answer of the identity check: a refusal into s->tables_moved, or tables to record. */
static void tables_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)q;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 2))
            continue; /* missing: its statements fail (the database's error) */
        int applied = strcmp(PQgetvalue(r, i, 3), "t") == 0;
        if (PQgetisnull(r, i, 1) || !applied) {
            s->tables_unrecorded |=
                PQgetisnull(r, i, 1) || strcmp(PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)) != 0;
            continue;
        }
        if (strcmp(PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)) == 0 || s->tables_moved[0])
            continue;
        snprintf(s->tables_moved, sizeof(s->tables_moved),
                 "table %s was re-created since events were applied to it (its positions were "
                 "written with another table of that name); rebuild the projection (projector "
                 "rebuild %s)",
                 PQgetvalue(r, i, 0), mapping_name(s->m));
    }
}

void sink_pg_tables_send(sink_pg_t *s)
{
    const char *params[] = {s->gen.key, s->tables};
    s->tables_moved[0] = '\0';
    s->tables_unrecorded = 0;
    sink_pg_send(s, "tables_check", 2, params, NULL, NULL, tables_rows, 0, NULL);
}

err_class_t sink_pg_tables_after(sink_pg_t *s)
{
    if (s->tables_moved[0]) {
        snprintf(s->errmsg, sizeof(s->errmsg), "%s", s->tables_moved);
        return ERR_MOVED;
    }
    if (!s->tables_unrecorded)
        return ERR_NONE;
    const char *params[] = {s->gen.key, s->tables};
    sink_pg_send(s, "tables_record", 2, params, NULL, NULL, NULL, 0, NULL);
    return sink_pg_sync(s);
}
