/* Unit tests for util.h: strbuf, url_redact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"

static void check_redact(const char *in, const char *want)
{
    char *got = url_redact(in);
    assert_string_equal(got, want);
    free(got);
}

static void test_url_redact(void **state)
{
    (void)state;
    check_redact("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/\xe2\x80\xa6");
    check_redact("http://127.0.0.1:8025/slack/oncall?token=abc", "http://127.0.0.1:8025/\xe2\x80\xa6");
    check_redact("https://user:pass@example.com/x", "https://example.com/\xe2\x80\xa6");
    check_redact("https://example.com", "https://example.com");
    check_redact("https://example.com/", "https://example.com");
    check_redact("https://example.com?secret=1", "https://example.com/\xe2\x80\xa6");
    check_redact("not a url", "(invalid url)");
    /* A password with an '@' of its own: the host is after the last one. */
    check_redact("https://svc:pa@ss@hooks.example.com/x", "https://hooks.example.com/\xe2\x80\xa6");
    check_redact("http://a@b.example:pw@127.0.0.1:9/x", "http://127.0.0.1:9/\xe2\x80\xa6");
}

static void check_text(const char *in, const char *want)
{
    char *got = text_redact_urls(in);
    assert_string_equal(got, want);
    free(got);
}

static void test_text_redact_urls(void **state)
{
    (void)state;
    check_text("no url here", "no url here");
    check_text("cannot reach https://h.example/a/SECRET now",
               "cannot reach https://h.example/\xe2\x80\xa6 now");
    /* Parens, quotes and brackets may be part of a path: none ends a URL. */
    check_text("use https://h.example/a(SECRET) now",
               "use https://h.example/\xe2\x80\xa6 now");
    check_text("'https://h.example/a'SECRET' x", "'https://h.example/\xe2\x80\xa6 x");
    check_text("at http://[::1]:9/SECRET]x", "at http://[::1]:9/\xe2\x80\xa6");
    check_text("\"https://h.example/SECRET\", https://g.example",
               "\"https://h.example/\xe2\x80\xa6 https://g.example");
    /* Any printable byte may be in an endpoint's password or path. */
    check_text("x https://bot:pa^ss@h.example/hook/SECRET y",
               "x https://h.example/\xe2\x80\xa6 y");
    check_text("https://u:p|w@h/SECRET", "https://h/\xe2\x80\xa6");
    check_text("https://u:p\"w@h/SECRET", "https://h/\xe2\x80\xa6");
    check_text("https://h.example/a{SECRET}|`x`", "https://h.example/\xe2\x80\xa6");
    check_text("://SECRET", "://\xe2\x80\xa6");
}

static void test_public_url_problem(void **state)
{
    (void)state;
    assert_null(public_url_problem("https://status.example.com/crisis"));
    assert_null(public_url_problem("http://127.0.0.1:8080"));
    assert_non_null(public_url_problem("ftp://example.com/"));
    assert_non_null(public_url_problem("https://user:pw@status.example.com/"));
    /* An '@' after the host is part of the path. */
    assert_null(public_url_problem("https://status.example.com/a@b"));
}

/* Collects "i:first" pairs. */
static void note_repeat(void *arg, size_t i, size_t first)
{
    strbuf_addf(arg, "%zu:%zu ", i, first);
}

static void test_strings_repeats(void **state)
{
    (void)state;
    char *v[] = {"a", "b", "a", "c", "b", "a", ""};
    struct strbuf sb = STRBUF_INIT;
    strings_repeats(v, ARRAY_SIZE(v), note_repeat, &sb);
    assert_string_equal(strbuf_str(&sb), "2:0 4:1 5:0 ");
    strbuf_reset(&sb);
    /* Enough strings to fill the table past its first sizes. */
    char *many[300];
    for (size_t i = 0; i < ARRAY_SIZE(many); i++)
        many[i] = xasprintf("https://h%zu.example/", i % 100);
    strings_repeats(many, ARRAY_SIZE(many), note_repeat, &sb);
    assert_string_equal(strbuf_str(&sb) + sb.len - 7, "299:99 ");
    size_t n = 0;
    for (const char *p = strbuf_str(&sb); (p = strchr(p, ' ')); p++)
        n++;
    assert_int_equal(n, 200);
    for (size_t i = 0; i < ARRAY_SIZE(many); i++)
        free(many[i]);
    strbuf_release(&sb);
}

static void test_strbuf(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    assert_string_equal(strbuf_str(&sb), "");
    for (int i = 0; i < 1000; i++)
        strbuf_addf(&sb, "%d,", i);
    assert_int_equal(sb.len, 3890);
    strbuf_reset(&sb);
    strbuf_addstr(&sb, "abc");
    strbuf_addch(&sb, 'd');
    size_t len;
    char *s = strbuf_detach(&sb, &len);
    assert_string_equal(s, "abcd");
    assert_int_equal(len, 4);
    free(s);
    assert_null(sb.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_redact),
        cmocka_unit_test(test_text_redact_urls),
        cmocka_unit_test(test_public_url_problem),
        cmocka_unit_test(test_strings_repeats),
        cmocka_unit_test(test_strbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
