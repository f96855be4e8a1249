/* Upcasting on the decode side: the mapping's upcasters, and the dead letter when they fail. */
#include "upcast.h"

#include <string.h>

#include <jansson.h>

#include "mapping_upcast.h"

void event_upcast(event_t *e, const mapping_t *m, arena_t *arena)
{
    char why[1024];
    if (e->state != EVENT_PENDING || mapping_upcast(m, &e->ev, why, sizeof(why)) == 0)
        return;
    e->ev.nparts = 0;
    event_kill(e, EVENT_STAGE_UPCAST, arena_strndup(arena, why, strlen(why)));
}
