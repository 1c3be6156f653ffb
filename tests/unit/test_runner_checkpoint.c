/* Unit tests for runner_checkpoint_now(): when the run loop copies the
 * journal's WAL back, so that no step falls due while it does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runner_internal.h"

static void test_small_wal_waits(void **state)
{
    (void)state;
    assert_false(runner_checkpoint_now(0, 0, INT64_MAX, 0));
    assert_false(runner_checkpoint_now(999, 0, INT64_MAX, 1));
}

static void test_large_wal_goes_whatever_is_due(void **state)
{
    (void)state;
    assert_true(runner_checkpoint_now(4000, 1, 0, 0));
    assert_true(runner_checkpoint_now(100000, 1, 0, 1000));
}

static void test_not_after_acting(void **state)
{
    (void)state;
    /* Notifications just handed to the engine go out first. */
    assert_false(runner_checkpoint_now(1000, 1, INT64_MAX, 1));
    assert_false(runner_checkpoint_now(3999, 1, INT64_MAX, 1));
}

static void test_between_steps_50_ms_apart(void **state)
{
    (void)state;
    /* Not yet timed: 10 us a page, twice that as the window: 1,000 pages
     * fit before a step 30 ms off (a fixed 50 ms window never did, with
     * steps 50 ms apart), not before one 19 ms off. */
    assert_true(runner_checkpoint_now(1000, 0, 30, 0));
    assert_true(runner_checkpoint_now(1000, 0, 20, 0));
    assert_false(runner_checkpoint_now(1000, 0, 19, 0));
    /* The window grows with the WAL. */
    assert_false(runner_checkpoint_now(3000, 0, 59, 10));
    assert_true(runner_checkpoint_now(3000, 0, 60, 10));
}

static void test_learnt_cost(void **state)
{
    (void)state;
    /* A slow disk asks for more room... */
    assert_false(runner_checkpoint_now(1000, 0, 30, 50));
    assert_true(runner_checkpoint_now(1000, 0, 100, 50));
    /* ... a fast one for less, but never under 5 ms. */
    assert_true(runner_checkpoint_now(1000, 0, 5, 1));
    assert_false(runner_checkpoint_now(1000, 0, 4, 1));
    /* The next step overdue or due now: never. */
    assert_false(runner_checkpoint_now(1000, 0, 0, 1));
    assert_false(runner_checkpoint_now(1000, 0, -3, 1));
}

static void test_learning_the_cost(void **state)
{
    (void)state;
    /* From the default (10 us) halfway to a 1,000-page checkpoint's 5 ms
     * (6 us with the clock's lost millisecond). */
    assert_int_equal(runner_checkpoint_learn(0, 1000, 5), 8);
    assert_int_equal(runner_checkpoint_learn(8, 1000, 5), 7);
    assert_int_equal(runner_checkpoint_learn(7, 1000, 5), 7);
    /* A checkpoint that copied little, in no time, teaches nothing. */
    assert_int_equal(runner_checkpoint_learn(7, 0, 0), 7);
    assert_int_equal(runner_checkpoint_learn(7, 499, 0), 7);
    assert_int_equal(runner_checkpoint_learn(0, 120, 0), 0);
    /* One 40 ms stall counts for twice the estimate, not six times: the
     * window for 1,000 pages stays under the 45 ms between steps. */
    int64_t after = runner_checkpoint_learn(7, 1000, 40);
    assert_int_equal(after, 11);
    assert_true(runner_checkpoint_now(1000, 0, 45, after));
    /* A disk that stays slow is learnt in a few checkpoints. */
    int64_t est = 7;
    for (int i = 0; i < 6; i++)
        est = runner_checkpoint_learn(est, 1000, 40);
    assert_true(est >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_wal_waits),
        cmocka_unit_test(test_large_wal_goes_whatever_is_due),
        cmocka_unit_test(test_not_after_acting),
        cmocka_unit_test(test_between_steps_50_ms_apart),
        cmocka_unit_test(test_learnt_cost),
        cmocka_unit_test(test_learning_the_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
