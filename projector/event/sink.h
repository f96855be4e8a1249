/* The seams between the applier and the stores a batch is written to: the row store (a
 * transaction per batch, in steps the applier sequences), the document store, and the
 * dead-letter publisher. An adapter implements these and calls nothing above it. */
#ifndef PROJECTOR_SINK_H
#define PROJECTOR_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "event.h"

typedef enum {
    SINK_OK,     /* the step is done (after finish: committed, the batch's writes and positions) */
    SINK_STALE,  /* nothing written: a position moved under us (see stale/actual); re-seek */
    SINK_RETRY,  /* nothing written: the store failed; wait and try the batch again */
    SINK_PAUSED, /* nothing written: the projection is paused; wait and try again */
    SINK_RETRY_INDEX, /* nothing committed: the search engine failed; wait and try again */
    SINK_REFUSED,     /* nothing written: a table was re-created under the stored positions
                       * (errstr says which); nothing applies until a rebuild resets them */
    SINK_SCHEMA,      /* nothing written: the views no longer fit the mapping (a column or table
                       * missing, a privilege revoked: errstr says which); wait and try again */
    SINK_AGAIN,       /* events were marked dead after their writes (parked behind a dead event
                       * of their key, refused by the search engine): undo, begin the batch again */
    SINK_SERIAL,      /* one row hit twice by a statement (keys spelled differently): undo, begin
                       * again one row operation at a time */
} sink_rc_t;

/* A batch as the stores see it: its events in partition order within each partition, the
 * positions it moves (expected as stamped when the batch was cut), and the arena for the
 * error texts of events marked dead. All borrowed from the applier's caller. */
typedef struct sink_batch {
    event_t *events;
    size_t n;
    event_position_t *pos;
    size_t npos;
    arena_t *arena;
} sink_batch_t;

/* A row store, in the order the applier calls it for one attempt at a batch: begin, rows,
 * documents (only with a document store), finish; abort after any step that did not return
 * SINK_OK. Every step blocks; errstr says why on an error. */
typedef struct sink_rows_ops {
    /* Takes the batch (borrowed until the next start) for the attempts that follow. With docs,
     * evaluates its document actions: events whose documents cannot be built are dead
     * (EVENT_STAGE_DOCUMENT). */
    void (*start)(void *store, sink_batch_t *b, int docs);
    /* Opens the transaction and takes the positions: SINK_OK, or SINK_STALE (the positions say
     * which moved), SINK_PAUSED, SINK_REFUSED, SINK_SCHEMA, SINK_RETRY. serial=1 writes one
     * row operation per statement. Events dead for a reason that depends on an attempt are
     * pending again. */
    sink_rc_t (*begin)(void *store, int serial, char *errstr, size_t errsz);
    /* Writes the rows of the pending events; events whose data fails are isolated and marked
     * dead (every other event is applied once). SINK_OK, SINK_AGAIN, SINK_SERIAL, or what
     * begin returns. */
    sink_rc_t (*rows)(void *store, char *errstr, size_t errsz);
    /* The batch's documents as its rows now are, and the version to write them with: *docs
     * (*n of them) and their texts stay valid until the next start. */
    sink_rc_t (*documents)(void *store, event_doc_t **docs, size_t *n, int64_t *version,
                           arena_t **arena, char *errstr, size_t errsz);
    /* Records the dead events, advances the positions and commits: SINK_OK (pending events are
     * EVENT_APPLIED, each position's expected is its next) or an error (nothing committed). */
    sink_rc_t (*finish)(void *store, char *errstr, size_t errsz);
    /* Undoes the open transaction, if any. */
    void (*abort)(void *store);
} sink_rows_ops_t;

typedef struct sink_rows {
    const sink_rows_ops_t *ops;
    void *store;
} sink_rows_t;

/* A document store: writes docs[0, n) with external version `version` (texts in arena).
 * Returns 0 when every document is written (or already holds a newer version), -1 when the
 * writes failed retriably (errstr says why), 1 when some documents were refused for good
 * (their error is set; the others are written). Blocks. */
typedef int (*sink_index_fn)(void *ctx, event_doc_t *docs, size_t n, int64_t version,
                             arena_t *arena, char *errstr, size_t errstr_size);

typedef struct sink_docs {
    sink_index_fn write;
    void *ctx;
} sink_docs_t;

/* The dead-letter publisher: called once the batch's dead events are known, before its commit;
 * publishes them and returns 0, or -1 to undo and retry the batch. Blocks. */
typedef int (*sink_dead_fn)(void *ctx, event_t *events, size_t n);

/* Marks the pending events of the documents that were refused for good dead (stage index, the
 * reason in arena). Returns how many. */
size_t sink_docs_refuse(event_t *events, const event_doc_t *docs, size_t ndocs, arena_t *arena);

/* Writes docs[0, n) of events through d (version and doc_arena as sink_index_fn takes them).
 * Returns SINK_OK; SINK_AGAIN when the search engine refused some for good, their pending events
 * now dead (sink_docs_refuse(), reasons in err_arena): apply the batch again without them; or
 * SINK_RETRY_INDEX with errstr set when the writes failed, or failed for events that were not
 * pending. Blocks. */
sink_rc_t sink_docs_write(const sink_docs_t *d, event_t *events, event_doc_t *docs, size_t n,
                          int64_t version, arena_t *doc_arena, arena_t *err_arena, char *errstr,
                          size_t errstr_size);

#endif
