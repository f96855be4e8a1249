/* Read-your-writes, on a worker: validates a read's min_position and marks it held for the loop
 * thread (http_waits.h), which answers it once the positions are applied. */
#ifndef PROJECTOR_HTTP_WAIT_H
#define PROJECTOR_HTTP_WAIT_H

#include "http_req.h"
#include "mapping.h"

/* When req carries min_position or X-Min-Position and is not released yet, validates the
 * positions (into req's wait fields) and marks req held for projection m (borrowed; the loop
 * holds it until they are applied, then routes it again), or answers 400. Returns 1 when the
 * caller may answer now, 0 when req is held or answered. */
int http_wait_positions(http_req_t *req, const mapping_t *m) __attribute__((warn_unused_result));

#endif
