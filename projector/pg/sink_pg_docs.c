/* A batch's search documents: built from its events or read from the rows its writes left, and
 * handed to the document store inside the batch's transaction, before COMMIT.
 *
 * Why inside: a batch's position commits only once both stores have the batch, so after any
 * crash the batch is replayed into both. Every attempt takes a new document version from the
 * sequence projector.document_versions after the batch's writes, while it holds their row locks
 * (FOR SHARE on the rows it reads): a later writer of the same row waits for this commit and
 * takes a higher version. So the search engine's external versioning orders the documents as
 * PostgreSQL ordered the rows, a replay (crash, rebuild) always takes effect, and a stale write
 * is refused with 409 and counted as written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "sink_pg_internal.h"
#include "sqlgen.h"
#include "strbuf.h"
#include "xalloc.h"

static const char sql_doc_version[] = "SELECT nextval('projector.document_versions')";

int sink_pg_docs_prepare(sink_pg_t *s, char *errstr, size_t errstr_size)
{
    if (!mapping_doc_count(s->m))
        return 0;
    int rc = sink_pg_prepare(s, "doc_version", sql_doc_version, errstr, errstr_size);
    for (size_t i = 0; rc == 0 && i < mapping_doc_count(s->m); i++) {
        const mapping_doc_info_t *d = mapping_doc_info(s->m, i);
        if (!d->table || d->kind != MAPPING_DOC_INDEX)
            continue;
        char name[32], *sql = sqlgen_doc_rows(d);
        snprintf(name, sizeof(name), "d%d", d->id);
        rc = sink_pg_prepare(s, name, sql, errstr, errstr_size);
        if (rc != 0) {
            char msg[1024];
            snprintf(msg, sizeof(msg), "%s", errstr);
            snprintf(errstr, errstr_size, "%s: the document cannot be read from %s: %s", d->where,
                     d->table, msg);
        }
        free(sql);
    }
    return rc;
}

void sink_pg_docs_free(sink_pg_t *s)
{
    arena_destroy(s->doc_arena);
    s->doc_arena = NULL;
}

void sink_pg_docs_eval(sink_pg_t *s, event_t *ev, size_t n)
{
    if (!s->doc_arena)
        s->doc_arena = arena_new();
    arena_reset(s->doc_arena);
    size_t max = mapping_doc_count(s->m);
    s->doc_ops = arena_alloc(s->doc_arena, (n + 1) * sizeof(*s->doc_ops));
    s->ndoc_ops = arena_alloc(s->doc_arena, (n + 1) * sizeof(*s->ndoc_ops));
    for (size_t i = 0; i < n; i++) {
        s->doc_ops[i] = NULL;
        s->ndoc_ops[i] = 0;
        if (ev[i].state != EVENT_PENDING || !ev[i].ev.doc || !max)
            continue;
        mapping_doc_op_t *ops = arena_alloc(s->doc_arena, max * sizeof(*ops));
        char err[1024];
        if (mapping_eval_docs(s->m, &ev[i].ev, s->doc_arena, ops, &s->ndoc_ops[i], err,
                              sizeof(err)) == MAPPING_BAD) {
            ev[i].state = EVENT_DEAD;
            ev[i].stage = EVENT_STAGE_DOCUMENT;
            ev[i].error = arena_strndup(s->err_arena, err, strlen(err));
            s->ndoc_ops[i] = 0;
            continue;
        }
        s->doc_ops[i] = ops;
    }
}

/* One document per (index, id): the last event of the batch that writes it decides. Fills
 * s->docs, with the op each came from in ops[] (doc_arena). */
static const mapping_doc_op_t **coalesce(sink_pg_t *s, event_t *ev, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += ev[i].state == EVENT_PENDING ? s->ndoc_ops[i] : 0;
    s->docs = arena_alloc(s->doc_arena, (total + 1) * sizeof(*s->docs));
    const mapping_doc_op_t **ops = arena_alloc(s->doc_arena, (total + 1) * sizeof(*ops));
    s->ndocs = 0;
    hmap_t *seen = hmap_new();
    strbuf_t key = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; ev[i].state == EVENT_PENDING && k < s->ndoc_ops[i]; k++) {
            const mapping_doc_op_t *op = &s->doc_ops[i][k];
            strbuf_reset(&key);
            strbuf_puts(&key, op->doc->index);
            strbuf_append(&key, "", 1);
            strbuf_puts(&key, op->id);
            int created;
            int64_t *slot = hmap_put(seen, key.data, key.len, &created);
            if (created)
                *slot = (int64_t)s->ndocs++;
            s->docs[*slot] = (event_doc_t){op->doc->index, op->id, op->body, i, NULL};
            ops[*slot] = op;
        }
    }
    strbuf_free(&key);
    hmap_destroy(seen);
    return ops;
}

static void version_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    (void)q;
    s->doc_version = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
}

static void doc_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q)
{
    size_t cap = s->ndoc_rows[q->id];
    for (int i = 0; i < PQntuples(r); i++) {
        size_t ord = strtoull(PQgetvalue(r, i, 0), NULL, 10);
        if (ord >= 1 && ord <= cap && !PQgetisnull(r, i, 1))
            s->doc_rows[q->id][ord - 1] =
                arena_strndup(s->doc_arena, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
    }
}

/* Queues the reads of the from_row documents (one statement per action, ord[] numbering each
 * document within its action's keys) and the version. */
static void send_reads(sink_pg_t *s, const mapping_doc_op_t **ops, size_t *ord)
{
    size_t nactions = mapping_doc_count(s->m);
    s->doc_rows = arena_alloc(s->doc_arena, nactions * sizeof(*s->doc_rows));
    s->ndoc_rows = arena_alloc(s->doc_arena, nactions * sizeof(*s->ndoc_rows));
    for (size_t a = 0; a < nactions; a++) {
        const mapping_doc_info_t *d = mapping_doc_info(s->m, a);
        s->ndoc_rows[a] = 0;
        s->doc_rows[a] = NULL;
        if (!d->table || d->kind != MAPPING_DOC_INDEX)
            continue;
        strbuf_t *arrays = xcalloc(d->nkeys, sizeof(*arrays));
        for (size_t i = 0; i < s->ndocs; i++) {
            if (ops[i]->doc != d)
                continue;
            ord[i] = ++s->ndoc_rows[a];
            for (size_t k = 0; k < d->nkeys; k++) {
                strbuf_puts(&arrays[k], arrays[k].len ? "," : "{");
                strbuf_array_elem(&arrays[k], ops[i]->keys[k]);
            }
        }
        if (s->ndoc_rows[a]) {
            const char **params = arena_alloc(s->doc_arena, d->nkeys * sizeof(char *));
            for (size_t k = 0; k < d->nkeys; k++) {
                strbuf_puts(&arrays[k], "}");
                params[k] = arrays[k].data;
            }
            s->doc_rows[a] = arena_alloc(s->doc_arena, s->ndoc_rows[a] * sizeof(char *));
            memset(s->doc_rows[a], 0, s->ndoc_rows[a] * sizeof(char *));
            char name[32];
            snprintf(name, sizeof(name), "d%d", d->id);
            sink_pg_send(s, name, (int)d->nkeys, params, NULL, NULL, doc_rows, d->id, NULL);
        }
        for (size_t k = 0; k < d->nkeys; k++)
            strbuf_free(&arrays[k]);
        free(arrays);
    }
    sink_pg_send(s, "doc_version", 0, NULL, NULL, NULL, version_rows, 0, NULL);
}

err_class_t sink_pg_docs_collect(sink_pg_t *s, event_t *ev, size_t n)
{
    const mapping_doc_op_t **ops = coalesce(s, ev, n);
    if (!s->ndocs)
        return ERR_NONE;
    size_t *ord = arena_alloc(s->doc_arena, s->ndocs * sizeof(*ord));
    send_reads(s, ops, ord);
    err_class_t e = sink_pg_sync(s);
    if (e != ERR_NONE)
        return e;
    for (size_t i = 0; i < s->ndocs; i++) {
        const mapping_doc_info_t *d = ops[i]->doc;
        if (d->kind == MAPPING_DOC_DELETE)
            s->docs[i].body = NULL;
        else if (d->table) /* no row: the document goes too */
            s->docs[i].body = s->doc_rows[d->id][ord[i] - 1];
    }
    return ERR_NONE;
}
