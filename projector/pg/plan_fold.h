/* Folding the operations on one row within a sub-batch: an update whose columns are all set
 * after an upsert or update of the same row becomes part of that operation, one row write
 * instead of two. */
#ifndef PROJECTOR_PLAN_FOLD_H
#define PROJECTOR_PLAN_FOLD_H

#include <stddef.h>

#include "arena.h"
#include "mapping.h"

typedef struct plan_folds plan_folds_t;

/* Returns an empty registry whose folds take the action ids from first_id up. Caller owns it. */
plan_folds_t *plan_folds_new(int first_id);
void plan_folds_destroy(plan_folds_t *f);

/* The action that does a then b on one row (a: an action or a fold; b: an action), made once per
 * pair and kept by f, or NULL when they do not fold. They fold when both write the same table
 * by the same key columns without a version guard, a is an upsert or an update, b is an update
 * (or an upsert: after a, the row exists when a is an upsert), every column of b is set, and
 * neither writes a key column (which would move the row):
 * then each column ends with b's value if b sets it, else with a's result, whatever the row held
 * before, exactly as a then b would leave it. The fold of an update is an update (no row: both
 * did nothing), of an upsert an upsert (no row: a's insert with b's values). */
const mapping_action_info_t *plan_folds_get(plan_folds_t *f, const mapping_action_info_t *a,
                                            const mapping_action_info_t *b);

/* The values of fold (from plan_folds_get()) from a's values va and b's values vb, in arena. */
const char **plan_folds_values(const mapping_action_info_t *fold, const char *const *va,
                               const char *const *vb, arena_t *arena);

#endif
