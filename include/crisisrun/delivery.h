/*
 * delivery.h - the delivery engine: gets every notification to its
 * endpoint, as DESIGN.md "Delivery semantics" says.
 *
 * The caller submits notifications (one a request: one rendered body to one
 * endpoint of one channel) and the engine sends them, retries them, holds
 * them back for rate limits and caps, and reports every attempt and every
 * final outcome through callbacks.  docs/delivery.md has the full rules;
 * in short:
 *
 * - 2xx (as the provider judges it) is delivered.  429, 5xx, timeouts and
 *   connection errors are retried after a capped exponential backoff with
 *   jitter (backoff.h), no earlier than Retry-After, up to the channel's
 *   retry_attempts attempts in all.  3xx (never followed), 400, 401, 403,
 *   404 and other 4xx are permanent.  410 is permanent and disables the
 *   endpoint (channel index, endpoint index) for the engine's lifetime.
 * - A channel with a rate limit (ratelimit.h) sends its messages evenly
 *   spaced, all of them, in submission order; fan-out channels without one
 *   are limited only by the connection caps.
 * - At most max_total requests are in flight, and at most max_per_host to
 *   one scheme://host:port.  The rest wait in FIFO queues, never in curl,
 *   and every request has its own timeout, so a hanging endpoint holds one
 *   slot for at most its timeout and never delays another endpoint.
 *
 * Single-threaded and poll-driven.  Callbacks are only ever called from
 * delivery_perform(), never from delivery_submit(), so a callback may
 * submit more notifications.  The run loop owns the one poll loop and
 * makes delivery_wait() its only blocking call:
 *
 *     struct pollfd fds[2] = {{mhd_epoll_fd, POLLIN, 0}, {signal_pipe, POLLIN, 0}};
 *     while (!done) {
 *         int timeout = scheduler_timeout_ms();          // -1: none
 *         if (delivery_wait(d, fds, 2, timeout) < 0)
 *             break;
 *         delivery_perform(d);                           // callbacks happen here
 *         if (fds[0].revents)
 *             MHD_run(daemon);
 *         if (fds[1].revents)
 *             ... SIGINT/SIGTERM ...
 *         scheduler_run();                               // may delivery_submit()
 *         done = resolved && delivery_active(d) == 0;
 *     }
 *     delivery_free(d);
 */
#ifndef CRISISRUN_DELIVERY_H
#define CRISISRUN_DELIVERY_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "crisisrun/model.h"
#include "crisisrun/provider.h"

struct delivery;
struct delivery_host;

struct delivery_options {
    /* Requests in flight at once, over all hosts; 0: 256. */
    size_t max_total_connections;
    /* Requests in flight at once to one scheme://host:port; 0: 64.  See
     * docs/delivery.md for why 64. */
    size_t max_per_host;
    /* Connect timeout; also never more than the channel's timeout; 0: 10s. */
    int64_t connect_timeout_ms;
    /*
     * When set, nothing goes out: each request that would have been sent
     * (method, full URL, headers, body) is written to
     * DIR/NNNNNN-<notification id>.http and counts as delivered.  DIR is
     * created when missing.  Rate limits still space the requests.
     */
    const char *capture_dir;
    /* NULL: "crisisrun/VERSION". */
    const char *user_agent;
    /* Monotonic ms; NULL: monotonic_ms().  Retries, rate limits and the
     * latency reported to attempt_done() are measured on it. */
    int64_t (*clock)(void);
    /* Wall clock, ms since the epoch; NULL: wallclock_ms(). */
    int64_t (*wallclock)(void);
    /* 64 random bits for jitter; NULL: a generator seeded from the clock. */
    uint64_t (*random)(void *random_ctx);
    void *random_ctx;
};

/* One attempt's outcome, as reported to attempt_done(). */
struct delivery_attempt {
    int attempt;        /* 1 for the first attempt */
    long status;        /* HTTP status; 0 when no answer arrived (or captured) */
    int64_t latency_ms; /* from handing the request over to its outcome */
    enum delivery_result result;
    /* NULL when delivered; otherwise "HTTP 503", or the transport error
     * (it names the host only, never a URL's path or query). */
    const char *error;
    /* Monotonic ms (the engine's clock) of the next attempt, or -1 when the
     * notification is settled by this attempt. */
    int64_t retry_at;
};

/*
 * Every callback MAY be NULL.  `tag` is the request's tag.  A callback MAY
 * call delivery_submit() and the read-only functions; it MUST NOT call
 * delivery_wait(), delivery_perform() or delivery_free().
 */
struct delivery_callbacks {
    /* An attempt is about to be handed to the network (or the capture
     * directory): the caller journals it as in flight first, so a killed
     * run re-sends it.  wall_ms is the attempt's wall-clock time (also the
     * time signed into its headers). */
    void (*attempt_start)(void *user, void *tag, int attempt, int64_t wall_ms);
    /* An attempt is over. */
    void (*attempt_done)(void *user, void *tag, const struct delivery_attempt *a);
    /*
     * The notification is done; the engine forgets the tag after this.
     * `result`: DELIVERY_OK delivered; DELIVERY_RETRY failed for good after
     * its last attempt failed with a retryable error; DELIVERY_PERMANENT;
     * DELIVERY_GONE (answered 410, or the endpoint was already disabled by
     * a 410: then no request was made and no attempt reported).
     */
    void (*settled)(void *user, void *tag, enum delivery_result result);
    /*
     * An attempt (a first one or a retry) is about to go out: NULL lets it,
     * a reason stops it.  A stopped notification makes no request; it is
     * reported as an attempt that failed with the reason (attempt_start,
     * attempt_done) and settles as DELIVERY_PERMANENT.  The reason MUST
     * outlive the engine (a string literal) and name no URL.
     */
    const char *(*refuse)(void *user, void *tag);
};

struct delivery_request {
    const char *notification_id; /* copied; the stable id (webhook-id) */
    /* Borrowed: the channel MUST outlive the engine (it is the playbook's).
     * One channel index always names the same channel: the engine keeps
     * per-channel state (rate limiter, header lines, disabled endpoints,
     * counters) under the index. */
    const struct channel *channel;
    size_t channel_index;
    size_t endpoint_index;
    /* Copied.  NULL: URL endpoint_index of channel->urls.  Only http:// and
     * https:// are sent; anything else fails as DELIVERY_PERMANENT
     * without a request. */
    const char *url;
    /* MAY be NULL.  Borrowed for the duration of delivery_submit() only:
     * when set and provider->request_url exists, the engine posts to
     * provider->request_url(url, msg) instead of url. */
    const struct provider_message *msg;
    /* The exact bytes of every attempt: copied, unless body_release is
     * set, in which case the engine keeps the pointer and calls
     * body_release(body_owner) when the notification is done with it (a
     * fan-out's endpoints then share one body). */
    const char *body;
    size_t len;
    void (*body_release)(void *owner);
    void *body_owner;
    const struct provider *provider; /* borrowed, MUST be non-NULL */
    /* The first attempt's number (1 for a new notification; resume passes
     * the number of the attempt that was in flight).  <= 0 means 1.  At
     * least one attempt is always made, even past retry_attempts. */
    int attempt;
    /* Monotonic ms (the engine's clock) before which it is not sent; 0: at
     * once.  With attempt > 1 it is a retry that was waiting when a run
     * stopped: it waits as a retry and then goes ahead of its channel's
     * queue, as the retry would have. */
    int64_t not_before;
    /* not_before is a wait the service asked of the whole channel (its
     * last answer was a 429 on a rate-limited channel): the channel's other
     * requests wait until then too. */
    int hold_channel;
    void *tag; /* the caller's, passed back to every callback */
};

/* A channel's counts, for the live view. */
struct delivery_counts {
    size_t queued;   /* waiting to go: not before, rate limit, caps */
    size_t inflight; /* on the wire */
    size_t retrying; /* failed an attempt, waiting for the next */
    size_t ok;       /* delivered */
    size_t failed;   /* settled without delivery (retries exhausted,
                      * permanent, gone) */
    size_t attempts; /* attempts made, retries included */
};

/*
 * Returns a new engine, or NULL after reporting an error (capture
 * directory cannot be created, HTTP client cannot start).  opt and cb are
 * copied; opt MAY be NULL (all defaults).  `user` is passed to every
 * callback.
 */
struct delivery *delivery_new(const struct delivery_options *opt,
                              const struct delivery_callbacks *cb, void *user);

/*
 * Aborts every request in flight and forgets everything queued, calling no
 * callback.  The caller's journal still has those notifications in flight
 * (attempt_start was called) or pending, so `resume` sends them again with
 * their original ids.  MUST NOT be called from a callback.  NULL is allowed.
 */
void delivery_free(struct delivery *d);

/* Queues one notification.  Never calls a callback; never fails. */
void delivery_submit(struct delivery *d, const struct delivery_request *req);

/* Notifications not yet settled: queued, in flight or waiting to retry. */
size_t delivery_active(const struct delivery *d);
/*
 * What the run loop looks at to feed a large fan-out to the engine a part
 * at a time (runner_fanout.c).
 *
 * delivery_waiting(): notifications in the ready queue, waiting for a
 * connection; it backs up only while every connection the engine allows
 * is in use.
 *
 * delivery_host(): the host (scheme, name and port) that url's requests
 * go to, made on first use; NULL for a URL the engine does not send to.
 * Valid until delivery_free().  For that host (0 for NULL):
 * delivery_host_waiting(), its notifications that wait for a connection,
 * in the ready queue or behind its per-host cap (or scheduled for a first
 * attempt); delivery_host_retrying(), those waiting to retry.  Neither
 * counts those in flight, nor those held by their channel's rate limit,
 * which wait by design.
 */
size_t delivery_waiting(const struct delivery *d);
struct delivery_host *delivery_host(struct delivery *d, const char *url);
size_t delivery_host_waiting(const struct delivery_host *h);
size_t delivery_host_retrying(const struct delivery_host *h);

/*
 * ms until the engine's own next timer (a retry, a rate-limit release):
 * 0 when there is work to do now, -1 when it has none.  delivery_wait()
 * already takes it (and curl's timers) into account.
 */
int64_t delivery_timeout_ms(const struct delivery *d);

/*
 * Blocks until network activity, an extra fd is ready (its revents set),
 * the engine's own next timer, or timeout_ms (-1: no limit of the
 * caller's), whichever comes first.  Returns 0, or -1 after reporting an
 * error.  Follow it with delivery_perform().
 */
int delivery_wait(struct delivery *d, struct pollfd *extra, int nextra, int timeout_ms);

/* Does everything due: starts requests, handles answers, calls callbacks.
 * Never blocks. */
void delivery_perform(struct delivery *d);

/* The counts of one channel (all zero for a channel never submitted to). */
void delivery_counts(const struct delivery *d, size_t channel_index,
                     struct delivery_counts *out);

/* 1 when a 410 disabled this endpoint. */
int delivery_endpoint_disabled(const struct delivery *d, size_t channel_index,
                               size_t endpoint_index);

#endif
