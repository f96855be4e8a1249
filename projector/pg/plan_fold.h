/* Folding the operations on one row within a sub-batch: an update (or upsert) after an upsert or
 * update of the same row becomes part of that operation, one row write instead of two, when the
 * one statement leaves the row exactly as the two would. */
#ifndef PROJECTOR_PLAN_FOLD_H
#define PROJECTOR_PLAN_FOLD_H

#include <stddef.h>

#include "arena.h"
#include "mapping.h"

typedef struct plan_folds plan_folds_t;
typedef struct plan_fold plan_fold_t;

/* Returns an empty registry whose folds take the action ids from first_id up. Caller owns it. */
plan_folds_t *plan_folds_new(int first_id);
void plan_folds_destroy(plan_folds_t *f);

/* How to do a then b on one row (a: an action or a fold's action; b: an action), made once per
 * pair and kept by f, or NULL when they do not fold. They fold when both write the same table
 * by the same key columns without a version guard, a is an upsert or an update, b is an update
 * (or an upsert: after a, the row exists when a is an upsert), neither writes a key column
 * (which would move the row), and each column of b
 *   - is set: the column ends with b's value, whatever it held;
 *   - is add, max, min or append, and a does the same op to it: the column's value becomes the
 *     list of both operands, in order, which the statement combines in SQL (sum, max, min,
 *     jsonb_agg; mapping_colop_def_t.fold) and then applies as one operand: greatest(cur, max
 *     of the list) is greatest(greatest(cur, v1), v2), and a new row gets the fold of the list
 *     as the insert and then b's update would leave it. Exact only for the column types where
 *     the combination is: add on integer types and numeric (whose sums are exact; floats are
 *     not associative), max and min on types whose equal values print the same (integer types,
 *     numeric with a scale, date, timestamps, text, varchar, uuid: a tie cannot change what is
 *     stored), append on any;
 *   - is add, max or min after a set of the column: the same list, starting with the set value,
 *     whose fold the column becomes, whatever it held (and a new row gets);
 *   - is any op a does not apply to the column, when a is an update (no row: neither writes).
 * Columns of a that b does not write stay as they are. The fold of an update is an update, of
 * an upsert an upsert. Folds with the same columns, ops and lists share one action (one
 * statement), so a chain of any length on one row is one action.
 * A delete wins: an unguarded delete after an upsert, update or delete of the row (one that
 * does not move it) is that delete alone, and an update or delete after an unguarded delete is
 * the delete alone (they find no row); an upsert after a delete does not fold (an insert). */
const plan_fold_t *plan_folds_get(plan_folds_t *f, const mapping_action_info_t *a,
                                  const mapping_action_info_t *b);

/* The action fold d plans: its id is f's, its columns may hold lists (folded). */
const mapping_action_info_t *plan_fold_info(const plan_fold_t *d);

/* The values of d from a's values va and b's values vb, in arena; or NULL when these values do
 * not fold (an add of a negative value: a sum in one step cannot overflow where the steps one
 * by one would, only when no operand is negative; or a list grown past 8 KiB). */
const char **plan_fold_values(const plan_fold_t *d, const char *const *va, const char *const *vb,
                              arena_t *arena);

#endif
