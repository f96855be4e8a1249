/* Turns a batch of events into few set-based statements while keeping partition order exact.
 *
 * Each row operation gets a level: one more than the level of the last operation on the same
 * row (table and key), and above any sql action before it, which is a barrier. Operations of one
 * level touch distinct rows, so each (level, action) pair becomes one statement over arrays, and
 * running the levels in order gives the same result as running the events one by one.
 *
 * Lookups are answered from rows fetched for the whole sub-batch, overlaid with what earlier
 * operations of the sub-batch are known to have written. When a looked-up value cannot be known
 * (an add to it, a sql action that may write its table), planning stops there; the caller
 * applies what is planned and begins again, so the lookup reads the database after those
 * writes. A sql action whose plan writes other tables only (mapping_sql_may_write()) leaves the
 * looked-up values as they are. Lookups that read one table by the same key columns are one
 * fetch: one statement per sub-batch for the keys its events need, every looked-up column of
 * each row. */
#include "planner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "plan_fold.h"
#include "strbuf.h"
#include "xalloc.h"

typedef enum { OV_ABSENT, OV_PRESENT, OV_UNKNOWN } ov_state_t;

typedef struct ov_entry {
    ov_state_t state;
    const char *value;
} ov_entry_t;

/* The keys of one fetch (lookups of one table by the same key columns). */
typedef struct lookup_keys {
    strbuf_t *cols;    /* per key column, a text[] literal being built */
    const char **lits; /* what planner_prefetch hands out */
    size_t *entries;   /* (ord - 1) * lookups of the fetch + j -> overlay entry of its j-th */
    size_t n, cap;
} lookup_keys_t;

typedef struct plan_op {
    mapping_op_t op;
    const mapping_action_info_t *info; /* op's action, or the fold of several (fold_info()) */
    int level;
    size_t seq;
} plan_op_t;

struct planner {
    const mapping_t *m;
    arena_t *values; /* op values and overlay values of the current sub-batch */
    arena_t *err_arena;
    event_t *events;
    size_t lo, hi;
    int serial;
    /* levels */
    hmap_t *rows; /* encoded (table, key) -> last level << 32 | index of its op in ops */
    int max_level, barrier;
    plan_op_t *ops;
    size_t nops, ops_cap;
    mapping_op_t *ev_ops; /* one event's ops */
    /* lookups */
    hmap_t *overlay; /* encoded (lookup, key) -> entry index */
    ov_entry_t *entries;
    size_t nentries, entries_cap;
    lookup_keys_t *lk; /* per fetch */
    size_t nfetches;
    int *fetch_of;    /* per lookup: its fetch */
    int *fetch_ids;   /* the lookups of the fetches, fetch after fetch */
    size_t *fetch_at; /* per fetch: where its lookups start in fetch_ids; [nfetches]: the end */
    int *sql_seen;    /* per lookup: a sql action that may write its table ran: not known */
    int sql_cuts;     /* a sql action of the mapping may write a looked-up table */
    int *colidx;      /* [action * nlookups + lookup]: column index the action sets, or COL_* */
    /* statements */
    plan_group_t *groups;
    size_t ngroups, groups_cap;
    strbuf_t *bufs; /* param literals, reused */
    const char **param_ptrs;
    size_t nbufs, bufs_cap, ptrs_cap;
    strbuf_t key;        /* scratch for key encoding */
    plan_folds_t *folds; /* kept across batches: their statements stay prepared */
};

/* What colidx holds besides a column index. */
enum {
    COL_NOT_SET = -1,     /* the action writes the looked-up table but not the looked-up column */
    COL_OTHER_TABLE = -2, /* the action writes another table */
    COL_SQL_WRITES = -3,  /* a sql action that may write the looked-up table */
};

/* For each (action, lookup): which column of the action is the looked-up one, or COL_NOT_SET,
 * COL_OTHER_TABLE. */
static void build_colidx(planner_t *p)
{
    size_t na = mapping_action_count(p->m), nl = mapping_lookup_count(p->m);
    p->colidx = xrealloc(NULL, (na * nl + 1) * sizeof(int));
    for (size_t a = 0; a < na; a++) {
        const mapping_action_info_t *ai = mapping_action_info(mapping_action(p->m, a));
        for (size_t l = 0; l < nl; l++) {
            const mapping_lookup_info_t *li = mapping_lookup_info(p->m, l);
            int idx = ai->table_id == li->table_id ? COL_NOT_SET : COL_OTHER_TABLE;
            if (ai->kind == MAPPING_SQL)
                idx = mapping_sql_may_write(mapping_action(p->m, a), li->table) ? COL_SQL_WRITES
                                                                                : COL_OTHER_TABLE;
            p->sql_cuts |= idx == COL_SQL_WRITES;
            for (size_t c = 0; idx == COL_NOT_SET && c < ai->ncols; c++)
                if (strcmp(ai->cols[c].name, li->column) == 0)
                    idx = (int)c;
            p->colidx[a * nl + l] = idx;
        }
    }
}

/* 1 when lookups a and b read one table by the same key columns. */
static int same_fetch(const mapping_lookup_info_t *a, const mapping_lookup_info_t *b)
{
    if (strcmp(a->table, b->table) != 0 || a->nkeys != b->nkeys)
        return 0;
    for (size_t k = 0; k < a->nkeys; k++)
        if (strcmp(a->keys[k].name, b->keys[k].name) != 0)
            return 0;
    return 1;
}

/* Puts the lookups into fetches, in the order of their first lookup. */
static void build_fetches(planner_t *p)
{
    size_t nl = mapping_lookup_count(p->m), at = 0;
    p->fetch_of = xrealloc(NULL, (nl + 1) * sizeof(int));
    p->fetch_ids = xrealloc(NULL, (nl + 1) * sizeof(int));
    p->fetch_at = xrealloc(NULL, (nl + 1) * sizeof(size_t));
    for (size_t l = 0; l < nl; l++) {
        p->fetch_of[l] = (int)p->nfetches;
        for (size_t f = 0; f < p->nfetches; f++)
            if (same_fetch(mapping_lookup_info(p->m, (size_t)p->fetch_ids[p->fetch_at[f]]),
                           mapping_lookup_info(p->m, l))) {
                p->fetch_of[l] = (int)f;
                break;
            }
        if (p->fetch_of[l] == (int)p->nfetches) { /* a new fetch; l is its first lookup */
            p->fetch_ids[p->nfetches] = (int)l;
            p->fetch_at[p->nfetches] = p->nfetches;
            p->nfetches++;
        }
    }
    for (size_t f = 0; f < p->nfetches; f++) {
        p->fetch_at[f] = at;
        for (size_t l = 0; l < nl; l++)
            if (p->fetch_of[l] == (int)f)
                p->fetch_ids[at++] = (int)l;
    }
    p->fetch_at[p->nfetches] = at;
}

/* The key columns of fetch f (those of its lookups). */
static size_t fetch_nkeys(const planner_t *p, size_t f)
{
    return mapping_lookup_info(p->m, (size_t)p->fetch_ids[p->fetch_at[f]])->nkeys;
}

planner_t *planner_new(const mapping_t *m)
{
    planner_t *p = xrealloc(NULL, sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->m = m;
    p->values = arena_new();
    p->rows = hmap_new();
    p->overlay = hmap_new();
    p->ev_ops = xrealloc(NULL, mapping_action_count(m) * sizeof(mapping_op_t));
    build_fetches(p);
    p->sql_seen = xcalloc(mapping_lookup_count(m) + 1, sizeof(int));
    p->lk = xcalloc(p->nfetches + 1, sizeof(lookup_keys_t));
    for (size_t i = 0; i < p->nfetches; i++) {
        size_t nk = mapping_lookup_info(m, (size_t)p->fetch_ids[p->fetch_at[i]])->nkeys;
        p->lk[i].cols = xrealloc(NULL, nk * sizeof(strbuf_t));
        memset(p->lk[i].cols, 0, nk * sizeof(strbuf_t));
        p->lk[i].lits = xrealloc(NULL, nk * sizeof(char *));
    }
    build_colidx(p);
    p->folds = plan_folds_new((int)mapping_action_count(m));
    return p;
}

void planner_destroy(planner_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfetches; i++) {
        for (size_t k = 0; k < fetch_nkeys(p, i); k++)
            strbuf_free(&p->lk[i].cols[k]);
        free(p->lk[i].cols);
        free(p->lk[i].lits);
        free(p->lk[i].entries);
    }
    free(p->lk);
    free(p->fetch_of);
    free(p->fetch_ids);
    free(p->fetch_at);
    free(p->sql_seen);
    for (size_t i = 0; i < p->bufs_cap; i++)
        strbuf_free(&p->bufs[i]);
    free(p->bufs);
    free(p->param_ptrs);
    free(p->groups);
    free(p->ops);
    free(p->ev_ops);
    free(p->entries);
    free(p->colidx);
    plan_folds_destroy(p->folds);
    strbuf_free(&p->key);
    hmap_destroy(p->rows);
    hmap_destroy(p->overlay);
    arena_destroy(p->values);
    free(p);
}

/* Encodes (tag, values[0..n)) unambiguously into p->key: each value length-prefixed. */
static void encode_key(planner_t *p, int tag, const char *const *values, size_t n)
{
    strbuf_reset(&p->key);
    strbuf_append(&p->key, (const char *)&tag, sizeof(tag));
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(values[i]);
        strbuf_append(&p->key, (const char *)&len, sizeof(len));
        strbuf_append(&p->key, values[i], len);
    }
}

/* ---- lookups ---- */

static size_t overlay_entry(planner_t *p, int id, const char *const *keys, int *created)
{
    encode_key(p, id, keys, mapping_lookup_info(p->m, (size_t)id)->nkeys);
    int64_t *slot = hmap_put(p->overlay, p->key.data, p->key.len, created);
    if (*created) {
        if (p->nentries == p->entries_cap) {
            p->entries_cap = p->entries_cap ? 2 * p->entries_cap : 256;
            p->entries = xrealloc(p->entries, p->entries_cap * sizeof(ov_entry_t));
        }
        p->entries[p->nentries] = (ov_entry_t){OV_ABSENT, NULL};
        *slot = (int64_t)p->nentries++;
    }
    return (size_t)*slot;
}

/* mapping_lookup_fn for the collecting pass: remembers the key for the lookup's fetch (once per
 * key: an overlay entry for each lookup of the fetch), answers a placeholder (not NULL, so a
 * lookup used as a key does not end the evaluation before later lookups). */
static int collect_lookup(void *ctx, int id, const char *const *keys, const char **value)
{
    planner_t *p = ctx;
    size_t f = (size_t)p->fetch_of[id], nk = fetch_nkeys(p, f);
    size_t nm = p->fetch_at[f + 1] - p->fetch_at[f];
    int created;
    *value = "";
    encode_key(p, -1 - (int)f, keys, nk); /* the fetch's key: tags below 0, lookups' from 0 */
    int64_t *slot = hmap_put(p->overlay, p->key.data, p->key.len, &created);
    if (!created)
        return 0;
    *slot = -1;
    lookup_keys_t *lk = &p->lk[f];
    for (size_t k = 0; k < nk; k++) {
        strbuf_puts(&lk->cols[k], lk->n ? "," : "{");
        strbuf_array_elem(&lk->cols[k], keys[k]);
    }
    if (lk->n == lk->cap) {
        lk->cap = lk->cap ? 2 * lk->cap : 256;
        lk->entries = xrealloc(lk->entries, lk->cap * nm * sizeof(size_t));
    }
    for (size_t j = 0; j < nm; j++)
        lk->entries[lk->n * nm + j] =
            overlay_entry(p, p->fetch_ids[p->fetch_at[f] + j], keys, &created);
    lk->n++;
    return 0;
}

/* mapping_lookup_fn for planning: answers from the overlay, or asks for a cut. */
static int overlay_lookup(void *ctx, int id, const char *const *keys, const char **value)
{
    planner_t *p = ctx;
    int created;
    size_t e = overlay_entry(p, id, keys, &created);
    *value = NULL;
    if (created || p->sql_seen[id] || p->entries[e].state == OV_UNKNOWN)
        return 1;
    *value = p->entries[e].state == OV_PRESENT ? p->entries[e].value : NULL;
    return 0;
}

void planner_begin(planner_t *p, event_t *events, size_t lo, size_t hi, arena_t *err_arena,
                   int serial)
{
    arena_reset(p->values);
    hmap_clear(p->rows);
    hmap_clear(p->overlay);
    p->events = events;
    p->lo = lo;
    p->hi = hi;
    p->err_arena = err_arena;
    p->serial = serial;
    p->max_level = p->barrier = 0;
    p->nops = p->ngroups = p->nentries = 0;
    memset(p->sql_seen, 0, mapping_lookup_count(p->m) * sizeof(int));
    for (size_t i = 0; i < p->nfetches; i++) {
        p->lk[i].n = 0;
        for (size_t k = 0; k < fetch_nkeys(p, i); k++)
            strbuf_reset(&p->lk[i].cols[k]);
    }
    if (mapping_lookup_count(p->m) == 0)
        return;
    /* The keys of the events planning can reach: past a sql action that may write a looked-up
     * table, an event with lookups is where planning cuts (its lookups read what the statement
     * wrote), so its keys and those after it are the next sub-batch's. One prefetch per fetch
     * and sub-batch, for its own keys. */
    char err[8];
    int sql_before = 0;
    for (size_t i = lo; i < hi; i++) {
        event_t *e = &events[i];
        if (e->state != EVENT_PENDING)
            continue;
        int lookups = mapping_event_has_lookups(p->m, &e->ev);
        if (lookups && sql_before)
            break;
        size_t n;
        if (lookups)
            mapping_eval(p->m, &e->ev, p->values, collect_lookup, p, p->ev_ops, &n, err,
                         sizeof(err));
        sql_before |= p->sql_cuts && mapping_event_has_sql(p->m, &e->ev);
    }
}

size_t planner_fetch_count(const planner_t *p)
{
    return p->nfetches;
}

size_t planner_fetch_lookups(const planner_t *p, size_t f, const int **ids)
{
    *ids = &p->fetch_ids[p->fetch_at[f]];
    return p->fetch_at[f + 1] - p->fetch_at[f];
}

size_t planner_prefetch(planner_t *p, size_t f, const char *const **params)
{
    lookup_keys_t *lk = &p->lk[f];
    if (!lk->n)
        return 0;
    size_t nk = fetch_nkeys(p, f);
    for (size_t k = 0; k < nk; k++) {
        if (lk->cols[k].data[lk->cols[k].len - 1] != '}')
            strbuf_puts(&lk->cols[k], "}");
        lk->lits[k] = lk->cols[k].data;
    }
    *params = lk->lits;
    return lk->n;
}

void planner_prefetch_result(planner_t *p, size_t f, size_t ord, size_t j, const char *value)
{
    lookup_keys_t *lk = &p->lk[f];
    size_t nm = p->fetch_at[f + 1] - p->fetch_at[f];
    if (ord < 1 || ord > lk->n || j >= nm)
        return;
    ov_entry_t *e = &p->entries[lk->entries[(ord - 1) * nm + j]];
    e->state = OV_PRESENT;
    e->value = value ? arena_strndup(p->values, value, strlen(value)) : NULL;
}

/* What an operation does to the looked-up values of its row. */
static void overlay_write(planner_t *p, const mapping_op_t *op)
{
    const mapping_action_info_t *a = mapping_action_info(op->action);
    size_t nl = mapping_lookup_count(p->m);
    if (a->kind == MAPPING_SQL) {
        for (size_t l = 0; l < nl; l++)
            p->sql_seen[l] |= p->colidx[(size_t)a->id * nl + l] == COL_SQL_WRITES;
        return;
    }
    for (size_t l = 0; l < nl; l++) {
        int col = p->colidx[(size_t)a->id * nl + l];
        if (col == COL_OTHER_TABLE)
            continue;
        encode_key(p, (int)l, op->values, a->nkeys);
        int64_t *slot = hmap_get(p->overlay, p->key.data, p->key.len);
        if (!slot)
            continue; /* no lookup of this sub-batch reads that row */
        ov_entry_t *e = &p->entries[*slot];
        int set = col >= 0 && mapping_colop_def(a->cols[col].op)->yields_value;
        if (a->kind == MAPPING_DELETE && !a->guard) {
            *e = (ov_entry_t){OV_ABSENT, NULL};
        } else if (a->guard || a->kind == MAPPING_DELETE) {
            e->state = OV_UNKNOWN;
        } else if (a->kind == MAPPING_UPSERT) {
            if (set)
                *e = (ov_entry_t){OV_PRESENT, op->values[a->nkeys + (size_t)col]};
            else if (col >= 0 || e->state == OV_ABSENT)
                e->state = OV_UNKNOWN;
        } else if (e->state == OV_PRESENT && col >= 0) { /* update of an existing row */
            if (set)
                e->value = op->values[a->nkeys + (size_t)col];
            else
                e->state = OV_UNKNOWN;
        }
    }
}

/* ---- levels ---- */

/* Folds op into ops[j], the last operation on its row (plan_fold.h): returns 1 when it did. */
static int fold_into(planner_t *p, size_t j, const mapping_op_t *op, const mapping_action_info_t *b)
{
    plan_op_t *prev = &p->ops[j];
    const plan_fold_t *f = plan_folds_get(p->folds, prev->info, b);
    const char **values = f ? plan_fold_values(f, prev->op.values, op->values, p->values) : NULL;
    if (!values)
        return 0;
    prev->op.values = values;
    prev->info = plan_fold_info(f);
    return 1;
}

static void add_op(planner_t *p, const mapping_op_t *op)
{
    const mapping_action_info_t *a = mapping_action_info(op->action);
    int level;
    if (p->serial || a->kind == MAPPING_SQL) {
        level = ++p->max_level;
        p->barrier = a->kind == MAPPING_SQL ? level : p->barrier;
    } else {
        encode_key(p, a->table_id, op->values, a->nkeys);
        int created;
        int64_t *last = hmap_put(p->rows, p->key.data, p->key.len, &created);
        int last_level = created ? 0 : (int)(*last >> 32);
        /* after a sql action (barrier), the row may hold what it wrote: no fold across it */
        if (!created && last_level > p->barrier &&
            fold_into(p, (size_t)(*last & 0xffffffff), op, a))
            return;
        level = (last_level > p->barrier ? last_level : p->barrier) + 1;
        *last = (int64_t)level << 32 | (int64_t)p->nops;
        if (level > p->max_level)
            p->max_level = level;
    }
    if (p->nops == p->ops_cap) {
        p->ops_cap = p->ops_cap ? 2 * p->ops_cap : 1024;
        p->ops = xrealloc(p->ops, p->ops_cap * sizeof(plan_op_t));
    }
    p->ops[p->nops] = (plan_op_t){*op, a, level, p->nops};
    p->nops++;
}

static int cmp_ops(const void *x, const void *y)
{
    const plan_op_t *a = x, *b = y;
    if (a->level != b->level)
        return a->level < b->level ? -1 : 1;
    int ia = a->info->id, ib = b->info->id;
    if (ia != ib)
        return ia < ib ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static strbuf_t *take_bufs(planner_t *p, size_t n)
{
    if (p->nbufs + n > p->bufs_cap) {
        size_t cap = p->bufs_cap ? p->bufs_cap : 64;
        while (cap < p->nbufs + n)
            cap *= 2;
        p->bufs = xrealloc(p->bufs, cap * sizeof(strbuf_t));
        memset(p->bufs + p->bufs_cap, 0, (cap - p->bufs_cap) * sizeof(strbuf_t));
        p->bufs_cap = cap;
    }
    strbuf_t *b = &p->bufs[p->nbufs];
    p->nbufs += n;
    for (size_t i = 0; i < n; i++)
        strbuf_reset(&b[i]);
    return b;
}

static void add_group(planner_t *p, const plan_op_t *ops, size_t n)
{
    const mapping_action_info_t *a = ops[0].info;
    size_t np = a->kind == MAPPING_SQL ? a->nparams : a->nkeys + a->ncols + (a->guard ? 1 : 0);
    if (p->ngroups == p->groups_cap) {
        p->groups_cap = p->groups_cap ? 2 * p->groups_cap : 64;
        p->groups = xrealloc(p->groups, p->groups_cap * sizeof(plan_group_t));
    }
    plan_group_t *g = &p->groups[p->ngroups++];
    g->action = a;
    g->nrows = n;
    g->nparams = np;
    if (a->kind == MAPPING_SQL) {
        g->params = ops[0].op.values;
        return;
    }
    strbuf_t *b = take_bufs(p, np);
    for (size_t k = 0; k < np; k++) {
        strbuf_puts(&b[k], "{");
        for (size_t i = 0; i < n; i++) {
            if (i)
                strbuf_puts(&b[k], ",");
            strbuf_array_elem(&b[k], ops[i].op.values[k]);
        }
        strbuf_puts(&b[k], "}");
    }
    g->params = (const char *const *)(uintptr_t)(b - p->bufs); /* index; fixed up below */
}

/* Turns the groups' buffer indexes into pointers, now that no buffer will move. */
static void fix_params(planner_t *p)
{
    size_t need = 0;
    for (size_t i = 0; i < p->ngroups; i++)
        if (p->groups[i].action->kind != MAPPING_SQL)
            need += p->groups[i].nparams;
    if (need > p->ptrs_cap) {
        p->ptrs_cap = need;
        p->param_ptrs = xrealloc(p->param_ptrs, need * sizeof(char *));
    }
    size_t at = 0;
    for (size_t i = 0; i < p->ngroups; i++) {
        plan_group_t *g = &p->groups[i];
        if (g->action->kind == MAPPING_SQL)
            continue;
        size_t first = (size_t)(uintptr_t)g->params;
        for (size_t k = 0; k < g->nparams; k++)
            p->param_ptrs[at + k] = p->bufs[first + k].data;
        g->params = &p->param_ptrs[at];
        at += g->nparams;
    }
}

static void build_groups(planner_t *p)
{
    if (p->nops)
        qsort(p->ops, p->nops, sizeof(plan_op_t), cmp_ops);
    p->nbufs = 0;
    for (size_t i = 0; i < p->nops;) {
        size_t j = i + 1;
        int sql = p->ops[i].info->kind == MAPPING_SQL;
        while (!sql && j < p->nops && p->ops[j].level == p->ops[i].level &&
               p->ops[j].info == p->ops[i].info)
            j++;
        add_group(p, &p->ops[i], j - i);
        i = j;
    }
    fix_params(p);
}

size_t planner_plan(planner_t *p)
{
    size_t i;
    char err[1024];
    for (i = p->lo; i < p->hi; i++) {
        event_t *e = &p->events[i];
        if (e->state != EVENT_PENDING)
            continue;
        size_t n;
        const mapping_op_t *ops = p->ev_ops;
        mapping_result_t rc;
        if (e->evaluated) { /* on the decoding side (event_evaluate()) */
            rc = e->eval_result;
            n = e->nops;
            ops = e->ops;
            if (rc == MAPPING_BAD)
                snprintf(err, sizeof(err), "%s", e->eval_error);
        } else {
            rc = mapping_eval(p->m, &e->ev, p->values, overlay_lookup, p, p->ev_ops, &n, err,
                              sizeof(err));
        }
        if (rc == MAPPING_CUT && i > p->lo)
            break;
        if (rc == MAPPING_SKIP) {
            e->state = EVENT_SKIPPED;
        } else if (rc == MAPPING_BAD || rc == MAPPING_CUT) {
            if (rc == MAPPING_CUT) /* cannot happen: the first event sees fetched rows only */
                snprintf(err, sizeof(err), "internal: lookup could not be resolved");
            e->state = EVENT_DEAD;
            e->stage = EVENT_STAGE_MAP;
            e->error = arena_strndup(p->err_arena, err, strlen(err));
        } else {
            for (size_t k = 0; k < n; k++)
                add_op(p, &ops[k]);
            for (size_t k = 0; k < n; k++)
                overlay_write(p, &ops[k]);
        }
    }
    build_groups(p);
    return i;
}

size_t planner_group_count(const planner_t *p)
{
    return p->ngroups;
}

const plan_group_t *planner_group(const planner_t *p, size_t i)
{
    return &p->groups[i];
}
