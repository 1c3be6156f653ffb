/* Unit tests for the template engine (template.h) and did-you-mean (suggest.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/model.h"
#include "crisisrun/provider.h"
#include "crisisrun/suggest.h"
#include "crisisrun/template.h"
#include "crisisrun/utf8.h"
#include "crisisrun/util.h"

struct problems {
    char msgs[8][200];
    size_t offs[8];
    int n;
};

static void collect(void *arg, size_t off, const char *msg)
{
    struct problems *p = arg;
    if (p->n < 8) {
        snprintf(p->msgs[p->n], sizeof(p->msgs[0]), "%s", msg);
        p->offs[p->n] = off;
    }
    p->n++;
}

static struct kv vars[] = {{"service", "checkout"}, {"status_url", "https://status.example.com"}};
static struct kv roles[] = {{"commander", "Alice <a@x>"}};

static struct playbook *fake_pb(void)
{
    static struct playbook pb;
    memset(&pb, 0, sizeof(pb));
    pb.name = "db-outage";
    pb.title = "Checkout DB outage";
    pb.severity = "sev1";
    pb.vars = vars;
    pb.nvars = 2;
    pb.roles = roles;
    pb.nroles = 1;
    return &pb;
}

static char *render(const char *src, enum template_escape esc, const struct template_ctx *ctx)
{
    struct problems p = {0};
    struct template *t = template_compile(src, ctx->pb, TEMPLATE_ALLOW_TRIGGER, collect, &p);
    assert_int_equal(p.n, 0);
    assert_non_null(t);
    char *out = template_render(t, ctx, esc);
    template_free(t);
    return out;
}

static void test_render_all_variables(void **state)
{
    (void)state;
    struct template_ctx c = {
        .pb = fake_pb(), .run_id = "r1", .status = "identified", .step = "declare",
        .now = "14:00 UTC", .started = "13:30 UTC", .elapsed = "30m",
        .next_update = "14:30 UTC", .latest_note = NULL, .trigger_step = "page",
        .trigger_waited = "10m", .drill = 1,
    };
    char *s = render("{{vars.service}} {{ roles.commander }} {{run.id}} {{playbook.name}}/"
                     "{{playbook.title}} {{severity}} {{status}} {{step}} {{now}} {{started}} "
                     "{{elapsed}} {{next_update}} [{{latest_note}}] {{trigger.step}} "
                     "{{trigger.waited}} {{drill}}",
                     TEMPLATE_ESCAPE_NONE, &c);
    assert_string_equal(s, "checkout Alice <a@x> r1 db-outage/Checkout DB outage sev1 identified "
                           "declare 14:00 UTC 13:30 UTC 30m 14:30 UTC [] page 10m true");
    free(s);
}

static void test_escaping_applies_to_values_only(void **state)
{
    (void)state;
    struct template_ctx c = {.pb = fake_pb(), .latest_note = "a & b <c> @everyone \"q\"\nnext"};
    char *s = render("<!here> {{latest_note}}", TEMPLATE_ESCAPE_SLACK, &c);
    assert_string_equal(s, "<!here> a &amp; b &lt;c&gt; @everyone \"q\"\nnext");
    free(s);
    s = render("*{{latest_note}}*", TEMPLATE_ESCAPE_DISCORD, &c);
    assert_string_equal(s, "*a & b <c> @\xe2\x80\x8b" "everyone \"q\"\nnext*");
    free(s);
    c.latest_note = "<@123> and <#456> and @here";
    s = render("{{latest_note}}", TEMPLATE_ESCAPE_DISCORD, &c);
    assert_null(strstr(s, "<@1"));
    assert_null(strstr(s, "<#4"));
    assert_null(strstr(s, "@here"));
    free(s);
    /* Google Chat: "<users/all>" pings the space, "<url|text>" hides a link. */
    c.latest_note = "<users/all> <https://x.example|y> a<b";
    s = render("<{{latest_note}}", TEMPLATE_ESCAPE_GOOGLECHAT, &c);
    assert_string_equal(
        s, "<<\xe2\x80\x8busers/all> <\xe2\x80\x8bhttps://x.example|y> "
           "a<\xe2\x80\x8b"
           "b");
    free(s);
    /* An author's '<' before a value cannot complete a mention either. */
    c.latest_note = "users/all>";
    s = render("<{{latest_note}}", TEMPLATE_ESCAPE_GOOGLECHAT, &c);
    assert_string_equal(s, "<\xe2\x80\x8busers/all>");
    free(s);
    s = render("<users/all>{{latest_note}}", TEMPLATE_ESCAPE_GOOGLECHAT, &c);
    assert_string_equal(s, "<users/all>users/all>"); /* the author's own is theirs */
    free(s);
    c.latest_note = "ers/all>";
    s = render("<us{{latest_note}}", TEMPLATE_ESCAPE_GOOGLECHAT, &c);
    assert_string_equal(s, "<us\xe2\x80\x8b"
                           "ers/all>");
    free(s);
    /* ... but an author's own link around a value stays a link. */
    c.latest_note = "https://runbook.example/db";
    s = render("<{{latest_note}}|Runbook>", TEMPLATE_ESCAPE_GOOGLECHAT, &c);
    assert_string_equal(s, "<https://runbook.example/db|Runbook>");
    free(s);
    c.latest_note = "Caf\xc3\xa9 \xe2\x9c\x93 *bold* [x](y)";
    s = render("{{latest_note}}", TEMPLATE_ESCAPE_MARKDOWN, &c);
    assert_string_equal(s, "Caf\xc3\xa9 \xe2\x9c\x93 \\*bold\\* \\[x\\]\\(y\\)");
    free(s);
}

#define ZW "\xe2\x80\x8b" /* U+200B ZERO WIDTH SPACE */

/* Mattermost notifies the whole channel for "@channel", "@all", "@here" in
 * any case: a value quotes one without doing it; a person's name stays. */
static void test_mattermost_mentions(void **state)
{
    (void)state;
    struct template_ctx c = {
        .pb = fake_pb(),
        .latest_note = "@channel, @ALL. @Here! @all-hands @here_ops x@here <b> & @alice "
                       "@allison @Channel42 @all"};
    char *s = render("@here {{latest_note}}", TEMPLATE_ESCAPE_MATTERMOST, &c);
    assert_string_equal(s, "@here @" ZW "channel, @" ZW "ALL. @" ZW "Here! @" ZW
                           "all-hands @" ZW "here_ops x@" ZW
                           "here &lt;b&gt; &amp; @alice @allison @Channel42 @" ZW "all");
    free(s);
    /* Slack's escape, which Mattermost had before, leaves them alone. */
    s = render("{{latest_note}}", TEMPLATE_ESCAPE_SLACK, &c);
    assert_non_null(strstr(s, "@channel, @ALL. @Here!"));
    free(s);

    /* An author's '@' (or "@cha") before a value cannot complete one... */
    c.latest_note = "ALL is down";
    s = render("@{{latest_note}}", TEMPLATE_ESCAPE_MATTERMOST, &c);
    assert_string_equal(s, "@" ZW "ALL is down");
    free(s);
    c.latest_note = "nnel: db";
    s = render("@cha{{latest_note}}", TEMPLATE_ESCAPE_MATTERMOST, &c);
    assert_string_equal(s, "@cha" ZW "nnel: db");
    free(s);
    /* ...nor a value ending in '@' before the author's "here", or an empty
     * value between the two halves... */
    c.latest_note = "ping @";
    s = render("{{latest_note}}here.", TEMPLATE_ESCAPE_MATTERMOST, &c);
    assert_string_equal(s, "ping @" ZW "here.");
    free(s);
    c.latest_note = "";
    s = render("@he{{latest_note}}re", TEMPLATE_ESCAPE_MATTERMOST, &c);
    assert_string_equal(s, "@he" ZW "re");
    free(s);
    /* ...but "@{{roles.x}}" still pings the person the role names, and the
     * author's own "@channel" is theirs. */
    c.latest_note = "allison";
    s = render("@{{latest_note}} @channel", TEMPLATE_ESCAPE_MATTERMOST, &c);
    assert_string_equal(s, "@allison @channel");
    free(s);
    c.latest_note = "alice";
    s = render("@{{latest_note}}", TEMPLATE_ESCAPE_MATTERMOST, &c);
    assert_string_equal(s, "@alice");
    free(s);

    /* template_escape_value (headlines, fields, broadcast notes) too. */
    s = template_escape_value("[DRILL] @CHANNEL & <x>", TEMPLATE_ESCAPE_MATTERMOST);
    assert_string_equal(s, "[DRILL] @" ZW "CHANNEL &amp; &lt;x&gt;");
    free(s);
}

static void test_unknown_variable_is_an_error(void **state)
{
    (void)state;
    struct problems p = {0};
    struct template *t =
        template_compile("Status {{stauts}} for {{vars.servise}} {{roles.x}} {{xyzzy}}",
                         fake_pb(), 0, collect, &p);
    assert_null(t);
    assert_int_equal(p.n, 4);
    assert_string_equal(p.msgs[0], "unknown template variable 'stauts' (did you mean 'status'?)");
    assert_int_equal(p.offs[0], 9);
    assert_string_equal(p.msgs[1],
                        "unknown template variable 'vars.servise' (did you mean 'vars.service'?)");
    assert_string_equal(p.msgs[2], "unknown template variable 'roles.x'");
    assert_string_equal(p.msgs[3], "unknown template variable 'xyzzy'");
}

/* A name resolves only when it is a whole variable's name: not a prefix of
 * one, not one with more after it. */
static void test_names_match_whole(void **state)
{
    (void)state;
    static const char *const unknown[] = {
        "{{statu}}",          "{{statuses}}",         "{{vars.}}", "{{vars.servic}}",
        "{{vars.service.x}}", "{{roles.commanders}}", "{{run}}",   "{{s}}"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct problems p = {0};
        struct template *t = template_compile(unknown[i], fake_pb(), 0, collect, &p);
        assert_null(t);
        assert_int_equal(p.n, 1);
        assert_non_null(strstr(p.msgs[0], "unknown template variable"));
    }
    struct template_ctx c = {.pb = fake_pb(), .status = "monitoring", .run_id = "r9"};
    char *s = render("{{status}}|{{vars.status_url}}|{{vars.service}}|{{run.id}}",
                     TEMPLATE_ESCAPE_NONE, &c);
    assert_string_equal(s, "monitoring|https://status.example.com|checkout|r9");
    free(s);
}

static void test_contextual_variables(void **state)
{
    (void)state;
    struct problems p = {0};
    assert_null(template_compile("{{trigger.step}}", fake_pb(), 0, collect, &p));
    assert_string_equal(p.msgs[0], "template variable 'trigger.step' is only available in "
                                   "steps with 'on: escalation'");
    p.n = 0;
    assert_null(template_compile("{{feedback_url}}", fake_pb(), 0, collect, &p));
    assert_string_equal(p.msgs[0], "template variable 'feedback_url' is only available in "
                                   "feedback.request.message");
    p.n = 0;
    struct template *t =
        template_compile("{{feedback_url}}", fake_pb(), TEMPLATE_ALLOW_FEEDBACK_URL, collect, &p);
    assert_non_null(t);
    assert_true(template_uses(t, "feedback_url"));
    assert_false(template_uses(t, "status"));
    template_free(t);
}

static void test_malformed(void **state)
{
    (void)state;
    struct problems p = {0};
    assert_null(template_compile("abc {{status", fake_pb(), 0, collect, &p));
    assert_string_equal(p.msgs[0], "unclosed '{{' in template (close it with '}}')");
    assert_int_equal(p.offs[0], 4);
    p.n = 0;
    assert_null(template_compile("{{ }} {{a b}}", fake_pb(), 0, collect, &p));
    assert_int_equal(p.n, 2);
    assert_string_equal(p.msgs[0], "empty template variable '{{}}'");
    assert_string_equal(p.msgs[1], "invalid template variable name 'a b'");
    /* Literal text around and single braces pass through unchanged. */
    struct template_ctx c = {.pb = fake_pb(), .status = "monitoring"};
    char *s = render("{x} {{status}}} }}", TEMPLATE_ESCAPE_NONE, &c);
    assert_string_equal(s, "{x} monitoring} }}");
    free(s);
    s = render("", TEMPLATE_ESCAPE_NONE, &c);
    assert_string_equal(s, "");
    free(s);
}

static void test_suggest(void **state)
{
    (void)state;
    struct suggest sg = SUGGEST_INIT;
    const char *keys[] = {"at", "after", "every", "from", "until", "on", "notify", "message"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        suggest_add(&sg, keys[i]);
    assert_string_equal(suggest_best(&sg, "evrey"), "every");
    assert_string_equal(suggest_best(&sg, "notfy"), "notify");
    assert_string_equal(suggest_best(&sg, "mesage"), "message");
    assert_null(suggest_best(&sg, "banana"));
    assert_null(suggest_best(&sg, "every"));
    assert_int_equal(suggest_distance("ab", "ba"), 1);
    suggest_release(&sg);
}

#define MARKER " \xe2\x80\xa6 (truncated)"

static char *render_fit(const char *src, enum template_escape esc, const char *note,
                        size_t max)
{
    struct template_ctx c = {.pb = fake_pb(),
                             .status = "identified",
                             .next_update = "14:30 UTC",
                             .latest_note = note};
    struct problems p = {0};
    struct template *t = template_compile(src, c.pb, 0, collect, &p);
    assert_non_null(t);
    char *out = template_render_fit(t, &c, esc, max, provider_truncate_text);
    template_free(t);
    return out;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* A long note is shortened where it stands: the author's words after it
 * (the next update) are kept, and the message is within the limit. */
static void test_render_fit_keeps_the_authors_words(void **state)
{
    (void)state;
    char note[5001];
    memset(note, 'n', 5000);
    note[5000] = '\0';
    const char *src = "Cause: {{latest_note}} Next update by {{next_update}}.";

    /* Room enough: exactly template_render(). */
    char *s = render_fit(src, TEMPLATE_ESCAPE_NONE, "short", 100);
    assert_string_equal(s, "Cause: short Next update by 14:30 UTC.");
    free(s);
    s = render_fit(src, TEMPLATE_ESCAPE_NONE, note, 0); /* 0: no limit */
    assert_int_equal(strlen(s), 7 + 5000 + 26);
    free(s);

    s = render_fit(src, TEMPLATE_ESCAPE_NONE, note, 3000);
    assert_int_equal(utf8_len(s), 3000);
    assert_true(ends_with(s, MARKER " Next update by 14:30 UTC."));
    assert_true(!strncmp(s, "Cause: nnnn", 11));
    free(s);

    /* Two values: the longer is cut, the short one is kept whole. */
    s = render_fit("{{vars.service}}: {{latest_note}} ({{status}})", TEMPLATE_ESCAPE_NONE,
                   note, 100);
    assert_int_equal(utf8_len(s), 100);
    assert_true(!strncmp(s, "checkout: nnn", 13));
    assert_true(ends_with(s, MARKER " (identified)"));
    free(s);
    /* Both long enough to cut: the longest goes, wherever it stands. */
    s = render_fit("{{vars.status_url}}: {{latest_note}}", TEMPLATE_ESCAPE_NONE, note,
                   100);
    assert_int_equal(utf8_len(s), 100);
    assert_true(!strncmp(s, "https://status.example.com: nnn", 31));
    free(s);
    s = render_fit("{{latest_note}} at {{vars.status_url}}", TEMPLATE_ESCAPE_NONE, note,
                   100);
    assert_int_equal(utf8_len(s), 100);
    assert_true(ends_with(s, MARKER " at https://status.example.com"));
    free(s);

    /* Counted in characters, never splitting one; invalid bytes count as
     * the U+FFFD they become. */
    char wide[3 * 1000 + 2];
    for (int i = 0; i < 1000; i++)
        memcpy(wide + 3 * i, "\xe2\x9c\x93", 3);
    memcpy(wide + 3000, "\xff", 2);
    s = render_fit(src, TEMPLATE_ESCAPE_NONE, wide, 500);
    assert_int_equal(utf8_check(s, strlen(s)), strlen(s));
    assert_int_equal(utf8_len(s), 500);
    assert_true(ends_with(s, MARKER " Next update by 14:30 UTC."));
    free(s);
    /* The feedback link is never the one cut, even when longest. */
    {
        char url[151], shortnote[101];
        memset(url, 'u', 150);
        memcpy(url, "https://", 8);
        url[150] = '\0';
        memset(shortnote, 'n', 100);
        shortnote[100] = '\0';
        struct template_ctx c = {
            .pb = fake_pb(), .latest_note = shortnote, .feedback_url = url};
        struct problems p = {0};
        struct template *t = template_compile("{{latest_note}} {{feedback_url}}", c.pb,
                                              TEMPLATE_ALLOW_FEEDBACK_URL, collect, &p);
        assert_non_null(t);
        s = template_render_fit(t, &c, TEMPLATE_ESCAPE_NONE, 200, provider_truncate_text);
        template_free(t);
        assert_int_equal(utf8_len(s), 200);
        assert_true(ends_with(s, url));
        assert_true(!strncmp(s, "nnn", 3));
        free(s);
    }

    /* Lone continuation bytes: nothing until they are made U+FFFD. */
    s = render_fit("{{latest_note}}!", TEMPLATE_ESCAPE_NONE,
                   "\x80\x80\x80\x80\x80\x80\x80"
                   "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80",
                   20);
    assert_int_equal(utf8_len(s), 20); /* 20 U+FFFD and "!" did not fit */
    assert_true(ends_with(s, MARKER "!"));
    free(s);

    /* The author's words alone are too long: values go down to
     * TEMPLATE_CUT_MIN characters, marker included,
     * and the caller's cut deals with the rest. */
    s = render_fit("A long literal text. {{latest_note}} Next update by {{next_update}}.",
                   TEMPLATE_ESCAPE_NONE, note, 40);
    assert_string_equal(s, "A long literal text. nn" MARKER " Next update by 14:30 UTC.");
    free(s);
}

/* Slack and Mattermost: a cut never leaves half an entity; Discord and
 * Mattermost: the joins' zero-width spaces are counted and no mention is
 * made by the cut. */
static void test_render_fit_escapes(void **state)
{
    (void)state;
    char note[2001];
    for (int i = 0; i < 2000; i++)
        note[i] = "a&<@"[i % 4];
    note[2000] = '\0';
    for (size_t max = 40; max < 60; max++) {
        char *s = render_fit("{{latest_note}} Next.", TEMPLATE_ESCAPE_SLACK, note, max);
        assert_true(utf8_len(s) <= max);
        assert_true(ends_with(s, MARKER " Next."));
        const char *amp = strrchr(s, '&');
        assert_non_null(amp);
        assert_true(!strncmp(amp, "&amp;", 5) || !strncmp(amp, "&lt;", 4));
        free(s);
    }
    for (size_t max = 40; max < 60; max++) {
        char *s = render_fit("@{{latest_note}}{{latest_note}} @", TEMPLATE_ESCAPE_DISCORD,
                             "everyone <@everyone @here", max);
        assert_true(utf8_len(s) <= max);
        assert_null(strstr(s, "@everyone"));
        assert_null(strstr(s, "<@"));
        assert_null(strstr(s, "@here"));
        free(s);
    }
    char mm[2001];
    for (int i = 0; i < 2000; i++)
        mm[i] = "@all&<"[i % 6];
    mm[2000] = '\0';
    for (size_t max = 40; max < 60; max++) {
        char *s =
            render_fit("{{latest_note}} Next.", TEMPLATE_ESCAPE_MATTERMOST, mm, max);
        assert_true(utf8_len(s) <= max);
        assert_true(ends_with(s, MARKER " Next."));
        assert_null(strstr(s, "@all"));
        const char *amp = strrchr(s, '&');
        assert_non_null(amp);
        assert_true(!strncmp(amp, "&amp;", 5) || !strncmp(amp, "&lt;", 4));
        free(s);
        /* Each join may add a zero-width space: counted, and no mention. */
        s = render_fit("@cha{{latest_note}}{{latest_note}} @", TEMPLATE_ESCAPE_MATTERMOST,
                       "nnel. @here @cha", max);
        assert_true(utf8_len(s) <= max);
        assert_null(strstr(s, "@here"));
        assert_null(strstr(s, "@channel"));
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_all_variables),
        cmocka_unit_test(test_escaping_applies_to_values_only),
        cmocka_unit_test(test_mattermost_mentions),
        cmocka_unit_test(test_unknown_variable_is_an_error),
        cmocka_unit_test(test_names_match_whole),
        cmocka_unit_test(test_contextual_variables),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_render_fit_keeps_the_authors_words),
        cmocka_unit_test(test_render_fit_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
