/*
 * feedback_form.h - the post-crisis feedback form, served by `run` and by
 * `serve` (DESIGN.md "Feedback and report").
 *
 * GET /feedback/TOKEN shows the run's questions as a plain HTML form that
 * needs no JavaScript; POST /feedback/TOKEN validates and stores one
 * response in the journal with the audience of the channel the token was
 * sent to.  The token (journal_feedback_token) is the only key: an
 * unknown token gets 404, a closed window a "closed" page (410).
 */
#ifndef CRISISRUN_FEEDBACK_FORM_H
#define CRISISRUN_FEEDBACK_FORM_H

#include <stdint.h>

#include "crisisrun/httpd.h"

struct journal;

/* Largest form post accepted. */
#define FEEDBACK_FORM_MAX_BODY (64 * 1024)

/*
 * Answers req when its path is under /feedback/ and returns 1; returns 0
 * (without answering) for any other path.  now_ms is the run's clock.
 */
int feedback_form_handle(struct journal *j, struct httpd_request *req, int64_t now_ms);

#endif
