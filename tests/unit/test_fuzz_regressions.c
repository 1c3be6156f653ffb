/*
 * test_fuzz_regressions.c - every input the fuzzers ever crashed on, and
 * every seed of their corpora, replayed through the harnesses' own code in
 * the ordinary build (no clang needed): tests/data/fuzz-regressions/NAME/
 * and tests/fuzz/corpus/NAME/ through fuzz_NAME_one() of
 * tests/fuzz/fuzz_NAME.c, which checks the same invariants as under
 * libFuzzer and aborts when one breaks.  Under the sanitizer build, memory
 * errors and leaks on those inputs fail here too.  The bugs found get a
 * test of their exact behaviour as well.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_REPLAY
#include "../fuzz/fuzz_control.c"
#include "../fuzz/fuzz_csv.c"
#include "../fuzz/fuzz_form.c"
#include "../fuzz/fuzz_loader.c"
#include "../fuzz/fuzz_template.c"

static const struct {
    const char *name;
    int (*one)(const uint8_t *data, size_t size);
} harnesses[] = {
    {"control", fuzz_control_one},   {"csv", fuzz_csv_one},
    {"form", fuzz_form_one},         {"loader", fuzz_loader_one},
    {"template", fuzz_template_one},
};

/* Replays every file of dir through one(); returns how many there were. */
static size_t replay_dir(const char *dir, int (*one)(const uint8_t *, size_t))
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return 0;
    size_t replayed = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char *path = xasprintf("%s/%s", dir, names[i]->d_name);
            char *data;
            size_t len;
            assert_int_equal(read_file(path, 1 << 20, &data, &len), 0);
            print_message("replaying %s\n", path);
            assert_int_equal(one((const uint8_t *)data, len), 0);
            free(data);
            free(path);
            replayed++;
        }
        free(names[i]);
    }
    free(names);
    return replayed;
}

static void test_replay(void **state)
{
    (void)state;
    const char *data = getenv("CRISISRUN_TEST_DATA"), *src = getenv("CRISISRUN_SOURCE");
    assert_non_null(data);
    assert_non_null(src);
    for (size_t i = 0; i < ARRAY_SIZE(harnesses); i++) {
        char *corpus = xasprintf("%s/tests/fuzz/corpus/%s", src, harnesses[i].name);
        char *crashes = xasprintf("%s/fuzz-regressions/%s", data, harnesses[i].name);
        /* Every harness has seeds: an empty replay would prove nothing. */
        assert_true(replay_dir(corpus, harnesses[i].one) > 0);
        replay_dir(crashes, harnesses[i].one);
        free(corpus);
        free(crashes);
    }
    fuzz_csv_teardown();
}

/* ---- the bugs found, by behaviour ------------------------------------------- */

static char *render_discord(const char *src, const char *value)
{
    struct kv vars[3], roles[2];
    struct playbook pb;
    fuzz_template_playbook(&pb, vars, roles, (char *)value);
    struct template *t = fuzz_template_compile(src, &pb, 0);
    assert_non_null(t);
    struct template_ctx ctx = fuzz_template_ctx(&pb, value, 0);
    char *s = template_render(t, &ctx, TEMPLATE_ESCAPE_DISCORD);
    template_free(t);
    return s;
}

/* A mention formed where a value meets the text around it is defused too. */
static void test_discord_mention_across_value(void **state)
{
    (void)state;
    char *s = render_discord("Ping @{{latest_note}}!", "everyone");
    assert_string_equal(s, "Ping @\xe2\x80\x8b"
                           "everyone!");
    free(s);
    s = render_discord("<{{latest_note}}123>", "@");
    assert_string_equal(s, "<\xe2\x80\x8b@123>");
    free(s);
    s = render_discord("{{latest_note}}here", "x @");
    assert_string_equal(s, "x @\xe2\x80\x8bhere");
    free(s);
    s = render_discord("@ev{{latest_note}}one", "ery");
    assert_string_equal(s, "@every\xe2\x80\x8bone");
    free(s);
    /* The author's own mentions and harmless joins are kept as written. */
    s = render_discord("@here: {{latest_note}} <#1>", "@ok <b>");
    assert_string_equal(s, "@here: @ok <b> <#1>");
    free(s);
}

/* Runs `feedback import` of csv into the harness's run; *msg: what it reported. */
static int import_text(const char *csv, long *count, char **msg)
{
    if (!fuzz_csv.j)
        fuzz_csv_open();
    FILE *f = fopen(fuzz_csv.csv, "wb");
    assert_non_null(f);
    fputs(csv, f);
    assert_int_equal(fclose(f), 0);
    char errfile[] = "/tmp/crfuzz-err.XXXXXX";
    int fd = mkstemp(errfile);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    close(fd);
    long skipped;
    int rc = feedback_import_csv(fuzz_csv.j, fuzz_csv.run, fuzz_csv.csv, count, &skipped);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t len;
    assert_int_equal(read_file(errfile, 1 << 16, msg, &len), 0);
    unlink(errfile);
    return rc;
}

/* Imported text is text: what the form refuses, the import refuses too. */
static void test_import_text_is_text(void **state)
{
    (void)state;
    long count;
    char *msg;
    assert_int_equal(import_text("informed,comment\n3,bad \xff\xfe\n", &count, &msg),
                     FEEDBACK_INVALID);
    assert_non_null(strstr(msg, ":2: the comment is not UTF-8 text"));
    free(msg);
    assert_int_equal(
        import_text("better,respondent\n\"a \x1b[31m red\",Bob\n", &count, &msg),
        FEEDBACK_INVALID);
    assert_non_null(
        strstr(msg, ":2: the answer to 'better' contains a control character (0x1b)"));
    free(msg);
    assert_int_equal(import_text("informed,respondent\n4,\"Ann\nSmith\"\n", &count, &msg),
                     FEEDBACK_INVALID);
    assert_non_null(
        strstr(msg, ":2: the respondent contains a control character (0x0a)"));
    free(msg);
    /* Tabs, line breaks and any UTF-8 stay welcome; so does an anonymous row's name. */
    assert_int_equal(import_text("better,comment,respondent,anonymous\n"
                                 "\"tab\there\nnext line\",caf\xc3\xa9 \xe2\x9c\x93,"
                                 "Zo\xc3\xab,no\n"
                                 "x,,\"A\nB\",yes\n",
                                 &count, &msg),
                     0);
    assert_int_equal(count, 2);
    assert_string_equal(msg, "");
    free(msg);
    fuzz_csv_teardown();
}

/* The control API quotes only what fits in its JSON answer. */
static void test_control_unknown_action_not_utf8(void **state)
{
    (void)state;
    struct control_request rq;
    char *err;
    assert_int_equal(
        control_request_parse("POST", "/api/runs/0123/\xff", "", 0, &rq, &err), 404);
    assert_string_equal(rq.run, "0123");
    assert_string_equal(err,
                        "unknown action (use ack, status, note, trigger or resolve)");
    free(err);
    control_request_release(&rq);
    assert_int_equal(
        control_request_parse("POST", "/api/runs/0123/acknowledge", "", 0, &rq, &err),
        404);
    assert_string_equal(
        err, "unknown action 'acknowledge' (use ack, status, note, trigger or resolve)");
    free(err);
    control_request_release(&rq);
}

int main(void)
{
    /* As under libFuzzer: no input may read the terminal. */
    if (!freopen("/dev/null", "r", stdin))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_discord_mention_across_value),
        cmocka_unit_test(test_import_text_is_text),
        cmocka_unit_test(test_control_unknown_action_not_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
