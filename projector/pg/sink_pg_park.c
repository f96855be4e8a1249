/* Parking (a mapping's "on_dead_letter": "park"): the events that follow a dead-lettered event
 * of the same topic and key are dead-lettered with it (stage "parked"), in order, until it is
 * replayed or discarded; those of a batch are found in the batch and, for keys dead-lettered
 * by earlier batches, in projector.dead_letters (one query in the batch's BEGIN pipeline). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "sink_pg_internal.h"
#include "strbuf.h"

/* Keys (hex) with an unresolved dead letter, for a projection that parks what follows one. */
static const char sql_parked[] =
    "SELECT topic, encode(key, 'hex'), min(\"offset\") FROM projector.dead_letters"
    " WHERE projection = $1 AND replayed_at IS NULL AND key IS NOT NULL"
    " AND encode(key, 'hex') = ANY($2::text[]) GROUP BY 1, 2";

int sink_pg_park_prepare(sink_pg_t *s, char *errstr, size_t errstr_size)
{
    return sink_pg_prepare(s, "parked_keys", sql_parked, errstr, errstr_size);
}

/* Hex of an event's key, in the arena; NULL when it has none. */
static const char *key_hex(const event_t *e, arena_t *arena)
{
    if (!e->ev.key)
        return NULL;
    static const char digits[] = "0123456789abcdef";
    char *hex = arena_alloc(arena, 2 * e->ev.key_len + 1);
    for (size_t i = 0; i < e->ev.key_len; i++) {
        hex[2 * i] = digits[(unsigned char)e->ev.key[i] >> 4];
        hex[2 * i + 1] = digits[(unsigned char)e->ev.key[i] & 15];
    }
    hex[2 * e->ev.key_len] = '\0';
    return hex;
}

static void park(sink_pg_t *s, event_t *e, const char *topic, long long dead_offset)
{
    char why[512];
    snprintf(why, sizeof(why),
             "parked: the event of the same key at %s offset %lld is dead-lettered; it applies "
             "after that one is replayed or discarded",
             topic, dead_offset);
    event_kill(e, EVENT_STAGE_PARKED, arena_strndup(s->err_arena, why, strlen(why)));
}

/* The answer of the parked-keys query: parks the batch's pending events whose (topic, key) has
 * an unresolved dead letter. */
static void parked_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)q;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *topic = PQgetvalue(r, i, 0), *hex = PQgetvalue(r, i, 1);
        long long off = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        for (size_t k = 0; k < s->nev; k++) {
            event_t *e = &s->ev[k];
            const char *h = s->key_hexes[k];
            if (e->state == EVENT_PENDING && h && strcmp(h, hex) == 0 &&
                strcmp(e->ev.topic, topic) == 0)
                park(s, e, topic, off);
        }
    }
}

/* Asks which of the batch's keys already have an unresolved dead letter (parking projections);
 * the keys' hex, computed once here, is what parked_rows() compares the answer with. */
void sink_pg_park_send_query(sink_pg_t *s)
{
    strbuf_t keys = STRBUF_INIT;
    strbuf_puts(&keys, "{");
    s->key_hexes = arena_alloc(s->err_arena, (s->nev + 1) * sizeof(char *));
    for (size_t i = 0; i < s->nev; i++) {
        const char *h = s->ev[i].state == EVENT_PENDING ? key_hex(&s->ev[i], s->err_arena) : NULL;
        s->key_hexes[i] = h;
        if (!h)
            continue;
        if (keys.len > 1)
            strbuf_puts(&keys, ",");
        strbuf_array_elem(&keys, h);
    }
    strbuf_puts(&keys, "}");
    const char *params[] = {s->gen.key, keys.data};
    sink_pg_send(s, "parked_keys", 2, params, NULL, NULL, parked_rows, 0, NULL);
    strbuf_free(&keys);
}

/* With parking: finds pending (applied) events that follow a dead one of the same topic and key
 * in the batch, parks them and returns ERR_AGAIN so the batch is applied again without them. */
err_class_t sink_pg_park_followers(sink_pg_t *s)
{
    hmap_t *dead = NULL;
    err_class_t e = ERR_NONE;
    strbuf_t k = STRBUF_INIT;
    for (size_t i = 0; i < s->nev; i++) {
        event_t *ev = &s->ev[i];
        if (!ev->ev.key || (ev->state != EVENT_DEAD && !dead))
            continue;
        strbuf_reset(&k);
        strbuf_puts(&k, ev->ev.topic);
        strbuf_append(&k, "", 1);
        strbuf_append(&k, ev->ev.key, ev->ev.key_len);
        if (ev->state == EVENT_DEAD) {
            if (!dead)
                dead = hmap_new();
            int created;
            int64_t *off = hmap_put(dead, k.data, k.len, &created);
            if (created)
                *off = ev->ev.offset;
        } else if (ev->state == EVENT_PENDING) {
            int64_t *off = hmap_get(dead, k.data, k.len);
            if (off) {
                park(s, ev, ev->ev.topic, (long long)*off);
                e = ERR_AGAIN;
            }
        }
    }
    strbuf_free(&k);
    hmap_destroy(dead);
    return e;
}
