/*
 * feedback.h - recording feedback responses from the command line and from
 * survey exports (`crisisrun feedback add|import`, src/cmd/feedback.c).
 *
 * Every response is checked against the run's feedback questions as
 * recorded at run creation (runmeta.h), not against the playbook file,
 * which may have changed since: an unknown question id is refused with a
 * did-you-mean, a rating must be a whole number in 1..scale, a text
 * question takes text.  The form (served by `run`/`serve`) applies the same
 * rules; these paths are for responses gathered elsewhere, so the feedback
 * window does not limit them.
 */
#ifndef CRISISRUN_FEEDBACK_H
#define CRISISRUN_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/journal.h"
#include "crisisrun/runmeta.h"

/* Returned (after reporting) when the input, not the journal, is at fault. */
#define FEEDBACK_INVALID (-2)

enum feedback_kind {
    FEEDBACK_RATING, /* --rating Q=N: Q must be a rating question */
    FEEDBACK_TEXT,   /* --answer Q=TEXT: Q must be a text question */
    FEEDBACK_ANY,    /* a CSV cell: whatever the question takes */
};

struct feedback_value {
    const char *question;
    const char *value; /* as typed; "" = not answered */
    enum feedback_kind kind;
};

/* One response as given, before it is checked.  Only read. */
struct feedback_input {
    const struct feedback_value *values;
    size_t nvalues;
    const char *comment;    /* NULL or "" for none */
    const char *audience;   /* a channel name, "internal", "external", or NULL (internal) */
    int anonymous;
    const char *respondent; /* ignored when anonymous */
    int64_t received_ms;    /* on the run's clock, when has_received */
    int has_received;       /* 0: received now (see feedback_check) */
    const char *source;     /* "cli" or "import" */
};

/*
 * Checks in against meta and fills out (its strings and answers are owned
 * by out: free them with feedback_release).  A response without a
 * received time (has_received 0) is received at now_ms, now on the run's clock
 * (journal_run_clock): for a drill, its virtual time, where the form puts
 * an answer given at the same moment.  A received_ms before started_ms, the
 * run's start, is a problem: no one answers before the crisis began.
 * Problems are reported with error(), each prefixed by `where` ("" or
 * "FILE:LINE: "); all of them are reported, not only the first.
 * Returns 0, 1 when the response is empty (no answer, no comment: nothing
 * to store, nothing reported), or FEEDBACK_INVALID.
 */
int feedback_check(const struct runmeta *meta, const struct feedback_input *in,
                   int64_t now_ms, int64_t started_ms, const char *where,
                   struct journal_feedback *out);
/* Frees what feedback_check put in f and zeroes it. */
void feedback_release(struct journal_feedback *f);

/*
 * Records one response for run (an id or a unique prefix).  Returns 0 (and
 * the response's id in *id_out when not NULL), FEEDBACK_INVALID for input
 * that fails the checks or is empty, or -1 when the run or the journal
 * cannot be read or written.
 */
int feedback_add(struct journal *j, const char *run, const struct feedback_input *in,
                 int64_t *id_out);

/*
 * Imports a CSV survey export (docs/report.md: the header names question
 * ids, plus the optional columns comment, audience, anonymous, respondent
 * and received).  Every bad row is reported as "FILE:LINE: WHY", LINE being
 * the line the record starts on; when any row is bad nothing is stored (one
 * transaction).  Rows with no answer and no comment are skipped and counted
 * in *skipped.  Returns 0 with *count responses stored, FEEDBACK_INVALID,
 * or -1 (file, run or journal error).
 */
int feedback_import_csv(struct journal *j, const char *run, const char *path, long *count,
                        long *skipped);

#endif
