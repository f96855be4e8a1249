/* Evaluation: the rule of an event's type, and the row operations and document writes the event
 * yields. Lookups are answered by the caller's resolver. */
#include <stdio.h>
#include <string.h>

#include "mapping_internal.h"

/* Returns the rule of ev's type (m's; NULL when the type is not mapped, *bad 0), or NULL with
 * *bad 1 and errstr set when ev has no readable type. */
static const event_rule_t *find_rule(const mapping_t *m, const mapping_event_t *ev, char *errstr,
                                     size_t errsz, int *bad)
{
    const char *type = NULL;
    *bad = 0;
    if (ev->resolved)
        return ev->rule;
    if (ev->tombstone)
        return m->tombstone;
    if (m->type_source == TYPE_FIELD) {
        json_t *t = jpath_get(m->type_path, ev->doc);
        if (!json_is_string(t)) {
            snprintf(errstr, errsz, "%s: $.event_type: %s: %s", m->file, jpath_text(m->type_path),
                     t ? "the event type is not a string" : "no event type");
            *bad = 1;
            return NULL;
        }
        type = json_string_value(t);
    } else {
        type = ev->type_header;
        if (!type) {
            if (m->type_source == TYPE_HEADER)
                snprintf(errstr, errsz, "%s: $.event_type: no \"%s\" header with the event type",
                         m->file, m->type_header);
            else
                snprintf(errstr, errsz, "%s: $.format: the %s envelope has no event type", m->file,
                         m->format);
            *bad = 1;
            return NULL;
        }
    }
    for (size_t i = 0; i < m->nrules; i++)
        if (&m->rules[i] != m->tombstone && strcmp(m->rules[i].type, type) == 0)
            return &m->rules[i];
    return NULL;
}

/* ---- upcast splits: one event of several parts (mapping_upcast.h), evaluated in order ---- */

/* Part i of split ev, as an event of its own: its doc and its rule. */
static mapping_event_t part_of(const mapping_t *m, const mapping_event_t *ev, size_t i)
{
    json_t *p = json_array_get(ev->doc, i);
    const char *type = json_string_value(json_object_get(p, "type"));
    mapping_event_t sub = *ev;
    sub.doc = json_object_get(p, "event");
    sub.type_header = m->type_source != TYPE_FIELD ? type : ev->type_header;
    sub.nparts = 0;
    sub.rule = NULL;
    sub.resolved = 1;
    for (size_t r = 0; r < m->nrules; r++)
        if (strcmp(m->rules[r].type, type) == 0)
            sub.rule = &m->rules[r];
    return sub;
}

/* Evaluates each part of split ev in order, its ops after the previous part's (the parts have
 * distinct types, so they use distinct actions: they fit the caller's array). docs: the
 * document actions instead of the row actions. */
static mapping_result_t eval_parts(const mapping_t *m, const mapping_event_t *ev, arena_t *arena,
                                   mapping_lookup_fn lookup, void *lookup_ctx, void *ops,
                                   size_t *nops, char *errstr, size_t errsz, int docs)
{
    mapping_result_t out = MAPPING_SKIP;
    *nops = 0;
    for (size_t i = 0; i < ev->nparts; i++) {
        mapping_event_t sub = part_of(m, ev, i);
        size_t n = 0;
        mapping_result_t rc =
            docs ? mapping_eval_docs(m, &sub, arena, (mapping_doc_op_t *)ops + *nops, &n, errstr,
                                     errsz)
                 : mapping_eval(m, &sub, arena, lookup, lookup_ctx, (mapping_op_t *)ops + *nops, &n,
                                errstr, errsz);
        if (rc == MAPPING_BAD || rc == MAPPING_CUT)
            return rc;
        if (rc == MAPPING_OK)
            out = MAPPING_OK;
        *nops += n;
    }
    return out;
}

int mapping_event_resolve(const mapping_t *m, mapping_event_t *ev, char *errstr, size_t errsz)
{
    int bad;
    ev->resolved = 0;
    if (ev->nparts) /* each part's rule is found as it is evaluated */
        return 0;
    ev->rule = find_rule(m, ev, errstr, errsz, &bad);
    if (bad)
        return -1;
    ev->resolved = 1;
    return 0;
}

int mapping_event_has_lookups(const mapping_t *m, const mapping_event_t *ev)
{
    char err[8];
    int bad;
    for (size_t i = 0; i < ev->nparts; i++) {
        mapping_event_t sub = part_of(m, ev, i);
        if (mapping_event_has_lookups(m, &sub))
            return 1;
    }
    const event_rule_t *r = ev->nparts ? NULL : find_rule(m, ev, err, sizeof(err), &bad);
    return r && r->has_lookup;
}

int mapping_event_has_sql(const mapping_t *m, const mapping_event_t *ev)
{
    char err[8];
    int bad;
    for (size_t i = 0; i < ev->nparts; i++) {
        mapping_event_t sub = part_of(m, ev, i);
        if (mapping_event_has_sql(m, &sub))
            return 1;
    }
    const event_rule_t *r = ev->nparts ? NULL : find_rule(m, ev, err, sizeof(err), &bad);
    for (size_t i = 0; r && i < r->nactions; i++)
        if (r->actions[i]->info.kind == MAPPING_SQL)
            return 1;
    return 0;
}

/* Evaluates one lookup source: its key values from the event, then the resolver. */
static value_rc_t eval_lookup(const mapping_t *m, const value_spec_t *vs, const value_ctx_t *vc,
                              const char **out, char *errstr, size_t errsz)
{
    const lookup_spec_t *l = &m->lookups[vs->lookup_id];
    const char **keys = arena_alloc(vc->arena, l->info.nkeys * sizeof(char *));
    for (size_t i = 0; i < l->info.nkeys; i++) {
        value_rc_t rc = mapping_value_eval(&l->keys[i].val, vc, &keys[i], errstr, errsz);
        if (rc != VALUE_OK)
            return rc;
        if (!keys[i]) {
            snprintf(errstr, errsz, "%s: lookup key %s is null", l->keys[i].val.where,
                     l->keys[i].info.name);
            return VALUE_BAD;
        }
    }
    return vc->lookup(vc->lookup_ctx, vs->lookup_id, keys, out) ? VALUE_CUT : VALUE_OK;
}

/* Evaluates any value spec, lookups included, into *out (text in vc->arena or the event). */
static value_rc_t eval_spec(const mapping_t *m, const value_spec_t *vs, const value_ctx_t *vc,
                            const char **out, char *errstr, size_t errsz)
{
    if (vs->kind == SRC_LOOKUP)
        return eval_lookup(m, vs, vc, out, errstr, errsz);
    return mapping_value_eval(vs, vc, out, errstr, errsz);
}

/* Evaluates the values of action a (keys, columns, guard; or params) into vals[]. Returns
 * VALUE_OK, VALUE_BAD (errstr names the JSON path) or VALUE_CUT (a lookup is not known yet). */
static value_rc_t eval_action(const mapping_t *m, const mapping_action_t *a, const value_ctx_t *vc,
                              const char **vals, char *errstr, size_t errsz)
{
    size_t k = 0;
    value_rc_t rc;
    if (a->info.kind == MAPPING_SQL) {
        for (size_t i = 0; i < a->info.nparams; i++)
            if ((rc = eval_spec(m, &a->params[i], vc, &vals[k++], errstr, errsz)) != VALUE_OK)
                return rc;
        return VALUE_OK;
    }
    for (size_t i = 0; i < a->info.nkeys; i++, k++) {
        if ((rc = eval_spec(m, &a->keys[i].val, vc, &vals[k], errstr, errsz)) != VALUE_OK)
            return rc;
        if (!vals[k]) {
            snprintf(errstr, errsz, "%s: key column %s.%s is null", a->keys[i].val.where,
                     a->info.table, a->keys[i].info.name);
            return VALUE_BAD;
        }
    }
    for (size_t i = 0; i < a->info.ncols; i++)
        if ((rc = eval_spec(m, &a->cols[i].val, vc, &vals[k++], errstr, errsz)) != VALUE_OK)
            return rc;
    if (a->has_guard) {
        if ((rc = eval_spec(m, &a->guard.val, vc, &vals[k], errstr, errsz)) != VALUE_OK)
            return rc;
        if (!vals[k]) {
            snprintf(errstr, errsz, "%s: the guard's version is null", a->guard.val.where);
            return VALUE_BAD;
        }
    }
    return VALUE_OK;
}

mapping_result_t mapping_eval(const mapping_t *m, const mapping_event_t *ev, arena_t *arena,
                              mapping_lookup_fn lookup, void *lookup_ctx, mapping_op_t *ops,
                              size_t *nops, char *errstr, size_t errstr_size)
{
    *nops = 0;
    if (ev->nparts)
        return eval_parts(m, ev, arena, lookup, lookup_ctx, ops, nops, errstr, errstr_size, 0);
    int bad;
    const event_rule_t *r = find_rule(m, ev, errstr, errstr_size, &bad);
    if (!r)
        return bad ? MAPPING_BAD : MAPPING_SKIP;
    value_ctx_t vc = {ev, arena, lookup, lookup_ctx};
    for (size_t i = 0; i < r->nactions; i++) {
        const mapping_action_t *a = r->actions[i];
        size_t nvals = a->info.kind == MAPPING_SQL
                           ? a->info.nparams
                           : a->info.nkeys + a->info.ncols + (size_t)a->has_guard;
        const char **vals = arena_alloc(arena, (nvals ? nvals : 1) * sizeof(char *));
        value_rc_t rc = eval_action(m, a, &vc, vals, errstr, errstr_size);
        if (rc == VALUE_BAD) {
            char msg[1024];
            snprintf(msg, sizeof(msg), "%s", errstr);
            snprintf(errstr, errstr_size, "%s: %s", m->file, msg);
            return MAPPING_BAD;
        }
        if (rc == VALUE_CUT)
            return MAPPING_CUT;
        ops[*nops].action = a;
        ops[*nops].values = vals;
        (*nops)++;
    }
    return MAPPING_OK;
}

mapping_result_t mapping_eval_docs(const mapping_t *m, const mapping_event_t *ev, arena_t *arena,
                                   mapping_doc_op_t *ops, size_t *nops, char *errstr,
                                   size_t errstr_size)
{
    *nops = 0;
    if (ev->nparts)
        return eval_parts(m, ev, arena, NULL, NULL, ops, nops, errstr, errstr_size, 1);
    int bad;
    const event_rule_t *r = find_rule(m, ev, errstr, errstr_size, &bad);
    if (!r) /* an event without a type is mapping_eval()'s to refuse */
        return MAPPING_SKIP;
    value_ctx_t vc = {ev, arena, NULL, NULL};
    for (size_t i = 0; i < r->ndocs; i++) {
        if (mapping_doc_eval(r->docs[i], &vc, &ops[*nops], errstr, errstr_size) != VALUE_OK) {
            char msg[1024];
            snprintf(msg, sizeof(msg), "%s", errstr);
            snprintf(errstr, errstr_size, "%s: %s", m->file, msg);
            return MAPPING_BAD;
        }
        (*nops)++;
    }
    return MAPPING_OK;
}
