/* The versions of projector and of the libraries it runs with, for --version and /metrics. */
#ifndef PROJECTOR_VERSION_H
#define PROJECTOR_VERSION_H

#include <stddef.h>

typedef struct version_component {
    const char *name; /* "projector", "librdkafka", "libpq", "jansson", "libcurl", "libevent" */
    char version[48]; /* as the library reports it at run time */
} version_component_t;

enum { VERSION_COMPONENTS = 6 };

/* Fills out[0, VERSION_COMPONENTS) with projector's version first, then each library's (as
 * loaded, not as compiled against). Does not block. */
void version_components(version_component_t out[VERSION_COMPONENTS]);

#endif
