/* Unit tests for report.h and runmeta.h: a run with a fixed timeline is
 * journaled through the journal API, and every figure of its report is
 * checked against values worked out by hand below; then the three formats
 * are checked to agree, to escape user text, and to label drills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/cmd.h"
#include "crisisrun/report.h"
#include "crisisrun/runmeta.h"
#include "report_fixture.h"

#define XSS "<script>alert(1)</script> *_[]()#|"

struct fixture {
    char dir[64];
    char *path;
    struct journal *j;
    char run[JOURNAL_RUN_ID_LEN + 1];
};

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected '%s' in:\n%.4000s", needle, hay);
}

static void assert_not_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        fail_msg("did not expect '%s' in:\n%.4000s", needle, hay);
}

/* ---- journaling the fixed timeline ------------------------------------------ */

static void event(struct journal *j, const char *run, enum journal_event_kind kind,
                  int64_t off, const char *step, int occ, const char *detail)
{
    struct journal_event ev = {.at_ms = T0 + off, .kind = kind, .step = (char *)step,
                               .occurrence = occ, .detail_json = (char *)detail};
    assert_int_equal(journal_event_add(j, run, &ev), 0);
}

static void fired(struct journal *j, const char *run, const char *step, int occ,
                  int64_t sched, int64_t actual, int late)
{
    char detail[128];
    snprintf(detail, sizeof(detail),
             "{\"scheduled_offset_ms\":%lld,\"actual_offset_ms\":%lld,\"late\":%s}",
             (long long)sched, (long long)actual, late ? "true" : "false");
    event(j, run, EV_STEP_FIRED, actual, step, occ, detail);
}

static void status(struct journal *j, const char *run, const char *from, const char *to,
                   enum run_status st, int64_t off)
{
    char detail[96];
    snprintf(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
    event(j, run, EV_STATUS_CHANGED, off, NULL, 0, detail);
    assert_int_equal(journal_run_set_status(j, run, st, T0 + off), 0);
}

/* Journals a notification created at off; returns its id in id. */
static void notif(struct journal *j, const char *run, const char *step, int occ,
                  const char *channel, int idx, const char *url, int64_t off, char *id)
{
    struct journal_notification_new nn = {
        .run_id = run, .step = step, .occurrence = occ, .channel = channel,
        .endpoint_index = idx, .endpoint_url = url, .body = "{\"text\":\"update\"}",
        .created_ms = T0 + off, .due_ms = T0 + off,
    };
    assert_int_equal(journal_notification_add(j, &nn, id), 0);
}

/* One attempt finishing at off after latency ms. */
static void attempt(struct journal *j, const char *id, int number, int64_t off,
                    int64_t latency, int http, enum journal_attempt_outcome outcome)
{
    struct journal_attempt a = {.number = number, .started_ms = T0 + off - latency,
                                .finished_ms = T0 + off, .http_status = http,
                                .latency_ms = latency, .outcome = outcome};
    memcpy(a.notification_id, id, sizeof(a.notification_id));
    assert_int_equal(journal_attempt_add(j, &a), 0);
    enum journal_delivery_state s = outcome == ATTEMPT_DELIVERED ? DELIVERY_DELIVERED
                                    : outcome == ATTEMPT_FAILED  ? DELIVERY_FAILED
                                                                 : DELIVERY_PENDING;
    assert_int_equal(journal_notification_set_state(j, id, s, T0 + off, T0 + off + 5 * SEC), 0);
}

/* A notification delivered at first try, settled at off. */
static void delivered(struct journal *j, const char *run, const char *step, int occ,
                      const char *channel, int idx, const char *url, int64_t created,
                      int64_t off, int64_t latency)
{
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    notif(j, run, step, occ, channel, idx, url, created, id);
    attempt(j, id, 1, off, latency, 200, ATTEMPT_DELIVERED);
}

static void disabled(struct journal *j, const char *run, const char *step, int occ, int64_t off)
{
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    notif(j, run, step, occ, "customers", 1, URL_CUST1, off, id);
    assert_int_equal(journal_notification_set_state(j, id, DELIVERY_DISABLED, T0 + off, 0), 0);
}

static void response(struct journal *j, const char *run, int64_t off, const char *channel,
                     enum audience aud, int anonymous, const char *who, int informed,
                     int speed, const char *better, const char *comment)
{
    struct journal_answer answers[3];
    size_t n = 0;
    if (informed)
        answers[n++] = (struct journal_answer){"informed", informed, NULL};
    if (speed)
        answers[n++] = (struct journal_answer){"speed", speed, NULL};
    if (better)
        answers[n++] = (struct journal_answer){"better", 0, (char *)better};
    struct journal_feedback f = {.received_ms = T0 + off, .channel = (char *)channel,
                                 .audience = aud, .source = "form", .anonymous = anonymous,
                                 .respondent = (char *)who, .comment = (char *)comment,
                                 .answers = answers, .nanswers = n};
    assert_int_equal(journal_feedback_add(j, run, &f, NULL), 0);
}

/*
 * The timeline (offsets from T0; every delivery's latency in brackets):
 *
 *   0s      declare #1 fires on time.  oncall delivered at 1s [200ms];
 *           customers/0 at 2s [400ms]; customers/1 answers 503 at 1s
 *           [1000ms], then is delivered by attempt 2 at 8s [300ms].
 *   1m30s   page-db #1, scheduled at 1m: 30s late.  oncall at 1m31s [100ms].
 *           It waits for an ack (10m, escalate to escalate-db).
 *   11m30s  no ack: escalated.  escalate-db #1 fires; leaders at 11m31s [500ms].
 *   12m     alice acknowledges the run.
 *   20m     identified.  25m: bob's note (an action item, with markup).
 *   30m     public-update #1: customers/0 at 30m1s [600ms]; customers/1
 *           answers 410 at 30m0.15s [150ms]: failed, endpoint disabled.
 *   40m     monitoring.  50m: alice's note.
 *   1h0m5s  public-update #2 (scheduled 1h: 5s behind, not flagged late):
 *           customers/0 at 1h0m6s [700ms]; customers/1 disabled.
 *   1h15m   resolved.  all-clear #1: oncall 1h15m1s [250ms], leaders
 *           1h15m2s [350ms], customers/0 1h15m3s [800ms], customers/1
 *           disabled.  The feedback request to oncall, 1h15m4s [50ms], is
 *           not an update.  The process ends at 1h16m40s.
 *   2h-5h   four feedback responses (see test_feedback_figures).
 */
static void journal_timeline(struct journal *j, const char *run)
{
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    assert_int_equal(journal_begin(j), 0);
    fired(j, run, "declare", 1, 0, 0, 0);
    delivered(j, run, "declare", 1, "oncall", 0, URL_ONCALL, 0, 1 * SEC, 200);
    delivered(j, run, "declare", 1, "customers", 0, URL_CUST0, 0, 2 * SEC, 400);
    notif(j, run, "declare", 1, "customers", 1, URL_CUST1, 0, id);
    attempt(j, id, 1, 1 * SEC, 1000, 503, ATTEMPT_RETRY);
    attempt(j, id, 2, 8 * SEC, 300, 200, ATTEMPT_DELIVERED);

    fired(j, run, "page-db", 1, 1 * MIN, 90 * SEC, 1);
    delivered(j, run, "page-db", 1, "oncall", 0, URL_ONCALL, 90 * SEC, 91 * SEC, 100);
    assert_int_equal(journal_ack_wait_add(j, run, "page-db", 1, T0 + 90 * SEC,
                                          T0 + 690 * SEC, "escalate-db"),
                     0);
    event(j, run, EV_ACK_WAITING, 90 * SEC, "page-db", 1, "{\"deadline_ms\":1764168390000}");
    event(j, run, EV_ESCALATED, 690 * SEC, "page-db", 1, "{\"escalation\":\"escalate-db\"}");
    assert_int_equal(journal_ack_escalated(j, run, "page-db", 1, T0 + 690 * SEC), 0);
    fired(j, run, "escalate-db", 1, 690 * SEC, 690 * SEC, 0);
    delivered(j, run, "escalate-db", 1, "leaders", 0, URL_LEADERS, 690 * SEC, 691 * SEC, 500);
    assert_int_equal(journal_run_set_acknowledged(j, run, T0 + 12 * MIN, "alice"), 0);
    event(j, run, EV_ACKNOWLEDGED, 12 * MIN, NULL, 0, NULL);

    status(j, run, "investigating", "identified", STATUS_IDENTIFIED, 20 * MIN);
    struct journal_note n1 = {.at_ms = T0 + 25 * MIN, .author = "bob",
                              .text = "Replica lag " XSS, .action_item = 1,
                              .notify_json = "[\"oncall\"]"};
    assert_int_equal(journal_note_add(j, run, &n1, NULL), 0);

    fired(j, run, "public-update", 1, 30 * MIN, 30 * MIN, 0);
    delivered(j, run, "public-update", 1, "customers", 0, URL_CUST0, 30 * MIN,
              30 * MIN + 1 * SEC, 600);
    notif(j, run, "public-update", 1, "customers", 1, URL_CUST1, 30 * MIN, id);
    attempt(j, id, 1, 30 * MIN + 150, 150, 410, ATTEMPT_FAILED);
    event(j, run, EV_ENDPOINT_DISABLED, 30 * MIN + 150, NULL, 0,
          "{\"endpoint\":\"https://partner.example.net/…\",\"channel\":\"customers\"}");

    status(j, run, "identified", "monitoring", STATUS_MONITORING, 40 * MIN);
    struct journal_note n2 = {.at_ms = T0 + 50 * MIN, .author = "alice",
                              .text = "Failover done; watching replication."};
    assert_int_equal(journal_note_add(j, run, &n2, NULL), 0);

    fired(j, run, "public-update", 2, HOUR, HOUR + 5 * SEC, 0);
    delivered(j, run, "public-update", 2, "customers", 0, URL_CUST0, HOUR + 5 * SEC,
              HOUR + 6 * SEC, 700);
    disabled(j, run, "public-update", 2, HOUR + 5 * SEC);

    status(j, run, "monitoring", "resolved", STATUS_RESOLVED, 75 * MIN);
    event(j, run, EV_RESOLVED, 75 * MIN, NULL, 0, NULL);
    fired(j, run, "all-clear", 1, 75 * MIN, 75 * MIN, 0);
    delivered(j, run, "all-clear", 1, "oncall", 0, URL_ONCALL, 75 * MIN, 75 * MIN + 1 * SEC, 250);
    delivered(j, run, "all-clear", 1, "leaders", 0, URL_LEADERS, 75 * MIN, 75 * MIN + 2 * SEC,
              350);
    delivered(j, run, "all-clear", 1, "customers", 0, URL_CUST0, 75 * MIN, 75 * MIN + 3 * SEC,
              800);
    disabled(j, run, "all-clear", 1, 75 * MIN);
    event(j, run, EV_FEEDBACK_REQUESTED, 75 * MIN, NULL, 0, NULL);
    delivered(j, run, REPORT_FEEDBACK_STEP, 1, "oncall", 0, URL_ONCALL, 75 * MIN,
              75 * MIN + 4 * SEC, 50);
    assert_int_equal(journal_run_set_state(j, run, RUN_STATE_RESOLVED, T0 + 100 * MIN), 0);

    response(j, run, 2 * HOUR, "oncall", AUDIENCE_INTERNAL, 0, "carol", 5, 4,
             "More updates please", NULL);
    response(j, run, 3 * HOUR, "customers", AUDIENCE_EXTERNAL, 1, "ignored", 2, 3, NULL, XSS);
    response(j, run, 4 * HOUR, "customers", AUDIENCE_EXTERNAL, 0, "dave", 4, 5, NULL, NULL);
    response(j, run, 5 * HOUR, NULL, AUDIENCE_INTERNAL, 0, "erin", 3, 0, NULL, "ok");
    assert_int_equal(journal_commit(j), 0);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/crreport.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/crisisrun.db", f->dir);
    f->j = journal_open(f->path, JOURNAL_CREATE);
    assert_non_null(f->j);
    char *meta = fixture_meta();
    struct journal_run r;
    assert_int_equal(fixture_run(f->j, &r, 0, meta), 0);
    free(meta);
    memcpy(f->run, r.id, sizeof(f->run));
    journal_timeline(f->j, f->run);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    journal_close(f->j);
    fixture_rm_tree(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* ---- runmeta ------------------------------------------------------------------ */

static void test_runmeta_round_trip(void **state)
{
    (void)state;
    char *json = fixture_meta();
    /* Names, types, audiences and counts: never a URL or a secret. */
    assert_not_contains(json, "http");
    assert_not_contains(json, "SECRET");
    assert_not_contains(json, "whsec");
    struct runmeta m;
    assert_int_equal(runmeta_parse(json, &m), 0);
    free(json);
    assert_int_equal(m.targets.acknowledge_ms, 15 * MIN);
    assert_int_equal(m.targets.first_update_ms, 5 * MIN);
    assert_int_equal(m.targets.update_interval_ms, 30 * MIN);
    assert_int_equal(m.targets.resolve_ms, 4 * HOUR);
    assert_int_equal(m.nchannels, 3);
    assert_string_equal(m.channels[1].name, "leaders");
    assert_string_equal(m.channels[1].type, "teams");
    assert_int_equal(m.channels[2].audience, AUDIENCE_EXTERNAL);
    assert_int_equal(m.channels[2].endpoints, 2);
    assert_int_equal(m.nsteps, 5);
    assert_string_equal(m.steps[0].timing, "at 0s");
    assert_string_equal(m.steps[2].timing, "on escalation");
    assert_string_equal(m.steps[3].timing, "every 30m from 30m until resolved");
    assert_int_equal(m.steps[4].nnotify, 3);
    assert_string_equal(m.steps[4].notify[2], "customers");
    assert_true(m.feedback);
    assert_int_equal(m.feedback_window_ms, 72 * HOUR);
    assert_int_equal(m.nquestions, 3);
    assert_int_equal(runmeta_question(&m, "informed")->scale, 5);
    assert_int_equal(runmeta_question(&m, "better")->scale, 0);
    assert_null(runmeta_question(&m, "nope"));
    assert_int_equal(runmeta_channel(&m, "customers")->audience, AUDIENCE_EXTERNAL);
    runmeta_release(&m);

    /* No metadata: nothing known, nothing promised. */
    assert_int_equal(runmeta_parse(NULL, &m), 0);
    assert_int_equal(m.targets.acknowledge_ms, -1);
    assert_int_equal(m.nchannels, 0);
    assert_false(m.feedback);
    runmeta_release(&m);

    /* Unset targets are null; the parser refuses wrong types. */
    assert_int_equal(runmeta_parse("{\"targets\":{\"acknowledge\":null},\"feedback\":null}", &m),
                     0);
    assert_int_equal(m.targets.acknowledge_ms, -1);
    runmeta_release(&m);
    static const char *const bad[] = {
        "not json", "[]", "{\"targets\":{\"resolve\":\"4h\"}}",
        "{\"channels\":[{\"name\":\"x\",\"audience\":\"everyone\"}]}",
        "{\"feedback\":{\"questions\":[{\"id\":\"q\",\"scale\":11}]}}",
        "{\"steps\":[{\"timing\":\"at 0s\"}]}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        capture_begin();
        int ret = runmeta_parse(bad[i], &m);
        char *err = capture_end();
        assert_int_equal(ret, -1);
        assert_contains(err, "invalid run metadata");
        assert_int_equal(m.nchannels + m.nsteps + m.nquestions, 0);
        free(err);
        runmeta_release(&m);
    }
}

/* The journal keeps the metadata with the run. */
static void test_meta_in_journal(void **state)
{
    struct fixture *f = *state;
    struct journal_run r;
    assert_int_equal(journal_run_get(f->j, f->run, &r), 0);
    assert_non_null(r.meta_json);
    assert_contains(r.meta_json, "\"update_interval\":1800000");
    journal_run_release(&r);
}

/* ---- the figures ---------------------------------------------------------------- */

static const struct report_comm *channel(const struct report *r, const char *name)
{
    for (size_t i = 0; i < r->nchannels; i++)
        if (!strcmp(r->channels[i].name, name))
            return &r->channels[i];
    fail_msg("no channel '%s'", name);
    return NULL;
}

static const struct report_occurrence *occurrence(const struct report *r, const char *step,
                                                  int occ)
{
    for (size_t i = 0; i < r->noccurrences; i++)
        if (!strcmp(r->occurrences[i].step, step) && r->occurrences[i].occurrence == occ)
            return &r->occurrences[i];
    fail_msg("no occurrence %s #%d", step, occ);
    return NULL;
}

static void assert_comm(const struct report_comm *c, int updates, int64_t first, int on_time,
                        int gaps, double share, int64_t silence, int64_t p50, int64_t p95,
                        int notifications, int ok, int failed, int retries)
{
    assert_int_equal(c->updates, updates);
    assert_int_equal(c->delivered_updates, gaps);
    assert_int_equal(c->first_update_ms, first);
    assert_int_equal(c->on_time, on_time);
    assert_int_equal(c->gaps, gaps);
    assert_float_equal(c->on_time_share, share, 1e-9);
    assert_int_equal(c->longest_silence_ms, silence);
    assert_int_equal(c->latency_p50_ms, p50);
    assert_int_equal(c->latency_p95_ms, p95);
    assert_int_equal(c->notifications, notifications);
    assert_int_equal(c->delivered, ok);
    assert_int_equal(c->failed, failed);
    assert_int_equal(c->retries, retries);
}

static void test_summary_and_targets(void **state)
{
    struct fixture *f = *state;
    struct report *r = report_build(f->j, f->run);
    assert_non_null(r);
    assert_string_equal(r->run_id, f->run);
    assert_string_equal(r->playbook, "database-outage");
    assert_string_equal(r->severity, "sev1");
    assert_false(r->drill);
    assert_int_equal(r->state, RUN_STATE_RESOLVED);
    assert_int_equal(r->status, STATUS_RESOLVED);
    assert_int_equal(r->resolved_ms, T0 + 75 * MIN);
    assert_int_equal(r->duration_ms, 75 * MIN);
    assert_string_equal(r->acknowledged_by, "alice");

    /* Acknowledged at 12m, promised 15m: met. */
    assert_int_equal(r->targets[TARGET_ACKNOWLEDGE].target_ms, 15 * MIN);
    assert_int_equal(r->targets[TARGET_ACKNOWLEDGE].actual_ms, 12 * MIN);
    assert_int_equal(r->targets[TARGET_ACKNOWLEDGE].met, 1);
    /* First deliveries: oncall 1s, customers 2s, leaders 11m31s (only the
     * escalation tells them).  Everyone had heard at max = 11m31s > 5m. */
    assert_int_equal(r->targets[TARGET_FIRST_UPDATE].target_ms, 5 * MIN);
    assert_int_equal(r->targets[TARGET_FIRST_UPDATE].actual_ms, 691 * SEC);
    assert_int_equal(r->targets[TARGET_FIRST_UPDATE].met, 0);
    /* Resolved at 1h15m, promised 4h. */
    assert_int_equal(r->targets[TARGET_RESOLVE].actual_ms, 75 * MIN);
    assert_int_equal(r->targets[TARGET_RESOLVE].met, 1);

    /* Status: investigating 0-20m, identified 20m-40m, monitoring 40m-1h15m,
     * resolved from 1h15m. */
    assert_int_equal(r->nperiods, 4);
    static const struct report_period want[] = {
        {STATUS_INVESTIGATING, 0, 20 * MIN},
        {STATUS_IDENTIFIED, 20 * MIN, 40 * MIN},
        {STATUS_MONITORING, 40 * MIN, 75 * MIN},
        {STATUS_RESOLVED, 75 * MIN, -1},
    };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(r->periods[i].status, want[i].status);
        assert_int_equal(r->periods[i].start_ms, want[i].start_ms);
        assert_int_equal(r->periods[i].end_ms, want[i].end_ms);
    }
    report_free(r);
}

static void test_steps_and_escalations(void **state)
{
    struct fixture *f = *state;
    struct report *r = report_build(f->j, f->run);
    assert_non_null(r);
    /* 6 step occurrences and the feedback request, in time order. */
    assert_int_equal(r->noccurrences, 7);
    assert_string_equal(r->occurrences[0].step, "declare");
    assert_string_equal(r->occurrences[1].step, "page-db");
    for (size_t i = 1; i < r->noccurrences; i++)
        assert_true(r->occurrences[i - 1].actual_ms <= r->occurrences[i].actual_ms);

    const struct report_occurrence *o = occurrence(r, "page-db", 1);
    assert_int_equal(o->scheduled_ms, 1 * MIN);
    assert_int_equal(o->actual_ms, 90 * SEC);
    assert_int_equal(o->late_ms, 30 * SEC);
    assert_true(o->late);
    o = occurrence(r, "public-update", 2);
    assert_int_equal(o->late_ms, 5 * SEC); /* measured even when not flagged */
    assert_false(o->late);
    assert_int_equal(o->nchannels, 1);
    assert_int_equal(o->channels[0].endpoints, 2);
    assert_int_equal(o->channels[0].delivered, 1);
    assert_int_equal(o->channels[0].failed, 1); /* disabled counts as failed */

    /* declare: customers fan-out, one retry. */
    o = occurrence(r, "declare", 1);
    assert_int_equal(o->nchannels, 2);
    const struct report_delivery *d =
        !strcmp(o->channels[0].channel, "customers") ? &o->channels[0] : &o->channels[1];
    assert_string_equal(d->channel, "customers");
    assert_int_equal(d->endpoints, 2);
    assert_int_equal(d->delivered, 2);
    assert_int_equal(d->attempts, 3);
    assert_int_equal(d->retries, 1);
    o = occurrence(r, "public-update", 1);
    assert_int_equal(o->channels[0].failed, 1);
    assert_int_equal(o->channels[0].pending, 0);
    o = occurrence(r, REPORT_FEEDBACK_STEP, 1);
    assert_false(o->fired);
    assert_int_equal(o->scheduled_ms, -1);

    /* page-db waited from 1m30s; escalated at 11m30s after 10m. */
    assert_int_equal(r->nescalations, 1);
    assert_string_equal(r->escalations[0].step, "page-db");
    assert_int_equal(r->escalations[0].occurrence, 1);
    assert_string_equal(r->escalations[0].escalation, "escalate-db");
    assert_int_equal(r->escalations[0].since_ms, 90 * SEC);
    assert_int_equal(r->escalations[0].escalated_ms, 690 * SEC);
    assert_int_equal(r->escalations[0].waited_ms, 10 * MIN);

    assert_int_equal(r->nnotes, 2);
    assert_int_equal(r->nactions, 1);
    assert_int_equal(r->notes[0].at_ms, 25 * MIN);
    assert_string_equal(r->notes[0].author, "bob");
    assert_true(r->notes[0].action);
    assert_int_equal(r->notes[0].nnotify, 1);
    assert_string_equal(r->notes[0].notify[0], "oncall");
    assert_false(r->notes[1].action);
    report_free(r);
}

static void test_communication(void **state)
{
    struct fixture *f = *state;
    struct report *r = report_build(f->j, f->run);
    assert_non_null(r);
    assert_int_equal(r->update_interval_ms, 30 * MIN);

    /* oncall: updates declare, page-db, all-clear (the feedback request is
     * not one).  First deliveries at 1s, 1m31s, 1h15m1s.  Gaps from the
     * start: 1s, 1m30s (both <= 30m), 1h13m30s (late): 2 of 3 = 0.6667.
     * Longest silence 1h13m30s (the last update follows the resolution, so
     * no trailing gap).  Latencies 200, 100, 250 -> sorted 100 200 250:
     * p50 = rank ceil(1.5) = 2 -> 200; p95 = rank ceil(2.85) = 3 -> 250. */
    assert_comm(channel(r, "oncall"), 3, 1 * SEC, 2, 3, 0.6667, 4410 * SEC, 200, 250, 3, 3, 0,
                0);
    /* leaders: escalate-db at 11m31s, all-clear at 1h15m2s.  Gaps 11m31s
     * (on time), 1h3m31s (late): 1 of 2.  Latencies 500, 350 -> p50 rank 1
     * = 350, p95 rank 2 = 500. */
    assert_comm(channel(r, "leaders"), 2, 691 * SEC, 1, 2, 0.5, 3811 * SEC, 350, 500, 2, 2, 0,
                0);
    /* customers: declare 2s, public-update 30m1s and 1h0m6s, all-clear
     * 1h15m3s.  Gaps 2s, 29m59s, 30m5s (late by 5s), 14m57s: 3 of 4.
     * Longest 30m5s.  8 notifications (2 endpoints x 4): 5 delivered, 1
     * failed (410) and 2 disabled = 3 failed; 1 retry.  Delivered latencies
     * 400, 300 (the attempt that delivered), 600, 700, 800 -> sorted 300 400
     * 600 700 800: p50 rank 3 = 600, p95 rank ceil(4.75) = 5 -> 800. */
    assert_comm(channel(r, "customers"), 4, 2 * SEC, 3, 4, 0.75, 1805 * SEC, 600, 800, 8, 5, 3,
                1);
    assert_int_equal(channel(r, "customers")->endpoints, 2);
    assert_string_equal(channel(r, "customers")->type, "webhook");

    /* internal = oncall + leaders, an occurrence counted once at its
     * earliest delivery: declare 1s, page-db 1m31s, escalate-db 11m31s,
     * all-clear 1h15m1s.  Gaps 1s, 1m30s, 10m, 1h3m30s: 3 of 4.
     * Latencies 100 200 250 350 500: p50 rank 3 = 250, p95 rank 5 = 500. */
    assert_true(r->has_audience[AUDIENCE_INTERNAL]);
    assert_comm(&r->audiences[AUDIENCE_INTERNAL], 4, 1 * SEC, 3, 4, 0.75, 3810 * SEC, 250, 500,
                5, 5, 0, 0);
    /* external = customers alone. */
    assert_comm(&r->audiences[AUDIENCE_EXTERNAL], 4, 2 * SEC, 3, 4, 0.75, 1805 * SEC, 600, 800,
                8, 5, 3, 1);
    report_free(r);
}

static void assert_question(const struct report_question *q, const char *id, int answers,
                            double mean, const int dist[6], double top)
{
    assert_string_equal(q->id, id);
    assert_int_equal(q->scale, 5);
    assert_int_equal(q->answers, answers);
    assert_float_equal(q->mean, mean, 1e-9);
    for (int v = 1; v <= 5; v++)
        assert_int_equal(q->dist[v], dist[v]);
    assert_float_equal(q->top_share, top, 1e-9);
}

static void test_feedback_figures(void **state)
{
    struct fixture *f = *state;
    struct report *r = report_build(f->j, f->run);
    assert_non_null(r);
    assert_true(r->feedback);
    assert_int_equal(r->feedback_window_ms, 72 * HOUR);
    /*
     * carol (internal, oncall):  informed 5, speed 4, better "More updates please"
     * anonymous (external):      informed 2, speed 3, comment XSS
     * dave (external):           informed 4, speed 5
     * erin (internal):           informed 3, comment "ok"
     */
    const struct report_feedback_group *all = &r->groups[0];
    assert_string_equal(all->audience, "all");
    assert_int_equal(all->responses, 4);
    assert_int_equal(all->nquestions, 2); /* the text question has no figures */
    /* informed 5 2 4 3: mean 3.5; one each of 2..5; 4-5: 2 of 4. */
    assert_question(&all->questions[0], "informed", 4, 3.5, (int[]){0, 0, 1, 1, 1, 1}, 0.5);
    /* speed 4 3 5: mean 4; 4-5: 2 of 3 = 0.6667. */
    assert_question(&all->questions[1], "speed", 3, 4.0, (int[]){0, 0, 0, 1, 1, 1}, 0.6667);
    assert_int_equal(all->ncomments, 3);
    assert_string_equal(all->comments[0].question, "better");
    assert_string_equal(all->comments[0].text, "More updates please");
    assert_string_equal(all->comments[0].respondent, "carol");
    assert_int_equal(all->comments[0].at_ms, 2 * HOUR);
    assert_null(all->comments[1].question);
    assert_string_equal(all->comments[1].text, XSS);
    assert_null(all->comments[1].respondent); /* anonymous */
    assert_string_equal(all->comments[1].channel, "customers");
    assert_string_equal(all->comments[2].text, "ok");

    const struct report_feedback_group *in = &r->groups[1], *ex = &r->groups[2];
    assert_string_equal(in->audience, "internal");
    assert_int_equal(in->responses, 2);
    /* internal informed 5 3: mean 4, 4-5: 1 of 2; speed 4: mean 4, 1 of 1. */
    assert_question(&in->questions[0], "informed", 2, 4.0, (int[]){0, 0, 0, 1, 0, 1}, 0.5);
    assert_question(&in->questions[1], "speed", 1, 4.0, (int[]){0, 0, 0, 0, 1, 0}, 1.0);
    assert_string_equal(ex->audience, "external");
    assert_int_equal(ex->responses, 2);
    /* external informed 2 4: mean 3, 1 of 2; speed 3 5: mean 4, 1 of 2. */
    assert_question(&ex->questions[0], "informed", 2, 3.0, (int[]){0, 0, 1, 0, 1, 0}, 0.5);
    assert_question(&ex->questions[1], "speed", 2, 4.0, (int[]){0, 0, 0, 1, 0, 1}, 0.5);
    assert_int_equal(ex->ncomments, 1);
    report_free(r);
}

/* ---- the three formats ----------------------------------------------------------- */

static char *render(const struct report *r, enum report_format fmt)
{
    struct strbuf sb = STRBUF_INIT;
    report_render(r, fmt, &sb);
    return strbuf_detach(&sb, NULL);
}

/* How a renderer shows the JSON number under key. */
static void figure(const char *key, json_t *v, char *buf, size_t size)
{
    size_t len = strlen(key);
    if (len > 3 && !strcmp(key + len - 3, "_ms"))
        report_fmt_duration(json_integer_value(v), buf, size);
    else if (strstr(key, "share"))
        report_fmt_share(json_number_value(v), buf, size);
    else if (!strcmp(key, "mean"))
        report_fmt_mean(json_number_value(v), buf, size);
    else
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
}

/* Every number in the JSON appears, as the renderers format it, in md and html. */
static void check_numbers(json_t *v, const char *key, const char *md, const char *html,
                          int *count)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m)
            check_numbers(m, k, md, html, count);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
            check_numbers(m, key, md, html, count);
    } else if (json_is_number(v)) {
        char buf[64];
        figure(key, v, buf, sizeof(buf));
        if (!strstr(md, buf))
            fail_msg("%s = %s is not in the Markdown report", key, buf);
        if (!strstr(html, buf))
            fail_msg("%s = %s is not in the HTML report", key, buf);
        (*count)++;
    }
}

static void test_formats_agree(void **state)
{
    struct fixture *f = *state;
    struct report *r = report_build(f->j, f->run);
    assert_non_null(r);
    char *json = render(r, REPORT_JSON), *md = render(r, REPORT_MARKDOWN),
         *html = render(r, REPORT_HTML);
    json_error_t err;
    json_t *root = json_loads(json, 0, &err);
    if (!root)
        fail_msg("invalid JSON: %s", err.text);
    int count = 0;
    check_numbers(root, "", md, html, &count);
    assert_true(count > 150);

    /* Spot checks of the distinctive figures in all three. */
    json_t *comm = json_object_get(root, "communication");
    json_t *oncall = json_array_get(json_object_get(comm, "channels"), 0);
    assert_string_equal(json_string_value(json_object_get(oncall, "name")), "oncall");
    assert_float_equal(json_real_value(json_object_get(oncall, "on_time_share")), 0.6667, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(oncall, "longest_silence_ms")),
                     4410 * SEC);
    json_t *fu = json_object_get(json_object_get(root, "targets"), "first_update");
    assert_int_equal(json_integer_value(json_object_get(fu, "actual_ms")), 691 * SEC);
    assert_true(json_is_false(json_object_get(fu, "met")));
    for (const char *const *s = (const char *const[]){"66.7%", "1h13m30s", "11m31s", "3.50",
                                                       "30m5s", NULL};
         *s; s++) {
        assert_contains(md, *s);
        assert_contains(html, *s);
    }
    assert_contains(json, "\"on_time_share\": 0.6667");
    assert_contains(json, "\"mean\": 3.5");
    assert_contains(json, "\"started\": \"2025-11-26T14:35:00.000Z\"");

    json_decref(root);
    free(json);
    free(md);
    free(html);
    report_free(r);
}

/* A notification of step "extra" whose one attempt ended at off, settling
 * it in state (or leaving it pending, for a retry). */
static void ended_with(struct journal *j, const char *run, const char *channel, int occ,
                       int idx, const char *url, int64_t off, int http, const char *error,
                       enum journal_delivery_state state)
{
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    notif(j, run, "extra", occ, channel, idx, url, off, id);
    struct journal_attempt a = {.number = 1,
                                .started_ms = T0 + off - 10,
                                .finished_ms = T0 + off,
                                .http_status = http,
                                .latency_ms = 10,
                                .outcome = state ? ATTEMPT_FAILED : ATTEMPT_RETRY,
                                .error = (char *)error,
                                .settles = state};
    memcpy(a.notification_id, id, sizeof(a.notification_id));
    assert_int_equal(journal_attempt_add(j, &a), 0);
}

/* ... to oncall, failed for good. */
static void failed_with(struct journal *j, const char *run, int occ, int idx,
                        const char *url, int64_t off, int http, const char *error)
{
    ended_with(j, run, "oncall", occ, idx, url, off, http, error, DELIVERY_FAILED);
}

static void assert_failure(const struct report_failure *f, const char *channel,
                           enum journal_delivery_state state, const char *reason,
                           int notifications, int endpoints, int64_t first_ms)
{
    char why[512];
    assert_string_equal(f->channel, channel);
    assert_int_equal(f->state, state);
    assert_string_equal(report_failure_reason(f, why, sizeof(why)), reason);
    assert_int_equal(f->notifications, notifications);
    assert_int_equal(f->endpoints, endpoints);
    assert_int_equal(f->first_ms, first_ms);
}

static void test_failed_deliveries(void **state)
{
    struct fixture *f = *state;
    struct report *r = report_build(f->j, f->run);
    assert_non_null(r);
    /* customers/1: 410 at 30m0.15s, then disabled twice (1h0m5s, 1h15m). */
    assert_int_equal(r->nfailures, 2);
    assert_failure(&r->failures[0], "customers", DELIVERY_DISABLED,
                   "not delivered: the endpoint had answered 410 and was disabled", 2, 1,
                   HOUR + 5 * SEC);
    assert_failure(
        &r->failures[1], "customers", DELIVERY_FAILED,
        "HTTP 410: the endpoint is gone and was disabled for the rest of the run", 1, 1,
        30 * MIN + 150);
    assert_int_equal(r->failures[1].nhosts, 1);
    assert_string_equal(r->failures[1].hosts[0], "partner.example.net");
    report_free(r);

    /* oncall: timeouts that differ only in their figures are one group;
     * other errors, and other hosts' refusals, are not. */
    static const char *const urls[] = {
        "https://a.example.org/h/SECRET1", "https://b.example.org/h/SECRET2",
        "https://c.example.org/h/SECRET3", "https://d.example.org/h/SECRET4",
        "https://e.example.org/h/SECRET5", "https://f.example.org/h/SECRET6"};
    assert_int_equal(journal_begin(f->j), 0);
    failed_with(f->j, f->run, 1, 1, urls[0], 2 * HOUR, 0,
                "Operation timed out after 10001 milliseconds with 0 bytes received");
    failed_with(f->j, f->run, 1, 2, urls[1], 2 * HOUR + 1 * SEC, 0,
                "Operation timed out after 10002 milliseconds with 0 bytes received");
    failed_with(f->j, f->run, 2, 1, urls[0], 2 * HOUR + 5 * SEC, 0,
                "Operation timed out after 9998 milliseconds with 12 bytes received");
    failed_with(f->j, f->run, 1, 3, urls[2], 2 * HOUR + 2 * SEC, 0,
                "Failed to connect to c.example.org port 443: Connection refused");
    failed_with(f->j, f->run, 2, 2, urls[1], 2 * HOUR + 6 * SEC, 0,
                "Failed to connect to b.example.org port 443: Connection refused");
    failed_with(f->j, f->run, 1, 4, urls[3], 2 * HOUR + 3 * SEC, 0,
                "cannot use https://d.example.org/h/SECRET4 now");
    failed_with(f->j, f->run, 1, 5, urls[4], 2 * HOUR + 4 * SEC, 503, "HTTP 503");
    /* Slack's 200 without "ok": the error, not a bare success code. */
    failed_with(f->j, f->run, 1, 6, urls[5], 2 * HOUR + 7 * SEC, 200,
                "HTTP 200 without the service's confirmation");
    assert_int_equal(journal_commit(f->j), 0);

    r = report_build(f->j, f->run);
    assert_non_null(r);
    assert_int_equal(r->nfailures, 8); /* oncall's six first: playbook order */
    assert_failure(&r->failures[0], "oncall", DELIVERY_FAILED,
                   "Operation timed out after 10001 milliseconds with 0 bytes received",
                   3, 2, 2 * HOUR);
    assert_int_equal(r->failures[0].nhosts, 2);
    assert_string_equal(r->failures[0].hosts[0], "a.example.org");
    assert_string_equal(r->failures[0].hosts[1], "b.example.org");
    assert_failure(&r->failures[1], "oncall", DELIVERY_FAILED,
                   "Failed to connect to c.example.org port 443: Connection refused", 1,
                   1, 2 * HOUR + 2 * SEC);
    assert_failure(&r->failures[2], "oncall", DELIVERY_FAILED,
                   "cannot use https://d.example.org/\xe2\x80\xa6 now", 1, 1,
                   2 * HOUR + 3 * SEC);
    assert_failure(&r->failures[3], "oncall", DELIVERY_FAILED, "HTTP 503", 1, 1,
                   2 * HOUR + 4 * SEC);
    assert_failure(&r->failures[4], "oncall", DELIVERY_FAILED,
                   "Failed to connect to b.example.org port 443: Connection refused", 1,
                   1, 2 * HOUR + 6 * SEC);
    assert_failure(&r->failures[5], "oncall", DELIVERY_FAILED,
                   "HTTP 200 without the service's confirmation", 1, 1,
                   2 * HOUR + 7 * SEC);
    assert_string_equal(r->failures[6].channel, "customers");

    char *out[3] = {render(r, REPORT_JSON), render(r, REPORT_MARKDOWN),
                    render(r, REPORT_HTML)};
    for (int i = 0; i < 3; i++) {
        assert_contains(out[i], "Failed to connect to c.example.org port 443");
        assert_contains(out[i], "HTTP 410: the endpoint is gone");
        assert_contains(out[i], "HTTP 200 without the service");
        assert_null(strstr(out[i], "SECRET"));
        free(out[i]);
    }
    report_free(r);
}

/*
 * What makes a failure group: figures of time and size do not, hosts,
 * addresses and ports do; a disabled notification's old answer does not.
 * Enough groups to outgrow the first hash table.
 */
static void test_failure_groups(void **state)
{
    struct fixture *f = *state;
    char url[64], error[96];
    assert_int_equal(journal_begin(f->j), 0);
    failed_with(f->j, f->run, 1, 1, "http://10.0.0.1/x", 2 * HOUR, 0,
                "Failed to connect to 10.0.0.1 port 443 after 3 ms: Connection refused");
    failed_with(f->j, f->run, 1, 2, "http://10.0.0.2/x", 2 * HOUR + 1, 0,
                "Failed to connect to 10.0.0.2 port 443 after 3 ms: Connection refused");
    failed_with(f->j, f->run, 2, 1, "http://10.0.0.1/x", 2 * HOUR + 2, 0,
                "Failed to connect to 10.0.0.1 port 443 after 12 ms: Connection refused");
    failed_with(f->j, f->run, 1, 3, "http://10.0.0.1:8443/x", 2 * HOUR + 3, 0,
                "Failed to connect to 10.0.0.1 port 8443 after 3 ms: Connection refused");
    failed_with(f->j, f->run, 1, 4, "http://10.0.0.4/x", 2 * HOUR + 4, 0, NULL);
    failed_with(f->j, f->run, 1, 5, "http://10.0.0.5/x", 2 * HOUR + 5, 0,
                "<b>bold</b> | pipe");
    failed_with(f->j, f->run, 1, 6, "http://10.0.0.6/x", 2 * HOUR + 6, 0,
                "bad \xff byte");
    /* Errors that read the same once redacted are one group. */
    failed_with(f->j, f->run, 1, 7, "http://10.0.0.7/a", 2 * HOUR + 7, 0,
                "cannot use http://10.0.0.7/a/SECRET7 now");
    failed_with(f->j, f->run, 1, 8, "http://10.0.0.7/b", 2 * HOUR + 8, 0,
                "cannot use http://10.0.0.7/b/SECRET8 now");
    /* The same size and time: in the error's order, not the journal's. */
    failed_with(f->j, f->run, 1, 9, "http://10.0.0.9/x", 2 * HOUR + 9, 0, "zzz");
    failed_with(f->j, f->run, 1, 10, "http://10.0.0.9/y", 2 * HOUR + 9, 0, "aaa");
    /* customers/0 answered 503, and was disabled before its retry. */
    ended_with(f->j, f->run, "customers", 1, 0, URL_CUST0, 2 * HOUR, 503, "HTTP 503",
               DELIVERY_PENDING);
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    struct journal_notification_new nn = {.run_id = f->run,
                                          .step = "extra",
                                          .occurrence = 1,
                                          .channel = "customers",
                                          .endpoint_index = 0,
                                          .endpoint_url = URL_CUST0,
                                          .body = "{}"};
    journal_notification_id(&nn, id);
    assert_int_equal(journal_notification_set_state(f->j, id, DELIVERY_DISABLED,
                                                    T0 + 2 * HOUR + SEC, 0),
                     0);
    /* 70 groups: the table grows at 33 and at 65; h1 and h70 are found
     * again after that. */
    for (int occ = 1; occ <= 2; occ++)
        for (int i = 1; i <= 70; i += occ == 1 ? 1 : 69) {
            snprintf(url, sizeof(url), "https://h%d.example/SECRET", i);
            snprintf(error, sizeof(error), "Could not resolve host: h%d.example", i);
            ended_with(f->j, f->run, "leaders", occ, i, url,
                       occ == 1 ? 3 * HOUR + i * SEC : 4 * HOUR, 0, error,
                       DELIVERY_FAILED);
        }
    assert_int_equal(journal_commit(f->j), 0);

    struct report *r = report_build(f->j, f->run);
    assert_non_null(r);
    assert_int_equal(r->nfailures, 9 + 70 + 2);
    const struct report_failure *g = r->failures;
    /* oncall: the two groups of two, then the others in time. */
    assert_failure(
        &g[0], "oncall", DELIVERY_FAILED,
        "Failed to connect to 10.0.0.1 port 443 after 3 ms: Connection refused", 2, 1,
        2 * HOUR);
    assert_failure(&g[1], "oncall", DELIVERY_FAILED,
                   "cannot use http://10.0.0.7/\xe2\x80\xa6 now", 2, 2, 2 * HOUR + 7);
    assert_int_equal(g[1].nhosts, 1);
    assert_failure(
        &g[2], "oncall", DELIVERY_FAILED,
        "Failed to connect to 10.0.0.2 port 443 after 3 ms: Connection refused", 1, 1,
        2 * HOUR + 1);
    assert_failure(
        &g[3], "oncall", DELIVERY_FAILED,
        "Failed to connect to 10.0.0.1 port 8443 after 3 ms: Connection refused", 1, 1,
        2 * HOUR + 3);
    assert_string_equal(g[3].hosts[0], "10.0.0.1:8443");
    assert_failure(&g[4], "oncall", DELIVERY_FAILED, "no answer was recorded", 1, 1,
                   2 * HOUR + 4);
    assert_failure(&g[5], "oncall", DELIVERY_FAILED, "<b>bold</b> | pipe", 1, 1,
                   2 * HOUR + 5);
    /* Not UTF-8: cleaned, or the JSON would lose the group. */
    assert_failure(&g[6], "oncall", DELIVERY_FAILED, "bad \xef\xbf\xbd byte", 1, 1,
                   2 * HOUR + 6);
    assert_failure(&g[7], "oncall", DELIVERY_FAILED, "aaa", 1, 1, 2 * HOUR + 9);
    assert_failure(&g[8], "oncall", DELIVERY_FAILED, "zzz", 1, 1, 2 * HOUR + 9);
    /* leaders: h1 and h70 twice, then h2 to h69. */
    assert_failure(&g[9], "leaders", DELIVERY_FAILED,
                   "Could not resolve host: h1.example", 2, 1, 3 * HOUR + SEC);
    assert_failure(&g[10], "leaders", DELIVERY_FAILED,
                   "Could not resolve host: h70.example", 2, 1, 3 * HOUR + 70 * SEC);
    for (int i = 2; i <= 69; i++) {
        snprintf(error, sizeof(error), "Could not resolve host: h%d.example", i);
        assert_failure(&g[9 + i], "leaders", DELIVERY_FAILED, error, 1, 1,
                       3 * HOUR + i * SEC);
    }
    /* The 503 does not make a group of its own: the 410 stopped it. */
    g += 79;
    assert_failure(&g[0], "customers", DELIVERY_DISABLED,
                   "not delivered: the endpoint had answered 410 and was disabled", 3, 2,
                   HOUR + 5 * SEC);
    assert_int_equal(g[0].http_status, 0);
    assert_null(g[0].error);
    assert_int_equal(g[0].nhosts, 2);
    assert_string_equal(g[0].hosts[1], "status.example.com");
    assert_int_equal(g[1].http_status, 410);

    char *json = render(r, REPORT_JSON);
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    assert_int_equal(json_array_size(json_object_get(root, "failed_deliveries")),
                     r->nfailures);
    json_decref(root);
    char *md = render(r, REPORT_MARKDOWN), *html = render(r, REPORT_HTML);
    assert_contains(md, "&lt;b&gt;bold&lt;/b&gt; \\| pipe");
    assert_contains(html, "&lt;b&gt;bold&lt;/b&gt; | pipe");
    assert_not_contains(md, "<b>");
    assert_not_contains(html, "<b>");
    for (char **s = (char *[]){json, md, html, NULL}; *s; s++)
        assert_not_contains(*s, "SECRET");
    free(json);
    free(md);
    free(html);
    report_free(r);
}

static void test_user_text_is_inert(void **state)
{
    struct fixture *f = *state;
    struct report *r = report_build(f->j, f->run);
    assert_non_null(r);
    char *json = render(r, REPORT_JSON), *md = render(r, REPORT_MARKDOWN),
         *html = render(r, REPORT_HTML);

    /* HTML: escaped text, no script at all, no external request. */
    assert_not_contains(html, "<script");
    assert_contains(html, "Replica lag &lt;script&gt;alert(1)&lt;/script&gt; *_[]()#|");
    assert_not_contains(html, "http://");
    assert_not_contains(html, "https://");
    assert_not_contains(html, " src=");
    assert_not_contains(html, " href=");
    assert_not_contains(html, "<link");
    assert_contains(html, "@media print");
    assert_contains(html, "<svg");

    /* Markdown: no tag survives; control characters are escaped. */
    assert_not_contains(md, "<script");
    assert_contains(md, "Replica lag &lt;script&gt;alert\\(1\\)&lt;/script&gt; "
                        "\\*\\_\\[\\]\\(\\)\\#\\|");

    /* JSON: the text as written, jansson-encoded. */
    json_t *root = json_loads(json, 0, NULL);
    json_t *note = json_array_get(json_object_get(root, "notes"), 0);
    assert_string_equal(json_string_value(json_object_get(note, "text")), "Replica lag " XSS);
    json_decref(root);

    /* No format reveals an endpoint. */
    for (char **s = (char *[]){json, md, html, NULL}; *s; s++) {
        assert_not_contains(*s, "SECRET");
        assert_not_contains(*s, "hooks.slack.com");
        assert_not_contains(*s, "DRILL");
    }
    free(json);
    free(md);
    free(html);
    report_free(r);
}

static void test_drill_is_labelled(void **state)
{
    struct fixture *f = *state;
    char *meta = fixture_meta();
    struct journal_run run;
    assert_int_equal(fixture_run(f->j, &run, 1, meta), 0);
    free(meta);
    struct report *r = report_build(f->j, run.id);
    assert_non_null(r);
    assert_true(r->drill);
    char *json = render(r, REPORT_JSON), *md = render(r, REPORT_MARKDOWN),
         *html = render(r, REPORT_HTML);
    assert_contains(md, "# Post-incident report: [DRILL] ");
    assert_contains(md, "timings are virtual");
    assert_contains(html, "<title>[DRILL] ");
    assert_contains(html, "class=\"drill\"");
    assert_contains(json, "\"drill\": true");
    /* Still running, nothing happened: targets are pending, not missed. */
    assert_int_equal(r->targets[TARGET_ACKNOWLEDGE].met, -1);
    assert_int_equal(r->targets[TARGET_RESOLVE].met, -1);
    assert_int_equal(r->duration_ms, -1);
    assert_int_equal(r->nperiods, 1);
    assert_int_equal(r->periods[0].end_ms, -1);
    free(json);
    free(md);
    free(html);
    report_free(r);
}

/* The fixture's run, started at started_ms instead of T0. */
static void run_started_at(struct journal *j, struct journal_run *run, const char *meta,
                           int64_t started_ms)
{
    memset(run, 0, sizeof(*run));
    run->playbook_name = "database-outage";
    run->title = "Checkout database outage";
    run->playbook_path = "/srv/playbooks/db.yaml";
    run->playbook_text = "crisisrun: 1\nname: database-outage\n";
    run->meta_json = (char *)meta;
    run->speed = 1;
    run->started_ms = started_ms;
    assert_int_equal(journal_run_create(j, run), 0);
}

/* Renders r in every format and checks each target's verdict. */
static void check_verdicts(const struct report *r, const char *const want[TARGET_COUNT])
{
    static const char *const titles[TARGET_COUNT] = {
        "Time to acknowledge", "Time to first update", "Time to resolve"};
    static const char *const promises[TARGET_COUNT] = {"15m", "5m", "4h"};
    char *md = render(r, REPORT_MARKDOWN), *html = render(r, REPORT_HTML),
         *json = render(r, REPORT_JSON);
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    for (int k = 0; k < TARGET_COUNT; k++) {
        char row[256];
        const char *md_word = !strcmp(want[k], "pending")  ? "pending"
                              : !strcmp(want[k], "missed") ? "**missed**"
                                                           : "**met**";
        snprintf(row, sizeof(row), "| %s | %s | not reached | %s |", titles[k],
                 promises[k], md_word);
        assert_contains(md, row);
        snprintf(row, sizeof(row),
                 "<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">not "
                 "reached</td><td>%s",
                 titles[k], promises[k],
                 !strcmp(want[k], "pending") ? "pending"
                                             : "<span class=\"missed\">missed");
        assert_contains(html, row);
        json_t *met = json_object_get(
            json_object_get(json_object_get(root, "targets"),
                            report_target_name((enum report_target_kind)k)),
            "met");
        assert_non_null(met);
        if (!strcmp(want[k], "pending"))
            assert_true(json_is_null(met));
        else
            assert_true(json_is_false(met));
    }
    json_decref(root);
    free(md);
    free(html);
    free(json);
}

/*
 * An interrupted or failed run can be resumed, and its clock runs on while
 * it is down: what has not happened is missed once the promised time has
 * passed on that clock, pending before.  A resolved run's unmet targets
 * are missed.
 */
static void test_interrupted_targets(void **state)
{
    struct fixture *f = *state;
    char *meta = fixture_meta(); /* acknowledge 15m, first update 5m, resolve 4h */
    int64_t now = wallclock_ms();
    struct journal_run run;
    struct report *r;

    /* Started 10 minutes ago, interrupted at once: only the 5m promise
     * has passed. */
    run_started_at(f->j, &run, meta, now - 10 * MIN);
    assert_int_equal(journal_run_set_state(f->j, run.id, RUN_STATE_INTERRUPTED, now), 0);
    assert_non_null(r = report_build(f->j, run.id));
    check_verdicts(r, (const char *const[]){"pending", "missed", "pending"});
    report_free(r);

    /* Interrupted 10 minutes in, an hour ago: the 15m promise has passed
     * since, while the run was down. */
    run_started_at(f->j, &run, meta, now - HOUR);
    assert_int_equal(
        journal_run_set_state(f->j, run.id, RUN_STATE_INTERRUPTED, now - HOUR + 10 * MIN),
        0);
    assert_non_null(r = report_build(f->j, run.id));
    check_verdicts(r, (const char *const[]){"missed", "missed", "pending"});
    report_free(r);

    /* A failed run (it never started): the same rule. */
    run_started_at(f->j, &run, meta, now - HOUR);
    assert_int_equal(journal_run_set_state(f->j, run.id, RUN_STATE_FAILED, now - HOUR),
                     0);
    assert_non_null(r = report_build(f->j, run.id));
    check_verdicts(r, (const char *const[]){"missed", "missed", "pending"});
    report_free(r);

    /* Still running, an hour in: pending, whatever the clock says. */
    run_started_at(f->j, &run, meta, now - HOUR);
    assert_non_null(r = report_build(f->j, run.id));
    check_verdicts(r, (const char *const[]){"pending", "pending", "pending"});
    report_free(r);
    free(meta);
}

/* A run recorded without metadata still has a report, without targets. */
static void test_run_without_meta(void **state)
{
    struct fixture *f = *state;
    struct journal_run run;
    assert_int_equal(fixture_run(f->j, &run, 0, NULL), 0);
    char id[JOURNAL_NOTIFICATION_ID_LEN + 1];
    notif(f->j, run.id, "declare", 1, "ops", 0, URL_ONCALL, 0, id);
    attempt(f->j, id, 1, 3 * SEC, 120, 200, ATTEMPT_DELIVERED);
    assert_int_equal(journal_run_set_state(f->j, run.id, RUN_STATE_INTERRUPTED, T0 + MIN), 0);
    struct report *r = report_build(f->j, run.id);
    assert_non_null(r);
    for (int k = 0; k < TARGET_COUNT; k++)
        assert_int_equal(r->targets[k].target_ms, -1);
    assert_int_equal(r->targets[TARGET_FIRST_UPDATE].actual_ms, 3 * SEC);
    assert_int_equal(r->nchannels, 1);
    assert_string_equal(r->channels[0].name, "ops");
    assert_int_equal(r->channels[0].on_time_share, -1); /* no promised interval */
    assert_int_equal(r->channels[0].longest_silence_ms, 57 * SEC); /* 3s .. end at 1m */
    assert_int_equal(r->duration_ms, MIN);
    assert_int_equal(r->periods[0].end_ms, MIN);
    assert_false(r->feedback);
    char *md = render(r, REPORT_MARKDOWN);
    assert_contains(md, "no target");
    assert_contains(md, "The playbook asks for no feedback.");
    assert_not_contains(md, "0 responses");
    free(md);
    char *html = render(r, REPORT_HTML);
    assert_contains(html, "The playbook asks for no feedback.");
    assert_not_contains(html, "0 responses");
    free(html);
    report_free(r);
}

static void test_unknown_run(void **state)
{
    struct fixture *f = *state;
    capture_begin();
    struct report *r = report_build(f->j, "fffffff");
    char *err = capture_end();
    assert_null(r);
    assert_contains(err, "crisisrun: no run 'fffffff'");
    free(err);
}

static void test_fmt(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(report_fmt_duration(0, buf, sizeof(buf)), "0s");
    assert_string_equal(report_fmt_duration(450, buf, sizeof(buf)), "450ms");
    assert_string_equal(report_fmt_duration(1000, buf, sizeof(buf)), "1s");
    assert_string_equal(report_fmt_duration(3250, buf, sizeof(buf)), "3.25s");
    assert_string_equal(report_fmt_duration(30 * MIN, buf, sizeof(buf)), "30m");
    assert_string_equal(report_fmt_duration(4410 * SEC, buf, sizeof(buf)), "1h13m30s");
    assert_string_equal(report_fmt_duration(90061001, buf, sizeof(buf)), "1d1h1m1.001s");
    assert_string_equal(report_fmt_duration(-2000, buf, sizeof(buf)), "-2s");
    assert_string_equal(report_fmt_share(0.6667, buf, sizeof(buf)), "66.7%");
    assert_string_equal(report_fmt_share(1, buf, sizeof(buf)), "100.0%");
    assert_string_equal(report_fmt_mean(3.5, buf, sizeof(buf)), "3.50");
    assert_int_equal(report_format_from_name("md"), REPORT_MARKDOWN);
    assert_int_equal(report_format_from_name("html"), REPORT_HTML);
    assert_int_equal(report_format_from_name("json"), REPORT_JSON);
    assert_int_equal(report_format_from_name("pdf"), -1);
}

/* ---- the command: exit codes and the atomic -o ----------------------------------- */

static int run_cmd(struct fixture *f, char **err, int argc, char **argv)
{
    struct cmd_ctx ctx = {.db_path = f->path};
    capture_begin();
    int ret = cmd_report.exec(&ctx, argc, argv);
    *err = capture_end();
    return ret;
}

static void test_command(void **state)
{
    struct fixture *f = *state;
    char *out = xasprintf("%s/report.json", f->dir), *err;
    char *argv1[] = {"report", f->run, "--format", "json", "-o", out, NULL};
    assert_int_equal(run_cmd(f, &err, 6, argv1), EXIT_OK);
    assert_string_equal(err, "");
    free(err);
    char *data;
    size_t len;
    assert_int_equal(read_file(out, 1 << 22, &data, &len), 0);
    struct report *r = report_build(f->j, f->run);
    char *want = render(r, REPORT_JSON);
    report_free(r);
    assert_string_equal(data, want);
    free(want);
    free(data);

    /* An unknown run fails with exit 1 and leaves the old report intact. */
    char *argv2[] = {"report", "abcdef", "-o", out, NULL};
    assert_int_equal(run_cmd(f, &err, 4, argv2), EXIT_RUNTIME);
    assert_contains(err, "no run 'abcdef'");
    free(err);
    assert_int_equal(read_file(out, 1 << 22, &data, &len), 0);
    assert_contains(data, "\"report_version\": 1");
    free(data);

    /* Usage errors: exit 2. */
    char *argv3[] = {"report", f->run, "--format", "pdf", NULL};
    assert_int_equal(run_cmd(f, &err, 4, argv3), EXIT_USAGE);
    assert_contains(err, "unknown format 'pdf'");
    free(err);
    char *argv4[] = {"report", NULL};
    assert_int_equal(run_cmd(f, &err, 1, argv4), EXIT_USAGE);
    assert_contains(err, "no run given");
    free(err);

    /* A directory that does not exist: exit 1, nothing left behind. */
    char *bad = xasprintf("%s/missing/report.html", f->dir);
    char *argv5[] = {"report", f->run, "--format=html", "-o", bad, NULL};
    assert_int_equal(run_cmd(f, &err, 5, argv5), EXIT_RUNTIME);
    assert_contains(err, "cannot write '");
    assert_contains(err, "/missing/report.html': No such file or directory");
    free(err);
    free(bad);

    /* A missing journal: exit 1 with the journal's message. */
    struct cmd_ctx ctx = {.db_path = "/nonexistent/crisisrun.db"};
    char *argv6[] = {"report", f->run, NULL};
    capture_begin();
    assert_int_equal(cmd_report.exec(&ctx, 2, argv6), EXIT_RUNTIME);
    err = capture_end();
    assert_contains(err, "no journal at '/nonexistent/crisisrun.db'");
    free(err);
    free(out);
}

/*
 * With CRISISRUN_REPORT_FIXTURE=PATH, also writes the fixture journal to
 * PATH (replacing it), to look at the reports through the binary:
 * crisisrun --db PATH report RUN --format html.
 */
static void test_write_fixture(void **state)
{
    (void)state;
    const char *path = getenv("CRISISRUN_REPORT_FIXTURE");
    if (!path || !*path)
        skip();
    unlink(path);
    struct journal *j = journal_open(path, JOURNAL_CREATE);
    assert_non_null(j);
    char *meta = fixture_meta();
    struct journal_run r;
    assert_int_equal(fixture_run(j, &r, 0, meta), 0);
    free(meta);
    journal_timeline(j, r.id);
    journal_close(j);
    printf("fixture run %s in %s\n", r.id, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runmeta_round_trip),
        cmocka_unit_test(test_fmt),
        cmocka_unit_test_setup_teardown(test_meta_in_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_and_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steps_and_escalations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_communication, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feedback_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_deliveries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_text_is_inert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drill_is_labelled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_without_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command, setup, teardown),
        cmocka_unit_test(test_write_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
