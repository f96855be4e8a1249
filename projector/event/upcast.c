/* Upcasting on the decode side: the mapping's upcasters, and the dead letter when they fail. */
#include "upcast.h"

#include <jansson.h>

#include "mapping_upcast.h"

void event_upcast(event_t *e, const mapping_t *m)
{
    char why[1024];
    if (e->state != EVENT_PENDING || mapping_upcast(m, &e->ev, why, sizeof(why)) == 0)
        return;
    /* the reason lives as long as the event: in place of its doc, which the caller frees */
    json_decref(e->ev.doc);
    e->ev.doc = json_string_nocheck(why);
    e->ev.nparts = 0;
    event_kill(e, EVENT_STAGE_UPCAST, json_string_value(e->ev.doc));
}
