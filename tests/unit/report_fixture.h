/*
 * report_fixture.h - the playbook and run shared by test_report.c and
 * test_feedback.c: the database-outage example of DESIGN.md, built in
 * memory (the tests do not depend on the loader), recorded through
 * runmeta_json() exactly as the runner records it.
 */
#ifndef CRISISRUN_TEST_REPORT_FIXTURE_H
#define CRISISRUN_TEST_REPORT_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/journal.h"
#include "crisisrun/runmeta.h"
#include "crisisrun/util.h"

#define T0 1764167700000LL /* 2025-11-26T14:35:00Z */
#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

#define URL_ONCALL "https://hooks.slack.com/services/T0/B0/SECRETONCALL"
#define URL_LEADERS "https://example.webhook.office.com/webhookb2/SECRETLEADERS"
#define URL_CUST0 "https://status.example.com/hooks/SECRETCUST0"
#define URL_CUST1 "https://partner.example.net/hooks/SECRETCUST1"

enum { CH_ONCALL, CH_LEADERS, CH_CUSTOMERS };
enum { ST_DECLARE, ST_PAGE_DB, ST_ESCALATE_DB, ST_PUBLIC_UPDATE, ST_ALL_CLEAR };

/* The meta JSON of the fixture playbook (new string). */
static char *fixture_meta(void)
{
    struct channel channels[3] = {
        {.name = "oncall", .type = CHANNEL_SLACK, .audience = AUDIENCE_INTERNAL},
        {.name = "leaders",
         .type = CHANNEL_TEAMS,
         .audience = AUDIENCE_INTERNAL,
         .secret = "whsec_c2VjcmV0LXNpZ25pbmcta2V5"},
        {.name = "customers", .type = CHANNEL_WEBHOOK, .audience = AUDIENCE_EXTERNAL},
    };
    url_list_add(&channels[CH_ONCALL].urls, URL_ONCALL);
    url_list_add(&channels[CH_LEADERS].urls, URL_LEADERS);
    url_list_add(&channels[CH_CUSTOMERS].urls, URL_CUST0);
    url_list_add(&channels[CH_CUSTOMERS].urls, URL_CUST1);
    size_t n_oc_cu[] = {CH_ONCALL, CH_CUSTOMERS}, n_oc[] = {CH_ONCALL}, n_le[] = {CH_LEADERS},
           n_cu[] = {CH_CUSTOMERS}, n_all[] = {CH_ONCALL, CH_LEADERS, CH_CUSTOMERS};
    struct step steps[5] = {
        {.id = "declare", .timing = TIMING_AT, .at_ms = 0, .notify = n_oc_cu, .nnotify = 2},
        {.id = "page-db", .timing = TIMING_AT, .at_ms = MIN, .notify = n_oc, .nnotify = 1,
         .has_ack = 1, .ack_within_ms = 10 * MIN, .ack_escalate = ST_ESCALATE_DB},
        {.id = "escalate-db", .timing = TIMING_ON, .on = ON_ESCALATION, .notify = n_le,
         .nnotify = 1},
        {.id = "public-update", .timing = TIMING_EVERY, .every_ms = 30 * MIN,
         .from_ms = 30 * MIN, .until = UNTIL_STATUS, .until_status = STATUS_RESOLVED,
         .notify = n_cu, .nnotify = 1},
        {.id = "all-clear", .timing = TIMING_ON, .on = ON_RESOLVED, .notify = n_all,
         .nnotify = 3},
    };
    struct question questions[3] = {
        {.id = "informed", .text = "How well were you kept informed?", .scale = 5},
        {.id = "speed", .text = "How satisfied are you with the speed of resolution?",
         .scale = 5},
        {.id = "better", .text = "What should we do differently?", .scale = 0},
    };
    struct playbook pb = {
        .name = "database-outage",
        .title = "Checkout database outage",
        .severity = "sev1",
        .targets = {.acknowledge_ms = 15 * MIN, .first_update_ms = 5 * MIN,
                    .update_interval_ms = 30 * MIN, .resolve_ms = 4 * HOUR},
        .channels = channels,
        .nchannels = 3,
        .steps = steps,
        .nsteps = 5,
        .feedback = {.present = 1, .window_ms = 72 * HOUR, .questions = questions,
                     .nquestions = 3},
    };
    char *meta = runmeta_json(&pb);
    for (size_t i = 0; i < ARRAY_SIZE(channels); i++)
        url_list_release(&channels[i].urls);
    return meta;
}

/* Creates the fixture's run (started at T0) into r->id. */
static int fixture_run(struct journal *j, struct journal_run *r, int drill, const char *meta)
{
    memset(r, 0, sizeof(*r));
    r->playbook_name = "database-outage";
    r->title = "Checkout database outage";
    r->severity = "sev1";
    r->playbook_path = "/srv/playbooks/db.yaml";
    r->playbook_text = "crisisrun: 1\nname: database-outage\n";
    r->meta_json = (char *)meta;
    r->drill = drill;
    r->speed = 1;
    r->started_ms = T0;
    return journal_run_create(j, r);
}

static int fixture_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void fixture_rm_tree(const char *dir)
{
    nftw(dir, fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- stderr capture: error() reports there ---------------------------------- */

static int fixture_saved_stderr = -1;
static char fixture_capture_file[64];

static void capture_begin(void)
{
    snprintf(fixture_capture_file, sizeof(fixture_capture_file), "/tmp/crreport-err.XXXXXX");
    int fd = mkstemp(fixture_capture_file);
    if (fd < 0)
        abort();
    fflush(stderr);
    fixture_saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *capture_end(void)
{
    fflush(stderr);
    dup2(fixture_saved_stderr, 2);
    close(fixture_saved_stderr);
    char *s = NULL;
    size_t len;
    if (read_file(fixture_capture_file, 1 << 20, &s, &len) < 0)
        abort();
    unlink(fixture_capture_file);
    return s;
}

#endif
