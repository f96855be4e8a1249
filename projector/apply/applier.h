/* One batch through the stores, in the order that keeps both exact: begin, rows, documents,
 * dead letters, positions and commit. */
#ifndef PROJECTOR_APPLIER_H
#define PROJECTOR_APPLIER_H

#include <stddef.h>

#include "sink.h"

/* The stores of a projection (borrowed). docs and dead may be NULL: no documents, dead events
 * only recorded in the row store. */
typedef struct applier_stores {
    sink_rows_t rows;
    const sink_docs_t *docs;
    sink_dead_fn dead;
    void *dead_ctx;
    const char *label; /* the projection (generation key) in log lines */
} applier_stores_t;

/* Applies batch b through st in one transaction of the row store: the rows of its events, their
 * documents written to the document store before the commit (so that a batch's position is
 * final only once both stores have it), its dead events published before the commit, then its
 * positions. Attempts again while events are marked dead after their writes, and once one row
 * operation at a time when a statement hits a row twice. Returns SINK_OK (committed: pending
 * events are EVENT_APPLIED, b->pos advanced) or why nothing was committed (SINK_STALE,
 * SINK_PAUSED, SINK_REFUSED, SINK_SCHEMA, SINK_RETRY, SINK_RETRY_INDEX; errstr says why).
 * Blocks. */
sink_rc_t applier_batch(const applier_stores_t *st, sink_batch_t *b, char *errstr,
                        size_t errstr_size) __attribute__((warn_unused_result));

#endif
