/* Leveled logging for people (text) or machines (JSON lines), context first. */
#ifndef PROJECTOR_LOG_H
#define PROJECTOR_LOG_H

typedef enum {
    LOG_ERROR = 0, /* something failed and was not retried, or needs an operator */
    LOG_WARN = 1,  /* something failed and is being retried or dead-lettered */
    LOG_INFO = 2,  /* lifecycle: start, assignment, catch-up, stop */
    LOG_DEBUG = 3, /* per-batch detail; never formatted unless enabled */
} log_level_t;

/* The current threshold; read before formatting anything. */
extern int log_threshold;

/* Sets the threshold from "error|warn|info|debug"; returns 0, or -1 on an unknown name. */
int log_set_level(const char *name) __attribute__((warn_unused_result));
/* Selects "text" (default) or "json" output; returns 0, or -1 on an unknown name. */
int log_set_format(const char *name) __attribute__((warn_unused_result));

/* Writes one line to stderr; thread-safe (one write per line). Use the LOG macro. */
void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG(level, ...)                                                                            \
    do {                                                                                           \
        if ((int)(level) <= log_threshold)                                                         \
            log_write((level), __VA_ARGS__);                                                       \
    } while (0)

#endif
