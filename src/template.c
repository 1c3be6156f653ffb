/*
 * template.c - compiling and rendering message templates (see template.h).
 *
 * A template compiles to a list of segments: literal text, or a variable
 * reference resolved at compile time to an enum (and, for vars.* and
 * roles.*, an index into the playbook's arrays).  Rendering is then a single
 * pass with no lookups by name, which matters when one status update is
 * rendered for thousands of endpoints.
 */
#include "crisisrun/template.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crisisrun/model.h"
#include "crisisrun/suggest.h"
#include "crisisrun/utf8.h"
#include "crisisrun/util.h"

/* U+200B ZERO WIDTH SPACE: what defuses a mention without changing the text read. */
#define ZWSP "\xe2\x80\x8b"

enum var_id {
    V_LITERAL, /* not a variable: a literal segment */
    V_VARS,
    V_ROLES,
    V_RUN_ID,
    V_PLAYBOOK_NAME,
    V_PLAYBOOK_TITLE,
    V_SEVERITY,
    V_STATUS,
    V_STEP,
    V_NOW,
    V_STARTED,
    V_ELAPSED,
    V_NEXT_UPDATE,
    V_LATEST_NOTE,
    V_TRIGGER_STEP,
    V_TRIGGER_WAITED,
    V_FEEDBACK_URL,
    V_DRILL,
};

static const struct {
    const char *name;
    enum var_id id;
    unsigned needs; /* TEMPLATE_ALLOW_* required, 0 if always available */
} fixed_vars[] = {
    {"run.id", V_RUN_ID, 0},
    {"playbook.name", V_PLAYBOOK_NAME, 0},
    {"playbook.title", V_PLAYBOOK_TITLE, 0},
    {"severity", V_SEVERITY, 0},
    {"status", V_STATUS, 0},
    {"step", V_STEP, 0},
    {"now", V_NOW, 0},
    {"started", V_STARTED, 0},
    {"elapsed", V_ELAPSED, 0},
    {"next_update", V_NEXT_UPDATE, 0},
    {"latest_note", V_LATEST_NOTE, 0},
    {"trigger.step", V_TRIGGER_STEP, TEMPLATE_ALLOW_TRIGGER},
    {"trigger.waited", V_TRIGGER_WAITED, TEMPLATE_ALLOW_TRIGGER},
    {"feedback_url", V_FEEDBACK_URL, TEMPLATE_ALLOW_FEEDBACK_URL},
    {"drill", V_DRILL, 0},
};

struct segment {
    enum var_id id;
    size_t index;     /* V_VARS / V_ROLES: index in pb->vars / pb->roles */
    const char *text; /* V_LITERAL: the text; else the variable's name */
    size_t len;
};

/*
 * One allocation: the header, n segments, then their texts, each
 * NUL-terminated.  A 5,000-step playbook compiles as many templates of some
 * ten segments each; a malloc a segment and a growing array a template
 * were a tenth of `validate`'s instructions.
 */
struct template {
    size_t n;
    struct segment segs[];
};

void template_free(struct template *t)
{
    free(t);
}

static int valid_name(const char *s, size_t len)
{
    if (!len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
            return 0;
    return 1;
}

/* name (len bytes, not NUL-terminated) equals the string s */
static int name_is(const char *name, size_t len, const char *s)
{
    return *name == *s && !strncmp(name, s, len) && !s[len];
}

/* Collects every name a template may use here, for did-you-mean. */
static void candidate_names(const struct playbook *pb, unsigned allow, struct suggest *sg)
{
    for (size_t i = 0; i < ARRAY_SIZE(fixed_vars); i++)
        if (!fixed_vars[i].needs || (allow & fixed_vars[i].needs))
            suggest_add(sg, fixed_vars[i].name);
    for (size_t i = 0; pb && i < pb->nvars; i++)
        suggest_add_fmt(sg, "vars.%s", pb->vars[i].key);
    for (size_t i = 0; pb && i < pb->nroles; i++)
        suggest_add_fmt(sg, "roles.%s", pb->roles[i].key);
}

static void report_unknown(const char *name, const struct playbook *pb, unsigned allow,
                           template_report_fn report, void *arg, size_t off)
{
    struct suggest sg = SUGGEST_INIT;
    candidate_names(pb, allow, &sg);
    const char *best = suggest_best(&sg, name);
    char *msg;
    if (best)
        msg = xasprintf("unknown template variable '%s' (did you mean '%s'?)", name, best);
    else
        msg = xasprintf("unknown template variable '%s'", name);
    report(arg, off, msg);
    free(msg);
    suggest_release(&sg);
}

/* Resolves name (len bytes); returns 0 and fills id/index, or -1 after
 * reporting. */
static int resolve(const char *name, size_t len, const struct playbook *pb,
                   unsigned allow, template_report_fn report, void *arg, size_t off,
                   enum var_id *id, size_t *index)
{
    for (size_t i = 0; i < ARRAY_SIZE(fixed_vars); i++) {
        if (!name_is(name, len, fixed_vars[i].name))
            continue;
        if (fixed_vars[i].needs && !(allow & fixed_vars[i].needs)) {
            char *msg = xasprintf(fixed_vars[i].needs == TEMPLATE_ALLOW_TRIGGER
                                      ? "template variable '%s' is only available in "
                                        "steps with 'on: escalation'"
                                      : "template variable '%s' is only available in "
                                        "feedback.request.message",
                                  fixed_vars[i].name);
            report(arg, off, msg);
            free(msg);
            return -1;
        }
        *id = fixed_vars[i].id;
        *index = 0;
        return 0;
    }
    const struct kv *v = NULL;
    size_t nv = 0, klen = 0;
    const char *key = NULL;
    if (pb && len > 5 && !memcmp(name, "vars.", 5)) {
        v = pb->vars;
        nv = pb->nvars;
        *id = V_VARS;
        key = name + 5;
        klen = len - 5;
    } else if (pb && len > 6 && !memcmp(name, "roles.", 6)) {
        v = pb->roles;
        nv = pb->nroles;
        *id = V_ROLES;
        key = name + 6;
        klen = len - 6;
    }
    for (size_t i = 0; i < nv; i++) {
        if (name_is(key, klen, v[i].key)) {
            *index = i;
            return 0;
        }
    }
    char *copy = xstrndup(name, len);
    report_unknown(copy, pb, allow, report, arg, off);
    free(copy);
    return -1;
}

/* Room for the segments while compiling: most templates need no heap. */
struct seglist {
    struct segment *v, small[16];
    size_t n, alloc, bytes;
};

static void seg_add(struct seglist *l, enum var_id id, size_t index, const char *text,
                    size_t len)
{
    if (l->n == l->alloc) {
        size_t n = l->alloc * 2;
        struct segment *v = xmalloc(n * sizeof(*v));
        memcpy(v, l->v, l->n * sizeof(*v));
        if (l->v != l->small)
            free(l->v);
        l->v = v;
        l->alloc = n;
    }
    l->v[l->n++] = (struct segment){id, index, text, len};
    l->bytes += len + 1;
}

/* The segments, which point into the source, as one template of their own. */
static struct template *seg_pack(const struct seglist *l)
{
    struct template *t = xmalloc(sizeof(*t) + l->n * sizeof(t->segs[0]) + l->bytes);
    char *text = (char *)&t->segs[l->n];
    t->n = l->n;
    for (size_t i = 0; i < l->n; i++) {
        t->segs[i] = l->v[i];
        memcpy(text, l->v[i].text, l->v[i].len);
        text[l->v[i].len] = '\0';
        t->segs[i].text = text;
        text += l->v[i].len + 1;
    }
    return t;
}

struct template *template_compile(const char *src, const struct playbook *pb, unsigned allow,
                                  template_report_fn report, void *arg)
{
    struct seglist l = {0};
    l.v = l.small;
    l.alloc = ARRAY_SIZE(l.small);
    const char *p = src, *lit = src;
    int errors = 0;
    while ((p = strstr(p, "{{")) != NULL) {
        const char *open = p;
        const char *close = strstr(p + 2, "}}");
        if (!close) {
            report(arg, (size_t)(open - src), "unclosed '{{' in template (close it with '}}')");
            errors++;
            break;
        }
        if (open > lit)
            seg_add(&l, V_LITERAL, 0, lit, (size_t)(open - lit));
        const char *b = open + 2, *e = close;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        size_t len = (size_t)(e - b), off = (size_t)(b - src);
        /* Set by resolve() when it succeeds; -Os cannot tell. */
        enum var_id id = V_LITERAL;
        size_t index = 0;
        if (!valid_name(b, len)) {
            char *msg =
                len ? xasprintf("invalid template variable name '%.*s'", (int)len, b)
                    : xstrdup("empty template variable '{{}}'");
            report(arg, off, msg);
            free(msg);
            errors++;
        } else if (resolve(b, len, pb, allow, report, arg, off, &id, &index) < 0) {
            errors++;
        } else {
            seg_add(&l, id, index, b, len);
        }
        p = lit = close + 2;
    }
    if (*lit)
        seg_add(&l, V_LITERAL, 0, lit, strlen(lit));
    struct template *t = errors ? NULL : seg_pack(&l);
    if (l.v != l.small)
        free(l.v);
    return t;
}

/* Discord turns these into pings; a zero-width space after '@' defuses them. */
static int discord_mention_at(const char *s)
{
    return starts_with(s, "@everyone") || starts_with(s, "@here") || starts_with(s, "<@") ||
           starts_with(s, "<#");
}

/*
 * Mattermost notifies every member of a channel for "@channel", "@all" and
 * "@here", in any case ("@ALL"), unless a letter or digit follows: "@all."
 * and "@all_" do it, and older servers read "@all-hands" and "@all_hands"
 * as "@all" too; "@allison" is a person.  Returns 1 when s starts with one;
 * a zero-width space after the '@' defuses it.
 */
static const char *const mattermost_mentions[] = {"@channel", "@all", "@here"};

static int mattermost_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int mattermost_mention_at(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(mattermost_mentions); i++) {
        size_t len = strlen(mattermost_mentions[i]);
        if (!strncasecmp(s, mattermost_mentions[i], len) && !mattermost_word_char(s[len]))
            return 1;
    }
    return 0;
}

/* Slack's (and Mattermost's) entities for the characters mrkdwn reads. */
static void slack_escape_char(struct strbuf *sb, char c)
{
    if (c == '&')
        strbuf_addstr(sb, "&amp;");
    else if (c == '<')
        strbuf_addstr(sb, "&lt;");
    else if (c == '>')
        strbuf_addstr(sb, "&gt;");
    else
        strbuf_addch(sb, c);
}

static void escape_into(struct strbuf *sb, const char *s, enum template_escape esc)
{
    if (!s)
        return;
    if (esc == TEMPLATE_ESCAPE_NONE) {
        strbuf_addstr(sb, s);
        return;
    }
    for (; *s; s++) {
        char c = *s;
        switch (esc) {
        case TEMPLATE_ESCAPE_SLACK:
            slack_escape_char(sb, c);
            break;
        case TEMPLATE_ESCAPE_MATTERMOST:
            slack_escape_char(sb, c);
            if (c == '@' && mattermost_mention_at(s))
                strbuf_addstr(sb, ZWSP);
            break;
        case TEMPLATE_ESCAPE_DISCORD:
            strbuf_addch(sb, c);
            if ((c == '@' && discord_mention_at(s)) || (c == '<' && discord_mention_at(s)))
                strbuf_addstr(sb, ZWSP);
            break;
        case TEMPLATE_ESCAPE_GOOGLECHAT:
            /* Chat reads "<users/all>" as a mention of everyone in the space
             * and "<url|text>" as a link showing only text. */
            strbuf_addch(sb, c);
            if (c == '<')
                strbuf_addstr(sb, ZWSP);
            break;
        case TEMPLATE_ESCAPE_MARKDOWN:
            if (strchr("\\`*_{}[]()<>#+-!|~", c))
                strbuf_addch(sb, '\\');
            strbuf_addch(sb, c);
            break;
        default:
            strbuf_addch(sb, c);
        }
    }
}

int template_escape_entities(enum template_escape esc)
{
    return esc == TEMPLATE_ESCAPE_SLACK || esc == TEMPLATE_ESCAPE_MATTERMOST;
}

char *template_escape_value(const char *s, enum template_escape esc)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_init(&sb, s ? strlen(s) : 0);
    escape_into(&sb, s, esc);
    return strbuf_detach(&sb, NULL);
}

static const char *value_of(const struct segment *s, const struct template_ctx *c)
{
    const struct playbook *pb = c->pb;
    switch (s->id) {
    case V_VARS:
        return pb && s->index < pb->nvars ? pb->vars[s->index].value : "";
    case V_ROLES:
        return pb && s->index < pb->nroles ? pb->roles[s->index].value : "";
    case V_RUN_ID:
        return c->run_id;
    case V_PLAYBOOK_NAME:
        return pb ? pb->name : NULL;
    case V_PLAYBOOK_TITLE:
        return pb ? pb->title : NULL;
    case V_SEVERITY:
        return pb && pb->severity ? pb->severity : "";
    case V_STATUS:
        return c->status;
    case V_STEP:
        return c->step;
    case V_NOW:
        return c->now;
    case V_STARTED:
        return c->started;
    case V_ELAPSED:
        return c->elapsed;
    case V_NEXT_UPDATE:
        return c->next_update;
    case V_LATEST_NOTE:
        return c->latest_note ? c->latest_note : "";
    case V_TRIGGER_STEP:
        return c->trigger_step;
    case V_TRIGGER_WAITED:
        return c->trigger_waited;
    case V_FEEDBACK_URL:
        return c->feedback_url;
    case V_DRILL:
        return c->drill ? "true" : "false";
    case V_LITERAL:
        break;
    }
    return s->text;
}

/*
 * 1 when the end of sb and the start of next join into markup m that
 * escaping each value alone cannot see, as an author's "@" before a value
 * "everyone" would on Discord, or a value ending in '<' before "@id".
 * `fold`: in any case; `word_end`: only when no letter or digit follows.
 */
static int joins_one(const struct strbuf *sb, const char *next, const char *m, int fold,
                     int word_end)
{
    int (*cmp)(const char *, const char *, size_t) = fold ? strncasecmp : strncmp;
    size_t len = strlen(m);
    for (size_t k = 1; k < len; k++)
        if (sb->len >= k && !cmp(sb->buf + sb->len - k, m, k) &&
            !cmp(next, m + k, len - k) &&
            (!word_end || !mattermost_word_char(next[len - k])))
            return 1;
    return 0;
}

/* 1 when esc has joins that escaping each value alone cannot see. */
static int escape_has_joins(enum template_escape esc)
{
    return esc == TEMPLATE_ESCAPE_DISCORD || esc == TEMPLATE_ESCAPE_GOOGLECHAT ||
           esc == TEMPLATE_ESCAPE_MATTERMOST;
}

/*
 * 1 when the end of sb and the start of next would join into markup that
 * escaping each value alone cannot see: a mention on Discord, Mattermost
 * and Google Chat (an author's '<' before a value "users/all>").  Every
 * join has a value on one side (or between, when it is empty).
 */
static int joins_markup(enum template_escape esc, const struct strbuf *sb,
                        const char *next)
{
    static const char *const discord[] = {"@everyone", "@here", "<@", "<#"};
    int hit = 0;
    if (esc == TEMPLATE_ESCAPE_DISCORD)
        for (size_t i = 0; !hit && i < ARRAY_SIZE(discord); i++)
            hit = joins_one(sb, next, discord[i], 0, 0);
    if (esc == TEMPLATE_ESCAPE_MATTERMOST)
        for (size_t i = 0; !hit && i < ARRAY_SIZE(mattermost_mentions); i++)
            hit = joins_one(sb, next, mattermost_mentions[i], 1, 1);
    /* Only a mention: an author's "<{{vars.runbook}}|Runbook>" is their
     * own link, and stays one. */
    if (esc == TEMPLATE_ESCAPE_GOOGLECHAT)
        hit = joins_one(sb, next, "<users/", 1, 0);
    return hit;
}

/* Appends a rendered piece, kept apart from what comes before when the two
 * would join into markup (joins_markup). */
static void append_piece(struct strbuf *sb, const char *piece, enum template_escape esc)
{
    if (joins_markup(esc, sb, piece))
        strbuf_addstr(sb, ZWSP);
    strbuf_addstr(sb, piece);
}

char *template_render(const struct template *t, const struct template_ctx *ctx,
                      enum template_escape esc)
{
    struct strbuf sb = STRBUF_INIT, piece = STRBUF_INIT;
    strbuf_init(&sb, 256);
    for (size_t i = 0; t && i < t->n; i++) {
        const struct segment *s = &t->segs[i];
        if (!escape_has_joins(esc)) {
            if (s->id == V_LITERAL)
                strbuf_add(&sb, s->text, s->len);
            else
                escape_into(&sb, value_of(s, ctx), esc);
            continue;
        }
        strbuf_reset(&piece);
        if (s->id == V_LITERAL)
            strbuf_add(&piece, s->text, s->len);
        else
            escape_into(&piece, value_of(s, ctx), esc);
        append_piece(&sb, strbuf_str(&piece), esc);
    }
    strbuf_release(&piece);
    return strbuf_detach(&sb, NULL);
}

char *template_render_fit(const struct template *t, const struct template_ctx *ctx,
                          enum template_escape esc, size_t max_chars, template_cut_fn cut)
{
    char *out = template_render(t, ctx, esc);
    if (!max_chars || !t || !t->n || !cut)
        return out;
    char *clean = utf8_clean(out);
    size_t have = utf8_len(clean);
    free(clean);
    if (have <= max_chars)
        return out;
    free(out);

    /* Each segment as rendered; only values are candidates for the cut. */
    size_t n = t->n, total = 0;
    char **piece = xcalloc(n, sizeof(*piece));
    size_t *len = xcalloc(n, sizeof(*len));
    for (size_t i = 0; i < n; i++) {
        const struct segment *s = &t->segs[i];
        char *e = s->id == V_LITERAL ? xstrdup(s->text)
                                     : template_escape_value(value_of(s, ctx), esc);
        piece[i] = utf8_clean(e);
        free(e);
        len[i] = utf8_len(piece[i]);
        total += len[i];
    }
    /* A zero-width space may come between any two pieces (joins_markup). */
    size_t joins = escape_has_joins(esc) ? n - 1 : 0;
    while (total + joins > max_chars) {
        size_t big = n;
        /* Not the feedback link either: cut, it leads nowhere, and it is
         * what the feedback request is for. */
        for (size_t i = 0; i < n; i++)
            if (t->segs[i].id != V_LITERAL && t->segs[i].id != V_FEEDBACK_URL &&
                len[i] > TEMPLATE_CUT_MIN && (big == n || len[i] > len[big]))
                big = i;
        if (big == n)
            break; /* the author's words alone are too long */
        size_t excess = total + joins - max_chars, was = len[big];
        size_t keep = was > excess + TEMPLATE_CUT_MIN ? was - excess : TEMPLATE_CUT_MIN;
        char *c = cut(piece[big], keep, template_escape_entities(esc));
        free(piece[big]);
        piece[big] = c;
        len[big] = utf8_len(c);
        total = total - was + len[big];
        if (len[big] >= was)
            break; /* a cut that does not shorten would loop forever */
    }

    struct strbuf sb = STRBUF_INIT;
    strbuf_init(&sb, 256);
    for (size_t i = 0; i < n; i++) {
        append_piece(&sb, piece[i], esc);
        free(piece[i]);
    }
    free(piece);
    free(len);
    return strbuf_detach(&sb, NULL);
}

int template_uses(const struct template *t, const char *name)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->segs[i].id != V_LITERAL && !strcmp(t->segs[i].text, name))
            return 1;
    return 0;
}
