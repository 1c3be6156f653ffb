/* Unit tests for the inbox's message text extraction and page rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/inbox.h"

static json_t *rec(const char *provider, const char *channel, const char *body)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "provider", provider, "channel",
                     channel, "body", body, "body_encoding", "utf-8", "time",
                     "2025-01-01T00:00:00.000Z", "status", 200, "signature", "absent");
}

static void check_text(const char *provider, const char *body, const char *want)
{
    json_t *r = rec(provider, "x/y", body);
    char *got = inbox_message_text(r);
    assert_string_equal(got, want);
    free(got);
    json_decref(r);
}

static void test_text_per_provider(void **state)
{
    (void)state;
    check_text("slack",
               "{\"text\":\"hello\",\"blocks\":[{\"type\":\"section\",\"text\":"
               "{\"type\":\"mrkdwn\",\"text\":\"block *one*\"}},{\"type\":\"context\","
               "\"elements\":[{\"type\":\"mrkdwn\",\"text\":\"ctx\"}]}]}",
               "hello\nblock *one*\nctx");
    check_text("mattermost", "{\"attachments\":[{\"pretext\":\"pre\",\"text\":\"att\"}]}",
               "pre\natt");
    check_text("discord",
               "{\"content\":\"c\",\"embeds\":[{\"title\":\"t\",\"description\":\"d\"}]}",
               "c\nt\nd");
    check_text(
        "teams",
        "{\"type\":\"message\",\"attachments\":[{\"content\":{\"type\":\"AdaptiveCard\","
        "\"body\":[{\"type\":\"TextBlock\",\"text\":\"one\"},{\"type\":\"ColumnSet\","
        "\"columns\":[{\"items\":[{\"type\":\"TextBlock\",\"text\":\"two\"}]}]},"
        "{\"type\":\"FactSet\",\"facts\":[{\"title\":\"Status\",\"value\":\"open\"}]}]}}]"
        "}",
        "one\ntwo\nStatus: open");
    check_text("googlechat", "{\"text\":\"gc\"}", "gc");
    check_text("webhook", "{\"message\":\"m\",\"run\":\"r1\"}", "m");
    /* Nothing readable: the JSON itself, or the raw body. */
    check_text("webhook", "{\"a\":1}", "{\n  \"a\": 1\n}");
    check_text("slack", "not json", "not json");
}

static void test_page_escapes_and_orders(void **state)
{
    (void)state;
    json_t *records = json_array();
    json_array_append_new(records, rec("slack", "slack/a", "{\"text\":\"first\"}"));
    json_array_append_new(records, rec("discord", "discord/<b>",
                                       "{\"content\":\"<script>alert('x')</script>\"}"));
    json_array_append_new(records,
                          rec("slack", "slack/a", "{\"text\":\"second & last\"}"));
    char *page = inbox_page_html(records, "dir/<requests>.jsonl");

    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<b>"));
    assert_non_null(strstr(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_non_null(strstr(page, "<h2>discord/&lt;b&gt;</h2>"));
    assert_non_null(strstr(page, "dir/&lt;requests&gt;.jsonl"));
    assert_non_null(strstr(page, "second &amp; last"));
    /* The channel with the newest message first; newest first within it. */
    char *a = strstr(page, "<h2>slack/a</h2>"), *d = strstr(page, "<h2>discord/");
    char *second = strstr(page, "second &amp; last"), *first = strstr(page, "first");
    assert_non_null(a);
    assert_true(a < d);
    assert_true(second < first);
    assert_true(first < d);
    free(page);
    json_decref(records);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_per_provider),
        cmocka_unit_test(test_page_escapes_and_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
