/* What the sink_pg modules share; not for the rest of the program. Within pg/ they layer as:
 * sink_pg_pipe.c (the pipeline) <- sink_pg_docs.c, sink_pg_park.c, sink_pg_guard.c <- sink_pg.c
 * (connection, positions) <- sink_pg_batch.c (the steps of a batch), sink_pg_replay.c,
 * sink_pg_notes.c; none calls a module to its left. */
#ifndef PROJECTOR_SINK_PG_INTERNAL_H
#define PROJECTOR_SINK_PG_INTERNAL_H

#include <libpq-fe.h>

#include "generation.h"
#include "planner.h"
#include "sink_pg.h"
#include "strbuf.h"

typedef enum {
    ERR_NONE,
    ERR_RETRY,  /* the database, not the events: roll back, wait, retry */
    ERR_EVENT,  /* an event's data (classes 22, 23, 54): isolate the event */
    ERR_SERIAL, /* one row hit twice by a statement (keys spelled differently): plan serially */
    ERR_AGAIN,  /* events were marked dead after their writes (parked behind a dead event of their
                 * key, or refused by the search engine): roll back, apply the batch again */
    ERR_PAUSED, /* the projection is paused (projector.projections): apply nothing */
    ERR_INDEX,  /* the search engine failed (unreachable, 429, 5xx): roll back, wait, retry */
    ERR_MOVED,  /* a table was re-created under the positions (sink_pg_guard.c): apply nothing */
    ERR_SCHEMA, /* the views no longer fit the mapping (SQLSTATE class 42): roll back, wait */
} err_class_t;

typedef struct sink_pg sink_pg_t;
typedef struct q_expect q_expect_t;

/* Takes the rows of a successful result in the pipeline (NULL: nothing to take). */
typedef void (*sink_pg_rows_fn)(sink_pg_t *s, PGresult *r, const q_expect_t *q);

/* A statement sent on the pipeline, and what takes its rows. */
struct q_expect {
    sink_pg_rows_fn on_rows;
    int id;                           /* lookup id, document action id */
    const mapping_action_info_t *act; /* the action of a planned statement (named in errors) */
};

struct sink_pg {
    char *conninfo;
    const mapping_t *m;
    generation_t gen; /* the tables, positions key and search path it applies to */
    PGconn *conn;
    planner_t *planner;
    q_expect_t *q;
    size_t nq, qcap;
    /* the pipeline's first error */
    err_class_t err;
    char errmsg[1024];
    /* per batch */
    uint64_t rows_pending, rows_written;
    int counted; /* rows of the last counted result */
    int paused;  /* the last paused check's answer */
    event_position_t *pos;
    size_t npos;
    int serial;
    /* the batch being applied, for results that mark its events */
    event_t *ev;
    size_t nev;
    arena_t *err_arena;
    const char **key_hexes; /* per event, the key in hex (parking projections), or NULL */
    int with_docs;          /* the batch's documents are wanted (a document store is there) */
    int *folds_ready;       /* the folds (plan_fold.h) prepared on this connection, by action id */
    size_t nfolds_ready;
    strbuf_t topics, parts; /* the batch's positions as text[] and int[] literals */
    /* documents (projections with index actions; sink_pg_docs.c) */
    arena_t *doc_arena;         /* per batch (start) */
    mapping_doc_op_t **doc_ops; /* per event: its document writes */
    size_t *ndoc_ops;
    event_doc_t *docs; /* the batch's documents, one per (index, id) */
    size_t ndocs;
    const char ***doc_rows; /* per from_row action: the documents read, by ordinality - 1 */
    size_t *ndoc_rows;
    int64_t doc_version;
    /* table identity (sink_pg_guard.c) */
    char *tables;           /* text[] literal of the tables the mapping writes */
    sink_target_t *targets; /* the rows of replay_targets while they are read */
    size_t ntargets;
    char tables_moved[512]; /* the last check's refusal, or "" */
    int tables_unrecorded;  /* the last check found a table to record */
};

/* ---- the pipeline (sink_pg_pipe.c) ---- */

/* Prepares a statement on the connection. Returns 0 or -1 (errstr). Blocks. */
int sink_pg_prepare(sink_pg_t *s, const char *name, const char *sql, char *errstr, size_t errsz);
/* Queues a prepared statement on the pipeline; on_rows (NULL: none) takes its rows. */
void sink_pg_send(sink_pg_t *s, const char *name, int n, const char *const *params,
                  const int *lengths, const int *formats, sink_pg_rows_fn on_rows, int id,
                  const mapping_action_info_t *act);
/* Queues the preparation of statement name; on_rows is called once it is prepared. */
void sink_pg_send_prepare(sink_pg_t *s, const char *name, const char *sql, sink_pg_rows_fn on_rows,
                          int id);
/* Queues a statement without parameters (BEGIN, COMMIT, SAVEPOINT ...). */
void sink_pg_send_sql(sink_pg_t *s, const char *sql);
/* Syncs the pipeline and reads every result. Returns the class of the first error (its text in
 * s->errmsg). Blocks. */
err_class_t sink_pg_sync(sink_pg_t *s);
/* sink_pg_send_sql() and sink_pg_sync(). */
err_class_t sink_pg_run_sql(sink_pg_t *s, const char *sql);
/* Takes the rows of a statement whose answer is how many rows it returned (s->counted). */
void sink_pg_count_rows(sink_pg_t *s, PGresult *r, const q_expect_t *q);

/* ---- connection and positions (sink_pg.c) ---- */

/* Connects if needed and prepares every statement. Returns 0 or -1 (retriable). Blocks. */
int sink_pg_connect(sink_pg_t *s, char *errstr, size_t errsz);
/* Closes the connection (the next call connects again). */
void sink_pg_disconnect(sink_pg_t *s);
/* Builds s->topics and s->parts from s->pos. */
void sink_pg_position_arrays(sink_pg_t *s);
/* Queues the lock of s's positions; its rows set each position's actual. */
void sink_pg_send_lock(sink_pg_t *s);

/* ---- a batch's rows (sink_pg_batch.c) ---- */

/* Applies ev[lo, hi) under a savepoint; when an event's data fails, halves the range until the
 * failing events are found alone, and marks them dead (stage apply). Blocks. */
err_class_t sink_pg_apply_careful(sink_pg_t *s, event_t *ev, size_t lo, size_t hi,
                                  arena_t *err_arena);

/* ---- documents (sink_pg_docs.c) ---- */

/* Prepares the document statements on the new connection. Returns 0 or -1 (errstr). */
int sink_pg_docs_prepare(sink_pg_t *s, char *errstr, size_t errstr_size);
/* Evaluates the document actions of the pending events of ev[0, n); marks those whose documents
 * cannot be built dead (EVENT_STAGE_DOCUMENT). */
void sink_pg_docs_eval(sink_pg_t *s, event_t *ev, size_t n);
/* Inside the batch's transaction, once its writes are sent: reads the documents and takes the
 * batch's document version, into s->docs, s->ndocs and s->doc_version. Returns ERR_NONE or a
 * database error. Blocks. */
err_class_t sink_pg_docs_collect(sink_pg_t *s, event_t *ev, size_t n);
void sink_pg_docs_free(sink_pg_t *s);

/* ---- parking (sink_pg_park.c) ---- */

/* Prepares the parking query on the new connection. Returns 0 or -1 (errstr). */
int sink_pg_park_prepare(sink_pg_t *s, char *errstr, size_t errstr_size);
/* Queues the query for the batch's keys with an unresolved dead letter (in the BEGIN pipeline);
 * its answer parks the batch's events of those keys. */
void sink_pg_park_send_query(sink_pg_t *s);
/* Parks the pending events that follow a dead one of the same topic and key in the batch;
 * returns ERR_AGAIN when it did (apply the batch again without them), else ERR_NONE. */
err_class_t sink_pg_park_followers(sink_pg_t *s);

/* ---- table identity (sink_pg_guard.c) ---- */

/* Prepares the statements of the guard and of the notes on the new connection. Returns 0 or -1
 * (errstr). */
int sink_pg_guard_prepare(sink_pg_t *s, char *errstr, size_t errstr_size);
/* Queues the check of the tables' identity (in a batch's transaction, after the position lock). */
void sink_pg_tables_send(sink_pg_t *s);
/* Once the check's result is in: ERR_MOVED (s->errmsg says which table) when a table was
 * re-created under applied positions; else records unrecorded tables and returns ERR_NONE or a
 * database error. Blocks. */
err_class_t sink_pg_tables_after(sink_pg_t *s);

#endif
