/*
 * fuzz_template.c - libFuzzer harness for template_compile() and
 * template_render() (template.h).
 *
 * Input: byte 0 chooses the allow flags (bits 0-1) and drill (bit 2); the
 * rest is the template source up to the first NUL, then a value up to the
 * next NUL (without a NUL, a fixed hostile value).  That value is given to
 * every variable at once: the playbook's vars, roles, name, title and
 * severity, and every member of the render context.
 *
 * Invariants: compile returns a template exactly when it reported no
 * problem; a template that compiles also compiles with more allowed; every
 * render of valid UTF-8 is valid UTF-8; each escaped value decodes back to
 * the value and holds nothing its target would interpret (Slack: no '<' or
 * '>'; Discord: no "@everyone", "@here", "<@", "<#"; Google Chat: no '<'
 * without a U+200B after it; Mattermost: Slack's, and no "@channel",
 * "@all", "@here" in any case unless a letter or digit follows;
 * Markdown: every special character backslash-escaped); and a value never
 * adds a '<', a '>' (Slack, Mattermost), a mention (Discord), "<users/"
 * (Google Chat) to a rendered message: the message holds exactly as many
 * as it holds with a blank value; nor a channel-wide mention (Mattermost):
 * it holds at most as many (a value may end one of the author's, as
 * "@all" + "ison").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/model.h"
#include "crisisrun/template.h"
#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"
#include "crisisrun/utf8.h"
#include "fuzz_common.h"

int fuzz_template_one(const uint8_t *data, size_t size);

#define TEMPLATE_HOSTILE                                                                 \
    "<!channel> @everyone & <@123> <#9> @here *_`#[x](y)\\ @Channel @ALL. @allison @"

struct fuzz_template_reports {
    size_t n;
    size_t srclen;
};

static void fuzz_template_report(void *arg, size_t offset, const char *msg)
{
    struct fuzz_template_reports *r = arg;
    FUZZ_CHECK(offset <= r->srclen);
    FUZZ_CHECK(msg[0] >= 'a' && msg[0] <= 'z');
    r->n++;
}

static struct template *fuzz_template_compile(const char *src, const struct playbook *pb,
                                              unsigned allow)
{
    struct fuzz_template_reports r = {0, strlen(src)};
    struct template *t = template_compile(src, pb, allow, fuzz_template_report, &r);
    FUZZ_CHECK((t == NULL) == (r.n > 0));
    return t;
}

/* A playbook whose vars and roles have fixed names and the value v. */
static void fuzz_template_playbook(struct playbook *pb, struct kv vars[3],
                                   struct kv roles[2], char *v)
{
    static char *const var_names[] = {"service", "status_url", "a-b"};
    static char *const role_names[] = {"commander", "comms"};
    memset(pb, 0, sizeof(*pb));
    for (size_t i = 0; i < 3; i++)
        vars[i] = (struct kv){var_names[i], v};
    for (size_t i = 0; i < 2; i++)
        roles[i] = (struct kv){role_names[i], v};
    pb->version = 1;
    pb->name = pb->title = pb->severity = v;
    pb->vars = vars;
    pb->nvars = 3;
    pb->roles = roles;
    pb->nroles = 2;
}

static struct template_ctx fuzz_template_ctx(const struct playbook *pb, const char *v,
                                             int drill)
{
    return (struct template_ctx){
        .pb = pb,
        .run_id = v,
        .status = v,
        .step = v,
        .now = v,
        .started = v,
        .elapsed = v,
        .next_update = v,
        .latest_note = v,
        .trigger_step = v,
        .trigger_waited = v,
        .feedback_url = v,
        .drill = drill,
    };
}

static int fuzz_template_utf8(const char *s)
{
    size_t len = strlen(s);
    return utf8_check(s, len) == len;
}

static const char *const fuzz_template_mentions[] = {"@everyone", "@here", "<@", "<#"};
#define FUZZ_TEMPLATE_ZWSP "\xe2\x80\x8b"

static size_t fuzz_template_count_mentions(const char *s)
{
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(fuzz_template_mentions); i++)
        n += fuzz_count(s, fuzz_template_mentions[i]);
    return n;
}

/* Mattermost's channel-wide mentions in s: "@all" in any case, not "@allison". */
static size_t fuzz_template_count_mm_mentions(const char *s)
{
    static const char *const mm[] = {"@channel", "@all", "@here"};
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        for (size_t i = 0; i < ARRAY_SIZE(mm); i++) {
            size_t len = strlen(mm[i]), k = 0;
            while (k < len && (p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]) == mm[i][k])
                k++;
            char after = k == len ? p[len] : 'x';
            n += k == len &&
                 !((after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z') ||
                   (after >= '0' && after <= '9'));
        }
    }
    return n;
}

/* s without any U+200B (new string). */
static char *fuzz_template_strip_zwsp(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_init(&sb, strlen(s));
    while (*s) {
        if (starts_with(s, FUZZ_TEMPLATE_ZWSP)) {
            s += 3;
            continue;
        }
        strbuf_addch(&sb, *s++);
    }
    return strbuf_detach(&sb, NULL);
}

/* Decodes e, escaped as for Slack, into sb; checks it holds no '<' or '>'. */
static void fuzz_template_slack_decode(const char *e, struct strbuf *sb)
{
    FUZZ_CHECK(!strchr(e, '<') && !strchr(e, '>'));
    for (const char *p = e; *p;) {
        if (starts_with(p, "&lt;")) {
            strbuf_addch(sb, '<'), p += 4;
        } else if (starts_with(p, "&gt;")) {
            strbuf_addch(sb, '>'), p += 4;
        } else {
            FUZZ_CHECK(*p != '&' || starts_with(p, "&amp;"));
            strbuf_addch(sb, *p);
            p += *p == '&' ? 5 : 1;
        }
    }
}

/* Checks that e is v escaped for esc, and decodes back to v. */
static void fuzz_template_check_escaped(const char *v, const char *e,
                                        enum template_escape esc)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_init(&sb, strlen(e));
    switch (esc) {
    case TEMPLATE_ESCAPE_NONE:
    case TEMPLATE_ESCAPE_COUNT: /* not an escape: never passed */
        strbuf_addstr(&sb, e);
        break;
    case TEMPLATE_ESCAPE_SLACK:
        fuzz_template_slack_decode(e, &sb);
        break;
    case TEMPLATE_ESCAPE_MATTERMOST: {
        /* Slack's entities, no channel-wide mention, and every U+200B added
         * right after an '@': without them, e decodes to v. */
        FUZZ_CHECK(fuzz_template_count_mm_mentions(e) == 0);
        FUZZ_CHECK(
            fuzz_count(e, FUZZ_TEMPLATE_ZWSP) - fuzz_count(e, "@" FUZZ_TEMPLATE_ZWSP) ==
            fuzz_count(v, FUZZ_TEMPLATE_ZWSP) - fuzz_count(v, "@" FUZZ_TEMPLATE_ZWSP));
        struct strbuf d = STRBUF_INIT;
        char *a = fuzz_template_strip_zwsp(e), *b = fuzz_template_strip_zwsp(v);
        fuzz_template_slack_decode(a, &d);
        FUZZ_CHECK(!strcmp(strbuf_str(&d), b));
        strbuf_release(&d);
        free(a);
        free(b);
        strbuf_addstr(&sb, v);
        break;
    }
    case TEMPLATE_ESCAPE_DISCORD:
    case TEMPLATE_ESCAPE_GOOGLECHAT: {
        if (esc == TEMPLATE_ESCAPE_DISCORD)
            FUZZ_CHECK(fuzz_template_count_mentions(e) == 0);
        else /* every '<' is followed by U+200B */
            for (const char *p = strchr(e, '<'); p; p = strchr(p + 1, '<'))
                FUZZ_CHECK(starts_with(p + 1, FUZZ_TEMPLATE_ZWSP));
        /* Without the zero-width spaces, e is v. */
        char *a = fuzz_template_strip_zwsp(e), *b = fuzz_template_strip_zwsp(v);
        FUZZ_CHECK(!strcmp(a, b));
        free(a);
        free(b);
        strbuf_addstr(&sb, v);
        break;
    }
    case TEMPLATE_ESCAPE_MARKDOWN:
        for (const char *p = e; *p; p++) {
            if (*p == '\\') {
                p++;
                FUZZ_CHECK(*p && strchr("\\`*_{}[]()<>#+-!|~", *p));
            } else {
                FUZZ_CHECK(!strchr("\\`*_{}[]()<>#+-!|~", *p));
            }
            strbuf_addch(&sb, *p);
        }
        break;
    }
    FUZZ_CHECK(!strcmp(strbuf_str(&sb), v));
    strbuf_release(&sb);
}

static void fuzz_template_check_render(const struct template *t, const char *v, int drill,
                                       int utf8)
{
    struct kv hv[3], hr[2], bv[3], br[2];
    struct playbook hostile, blank;
    fuzz_template_playbook(&hostile, hv, hr, (char *)v);
    fuzz_template_playbook(&blank, bv, br, " ");
    struct template_ctx hc = fuzz_template_ctx(&hostile, v, drill);
    struct template_ctx bc = fuzz_template_ctx(&blank, " ", drill);
    for (int esc = TEMPLATE_ESCAPE_NONE; esc < TEMPLATE_ESCAPE_COUNT; esc++) {
        char *h = template_render(t, &hc, (enum template_escape)esc);
        char *b = template_render(t, &bc, (enum template_escape)esc);
        FUZZ_CHECK(h && b);
        FUZZ_CHECK(!utf8 || fuzz_template_utf8(h));
        if (esc == TEMPLATE_ESCAPE_SLACK || esc == TEMPLATE_ESCAPE_MATTERMOST) {
            FUZZ_CHECK(fuzz_count(h, "<") == fuzz_count(b, "<"));
            FUZZ_CHECK(fuzz_count(h, ">") == fuzz_count(b, ">"));
        }
        if (esc == TEMPLATE_ESCAPE_DISCORD)
            FUZZ_CHECK(fuzz_template_count_mentions(h) ==
                       fuzz_template_count_mentions(b));
        /* A hostile value adds no Chat markup the blank one lacks. */
        if (esc == TEMPLATE_ESCAPE_GOOGLECHAT)
            FUZZ_CHECK(fuzz_count(h, "<users/") == fuzz_count(b, "<users/"));
        /* Nor a Mattermost channel-wide mention (it may end the author's). */
        if (esc == TEMPLATE_ESCAPE_MATTERMOST)
            FUZZ_CHECK(fuzz_template_count_mm_mentions(h) <=
                       fuzz_template_count_mm_mentions(b));
        free(h);
        free(b);
        char *e = template_escape_value(v, (enum template_escape)esc);
        fuzz_template_check_escaped(v, e, (enum template_escape)esc);
        free(e);
    }
    /* NULL members of the context render as "" where allowed, never crash. */
    struct template_ctx empty = {.pb = &hostile};
    free(template_render(t, &empty, TEMPLATE_ESCAPE_SLACK));
}

int fuzz_template_one(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned allow = data[0] & 3;
    int drill = (data[0] >> 2) & 1;
    const char *rest = (const char *)data + 1;
    size_t rlen = size - 1;
    const char *nul = memchr(rest, '\0', rlen);
    char *src = xstrndup(rest, nul ? (size_t)(nul - rest) : rlen);
    char *v = nul ? xstrndup(nul + 1, rlen - (size_t)(nul + 1 - rest))
                  : xstrdup(TEMPLATE_HOSTILE);
    int utf8 = fuzz_template_utf8(src) && fuzz_template_utf8(v);

    struct kv vars[3], roles[2];
    struct playbook pb;
    fuzz_template_playbook(&pb, vars, roles, v);
    struct template *t = fuzz_template_compile(src, &pb, allow);
    if (t) {
        /* More allowed never breaks a template that compiled. */
        struct template *all = fuzz_template_compile(src, &pb, 3);
        FUZZ_CHECK(all != NULL);
        template_free(all);
        FUZZ_CHECK(!template_uses(t, "trigger.step") || (allow & TEMPLATE_ALLOW_TRIGGER));
        FUZZ_CHECK(!template_uses(t, "feedback_url") ||
                   (allow & TEMPLATE_ALLOW_FEEDBACK_URL));
        FUZZ_CHECK(!template_uses(t, "status") || strstr(src, "status"));
        fuzz_template_check_render(t, v, drill, utf8);
    }
    /* Without a playbook, vars.* and roles.* are unknown: never a crash. */
    struct template *bare = fuzz_template_compile(src, NULL, allow);
    if (bare) {
        FUZZ_CHECK(t != NULL);
        struct template_ctx none = {.run_id = v, .drill = drill};
        free(template_render(bare, &none, TEMPLATE_ESCAPE_DISCORD));
    }
    template_free(bare);
    template_free(t);
    free(src);
    free(v);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_template_one(data, size);
}
#endif
