/*
 * suggest.c - edit distance and did-you-mean (see suggest.h).
 */
#include "crisisrun/suggest.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void suggest_add(struct suggest *sg, const char *name)
{
    ALLOC_GROW(sg->names, sg->n + 1, sg->alloc);
    sg->names[sg->n++] = xstrdup(name);
}

void suggest_add_fmt(struct suggest *sg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    ALLOC_GROW(sg->names, sg->n + 1, sg->alloc);
    sg->names[sg->n++] = s;
}

size_t suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    /* Names are short; anything long is not a typo worth scoring. */
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *suggest_best(const struct suggest *sg, const char *word)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t len = strlen(word);
    for (size_t i = 0; i < sg->n; i++) {
        size_t d = suggest_distance(word, sg->names[i]);
        if (d < best_d) {
            best_d = d;
            best = sg->names[i];
        }
    }
    if (!best || best_d == 0 || best_d > 2 || best_d * 2 > (len > 1 ? len : 1))
        return NULL;
    return best;
}

void suggest_release(struct suggest *sg)
{
    for (size_t i = 0; i < sg->n; i++)
        free(sg->names[i]);
    free(sg->names);
    sg->names = NULL;
    sg->n = sg->alloc = 0;
}

char *suggest_not_in_playbook(struct suggest *sg, const char *what, const char *name)
{
    const char *best = suggest_best(sg, name);
    char *msg = best ? xasprintf("no %s '%s' in this playbook (did you mean '%s'?)", what,
                                 name, best)
                     : xasprintf("no %s '%s' in this playbook", what, name);
    suggest_release(sg);
    return msg;
}
