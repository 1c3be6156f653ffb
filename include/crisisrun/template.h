/*
 * template.h - message templates: "{{name}}" with dotted paths.
 *
 * Templates are compiled once, at load time, against the playbook's vars and
 * roles, so an unknown variable is a validation error and never an empty
 * string at send time.  Rendering substitutes values from a template_ctx and
 * escapes each *value* (never the author's literal text) for the target:
 * the caller then JSON-encodes the whole result through jansson, so JSON
 * escaping always applies on top.
 *
 * Variables: vars.NAME, roles.NAME, run.id, playbook.name, playbook.title,
 * severity, status, step, now, started, elapsed, next_update, latest_note,
 * trigger.step, trigger.waited (escalation steps only), feedback_url
 * (feedback request only), drill ("true"/"false").
 * Whitespace inside braces is allowed: "{{ status }}".
 */
#ifndef CRISISRUN_TEMPLATE_H
#define CRISISRUN_TEMPLATE_H

#include <stddef.h>

struct playbook;
struct template;

/* Contextual variables a template may use, beyond the always-available ones. */
#define TEMPLATE_ALLOW_TRIGGER 0x1      /* trigger.*: steps with on: escalation */
#define TEMPLATE_ALLOW_FEEDBACK_URL 0x2 /* feedback_url: feedback.request.message */

enum template_escape {
    TEMPLATE_ESCAPE_NONE,       /* plain text (generic webhooks, Teams) */
    TEMPLATE_ESCAPE_SLACK,      /* Slack mrkdwn: & < > as entities */
    TEMPLATE_ESCAPE_DISCORD,    /* Discord: defuse @everyone, @here, <@id>, <#id> */
    TEMPLATE_ESCAPE_MARKDOWN,   /* Markdown reports: backslash-escape control chars */
    TEMPLATE_ESCAPE_GOOGLECHAT, /* Google Chat: defuse <users/all>, <users/id>,
                                 * <url|text> (a zero-width space after '<') */
    TEMPLATE_ESCAPE_MATTERMOST, /* Mattermost: as Slack, and defuse @channel,
                                 * @all, @here in any case (a zero-width space
                                 * after '@'); @username stays */
    TEMPLATE_ESCAPE_COUNT
};

/*
 * Receives one compile problem: `offset` is the byte offset in the source
 * where the problem starts (the loader turns it into a line and column).
 */
typedef void (*template_report_fn)(void *arg, size_t offset, const char *msg);

/*
 * Compiles src.  Every problem (unclosed "{{", empty name, unknown variable,
 * variable not allowed here) is passed to report; returns NULL if there was
 * any, else a template owned by the caller (template_free).  `pb` supplies
 * the names of vars.* and roles.*; its vars and roles must be loaded first.
 * A did-you-mean suggestion is included for a misspelt name.
 */
struct template *template_compile(const char *src, const struct playbook *pb, unsigned allow,
                                  template_report_fn report, void *arg);
void template_free(struct template *t);

/* Values for rendering.  NULL members render as "" only where noted. */
struct template_ctx {
    const struct playbook *pb; /* vars.*, roles.*, playbook.*, severity */
    const char *run_id;
    const char *status;
    const char *step;
    const char *now;
    const char *started;
    const char *elapsed;
    const char *next_update;
    const char *latest_note; /* NULL renders as "" (no note yet) */
    const char *trigger_step;
    const char *trigger_waited;
    const char *feedback_url;
    int drill;
};

/* Renders t; returns a new string (caller frees). */
char *template_render(const struct template *t, const struct template_ctx *ctx,
                      enum template_escape esc);

/*
 * Cuts an escaped value to at most max_chars characters (never asked for
 * fewer than TEMPLATE_CUT_MIN, room for a marker), ending it with a visible
 * marker; with `entities`, never inside an HTML entity ("&amp;").
 * provider_truncate_text() is one.  Returns a new string.
 */
typedef char *(*template_cut_fn)(const char *value, size_t max_chars, int entities);
#define TEMPLATE_CUT_MIN 16

/*
 * As template_render() when the result has at most max_chars characters
 * (code points; 0: no limit).  Otherwise values are cut with cut(), the
 * longest first (never {{feedback_url}}, which cut leads nowhere), until
 * it fits, so that the author's own words ("Next update by
 * {{next_update}}.") reach the reader whole and only what made the message
 * too long (a long note) is shortened, with `entities` where the escape
 * writes entities (template_escape_entities()); the zero-width spaces
 * that joins may add (Discord, Google Chat, Mattermost) are counted.
 * Values are made valid UTF-8 (U+FFFD) first, so they are counted as they
 * will be sent.  When the literal text alone is too long, so is the
 * result: the caller's own cut still applies.  Returns a new string.
 */
char *template_render_fit(const struct template *t, const struct template_ctx *ctx,
                          enum template_escape esc, size_t max_chars,
                          template_cut_fn cut);

/*
 * 1 when esc writes HTML entities ("&amp;"), which a cut must not split
 * (Slack's and Mattermost's mrkdwn).
 */
int template_escape_entities(enum template_escape esc);

/* Escapes one value as template_render would (new string). */
char *template_escape_value(const char *s, enum template_escape esc);

/* 1 when the template refers to the named variable ("next_update"...). */
int template_uses(const struct template *t, const char *name);

#endif
