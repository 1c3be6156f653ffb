/* Unit tests for backoff.h: retry delays with injected "random" values,
 * the caps, Retry-After overriding, Retry-After parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crisisrun/backoff.h"

static void test_ceiling_doubles_then_caps(void **state)
{
    (void)state;
    assert_int_equal(backoff_ceiling_ms(1000, 1, BACKOFF_CAP_MS), 1000);
    assert_int_equal(backoff_ceiling_ms(1000, 2, BACKOFF_CAP_MS), 2000);
    assert_int_equal(backoff_ceiling_ms(1000, 3, BACKOFF_CAP_MS), 4000);
    assert_int_equal(backoff_ceiling_ms(1000, 9, BACKOFF_CAP_MS), 256000);
    assert_int_equal(backoff_ceiling_ms(1000, 10, BACKOFF_CAP_MS), BACKOFF_CAP_MS);
    /* No overflow however many attempts. */
    assert_int_equal(backoff_ceiling_ms(1000, 1000000, BACKOFF_CAP_MS), BACKOFF_CAP_MS);
    assert_int_equal(backoff_ceiling_ms(INT64_MAX / 2, 70, BACKOFF_CAP_MS),
                     BACKOFF_CAP_MS);
    /* A first backoff above the cap is the cap. */
    assert_int_equal(backoff_ceiling_ms(10 * 60 * 1000, 1, BACKOFF_CAP_MS),
                     BACKOFF_CAP_MS);
    assert_int_equal(backoff_ceiling_ms(0, 5, BACKOFF_CAP_MS), 0);
    assert_int_equal(backoff_ceiling_ms(500, 0, BACKOFF_CAP_MS), 500);
}

static void test_jitter_bounds(void **state)
{
    (void)state;
    /* u = 0 is the lower bound: half the ceiling. */
    assert_int_equal(backoff_delay_ms(1000, 1, BACKOFF_CAP_MS, 0.0), 500);
    assert_int_equal(backoff_delay_ms(1000, 3, BACKOFF_CAP_MS, 0.0), 2000);
    assert_int_equal(backoff_delay_ms(1000, 3, BACKOFF_CAP_MS, 0.5), 3000);
    /* u just below 1 stays below the ceiling. */
    assert_int_equal(backoff_delay_ms(1000, 3, BACKOFF_CAP_MS, 0.99999999), 3999);
    /* Out-of-range u is clamped into [half, ceiling). */
    assert_int_equal(backoff_delay_ms(1000, 3, BACKOFF_CAP_MS, 1.0), 3999);
    assert_int_equal(backoff_delay_ms(1000, 3, BACKOFF_CAP_MS, -3.0), 2000);
    /* At the cap: [150 s, 300 s). */
    assert_int_equal(backoff_delay_ms(1000, 20, BACKOFF_CAP_MS, 0.0), BACKOFF_CAP_MS / 2);
    assert_true(backoff_delay_ms(1000, 20, BACKOFF_CAP_MS, 0.999) < BACKOFF_CAP_MS);

    /* Every value of a sweep of u lies in the documented range. */
    for (int attempt = 1; attempt < 15; attempt++) {
        int64_t ceil = backoff_ceiling_ms(750, attempt, BACKOFF_CAP_MS);
        for (int k = 0; k < 1000; k++) {
            int64_t d = backoff_delay_ms(750, attempt, BACKOFF_CAP_MS, k / 1000.0);
            assert_true(d >= ceil / 2);
            assert_true(d < ceil);
        }
    }
}

static void test_unit_range(void **state)
{
    (void)state;
    assert_true(backoff_unit(0) == 0.0);
    assert_true(backoff_unit(UINT64_MAX) < 1.0);
    assert_true(backoff_unit(UINT64_MAX) > 0.999);
    assert_true(backoff_unit(1ULL << 63) == 0.5);
}

static void test_retry_after_overrides(void **state)
{
    (void)state;
    /* No Retry-After: the jittered backoff. */
    assert_int_equal(backoff_retry_delay_ms(1000, 1, -1, 0.0), 500);
    /* Retry-After longer than the backoff wins. */
    assert_int_equal(backoff_retry_delay_ms(1000, 1, 5000, 0.0), 5000);
    /* Retry-After shorter than the backoff does not shorten it. */
    assert_int_equal(backoff_retry_delay_ms(1000, 5, 1000, 0.0), 8000);
    /* Retry-After 0 is honoured as "no extra wait". */
    assert_int_equal(backoff_retry_delay_ms(1000, 1, 0, 0.0), 500);
    /* Capped at an hour, above the backoff cap. */
    assert_int_equal(backoff_retry_delay_ms(1000, 1, 86400000, 0.0), RETRY_AFTER_CAP_MS);
    assert_int_equal(backoff_retry_delay_ms(1000, 1, 2 * BACKOFF_CAP_MS, 0.0),
                     2 * BACKOFF_CAP_MS);
}

/* 1994-11-06T08:49:37Z, the RFC's example date, in ms. */
#define RFC_DATE_MS 784111777000LL

static void test_retry_after_parse(void **state)
{
    (void)state;
    assert_int_equal(retry_after_parse("120", 0), 120000);
    assert_int_equal(retry_after_parse("  1 \r\n", 0), 1000);
    assert_int_equal(retry_after_parse("0", 0), 0);
    /* Huge values saturate instead of overflowing. */
    assert_true(retry_after_parse("99999999999999999999999", 0) > RETRY_AFTER_CAP_MS);

    int64_t now = RFC_DATE_MS - 30000; /* 30 s before the date */
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", now), 30000);
    assert_int_equal(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", now), 30000);
    assert_int_equal(retry_after_parse("Sun Nov  6 08:49:37 1994", now), 30000);
    /* A date in the past means "now". */
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_MS + 5),
                     0);
    /* A modern date, leap-year February. */
    int64_t feb29 = 1709164800000LL; /* 2024-02-29T00:00:00Z */
    assert_int_equal(retry_after_parse("Thu, 29 Feb 2024 00:00:10 GMT", feb29), 10000);

    assert_int_equal(retry_after_parse("", 0), -1);
    assert_int_equal(retry_after_parse("soon", 0), -1);
    assert_int_equal(retry_after_parse("-5", 0), -1);
    assert_int_equal(retry_after_parse("1.5", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 PST", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Foo 1994 08:49:37 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 25:49:37 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT trailing", 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ceiling_doubles_then_caps),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_unit_range),
        cmocka_unit_test(test_retry_after_overrides),
        cmocka_unit_test(test_retry_after_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
