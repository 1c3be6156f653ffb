/*
 * Unit tests for the scheduler (sched.h), on virtual time.  Playbooks are
 * built by hand so that these tests need no loader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/duration.h"
#include "crisisrun/model.h"
#include "crisisrun/sched.h"
#include "crisisrun/util.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* ---- building playbooks ---------------------------------------------- */

static struct playbook *pb_new(size_t nchannels, size_t maxsteps)
{
    struct playbook *pb = xcalloc(1, sizeof(*pb));
    pb->name = xstrdup("test");
    pb->title = xstrdup("Test");
    pb->targets.acknowledge_ms = pb->targets.first_update_ms = -1;
    pb->targets.update_interval_ms = pb->targets.resolve_ms = -1;
    pb->channels = xcalloc(nchannels + 1, sizeof(*pb->channels));
    pb->nchannels = nchannels;
    for (size_t i = 0; i < nchannels; i++)
        pb->channels[i].name = xasprintf("ch%zu", i);
    pb->steps = xcalloc(maxsteps + 1, sizeof(*pb->steps));
    return pb;
}

static struct step *add(struct playbook *pb, const char *id, enum timing_kind t)
{
    struct step *sp = &pb->steps[pb->nsteps++];
    sp->id = xstrdup(id);
    sp->timing = t;
    return sp;
}

static struct step *add_at(struct playbook *pb, const char *id, int64_t at)
{
    struct step *sp = add(pb, id, TIMING_AT);
    sp->at_ms = at;
    return sp;
}

static struct step *add_every(struct playbook *pb, const char *id, int64_t every,
                              int64_t from)
{
    struct step *sp = add(pb, id, TIMING_EVERY);
    sp->every_ms = every;
    sp->from_ms = from;
    return sp;
}

static struct step *add_after(struct playbook *pb, const char *id, const char *after,
                              int64_t delay)
{
    struct step *sp = add(pb, id, TIMING_AFTER);
    sp->after = (size_t)playbook_find_step(pb, after);
    sp->delay_ms = delay;
    return sp;
}

static struct step *add_on(struct playbook *pb, const char *id, enum on_event on)
{
    struct step *sp = add(pb, id, TIMING_ON);
    sp->on = on;
    return sp;
}

static void set_ack(struct playbook *pb, struct step *sp, int64_t within,
                    const char *escalate)
{
    sp->has_ack = 1;
    sp->ack_within_ms = within;
    sp->ack_escalate = (size_t)playbook_find_step(pb, escalate);
}

static void notify(struct step *sp, size_t ch)
{
    sp->notify = xrealloc(sp->notify, (sp->nnotify + 1) * sizeof(*sp->notify));
    sp->notify[sp->nnotify++] = ch;
}

static size_t idx(const struct playbook *pb, const char *id)
{
    long i = playbook_find_step(pb, id);
    assert_true(i >= 0);
    return (size_t)i;
}

/* ---- driving the clock ------------------------------------------------ */

/* A log of fires as "+OFFSET step#occ", separated by ", ". */
struct log {
    struct strbuf sb;
    struct sched_fire last;
    int n;
};

static void log_fire(struct log *l, const struct playbook *pb, const struct sched_fire *f)
{
    char d[32];
    if (l->sb.len)
        strbuf_addstr(&l->sb, ", ");
    strbuf_addf(&l->sb, "+%s %s#%d", duration_format(f->due, d, sizeof(d)),
                f->step == SCHED_FEEDBACK ? "feedback" : pb->steps[f->step].id,
                f->occurrence);
    l->last = *f;
    l->n++;
}

/* Advances the virtual clock to every pending time up to `until`, popping all. */
static void run_to(struct sched *s, const struct playbook *pb, struct log *l,
                   int64_t until)
{
    struct sched_fire f;
    for (int64_t t; (t = sched_next_time(s)) <= until;)
        while (sched_pop(s, t, &f))
            log_fire(l, pb, &f);
}

/* Pops everything due at `now` (no clock stepping). */
static void pop_at(struct sched *s, const struct playbook *pb, struct log *l, int64_t now)
{
    struct sched_fire f;
    while (sched_pop(s, now, &f))
        log_fire(l, pb, &f);
}

static const char *log_str(struct log *l)
{
    return strbuf_str(&l->sb);
}

static void log_reset(struct log *l)
{
    strbuf_reset(&l->sb);
    l->n = 0;
}

/* ---- tests ------------------------------------------------------------ */

static void test_at_after_every_order_and_spacing(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 8);
    add_every(pb, "update", 10 * MIN, 5 * MIN)->until = UNTIL_NONE;
    add_at(pb, "declare", 0);
    add_at(pb, "page", 1 * MIN);
    add_after(pb, "follow", "page", 2 * MIN);
    add_after(pb, "follow2", "follow", 0);
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    assert_int_equal(sched_next_time(s), 0);
    run_to(s, pb, &l, 30 * MIN);
    assert_string_equal(log_str(&l),
                        "+0s declare#1, +1m page#1, +3m follow#1, +3m follow2#1, "
                        "+5m update#1, +15m update#2, +25m update#3");
    assert_int_equal(sched_next_time(s), 35 * MIN);
    assert_int_equal(sched_fired_count(s, idx(pb, "update")), 3);
    assert_false(sched_is_done(s));
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_after_a_step_that_never_fires(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    add_on(pb, "manual", ON_MANUAL);
    add_after(pb, "follow", "manual", 1 * MIN);
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    assert_int_equal(sched_next_time(s), INT64_MAX);
    run_to(s, pb, &l, 10 * HOUR);
    assert_string_equal(log_str(&l), "");
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_ties_in_playbook_order(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 8);
    add_on(pb, "on-ident", ON_STATUS)->on_status = STATUS_IDENTIFIED;
    add_at(pb, "c", 5 * MIN);
    add_at(pb, "a", 5 * MIN)->sets_status = 1;
    pb->steps[2].status = STATUS_IDENTIFIED;
    add_every(pb, "b", 5 * MIN, 5 * MIN);
    add_at(pb, "d", 5 * MIN);
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 5 * MIN);
    /* "a" sets identified at 5m: on-ident (index 0) joins the same instant,
     * after "a" itself, ahead of the later steps of that instant. */
    assert_string_equal(log_str(&l),
                        "+5m c#1, +5m a#1, +5m on-ident#1, +5m b#1, +5m d#1");
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_until_status_stops_recurring(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 8);
    struct step *sp = add_every(pb, "until-ident", 10 * MIN, 10 * MIN);
    sp->until = UNTIL_STATUS;
    sp->until_status = STATUS_IDENTIFIED;
    sp = add_every(pb, "until-mon", 10 * MIN, 10 * MIN);
    sp->until = UNTIL_STATUS;
    sp->until_status = STATUS_MONITORING;
    sp = add_at(pb, "identify", 25 * MIN);
    sp->sets_status = 1;
    sp->status = STATUS_IDENTIFIED;
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 45 * MIN);
    assert_string_equal(log_str(&l),
                        "+10m until-ident#1, +10m until-mon#1, +20m until-ident#2, "
                        "+20m until-mon#2, +25m identify#1, +30m until-mon#3, "
                        "+40m until-mon#4");
    assert_int_equal(l.last.status, STATUS_IDENTIFIED);
    /* A later status (resolved is past monitoring) stops it too. */
    log_reset(&l);
    assert_int_equal(sched_set_status(s, STATUS_MONITORING, 47 * MIN), 0);
    run_to(s, pb, &l, 3 * HOUR);
    assert_string_equal(log_str(&l), "");
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_until_count(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    struct step *sp = add_every(pb, "thrice", 1 * MIN, 30 * SEC);
    sp->until = UNTIL_COUNT;
    sp->until_count = 3;
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 10 * HOUR);
    assert_string_equal(log_str(&l), "+30s thrice#1, +1m30s thrice#2, +2m30s thrice#3");
    assert_int_equal(sched_next_time(s), INT64_MAX);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_status_step_shows_new_status(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    struct step *sp = add_at(pb, "declare", 0);
    sp->sets_status = 1;
    sp->status = STATUS_INVESTIGATING;
    sp = add_at(pb, "found", 5 * MIN);
    sp->sets_status = 1;
    sp->status = STATUS_IDENTIFIED;
    struct sched *s = sched_new(pb);
    struct sched_fire f;
    sched_start(s);
    assert_int_equal(sched_pop(s, 0, &f), 1);
    assert_int_equal(f.status, STATUS_INVESTIGATING);
    assert_int_equal(f.status_changed, 0); /* the run starts in investigating */
    assert_int_equal(sched_pop(s, 4 * MIN, &f), 0);
    assert_int_equal(sched_pop(s, 5 * MIN, &f), 1);
    assert_int_equal(f.step, 1);
    assert_int_equal(f.status, STATUS_IDENTIFIED);
    assert_int_equal(f.status_changed, 1);
    assert_int_equal(sched_status(s), STATUS_IDENTIFIED);
    sched_free(s);
    playbook_free(pb);
}

static void test_coalescing_after_a_gap(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    add_every(pb, "update", 10 * MIN, 10 * MIN);
    add_at(pb, "oneshot", 22 * MIN);
    struct sched *s = sched_new(pb);
    struct sched_fire f;
    sched_start(s);
    /* Nothing popped until 45m: slots 1-4 (10m..40m) and the 22m step are due. */
    sched_resume(s, 45 * MIN);
    assert_int_equal(sched_pop(s, 45 * MIN, &f), 1);
    assert_string_equal(pb->steps[f.step].id, "oneshot");
    assert_int_equal(f.due, 22 * MIN);
    assert_int_equal(f.lateness, 23 * MIN);
    assert_int_equal(f.late, 1);
    assert_int_equal(sched_pop(s, 45 * MIN, &f), 1);
    assert_string_equal(pb->steps[f.step].id, "update");
    assert_int_equal(f.occurrence, 4);
    assert_int_equal(f.due, 40 * MIN);
    assert_int_equal(f.skipped, 3);
    assert_int_equal(f.late, 1);
    assert_int_equal(sched_pop(s, 45 * MIN, &f), 0);
    assert_int_equal(sched_fired_count(s, 0), 1);
    /* Back on time: the next slot keeps the original cadence. */
    assert_int_equal(sched_next_time(s), 50 * MIN);
    assert_int_equal(sched_pop(s, 50 * MIN, &f), 1);
    assert_int_equal(f.occurrence, 5);
    assert_int_equal(f.skipped, 0);
    assert_int_equal(f.late, 0);
    sched_free(s);
    playbook_free(pb);
}

static void test_coalescing_respects_count(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    struct step *sp = add_every(pb, "update", 10 * MIN, 10 * MIN);
    sp->until = UNTIL_COUNT;
    sp->until_count = 2;
    struct sched *s = sched_new(pb);
    struct sched_fire f;
    sched_start(s);
    assert_int_equal(sched_pop(s, 2 * HOUR, &f), 1);
    assert_int_equal(f.occurrence, 2);
    assert_int_equal(f.due, 20 * MIN);
    assert_int_equal(f.skipped, 1);
    assert_int_equal(sched_pop(s, 2 * HOUR, &f), 0);
    assert_int_equal(sched_next_time(s), INT64_MAX);
    sched_free(s);
    playbook_free(pb);
}

static struct playbook *escalation_playbook(void)
{
    struct playbook *pb = pb_new(2, 8);
    add_on(pb, "esc2", ON_ESCALATION);
    add_on(pb, "esc1", ON_ESCALATION);
    set_ack(pb, &pb->steps[1], 5 * MIN, "esc2");
    set_ack(pb, add_at(pb, "page", 1 * MIN), 10 * MIN, "esc1");
    set_ack(pb, add_at(pb, "page-other", 2 * MIN), 10 * MIN, "esc1");
    add_on(pb, "acked", ON_ACKNOWLEDGED);
    return pb;
}

static void test_ack_before_deadline_prevents_escalation(void **state)
{
    (void)state;
    struct playbook *pb = escalation_playbook();
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    assert_int_equal(sched_ack_step(s, idx(pb, "page"), 30 * SEC),
                     -1); /* not waiting yet */
    run_to(s, pb, &l, 5 * MIN);
    struct sched_deadline d[4];
    assert_int_equal(sched_deadlines(s, d, 4), 2);
    assert_int_equal(d[0].step, idx(pb, "page"));
    assert_int_equal(d[0].deadline, 11 * MIN);
    assert_int_equal(d[0].escalate, idx(pb, "esc1"));
    assert_int_equal(d[1].deadline, 12 * MIN);
    assert_int_equal(sched_ack_step(s, idx(pb, "page"), 6 * MIN), 0);
    assert_int_equal(sched_ack_step(s, idx(pb, "page"), 7 * MIN), -1);
    assert_int_equal(sched_deadlines(s, d, 4), 1);
    log_reset(&l);
    run_to(s, pb, &l, 12 * MIN);
    assert_string_equal(log_str(&l), "+12m esc1#1");
    assert_int_equal(l.last.trigger_step, idx(pb, "page-other"));
    /* Nothing acknowledged the run: "acked" stays unfired. */
    assert_int_equal(sched_fired_count(s, idx(pb, "acked")), 0);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

/*
 * The runner serves the acknowledgements that reached it before it pops
 * what is due: one it takes in after the deadline's time, but before the
 * escalation came out of sched_pop(), still cancels it (it was waiting
 * while the loop was busy).  Once the escalation has come out, it stands.
 */
static void test_ack_in_the_turn_its_deadline_passed(void **state)
{
    (void)state;
    struct playbook *pb = escalation_playbook();
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 5 * MIN);
    /* page's deadline (11m) and page-other's (12m) have both passed. */
    assert_int_equal(sched_ack_step(s, idx(pb, "page"), 12 * MIN + 5 * SEC), 0);
    log_reset(&l);
    pop_at(s, pb, &l, 12 * MIN + 5 * SEC);
    assert_string_equal(log_str(&l), "+12m esc1#1");
    assert_int_equal(l.last.trigger_step, idx(pb, "page-other"));
    assert_int_equal(sched_ack_step(s, idx(pb, "page-other"), 12 * MIN + 5 * SEC), -1);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

/* What the control API tells someone whose ack of a step came to nothing. */
static void test_step_wait_says_what_became_of_it(void **state)
{
    (void)state;
    struct playbook *pb = escalation_playbook();
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    struct sched_deadline d = {0};
    sched_start(s);
    assert_int_equal(sched_step_wait(s, idx(pb, "page"), &d), SCHED_WAIT_NONE);
    assert_int_equal(sched_step_wait(s, idx(pb, "acked"), NULL), SCHED_WAIT_NONE);
    run_to(s, pb, &l, 5 * MIN);
    assert_int_equal(sched_step_wait(s, idx(pb, "page"), &d), SCHED_WAIT_PENDING);
    assert_int_equal(d.fired, 1 * MIN);
    assert_int_equal(d.deadline, 11 * MIN);
    assert_int_equal(sched_ack_step(s, idx(pb, "page"), 6 * MIN), 0);
    assert_int_equal(sched_step_wait(s, idx(pb, "page"), NULL), SCHED_WAIT_ACKED);
    /* page-other's deadline passes: esc1 goes out for it. */
    run_to(s, pb, &l, 13 * MIN);
    assert_int_equal(sched_step_wait(s, idx(pb, "page-other"), &d), SCHED_WAIT_ESCALATED);
    assert_int_equal(d.escalate, idx(pb, "esc1"));
    assert_int_equal(d.deadline - d.fired, 10 * MIN);
    /* esc1 waits in its turn, until the resolution ends its wait unanswered. */
    assert_int_equal(sched_step_wait(s, idx(pb, "esc1"), NULL), SCHED_WAIT_PENDING);
    assert_int_equal(sched_set_status(s, STATUS_RESOLVED, 14 * MIN), 0);
    assert_int_equal(sched_step_wait(s, idx(pb, "esc1"), &d), SCHED_WAIT_CANCELLED);
    assert_int_equal(d.fired, 12 * MIN);
    assert_int_equal(sched_step_wait(s, idx(pb, "page-other"), NULL),
                     SCHED_WAIT_ESCALATED);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_two_level_escalation_chain(void **state)
{
    (void)state;
    struct playbook *pb = escalation_playbook();
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 1 * MIN);
    assert_int_equal(sched_ack_step(s, idx(pb, "page"), 1 * MIN), 0);
    log_reset(&l);
    /* page-other goes unacknowledged: esc1 at 2m+10m, then esc2 5m later. */
    struct sched_fire f[8];
    int n = 0;
    for (int64_t t; (t = sched_next_time(s)) <= 2 * HOUR;)
        while (n < 8 && sched_pop(s, t, &f[n]))
            log_fire(&l, pb, &f[n++]);
    assert_string_equal(log_str(&l), "+2m page-other#1, +12m esc1#1, +17m esc2#1");
    assert_int_equal(f[1].cause, SCHED_CAUSE_ESCALATION);
    assert_int_equal(f[1].trigger_step, idx(pb, "page-other"));
    assert_int_equal(f[1].trigger_occurrence, 1);
    assert_int_equal(f[1].waited, 10 * MIN);
    assert_int_equal(f[2].trigger_step, idx(pb, "esc1"));
    assert_int_equal(f[2].waited, 5 * MIN);
    assert_string_equal(sched_cause_name(f[2].cause), "escalation");
    assert_int_equal(sched_deadlines(s, NULL, 0), 0);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_run_ack_cancels_every_pending_deadline(void **state)
{
    (void)state;
    struct playbook *pb = escalation_playbook();
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 3 * MIN);
    assert_int_equal(sched_deadlines(s, NULL, 0), 2);
    assert_int_equal(sched_ack_run(s, 4 * MIN), 1);
    assert_true(sched_acknowledged(s));
    assert_int_equal(sched_deadlines(s, NULL, 0), 0);
    log_reset(&l);
    run_to(s, pb, &l, 10 * HOUR);
    assert_string_equal(log_str(&l), "+4m acked#1");
    assert_int_equal(l.last.cause, SCHED_CAUSE_ACKNOWLEDGED);
    /* The second acknowledgement fires nothing. */
    log_reset(&l);
    assert_int_equal(sched_ack_run(s, 5 * MIN), 0);
    run_to(s, pb, &l, 10 * HOUR);
    assert_string_equal(log_str(&l), "");
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_on_status_fires_once(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    add_on(pb, "on-ident", ON_STATUS)->on_status = STATUS_IDENTIFIED;
    add_on(pb, "on-invest", ON_STATUS)->on_status = STATUS_INVESTIGATING;
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 5 * MIN);
    assert_string_equal(log_str(&l), "+0s on-invest#1");
    assert_int_equal(sched_set_status(s, STATUS_IDENTIFIED, 10 * MIN), 0);
    pop_at(s, pb, &l, 10 * MIN);
    assert_int_equal(l.last.cause, SCHED_CAUSE_STATUS);
    assert_int_equal(l.last.status, STATUS_IDENTIFIED);
    assert_int_equal(sched_set_status(s, STATUS_IDENTIFIED, 11 * MIN), 0); /* unchanged */
    assert_int_equal(sched_set_status(s, STATUS_INVESTIGATING, 12 * MIN), 0);
    assert_int_equal(sched_set_status(s, STATUS_IDENTIFIED, 13 * MIN), 0);
    run_to(s, pb, &l, 10 * HOUR);
    assert_string_equal(log_str(&l), "+0s on-invest#1, +10m on-ident#1");
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static struct playbook *resolution_playbook(void)
{
    struct playbook *pb = pb_new(2, 12);
    add_at(pb, "declare", 0);
    add_every(pb, "forever", 10 * MIN, 10 * MIN);
    struct step *sp = add_every(pb, "public", 10 * MIN, 10 * MIN);
    sp->until = UNTIL_STATUS;
    sp->until_status = STATUS_RESOLVED;
    set_ack(pb, add_on(pb, "esc", ON_ESCALATION), 1 * MIN, "esc");
    set_ack(pb, add_at(pb, "page", 20 * MIN), 10 * MIN, "esc");
    add_at(pb, "late", 2 * HOUR);
    add_after(pb, "later", "declare", 3 * HOUR);
    add_on(pb, "all-clear", ON_RESOLVED);
    add_after(pb, "postmortem", "all-clear", 2 * HOUR);
    add_on(pb, "acked", ON_ACKNOWLEDGED);
    pb->feedback.present = 1;
    pb->feedback.notify = xcalloc(1, sizeof(size_t));
    pb->feedback.nnotify = 1;
    return pb;
}

static void test_resolve_stops_recurring_and_fires_on_resolved(void **state)
{
    (void)state;
    struct playbook *pb = resolution_playbook();
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 25 * MIN);
    assert_string_equal(log_str(&l), "+0s declare#1, +10m forever#1, +10m public#1, "
                                     "+20m forever#2, +20m public#2, +20m page#1");
    assert_int_equal(sched_resolved_at(s), -1);
    assert_int_equal(sched_set_status(s, STATUS_RESOLVED, 25 * MIN), 0);
    assert_int_equal(sched_resolved_at(s), 25 * MIN);
    assert_int_equal(sched_set_status(s, STATUS_MONITORING, 26 * MIN), -1);
    assert_int_equal(sched_deadlines(s, NULL, 0), 0); /* page's deadline died */
    log_reset(&l);
    run_to(s, pb, &l, 100 * HOUR);
    assert_string_equal(log_str(&l),
                        "+25m all-clear#1, +25m feedback#1, +2h25m postmortem#1");
    assert_int_equal(l.last.status, STATUS_RESOLVED);
    assert_true(sched_is_done(s));
    /* Acknowledging after the end fires nothing. */
    assert_int_equal(sched_ack_run(s, 25 * HOUR), 1);
    assert_true(sched_is_done(s));
    assert_int_equal(sched_next_time(s), INT64_MAX);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

/* Before every pop, sched_next_step names what pops: timers, events,
 * escalations (deadlines) and the feedback request alike. */
static void check_next_step_names_each_pop(struct playbook *pb, int ack_page)
{
    struct sched *s = sched_new(pb);
    struct sched_fire f;
    int n = 0;
    sched_start(s);
    for (int64_t t; (t = sched_next_time(s)) <= 100 * HOUR;) {
        size_t step = 12345;
        assert_int_equal(sched_next_step(s, &step), t);
        assert_int_equal(sched_pop(s, t, &f), 1);
        assert_int_equal(step, f.step);
        n++;
        if (ack_page && t >= 30 * MIN && sched_resolved_at(s) < 0)
            assert_int_equal(sched_set_status(s, STATUS_RESOLVED, t), 0);
    }
    assert_true(n >= 4);
    size_t untouched = 777;
    assert_int_equal(sched_next_step(s, &untouched), INT64_MAX);
    assert_int_equal(untouched, 777);
    sched_free(s);
}

static void test_next_step(void **state)
{
    (void)state;
    struct playbook *pb = escalation_playbook();
    check_next_step_names_each_pop(pb, 0); /* deadlines: esc1, then esc2 */
    playbook_free(pb);
    pb = resolution_playbook();
    check_next_step_names_each_pop(pb, 1); /* resolved at 30m: events, feedback */
    playbook_free(pb);
}

static void test_step_that_resolves(void **state)
{
    (void)state;
    struct playbook *pb = resolution_playbook();
    struct step *sp = add_at(pb, "drill-over", 15 * MIN);
    sp->sets_status = 1;
    sp->status = STATUS_RESOLVED;
    add_after(pb, "after-drill", "drill-over", 0);
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    struct sched_fire f;
    sched_start(s);
    run_to(s, pb, &l, 14 * MIN);
    assert_false(sched_is_done(s));
    assert_int_equal(sched_pop(s, 15 * MIN, &f), 1);
    assert_int_equal(f.step, idx(pb, "drill-over"));
    assert_int_equal(f.status, STATUS_RESOLVED);
    assert_int_equal(f.status_changed, 1);
    log_reset(&l);
    run_to(s, pb, &l, 100 * HOUR);
    assert_string_equal(log_str(&l),
                        "+15m all-clear#1, +15m after-drill#1, +15m feedback#1, "
                        "+2h15m postmortem#1");
    assert_true(sched_is_done(s));
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_manual_trigger(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    add_at(pb, "declare", 0);
    add_on(pb, "rollback", ON_MANUAL);
    add_on(pb, "on-res", ON_RESOLVED);
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 10 * HOUR);
    assert_string_equal(log_str(&l), "+0s declare#1");
    assert_int_equal(sched_trigger(s, idx(pb, "declare"), 11 * HOUR), -1);
    assert_int_equal(sched_trigger(s, idx(pb, "on-res"), 11 * HOUR), -1);
    assert_int_equal(sched_trigger(s, 99, 11 * HOUR), -1);
    assert_int_equal(sched_trigger(s, idx(pb, "rollback"), 11 * HOUR), 0);
    assert_int_equal(sched_trigger(s, idx(pb, "rollback"), 12 * HOUR), 0);
    run_to(s, pb, &l, 20 * HOUR);
    assert_string_equal(log_str(&l), "+0s declare#1, +11h rollback#1, +12h rollback#2");
    assert_int_equal(l.last.cause, SCHED_CAUSE_MANUAL);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_next_update_per_channel_and_fallback(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(3, 8);
    notify(add_every(pb, "to-a", 30 * MIN, 30 * MIN), 0);
    notify(add_at(pb, "to-b", 45 * MIN), 1);
    struct step *sp = add_at(pb, "page", 1 * MIN);
    notify(sp, 2);
    notify(add_on(pb, "esc", ON_ESCALATION), 1);
    set_ack(pb, sp, 10 * MIN, "esc");
    notify(add_after(pb, "follow", "page", 1 * HOUR), 2);
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    /* Queries do not consume: a later `now` first, then an earlier one.  At
     * 40m to-a's first slot is due, unpopped: its next slot is the answer. */
    assert_int_equal(sched_next_scheduled(s, 0, 40 * MIN), 60 * MIN);
    assert_int_equal(sched_next_scheduled(s, 0, 0), 30 * MIN);
    assert_int_equal(sched_next_scheduled(s, 1, 0), 45 * MIN);
    assert_int_equal(sched_next_scheduled(s, 2, 0), 1 * MIN);
    run_to(s, pb, &l, 1 * MIN);
    /* The pending escalation (11m, to ch1) is conditional: it does not count;
     * "follow" counts once page has fired. */
    assert_int_equal(sched_next_scheduled(s, 1, 1 * MIN), 45 * MIN);
    assert_int_equal(sched_next_scheduled(s, 2, 1 * MIN), 1 * HOUR + 1 * MIN);
    run_to(s, pb, &l, 30 * MIN);
    assert_int_equal(sched_next_scheduled(s, 0, 30 * MIN), 60 * MIN);
    run_to(s, pb, &l, 50 * MIN);
    assert_int_equal(sched_next_scheduled(s, 1, 50 * MIN), -1);
    /* No update_interval: nothing is promised. */
    assert_int_equal(sched_next_interval(s, 50 * MIN), -1);
    assert_int_equal(sched_next_update(s, 1, 50 * MIN), -1);
    char buf[64];
    int64_t start;
    assert_int_equal(iso8601_parse("2026-11-26T14:30:00Z", &start), 0);
    assert_string_equal(sched_next_update_text(s, 1, 50 * MIN, start, buf, sizeof(buf)),
                        "when there is news");
    pb->targets.update_interval_ms = 25 * MIN;
    assert_int_equal(sched_next_update(s, 1, 50 * MIN), 75 * MIN);
    assert_string_equal(sched_next_update_text(s, 1, 50 * MIN, start, buf, sizeof(buf)),
                        "15:45 UTC");
    assert_int_equal(sched_next_update(s, 0, 50 * MIN), 60 * MIN);
    assert_int_equal(sched_next_update(s, SCHED_NO_CHANNEL, 50 * MIN), 75 * MIN);
    assert_int_equal(sched_next_interval(s, 75 * MIN), 100 * MIN);
    /* After the resolution nothing more is promised. */
    sched_set_status(s, STATUS_RESOLVED, 80 * MIN);
    assert_int_equal(sched_next_update(s, 0, 80 * MIN), -1);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

/* Pops one fire due at `now` and names it. */
static const char *pop_one(struct sched *s, const struct playbook *pb, int64_t now)
{
    struct sched_fire f;
    assert_int_equal(sched_pop(s, now, &f), 1);
    return pb->steps[f.step].id;
}

/*
 * A message fired at the same instant as an every: occurrence to the same
 * channel promises that step's next slot, which is armed only once the due
 * occurrence fires: the runner renders each message as its step pops.
 */
static void test_next_update_beside_a_due_recurring_step(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    notify(add_at(pb, "first", 30 * MIN), 0);
    notify(add_at(pb, "close", 90 * MIN), 0);
    struct step *up = add_every(pb, "updates", 30 * MIN, 30 * MIN);
    up->until = UNTIL_COUNT;
    up->until_count = 3;
    notify(up, 0);
    struct sched *s = sched_new(pb);
    sched_start(s);
    assert_string_equal(pop_one(s, pb, 30 * MIN), "first");
    assert_int_equal(sched_next_scheduled(s, 0, 30 * MIN), 60 * MIN);
    assert_string_equal(pop_one(s, pb, 30 * MIN), "updates");
    assert_int_equal(sched_next_scheduled(s, 0, 30 * MIN), 60 * MIN);
    /* Slot 2 (60m) still unpopped at 65m: it fires and arms slot 3 at 90m. */
    assert_int_equal(sched_next_scheduled(s, 0, 65 * MIN), 90 * MIN);
    assert_string_equal(pop_one(s, pb, 65 * MIN), "updates");
    assert_int_equal(sched_next_scheduled(s, 0, 65 * MIN), 90 * MIN);
    /* At 90m the last counted slot is due beside "close": nothing after it. */
    assert_string_equal(pop_one(s, pb, 90 * MIN), "close");
    assert_int_equal(sched_next_scheduled(s, 0, 90 * MIN), -1);
    assert_string_equal(pop_one(s, pb, 90 * MIN), "updates");
    assert_int_equal(sched_next_scheduled(s, 0, 90 * MIN), -1);
    sched_free(s);
    playbook_free(pb);
}

/* Slots several periods overdue come out as one (coalescing): the promise
 * is the slot after the last one due, not the one after the first. */
static void test_next_update_after_overdue_slots(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 2);
    notify(add_at(pb, "note", 0), 0);
    notify(add_every(pb, "updates", 10 * MIN, 10 * MIN), 0);
    struct sched *s = sched_new(pb);
    sched_start(s);
    assert_string_equal(pop_one(s, pb, 0), "note");
    /* Resumed at 47m: slots 1 to 4 (10m..40m) are due; 4 fires, 5 is next. */
    assert_int_equal(sched_next_scheduled(s, 0, 47 * MIN), 50 * MIN);
    struct sched_fire f;
    assert_int_equal(sched_pop(s, 47 * MIN, &f), 1);
    assert_int_equal(f.occurrence, 4);
    assert_int_equal(sched_next_scheduled(s, 0, 47 * MIN), 50 * MIN);
    sched_free(s);
    playbook_free(pb);
}

/*
 * A recurring step whose own status: stops it (it reaches its until:
 * status, or resolves the run) arms no next slot when its due occurrence
 * fires: a message beside it must not promise one.
 */
static void test_next_update_beside_a_recurring_step_that_stops_itself(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    notify(add_at(pb, "declared", 30 * MIN), 0);
    struct step *w = add_every(pb, "watch", 30 * MIN, 30 * MIN);
    w->until = UNTIL_STATUS;
    w->until_status = STATUS_MONITORING;
    w->sets_status = 1;
    w->status = STATUS_MONITORING;
    notify(w, 0);
    struct step *c = add_every(pb, "close", 2 * HOUR, 2 * HOUR);
    c->sets_status = 1;
    c->status = STATUS_RESOLVED;
    notify(c, 0);
    struct sched *s = sched_new(pb);
    sched_start(s);
    assert_string_equal(pop_one(s, pb, 30 * MIN), "declared");
    /* "watch" is due: once it fires, the run is monitoring and it stops. */
    assert_int_equal(sched_next_scheduled(s, 0, 30 * MIN), 2 * HOUR);
    assert_string_equal(pop_one(s, pb, 30 * MIN), "watch");
    assert_int_equal(sched_next_scheduled(s, 0, 30 * MIN), 2 * HOUR);
    /* "close" is due at 2h and resolves the run: its 4h slot never comes. */
    assert_int_equal(sched_next_scheduled(s, 0, 2 * HOUR), -1);
    assert_string_equal(pop_one(s, pb, 2 * HOUR), "close");
    assert_int_equal(sched_next_scheduled(s, 0, 2 * HOUR), -1);
    sched_free(s);
    playbook_free(pb);
}

/*
 * A step due at the same instant that sets a status cancels what the
 * message would promise: the resolution every timer, a status at a
 * recurring step's until: that step's slots, due or armed ahead.  Each
 * message is rendered as its step pops, before the others due with it.
 */
static void test_next_update_beside_a_due_status_change(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(2, 8);
    pb->targets.update_interval_ms = 15 * MIN;
    notify(add_at(pb, "note", 25 * MIN), 0);
    struct step *w = add_every(pb, "watch", 10 * MIN, 10 * MIN);
    w->until = UNTIL_STATUS;
    w->until_status = STATUS_MONITORING;
    notify(w, 0);
    notify(add_at(pb, "later", 45 * MIN), 0);
    struct step *m = add_at(pb, "monitor", 25 * MIN);
    m->sets_status = 1;
    m->status = STATUS_MONITORING;
    notify(m, 1);
    notify(add_every(pb, "tick", 20 * MIN, 20 * MIN), 0);
    struct step *c = add_at(pb, "close", 60 * MIN);
    c->sets_status = 1;
    c->status = STATUS_RESOLVED;
    notify(c, 1);
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    run_to(s, pb, &l, 20 * MIN);
    /* At 25m "monitor" is due: watch's 30m slot, armed, will be stopped. */
    assert_int_equal(sched_next_scheduled(s, 0, 25 * MIN), 40 * MIN);
    assert_string_equal(pop_one(s, pb, 25 * MIN), "note");
    assert_int_equal(sched_next_scheduled(s, 0, 25 * MIN), 40 * MIN);
    assert_string_equal(pop_one(s, pb, 25 * MIN), "monitor");
    assert_int_equal(sched_next_scheduled(s, 0, 25 * MIN), 40 * MIN);
    /* At 60m tick #3 and "close" are due: tick's 80m slot never comes, and
     * neither does the update_interval's 75m. */
    run_to(s, pb, &l, 59 * MIN);
    assert_string_equal(pop_one(s, pb, 60 * MIN), "tick");
    assert_int_equal(sched_next_scheduled(s, 0, 60 * MIN), -1);
    assert_int_equal(sched_next_update(s, 0, 60 * MIN), -1);
    assert_int_equal(sched_next_update(s, SCHED_NO_CHANNEL, 60 * MIN), -1);
    assert_string_equal(pop_one(s, pb, 60 * MIN), "close");
    assert_int_equal(sched_next_update(s, 0, 60 * MIN), -1);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

/*
 * A recurring step due at the same instant but stopped, before it comes
 * out, by a status due before it never fires: its own status: stops
 * nothing, and the updates it would have stopped are still promised.
 */
static void test_next_update_beside_a_step_stopped_before_it_fires(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(2, 8);
    notify(add_at(pb, "note", 30 * MIN), 0);
    struct step *f = add_at(pb, "found", 30 * MIN);
    f->sets_status = 1;
    f->status = STATUS_IDENTIFIED;
    notify(f, 1);
    struct step *r = add_every(pb, "recheck", 30 * MIN, 30 * MIN);
    r->until = UNTIL_STATUS;
    r->until_status = STATUS_IDENTIFIED;
    r->sets_status = 1;
    r->status = STATUS_MONITORING;
    notify(r, 1);
    struct step *u = add_every(pb, "updates", 30 * MIN, 30 * MIN);
    u->until = UNTIL_STATUS;
    u->until_status = STATUS_MONITORING;
    notify(u, 0);
    struct sched *s = sched_new(pb);
    struct log l = {STRBUF_INIT, {0}, 0};
    sched_start(s);
    assert_string_equal(pop_one(s, pb, 30 * MIN), "note");
    /* found stops recheck before it fires: updates goes on, at 60m. */
    assert_int_equal(sched_next_scheduled(s, 0, 30 * MIN), 60 * MIN);
    pop_at(s, pb, &l, 30 * MIN);
    assert_string_equal(log_str(&l), "+30m found#1, +30m updates#1");
    assert_int_equal(sched_next_time(s), 60 * MIN);
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

/*
 * A recurring timer moved by coalescing (sched_pop set several overdue
 * slots aside as one, and popped an older one-shot first) is still due:
 * the one-shot's message promises the slot after the coalesced one.
 */
static void test_next_update_beside_a_coalesced_recurring_step(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 4);
    notify(add_every(pb, "update", 10 * MIN, 10 * MIN), 0);
    notify(add_at(pb, "oneshot", 22 * MIN), 0);
    struct sched *s = sched_new(pb);
    sched_start(s);
    sched_resume(s, 45 * MIN);
    /* "update" 10m..40m coalesced into 40m; "oneshot" (22m) comes out first. */
    assert_string_equal(pop_one(s, pb, 45 * MIN), "oneshot");
    assert_int_equal(sched_next_scheduled(s, 0, 45 * MIN), 50 * MIN);
    assert_string_equal(pop_one(s, pb, 45 * MIN), "update");
    assert_int_equal(sched_next_scheduled(s, 0, 45 * MIN), 50 * MIN);
    sched_free(s);
    playbook_free(pb);
}

static void test_restore_and_resume(void **state)
{
    (void)state;
    struct playbook *pb = pb_new(1, 10);
    struct step *sp = add_at(pb, "declare", 0);
    sp->sets_status = 1;
    sp->status = STATUS_INVESTIGATING;
    add_on(pb, "esc", ON_ESCALATION);
    set_ack(pb, add_at(pb, "page", 1 * MIN), 10 * MIN, "esc");
    add_every(pb, "update", 10 * MIN, 10 * MIN);
    add_on(pb, "on-ident", ON_STATUS)->on_status = STATUS_IDENTIFIED;
    add_on(pb, "on-mon", ON_STATUS)->on_status = STATUS_MONITORING;
    add_after(pb, "follow", "page", 30 * MIN);
    set_ack(pb, add_at(pb, "page2", 12 * MIN), 1 * HOUR, "esc");

    /* The journal of a run that died at about 15m. */
    struct sched *s = sched_new(pb);
    sched_start(s);
    sched_restore_fired(s, idx(pb, "declare"), 1, 0);
    sched_restore_fired(s, idx(pb, "page"), 1, 1 * MIN + 20);
    sched_restore_fired(s, idx(pb, "update"), 1, 10 * MIN);
    sched_restore_fired(s, idx(pb, "esc"), 1, 11 * MIN + 20);
    sched_restore_fired(s, idx(pb, "page2"), 1, 12 * MIN);
    assert_int_equal(sched_set_status(s, STATUS_IDENTIFIED, 13 * MIN), 0);
    sched_restore_fired(s, idx(pb, "on-ident"), 1, 13 * MIN);
    /* The status moved to monitoring, then the process died before on-mon went out. */
    assert_int_equal(sched_set_status(s, STATUS_MONITORING, 14 * MIN), 0);
    assert_int_equal(sched_fired_count(s, idx(pb, "update")), 1);
    assert_int_equal(sched_status(s), STATUS_MONITORING);
    struct sched_deadline d[2];
    assert_int_equal(sched_deadlines(s, d, 2), 1); /* page's was answered by esc */
    assert_int_equal(d[0].step, idx(pb, "page2"));

    sched_resume(s, 45 * MIN);
    struct log l = {STRBUF_INIT, {0}, 0};
    pop_at(s, pb, &l, 45 * MIN);
    /* Nothing re-fires; on-mon goes out late; update sends one update for
     * slots 2-4; follow (page + 30m) came due while down. */
    assert_string_equal(log_str(&l), "+14m on-mon#1, +31m follow#1, +40m update#4");
    assert_int_equal(l.last.skipped, 2);
    assert_int_equal(l.last.late, 1);
    log_reset(&l);
    run_to(s, pb, &l, 80 * MIN);
    assert_string_equal(log_str(&l), "+50m update#5, +1h update#6, +1h10m update#7, "
                                     "+1h12m esc#2, +1h20m update#8");
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

static void test_restore_feedback_and_resolution(void **state)
{
    (void)state;
    struct playbook *pb = resolution_playbook();
    struct sched *s = sched_new(pb);
    sched_start(s);
    sched_restore_fired(s, idx(pb, "declare"), 1, 0);
    sched_restore_fired(s, idx(pb, "forever"), 1, 10 * MIN);
    assert_int_equal(sched_set_status(s, STATUS_RESOLVED, 12 * MIN), 0);
    sched_restore_fired(s, idx(pb, "all-clear"), 1, 12 * MIN);
    sched_restore_fired(s, SCHED_FEEDBACK, 1, 12 * MIN);
    sched_resume(s, 20 * MIN);
    struct log l = {STRBUF_INIT, {0}, 0};
    run_to(s, pb, &l, 100 * HOUR);
    assert_string_equal(log_str(&l), "+2h12m postmortem#1");
    assert_true(sched_is_done(s));
    strbuf_release(&l.sb);
    sched_free(s);
    playbook_free(pb);
}

/* Large playbooks schedule in O(n log n): this just has to finish quickly. */
static void test_five_thousand_steps(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct playbook *pb = pb_new(4, N + 2);
    add_on(pb, "esc", ON_ESCALATION);
    for (int i = 1; i < N; i++) {
        char id[32];
        snprintf(id, sizeof(id), "s%d", i);
        struct step *sp;
        switch (i % 4) {
        case 0:
            sp = add_at(pb, id, (int64_t)(i % 240) * MIN);
            break;
        case 1:
            sp = add_every(pb, id, (int64_t)(5 + i % 30) * MIN, (int64_t)(i % 60) * MIN);
            break;
        case 2:
            sp = add_after(pb, id, "s1", (int64_t)(i % 90) * MIN);
            break;
        default:
            sp = add_at(pb, id, (int64_t)(i % 200) * MIN);
            set_ack(pb, sp, 10 * MIN, "esc");
            break;
        }
        notify(sp, (size_t)i % 4);
    }
    pb->targets.update_interval_ms = 30 * MIN;
    struct sched *s = sched_new(pb);
    struct sched_fire f;
    long fires = 0, escalations = 0;
    int64_t prev = 0;
    sched_start(s);
    for (int64_t t; (t = sched_next_time(s)) <= 4 * HOUR;) {
        assert_true(t >= prev);
        prev = t;
        while (sched_pop(s, t, &f)) {
            fires++;
            escalations += f.cause == SCHED_CAUSE_ESCALATION;
            if (f.step != SCHED_FEEDBACK && pb->steps[f.step].nnotify)
                sched_next_update(s, pb->steps[f.step].notify[0], t);
        }
    }
    /* Every ack step (N/4 of them) fired and escalated within 4h. */
    assert_int_equal(escalations, N / 4);
    assert_true(fires > N);
    sched_free(s);
    playbook_free(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_after_every_order_and_spacing),
        cmocka_unit_test(test_after_a_step_that_never_fires),
        cmocka_unit_test(test_ties_in_playbook_order),
        cmocka_unit_test(test_until_status_stops_recurring),
        cmocka_unit_test(test_until_count),
        cmocka_unit_test(test_status_step_shows_new_status),
        cmocka_unit_test(test_coalescing_after_a_gap),
        cmocka_unit_test(test_coalescing_respects_count),
        cmocka_unit_test(test_ack_before_deadline_prevents_escalation),
        cmocka_unit_test(test_ack_in_the_turn_its_deadline_passed),
        cmocka_unit_test(test_two_level_escalation_chain),
        cmocka_unit_test(test_step_wait_says_what_became_of_it),
        cmocka_unit_test(test_run_ack_cancels_every_pending_deadline),
        cmocka_unit_test(test_on_status_fires_once),
        cmocka_unit_test(test_resolve_stops_recurring_and_fires_on_resolved),
        cmocka_unit_test(test_step_that_resolves),
        cmocka_unit_test(test_next_step),
        cmocka_unit_test(test_manual_trigger),
        cmocka_unit_test(test_next_update_per_channel_and_fallback),
        cmocka_unit_test(test_next_update_beside_a_due_recurring_step),
        cmocka_unit_test(test_next_update_after_overdue_slots),
        cmocka_unit_test(test_next_update_beside_a_recurring_step_that_stops_itself),
        cmocka_unit_test(test_next_update_beside_a_coalesced_recurring_step),
        cmocka_unit_test(test_next_update_beside_a_due_status_change),
        cmocka_unit_test(test_next_update_beside_a_step_stopped_before_it_fires),
        cmocka_unit_test(test_restore_and_resume),
        cmocka_unit_test(test_restore_feedback_and_resolution),
        cmocka_unit_test(test_five_thousand_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
