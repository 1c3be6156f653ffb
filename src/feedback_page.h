/*
 * feedback_page.h - the HTML pages of the feedback form (internal to
 * feedback_form.c and its tests).
 *
 * Every page is a complete HTML5 document with inline CSS and nothing
 * else: no script, no image, no font or style sheet from elsewhere.  Every
 * string passed in is HTML-escaped here; callers pass raw text.
 */
#ifndef CRISISRUN_FEEDBACK_PAGE_H
#define CRISISRUN_FEEDBACK_PAGE_H

#include <stddef.h>

#include "crisisrun/feedback_form.h"
#include "crisisrun/util.h"

/* What the form shows; every pointer except q MAY be NULL. */
struct feedback_page_form {
    const char *title; /* the playbook's title */
    int drill;
    const char *action; /* the form's action: the token (a URL relative to the page) */
    const struct feedback_question *q;
    size_t nq;
    /* Shown again after an error, per question (NULL = nothing): the raw
     * value as posted, and the problem with it. */
    const char *const *values;
    const char *const *errors;
    const char *name;
    const char *name_error;
    int anonymous;
    const char *anonymous_error;
    /* Problems that belong to no field (an unknown field, no answer). */
    const char *const *general;
    size_t ngeneral;
};

/* Appends the form page to sb. */
void feedback_page_form(struct strbuf *sb, const struct feedback_page_form *f);

/*
 * Appends a page with a heading and one paragraph of text, about the run
 * titled `title` (NULL when the run is unknown): thanks, closed, errors.
 */
void feedback_page_message(struct strbuf *sb, const char *title, int drill,
                           const char *heading, const char *text);

#endif
