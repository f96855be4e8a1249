/* Growable byte buffers for building SQL text and PostgreSQL array literals. */
#ifndef PROJECTOR_STRBUF_H
#define PROJECTOR_STRBUF_H

#include <stddef.h>

/* A plain struct on purpose: callers embed it and read data/len directly. */
typedef struct strbuf {
    char *data; /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
} strbuf_t;

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Appends; aborts the process on out-of-memory (nothing sensible can go on). */
void strbuf_append(strbuf_t *sb, const char *s, size_t n);
void strbuf_puts(strbuf_t *sb, const char *s);
void strbuf_printf(strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a double-quoted PostgreSQL array element, or NULL when s is NULL. */
void strbuf_array_elem(strbuf_t *sb, const char *s);
/* Empties the buffer, keeping its memory. */
void strbuf_reset(strbuf_t *sb);
void strbuf_free(strbuf_t *sb);

#endif
