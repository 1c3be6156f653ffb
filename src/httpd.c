/*
 * httpd.c - the shared HTTP server (see httpd.h) on libmicrohttpd in
 * "external polling" mode with epoll, so the caller's single poll loop
 * drives it through one descriptor.
 *
 * Deliberate choices:
 * - The listening socket is created here, not by libmicrohttpd, so a busy
 *   port or a bad address is reported with the real reason (errno), and
 *   port 0 works everywhere.
 * - The raw request URI comes from the URI log callback, which is also
 *   where the per-request object is born; libmicrohttpd would otherwise
 *   only hand out the decoded path and parsed query arguments.
 * - Every live request is on one list.  That list is the safety net for
 *   libmicrohttpd's notification order: a request is freed exactly once,
 *   whichever of "request completed", "connection closed" or httpd_free()
 *   comes first, and a notification for an unknown pointer is ignored.
 */
#include "crisisrun/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "crisisrun/util.h"

#define CONNECTION_TIMEOUT_S 60
#define STREAM_BLOCK 65536

struct stream;

struct request {
    struct httpd_request pub;
    struct httpd *h;
    struct MHD_Connection *conn;
    struct request *prev, *next;
    char *method, *path, *query;
    struct httpd_header *headers;
    size_t nheaders, aheaders;
    struct strbuf body;
    struct stream *stream;  /* the body being streamed, if any */
    unsigned started : 1;   /* headers seen */
    unsigned delivered : 1; /* handed to the handler */
    unsigned answered : 1;  /* a response is queued */
    unsigned suspended : 1;
};

struct stream {
    struct request *r; /* NULL once the request has ended */
    httpd_reader_fn fn;
    void *cls;
    void (*free_cls)(void *cls);
};

struct httpd {
    struct MHD_Daemon *daemon;
    struct httpd_config cfg;
    struct request *live;
    int port;
    char *url;
    int closing;
    unsigned long accepted; /* connections accepted so far (httpd_run) */
};

static struct request *req_of(struct httpd_request *pub)
{
    return (struct request *)((char *)pub - offsetof(struct request, pub));
}

/* ---- listening socket ---- */

static int parse_port(const char *s, int *port)
{
    char *end;
    if (!*s)
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 65535 || s[0] == '-' || s[0] == '+')
        return -1;
    *port = (int)v;
    return 0;
}

static int parse_listen(const char *listen_addr, struct sockaddr_storage *ss,
                        socklen_t *sslen)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port_str;
    int port;
    memset(ss, 0, sizeof(*ss));

    if (listen_addr[0] == '[') {
        const char *close = strchr(listen_addr, ']');
        if (!close || close[1] != ':' ||
            (size_t)(close - listen_addr - 1) >= sizeof(host))
            return -1;
        memcpy(host, listen_addr + 1, (size_t)(close - listen_addr - 1));
        host[close - listen_addr - 1] = '\0';
        port_str = close + 2;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (parse_port(port_str, &port) < 0 ||
            inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return -1;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*a6);
        return 0;
    }

    const char *colon = strrchr(listen_addr, ':');
    if (!colon) {
        host[0] = '\0';
        port_str = listen_addr;
    } else {
        if ((size_t)(colon - listen_addr) >= sizeof(host))
            return -1;
        memcpy(host, listen_addr, (size_t)(colon - listen_addr));
        host[colon - listen_addr] = '\0';
        port_str = colon + 1;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (!host[0] || !strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (parse_port(port_str, &port) < 0 || inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return -1;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *sslen = sizeof(*a4);
    return 0;
}

int httpd_listen_valid(const char *listen_addr)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    return parse_listen(listen_addr, &ss, &sslen) == 0;
}

/* Returns the listening descriptor and fills h->port and h->url, or -1. */
static int open_listener(struct httpd *h, const char *listen_addr)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (parse_listen(listen_addr, &ss, &sslen) < 0)
        return error("invalid listen address '%s' (expected " HTTPD_LISTEN_FORMS ")",
                     listen_addr);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return error("cannot listen on '%s': %s", listen_addr, strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
        int e = errno;
        close(fd);
        return error("cannot listen on '%s': %s", listen_addr, strerror(e));
    }

    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        h->port = ntohs(a6->sin6_port);
        if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr))
            strcpy(host, "::1");
        else
            inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
        h->url = xasprintf("http://[%s]:%d", host, h->port);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        h->port = ntohs(a4->sin_port);
        if (a4->sin_addr.s_addr == htonl(INADDR_ANY))
            strcpy(host, "127.0.0.1");
        else
            inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
        h->url = xasprintf("http://%s:%d", host, h->port);
    }
    return fd;
}

/* ---- request lifetime ---- */

static struct request *request_new(struct httpd *h, struct MHD_Connection *conn,
                                   const char *uri)
{
    struct request *r = xcalloc(1, sizeof(*r));
    const char *q = strchr(uri, '?');
    r->h = h;
    r->conn = conn;
    r->path = q ? xstrndup(uri, (size_t)(q - uri)) : xstrdup(uri);
    r->query = xstrdup(q ? q + 1 : "");
    strbuf_init(&r->body, 0);
    r->next = h->live;
    if (h->live)
        h->live->prev = r;
    h->live = r;
    return r;
}

static int request_is_live(struct httpd *h, struct request *r)
{
    for (struct request *p = h->live; p; p = p->next)
        if (p == r)
            return 1;
    return 0;
}

static void request_end(struct request *r)
{
    struct httpd *h = r->h;
    if (r->delivered && h->cfg.closed)
        h->cfg.closed(h->cfg.cls, &r->pub);
    if (r->stream)
        r->stream->r = NULL;
    if (r->prev)
        r->prev->next = r->next;
    else
        h->live = r->next;
    if (r->next)
        r->next->prev = r->prev;
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->method);
    free(r->path);
    free(r->query);
    strbuf_release(&r->body);
    free(r);
}

/* ---- libmicrohttpd callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    return request_new(cls, conn, uri ? uri : "/");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct httpd *h = cls;
    struct request *r = *con_cls;
    (void)conn;
    (void)toe;
    if (r && request_is_live(h, r))
        request_end(r);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct httpd *h = cls;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        h->accepted++;
    if (toe != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    /* Requests that libmicrohttpd never reported complete (e.g. it
     * rejected the headers itself) end with their connection. */
    for (struct request *r = h->live, *next; r; r = next) {
        next = r->next;
        if (r->conn == conn)
            request_end(r);
    }
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct request *r = cls;
    (void)kind;
    ALLOC_GROW(r->headers, r->nheaders + 1, r->aheaders);
    r->headers[r->nheaders].name = xstrdup(key ? key : "");
    r->headers[r->nheaders].value = xstrdup(value ? value : "");
    r->nheaders++;
    return MHD_YES;
}

static size_t max_body(const struct httpd *h)
{
    return h->cfg.max_body ? h->cfg.max_body : HTTPD_DEFAULT_MAX_BODY;
}

static void deliver(struct httpd *h, struct request *r)
{
    r->delivered = 1;
    r->pub.method = r->method;
    r->pub.path = r->path;
    r->pub.query = r->query;
    r->pub.headers = r->headers;
    r->pub.nheaders = r->nheaders;
    r->pub.body = strbuf_str(&r->body);
    r->pub.body_len = r->body.len;
    if (r->pub.body_too_large && !h->cfg.deliver_oversized) {
        static const char msg[] = "request body too large\n";
        httpd_respond(&r->pub, 413,
                      (const char *const[]){"Content-Type", "text/plain", NULL}, msg,
                      sizeof(msg) - 1);
        return;
    }
    h->cfg.handle(h->cfg.cls, &r->pub);
    if (!r->answered && !r->suspended) {
        static const char msg[] = "internal error\n";
        warning("request '%s' was left unanswered", r->path);
        httpd_respond(&r->pub, 500, NULL, msg, sizeof(msg) - 1);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct httpd *h = cls;
    struct request *r = *con_cls;
    (void)version;
    if (h->closing)
        return MHD_NO;
    if (!r)
        *con_cls = r = request_new(h, conn, url);

    if (!r->started) {
        r->started = 1;
        r->conn = conn;
        r->method = xstrdup(method);
        MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, r);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > max_body(h)) {
            /* Answer before the body is sent: the connection is then
             * closed instead of reading megabytes nobody wants. */
            r->pub.body_too_large = 1;
            deliver(h, r);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->pub.body_too_large) {
            if (r->body.len + *upload_size > max_body(h))
                r->pub.body_too_large = 1;
            else
                strbuf_add(&r->body, upload, *upload_size);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (!r->delivered) {
        deliver(h, r);
        return MHD_YES;
    }
    if (!r->answered) {
        /* Resumed without an answer: a misuse of httpd_resume(). */
        static const char msg[] = "internal error\n";
        warning("request '%s' was resumed unanswered", r->path);
        httpd_respond(&r->pub, 500, NULL, msg, sizeof(msg) - 1);
    }
    return MHD_YES;
}

/* ---- responses ---- */

static int add_response_headers(struct MHD_Response *resp, const char *const *headers)
{
    for (size_t i = 0; headers && headers[i]; i += 2) {
        if (!headers[i + 1] ||
            MHD_add_response_header(resp, headers[i], headers[i + 1]) != MHD_YES)
            return error("cannot set response header '%s'", headers[i]);
    }
    return 0;
}

static int queue(struct request *r, unsigned status, struct MHD_Response *resp,
                 const char *const *headers)
{
    int ret = add_response_headers(resp, headers);
    if (ret == 0 && MHD_queue_response(r->conn, status, resp) != MHD_YES)
        ret = error("cannot answer request '%s'", r->path);
    MHD_destroy_response(resp);
    if (ret < 0)
        return -1;
    r->answered = 1;
    if (r->suspended) {
        r->suspended = 0;
        MHD_resume_connection(r->conn);
    }
    return 0;
}

int httpd_respond(struct httpd_request *pub, unsigned status, const char *const *headers,
                  const void *body, size_t len)
{
    struct request *r = req_of(pub);
    if (r->answered)
        return error("request '%s' was already answered", r->path);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)(len ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return error("cannot create a response for '%s'", r->path);
    return queue(r, status, resp, headers);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    if (!s->r || s->r->h->closing)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    ssize_t n = s->fn(s->cls, pos, buf, max);
    if (n == HTTPD_READER_PAUSE) {
        MHD_suspend_connection(s->r->conn);
        s->r->suspended = 1;
        return 0;
    }
    if (n == HTTPD_READER_END)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    if (s->r)
        s->r->stream = NULL;
    if (s->free_cls)
        s->free_cls(s->cls);
    free(s);
}

int httpd_respond_stream(struct httpd_request *pub, unsigned status,
                         const char *const *headers, uint64_t size,
                         httpd_reader_fn reader, void *cls, void (*free_cls)(void *cls))
{
    struct request *r = req_of(pub);
    if (r->answered) {
        if (free_cls)
            free_cls(cls);
        return error("request '%s' was already answered", r->path);
    }
    struct stream *s = xcalloc(1, sizeof(*s));
    s->r = r;
    s->fn = reader;
    s->cls = cls;
    s->free_cls = free_cls;
    struct MHD_Response *resp = MHD_create_response_from_callback(
        size == HTTPD_SIZE_UNKNOWN ? MHD_SIZE_UNKNOWN : size, STREAM_BLOCK, stream_read,
        s, stream_free);
    if (!resp) {
        stream_free(s);
        return error("cannot create a response for '%s'", r->path);
    }
    r->stream = s;
    return queue(r, status, resp, headers);
}

void httpd_suspend(struct httpd_request *pub)
{
    struct request *r = req_of(pub);
    if (r->suspended || r->answered)
        return;
    MHD_suspend_connection(r->conn);
    r->suspended = 1;
}

void httpd_resume(struct httpd_request *pub)
{
    struct request *r = req_of(pub);
    if (!r->suspended || !r->answered)
        return;
    r->suspended = 0;
    MHD_resume_connection(r->conn);
}

const char *httpd_header(const struct httpd_request *pub, const char *name)
{
    for (size_t i = 0; i < pub->nheaders; i++)
        if (!strcasecmp(pub->headers[i].name, name))
            return pub->headers[i].value;
    return NULL;
}

const char *httpd_query_arg(const struct httpd_request *pub, const char *name)
{
    const struct request *r = req_of((struct httpd_request *)pub);
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- server ---- */

struct httpd *httpd_start(const struct httpd_config *cfg)
{
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
        error("libmicrohttpd was built without epoll support");
        return NULL;
    }
    struct httpd *h = xcalloc(1, sizeof(*h));
    h->cfg = *cfg;
    int fd = open_listener(h, cfg->listen);
    if (fd < 0) {
        free(h);
        return NULL;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 && ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!h->daemon) {
        close(fd);
        error("cannot start the http server on '%s'", cfg->listen);
        free(h->url);
        free(h);
        return NULL;
    }
    return h;
}

void httpd_free(struct httpd *h)
{
    if (!h)
        return;
    /* Resume every suspended connection and let libmicrohttpd process it
     * once with `closing` set: handlers then refuse it and it is closed.
     * Stopping the daemon with suspended connections would leak them. */
    h->closing = 1;
    for (struct request *r = h->live; r; r = r->next) {
        if (r->suspended) {
            r->suspended = 0;
            MHD_resume_connection(r->conn);
        }
    }
    for (int i = 0; i < 3; i++)
        MHD_run(h->daemon);
    MHD_stop_daemon(h->daemon);
    while (h->live)
        request_end(h->live);
    free(h->url);
    free(h);
}

int httpd_port(const struct httpd *h)
{
    return h->port;
}

const char *httpd_url(const struct httpd *h)
{
    return h->url;
}

size_t httpd_fds(struct httpd *h, struct pollfd *fds, size_t max)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    if (!max || !info)
        return 0;
    fds[0].fd = info->epoll_fd;
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    return 1;
}

int64_t httpd_timeout(struct httpd *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(h->daemon, &ms) != MHD_YES)
        return -1;
    return ms > INT_MAX ? INT_MAX : (int64_t)ms;
}

/* Most MHD_run() passes of one httpd_run(); see there. */
#define RUN_PASSES 4

void httpd_run(struct httpd *h)
{
    /*
     * libmicrohttpd accepts a connection in one MHD_run() and reads it
     * only in the next, once its socket has joined the epoll set.  With a
     * single pass, a request that has fully arrived would wait for the
     * caller's next turn, behind whatever the caller does first: the run
     * loop fires the steps due right after serving (runner.c), so an
     * acknowledgement waiting in the socket when its deadline came would
     * lose to the escalation.  So run again while a pass accepted
     * connections: every request that had arrived when httpd_run() was
     * called reaches its handler before it returns, as httpd.h promises
     * (unless dozens of connections wait: libmicrohttpd accepts about ten
     * a pass, and a stream of new ones must not hold the caller).
     */
    for (int i = 0; i < RUN_PASSES; i++) {
        unsigned long accepted = h->accepted;
        MHD_run(h->daemon);
        if (h->accepted == accepted)
            break;
    }
}
