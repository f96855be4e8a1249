/* RFC 3339 times: one grammar, read field by field, for every time a user writes. */
#include "rfc3339.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

/* Reads exactly n digits at *p into *v and moves *p past them. Returns 0, or -1 when fewer than
 * n digits are there. */
static int digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 0;
}

/* Moves *p past one of the characters of chars. Returns 0, or -1 when *p is not one of them. */
static int one_of(const char **p, const char *chars)
{
    if (!**p || !strchr(chars, **p))
        return -1;
    (*p)++;
    return 0;
}

/* YYYY-MM-DD into tm. */
static int parse_date(const char **p, struct tm *tm)
{
    if (digits(p, 4, &tm->tm_year) || one_of(p, "-") || digits(p, 2, &tm->tm_mon) ||
        one_of(p, "-") || digits(p, 2, &tm->tm_mday))
        return -1;
    if (tm->tm_mon < 1 || tm->tm_mon > 12 || tm->tm_mday < 1 || tm->tm_mday > 31)
        return -1;
    tm->tm_year -= 1900;
    tm->tm_mon -= 1;
    return 0;
}

/* .D... after the seconds: its first three digits as milliseconds into *ms. */
static int parse_fraction(const char **p, int64_t *ms)
{
    if (!isdigit((unsigned char)(*p)[1]))
        return -1;
    int64_t scale = 100;
    for ((*p)++; isdigit((unsigned char)**p); (*p)++, scale /= 10)
        *ms += (**p - '0') * scale;
    return 0;
}

/* [Tt ]HH:MM[:SS[.fraction]] into tm and *ms. */
static int parse_clock(const char **p, struct tm *tm, int64_t *ms, rfc3339_t *t)
{
    if (one_of(p, "Tt ") || digits(p, 2, &tm->tm_hour) || one_of(p, ":") ||
        digits(p, 2, &tm->tm_min) || tm->tm_hour > 23 || tm->tm_min > 59)
        return -1;
    t->has_time = 1;
    if (**p != ':')
        return 0;
    (*p)++;
    if (digits(p, 2, &tm->tm_sec) || tm->tm_sec > 60)
        return -1;
    t->has_seconds = 1;
    return **p == '.' ? parse_fraction(p, ms) : 0;
}

/* Z, z, +HH:MM or -HH:MM: minutes east of UTC into *minutes. */
static int parse_offset(const char **p, int *minutes)
{
    if (one_of(p, "Zz") == 0)
        return 0;
    int sign = **p == '-' ? -1 : 1, h, m;
    if (one_of(p, "+-") || digits(p, 2, &h) || one_of(p, ":") || digits(p, 2, &m) || h > 23 ||
        m > 59)
        return -1;
    *minutes = sign * (h * 60 + m);
    return 0;
}

int rfc3339_parse(const char *text, rfc3339_t *t)
{
    struct tm tm;
    const char *p = text;
    int64_t frac_ms = 0;
    int offset_min = 0;
    memset(&tm, 0, sizeof(tm));
    memset(t, 0, sizeof(*t));
    if (parse_date(&p, &tm) != 0)
        return -1;
    if (*p && parse_clock(&p, &tm, &frac_ms, t) != 0)
        return -1;
    if (*p && t->has_time) {
        if (parse_offset(&p, &offset_min) != 0)
            return -1;
        t->has_offset = 1;
    }
    if (*p)
        return -1;
    t->ms = ((int64_t)timegm(&tm) - (int64_t)offset_min * 60) * 1000 + frac_ms;
    return 0;
}
