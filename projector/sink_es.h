/* Writes a batch's documents to Elasticsearch/OpenSearch through _bulk, versioned. */
#ifndef PROJECTOR_SINK_ES_H
#define PROJECTOR_SINK_ES_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config.h"
#include "es_client.h"
#include "mapping.h"
#include "sink_pg.h"
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
int sink_es_write(void *ctx, sink_doc_t *docs, size_t n, int64_t version, arena_t *arena,
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
 * "<alias>-g<N>" of each alias (out), created when the build starts (kept when it exists: a
 * resumed build), put behind the alias in one _aliases request at the switch (the indices it
 * pointed at are deleted then, unless keep_old), and deleted when the build is cancelled (unless
 * readers see it). Each returns 0, or as sink_es_migrate() -1 (the cluster failed) or -2 (the
 * setup is wrong), with errstr. Blocks. */
void sink_es_generation_index(const char *alias, int number, char *out, size_t size);
int sink_es_generation_create(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                              size_t errstr_size) __attribute__((warn_unused_result));
int sink_es_generation_switch(const config_t *cfg, const mapping_t *m, int number, int keep_old,
                              char *errstr, size_t errstr_size) __attribute__((warn_unused_result));
int sink_es_generation_discard(const config_t *cfg, const mapping_t *m, int number, char *errstr,
                               size_t errstr_size) __attribute__((warn_unused_result));

#endif
