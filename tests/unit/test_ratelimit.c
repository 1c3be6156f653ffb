/* Unit tests for ratelimit.h on virtual time: release times of queued
 * messages, the window bound, blocking after a 429. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crisisrun/ratelimit.h"

/*
 * Releases n messages all queued at time `start` the way the engine does:
 * each goes at ratelimit_next(), and is recorded then.
 */
static void release_all(struct ratelimit *rl, int64_t start, int n, int64_t *out)
{
    int64_t now = start;
    for (int i = 0; i < n; i++) {
        now = ratelimit_next(rl, now);
        ratelimit_take(rl, now);
        out[i] = now;
    }
}

/* No window of per_ms holds more than count releases. */
static void assert_window(const int64_t *t, int n, int count, int64_t per_ms)
{
    for (int i = 0; i < n; i++) {
        int in = 0;
        for (int k = i; k < n && t[k] < t[i] + per_ms; k++)
            in++;
        assert_true(in <= count);
    }
}

static void test_one_per_second(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 1, 1000);
    assert_true(ratelimit_enabled(&rl));
    int64_t t[3];
    release_all(&rl, 5000, 3, t);
    assert_int_equal(t[0], 5000);
    assert_int_equal(t[1], 6000);
    assert_int_equal(t[2], 7000);
}

static void test_five_per_two_seconds(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 5, 2000);
    int64_t t[12];
    release_all(&rl, 0, 12, t);
    for (int i = 0; i < 12; i++)
        assert_int_equal(t[i], 400 * i);
    assert_window(t, 12, 5, 2000);
}

static void test_uneven_division_rounds_up(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 3, 1000);
    int64_t t[10];
    release_all(&rl, 0, 10, t);
    assert_int_equal(t[1], 334);
    assert_window(t, 10, 3, 1000);
}

static void test_idle_channel_goes_at_once(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 1, 1000);
    ratelimit_take(&rl, 0);
    /* Asked again long after: no wait, and no saved-up burst either. */
    assert_int_equal(ratelimit_next(&rl, 10000), 10000);
    ratelimit_take(&rl, 10000);
    assert_int_equal(ratelimit_next(&rl, 10000), 11000);
    assert_int_equal(ratelimit_next(&rl, 10500), 11000);
    /* A message sent late does not earn an early next one. */
    ratelimit_take(&rl, 11700);
    assert_int_equal(ratelimit_next(&rl, 11700), 12700);
}

static void test_block(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 2, 1000);
    ratelimit_block(&rl, 30000);
    assert_int_equal(ratelimit_next(&rl, 0), 30000);
    ratelimit_take(&rl, 30000);
    assert_int_equal(ratelimit_next(&rl, 30000), 30500);
    /* Blocking never moves the release earlier. */
    ratelimit_block(&rl, 30100);
    assert_int_equal(ratelimit_next(&rl, 30000), 30500);
}

static void test_disabled(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 0, 0);
    assert_false(ratelimit_enabled(&rl));
    int64_t t[4];
    release_all(&rl, 7, 4, t);
    for (int i = 0; i < 4; i++)
        assert_int_equal(t[i], 7);
    ratelimit_init(&rl, 5, 0);
    assert_false(ratelimit_enabled(&rl));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_per_second),
        cmocka_unit_test(test_five_per_two_seconds),
        cmocka_unit_test(test_uneven_division_rounds_up),
        cmocka_unit_test(test_idle_channel_goes_at_once),
        cmocka_unit_test(test_block),
        cmocka_unit_test(test_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
