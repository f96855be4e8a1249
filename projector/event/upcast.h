/* Upcasting on the decode side: an event of an older version becomes its type's current
 * version before any rule sees it, or is dead at EVENT_STAGE_UPCAST. */
#ifndef PROJECTOR_UPCAST_H
#define PROJECTOR_UPCAST_H

#include "event.h"
#include "mapping.h"

/* Upcasts pending e with m's upcasters (mapping_upcast()), once its metadata is complete. An
 * event that cannot be upcast is dead at EVENT_STAGE_UPCAST, its error (in arena) naming the
 * step and the field. Does nothing for an event that is not pending. Does not block. */
void event_upcast(event_t *e, const mapping_t *m, arena_t *arena);

#endif
