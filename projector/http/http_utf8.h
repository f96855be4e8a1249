/* UTF-8 for the HTTP API: checking what a request holds, and making any bytes safe to put in a
 * JSON reply. */
#ifndef PROJECTOR_HTTP_UTF8_H
#define PROJECTOR_HTTP_UTF8_H

#include <stddef.h>

#include "strbuf.h"

/* Is s[0..n) valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)? */
int http_utf8_valid(const char *s, size_t n);
/* Appends s[0..n) to sb as valid UTF-8: each invalid byte becomes U+FFFD; at most max bytes,
 * cut between characters and ended with "..." when cut. sb holds text ("" at least) after. */
void http_utf8_append(strbuf_t *sb, const char *s, size_t n, size_t max);

#endif
