/* Unit tests for journal_attempt_add() settling its notification in the
 * same write (journal_attempt.settles), which the run loop uses so that a
 * fan-out's last write per endpoint is one statement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisisrun/journal.h"
#include "crisisrun/util.h"
#include "journal_fixture.h"

#define URL "https://status.example.com/hooks/SECRET"

static int setup(void **state)
{
    return journal_fixture_setup(state, "settle");
}

/* Journals a notification for endpoint e and marks it in flight. */
static void add_inflight(struct journal_fixture *f, int e, char *id)
{
    char url[64];
    snprintf(url, sizeof(url), URL "%d", e);
    struct journal_notification_new nn = {
        .run_id = f->run.id, .step = "declare", .occurrence = 1, .channel = "customers",
        .endpoint_index = e, .endpoint_url = url, .body = "{\"message\":\"investigating\"}",
        .created_ms = T0, .due_ms = T0,
    };
    assert_int_equal(journal_notification_add(f->j, &nn, id), 0);
    assert_int_equal(journal_notification_set_state(f->j, id, DELIVERY_INFLIGHT, T0 + 1, 0), 0);
}

static struct journal_attempt attempt(const char *id, int number, int status,
                                      enum journal_delivery_state settles)
{
    struct journal_attempt a = {
        .number = number, .started_ms = T0 + 1, .finished_ms = T0 + 40,
        .http_status = status, .latency_ms = 39,
        .outcome = status == 204 ? ATTEMPT_DELIVERED : ATTEMPT_FAILED,
        .error = status == 204 ? NULL : "HTTP 404", .settles = settles,
    };
    memcpy(a.notification_id, id, sizeof(a.notification_id));
    return a;
}

static struct journal_notification *find(struct journal_notification *v, size_t n,
                                         const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].id, id))
            return &v[i];
    fail_msg("notification %s not listed", id);
    return NULL;
}

static void test_settles_with_the_attempt(void **state)
{
    struct journal_fixture *f = *state;
    char ok[JOURNAL_NOTIFICATION_ID_LEN + 1], bad[JOURNAL_NOTIFICATION_ID_LEN + 1],
        gone[JOURNAL_NOTIFICATION_ID_LEN + 1], open[JOURNAL_NOTIFICATION_ID_LEN + 1];
    add_inflight(f, 0, ok);
    add_inflight(f, 1, bad);
    add_inflight(f, 2, gone);
    add_inflight(f, 3, open);

    assert_int_equal(journal_begin(f->j), 0);
    struct journal_attempt a = attempt(ok, 1, 204, DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    a = attempt(bad, 1, 404, DELIVERY_FAILED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    a = attempt(gone, 1, 410, DELIVERY_DISABLED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    a = attempt(open, 1, 503, DELIVERY_PENDING); /* leaves the state alone */
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    assert_int_equal(journal_commit(f->j), 0);

    struct journal_notification *v;
    size_t n;
    assert_int_equal(journal_notification_list(f->j, f->run.id, DELIVERY_ALL, &v, &n), 0);
    assert_int_equal(n, 4);
    struct journal_notification *x = find(v, n, ok);
    assert_int_equal(x->state, DELIVERY_DELIVERED);
    assert_int_equal(x->settled_ms, T0 + 40);
    assert_int_equal(x->updated_ms, T0 + 40);
    assert_int_equal(x->attempts, 1);
    assert_int_equal(x->last_http_status, 204);
    x = find(v, n, bad);
    assert_int_equal(x->state, DELIVERY_FAILED);
    assert_int_equal(x->settled_ms, T0 + 40);
    assert_string_equal(x->last_error, "HTTP 404");
    assert_int_equal(find(v, n, gone)->state, DELIVERY_DISABLED);
    x = find(v, n, open);
    assert_int_equal(x->state, DELIVERY_INFLIGHT);
    assert_int_equal(x->settled_ms, 0);
    assert_int_equal(x->attempts, 1);
    journal_notification_list_free(v, n);

    struct journal_attempt *at;
    assert_int_equal(journal_attempt_list(f->j, f->run.id, &at, &n), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(at[i].settles, DELIVERY_PENDING);
    journal_attempt_list_free(at, n);
}

static void test_settled_is_final(void **state)
{
    struct journal_fixture *f = *state;
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    add_inflight(f, 0, id);
    struct journal_attempt a = attempt(id, 1, 204, DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);

    /* A second settling attempt is refused whole: no attempt row either. */
    a = attempt(id, 2, 404, DELIVERY_FAILED);
    assert_int_equal(journal_attempt_add(f->j, &a), -1);
    struct journal_notification *v;
    size_t n;
    assert_int_equal(journal_notification_list(f->j, f->run.id, DELIVERY_ALL, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].state, DELIVERY_DELIVERED);
    assert_int_equal(v[0].last_http_status, 204);
    assert_int_equal(v[0].attempts, 1);
    journal_notification_list_free(v, n);
    struct journal_attempt *at;
    assert_int_equal(journal_attempt_list(f->j, f->run.id, &at, &n), 0);
    assert_int_equal(n, 1);
    journal_attempt_list_free(at, n);

    /* In flight is not a settled state. */
    a = attempt(id, 2, 204, DELIVERY_INFLIGHT);
    assert_int_equal(journal_attempt_add(f->j, &a), -1);
}

static long count(struct journal_fixture *f, enum journal_delivery_state s)
{
    long counts[DELIVERY_STATE_COUNT];
    assert_int_equal(journal_notification_count(f->j, f->run.id, counts), 0);
    return counts[s];
}

/*
 * Inside a batch there is no savepoint: a refused attempt leaves the batch
 * as it was, and one failing after its notification was updated rolls the
 * whole batch back, so that nothing half-written is ever committed.
 */
static void test_inside_a_batch(void **state)
{
    struct journal_fixture *f = *state;
    char a1[JOURNAL_NOTIFICATION_ID_LEN + 1], a2[JOURNAL_NOTIFICATION_ID_LEN + 1],
        a3[JOURNAL_NOTIFICATION_ID_LEN + 1];
    add_inflight(f, 0, a1);
    add_inflight(f, 1, a2);
    add_inflight(f, 2, a3);

    /* Refused (already settled): the batch goes on and commits. */
    assert_int_equal(journal_begin(f->j), 0);
    struct journal_attempt a = attempt(a1, 1, 204, DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    a = attempt(a1, 2, 404, DELIVERY_FAILED);
    assert_int_equal(journal_attempt_add(f->j, &a), -1);
    a = attempt(a2, 1, 204, DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(count(f, DELIVERY_DELIVERED), 2);

    /* Failing half-way (attempt 1 of a3 twice: the attempt's key is taken
     * after its notification was updated): the batch is rolled back, its
     * commit fails, and the journal is as before it. */
    assert_int_equal(journal_begin(f->j), 0);
    a = attempt(a3, 1, 503, DELIVERY_PENDING);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    a = attempt(a3, 1, 204, DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), -1);
    a = attempt(a3, 2, 204, DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), -1); /* the batch is gone */
    assert_int_equal(journal_commit(f->j), -1);
    assert_int_equal(count(f, DELIVERY_DELIVERED), 2);
    assert_int_equal(count(f, DELIVERY_INFLIGHT), 1);
    struct journal_attempt *at;
    size_t n;
    assert_int_equal(journal_attempt_list(f->j, f->run.id, &at, &n), 0);
    assert_int_equal(n, 2);
    journal_attempt_list_free(at, n);

    /* The handle works again after the failed batch. */
    a = attempt(a3, 1, 204, DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    assert_int_equal(count(f, DELIVERY_DELIVERED), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_settles_with_the_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settled_is_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inside_a_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
