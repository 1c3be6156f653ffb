/*
 * serve.h - the long-running server of `crisisrun serve`: every run in the
 * journal, after (or while) the runs' own processes run them.
 *
 *   GET  /feedback/TOKEN...   the feedback forms (feedback_form.h), whose
 *                             windows are judged on each run's clock
 *   GET  /api/runs            the runs, newest first (JSON)
 *   GET  /api/runs/ID         one run (id or unique prefix) with counts
 *   GET  /healthz             "ok"
 *
 * The API is read-only (any other method: 405) and every /api/ request
 * needs "Authorization: Bearer TOKEN": the check comes before routing, so
 * a request without it gets 401 whatever the path.  The token is made at
 * start (256 random bits) and written to serve_token_path() with mode
 * 0600; serve_free() removes the file.
 *
 * The server shares the journal with running `run` processes: each request
 * is a few short statements, and the journal's busy timeout covers a
 * runner's write transaction.  Like every server here, it is driven by the
 * caller's poll loop (serve_fds, serve_timeout, serve_run).
 */
#ifndef CRISISRUN_SERVE_H
#define CRISISRUN_SERVE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct journal;
struct serve;

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8080"
#define SERVE_MAX_FDS 1

struct serve_options {
    const char *listen;     /* NULL = SERVE_DEFAULT_LISTEN; httpd.h forms */
    const char *public_url; /* where people reach it; NULL = the listen URL */
};

/*
 * Starts serving j (opened with JOURNAL_WRITE: form posts are stored; the
 * caller keeps ownership and closes it after serve_free).  Returns NULL
 * after reporting (address in use, token file not writable, ...).
 */
struct serve *serve_start(struct journal *j, const struct serve_options *opt);
/* Stops, closes every connection, removes the token file.  NULL is fine. */
void serve_free(struct serve *s);

size_t serve_fds(struct serve *s, struct pollfd *fds, size_t max);
int64_t serve_timeout(struct serve *s); /* ms, or -1: no deadline */
void serve_run(struct serve *s);

const char *serve_url(const struct serve *s);        /* the bound address */
const char *serve_public_url(const struct serve *s); /* --public-url, else serve_url */
const char *serve_token_path(const struct serve *s);

/* "DIR/serve.token" for the journal at db_path (new string). */
char *serve_token_path_for(const char *db_path);

#endif
