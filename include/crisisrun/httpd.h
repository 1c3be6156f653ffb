/*
 * httpd.h - a small HTTP server on libmicrohttpd, driven by the caller's
 * poll loop.
 *
 * crisisrun runs one thread: timers, curl and every HTTP server share one
 * poll loop.  So the server never blocks and never starts a thread; the
 * owner asks for its descriptors (httpd_fds), its deadline (httpd_timeout),
 * polls them together with everything else, then calls httpd_run().
 * The inbox, the control API and the feedback form all sit on this.
 *
 * A request reaches the handler once, complete: method, raw path and query,
 * headers and the whole body (up to a limit).  The handler answers at once
 * (httpd_respond, httpd_respond_stream) or suspends the request and answers
 * later from the loop (a timer, another event).  A suspended request costs
 * no CPU and never delays any other request.
 *
 * Ownership: the server owns every struct httpd_request.  A request stays
 * valid from the handler call until the `closed` callback has returned for
 * it; whoever keeps a pointer to it (a timer) must drop it there.
 */
#ifndef CRISISRUN_HTTPD_H
#define CRISISRUN_HTTPD_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTPD_DEFAULT_MAX_BODY (1024 * 1024)

struct httpd;

struct httpd_header {
    char *name; /* as the client sent it (case preserved) */
    char *value;
};

/* One request.  All fields are read-only for the handler, except `user`. */
struct httpd_request {
    const char *method; /* "POST", "GET", ... */
    const char *path;   /* raw path as sent, percent-escapes kept: "/slack/x" */
    const char *query;  /* raw query without '?', "" when there is none */
    const struct httpd_header *headers;
    size_t nheaders;
    const char *body; /* NUL-terminated (the NUL is not counted in body_len) */
    size_t body_len;
    /* Set when the body exceeded max_body; the body then holds only the
     * part that fitted (nothing when Content-Length announced the excess). */
    int body_too_large;
    void *user; /* free for the handler; never touched by httpd */
};

struct httpd_config {
    /*
     * Where to listen: "HOST:PORT", "[IPV6]:PORT", ":PORT" or "PORT".
     * HOST is a numeric address or "localhost"; an empty host means the
     * loopback 127.0.0.1 (never all interfaces: ask for 0.0.0.0 or [::]
     * explicitly).  PORT 0 picks a free port; httpd_port() tells which.
     */
    const char *listen;
    size_t max_body; /* 0 means HTTPD_DEFAULT_MAX_BODY */
    /*
     * When 0, a request whose body exceeds max_body is answered 413 by the
     * server and the handler never sees it.  When 1, the handler gets it
     * with body_too_large set and MUST answer it (413 is expected).
     */
    int deliver_oversized;
    /*
     * Called once per complete request.  MUST, before returning, either
     * answer (httpd_respond, httpd_respond_stream) or httpd_suspend() the
     * request; a handler that does neither gets a 500 sent for it.
     */
    void (*handle)(void *cls, struct httpd_request *req);
    /*
     * MAY be NULL.  Called once for every request the handler has seen,
     * when it ends for any reason (answered, client gone, server freed),
     * right before the request is freed.
     */
    void (*closed)(void *cls, struct httpd_request *req);
    void *cls;
};

/*
 * 1 when listen_addr is an address httpd_start() can parse, so that a
 * command refuses a bad --listen as a usage error before it starts
 * anything (a run would otherwise be journaled, and fail, first).
 */
int httpd_listen_valid(const char *listen_addr);
#define HTTPD_LISTEN_FORMS "HOST:PORT, [IPV6]:PORT or :PORT"

/*
 * Binds, listens and starts the server.  Returns NULL after reporting the
 * problem (bad address, port in use, ...).
 */
struct httpd *httpd_start(const struct httpd_config *cfg);

/*
 * Closes every connection, including suspended ones (the `closed` callback
 * runs for each request still alive), stops listening and frees h.
 * NULL is accepted.
 */
void httpd_free(struct httpd *h);

/* The bound port, and the base URL "http://127.0.0.1:PORT" (owned by h;
 * a wildcard address is shown as the loopback, which reaches it). */
int httpd_port(const struct httpd *h);
const char *httpd_url(const struct httpd *h);

/*
 * Fills at most `max` entries of fds with the descriptors to poll and
 * returns how many it filled (currently always 1: libmicrohttpd's epoll
 * descriptor; HTTPD_MAX_FDS is the most it will ever need).
 */
#define HTTPD_MAX_FDS 1
size_t httpd_fds(struct httpd *h, struct pollfd *fds, size_t max);

/*
 * Milliseconds until httpd_run() must be called even if no descriptor is
 * ready, or -1 when there is no such deadline.  Ask again after every
 * httpd_run(), httpd_respond() on a suspended request or httpd_resume().
 */
int64_t httpd_timeout(struct httpd *h);

/* Does all pending work without blocking: accepts, reads, calls handlers,
 * writes.  Every request that has arrived complete (a connection accepted
 * in this call too) reaches its handler before it returns, unless dozens of
 * new connections wait: at most four libmicrohttpd passes a call, which
 * accept about ten each.  Call it after polling, whatever poll returned. */
void httpd_run(struct httpd *h);

/* The first header named `name` (case-insensitive), or NULL. */
const char *httpd_header(const struct httpd_request *req, const char *name);
/* The decoded value of query argument `name`, or NULL. */
const char *httpd_query_arg(const struct httpd_request *req, const char *name);

/*
 * Answers req with `status`, the given headers (a NULL-terminated list of
 * name, value, name, value, ...; may be NULL) and a copy of body[0..len).
 * Works from the handler and, later, on a suspended request (which it
 * resumes).  Returns 0, or -1 after reporting (already answered).
 */
int httpd_respond(struct httpd_request *req, unsigned status, const char *const *headers,
                  const void *body, size_t len);

/*
 * Content reader for a streamed body.  MUST copy at most `max` bytes of the
 * body at offset `pos` into buf and return how many (> 0), or return
 * HTTPD_READER_PAUSE to send nothing for now (the request is suspended
 * until httpd_resume()), HTTPD_READER_END at the end of a body of unknown
 * size, or HTTPD_READER_ERROR to abort the connection.
 */
#define HTTPD_READER_PAUSE 0
#define HTTPD_READER_END (-1)
#define HTTPD_READER_ERROR (-2)
#define HTTPD_SIZE_UNKNOWN UINT64_MAX
typedef ssize_t (*httpd_reader_fn)(void *cls, uint64_t pos, char *buf, size_t max);

/*
 * Answers req with a body produced by `reader` (size bytes, or
 * HTTPD_SIZE_UNKNOWN for a chunked body).  `free_cls` (MAY be NULL) is
 * called with cls when the body is no longer needed, whether or not it was
 * sent.  Same calling rules and return value as httpd_respond().
 */
int httpd_respond_stream(struct httpd_request *req, unsigned status,
                         const char *const *headers, uint64_t size,
                         httpd_reader_fn reader, void *cls, void (*free_cls)(void *cls));

/*
 * Suspends req: its connection is left alone until httpd_respond() (or,
 * for a paused stream, httpd_resume()).  Only from the handler.
 */
void httpd_suspend(struct httpd_request *req);

/* Lets a stream paused by HTTPD_READER_PAUSE continue.  No-op otherwise. */
void httpd_resume(struct httpd_request *req);

#endif
