/* Unit tests for form_parse.h: application/x-www-form-urlencoded bodies as
 * browsers send them, and the limits and strictness of the parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/form_parse.h"

/* Parses s (NUL-terminated) and expects success. */
static void parse_ok(const char *s, const struct form_limits *lim, struct form *f)
{
    char *why = NULL;
    int rc = form_parse(s, strlen(s), lim, f, &why);
    if (rc != 0)
        fail_msg("'%s' failed: %s", s, why);
    assert_null(why);
}

/* Parses s and expects failure with exactly the message `expected`. */
static void parse_fails(const char *s, size_t len, const struct form_limits *lim,
                        const char *expected)
{
    struct form f = FORM_INIT;
    char *why = NULL;
    assert_int_equal(form_parse(s, len, lim, &f, &why), -1);
    assert_non_null(why);
    assert_string_equal(why, expected);
    /* Nothing is left behind on failure. */
    assert_int_equal(f.n, 0);
    assert_null(f.fields);
    free(why);
}

static void test_simple_pairs(void **state)
{
    (void)state;
    struct form f = FORM_INIT;
    parse_ok("q_informed=4&q_speed=5&name=Ann", NULL, &f);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.fields[0].name, "q_informed");
    assert_string_equal(f.fields[0].value, "4");
    assert_int_equal(f.fields[0].value_len, 1);
    assert_string_equal(f.fields[1].name, "q_speed");
    assert_string_equal(f.fields[2].value, "Ann");
    assert_string_equal(form_get(&f, "q_speed")->value, "5");
    assert_null(form_get(&f, "missing"));
    form_release(&f);
    assert_int_equal(f.n, 0);
}

static void test_plus_and_escapes(void **state)
{
    (void)state;
    struct form f = FORM_INIT;
    /* '+' is a space, %2B a literal plus, %XX any byte in either case,
     * CRLF as a browser sends a textarea's line breaks, UTF-8 bytes. */
    parse_ok("t=a+b%2Bc%3d%3D&u=line1%0D%0Aline2&caf%C3%A9=%e2%82%AC", NULL, &f);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.fields[0].value, "a b+c==");
    assert_string_equal(f.fields[1].value, "line1\r\nline2");
    assert_int_equal(f.fields[1].value_len, 12);
    assert_string_equal(f.fields[2].name, "caf\xc3\xa9");
    assert_string_equal(f.fields[2].value, "\xe2\x82\xac");
    form_release(&f);

    /* '=' inside a value after the first one is part of the value. */
    parse_ok("k=a=b", NULL, &f);
    assert_string_equal(f.fields[0].value, "a=b");
    form_release(&f);
}

static void test_invalid_escapes(void **state)
{
    (void)state;
    parse_fails("t=50%", 5, NULL, "invalid %-escape in the value of 't'");
    parse_fails("t=%4", 4, NULL, "invalid %-escape in the value of 't'");
    parse_fails("t=%zz", 5, NULL, "invalid %-escape in the value of 't'");
    parse_fails("t=%g1&u=1", 9, NULL, "invalid %-escape in the value of 't'");
    parse_fails("a%2=1", 5, NULL, "invalid %-escape in a field name");
    /* An escape cut by the end of the pair, not of the body. */
    parse_fails("t=%4&u=1", 8, NULL, "invalid %-escape in the value of 't'");
    /* A decoded NUL would truncate a C string: refused. */
    parse_fails("t=a%00b", 7, NULL, "a NUL byte in the value of 't'");
    parse_fails("a%00=1", 6, NULL, "a NUL byte in a field name");
    /* A raw NUL inside the body is refused the same way. */
    parse_fails("t=a\0b", 5, NULL, "a NUL byte in the value of 't'");
}

static void test_duplicates_kept_in_order(void **state)
{
    (void)state;
    struct form f = FORM_INIT;
    parse_ok("q=1&r=x&q=2&q=3", NULL, &f);
    assert_int_equal(f.n, 4);
    assert_int_equal(form_count(&f, "q"), 3);
    assert_int_equal(form_count(&f, "r"), 1);
    assert_int_equal(form_count(&f, "s"), 0);
    assert_string_equal(form_get(&f, "q")->value, "1");
    assert_string_equal(f.fields[2].value, "2");
    assert_string_equal(f.fields[3].value, "3");
    form_release(&f);
}

static void test_empty_values_and_pairs(void **state)
{
    (void)state;
    struct form f = FORM_INIT;
    /* No '=': an empty value.  Empty pairs and a trailing '&' are skipped. */
    parse_ok("&anonymous&&name=&q=1&", NULL, &f);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.fields[0].name, "anonymous");
    assert_string_equal(f.fields[0].value, "");
    assert_int_equal(f.fields[0].value_len, 0);
    assert_string_equal(f.fields[1].name, "name");
    assert_string_equal(f.fields[1].value, "");
    assert_string_equal(f.fields[2].value, "1");
    form_release(&f);

    /* An empty body is an empty form, not an error. */
    parse_ok("", NULL, &f);
    assert_int_equal(f.n, 0);
    parse_ok("&&&", NULL, &f);
    assert_int_equal(f.n, 0);
    form_release(&f);

    parse_fails("=1", 2, NULL, "a field without a name");
    parse_fails("a=1&=2", 6, NULL, "a field without a name");
}

static void test_limits(void **state)
{
    (void)state;
    struct form_limits lim = {.max_fields = 3, .max_name = 4, .max_value = 5};
    struct form f = FORM_INIT;
    /* Exactly at every limit: fine.  %41 counts as one decoded byte. */
    parse_ok("abcd=%41%42cde&b=1&c=", &lim, &f);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.fields[0].value, "ABcde");
    form_release(&f);
    /* Empty pairs do not count as fields. */
    parse_ok("a=1&&b=2&&&c=3&", &lim, &f);
    assert_int_equal(f.n, 3);
    form_release(&f);

    parse_fails("a=1&b=2&c=3&d=4", 15, &lim, "more than 3 fields");
    parse_fails("abcde=1", 7, &lim, "a field name is longer than 4 bytes");
    parse_fails("a=123456", 8, &lim, "the value of 'a' is longer than 5 bytes");
    parse_fails("a=1&b=%41%41%41%41%41%41", 24, &lim,
                "the value of 'b' is longer than 5 bytes");

    /* The defaults apply to zeroed members and to a NULL lim. */
    struct form_limits zero = {0};
    char body[FORM_DEFAULT_MAX_FIELDS * 4 + 8];
    size_t len = 0;
    for (int i = 0; i <= FORM_DEFAULT_MAX_FIELDS; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len, "%sa=1", i ? "&" : "");
    parse_fails(body, len, &zero, "more than 64 fields");
    parse_fails(body, len, NULL, "more than 64 fields");
}

/* A long hostile body: the limit stops it without decoding all of it. */
static void test_huge_value(void **state)
{
    (void)state;
    size_t n = 1u << 20;
    char *body = malloc(n);
    memcpy(body, "v=", 2);
    memset(body + 2, 'x', n - 2);
    parse_fails(body, n, NULL, "the value of 'v' is longer than 32768 bytes");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_pairs),
        cmocka_unit_test(test_plus_and_escapes),
        cmocka_unit_test(test_invalid_escapes),
        cmocka_unit_test(test_duplicates_kept_in_order),
        cmocka_unit_test(test_empty_values_and_pairs),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_huge_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
