/*
 * urllist.c - a channel's endpoint URLs, held compactly (urllist.h).
 *
 * The list is a run of blocks of BLOCK URLs.  A block's first URL is kept
 * whole: its length, then its bytes.  Each of the others is kept as the
 * length of the prefix it shares with that first URL, the length of the
 * rest, then the rest.  Lengths are LEB128 varints: one byte up to 127, two
 * up to URL_MAX_LEN.  Sharing with the block's first URL rather than with
 * the URL just before keeps every URL two copies away instead of a chain
 * of them; the lengths let a lookup step over the URLs before it in its
 * block without reading them.
 */
#include "crisisrun/urllist.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"

enum { BLOCK = 16 };

/* Writes v (at most URL_MAX_LEN) as a varint at p; returns its length. */
static size_t put_len(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    if (v <= 0x7f)
        return 1;
    p[1] = (unsigned char)(v >> 7);
    return 2;
}

/* The varint at *p, which moves past it. */
static size_t get_len(const unsigned char **p)
{
    size_t v = **p & 0x7f;
    if (*(*p)++ & 0x80)
        v |= (size_t) * (*p)++ << 7;
    return v;
}

void url_list_add(struct url_list *l, const char *url)
{
    size_t len = strlen(url), shared = 0, nhead = 0;
    unsigned char head[4];
    if (l->n % BLOCK == 0) {
        ALLOC_GROW(l->blocks, l->n / BLOCK + 1, l->blocks_alloc);
        l->blocks[l->n / BLOCK] = (uint32_t)l->len;
    } else {
        const unsigned char *p = l->data + l->blocks[l->n / BLOCK];
        size_t first_len = get_len(&p);
        while (shared < len && shared < first_len &&
               p[shared] == (unsigned char)url[shared])
            shared++;
        nhead = put_len(head, shared);
    }
    nhead += put_len(head + nhead, len - shared);
    ALLOC_GROW(l->data, l->len + nhead + len - shared, l->alloc);
    memcpy(l->data + l->len, head, nhead);
    memcpy(l->data + l->len + nhead, url + shared, len - shared);
    l->len += nhead + len - shared;
    l->n++;
}

void url_list_trim(struct url_list *l)
{
    if (!l->n)
        return;
    l->data = xrealloc(l->data, l->len);
    l->alloc = l->len;
    l->blocks = xrealloc(l->blocks, (l->n + BLOCK - 1) / BLOCK * sizeof(*l->blocks));
    l->blocks_alloc = (l->n + BLOCK - 1) / BLOCK;
}

char *url_list_get(const struct url_list *l, size_t i, char *buf)
{
    const unsigned char *p = l->data + l->blocks[i / BLOCK];
    size_t first_len = get_len(&p);
    const unsigned char *first = p;
    size_t shared = 0, rest = first_len, k = i % BLOCK;
    p += first_len;
    for (size_t j = 1; j <= k; j++) {
        shared = get_len(&p);
        rest = get_len(&p);
        if (j < k)
            p += rest;
    }
    memcpy(buf, first, shared);
    memcpy(buf + shared, k ? p : first, rest);
    buf[shared + rest] = '\0';
    return buf;
}

static const char *url_at(const void *v, size_t i, char *buf)
{
    return url_list_get(v, i, buf);
}

void url_list_repeats(const struct url_list *l,
                      void (*repeat)(void *arg, size_t i, size_t first), void *arg)
{
    repeats_of(l, l->n, url_at, URL_BUF_SIZE, repeat, arg);
}

void url_list_release(struct url_list *l)
{
    /* A chat webhook's URL is its credential: none is left in freed memory. */
    if (l->data)
        explicit_bzero(l->data, l->alloc);
    free(l->data);
    free(l->blocks);
    memset(l, 0, sizeof(*l));
}
