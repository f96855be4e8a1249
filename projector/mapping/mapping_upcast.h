/* Upcasting: brings an event of an older version of its type to the current one, through the
 * mapping's upcasters (mapping_upcast.c loads them), before any rule sees it. */
#ifndef PROJECTOR_MAPPING_UPCAST_H
#define PROJECTOR_MAPPING_UPCAST_H

#include <stddef.h>

#include "mapping.h"

/* Upcasts ev (its doc decoded, its type header set) with m's upcasters. An event whose type is
 * not versioned, or that is at its type's current version, is left as it is, having read its
 * type and its version; so is an event without a readable type (the evaluation reports it).
 * Otherwise each upcaster from its version to the current one transforms ev->doc in place (a
 * type rename writes the type's field); a split, or a type rename when the type is a header
 * (which stays the message's), replaces ev->doc by a JSON array of ev->nparts parts
 * {"type": T, "event": {...}}, each at its type's current version, that the evaluations take
 * in order. ev->doc stays the
 * caller's (json_decref) either way. Returns 0, or -1 when ev cannot be upcast (no upcaster
 * from its version, a step missing a field it needs), with errstr naming the file, the step's
 * JSON path and the event's field; ev->doc may then be partly transformed. Does not block. */
int mapping_upcast(const mapping_t *m, mapping_event_t *ev, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

#endif
