/*
 * feedback_page.c - the HTML of the feedback form and its message pages
 * (see feedback_page.h).
 *
 * Accessibility is structural, not decorative: one <fieldset>/<legend> per
 * rating question with a <label> for every choice, a <label> for every
 * text box, hints and errors tied to their field with aria-describedby,
 * an error summary with role="alert" that links to each field, and native
 * controls only (keyboard and screen readers work without any script).
 * The CSS follows the reader's light or dark preference.
 */
#include "feedback_page.h"

#include <stdio.h>
#include <string.h>

#include "crisisrun/util.h"

static const char style[] =
    ":root{color-scheme:light dark;--fg:#1f2328;--muted:#505a64;--bg:#f3f4f6;--card:#fff;"
    "--rule:#d0d7de;--line:#7d8590;--accent:#0b57d0;--on-accent:#fff;--err:#b3261e;"
    "--drill-bg:#fff4ce;--drill-fg:#5c4400}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#a4aeb8;--bg:#0d1117;"
    "--card:#161b22;--rule:#30363d;--line:#8b949e;--accent:#79b8ff;--on-accent:#0d1117;"
    "--err:#ff9b93;--drill-bg:#3d3000;--drill-fg:#ffe08a}}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:1.0625rem/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}"
    "main{max-width:42rem;margin:0 auto;padding:2rem 1rem 3rem}"
    ".card{background:var(--card);border:1px solid var(--rule);border-radius:12px;"
    "padding:1.75rem 1.5rem 2rem}"
    ".eyebrow{margin:0 0 .25rem;color:var(--muted);font-size:.95rem}"
    "h1{font-size:1.65rem;line-height:1.25;margin:0 0 .75rem}"
    ".lead{margin:0 0 1.75rem}"
    ".drill{display:inline-block;margin:0 0 1rem;padding:.15rem .6rem;border-radius:6px;"
    "background:var(--drill-bg);color:var(--drill-fg);font-weight:700;font-size:.95rem}"
    "fieldset{border:0;margin:0 0 1.75rem;padding:0;min-width:0}"
    "legend,.label{display:block;font-weight:600;font-size:1.1rem;line-height:1.35;"
    "margin:0 0 .3rem;padding:0}"
    ".hint{margin:0 0 .65rem;color:var(--muted);font-size:.95rem}"
    ".scale{display:flex;flex-wrap:wrap;gap:.5rem}"
    ".choice{display:inline-flex;align-items:center;gap:.45rem;padding:.5rem .85rem;"
    "min-width:3.4rem;border:1px solid var(--line);border-radius:8px;"
    "background:var(--card);cursor:pointer;font-variant-numeric:tabular-nums}"
    ".choice:has(input:checked){border-color:var(--accent);"
    "box-shadow:inset 0 0 0 1px var(--accent)}"
    ".choice:focus-within{outline:3px solid var(--accent);outline-offset:2px}"
    ".choice input{width:1.15rem;height:1.15rem;margin:0;accent-color:var(--accent)}"
    ".field{margin:0 0 1.75rem}"
    "textarea,input[type=text]{display:block;width:100%;font:inherit;color:inherit;"
    "background:var(--card);border:1px solid var(--line);border-radius:8px;"
    "padding:.6rem .75rem}"
    "textarea{min-height:8rem;resize:vertical}"
    "textarea:focus,input[type=text]:focus{"
    "outline:3px solid var(--accent);outline-offset:1px}"
    ".invalid textarea,.invalid input[type=text],.invalid .choice{"
    "border-color:var(--err)}"
    ".about .field,.check .hint{margin:0}"
    ".about{border-top:1px solid var(--rule);padding-top:1.5rem}"
    ".check{display:flex;gap:.6rem;align-items:flex-start;margin-top:1rem}"
    ".check input{width:1.2rem;height:1.2rem;margin:.2rem 0 0;flex:none;"
    "accent-color:var(--accent)}"
    "button{font:inherit;font-weight:600;color:var(--on-accent);background:var(--accent);"
    "border:0;border-radius:8px;padding:.75rem 1.6rem;cursor:pointer}"
    "button:focus-visible{outline:3px solid var(--fg);outline-offset:3px}"
    ".errors{border:2px solid var(--err);border-radius:8px;padding:1rem 1.25rem;"
    "margin:0 0 1.75rem}"
    ".errors h2{font-size:1.15rem;margin:0 0 .4rem;color:var(--err)}"
    ".errors ul{margin:0;padding-left:1.2rem}"
    ".errors a{color:var(--err);font-weight:600}"
    ".error{color:var(--err);font-weight:600;margin:0 0 .5rem}"
    ".note{margin:1.5rem 0 0;color:var(--muted);font-size:.9rem}"
    "@media (max-width:30rem){main{padding:1rem .5rem 2rem}"
    ".card{padding:1.25rem 1rem 1.5rem}.scale{gap:.4rem}"
    ".choice{min-width:0;padding:.5rem .6rem;gap:.35rem}}"
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);"
    "white-space:nowrap}";

/* The document up to and including <main>; doc_title and title are raw. */
static void page_open(struct strbuf *sb, const char *doc_title, const char *title)
{
    strbuf_addstr(
        sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"referrer\" content=\"no-referrer\">\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
    strbuf_add_html(sb, doc_title);
    if (title) {
        strbuf_addstr(sb, " \xe2\x80\x93 ");
        strbuf_add_html(sb, title);
    }
    strbuf_addf(
        sb,
        "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n<div class=\"card\">\n",
        style);
}

static void page_close(struct strbuf *sb)
{
    strbuf_addstr(sb, "</div>\n</main>\n</body>\n</html>\n");
}

/* "Feedback on TITLE", and the drill marker. */
static void page_banner(struct strbuf *sb, const char *title, int drill)
{
    if (drill)
        strbuf_addstr(sb, "<p class=\"drill\">Drill: this was a rehearsal, not a real "
                          "incident</p>\n");
    if (title)
        strbuf_addstr(sb, "<p class=\"eyebrow\">Feedback on</p>\n");
}

void feedback_page_message(struct strbuf *sb, const char *title, int drill,
                           const char *heading, const char *text)
{
    page_open(sb, heading, title);
    page_banner(sb, title, drill);
    if (title) {
        strbuf_addstr(sb, "<p class=\"label\">");
        if (drill)
            strbuf_addstr(sb, "[DRILL] ");
        strbuf_add_html(sb, title);
        strbuf_addstr(sb, "</p>\n");
    }
    strbuf_addstr(sb, "<h1>");
    strbuf_add_html(sb, heading);
    strbuf_addstr(sb, "</h1>\n<p>");
    strbuf_add_html(sb, text);
    strbuf_addstr(sb, "</p>\n");
    page_close(sb);
}

static const char *at(const char *const *v, size_t i)
{
    return v && v[i] && *v[i] ? v[i] : NULL;
}

/* An error paragraph with the id ID-error. */
static void field_error(struct strbuf *sb, const char *id, const char *msg)
{
    strbuf_addf(
        sb, "<p class=\"error\" id=\"%s-error\"><span class=\"vh\">Error: </span>", id);
    strbuf_add_html(sb, msg);
    strbuf_addstr(sb, "</p>\n");
}

static void rating_question(struct strbuf *sb, const struct feedback_question *q,
                            const char *value, const char *err)
{
    char id[160];
    snprintf(id, sizeof(id), "q_%s", q->id);
    strbuf_addf(sb, "<fieldset%s aria-describedby=\"%s-hint%s%s%s\">\n<legend>",
                err ? " class=\"invalid\"" : "", id, err ? " " : "", err ? id : "",
                err ? "-error" : "");
    strbuf_add_html(sb, q->text);
    strbuf_addf(sb,
                "</legend>\n<p class=\"hint\" id=\"%s-hint\">1 is the lowest rating, %d "
                "the highest.</p>\n",
                id, q->scale);
    if (err)
        field_error(sb, id, err);
    strbuf_addstr(sb, "<div class=\"scale\">\n");
    for (int v = 1; v <= q->scale; v++) {
        char num[12];
        snprintf(num, sizeof(num), "%d", v);
        /* The label holds its radio: the whole tile is the target. */
        strbuf_addf(
            sb,
            "<label class=\"choice\" for=\"%s-%d\"><input type=\"radio\" id=\"%s-%d\" "
            "name=\"%s\" value=\"%d\"%s>%d</label>\n",
            id, v, id, v, id, v, value && !strcmp(value, num) ? " checked" : "", v);
    }
    strbuf_addstr(sb, "</div>\n</fieldset>\n");
}

static void text_question(struct strbuf *sb, const struct feedback_question *q,
                          const char *value, const char *err)
{
    char id[160];
    snprintf(id, sizeof(id), "q_%s", q->id);
    strbuf_addf(sb, "<div class=\"field%s\">\n<label class=\"label\" for=\"%s\">",
                err ? " invalid" : "", id);
    strbuf_add_html(sb, q->text);
    strbuf_addf(sb,
                "</label>\n<p class=\"hint\" id=\"%s-hint\">Optional. Up to %d "
                "characters.</p>\n",
                id, FEEDBACK_TEXT_MAX);
    if (err)
        field_error(sb, id, err);
    strbuf_addf(sb,
                "<textarea id=\"%s\" name=\"%s\" rows=\"6\" maxlength=\"%d\" "
                "aria-describedby=\"%s-hint%s%s%s\"%s>",
                id, id, FEEDBACK_TEXT_MAX, id, err ? " " : "", err ? id : "",
                err ? "-error" : "", err ? " aria-invalid=\"true\"" : "");
    /* A newline right after <textarea> is dropped by the parser: one is
     * added so that an answer starting with a line break keeps it. */
    strbuf_addch(sb, '\n');
    if (value)
        strbuf_add_html(sb, value);
    strbuf_addstr(sb, "</textarea>\n</div>\n");
}

static void error_summary(struct strbuf *sb, const struct feedback_page_form *f)
{
    size_t n = f->ngeneral + (f->name_error != NULL) + (f->anonymous_error != NULL);
    for (size_t i = 0; i < f->nq; i++)
        n += at(f->errors, i) != NULL;
    if (!n)
        return;
    strbuf_addstr(
        sb, "<div class=\"errors\" role=\"alert\" aria-labelledby=\"errors-title\">\n"
            "<h2 id=\"errors-title\">Your feedback was not sent yet</h2>\n<ul>\n");
    for (size_t i = 0; i < f->ngeneral; i++) {
        strbuf_addstr(sb, "<li>");
        strbuf_add_html(sb, f->general[i]);
        strbuf_addstr(sb, "</li>\n");
    }
    for (size_t i = 0; i < f->nq; i++) {
        const char *err = at(f->errors, i);
        if (!err)
            continue;
        /* A rating links to its first choice: a fieldset takes no focus. */
        strbuf_addf(sb, "<li><a href=\"#q_%s%s\">", f->q[i].id,
                    f->q[i].scale ? "-1" : "");
        strbuf_add_html(sb, f->q[i].text);
        strbuf_addstr(sb, "</a>: ");
        strbuf_add_html(sb, err);
        strbuf_addstr(sb, "</li>\n");
    }
    if (f->name_error) {
        strbuf_addstr(sb, "<li><a href=\"#name\">Your name</a>: ");
        strbuf_add_html(sb, f->name_error);
        strbuf_addstr(sb, "</li>\n");
    }
    if (f->anonymous_error) {
        strbuf_addstr(sb, "<li><a href=\"#anonymous\">Answer anonymously</a>: ");
        strbuf_add_html(sb, f->anonymous_error);
        strbuf_addstr(sb, "</li>\n");
    }
    strbuf_addstr(sb, "</ul>\n</div>\n");
}

static void about_you(struct strbuf *sb, const struct feedback_page_form *f)
{
    strbuf_addstr(sb, "<fieldset class=\"about\">\n<legend>About you</legend>\n");
    strbuf_addf(sb, "<div class=\"field%s\">\n", f->name_error ? " invalid" : "");
    strbuf_addstr(sb,
                  "<label class=\"label\" for=\"name\">Your name</label>\n"
                  "<p class=\"hint\" id=\"name-hint\">Optional. It helps us follow up on "
                  "your answers.</p>\n");
    if (f->name_error)
        field_error(sb, "name", f->name_error);
    strbuf_addf(sb,
                "<input type=\"text\" id=\"name\" name=\"name\" maxlength=\"%d\" "
                "autocomplete=\"name\" aria-describedby=\"name-hint%s\"%s value=\"",
                FEEDBACK_NAME_MAX, f->name_error ? " name-error" : "",
                f->name_error ? " aria-invalid=\"true\"" : "");
    if (f->name)
        strbuf_add_html(sb, f->name);
    strbuf_addstr(sb, "\">\n</div>\n");
    if (f->anonymous_error)
        field_error(sb, "anonymous", f->anonymous_error);
    strbuf_addf(sb,
                "<div class=\"check\"><input type=\"checkbox\" id=\"anonymous\" "
                "name=\"anonymous\" value=\"1\"%s aria-describedby=\"anonymous-hint\">"
                "<div><label for=\"anonymous\">Answer anonymously</label>\n"
                "<p class=\"hint\" id=\"anonymous-hint\">Your name is then "
                "not stored, even if you typed it.</p></div></div>\n",
                f->anonymous ? " checked" : "");
    strbuf_addstr(sb, "</fieldset>\n");
}

void feedback_page_form(struct strbuf *sb, const struct feedback_page_form *f)
{
    page_open(sb, "Feedback", f->title);
    page_banner(sb, f->title, f->drill);
    strbuf_addstr(sb, "<h1>");
    if (f->drill)
        strbuf_addstr(sb, "[DRILL] ");
    strbuf_add_html(sb, f->title ? f->title : "");
    strbuf_addstr(
        sb, "</h1>\n<p class=\"lead\">Tell us how we handled this incident and kept "
            "you informed. Every question is optional, but please answer at least "
            "one.</p>\n");
    error_summary(sb, f);
    strbuf_addstr(sb, "<form method=\"post\" action=\"");
    strbuf_add_html(sb, f->action ? f->action : "");
    strbuf_addstr(sb, "\" accept-charset=\"utf-8\">\n");
    for (size_t i = 0; i < f->nq; i++) {
        if (f->q[i].scale)
            rating_question(sb, &f->q[i], at(f->values, i), at(f->errors, i));
        else
            text_question(sb, &f->q[i], at(f->values, i), at(f->errors, i));
    }
    about_you(sb, f);
    strbuf_addstr(sb, "<button type=\"submit\">Send feedback</button>\n</form>\n"
                      "<p class=\"note\">This page uses no cookies and no scripts. Your "
                      "answers are stored with the incident's record and used to improve "
                      "how we respond.</p>\n");
    page_close(sb);
}
