/* JSON paths ($.a.b[0].c, $.items[*].qty, $["odd key"]) compiled once, evaluated per event. */
#ifndef PROJECTOR_JPATH_H
#define PROJECTOR_JPATH_H

#include <jansson.h>
#include <stddef.h>

typedef struct jpath jpath_t;

/* Compiles expr. Returns 0 and sets *out (caller owns, jpath_destroy()), or -1 with a message
 * naming the character position in errstr. Does not block. */
int jpath_compile(const char *expr, jpath_t **out, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));
void jpath_destroy(jpath_t *p);
/* The source text of the path. */
const char *jpath_text(const jpath_t *p);
/* The path's steps as keys into keys[0, max): an object key, or "*" for an array element (an
 * index or [*]); returns how many (borrowed from p). */
size_t jpath_keys(const jpath_t *p, const char **keys, size_t max);
/* 1 when the path has a [*] step and so can match many values. */
int jpath_is_multi(const jpath_t *p);
/* Returns the single value at p in root (borrowed), or NULL when the path does not match.
 * For a multi path, returns NULL. */
json_t *jpath_get(const jpath_t *p, json_t *root);
/* Calls fn for each value matched (in document order); returns how many matched. */
size_t jpath_each(const jpath_t *p, json_t *root, void (*fn)(json_t *v, void *ctx), void *ctx);

#endif
