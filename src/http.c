/*
 * http.c - POST requests over one curl multi handle (see http.h).
 *
 * Deliberate choices:
 * - Easy handles are pooled and never reset: the options that are the same
 *   for every request are set once when a handle is made, and only the
 *   request's own (URL, body, headers, timeouts) are set per request.  The
 *   multi handle owns the connection and DNS caches, so keep-alive
 *   connections are reused whichever pooled handle runs the next request.
 * - The header list handed to curl is built from nodes this module owns,
 *   one array a pooled transfer, pointing at the caller's strings: no copy
 *   and no allocation per header.
 * - A pooled transfer keeps the last URL it was given, parsed, and reuses
 *   that parse for the next URL to the same origin (see set_url()).
 * - No connection limits are set on the multi handle.  The delivery engine
 *   admits requests itself (global and per-host caps), so curl never has a
 *   request queued inside it: a request's timeout measures that request,
 *   not the time it spent waiting behind others.
 */
#include "crisisrun/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/util.h"

/*
 * libcurl asks for "100 Continue" before sending a POST body larger than
 * a threshold (1 MiB in current versions, 1 KiB in older ones): a round
 * trip for nothing, and a one-second stall against a server that ignores
 * it.  An empty "Expect:" line stops it.  Bodies up to the older threshold
 * never trigger it, so they go without the line: one custom header fewer
 * for curl to check and copy, on every request of a fan-out.
 */
#define EXPECT_MIN_BODY 1024
static const char no_expect[] = "Expect:";

struct xfer {
    CURL *easy;
    struct http_client *client;
    struct xfer *prev, *next; /* in-flight list, or the pool (next only) */
    struct curl_slist *nodes;
    size_t nodes_alloc;
    struct strbuf body;
    int truncated;
    char retry_after[80];
    int has_retry_after;
    char errbuf[CURL_ERROR_SIZE];
    /* The last URL parsed for this transfer (see set_url()): uh holds its
     * parts, origin its "scheme://authority", NULL when uh is unusable. */
    CURLU *uh;
    char *origin;
    size_t origin_len;
    struct strbuf path; /* the path alone, NUL-terminated, for curl_url_set */
    http_done_fn *done;
    void *ctx;
};

struct http_client {
    CURLM *multi;
    /* "User-Agent: VALUE", sent as one of the request's own header lines
     * when it has none: libcurl formats CURLOPT_USERAGENT twice a request
     * with its printf, a character at a time (6 K instructions a request
     * in a fan-out).  With a proxy, VALUE is set as CURLOPT_USERAGENT too,
     * for the CONNECT to the proxy, which does not carry the request's
     * lines. */
    char *user_agent;
    /* No proxy variable in the environment: every request says so, and
     * libcurl stops looking them up (three getenv() calls a request). */
    int no_proxy_env;
    /* The CA bundle https endpoints are verified against (see
     * ca_bundle()); NULL leaves libcurl's defaults alone. */
    char *ca_file;
    int plain_http_only;   /* http_options.plain_http_only */
    struct xfer *pool;     /* idle transfers, ready for reuse */
    struct xfer *inflight; /* doubly linked */
    size_t ninflight;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    size_t room = HTTP_BODY_CAP - x->body.len;
    if (n <= room) {
        strbuf_add(&x->body, ptr, n);
        return n;
    }
    /* The status line and headers are in by now: keep what fits and end
     * the transfer instead of reading an unbounded body. */
    strbuf_add(&x->body, ptr, room);
    x->truncated = 1;
    return 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nitems;
    static const char name[] = "Retry-After:";
    if (n >= 5 && !memcmp(buf, "HTTP/", 5)) {
        /* A new response (after a 1xx): forget the previous one's headers. */
        x->has_retry_after = 0;
    } else if (n > sizeof(name) - 1 && !strncasecmp(buf, name, sizeof(name) - 1)) {
        const char *v = buf + sizeof(name) - 1;
        const char *end = buf + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v &&
               (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t len = (size_t)(end - v);
        if (len < sizeof(x->retry_after)) {
            memcpy(x->retry_after, v, len);
            x->retry_after[len] = '\0';
            x->has_retry_after = 1;
        }
    }
    return n;
}

static struct xfer *xfer_new(struct http_client *c)
{
    struct xfer *x = xcalloc(1, sizeof(*x));
    x->client = c;
    strbuf_init(&x->body, 0);
    strbuf_init(&x->path, 0);
    x->easy = curl_easy_init();
    if (!x->easy) {
        strbuf_release(&x->body);
        free(x);
        error("cannot create an HTTP request handle");
        return NULL;
    }
    CURL *e = x->easy;
    CURLcode rc = CURLE_OK;
    /* Options that hold for every request; a failure here is a libcurl
     * built without something we rely on. */
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
#if LIBCURL_VERSION_NUM >= 0x075500
    const char *protocols = c->plain_http_only ? "http" : "http,https";
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
    rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
#else
    long protocols = CURLPROTO_HTTP | (c->plain_http_only ? 0 : CURLPROTO_HTTPS);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, protocols);
    rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, protocols);
#endif
    rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    /* Answers to a notification are a few hundred bytes (a provider's
     * error at most a few KiB, read in several pieces); libcurl's default
     * 16 KiB receive buffer a handle was a megabyte in a fan-out. */
    rc |= curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 1024L);
    if (c->user_agent && !c->no_proxy_env)
        rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent + strlen("User-Agent: "));
    if (c->no_proxy_env) {
        /* What libcurl concludes from an environment without them. */
        rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
        rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    }
    if (c->ca_file) {
        rc |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
        /* A TLS backend without CA directories has none to unset. */
        CURLcode pc = curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
        if (pc != CURLE_NOT_BUILT_IN)
            rc |= pc;
    }
    if (rc != CURLE_OK) {
        curl_easy_cleanup(e);
        strbuf_release(&x->body);
        strbuf_release(&x->path);
        free(x);
        error("libcurl lacks an option crisisrun needs (HTTP/1.1, protocol restriction)");
        return NULL;
    }
    return x;
}

static void xfer_free(struct xfer *x)
{
    curl_easy_cleanup(x->easy);
    curl_url_cleanup(x->uh);
    free(x->origin);
    strbuf_release(&x->path);
    strbuf_release(&x->body);
    free(x->nodes);
    free(x);
}

/*
 * Why path cannot serve as a CA bundle, or NULL when it can: a regular
 * file that holds a PEM certificate.  Checked once, at the start, so that
 * a wrong file stops the run instead of failing every https request.
 */
static const char *bundle_problem(const char *path)
{
    /* O_NONBLOCK: a FIFO must not hang the start; it is refused below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return strerror(errno);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return "it is not a regular file";
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return strerror(errno);
    }
    const char *problem = "it holds no PEM certificate";
    char line[256];
    while (fgets(line, sizeof(line), f))
        if (strstr(line, "-----BEGIN ") && strstr(line, "CERTIFICATE-----")) {
            problem = NULL;
            break;
        }
    fclose(f);
    return problem;
}

/*
 * The CA bundle to verify https endpoints against, or NULL to keep
 * libcurl's defaults: $SSL_CERT_FILE when set and not empty (an
 * organisation's own CAs; the variable OpenSSL and the curl tool read),
 * else the bundle libcurl was built with.  Only the bundle, without the
 * directory libcurl was built with beside it (Debian's libcurl has both,
 * made from the same certificates by update-ca-certificates): libcurl's
 * OpenSSL backend keeps the certificate store it loads from a bundle in
 * the multi handle and reuses it for every new connection, but only when
 * no directory is set.  Otherwise it reloads the bundle's 140-odd
 * certificates for each connection, 20 ms of CPU against 1 ms for the
 * handshake itself, which a fan-out to thousands of https hosts pays once
 * a host.  A libcurl without a usable bundle of its own keeps its
 * defaults.  -1 (after an error) when SSL_CERT_FILE names no usable bundle.
 */
static int ca_bundle(char **out)
{
    *out = NULL;
    const char *env = getenv("SSL_CERT_FILE");
    if (env && *env) {
        const char *problem = bundle_problem(env);
        if (problem)
            return error("SSL_CERT_FILE names '%s', which cannot serve as a CA bundle: %s "
                         "(unset it to use the system's certificates)",
                         env, problem);
        *out = xstrdup(env);
        return 0;
    }
#if LIBCURL_VERSION_NUM >= 0x074600
    /* libcurl's own bundle is in its version data from 7.70 on. */
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (v->age >= CURLVERSION_SEVENTH && v->cainfo && !bundle_problem(v->cainfo))
        *out = xstrdup(v->cainfo);
#endif
    return 0;
}

struct http_client *http_client_new(const struct http_options *opt)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        error("cannot initialise libcurl: %s", curl_easy_strerror(rc));
        return NULL;
    }
    char *ca_file = NULL;
    if (!opt->plain_http_only && ca_bundle(&ca_file) < 0) {
        curl_global_cleanup();
        return NULL;
    }
    struct http_client *c = xcalloc(1, sizeof(*c));
    c->ca_file = ca_file;
    c->plain_http_only = opt->plain_http_only;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c->ca_file);
        free(c);
        curl_global_cleanup();
        error("cannot create the HTTP client");
        return NULL;
    }
    if (opt->user_agent)
        c->user_agent = xasprintf("User-Agent: %s", opt->user_agent);
    /* Every variable libcurl consults for an http or https URL, and the
     * uppercase forms it ignores for http, to err on its side. */
    static const char *const proxy_vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                             "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                                             "no_proxy", "NO_PROXY"};
    c->no_proxy_env = 1;
    for (size_t i = 0; i < ARRAY_SIZE(proxy_vars); i++)
        if (getenv(proxy_vars[i]))
            c->no_proxy_env = 0;
    if (opt->max_idle_connections > 0)
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, opt->max_idle_connections);
    return c;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    while (c->inflight) {
        struct xfer *x = c->inflight;
        c->inflight = x->next;
        curl_multi_remove_handle(c->multi, x->easy);
        xfer_free(x);
    }
    while (c->pool) {
        struct xfer *x = c->pool;
        c->pool = x->next;
        xfer_free(x);
    }
    curl_multi_cleanup(c->multi);
    free(c->user_agent);
    free(c->ca_file);
    free(c);
    curl_global_cleanup();
}

static void inflight_unlink(struct http_client *c, struct xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        c->inflight = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
    c->ninflight--;
}

static void pool_put(struct http_client *c, struct xfer *x)
{
    x->next = c->pool;
    c->pool = x;
}

/*
 * Whether c may be in a URL's path or query that libcurl's parser keeps
 * byte for byte: RFC 3986's unreserved and sub-delims, ':', '@' and '/'.
 * Left out: '%' (curl_url_set() lower-cases escapes that the parser keeps
 * as written), '#' (the fragment), and whatever the parser refuses.
 */
static int plain_url_char(unsigned char c)
{
    static const char extra[] = "-._~!$&'()*+,;=:@/";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr(extra, c));
}

/*
 * The length of the path at the start of target when libcurl would parse
 * "origin + target" into that path and the query after its '?' unchanged,
 * or 0.  The path holds no "/." (the parser removes dot segments).
 */
static size_t plain_target(const char *target)
{
    if (target[0] != '/')
        return 0;
    size_t n = 1;
    while (plain_url_char((unsigned char)target[n]))
        n++;
    if (memmem(target, n, "/.", 2) || (target[n] && target[n] != '?'))
        return 0;
    for (const char *q = target + n + (target[n] != '\0'); *q; q++)
        if (!plain_url_char((unsigned char)*q) && *q != '?')
            return 0;
    return n;
}

/*
 * The length of url's "http://" or "https://" (any case) and authority,
 * which libcurl's parser reads as the scheme and authority whatever
 * follows; 0 for any other URL, left to libcurl.  That takes an http or
 * https scheme (with another before "://", or none, libcurl may read a
 * relative URL, or a host elsewhere) and an authority ("http:///h/p" is
 * host h for libcurl).  Also 0 for an IPv6 literal with a zone id
 * ("[fe80::1%25eth0]"): libcurl 7.88 copies a CURLU with curl_url_dup(),
 * which drops the zone id, and the connection would go out with no
 * interface; any '[' and '%' in the authority leave the URL to libcurl.
 */
static size_t origin_length(const char *url)
{
    /* One pass, byte by byte: this runs for every request of a fan-out.
     * (c | 0x20) is a given lower-case letter only when c is that letter
     * in either case. */
    size_t n = 0;
    while (n < 4 && (url[n] | 0x20) == "http"[n])
        n++;
    if (n < 4)
        return 0;
    if ((url[n] | 0x20) == 's')
        n++;
    if (url[n] != ':' || url[n + 1] != '/' || url[n + 2] != '/')
        return 0;
    n += 3;
    size_t len = 0;
    int bracket = 0, percent = 0;
    for (char ch; (ch = url[n + len]) && ch != '/' && ch != '?' && ch != '#'; len++) {
        bracket |= ch == '[';
        percent |= ch == '%';
    }
    return len && !(bracket && percent) ? n + len : 0;
}

/*
 * Hands the request's URL to curl.  Given a string, libcurl parses it and
 * prints it back on every request, the printing a byte at a time: some
 * 11 K instructions a request, a ninth of what a fan-out costs its
 * sending thread.  So a pooled transfer keeps its last URL parsed (uh),
 * and when the next one has the same scheme and authority and a plain
 * path and query (plain_target()), only those two parts are replaced:
 * the request is what libcurl would have built from the string.  Other
 * URLs are parsed whole with the flags libcurl itself uses, or, if that
 * fails, left to libcurl to parse and refuse in its own words.
 *
 * The string is set as well: it is the request's URL for libcurl's own
 * use (a retry on a connection found dead, its messages), and it keeps
 * libcurl from printing the URL back from uh.  Not with a proxy: a proxy
 * is sent the URL libcurl prints, so the string is left to libcurl.  Nor
 * for a URL origin_length() does not vouch for.
 */
static CURLcode set_url(struct http_client *c, struct xfer *x, const char *url)
{
    CURL *e = x->easy;
    CURLU *uh = NULL;
    size_t origin_len = c->no_proxy_env ? origin_length(url) : 0;
    if (origin_len) {
        const char *target = url + origin_len;
        size_t path_len = plain_target(target);
        if (path_len && x->origin && x->origin_len == origin_len &&
            !memcmp(x->origin, url, origin_len)) {
            const char *query = target[path_len] ? target + path_len + 1 : NULL;
            const char *path = target;
            if (query) {
                strbuf_reset(&x->path);
                strbuf_add(&x->path, target, path_len);
                path = x->path.buf;
            }
            if (curl_url_set(x->uh, CURLUPART_PATH, path, 0) == CURLUE_OK &&
                curl_url_set(x->uh, CURLUPART_QUERY, query, 0) == CURLUE_OK &&
                curl_url_set(x->uh, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK)
                uh = x->uh;
        }
        if (!uh) {
            free(x->origin);
            x->origin = NULL;
            if (!x->uh)
                x->uh = curl_url();
            if (x->uh && curl_url_set(x->uh, CURLUPART_URL, url,
                                      CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) ==
                             CURLUE_OK) {
                uh = x->uh;
                x->origin = xstrndup(url, origin_len);
                x->origin_len = origin_len;
            }
        }
    }
    CURLcode rc = curl_easy_setopt(e, CURLOPT_CURLU, uh);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_URL, url);
    return rc;
}

int http_start(struct http_client *c, const struct http_request *rq, http_done_fn *done,
               void *ctx)
{
    struct xfer *x = c->pool;
    if (x)
        c->pool = x->next;
    else if (!(x = xfer_new(c)))
        return -1;
    x->next = x->prev = NULL;

    /* A request's own User-Agent line replaces ours, as with
     * CURLOPT_USERAGENT, and its own Expect line replaces "Expect:". */
    int add_ua = c->user_agent != NULL, add_expect = rq->len > EXPECT_MIN_BODY;
    for (size_t i = 0; (add_ua || add_expect) && i < rq->nheaders; i++) {
        if (!strncasecmp(rq->headers[i], "User-Agent:", 11))
            add_ua = 0;
        else if (!strncasecmp(rq->headers[i], "Expect:", 7))
            add_expect = 0;
    }
    size_t nh = rq->nheaders + (size_t)add_ua + (size_t)add_expect;
    if (nh > x->nodes_alloc) {
        free(x->nodes);
        x->nodes = xcalloc(nh, sizeof(*x->nodes));
        x->nodes_alloc = nh;
    }
    size_t n = 0;
    /* curl only reads the strings; the casts are what its struct needs. */
    if (add_ua)
        x->nodes[n++].data = c->user_agent;
    for (size_t i = 0; i < rq->nheaders; i++)
        x->nodes[n++].data = (char *)rq->headers[i];
    if (add_expect)
        x->nodes[n++].data = (char *)no_expect;
    for (size_t i = 0; i < nh; i++)
        x->nodes[i].next = i + 1 < nh ? &x->nodes[i + 1] : NULL;
    strbuf_reset(&x->body);
    x->truncated = 0;
    x->has_retry_after = 0;
    x->errbuf[0] = '\0';
    x->done = done;
    x->ctx = ctx;

    CURL *e = x->easy;
    CURLcode rc = set_url(c, x, rq->url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, nh ? x->nodes : NULL);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)rq->connect_timeout_ms);
    if (rc != CURLE_OK) {
        pool_put(c, x);
        return error("cannot set up an HTTP request: %s", curl_easy_strerror(rc));
    }
    CURLMcode mc = curl_multi_add_handle(c->multi, e);
    if (mc != CURLM_OK) {
        pool_put(c, x);
        return error("cannot start an HTTP request: %s", curl_multi_strerror(mc));
    }
    x->next = c->inflight;
    if (c->inflight)
        c->inflight->prev = x;
    c->inflight = x;
    c->ninflight++;
    return 0;
}

size_t http_inflight(const struct http_client *c)
{
    return c->ninflight;
}

static void finish(struct http_client *c, struct xfer *x, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(c->multi, x->easy);
    inflight_unlink(c, x);

    struct http_result r = {0};
    if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && x->truncated)) {
        r.status = status;
        r.body = strbuf_str(&x->body);
        r.len = x->body.len;
        r.truncated = x->truncated;
        r.retry_after = x->has_retry_after ? x->retry_after : NULL;
    } else {
        r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
        r.permanent = rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
        r.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    }
    x->done(x->ctx, &r);
    pool_put(c, x);
}

void http_perform(struct http_client *c)
{
    int running, left;
    curl_multi_perform(c->multi, &running);
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        /* m is invalid once the handle is removed: copy what we need. */
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result;
        struct xfer *x = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        finish(c, x, rc);
    }
}

int http_wait(struct http_client *c, struct pollfd *extra, int nextra, int timeout_ms)
{
    struct curl_waitfd small[8];
    struct curl_waitfd *w =
        nextra <= (int)ARRAY_SIZE(small) ? small : xmalloc((size_t)nextra * sizeof(*w));
    for (int i = 0; i < nextra; i++) {
        w[i].fd = extra[i].fd;
        w[i].events = 0;
        if (extra[i].events & POLLIN)
            w[i].events |= CURL_WAIT_POLLIN;
        if (extra[i].events & POLLPRI)
            w[i].events |= CURL_WAIT_POLLPRI;
        if (extra[i].events & POLLOUT)
            w[i].events |= CURL_WAIT_POLLOUT;
        w[i].revents = 0;
    }
    /* -1 means no limit of the caller's own; curl still wakes for its
     * timers, so a day is as good as forever. */
    int t = timeout_ms < 0 ? 24 * 60 * 60 * 1000 : timeout_ms;
    CURLMcode mc = curl_multi_poll(c->multi, w, (unsigned)nextra, t, NULL);
    for (int i = 0; i < nextra; i++) {
        extra[i].revents = 0;
        if (w[i].revents & CURL_WAIT_POLLIN)
            extra[i].revents |= POLLIN;
        if (w[i].revents & CURL_WAIT_POLLPRI)
            extra[i].revents |= POLLPRI;
        if (w[i].revents & CURL_WAIT_POLLOUT)
            extra[i].revents |= POLLOUT;
    }
    if (w != small)
        free(w);
    if (mc != CURLM_OK)
        return error("cannot wait for network events: %s", curl_multi_strerror(mc));
    return 0;
}
