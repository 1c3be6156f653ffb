/*
 * inbox.h - a local webhook receiver for drills, demos and tests.
 *
 * It answers each chat service's webhook path the way the real service
 * does, records every request as one JSON line, verifies Standard Webhooks
 * signatures, plays fault modes chosen by path (errors, rate limits,
 * redirects, hanging, dripping, huge or slow answers) and shows the
 * messages on a web page.  docs/inbox.md is the user's reference for the
 * paths and the record format.
 *
 * The inbox runs on the caller's poll loop like httpd (inbox_fds,
 * inbox_timeout, inbox_run), so it can be embedded next to other servers.
 */
#ifndef CRISISRUN_INBOX_H
#define CRISISRUN_INBOX_H

#include <jansson.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define INBOX_DEFAULT_LISTEN "127.0.0.1:8025"
#define INBOX_DEFAULT_DIR "inbox"
#define INBOX_LOG_NAME "requests.jsonl"

/* A signing secret for every channel path starting with `prefix`
 * ("webhook/customers"; a leading '/' is ignored; "" matches all). */
struct inbox_secret {
    const char *prefix;
    const char *secret; /* whsec_... */
};

struct inbox_options {
    const char *listen; /* NULL: INBOX_DEFAULT_LISTEN */
    const char *dir;    /* NULL: INBOX_DEFAULT_DIR; created when missing */
    const struct inbox_secret *secrets; /* the longest matching prefix wins */
    size_t nsecrets;
    const char *default_secret; /* for paths no prefix matches; NULL: none */
    size_t max_body;            /* 0: HTTPD_DEFAULT_MAX_BODY */
};

struct inbox;

/* Creates the directory, opens DIR/requests.jsonl for appending and starts
 * listening.  Returns NULL after reporting the problem.  The options'
 * strings are copied. */
struct inbox *inbox_start(const struct inbox_options *opts);

/* Closes every connection (hanging ones included), the log, and frees.
 * NULL is accepted. */
void inbox_free(struct inbox *in);

/* "http://127.0.0.1:PORT" and the path of the JSON lines file (owned). */
const char *inbox_url(const struct inbox *in);
const char *inbox_log_path(const struct inbox *in);

/* Poll-loop integration, as httpd_fds / httpd_timeout / httpd_run; the
 * timeout also covers the inbox's own timers (slow and dripping answers). */
size_t inbox_fds(struct inbox *in, struct pollfd *fds, size_t max);
int64_t inbox_timeout(struct inbox *in);
void inbox_run(struct inbox *in);

/*
 * The text of a recorded request as a person would read it in the chat
 * service: Slack/Mattermost `text` and block texts, Discord `content` and
 * embeds, Teams Adaptive Card TextBlocks, Google Chat `text`, a generic
 * webhook's `message`; otherwise the body itself.  Returns a new string
 * (not escaped for any markup).
 */
char *inbox_message_text(const json_t *record);

/*
 * The web page: the records (a JSON array of request records, oldest
 * first) grouped per channel, newest first, every user-supplied string
 * HTML-escaped.  Returns a new NUL-terminated string.
 */
char *inbox_page_html(const json_t *records, const char *log_path);

#endif
