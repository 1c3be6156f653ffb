/*
 * report_json.c - the report as one JSON object (report.h), built with
 * jansson from the computed figures.  Offsets and durations are integer
 * milliseconds in members named *_ms; shares are fractions (0..1) and
 * means plain numbers; "none" is null.  docs/report.md lists every member.
 */
#include "crisisrun/report.h"

#include <jansson.h>
#include <stdlib.h>

#include "crisisrun/duration.h"

static json_t *ms(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *num(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

static json_t *str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *iso(int64_t t)
{
    char buf[40];
    return t ? json_string(iso8601_format(t, buf, sizeof(buf))) : json_null();
}

static json_t *run_json(const struct report *r)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:s, s:s, s:o, s:o, s:o, s:o}",
                     "id", r->run_id, "playbook", r->playbook, "title", r->title,
                     "severity", str(r->severity), "drill", r->drill,
                     "state", journal_run_state_name(r->state),
                     "status", run_status_name(r->status), "started", iso(r->started_ms),
                     "resolved", iso(r->resolved_ms), "duration_ms", ms(r->duration_ms),
                     "acknowledged_by", str(r->acknowledged_by));
}

static json_t *targets_json(const struct report *r)
{
    json_t *o = json_object();
    for (int k = 0; k < TARGET_COUNT; k++) {
        const struct report_target *t = &r->targets[k];
        json_object_set_new(o, report_target_name((enum report_target_kind)k),
                            json_pack("{s:o, s:o, s:o}", "target_ms", ms(t->target_ms),
                                      "actual_ms", ms(t->actual_ms), "met",
                                      t->met < 0 ? json_null() : json_boolean(t->met)));
    }
    return o;
}

static json_t *periods_json(const struct report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nperiods; i++) {
        const struct report_period *p = &r->periods[i];
        json_array_append_new(
            a, json_pack("{s:s, s:I, s:o, s:o}", "status", run_status_name(p->status),
                         "start_ms", (json_int_t)p->start_ms, "end_ms", ms(p->end_ms),
                         "duration_ms", ms(p->end_ms >= 0 ? p->end_ms - p->start_ms : -1)));
    }
    return a;
}

static json_t *steps_json(const struct report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->noccurrences; i++) {
        const struct report_occurrence *o = &r->occurrences[i];
        json_t *ch = json_array();
        for (size_t k = 0; k < o->nchannels; k++) {
            const struct report_delivery *d = &o->channels[k];
            json_array_append_new(
                ch, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "channel", d->channel,
                              "endpoints", d->endpoints, "delivered", d->delivered, "failed",
                              d->failed, "pending", d->pending, "attempts", d->attempts,
                              "retries", d->retries));
        }
        json_array_append_new(
            a, json_pack("{s:s, s:i, s:b, s:o, s:o, s:I, s:b, s:o}", "step", o->step,
                         "occurrence", o->occurrence, "fired", o->fired, "scheduled_ms",
                         ms(o->scheduled_ms), "actual_ms", ms(o->actual_ms), "late_ms",
                         (json_int_t)o->late_ms, "late", o->late, "channels", ch));
    }
    return a;
}

static json_t *comm_json(const struct report_comm *c, int channel)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:i, s:i, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:i, s:i}",
        "name", c->name, "audience", runmeta_audience_name(c->audience), "updates",
        c->updates, "delivered_updates", c->delivered_updates, "first_update_ms",
        ms(c->first_update_ms), "gaps", c->gaps, "on_time",
        c->on_time_share < 0 ? json_null() : json_integer(c->on_time), "on_time_share",
        num(c->on_time_share), "longest_silence_ms", ms(c->longest_silence_ms),
        "latency_p50_ms", ms(c->latency_p50_ms), "latency_p95_ms", ms(c->latency_p95_ms),
        "notifications", c->notifications, "delivered", c->delivered, "failed", c->failed,
        "retries", c->retries);
    if (channel) {
        json_object_set_new(o, "type", str(c->type));
        json_object_set_new(o, "endpoints", json_integer(c->endpoints));
    }
    return o;
}

static json_t *communication_json(const struct report *r, int64_t interval)
{
    json_t *aud = json_array(), *ch = json_array();
    for (int a = 0; a < 2; a++)
        if (report_audience_shown(r, (enum audience)a))
            json_array_append_new(aud, comm_json(&r->audiences[a], 0));
    for (size_t i = 0; i < r->nchannels; i++)
        json_array_append_new(ch, comm_json(&r->channels[i], 1));
    return json_pack("{s:o, s:o, s:o}", "update_interval_ms", ms(interval), "audiences", aud,
                     "channels", ch);
}

static json_t *escalations_json(const struct report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nescalations; i++) {
        const struct report_escalation *e = &r->escalations[i];
        json_array_append_new(
            a, json_pack("{s:s, s:i, s:o, s:o, s:I, s:o}", "step", e->step, "occurrence",
                         e->occurrence, "escalation", str(e->escalation), "since_ms",
                         ms(e->since_ms), "escalated_ms", (json_int_t)e->escalated_ms,
                         "waited_ms", ms(e->waited_ms)));
    }
    return a;
}

static json_t *notes_json(const struct report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nnotes; i++) {
        const struct report_note *n = &r->notes[i];
        json_t *notify = json_array();
        for (size_t k = 0; k < n->nnotify; k++)
            json_array_append_new(notify, json_string(n->notify[k]));
        json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:b, s:o}", "at_ms",
                                           (json_int_t)n->at_ms, "author", n->author, "text",
                                           n->text, "action", n->action, "notify", notify));
    }
    return a;
}

static json_t *group_json(const struct report_feedback_group *g)
{
    json_t *qs = json_array(), *cs = json_array();
    for (size_t i = 0; i < g->nquestions; i++) {
        const struct report_question *q = &g->questions[i];
        json_t *dist = json_object();
        for (int v = 1; v <= q->scale; v++) {
            char key[16];
            snprintf(key, sizeof(key), "%d", v);
            json_object_set_new(dist, key, json_integer(q->dist[v]));
        }
        json_array_append_new(qs, json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:o}", "id",
                                            q->id, "text", q->text, "scale", q->scale,
                                            "answers", q->answers, "mean", num(q->mean),
                                            "top_share", num(q->top_share), "distribution",
                                            dist));
    }
    for (size_t i = 0; i < g->ncomments; i++) {
        const struct report_comment *c = &g->comments[i];
        json_array_append_new(cs, json_pack("{s:I, s:o, s:s, s:o, s:o}", "at_ms",
                                            (json_int_t)c->at_ms, "question", str(c->question),
                                            "text", c->text, "respondent", str(c->respondent),
                                            "channel", str(c->channel)));
    }
    return json_pack("{s:s, s:i, s:o, s:o}", "audience", g->audience, "responses",
                     g->responses, "questions", qs, "comments", cs);
}

static json_t *failures_json(const struct report *r)
{
    char why[512];
    json_t *a = json_array();
    for (size_t i = 0; i < r->nfailures; i++) {
        const struct report_failure *f = &r->failures[i];
        json_t *hosts = json_array();
        for (size_t e = 0; e < f->nhosts; e++)
            json_array_append_new(hosts, json_string(f->hosts[e]));
        json_array_append_new(
            a, json_pack(
                   "{s:s, s:s, s:o, s:o, s:s, s:i, s:i, s:o, s:o}", "channel", f->channel,
                   "state", journal_delivery_state_name(f->state), "http_status",
                   f->http_status ? json_integer(f->http_status) : json_null(), "error",
                   str(f->error), "reason", report_failure_reason(f, why, sizeof(why)),
                   "notifications", f->notifications, "endpoints", f->endpoints,
                   "first_ms", ms(f->first_ms), "hosts", hosts));
    }
    return a;
}

static json_t *feedback_json(const struct report *r)
{
    json_t *groups = json_array();
    for (size_t g = 0; g < ARRAY_SIZE(r->groups); g++)
        if (report_group_shown(r, g))
            json_array_append_new(groups, group_json(&r->groups[g]));
    return json_pack("{s:b, s:o, s:o}", "configured", r->feedback, "window_ms",
                     ms(r->feedback ? r->feedback_window_ms : -1), "groups", groups);
}

void report_render_json(const struct report *r, struct strbuf *sb)
{
    json_t *root = json_pack(
        "{s:i, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "report_version", 1,
        "drill", r->drill, "run", run_json(r), "targets", targets_json(r),
        "status_timeline", periods_json(r), "steps", steps_json(r), "communication",
        communication_json(r, r->update_interval_ms), "failed_deliveries",
        failures_json(r), "escalations", escalations_json(r), "notes", notes_json(r),
        "feedback", feedback_json(r));
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(root);
    if (!s)
        die("out of memory");
    strbuf_addstr(sb, s);
    strbuf_addch(sb, '\n');
    free(s);
}
