/*
 * journal.h - the SQLite journal: runs, their timeline, every notification
 * and every delivery attempt, and the state later commands build on
 * (acknowledgements, notes, the runner lock, feedback).
 *
 * The journal is what makes a run survive its process: every state change
 * is written here before it is acted on, so `resume` can continue a run
 * killed at any instant, re-sending at most what was in flight (with the
 * original notification id) and never what was delivered.
 *
 * Durability: WAL mode with synchronous=NORMAL.  A committed transaction
 * survives the death of the process (SIGKILL, crash) because it is in the
 * WAL file the moment COMMIT returns; only a power loss or kernel crash may
 * lose the last transactions.  That is the failure `resume` is built for,
 * and FULL would fsync on every batch of the run loop.  docs/journal.md.
 *
 * Batching: each write function below is atomic.  Outside a batch it is its
 * own transaction; between journal_begin() and journal_commit() all writes
 * share one transaction, which is how the run loop journals one loop
 * iteration (thousands of notifications in a fan-out) with one commit.
 * The caller MUST commit before acting on what it wrote (sending a
 * request, printing a run id): the journal comes first.
 *
 * Errors: every function that fails reports once through error() (util.h),
 * naming the journal path, and returns -1.  Nothing here exits or aborts,
 * except on out-of-memory (xmalloc).
 *
 * Secrets: the journal never stores an endpoint URL.  A notification keeps
 * the redacted form (url_redact: scheme and host) and a hash prefix of the
 * full URL.  The playbook text is stored as written, so the file is created
 * mode 0600 in a 0700 directory.
 */
#ifndef CRISISRUN_JOURNAL_H
#define CRISISRUN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crisisrun/model.h"

/* The schema version this build writes (PRAGMA user_version). */
#define JOURNAL_SCHEMA_VERSION 2

#define JOURNAL_RUN_ID_LEN 12          /* hex characters */
/* "msg_" + 32 hex; "msg_" + 24 hex in runs of id scheme 1 */
#define JOURNAL_NOTIFICATION_ID_LEN 36
/* How new runs derive notification ids (journal_notification_id). */
#define JOURNAL_ID_SCHEME 2
#define JOURNAL_ENDPOINT_HASH_LEN 16   /* hex characters */
#define JOURNAL_FEEDBACK_TOKEN_LEN 32  /* hex characters: 128 random bits */

struct journal;

/* journal_open() flags. */
#define JOURNAL_CREATE 0x1 /* create the file (0600) and its directory (0700) */
#define JOURNAL_WRITE 0x2  /* the caller will write: a read-only file is an error */

/*
 * Opens the journal at path.  Without JOURNAL_CREATE a missing file is the
 * error "no journal at 'PATH' (start a run first)".  Sets busy_timeout (5s),
 * WAL, synchronous=NORMAL and foreign_keys, then brings the schema up to
 * JOURNAL_SCHEMA_VERSION in one transaction; a journal written by a newer
 * crisisrun is refused.  A read-only file is fine for readers whose schema
 * is current.  Returns the handle, or NULL after reporting.
 */
struct journal *journal_open(const char *path, unsigned flags);
/* Closes the journal; an open batch is rolled back.  NULL is fine. */
void journal_close(struct journal *j);
/* The path given to journal_open (owned by j). */
const char *journal_path(const struct journal *j);

/*
 * Batches.  journal_begin() opens a batch (BEGIN IMMEDIATE: the write lock
 * is taken now, so a commit cannot fail on a lock upgrade).  Batches nest;
 * the outermost journal_commit() commits.  journal_rollback() abandons
 * everything since the matching begin.  Each returns 0 or -1.
 */
int journal_begin(struct journal *j);
int journal_commit(struct journal *j);
int journal_rollback(struct journal *j);

/*
 * Deferred writes: the journal's writer thread.  After
 * journal_writer_start() (outside a batch), the two writes a fan-out makes
 * for every endpoint, journal_notification_add() with
 * journal_notification_new.existed set and journal_attempt_add(), are only
 * recorded when called inside a batch, and run with the batch's COMMIT on
 * the writer thread; every other call first waits for the writer and runs
 * the writes recorded so far, in order, so reads see them and the writes
 * have the result they would have in the order of calls (the writer, or
 * a call that waits for it, runs a run of writes of one kind in multi-row
 * statements).  The outermost journal_begin() runs BEGIN with the batch's
 * first statement.
 *
 * journal_commit_start() hands the outermost batch over and returns at
 * once (without a writer it commits, as journal_commit()); the batch is
 * durable once journal_commit_wait() returns 0.  Until then nothing it
 * holds may be acted on.  journal_commit_fd() becomes readable when the
 * writer has finished and stays so until journal_commit_wait() (poll it;
 * journal_commit_wait() then does not block), even when another call has
 * waited for the writer meanwhile; journal_committing() says whether a
 * commit started has yet to be reported by journal_commit_wait().  A
 * deferred write that fails (reported then) fails its whole batch:
 * journal_commit_wait(), or the next call that needs the connection,
 * returns -1, and nothing written after it is committed.  journal_commit()
 * waits for its own batch and returns its result; a commit started before
 * it stays for journal_commit_wait() to report.
 * journal_close() waits for the batch with the writer and stops it.
 * One thread uses the handle, as before: the writer is the journal's own.
 *
 * journal_commit_here() is journal_commit_start() done on the calling
 * thread: after the batch before, it runs the batch's deferred writes and
 * COMMIT itself and returns once the batch is durable, with the result
 * left for journal_commit_wait() and the descriptor readable as if the
 * writer had done it.  For a small batch whose notifications wait to be
 * sent: handing it to the writer and learning that it is done costs two
 * wake-ups of one thread by the other, which on a busy machine were most
 * of a step's lateness (docs/performance.md, "Twentieth round").
 */
int journal_writer_start(struct journal *j);
int journal_commit_start(struct journal *j);
int journal_commit_here(struct journal *j);
int journal_commit_wait(struct journal *j);
int journal_committing(const struct journal *j);
int journal_commit_fd(const struct journal *j);

/*
 * Checkpoints: copying the WAL back into the database file.  SQLite does
 * it by default inside the commit that takes the WAL past 1,000 pages,
 * with an fsync: milliseconds during which a writer does nothing else.
 * The runner turns that off for its connection
 * (journal_manual_checkpoints()) and calls journal_checkpoint() when no
 * step is about to fall due.  journal_wal_pending() is the number of WAL
 * pages not yet copied, as of the last commit (0 on a connection that
 * checkpoints automatically).  journal_checkpoint() is passive: it copies
 * what it can without waiting for readers or writers (a reader's snapshot
 * holds back the pages after it; another process's checkpoint, all of
 * them).  Returns the number of pages this call copied, or -1.  SQLite
 * checkpoints only outside a transaction: with a batch open that has
 * written (not journal_batch_untouched()), it copies nothing and returns 0.
 */
void journal_manual_checkpoints(struct journal *j);
int journal_wal_pending(struct journal *j);
int journal_checkpoint(struct journal *j);
/*
 * 1 when the open batch (with a writer) has written and deferred nothing
 * yet: its BEGIN has not run, so a checkpoint may run before it.  The run
 * loop opens a batch every turn; during a long fan-out a turn without one
 * was too rare to find, and the WAL grew until its checkpoint made a step
 * late (docs/performance.md, "Twentieth round").
 */
int journal_batch_untouched(const struct journal *j);

/* Lowercase hex SHA-256 of data (out holds 65 bytes). */
void journal_sha256_hex(const void *data, size_t len, char out[65]);

/* ---- runs ---------------------------------------------------------------- */

enum journal_run_state {
    RUN_STATE_RUNNING,     /* a process is (or was, if it died) running it */
    RUN_STATE_RESOLVED,    /* resolved; the feedback window may still be open */
    RUN_STATE_INTERRUPTED, /* ended by SIGINT/SIGTERM before resolving: resumable */
    RUN_STATE_FAILED,      /* ended by an error it could not recover from */
};
const char *journal_run_state_name(enum journal_run_state s);
int journal_run_state_from_name(const char *s); /* -1 if unknown */

/*
 * One run.  Strings are owned by the struct once filled by the journal
 * (journal_run_get, journal_run_list); journal_run_release() frees them.
 * As input to journal_run_create() they are only read.
 */
struct journal_run {
    char id[JOURNAL_RUN_ID_LEN + 1];
    char *playbook_name;
    char *title;
    char *severity;       /* may be NULL */
    char *playbook_path;  /* as given on the command line (absolute is best) */
    char *playbook_text;  /* the file's content; NULL in journal_run_list */
    char playbook_sha256[65];
    char *vars_json;      /* --var overrides as a JSON object; NULL = {} */
    /* What the report needs from the playbook (runmeta.h: targets, channel
     * audiences, feedback questions) as JSON; NULL when not recorded.
     * Never holds a URL or a secret. */
    char *meta_json;
    /* --capture DIR of the run (absolute), or NULL: a resumed run keeps
     * capturing instead of sending for real. */
    char *capture_dir;
    int drill;
    double speed;         /* virtual seconds per real second; 1 normally */
    enum journal_run_state state;
    enum run_status status;
    int64_t started_ms;   /* wall clock */
    int64_t acknowledged_ms; /* 0 = not yet */
    char *acknowledged_by;
    int64_t resolved_ms;  /* 0 = not yet */
    int64_t ended_ms;     /* when the process finished with it; 0 = not yet */
    int64_t feedback_closes_ms; /* 0 = no feedback window */
    /* The runner lock (journal_run_claim).  owner_pid 0 = nobody. */
    int64_t owner_pid;
    char *owner_host;
    int64_t lease_until_ms;
    /* The control API of the owning process (journal_run_set_control). */
    char *control_addr;
    char *control_token;
    char *public_url;
    /* How the run's notification ids are derived: 1 for runs begun before
     * journal schema 2, else JOURNAL_ID_SCHEME (journal_notification_id). */
    int id_scheme;
};

/*
 * Creates a run in state `running`, status `investigating`, from r's
 * playbook_name, title, severity, playbook_path, playbook_text, vars_json,
 * meta_json, capture_dir, drill, speed and started_ms.  Generates the id (random, 48
 * bits, from random_bytes) into r->id, the text's hash into r->playbook_sha256 and
 * JOURNAL_ID_SCHEME into r->id_scheme, and records a run_started event.
 * Returns 0 or -1.
 */
int journal_run_create(struct journal *j, struct journal_run *r);

/*
 * Resolves a run id or a unique prefix of one into out (JOURNAL_RUN_ID_LEN
 * + 1 bytes).  Returns 0; or -1 after reporting "no run 'X'" or "run 'X' is
 * ambiguous (matches N runs)".
 */
int journal_run_find(struct journal *j, const char *id_or_prefix, char *out);

/* Reads the run with exactly this id into *out (zeroed first).  0 or -1. */
int journal_run_get(struct journal *j, const char *id, struct journal_run *out);
/* Frees the strings of r and zeroes it. */
void journal_run_release(struct journal_run *r);

/*
 * The run's clock at wall-clock time wall_ms: what "now" is on the run's
 * timeline.  For a normal run that is the wall clock; for a drill at
 * --speed N it is started + (wall - started) * N, the virtual time its
 * runner journals (events, resolved_ms, feedback_closes_ms), before,
 * during and after the runner's life, and after a resume (which keeps the
 * same formula).  Anything that stamps or measures "now" against a run's
 * journaled times goes through here: the form and the feedback commands
 * (received_ms), the feedback window, `list` (a running run's duration),
 * the report's verdict on an interrupted run's targets, and resume's test
 * of whether a run is over.  (A resumed runner keeps its own offsets from
 * the same formula, never behind the last journaled event.)
 */
int64_t journal_run_clock(const struct journal_run *r, int64_t wall_ms);

/*
 * All runs, newest first, without playbook_text.  *out is a new array of
 * *n runs; free it with journal_run_list_free().  0 or -1.
 */
int journal_run_list(struct journal *j, struct journal_run **out, size_t *n);
void journal_run_list_free(struct journal_run *v, size_t n);

/*
 * State changes.  set_state records ended_ms = now_ms unless the state is
 * running (a resumed run clears it).  set_status records resolved_ms the
 * first time the status becomes resolved.  set_acknowledged records only
 * the first acknowledgement of the run (returns 1 when it was already
 * acknowledged, 0 when this one counted).  Events are not added here: the
 * caller journals the event that explains the change in the same batch.
 */
int journal_run_set_state(struct journal *j, const char *id, enum journal_run_state s,
                          int64_t now_ms);
int journal_run_set_status(struct journal *j, const char *id, enum run_status st,
                           int64_t now_ms);
int journal_run_set_acknowledged(struct journal *j, const char *id, int64_t at_ms,
                                 const char *by);
int journal_run_set_feedback_closes(struct journal *j, const char *id, int64_t closes_ms);
/* Where the owning process serves its control API; any may be NULL. */
int journal_run_set_control(struct journal *j, const char *id, const char *addr,
                            const char *token, const char *public_url);

/*
 * The runner lock: one process runs a run.  A claim succeeds when nobody
 * owns the run, the owner's lease has expired (lease_until_ms < now_ms), the
 * claimant already owns it (same pid and host), or the current owner is
 * exactly `dead_pid` on the same host: a caller that has seen that process
 * is gone (kill(pid, 0) fails with ESRCH) takes over at once instead of
 * waiting for the lease; pass 0 otherwise.  The check and the update are
 * one statement, so of two processes racing for the same run exactly one
 * wins.  The lease lasts lease_ms; the owner renews it with
 * journal_run_heartbeat well before it ends.
 * Returns 1 when claimed, 0 when another live owner holds it, -1 on error.
 */
int journal_run_claim(struct journal *j, const char *id, int64_t pid, const char *host,
                      int64_t now_ms, int64_t lease_ms, int64_t dead_pid);
/* Extends the lease.  Returns 1, 0 when pid/host no longer own the run, -1. */
int journal_run_heartbeat(struct journal *j, const char *id, int64_t pid, const char *host,
                          int64_t now_ms, int64_t lease_ms);
/* Gives the run up (when pid/host own it) and clears the control address. */
int journal_run_release_owner(struct journal *j, const char *id, int64_t pid,
                              const char *host);

/* ---- events: the timeline -------------------------------------------------- */

enum journal_event_kind {
    EV_RUN_STARTED,
    EV_STEP_FIRED,     /* detail: {scheduled_offset_ms, actual_offset_ms, late} */
    EV_STATUS_CHANGED, /* detail: {from, to} */
    EV_ACKNOWLEDGED,   /* step NULL: the run; else that step occurrence */
    EV_ACK_WAITING,    /* a step waits for acknowledgement; detail: {deadline_ms} */
    EV_ESCALATED,      /* step: the unacknowledged step; detail: {escalation} */
    EV_NOTE,           /* detail: {text, action} */
    EV_TRIGGERED,      /* a manual step triggered */
    EV_RESOLVED,
    EV_INTERRUPTED,
    EV_RESUMED,
    EV_FAILED,            /* a new run could not start; detail: {reason} */
    EV_ENDPOINT_DISABLED, /* detail: {endpoint (redacted), channel} after 410 */
    EV_FEEDBACK_REQUESTED,
    EV_FEEDBACK_CLOSED,
    EV_KIND_COUNT
};
const char *journal_event_kind_name(enum journal_event_kind k);
int journal_event_kind_from_name(const char *s); /* -1 if unknown */

/* As input only read; as output (journal_event_list) owned by the array. */
struct journal_event {
    int64_t seq;   /* output: insertion order */
    int64_t at_ms; /* on the run's clock (journal_run_clock) */
    enum journal_event_kind kind;
    char *step;    /* may be NULL */
    int occurrence; /* 0 when not about a step occurrence; else 1-based */
    char *detail_json; /* a JSON object, or NULL; never a URL */
    char *actor;   /* who did it: OS user, "api", "runner"; may be NULL */
};

int journal_event_add(struct journal *j, const char *run_id, const struct journal_event *ev);
/* The run's events in time order (at_ms, then seq).  0 or -1. */
int journal_event_list(struct journal *j, const char *run_id, struct journal_event **out,
                       size_t *n);
void journal_event_list_free(struct journal_event *v, size_t n);

/* For resume: per step, the last occurrence that fired and when. */
struct journal_step_last {
    char *step;
    int occurrence;
    int64_t at_ms;
};
int journal_step_last_list(struct journal *j, const char *run_id,
                           struct journal_step_last **out, size_t *n);
void journal_step_last_list_free(struct journal_step_last *v, size_t n);

/* ---- notifications and delivery attempts ------------------------------------ */

enum journal_delivery_state {
    DELIVERY_PENDING,   /* journaled, not yet sent (or waiting to retry) */
    DELIVERY_INFLIGHT,  /* a request is out */
    DELIVERY_DELIVERED, /* final: 2xx */
    DELIVERY_FAILED,    /* final: permanent error or retries exhausted */
    DELIVERY_DISABLED,  /* final: the endpoint answered 410 earlier in the run */
    DELIVERY_STATE_COUNT
};
const char *journal_delivery_state_name(enum journal_delivery_state s);
int journal_delivery_state_from_name(const char *s); /* -1 if unknown */
#define DELIVERY_MASK(s) (1u << (s))
#define DELIVERY_UNSETTLED (DELIVERY_MASK(DELIVERY_PENDING) | DELIVERY_MASK(DELIVERY_INFLIGHT))
#define DELIVERY_ALL 0xffu

/* Input to journal_notification_add(); only read. */
struct journal_notification_new {
    const char *run_id;
    int id_scheme;      /* the run's (struct journal_run); 0 = JOURNAL_ID_SCHEME */
    const char *step;
    int occurrence;
    const char *channel;
    int endpoint_index; /* index in the channel's endpoint list */
    const char *endpoint_url; /* never stored: only its redaction and hash */
    const char *body;   /* the exact request payload; MUST NOT contain the URL */
    /* The body as journaled by journal_body_add(), shared by every endpoint
     * of one message; 0: journal_notification_add() stores body itself. */
    int64_t body_id;
    int64_t created_ms;
    int64_t due_ms;     /* when it may be sent (rate limits, retries move it) */
    /*
     * NULL, or where to say whether the notification was journaled
     * already (1) or added (0).  Set, it lets the write be deferred to the
     * batch's commit (see "Deferred writes"): journal_notification_add()
     * then returns 0 at once, and *existed and the id are known once
     * journal_commit_wait() has returned 0.  Both MUST stay valid until
     * then.
     */
    int *existed;
};

/*
 * The stable id of one notification, derived from what it is: run, step,
 * occurrence, channel and endpoint, so a re-send after resume carries the
 * same webhook-id and a receiver can de-duplicate.  Scheme 2 (new runs):
 * "msg_" + 20 hex digits of SHA-256 over run, step, occurrence and channel
 * (NUL-separated, so no two different tuples hash the same input) + the
 * endpoint index as 6 hex digits + the first 6 hex digits of
 * SHA-256(endpoint URL).  The ids of one message then sort in endpoint
 * order, so a fan-out's inserts append to the id index instead of
 * rewriting pages all over it at every commit.  Scheme 1 (runs begun
 * before journal schema 2): "msg_" + 24 hex digits of SHA-256 over the
 * tuple with the URL.  out holds JOURNAL_NOTIFICATION_ID_LEN + 1 bytes.
 */
void journal_notification_id(const struct journal_notification_new *nn, char *out);
/* The first JOURNAL_ENDPOINT_HASH_LEN hex digits of SHA-256(url) (+ NUL). */
void journal_endpoint_hash(const char *endpoint_url, char *out);

/*
 * Journals the body of one message to many endpoints, once, and sets *id
 * for journal_notification_new.body_id.  0 or -1.
 */
int journal_body_add(struct journal *j, const char *run_id, const char *body, int64_t *id);

/*
 * Journals a notification in state pending and writes its id to id_out
 * (JOURNAL_NOTIFICATION_ID_LEN + 1 bytes; may be NULL).  Idempotent: when
 * the same (run, step, occurrence, channel, endpoint) is already journaled
 * nothing changes and 1 is returned (a re-fired step after resume does not
 * send twice); 0 when added (or deferred: nn->existed, and then id_out is
 * written at the commit too); -1 on error (a body containing its endpoint
 * URL is refused).
 */
int journal_notification_add(struct journal *j, const struct journal_notification_new *nn,
                             char *id_out);

/*
 * Moves a notification to state s at now_ms; for pending, due_ms is the
 * time of the next attempt (ignored otherwise).  A settled notification
 * (delivered, failed, disabled) never changes again: trying is an error,
 * which is what guarantees a delivered message is never re-sent.
 */
int journal_notification_set_state(struct journal *j, const char *id,
                                   enum journal_delivery_state s, int64_t now_ms,
                                   int64_t due_ms);

/* As output owned by the array. */
struct journal_notification {
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    char run_id[JOURNAL_RUN_ID_LEN + 1];
    char *step;
    int occurrence;
    char *channel;
    int endpoint_index;
    char *endpoint_redacted;
    char endpoint_hash[JOURNAL_ENDPOINT_HASH_LEN + 1];
    enum journal_delivery_state state;
    int attempts;
    int64_t created_ms, updated_ms, due_ms;
    int64_t settled_ms; /* 0 while unsettled */
    char *body;
    int64_t body_id;      /* its row in `bodies` (journal_body_add) */
    int last_http_status; /* 0 = none (no response) */
    int64_t last_latency_ms; /* -1 = no attempt finished */
    char *last_error;     /* may be NULL */
};

/*
 * The run's notifications whose state is in state_mask (DELIVERY_MASK bits;
 * DELIVERY_UNSETTLED is what resume re-sends), in creation order.
 */
int journal_notification_list(struct journal *j, const char *run_id, unsigned state_mask,
                              struct journal_notification **out, size_t *n);
void journal_notification_list_free(struct journal_notification *v, size_t n);
/* Counts the run's notifications per state (counts[DELIVERY_STATE_COUNT]). */
int journal_notification_count(struct journal *j, const char *run_id, long *counts);
/* When the run's last notification settled into *ms (the run's clock), 0
 * when none has. */
int journal_notification_last_settled(struct journal *j, const char *run_id, int64_t *ms);

enum journal_attempt_outcome {
    ATTEMPT_DELIVERED, /* 2xx */
    ATTEMPT_RETRY,     /* 429, 5xx, timeout, connection error: will retry */
    ATTEMPT_FAILED,    /* permanent, or the last allowed attempt */
};
const char *journal_attempt_outcome_name(enum journal_attempt_outcome o);

struct journal_attempt {
    char notification_id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    int number;            /* 1-based; continues across a resume */
    int64_t started_ms, finished_ms;
    int http_status;       /* 0 = no response */
    int64_t latency_ms;
    enum journal_attempt_outcome outcome;
    char *error;           /* may be NULL; MUST NOT contain a URL path or a header */
    /*
     * Written only: DELIVERY_DELIVERED, DELIVERY_FAILED or DELIVERY_DISABLED
     * when this attempt settled the notification, which then moves to that
     * state at finished_ms in the same write (with the refusal of
     * journal_notification_set_state to change a settled one); 0
     * (DELIVERY_PENDING) leaves the state alone.  Lists return 0.
     */
    enum journal_delivery_state settles;
};

/*
 * Journals one finished attempt and updates the notification's attempt
 * count, last HTTP status, latency and error.  It changes the
 * notification's state only when a->settles says so; otherwise the caller
 * does, in the same batch.  0 or -1.  Refused (no such notification, or
 * one already settled), it writes nothing; failing after it updated the
 * notification, inside a batch, it rolls the whole batch back (the
 * batch's journal_commit() then fails): unlike other compound writes it
 * has no savepoint of its own, which a fan-out paid for on every attempt.
 * With a writer, inside a batch, it is deferred (see "Deferred writes"),
 * and a refusal fails the batch.
 */
int journal_attempt_add(struct journal *j, const struct journal_attempt *a);
/* Every attempt of the run's notifications, by notification then number. */
int journal_attempt_list(struct journal *j, const char *run_id, struct journal_attempt **out,
                         size_t *n);
void journal_attempt_list_free(struct journal_attempt *v, size_t n);

/* ---- acknowledgement waits and escalation ----------------------------------- */

struct journal_ack_wait {
    char *step;
    int occurrence;
    int64_t since_ms, deadline_ms;
    char *escalate_step;     /* may be NULL */
    int64_t acknowledged_ms; /* 0 = not yet */
    char *acknowledged_by;
    int64_t escalated_ms;    /* 0 = not escalated */
};

/* A step occurrence starts waiting for acknowledgement (idempotent). */
int journal_ack_wait_add(struct journal *j, const char *run_id, const char *step,
                         int occurrence, int64_t since_ms, int64_t deadline_ms,
                         const char *escalate_step);
/*
 * Acknowledges every waiting occurrence of step (neither acknowledged nor
 * escalated yet), as the scheduler cancels every pending deadline of it:
 * a repeating step can have several.  Returns 1 when any was acknowledged,
 * 0 when none was waiting (a wait that escalated stays escalated), -1 on
 * error.
 */
int journal_ack_step(struct journal *j, const char *run_id, const char *step, int64_t at_ms,
                     const char *by);
/* Marks a waiting occurrence escalated.  0 or -1. */
int journal_ack_escalated(struct journal *j, const char *run_id, const char *step,
                          int occurrence, int64_t at_ms);
int journal_ack_wait_list(struct journal *j, const char *run_id, struct journal_ack_wait **out,
                          size_t *n);
void journal_ack_wait_list_free(struct journal_ack_wait *v, size_t n);

/* ---- notes -------------------------------------------------------------------- */

struct journal_note {
    int64_t id;       /* output */
    int64_t at_ms;
    char *author;     /* the OS user, or "api" */
    char *text;
    int action_item;  /* a follow-up action for the report */
    char *notify_json; /* JSON array of channel names it was broadcast to, or NULL */
};
/* Adds a note (and writes its id to *id_out when not NULL).  0 or -1. */
int journal_note_add(struct journal *j, const char *run_id, const struct journal_note *note,
                     int64_t *id_out);
int journal_note_list(struct journal *j, const char *run_id, struct journal_note **out,
                      size_t *n);
void journal_note_list_free(struct journal_note *v, size_t n);

/* ---- feedback ------------------------------------------------------------------ */

/*
 * The feedback token of a run's channel: 128 random bits as 32 hex digits,
 * created on first use and returned unchanged afterwards (a resumed run
 * renders the same links).  Stored in the clear: the feedback request
 * bodies journaled for re-sending contain the link anyway, and the journal
 * is private to its user (docs/journal.md).  out: JOURNAL_FEEDBACK_TOKEN_LEN
 * + 1 bytes.  0 or -1.
 */
int journal_feedback_token(struct journal *j, const char *run_id, const char *channel,
                           enum audience audience, int64_t now_ms, char *out);
/*
 * Finds the run and channel of a token (run_out: JOURNAL_RUN_ID_LEN + 1;
 * *channel_out a new string).  Returns 1 found, 0 unknown token, -1 error.
 */
int journal_feedback_token_lookup(struct journal *j, const char *token, char *run_out,
                                  char **channel_out, enum audience *audience_out);

struct journal_answer {
    char *question_id;
    int rating;   /* 1..scale; 0 for a text answer */
    char *text;   /* may be NULL */
};

struct journal_feedback {
    int64_t id;           /* output */
    int64_t received_ms;
    char *channel;        /* the channel the respondent came from; may be NULL */
    enum audience audience;
    char *source;         /* "form", "cli" or "import" */
    int anonymous;
    char *respondent;     /* NULL when anonymous */
    char *comment;        /* may be NULL */
    struct journal_answer *answers;
    size_t nanswers;
};
/* Stores one response with its answers, atomically.  0 or -1. */
int journal_feedback_add(struct journal *j, const char *run_id,
                         const struct journal_feedback *f, int64_t *id_out);
int journal_feedback_list(struct journal *j, const char *run_id,
                          struct journal_feedback **out, size_t *n);
void journal_feedback_list_free(struct journal_feedback *v, size_t n);

/* ---- views: `list` and `show` ------------------------------------------------- */

/*
 * Prints every run, newest first: a table, or with json a JSON array.
 * now_ms (the wall clock) measures the duration of runs still going, each
 * on its own clock (journal_run_clock).  0 or -1.
 */
int journal_print_runs(struct journal *j, int json, int64_t now_ms, FILE *out);

/*
 * Prints one run's timeline (RUN is an id or unique prefix): header, events
 * with offsets from the start, deliveries per notification, acknowledgement
 * waits, notes; or with json one JSON object.  Only redacted endpoints are
 * printed, never a URL path, query, header or body.  0 or -1.
 */
int journal_print_run(struct journal *j, const char *run, int json, FILE *out);

#endif
