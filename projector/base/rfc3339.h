/* RFC 3339 times as users write them: the one parser of dlq --since and of a test event's
 * timestamp. */
#ifndef PROJECTOR_RFC3339_H
#define PROJECTOR_RFC3339_H

#include <stdint.h>

/* What a time held, and the instant it names. */
typedef struct rfc3339 {
    int has_time;    /* [Tt ]HH:MM was given (else a date alone: its midnight) */
    int has_seconds; /* :SS was given (perhaps with a fraction) */
    int has_offset;  /* Z, z, +HH:MM or -HH:MM was given (else the time is read as UTC) */
    int64_t ms;      /* milliseconds since the epoch; digits of a fraction past the third are
                        cut off */
} rfc3339_t;

/* Parses text, all of it: YYYY-MM-DD, optionally followed by T, t or a space and HH:MM, then
 * optionally :SS and a fraction (.D, any number of digits), then optionally an offset: Z, z,
 * +HH:MM or -HH:MM. Every field is digits only, the month 01-12, the day 01-31 (not checked
 * against the month's length: 02-30 is the instant of 03-02), the hour 00-23, the minute 00-59,
 * the second 00-60 (a leap second), an offset's hour 00-23 and minute 00-59. What is optional
 * here a caller may require (a test event's timestamp needs seconds and an offset): *t says
 * which parts were given. Returns 0 with *t filled, or -1 (*t then undefined). Does not block. */
int rfc3339_parse(const char *text, rfc3339_t *t) __attribute__((warn_unused_result));

#endif
