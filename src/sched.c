/*
 * sched.c - the step scheduler (see sched.h for the rules it implements).
 *
 * Everything pending lives in one binary min-heap ordered by (offset,
 * playbook index of the step that will fire, insertion sequence), so ties
 * come out in playbook order and equal keys in arrival order.  Three kinds
 * of entries share it:
 *
 *   timer     the one armed at:/after:/every: occurrence of a step;
 *   event     a step (or the feedback request) fired by a status change,
 *             an acknowledgement, a manual trigger or a resolution;
 *   deadline  an ack deadline, which comes out as the escalation step.
 *
 * Cancelling never searches the heap: a step's timers carry the step's
 * generation and die when it is bumped, deadlines die with their state, and
 * restored events are dropped by a per-step counter.  Dead entries are
 * skipped when they reach the top, and the heap is compacted once at
 * resolution, when most of it dies at once.
 *
 * {{next_update}} needs "the next scheduled occurrence for this channel":
 * each channel has its own small heap of armed timers, validated the same
 * lazy way, so a query costs O(log n) amortised instead of a scan of every
 * step.  That is what keeps a plan of a 5,000-step playbook linear.
 */
#include "crisisrun/sched.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/duration.h"
#include "crisisrun/util.h"

enum entry_kind {
    E_TIMER,
    E_EVENT,
    E_DEADLINE,
};

struct entry {
    int64_t when;
    size_t order; /* playbook index of the step that fires; nsteps for feedback */
    uint64_t seq;
    enum entry_kind kind;
    size_t step;  /* timer/event: the step (event: or SCHED_FEEDBACK); deadline: index in
                     s->dl */
    uint32_t gen; /* timer: the step's generation when armed */
    int occurrence;         /* timer of a recurring step: its slot */
    int skipped;            /* timer of a recurring step: slots coalesced into it */
    enum sched_cause cause; /* event */
};

struct heap {
    struct entry *v;
    size_t n, alloc;
};

struct chan_entry {
    int64_t when;
    size_t step;
    uint32_t gen;
};

struct chan_heap {
    struct chan_entry *v;
    size_t n, alloc;
};

/* Events pending for one step: `drop` of them were restored from the journal. */
struct event_count {
    int queued;
    int drop;
};

struct step_state {
    uint32_t gen;
    int64_t timer_when; /* the live timer's offset, INT64_MAX when none */
    int fired;
    int last_occurrence;
    int triggered; /* on: status / on: acknowledged: already fired once */
    int stopped;   /* recurring step: no more slots */
    struct event_count ev;
};

enum dl_state {
    DL_PENDING,
    DL_ACKED,
    DL_EXPIRED,
    DL_CANCELLED,
};

struct dl {
    struct sched_deadline d;
    enum dl_state state;
};

struct sched {
    const struct playbook *pb;
    size_t n; /* pb->nsteps */
    struct step_state *st;
    size_t
        *dep_start; /* after: dependents of step i: dep[dep_start[i] .. dep_start[i+1]) */
    size_t *dep;
    struct heap heap;
    struct chan_heap *ch;
    struct chan_entry *kept; /* scratch for sched_next_scheduled */
    size_t akept;
    struct dl *dl;
    size_t ndl, adl;
    uint64_t seq;
    enum run_status status;
    int acknowledged;
    int64_t resolved_at;
    int64_t resumed_at;
    struct event_count fb; /* the feedback request */
    int nevents;           /* live event entries (queued minus drop, over all steps) */
};

const char *sched_cause_name(enum sched_cause c)
{
    static const char *const names[] = {
        "time", "after", "status", "resolved", "acknowledged", "escalation", "manual",
    };
    return (unsigned)c < ARRAY_SIZE(names) ? names[c] : "?";
}

/* ---- the heap ---------------------------------------------------------- */

static int entry_less(const struct entry *a, const struct entry *b)
{
    if (a->when != b->when)
        return a->when < b->when;
    if (a->order != b->order)
        return a->order < b->order;
    return a->seq < b->seq;
}

static void sift_up(struct heap *h, size_t i)
{
    struct entry e = h->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!entry_less(&e, &h->v[p]))
            break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = e;
}

static void sift_down(struct heap *h, size_t i)
{
    struct entry e = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && entry_less(&h->v[c + 1], &h->v[c]))
            c++;
        if (!entry_less(&h->v[c], &e))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    h->v[i] = e;
}

static void heap_push(struct sched *s, struct entry *e)
{
    e->seq = s->seq++;
    ALLOC_GROW(s->heap.v, s->heap.n + 1, s->heap.alloc);
    s->heap.v[s->heap.n++] = *e;
    sift_up(&s->heap, s->heap.n - 1);
}

static struct entry heap_take(struct heap *h)
{
    struct entry top = h->v[0];
    h->v[0] = h->v[--h->n];
    if (h->n)
        sift_down(h, 0);
    return top;
}

static int chan_less(const struct chan_entry *a, const struct chan_entry *b)
{
    return a->when < b->when;
}

static void chan_sift_up(struct chan_heap *h, size_t i)
{
    struct chan_entry e = h->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!chan_less(&e, &h->v[p]))
            break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = e;
}

static void chan_sift_down(struct chan_heap *h, size_t i)
{
    struct chan_entry e = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && chan_less(&h->v[c + 1], &h->v[c]))
            c++;
        if (!chan_less(&h->v[c], &e))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    h->v[i] = e;
}

static int chan_live(const struct sched *s, const struct chan_entry *e)
{
    const struct step_state *st = &s->st[e->step];
    return st->gen == e->gen && st->timer_when == e->when;
}

/*
 * Keeps only live entries.  A step has at most one live timer, so a channel
 * heap larger than twice the step count is mostly dead: compacting then
 * keeps memory bounded on long runs whose channels nobody queries.
 */
static void chan_compact(struct sched *s, struct chan_heap *h)
{
    size_t j = 0;
    for (size_t i = 0; i < h->n; i++)
        if (chan_live(s, &h->v[i]))
            h->v[j++] = h->v[i];
    h->n = j;
    for (size_t i = h->n / 2; i-- > 0;)
        chan_sift_down(h, i);
}

static void chan_push(struct sched *s, size_t ch, int64_t when, size_t step)
{
    struct chan_heap *h = &s->ch[ch];
    if (h->n >= 2 * s->n + 16)
        chan_compact(s, h);
    ALLOC_GROW(h->v, h->n + 1, h->alloc);
    h->v[h->n].when = when;
    h->v[h->n].step = step;
    h->v[h->n].gen = s->st[step].gen;
    chan_sift_up(h, h->n++);
}

/* ---- arming and cancelling -------------------------------------------- */

static struct event_count *events_of(struct sched *s, size_t step)
{
    return step == SCHED_FEEDBACK ? &s->fb : &s->st[step].ev;
}

static int entry_live(struct sched *s, const struct entry *e)
{
    switch (e->kind) {
    case E_TIMER:
        return s->st[e->step].gen == e->gen && s->st[e->step].timer_when == e->when;
    case E_DEADLINE:
        return s->dl[e->step].state == DL_PENDING;
    case E_EVENT:
        return events_of(s, e->step)->drop == 0;
    }
    return 0;
}

/* Puts a step's timer, now due at `when`, in the heap of each of its channels. */
static void chan_arm(struct sched *s, size_t step, int64_t when)
{
    const struct step *sp = &s->pb->steps[step];
    for (size_t i = 0; i < sp->nnotify; i++)
        if (sp->notify[i] < s->pb->nchannels)
            chan_push(s, sp->notify[i], when, step);
}

/* Arms the one timer of a step (occurrence: the slot of a recurring step). */
static void arm_timer(struct sched *s, size_t step, int64_t when, int occurrence)
{
    struct step_state *st = &s->st[step];
    struct entry e = {.when = when,
                      .order = step,
                      .kind = E_TIMER,
                      .step = step,
                      .gen = st->gen,
                      .occurrence = occurrence};
    st->timer_when = when;
    heap_push(s, &e);
    chan_arm(s, step, when);
}

static void cancel_timer(struct sched *s, size_t step)
{
    s->st[step].gen++;
    s->st[step].timer_when = INT64_MAX;
}

static void queue_event(struct sched *s, size_t step, int64_t when,
                        enum sched_cause cause)
{
    struct entry e = {.when = when,
                      .order = step == SCHED_FEEDBACK ? s->n : step,
                      .kind = E_EVENT,
                      .step = step,
                      .cause = cause};
    events_of(s, step)->queued++;
    s->nevents++;
    heap_push(s, &e);
}

static void arm_deadline(struct sched *s, size_t step, int occurrence, int64_t fired)
{
    const struct step *sp = &s->pb->steps[step];
    if (sp->ack_escalate >= s->n)
        return;
    /* A zero wait would let a cycle of escalations spin at one instant. */
    int64_t within = sp->ack_within_ms > 0 ? sp->ack_within_ms : 1;
    ALLOC_GROW(s->dl, s->ndl + 1, s->adl);
    struct dl *d = &s->dl[s->ndl];
    d->d.step = step;
    d->d.occurrence = occurrence;
    d->d.fired = fired;
    d->d.deadline = fired + within;
    d->d.escalate = sp->ack_escalate;
    d->state = DL_PENDING;
    struct entry e = {.when = d->d.deadline,
                      .order = sp->ack_escalate,
                      .kind = E_DEADLINE,
                      .step = s->ndl};
    s->ndl++;
    heap_push(s, &e);
}

static int64_t slot_time(const struct step *sp, int64_t k)
{
    return sp->from_ms + (int64_t)(k - 1) * (sp->every_ms > 0 ? sp->every_ms : 0);
}

/* Arms slot k of a recurring step unless its until: or the resolution says stop. */
static void arm_slot(struct sched *s, size_t step, int k)
{
    const struct step *sp = &s->pb->steps[step];
    struct step_state *st = &s->st[step];
    if (st->stopped || s->resolved_at >= 0 ||
        (sp->until == UNTIL_COUNT && k > sp->until_count) ||
        (sp->until == UNTIL_STATUS && s->status >= sp->until_status) ||
        (k > 1 && sp->every_ms <= 0)) {
        st->stopped = 1;
        return;
    }
    arm_timer(s, step, slot_time(sp, k), k);
}

/* Drops entries that can never fire: resolution kills most of the heap at once. */
static void heap_compact(struct sched *s)
{
    size_t j = 0;
    for (size_t i = 0; i < s->heap.n; i++)
        if (s->heap.v[i].kind == E_EVENT || entry_live(s, &s->heap.v[i]))
            s->heap.v[j++] = s->heap.v[i];
    s->heap.n = j;
    for (size_t i = s->heap.n / 2; i-- > 0;)
        sift_down(&s->heap, i);
}

static void change_status(struct sched *s, enum run_status to, int64_t at)
{
    const struct playbook *pb = s->pb;
    if (to == s->status || s->resolved_at >= 0)
        return;
    s->status = to;
    for (size_t i = 0; i < s->n; i++) {
        const struct step *sp = &pb->steps[i];
        if (sp->timing == TIMING_EVERY && sp->until == UNTIL_STATUS &&
            to >= sp->until_status && !s->st[i].stopped) {
            s->st[i].stopped = 1;
            cancel_timer(s, i);
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct step *sp = &pb->steps[i];
        if (sp->timing == TIMING_ON && sp->on == ON_STATUS && sp->on_status == to &&
            !s->st[i].triggered) {
            s->st[i].triggered = 1;
            queue_event(s, i, at, SCHED_CAUSE_STATUS);
        }
    }
    if (to != STATUS_RESOLVED)
        return;
    s->resolved_at = at;
    for (size_t i = 0; i < s->n; i++) {
        cancel_timer(s, i);
        if (pb->steps[i].timing == TIMING_EVERY)
            s->st[i].stopped = 1;
    }
    for (size_t i = 0; i < s->ndl; i++)
        if (s->dl[i].state == DL_PENDING)
            s->dl[i].state = DL_CANCELLED;
    for (size_t i = 0; i < s->n; i++) {
        const struct step *sp = &pb->steps[i];
        if (sp->timing == TIMING_ON && sp->on == ON_RESOLVED)
            queue_event(s, i, at, SCHED_CAUSE_RESOLVED);
    }
    if (pb->feedback.present && pb->feedback.nnotify)
        queue_event(s, SCHED_FEEDBACK, at, SCHED_CAUSE_RESOLVED);
    heap_compact(s);
}

/*
 * The effects of occurrence `occ` of a step firing at `at`, shared by
 * sched_pop and sched_restore_fired.  Returns 1 when it moved the status.
 */
static int apply_fired(struct sched *s, size_t step, int occ, int64_t at)
{
    const struct step *sp = &s->pb->steps[step];
    struct step_state *st = &s->st[step];
    int changed = 0;
    st->fired++;
    if (occ > st->last_occurrence)
        st->last_occurrence = occ;
    if (sp->sets_status && sp->status != s->status && s->resolved_at < 0) {
        change_status(s, sp->status, at);
        changed = 1;
    }
    if (sp->timing == TIMING_EVERY)
        arm_slot(s, step, occ + 1);
    if (st->fired == 1)
        for (size_t i = s->dep_start[step]; i < s->dep_start[step + 1]; i++)
            arm_timer(s, s->dep[i], at + s->pb->steps[s->dep[i]].delay_ms, 1);
    if (sp->has_ack)
        arm_deadline(s, step, occ, at);
    return changed;
}

/* ---- lifecycle --------------------------------------------------------- */

struct sched *sched_new(const struct playbook *pb)
{
    struct sched *s = xcalloc(1, sizeof(*s));
    s->pb = pb;
    s->n = pb->nsteps;
    s->st = xcalloc(s->n + 1, sizeof(*s->st));
    for (size_t i = 0; i < s->n; i++)
        s->st[i].timer_when = INT64_MAX;
    s->ch = xcalloc(pb->nchannels + 1, sizeof(*s->ch));
    s->status = STATUS_INVESTIGATING;
    s->resolved_at = -1;
    s->resumed_at = INT64_MIN;

    /* after: dependents, as a compressed adjacency list. */
    s->dep_start = xcalloc(s->n + 2, sizeof(*s->dep_start));
    for (size_t i = 0; i < s->n; i++)
        if (pb->steps[i].timing == TIMING_AFTER && pb->steps[i].after < s->n)
            s->dep_start[pb->steps[i].after + 2]++;
    for (size_t i = 2; i < s->n + 2; i++)
        s->dep_start[i] += s->dep_start[i - 1];
    s->dep = xcalloc(s->dep_start[s->n + 1] + 1, sizeof(*s->dep));
    for (size_t i = 0; i < s->n; i++)
        if (pb->steps[i].timing == TIMING_AFTER && pb->steps[i].after < s->n)
            s->dep[s->dep_start[pb->steps[i].after + 1]++] = i;
    return s;
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->pb->nchannels; i++)
        free(s->ch[i].v);
    free(s->ch);
    free(s->kept);
    free(s->heap.v);
    free(s->dl);
    free(s->dep);
    free(s->dep_start);
    free(s->st);
    free(s);
}

void sched_start(struct sched *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct step *sp = &s->pb->steps[i];
        if (sp->timing == TIMING_AT)
            arm_timer(s, i, sp->at_ms, 1);
        else if (sp->timing == TIMING_EVERY)
            arm_slot(s, i, 1);
    }
    /* The run starts in investigating: that is the status "becoming" investigating. */
    for (size_t i = 0; i < s->n; i++) {
        const struct step *sp = &s->pb->steps[i];
        if (sp->timing == TIMING_ON && sp->on == ON_STATUS &&
            sp->on_status == STATUS_INVESTIGATING) {
            s->st[i].triggered = 1;
            queue_event(s, i, 0, SCHED_CAUSE_STATUS);
        }
    }
}

/* Pops dead entries off the top; restored events are dropped here as in sched_pop. */
static void clean_top(struct sched *s)
{
    while (s->heap.n && !entry_live(s, &s->heap.v[0])) {
        struct entry e = heap_take(&s->heap);
        if (e.kind == E_EVENT) {
            struct event_count *ev = events_of(s, e.step);
            ev->queued--;
            ev->drop--;
        }
    }
}

int64_t sched_next_time(struct sched *s)
{
    clean_top(s);
    return s->heap.n ? s->heap.v[0].when : INT64_MAX;
}

int64_t sched_next_step(struct sched *s, size_t *step)
{
    clean_top(s);
    if (!s->heap.n)
        return INT64_MAX;
    const struct entry *e = &s->heap.v[0];
    *step = e->kind == E_DEADLINE ? s->dl[e->step].d.escalate : e->step;
    return e->when;
}

static void fill_fire(struct sched *s, struct sched_fire *out, size_t step, int occ,
                      int64_t due, int64_t now, enum sched_cause cause)
{
    memset(out, 0, sizeof(*out));
    out->step = step;
    out->occurrence = occ;
    out->due = due;
    out->fired = now;
    out->lateness = now - due;
    out->late = due < s->resumed_at;
    out->cause = cause;
    out->trigger_step = SCHED_FEEDBACK;
    if (step != SCHED_FEEDBACK)
        out->status_changed = apply_fired(s, step, occ, now);
    out->status = s->status;
}

/*
 * A recurring step's timer came due.  When later slots are due too, moves
 * the timer to the latest due slot instead (the coalescing rule) and
 * returns 0 so it comes out again in time order; returns 1 to fire it.
 */
static int coalesce(struct sched *s, struct entry *e, int64_t now)
{
    const struct step *sp = &s->pb->steps[e->step];
    if (sp->every_ms <= 0)
        return 1;
    int64_t behind = (now - e->when) / sp->every_ms;
    if (sp->until == UNTIL_COUNT && behind > sp->until_count - e->occurrence)
        behind = sp->until_count - e->occurrence;
    /* Occurrence numbers are ints: a 1ms cadence over a year-long gap must not wrap. */
    if (behind > INT_MAX / 2 - e->occurrence)
        behind = INT_MAX / 2 - e->occurrence;
    if (behind <= 0)
        return 1;
    e->skipped += (int)behind;
    e->occurrence += (int)behind;
    e->when = slot_time(sp, e->occurrence);
    s->st[e->step].timer_when = e->when;
    heap_push(s, e);
    /* Its channel entries named the old slot and are dead now: a message
     * popped before it must still see it due (sched_next_scheduled). */
    chan_arm(s, e->step, e->when);
    return 0;
}

int sched_pop(struct sched *s, int64_t now, struct sched_fire *out)
{
    while (s->heap.n && s->heap.v[0].when <= now) {
        struct entry e = heap_take(&s->heap);
        switch (e.kind) {
        case E_TIMER: {
            struct step_state *st = &s->st[e.step];
            const struct step *sp = &s->pb->steps[e.step];
            if (e.gen != st->gen || e.when != st->timer_when)
                continue;
            if (sp->timing == TIMING_EVERY && !coalesce(s, &e, now))
                continue;
            st->timer_when = INT64_MAX;
            int occ = sp->timing == TIMING_EVERY ? e.occurrence : st->last_occurrence + 1;
            fill_fire(s, out, e.step, occ, e.when, now,
                      sp->timing == TIMING_AFTER ? SCHED_CAUSE_AFTER : SCHED_CAUSE_TIME);
            out->skipped = e.skipped;
            return 1;
        }
        case E_EVENT: {
            struct event_count *ev = events_of(s, e.step);
            ev->queued--;
            if (ev->drop) {
                ev->drop--;
                continue;
            }
            s->nevents--;
            int occ = e.step == SCHED_FEEDBACK ? 1 : s->st[e.step].last_occurrence + 1;
            fill_fire(s, out, e.step, occ, e.when, now, e.cause);
            return 1;
        }
        case E_DEADLINE: {
            struct dl *d = &s->dl[e.step];
            if (d->state != DL_PENDING)
                continue;
            d->state = DL_EXPIRED;
            struct sched_deadline info = d->d; /* apply_fired may grow s->dl */
            fill_fire(s, out, info.escalate, s->st[info.escalate].last_occurrence + 1,
                      info.deadline, now, SCHED_CAUSE_ESCALATION);
            out->trigger_step = info.step;
            out->trigger_occurrence = info.occurrence;
            out->waited = info.deadline - info.fired;
            return 1;
        }
        }
    }
    return 0;
}

/* ---- operator actions --------------------------------------------------- */

int sched_set_status(struct sched *s, enum run_status status, int64_t now)
{
    if (s->resolved_at >= 0 || (unsigned)status >= STATUS_COUNT)
        return -1;
    change_status(s, status, now);
    return 0;
}

int sched_ack_run(struct sched *s, int64_t now)
{
    for (size_t i = 0; i < s->ndl; i++)
        if (s->dl[i].state == DL_PENDING)
            s->dl[i].state = DL_ACKED;
    if (s->acknowledged)
        return 0;
    s->acknowledged = 1;
    if (s->resolved_at >= 0)
        return 1;
    for (size_t i = 0; i < s->n; i++) {
        const struct step *sp = &s->pb->steps[i];
        if (sp->timing == TIMING_ON && sp->on == ON_ACKNOWLEDGED && !s->st[i].triggered) {
            s->st[i].triggered = 1;
            queue_event(s, i, now, SCHED_CAUSE_ACKNOWLEDGED);
        }
    }
    return 1;
}

int sched_ack_step(struct sched *s, size_t step, int64_t now)
{
    int n = 0;
    (void)now;
    for (size_t i = 0; i < s->ndl; i++) {
        if (s->dl[i].state == DL_PENDING && s->dl[i].d.step == step) {
            s->dl[i].state = DL_ACKED;
            n++;
        }
    }
    return n ? 0 : -1;
}

enum sched_wait sched_step_wait(const struct sched *s, size_t step,
                                struct sched_deadline *d)
{
    /* Deadlines are armed in firing order: the last one is the latest. */
    for (size_t i = s->ndl; i-- > 0;) {
        if (s->dl[i].d.step != step)
            continue;
        if (d)
            *d = s->dl[i].d;
        switch (s->dl[i].state) {
        case DL_PENDING:
            return SCHED_WAIT_PENDING;
        case DL_ACKED:
            return SCHED_WAIT_ACKED;
        case DL_EXPIRED:
            return SCHED_WAIT_ESCALATED;
        case DL_CANCELLED:
            return SCHED_WAIT_CANCELLED;
        }
    }
    return SCHED_WAIT_NONE;
}

int sched_trigger(struct sched *s, size_t step, int64_t now)
{
    if (step >= s->n || s->pb->steps[step].timing != TIMING_ON ||
        s->pb->steps[step].on != ON_MANUAL)
        return -1;
    queue_event(s, step, now, SCHED_CAUSE_MANUAL);
    return 0;
}

/* ---- queries ------------------------------------------------------------ */

enum run_status sched_status(const struct sched *s)
{
    return s->status;
}

int sched_acknowledged(const struct sched *s)
{
    return s->acknowledged;
}

int64_t sched_resolved_at(const struct sched *s)
{
    return s->resolved_at;
}

int sched_fired_count(const struct sched *s, size_t step)
{
    return step < s->n ? s->st[step].fired : 0;
}

int sched_is_done(struct sched *s)
{
    if (s->resolved_at < 0 || s->nevents > 0)
        return 0;
    for (size_t i = 0; i < s->heap.n; i++)
        if (s->heap.v[i].kind != E_EVENT && entry_live(s, &s->heap.v[i]))
            return 0;
    return 1;
}

static struct chan_entry chan_take(struct chan_heap *h)
{
    struct chan_entry top = h->v[0];
    h->v[0] = h->v[--h->n];
    if (h->n)
        chan_sift_down(h, 0);
    return top;
}

/*
 * The highest status the steps due by `now` but not popped yet will set
 * as they fire (their own `status:`; an expired deadline's escalation
 * step), or -1.  A message rendered before them must not promise what
 * they are about to cancel: a resolution cancels every timer, a status at
 * a recurring step's until: stops that step.  Only the steps sure to fire
 * count: a recurring step with an until: status may be stopped, before it
 * comes out, by a status due before it, and then its own status: stops
 * nothing.  What the due steps set off at that instant (an `after:` step
 * with no delay, an `on: status:` step) is not looked at.  The heap is
 * walked only where its entries are due, which a min-heap allows.
 */
static int due_status_at(struct sched *s, size_t i, int64_t now, int st)
{
    if (i >= s->heap.n || s->heap.v[i].when > now)
        return st;
    const struct entry *e = &s->heap.v[i];
    size_t step = e->kind == E_DEADLINE ? s->dl[e->step].d.escalate : e->step;
    const struct step *sp = step < s->n ? &s->pb->steps[step] : NULL;
    if (sp && sp->sets_status && (int)sp->status > st && entry_live(s, e) &&
        !(sp->timing == TIMING_EVERY && sp->until == UNTIL_STATUS))
        st = (int)sp->status;
    st = due_status_at(s, 2 * i + 1, now, st);
    return due_status_at(s, 2 * i + 2, now, st);
}

/* Whether a step's timers will be cancelled once the run reaches `coming`. */
static int stopped_by(const struct sched *s, size_t step, int coming)
{
    const struct step *sp = &s->pb->steps[step];
    return coming == STATUS_RESOLVED ||
           (sp->timing == TIMING_EVERY && sp->until == UNTIL_STATUS &&
            coming >= (int)sp->until_status);
}

/*
 * The slot a recurring step's timer, due at `when` but not popped by `now`,
 * will arm once it fires: sched_pop coalesces the slots due by `now` into
 * one, and apply_fired arms the slot after it.  -1 when arm_slot would stop
 * there, at the count, or when the step's own status: stops it as it fires
 * (its until: status, or resolved).  (Stopped by another due step's
 * status, it is not asked: stopped_by().)
 */
static int64_t slot_after_due(const struct sched *s, size_t step, int64_t when,
                              int64_t now)
{
    const struct step *sp = &s->pb->steps[step];
    if (sp->timing != TIMING_EVERY || sp->every_ms <= 0)
        return -1;
    if (sp->sets_status && sp->status != s->status && stopped_by(s, step, (int)sp->status))
        return -1;
    int64_t slot = (when - sp->from_ms) / sp->every_ms + 1;
    int64_t next = slot + (now - when) / sp->every_ms + 1;
    if (sp->until == UNTIL_COUNT && next > sp->until_count)
        return -1;
    return slot_time(sp, next);
}

/* sched_next_scheduled(), given due_status_at()'s answer. */
static int64_t next_scheduled(struct sched *s, size_t ch, int64_t now, int coming)
{
    if (ch >= s->pb->nchannels || coming == STATUS_RESOLVED)
        return -1;
    struct chan_heap *h = &s->ch[ch];
    /*
     * Dead entries (fired, re-armed or cancelled timers) go for good.  A live
     * entry at or before `now` is a timer due but not popped yet, and one
     * the due steps' status will stop never comes: set them aside and put
     * them back, so that the answer does not depend on the order of queries
     * (a message rendered again later gets the same answer).  A recurring
     * step's due timer still promises its next slot: a message fired at the
     * same instant as an `every:` occurrence would otherwise skip the
     * occurrence after it, which is not armed until it fires.
     */
    size_t nkept = 0;
    int64_t answer = -1;
    while (h->n) {
        if (!chan_live(s, &h->v[0])) {
            chan_take(h);
        } else if (h->v[0].when <= now || stopped_by(s, h->v[0].step, coming)) {
            ALLOC_GROW(s->kept, nkept + 1, s->akept);
            s->kept[nkept++] = chan_take(h);
        } else {
            answer = h->v[0].when;
            break;
        }
    }
    for (size_t i = 0; i < nkept; i++) {
        const struct chan_entry *k = &s->kept[i];
        int64_t next = k->when <= now && !stopped_by(s, k->step, coming)
                           ? slot_after_due(s, k->step, k->when, now)
                           : -1;
        if (next >= 0 && (answer < 0 || next < answer))
            answer = next;
        ALLOC_GROW(h->v, h->n + 1, h->alloc);
        h->v[h->n] = *k;
        chan_sift_up(h, h->n++);
    }
    return answer;
}

int64_t sched_next_scheduled(struct sched *s, size_t ch, int64_t now)
{
    return next_scheduled(s, ch, now, due_status_at(s, 0, now, -1));
}

int64_t sched_next_interval(const struct sched *s, int64_t now)
{
    int64_t iv = s->pb->targets.update_interval_ms;
    if (iv <= 0 || s->resolved_at >= 0)
        return -1;
    if (now < 0)
        return iv;
    return (now / iv + 1) * iv;
}

int64_t sched_next_update(struct sched *s, size_t ch, int64_t now)
{
    int coming = due_status_at(s, 0, now, -1);
    if (coming == STATUS_RESOLVED) /* the run resolves at this instant */
        return -1;
    int64_t t = ch == SCHED_NO_CHANNEL ? -1 : next_scheduled(s, ch, now, coming);
    return t >= 0 ? t : sched_next_interval(s, now);
}

const char *sched_next_update_text(struct sched *s, size_t ch, int64_t now,
                                   int64_t start_ms, char *buf, size_t size)
{
    int64_t next = sched_next_update(s, ch, now);
    if (next < 0)
        return SCHED_NO_UPDATE_TEXT;
    return walltime_format_by(start_ms + next, start_ms + now, buf, size);
}

static int cmp_deadline(const void *a, const void *b)
{
    const struct sched_deadline *x = a, *y = b;
    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    return x->step < y->step ? -1 : x->step > y->step;
}

size_t sched_deadlines(const struct sched *s, struct sched_deadline *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ndl; i++)
        n += s->dl[i].state == DL_PENDING;
    if (!n || !max)
        return n;
    struct sched_deadline *all = xmalloc(n * sizeof(*all));
    size_t j = 0;
    for (size_t i = 0; i < s->ndl; i++)
        if (s->dl[i].state == DL_PENDING)
            all[j++] = s->dl[i].d;
    qsort(all, n, sizeof(*all), cmp_deadline);
    memcpy(out, all, (n < max ? n : max) * sizeof(*out));
    free(all);
    return n;
}

/* ---- resume ------------------------------------------------------------- */

/* Consumes one pending event of a step, so that it does not fire again. */
static void consume_event(struct sched *s, size_t step)
{
    struct event_count *ev = events_of(s, step);
    if (ev->queued > ev->drop) {
        ev->drop++;
        s->nevents--;
    }
}

void sched_restore_fired(struct sched *s, size_t step, int occurrence, int64_t offset)
{
    if (step == SCHED_FEEDBACK) {
        consume_event(s, step);
        return;
    }
    if (step >= s->n)
        return;
    const struct step *sp = &s->pb->steps[step];
    switch (sp->timing) {
    case TIMING_AT:
    case TIMING_AFTER:
    case TIMING_EVERY:
        cancel_timer(s, step); /* apply_fired re-arms the next slot of an every: */
        break;
    case TIMING_ON:
        if (sp->on == ON_ESCALATION) {
            /* The earliest passed deadline naming this step is the one it answered. */
            struct dl *best = NULL;
            for (size_t i = 0; i < s->ndl; i++) {
                struct dl *d = &s->dl[i];
                if (d->state == DL_PENDING && d->d.escalate == step &&
                    d->d.deadline <= offset &&
                    (!best || d->d.deadline < best->d.deadline))
                    best = d;
            }
            if (best)
                best->state = DL_EXPIRED;
        } else {
            s->st[step].triggered = 1;
            consume_event(s, step);
        }
        break;
    }
    apply_fired(s, step, occurrence, offset);
}

void sched_resume(struct sched *s, int64_t now)
{
    s->resumed_at = now;
}
