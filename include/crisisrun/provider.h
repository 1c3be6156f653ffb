/*
 * provider.h - one interface for every notification service.
 *
 * A provider turns a rendered message into the request its service expects
 * and decides what the service's answer means.  Each provider is one file in
 * src/providers/ defining a `const struct provider provider_NAME`; the one
 * table, indexed by enum channel_type, is in src/provider.c.
 *
 * The body is rendered once per notification (and journaled, so a resumed
 * run re-sends the same bytes); headers are made at each attempt because a
 * signature covers the attempt's timestamp.
 */
#ifndef CRISISRUN_PROVIDER_H
#define CRISISRUN_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "crisisrun/model.h"
#include "crisisrun/template.h"
#include "crisisrun/util.h"

/* What a provider makes of one answer from its service. */
enum delivery_result {
    DELIVERY_OK,        /* delivered */
    DELIVERY_RETRY,     /* 429, 5xx, timeout, connection error: try again later */
    DELIVERY_PERMANENT, /* 400/401/403/404, 3xx, other 4xx: never retried */
    DELIVERY_GONE,      /* 410: permanent, and the endpoint is disabled for the run */
};

/* Everything a provider may put into a message. All strings are non-NULL. */
struct provider_message {
    const char *text;        /* the rendered message, values escaped per provider->escape;
                              * already prefixed with "[DRILL] " in drills */
    const char *title;       /* playbook title */
    const char *playbook;    /* playbook name */
    const char *severity;    /* "" when unset */
    enum run_status status;  /* status in force when the step fired */
    const char *step;        /* step id */
    const char *run_id;      /* also Google Chat's thread key: one thread a run */
    const char *notification_id; /* stable id: the webhook-id of generic webhooks */
    const char *next_update; /* wall-clock text as in the message, or "" */
    const char *next_update_iso; /* ISO 8601, or "" when none is scheduled */
    const char *timestamp_iso;   /* when the step fired */
    int drill;
};

/* One outgoing header line, "Name: value". */
struct header_list {
    char **v;
    size_t n, alloc;
};
void header_list_add(struct header_list *h, const char *fmt, ...) CR_PRINTF(2, 3);
/* Adds "name: value", without a format: every attempt of a fan-out adds two. */
void header_list_add_pair(struct header_list *h, const char *name, const char *value);
void header_list_release(struct header_list *h);

struct provider {
    const char *name;
    enum channel_type type;
    /* How template values are escaped for this service's markup. */
    enum template_escape escape;
    /* Default rate limit when the channel sets none (count 0 = none). */
    int rate_count;
    int64_t rate_per_ms;
    /*
     * MUST return the request body (a JSON document built with jansson) for
     * m; owned by the caller.  MUST NOT depend on m->notification_id: one
     * body is rendered for every endpoint of a channel (ids go in headers).  MUST keep the payload within the service's
     * limits, truncating the text visibly (provider_truncate) rather than
     * producing a payload the service rejects.
     */
    char *(*render)(const struct provider_message *m);
    /*
     * MAY be NULL (no limit counted in characters).  How many characters
     * of m->text render() sends uncut, given what it puts beside the text
     * (a headline in the same field).  The runner renders a step's message
     * to fit (message_env.text_max), shortening its values, so a long note
     * does not cut off the "Next update by ..." the author wrote after it.
     */
    size_t (*text_max)(const struct provider_message *m);
    /*
     * MAY be NULL.  Returns the URL to post to (new string) when the service
     * needs query parameters added to the configured one (Google Chat
     * threads); NULL return means "use url as is".
     */
    char *(*request_url)(const char *url, const struct provider_message *m);
    /*
     * MAY be NULL.  Adds headers for one attempt (Standard Webhooks
     * signature).  `now_s` is the attempt's wall-clock time in seconds.
     * Content-Type and the channel's own `headers:` are added by the caller.
     */
    void (*attempt_headers)(const struct channel *ch, const char *notification_id,
                            const char *body, size_t len, int64_t now_s,
                            struct header_list *out);
    /*
     * MUST classify an answer.  `status` is the HTTP status (0 when no
     * answer arrived: the caller maps transport errors to DELIVERY_RETRY
     * without calling this).  `*retry_after_ms` holds the Retry-After header
     * in ms (-1 when absent); a provider MAY set it from the body (Discord's
     * JSON retry_after).
     */
    enum delivery_result (*classify)(long status, const char *body, size_t len,
                                     int64_t *retry_after_ms);
};

/* The provider of a channel type (never NULL for a valid type). */
const struct provider *provider_for(enum channel_type type);

/* Shared rules: 2xx ok; 410 gone; 400/401/403/404 and 3xx permanent;
 * 408, 425, 429, 5xx retry; other 4xx permanent; anything that is not an
 * HTTP status (1xx as a final answer, out of range) retry. */
enum delivery_result provider_classify_http(long status);

/*
 * Truncates UTF-8 text to at most max_chars characters (code points, the
 * unit services count in; never splitting a character), the visible marker
 * " … (truncated)" included, when anything had to be cut.  Whitespace left
 * before the marker is dropped; below 14 characters there is no room for
 * the marker and the text is cut bare.  Returns a new string.
 */
char *provider_truncate(const char *text, size_t max_chars);

/*
 * As provider_truncate(); with `entities` set, a cut never leaves half of
 * an HTML entity ("&am") behind: Slack and Mattermost text carries "&amp;",
 * "&lt;" and "&gt;" from template escaping.  A template_cut_fn.
 */
char *provider_truncate_text(const char *text, size_t max_chars, int entities);

#endif
