/*
 * journal_writer.c - the journal's writer thread: a batch's deferred
 * writes and its COMMIT run on the second core while the run loop goes on
 * sending (journal.h, "Deferred writes").
 *
 * Why: in a 10,000-endpoint fan-out a third of the run loop's instructions
 * were SQLite's, two statements a notification, and every request waited
 * behind them on the one core.  The writer takes the two hot writes (a
 * notification journaled, an attempt journaled) and the commit; every other
 * use of the connection waits for it first.
 *
 * Invariant: the connection is used by one thread at a time.  The run loop
 * thread touches SQLite only after journal_sync(), which waits until the
 * writer has finished the batch handed to it and then runs, in order, the
 * writes deferred since.  The writer touches SQLite only between a hand-off
 * and the completion it signals; both are made under the mutex, so each
 * side sees what the other wrote.
 */
#include "journal_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "crisisrun/util.h"

/* SQLite needs far less; the default 8 MiB would only be address space. */
#define WRITER_STACK (1024 * 1024)

struct journal_writer {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int efd;        /* readable from a batch's completion to journal_commit_wait() */
    int quit;
    /* Handed over, under mu: the batch to run (begin it first?), until
     * collect() frees it. */
    struct journal_op *job;
    int job_begin;
    int job_pending, result;
    /* Main thread only: the writes deferred in the open batch. */
    struct journal_op *head, **tail;
    int handed;    /* a batch is with the writer */
    /* ... handed over by journal_commit_start(), whose caller learns its
     * result from journal_commit_wait(); journal_commit() waits itself. */
    int handed_report;
    /* Such a batch's result once finished, until journal_commit_wait()
     * reports it (the first failure, when several finished meanwhile). */
    int result_kept;
    int has_result;
    int draining;  /* journal_sync() is running deferred writes itself */
};

/* Set on a writer thread, which only ever uses its own journal. */
static _Thread_local int in_writer;

static void free_ops(struct journal_op *op)
{
    while (op) {
        struct journal_op *next = op->next;
        free(op);
        op = next;
    }
}

/* The writes deferred in the open batch, taken out of it. */
static struct journal_op *take_ops(struct journal_writer *w)
{
    struct journal_op *ops = w->head;
    w->head = NULL;
    w->tail = &w->head;
    return ops;
}

/*
 * Runs ops in order inside the open transaction, consecutive ones with the
 * same run_group together; stops at the first failure.
 */
static int run_ops(struct journal *j, struct journal_op *op)
{
    while (op) {
        struct journal_op *group[JOURNAL_GROUP_MAX];
        int n = 0;
        for (struct journal_op *o = op; o && op->run_group && o->run_group == op->run_group &&
                                        n < JOURNAL_GROUP_MAX;
             o = o->next)
            group[n++] = o;
        struct journal_op *next = n > 1 ? group[n - 1]->next : op->next;
        if ((n > 1 ? op->run_group(j, group, n) : op->run(j, op)) < 0)
            return -1;
        op = next;
    }
    return 0;
}

static int exec_stmt(struct journal *j, enum journal_stmt_slot slot, const char *sql,
                     const char *what)
{
    sqlite3_stmt *st = journal_stmt(j, slot, sql);
    return st ? journal_step_write(j, st, what) : -1;
}

static void rollback_quietly(struct journal *j)
{
    if (!sqlite3_get_autocommit(j->db))
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

static void *writer_main(void *arg)
{
    struct journal *j = arg;
    struct journal_writer *w = j->w;
    in_writer = 1;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->job_pending && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->job_pending)
            break;
        struct journal_op *ops = w->job;
        int begin = w->job_begin;
        pthread_mutex_unlock(&w->mu);

        int rc = 0;
        if (begin)
            rc = exec_stmt(j, ST_TXN_BEGIN, "BEGIN IMMEDIATE", "begin a transaction");
        if (rc == 0)
            rc = run_ops(j, ops);
        if (rc == 0)
            rc = exec_stmt(j, ST_TXN_COMMIT, "COMMIT", "commit");
        if (rc < 0)
            rollback_quietly(j);

        pthread_mutex_lock(&w->mu);
        w->job_pending = 0;
        w->result = rc;
        pthread_cond_broadcast(&w->cv);
        uint64_t one = 1;
        ssize_t n = write(w->efd, &one, sizeof(one));
        (void)n; /* a counter already non-zero is all the loop needs */
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int journal_writer_start(struct journal *j)
{
    if (j->w)
        return 0;
    if (j->depth)
        return error("journal '%s': the writer starts outside a batch", j->path);
    struct journal_writer *w = xcalloc(1, sizeof(*w));
    w->tail = &w->head;
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->efd < 0) {
        error("journal '%s': cannot start its writer: %s", j->path, strerror(errno));
        free(w);
        return -1;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WRITER_STACK);
    j->w = w;
    int rc = pthread_create(&w->tid, &attr, writer_main, j);
    pthread_attr_destroy(&attr);
    if (rc) {
        j->w = NULL;
        close(w->efd);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return error("journal '%s': cannot start its writer: %s", j->path, strerror(rc));
    }
    return 0;
}

/* A batch's result, for journal_commit_wait(): a failure is kept until the
 * caller learns of it, whatever finishes after it. */
static void keep_result(struct journal_writer *w, int rc)
{
    if (!w->has_result || w->result_kept == 0)
        w->result_kept = rc;
    w->has_result = 1;
}

/*
 * Waits for the batch handed over and returns its result, which is also
 * kept for journal_commit_wait() when that is where its caller learns it.
 */
static int collect(struct journal *j)
{
    struct journal_writer *w = j->w;
    pthread_mutex_lock(&w->mu);
    while (w->job_pending)
        pthread_cond_wait(&w->cv, &w->mu);
    int rc = w->result;
    struct journal_op *done = w->job;
    w->job = NULL;
    pthread_mutex_unlock(&w->mu);
    /* The descriptor stays readable until journal_commit_wait(): a caller
     * that learns of the commit there (the run loop, which hands the
     * batch's notifications out then) must not miss it because another
     * call collected it first. */
    free_ops(done);
    w->handed = 0;
    if (w->handed_report)
        keep_result(w, rc);
    return rc;
}

void journal_writer_settle(struct journal *j)
{
    if (j->w && !journal_on_writer(j) && j->w->handed)
        collect(j);
}

void journal_writer_stop(struct journal *j)
{
    struct journal_writer *w = j->w;
    if (!w)
        return;
    if (w->handed)
        collect(j);
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->tid, NULL);
    free_ops(w->head);
    close(w->efd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    j->w = NULL;
}

int journal_sync(struct journal *j)
{
    struct journal_writer *w = j->w;
    if (!w || journal_on_writer(j) || w->draining)
        return 0;
    /* The statements below come back here through journal_stmt(). */
    w->draining = 1;
    int rc = 0;
    if (w->handed)
        collect(j);
    /* The batch before failed to commit (reported then): nothing written
     * since may be committed in its place. */
    if (w->has_result && w->result_kept < 0)
        rc = -1;
    if (j->aborted) {
        /* The batch is gone; its writes with it. */
        free_ops(take_ops(w));
        j->begin_pending = 0;
    }
    if (rc == 0 && j->begin_pending) {
        j->begin_pending = 0;
        rc = exec_stmt(j, ST_TXN_BEGIN, "BEGIN IMMEDIATE", "begin a transaction");
    }
    if (rc == 0 && w->head) {
        struct journal_op *ops = take_ops(w);
        rc = run_ops(j, ops);
        free_ops(ops);
    }
    w->draining = 0;
    if (rc < 0)
        journal_abort(j);
    return rc;
}

int journal_batch_untouched(const struct journal *j)
{
    return j->w && j->depth == 1 && j->begin_pending && !j->w->head && !j->aborted;
}

int journal_on_writer(const struct journal *j)
{
    (void)j;
    return in_writer;
}

int journal_deferring(const struct journal *j)
{
    return j->w && !journal_on_writer(j) && j->depth > 0 && !j->aborted && !j->w->draining;
}

void journal_defer(struct journal *j, struct journal_op *op)
{
    struct journal_writer *w = j->w;
    op->next = NULL;
    *w->tail = op;
    w->tail = &op->next;
}

int journal_writer_hand_over(struct journal *j, int report)
{
    struct journal_writer *w = j->w;
    if (w->handed)
        collect(j);
    if (w->has_result && w->result_kept < 0) {
        /* The batch before failed: this one, which may build on it, is
         * dropped with it. */
        free_ops(take_ops(w));
        rollback_quietly(j);
        j->begin_pending = 0;
        if (report)
            journal_commit_wait(j); /* the failure is reported by this return */
        return -1;
    }
    if (j->begin_pending && !w->head) {
        /* Nothing was written: there is no transaction to commit. */
        j->begin_pending = 0;
        return 0;
    }
    pthread_mutex_lock(&w->mu);
    w->job = take_ops(w);
    w->job_begin = j->begin_pending;
    w->job_pending = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    w->handed = 1;
    w->handed_report = report;
    j->begin_pending = 0;
    return 0;
}

int journal_writer_commit_here(struct journal *j)
{
    struct journal_writer *w = j->w;
    int rc = 0;
    if (j->begin_pending && !w->head) {
        /* Nothing was written: there is no transaction to commit, only the
         * batch before to wait for, as journal_sync() would. */
        if (w->handed)
            collect(j);
        j->begin_pending = 0;
    } else {
        rc = journal_sync(j); /* the batch before, BEGIN, the deferred writes */
        if (rc == 0)
            rc = exec_stmt(j, ST_TXN_COMMIT, "COMMIT", "commit");
        if (rc < 0)
            rollback_quietly(j);
    }
    /* Reported as a handed batch's would be (collect()): by
     * journal_commit_wait(), the descriptor readable until then. */
    keep_result(w, rc);
    uint64_t one = 1;
    ssize_t n = write(w->efd, &one, sizeof(one));
    (void)n;
    return 0;
}

int journal_writer_commit(struct journal *j)
{
    struct journal_writer *w = j->w;
    if (journal_writer_hand_over(j, 0) < 0)
        return -1;
    if (!w->handed)
        return 0; /* nothing to commit */
    int rc = collect(j);
    if (!w->has_result) {
        /* Nobody waits on the descriptor for this batch. */
        uint64_t v;
        ssize_t n = read(w->efd, &v, sizeof(v));
        (void)n;
    }
    return rc;
}

void journal_writer_drop(struct journal *j)
{
    free_ops(take_ops(j->w));
}

int journal_commit_wait(struct journal *j)
{
    struct journal_writer *w = j->w;
    if (!w)
        return 0;
    if (w->handed)
        collect(j);
    int rc = w->has_result ? w->result_kept : 0;
    w->has_result = 0;
    w->result_kept = 0;
    uint64_t v;
    ssize_t n = read(w->efd, &v, sizeof(v)); /* nothing to read is fine */
    (void)n;
    return rc;
}

int journal_committing(const struct journal *j)
{
    return j->w && (j->w->handed || j->w->has_result);
}

int journal_commit_fd(const struct journal *j)
{
    return j->w ? j->w->efd : -1;
}
