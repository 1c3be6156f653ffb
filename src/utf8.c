/*
 * utf8.c - checking and repairing UTF-8 (see utf8.h).
 */
#include "crisisrun/utf8.h"

#include <stdint.h>
#include <string.h>

#include "crisisrun/util.h"

size_t utf8_check(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            /* Playbooks are mostly ASCII: skip it eight bytes at a time. */
            uint64_t w;
            i++;
            while (len - i >= 8 && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080u)))
                i += 8;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (len - i <= need)
            return i;
        for (size_t k = 1; k <= need; k++) {
            if (!utf8_is_continuation(s[i + k]))
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += need + 1;
    }
    return len;
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when s does not
 * start one.  Never reads past a NUL.
 */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return utf8_is_continuation(s[1]) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        return s[1] >= lo && s[1] <= hi && utf8_is_continuation(s[2]) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        return s[1] >= lo && s[1] <= hi && utf8_is_continuation(s[2]) && utf8_is_continuation(s[3])
                   ? 4
                   : 0;
    }
    return 0;
}

char *utf8_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    struct strbuf sb = STRBUF_INIT;

    strbuf_init(&sb, strlen(s));
    while (*p) {
        size_t n = utf8_seq_len(p);
        if (n) {
            strbuf_add(&sb, p, n);
            p += n;
        } else {
            strbuf_addstr(&sb, "\xef\xbf\xbd"); /* U+FFFD REPLACEMENT CHARACTER */
            p++;
        }
    }
    return strbuf_detach(&sb, NULL);
}

size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += !utf8_is_continuation((unsigned char)*s);
    return n;
}
