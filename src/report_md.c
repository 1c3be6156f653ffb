/*
 * report_md.c - the report as Markdown (report.h).
 *
 * Every piece of user text (titles, step ids, channel names, notes,
 * comments) goes through md_text(): HTML is neutralised first ('<' and '>'
 * become entities, so no renderer ever sees a tag), then Markdown control
 * characters are backslash-escaped (template_escape_value), and line breaks
 * become spaces so a note cannot break out of its table row or list item.
 */
#include "crisisrun/report.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/duration.h"
#include "crisisrun/template.h"

static void md_text(struct strbuf *sb, const char *s)
{
    struct strbuf pre = STRBUF_INIT;
    for (; s && *s; s++) {
        if (*s == '<')
            strbuf_addstr(&pre, "&lt;");
        else if (*s == '>')
            strbuf_addstr(&pre, "&gt;");
        else if (*s == '\n' || *s == '\r' || *s == '\t')
            strbuf_addch(&pre, ' ');
        else
            strbuf_addch(&pre, *s);
    }
    char *esc = template_escape_value(strbuf_str(&pre), TEMPLATE_ESCAPE_MARKDOWN);
    strbuf_addstr(sb, esc);
    free(esc);
    strbuf_release(&pre);
}

/* A duration, or an em dash for none. */
static const char *dur(int64_t ms, char *buf)
{
    return ms < 0 ? "—" : report_fmt_duration(ms, buf, 32);
}

/* An offset from the start: "+12m", or an em dash. */
static const char *off(int64_t ms, char *buf)
{
    if (ms < 0)
        return "—";
    buf[0] = '+';
    report_fmt_duration(ms, buf + 1, 31);
    return buf;
}

static const char *const target_titles[TARGET_COUNT] = {
    "Time to acknowledge", "Time to first update", "Time to resolve"};

static const char *verdict(const struct report_target *t)
{
    if (t->target_ms < 0)
        return "no target";
    if (t->met < 0)
        return "pending";
    return t->met ? "**met**" : "**missed**";
}

static void summary(const struct report *r, struct strbuf *sb)
{
    char a[40], b[40];
    strbuf_addstr(sb, "# Post-incident report: ");
    if (r->drill)
        strbuf_addstr(sb, "[DRILL] ");
    md_text(sb, r->title);
    strbuf_addstr(sb, "\n\n");
    if (r->drill)
        strbuf_addstr(sb, "> **DRILL** — this run was a drill, not a real incident. Its "
                          "messages were marked [DRILL], and its timings are virtual: the "
                          "rehearsed timeline, not the time the drill took.\n\n");
    strbuf_addstr(sb, "| | |\n|---|---|\n| Run | `");
    strbuf_addstr(sb, r->run_id);
    strbuf_addstr(sb, "` |\n| Playbook | ");
    md_text(sb, r->playbook);
    strbuf_addstr(sb, " |\n| Severity | ");
    md_text(sb, r->severity ? r->severity : "—");
    strbuf_addf(sb, " |\n| Drill | %s |\n| Started | %s |\n| Resolved | %s |\n",
                r->drill ? "**yes**" : "no", iso8601_format(r->started_ms, a, sizeof(a)),
                r->resolved_ms ? iso8601_format(r->resolved_ms, b, sizeof(b)) : "not resolved");
    strbuf_addf(sb, "| Duration | %s |\n| Final state | %s (status %s) |\n",
                dur(r->duration_ms, a), journal_run_state_name(r->state),
                run_status_name(r->status));
    strbuf_addstr(sb, "| Acknowledged by | ");
    md_text(sb, r->acknowledged_by ? r->acknowledged_by : "—");
    strbuf_addstr(sb, " |\n\n");
}

static void targets(const struct report *r, struct strbuf *sb)
{
    char a[32], b[32];
    strbuf_addstr(sb, "## Targets\n\n| Target | Promise | Actual | Result |\n|---|---|---|---|\n");
    for (int k = 0; k < TARGET_COUNT; k++) {
        const struct report_target *t = &r->targets[k];
        strbuf_addf(sb, "| %s | %s | %s | %s |\n", target_titles[k], dur(t->target_ms, a),
                    t->actual_ms < 0 ? "not reached"
                                     : report_fmt_duration(t->actual_ms, b, 32),
                    verdict(t));
    }
    strbuf_addstr(sb, "\n");
}

static void timeline(const struct report *r, struct strbuf *sb)
{
    char a[32], b[32], c[32];
    strbuf_addstr(sb, "## Status timeline\n\n| Status | From | To | Duration |\n"
                      "|---|---|---|---|\n");
    for (size_t i = 0; i < r->nperiods; i++) {
        const struct report_period *p = &r->periods[i];
        strbuf_addf(sb, "| %s | %s | %s | %s |\n", run_status_name(p->status),
                    off(p->start_ms, a), off(p->end_ms, b),
                    dur(p->end_ms >= 0 ? p->end_ms - p->start_ms : -1, c));
    }
    strbuf_addstr(sb, "\n");
}

static void steps(const struct report *r, struct strbuf *sb)
{
    char a[32], b[32], c[32];
    strbuf_addstr(sb, "## Steps\n\n");
    if (!r->noccurrences) {
        strbuf_addstr(sb, "No step fired.\n\n");
        return;
    }
    strbuf_addstr(sb, "| Step | # | Scheduled | Actual | Late by | Channel | Endpoints | "
                      "Delivered | Failed | Pending | Attempts | Retries |\n"
                      "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->noccurrences; i++) {
        const struct report_occurrence *o = &r->occurrences[i];
        size_t rows = o->nchannels ? o->nchannels : 1;
        for (size_t k = 0; k < rows; k++) {
            strbuf_addstr(sb, "| ");
            md_text(sb, o->step);
            strbuf_addf(sb, " | %d | %s | %s | %s%s%s | ", o->occurrence,
                        off(o->scheduled_ms, a), off(o->actual_ms, b), o->late ? "**" : "",
                        o->scheduled_ms < 0 ? "—" : report_fmt_duration(o->late_ms, c, 32),
                        o->late ? " late**" : "");
            if (!o->nchannels) {
                strbuf_addstr(sb, "— | | | | | | |\n");
                continue;
            }
            const struct report_delivery *d = &o->channels[k];
            md_text(sb, d->channel);
            strbuf_addf(sb, " | %d | %d | %d | %d | %d | %d |\n", d->endpoints, d->delivered,
                        d->failed, d->pending, d->attempts, d->retries);
        }
    }
    strbuf_addstr(sb, "\n");
}

static void comm_row(const struct report_comm *c, int channel, struct strbuf *sb)
{
    char a[32], b[32], p50[32], p95[32], sh[32];
    strbuf_addstr(sb, "| ");
    md_text(sb, c->name);
    if (channel) {
        strbuf_addstr(sb, " | ");
        md_text(sb, c->type ? c->type : "—");
        strbuf_addf(sb, " | %s | %d", runmeta_audience_name(c->audience), c->endpoints);
    }
    strbuf_addf(sb, " | %d | %d | %s | ", c->updates, c->delivered_updates,
                off(c->first_update_ms, a));
    if (c->on_time_share < 0)
        strbuf_addstr(sb, "n/a");
    else
        strbuf_addf(sb, "%d of %d (%s)", c->on_time, c->gaps,
                    report_fmt_share(c->on_time_share, sh, sizeof(sh)));
    strbuf_addf(sb, " | %s | %s | %s | %d | %d | %d | %d |\n", dur(c->longest_silence_ms, b),
                dur(c->latency_p50_ms, p50), dur(c->latency_p95_ms, p95), c->notifications,
                c->delivered, c->failed, c->retries);
}

static void communication(const struct report *r, struct strbuf *sb)
{
    char a[32];
    static const char cols[] =
        "Updates sent | Updates delivered | First update | On time | Longest silence | "
        "Latency p50 | Latency p95 | Notifications | Delivered | Failed | Retries |\n";
    strbuf_addf(sb, "## Communication\n\nPromised update interval: %s.\n\n",
                r->update_interval_ms < 0 ? "none" : dur(r->update_interval_ms, a));
    strbuf_addstr(sb, "### By audience\n\n| Audience | ");
    strbuf_addstr(sb, cols);
    strbuf_addstr(sb, "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < 2; k++)
        if (report_audience_shown(r, (enum audience)k))
            comm_row(&r->audiences[k], 0, sb);
    strbuf_addstr(sb, "\n### By channel\n\n| Channel | Type | Audience | Endpoints | ");
    strbuf_addstr(sb, cols);
    strbuf_addstr(sb, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->nchannels; i++)
        comm_row(&r->channels[i], 1, sb);
    strbuf_addstr(sb, "\n");
}

static void failures(const struct report *r, struct strbuf *sb)
{
    char a[32], why[512];
    strbuf_addstr(sb, "## Failed deliveries\n\n");
    if (!r->nfailures) {
        strbuf_addstr(sb, "None.\n\n");
        return;
    }
    strbuf_addstr(sb,
                  "| Channel | Outcome | Reason | Notifications | Endpoints | First | "
                  "Hosts |\n|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->nfailures; i++) {
        const struct report_failure *f = &r->failures[i];
        strbuf_addstr(sb, "| ");
        md_text(sb, f->channel);
        strbuf_addf(sb, " | %s | ", journal_delivery_state_name(f->state));
        md_text(sb, report_failure_reason(f, why, sizeof(why)));
        strbuf_addf(sb, " | %d | %d | %s | ", f->notifications, f->endpoints,
                    off(f->first_ms, a));
        for (size_t e = 0; e < f->nhosts; e++) {
            if (e)
                strbuf_addstr(sb, ", ");
            md_text(sb, f->hosts[e]);
        }
        strbuf_addstr(sb, " |\n");
    }
    strbuf_addstr(sb, "\n");
}

static void escalations(const struct report *r, struct strbuf *sb)
{
    char a[32], b[32], c[32];
    strbuf_addstr(sb, "## Escalations\n\n");
    if (!r->nescalations) {
        strbuf_addstr(sb, "None.\n\n");
        return;
    }
    strbuf_addstr(sb, "| Step | # | Waiting since | Escalated at | Waited | Escalated to |\n"
                      "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->nescalations; i++) {
        const struct report_escalation *e = &r->escalations[i];
        strbuf_addstr(sb, "| ");
        md_text(sb, e->step);
        strbuf_addf(sb, " | %d | %s | %s | %s | ", e->occurrence, off(e->since_ms, a),
                    off(e->escalated_ms, b), dur(e->waited_ms, c));
        md_text(sb, e->escalation ? e->escalation : "—");
        strbuf_addstr(sb, " |\n");
    }
    strbuf_addstr(sb, "\n");
}

static void notes(const struct report *r, struct strbuf *sb)
{
    char a[32];
    strbuf_addstr(sb, "## Notes\n\n");
    if (!r->nnotes)
        strbuf_addstr(sb, "None.\n");
    for (size_t i = 0; i < r->nnotes; i++) {
        const struct report_note *n = &r->notes[i];
        strbuf_addf(sb, "- %s **", off(n->at_ms, a));
        md_text(sb, n->author);
        strbuf_addstr(sb, "**: ");
        md_text(sb, n->text);
        if (n->action)
            strbuf_addstr(sb, " _(action item)_");
        for (size_t k = 0; k < n->nnotify; k++) {
            strbuf_addstr(sb, k ? ", " : " — sent to ");
            md_text(sb, n->notify[k]);
        }
        strbuf_addstr(sb, "\n");
    }
    strbuf_addstr(sb, "\n## Action items\n\n");
    if (!r->nactions)
        strbuf_addstr(sb, "None.\n");
    for (size_t i = 0; i < r->nnotes; i++) {
        const struct report_note *n = &r->notes[i];
        if (!n->action)
            continue;
        strbuf_addstr(sb, "- [ ] ");
        md_text(sb, n->text);
        strbuf_addstr(sb, " (");
        md_text(sb, n->author);
        strbuf_addf(sb, ", %s)\n", off(n->at_ms, a));
    }
    strbuf_addstr(sb, "\n");
}

static void group(const struct report_feedback_group *g, struct strbuf *sb)
{
    char a[32], b[32];
    strbuf_addf(sb, "### %s%s: %d response%s\n\n", g->audience[0] == 'a' ? "All" : "Audience ",
                g->audience[0] == 'a' ? "" : g->audience, g->responses,
                g->responses == 1 ? "" : "s");
    if (g->nquestions) {
        strbuf_addstr(sb, "| Question | Scale | Answers | Mean | Distribution | Top two |\n"
                          "|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < g->nquestions; i++) {
            const struct report_question *q = &g->questions[i];
            strbuf_addstr(sb, "| ");
            md_text(sb, q->text);
            strbuf_addstr(sb, " (");
            md_text(sb, q->id);
            strbuf_addf(sb, ") | 1–%d | %d | %s | ", q->scale, q->answers,
                        q->mean < 0 ? "—" : report_fmt_mean(q->mean, a, sizeof(a)));
            for (int v = 1; v <= q->scale; v++)
                strbuf_addf(sb, "%s%d: %d", v > 1 ? " · " : "", v, q->dist[v]);
            strbuf_addf(sb, " | %s |\n",
                        q->top_share < 0 ? "—" : report_fmt_share(q->top_share, b, sizeof(b)));
        }
        strbuf_addstr(sb, "\n");
    }
    if (g->ncomments) {
        strbuf_addstr(sb, "Comments:\n\n");
        for (size_t i = 0; i < g->ncomments; i++) {
            const struct report_comment *c = &g->comments[i];
            strbuf_addf(sb, "- %s, ", off(c->at_ms, a));
            md_text(sb, c->respondent ? c->respondent : "anonymous");
            if (c->channel) {
                strbuf_addstr(sb, " via ");
                md_text(sb, c->channel);
            }
            if (c->question) {
                strbuf_addstr(sb, ", on ");
                md_text(sb, c->question);
            }
            strbuf_addstr(sb, ": ");
            md_text(sb, c->text);
            strbuf_addstr(sb, "\n");
        }
        strbuf_addstr(sb, "\n");
    }
}

static void feedback(const struct report *r, struct strbuf *sb)
{
    char a[32];
    strbuf_addstr(sb, "## Feedback\n\n");
    if (r->feedback)
        strbuf_addf(sb, "Feedback window: %s. Top two: the share of ratings in the two "
                        "highest values of the scale (4–5 on a scale of 5).\n\n",
                    dur(r->feedback_window_ms, a));
    else
        strbuf_addstr(sb, "The playbook asks for no feedback.\n\n");
    /* Without feedback asked for, an empty "All" would only contradict
     * the line above (the JSON keeps it, for a stable shape). */
    for (size_t g = 0; g < ARRAY_SIZE(r->groups); g++)
        if (report_group_shown(r, g) && (r->feedback || r->groups[g].responses))
            group(&r->groups[g], sb);
}

void report_render_markdown(const struct report *r, struct strbuf *sb)
{
    summary(r, sb);
    targets(r, sb);
    timeline(r, sb);
    steps(r, sb);
    communication(r, sb);
    failures(r, sb);
    escalations(r, sb);
    notes(r, sb);
    feedback(r, sb);
    strbuf_addstr(sb, "---\nGenerated by crisisrun (report version 1). Offsets are from the "
                      "start of the run");
    strbuf_addstr(sb, r->drill ? "; drill timings are virtual.\n" : ".\n");
}
