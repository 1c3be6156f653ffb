/* Unit tests for the journal's writer thread (journal.h, "Deferred
 * writes"): what is deferred, when it becomes durable, the order of
 * deferred and immediate writes, and what a failure of a deferred write
 * does to its batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisisrun/journal.h"
#include "crisisrun/util.h"
#include "journal_fixture.h"
#include "journal_internal.h" /* grouped_rows */

#define BODY "{\"message\":\"Checkout is failing; we are investigating.\"}"

/* The body every notification of these tests shares (journal_body_add()). */
static int64_t body_id;

static int setup(void **state)
{
    journal_fixture_setup(state, "writer");
    struct journal_fixture *f = *state;
    assert_int_equal(journal_body_add(f->j, f->run.id, BODY, &body_id), 0);
    assert_int_equal(journal_writer_start(f->j), 0);
    return 0;
}

static struct journal_notification_new endpoint(const struct journal_fixture *f, const char *step,
                                                int e, char *url, size_t size, int *existed)
{
    snprintf(url, size, "https://subscriber%d.example/hook?token=%d", e, e * 7);
    return (struct journal_notification_new){
        .run_id = f->run.id, .step = step, .occurrence = 1, .channel = "customers",
        .endpoint_index = e, .endpoint_url = url, .body = BODY, .body_id = body_id,
        .created_ms = T0, .due_ms = T0, .existed = existed,
    };
}

static void add(struct journal_fixture *f, const char *step, int e, char *id, int *existed)
{
    char url[96];
    struct journal_notification_new nn = endpoint(f, step, e, url, sizeof(url), existed);
    assert_int_equal(journal_notification_add(f->j, &nn, id), 0);
}

static void delivered(struct journal_fixture *f, const char *id)
{
    struct journal_attempt a = {.number = 1, .started_ms = T0, .finished_ms = T0 + 5,
                                .http_status = 204, .latency_ms = 5,
                                .outcome = ATTEMPT_DELIVERED, .settles = DELIVERY_DELIVERED};
    memcpy(a.notification_id, id, sizeof(a.notification_id));
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
}

/* An attempt on a notification never journaled: the journal refuses it. */
static struct journal_attempt orphan_attempt(enum journal_delivery_state settles)
{
    struct journal_attempt a = {.number = 1, .started_ms = T0, .finished_ms = T0 + 5,
                                .http_status = 204, .outcome = ATTEMPT_DELIVERED,
                                .settles = settles};
    snprintf(a.notification_id, sizeof(a.notification_id), "msg_%032d", 0);
    return a;
}

/*
 * Inside a batch the two fan-out writes are deferred: nothing is written
 * before the commit, the ids and `existed` are known once it returns, and
 * they are the ids the journal derives without a writer.
 */
static void test_deferred_until_commit(void **state)
{
    struct journal_fixture *f = *state;
    enum { N = 300 };
    char ids[N][JOURNAL_NOTIFICATION_ID_LEN + 1];
    int existed[N];
    memset(ids, 0, sizeof(ids));
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++) {
        existed[e] = -1;
        add(f, "declare", e, ids[e], &existed[e]);
    }
    /* Recorded only: no id yet, nothing in the file, not even a lock. */
    assert_string_equal(ids[0], "");
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 0);
    assert_int_equal(journal_commit_start(f->j), 0);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(journal_committing(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N);
    for (int e = 0; e < N; e++) {
        char url[96], fresh[JOURNAL_NOTIFICATION_ID_LEN + 1];
        struct journal_notification_new nn = endpoint(f, "declare", e, url, sizeof(url), NULL);
        journal_notification_id(&nn, fresh);
        assert_string_equal(ids[e], fresh);
        assert_int_equal(existed[e], 0);
    }

    /* The same notifications again (a step replayed after resume): nothing
     * new, and each says it existed. */
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "declare", e, ids[e], &existed[e]);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N);
    for (int e = 0; e < N; e++)
        assert_int_equal(existed[e], 1);

    /* Attempts too, settling their notifications. */
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        delivered(f, ids[e]);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), 0);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), N);
    assert_int_equal(
        count_rows(f->path, "SELECT count(*) FROM notifications WHERE state = 'delivered'"), N);
}

/*
 * A call that needs the connection runs the deferred writes first, in
 * order: a read sees them, and a write that depends on one (an attempt on
 * a notification deferred just before) finds it.
 */
static void test_order_with_immediate_writes(void **state)
{
    struct journal_fixture *f = *state;
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1] = "";
    int existed = -1;
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "declare", 0, id, &existed);
    long counts[DELIVERY_STATE_COUNT];
    assert_int_equal(journal_notification_count(f->j, f->run.id, counts), 0);
    assert_int_equal(counts[DELIVERY_PENDING], 1);
    assert_int_equal(existed, 0);
    assert_int_equal(strlen(id), JOURNAL_NOTIFICATION_ID_LEN);
    /* An immediate write on it, then a deferred one after that. */
    assert_int_equal(journal_notification_set_state(f->j, id, DELIVERY_INFLIGHT, T0 + 1, 0), 0);
    delivered(f, id);
    struct journal_event ev = {.at_ms = T0, .kind = EV_NOTE, .detail_json = "{\"text\":\"a\"}"};
    assert_int_equal(journal_event_add(f->j, f->run.id, &ev), 0);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(
        count_rows(f->path, "SELECT count(*) FROM notifications WHERE state = 'delivered'"), 1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events WHERE kind = 'note'"), 1);
}

/*
 * The loop's pipeline: a batch commits on the writer while the next one is
 * recorded; the commit's descriptor says when it is done; batches commit
 * in order.
 */
static void test_pipelined_batches(void **state)
{
    struct journal_fixture *f = *state;
    enum { N = 2000 };
    char(*ids)[JOURNAL_NOTIFICATION_ID_LEN + 1] = xcalloc(N, sizeof(*ids));
    int *existed = xcalloc(2 * N, sizeof(*existed));
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "declare", e, ids[e], &existed[e]);
    assert_int_equal(journal_commit_start(f->j), 0);
    assert_int_equal(journal_committing(f->j), 1);
    int fd = journal_commit_fd(f->j);
    assert_true(fd >= 0);
    /* The next batch, recorded while the first commits. */
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "update", e, NULL, &existed[N + e]);
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N);
    /* Its ids are there for the attempts of the next batch. */
    for (int e = 0; e < N; e++)
        delivered(f, ids[e]);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 2 * N);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), N);
    /* Nothing is left to wait for: the descriptor is quiet. */
    assert_int_equal(poll(&p, 1, 0), 0);
    free(ids);
    free(existed);
}

/*
 * The run loop opens a batch every turn.  One that has written nothing yet
 * leaves the connection outside a transaction, so the WAL can be
 * checkpointed then, after the writer's commit of the batch before; the
 * batch goes on as if nothing had happened.  Once it has deferred a write
 * or run one, it is no longer untouched, and a checkpoint then copies
 * nothing (SQLite would refuse it inside the transaction).
 */
static void test_checkpoint_in_an_untouched_batch(void **state)
{
    struct journal_fixture *f = *state;
    enum { N = 3000 };
    int *was = xcalloc(N, sizeof(*was));
    journal_manual_checkpoints(f->j);
    assert_int_equal(journal_batch_untouched(f->j), 0); /* no batch */
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "declare", e, NULL, &was[e]);
    assert_int_equal(journal_batch_untouched(f->j), 0); /* writes deferred */
    assert_int_equal(journal_commit_start(f->j), 0);
    /* The next turn's batch, opened while the writer commits. */
    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_batch_untouched(f->j), 1);
    int pending = journal_wal_pending(f->j); /* waits for that commit */
    assert_true(pending > 100);
    assert_int_equal(journal_checkpoint(f->j), pending);
    assert_int_equal(journal_wal_pending(f->j), 0);
    assert_int_equal(journal_batch_untouched(f->j), 1);
    assert_int_equal(journal_commit_wait(f->j), 0);
    /* The batch is whole: its writes commit as any batch's. */
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    int existed = -1;
    add(f, "update", 0, id, &existed);
    assert_int_equal(journal_batch_untouched(f->j), 0);
    /* Inside a batch that has written, a checkpoint copies nothing. */
    assert_int_equal(journal_checkpoint(f->j), 0);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(existed, 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N + 1);
    /* A write run at once (an event) touches it as well. */
    assert_int_equal(journal_begin(f->j), 0);
    struct journal_event ev = {
        .at_ms = T0, .kind = EV_NOTE, .detail_json = "{\"text\":\"a\"}"};
    assert_int_equal(journal_event_add(f->j, f->run.id, &ev), 0);
    assert_int_equal(journal_batch_untouched(f->j), 0);
    assert_true(journal_wal_pending(f->j) > 0);
    assert_int_equal(journal_checkpoint(f->j), 0);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(
        count_rows(f->path, "SELECT count(*) FROM events WHERE kind = 'note'"), 1);
    free(was);
}

/*
 * A commit that another call waited for (the run loop's heartbeat, say)
 * is still there for journal_commit_wait(): the descriptor stays readable
 * and journal_committing() true, so the loop still hands the batch's
 * notifications out.  Without this, they waited for the next commit.
 */
static void test_commit_collected_by_another_call(void **state)
{
    struct journal_fixture *f = *state;
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    int existed = -1;
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "declare", 0, id, &existed);
    assert_int_equal(journal_commit_start(f->j), 0);
    /* An immediate write outside a batch waits for the writer. */
    struct journal_event ev = {.at_ms = T0, .kind = EV_NOTE, .detail_json = "{\"text\":\"a\"}"};
    assert_int_equal(journal_event_add(f->j, f->run.id, &ev), 0);
    assert_int_equal(existed, 0);
    assert_int_equal(journal_committing(f->j), 1);
    struct pollfd p = {journal_commit_fd(f->j), POLLIN, 0};
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(journal_committing(f->j), 0);
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 1);

    /* Nor do commits of their own, at the outermost level or an inner one. */
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "declare", 1, id, &existed);
    assert_int_equal(journal_commit_start(f->j), 0);
    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_event_add(f->j, f->run.id, &ev), 0);
    assert_int_equal(journal_commit(f->j), 0); /* the inner level */
    assert_int_equal(journal_commit(f->j), 0); /* the outermost */
    char url[96];
    struct journal_notification_new nn = endpoint(f, "update", 0, url, sizeof(url), NULL);
    nn.body_id = 0; /* stores its own body: a transaction of its own */
    assert_int_equal(journal_notification_add(f->j, &nn, NULL), 0);
    assert_int_equal(journal_committing(f->j), 1);
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(journal_committing(f->j), 0);
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 3);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM events WHERE kind = 'note'"), 2);
}

/*
 * journal_commit_here(): the batch is durable when it returns (another
 * connection sees it), after the batch with the writer, and its result is
 * reported as a handed batch's: by journal_commit_wait(), the descriptor
 * readable until then.  A batch that wrote nothing commits nothing; one
 * whose deferred write fails is not written at all.
 */
static void test_commit_on_the_callers_thread(void **state)
{
    struct journal_fixture *f = *state;
    enum { N = 2000 };
    int *existed = xcalloc(N + 1, sizeof(*existed));
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "declare", e, NULL, &existed[e]);
    assert_int_equal(journal_commit_start(f->j), 0); /* with the writer */
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "update", 0, id, &existed[N]);
    existed[N] = -1;
    assert_int_equal(journal_commit_here(f->j), 0);
    /* Durable now, the writer's batch first (both are in the file). */
    assert_int_equal(existed[N], 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N + 1);
    struct pollfd p = {journal_commit_fd(f->j), POLLIN, 0};
    assert_int_equal(journal_committing(f->j), 1);
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(journal_committing(f->j), 0);
    assert_int_equal(poll(&p, 1, 0), 0);
    /* Its notification can be settled in the next batch. */
    assert_int_equal(journal_begin(f->j), 0);
    delivered(f, id);
    assert_int_equal(journal_commit_here(f->j), 0);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), 1);

    /* Nothing written: nothing to commit, and still reported. */
    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_commit_here(f->j), 0);
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(poll(&p, 1, 0), 0);

    /* A deferred write that fails: -1 from journal_commit_wait(), and
     * nothing of the batch is written. */
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "update", 1, NULL, &existed[0]);
    struct journal_attempt a = orphan_attempt(DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    assert_int_equal(journal_commit_here(f->j), 0);
    assert_int_equal(journal_commit_wait(f->j), -1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N + 1);
    /* The journal goes on. */
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "update", 2, NULL, &existed[0]);
    assert_int_equal(journal_commit_here(f->j), 0);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N + 2);
    free(existed);
}

/*
 * The run loop hashes (a disabled endpoint's notification, a 410's
 * endpoint) while the writer derives ids: nothing the two share.  The
 * ThreadSanitizer build of CI runs this too.
 */
static void test_hashing_beside_the_writer(void **state)
{
    struct journal_fixture *f = *state;
    enum { N = 4000 };
    int *existed = xcalloc(N, sizeof(*existed));
    char want[JOURNAL_ENDPOINT_HASH_LEN + 1], got[JOURNAL_ENDPOINT_HASH_LEN + 1];
    journal_endpoint_hash("https://partner.example/hook", want);
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "declare", e, NULL, &existed[e]);
    assert_int_equal(journal_commit_start(f->j), 0);
    struct pollfd p = {journal_commit_fd(f->j), POLLIN, 0};
    do {
        journal_endpoint_hash("https://partner.example/hook", got);
        assert_string_equal(got, want);
    } while (poll(&p, 1, 0) == 0);
    assert_int_equal(journal_commit_wait(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N);
    free(existed);
}

/*
 * A deferred write that fails fails its batch, and only its batch: the
 * commit says so, nothing of the batch is written (not even the writes
 * before it), and the journal goes on with the next.
 */
static void test_failure_fails_the_batch(void **state)
{
    struct journal_fixture *f = *state;
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    int existed;
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "declare", 0, id, &existed);
    struct journal_attempt a = orphan_attempt(DELIVERY_DELIVERED);
    assert_int_equal(journal_attempt_add(f->j, &a), 0); /* deferred: no error yet */
    assert_int_equal(journal_commit_start(f->j), 0);
    assert_int_equal(journal_commit_wait(f->j), -1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), 0);

    assert_int_equal(journal_begin(f->j), 0);
    add(f, "declare", 0, id, &existed);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(existed, 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 1);
}

/* The same failure found by an immediate write before the commit. */
static void test_failure_found_by_a_read(void **state)
{
    struct journal_fixture *f = *state;
    assert_int_equal(journal_begin(f->j), 0);
    struct journal_attempt a = orphan_attempt(DELIVERY_PENDING); /* an update, no settling */
    assert_int_equal(journal_attempt_add(f->j, &a), 0);
    long counts[DELIVERY_STATE_COUNT];
    assert_int_equal(journal_notification_count(f->j, f->run.id, counts), -1);
    assert_int_equal(journal_commit(f->j), -1);
    /* Then a fresh batch works. */
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    int existed;
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "declare", 1, id, &existed);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 1);
}

/* Rolled back before anything ran: the deferred writes are dropped. */
static void test_rollback_drops_deferred(void **state)
{
    struct journal_fixture *f = *state;
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    int existed;
    assert_int_equal(journal_begin(f->j), 0);
    add(f, "declare", 0, id, &existed);
    assert_int_equal(journal_rollback(f->j), 0);
    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_commit(f->j), 0); /* an empty batch: nothing to commit */
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 0);
}

/*
 * Closing waits for the batch with the writer (it commits) and drops the
 * batch still open (it is rolled back), as journal_close() always did.
 */
static void test_close_commits_what_was_handed_over(void **state)
{
    struct journal_fixture *f = *state;
    enum { N = 1000 };
    int *existed = xcalloc(2 * N, sizeof(*existed));
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "declare", e, NULL, &existed[e]);
    assert_int_equal(journal_commit_start(f->j), 0);
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "update", e, NULL, &existed[N + e]);
    journal_close(f->j);
    f->j = NULL;
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications WHERE step = 'declare'"),
                     N);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications WHERE step = 'update'"),
                     0);
    free(existed);
}

/* Without `existed`, or outside a batch, nothing is deferred. */
static void test_not_deferred(void **state)
{
    struct journal_fixture *f = *state;
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1] = "";
    char url[96];
    struct journal_notification_new nn = endpoint(f, "declare", 0, url, sizeof(url), NULL);
    assert_int_equal(journal_begin(f->j), 0);
    assert_int_equal(journal_notification_add(f->j, &nn, id), 0);
    assert_int_equal(strlen(id), JOURNAL_NOTIFICATION_ID_LEN);
    assert_int_equal(journal_notification_add(f->j, &nn, id), 1);
    assert_int_equal(journal_commit(f->j), 0);
    int existed = -1;
    nn = endpoint(f, "declare", 1, url, sizeof(url), &existed);
    assert_int_equal(journal_notification_add(f->j, &nn, id), 0); /* its own transaction */
    assert_int_equal(existed, 0);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), 2);
    delivered(f, id);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), 1);
}

#define BODY2 "{\"message\":\"Checkout works again.\"}"

/* 1 when e is one of the n in v. */
static int listed(const int *v, size_t n, int e)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == e)
            return 1;
    return 0;
}

/*
 * The writer runs a batch's consecutive notifications, and its consecutive
 * attempts, in statements of 16 rows, the rest of a group (at most 64 ops)
 * one by one.  155 notifications make groups of 64, 64 and 27 (16 and 11
 * alone).  Journaled before: one in the second group, whose statement goes
 * row by row, and two of the 11; the other statements (64 + 48 + 16 rows)
 * go whole.  Each row holds its own values, and exactly the notifications
 * journaled before say they existed.
 */
static void test_grouped_writes(void **state)
{
    struct journal_fixture *f = *state;
    enum { N = 155 };
    static const int before[] = {100, 150, 153};
    int64_t bodies[2] = {body_id, 0};
    assert_int_equal(journal_body_add(f->j, f->run.id, BODY2, &bodies[1]), 0);
    char ids[N][JOURNAL_NOTIFICATION_ID_LEN + 1];
    int existed[N];
    assert_int_equal(journal_begin(f->j), 0);
    for (size_t i = 0; i < ARRAY_SIZE(before); i++)
        add(f, "declare", before[i], ids[before[i]], &existed[before[i]]);
    assert_int_equal(journal_commit(f->j), 0);

    struct journal *j = f->j;
    long grouped = j->grouped_rows;
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++) {
        char url[96];
        struct journal_notification_new nn =
            endpoint(f, "declare", e, url, sizeof(url), &existed[e]);
        nn.created_ms = T0 + e;
        nn.due_ms = T0 + 1000 + e;
        nn.body_id = bodies[e % 2];
        nn.body = e % 2 ? BODY2 : BODY;
        existed[e] = -1;
        assert_int_equal(journal_notification_add(f->j, &nn, ids[e]), 0);
    }
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(j->grouped_rows - grouped, 64 + 48 + 16);
    for (int e = 0; e < N; e++)
        assert_int_equal(existed[e], listed(before, ARRAY_SIZE(before), e));

    struct journal_notification *nv;
    size_t count;
    assert_int_equal(journal_notification_list(f->j, f->run.id, ~0u, &nv, &count), 0);
    assert_int_equal(count, N);
    for (size_t i = 0; i < count; i++) {
        const struct journal_notification *n = &nv[i];
        int e = n->endpoint_index, was = existed[e];
        char url[96], id[JOURNAL_NOTIFICATION_ID_LEN + 1], hash[JOURNAL_ENDPOINT_HASH_LEN + 1],
            host[64];
        struct journal_notification_new want = endpoint(f, "declare", e, url, sizeof(url), NULL);
        journal_notification_id(&want, id);
        journal_endpoint_hash(url, hash);
        snprintf(host, sizeof(host), "https://subscriber%d.example/…", e);
        assert_string_equal(n->id, id);
        assert_string_equal(n->endpoint_hash, hash);
        assert_string_equal(n->endpoint_redacted, host);
        assert_string_equal(n->step, "declare");
        assert_string_equal(n->channel, "customers");
        assert_int_equal(n->occurrence, 1);
        assert_int_equal(n->state, DELIVERY_PENDING);
        /* Those journaled before kept what they had. */
        assert_string_equal(n->body, was || e % 2 == 0 ? BODY : BODY2);
        assert_int_equal(n->created_ms, was ? T0 : T0 + e);
        assert_int_equal(n->updated_ms, was ? T0 : T0 + e);
        assert_int_equal(n->due_ms, was ? T0 : T0 + 1000 + e);
    }
    journal_notification_list_free(nv, count);

    /* Attempts, each with values of its own: every third fails for good.
     * Groups of 64, 64 and 27: 144 rows in multi-row statements. */
    grouped = j->grouped_rows;
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++) {
        int fails = e % 3 == 0;
        struct journal_attempt a = {
            .number = 1, .started_ms = T0 + e, .finished_ms = T0 + 2 * e + 1,
            .http_status = fails ? 410 : 200 + e % 5, .latency_ms = e + 1,
            .outcome = fails ? ATTEMPT_FAILED : ATTEMPT_DELIVERED,
            .error = fails ? "HTTP 410" : NULL,
            .settles = fails ? DELIVERY_FAILED : DELIVERY_DELIVERED};
        memcpy(a.notification_id, ids[e], sizeof(a.notification_id));
        assert_int_equal(journal_attempt_add(f->j, &a), 0);
    }
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(j->grouped_rows - grouped, 64 + 64 + 16);
    struct journal_attempt *av;
    size_t na;
    assert_int_equal(journal_attempt_list(f->j, f->run.id, &av, &na), 0);
    assert_int_equal(na, N);
    for (size_t i = 0; i < na; i++) {
        int e = -1;
        for (int k = 0; k < N; k++)
            if (!strcmp(ids[k], av[i].notification_id))
                e = k;
        assert_true(e >= 0);
        int fails = e % 3 == 0;
        assert_int_equal(av[i].number, 1);
        assert_int_equal(av[i].started_ms, T0 + e);
        assert_int_equal(av[i].finished_ms, T0 + 2 * e + 1);
        assert_int_equal(av[i].http_status, fails ? 410 : 200 + e % 5);
        assert_int_equal(av[i].latency_ms, e + 1);
        assert_int_equal(av[i].outcome, fails ? ATTEMPT_FAILED : ATTEMPT_DELIVERED);
        if (fails)
            assert_string_equal(av[i].error, "HTTP 410");
        else
            assert_null(av[i].error);
    }
    journal_attempt_list_free(av, na);
    assert_int_equal(journal_notification_list(f->j, f->run.id, ~0u, &nv, &count), 0);
    for (size_t i = 0; i < count; i++) {
        int e = nv[i].endpoint_index, fails = e % 3 == 0;
        assert_int_equal(nv[i].state, fails ? DELIVERY_FAILED : DELIVERY_DELIVERED);
        assert_int_equal(nv[i].settled_ms, T0 + 2 * e + 1);
        assert_int_equal(nv[i].last_latency_ms, e + 1);
        assert_int_equal(nv[i].attempts, 1);
    }
    journal_notification_list_free(nv, count);
}

/*
 * A group meets what single writes meet: the same notification twice
 * (added, then existed: the 16-row statement holding both is undone and
 * its rows written one by one), a body that does not exist, an attempt on
 * no notification, settling a settled one, or the same attempt twice in
 * one statement, among good ones (the batch fails and leaves nothing).
 * Groups of 20: a statement of 16 rows and 4 alone.
 */
static void test_grouped_refusals(void **state)
{
    struct journal_fixture *f = *state;
    enum { N = 20 };
    char ids[N][JOURNAL_NOTIFICATION_ID_LEN + 1];
    int existed[N];
    long grouped = f->j->grouped_rows;
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "declare", e == 5 ? 2 : e, ids[e], &existed[e]);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(f->j->grouped_rows, grouped);
    for (int e = 0; e < N; e++)
        assert_int_equal(existed[e], e == 5);
    assert_string_equal(ids[5], ids[2]);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N - 1);

    assert_int_equal(journal_begin(f->j), 0);
    for (int e = N; e < 2 * N; e++) {
        char url[96];
        struct journal_notification_new nn =
            endpoint(f, "declare", e, url, sizeof(url), &existed[e - N]);
        if (e == N + 3)
            nn.body_id = body_id + 1000;
        assert_int_equal(journal_notification_add(f->j, &nn, ids[e - N]), 0);
    }
    assert_int_equal(journal_commit(f->j), -1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM notifications"), N - 1);

    char known[N][JOURNAL_NOTIFICATION_ID_LEN + 1];
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++)
        add(f, "declare", e, known[e], &existed[e]);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++) {
        struct journal_attempt a = orphan_attempt(DELIVERY_DELIVERED);
        if (e != 3)
            memcpy(a.notification_id, known[e], sizeof(a.notification_id));
        assert_int_equal(journal_attempt_add(f->j, &a), 0);
    }
    assert_int_equal(journal_commit(f->j), -1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), 0);
    assert_int_equal(
        count_rows(f->path, "SELECT count(*) FROM notifications WHERE state <> 'pending'"), 0);

    /* Settling one settled already is refused too (no foreign key sees it). */
    assert_int_equal(journal_begin(f->j), 0);
    delivered(f, known[3]);
    assert_int_equal(journal_commit(f->j), 0);
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++) {
        struct journal_attempt a = orphan_attempt(DELIVERY_DELIVERED);
        a.number = e == 3 ? 2 : 1;
        memcpy(a.notification_id, known[e], sizeof(a.notification_id));
        assert_int_equal(journal_attempt_add(f->j, &a), 0);
    }
    assert_int_equal(journal_commit(f->j), -1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), 1);
    assert_int_equal(
        count_rows(f->path, "SELECT count(*) FROM notifications WHERE state <> 'pending'"), 1);

    /* Retries settle nothing, so every UPDATE passes; the 16-row INSERT
     * meets the same attempt twice, and that fails the batch. */
    assert_int_equal(journal_begin(f->j), 0);
    for (int e = 0; e < N; e++) {
        struct journal_attempt a = orphan_attempt(DELIVERY_PENDING);
        a.number = 5;
        a.outcome = ATTEMPT_RETRY;
        memcpy(a.notification_id, known[e == 7 ? 6 : e], sizeof(a.notification_id));
        assert_int_equal(journal_attempt_add(f->j, &a), 0);
    }
    assert_int_equal(journal_commit(f->j), -1);
    assert_int_equal(count_rows(f->path, "SELECT count(*) FROM attempts"), 1);
    assert_int_equal(
        count_rows(f->path, "SELECT count(*) FROM notifications WHERE attempts >= 5"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deferred_until_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_with_immediate_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_in_an_untouched_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_collected_by_another_call, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_on_the_callers_thread, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hashing_beside_the_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_fails_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_found_by_a_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_drops_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_commits_what_was_handed_over, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_not_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grouped_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grouped_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
