/*
 * runner_internal.h - the state of a run, shared by the files of the
 * runner: runner.c (the loop), runner_control.c (operator commands) and
 * runner_resume.c (continuing from the journal).  Not a public API.
 */
#ifndef CRISISRUN_RUNNER_INTERNAL_H
#define CRISISRUN_RUNNER_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "crisisrun/journal.h"
#include "crisisrun/liveview.h"
#include "crisisrun/provider.h"
#include "crisisrun/runner.h"

struct control;

/* The runner lock's lease (journal_run_claim), renewed every RUNNER_HEARTBEAT_MS. */
#define RUNNER_LEASE_MS 30000
#define RUNNER_HEARTBEAT_MS 10000

/*
 * One message to every endpoint of a channel: the request body (the same
 * bytes for every endpoint: providers put the notification id in headers,
 * never in the body) and the provider message behind it.  Shared by the
 * notifications made from it until each is handed to the engine, which
 * copies what it keeps; freed with the last reference.
 */
struct outgoing {
    int refs;
    char *body;
    size_t len;
    struct provider_message msg; /* its strings point into `strings` */
    char *strings;
    int64_t body_id; /* journal_body_add()'s, once journaled; 0 before */
};

/* One notification between journaling and settling; the engine's tag. */
struct notif {
    struct runner *runner;
    struct notif *prev, *next; /* struct runner.notifs */
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    size_t channel, endpoint;
    int attempt;             /* the attempt to start with, then the current one */
    int retrying;            /* counted in the live view's "retrying" */
    int answered_gone;       /* its own attempt was answered 410 */
    int64_t attempt_started; /* run clock (wall) of the current attempt */
    int settle_journaled;    /* the last attempt's journal write settled it */
    int existed;             /* journaled before: not sent (flush_submits) */
    int feedback_request;    /* of the feedback step (feedback_closed_down) */
    char *error;             /* why its last attempt failed it for good, or NULL */
    int64_t not_before;      /* monotonic ms before which it is not sent; 0: at once */
    int hold_channel;        /* its channel waits as long (delivery_request) */
    struct outgoing *out; /* until handed to the engine; then NULL */
};

/*
 * A step occurrence whose notifications are journaled a chunk at a time
 * (runner.c, "fan-outs"): its messages, rendered when it fired (or, on
 * resume, taken from the journal), and the endpoints still to journal.
 * Queued FIFO in struct runner.
 */
struct fanout {
    struct fanout *next;
    char *step;
    int occurrence;
    size_t n, cur;          /* channels; the one being journaled */
    size_t *channels;
    struct outgoing **outs; /* NULL: nothing to send on that channel */
    size_t *from, *to;      /* per channel, the endpoints [from, to) left */
    /* Per channel, NULL or one byte an endpoint: 1 = journaled already
     * (resume completing a fan-out whose list changed, runner_resume.c). */
    unsigned char **skip;
    /* Endpoints passed over while their host had a full backlog, by host
     * (runner_fanout.c). */
    struct fanout_held *held;
    size_t nheld, held_alloc;
};

/* A new outgoing message with one reference; body is taken over. */
struct outgoing *outgoing_new(char *body, const struct provider_message *msg);
void outgoing_unref(struct outgoing *o);
/* outgoing_unref() for delivery_request.body_release. */
void outgoing_release(void *o);

/* A notification of channel's endpoint, attempt 1, in struct runner.notifs. */
struct notif *notif_new(struct runner *r, size_t channel, size_t endpoint);

struct runner {
    struct playbook *pb;
    char *playbook_text;
    struct journal *j;
    struct journal_run run;
    struct sched *sched;
    struct delivery *d;
    struct control *control;
    char host[256];
    char *public_url;
    /* When the runner lock's lease was last claimed or renewed (monotonic
     * ms): the heartbeat renews it every RUNNER_HEARTBEAT_MS from then. */
    int64_t lease_renewed;
    /* What a journal checkpoint has cost, per WAL page (maybe_checkpoint());
     * 0 until one is timed. */
    int64_t checkpoint_us_per_page;

    /* The run's clock: offset = offset_base + (monotonic - mono_base) * speed. */
    int64_t mono_base;
    int64_t offset_base;
    double speed;
    int drill;

    enum run_status status;   /* as journaled */
    int64_t feedback_closes;  /* offset, or -1 */
    /* Resumed after the feedback window closed while no process ran the
     * run: its feedback requests are given up, not sent (on_refuse()). */
    int feedback_closed_down;
    char *latest_note;
    int journal_failed;
    long failed;

    /* Journaled in the open batch, handed to the engine after commit; the
     * first ncommitting are in the batch with the journal's writer. */
    struct notif **submits;
    size_t nsubmits, asubmits, ncommitting;
    int committing_served; /* that batch answered a client */
    /* Every notification between journaling and settling, so that a run
     * that stops with some still in the engine frees them too. */
    struct notif *notifs;
    /* Large fan-outs still being journaled, oldest first. */
    struct fanout *fanouts;

    struct liveview lv;
    struct live_channel *live;

    /* Per channel, per endpoint: 1 once the endpoint answered 410 in this
     * run (before a resume too).  NULL rows until a channel has one. */
    unsigned char **disabled;
};

/* The run's clock: the offset now, and the wall time of an offset. */
int64_t runner_offset(const struct runner *r);
int64_t runner_wall(const struct runner *r, int64_t offset);

/* Journals an event now; takes the reference to detail (may be NULL). */
int runner_event(struct runner *r, enum journal_event_kind kind, const char *step,
                 int occurrence, json_t *detail, const char *actor);
/* Journals a status change already applied to the scheduler. */
void runner_status_changed(struct runner *r, enum run_status to, const char *actor);
/*
 * How many of a fan-out channel's endpoints are journaled with the step
 * itself, the rest following in chunks: their requests go out with the
 * step's own, so the first connections do not wait for the first chunk's
 * inserts (docs/performance.md, "Twenty-second round").  At most
 * COMMIT_HERE_MAX (runner.c), so that a step with one such channel still
 * has its batch committed by the loop itself.
 */
#define FANOUT_FIRST 16

/*
 * Journals and queues one message for every endpoint of channel ch.  With
 * fo, only the first FANOUT_FIRST endpoints now: the rest goes into fo's
 * slot `slot`, for runner_fanout_work() to journal a part at a time.
 */
int runner_notify_channel(struct runner *r, size_t ch, const char *step, int occurrence,
                          const char *text, enum run_status status,
                          const char *next_update, const char *next_iso,
                          struct fanout *fo, size_t slot);
/* Endpoints disabled by a 410 for the rest of the run. */
void runner_disable_endpoint(struct runner *r, size_t ch, size_t endpoint);
int runner_endpoint_disabled(const struct runner *r, size_t ch, size_t endpoint);
/* The name of the user running this process. */
const char *runner_os_user(void);

/*
 * Whether the loop checkpoints the journal now: `pending` pages in the WAL,
 * `acted` when this iteration handed something to the engine or a client,
 * `quiet_ms` (real time) until the next step falls due, `us_per_page` what
 * checkpoints have cost (<= 0: not known yet).  Below 1,000 pages never;
 * from 4,000 always; in between only in a quiet iteration, and only when
 * the next step is at least twice the checkpoint's expected time away
 * (and at least 5 ms).
 */
int runner_checkpoint_now(int pending, int acted, int64_t quiet_ms, int64_t us_per_page);

/*
 * The cost per page to expect of the next checkpoint, after one that
 * copied `copied` pages in `took_ms`, from `us_per_page` (<= 0: not known
 * yet): halfway to the new measurement, which counts for at most twice the
 * estimate; unchanged when fewer than 500 pages were copied.
 */
int64_t runner_checkpoint_learn(int64_t us_per_page, int copied, int64_t took_ms);

/* runner_resume.c: load the run named by opt->resume_run, claim it and
 * rebuild the scheduler.  0, -1 after reporting, or an exit code > 0. */
int runner_restore(struct runner *r, const struct runner_options *opt);
/* runner_resume.c: queue the notifications the journal has unsettled. */
void runner_resend_unsettled(struct runner *r);
/* runner_resume.c: queue the rest of the fan-outs a stop interrupted. */
void runner_complete_fanouts(struct runner *r);
/*
 * runner.c: journals endpoints [from, to) of channel ch with message out
 * and queues them for the engine, except those skip marks (skip MAY be
 * NULL).  0, or -1 when the journal failed.
 */
int runner_notify_endpoints(struct runner *r, size_t ch, const char *step, int occurrence,
                            struct outgoing *out, size_t from, size_t to,
                            const unsigned char *skip);

/* runner_fanout.c: a fan-out of n channels, nothing set yet. */
struct fanout *fanout_new(const char *step, int occurrence, size_t n);
void fanout_free(struct fanout *fo);
/* Queues a fan-out: journaled from the next loop iteration on. */
void runner_queue_fanout(struct runner *r, struct fanout *fo);
/* Whether a step to these channels is a fan-out (journaled in chunks). */
int runner_fanout_wanted(const struct runner *r, const size_t *notify, size_t nnotify);
/* Whether runner_fanout_work() has something to do now. */
int runner_fanout_ready(const struct runner *r);
/* Journals the next chunk of the queued fan-outs. */
void runner_fanout_work(struct runner *r);
/* The loop's wait in ms, given the timeout of everything else. */
int runner_fanout_timeout(const struct runner *r, int timeout);

#endif
