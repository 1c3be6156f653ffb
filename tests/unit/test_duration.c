/* Unit tests for durations, rates and time formatting (duration.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "crisisrun/duration.h"

static int64_t parse_ok(const char *s)
{
    int64_t ms = -1;
    const char *why = NULL;
    assert_int_equal(duration_parse(s, &ms, &why), 0);
    return ms;
}

static void test_parse_valid(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("90s"), 90000);
    assert_int_equal(parse_ok("5m"), 300000);
    assert_int_equal(parse_ok("1h30m"), 5400000);
    assert_int_equal(parse_ok("2d"), 172800000);
    assert_int_equal(parse_ok("0s"), 0);
    assert_int_equal(parse_ok("500ms"), 500);
    assert_int_equal(parse_ok("1m30s"), 90000);
    assert_int_equal(parse_ok("1d2h3m4s5ms"), 93784005);
}

static void test_parse_invalid(void **state)
{
    (void)state;
    const char *bad[] = {"", "5", "m", "5x", "1m1h", "1h1h", "-5m", "5 m", "1.5h", "366d",
                         "99999999999999999999s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 0;
        const char *why = NULL;
        assert_int_equal(duration_parse(bad[i], &ms, &why), -1);
        assert_non_null(why);
    }
    /* A fraction is the likely slip: say what to write instead. */
    int64_t ms = 0;
    const char *why = NULL;
    assert_int_equal(duration_parse("1.5m", &ms, &why), -1);
    assert_string_equal(why,
                        "whole numbers only: a smaller unit instead (1m30s, not 1.5m)");
    assert_int_equal(duration_parse("2,5h", &ms, &why), -1);
    assert_string_equal(why,
                        "whole numbers only: a smaller unit instead (1m30s, not 1.5m)");
}

static void test_format(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(duration_format(0, buf, sizeof(buf)), "0s");
    assert_string_equal(duration_format(250, buf, sizeof(buf)), "250ms");
    assert_string_equal(duration_format(45000, buf, sizeof(buf)), "45s");
    assert_string_equal(duration_format(300000, buf, sizeof(buf)), "5m");
    assert_string_equal(duration_format(5400000, buf, sizeof(buf)), "1h30m");
    assert_string_equal(duration_format(90000, buf, sizeof(buf)), "1m30s");
    assert_string_equal(duration_format(187200000, buf, sizeof(buf)), "2d4h");
    assert_string_equal(duration_format(3600000 + 5000, buf, sizeof(buf)), "1h");
    assert_string_equal(duration_format(-60000, buf, sizeof(buf)), "-1m");
}

static void test_rate(void **state)
{
    (void)state;
    int n;
    int64_t per;
    const char *why;
    assert_int_equal(rate_parse("1/s", &n, &per, &why), 0);
    assert_int_equal(n, 1);
    assert_int_equal(per, 1000);
    assert_int_equal(rate_parse("30/m", &n, &per, &why), 0);
    assert_int_equal(n, 30);
    assert_int_equal(per, 60000);
    assert_int_equal(rate_parse("5/2s", &n, &per, &why), 0);
    assert_int_equal(n, 5);
    assert_int_equal(per, 2000);
    assert_int_equal(rate_parse("0/s", &n, &per, &why), -1);
    assert_int_equal(rate_parse("x/s", &n, &per, &why), -1);
    assert_int_equal(rate_parse("5", &n, &per, &why), -1);
    assert_int_equal(rate_parse("5/0s", &n, &per, &why), -1);
    assert_int_equal(rate_parse("5/q", &n, &per, &why), -1);
}

static void test_walltime(void **state)
{
    (void)state;
    char buf[64];
    int64_t t;
    assert_int_equal(iso8601_parse("2026-11-26T14:35:00Z", &t), 0);
    assert_string_equal(walltime_format(t, t, buf, sizeof(buf)), "14:35 UTC");
    assert_string_equal(walltime_format(t + 86400000, t, buf, sizeof(buf)),
                        "2026-11-27 14:35 UTC");
    assert_string_equal(iso8601_format(t + 120, buf, sizeof(buf)), "2026-11-26T14:35:00.120Z");
    int64_t t2;
    assert_int_equal(iso8601_parse("2026-11-26T14:35:00.120Z", &t2), 0);
    assert_int_equal(t2, t + 120);
    assert_int_equal(iso8601_parse("2026-11-26T14:35Z", &t2), 0);
    assert_int_equal(t2, t);
    assert_int_equal(iso8601_parse("2026-11-26 14:35", &t2), -1);
    assert_int_equal(iso8601_parse("yesterday", &t2), -1);
    /* No rolling over into the next day, month or minute. */
    assert_int_equal(iso8601_parse("2026-02-30T10:00:00Z", &t2), -1);
    assert_int_equal(iso8601_parse("2026-04-31T10:00:00Z", &t2), -1);
    assert_int_equal(iso8601_parse("2026-11-26T14:35:60Z", &t2), -1);
    assert_int_equal(iso8601_parse("2028-02-29T10:00:00Z", &t2), 0);
    /* Before 1970 the milliseconds still count up from the second. */
    assert_int_equal(iso8601_parse("1969-12-31T23:59:59.5Z", &t2), 0);
    assert_int_equal(t2, -500);
    assert_string_equal(iso8601_format(t2, buf, sizeof(buf)), "1969-12-31T23:59:59.500Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid), cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_format),      cmocka_unit_test(test_rate),
        cmocka_unit_test(test_walltime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
