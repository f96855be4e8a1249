/* Leveled logging for people (text) or machines (JSON lines), context first. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int log_threshold = LOG_INFO;
static int log_json;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_set_level(const char *name)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            log_threshold = i;
            return 0;
        }
    }
    return -1;
}

int log_set_format(const char *name)
{
    if (strcmp(name, "text") == 0)
        log_json = 0;
    else if (strcmp(name, "json") == 0)
        log_json = 1;
    else
        return -1;
    return 0;
}

/* Appends s to out as the inside of a JSON string; returns the new length. */
static size_t json_escape(char *out, size_t len, size_t cap, const char *s)
{
    for (; *s && len + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[len++] = '\\';
            out[len++] = (char)c;
        } else if (c < 0x20) {
            len += (size_t)snprintf(out + len, cap - len, "\\u%04x", c);
        } else {
            out[len++] = (char)c;
        }
    }
    return len;
}

void log_write(log_level_t level, const char *fmt, ...)
{
    char msg[4096], line[8400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One event, one line: libpq's messages end in a newline and run over several lines. */
    size_t end = strlen(msg);
    while (end && (msg[end - 1] == '\n' || msg[end - 1] == ' ' || msg[end - 1] == '\t'))
        msg[--end] = '\0';
    for (char *p = msg; !log_json && *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03dZ", (int)(tv.tv_usec / 1000));

    size_t len;
    if (log_json) {
        len = (size_t)snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
                               level_names[level]);
        len = json_escape(line, len, sizeof(line) - 4, msg);
        memcpy(line + len, "\"}\n", 3);
        len += 3;
    } else {
        len = (size_t)snprintf(line, sizeof(line), "%s %-5s %s\n", ts, level_names[level], msg);
        if (len >= sizeof(line))
            len = sizeof(line) - 1;
    }
    /* One write(2) per line keeps lines from several threads whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
