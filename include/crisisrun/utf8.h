/*
 * utf8.h - UTF-8, checked and repaired in one place.
 *
 * Playbooks and form posts must be UTF-8 (utf8_check finds the first bad
 * byte for a diagnostic); values that nobody promised were UTF-8 (--var,
 * environment variables) are repaired with U+FFFD before they reach a
 * JSON payload (utf8_clean), because jansson refuses anything else.
 * Services count message lengths in characters (utf8_len).
 */
#ifndef CRISISRUN_UTF8_H
#define CRISISRUN_UTF8_H

#include <stddef.h>

/* 1 for a continuation byte (10xxxxxx). */
static inline int utf8_is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/*
 * Checks that s is UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF).  Returns the offset of the first bad byte, or len when valid.
 */
size_t utf8_check(const char *s, size_t len);

/* A copy of s in which every byte that does not start a well-formed
 * sequence is replaced by U+FFFD. */
char *utf8_clean(const char *s);

/* Number of characters (code points) in s. */
size_t utf8_len(const char *s);

#endif
