/*
 * runner_control.c - what the incident manager can do to a live run:
 * acknowledge, change the status, add a note, trigger a manual step,
 * resolve.  Called by the control API (control.c) from inside the run
 * loop; each takes effect at once in the scheduler and is journaled with
 * who did it, and the loop fires whatever became due on its next turn.
 */
#include <stdlib.h>
#include <string.h>

#include "crisisrun/duration.h"
#include "crisisrun/journal.h"
#include "crisisrun/runner_ops.h"
#include "crisisrun/sched.h"
#include "crisisrun/suggest.h"
#include "crisisrun/template.h"
#include "runner_internal.h"

static int refuse(char **msg, int status, const char *fmt, const char *arg)
{
    *msg = xasprintf(fmt, arg);
    return status;
}

/* 404 for a step or channel the playbook does not have, with the closest
 * of the candidates in sg when it is a plausible typo; releases sg. */
static int unknown(char **msg, const char *what, const char *name, struct suggest *sg)
{
    *msg = suggest_not_in_playbook(sg, what, name);
    return 404;
}

/*
 * Why `ack RUN STEP` found nothing to acknowledge, so that whoever answered
 * a page late learns that the escalation went out, and to whom.
 */
static char *not_waiting(const struct runner *r, size_t idx)
{
    const struct step *sp = &r->pb->steps[idx];
    struct sched_deadline d;
    char within[32];
    switch (sched_step_wait(r->sched, idx, &d)) {
    case SCHED_WAIT_ESCALATED:
        duration_format(d.deadline - d.fired, within, sizeof(within));
        return xasprintf(
            "step '%s' is not waiting for acknowledgement: nobody acknowledged it "
            "within %s, so '%s' went out",
            sp->id, within, r->pb->steps[d.escalate].id);
    case SCHED_WAIT_ACKED:
        return xasprintf("step '%s' is not waiting for acknowledgement: it was already "
                         "acknowledged",
                         sp->id);
    case SCHED_WAIT_CANCELLED:
        return xasprintf(
            "step '%s' is not waiting for acknowledgement: the run was resolved", sp->id);
    case SCHED_WAIT_PENDING: /* sched_ack_step() would have taken it */
    case SCHED_WAIT_NONE:
        break;
    }
    if (!sp->has_ack)
        return xasprintf(
            "step '%s' is not waiting for acknowledgement: it has no ack: in the "
            "playbook",
            sp->id);
    return xasprintf("step '%s' is not waiting for acknowledgement: it has not run yet",
                     sp->id);
}

int runner_op_ack(struct runner *r, const char *step, const char *who, char **msg)
{
    int64_t now = runner_offset(r);
    int64_t wall = runner_wall(r, now);
    if (!step || !*step) {
        int first = sched_ack_run(r->sched, now);
        if (first && journal_run_set_acknowledged(r->j, r->run.id, wall, who) < 0)
            r->journal_failed = 1;
        /*
         * Journaled every time, not only the first: a later one cancels
         * the deadlines armed since, and resume replays it to know that.
         */
        runner_event(r, EV_ACKNOWLEDGED, NULL, 0, json_pack("{s:b}", "first", first), who);
        liveview_event(&r->lv, wall, "run acknowledged by %s%s", who, first ? "" : " (again)");
        *msg = xstrdup(first ? "run acknowledged" : "run was already acknowledged");
        /*
         * Acknowledging the run acknowledges every waiting step too, but
         * not one that already escalated: journal_ack_step leaves that
         * wait alone, as sched_ack_run found its deadline no longer pending.
         * Nor, once the run is resolved, a wait whose deadline the
         * resolution cancelled: nobody answered that page.
         */
        for (size_t i = 0; sched_resolved_at(r->sched) < 0 && i < r->pb->nsteps; i++)
            if (r->pb->steps[i].has_ack &&
                journal_ack_step(r->j, r->run.id, r->pb->steps[i].id, wall, who) < 0)
                r->journal_failed = 1;
        return 200;
    }
    long idx = playbook_find_step(r->pb, step);
    if (idx < 0) {
        /* Only steps that can wait for an acknowledgement are offered. */
        struct suggest sg = SUGGEST_INIT;
        for (size_t i = 0; i < r->pb->nsteps; i++)
            if (r->pb->steps[i].has_ack)
                suggest_add(&sg, r->pb->steps[i].id);
        return unknown(msg, "step", step, &sg);
    }
    if (sched_ack_step(r->sched, (size_t)idx, now) < 0) {
        *msg = not_waiting(r, (size_t)idx);
        return 409;
    }
    if (journal_ack_step(r->j, r->run.id, step, wall, who) < 0)
        r->journal_failed = 1;
    runner_event(r, EV_ACKNOWLEDGED, step, 0, NULL, who);
    liveview_event(&r->lv, wall, "step %s acknowledged by %s", step, who);
    *msg = xasprintf("step '%s' acknowledged", step);
    return 200;
}

static void set_note(struct runner *r, const char *text)
{
    free(r->latest_note);
    r->latest_note = xstrdup(text);
}

/*
 * Journals a note and its event.  fanout: NULL, or the endpoint counts of a
 * broadcast sent as a chunked fan-out, taken over: the event records them
 * with the note's id, which resume needs to complete the broadcast.
 */
static int add_note(struct runner *r, const char *text, int action,
                    const char *notify_json, json_t *fanout, const char *who, int64_t *id)
{
    struct journal_note note = {
        .at_ms = runner_wall(r, runner_offset(r)),
        .author = (char *)who,
        .text = (char *)text,
        .action_item = action,
        .notify_json = (char *)notify_json,
    };
    int64_t note_id = 0;
    if (journal_note_add(r->j, r->run.id, &note, &note_id) < 0) {
        r->journal_failed = 1;
        json_decref(fanout);
        return -1;
    }
    if (id)
        *id = note_id;
    json_t *detail = json_pack("{s:s, s:b}", "text", text, "action", action);
    if (fanout) {
        json_object_set_new(detail, "note_id", json_integer((json_int_t)note_id));
        json_object_set_new(detail, "fanout_endpoints", fanout);
    }
    runner_event(r, EV_NOTE, NULL, 0, detail, who);
    return 0;
}

int runner_op_status(struct runner *r, const char *status, const char *note, const char *who,
                     char **msg)
{
    int st = run_status_from_name(status);
    if (st < 0)
        return refuse(msg, 400, "unknown status '%s' (use " RUN_STATUS_LIST ")", status);
    if (r->status == STATUS_RESOLVED)
        return refuse(msg, 409, "the run is already resolved%s", "");
    if (note && *note) {
        set_note(r, note);
        add_note(r, note, 0, NULL, NULL, who, NULL);
    }
    int64_t now = runner_offset(r);
    if (sched_set_status(r->sched, (enum run_status)st, now) < 0)
        return refuse(msg, 409, "the run is already resolved%s", "");
    runner_status_changed(r, (enum run_status)st, who);
    *msg = xasprintf("status is %s", status);
    return 200;
}

int runner_op_note(struct runner *r, const char *text, const char *const *notify,
                   size_t nnotify, int action, const char *who, char **msg)
{
    if (!text || !*text)
        return refuse(msg, 400, "a note needs text%s", "");
    size_t *chans = xcalloc(nnotify + 1, sizeof(*chans));
    for (size_t i = 0; i < nnotify; i++) {
        long ch = playbook_find_channel(r->pb, notify[i]);
        chans[i] = (size_t)ch;
        if (ch < 0) {
            free(chans);
            struct suggest sg = SUGGEST_INIT;
            for (size_t c = 0; c < r->pb->nchannels; c++)
                suggest_add(&sg, r->pb->channels[c].name);
            return unknown(msg, "channel", notify[i], &sg);
        }
    }
    json_t *nj = json_array();
    for (size_t i = 0; i < nnotify; i++)
        json_array_append_new(nj, json_string(notify[i]));
    char *njs = nnotify ? json_dumps(nj, JSON_COMPACT) : NULL;
    json_decref(nj);
    /*
     * A broadcast to more endpoints than a chunk goes out as a step's
     * fan-out does (runner_fanout.c): journaled a part at a time, so that
     * the steps due meanwhile go ahead of it and the engine holds a bounded
     * number of its notifications, and counted in the note's event, so
     * that resume completes it if the run stops before its last part.
     */
    struct fanout *fo = NULL;
    json_t *counts = NULL;
    int fan = runner_fanout_wanted(r, chans, nnotify);
    if (fan) {
        counts = json_object();
        for (size_t i = 0; i < nnotify; i++)
            json_object_set_new(
                counts, r->pb->channels[chans[i]].name,
                json_integer((json_int_t)r->pb->channels[chans[i]].urls.n));
    }
    int64_t id = 0;
    /* An action item is a follow-up for after the incident, not news:
     * it stays out of {{latest_note}}, which customers' messages may use. */
    if (!action)
        set_note(r, text);
    int ret = add_note(r, text, action, njs, counts, who, &id);
    free(njs);
    if (ret < 0) {
        free(chans);
        return refuse(msg, 500, "the journal could not record the note%s", "");
    }
    if (fan) /* counts is the event's now */
        fo = fanout_new(RUNNER_NOTE_STEP, (int)id, nnotify);
    int64_t now = runner_offset(r);
    for (size_t i = 0; i < nnotify; i++) {
        size_t ch = chans[i];
        const struct provider *p = provider_for(r->pb->channels[ch].type);
        char *esc = template_escape_value(text, p->escape);
        char *body = r->drill ? xasprintf("[DRILL] %s", esc) : xstrdup(esc);
        char next[64] = "", next_iso[40] = "";
        int64_t nx = sched_next_update(r->sched, ch, now);
        if (nx >= 0) {
            walltime_format_by(runner_wall(r, nx), runner_wall(r, now), next, sizeof(next));
            iso8601_format(runner_wall(r, nx), next_iso, sizeof(next_iso));
        }
        runner_notify_channel(r, ch, RUNNER_NOTE_STEP, (int)id, body, r->status, next,
                              next_iso, fo, i);
        free(body);
        free(esc);
    }
    if (fo)
        runner_queue_fanout(r, fo);
    free(chans);
    liveview_event(&r->lv, runner_wall(r, now), "%s by %s%s", action ? "action item" : "note",
                   who, nnotify ? " (broadcast)" : "");
    *msg = xasprintf("note %lld added", (long long)id);
    return 200;
}

int runner_op_trigger(struct runner *r, const char *step, const char *who, char **msg)
{
    long idx = step ? playbook_find_step(r->pb, step) : -1;
    if (idx < 0) {
        /* Only the steps a trigger can fire are offered. */
        struct suggest sg = SUGGEST_INIT;
        for (size_t i = 0; i < r->pb->nsteps; i++)
            if (r->pb->steps[i].timing == TIMING_ON && r->pb->steps[i].on == ON_MANUAL)
                suggest_add(&sg, r->pb->steps[i].id);
        return unknown(msg, "step", step ? step : "", &sg);
    }
    if (sched_trigger(r->sched, (size_t)idx, runner_offset(r)) < 0)
        return refuse(msg, 400, "step '%s' is not an 'on: manual' step", step);
    runner_event(r, EV_TRIGGERED, step, 0, NULL, who);
    *msg = xasprintf("step '%s' triggered", step);
    return 200;
}

int runner_op_resolve(struct runner *r, const char *note, const char *who, char **msg)
{
    return runner_op_status(r, "resolved", note, who, msg);
}

json_t *runner_op_state(struct runner *r)
{
    int64_t now = runner_offset(r);
    char started[40], at[40];
    iso8601_format(r->run.started_ms, started, sizeof(started));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:I, s:f}", "id", r->run.id,
                          "playbook", r->pb->name, "title", r->pb->title, "status",
                          run_status_name(r->status), "started", started, "drill", r->drill,
                          "acknowledged", sched_acknowledged(r->sched), "elapsed_ms",
                          (json_int_t)now, "speed", r->speed);
    json_object_set_new(o, "latest_note",
                        r->latest_note ? json_string(r->latest_note) : json_null());
    json_t *waiting = json_array();
    size_t n = sched_deadlines(r->sched, NULL, 0);
    struct sched_deadline *dl = xcalloc(n + 1, sizeof(*dl));
    sched_deadlines(r->sched, dl, n);
    for (size_t i = 0; i < n; i++) {
        iso8601_format(runner_wall(r, dl[i].deadline), at, sizeof(at));
        json_array_append_new(
            waiting, json_pack("{s:s, s:i, s:s, s:I, s:s}", "step", r->pb->steps[dl[i].step].id,
                               "occurrence", dl[i].occurrence, "deadline", at,
                               "deadline_offset_ms", (json_int_t)dl[i].deadline, "escalate",
                               r->pb->steps[dl[i].escalate].id));
    }
    free(dl);
    json_object_set_new(o, "waiting_for_ack", waiting);
    return o;
}
