/* A list of problems, each "file: json.path: message", collected so one run reports them all. */
#ifndef PROJECTOR_ERRLIST_H
#define PROJECTOR_ERRLIST_H

#include <stddef.h>
#include <stdio.h>

typedef struct errlist errlist_t;

errlist_t *errlist_new(void);
void errlist_destroy(errlist_t *e);
/* Adds "file: where: message". */
void errlist_add(errlist_t *e, const char *file, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
size_t errlist_count(const errlist_t *e);
const char *errlist_get(const errlist_t *e, size_t i);
/* Prints each problem on its own line. */
void errlist_print(const errlist_t *e, FILE *out);

#endif
