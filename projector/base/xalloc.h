/* Allocation that cannot fail: the process aborts when memory runs out (there is nothing sane
 * to do then: every caller would abort too). */
#ifndef PROJECTOR_XALLOC_H
#define PROJECTOR_XALLOC_H

#include <stddef.h>

/* Each returns memory the caller owns (free()); never NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* A NUL-terminated copy of s[0, n) (s may hold NUL bytes before n: they are copied). */
char *xstrndup(const char *s, size_t n);
/* NULL for NULL, else xstrdup(s). */
char *xstrdup_or_null(const char *s);

#endif
