/*
 * runner.h - a run of a playbook: the one loop that drives it.
 *
 * One process, one thread: the scheduler's timers (on the monotonic clock
 * times --speed), the delivery engine's curl multi handle, the HTTP
 * server of the control API and feedback form, and the signal pipe are
 * served by one poll loop (delivery_wait).  Wall-clock timestamps go to the
 * journal; scheduling uses only the monotonic clock, so a jump of the
 * system clock neither fires nor skips a step.
 *
 * Journal first: every loop iteration's writes (steps fired, notifications
 * created, attempts) form one batch that is committed before any request
 * of that iteration is handed to the delivery engine.  A run killed at any
 * instant is resumed from the journal alone (runner_resume).
 *
 * Times in the journal are the run's own clock: started + virtual offset.
 * At --speed 1 that is the wall clock; in a drill at --speed 60 it is the
 * rehearsed timeline, so reports read as the real crisis would.
 */
#ifndef CRISISRUN_RUNNER_H
#define CRISISRUN_RUNNER_H

#include <stddef.h>

#include "crisisrun/cmd.h"
#include "crisisrun/model.h"

struct runner_options {
    const char *playbook_path; /* run: the playbook; resume: NULL */
    const char *resume_run;    /* resume: the run id or prefix; run: NULL */
    const struct kv *vars;     /* --var overrides */
    size_t nvars;
    int drill;
    double speed;            /* virtual seconds per real second; 1 normally */
    const char *capture_dir; /* --capture: write requests there, send nothing */
    const char *listen;      /* control API / feedback form address; NULL: 127.0.0.1:0 */
    const char *public_url;  /* base of {{feedback_url}}; NULL: the listen address */
    int quiet;               /* plain lines even on a terminal */
};

/*
 * Runs (or resumes) a run in the foreground until it is over: resolved,
 * every notification settled and the feedback window closed; or until
 * SIGINT/SIGTERM, which leave an unresolved run `interrupted`.  Prints the
 * run id first on stdout.  Returns the exit code: 0; 1 when notifications
 * failed for good or the journal failed; 2 for an invalid playbook or
 * bad options.
 */
int runner_main(const struct cmd_ctx *ctx, const struct runner_options *opt);

#endif
