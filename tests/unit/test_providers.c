/*
 * test_providers.c - every provider's payload, parsed back field by field;
 * length limits; truncation; answer classification; webhook signatures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crisisrun/provider.h"
#include "crisisrun/signature.h"
#include "crisisrun/template.h"
#include "crisisrun/util.h"

#define MARKER " \xe2\x80\xa6 (truncated)"
#define ZWSP "\xe2\x80\x8b" /* U+200B ZERO WIDTH SPACE */

/* Everything a payload can trip over: quotes, newlines, backslashes, markup,
 * a mass mention, accents, a check mark and an emoji. */
#define NASTY "Say \"hi\"\nnow\\then <b>&</b> @everyone caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\xa8"
#define NASTY_TITLE "Checkout <db> & \"cache\""

/* Code points, counted independently of the code under test. */
static size_t cp_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

struct fixture {
    struct provider_message m;
    char *text; /* NASTY escaped for the provider, as template_render does */
};

static void fixture_init(struct fixture *f, enum channel_type type, const char *raw)
{
    f->text = template_escape_value(raw, provider_for(type)->escape);
    f->m = (struct provider_message){
        .text = f->text,
        .title = NASTY_TITLE,
        .playbook = "db-outage",
        .severity = "sev1",
        .status = STATUS_INVESTIGATING,
        .step = "declare",
        .run_id = "r7f3a",
        .notification_id = "msg_r7f3a_declare_0_oncall_0",
        .next_update = "",
        .next_update_iso = "",
        .timestamp_iso = "2026-03-01T10:00:00Z",
        .drill = 1,
    };
}

static json_t *render_parse(enum channel_type type, const struct provider_message *m)
{
    char *body = provider_for(type)->render(m);
    json_error_t err;
    json_t *root;

    assert_non_null(body);
    root = json_loads(body, 0, &err);
    if (!root)
        fail_msg("%s: invalid JSON: %s: %s", channel_type_name(type), err.text, body);
    free(body);
    return root;
}

/* The string at a JSON path like "attachments/0/color"; fails if absent. */
static const char *str_at(json_t *root, const char *path)
{
    json_t *j = root;
    char *copy = xstrdup(path), *save = NULL;

    for (char *tok = strtok_r(copy, "/", &save); tok && j; tok = strtok_r(NULL, "/", &save))
        j = json_is_array(j) ? json_array_get(j, strtoul(tok, NULL, 10))
                             : json_object_get(j, tok);
    if (!json_is_string(j))
        fail_msg("no string at '%s'", path);
    free(copy);
    return json_string_value(j);
}

static json_t *at(json_t *root, const char *path)
{
    json_t *j = root;
    char *copy = xstrdup(path), *save = NULL;

    for (char *tok = strtok_r(copy, "/", &save); tok && j; tok = strtok_r(NULL, "/", &save))
        j = json_is_array(j) ? json_array_get(j, strtoul(tok, NULL, 10))
                             : json_object_get(j, tok);
    free(copy);
    if (!j)
        fail_msg("nothing at '%s'", path);
    return j;
}

/* ---- the table --------------------------------------------------------- */

static void test_table(void **state)
{
    for (int t = 0; t < CHANNEL_TYPE_COUNT; t++) {
        const struct provider *p = provider_for(t);
        assert_non_null(p);
        assert_int_equal(p->type, t);
        assert_string_equal(p->name, channel_type_name(t));
        assert_non_null(p->render);
        assert_non_null(p->classify);
    }
    assert_null(provider_for(CHANNEL_TYPE_COUNT));
    assert_int_equal(provider_for(CHANNEL_SLACK)->rate_count, 1);
    assert_int_equal(provider_for(CHANNEL_SLACK)->rate_per_ms, 1000);
    assert_int_equal(provider_for(CHANNEL_TEAMS)->rate_count, 4);
    assert_int_equal(provider_for(CHANNEL_GOOGLECHAT)->rate_count, 1);
    assert_int_equal(provider_for(CHANNEL_DISCORD)->rate_count, 5);
    assert_int_equal(provider_for(CHANNEL_DISCORD)->rate_per_ms, 2000);
    assert_int_equal(provider_for(CHANNEL_WEBHOOK)->rate_count, 0);
    assert_int_equal(provider_for(CHANNEL_SLACK)->escape, TEMPLATE_ESCAPE_SLACK);
    assert_int_equal(provider_for(CHANNEL_MATTERMOST)->escape,
                     TEMPLATE_ESCAPE_MATTERMOST);
    assert_int_equal(provider_for(CHANNEL_DISCORD)->escape, TEMPLATE_ESCAPE_DISCORD);
    assert_int_equal(provider_for(CHANNEL_GOOGLECHAT)->escape,
                     TEMPLATE_ESCAPE_GOOGLECHAT);
    assert_non_null(provider_for(CHANNEL_GOOGLECHAT)->request_url);
    assert_non_null(provider_for(CHANNEL_WEBHOOK)->attempt_headers);
}

/* ---- payloads ---------------------------------------------------------- */

static void test_slack(void **state)
{
    struct fixture f;
    fixture_init(&f, CHANNEL_SLACK, NASTY);
    assert_non_null(strstr(f.text, "&lt;b&gt;&amp;&lt;/b&gt;"));
    json_t *root = render_parse(CHANNEL_SLACK, &f.m);

    assert_string_equal(str_at(root, "text"), f.text);
    assert_string_equal(str_at(root, "blocks/0/type"), "section");
    assert_string_equal(str_at(root, "blocks/0/text/type"), "mrkdwn");
    assert_string_equal(str_at(root, "blocks/0/text/text"),
                        "*[DRILL] Checkout &lt;db&gt; &amp; \"cache\"*");
    assert_string_equal(str_at(root, "attachments/0/color"), "#E01E5A");
    assert_string_equal(str_at(root, "attachments/0/blocks/0/fields/0/text"),
                        "*Severity*\nsev1");
    assert_string_equal(str_at(root, "attachments/0/blocks/0/fields/1/text"),
                        "*Status*\ninvestigating");
    assert_string_equal(str_at(root, "attachments/0/blocks/1/text/type"), "mrkdwn");
    assert_string_equal(str_at(root, "attachments/0/blocks/1/text/text"), f.text);
    json_decref(root);

    /* No severity: no severity field; resolved is green; not a drill. */
    f.m.severity = "";
    f.m.status = STATUS_RESOLVED;
    f.m.drill = 0;
    root = render_parse(CHANNEL_SLACK, &f.m);
    assert_int_equal(json_array_size(at(root, "attachments/0/blocks/0/fields")), 1);
    assert_string_equal(str_at(root, "attachments/0/color"), "#2EB67D");
    assert_string_equal(str_at(root, "blocks/0/text/text"),
                        "*Checkout &lt;db&gt; &amp; \"cache\"*");
    json_decref(root);

    /* An empty message: Slack rejects empty section text, so no such block. */
    f.m.text = "";
    root = render_parse(CHANNEL_SLACK, &f.m);
    assert_int_equal(json_array_size(at(root, "attachments/0/blocks")), 1);
    assert_true(strlen(str_at(root, "text")) > 0);
    json_decref(root);
    free(f.text);
}

static void test_teams(void **state)
{
    struct fixture f;
    fixture_init(&f, CHANNEL_TEAMS, NASTY);
    assert_string_equal(f.text, NASTY); /* no escaping for Teams */
    json_t *root = render_parse(CHANNEL_TEAMS, &f.m);

    assert_string_equal(str_at(root, "type"), "message");
    assert_int_equal(json_array_size(at(root, "attachments")), 1);
    assert_string_equal(str_at(root, "attachments/0/contentType"),
                        "application/vnd.microsoft.card.adaptive");
    assert_true(json_is_null(at(root, "attachments/0/contentUrl")));
    json_t *card = at(root, "attachments/0/content");
    assert_string_equal(str_at(card, "$schema"),
                        "http://adaptivecards.io/schemas/adaptive-card.json");
    assert_string_equal(str_at(card, "type"), "AdaptiveCard");
    assert_string_equal(str_at(card, "version"), "1.4");
    json_t *body = at(card, "body");
    assert_int_equal(json_array_size(body), 4);
    for (size_t i = 0; i < json_array_size(body); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(body, i), "type")),
                            "TextBlock");
    assert_string_equal(str_at(body, "0/text"), "[DRILL] " NASTY_TITLE);
    assert_string_equal(str_at(body, "1/text"), "Status: investigating");
    assert_string_equal(str_at(body, "1/color"), "attention");
    assert_string_equal(str_at(body, "2/text"), "Severity: sev1");
    assert_string_equal(str_at(body, "3/text"), NASTY);
    assert_true(json_is_true(at(body, "3/wrap")));
    json_decref(root);

    static const char *const colours[] = {"attention", "warning", "accent", "good"};
    for (int s = 0; s < STATUS_COUNT; s++) {
        f.m.status = s;
        root = render_parse(CHANNEL_TEAMS, &f.m);
        assert_string_equal(str_at(root, "attachments/0/content/body/1/color"), colours[s]);
        json_decref(root);
    }
    free(f.text);
}

static void test_discord(void **state)
{
    struct fixture f;
    fixture_init(&f, CHANNEL_DISCORD, NASTY);
    /* The template defused the mass mention with a zero-width space. */
    assert_non_null(strstr(f.text, "@\xe2\x80\x8b" "everyone"));
    json_t *root = render_parse(CHANNEL_DISCORD, &f.m);

    json_t *parse = at(root, "allowed_mentions/parse");
    assert_true(json_is_array(parse));
    assert_int_equal(json_array_size(parse), 0);
    assert_int_equal(json_array_size(at(root, "embeds")), 1);
    assert_null(json_object_get(root, "content"));
    assert_string_equal(str_at(root, "embeds/0/title"), "[DRILL] " NASTY_TITLE);
    assert_string_equal(str_at(root, "embeds/0/description"), f.text);
    assert_true(json_is_integer(at(root, "embeds/0/color")));
    assert_int_equal(json_integer_value(at(root, "embeds/0/color")), 0xE01E5A);
    assert_string_equal(str_at(root, "embeds/0/fields/0/name"), "Severity");
    assert_string_equal(str_at(root, "embeds/0/fields/0/value"), "sev1");
    assert_string_equal(str_at(root, "embeds/0/fields/1/name"), "Status");
    assert_string_equal(str_at(root, "embeds/0/fields/1/value"), "investigating");
    assert_string_equal(str_at(root, "embeds/0/timestamp"), "2026-03-01T10:00:00Z");
    json_decref(root);

    f.m.status = STATUS_MONITORING;
    root = render_parse(CHANNEL_DISCORD, &f.m);
    assert_int_equal(json_integer_value(at(root, "embeds/0/color")), 0x36C5F0);
    json_decref(root);
    free(f.text);
}

static void test_mattermost(void **state)
{
    struct fixture f;
    fixture_init(&f, CHANNEL_MATTERMOST, NASTY);
    json_t *root = render_parse(CHANNEL_MATTERMOST, &f.m);
    char *want = xasprintf("**[DRILL] Checkout &lt;db&gt; &amp; \"cache\"**\n\n%s", f.text);

    assert_string_equal(str_at(root, "text"), want);
    assert_string_equal(str_at(root, "attachments/0/color"), "#E01E5A");
    assert_string_equal(str_at(root, "attachments/0/fallback"), "investigating");
    assert_string_equal(str_at(root, "attachments/0/fields/0/title"), "Severity");
    assert_string_equal(str_at(root, "attachments/0/fields/0/value"), "sev1");
    assert_true(json_is_true(at(root, "attachments/0/fields/0/short")));
    assert_string_equal(str_at(root, "attachments/0/fields/1/title"), "Status");
    assert_string_equal(str_at(root, "attachments/0/fields/1/value"), "investigating");
    json_decref(root);

    f.m.status = STATUS_IDENTIFIED;
    root = render_parse(CHANNEL_MATTERMOST, &f.m);
    assert_string_equal(str_at(root, "attachments/0/color"), "#ECB22E");
    json_decref(root);
    free(want);
    free(f.text);

    /* Nothing in a value, the title or the severity notifies the whole
     * channel (Mattermost reads fields' values for mentions too); a
     * person's @name stays, and the entities are Slack's. */
    fixture_init(&f, CHANNEL_MATTERMOST, "@channel: @ALL & @here. cc @alice");
    f.m.title = "@Here <db>";
    f.m.severity = "@all";
    root = render_parse(CHANNEL_MATTERMOST, &f.m);
    assert_string_equal(str_at(root, "text"),
                        "**[DRILL] @" ZWSP "Here &lt;db&gt;**\n\n"
                        "@" ZWSP "channel: @" ZWSP "ALL &amp; @" ZWSP "here. cc @alice");
    assert_string_equal(str_at(root, "attachments/0/fields/0/value"), "@" ZWSP "all");
    json_decref(root);

    /* A long title is cut at 256 characters, never inside an entity. */
    char title[301];
    memset(title, '&', 300);
    title[300] = '\0';
    f.m.title = title;
    root = render_parse(CHANNEL_MATTERMOST, &f.m);
    const char *text = str_at(root, "text");
    const char *end = strstr(text, MARKER "**\n\n");
    assert_non_null(end);
    assert_true(cp_len(text) - cp_len(end) <= 2 + 256 - cp_len(MARKER)); /* "**" */
    for (const char *p = text; p < end; p++)
        if (*p == '&')
            assert_true(!strncmp(p, "&amp;", 5));
    assert_true(!strncmp(end - 5, "&amp;", 5));
    json_decref(root);
    free(f.text);
}

static void test_googlechat(void **state)
{
    struct fixture f;
    fixture_init(&f, CHANNEL_GOOGLECHAT, NASTY);
    json_t *root = render_parse(CHANNEL_GOOGLECHAT, &f.m);

    /* The title's '<' is defused as values' are (a zero-width space). */
    char *want = xasprintf("*[DRILL] Checkout <\xe2\x80\x8b"
                           "db> & \"cache\"*\nStatus: "
                           "investigating \xc2\xb7 Severity: sev1\n\n%s",
                           f.text);
    assert_string_equal(str_at(root, "text"), want);
    assert_non_null(strstr(f.text, "<\xe2\x80\x8b"
                                   "b>&<\xe2\x80\x8b/b>"));
    free(want);
    json_decref(root);
    free(f.text);

    /* Nothing in a value, the title or the severity mentions the space or
     * hides a link behind text. */
    fixture_init(&f, CHANNEL_GOOGLECHAT, "<users/all> <https://x.example|y>");
    f.m.title = "<users/all>";
    f.m.severity = "<users/123>";
    root = render_parse(CHANNEL_GOOGLECHAT, &f.m);
    assert_null(strstr(str_at(root, "text"), "<users/"));
    assert_null(strstr(str_at(root, "text"), "<https:"));
    /* One thread per run: the key is the run's, not the notification's. */
    assert_string_equal(str_at(root, "thread/threadKey"), "crisisrun-r7f3a");
    json_decref(root);

    f.m.step = "public-update";
    f.m.notification_id = "another";
    root = render_parse(CHANNEL_GOOGLECHAT, &f.m);
    assert_string_equal(str_at(root, "thread/threadKey"), "crisisrun-r7f3a");
    json_decref(root);
    free(f.text);
}

static void test_googlechat_url(void **state)
{
    static const struct {
        const char *url, *want; /* want NULL: use url as is */
    } cases[] = {
        {"https://chat.googleapis.com/v1/spaces/AAA/messages",
         "https://chat.googleapis.com/v1/spaces/AAA/messages"
         "?messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
        {"https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t%3D",
         "https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t%3D"
         "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
        {"http://127.0.0.1:8080/chat?",
         "http://127.0.0.1:8080/chat?messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
        {"http://127.0.0.1:8080/chat?a=1&",
         "http://127.0.0.1:8080/chat?a=1&"
         "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
        {"http://h/chat?a=1#frag",
         "http://h/chat?a=1&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD#frag"},
        {"http://h/chat#a?b",
         "http://h/chat?messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD#a?b"},
        {"http://h/chat?key=k&messageReplyOption=REPLY_MESSAGE_OR_FAIL", NULL},
        {"http://h/chat?messageReplyOptionX=1",
         "http://h/chat?messageReplyOptionX=1"
         "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
    };
    struct fixture f;
    fixture_init(&f, CHANNEL_GOOGLECHAT, "x");

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *got = provider_for(CHANNEL_GOOGLECHAT)->request_url(cases[i].url, &f.m);
        if (!cases[i].want) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    free(f.text);
}

static void test_webhook(void **state)
{
    struct fixture f;
    fixture_init(&f, CHANNEL_WEBHOOK, NASTY);
    json_t *root = render_parse(CHANNEL_WEBHOOK, &f.m);

    /* No "id": the body is shared by every endpoint; ids go in headers. */
    assert_int_equal(json_object_size(root), 11);
    assert_null(json_object_get(root, "id"));
    assert_string_equal(str_at(root, "type"), "crisisrun.notification");
    assert_string_equal(str_at(root, "run"), "r7f3a");
    assert_string_equal(str_at(root, "playbook"), "db-outage");
    assert_string_equal(str_at(root, "title"), NASTY_TITLE);
    assert_string_equal(str_at(root, "severity"), "sev1");
    assert_string_equal(str_at(root, "status"), "investigating");
    assert_string_equal(str_at(root, "step"), "declare");
    assert_string_equal(str_at(root, "message"), NASTY);
    assert_true(json_is_null(at(root, "next_update")));
    assert_string_equal(str_at(root, "timestamp"), "2026-03-01T10:00:00Z");
    assert_true(json_is_true(at(root, "drill")));
    json_decref(root);

    f.m.drill = 0;
    f.m.severity = "";
    f.m.next_update_iso = "2026-03-01T10:30:00Z";
    f.m.status = STATUS_RESOLVED;
    root = render_parse(CHANNEL_WEBHOOK, &f.m);
    assert_true(json_is_false(at(root, "drill")));
    assert_true(json_is_null(at(root, "severity")));
    assert_string_equal(str_at(root, "next_update"), "2026-03-01T10:30:00Z");
    assert_string_equal(str_at(root, "status"), "resolved");
    json_decref(root);
    free(f.text);
}

/* Bytes that are not UTF-8 (from an environment variable, say) become
 * U+FFFD instead of making jansson refuse the whole payload. */
static void test_invalid_utf8(void **state)
{
    for (int t = 0; t < CHANNEL_TYPE_COUNT; t++) {
        struct fixture f;
        fixture_init(&f, t, "bad \xff\xfe byte, overlong \xc0\xaf, cut \xe2\x9c");
        f.m.title = "title \xed\xa0\x80 surrogate";
        json_t *root = render_parse(t, &f.m);
        char *dump = json_dumps(root, 0);
        assert_non_null(strstr(dump, "bad \xef\xbf\xbd\xef\xbf\xbd byte"));
        assert_non_null(strstr(dump, "overlong \xef\xbf\xbd\xef\xbf\xbd,"));
        assert_non_null(strstr(dump, "cut \xef\xbf\xbd\xef\xbf\xbd"));
        free(dump);
        json_decref(root);
        free(f.text);
    }
}

/* ---- limits ------------------------------------------------------------ */

/* 10,000 characters mixing one-, two-, three- and four-byte sequences. */
static char *long_text(size_t chars)
{
    static const char *const pieces[] = {"a", "\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x9a\xa8",
                                         " ", "\n", "<", "&"};
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < chars; i++)
        strbuf_addstr(&sb, pieces[i % ARRAY_SIZE(pieces)]);
    return strbuf_detach(&sb, NULL);
}

static void check_cut(const char *s, size_t max)
{
    assert_true(cp_len(s) <= max);
    assert_true(ends_with(s, MARKER));
}

static void test_limits(void **state)
{
    char *raw = long_text(10000);
    struct fixture f;
    json_t *root;

    fixture_init(&f, CHANNEL_DISCORD, raw);
    root = render_parse(CHANNEL_DISCORD, &f.m);
    check_cut(str_at(root, "embeds/0/description"), 4096);
    assert_true(cp_len(str_at(root, "embeds/0/description")) > 4000);
    json_decref(root);
    free(f.text);

    fixture_init(&f, CHANNEL_GOOGLECHAT, raw);
    root = render_parse(CHANNEL_GOOGLECHAT, &f.m);
    check_cut(str_at(root, "text"), 4096);
    json_decref(root);
    free(f.text);

    fixture_init(&f, CHANNEL_SLACK, raw);
    root = render_parse(CHANNEL_SLACK, &f.m);
    check_cut(str_at(root, "attachments/0/blocks/1/text/text"), 3000);
    check_cut(str_at(root, "text"), 3000);
    json_decref(root);
    free(f.text);

    /* Mattermost's 16383 needs a longer text. */
    free(raw);
    raw = long_text(20000);
    fixture_init(&f, CHANNEL_MATTERMOST, raw);
    root = render_parse(CHANNEL_MATTERMOST, &f.m);
    check_cut(str_at(root, "text"), 16383);
    json_decref(root);
    free(f.text);

    /* Teams counts bytes: 20,000 mixed characters are ~50 KB. */
    fixture_init(&f, CHANNEL_TEAMS, raw);
    char *body = provider_for(CHANNEL_TEAMS)->render(&f.m);
    assert_true(strlen(body) <= 28 * 1024);
    assert_true(strlen(body) > 20 * 1024); /* cut by the excess, not to nothing */
    root = json_loads(body, 0, NULL);
    assert_non_null(root);
    assert_true(ends_with(str_at(root, "attachments/0/content/body/3/text"), MARKER));
    json_decref(root);
    free(body);
    free(f.text);

    /* The generic webhook has no limit: nothing is cut. */
    fixture_init(&f, CHANNEL_WEBHOOK, raw);
    root = render_parse(CHANNEL_WEBHOOK, &f.m);
    assert_string_equal(str_at(root, "message"), raw);
    json_decref(root);
    free(f.text);

    /* A long title is cut too (Discord embed titles are at most 256). */
    char *title = long_text(1000);
    fixture_init(&f, CHANNEL_DISCORD, "x");
    f.m.title = title;
    root = render_parse(CHANNEL_DISCORD, &f.m);
    check_cut(str_at(root, "embeds/0/title"), 256);
    json_decref(root);
    free(f.text);
    free(title);
    free(raw);
}

/* The text of a chat payload: where the message goes. */
static const char *payload_text(enum channel_type type, json_t *root)
{
    switch (type) {
    case CHANNEL_SLACK:
        return str_at(root, "attachments/0/blocks/1/text/text");
    case CHANNEL_DISCORD:
        return str_at(root, "embeds/0/description");
    default:
        return str_at(root, "text");
    }
}

/*
 * text_max() is exact: a message of that many characters goes out whole,
 * one more and render() cuts it.  The runner renders messages to
 * text_max() (shortening values, not the author's words), so a text_max()
 * that promised too much would let render() cut "Next update by ..." off.
 * Severity and a long title count where they share the text.
 */
static void test_text_max(void **state)
{
    static const enum channel_type types[] = {CHANNEL_SLACK, CHANNEL_DISCORD,
                                              CHANNEL_GOOGLECHAT, CHANNEL_MATTERMOST};
    char *title = long_text(1000);

    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        const struct provider *p = provider_for(types[i]);
        for (int long_title = 0; long_title < 2; long_title++) {
            struct fixture f;
            fixture_init(&f, types[i], "x");
            if (long_title)
                f.m.title = title;
            f.m.severity = "sev1 \xff"; /* becomes U+FFFD where it is shown */
            size_t max = p->text_max(&f.m);
            assert_true(max > 2000);
            char *text = xmalloc(max + 2);
            memset(text, 'a', max + 1);
            text[max] = '\0';
            f.m.text = text;
            json_t *root = render_parse(types[i], &f.m);
            const char *got = payload_text(types[i], root);
            if (!ends_with(got, text))
                fail_msg("%s: %zu characters were cut", p->name, max);
            json_decref(root);
            text[max] = 'a';
            text[max + 1] = '\0';
            root = render_parse(types[i], &f.m);
            if (!ends_with(payload_text(types[i], root), MARKER))
                fail_msg("%s: %zu characters were not cut", p->name, max + 1);
            json_decref(root);
            free(text);
            free(f.text);
        }
    }
    /* Teams counts bytes and webhooks have no limit: not in characters. */
    assert_null(provider_for(CHANNEL_TEAMS)->text_max);
    assert_null(provider_for(CHANNEL_WEBHOOK)->text_max);
    free(title);
}

static void test_truncate(void **state)
{
    char *s;

    /* Short enough: unchanged. */
    s = provider_truncate("caf\xc3\xa9", 4);
    assert_string_equal(s, "caf\xc3\xa9");
    free(s);
    s = provider_truncate("", 0);
    assert_string_equal(s, "");
    free(s);

    /* 30 two-byte characters into 20: 6 of them and the 14-character marker. */
    char thirty[61];
    for (int i = 0; i < 30; i++)
        memcpy(thirty + 2 * i, "\xc3\xa9", 2);
    thirty[60] = '\0';
    s = provider_truncate(thirty, 20);
    assert_string_equal(s, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" MARKER);
    assert_int_equal(cp_len(s), 20);
    free(s);

    /* Four-byte characters: whole ones only, counted as one each. */
    s = provider_truncate("\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8"
                          "\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8"
                          "\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8"
                          "\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8"
                          "\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8"
                          "\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8",
                          16);
    assert_string_equal(s, "\xf0\x9f\x9a\xa8\xf0\x9f\x9a\xa8" MARKER);
    free(s);

    /* Exactly at the limit: nothing cut; one over: cut. */
    s = provider_truncate("abcdefghijklmnopqrst", 20);
    assert_string_equal(s, "abcdefghijklmnopqrst");
    free(s);
    s = provider_truncate("abcdefghijklmnopqrstu", 20);
    assert_string_equal(s, "abcdef" MARKER);
    free(s);

    /* Whitespace before the cut is not doubled by the marker's own space. */
    s = provider_truncate("abc    defghijklmnopqrstuvwxyz", 20);
    assert_string_equal(s, "abc" MARKER);
    free(s);

    /* No room for the marker: a bare cut within the limit. */
    s = provider_truncate("caf\xc3\xa9 au lait", 4);
    assert_string_equal(s, "caf\xc3\xa9");
    free(s);
}

/* Slack and Mattermost never leave half an "&amp;" before the marker. */
static void test_truncate_entities(void **state)
{
    struct fixture f;
    struct strbuf sb = STRBUF_INIT;

    /* Put an "&amp;" across the cut point of a 3000-character section. */
    for (int i = 0; i < 2984; i++)
        strbuf_addch(&sb, 'x');
    strbuf_addstr(&sb, "&tail that goes on and on");
    fixture_init(&f, CHANNEL_SLACK, strbuf_str(&sb));
    assert_non_null(strstr(f.text, "x&amp;tail"));
    json_t *root = render_parse(CHANNEL_SLACK, &f.m);
    const char *got = str_at(root, "attachments/0/blocks/1/text/text");
    check_cut(got, 3000);
    assert_null(strstr(got, "&am"));
    assert_int_equal(strlen(got), 2984 + strlen(MARKER));
    json_decref(root);
    free(f.text);
    strbuf_release(&sb);
}

/* ---- classification ---------------------------------------------------- */

struct answer {
    long status;
    const char *body;
    int64_t header_ms; /* Retry-After as the caller found it */
    enum delivery_result want;
    int64_t want_ms;
};

static void check_answers(enum channel_type type, const struct answer *a, size_t n)
{
    const struct provider *p = provider_for(type);
    for (size_t i = 0; i < n; i++) {
        int64_t ms = a[i].header_ms;
        enum delivery_result got = p->classify(a[i].status, a[i].body, strlen(a[i].body), &ms);
        if (got != a[i].want || ms != a[i].want_ms)
            fail_msg("%s: %ld '%s': got %d (%lld ms), want %d (%lld ms)", p->name,
                     a[i].status, a[i].body, got, (long long)ms, a[i].want,
                     (long long)a[i].want_ms);
    }
}

static void test_classify_http(void **state)
{
    static const struct {
        long status;
        enum delivery_result want;
    } t[] = {
        {200, DELIVERY_OK},        {202, DELIVERY_OK},        {204, DELIVERY_OK},
        {299, DELIVERY_OK},        {301, DELIVERY_PERMANENT}, {302, DELIVERY_PERMANENT},
        {307, DELIVERY_PERMANENT}, {400, DELIVERY_PERMANENT}, {401, DELIVERY_PERMANENT},
        {403, DELIVERY_PERMANENT}, {404, DELIVERY_PERMANENT}, {405, DELIVERY_PERMANENT},
        {413, DELIVERY_PERMANENT}, {408, DELIVERY_RETRY},     {425, DELIVERY_RETRY},
        {429, DELIVERY_RETRY},     {410, DELIVERY_GONE},      {500, DELIVERY_RETRY},
        {502, DELIVERY_RETRY},     {503, DELIVERY_RETRY},     {599, DELIVERY_RETRY},
        {100, DELIVERY_RETRY},     {600, DELIVERY_RETRY},
    };
    for (size_t i = 0; i < ARRAY_SIZE(t); i++)
        if (provider_classify_http(t[i].status) != t[i].want)
            fail_msg("%ld: got %d want %d", t[i].status, provider_classify_http(t[i].status),
                     t[i].want);
}

static void test_classify_ok_body(void **state)
{
    static const struct answer t[] = {
        {200, "ok", -1, DELIVERY_OK, -1},
        {200, "invalid_payload", -1, DELIVERY_PERMANENT, -1},
        {200, "", -1, DELIVERY_PERMANENT, -1},
        {200, "okay", -1, DELIVERY_PERMANENT, -1},
        {400, "invalid_payload", -1, DELIVERY_PERMANENT, -1},
        {404, "no_service", -1, DELIVERY_PERMANENT, -1},
        {410, "channel_is_archived", -1, DELIVERY_GONE, -1},
        {429, "rate_limited", 30000, DELIVERY_RETRY, 30000},
        {302, "", -1, DELIVERY_PERMANENT, -1},
        {503, "", -1, DELIVERY_RETRY, -1},
        {500, "rollup_error", -1, DELIVERY_RETRY, -1},
    };
    check_answers(CHANNEL_SLACK, t, ARRAY_SIZE(t));
    check_answers(CHANNEL_MATTERMOST, t, ARRAY_SIZE(t));
}

static void test_classify_discord(void **state)
{
    static const struct answer t[] = {
        {204, "", -1, DELIVERY_OK, -1},
        {200, "{\"id\": \"1\"}", -1, DELIVERY_OK, -1},
        {429, "{\"message\": \"You are being rate limited.\", \"retry_after\": 1.5, "
              "\"global\": false}",
         2000, DELIVERY_RETRY, 1500},
        {429, "{\"retry_after\": 2}", -1, DELIVERY_RETRY, 2000},
        {429, "{\"retry_after\": 0.0001}", -1, DELIVERY_RETRY, 1},
        {429, "<html>cloudflare</html>", 3000, DELIVERY_RETRY, 3000},
        {429, "{\"retry_after\": \"soon\"}", 3000, DELIVERY_RETRY, 3000},
        {429, "{\"retry_after\": -4}", -1, DELIVERY_RETRY, -1},
        {429, "", -1, DELIVERY_RETRY, -1},
        {400, "{\"code\": 50035}", -1, DELIVERY_PERMANENT, -1},
        {404, "{\"message\": \"Unknown Webhook\"}", -1, DELIVERY_PERMANENT, -1},
        {410, "", -1, DELIVERY_GONE, -1},
        {302, "", -1, DELIVERY_PERMANENT, -1},
        {503, "", -1, DELIVERY_RETRY, -1},
    };
    check_answers(CHANNEL_DISCORD, t, ARRAY_SIZE(t));
}

static void test_classify_others(void **state)
{
    static const struct answer t[] = {
        {200, "", -1, DELIVERY_OK, -1},
        {202, "", -1, DELIVERY_OK, -1},
        {204, "", -1, DELIVERY_OK, -1},
        {200, "anything", -1, DELIVERY_OK, -1},
        {429, "{\"retry_after\": 1.5}", 4000, DELIVERY_RETRY, 4000},
        {410, "", -1, DELIVERY_GONE, -1},
        {302, "", -1, DELIVERY_PERMANENT, -1},
        {404, "", -1, DELIVERY_PERMANENT, -1},
        {503, "", -1, DELIVERY_RETRY, -1},
    };
    check_answers(CHANNEL_TEAMS, t, ARRAY_SIZE(t));
    check_answers(CHANNEL_GOOGLECHAT, t, ARRAY_SIZE(t));
    check_answers(CHANNEL_WEBHOOK, t, ARRAY_SIZE(t));
}

/* ---- webhook signatures ------------------------------------------------ */

static const char *header_value(const struct header_list *h, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < h->n; i++)
        if (!strncmp(h->v[i], name, n) && h->v[i][n] == ':' && h->v[i][n + 1] == ' ')
            return h->v[i] + n + 2;
    return NULL;
}

static void test_webhook_headers(void **state)
{
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    struct channel ch = {.name = "customers", .type = CHANNEL_WEBHOOK, .secret = (char *)secret};
    struct header_list h = {0};
    struct fixture f;

    fixture_init(&f, CHANNEL_WEBHOOK, NASTY);
    char *body = provider_for(CHANNEL_WEBHOOK)->render(&f.m);
    provider_for(CHANNEL_WEBHOOK)
        ->attempt_headers(&ch, f.m.notification_id, body, strlen(body), 1767225600, &h);
    assert_int_equal(h.n, 3);
    assert_string_equal(header_value(&h, "webhook-id"), "msg_r7f3a_declare_0_oncall_0");
    assert_string_equal(header_value(&h, "webhook-timestamp"), "1767225600");
    const char *sig = header_value(&h, "webhook-signature");
    assert_non_null(sig);
    assert_true(starts_with(sig, "v1,"));
    assert_int_equal(signature_verify(secret, header_value(&h, "webhook-id"),
                                      header_value(&h, "webhook-timestamp"), sig, body,
                                      strlen(body), 1767225610, SIGNATURE_TOLERANCE_S),
                     0);
    /* The signature covers the body: one byte changed, rejected. */
    body[strlen(body) - 2] ^= 1;
    assert_int_equal(signature_verify(secret, header_value(&h, "webhook-id"),
                                      header_value(&h, "webhook-timestamp"), sig, body,
                                      strlen(body), 1767225610, SIGNATURE_TOLERANCE_S),
                     -1);
    header_list_release(&h);
    assert_int_equal(h.n, 0);
    assert_null(h.v);

    /* No secret: the id and timestamp still go out, unsigned. */
    ch.secret = NULL;
    provider_for(CHANNEL_WEBHOOK)
        ->attempt_headers(&ch, f.m.notification_id, body, strlen(body), 1767225600, &h);
    assert_int_equal(h.n, 2);
    assert_string_equal(header_value(&h, "webhook-id"), f.m.notification_id);
    assert_string_equal(header_value(&h, "webhook-timestamp"), "1767225600");
    assert_null(header_value(&h, "webhook-signature"));
    header_list_release(&h);
    free(body);
    free(f.text);
}

static void test_header_list(void **state)
{
    struct header_list h = {0};
    for (int i = 0; i < 40; i++)
        header_list_add(&h, "X-N%d: %s", i, "v");
    assert_int_equal(h.n, 40);
    assert_string_equal(h.v[0], "X-N0: v");
    assert_string_equal(h.v[39], "X-N39: v");
    header_list_release(&h);
    assert_int_equal(h.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_slack),
        cmocka_unit_test(test_teams),
        cmocka_unit_test(test_discord),
        cmocka_unit_test(test_mattermost),
        cmocka_unit_test(test_googlechat),
        cmocka_unit_test(test_googlechat_url),
        cmocka_unit_test(test_webhook),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_text_max),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_truncate_entities),
        cmocka_unit_test(test_classify_http),
        cmocka_unit_test(test_classify_ok_body),
        cmocka_unit_test(test_classify_discord),
        cmocka_unit_test(test_classify_others),
        cmocka_unit_test(test_webhook_headers),
        cmocka_unit_test(test_header_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
