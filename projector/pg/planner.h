/* Turns a batch of events into few set-based statements while keeping partition order exact. */
#ifndef PROJECTOR_PLANNER_H
#define PROJECTOR_PLANNER_H

#include <stddef.h>

#include "arena.h"
#include "event.h"
#include "mapping.h"

/* One statement: an action applied to nrows rows at once (params are text[] literals), or a
 * sql action for one event (params are its values). */
typedef struct plan_group {
    const mapping_action_info_t *action;
    size_t nrows;
    size_t nparams;
    const char *const *params;
} plan_group_t;

typedef struct planner planner_t;

/* Returns a planner for mapping m (borrowed; must outlive it). Caller owns the planner. */
planner_t *planner_new(const mapping_t *m);
void planner_destroy(planner_t *p);

/* Starts a sub-batch at events[lo, hi): resets the plan and collects the lookup keys the events
 * need. Error texts of events marked dead are allocated in err_arena. serial=1 plans one
 * statement per row operation (the fallback when keys of one row are spelled differently). */
void planner_begin(planner_t *p, event_t *events, size_t lo, size_t hi, arena_t *err_arena,
                   int serial);
/* Lookups that read one table by the same key columns are fetched together: the number of
 * fetches, and the lookups of fetch f (ids in mapping order; *ids borrowed from the planner).
 * Fixed for the planner's life. */
size_t planner_fetch_count(const planner_t *p);
size_t planner_fetch_lookups(const planner_t *p, size_t f, const int **ids);
/* The keys of fetch f to fetch before planning: returns how many (0: none) and sets *params to
 * one text[] literal per key column (borrowed until the next planner_begin()). */
size_t planner_prefetch(planner_t *p, size_t f, const char *const **params);
/* Records that key number ord (1-based, as in the prefetch) of fetch f has a row, whose column
 * of the fetch's j-th lookup is value (NULL: SQL NULL). Keys not reported have no row. */
void planner_prefetch_result(planner_t *p, size_t f, size_t ord, size_t j, const char *value);
/* Evaluates events from lo on and plans their statements. Returns the end of the planned range:
 * hi, or an earlier event that needs the database state after the planned ones (apply them,
 * then begin again there). Marks events EVENT_SKIPPED or EVENT_DEAD (stage "map") as it goes. */
size_t planner_plan(planner_t *p);
size_t planner_group_count(const planner_t *p);
const plan_group_t *planner_group(const planner_t *p, size_t i);

#endif
