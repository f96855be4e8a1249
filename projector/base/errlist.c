/* A list of problems, each "file: json.path: message", collected so one run reports them all. */
#include "errlist.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct errlist {
    char **items;
    size_t n;
};

errlist_t *errlist_new(void)
{
    errlist_t *e = xcalloc(1, sizeof(*e));
    return e;
}

void errlist_destroy(errlist_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->items[i]);
    free(e->items);
    free(e);
}

void errlist_add(errlist_t *e, const char *file, const char *where, const char *fmt, ...)
{
    char msg[1024], line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (where && *where)
        snprintf(line, sizeof(line), "%s: %s: %s", file, where, msg);
    else
        snprintf(line, sizeof(line), "%s: %s", file, msg);
    char **items = xrealloc(e->items, (e->n + 1) * sizeof(char *));
    items[e->n] = xstrdup(line);
    e->items = items;
    e->n++;
}

size_t errlist_count(const errlist_t *e)
{
    return e->n;
}

const char *errlist_get(const errlist_t *e, size_t i)
{
    return e->items[i];
}

void errlist_print(const errlist_t *e, FILE *out)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(out, "%s\n", e->items[i]);
}
