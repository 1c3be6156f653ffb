/*
 * report_html.c - the report as one self-contained HTML page (report.h):
 * inline CSS (with a print style), inline SVG charts, no script and no
 * external request, so it can be mailed, archived and printed as is.
 *
 * Every piece of user text is escaped by h() (& < > " '), including inside
 * SVG <text> and <title>; no user text is ever put in an attribute that
 * takes a URL, so a note containing a link stays text.
 */
#include "crisisrun/report.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/duration.h"

static const char *dur(int64_t ms, char *buf)
{
    return ms < 0 ? "—" : report_fmt_duration(ms, buf, 32);
}

static const char *off(int64_t ms, char *buf)
{
    if (ms < 0)
        return "—";
    buf[0] = '+';
    report_fmt_duration(ms, buf + 1, 31);
    return buf;
}

static const char *const status_colours[STATUS_COUNT] = {"#d9534f", "#f0ad4e", "#5bc0de",
                                                         "#5cb85c"};

static const char *outcome_colour(enum journal_delivery_state s)
{
    switch (s) {
    case DELIVERY_DELIVERED: return "#2e7d32";
    case DELIVERY_FAILED: return "#c62828";
    case DELIVERY_DISABLED: return "#757575";
    default: return "#f9a825";
    }
}

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
    "max-width:1100px;margin:2em auto;padding:0 1em}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;"
    "margin-top:1.8em}h3{margin-top:1.2em}"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.92em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".drill{background:#fff3cd;border:2px solid #e0a800;padding:.6em 1em;font-weight:bold;"
    "margin:1em 0}"
    ".met{color:#2e7d32;font-weight:bold}.missed{color:#c62828;font-weight:bold}"
    ".late,.bad{color:#c62828;font-weight:bold}.muted{color:#666}"
    ".chart{max-width:100%;height:auto}"
    "ul.comments li,ul.notes li{margin:.3em 0}"
    "@media print{body{margin:0;max-width:none;font-size:11pt}"
    "h2,table,svg,.drill{break-inside:avoid;page-break-inside:avoid}"
    "th{background:#eee!important;-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "svg *{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

static void summary(const struct report *r, struct strbuf *sb)
{
    char a[40], b[40];
    strbuf_addstr(sb, "<h1>Post-incident report: ");
    if (r->drill)
        strbuf_addstr(sb, "[DRILL] ");
    strbuf_add_html(sb, r->title);
    strbuf_addstr(sb, "</h1>\n");
    if (r->drill)
        strbuf_addstr(sb, "<p class=\"drill\">DRILL — this run was a drill, not a real "
                          "incident. Its messages were marked [DRILL], and its timings are "
                          "virtual: the rehearsed timeline, not the time the drill "
                          "took.</p>\n");
    strbuf_addf(sb, "<table><tr><th>Run</th><td><code>%s</code></td></tr>\n<tr><th>Playbook"
                    "</th><td>", r->run_id);
    strbuf_add_html(sb, r->playbook);
    strbuf_addstr(sb, "</td></tr>\n<tr><th>Severity</th><td>");
    strbuf_add_html(sb, r->severity ? r->severity : "—");
    strbuf_addf(sb, "</td></tr>\n<tr><th>Drill</th><td>%s</td></tr>\n"
                    "<tr><th>Started</th><td>%s</td></tr>\n<tr><th>Resolved</th><td>%s"
                    "</td></tr>\n",
                r->drill ? "<strong>yes</strong>" : "no",
                iso8601_format(r->started_ms, a, sizeof(a)),
                r->resolved_ms ? iso8601_format(r->resolved_ms, b, sizeof(b)) : "not resolved");
    strbuf_addf(sb, "<tr><th>Duration</th><td>%s</td></tr>\n<tr><th>Final state</th><td>%s "
                    "(status %s)</td></tr>\n<tr><th>Acknowledged by</th><td>",
                dur(r->duration_ms, a), journal_run_state_name(r->state),
                run_status_name(r->status));
    strbuf_add_html(sb, r->acknowledged_by ? r->acknowledged_by : "—");
    strbuf_addstr(sb, "</td></tr></table>\n");
}

static void targets(const struct report *r, struct strbuf *sb)
{
    static const char *const titles[TARGET_COUNT] = {
        "Time to acknowledge", "Time to first update", "Time to resolve"};
    char a[32], b[32];
    strbuf_addstr(sb, "<h2>Targets</h2>\n<table><tr><th>Target</th><th>Promise</th>"
                      "<th>Actual</th><th>Result</th></tr>\n");
    for (int k = 0; k < TARGET_COUNT; k++) {
        const struct report_target *t = &r->targets[k];
        const char *v = t->target_ms < 0 ? "<span class=\"muted\">no target</span>"
                        : t->met > 0     ? "<span class=\"met\">met</span>"
                        : t->met == 0    ? "<span class=\"missed\">missed</span>"
                                         : "pending";
        strbuf_addf(sb, "<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                        "<td>%s</td></tr>\n",
                    titles[k], dur(t->target_ms, a),
                    t->actual_ms < 0 ? "not reached" : report_fmt_duration(t->actual_ms, b, 32),
                    v);
    }
    strbuf_addstr(sb, "</table>\n");
}

/* ---- the timeline chart ----------------------------------------------------------- */

#define CH_LEFT 130
#define CH_WIDTH 960
#define CH_ROW 26

/* The axis: a round tick step giving at most 8 ticks, and the end of the
 * chart rounded up to a whole step (so the last status band shows). */
static int64_t axis_step(int64_t span)
{
    static const int64_t steps[] = {
        1000, 5000, 15000, 30000, 60000, 300000, 600000, 900000, 1800000, 3600000,
        7200000, 21600000, 43200000, 86400000, 604800000,
    };
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
        if (span / steps[i] < 8)
            return steps[i];
    return (span / 8 / 86400000 + 1) * 86400000;
}

static int64_t axis_end(int64_t span)
{
    int64_t step = axis_step(span);
    return (span / step + 1) * step;
}

static double xpos(const struct report *r, int64_t t)
{
    double plot = CH_WIDTH - CH_LEFT - 20;
    if (t < 0)
        t = 0;
    return CH_LEFT + plot * (double)t / (double)axis_end(r->span_ms);
}

static void row_label(struct strbuf *sb, int y, const char *label)
{
    strbuf_addf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"12\">",
                CH_LEFT - 8, y + 17);
    strbuf_add_html(sb, label);
    strbuf_addstr(sb, "</text>\n");
}

static void chart(const struct report *r, struct strbuf *sb)
{
    char a[32], b[32];
    int rows = 2 + (int)r->nchannels;
    int height = 30 + rows * CH_ROW + 40;
    strbuf_addf(sb, "<svg class=\"chart\" width=\"%d\" "
                    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                    "aria-label=\"timeline of the run\">\n",
                CH_WIDTH, height, CH_WIDTH, height);
    int y = 10;
    /* Status bands. */
    row_label(sb, y, "status");
    for (size_t i = 0; i < r->nperiods; i++) {
        const struct report_period *p = &r->periods[i];
        double x0 = xpos(r, p->start_ms);
        double x1 = xpos(r, p->end_ms >= 0 ? p->end_ms : axis_end(r->span_ms));
        if (x1 - x0 < 2)
            x1 = x0 + 2;
        strbuf_addf(sb, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"20\" fill=\"%s\">"
                        "<title>%s from %s</title></rect>\n",
                    x0, y + 2, x1 - x0, status_colours[p->status], run_status_name(p->status),
                    off(p->start_ms, a));
    }
    y += CH_ROW;
    /* Step occurrences. */
    row_label(sb, y, "steps");
    for (size_t i = 0; i < r->noccurrences; i++) {
        const struct report_occurrence *o = &r->occurrences[i];
        double x = xpos(r, o->actual_ms);
        strbuf_addf(sb, "<path d=\"M%.1f %d l5 9 l-5 9 l-5 -9 z\" fill=\"%s\"><title>", x,
                    y + 3, o->late ? "#c62828" : "#37474f");
        strbuf_add_html(sb, o->step);
        strbuf_addf(sb, " #%d at %s%s</title></path>\n", o->occurrence, off(o->actual_ms, a),
                    o->late ? " (late)" : "");
    }
    y += CH_ROW;
    /* One row of delivery marks per channel. */
    for (size_t c = 0; c < r->nchannels; c++) {
        const char *name = r->channels[c].name;
        row_label(sb, y, name);
        strbuf_addf(sb, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n",
                    CH_LEFT, y + 12, CH_WIDTH - 20, y + 12);
        for (size_t i = 0; i < r->nmarks; i++) {
            const struct report_mark *m = &r->marks[i];
            if (strcmp(m->channel, name))
                continue;
            strbuf_addf(sb, "<circle cx=\"%.1f\" cy=\"%d\" r=\"5\" fill=\"%s\" "
                            "fill-opacity=\"0.8\"><title>%s at %s</title></circle>\n",
                        xpos(r, m->at_ms), y + 12, outcome_colour(m->state),
                        journal_delivery_state_name(m->state), off(m->at_ms, b));
        }
        y += CH_ROW;
    }
    /* Axis. */
    strbuf_addf(sb, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n", CH_LEFT,
                y + 4, CH_WIDTH - 20, y + 4);
    int64_t step = axis_step(r->span_ms), end = axis_end(r->span_ms);
    for (int64_t t = 0; t <= end; t += step) {
        double x = xpos(r, t);
        strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>"
                        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%s"
                        "</text>\n",
                    x, y + 4, x, y + 9, x, y + 22, off(t, a));
    }
    strbuf_addstr(sb, "</svg>\n<p class=\"muted\">Status: ");
    for (int s = 0; s < STATUS_COUNT; s++)
        strbuf_addf(sb, "<span style=\"color:%s\">■</span> %s ", status_colours[s],
                    run_status_name((enum run_status)s));
    strbuf_addstr(sb, "· Deliveries: ");
    static const enum journal_delivery_state legend[] = {DELIVERY_DELIVERED, DELIVERY_FAILED,
                                                         DELIVERY_DISABLED, DELIVERY_PENDING};
    for (size_t i = 0; i < ARRAY_SIZE(legend); i++)
        strbuf_addf(sb, "<span style=\"color:%s\">●</span> %s ", outcome_colour(legend[i]),
                    journal_delivery_state_name(legend[i]));
    strbuf_addstr(sb, "</p>\n");
}

static void timeline(const struct report *r, struct strbuf *sb)
{
    char a[32], b[32], c[32];
    strbuf_addstr(sb, "<h2>Timeline</h2>\n");
    chart(r, sb);
    strbuf_addstr(sb, "<h3>Status timeline</h3>\n<table><tr><th>Status</th><th>From</th>"
                      "<th>To</th><th>Duration</th></tr>\n");
    for (size_t i = 0; i < r->nperiods; i++) {
        const struct report_period *p = &r->periods[i];
        strbuf_addf(sb, "<tr><td><span style=\"color:%s\">■</span> %s</td><td class=\"n\">%s"
                        "</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
                    status_colours[p->status], run_status_name(p->status), off(p->start_ms, a),
                    off(p->end_ms, b), dur(p->end_ms >= 0 ? p->end_ms - p->start_ms : -1, c));
    }
    strbuf_addstr(sb, "</table>\n");
}

static void steps(const struct report *r, struct strbuf *sb)
{
    char a[32], b[32], c[32];
    strbuf_addstr(sb, "<h2>Steps</h2>\n");
    if (!r->noccurrences) {
        strbuf_addstr(sb, "<p>No step fired.</p>\n");
        return;
    }
    strbuf_addstr(sb, "<table><tr><th>Step</th><th>#</th><th>Scheduled</th><th>Actual</th>"
                      "<th>Late by</th><th>Channel</th><th>Endpoints</th><th>Delivered</th>"
                      "<th>Failed</th><th>Pending</th><th>Attempts</th><th>Retries</th></tr>\n");
    for (size_t i = 0; i < r->noccurrences; i++) {
        const struct report_occurrence *o = &r->occurrences[i];
        size_t rows = o->nchannels ? o->nchannels : 1;
        for (size_t k = 0; k < rows; k++) {
            strbuf_addstr(sb, "<tr><td>");
            strbuf_add_html(sb, o->step);
            strbuf_addf(sb, "</td><td class=\"n\">%d</td><td class=\"n\">%s</td>"
                            "<td class=\"n\">%s</td><td class=\"n%s\">%s</td><td>",
                        o->occurrence, off(o->scheduled_ms, a), off(o->actual_ms, b),
                        o->late ? " late" : "",
                        o->scheduled_ms < 0 ? "—" : report_fmt_duration(o->late_ms, c, 32));
            if (!o->nchannels) {
                strbuf_addstr(sb, "—</td><td></td><td></td><td></td><td></td><td></td>"
                                  "<td></td></tr>\n");
                continue;
            }
            const struct report_delivery *d = &o->channels[k];
            strbuf_add_html(sb, d->channel);
            strbuf_addf(sb, "</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
                            "<td class=\"n%s\">%d</td><td class=\"n\">%d</td>"
                            "<td class=\"n\">%d</td><td class=\"n\">%d</td></tr>\n",
                        d->endpoints, d->delivered, d->failed ? " bad" : "", d->failed,
                        d->pending, d->attempts, d->retries);
        }
    }
    strbuf_addstr(sb, "</table>\n");
}

static void comm_row(const struct report_comm *c, int channel, struct strbuf *sb)
{
    char a[32], b[32], p50[32], p95[32], sh[32];
    strbuf_addstr(sb, "<tr><td>");
    strbuf_add_html(sb, c->name);
    if (channel) {
        strbuf_addstr(sb, "</td><td>");
        strbuf_add_html(sb, c->type ? c->type : "—");
        strbuf_addf(sb, "</td><td>%s</td><td class=\"n\">%d", runmeta_audience_name(c->audience),
                    c->endpoints);
    }
    strbuf_addf(sb, "</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%s"
                    "</td><td class=\"n\">",
                c->updates, c->delivered_updates, off(c->first_update_ms, a));
    if (c->on_time_share < 0)
        strbuf_addstr(sb, "n/a");
    else
        strbuf_addf(sb, "%d of %d (%s)", c->on_time, c->gaps,
                    report_fmt_share(c->on_time_share, sh, sizeof(sh)));
    strbuf_addf(sb, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                    "<td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
                    "<td class=\"n\">%d</td></tr>\n",
                dur(c->longest_silence_ms, b), dur(c->latency_p50_ms, p50),
                dur(c->latency_p95_ms, p95), c->notifications, c->delivered, c->failed,
                c->retries);
}

static void communication(const struct report *r, struct strbuf *sb)
{
    char a[32];
    static const char cols[] =
        "<th>Updates sent</th><th>Updates delivered</th><th>First update</th><th>On time</th>"
        "<th>Longest silence</th><th>Latency p50</th><th>Latency p95</th>"
        "<th>Notifications</th><th>Delivered</th><th>Failed</th><th>Retries</th></tr>\n";
    strbuf_addf(sb, "<h2>Communication</h2>\n<p>Promised update interval: %s.</p>\n",
                r->update_interval_ms < 0 ? "none" : dur(r->update_interval_ms, a));
    strbuf_addstr(sb, "<h3>By audience</h3>\n<table><tr><th>Audience</th>");
    strbuf_addstr(sb, cols);
    for (int k = 0; k < 2; k++)
        if (report_audience_shown(r, (enum audience)k))
            comm_row(&r->audiences[k], 0, sb);
    strbuf_addstr(sb, "</table>\n<h3>By channel</h3>\n<table><tr><th>Channel</th><th>Type</th>"
                      "<th>Audience</th><th>Endpoints</th>");
    strbuf_addstr(sb, cols);
    for (size_t i = 0; i < r->nchannels; i++)
        comm_row(&r->channels[i], 1, sb);
    strbuf_addstr(sb, "</table>\n");
}

static void failures(const struct report *r, struct strbuf *sb)
{
    char a[32], why[512];
    strbuf_addstr(sb, "<h2>Failed deliveries</h2>\n");
    if (!r->nfailures) {
        strbuf_addstr(sb, "<p>None.</p>\n");
        return;
    }
    strbuf_addstr(sb, "<table><tr><th>Channel</th><th>Outcome</th><th>Reason</th>"
                      "<th>Notifications</th><th>Endpoints</th><th>First</th>"
                      "<th>Hosts</th></tr>\n");
    for (size_t i = 0; i < r->nfailures; i++) {
        const struct report_failure *f = &r->failures[i];
        strbuf_addstr(sb, "<tr><td>");
        strbuf_add_html(sb, f->channel);
        strbuf_addf(sb, "</td><td style=\"color:%s\">%s</td><td>",
                    outcome_colour(f->state), journal_delivery_state_name(f->state));
        strbuf_add_html(sb, report_failure_reason(f, why, sizeof(why)));
        strbuf_addf(sb,
                    "</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
                    "<td class=\"n\">%s</td><td>",
                    f->notifications, f->endpoints, off(f->first_ms, a));
        for (size_t e = 0; e < f->nhosts; e++) {
            if (e)
                strbuf_addstr(sb, "<br>");
            strbuf_add_html(sb, f->hosts[e]);
        }
        strbuf_addstr(sb, "</td></tr>\n");
    }
    strbuf_addstr(sb, "</table>\n");
}

static void escalations(const struct report *r, struct strbuf *sb)
{
    char a[32], b[32], c[32];
    strbuf_addstr(sb, "<h2>Escalations</h2>\n");
    if (!r->nescalations) {
        strbuf_addstr(sb, "<p>None.</p>\n");
        return;
    }
    strbuf_addstr(sb, "<table><tr><th>Step</th><th>#</th><th>Waiting since</th>"
                      "<th>Escalated at</th><th>Waited</th><th>Escalated to</th></tr>\n");
    for (size_t i = 0; i < r->nescalations; i++) {
        const struct report_escalation *e = &r->escalations[i];
        strbuf_addstr(sb, "<tr><td>");
        strbuf_add_html(sb, e->step);
        strbuf_addf(sb, "</td><td class=\"n\">%d</td><td class=\"n\">%s</td><td class=\"n\">%s"
                        "</td><td class=\"n\">%s</td><td>",
                    e->occurrence, off(e->since_ms, a), off(e->escalated_ms, b),
                    dur(e->waited_ms, c));
        strbuf_add_html(sb, e->escalation ? e->escalation : "—");
        strbuf_addstr(sb, "</td></tr>\n");
    }
    strbuf_addstr(sb, "</table>\n");
}

static void notes(const struct report *r, struct strbuf *sb)
{
    char a[32];
    strbuf_addstr(sb, "<h2>Notes</h2>\n");
    if (!r->nnotes)
        strbuf_addstr(sb, "<p>None.</p>\n");
    else
        strbuf_addstr(sb, "<ul class=\"notes\">\n");
    for (size_t i = 0; i < r->nnotes; i++) {
        const struct report_note *n = &r->notes[i];
        strbuf_addf(sb, "<li>%s <strong>", off(n->at_ms, a));
        strbuf_add_html(sb, n->author);
        strbuf_addstr(sb, "</strong>: ");
        strbuf_add_html(sb, n->text);
        if (n->action)
            strbuf_addstr(sb, " <em>(action item)</em>");
        for (size_t k = 0; k < n->nnotify; k++) {
            strbuf_addstr(sb, k ? ", " : " — sent to ");
            strbuf_add_html(sb, n->notify[k]);
        }
        strbuf_addstr(sb, "</li>\n");
    }
    if (r->nnotes)
        strbuf_addstr(sb, "</ul>\n");
    strbuf_addstr(sb, "<h2>Action items</h2>\n");
    if (!r->nactions) {
        strbuf_addstr(sb, "<p>None.</p>\n");
        return;
    }
    strbuf_addstr(sb, "<ul>\n");
    for (size_t i = 0; i < r->nnotes; i++) {
        const struct report_note *n = &r->notes[i];
        if (!n->action)
            continue;
        strbuf_addstr(sb, "<li>☐ ");
        strbuf_add_html(sb, n->text);
        strbuf_addstr(sb, " <span class=\"muted\">(");
        strbuf_add_html(sb, n->author);
        strbuf_addf(sb, ", %s)</span></li>\n", off(n->at_ms, a));
    }
    strbuf_addstr(sb, "</ul>\n");
}

/* A bar per rating value, its count above it. */
static void histogram(const struct report_question *q, struct strbuf *sb)
{
    int max = 1;
    for (int v = 1; v <= q->scale; v++)
        if (q->dist[v] > max)
            max = q->dist[v];
    int bw = 34, gap = 8, hgt = 90, width = q->scale * (bw + gap) + gap;
    strbuf_addf(sb, "<svg class=\"chart\" width=\"%d\" "
                    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                    "aria-label=\"ratings of ",
                width, hgt + 40, width, hgt + 40);
    strbuf_add_html(sb, q->id);
    strbuf_addstr(sb, "\">\n");
    for (int v = 1; v <= q->scale; v++) {
        int x = gap + (v - 1) * (bw + gap);
        int bh = q->dist[v] * hgt / max;
        const char *fill = v >= q->scale - 1 ? "#2e7d32" : "#90a4ae";
        strbuf_addf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
                        "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%d"
                        "</text><text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                        "font-size=\"12\">%d</text>\n",
                    x, 15 + hgt - bh, bw, bh, fill, x + bw / 2, 12 + hgt - bh, q->dist[v],
                    x + bw / 2, hgt + 32, v);
    }
    strbuf_addstr(sb, "</svg>\n");
}

static void group(const struct report_feedback_group *g, struct strbuf *sb)
{
    char a[32], b[32];
    strbuf_addf(sb, "<h3>%s%s: %d response%s</h3>\n", g->audience[0] == 'a' ? "All" : "Audience ",
                g->audience[0] == 'a' ? "" : g->audience, g->responses,
                g->responses == 1 ? "" : "s");
    if (g->nquestions) {
        strbuf_addstr(sb, "<table><tr><th>Question</th><th>Scale</th><th>Answers</th>"
                          "<th>Mean</th><th>Distribution</th><th>Top two</th></tr>\n");
        for (size_t i = 0; i < g->nquestions; i++) {
            const struct report_question *q = &g->questions[i];
            strbuf_addstr(sb, "<tr><td>");
            strbuf_add_html(sb, q->text);
            strbuf_addstr(sb, " <code>");
            strbuf_add_html(sb, q->id);
            strbuf_addf(sb, "</code></td><td>1–%d</td><td class=\"n\">%d</td>"
                            "<td class=\"n\">%s</td><td>",
                        q->scale, q->answers,
                        q->mean < 0 ? "—" : report_fmt_mean(q->mean, a, sizeof(a)));
            for (int v = 1; v <= q->scale; v++)
                strbuf_addf(sb, "%s%d: %d", v > 1 ? " · " : "", v, q->dist[v]);
            strbuf_addstr(sb, "<br>");
            histogram(q, sb);
            strbuf_addf(sb, "</td><td class=\"n\">%s</td></tr>\n",
                        q->top_share < 0 ? "—" : report_fmt_share(q->top_share, b, sizeof(b)));
        }
        strbuf_addstr(sb, "</table>\n");
    }
    if (g->ncomments) {
        strbuf_addstr(sb, "<p>Comments:</p>\n<ul class=\"comments\">\n");
        for (size_t i = 0; i < g->ncomments; i++) {
            const struct report_comment *c = &g->comments[i];
            strbuf_addf(sb, "<li><span class=\"muted\">%s, ", off(c->at_ms, a));
            strbuf_add_html(sb, c->respondent ? c->respondent : "anonymous");
            if (c->channel) {
                strbuf_addstr(sb, " via ");
                strbuf_add_html(sb, c->channel);
            }
            if (c->question) {
                strbuf_addstr(sb, ", on <code>");
                strbuf_add_html(sb, c->question);
                strbuf_addstr(sb, "</code>");
            }
            strbuf_addstr(sb, ":</span> ");
            strbuf_add_html(sb, c->text);
            strbuf_addstr(sb, "</li>\n");
        }
        strbuf_addstr(sb, "</ul>\n");
    }
}

static void feedback(const struct report *r, struct strbuf *sb)
{
    char a[32];
    strbuf_addstr(sb, "<h2>Feedback</h2>\n");
    if (r->feedback)
        strbuf_addf(sb, "<p>Feedback window: %s. Top two: the share of ratings in the two "
                        "highest values of the scale (4–5 on a scale of 5).</p>\n",
                    dur(r->feedback_window_ms, a));
    else
        strbuf_addstr(sb, "<p>The playbook asks for no feedback.</p>\n");
    /* Without feedback asked for, an empty "All" would only contradict
     * the line above (the JSON keeps it, for a stable shape). */
    for (size_t g = 0; g < ARRAY_SIZE(r->groups); g++)
        if (report_group_shown(r, g) && (r->feedback || r->groups[g].responses))
            group(&r->groups[g], sb);
}

void report_render_html(const struct report *r, struct strbuf *sb)
{
    strbuf_addstr(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                      "<title>");
    if (r->drill)
        strbuf_addstr(sb, "[DRILL] ");
    strbuf_addstr(sb, "Post-incident report: ");
    strbuf_add_html(sb, r->title);
    strbuf_addf(sb, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
    summary(r, sb);
    targets(r, sb);
    timeline(r, sb);
    steps(r, sb);
    communication(r, sb);
    failures(r, sb);
    escalations(r, sb);
    notes(r, sb);
    feedback(r, sb);
    strbuf_addf(sb, "<hr>\n<p class=\"muted\">Generated by crisisrun (report version 1). "
                    "Offsets are from the start of the run%s</p>\n</body>\n</html>\n",
                r->drill ? "; drill timings are virtual." : ".");
}
