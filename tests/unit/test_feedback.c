/* Unit tests for feedback.h: `feedback add` and `feedback import` checked
 * against the run's recorded questions, on a fixture journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/cmd.h"
#include "crisisrun/feedback.h"
#include "report_fixture.h"

struct fixture {
    char dir[64];
    char *path;
    struct journal *j;
    char run[JOURNAL_RUN_ID_LEN + 1];
};

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected '%s' in:\n%s", needle, hay);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/crfeedback.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/crisisrun.db", f->dir);
    f->j = journal_open(f->path, JOURNAL_CREATE);
    assert_non_null(f->j);
    char *meta = fixture_meta();
    struct journal_run r;
    assert_int_equal(fixture_run(f->j, &r, 0, meta), 0);
    free(meta);
    memcpy(f->run, r.id, sizeof(f->run));
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

static size_t count_responses(struct fixture *f)
{
    struct journal_feedback *v;
    size_t n;
    assert_int_equal(journal_feedback_list(f->j, f->run, &v, &n), 0);
    journal_feedback_list_free(v, n);
    return n;
}

/* Runs feedback_add; returns its result and the captured stderr in *err. */
static int add(struct fixture *f, const struct feedback_input *in, char **err)
{
    capture_begin();
    int ret = feedback_add(f->j, f->run, in, NULL);
    *err = capture_end();
    return ret;
}

static void test_add_valid(void **state)
{
    struct fixture *f = *state;
    struct feedback_value v[] = {
        {"informed", "4", FEEDBACK_RATING},
        {"speed", " 5 ", FEEDBACK_RATING},
        {"better", "Tell us sooner", FEEDBACK_TEXT},
    };
    struct feedback_input in = {.values = v, .nvalues = 3, .comment = "thanks",
                                .audience = "customers", .respondent = "dave",
                                .has_received = 1, .received_ms = T0 + HOUR, .source = "cli"};
    char *err;
    assert_int_equal(add(f, &in, &err), 0);
    assert_string_equal(err, "");
    free(err);

    /* Default audience: internal, no channel; anonymous drops the name. */
    struct feedback_value v2[] = {{"informed", "2", FEEDBACK_RATING}};
    struct feedback_input in2 = {.values = v2, .nvalues = 1, .anonymous = 1,
                                 .respondent = "secret person", .has_received = 1, .received_ms = T0 + 2 * HOUR};
    assert_int_equal(add(f, &in2, &err), 0);
    free(err);
    /* The audience keywords, without a channel. */
    struct feedback_input in3 = {.comment = "from the status page", .audience = "external",
                                 .has_received = 1, .received_ms = T0 + 3 * HOUR};
    assert_int_equal(add(f, &in3, &err), 0);
    free(err);

    struct journal_feedback *fb;
    size_t n;
    assert_int_equal(journal_feedback_list(f->j, f->run, &fb, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(fb[0].channel, "customers");
    assert_int_equal(fb[0].audience, AUDIENCE_EXTERNAL);
    assert_string_equal(fb[0].source, "cli");
    assert_string_equal(fb[0].respondent, "dave");
    assert_string_equal(fb[0].comment, "thanks");
    assert_int_equal(fb[0].received_ms, T0 + HOUR);
    assert_int_equal(fb[0].nanswers, 3);
    assert_string_equal(fb[0].answers[0].question_id, "informed");
    assert_int_equal(fb[0].answers[0].rating, 4);
    assert_int_equal(fb[0].answers[1].rating, 5);
    assert_string_equal(fb[0].answers[2].text, "Tell us sooner");
    assert_null(fb[1].channel);
    assert_int_equal(fb[1].audience, AUDIENCE_INTERNAL);
    assert_true(fb[1].anonymous);
    assert_null(fb[1].respondent);
    assert_null(fb[2].channel);
    assert_int_equal(fb[2].audience, AUDIENCE_EXTERNAL);
    assert_int_equal(fb[2].nanswers, 0);
    journal_feedback_list_free(fb, n);
}

static void test_add_invalid(void **state)
{
    struct fixture *f = *state;
    static const struct {
        struct feedback_value v;
        const char *audience;
        const char *msg;
    } cases[] = {
        {{"infomed", "4", FEEDBACK_RATING}, NULL,
         "crisisrun: unknown question 'infomed' (did you mean 'informed'?)"},
        {{"zzz", "4", FEEDBACK_RATING}, NULL, "crisisrun: unknown question 'zzz'\n"},
        {{"informed", "6", FEEDBACK_RATING}, NULL,
         "rating for 'informed' must be a whole number from 1 to 5, not '6'"},
        {{"informed", "0", FEEDBACK_RATING}, NULL, "from 1 to 5, not '0'"},
        {{"informed", "4.5", FEEDBACK_RATING}, NULL, "from 1 to 5, not '4.5'"},
        {{"informed", "four", FEEDBACK_RATING}, NULL, "not 'four'"},
        {{"better", "5", FEEDBACK_RATING}, NULL,
         "question 'better' takes a text answer (use --answer better=TEXT)"},
        {{"speed", "fast", FEEDBACK_TEXT}, NULL,
         "question 'speed' takes a rating from 1 to 5 (use --rating speed=N)"},
        {{"speed", "3", FEEDBACK_RATING}, "custmers",
         "unknown channel 'custmers' (did you mean 'customers'?)"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct feedback_input in = {.values = &cases[i].v, .nvalues = 1,
                                    .audience = cases[i].audience};
        char *err;
        assert_int_equal(add(f, &in, &err), FEEDBACK_INVALID);
        assert_contains(err, cases[i].msg);
        free(err);
    }
    /* Twice the same question; and nothing at all. */
    struct feedback_value twice[] = {{"speed", "3", FEEDBACK_RATING},
                                     {"speed", "4", FEEDBACK_RATING}};
    struct feedback_input in = {.values = twice, .nvalues = 2};
    char *err;
    assert_int_equal(add(f, &in, &err), FEEDBACK_INVALID);
    assert_contains(err, "question 'speed' is answered twice");
    free(err);
    struct feedback_input empty = {0};
    assert_int_equal(add(f, &empty, &err), FEEDBACK_INVALID);
    assert_contains(err, "empty response");
    free(err);
    assert_int_equal(count_responses(f), 0);

    /* An unknown run, and a run whose playbook asks for no feedback. */
    struct feedback_value ok[] = {{"speed", "3", FEEDBACK_RATING}};
    struct feedback_input in2 = {.values = ok, .nvalues = 1};
    capture_begin();
    assert_int_equal(feedback_add(f->j, "abcabc", &in2, NULL), -1);
    err = capture_end();
    assert_contains(err, "no run 'abcabc'");
    free(err);
    struct journal_run r;
    assert_int_equal(fixture_run(f->j, &r, 0, "{\"feedback\":null}"), 0);
    capture_begin();
    assert_int_equal(feedback_add(f->j, r.id, &in2, NULL), FEEDBACK_INVALID);
    err = capture_end();
    assert_contains(err, "asks for no feedback");
    free(err);
}

/* ---- import ---------------------------------------------------------------------- */

static char *write_csv(struct fixture *f, const char *name, const char *data)
{
    char *path = xasprintf("%s/%s", f->dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(data, fp);
    fclose(fp);
    return path;
}

static int import(struct fixture *f, const char *path, long *count, char **err)
{
    long skipped;
    capture_begin();
    int ret = feedback_import_csv(f->j, f->run, path, count, &skipped);
    *err = capture_end();
    return ret;
}

static void test_import_valid(void **state)
{
    struct fixture *f = *state;
    /* A BOM, CRLF line ends, a quoted comment over two lines with quotes,
     * an empty cell (not answered), an empty row (skipped), and the
     * optional columns in any case. */
    char *path = write_csv(f, "survey.csv",
                           "\xEF\xBB\xBFinformed,speed,better,Comment,audience,anonymous,"
                           "respondent,received\r\n"
                           "5,4,,\"Great \"\"comms\"\",\r\nthanks\",oncall,no,carol,"
                           "2025-11-26T17:00:00Z\r\n"
                           ",,,,,,,\r\n"
                           "2,,faster please,,customers,yes,someone,2025-11-26T19:00:00Z\r\n"
                           "3,3,,,external,,,2025-11-26T18:30:00.5Z\r\n");
    long count, skipped;
    capture_begin();
    int ret = feedback_import_csv(f->j, f->run, path, &count, &skipped);
    char *err = capture_end();
    assert_int_equal(ret, 0);
    assert_string_equal(err, "");
    free(err);
    assert_int_equal(count, 3);
    assert_int_equal(skipped, 1);

    struct journal_feedback *fb;
    size_t n;
    assert_int_equal(journal_feedback_list(f->j, f->run, &fb, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(fb[0].source, "import");
    assert_int_equal(fb[0].received_ms, T0 + 2 * HOUR + 25 * MIN);
    assert_string_equal(fb[0].comment, "Great \"comms\",\nthanks");
    assert_string_equal(fb[0].channel, "oncall");
    assert_int_equal(fb[0].audience, AUDIENCE_INTERNAL);
    assert_string_equal(fb[0].respondent, "carol");
    assert_int_equal(fb[0].nanswers, 2);
    /* Sorted by the time received. */
    assert_int_equal(fb[1].received_ms, T0 + 3 * HOUR + 55 * MIN + 500);
    assert_null(fb[1].channel);
    assert_int_equal(fb[1].audience, AUDIENCE_EXTERNAL);
    assert_int_equal(fb[1].nanswers, 2);
    assert_string_equal(fb[2].channel, "customers");
    assert_true(fb[2].anonymous);
    assert_null(fb[2].respondent);
    assert_int_equal(fb[2].nanswers, 2);
    assert_string_equal(fb[2].answers[1].question_id, "better");
    assert_string_equal(fb[2].answers[1].text, "faster please");
    journal_feedback_list_free(fb, n);
    free(path);
}

static void test_import_bad_rows(void **state)
{
    struct fixture *f = *state;
    /* Record 3 spans lines 3-4, so the bad records start on lines 5, 6, 7,
     * 8, 9 (a second before the run's start; its very start is fine) and
     * 11 (the epoch, which is a time given, not "now"); good rows around
     * them are not stored either. */
    char *path = write_csv(f, "bad.csv",
                           "informed,speed,comment,audience,anonymous,received\n"
                           "5,4,fine,,,\n"
                           "4,4,\"two\nlines\",,,\n"
                           "9,4,,,,\n"
                           "4,4,,custmers,,\n"
                           "4,4,,,maybe,yesterday\n"
                           "4,4\n"
                           "3,3,ok,,,2025-11-26T14:34:59Z\n"
                           "3,3,ok,,,2025-11-26T14:35:00Z\n"
                           "3,3,ok,,,1970-01-01T00:00:00Z\n");
    long count = -1;
    char *err;
    assert_int_equal(import(f, path, &count, &err), FEEDBACK_INVALID);
    char *want = xasprintf(
        "crisisrun: %s:5: rating for 'informed' must be a whole number from 1 to 5, not "
        "'9'\n"
        "crisisrun: %s:6: unknown channel 'custmers' (did you mean 'customers'?)\n"
        "crisisrun: %s:7: anonymous must be yes or no, not 'maybe'\n"
        "crisisrun: %s:7: invalid received time 'yesterday' (expected UTC ISO 8601, like "
        "2026-11-26T14:35:00Z)\n"
        "crisisrun: %s:8: expected 6 fields as in the header, found 2\n"
        "crisisrun: %s:9: received time '2025-11-26T14:34:59.000Z' is before the run "
        "started (2025-11-26T14:35:00.000Z)\n"
        "crisisrun: %s:11: received time '1970-01-01T00:00:00.000Z' is before the run "
        "started (2025-11-26T14:35:00.000Z)\n",
        path, path, path, path, path, path, path);
    assert_string_equal(err, want);
    free(want);
    free(err);
    assert_int_equal(count, 0);
    assert_int_equal(count_responses(f), 0);
    free(path);
}

static void test_import_bad_files(void **state)
{
    struct fixture *f = *state;
    long count;
    char *err;
    /* Unknown and duplicate columns: named, with a suggestion. */
    char *path = write_csv(f, "cols.csv", "informd,speed,speed,coment\n4,4,4,x\n");
    assert_int_equal(import(f, path, &count, &err), FEEDBACK_INVALID);
    assert_contains(err, ":1: unknown column 'informd' (did you mean 'informed'?)");
    assert_contains(err, ":1: column 'speed' appears twice");
    assert_contains(err, ":1: unknown column 'coment' (did you mean 'comment'?)");
    free(err);
    free(path);
    /* A CSV syntax error stops the import, with its line. */
    path = write_csv(f, "quote.csv", "informed,comment\n4,ok\n4,\"open\n");
    assert_int_equal(import(f, path, &count, &err), FEEDBACK_INVALID);
    assert_contains(err, "quote.csv:3: unterminated quoted field");
    free(err);
    free(path);
    path = write_csv(f, "empty.csv", "");
    assert_int_equal(import(f, path, &count, &err), FEEDBACK_INVALID);
    assert_contains(err, "no header row");
    free(err);
    free(path);
    /* A missing file is a runtime error. */
    path = xasprintf("%s/missing.csv", f->dir);
    assert_int_equal(import(f, path, &count, &err), -1);
    assert_contains(err, "missing.csv");
    free(err);
    free(path);
    assert_int_equal(count_responses(f), 0);
}

/* ---- the command ---------------------------------------------------------------- */

static int run_cmd(struct fixture *f, int argc, char **argv, char **out, char **err)
{
    struct cmd_ctx ctx = {.db_path = f->path};
    char *outfile = xasprintf("%s/stdout", f->dir);
    fflush(stdout);
    int saved = dup(1);
    FILE *fp = fopen(outfile, "w");
    dup2(fileno(fp), 1);
    capture_begin();
    int ret = cmd_feedback.exec(&ctx, argc, argv);
    *err = capture_end();
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(fp);
    size_t len;
    assert_int_equal(read_file(outfile, 1 << 20, out, &len), 0);
    free(outfile);
    return ret;
}

static void test_command(void **state)
{
    struct fixture *f = *state;
    char *out, *err;
    char *a1[] = {"feedback", "add", f->run, "--rating", "informed=5", "--rating=speed=4",
                  "--answer", "better=nothing", "--audience", "leaders", "--comment", "ok",
                  NULL};
    assert_int_equal(run_cmd(f, 12, a1, &out, &err), EXIT_OK);
    assert_string_equal(out, "recorded 1 response\n");
    free(out);
    free(err);

    char *a2[] = {"feedback", "add", f->run, "--rating", "infomed=5", NULL};
    assert_int_equal(run_cmd(f, 5, a2, &out, &err), EXIT_USAGE);
    assert_contains(err, "unknown question 'infomed' (did you mean 'informed'?)");
    free(out);
    free(err);
    char *a3[] = {"feedback", "add", f->run, NULL};
    assert_int_equal(run_cmd(f, 3, a3, &out, &err), EXIT_USAGE);
    assert_contains(err, "give at least one --rating, --answer or --comment");
    free(out);
    free(err);
    char *a4[] = {"feedback", "add", f->run, "--rating", "speed", NULL};
    assert_int_equal(run_cmd(f, 5, a4, &out, &err), EXIT_USAGE);
    assert_contains(err, "invalid --rating 'speed' (expected QUESTION=N)");
    free(out);
    free(err);
    char *a5[] = {"feedback", "add", f->run, "--comment", "x", "--anonymous", "--respondent",
                  "y", NULL};
    assert_int_equal(run_cmd(f, 8, a5, &out, &err), EXIT_USAGE);
    assert_contains(err, "exclude each other");
    free(out);
    free(err);
    char *a6[] = {"feedback", "ad", NULL};
    assert_int_equal(run_cmd(f, 2, a6, &out, &err), EXIT_USAGE);
    assert_contains(err, "unknown subcommand 'ad' (did you mean 'add'?)");
    free(out);
    free(err);
    char *a7[] = {"feedback", "add", "0000000", "--comment", "x", NULL};
    assert_int_equal(run_cmd(f, 5, a7, &out, &err), EXIT_RUNTIME);
    assert_contains(err, "no run '0000000'");
    free(out);
    free(err);

    char *path = write_csv(f, "ok.csv", "informed,comment\n4,good\n5,\n");
    char *a8[] = {"feedback", "import", f->run, path, NULL};
    int64_t before = wallclock_ms();
    assert_int_equal(run_cmd(f, 4, a8, &out, &err), EXIT_OK);
    int64_t after = wallclock_ms();
    assert_string_equal(out, "imported 2 responses\n");
    free(out);
    free(err);
    free(path);
    /* Without a received column, a response is received now. */
    struct journal_feedback *fb;
    size_t n;
    assert_int_equal(journal_feedback_list(f->j, f->run, &fb, &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_true(fb[i].received_ms >= before - 1000);
        assert_true(fb[i].received_ms <= after + 1000);
    }
    journal_feedback_list_free(fb, n);
    path = write_csv(f, "bad.csv", "informed\n7\n");
    char *a9[] = {"feedback", "import", f->run, path, NULL};
    assert_int_equal(run_cmd(f, 4, a9, &out, &err), EXIT_USAGE);
    assert_string_equal(out, "");
    assert_contains(err, "bad.csv:2: rating for 'informed'");
    free(out);
    free(err);
    free(path);
    char *a10[] = {"feedback", "import", f->run, NULL};
    assert_int_equal(run_cmd(f, 3, a10, &out, &err), EXIT_USAGE);
    free(out);
    free(err);
    assert_int_equal(count_responses(f), 3);
}

/* ---- the run's clock ----------------------------------------------------------- */

#define DRILL_SPEED 20

/* A drill at DRILL_SPEED that started real_ago_ms of real time ago (the
 * fixture's runs start at T0), read back into *r: release it. */
static void drill_run(struct fixture *f, struct journal_run *r, int64_t real_ago_ms)
{
    char *meta = fixture_meta();
    struct journal_run c = {.playbook_name = "database-outage",
                            .title = "Checkout database outage",
                            .playbook_path = "/srv/playbooks/db.yaml",
                            .playbook_text = "crisisrun: 1\nname: database-outage\n",
                            .meta_json = meta,
                            .drill = 1,
                            .speed = DRILL_SPEED,
                            .started_ms = wallclock_ms() - real_ago_ms};
    assert_int_equal(journal_run_create(f->j, &c), 0);
    free(meta);
    assert_int_equal(journal_run_get(f->j, c.id, r), 0);
}

/* The drill's clock at wall time wall: start + real time elapsed * speed. */
static int64_t drill_clock(const struct journal_run *r, int64_t wall)
{
    return r->started_ms + (int64_t)((double)(wall - r->started_ms) * DRILL_SPEED);
}

/* The received_ms of the only response of run r. */
static int64_t received_of(struct fixture *f, const struct journal_run *r)
{
    struct journal_feedback *fb;
    size_t n;
    assert_int_equal(journal_feedback_list(f->j, r->id, &fb, &n), 0);
    assert_int_equal(n, 1);
    int64_t at = fb[0].received_ms;
    journal_feedback_list_free(fb, n);
    return at;
}

/*
 * A response given without a time is received now on the run's clock:
 * for a drill, the rehearsed timeline its runner journals and its form
 * stores on (docs/feedback.md), not the wall clock.  Each drill below
 * started a real minute or an hour ago, so at --speed 20 its clock reads
 * twenty minutes or twenty hours in.  The bounds are the drill's clock
 * read just before and just after the call.
 */
static void test_received_on_drill_clock(void **state)
{
    struct fixture *f = *state;
    struct feedback_value v[] = {{"informed", "4", FEEDBACK_RATING}};
    struct feedback_input in = {.values = v, .nvalues = 1, .source = "cli"};
    char *err;

    /* Still running: now is twenty minutes in, not one. */
    struct journal_run running;
    drill_run(f, &running, MIN);
    int64_t before = drill_clock(&running, wallclock_ms());
    capture_begin();
    assert_int_equal(feedback_add(f->j, running.id, &in, NULL), 0);
    err = capture_end();
    int64_t after = drill_clock(&running, wallclock_ms());
    assert_string_equal(err, "");
    free(err);
    int64_t at = received_of(f, &running);
    assert_true(at >= before && at <= after);
    assert_true(at >= running.started_ms + 20 * MIN);

    /* Resolved at +10m, its window open: after the resolution, before the
     * close, as an answer through the form at the same moment. */
    struct journal_run open;
    drill_run(f, &open, MIN);
    assert_int_equal(journal_run_set_status(f->j, open.id, STATUS_RESOLVED,
                                            open.started_ms + 10 * MIN),
                     0);
    assert_int_equal(journal_run_set_feedback_closes(
                         f->j, open.id, open.started_ms + 10 * MIN + 72 * HOUR),
                     0);
    char *path = write_csv(f, "survey.csv", "informed,received\n3,\n");
    long count, skipped;
    before = drill_clock(&open, wallclock_ms());
    capture_begin();
    assert_int_equal(feedback_import_csv(f->j, open.id, path, &count, &skipped), 0);
    err = capture_end();
    after = drill_clock(&open, wallclock_ms());
    assert_string_equal(err, "");
    free(err);
    free(path);
    assert_int_equal(count, 1);
    at = received_of(f, &open);
    assert_true(at >= before && at <= after);
    assert_true(at > open.started_ms + 10 * MIN);
    assert_true(at < open.started_ms + 10 * MIN + 72 * HOUR);

    /* Over, its 30m window closed long ago on its clock: the commands are
     * not held to the window, so the response is received now on that
     * clock, after the close, where `serve` says the window stands. */
    struct journal_run closed;
    drill_run(f, &closed, HOUR);
    assert_int_equal(journal_run_set_status(f->j, closed.id, STATUS_RESOLVED,
                                            closed.started_ms + 10 * MIN),
                     0);
    assert_int_equal(
        journal_run_set_feedback_closes(f->j, closed.id, closed.started_ms + 40 * MIN),
        0);
    before = drill_clock(&closed, wallclock_ms());
    capture_begin();
    assert_int_equal(feedback_add(f->j, closed.id, &in, NULL), 0);
    err = capture_end();
    after = drill_clock(&closed, wallclock_ms());
    free(err);
    at = received_of(f, &closed);
    assert_true(at >= before && at <= after);
    assert_true(at > closed.started_ms + 40 * MIN);

    /* A time given is kept as given, on a drill too. */
    struct journal_run given;
    drill_run(f, &given, MIN);
    in.received_ms = given.started_ms + 15 * MIN;
    in.has_received = 1;
    capture_begin();
    assert_int_equal(feedback_add(f->j, given.id, &in, NULL), 0);
    free(capture_end());
    assert_int_equal(received_of(f, &given), given.started_ms + 15 * MIN);

    journal_run_release(&running);
    journal_run_release(&open);
    journal_run_release(&closed);
    journal_run_release(&given);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_bad_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_received_on_drill_clock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
