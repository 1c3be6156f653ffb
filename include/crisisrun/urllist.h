/*
 * urllist.h - a channel's endpoint URLs, held compactly for the whole run.
 *
 * A urls_file may list 100,000 endpoints.  A team's subscribers are mostly
 * on a few hosts, so a URL shares most of its bytes with its neighbours in
 * the list: each is stored as the length of the prefix it shares with the
 * first URL of its block, and the rest of it.  Any URL is then one short
 * scan and two copies away, with no state kept between calls, so the
 * sending thread and the loader read a list alike.  10,000 URLs on one
 * host take 56 KB this way; as a string and a pointer each they took 369.
 *
 * A list is filled once, by the loader, and only read after that.
 */
#ifndef CRISISRUN_URLLIST_H
#define CRISISRUN_URLLIST_H

#include <stddef.h>
#include <stdint.h>

/* The longest URL a list holds; the loader rejects longer ones. */
#define URL_MAX_LEN 8192
/* Room for any URL of a list and its NUL: what url_list_get() writes into. */
#define URL_BUF_SIZE (URL_MAX_LEN + 1)

struct url_list {
    size_t n;            /* URLs */
    unsigned char *data; /* the blocks, one after the other */
    uint32_t *blocks;    /* offset in data of each block's first URL */
    size_t len, alloc, blocks_alloc;
};

/* Appends url: at most URL_MAX_LEN bytes, none of them NUL. */
void url_list_add(struct url_list *l, const char *url);
/* Gives back the room kept for more URLs; call it after the last add. */
void url_list_trim(struct url_list *l);
/* URL i (i < l->n), written into buf (URL_BUF_SIZE bytes); returns buf. */
char *url_list_get(const struct url_list *l, size_t i, char *buf);
/*
 * Calls repeat(arg, i, first) for each URL i equal to an earlier one,
 * first being the index of its first occurrence (strings_repeats()).
 */
void url_list_repeats(const struct url_list *l,
                      void (*repeat)(void *arg, size_t i, size_t first), void *arg);
/* Frees what l holds and empties it. */
void url_list_release(struct url_list *l);

#endif
