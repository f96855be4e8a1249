/* Generations of a projection's tables: the live one under the stable names, and one being
 * built beside it by a blue/green rebuild (its schema, positions key and consumer group), and
 * the database steps that create, switch and drop them. */
#ifndef PROJECTOR_GENERATION_H
#define PROJECTOR_GENERATION_H

#include <libpq-fe.h>
#include <stddef.h>

#include "config.h"
#include "mapping.h"

/* Where a worker applies. A plain value: copy it freely. */
typedef struct generation {
    int number;       /* 0: the live tables; else the generation being built */
    char key[192];    /* projection column of positions and dead letters, and the log label:
                         "<projection>" live, "<projection>#g<N>" being built */
    char schema[192]; /* "": the live tables; else the build schema, first on the search path */
    char group[512];  /* consumer group: "<group>.<projection>" or "<group>.<projection>.g<N>" */
} generation_t;

/* The live generation of projection m. */
void generation_live(generation_t *g, const config_t *cfg, const mapping_t *m);
/* Generation number (>= 1) of projection m, being built. */
void generation_build(generation_t *g, const config_t *cfg, const mapping_t *m, int number);
/* The most events of one batch of g: batch.max.events live, rebuild.batch.max.events while built
 * (the build's tables start empty and nobody reads them: larger batches fold more operations on
 * one row into one write). */
size_t generation_batch_max(const generation_t *g, const config_t *cfg);

/* Puts up to max distinct tables m writes into out (the tables a rebuild recreates): those of its
 * upsert, update and delete actions, then those its sql actions write as the database planned
 * them (mapping_sql_table(), known once the mappings were checked against the database).
 * Returns how many. */
size_t generation_tables(const mapping_t *m, const char **out, size_t max);

/* Name of the schema a blue/green rebuild of projection builds in: "projector_build_<name>". */
void generation_build_schema(char *out, size_t outsz, const char *projection);
/* Name of the schema an old generation is moved to at the switch:
 * "projector_old_<name>_g<N>". */
void generation_old_schema(char *out, size_t outsz, const char *projection, int number);

/* Inside the caller's transaction on c: creates the build schema of m afresh (dropping a
 * leftover one) and runs the views directory's .sql files with it first on the search path, so
 * their unqualified CREATE TABLE IF NOT EXISTS lands there; then creates the build positions of
 * every partition in rebuild_partitions of rebuild id. Blocks. Returns 0, or -1 with errstr. */
int generation_create(PGconn *c, const config_t *cfg, const mapping_t *m, long long rebuild_id,
                      int number, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Inside the caller's transaction on c (which holds the rebuild's row): locks the live and the
 * build positions (waiting for batches in flight), moves the live tables of m to the old
 * schema and the built ones under the stable names, replaces the live positions and dead
 * letters by the build generation's, records the new live generation, and last puts the
 * generation's search indices behind m's aliases (in one _aliases request each; the old indices
 * stay, out of the aliases, until sink_es_generation_drop_replaced() after the COMMIT). Should
 * the COMMIT not happen after the aliases moved, generation_reconcile_search() moves them back.
 * Blocks. Returns 0, or -1 with errstr (the caller rolls back). */
int generation_switch(PGconn *c, const config_t *cfg, const mapping_t *m, int old_number,
                      int number, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Inside the caller's transaction on c: takes m's active rebuild row FOR SHARE (waiting for a
 * switch in progress to commit or roll back, and holding the next switch off), reads the live
 * generation and points m's search aliases at its indices again when a switch that did not
 * commit left them on the build's (sink_es_reconcile_aliases(), which logs what it moved). For
 * `run` and `migrate` at start and for a cancel. Blocks. Returns 0, -1 when the database or the
 * cluster failed (retriable), -2 when the live generation's index cannot be found; errstr. */
int generation_reconcile_search(PGconn *c, const config_t *cfg, const mapping_t *m, char *errstr,
                                size_t errstr_size) __attribute__((warn_unused_result));

/* In place, inside the caller's transaction: locks the live positions of m (waiting for
 * batches in flight), truncates the tables m writes, resets its positions, drops its dead
 * letters and puts new empty indices behind its search aliases; the running workers then replay
 * from the earliest offsets. Blocks. Returns 0, or -1 with errstr. */
int generation_reset(PGconn *c, const config_t *cfg, const mapping_t *m, char *errstr,
                     size_t errstr_size) __attribute__((warn_unused_result));

/* Drops a schema of a generation (old or build) and everything in it, if it exists. Blocks.
 * Returns 0, or -1 with errstr. */
int generation_drop_schema(PGconn *c, const char *schema, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Inside the caller's transaction: deletes the build generation's positions and dead letters
 * (locking them first: waits for batches in flight), drops its schema and deletes its search
 * indices. Blocks. */
int generation_discard(PGconn *c, const config_t *cfg, const mapping_t *m, int number, char *errstr,
                       size_t errstr_size) __attribute__((warn_unused_result));

#endif
