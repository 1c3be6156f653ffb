/*
 * journal_internal.h - what the journal_*.c files share: the handle, the
 * prepared-statement cache and small binding/reading helpers.  Not a public
 * API: everything outside src/journal*.c uses include/crisisrun/journal.h.
 */
#ifndef CRISISRUN_JOURNAL_INTERNAL_H
#define CRISISRUN_JOURNAL_INTERNAL_H

#include <sqlite3.h>

#include "crisisrun/journal.h"
#include "crisisrun/util.h"

/* One slot per cached statement; the SQL lives next to the function using it. */
enum journal_stmt_slot {
    ST_RUN_INSERT,
    ST_RUN_FIND,
    ST_RUN_GET,
    ST_RUN_LIST,
    ST_RUN_SET_STATE,
    ST_RUN_SET_STATUS,
    ST_RUN_SET_ACK,
    ST_RUN_SET_FEEDBACK,
    ST_RUN_SET_CONTROL,
    ST_RUN_CLAIM,
    ST_RUN_HEARTBEAT,
    ST_RUN_RELEASE_OWNER,
    ST_EVENT_INSERT,
    ST_EVENT_LIST,
    ST_STEP_LAST,
    ST_BODY_INSERT,
    ST_NOTIF_INSERT,
    ST_NOTIF_INSERT_ROWS, /* JOURNAL_ROWS of them (journal_delivery.c) */
    ST_NOTIF_GET_STATE,
    ST_NOTIF_SET_STATE,
    ST_NOTIF_LIST,
    ST_NOTIF_COUNT,
    ST_NOTIF_LAST_SETTLED,
    ST_ATTEMPT_INSERT,
    ST_ATTEMPT_INSERT_ROWS,
    ST_ATTEMPT_NOTIF_UPDATE,
    ST_ATTEMPT_NOTIF_SETTLE,
    ST_ATTEMPT_LIST,
    ST_ACK_INSERT,
    ST_ACK_STEP,
    ST_ACK_ESCALATED,
    ST_ACK_LIST,
    ST_NOTE_INSERT,
    ST_NOTE_LIST,
    ST_TOKEN_GET,
    ST_TOKEN_INSERT,
    ST_TOKEN_LOOKUP,
    ST_FEEDBACK_INSERT,
    ST_ANSWER_INSERT,
    ST_FEEDBACK_LIST,
    ST_ANSWER_LIST,
    ST_TXN_BEGIN,
    ST_TXN_SAVEPOINT,
    ST_TXN_RELEASE,
    ST_TXN_COMMIT,
    ST_COUNT
};

/* The last notification id tuple hashed, and its hash's first 20 digits. */
struct id_cache {
    struct strbuf tuple, scratch;
    char prefix[20];
};

struct journal {
    sqlite3 *db;
    char *path;
    int depth;   /* nesting of journal_begin */
    /* With a writer: the outermost journal_begin() has not run BEGIN yet
     * (journal_sync() or the writer will). */
    int begin_pending;
    struct journal_writer *w; /* NULL: every write runs at once */
    int aborted; /* SQLite rolled the open batch back after an error */
    /* With journal_manual_checkpoints(): frames in the WAL after the last
     * commit, and how many of them the last checkpoint copied. */
    int wal_frames, wal_backfilled;
    struct id_cache ids, deferred_ids; /* the run loop's; deferred writes' */
    /* Rows written by multi-row INSERTs: tests check that groups use them. */
    long grouped_rows;
    sqlite3_stmt *stmt[ST_COUNT];
};

/*
 * The cached statement for slot, prepared from sql on first use, reset and
 * with its bindings cleared.  NULL after reporting a prepare error.
 */
sqlite3_stmt *journal_stmt(struct journal *j, enum journal_stmt_slot slot, const char *sql);

/*
 * Rolls the whole open batch back, for a compound write that failed half
 * done without a savepoint of its own: later writes fail, and so does the
 * batch's journal_commit(), with "the batch was rolled back after an error".
 */
void journal_abort(struct journal *j);

/* Reports "journal 'PATH': cannot WHAT: SQLITE_MESSAGE" once; returns -1. */
int journal_fail(struct journal *j, const char *what);

/*
 * Steps a statement that writes (expects SQLITE_DONE), then resets it.
 * Returns 0, or -1 after reporting "cannot WHAT".
 */
int journal_step_write(struct journal *j, sqlite3_stmt *st, const char *what);

/* Binds s, or NULL when s is NULL. */
void journal_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Binds v, or NULL when v is 0 (columns where 0 means "not yet"). */
void journal_bind_time(sqlite3_stmt *st, int i, int64_t v);
/* A new copy of a text column, or NULL for SQL NULL. */
char *journal_col_str(sqlite3_stmt *st, int i);
/* Copies a text column into a fixed buffer of size bytes ("" for NULL). */
void journal_col_copy(sqlite3_stmt *st, int i, char *buf, size_t size);

/*
 * Deferred writes (journal_writer.c).  A write deferred with
 * journal_defer() runs later, in order, in the same batch: on the writer
 * thread when the batch is handed over, or on the caller's thread when a
 * statement needs the connection first.  run returns 0 or -1 (after
 * reporting); it runs inside the open transaction and MUST NOT call
 * journal_abort() (whoever runs it rolls back).  The op is freed (free())
 * after it ran or was dropped.
 */
struct journal_op {
    struct journal_op *next;
    int (*run)(struct journal *j, struct journal_op *op);
    /*
     * NULL, or runs n consecutive ops with this same run_group (1 < n <=
     * JOURNAL_GROUP_MAX) with the result their run would have one after the
     * other, in fewer statements: a fan-out's writes come in long runs of
     * one kind.  Returns as run does, under the same rules; after a failure
     * the ops' outputs may be partly written (the batch fails anyway).
     */
    int (*run_group)(struct journal *j, struct journal_op **ops, int n);
};
/* The most ops one run_group call takes: bounds its array of ops on the
 * writer's stack; a longer run of one kind is several groups. */
#define JOURNAL_GROUP_MAX 64
/* 1 when a write may be deferred now: a writer, a batch open, not failed. */
int journal_deferring(const struct journal *j);
void journal_defer(struct journal *j, struct journal_op *op);
/*
 * The connection to this thread, with every deferred write done: waits for
 * the writer's batch, runs BEGIN if it is pending and the writes deferred
 * since.  Every use of j->db outside the writer goes through it
 * (journal_stmt() calls it).  0, or -1 after a failure (the batch is
 * rolled back: journal_abort()).
 */
int journal_sync(struct journal *j);
/* 1 on the writer thread. */
int journal_on_writer(const struct journal *j);
/*
 * The open outermost batch to the writer: journal_commit_start() (report:
 * its result goes to journal_commit_wait()), or journal_writer_commit(),
 * which waits for it and returns its result, leaving a result that
 * journal_commit_wait() owes to an earlier journal_commit_start() alone.
 */
int journal_writer_hand_over(struct journal *j, int report);
int journal_writer_commit(struct journal *j);
/* journal_commit_here() with a writer, the batch's depth already 0. */
int journal_writer_commit_here(struct journal *j);
void journal_writer_stop(struct journal *j);
/* Waits for the batch with the writer, if any; runs nothing deferred. */
void journal_writer_settle(struct journal *j);
/* Frees the writes deferred in the open batch without running them. */
void journal_writer_drop(struct journal *j);

/* Writes 2 * nbytes random hex digits (random_bytes) and a NUL to out.  0 or -1. */
int journal_random_hex(struct journal *j, char *out, size_t nbytes);

#endif
