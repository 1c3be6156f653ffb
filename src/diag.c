/*
 * diag.c - the diagnostics list (see diag.h).
 */
#include "crisisrun/diag.h"

#include <stdlib.h>
#include <string.h>

/*
 * A copy of s with its control characters written as \xNN (C0 and DEL) or
 * \uNNNN (C1).  Messages quote what the file says (an id, a name, a
 * duration), and a double-quoted YAML value can hold any character: an
 * ESC sequence would act on the terminal that shows the error (clear it,
 * retitle it, hide the lines above), a line break would forge a line of
 * its own.  Everything else, other UTF-8 included, is kept.
 */
static char *escape_controls(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            strbuf_addf(&sb, "\\x%02x", *p);
        else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            strbuf_addf(&sb, "\\u%04x", *++p);
        else
            strbuf_addch(&sb, (char)*p);
    }
    return strbuf_detach(&sb, NULL);
}

void diag_add(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    ALLOC_GROW(d->v, d->n + 1, d->alloc);
    struct diag_entry *e = &d->v[d->n++];
    e->file = escape_controls(file ? file : "-");
    e->line = line;
    e->col = col;
    e->msg = escape_controls(msg);
    free(msg);
}

static int cmp_pos(const struct diag_entry *a, const struct diag_entry *b)
{
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return 0;
}

void diag_sort(struct diag *d)
{
    /* Insertion sort: stable, and diagnostics lists are short. */
    for (size_t i = 1; i < d->n; i++) {
        struct diag_entry e = d->v[i];
        size_t j = i;
        while (j > 0 && strcmp(d->v[j - 1].file, e.file) == 0 && cmp_pos(&d->v[j - 1], &e) > 0) {
            d->v[j] = d->v[j - 1];
            j--;
        }
        d->v[j] = e;
    }
}

char *diag_format(const struct diag_entry *e)
{
    return xasprintf("%s:%d:%d: error: %s", e->file, e->line, e->col, e->msg);
}

void diag_print(const struct diag *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++) {
        char *s = diag_format(&d->v[i]);
        fprintf(out, "%s\n", s);
        free(s);
    }
}

void diag_release(struct diag *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    d->v = NULL;
    d->n = d->alloc = 0;
}
