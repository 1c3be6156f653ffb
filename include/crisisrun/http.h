/*
 * http.h - the HTTP client: POST requests over one curl multi handle.
 *
 * This is the only module that includes <curl/curl.h>.  It knows nothing
 * of notifications, retries or limits: it starts the requests it is given
 * at once, reports each one's answer through a callback and leaves every
 * policy to the delivery engine (delivery.h).
 *
 * Every request is made the same careful way: HTTP/1.1, http and https
 * only, redirects never followed (a 3xx is reported as such), connect and
 * total timeouts always set, no signals, TCP_NODELAY, no `Expect:
 * 100-continue` round trip, keep-alive connections reused across requests
 * (easy handles are pooled, the multi handle keeps the connection cache),
 * https certificates verified against one CA bundle ($SSL_CERT_FILE, else
 * libcurl's own) that is loaded once, not once a connection, and the
 * response body captured up to HTTP_BODY_CAP bytes: a larger body
 * ends the transfer once the status is known, so an endpoint cannot
 * exhaust memory.
 *
 * Single-threaded: every function, and every callback, runs on the thread
 * that created the client.
 */
#ifndef CRISISRUN_HTTP_H
#define CRISISRUN_HTTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_BODY_CAP ((size_t)64 * 1024)

struct http_client;

struct http_options {
    /* Copied; sent on requests without a User-Agent line of their own.
     * NULL: no User-Agent header. */
    const char *user_agent;
    /* Idle keep-alive connections kept for reuse (curl's connection cache);
     * 0 lets curl decide. */
    long max_idle_connections;
    /* 1: the client sends http requests only (the control client, to the
     * run's own API on loopback; an https URL fails): the CA bundle is
     * neither checked nor set, so a wrong SSL_CERT_FILE never stops an
     * `ack`. */
    int plain_http_only;
};

struct http_request {
    const char *url; /* http:// or https:// */
    const char *body;
    size_t len;
    /* "Name: value" lines, sent as they are; "Name:" removes a header curl
     * would add itself (e.g. "Expect:"). */
    const char *const *headers;
    size_t nheaders;
    int64_t timeout_ms;         /* whole request; MUST be > 0 */
    int64_t connect_timeout_ms; /* MUST be > 0 */
};

struct http_result {
    long status;      /* HTTP status; 0 when no answer arrived */
    const char *body; /* the answer's body (first HTTP_BODY_CAP bytes) */
    size_t len;
    int truncated;           /* 1 when the body was longer than HTTP_BODY_CAP */
    const char *retry_after; /* the Retry-After header value, or NULL */
    /* NULL when an answer arrived; otherwise what went wrong (curl's text:
     * it names the host, never the URL's path or query). */
    const char *error;
    /* With an error: 1 when trying again cannot help (malformed URL,
     * a scheme other than http/https). */
    int permanent;
    /* With an error: 1 when a time limit ran out (connecting, or waiting
     * for the answer), rather than the connection being refused or lost. */
    int timed_out;
};

/*
 * Called once per request, from http_perform(), after the transfer is
 * over.  `r` and everything it points to are valid during the call only.
 * The callback MAY start new requests; it MUST NOT free the client.
 */
typedef void http_done_fn(void *ctx, const struct http_result *r);

/* Returns a new client, or NULL after reporting an error (among them an
 * SSL_CERT_FILE that names no usable CA bundle). */
struct http_client *http_client_new(const struct http_options *opt);

/*
 * Aborts every request in flight (their callbacks are not called) and
 * frees the client.  NULL is allowed.
 */
void http_client_free(struct http_client *c);

/*
 * Starts a request.  rq->url, rq->body and rq->headers (the array and the
 * strings) are borrowed and MUST stay valid until `done` has been called.
 * Returns 0, or -1 after reporting an error (the request was not started
 * and `done` will not be called).
 */
int http_start(struct http_client *c, const struct http_request *rq, http_done_fn *done,
               void *ctx);

/* Requests started and not yet reported. */
size_t http_inflight(const struct http_client *c);

/*
 * Waits until a transfer needs attention, one of the extra file
 * descriptors is ready (its revents is set), timeout_ms passes (-1: no
 * limit of the caller's own) or curl's own timer is due, whichever comes
 * first.  Returns 0, or -1 after reporting an error.
 */
int http_wait(struct http_client *c, struct pollfd *extra, int nextra, int timeout_ms);

/* Moves every transfer on as far as it can go without blocking and calls
 * the callbacks of the finished ones. */
void http_perform(struct http_client *c);

#endif
