/*
 * feedback_form.c - the feedback form: routing, validation, rate limits
 * and storing a response (see feedback_form.h; the HTML is in
 * feedback_page.c).
 *
 * Validation is strict because a response must hold exactly what the
 * respondent was asked and chose to give: a field the form does not have,
 * an answer given twice or a rating off the scale is explained back to the
 * person, with everything they typed kept, instead of being dropped or
 * clamped.
 *
 * The rate limits live in a fixed table in this file: one process serves
 * one journal, and a flood of posts to many links cannot make the table
 * grow (the least recently used bucket is recycled).
 */
#include "crisisrun/feedback_form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crisisrun/form_parse.h"
#include "crisisrun/journal.h"
#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"
#include "crisisrun/utf8.h"
#include "feedback_page.h"

/* ---- rate limits ------------------------------------------------------------ */

struct bucket {
    char key[JOURNAL_FEEDBACK_TOKEN_LEN + 1]; /* "" = free */
    double level;                             /* posts available now */
    int64_t at_ms;                            /* monotonic time of `level` */
};

#define LINK_BUCKETS 256
#define BUCKET_PROBES 8
static struct bucket link_buckets[LINK_BUCKETS];
static struct bucket total_bucket = {"*", FEEDBACK_POSTS_TOTAL, 0};

/*
 * Takes one post from b (capacity per minute, refilled evenly).  Returns
 * 0, or the seconds to wait before one is available.
 */
static int bucket_take(struct bucket *b, int capacity, int64_t now)
{
    double per_ms = capacity / 60000.0;
    if (b->at_ms) {
        b->level += (double)(now - b->at_ms) * per_ms;
        if (b->level > capacity)
            b->level = capacity;
    }
    b->at_ms = now;
    if (b->level >= 1) {
        b->level -= 1;
        return 0;
    }
    int wait = (int)((1 - b->level) / per_ms / 1000) + 1;
    return wait;
}

static struct bucket *link_bucket(const char *token, int64_t now)
{
    uint32_t h = 2166136261u;
    for (const char *p = token; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct bucket *oldest = NULL;
    for (unsigned i = 0; i < BUCKET_PROBES; i++) {
        struct bucket *b = &link_buckets[(h + i) % LINK_BUCKETS];
        if (!strcmp(b->key, token))
            return b;
        if (!oldest || !b->key[0] || (oldest->key[0] && b->at_ms < oldest->at_ms))
            oldest = b;
    }
    /* A fresh bucket is full, as an idle link's would be. */
    snprintf(oldest->key, sizeof(oldest->key), "%s", token);
    oldest->level = FEEDBACK_POSTS_PER_LINK;
    oldest->at_ms = now;
    return oldest;
}

/* ---- responses ---------------------------------------------------------------- */

/* Name, value, ...: one header a line. */
/* clang-format off */
static const char *const page_headers[] = {
    "Content-Type", "text/html; charset=utf-8",
    "Cache-Control", "no-store",
    "X-Content-Type-Options", "nosniff",
    "Referrer-Policy", "no-referrer",
    "X-Frame-Options", "DENY",
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    NULL,
};
/* clang-format on */
#define PAGE_NHEADERS (ARRAY_SIZE(page_headers) - 1)

/* Sends sb with the page headers and up to two more (name, value). */
static void send_page(struct httpd_request *req, unsigned status, struct strbuf *sb,
                      const char *extra_name, const char *extra_value)
{
    const char *hdrs[PAGE_NHEADERS + 3];
    memcpy(hdrs, page_headers, sizeof(page_headers));
    size_t n = PAGE_NHEADERS;
    if (extra_name) {
        hdrs[n++] = extra_name;
        hdrs[n++] = extra_value;
    }
    hdrs[n] = NULL;
    httpd_respond(req, status, hdrs, sb->buf ? sb->buf : "", sb->len);
    strbuf_release(sb);
}

static void send_message(struct httpd_request *req, unsigned status,
                         const struct journal_run *run, const char *heading,
                         const char *text, const char *extra_name,
                         const char *extra_value)
{
    struct strbuf sb = STRBUF_INIT;
    feedback_page_message(&sb, run ? run->title : NULL, run ? run->drill : 0, heading,
                          text);
    send_page(req, status, &sb, extra_name, extra_value);
}

/* ---- validation ------------------------------------------------------------------ */

static const char *keep_msg(struct feedback_answers *a, char *msg)
{
    ALLOC_GROW(a->msgs, a->nmsgs + 1, a->amsgs);
    a->msgs[a->nmsgs++] = msg;
    return msg;
}

static void add_general(struct feedback_answers *a, char *msg)
{
    ALLOC_GROW(a->general, a->ngeneral + 1, a->ageneral);
    a->general[a->ngeneral++] = msg;
}

static int has_errors(const struct feedback_answers *a)
{
    if (a->ngeneral || a->name_error || a->anonymous_error)
        return 1;
    for (size_t i = 0; i < a->nq; i++)
        if (a->errors[i])
            return 1;
    return 0;
}

void feedback_answers_release(struct feedback_answers *a)
{
    for (size_t i = 0; i < a->nq; i++)
        free(a->norm[i]);
    for (size_t i = 0; i < a->ngeneral; i++)
        free(a->general[i]);
    for (size_t i = 0; i < a->nmsgs; i++)
        free(a->msgs[i]);
    free(a->values);
    free(a->norm);
    free(a->errors);
    free(a->general);
    free(a->msgs);
}

/*
 * Checks that s is UTF-8 text: no control character but tab and line
 * feed (and, when multiline, carriage return).  Returns the number of
 * characters, or -1.
 */
static long text_chars(const char *s, size_t len, int multiline)
{
    if (utf8_check(s, len) != len)
        return -1;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && !(multiline && (c == '\n' || c == '\r'))) ||
            c == 0x7f)
            return -1;
        n += (c & 0xc0) != 0x80;
    }
    return n;
}

/* A new copy of s with every CRLF (and lone CR) turned into LF. */
static char *normalize_newlines(const char *s)
{
    char *out = xmalloc(strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\r') {
            *o++ = '\n';
            if (s[1] == '\n')
                s++;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static int is_blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

/* A field name shown back to the person: quoted when it is plain text. */
static char *describe_field(const char *name)
{
    if (text_chars(name, strlen(name), 0) < 0)
        return xstrdup("This form does not ask for one of the fields sent: a response "
                       "holds only the answers to its questions.");
    return xasprintf(
        "This form does not ask for \xe2\x80\x9c%s\xe2\x80\x9d: a response holds "
        "only the answers to its questions.",
        name);
}

static void check_question(struct feedback_answers *a, size_t i, const struct form *f)
{
    const struct feedback_question *q = &a->q[i];
    char field[160];
    snprintf(field, sizeof(field), "q_%s", q->id);
    const struct form_field *ff = form_get(f, field);
    if (!ff)
        return;
    a->values[i] = ff->value;
    if (form_count(f, field) > 1) {
        a->errors[i] = "Give one answer to this question.";
        return;
    }
    if (q->scale) {
        const char *v = ff->value;
        if (!*v) {
            a->values[i] = NULL; /* an empty rating is no rating */
            return;
        }
        int ok = strlen(v) <= 2 && v[0] >= '1' && v[0] <= '9' &&
                 (!v[1] || (v[1] >= '0' && v[1] <= '9'));
        if (!ok || atoi(v) > q->scale)
            a->errors[i] =
                keep_msg(a, xasprintf("Choose a whole number from 1 to %d.", q->scale));
        return;
    }
    a->norm[i] = normalize_newlines(ff->value);
    a->values[i] = a->norm[i];
    long n = text_chars(a->norm[i], strlen(a->norm[i]), 1);
    if (n < 0) {
        a->errors[i] = "Your answer contains characters that are not text.";
    } else if (n > FEEDBACK_TEXT_MAX) {
        a->errors[i] =
            keep_msg(a, xasprintf("Shorten your answer to %d characters or fewer "
                                  "(it has %ld).",
                                  FEEDBACK_TEXT_MAX, n));
    } else if (is_blank(a->norm[i])) {
        a->values[i] = NULL;
    }
}

static void check_about(struct feedback_answers *a, const struct form *f)
{
    const struct form_field *ff = form_get(f, "name");
    if (ff) {
        a->name = ff->value;
        long n = text_chars(ff->value, ff->value_len, 0);
        if (form_count(f, "name") > 1)
            a->name_error = "Give your name once.";
        else if (n < 0)
            a->name_error = "Your name contains characters that are not text.";
        else if (n > FEEDBACK_NAME_MAX)
            a->name_error = keep_msg(a, xasprintf("Shorten your name to %d characters or "
                                                  "fewer.",
                                                  FEEDBACK_NAME_MAX));
    }
    ff = form_get(f, "anonymous");
    if (ff) {
        a->anonymous = 1;
        if (form_count(f, "anonymous") > 1 || strcmp(ff->value, "1"))
            a->anonymous_error = "Tick the box or leave it empty.";
    }
}

static int field_known(const struct feedback_answers *a, const char *name)
{
    if (!strcmp(name, "name") || !strcmp(name, "anonymous"))
        return 1;
    if (strncmp(name, "q_", 2))
        return 0;
    for (size_t i = 0; i < a->nq; i++)
        if (!strcmp(name + 2, a->q[i].id))
            return 1;
    return 0;
}

int feedback_form_validate(const struct feedback_question *q, size_t nq,
                           const struct form *f, struct feedback_answers *a)
{
    memset(a, 0, sizeof(*a));
    a->q = q;
    a->nq = nq;
    a->values = xcalloc(a->nq + 1, sizeof(*a->values));
    a->norm = xcalloc(a->nq + 1, sizeof(*a->norm));
    a->errors = xcalloc(a->nq + 1, sizeof(*a->errors));
    for (size_t i = 0; i < f->n; i++) {
        if (field_known(a, f->fields[i].name))
            continue;
        /* Each unknown name once, however often it came. */
        if (form_get(f, f->fields[i].name) == &f->fields[i])
            add_general(a, describe_field(f->fields[i].name));
    }
    for (size_t i = 0; i < a->nq; i++)
        check_question(a, i, f);
    check_about(a, f);
    int answered = 0;
    for (size_t i = 0; i < a->nq; i++)
        answered |= a->values[i] != NULL;
    if (!answered && !has_errors(a))
        add_general(a, xstrdup("Answer at least one question."));
    return has_errors(a) ? -1 : 0;
}

/* ---- handlers ------------------------------------------------------------------ */

/* Everything a request about one token needs. */
struct ctx {
    struct journal *j;
    struct httpd_request *req;
    char token[JOURNAL_FEEDBACK_TOKEN_LEN + 1];
    char run_id[JOURNAL_RUN_ID_LEN + 1];
    char *channel;
    enum audience audience;
    struct journal_run run;
    struct feedback_question *q;
    size_t nq;
};

static void show_form(struct ctx *c, unsigned status, const struct feedback_answers *a)
{
    struct feedback_page_form pf = {
        .title = c->run.title,
        .drill = c->run.drill,
        .action = c->token,
        .q = c->q,
        .nq = c->nq,
    };
    if (a) {
        pf.values = a->values;
        pf.errors = a->errors;
        pf.name = a->name;
        pf.name_error = a->name_error;
        pf.anonymous = a->anonymous;
        pf.anonymous_error = a->anonymous_error;
        pf.general = (const char *const *)a->general;
        pf.ngeneral = a->ngeneral;
    }
    struct strbuf sb = STRBUF_INIT;
    feedback_page_form(&sb, &pf);
    send_page(c->req, status, &sb, NULL, NULL);
}

/* The form again, with the values posted and one problem for the whole form. */
static void show_form_problem(struct ctx *c, const char *problem)
{
    struct feedback_answers a = {.q = c->q, .nq = c->nq};
    a.values = xcalloc(c->nq + 1, sizeof(*a.values));
    a.norm = xcalloc(c->nq + 1, sizeof(*a.norm));
    a.errors = xcalloc(c->nq + 1, sizeof(*a.errors));
    add_general(&a, xstrdup(problem));
    show_form(c, 400, &a);
    feedback_answers_release(&a);
}

static int is_form_urlencoded(const char *ct)
{
    if (!ct)
        return 0;
    static const char type[] = "application/x-www-form-urlencoded";
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, type, sizeof(type) - 1))
        return 0;
    ct += sizeof(type) - 1;
    while (*ct == ' ')
        ct++;
    if (!*ct)
        return 1;
    if (*ct != ';')
        return 0;
    /* The only parameter that matters is the charset: UTF-8 or none. */
    const char *cs = strcasestr(ct, "charset=");
    if (!cs)
        return 1;
    cs += 8;
    if (*cs == '"')
        cs++;
    return !strncasecmp(cs, "utf-8", 5) && strchr("\"; ", cs[5]) != NULL;
}

static void store(struct ctx *c, struct feedback_answers *a, int64_t now)
{
    struct journal_answer *ans = xcalloc(c->nq + 1, sizeof(*ans));
    size_t n = 0;
    for (size_t i = 0; i < c->nq; i++) {
        if (!a->values[i])
            continue;
        ans[n].question_id = c->q[i].id;
        if (c->q[i].scale)
            ans[n].rating = atoi(a->values[i]);
        else
            ans[n].text = a->norm[i];
        n++;
    }
    /* The name as typed, without the spaces around it; none when anonymous. */
    char *name = NULL;
    if (!a->anonymous && a->name && !is_blank(a->name)) {
        const char *b = a->name + strspn(a->name, " \t");
        size_t len = strlen(b);
        while (len && (b[len - 1] == ' ' || b[len - 1] == '\t'))
            len--;
        name = xstrndup(b, len);
    }
    struct journal_feedback fb = {
        .received_ms = now,
        .channel = c->channel,
        .audience = c->audience,
        .source = "form",
        .anonymous = a->anonymous,
        .respondent = name,
        .answers = ans,
        .nanswers = n,
    };
    int rc = journal_feedback_add(c->j, c->run_id, &fb, NULL);
    free(ans);
    free(name);
    if (rc < 0) {
        send_message(c->req, 500, &c->run, "Your feedback could not be saved",
                     "Something went wrong on our side and your answers were not stored. "
                     "Please go back and send them again in a few minutes.",
                     NULL, NULL);
        return;
    }
    char *location = xasprintf("%s/thanks", c->token);
    struct strbuf sb = STRBUF_INIT;
    feedback_page_message(&sb, c->run.title, c->run.drill, "Thank you",
                          "Your feedback has been recorded.");
    send_page(c->req, 303, &sb, "Location", location);
    free(location);
}

static void handle_post(struct ctx *c, int64_t now)
{
    struct httpd_request *req = c->req;
    int wait = bucket_take(link_bucket(c->token, monotonic_ms()), FEEDBACK_POSTS_PER_LINK,
                           monotonic_ms());
    if (wait) {
        char secs[16];
        snprintf(secs, sizeof(secs), "%d", wait);
        char *text =
            xasprintf("This feedback link has received many responses in the last "
                      "minute. Please wait %d seconds, then send your answers again.",
                      wait);
        send_message(req, 429, &c->run, "Too many responses at once", text, "Retry-After",
                     secs);
        free(text);
        return;
    }
    if (req->body_too_large || req->body_len > FEEDBACK_FORM_MAX_BODY) {
        char *text =
            xasprintf("Your answers are longer than this form accepts (%d KiB in "
                      "all). Please go back, shorten them and send them again.",
                      FEEDBACK_FORM_MAX_BODY / 1024);
        send_message(req, 413, &c->run, "Your answers are too long", text, NULL, NULL);
        free(text);
        return;
    }
    if (!is_form_urlencoded(httpd_header(req, "Content-Type"))) {
        send_message(req, 415, &c->run, "Unsupported form encoding",
                     "This form accepts only application/x-www-form-urlencoded posts in "
                     "UTF-8, as a browser sends them.",
                     NULL, NULL);
        return;
    }
    struct form f = FORM_INIT;
    /* Question ids are up to 128 characters, and the field is "q_" + id. */
    struct form_limits lim = {.max_name = 160, .max_value = FEEDBACK_FORM_MAX_BODY};
    char *why = NULL;
    if (form_parse(req->body, req->body_len, &lim, &f, &why) < 0) {
        char *msg =
            xasprintf("The answers could not be read (%s). Please fill in the form "
                      "again.",
                      why);
        show_form_problem(c, msg);
        free(msg);
        free(why);
        return;
    }
    struct feedback_answers a;
    if (feedback_form_validate(c->q, c->nq, &f, &a) < 0)
        show_form(c, 400, &a);
    else
        store(c, &a, now);
    feedback_answers_release(&a);
    form_release(&f);
}

static int valid_token(const char *s, size_t len)
{
    if (len != JOURNAL_FEEDBACK_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void format_utc(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Past the token lookup: the run is known.  Returns nothing; answers req. */
static void handle_run(struct ctx *c, const char *suffix, int64_t wall_ms)
{
    struct httpd_request *req = c->req;
    int is_get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    int is_post = !strcmp(req->method, "POST");
    if (!strcmp(suffix, "/thanks")) {
        if (!is_get) {
            send_message(req, 405, &c->run, "Method not allowed",
                         "This page can only be viewed.", "Allow", "GET, HEAD");
            return;
        }
        send_message(req, 200, &c->run, "Thank you",
                     "Your feedback has been recorded. It helps us respond better next "
                     "time. You can close this page.",
                     NULL, NULL);
        return;
    }
    if (*suffix) {
        send_message(req, 404, &c->run, "Page not found",
                     "There is no such page. Check that you copied the whole link.", NULL,
                     NULL);
        return;
    }
    if (!is_get && !is_post) {
        send_message(req, 405, &c->run, "Method not allowed",
                     "This form is read with GET and sent with POST.", "Allow",
                     "GET, HEAD, POST");
        return;
    }
    switch (feedback_window_at(&c->run, wall_ms)) {
    case FEEDBACK_WINDOW_NOT_OPEN:
        send_message(req, 403, &c->run, "Feedback is not open yet",
                     "The form opens when the incident is resolved. Please come back "
                     "then.",
                     NULL, NULL);
        return;
    case FEEDBACK_WINDOW_CLOSED: {
        char when[40];
        format_utc(c->run.feedback_closes_ms, when, sizeof(when));
        char *text = xasprintf("This feedback form closed on %s%s and no longer accepts "
                               "responses. Thank you for wanting to help.",
                               when, c->run.drill ? " (drill time)" : "");
        send_message(req, 410, &c->run, "Feedback is closed", text, NULL, NULL);
        free(text);
        return;
    }
    case FEEDBACK_WINDOW_OPEN:
        break;
    }
    if (feedback_questions_of_run(&c->run, &c->q, &c->nq) < 0) {
        send_message(req, 500, &c->run, "The form cannot be shown",
                     "Something went wrong on our side. Please try again later.", NULL,
                     NULL);
        return;
    }
    if (is_get)
        show_form(c, 200, NULL);
    else
        handle_post(c, journal_run_clock(&c->run, wall_ms));
}

int feedback_form_handle(struct journal *j, struct httpd_request *req, int64_t wall_ms)
{
    static const char prefix[] = "/feedback/";
    if (strncmp(req->path, prefix, sizeof(prefix) - 1))
        return 0;
    const char *token = req->path + sizeof(prefix) - 1;
    size_t tlen = strcspn(token, "/");
    if (!strcmp(req->method, "POST")) {
        /* Before any journal read: a flood of posts costs nothing more. */
        int wait = bucket_take(&total_bucket, FEEDBACK_POSTS_TOTAL, monotonic_ms());
        if (wait) {
            char secs[16];
            snprintf(secs, sizeof(secs), "%d", wait);
            send_message(
                req, 429, NULL, "Too many responses at once",
                "We are receiving many responses right now. Please wait a minute, "
                "then send your answers again.",
                "Retry-After", secs);
            return 1;
        }
    }
    struct ctx c = {.j = j, .req = req};
    int found = 0;
    if (valid_token(token, tlen)) {
        memcpy(c.token, token, tlen);
        found =
            journal_feedback_token_lookup(j, c.token, c.run_id, &c.channel, &c.audience);
    }
    if (found == 1 && journal_run_get(j, c.run_id, &c.run) < 0)
        found = -1;
    if (found < 0)
        send_message(req, 500, NULL, "Something went wrong",
                     "The feedback form is not available right now. Please try again "
                     "later.",
                     NULL, NULL);
    else if (!found)
        send_message(req, 404, NULL, "Feedback link not found",
                     "This link does not lead to a feedback form. Check that you copied "
                     "the whole address from the message you received.",
                     NULL, NULL);
    else
        handle_run(&c, token + tlen, wall_ms);
    free(c.channel);
    journal_run_release(&c.run);
    feedback_questions_free(c.q, c.nq);
    return 1;
}
