/* A rebuild's state and progress, read from projector.rebuilds and the positions: for
 * `projector status`, `projector rebuild --wait`, the HTTP API and the metrics. */
#ifndef PROJECTOR_REBUILD_STATUS_H
#define PROJECTOR_REBUILD_STATUS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>

#include "rebuild_state.h" /* rebuild_state_t, for the users of this header too */

typedef struct rebuild_part {
    char topic[256];
    int partition;
    long long start, target; /* log start and high watermark at the request */
    long long next;          /* next offset stored by the generation replaying (-1: none) */
    long long lag;           /* high watermark now - next (-1: unknown) */
} rebuild_part_t;

typedef struct rebuild_status {
    long long id;
    char projection[160];
    char mode[16]; /* "in-place" or "blue-green" */
    rebuild_state_t state;
    int generation, old_generation, keep_old;
    char error[512];
    double seconds;            /* since it started (taken up by an instance), or was requested */
    long long replayed, total; /* events replayed of those the topics held at the request */
    int caught_up;             /* every partition reached its target */
    rebuild_part_t *parts;
    size_t nparts;
} rebuild_status_t;

/* Reads rebuild id (id > 0), or else the latest rebuild of projection (an active one first),
 * with its progress; lag per partition through rk (NULL: not read). Blocks. Returns 1 when
 * found (out filled; rebuild_status_free() it), 0 when there is none, -1 with errstr set. */
int rebuild_status_read(PGconn *c, rd_kafka_t *rk, long long id, const char *projection,
                        rebuild_status_t *out, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));
void rebuild_status_free(rebuild_status_t *s);

/* Is the rebuild still running (requested, building, switching; in place: until caught up)? */
int rebuild_status_active(const rebuild_status_t *s);

/* The status as a JSON object (new reference); rate is events/s (negative: unknown). */
json_t *rebuild_status_json(const rebuild_status_t *s, double rate);
/* One line of progress ("rebuild orders generation 2 building: 1200/5000 events (24%), ...");
 * with bar, a progress bar and no newline (for \r updates on a terminal). */
void rebuild_status_print_line(FILE *out, const rebuild_status_t *s, double rate, int bar);
/* The lag of every partition, one line each, indented. */
void rebuild_status_print_parts(FILE *out, const rebuild_status_t *s);

#endif
