/* What the sink_pg modules (sink_pg.c, sink_pg_docs.c) share; not for the rest of the program. */
#ifndef PROJECTOR_SINK_PG_INTERNAL_H
#define PROJECTOR_SINK_PG_INTERNAL_H

#include <libpq-fe.h>

#include "generation.h"
#include "sink_pg.h"

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

/* What a result in the pipeline answers. */
typedef enum {
    Q_PLAIN,
    Q_LOCK,
    Q_LOOKUP,
    Q_GROUP,
    Q_COUNT,
    Q_PARKED,
    Q_PAUSED,
    Q_DOC_ROWS,    /* the rows of a from_row document action (id: its id) */
    Q_DOC_VERSION, /* the batch's document version */
    Q_TABLES,      /* the tables' identity (sink_pg_guard.c) */
    Q_TARGETS      /* an in-place rebuild's target offsets (sink_pg_guard.c) */
} q_kind_t;

typedef struct q_expect {
    q_kind_t kind;
    int id;                           /* Q_LOOKUP: lookup id; Q_DOC_ROWS: document action id */
    const mapping_action_info_t *act; /* Q_GROUP */
} q_expect_t;

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
    int counted; /* rows of the last Q_COUNT result */
    int paused;  /* the last Q_PAUSED result */
    event_position_t *pos;
    size_t npos;
    int serial;
    /* the batch being applied, for results that mark its events */
    event_t *ev;
    size_t nev;
    arena_t *err_arena;
    const char **key_hexes; /* per event, the key in hex (parking projections), or NULL */
    /* documents (projections with index actions; sink_pg_docs.c) */
    sink_index_fn index_fn;
    void *index_ctx;
    arena_t *doc_arena;         /* per sink_pg_apply() call */
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

/* Connects if needed and prepares every statement. Returns 0 or -1 (retriable). Blocks. */
int sink_pg_connect(sink_pg_t *s, char *errstr, size_t errsz);
/* Prepares a statement on the connection. Returns 0 or -1 (errstr). Blocks. */
int sink_pg_prepare(sink_pg_t *s, const char *name, const char *sql, char *errstr, size_t errsz);
/* Queues a prepared statement on the pipeline, expecting a result of kind (id, act). */
void sink_pg_send(sink_pg_t *s, const char *name, int n, const char *const *params,
                  const int *lengths, const int *formats, q_kind_t kind, int id,
                  const mapping_action_info_t *act);
/* Syncs the pipeline and reads every result. Returns the class of the first error (its text in
 * s->errmsg). Blocks. */
err_class_t sink_pg_sync(sink_pg_t *s);

/* ---- documents (sink_pg_docs.c) ---- */

/* Prepares the document statements on the new connection. Returns 0 or -1 (errstr). */
int sink_pg_docs_prepare(sink_pg_t *s, char *errstr, size_t errstr_size);
/* Evaluates the document actions of the pending events of ev[0, n); marks those whose documents
 * cannot be built dead (EVENT_STAGE_DOCUMENT). */
void sink_pg_docs_eval(sink_pg_t *s, event_t *ev, size_t n);
/* Inside the batch's transaction, once its writes are sent: reads the documents, takes the
 * batch's document version and hands the documents to the indexer. Returns ERR_NONE, ERR_AGAIN
 * (documents refused: their events are marked dead, stage "index"), ERR_INDEX or a database
 * error. Blocks. */
err_class_t sink_pg_docs_index(sink_pg_t *s, event_t *ev, size_t n);
/* Takes a Q_DOC_ROWS or Q_DOC_VERSION result. */
void sink_pg_docs_result(sink_pg_t *s, PGresult *r, const q_expect_t *q);
void sink_pg_docs_free(sink_pg_t *s);

/* ---- parking (sink_pg_park.c) ---- */

/* Prepares the parking query on the new connection. Returns 0 or -1 (errstr). */
int sink_pg_park_prepare(sink_pg_t *s, char *errstr, size_t errstr_size);
/* Queues the query for the batch's keys with an unresolved dead letter (in the BEGIN pipeline);
 * its answer (Q_PARKED) goes to sink_pg_park_from_rows(), which parks the batch's events of
 * those keys. */
void sink_pg_park_send_query(sink_pg_t *s);
void sink_pg_park_from_rows(sink_pg_t *s, PGresult *r);
/* Parks the pending events that follow a dead one of the same topic and key in the batch;
 * returns ERR_AGAIN when it did (apply the batch again without them), else ERR_NONE. */
err_class_t sink_pg_park_followers(sink_pg_t *s);

/* ---- table identity and stalls (sink_pg_guard.c) ---- */

/* Prepares the statements on the new connection. Returns 0 or -1 (errstr). */
int sink_pg_guard_prepare(sink_pg_t *s, char *errstr, size_t errstr_size);
/* Queues the check of the tables' identity (in a batch's transaction, after the position lock). */
void sink_pg_tables_send(sink_pg_t *s);
/* Takes the Q_TABLES result. */
void sink_pg_tables_result(sink_pg_t *s, PGresult *r);
/* Adds the rows of r (replay_targets) to s->targets. */
void sink_pg_targets_result(sink_pg_t *s, PGresult *r);
/* Once the check's result is in: ERR_MOVED (s->errmsg says which table) when a table was
 * re-created under applied positions; else records unrecorded tables and returns ERR_NONE or a
 * database error. Blocks. */
err_class_t sink_pg_tables_after(sink_pg_t *s);

#endif
