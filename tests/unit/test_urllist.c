/*
 * test_urllist.c - a channel's URL list gives back every URL exactly as it
 * was added, whatever it shares with the URLs around it, finds repeats, and
 * holds a list of one host's endpoints in a fraction of their length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/urllist.h"
#include "crisisrun/util.h"

/* Adds every string of v, then checks that each comes back as it went in. */
static void round_trip(char **v, size_t n)
{
    struct url_list l = {0};
    for (size_t i = 0; i < n; i++)
        url_list_add(&l, v[i]);
    url_list_trim(&l);
    assert_int_equal(l.n, n);
    char *buf = xmalloc(URL_BUF_SIZE);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(url_list_get(&l, i, buf), v[i]);
    /* Backwards too: no call depends on the one before it. */
    for (size_t i = n; i-- > 0;)
        assert_string_equal(url_list_get(&l, i, buf), v[i]);
    free(buf);
    url_list_release(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.data);
}

static void test_shapes(void **state)
{
    (void)state;
    char *longest = xmalloc(URL_MAX_LEN + 1), *long_other = xmalloc(URL_MAX_LEN + 1);
    memcpy(longest, "https://h.example/", 18);
    memset(longest + 18, 'a', URL_MAX_LEN - 18);
    longest[URL_MAX_LEN] = '\0';
    memcpy(long_other, longest, URL_MAX_LEN + 1);
    long_other[URL_MAX_LEN - 1] = 'b'; /* shares all but its last byte */
    char *v[] = {
        /* A block: a first URL and what may follow it. */
        "https://hooks.example.com/a/bc",
        "https://hooks.example.com/a/bc",  /* all of it shared, nothing after */
        "https://hooks.example.com/a/b",   /* a prefix of the first */
        "https://hooks.example.com/a/bcd", /* the first, and more */
        "http://other.example/x",          /* nothing shared */
        "https://hooks.example.com/",
        longest,    /* shares 26 bytes, then 8,000 more of its own */
        long_other, /* a different block's URLs share nothing with the last one */
        "https://hooks.example.com/z",
        "h",
        "https://hooks.example.com/a/bc?x=1",
        "https://hooks.example.com/a/bc#y",
        "https://hooks.example.com/a/b",
        "https://hooks.example.com/a/b/",
        "https://hooks.example.com/a",
        "https://hooks.example.com/a/bc", /* the 16th: the block's last */
        /* The second block: its first URL is longest, the others share
         * more than 127 bytes with it (a two-byte length). */
        longest,
        long_other,
        "https://h.example/"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
        "end",
        "https://h.example/",
    };
    round_trip(v, ARRAY_SIZE(v));
    round_trip(v, 1);
    round_trip(v + 4, 13); /* blocks cut at other places */
    free(longest);
    free(long_other);
}

/* 100,000 URLs, on a few hosts and on hosts of their own. */
static void test_many(void **state)
{
    (void)state;
    enum { N = 100000 };
    char **v = xmalloc(N * sizeof(*v));
    for (size_t i = 0; i < N; i++)
        v[i] = i % 7 == 3
                   ? xasprintf("https://customer-%zu.example.net/hooks/%zx", i * 7919, i)
                   : xasprintf("https://hooks.example.com/s/%zu?k=%zu", i, i % 13);
    round_trip(v, N);
    for (size_t i = 0; i < N; i++)
        free(v[i]);
    free(v);
}

/* 10,000 endpoints on one host, as a large subscriber list is: the list
 * takes a fraction of what a string and a pointer each took. */
static void test_compact(void **state)
{
    (void)state;
    struct url_list l = {0};
    size_t text = 0;
    for (int i = 1; i <= 10000; i++) {
        char url[64];
        int n = snprintf(url, sizeof(url), "http://127.0.0.1:8080/s/%d", i);
        url_list_add(&l, url);
        text += (size_t)n + 1;
    }
    url_list_trim(&l);
    size_t held = l.len + (l.n + 15) / 16 * sizeof(*l.blocks);
    size_t before = text + l.n * sizeof(char *);
    printf("10,000 URLs: %zu bytes held, %zu as strings and pointers\n", held, before);
    assert_true(held * 5 < before);
    char buf[URL_BUF_SIZE];
    assert_string_equal(url_list_get(&l, 9999, buf), "http://127.0.0.1:8080/s/10000");
    url_list_release(&l);
}

struct seen {
    size_t i[8], first[8], n;
};

static void note_repeat(void *arg, size_t i, size_t first)
{
    struct seen *s = arg;
    assert_true(s->n < ARRAY_SIZE(s->i));
    s->i[s->n] = i;
    s->first[s->n++] = first;
}

static void test_repeats(void **state)
{
    (void)state;
    struct url_list l = {0};
    for (int i = 0; i < 40; i++) {
        char url[64];
        /* 5 and 37 repeat 3 (a block apart); 20 repeats 17 (same block). */
        int k = i == 5 || i == 37 ? 3 : i == 20 ? 17 : i;
        snprintf(url, sizeof(url), "https://hooks.example.com/s/%d", k);
        url_list_add(&l, url);
    }
    url_list_add(&l, "https://hooks.example.com/s/1"); /* 40: repeats 1, a prefix of 10 */
    url_list_add(&l, "https://hooks.example.com/s/10");
    url_list_add(&l, "https://hooks.example.com/s/");
    url_list_trim(&l);
    struct seen s = {0};
    url_list_repeats(&l, note_repeat, &s);
    assert_int_equal(s.n, 5);
    size_t want_i[] = {5, 20, 37, 40, 41}, want_first[] = {3, 17, 3, 1, 10};
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(s.i[k], want_i[k]);
        assert_int_equal(s.first[k], want_first[k]);
    }
    url_list_release(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_repeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
