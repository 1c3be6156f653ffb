/*
 * journal_print.c - the views behind `crisisrun list` and `crisisrun show`:
 * the runs of a journal, and one run's timeline, as text or JSON.
 *
 * What may be printed: endpoints only in their redacted form (the journal
 * holds nothing else), never a notification body (it may embed a feedback
 * link), never a control token.  Machine-written text (event details,
 * delivery errors) goes through text_redact_urls() as a second line of
 * defence; notes are the team's own words and are printed as written.
 */
#include "journal_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crisisrun/duration.h"
#include "crisisrun/util.h"

/* "2026-11-26T14:35:02Z": seconds are precise enough for a table. */
static char *iso_seconds(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* "+MMm SSs" from the start of the run. */
static char *offset_format(int64_t ms, char *buf, size_t size)
{
    const char *sign = ms < 0 ? "-" : "+";
    int64_t s = (ms < 0 ? -ms : ms) / 1000;
    snprintf(buf, size, "%s%02" PRId64 "m %02" PRId64 "s", sign, s / 60, s % 60);
    return buf;
}

/* Prints s left-aligned in width columns: UTF-8 continuation bytes take
 * no column ("…" in a redacted endpoint is three bytes, one column). */
static void print_padded(FILE *out, const char *s, int width)
{
    int cols = 0;
    for (const char *p = s; *p; p++)
        cols += ((unsigned char)*p & 0xc0) != 0x80;
    fputs(s, out);
    for (; cols < width; cols++)
        fputc(' ', out);
}

static json_t *time_json(int64_t ms)
{
    char buf[64];
    return ms ? json_string(iso8601_format(ms, buf, sizeof(buf))) : json_null();
}

/* ---- list ------------------------------------------------------------------- */

/*
 * Where a run's duration ends; now_ms is the wall clock.  A run still going
 * is measured to now on its own clock: its start and events are on that
 * clock, and for a drill at --speed N the wall clock would show it N times
 * shorter than `show` shows it.
 */
static int64_t run_end_ms(const struct journal_run *r, int64_t now_ms)
{
    if (r->resolved_ms)
        return r->resolved_ms;
    if (r->ended_ms)
        return r->ended_ms;
    return journal_run_clock(r, now_ms);
}

static json_t *run_json(const struct journal_run *r, int64_t now_ms)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:b, s:f, s:o, s:I, s:o, s:s?,"
                     " s:o, s:o, s:I}",
                     "id", r->id, "playbook", r->playbook_name, "title", r->title,
                     "severity", r->severity, "state", journal_run_state_name(r->state),
                     "status", run_status_name(r->status), "drill", r->drill,
                     "speed", r->speed, "started", time_json(r->started_ms),
                     "started_ms", (json_int_t)r->started_ms,
                     "acknowledged", time_json(r->acknowledged_ms),
                     "acknowledged_by", r->acknowledged_by,
                     "resolved", time_json(r->resolved_ms), "ended", time_json(r->ended_ms),
                     "duration_ms", (json_int_t)(run_end_ms(r, now_ms) - r->started_ms));
}

static int print_json(json_t *root, FILE *out)
{
    int ret = json_dumpf(root, out, JSON_INDENT(2)) < 0 ? error("cannot write JSON") : 0;
    fputc('\n', out);
    json_decref(root);
    return ret;
}

int journal_print_runs(struct journal *j, int json, int64_t now_ms, FILE *out)
{
    struct journal_run *runs;
    size_t n;
    if (journal_run_list(j, &runs, &n) < 0)
        return -1;
    int ret = 0;
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, run_json(&runs[i], now_ms));
        ret = print_json(arr, out);
    } else if (!n) {
        fprintf(out, "no runs in '%s'\n", j->path);
    } else {
        fprintf(out, "%-12s  %-11s  %-13s  %-5s  %-8s  %-20s  %-20s  %s\n", "ID", "STATE",
                "STATUS", "DRILL", "SEVERITY", "PLAYBOOK", "STARTED", "DURATION");
        for (size_t i = 0; i < n; i++) {
            const struct journal_run *r = &runs[i];
            char started[32], dur[32];
            iso_seconds(r->started_ms, started, sizeof(started));
            duration_format(run_end_ms(r, now_ms) - r->started_ms, dur, sizeof(dur));
            fprintf(out, "%-12s  %-11s  %-13s  %-5s  %-8s  %-20s  %-20s  %s\n", r->id,
                    journal_run_state_name(r->state), run_status_name(r->status),
                    r->drill ? "yes" : "no", r->severity ? r->severity : "-",
                    r->playbook_name, started, dur);
        }
    }
    journal_run_list_free(runs, n);
    return ret;
}

/* ---- show ------------------------------------------------------------------- */

/* Everything `show` prints about one run, read in one go. */
struct timeline {
    struct journal_run run;
    struct journal_event *events;
    size_t nevents;
    struct journal_notification *notifs;
    size_t nnotifs;
    struct journal_attempt *attempts;
    size_t nattempts;
    struct journal_ack_wait *acks;
    size_t nacks;
    struct journal_note *notes;
    size_t nnotes;
};

static void timeline_release(struct timeline *t)
{
    journal_run_release(&t->run);
    journal_event_list_free(t->events, t->nevents);
    journal_notification_list_free(t->notifs, t->nnotifs);
    journal_attempt_list_free(t->attempts, t->nattempts);
    journal_ack_wait_list_free(t->acks, t->nacks);
    journal_note_list_free(t->notes, t->nnotes);
}

static int timeline_read(struct journal *j, const char *run, struct timeline *t)
{
    char id[JOURNAL_RUN_ID_LEN + 1];
    memset(t, 0, sizeof(*t));
    /* One read transaction: a consistent snapshot while a run writes. */
    if (journal_sync(j) < 0)
        return -1;
    int own_tx = j->depth == 0;
    if (own_tx && sqlite3_exec(j->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return journal_fail(j, "begin a read");
    int ret = -1;
    if (journal_run_find(j, run, id) < 0 || journal_run_get(j, id, &t->run) < 0 ||
        journal_event_list(j, id, &t->events, &t->nevents) < 0 ||
        journal_notification_list(j, id, DELIVERY_ALL, &t->notifs, &t->nnotifs) < 0 ||
        journal_attempt_list(j, id, &t->attempts, &t->nattempts) < 0 ||
        journal_ack_wait_list(j, id, &t->acks, &t->nacks) < 0 ||
        journal_note_list(j, id, &t->notes, &t->nnotes) < 0)
        goto out;
    ret = 0;
out:
    if (own_tx)
        sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
    if (ret < 0)
        timeline_release(t);
    return ret;
}

/* The detail object of an event with every string value URL-redacted. */
static json_t *event_detail(const struct journal_event *e)
{
    if (!e->detail_json)
        return json_object();
    json_t *d = json_loads(e->detail_json, 0, NULL);
    if (!json_is_object(d)) {
        json_decref(d);
        return json_object();
    }
    const char *key;
    json_t *v;
    json_object_foreach(d, key, v)
    {
        if (json_is_string(v)) {
            char *red = text_redact_urls(json_string_value(v));
            json_string_set(v, red);
            free(red);
        }
    }
    return d;
}

static int64_t detail_int(json_t *d, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(d, key));
}

static const char *detail_str(json_t *d, const char *key)
{
    const char *s = json_string_value(json_object_get(d, key));
    return s ? s : "";
}

/* One line of description for an event, after its offset and kind. */
static void describe_event(const struct journal_event *e, const struct journal_run *r,
                           struct strbuf *sb)
{
    json_t *d = event_detail(e);
    char off[32];
    if (e->step) {
        strbuf_addstr(sb, e->step);
        if (e->occurrence)
            strbuf_addf(sb, " #%d", e->occurrence);
    }
    switch (e->kind) {
    case EV_STEP_FIRED:
        if (json_object_get(d, "scheduled_offset_ms"))
            strbuf_addf(sb, " (scheduled %s%s)",
                        offset_format(detail_int(d, "scheduled_offset_ms"), off, sizeof(off)),
                        json_is_true(json_object_get(d, "late")) ? ", late" : "");
        break;
    case EV_STATUS_CHANGED:
        strbuf_addf(sb, "%s -> %s", detail_str(d, "from"), detail_str(d, "to"));
        break;
    case EV_ACKNOWLEDGED:
        if (!e->step)
            strbuf_addstr(sb, "the run");
        break;
    case EV_ACK_WAITING:
        if (json_object_get(d, "deadline_ms"))
            strbuf_addf(sb, " until %s",
                        offset_format(detail_int(d, "deadline_ms") - r->started_ms, off,
                                      sizeof(off)));
        break;
    case EV_ESCALATED:
        if (*detail_str(d, "escalation"))
            strbuf_addf(sb, " -> %s", detail_str(d, "escalation"));
        break;
    case EV_NOTE:
        strbuf_addf(sb, "%s%s", json_is_true(json_object_get(d, "action")) ? "[action] " : "",
                    detail_str(d, "text"));
        break;
    case EV_ENDPOINT_DISABLED:
        strbuf_addf(sb, "%s %s", detail_str(d, "channel"), detail_str(d, "endpoint"));
        break;
    case EV_FAILED:
        strbuf_addstr(sb, detail_str(d, "reason"));
        break;
    case EV_RUN_STARTED:
        strbuf_addf(sb, "%s%s", detail_str(d, "playbook"),
                    json_is_true(json_object_get(d, "drill")) ? " (drill)" : "");
        break;
    default:
        break;
    }
    if (e->actor)
        strbuf_addf(sb, " (by %s)", e->actor);
    json_decref(d);
}

static void print_header(const struct journal_run *r, FILE *out)
{
    char buf[64], off[32];
    fprintf(out, "run %s  %s\n", r->id, r->playbook_name);
    fprintf(out, "  title         %s\n", r->title);
    fprintf(out, "  severity      %s\n", r->severity ? r->severity : "-");
    fprintf(out, "  state         %s\n", journal_run_state_name(r->state));
    fprintf(out, "  status        %s\n", run_status_name(r->status));
    if (r->drill)
        fprintf(out, "  drill         yes (speed %gx)\n", r->speed);
    fprintf(out, "  started       %s\n", iso_seconds(r->started_ms, buf, sizeof(buf)));
    if (r->acknowledged_ms)
        fprintf(out, "  acknowledged  %s (%s)%s%s\n",
                iso_seconds(r->acknowledged_ms, buf, sizeof(buf)),
                offset_format(r->acknowledged_ms - r->started_ms, off, sizeof(off)),
                r->acknowledged_by ? " by " : "",
                r->acknowledged_by ? r->acknowledged_by : "");
    if (r->resolved_ms)
        fprintf(out, "  resolved      %s (%s)\n", iso_seconds(r->resolved_ms, buf, sizeof(buf)),
                offset_format(r->resolved_ms - r->started_ms, off, sizeof(off)));
    if (r->ended_ms)
        fprintf(out, "  ended         %s\n", iso_seconds(r->ended_ms, buf, sizeof(buf)));
}

static void print_text(const struct timeline *t, FILE *out)
{
    const struct journal_run *r = &t->run;
    char off[32], off2[32];
    print_header(r, out);

    fprintf(out, "\ntimeline\n");
    for (size_t i = 0; i < t->nevents; i++) {
        const struct journal_event *e = &t->events[i];
        struct strbuf sb = STRBUF_INIT;
        describe_event(e, r, &sb);
        fprintf(out, "  %s  %-18s %s\n",
                offset_format(e->at_ms - r->started_ms, off, sizeof(off)),
                journal_event_kind_name(e->kind), strbuf_str(&sb));
        strbuf_release(&sb);
    }

    if (t->nnotifs) {
        /* The step and channel columns as wide as their longest entry
         * (ids are at most 64 bytes), so long ids keep the table aligned. */
        int wstep = 16, wchan = 12;
        for (size_t i = 0; i < t->nnotifs; i++) {
            char step[128];
            int n = snprintf(step, sizeof(step), "%s #%d", t->notifs[i].step,
                             t->notifs[i].occurrence);
            size_t c = strlen(t->notifs[i].channel);
            if (n > wstep)
                wstep = n;
            if (c > (size_t)wchan)
                wchan = (int)c;
        }
        fprintf(out, "\ndeliveries\n  %-9s  %-*s  %-*s  %-28s  %-9s  %8s  %4s  %7s\n",
                "CREATED", wstep, "STEP", wchan, "CHANNEL", "ENDPOINT", "STATE",
                "ATTEMPTS", "HTTP", "LATENCY");
        for (size_t i = 0; i < t->nnotifs; i++) {
            const struct journal_notification *n = &t->notifs[i];
            char step[128], http[16] = "-", lat[32] = "-";
            snprintf(step, sizeof(step), "%s #%d", n->step, n->occurrence);
            if (n->last_http_status)
                snprintf(http, sizeof(http), "%d", n->last_http_status);
            if (n->last_latency_ms >= 0)
                snprintf(lat, sizeof(lat), "%" PRId64 "ms", n->last_latency_ms);
            fprintf(out, "  %-9s  %-*s  %-*s  ",
                    offset_format(n->created_ms - r->started_ms, off, sizeof(off)), wstep,
                    step, wchan, n->channel);
            print_padded(out, n->endpoint_redacted, 28);
            fprintf(out, "  %-9s  %8d  %4s  %7s\n", journal_delivery_state_name(n->state),
                    n->attempts, http, lat);
            if (n->last_error && n->state != DELIVERY_DELIVERED) {
                char *red = text_redact_urls(n->last_error);
                fprintf(out, "             error: %s\n", red);
                free(red);
            }
        }
    }

    if (t->nacks) {
        fprintf(out, "\nacknowledgements\n");
        for (size_t i = 0; i < t->nacks; i++) {
            const struct journal_ack_wait *w = &t->acks[i];
            fprintf(out, "  %s #%d  waiting from %s, deadline %s", w->step, w->occurrence,
                    offset_format(w->since_ms - r->started_ms, off, sizeof(off)),
                    offset_format(w->deadline_ms - r->started_ms, off2, sizeof(off2)));
            if (w->acknowledged_ms)
                fprintf(out, "; acknowledged %s%s%s",
                        offset_format(w->acknowledged_ms - r->started_ms, off, sizeof(off)),
                        w->acknowledged_by ? " by " : "",
                        w->acknowledged_by ? w->acknowledged_by : "");
            if (w->escalated_ms)
                fprintf(out, "; escalated %s%s%s",
                        offset_format(w->escalated_ms - r->started_ms, off, sizeof(off)),
                        w->escalate_step ? " to " : "",
                        w->escalate_step ? w->escalate_step : "");
            fputc('\n', out);
        }
    }

    if (t->nnotes) {
        fprintf(out, "\nnotes\n");
        for (size_t i = 0; i < t->nnotes; i++) {
            const struct journal_note *nt = &t->notes[i];
            fprintf(out, "  %s  %s%s: %s\n",
                    offset_format(nt->at_ms - r->started_ms, off, sizeof(off)), nt->author,
                    nt->action_item ? " [action]" : "", nt->text);
        }
    }
}

static json_t *timeline_json(const struct timeline *t)
{
    const struct journal_run *r = &t->run;
    json_t *root = run_json(r, r->ended_ms ? r->ended_ms : wallclock_ms());
    json_t *events = json_array(), *deliveries = json_array(), *acks = json_array(),
           *notes = json_array();
    for (size_t i = 0; i < t->nevents; i++) {
        const struct journal_event *e = &t->events[i];
        json_array_append_new(
            events, json_pack("{s:o, s:I, s:s, s:s?, s:i, s:s?, s:o}", "at",
                              time_json(e->at_ms), "offset_ms",
                              (json_int_t)(e->at_ms - r->started_ms), "kind",
                              journal_event_kind_name(e->kind), "step", e->step,
                              "occurrence", e->occurrence, "actor", e->actor, "detail",
                              event_detail(e)));
    }
    for (size_t i = 0; i < t->nnotifs; i++) {
        const struct journal_notification *n = &t->notifs[i];
        json_t *attempts = json_array();
        for (size_t k = 0; k < t->nattempts; k++) {
            const struct journal_attempt *a = &t->attempts[k];
            if (strcmp(a->notification_id, n->id))
                continue;
            char *err = a->error ? text_redact_urls(a->error) : NULL;
            json_array_append_new(
                attempts,
                json_pack("{s:i, s:o, s:o, s:o, s:I, s:s, s:s?}", "number", a->number,
                          "started", time_json(a->started_ms), "finished",
                          time_json(a->finished_ms), "http_status",
                          a->http_status ? json_integer(a->http_status) : json_null(),
                          "latency_ms", (json_int_t)a->latency_ms, "outcome",
                          journal_attempt_outcome_name(a->outcome), "error", err));
            free(err);
        }
        char *err = n->last_error ? text_redact_urls(n->last_error) : NULL;
        json_array_append_new(
            deliveries,
            json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o,"
                      " s:s?, s:o}",
                      "id", n->id, "step", n->step, "occurrence", n->occurrence, "channel",
                      n->channel, "endpoint_index", n->endpoint_index, "endpoint",
                      n->endpoint_redacted, "endpoint_hash", n->endpoint_hash, "state",
                      journal_delivery_state_name(n->state), "attempts", n->attempts,
                      "created", time_json(n->created_ms), "settled",
                      time_json(n->settled_ms), "last_http_status",
                      n->last_http_status ? json_integer(n->last_http_status) : json_null(),
                      "last_latency_ms",
                      n->last_latency_ms >= 0 ? json_integer(n->last_latency_ms)
                                              : json_null(),
                      "last_error", err, "attempt_log", attempts));
        free(err);
    }
    for (size_t i = 0; i < t->nacks; i++) {
        const struct journal_ack_wait *w = &t->acks[i];
        json_array_append_new(
            acks, json_pack("{s:s, s:i, s:o, s:o, s:s?, s:o, s:s?, s:o}", "step", w->step,
                            "occurrence", w->occurrence, "since", time_json(w->since_ms),
                            "deadline", time_json(w->deadline_ms), "escalate",
                            w->escalate_step, "acknowledged", time_json(w->acknowledged_ms),
                            "acknowledged_by", w->acknowledged_by, "escalated",
                            time_json(w->escalated_ms)));
    }
    for (size_t i = 0; i < t->nnotes; i++) {
        const struct journal_note *nt = &t->notes[i];
        json_t *notify = nt->notify_json ? json_loads(nt->notify_json, 0, NULL) : NULL;
        json_array_append_new(
            notes, json_pack("{s:o, s:s, s:s, s:b, s:o}", "at", time_json(nt->at_ms),
                             "author", nt->author, "text", nt->text, "action",
                             nt->action_item, "notify",
                             json_is_array(notify) ? notify : json_array()));
        if (notify && !json_is_array(notify))
            json_decref(notify);
    }
    json_object_set_new(root, "events", events);
    json_object_set_new(root, "deliveries", deliveries);
    json_object_set_new(root, "acknowledgements", acks);
    json_object_set_new(root, "notes", notes);
    return root;
}

int journal_print_run(struct journal *j, const char *run, int json, FILE *out)
{
    struct timeline t;
    if (timeline_read(j, run, &t) < 0)
        return -1;
    int ret = 0;
    if (json)
        ret = print_json(timeline_json(&t), out);
    else
        print_text(&t, out);
    timeline_release(&t);
    return ret;
}
