/* Writes a batch's documents to Elasticsearch/OpenSearch through _bulk, versioned. */
#ifndef PROJECTOR_SINK_ES_H
#define PROJECTOR_SINK_ES_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "es_client.h"
#include "event.h"
#include "mapping.h"
#include "stats.h"

typedef struct sink_es sink_es_t;

/* Returns the client settings cfg's es.* settings describe (strings borrowed from cfg). */
es_settings_t sink_es_settings(const config_t *cfg);

/* Returns a sink writing through the es.* settings of cfg (bulk limits, connection), counting in
 * stats (borrowed; may be NULL), or NULL with errstr set. Documents go to the aliases the
 * mappings name, or for generation > 0 (a blue/green rebuild's) to that generation's index
 * behind each alias (sink_es_generation_index()). Does not block. Caller owns it. */
sink_es_t *sink_es_new(const config_t *cfg, stats_t *stats, int generation, char *errstr,
                       size_t errstr_size);
void sink_es_destroy(sink_es_t *s);

/* A sink_index_fn (ctx: the sink_es_t): writes docs[0, n) with external version `version`, in
 * _bulk requests of at most es.bulk.max.docs documents and es.bulk.max.bytes. A 409 means the
 * document holds this version or a newer one: written. 429/5xx items and failed requests make
 * the call fail retriably (-1); documents refused for good (400, ...) get their error (1). A
 * request refused as a whole is split until the refused document is alone. Blocks. */
int sink_es_write(void *ctx, event_doc_t *docs, size_t n, int64_t version, arena_t *arena,
                  char *errstr, size_t errstr_size);

/* Reads the definition of index (an alias) that mapping m writes: <views>/<index>.es.json, a JSON
 * object of "settings" and "mappings". Returns 0 with the compact JSON in *out (caller frees), or
 * -1 with errstr naming the file and the problem. Does not contact the cluster. */
int sink_es_definition(const config_t *cfg, const mapping_t *m, const char *index, char **out,
                       char *errstr, size_t errstr_size) __attribute__((warn_unused_result));
/* Makes sure every index m writes exists: an alias over "<alias>-<time>" created from its
 * definition, left as it is when present. Returns 0, -1 when the cluster failed (retriable) or
 * -2 when the setup is wrong (no URL, definition missing or invalid); errstr says why. Blocks. */
int sink_es_migrate(const config_t *cfg, const mapping_t *m, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));
/* For a rebuild: puts a new empty index behind each alias m writes (atomically) and deletes the
 * old ones. Same returns as sink_es_migrate(). Blocks. */
int sink_es_recreate(const config_t *cfg, const mapping_t *m, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Blue/green rebuilds: generation N of a projection writes its documents to the index
 * "<alias>-g<N>" of each alias (out). sink_es_generation_create() creates it (kept when it
 * exists: a resumed build) with a record, in its mappings' _meta, of the indices the alias points
 * at then (the live generation's: the ones it replaces). sink_es_generation_switch() puts it
 * behind the alias in one _aliases request (in the switch's transaction, before its COMMIT);
 * sink_es_generation_drop_replaced() deletes the indices it replaces (after the COMMIT, unless
 * the old generation is kept; never one the alias points at); sink_es_generation_discard()
 * deletes it when the build is cancelled (unless readers see it). Each returns 0, or as
 * sink_es_migrate() -1 (the cluster failed) or -2 (the setup is wrong), with errstr. Blocks. */
void sink_es_generation_index(const char *alias, int number, char *out, size_t size);
int sink_es_generation_create(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                              size_t errstr_size) __attribute__((warn_unused_result));
int sink_es_generation_switch(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                              size_t errstr_size) __attribute__((warn_unused_result));
int sink_es_generation_drop_replaced(const config_t *cfg, const mapping_t *m, int number,
                                     char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));
int sink_es_generation_discard(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                               size_t errstr_size) __attribute__((warn_unused_result));

/* Points every alias of m back at the index of generation `live` (the one PostgreSQL says is
 * live) when it points at another generation's "<alias>-g<N>": what a switch leaves when the
 * engine applied its _aliases request and the PostgreSQL transaction did not commit (a crash, a
 * lost answer). The live generation's indices are the ones the other generation's index
 * records it replaces (N > live: a build's), else "<alias>-g<live>". One _aliases request per
 * alias (atomic), logged: "alias orders moved back from orders-g2 to orders-1733... (the live
 * generation 1)". An alias on the live generation's index (any of generation 1's
 * "<alias>-<ms>", or "<alias>-g<live>") is left alone. Returns 0 (also when nothing moved), -1
 * when the cluster failed, -2 when the live generation's index cannot be found (errstr says
 * what to do). Blocks. The caller keeps switches from running meanwhile
 * (generation_reconcile_search()). */
int sink_es_reconcile_aliases(const config_t *cfg, const mapping_t *m, int live, char *errstr,
                              size_t errstr_size) __attribute__((warn_unused_result));

#endif
