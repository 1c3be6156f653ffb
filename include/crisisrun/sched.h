/*
 * sched.h - when each step occurrence happens, on an injected clock.
 *
 * The scheduler is a pure data structure: it knows nothing of HTTP, the
 * journal or wall clocks.  Every time it sees is an int64 offset in
 * milliseconds since the run started, passed in by the caller.  `plan`
 * drives it on a virtual clock (now = sched_next_time()), `run` on the
 * monotonic clock times --speed; both get the same occurrences, so the
 * {{next_update}} a plan prints is the one the run sends.
 *
 * Rules (docs/plan.md says the same for playbook authors):
 *
 *  - `at: D` fires once at D.  `after: STEP, delay: D` fires once, D after
 *    STEP's first occurrence actually fired (the `now` it was popped at);
 *    if STEP never fires, neither does it.  `every: E, from: F` fires at F,
 *    F+E, F+2E, ...; occurrence k is due at F + (k-1)E.
 *  - `until: STATUS` stops a recurring step once the status reaches STATUS
 *    or a later one in lifecycle order.  `until: {count: N}` stops it after
 *    its Nth occurrence slot (a slot coalesced away after downtime counts).
 *  - Resolution is the end of the crisis: it cancels every timer armed
 *    before it (at, every with or without until, after, and pending
 *    acknowledgement deadlines), then fires the `on: resolved` steps and
 *    after them the feedback request.  Timers armed by steps that fire
 *    after the resolution (an `after: all-clear` post-mortem reminder)
 *    do run.  Resolved is final: the status cannot change again.
 *  - A step with `status: S` moves the status to S when it fires; its own
 *    message shows S (a "declare, status: investigating" step says
 *    investigating; a step setting `resolved` is the resolution).  Its
 *    `after:` dependents are armed after the status change.
 *  - A status change (from a step or sched_set_status) fires, at the same
 *    instant, the `on: status:NAME` steps for the new status and, for
 *    resolved, the `on: resolved` steps.  Each `on: status:NAME` step fires
 *    at most once per run: the first time the status becomes NAME.  The run
 *    starts in investigating, so `on: status:investigating` fires at 0.
 *    Setting the status it already has changes nothing and fires nothing.
 *  - `on: acknowledged` fires the first time the run is acknowledged (not
 *    after resolution: the crisis is over).  `on: manual` fires on each
 *    sched_trigger(), also after resolution.  `on: escalation` fires each
 *    time the deadline of a step naming it in `ack.escalate` passes.
 *  - `ack: {within: W, escalate: X}`: every occurrence of the step arms a
 *    deadline at fire + W.  sched_ack_step() before it cancels it (so does
 *    one after its time, until sched_pop() has returned its escalation: the
 *    runner serves the acknowledgements that reached it before it pops
 *    what is due, docs/plan.md); when it passes, X fires with the waiting
 *    step and W as trigger info, and if X has its own ack the chain
 *    continues.  Acknowledging the run (sched_ack_run) acknowledges every
 *    waiting step: all pending deadlines are cancelled.  Acknowledging one
 *    step does not acknowledge the run.
 *  - Due occurrences come out in time order; ties go in playbook step
 *    order, and the feedback request after every step of the same instant.
 *    Occurrence numbers are 1-based per step; for a recurring step they
 *    are schedule slots, so a coalesced gap shows as a jump.
 *  - Catching up (after a resume or a stall): when two or more slots of one
 *    recurring step are due at once, only the latest fires, with the
 *    earlier ones counted in sched_fire.skipped: one update, not a burst.
 *    A one-shot step that came due while the runner was down fires once,
 *    with its lateness.
 *
 * Errors: the functions below that can refuse (a step that is not waiting,
 * a step that is not `on: manual`, a status change after resolution) return
 * -1 WITHOUT printing: the caller words the refusal for its audience (the
 * CLI or the control API).
 *
 * Ownership: the scheduler borrows the playbook, which must outlive it.
 */
#ifndef CRISISRUN_SCHED_H
#define CRISISRUN_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/model.h"

struct sched;

/* The pseudo step index of the feedback request (struct sched_fire.step). */
#define SCHED_FEEDBACK ((size_t)-1)

/*
 * What {{next_update}} renders as when nothing is scheduled for the channel
 * and the playbook promises no update_interval (or the run is resolved).
 * Shared by `plan` and `run` so that both print the same text.
 */
#define SCHED_NO_UPDATE_TEXT "when there is news"

/* Why an occurrence fired. */
enum sched_cause {
    SCHED_CAUSE_TIME,         /* at: or every: */
    SCHED_CAUSE_AFTER,        /* after: STEP */
    SCHED_CAUSE_STATUS,       /* on: status:NAME */
    SCHED_CAUSE_RESOLVED,     /* on: resolved, and the feedback request */
    SCHED_CAUSE_ACKNOWLEDGED, /* on: acknowledged */
    SCHED_CAUSE_ESCALATION,   /* on: escalation: an ack deadline passed */
    SCHED_CAUSE_MANUAL,       /* on: manual, via sched_trigger() */
};

/* "time", "after", "status", "resolved", "acknowledged", "escalation", "manual". */
const char *sched_cause_name(enum sched_cause c);

/* One occurrence, as returned by sched_pop(). */
struct sched_fire {
    size_t step;      /* index in pb->steps, or SCHED_FEEDBACK */
    int occurrence;   /* 1-based per step (the feedback request: 1) */
    int64_t due;      /* the offset it was scheduled for */
    int64_t fired;    /* the `now` it was popped at (>= due) */
    int64_t lateness; /* fired - due */
    int late;         /* it came due before sched_resume()'s instant */
    int skipped;      /* earlier slots of this recurring step coalesced into it */
    enum sched_cause cause;
    enum run_status
        status;         /* the status in force for its message (after its own status:) */
    int status_changed; /* this occurrence moved the status */
    /* SCHED_CAUSE_ESCALATION only: the step whose deadline passed. */
    size_t trigger_step;
    int trigger_occurrence;
    int64_t waited; /* its ack.within */
};

/* A pending acknowledgement deadline (sched_deadlines). */
struct sched_deadline {
    size_t step;      /* the step waiting for acknowledgement */
    int occurrence;   /* which occurrence of it */
    int64_t fired;    /* when that occurrence fired */
    int64_t deadline; /* fired + ack.within: when `escalate` fires */
    size_t escalate;  /* the escalation step */
};

/* A new scheduler for pb, status investigating, nothing armed.  Never NULL. */
struct sched *sched_new(const struct playbook *pb);
void sched_free(struct sched *s);

/*
 * Starts the run at offset 0: arms the at: and every: timers and fires the
 * on: status:investigating steps.  Call once, before anything else but
 * sched_new.
 */
void sched_start(struct sched *s);

/* The earliest pending timer offset; INT64_MAX when nothing is pending. */
int64_t sched_next_time(struct sched *s);

/*
 * As sched_next_time(), and sets *step to what that timer fires: a step
 * index, SCHED_FEEDBACK for the feedback request, or for an acknowledgement
 * deadline its escalation step.  The step sched_pop() returns next when
 * called at that time.  *step is left alone when nothing is pending.
 */
int64_t sched_next_step(struct sched *s, size_t *step);

/*
 * Takes the next occurrence due at or before `now` and applies its effects
 * (status change, after: dependents, ack deadline, next slot of a recurring
 * step).  Returns 1 and fills *out, or 0 when nothing is due.  Passed ack
 * deadlines come out as escalation occurrences.  `now` must not decrease
 * from one call to the next (nor between the calls that change state:
 * sched_set_status, sched_ack_run, sched_ack_step, sched_trigger); the
 * queries accept any `now`.
 */
int sched_pop(struct sched *s, int64_t now, struct sched_fire *out);

/*
 * Operator status change at `now`.  Returns 0 (also when the status is
 * unchanged, firing nothing), or -1 when the run is already resolved.
 */
int sched_set_status(struct sched *s, enum run_status status, int64_t now);

/*
 * Acknowledges the run: cancels every pending ack deadline and, the first
 * time and unless resolved, fires the on: acknowledged steps.  Returns 1
 * the first time, 0 when the run was already acknowledged.
 */
int sched_ack_run(struct sched *s, int64_t now);

/*
 * Acknowledges a step waiting under ack: (every pending deadline of it).
 * Returns 0, or -1 when the step has no pending deadline.
 */
int sched_ack_step(struct sched *s, size_t step, int64_t now);

/* What became of a step's latest wait under ack:. */
enum sched_wait {
    SCHED_WAIT_NONE,      /* it has not fired (or has no ack:) */
    SCHED_WAIT_PENDING,   /* waiting: sched_ack_step() would take it */
    SCHED_WAIT_ACKED,     /* acknowledged, by step or by run */
    SCHED_WAIT_ESCALATED, /* its deadline passed and its escalation fired */
    SCHED_WAIT_CANCELLED, /* the resolution ended it unanswered */
};

/*
 * The state of the latest wait armed by `step`, and that wait in *d (when
 * d is not NULL and there is one): what the control API tells someone
 * whose ack sched_ack_step() refused.
 */
enum sched_wait sched_step_wait(const struct sched *s, size_t step,
                                struct sched_deadline *d);

/* Fires an on: manual step at `now`.  Returns 0, or -1 if it is not on: manual. */
int sched_trigger(struct sched *s, size_t step, int64_t now);

enum run_status sched_status(const struct sched *s);
int sched_acknowledged(const struct sched *s);
/* The offset of the resolution, or -1 while unresolved. */
int64_t sched_resolved_at(const struct sched *s);
/* How many occurrences of the step have fired (or were restored). */
int sched_fired_count(const struct sched *s, size_t step);

/* 1 when the run is resolved and nothing is left pending. */
int sched_is_done(struct sched *s);

/*
 * The offset of the next occurrence strictly after `now` already scheduled
 * for a step notifying channel `ch` (at:, every:, and after: whose
 * predecessor has fired; not ack deadlines, which are conditional), or -1.
 * An every: occurrence due at `now` but not popped yet counts with the
 * slot it will arm once it fires; what the steps due at `now` will cancel
 * as they fire (a resolution, a status at an every: step's until:) does
 * not count (docs/plan.md, "{{next_update}}").
 */
int64_t sched_next_scheduled(struct sched *s, size_t ch, int64_t now);

/*
 * The promise when nothing is scheduled: the smallest k * update_interval
 * (k >= 1) after `now`, or -1 when the playbook sets no update_interval or
 * the run is resolved.
 */
int64_t sched_next_interval(const struct sched *s, int64_t now);

/*
 * {{next_update}} for channel `ch` (DESIGN.md): sched_next_scheduled(),
 * else sched_next_interval(), else -1 (render SCHED_NO_UPDATE_TEXT); -1
 * too when a step due at `now`, not popped yet, resolves the run.
 * ch may be SCHED_NO_CHANNEL for a step without channels: interval only.
 */
#define SCHED_NO_CHANNEL ((size_t)-1)
int64_t sched_next_update(struct sched *s, size_t ch, int64_t now);

/*
 * {{next_update}} as text, the one way `plan` and `run` both write it:
 * walltime_format() of start_ms + sched_next_update(), relative to the
 * wall-clock `now` (start_ms + now), else SCHED_NO_UPDATE_TEXT.  Writes
 * into buf (>= 64 bytes) and returns it.
 */
const char *sched_next_update_text(struct sched *s, size_t ch, int64_t now,
                                   int64_t start_ms, char *buf, size_t size);

/*
 * Fills out[0..max) with the pending ack deadlines in deadline order and
 * returns how many there are (which may exceed max).
 */
size_t sched_deadlines(const struct sched *s, struct sched_deadline *out, size_t max);

/*
 * Resume: rebuild a scheduler from the journal, then run on.
 *
 *   s = sched_new(pb); sched_start(s);
 *   for each journal event, in journal order, with its journaled offset:
 *       an occurrence fired      -> sched_restore_fired(s, step, occurrence, offset)
 *       operator status change   -> sched_set_status(s, status, offset)
 *       run acknowledged         -> sched_ack_run(s, offset)
 *       step acknowledged        -> sched_ack_step(s, step, offset)
 *       manual trigger           -> sched_trigger(s, step, offset)
 *   sched_resume(s, now);
 *
 * sched_restore_fired() applies the effects sched_pop() would have applied
 * at `offset` (status, after: dependents, ack deadline, next slot) and
 * consumes the pending timer or event it came from, without returning it
 * again.  An escalation consumes the earliest pending deadline naming it.
 * The feedback request is restored with step SCHED_FEEDBACK.  What the
 * journal does not show as fired stays pending, so after sched_resume()
 * it comes out of sched_pop() with late = 1 (recurring steps coalesced).
 * Replaying a status change that a restored step also made is harmless.
 */
void sched_restore_fired(struct sched *s, size_t step, int occurrence, int64_t offset);
/* Marks `now` as the resume instant: occurrences due before it are late. */
void sched_resume(struct sched *s, int64_t now);

#endif
