/* Column operations of a mapping ("op": "add", ...): one table row per op holds its name and the
 * SQL it becomes, so that adding an op is adding a row (and its enum value next to it). */
#ifndef PROJECTOR_MAPPING_COLOP_H
#define PROJECTOR_MAPPING_COLOP_H

#include <stddef.h>

#include "strbuf.h"

/* What an action does to a column with the event's value v; each has its row in the table. */
typedef enum {
    COLOP_SET,         /* c = v */
    COLOP_ADD,         /* c = c + v (on insert: v) */
    COLOP_MAX,         /* c = greatest(c, v) */
    COLOP_MIN,         /* c = least(c, v) */
    COLOP_APPEND,      /* jsonb array c = c || [v] (on insert: [v]) */
    COLOP_SET_IF_NULL, /* c = coalesce(c, v) */
    COLOP_SUBTRACT,    /* c = c - v (on insert: -v) */
    COLOP_N,           /* not an op: how many there are */
} mapping_colop_t;

/* One column operation. The SQL fields are templates for mapping_colop_render(): {v} stands for
 * the value the template starts from, {cur} for the column's current value (t."c").
 *
 *   UPDATE ... SET c = update(cur, operand(event))
 *   INSERT ... VALUES (insert(operand(event))) ON CONFLICT DO UPDATE
 *       SET c = update(cur, excluded(EXCLUDED."c"))
 *
 * where event is the parameter cast to column_type (the column's own type when NULL). A column
 * whose value is a list of operands (mapping_column_info_t.folded) uses fold(list) in place of
 * operand(event), the list cast to an array of that type: the one operand that has the effect of
 * the list's operands applied one after the other. */
typedef struct mapping_colop_def {
    mapping_colop_t op;
    const char *name;        /* as the mapping file spells it */
    const char *comment;     /* what it does, for people */
    const char *operand;     /* what the op combines with the current value, from the event's {v} */
    const char *insert;      /* the value a new row gets, from the operand {v} */
    const char *excluded;    /* the operand again, from {v}: what insert wrote (EXCLUDED."c") */
    const char *update;      /* the new value, from the current value {cur} and the operand {v} */
    const char *column_type; /* the column type the op needs ("jsonb"), or NULL for any */
    int yields_value;        /* 1: the column's value afterwards is the event's value itself */
    const char *fold;        /* the operand of a list {v} of operands, or NULL: does not fold */
} mapping_colop_def_t;

/* The number of rows of the table, and row i, in the order the ops are listed to people. */
size_t mapping_colop_count(void);
const mapping_colop_def_t *mapping_colop_at(size_t i);
/* Returns op's row (static; never NULL for op < COLOP_N). */
const mapping_colop_def_t *mapping_colop_def(mapping_colop_t op);
/* Returns the row of the op spelled name, or NULL when there is none. */
const mapping_colop_def_t *mapping_colop_by_name(const char *name);
/* Writes the ops' names into buf as people read a choice: "set, add, ... or set_if_null"
 * (truncated to size). */
void mapping_colop_expected(char *buf, size_t size);
/* Appends template tmpl to sb with {cur} replaced by cur (may be NULL for a template without it)
 * and {v} by v. */
void mapping_colop_render(strbuf_t *sb, const char *tmpl, const char *cur, const char *v);

#endif
