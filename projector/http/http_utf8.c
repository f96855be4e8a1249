/* UTF-8 for the HTTP API: the validity check of request bytes and the safe copy of any bytes
 * into a reply. */
#include "http_utf8.h"

/* The length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    static const struct {
        unsigned char lead_min, lead_max, len, second_min, second_max;
    } forms[] = {
        {0x00, 0x7f, 1, 0, 0},       {0xc2, 0xdf, 2, 0x80, 0xbf}, {0xe0, 0xe0, 3, 0xa0, 0xbf},
        {0xe1, 0xec, 3, 0x80, 0xbf}, {0xed, 0xed, 3, 0x80, 0x9f}, {0xee, 0xef, 3, 0x80, 0xbf},
        {0xf0, 0xf0, 4, 0x90, 0xbf}, {0xf1, 0xf3, 4, 0x80, 0xbf}, {0xf4, 0xf4, 4, 0x80, 0x8f},
    };
    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        if (s[0] < forms[f].lead_min || s[0] > forms[f].lead_max)
            continue;
        size_t len = forms[f].len;
        if (len > n)
            return 0;
        if (len > 1 && (s[1] < forms[f].second_min || s[1] > forms[f].second_max))
            return 0;
        for (size_t i = 2; i < len; i++)
            if ((s[i] & 0xc0) != 0x80)
                return 0;
        return len;
    }
    return 0;
}

int http_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

void http_utf8_append(strbuf_t *sb, const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        const char *piece = len ? s + i : "\xef\xbf\xbd"; /* U+FFFD */
        size_t plen = len ? len : 3;
        if (used + plen > max) {
            strbuf_puts(sb, "...");
            return;
        }
        strbuf_append(sb, piece, plen);
        used += plen;
        i += len ? len : 1;
    }
    if (!sb->data)
        strbuf_puts(sb, "");
}
