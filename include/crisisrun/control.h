/*
 * control.h - the control API a run serves while it goes (DESIGN.md
 * "Control API"), and the feedback form.
 *
 * Bound to loopback unless told otherwise, and every /api/ request needs
 * "Authorization: Bearer TOKEN" with the run's random token; the check
 * comes before routing, so a request without it gets 401 whatever its path.
 * The token is 256 random bits, kept in the journal's row of the run and in
 * a 0600 file next to the journal (control_token_path), which is how the
 * CLI commands on the same machine find it.  docs/api.md documents the
 * requests.
 *
 * The server is polled by the run loop: control_fds, control_timeout and
 * control_run follow httpd.h.
 */
#ifndef CRISISRUN_CONTROL_H
#define CRISISRUN_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "crisisrun/httpd.h"

struct runner;
struct control;

#define CONTROL_MAX_FDS HTTPD_MAX_FDS
/* Largest JSON body accepted by the control API. */
#define CONTROL_MAX_BODY (16 * 1024)
/* Longest "actor" (who did it) accepted in a request. */
#define CONTROL_MAX_ACTOR 64

/*
 * Starts serving run r on `listen` (NULL: 127.0.0.1 on a free port),
 * makes the token and writes the token file.  NULL after reporting.
 */
struct control *control_start(struct runner *r, const char *listen);
/* Stops serving and removes the token file.  NULL is fine. */
void control_free(struct control *c);

size_t control_fds(struct control *c, struct pollfd *fds, size_t max);
int64_t control_timeout(struct control *c); /* -1: none */
/*
 * Serves what is ready.  MUST be called inside a journal batch: the
 * actions it performs write to the journal, and their answers are held
 * until control_commit().
 */
void control_run(struct control *c);
/*
 * The batch that control_run() wrote into has committed: sends the held
 * answers.  Never call it when the commit failed (control_free() then
 * closes those requests unanswered).  NULL is fine.
 */
void control_commit(struct control *c);
/* 1 while answers are held for control_commit().  NULL is fine. */
int control_holding(const struct control *c);

const char *control_url(const struct control *c);   /* "http://127.0.0.1:PORT" */
const char *control_token(const struct control *c); /* 64 hex digits */

/* The token file of run_id for the journal at db_path (new string). */
char *control_token_path(const char *db_path, const char *run_id);

#endif
