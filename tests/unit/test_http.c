/*
 * test_http.c - the HTTP client's requests as they arrive on the wire.
 *
 * http.c hands libcurl a URL parsed once per origin and replaces only its
 * path and query for the next URL to the same origin (set_url()).  Every
 * request here must carry the request line, Host line and credentials
 * libcurl itself makes from the URL's string: the expected target comes
 * from libcurl's own parser (curl_url_set/curl_url_get), and a few are
 * also written out by hand.  The requests go one at a time, so one pooled
 * transfer carries them all, each URL after the one before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crisisrun/http.h"
#include "crisisrun/util.h"

#define MAX_SEEN 64

/* A loopback HTTP/1.1 server that answers 204 to every request, keeping
 * connections open, and records each request's first line and headers.
 * It also listens on a link-local IPv6 address when the machine has one
 * (lfd6, -1 when not), for URLs with a zone id. */
static struct {
    int lfd;
    unsigned short port;
    int lfd6;
    unsigned short port6;
    char addr6[INET6_ADDRSTRLEN]; /* the link-local address, no zone */
    char ifname6[IF_NAMESIZE];    /* its interface */
    unsigned ifindex6;
    pthread_t tid;
    int stop[2];
    pthread_mutex_t mu;
    char *seen[MAX_SEEN]; /* request line, then the header lines, as sent */
    int nseen;
} srv;

static void record(const char *head, size_t len)
{
    pthread_mutex_lock(&srv.mu);
    if (srv.nseen < MAX_SEEN)
        srv.seen[srv.nseen++] = xstrndup(head, len);
    pthread_mutex_unlock(&srv.mu);
}

/* Serves one connection's pending bytes; 0 when it is closed. */
static int serve_conn(int fd, struct strbuf *in)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0)
        return 0;
    strbuf_add(in, buf, (size_t)n);
    for (;;) {
        char *end = strstr(in->buf, "\r\n\r\n");
        if (!end)
            return 1;
        size_t head = (size_t)(end - in->buf) + 2, body = 0;
        const char *cl = strcasestr(in->buf, "\r\nContent-Length:");
        if (cl && cl < end)
            body = strtoul(cl + strlen("\r\nContent-Length:"), NULL, 10);
        size_t whole = head + 2 + body;
        if (in->len < whole)
            return 1;
        record(in->buf, head);
        static const char answer[] = "HTTP/1.1 204 No Content\r\n\r\n";
        if (write(fd, answer, sizeof(answer) - 1) < 0)
            return 0;
        memmove(in->buf, in->buf + whole, in->len - whole);
        in->len -= whole;
        in->buf[in->len] = '\0';
    }
}

#define LISTENERS 2 /* fds[1] and fds[2]; the connections follow */
#define MAX_FDS 18

static void *server_main(void *arg)
{
    (void)arg;
    struct pollfd fds[MAX_FDS] = {{.fd = srv.stop[0], .events = POLLIN},
                                  {.fd = srv.lfd, .events = POLLIN},
                                  {.fd = srv.lfd6, .events = POLLIN}};
    struct strbuf in[MAX_FDS];
    for (int i = 0; i < MAX_FDS; i++)
        strbuf_init(&in[i], 0);
    int nfds = 1 + LISTENERS;
    while (poll(fds, (nfds_t)nfds, -1) >= 0 && !fds[0].revents) {
        for (int l = 1; l <= LISTENERS; l++) {
            if (!fds[l].revents || nfds == MAX_FDS)
                continue;
            int fd = accept(fds[l].fd, NULL, NULL);
            if (fd >= 0) {
                strbuf_reset(&in[nfds]);
                fds[nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
            }
        }
        for (int i = 1 + LISTENERS; i < nfds; i++) {
            if (!fds[i].revents || serve_conn(fds[i].fd, &in[i]))
                continue;
            close(fds[i].fd);
            fds[i] = fds[nfds - 1];
            struct strbuf last = in[nfds - 1];
            in[nfds - 1] = in[i];
            in[i] = last;
            nfds--;
            i--;
        }
    }
    for (int i = 1 + LISTENERS; i < nfds; i++)
        close(fds[i].fd);
    for (int i = 0; i < MAX_FDS; i++)
        strbuf_release(&in[i]);
    return NULL;
}

/* Listens on the first link-local IPv6 address of an interface that is up,
 * if any: srv.lfd6 stays -1 without one. */
static void listen_link_local(void)
{
    struct ifaddrs *ifs = NULL;
    srv.lfd6 = -1;
    if (getifaddrs(&ifs))
        return;
    for (struct ifaddrs *i = ifs; i && srv.lfd6 < 0; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 ||
            !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        struct sockaddr_in6 sa = *(const struct sockaddr_in6 *)i->ifa_addr;
        if (!IN6_IS_ADDR_LINKLOCAL(&sa.sin6_addr) || !sa.sin6_scope_id ||
            strlen(i->ifa_name) >= sizeof(srv.ifname6))
            continue;
        sa.sin6_port = 0;
        socklen_t salen = sizeof(sa);
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16) ||
            getsockname(fd, (struct sockaddr *)&sa, &salen) ||
            !inet_ntop(AF_INET6, &sa.sin6_addr, srv.addr6, sizeof(srv.addr6))) {
            close(fd);
            continue;
        }
        srv.lfd6 = fd;
        srv.port6 = ntohs(sa.sin6_port);
        srv.ifindex6 = sa.sin6_scope_id;
        strcpy(srv.ifname6, i->ifa_name);
    }
    freeifaddrs(ifs);
}

static int server_start(void **state)
{
    (void)state;
    /* A proxy variable would send every request the other way (set_url()). */
    static const char *const proxy_vars[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                             "HTTPS_PROXY", "all_proxy",  "ALL_PROXY",
                                             "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < ARRAY_SIZE(proxy_vars); i++)
        unsetenv(proxy_vars[i]);
    pthread_mutex_init(&srv.mu, NULL);
    srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof(sa);
    if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
        listen(srv.lfd, 16) || getsockname(srv.lfd, (struct sockaddr *)&sa, &salen) ||
        pipe(srv.stop))
        return -1;
    srv.port = ntohs(sa.sin_port);
    listen_link_local();
    return pthread_create(&srv.tid, NULL, server_main, NULL) ? -1 : 0;
}

static int server_stop(void **state)
{
    (void)state;
    if (write(srv.stop[1], "x", 1) < 0)
        return -1;
    pthread_join(srv.tid, NULL);
    close(srv.lfd);
    if (srv.lfd6 >= 0)
        close(srv.lfd6);
    close(srv.stop[0]);
    close(srv.stop[1]);
    for (int i = 0; i < srv.nseen; i++)
        free(srv.seen[i]);
    pthread_mutex_destroy(&srv.mu);
    return 0;
}

/* --- the client's side --------------------------------------------------- */

struct outcome {
    int done;
    long status;
    char error[256];
};

static void on_done(void *ctx, const struct http_result *r)
{
    struct outcome *o = ctx;
    o->done = 1;
    o->status = r->status;
    snprintf(o->error, sizeof(o->error), "%s", r->error ? r->error : "");
}

/* POSTs to url and waits for the outcome; the request's head as the
 * server saw it (owned by srv), or NULL when none arrived. */
static const char *post(struct http_client *c, const char *url, struct outcome *o)
{
    static const char *const headers[] = {"Content-Type: application/json"};
    struct http_request rq = {.url = url,
                              .body = "{}",
                              .len = 2,
                              .headers = headers,
                              .nheaders = 1,
                              .timeout_ms = 5000,
                              .connect_timeout_ms = 5000};
    pthread_mutex_lock(&srv.mu);
    int before = srv.nseen;
    pthread_mutex_unlock(&srv.mu);
    *o = (struct outcome){0};
    if (http_start(c, &rq, on_done, o) < 0)
        return NULL;
    while (!o->done) {
        assert_int_equal(http_wait(c, NULL, 0, 1000), 0);
        http_perform(c);
    }
    pthread_mutex_lock(&srv.mu);
    const char *head = srv.nseen > before ? srv.seen[srv.nseen - 1] : NULL;
    pthread_mutex_unlock(&srv.mu);
    return head;
}

/* "POST TARGET HTTP/1.1" for url, TARGET as libcurl's parser makes it. */
static char *curl_request_line(const char *url)
{
    CURLU *h = curl_url();
    char *path = NULL, *query = NULL;
    assert_int_equal(curl_url_set(h, CURLUPART_URL, url,
                                  CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME),
                     CURLUE_OK);
    assert_int_equal(curl_url_get(h, CURLUPART_PATH, &path, 0), CURLUE_OK);
    CURLUcode qc = curl_url_get(h, CURLUPART_QUERY, &query, 0);
    char *line = xasprintf("POST %s%s%s HTTP/1.1\r\n", path, qc == CURLUE_OK ? "?" : "",
                           qc == CURLUE_OK ? query : "");
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(h);
    return line;
}

/* The value of header `name` in head, or "" when it has none. */
static char *header_value(const char *head, const char *name)
{
    char *key = xasprintf("\r\n%s:", name);
    const char *at = strcasestr(head, key);
    char *v = at ? xstrndup(at + strlen(key) + 1, strcspn(at + strlen(key) + 1, "\r\n"))
                 : xstrdup("");
    free(key);
    return v;
}

/*
 * POSTs to url and checks what arrived: the request line "POST TARGET
 * HTTP/1.1" (target NULL: libcurl's own, else also checked to be libcurl's
 * own), the Host line, and the Authorization line when auth is not NULL
 * ("" when none must be sent).
 */
static void expect_sent(struct http_client *c, const char *url, const char *target,
                        const char *host, const char *auth)
{
    char *libcurl_line = curl_request_line(url);
    char *line = target ? xasprintf("POST %s HTTP/1.1\r\n", target) : xstrdup(libcurl_line);
    struct outcome o;
    const char *head = post(c, url, &o);
    if (!head || strncmp(head, line, strlen(line)))
        fail_msg("%s: sent %.*s (%s), expected %s", url, head ? (int)strcspn(head, "\r") : 7,
                 head ? head : "nothing", o.error, line);
    assert_int_equal(o.status, 204);
    /* A hand-written target is libcurl's. */
    assert_string_equal(line, libcurl_line);
    char *got_host = header_value(head, "Host");
    assert_string_equal(got_host, host);
    free(got_host);
    if (auth) {
        char *got_auth = header_value(head, "Authorization");
        assert_string_equal(got_auth, auth);
        free(got_auth);
    }
    free(libcurl_line);
    free(line);
}

struct wire_case {
    const char *url; /* "%u" is the server's port */
    const char *target;
    const char *host;          /* the Host line's value, "%u" the port */
    const char *authorization; /* "" when none must be sent */
};

static void test_requests_as_libcurl_makes_them(void **state)
{
    (void)state;
    static const struct wire_case cases[] = {
        {"http://127.0.0.1:%u/s/1", "/s/1", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/2", "/s/2", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/3?a=1&b=2", "/s/3?a=1&b=2", "127.0.0.1:%u", ""},
        /* The query before it must not stay. */
        {"http://127.0.0.1:%u/s/4", "/s/4", "127.0.0.1:%u", ""},
        /* libcurl's parser removes dot segments... */
        {"http://127.0.0.1:%u/a/./b/../c", "/a/c", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/6", "/s/6", "127.0.0.1:%u", ""},
        /* ...and keeps escapes as written, which curl_url_set() would not. */
        {"http://127.0.0.1:%u/p%%2Fq%%2fr", "/p%2Fq%2fr", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/8#part", "/s/8", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/9?", "/s/9?", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/", "/", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u", "/", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u?x=1", "/?x=1", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/.well-known/x", "/.well-known/x", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/a'b(c)*+,;=:@!$~_-.x", "/s/a'b(c)*+,;=:@!$~_-.x",
         "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/15?q=a?b/c", "/s/15?q=a?b/c", "127.0.0.1:%u", ""},
        /* Another origin on the same server, and back. */
        {"http://localhost:%u/s/16", "/s/16", "localhost:%u", ""},
        {"http://localhost:%u/s/17", "/s/17", "localhost:%u", ""},
        {"HTTP://127.0.0.1:%u/s/18", "/s/18", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/19", "/s/19", "127.0.0.1:%u", ""},
        /* Credentials in the URL go with their own origin only. */
        {"http://user:pw@127.0.0.1:%u/s/20", "/s/20", "127.0.0.1:%u",
         "Basic dXNlcjpwdw=="},
        {"http://user:pw@127.0.0.1:%u/s/21?k=v", "/s/21?k=v", "127.0.0.1:%u",
         "Basic dXNlcjpwdw=="},
        {"http://127.0.0.1:%u/s/22", "/s/22", "127.0.0.1:%u", ""},
        {"http://127.0.0.1:%u/s/23", "/s/23", "127.0.0.1:%u", ""},
        /* Hosts and ports libcurl's parser rewrites, twice each. */
        {"http://127.1:%u/s/24", "/s/24", "127.0.0.1:%u", ""},
        {"http://127.1:%u/s/25", "/s/25", "127.0.0.1:%u", ""},
        {"http://0x7f.0.0.1:0%u/s/26", "/s/26", "127.0.0.1:%u", ""},
        {"http://0x7f.0.0.1:0%u/s/27?z", "/s/27?z", "127.0.0.1:%u", ""},
        /* An empty user name, and escapes in the user name and password. */
        {"http://@127.0.0.1:%u/s/28", "/s/28", "127.0.0.1:%u", "Basic Og=="},
        {"http://@127.0.0.1:%u/s/29", "/s/29", "127.0.0.1:%u", "Basic Og=="},
        {"http://u%%40x:p%%3Aq@127.0.0.1:%u/s/30", "/s/30", "127.0.0.1:%u",
         "Basic dUB4OnA6cQ=="},
        {"http://u%%40x:p%%3Aq@127.0.0.1:%u/s/31", "/s/31", "127.0.0.1:%u",
         "Basic dUB4OnA6cQ=="},
        {"http://127.0.0.1:%u/s/32", "/s/32", "127.0.0.1:%u", ""},
    };
    struct http_client *c = http_client_new(&(struct http_options){.user_agent = "test"});
    assert_non_null(c);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *url = xasprintf(cases[i].url, srv.port);
        char *host = xasprintf(cases[i].host, srv.port);
        expect_sent(c, url, cases[i].target, host, cases[i].authorization);
        free(host);
        free(url);
    }
    http_client_free(c);
}

/* A URL libcurl refuses is refused as before, after requests that went,
 * and the next one goes where it says. */
static void test_refused_url_between_good_ones(void **state)
{
    (void)state;
    struct http_client *c = http_client_new(&(struct http_options){.user_agent = "test"});
    assert_non_null(c);
    char *good = xasprintf("http://127.0.0.1:%u/ok/1", srv.port);
    char *bad = xasprintf("http://127.0.0.1:%u/has space", srv.port);
    char *next = xasprintf("http://127.0.0.1:%u/ok/2", srv.port);
    struct outcome o;
    const char *head = post(c, good, &o);
    assert_non_null(head);
    assert_true(!strncmp(head, "POST /ok/1 HTTP/1.1\r\n", 21));
    assert_null(post(c, bad, &o));
    assert_int_equal(o.done, 1);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.error, "URL"));
    head = post(c, next, &o);
    assert_non_null(head);
    assert_true(!strncmp(head, "POST /ok/2 HTTP/1.1\r\n", 21));
    free(good);
    free(bad);
    free(next);
    http_client_free(c);
}

/*
 * URLs the loader refuses (url_problem()) but http_start() takes, which
 * libcurl reads otherwise than "scheme://authority/path": a third slash
 * before the host, none before the path, no scheme and a "://" in the
 * query.  Each goes where libcurl sends its string, or is refused.
 */
static void test_unusual_urls_as_libcurl_reads_them(void **state)
{
    (void)state;
    static const struct wire_case cases[] = {
        {"http:///127.0.0.1:%u/t/1", "/t/1", "127.0.0.1:%u", ""},
        {"http:///localhost:%u/t/2", "/t/2", "localhost:%u", ""},
        {"http:////localhost:%u/t/3", NULL, NULL, NULL},
        {"127.0.0.1:%u/t/4?u=http://x/y", "/t/4?u=http://x/y", "127.0.0.1:%u", ""},
        {"127.0.0.1:%u/t/5?u=http://x/z", "/t/5?u=http://x/z", "127.0.0.1:%u", ""},
        {"localhost:%u/t/6?u=http://x/y", "/t/6?u=http://x/y", "localhost:%u", ""},
        {"http:localhost:%u/t/7?u=http://x/y", NULL, NULL, NULL},
        {"http://localhost:%u/t/8", "/t/8", "localhost:%u", ""},
    };
    struct http_client *c = http_client_new(&(struct http_options){.user_agent = "test"});
    assert_non_null(c);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *url = xasprintf(cases[i].url, srv.port);
        if (cases[i].target) {
            char *host = xasprintf(cases[i].host, srv.port);
            expect_sent(c, url, cases[i].target, host, cases[i].authorization);
            free(host);
            free(url);
            continue;
        }
        struct outcome o;
        const char *head = post(c, url, &o);
        if (head)
            fail_msg("%s: sent %.*s, libcurl refuses it", url, (int)strcspn(head, "\r"), head);
        assert_int_equal(o.status, 0);
        CURLU *h = curl_url();
        assert_int_not_equal(
            curl_url_set(h, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME),
            CURLUE_OK);
        curl_url_cleanup(h);
        free(url);
    }
    http_client_free(c);
}

/*
 * A zone id in an IPv6 literal says which interface a link-local address
 * is on: without it the connection cannot be made.  libcurl 7.88 copies
 * a CURLU with curl_url_dup(), which leaves the zone id out, so such a
 * URL must reach libcurl as a string.  Needs a link-local address on the
 * machine; skipped without one.
 */
static void test_ipv6_zone_id(void **state)
{
    (void)state;
    if (srv.lfd6 < 0)
        skip();
    struct http_client *c = http_client_new(&(struct http_options){.user_agent = "test"});
    assert_non_null(c);
    char *urls[] = {
        xasprintf("http://[%s%%25%s]:%u/zone/1", srv.addr6, srv.ifname6, srv.port6),
        /* The same origin again, and the zone written as a number. */
        xasprintf("http://[%s%%25%s]:%u/zone/2?q=1", srv.addr6, srv.ifname6, srv.port6),
        xasprintf("http://[%s%%25%u]:%u/zone/3", srv.addr6, srv.ifindex6, srv.port6),
        xasprintf("http://[%s%%25%u]:%u/zone/4", srv.addr6, srv.ifindex6, srv.port6),
    };
    char *host = xasprintf("[%s]:%u", srv.addr6, srv.port6);
    for (size_t i = 0; i < ARRAY_SIZE(urls); i++) {
        expect_sent(c, urls[i], NULL, host, NULL);
        free(urls[i]);
    }
    free(host);
    http_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_as_libcurl_makes_them),
        cmocka_unit_test(test_refused_url_between_good_ones),
        cmocka_unit_test(test_ipv6_zone_id),
        cmocka_unit_test(test_unusual_urls_as_libcurl_reads_them),
    };
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
