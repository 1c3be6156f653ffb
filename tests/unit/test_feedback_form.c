/* Unit tests for the parts of feedback_form.h that need no server: a run's
 * questions (from its metadata, or from the journaled playbook text), the
 * drill clock and the window, and the escaping of the pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crisisrun/feedback_form.h"
#include "crisisrun/journal.h"
#include "feedback_page.h"

static const char playbook[] =
    "crisisrun: 1\n"
    "name: x\n"
    "channels:\n"
    "  c: {type: slack, url: \"${env:MISSING_IN_SERVE}\"}\n"
    "steps:\n"
    "  - {id: s, at: 0s, notify: [c], message: hi}\n"
    "feedback:\n"
    "  window: 1h\n"
    "  questions:\n"
    "    - {id: informed, text: \"Kept informed?\", scale: 5}\n"
    "    - id: better\n"
    "      text: |\n"
    "        What should we\n"
    "        do differently?\n"
    "      type: text\n"
    "    - {id: speed_2, text: Speed, scale: 10, type: rating}\n";

static struct journal_run run_with(const char *meta, const char *text)
{
    struct journal_run r;
    memset(&r, 0, sizeof(r));
    strcpy(r.id, "abcdef012345");
    r.meta_json = (char *)meta;
    r.playbook_text = (char *)text;
    return r;
}

static void test_questions_from_text(void **state)
{
    (void)state;
    /* The ${env:...} the playbook needs is absent: only the questions are read. */
    struct journal_run r = run_with(NULL, playbook);
    struct feedback_question *q;
    size_t n;
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(q[0].id, "informed");
    assert_string_equal(q[0].text, "Kept informed?");
    assert_int_equal(q[0].scale, 5);
    assert_string_equal(q[1].id, "better");
    assert_string_equal(q[1].text, "What should we\ndo differently?\n");
    assert_int_equal(q[1].scale, 0);
    assert_string_equal(q[2].id, "speed_2");
    assert_int_equal(q[2].scale, 10);
    feedback_questions_free(q, n);

    r = run_with(NULL, "crisisrun: 1\nname: x\n");
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), 0);
    assert_int_equal(n, 0);
    feedback_questions_free(q, n);
}

static void test_questions_from_meta(void **state)
{
    (void)state;
    /* The metadata wins over the text. */
    struct journal_run r =
        run_with("{\"feedback\": {\"window_ms\": 60000, \"questions\": ["
                 "{\"id\": \"q1\", \"text\": \"One\", \"scale\": 4},"
                 "{\"id\": \"q2\", \"text\": \"Two\", \"type\": \"text\"}]}}",
                 playbook);
    struct feedback_question *q;
    size_t n;
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(q[0].id, "q1");
    assert_int_equal(q[0].scale, 4);
    assert_string_equal(q[1].text, "Two");
    assert_int_equal(q[1].scale, 0);
    feedback_questions_free(q, n);
}

static void test_questions_damaged(void **state)
{
    (void)state;
    struct feedback_question *q;
    size_t n;
    /* An id that would break out of an HTML attribute is refused. */
    struct journal_run r =
        run_with("{\"feedback\": {\"window_ms\": 1, \"questions\": ["
                 "{\"id\": \"a\\\"><script>\", \"text\": \"x\", \"scale\": 5}]}}",
                 NULL);
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), -1);
    assert_null(q);
    assert_int_equal(n, 0);
    r = run_with(NULL,
                 "feedback:\n  questions:\n    - {id: \"a b\", text: x, scale: 5}\n");
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), -1);
    r = run_with(NULL, "feedback:\n  questions:\n    - {id: a, text: x, scale: 11}\n");
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), -1);
    r = run_with(NULL, "feedback:\n  questions:\n    - {id: a, text: x}\n");
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), -1);
    r = run_with(NULL, "feedback:\n  questions: {id: a}\n");
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), -1);
    r = run_with(NULL, "feedback: [unclosed\n");
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), -1);
    r = run_with(NULL, NULL);
    assert_int_equal(feedback_questions_of_run(&r, &q, &n), -1);
}

static void test_clock_and_window(void **state)
{
    (void)state;
    struct journal_run r = run_with(NULL, NULL);
    r.started_ms = 1000000;
    r.speed = 60;
    /* Not a drill: the wall clock, whatever the speed says. */
    assert_int_equal(journal_run_clock(&r, 1001000), 1001000);
    r.drill = 1;
    /* A drill at 60x: one real second is a virtual minute. */
    assert_int_equal(journal_run_clock(&r, 1001000), 1000000 + 60000);
    r.speed = 1;
    assert_int_equal(journal_run_clock(&r, 1001000), 1001000);
    r.speed = 60;

    assert_int_equal(feedback_window_at(&r, 1001000), FEEDBACK_WINDOW_NOT_OPEN);
    r.resolved_ms = 1060000;
    assert_int_equal(feedback_window_at(&r, 1002000), FEEDBACK_WINDOW_NOT_OPEN);
    r.feedback_closes_ms = 1060000 + 3600000; /* 1h of drill time: one real minute */
    assert_int_equal(feedback_window_at(&r, 1001000), FEEDBACK_WINDOW_OPEN);
    assert_int_equal(feedback_window_at(&r, 1000000 + 61000 - 1), FEEDBACK_WINDOW_OPEN);
    assert_int_equal(feedback_window_at(&r, 1000000 + 61000), FEEDBACK_WINDOW_CLOSED);
    assert_string_equal(feedback_window_name(FEEDBACK_WINDOW_OPEN), "open");
    assert_string_equal(feedback_window_name(FEEDBACK_WINDOW_CLOSED), "closed");
    assert_string_equal(feedback_window_name(FEEDBACK_WINDOW_NOT_OPEN), "not_open");
}

static void test_pages_escape(void **state)
{
    (void)state;
    struct feedback_question q[] = {
        {"r", "Rate <us> & \"them\"", 3},
        {"t", "Say it's </textarea>", 0},
    };
    const char *values[] = {"2", "</textarea><script>x</script>"};
    const char *errors[] = {NULL, "Bad <b>"};
    const char *general[] = {"This form does not ask for \xe2\x80\x9c<img>\xe2\x80\x9d"};
    struct feedback_page_form f = {
        .title = "T <i>",
        .drill = 1,
        .action = "tok",
        .q = q,
        .nq = 2,
        .values = values,
        .errors = errors,
        .name = "\"><script>",
        .general = general,
        .ngeneral = 1,
    };
    struct strbuf sb = STRBUF_INIT;
    feedback_page_form(&sb, &f);
    const char *p = strbuf_str(&sb);
    assert_null(strstr(p, "<script"));
    assert_null(strstr(p, "<i>"));
    assert_null(strstr(p, "<img>"));
    assert_null(strstr(p, "<us>"));
    assert_non_null(strstr(p, "<h1>[DRILL] T &lt;i&gt;</h1>"));
    assert_non_null(strstr(p, "<legend>Rate &lt;us&gt; &amp; &quot;them&quot;</legend>"));
    assert_non_null(strstr(p, "name=\"q_r\" value=\"2\" checked>2</label>"));
    assert_non_null(
        strstr(p, "&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;</textarea>"));
    assert_non_null(strstr(p, "value=\"&quot;&gt;&lt;script&gt;\""));
    assert_non_null(strstr(p, "Bad &lt;b&gt;"));
    assert_non_null(strstr(p, "role=\"alert\""));
    /* One </textarea>: the one that closes it. */
    assert_null(strstr(strstr(p, "</textarea>") + 1, "</textarea>"));
    strbuf_release(&sb);

    feedback_page_message(&sb, "A&B", 0, "Closed <now>", "It's over");
    p = strbuf_str(&sb);
    assert_non_null(strstr(p, "<h1>Closed &lt;now&gt;</h1>"));
    assert_non_null(strstr(p, "<p>It&#39;s over</p>"));
    assert_non_null(strstr(p, "A&amp;B"));
    assert_null(strstr(p, "[DRILL]"));
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_questions_from_text),
        cmocka_unit_test(test_questions_from_meta),
        cmocka_unit_test(test_questions_damaged),
        cmocka_unit_test(test_clock_and_window),
        cmocka_unit_test(test_pages_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
