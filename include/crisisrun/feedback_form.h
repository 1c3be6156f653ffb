/*
 * feedback_form.h - the post-crisis feedback form, served by `run` and by
 * `serve` (DESIGN.md "Feedback and report", docs/feedback.md).
 *
 * GET /feedback/TOKEN shows the run's questions as a plain HTML form that
 * needs no JavaScript; POST /feedback/TOKEN validates and stores one
 * response in the journal with the channel and audience the token was sent
 * to, then redirects (303) to GET /feedback/TOKEN/thanks.  The token
 * (journal_feedback_token: 128 random bits) is the only key.
 *
 * Answers:  404 unknown token; 403 the window is not open yet (the run is
 * not resolved); 410 the window has closed; 405 another method; 413 a body
 * over FEEDBACK_FORM_MAX_BODY; 415 anything but
 * application/x-www-form-urlencoded; 429 (with Retry-After) over a rate
 * limit; 400 with the form shown again, the answers kept and each problem
 * explained next to its field; 500 when the journal fails.  Every page is
 * self-contained HTML (inline CSS, no script, no external resource) and
 * every string from the playbook or the request is HTML-escaped.
 *
 * A response holds only what the form asks for: a field the form does not
 * have is an error (400), never ignored; with "anonymous" no name is kept.
 */
#ifndef CRISISRUN_FEEDBACK_FORM_H
#define CRISISRUN_FEEDBACK_FORM_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/httpd.h"

struct form;
struct journal;
struct journal_run;

/* Largest form post accepted (a bigger one gets 413). */
#define FEEDBACK_FORM_MAX_BODY (64 * 1024)
/* Longest answer to a text question, and the respondent's name, in characters. */
#define FEEDBACK_TEXT_MAX 4000
#define FEEDBACK_NAME_MAX 200
/*
 * Rate limits on posts, per process: a token bucket per link (refilled
 * evenly over a minute, so a burst of this size is fine) and one for all
 * links together.  A link is shared by everyone in its channel, so the
 * per-link limit is sized for a busy channel, not for one person.
 */
#define FEEDBACK_POSTS_PER_LINK 60 /* a minute */
#define FEEDBACK_POSTS_TOTAL 600   /* a minute */

/*
 * Answers req when its path is /feedback/... and returns 1; returns 0
 * (without answering) for any other path.  wall_ms is the wall clock; each
 * run's window is judged, and a response stamped, on that run's own clock
 * (journal_run_clock), so a drill's window, which is in virtual time,
 * closes when the drill says.
 * Uses j for reads and, on a valid post, one write (journal_feedback_add).
 */
int feedback_form_handle(struct journal *j, struct httpd_request *req, int64_t wall_ms);

enum feedback_window {
    FEEDBACK_WINDOW_NOT_OPEN, /* not resolved yet, or no feedback configured */
    FEEDBACK_WINDOW_OPEN,
    FEEDBACK_WINDOW_CLOSED,
};
/* Where the run's feedback window stands at wall time wall_ms, on the
 * run's clock (journal_run_clock: feedback_closes_ms is on that clock). */
enum feedback_window feedback_window_at(const struct journal_run *run, int64_t wall_ms);
const char *
feedback_window_name(enum feedback_window w); /* "not_open", "open", "closed" */

/* One question of the run's playbook (feedback.questions). */
struct feedback_question {
    char *id;
    char *text;
    int scale; /* 2..10 for a rating question; 0 for a text question */
};

/*
 * The run's feedback questions, in playbook order, read from what the
 * journal keeps of the run (never from the playbook file, which may have
 * changed or gone, nor from the environment).  run must come from
 * journal_run_get (it needs playbook_text).  *out is a new array of *n
 * questions (0 when the playbook asks none); free it with
 * feedback_questions_free().  Returns 0, or -1 after reporting.
 */
int feedback_questions_of_run(const struct journal_run *run,
                              struct feedback_question **out, size_t *n);
void feedback_questions_free(struct feedback_question *q, size_t n);

/*
 * One form post checked against the run's questions: what POST
 * /feedback/TOKEN stores when it is valid, or shows again with each
 * problem next to its field.  Values point into the checked form (keep it
 * until the answers are released) or into `norm`; problems are static
 * strings or owned here.  Free with feedback_answers_release().
 */
struct feedback_answers {
    const struct feedback_question *q;
    size_t nq;
    const char **values; /* per question: NULL = not answered; a rating as posted,
                            a text answer with every CRLF and CR as LF */
    char **norm;         /* per text question: the storage of its value (owned) */
    const char **errors; /* per question: NULL, or the problem with it */
    const char *name;    /* the "name" field as posted, or NULL */
    const char *name_error;
    int anonymous; /* the "anonymous" box was ticked */
    const char *anonymous_error;
    char **general; /* problems of the whole form (owned) */
    size_t ngeneral, ageneral;
    char **msgs; /* owned messages the errors above point to */
    size_t nmsgs, amsgs;
};

/*
 * Checks the parsed post f (form_parse.h) against q[0..nq) into *out,
 * which it initialises; no journal, no side effect.  A field the form does
 * not have, a repeated field, a rating off 1..scale, a text answer over
 * FEEDBACK_TEXT_MAX characters or with control characters, a name over
 * FEEDBACK_NAME_MAX, and a post that answers nothing are problems.
 * Returns 0 when the response can be stored, -1 when it has problems (in
 * *out, as sentences for the person who filled in the form).  Release
 * *out either way.
 */
int feedback_form_validate(const struct feedback_question *q, size_t nq,
                           const struct form *f, struct feedback_answers *out);
void feedback_answers_release(struct feedback_answers *a);

#endif
