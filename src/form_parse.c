/*
 * form_parse.c - application/x-www-form-urlencoded bodies (see
 * form_parse.h).
 *
 * Each name and value is decoded into a buffer bounded by its limit before
 * anything is allocated for it, so a hostile body costs at most the limits,
 * whatever its length.
 */
#include "crisisrun/form_parse.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum decode_result { DECODE_OK, DECODE_BAD_ESCAPE, DECODE_NUL, DECODE_TOO_LONG };

/*
 * Decodes s[0..len) into a new string (*out, length *outlen) of at most
 * max bytes.  '+' becomes a space and %XX one byte.
 */
static enum decode_result decode(const char *s, size_t len, size_t max, char **out,
                                 size_t *outlen)
{
    /* Decoding never lengthens: len bounds the result. */
    char *buf = xmalloc((len < max ? len : max) + 1);
    size_t o = 0;
    enum decode_result ret = DECODE_OK;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            /* Two hex digits must follow, within s. */
            int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                ret = DECODE_BAD_ESCAPE;
                break;
            }
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') {
            ret = DECODE_NUL;
            break;
        }
        if (o == max) {
            ret = DECODE_TOO_LONG;
            break;
        }
        buf[o++] = c;
    }
    if (ret != DECODE_OK) {
        free(buf);
        return ret;
    }
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return DECODE_OK;
}

/* The message for a failed decode of a name (field NULL) or of field's value. */
static char *decode_problem(enum decode_result r, const char *field, size_t max)
{
    switch (r) {
    case DECODE_BAD_ESCAPE:
        return field ? xasprintf("invalid %%-escape in the value of '%s'", field)
                     : xstrdup("invalid %-escape in a field name");
    case DECODE_NUL:
        return field ? xasprintf("a NUL byte in the value of '%s'", field)
                     : xstrdup("a NUL byte in a field name");
    case DECODE_TOO_LONG:
        return field ? xasprintf("the value of '%s' is longer than %zu bytes", field, max)
                     : xasprintf("a field name is longer than %zu bytes", max);
    case DECODE_OK:
        break;
    }
    return xstrdup("invalid form data");
}

int form_parse(const char *body, size_t len, const struct form_limits *lim,
               struct form *out, char **why)
{
    size_t max_fields =
        lim && lim->max_fields ? lim->max_fields : FORM_DEFAULT_MAX_FIELDS;
    size_t max_name = lim && lim->max_name ? lim->max_name : FORM_DEFAULT_MAX_NAME;
    size_t max_value = lim && lim->max_value ? lim->max_value : FORM_DEFAULT_MAX_VALUE;
    *why = NULL;
    size_t pos = 0;
    while (pos < len) {
        const char *pair = body + pos;
        const char *amp = memchr(pair, '&', len - pos);
        size_t plen = amp ? (size_t)(amp - pair) : len - pos;
        pos += plen + 1;
        if (!plen)
            continue;
        const char *eq = memchr(pair, '=', plen);
        size_t nlen = eq ? (size_t)(eq - pair) : plen;
        if (out->n == max_fields) {
            *why = xasprintf("more than %zu fields", max_fields);
            goto fail;
        }
        char *name, *value;
        size_t name_len, value_len;
        enum decode_result r = decode(pair, nlen, max_name, &name, &name_len);
        if (r != DECODE_OK) {
            *why = decode_problem(r, NULL, max_name);
            goto fail;
        }
        if (!name_len) {
            free(name);
            *why = xstrdup("a field without a name");
            goto fail;
        }
        if (eq) {
            r = decode(eq + 1, plen - nlen - 1, max_value, &value, &value_len);
        } else {
            value = xstrdup("");
            value_len = 0;
        }
        if (r != DECODE_OK) {
            *why = decode_problem(r, name, max_value);
            free(name);
            goto fail;
        }
        ALLOC_GROW(out->fields, out->n + 1, out->alloc);
        out->fields[out->n++] = (struct form_field){name, value, value_len};
    }
    return 0;
fail:
    form_release(out);
    return -1;
}

const struct form_field *form_get(const struct form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->fields[i].name, name))
            return &f->fields[i];
    return NULL;
}

size_t form_count(const struct form *f, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += !strcmp(f->fields[i].name, name);
    return n;
}

void form_release(struct form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->fields[i].name);
        free(f->fields[i].value);
    }
    free(f->fields);
    f->fields = NULL;
    f->n = f->alloc = 0;
}
