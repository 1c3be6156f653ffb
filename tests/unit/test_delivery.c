/*
 * Tests of the delivery engine (delivery.h) through its real code path:
 * the engine, the HTTP client and libcurl against a real HTTP server on
 * loopback, started here with libmicrohttpd.
 *
 * The server answers by path prefix (see answer()) and counts what it sees
 * per path, so each test checks what actually went over the wire.  Timing
 * is only ever checked as a lower bound the engine must respect (Retry-After,
 * rate limits); order of callbacks stands in for "one endpoint does not
 * wait for another".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/delivery.h"
#include "crisisrun/util.h"

/* --- the loopback server --------------------------------------------------- */

#define MAX_PATHS 1024
#define MAX_TIMES 16

struct path_stat {
    char path[64];
    int count;
    int64_t at[MAX_TIMES]; /* monotonic ms of each arrival */
    char webhook_id[MAX_TIMES][64];
    char body[MAX_TIMES][32];
};

struct server {
    struct MHD_Daemon *daemon;
    unsigned short port;
    pthread_mutex_t mu;
    struct path_stat paths[MAX_PATHS];
    int npaths;
    int total;
    int slow_now, slow_max;
    int conn_now, conn_max;
    char user_agent[64];
    char content_type[64];
    int saw_expect;
    size_t last_received; /* the last request's body length */
    atomic_int stopping; /* read by the connection threads */
    char *big; /* a body far over the engine's capture cap */
};

static struct server srv;

struct req {
    char body[256];
    size_t len;
    size_t received; /* the whole body's length; body[] keeps its start */
};

static struct path_stat *path_stat(const char *path)
{
    for (int i = 0; i < srv.npaths; i++)
        if (!strcmp(srv.paths[i].path, path))
            return &srv.paths[i];
    if (srv.npaths == MAX_PATHS)
        return NULL;
    struct path_stat *p = &srv.paths[srv.npaths++];
    snprintf(p->path, sizeof(p->path), "%s", path);
    return p;
}

/* Count of requests the server saw for a path. */
static int seen(const char *path)
{
    pthread_mutex_lock(&srv.mu);
    int n = 0;
    for (int i = 0; i < srv.npaths; i++)
        if (!strcmp(srv.paths[i].path, path))
            n = srv.paths[i].count;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static struct path_stat snapshot(const char *path)
{
    struct path_stat s = {0};
    pthread_mutex_lock(&srv.mu);
    for (int i = 0; i < srv.npaths; i++)
        if (!strcmp(srv.paths[i].path, path))
            s = srv.paths[i];
    pthread_mutex_unlock(&srv.mu);
    return s;
}

static int total_seen(void)
{
    pthread_mutex_lock(&srv.mu);
    int n = srv.total;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body,
                             const char *hname, const char *hvalue)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* What the server answers, by path prefix; `n` is this path's count. */
static enum MHD_Result answer(struct MHD_Connection *c, const char *url, int n)
{
    if (starts_with(url, "/flaky/"))
        return n == 1 ? reply(c, 503, "busy", NULL, NULL)
                      : reply(c, 200, "ok", NULL, NULL);
    if (starts_with(url, "/fail/"))
        return reply(c, 503, "busy", NULL, NULL);
    if (starts_with(url, "/ra/"))
        return n == 1 ? reply(c, 429, "slow down", "Retry-After", "1")
                      : reply(c, 200, "ok", NULL, NULL);
    if (starts_with(url, "/rabody/"))
        return n == 1 ? reply(c, 429, "{\"retry_after\": 1.0}", NULL, NULL)
                      : reply(c, 200, "ok", NULL, NULL);
    if (starts_with(url, "/gone/"))
        return reply(c, 410, "gone", NULL, NULL);
    if (starts_with(url, "/redirect/"))
        return reply(c, 302, "", "Location", "/target/1");
    if (starts_with(url, "/bad/"))
        return reply(c, 400, "bad", NULL, NULL);
    if (starts_with(url, "/bad-ok/"))
        return reply(c, 200, "invalid_token", NULL, NULL);
    if (starts_with(url, "/big/")) {
        struct MHD_Response *r = MHD_create_response_from_buffer(8 * 1024 * 1024, srv.big,
                                                                 MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (starts_with(url, "/hang/")) {
        /* Never answer (until the test ends); thread-per-connection makes
         * blocking here harmless to the other connections. */
        while (!srv.stopping)
            usleep(10000);
        return MHD_NO;
    }
    if (starts_with(url, "/slow/")) {
        pthread_mutex_lock(&srv.mu);
        if (++srv.slow_now > srv.slow_max)
            srv.slow_max = srv.slow_now;
        pthread_mutex_unlock(&srv.mu);
        usleep(50000);
        pthread_mutex_lock(&srv.mu);
        srv.slow_now--;
        pthread_mutex_unlock(&srv.mu);
    }
    return reply(c, 200, "ok", NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct req *rq = *con_cls;
    if (!rq) {
        *con_cls = xcalloc(1, sizeof(*rq));
        return MHD_YES;
    }
    if (*upload_size) {
        size_t room = sizeof(rq->body) - 1 - rq->len;
        size_t k = *upload_size < room ? *upload_size : room;
        memcpy(rq->body + rq->len, upload, k);
        rq->len += k;
        rq->received += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    int n;
    pthread_mutex_lock(&srv.mu);
    srv.total++;
    struct path_stat *p = path_stat(url);
    n = ++p->count;
    if (n <= MAX_TIMES) {
        p->at[n - 1] = monotonic_ms();
        const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
        snprintf(p->webhook_id[n - 1], sizeof(p->webhook_id[0]), "%s", id ? id : "");
        snprintf(p->body[n - 1], sizeof(p->body[0]), "%.*s", (int)rq->len, rq->body);
    }
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    snprintf(srv.user_agent, sizeof(srv.user_agent), "%s", ua ? ua : "");
    snprintf(srv.content_type, sizeof(srv.content_type), "%s", ct ? ct : "");
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect"))
        srv.saw_expect = 1;
    srv.last_received = rq->received;
    pthread_mutex_unlock(&srv.mu);
    (void)cls;
    (void)method;
    (void)version;
    return answer(c, url, n);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    pthread_mutex_lock(&srv.mu);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        if (++srv.conn_now > srv.conn_max)
            srv.conn_max = srv.conn_now;
    } else {
        srv.conn_now--;
    }
    pthread_mutex_unlock(&srv.mu);
}

static int server_start(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.mu, NULL);
    srv.big = xmalloc(8 * 1024 * 1024);
    memset(srv.big, 'x', 8 * 1024 * 1024);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0,
        NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, NULL, MHD_OPTION_END);
    if (!srv.daemon)
        return -1;
    srv.port = MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    return 0;
}

static int server_stop(void **state)
{
    (void)state;
    srv.stopping = 1;
    MHD_stop_daemon(srv.daemon);
    pthread_mutex_destroy(&srv.mu);
    free(srv.big);
    return 0;
}

static char *url_for(const char *path)
{
    return xasprintf("http://127.0.0.1:%u%s", (unsigned)srv.port, path);
}

/* --- a test provider ------------------------------------------------------- */

static enum delivery_result test_classify(long status, const char *body, size_t len,
                                          int64_t *retry_after_ms)
{
    if (status == 429 && *retry_after_ms < 0) {
        /* Like Discord: the wait may come in the body. */
        json_t *j = json_loadb(body, len, 0, NULL);
        json_t *ra = j ? json_object_get(j, "retry_after") : NULL;
        if (json_is_number(ra))
            *retry_after_ms = (int64_t)(json_number_value(ra) * 1000);
        json_decref(j);
    }
    if (status >= 200 && status < 300)
        return DELIVERY_OK;
    if (status == 410)
        return DELIVERY_GONE;
    if (status == 408 || status == 425 || status == 429 || status >= 500)
        return DELIVERY_RETRY;
    return DELIVERY_PERMANENT;
}

static void test_headers(const struct channel *ch, const char *id, const char *body,
                         size_t len, int64_t now_s, struct header_list *out)
{
    ALLOC_GROW(out->v, out->n + 1, out->alloc);
    out->v[out->n++] = xasprintf("webhook-id: %s", id);
}

static const struct provider test_provider = {
    .name = "test",
    .type = CHANNEL_WEBHOOK,
    .classify = test_classify,
    .attempt_headers = test_headers,
};

/* --- recording callbacks ---------------------------------------------------- */

struct note {
    int started, done, settled;
    int settle_order;
    enum delivery_result result;
    int attempt[8];
    long status[8];
    enum delivery_result results[8];
    int64_t start_at[8]; /* engine clock at attempt_start */
    int64_t done_at[8];
    int64_t retry_at[8];
    char error[8][128];
    int refuse_from; /* cb_refuse stops attempts from this one on (0: none) */
};

struct recorder {
    int settle_seq;
};

static void cb_start(void *user, void *tag, int attempt, int64_t wall_ms)
{
    struct note *n = tag;
    if (n->started < 8)
        n->start_at[n->started] = monotonic_ms();
    n->started++;
    assert_true(wall_ms > 0);
    assert_int_equal(n->settled, 0);
}

static void cb_done(void *user, void *tag, const struct delivery_attempt *a)
{
    struct note *n = tag;
    if (n->done < 8) {
        n->attempt[n->done] = a->attempt;
        n->status[n->done] = a->status;
        n->results[n->done] = a->result;
        n->done_at[n->done] = monotonic_ms();
        n->retry_at[n->done] = a->retry_at;
        snprintf(n->error[n->done], sizeof(n->error[0]), "%s", a->error ? a->error : "");
    }
    assert_true(a->latency_ms >= 0);
    n->done++;
}

static void cb_settled(void *user, void *tag, enum delivery_result r)
{
    struct recorder *rec = user;
    struct note *n = tag;
    n->settled++;
    n->result = r;
    n->settle_order = ++rec->settle_seq;
}

static const char *cb_refuse(void *user, void *tag)
{
    (void)user;
    struct note *n = tag;
    return n->refuse_from && n->started + 1 >= n->refuse_from ? "stopped by the caller"
                                                              : NULL;
}

static const struct delivery_callbacks callbacks = {cb_start, cb_done, cb_settled, NULL};
static const struct delivery_callbacks refusing = {cb_start, cb_done, cb_settled,
                                                   cb_refuse};

/* The URL lists channel_init() made, freed after each test by
 * release_channels(): the channels themselves live on the tests' stacks. */
static struct url_list made[8];
static size_t nmade;

static int release_channels(void **state)
{
    (void)state;
    for (size_t i = 0; i < nmade; i++)
        url_list_release(&made[i]);
    nmade = 0;
    return 0;
}

static void channel_init(struct channel *ch, char **urls, size_t nurls)
{
    memset(ch, 0, sizeof(*ch));
    ch->name = "test";
    ch->type = CHANNEL_WEBHOOK;
    for (size_t i = 0; i < nurls; i++)
        url_list_add(&ch->urls, urls[i]);
    assert_true(nmade < ARRAY_SIZE(made));
    made[nmade++] = ch->urls;
    ch->timeout_ms = 5000;
    ch->retry_attempts = 3;
    ch->retry_backoff_ms = 50;
}

static void submit(struct delivery *d, const struct channel *ch, size_t ci, size_t ei,
                   const char *id, const char *body, struct note *n)
{
    struct delivery_request rq = {
        .notification_id = id,
        .channel = ch,
        .channel_index = ci,
        .endpoint_index = ei,
        .body = body,
        .len = strlen(body),
        .provider = &test_provider,
        .tag = n,
    };
    delivery_submit(d, &rq);
}

/* Runs the engine until everything has settled (a generous safety limit
 * only stops a broken engine from hanging the test). */
static void run_all(struct delivery *d)
{
    int64_t limit = monotonic_ms() + 20000;
    while (delivery_active(d) && monotonic_ms() < limit) {
        assert_int_equal(delivery_wait(d, NULL, 0, 500), 0);
        delivery_perform(d);
    }
    assert_int_equal(delivery_active(d), 0);
}

static struct delivery *engine(const struct delivery_options *opt, struct recorder *rec)
{
    struct delivery *d = delivery_new(opt, &callbacks, rec);
    assert_non_null(d);
    return d;
}

/* Channel 0's counts once everything has settled: nothing left waiting. */
static void assert_settled_counts(struct delivery *d, size_t ok, size_t failed,
                                  size_t attempts)
{
    struct delivery_counts c;
    delivery_counts(d, 0, &c);
    assert_int_equal(c.ok, ok);
    assert_int_equal(c.failed, failed);
    assert_int_equal(c.attempts, attempts);
    assert_int_equal(c.queued + c.inflight + c.retrying, 0);
}

/* --- tests ------------------------------------------------------------------ */

static void test_success(void **state)
{
    char *urls[] = {url_for("/ok/1")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    struct recorder rec = {0};
    struct note n = {0};
    struct delivery *d = engine(NULL, &rec);
    submit(d, &ch, 0, 0, "run1-step1-0-0", "{\"text\":\"hello\"}", &n);
    assert_int_equal(delivery_active(d), 1);
    assert_int_equal(n.started, 0); /* never a callback inside submit */
    run_all(d);

    assert_int_equal(n.settled, 1);
    assert_int_equal(n.result, DELIVERY_OK);
    assert_int_equal(n.started, 1);
    assert_int_equal(n.done, 1);
    assert_int_equal(n.status[0], 200);
    assert_int_equal(n.retry_at[0], -1);
    assert_string_equal(n.error[0], "");

    struct path_stat p = snapshot("/ok/1");
    assert_int_equal(p.count, 1);
    assert_string_equal(p.webhook_id[0], "run1-step1-0-0");
    assert_string_equal(p.body[0], "{\"text\":\"hello\"}");
    /* Copied under the lock, asserted outside it: a failed assertion
     * must not leave the server's lock held for the tests after it. */
    char ua[sizeof(srv.user_agent)], ct[sizeof(srv.content_type)];
    pthread_mutex_lock(&srv.mu);
    memcpy(ua, srv.user_agent, sizeof(ua));
    memcpy(ct, srv.content_type, sizeof(ct));
    int saw_expect = srv.saw_expect;
    pthread_mutex_unlock(&srv.mu);
    assert_true(starts_with(ua, "crisisrun/"));
    assert_string_equal(ct, "application/json");
    assert_int_equal(saw_expect, 0);

    assert_settled_counts(d, 1, 0, 1);
    delivery_free(d);
    free(urls[0]);
}

static void test_retry_then_success(void **state)
{
    char *urls[] = {url_for("/flaky/1"), url_for("/fail/1")};
    struct channel ch;
    channel_init(&ch, urls, 2);
    struct recorder rec = {0};
    struct note flaky = {0}, fail = {0};
    struct delivery *d = engine(NULL, &rec);
    submit(d, &ch, 0, 0, "n-flaky", "{}", &flaky);
    submit(d, &ch, 0, 1, "n-fail", "{}", &fail);
    run_all(d);

    /* 503 then 200: delivered on the second attempt, same id both times. */
    assert_int_equal(flaky.result, DELIVERY_OK);
    assert_int_equal(flaky.done, 2);
    assert_int_equal(flaky.attempt[0], 1);
    assert_int_equal(flaky.attempt[1], 2);
    assert_int_equal(flaky.status[0], 503);
    assert_int_equal(flaky.results[0], DELIVERY_RETRY);
    assert_string_equal(flaky.error[0], "HTTP 503");
    assert_true(flaky.retry_at[0] >= 0);
    assert_true(flaky.start_at[1] >= flaky.retry_at[0]);
    assert_int_equal(flaky.status[1], 200);
    assert_int_equal(flaky.retry_at[1], -1);
    struct path_stat p = snapshot("/flaky/1");
    assert_int_equal(p.count, 2);
    assert_string_equal(p.webhook_id[0], "n-flaky");
    assert_string_equal(p.webhook_id[1], "n-flaky");

    /* Always 503: exactly retry_attempts attempts, then failed for good. */
    assert_int_equal(fail.result, DELIVERY_RETRY);
    assert_int_equal(fail.done, 3);
    assert_int_equal(seen("/fail/1"), 3);
    assert_true(fail.retry_at[1] >= 0);
    assert_int_equal(fail.retry_at[2], -1);

    assert_settled_counts(d, 1, 1, 5);
    delivery_free(d);
    free(urls[0]);
    free(urls[1]);
}

static void test_retry_after(void **state)
{
    char *urls[] = {url_for("/ra/1"), url_for("/rabody/1")};
    struct channel ch;
    channel_init(&ch, urls, 2);
    ch.retry_backoff_ms = 10; /* far below the 1 s the server asks for */
    struct recorder rec = {0};
    struct note hdr = {0}, body = {0};
    struct delivery *d = engine(NULL, &rec);
    submit(d, &ch, 0, 0, "n-ra", "{}", &hdr);
    submit(d, &ch, 0, 1, "n-rabody", "{}", &body);
    run_all(d);

    struct note *ns[] = {&hdr, &body};
    const char *paths[] = {"/ra/1", "/rabody/1"};
    for (int i = 0; i < 2; i++) {
        struct note *n = ns[i];
        assert_int_equal(n->result, DELIVERY_OK);
        assert_int_equal(n->done, 2);
        assert_int_equal(n->status[0], 429);
        /* The retry came no earlier than Retry-After: 1 (header) or
         * retry_after: 1.0 (body, through the provider). */
        assert_true(n->start_at[1] >= n->retry_at[0]);
        assert_true(n->retry_at[0] - n->done_at[0] >= 1000 - 50);
        struct path_stat p = snapshot(paths[i]);
        assert_int_equal(p.count, 2);
        assert_true(p.at[1] - p.at[0] >= 1000);
    }
    delivery_free(d);
    free(urls[0]);
    free(urls[1]);
}

static int64_t frozen_now;

static int64_t frozen_clock(void)
{
    return frozen_now;
}

/*
 * "Retry-After: 1" puts the retry 1001 ms after the millisecond the answer
 * was read in: the engine's clock is whole milliseconds, up to one behind
 * the answer, and a wait counted from it must not come out short.  The
 * clock stands still here, so the figure is exact.
 */
static void test_retry_after_whole_ms(void **state)
{
    (void)state;
    char *urls[] = {url_for("/ra/frozen")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    ch.retry_backoff_ms = 10;
    struct recorder rec = {0};
    struct note n = {0};
    frozen_now = 1000000;
    struct delivery_options opt = {.clock = frozen_clock};
    struct delivery *d = engine(&opt, &rec);
    submit(d, &ch, 0, 0, "n-frozen", "{}", &n);
    int64_t limit = monotonic_ms() + 10000;
    while (n.done < 1 && monotonic_ms() < limit) {
        assert_int_equal(delivery_wait(d, NULL, 0, 100), 0);
        delivery_perform(d);
    }
    assert_int_equal(n.done, 1);
    assert_int_equal(n.status[0], 429);
    assert_int_equal(n.retry_at[0], frozen_now + 1001);
    delivery_free(d);
    free(urls[0]);
}

/*
 * The refuse callback stops a first attempt or a retry before it goes out:
 * no request, an attempt reported with the reason, settled as permanent.
 * The others go on as usual.
 */
static void test_refused_attempts(void **state)
{
    char *urls[] = {url_for("/fail/71"), url_for("/fail/72"), url_for("/ok/73")};
    struct channel ch;
    channel_init(&ch, urls, 3);
    struct recorder rec = {0};
    struct note retry = {.refuse_from = 2}, first = {.refuse_from = 1}, ok = {0};
    struct delivery *d = delivery_new(NULL, &refusing, &rec);
    assert_non_null(d);
    submit(d, &ch, 0, 0, "n-retry", "{}", &retry);
    submit(d, &ch, 0, 1, "n-first", "{}", &first);
    submit(d, &ch, 0, 2, "n-ok", "{}", &ok);
    run_all(d);

    /* 503, then its retry stopped. */
    assert_int_equal(seen("/fail/71"), 1);
    assert_int_equal(retry.started, 2);
    assert_int_equal(retry.done, 2);
    assert_int_equal(retry.status[0], 503);
    assert_true(retry.retry_at[0] >= 0);
    assert_int_equal(retry.attempt[1], 2);
    assert_int_equal(retry.status[1], 0);
    assert_int_equal(retry.results[1], DELIVERY_PERMANENT);
    assert_string_equal(retry.error[1], "stopped by the caller");
    assert_int_equal(retry.retry_at[1], -1);
    assert_int_equal(retry.settled, 1);
    assert_int_equal(retry.result, DELIVERY_PERMANENT);

    /* Stopped before its first attempt: no request at all. */
    assert_int_equal(seen("/fail/72"), 0);
    assert_int_equal(first.done, 1);
    assert_string_equal(first.error[0], "stopped by the caller");
    assert_int_equal(first.result, DELIVERY_PERMANENT);

    assert_int_equal(seen("/ok/73"), 1);
    assert_int_equal(ok.result, DELIVERY_OK);

    assert_settled_counts(d, 1, 2, 4);
    delivery_free(d);
    for (size_t i = 0; i < ARRAY_SIZE(urls); i++)
        free(urls[i]);
}

static void test_gone_disables_endpoint(void **state)
{
    char *urls[] = {url_for("/gone/1"), url_for("/ok/gone-neighbour")};
    struct channel ch;
    channel_init(&ch, urls, 2);
    struct recorder rec = {0};
    struct note a = {0}, b = {0}, other = {0};
    struct delivery *d = engine(NULL, &rec);
    submit(d, &ch, 3, 0, "n-gone-1", "{}", &a);
    run_all(d);
    assert_int_equal(a.result, DELIVERY_GONE);
    assert_int_equal(a.done, 1);
    assert_int_equal(a.status[0], 410);
    assert_int_equal(a.retry_at[0], -1);
    assert_true(delivery_endpoint_disabled(d, 3, 0));
    assert_false(delivery_endpoint_disabled(d, 3, 1));
    assert_int_equal(seen("/gone/1"), 1);

    /* Later notifications to that endpoint settle without a request; the
     * channel's other endpoint still works. */
    submit(d, &ch, 3, 0, "n-gone-2", "{}", &b);
    submit(d, &ch, 3, 1, "n-gone-3", "{}", &other);
    run_all(d);
    assert_int_equal(b.settled, 1);
    assert_int_equal(b.result, DELIVERY_GONE);
    assert_int_equal(b.started, 0);
    assert_int_equal(seen("/gone/1"), 1);
    assert_int_equal(other.result, DELIVERY_OK);
    assert_int_equal(seen("/ok/gone-neighbour"), 1);
    delivery_free(d);
    free(urls[0]);
    free(urls[1]);
}

static void test_permanent_failures(void **state)
{
    char *urls[] = {url_for("/redirect/1"), url_for("/bad/1"),
                    xstrdup("ftp://127.0.0.1/x"), url_for("/big/1")};
    struct channel ch;
    channel_init(&ch, urls, 4);
    struct recorder rec = {0};
    struct note redirect = {0}, bad = {0}, ftp = {0}, big = {0};
    struct delivery *d = engine(NULL, &rec);
    submit(d, &ch, 0, 0, "n-302", "{}", &redirect);
    submit(d, &ch, 0, 1, "n-400", "{}", &bad);
    submit(d, &ch, 0, 2, "n-ftp", "{}", &ftp);
    submit(d, &ch, 0, 3, "n-big", "{}", &big);
    run_all(d);

    /* 3xx: a failure, once, and the Location is never followed. */
    assert_int_equal(redirect.result, DELIVERY_PERMANENT);
    assert_int_equal(redirect.done, 1);
    assert_int_equal(redirect.status[0], 302);
    assert_int_equal(seen("/redirect/1"), 1);
    assert_int_equal(seen("/target/1"), 0);

    assert_int_equal(bad.result, DELIVERY_PERMANENT);
    assert_int_equal(bad.done, 1);
    assert_int_equal(bad.status[0], 400);
    assert_string_equal(bad.error[0], "HTTP 400");

    /* Only http and https: no request, failed for good, reason given. */
    assert_int_equal(ftp.result, DELIVERY_PERMANENT);
    assert_int_equal(ftp.done, 1);
    assert_int_equal(ftp.status[0], 0);
    assert_true(strlen(ftp.error[0]) > 0);

    /* An 8 MiB answer is cut off at the cap, and the status still counts. */
    assert_int_equal(big.result, DELIVERY_OK);
    assert_int_equal(big.status[0], 200);
    assert_int_equal(seen("/big/1"), 1);
    delivery_free(d);
    for (int i = 0; i < 4; i++)
        free(urls[i]);
}

/* Slack confirms with the body "ok": a 200 with any other body failed, and
 * the error says why, not just "HTTP 200". */
static void test_unconfirmed_success(void **state)
{
    char *urls[] = {url_for("/bad-ok/slack")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    ch.type = CHANNEL_SLACK;
    struct recorder rec = {0};
    struct note n = {0};
    struct delivery *d = engine(NULL, &rec);
    struct delivery_request rq = {
        .notification_id = "n-unconfirmed",
        .channel = &ch,
        .body = "{}",
        .len = 2,
        .provider = provider_for(CHANNEL_SLACK),
        .tag = &n,
    };
    delivery_submit(d, &rq);
    run_all(d);
    assert_int_equal(n.result, DELIVERY_PERMANENT);
    assert_int_equal(n.done, 1);
    assert_int_equal(n.status[0], 200);
    assert_string_equal(n.error[0], "HTTP 200 without the service's confirmation");
    delivery_free(d);
    free(urls[0]);
}

static void test_hanging_endpoint_blocks_nobody(void **state)
{
    char *hang[] = {url_for("/hang/1")};
    enum { N = 50 };
    char *oks[N];
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/ok/hol-%d", i);
        oks[i] = url_for(path);
    }
    struct channel slow, fast;
    channel_init(&slow, hang, 1);
    slow.timeout_ms = 2000;
    slow.retry_attempts = 1;
    channel_init(&fast, oks, N);
    /* Same host, and a small per-host cap: the hanging request holds one
     * slot, the others share the rest. */
    struct delivery_options opt = {.max_per_host = 4};
    struct recorder rec = {0};
    struct note h = {0}, n[N];
    memset(n, 0, sizeof(n));
    struct delivery *d = engine(&opt, &rec);
    submit(d, &slow, 0, 0, "n-hang", "{}", &h);
    for (int i = 0; i < N; i++)
        submit(d, &fast, 1, (size_t)i, "n-fast", "{}", &n[i]);
    run_all(d);

    for (int i = 0; i < N; i++) {
        assert_int_equal(n[i].result, DELIVERY_OK);
        assert_true(n[i].settle_order < h.settle_order);
    }
    assert_int_equal(h.result, DELIVERY_RETRY);
    assert_int_equal(h.done, 1);
    assert_int_equal(h.status[0], 0);
    assert_true(strlen(h.error[0]) > 0);
    delivery_free(d);
    free(hang[0]);
    for (int i = 0; i < N; i++)
        free(oks[i]);
}

static void check_caps(size_t max_total, size_t max_per_host, int limit)
{
    enum { N = 16 };
    char *urls[N];
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/slow/%zu-%zu-%d", max_total, max_per_host, i);
        urls[i] = url_for(path);
    }
    struct channel ch;
    channel_init(&ch, urls, N);
    struct delivery_options opt = {.max_total_connections = max_total,
                                   .max_per_host = max_per_host};
    struct recorder rec = {0};
    struct note n[N];
    memset(n, 0, sizeof(n));
    /* Idle connections from earlier tests are gone with their engines. */
    pthread_mutex_lock(&srv.mu);
    srv.slow_max = 0;
    srv.conn_max = srv.conn_now;
    int base = srv.conn_now;
    pthread_mutex_unlock(&srv.mu);
    struct delivery *d = engine(&opt, &rec);
    for (int i = 0; i < N; i++)
        submit(d, &ch, 0, (size_t)i, "n-cap", "{}", &n[i]);
    run_all(d);
    for (int i = 0; i < N; i++)
        assert_int_equal(n[i].result, DELIVERY_OK);
    pthread_mutex_lock(&srv.mu);
    int slow_max = srv.slow_max, conn_max = srv.conn_max - base;
    pthread_mutex_unlock(&srv.mu);
    assert_true(slow_max >= 1);
    assert_true(slow_max <= limit);
    assert_true(conn_max <= limit);
    delivery_free(d);
    for (int i = 0; i < N; i++)
        free(urls[i]);
}

static void test_connection_caps(void **state)
{
    check_caps(3, 64, 3); /* the global cap */
    check_caps(64, 2, 2); /* the per-host cap */
}

static void test_rate_limit_spaces_messages(void **state)
{
    char *urls[] = {url_for("/rate/1")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    ch.rate_count = 2;
    ch.rate_per_ms = 1000;
    struct recorder rec = {0};
    struct note n[5];
    memset(n, 0, sizeof(n));
    struct delivery *d = engine(NULL, &rec);
    const char *bodies[] = {"m0", "m1", "m2", "m3", "m4"};
    for (int i = 0; i < 5; i++)
        submit(d, &ch, 0, 0, "n-rate", bodies[i], &n[i]);
    run_all(d);

    struct path_stat p = snapshot("/rate/1");
    assert_int_equal(p.count, 5); /* held back, never dropped */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(n[i].result, DELIVERY_OK);
        assert_string_equal(p.body[i], bodies[i]); /* in submission order */
        if (i) {
            /* Measured in the callbacks, a little after the engine's own
             * clock reading: allow for that. */
            assert_true(n[i].start_at[0] - n[i - 1].start_at[0] >= 490);
            /* The server's view, allowing for loopback jitter. */
            assert_true(p.at[i] - p.at[i - 1] >= 400);
        }
    }
    delivery_free(d);
    free(urls[0]);
}

static char *read_whole(const char *path)
{
    char *buf;
    size_t len;
    assert_int_equal(read_file(path, 1 << 20, &buf, &len), 0);
    return buf;
}

/*
 * A body over libcurl's threshold for "Expect: 100-continue" (1 MiB in
 * the libcurl this runs with) goes out at once, without asking: the
 * client adds its empty "Expect:" line to such a body.  (That small
 * bodies go without the line cannot be seen on the wire: an empty
 * "Expect:" is never sent.)
 */
static void test_large_body_no_expect(void **state)
{
    char *urls[] = {url_for("/large/1")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    size_t len = 2 * 1024 * 1024;
    char *body = xmalloc(len + 1);
    memset(body, 'x', len);
    body[len] = '\0';
    pthread_mutex_lock(&srv.mu);
    srv.saw_expect = 0;
    pthread_mutex_unlock(&srv.mu);
    struct recorder rec = {0};
    struct note n = {0};
    struct delivery *d = engine(NULL, &rec);
    submit(d, &ch, 0, 0, "run1-large-0-0", body, &n);
    run_all(d);
    delivery_free(d);
    assert_int_equal(n.result, DELIVERY_OK);
    pthread_mutex_lock(&srv.mu);
    int saw_expect = srv.saw_expect;
    size_t received = srv.last_received;
    pthread_mutex_unlock(&srv.mu);
    assert_int_equal(saw_expect, 0);
    assert_int_equal(received, len);
    free(body);
    free(urls[0]);
    (void)state;
}

/* A channel's own User-Agent replaces crisisrun's: one on the wire (the
 * receiver sees the channel's first), and one in a capture file. */
static void test_channel_user_agent(void **state)
{
    char *urls[] = {url_for("/ua/1")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    struct kv hdr = {"User-Agent", "partner-agent/2"};
    ch.headers = &hdr;
    ch.nheaders = 1;
    struct recorder rec = {0};
    struct note n = {0};
    struct delivery *d = engine(NULL, &rec);
    submit(d, &ch, 0, 0, "run1-ua-0-0", "{\"text\":\"hello\"}", &n);
    run_all(d);
    delivery_free(d);
    assert_int_equal(n.result, DELIVERY_OK);
    char ua[sizeof(srv.user_agent)];
    pthread_mutex_lock(&srv.mu);
    memcpy(ua, srv.user_agent, sizeof(ua));
    pthread_mutex_unlock(&srv.mu);
    assert_string_equal(ua, "partner-agent/2");

    char tmpl[] = "/tmp/crisisrun-capture-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *dir = xasprintf("%s/out", tmpl);
    struct delivery_options opt = {.capture_dir = dir};
    struct note c = {0};
    d = engine(&opt, &rec);
    submit(d, &ch, 0, 0, "run1-ua-0-1", "{\"text\":\"hello\"}", &c);
    run_all(d);
    delivery_free(d);
    char *f = xasprintf("%s/000001-run1-ua-0-1.http", dir);
    char *t = read_whole(f);
    assert_non_null(strstr(t, "\nUser-Agent: partner-agent/2\n"));
    assert_null(strstr(t, "crisisrun/"));
    unlink(f);
    rmdir(dir);
    rmdir(tmpl);
    free(t);
    free(f);
    free(dir);
    free(urls[0]);
}

static void test_capture_dir(void **state)
{
    char tmpl[] = "/tmp/crisisrun-capture-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *dir = xasprintf("%s/out", tmpl); /* created by the engine */
    char *urls[] = {url_for("/cap/1?token=secret"), url_for("/cap/2")};
    struct channel ch;
    channel_init(&ch, urls, 2);
    struct kv hdr = {"Authorization", "Bearer abc"};
    ch.headers = &hdr;
    ch.nheaders = 1;
    struct delivery_options opt = {.capture_dir = dir};
    struct recorder rec = {0};
    struct note a = {0}, b = {0};
    int before = total_seen();
    struct delivery *d = engine(&opt, &rec);
    submit(d, &ch, 0, 0, "run/1:a", "{\"text\":\"one\"}", &a);
    submit(d, &ch, 0, 1, "run-1-b", "{\"text\":\"two\"}", &b);
    run_all(d);
    delivery_free(d);

    assert_int_equal(a.result, DELIVERY_OK);
    assert_int_equal(b.result, DELIVERY_OK);
    assert_int_equal(a.started, 1);
    assert_int_equal(total_seen(), before); /* nothing went out */

    char *f1 = xasprintf("%s/000001-run_1_a.http", dir);
    char *f2 = xasprintf("%s/000002-run-1-b.http", dir);
    char *t1 = read_whole(f1), *t2 = read_whole(f2);
    char *line = xasprintf("POST http://127.0.0.1:%u/cap/1?token=secret HTTP/1.1\n",
                           (unsigned)srv.port);
    assert_true(starts_with(t1, line));
    assert_non_null(strstr(t1, "\nwebhook-id: run/1:a\n"));
    assert_non_null(strstr(t1, "\nAuthorization: Bearer abc\n"));
    assert_non_null(strstr(t1, "\nContent-Type: application/json\n"));
    assert_non_null(strstr(t1, "\nUser-Agent: crisisrun/"));
    assert_null(strstr(t1, "Expect:"));
    assert_non_null(strstr(t1, "\nContent-Length: 14\n\n{\"text\":\"one\"}"));
    assert_non_null(strstr(t2, "/cap/2 HTTP/1.1\n"));
    assert_non_null(strstr(t2, "\n\n{\"text\":\"two\"}"));

    /* A second engine on the same directory never overwrites. */
    struct note c = {0};
    d = engine(&opt, &rec);
    submit(d, &ch, 0, 1, "again", "{}", &c);
    run_all(d);
    delivery_free(d);
    char *f3 = xasprintf("%s/000003-again.http", dir);
    struct stat st;
    assert_int_equal(stat(f3, &st), 0);

    unlink(f1);
    unlink(f2);
    unlink(f3);
    rmdir(dir);
    rmdir(tmpl);
    free(t1);
    free(t2);
    free(line);
    free(f1);
    free(f2);
    free(f3);
    free(dir);
    free(urls[0]);
    free(urls[1]);
}

/* A body shared by many notifications (delivery_request.body_release). */
struct shared_body {
    char text[32];
    int releases;
};

static void release_shared(void *owner)
{
    ((struct shared_body *)owner)->releases++;
}

static void test_fanout(void **state)
{
    enum { N = 500 };
    struct shared_body shared = {.text = "{\"text\":\"shared\"}"};
    char **urls = xcalloc(N, sizeof(*urls));
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/fan/%d", i);
        urls[i] = url_for(path);
    }
    struct channel ch;
    channel_init(&ch, urls, N);
    struct recorder rec = {0};
    struct note *n = xcalloc(N, sizeof(*n));
    struct delivery *d = engine(NULL, &rec);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof(id), "fan-%d", i);
        if (i % 2) {
            /* Every other endpoint gets the one shared body, not a copy. */
            struct delivery_request rq = {
                .notification_id = id, .channel = &ch, .channel_index = 0,
                .endpoint_index = (size_t)i, .body = shared.text, .len = strlen(shared.text),
                .body_release = release_shared, .body_owner = &shared,
                .provider = &test_provider, .tag = &n[i],
            };
            delivery_submit(d, &rq);
        } else {
            submit(d, &ch, 0, (size_t)i, id, "{\"text\":\"all\"}", &n[i]);
        }
    }
    assert_int_equal(delivery_active(d), N);
    assert_int_equal(delivery_waiting(d), N);
    assert_int_equal(shared.releases, 0);
    run_all(d);
    assert_int_equal(delivery_waiting(d), 0);
    assert_int_equal(shared.releases, N / 2); /* once each, when settled */
    for (int i = 0; i < N; i++) {
        char path[32], id[32];
        snprintf(path, sizeof(path), "/fan/%d", i);
        snprintf(id, sizeof(id), "fan-%d", i);
        assert_int_equal(n[i].settled, 1);
        assert_int_equal(n[i].result, DELIVERY_OK);
        struct path_stat p = snapshot(path);
        assert_int_equal(p.count, 1);
        assert_string_equal(p.webhook_id[0], id);
        assert_string_equal(p.body[0], i % 2 ? shared.text : "{\"text\":\"all\"}");
    }
    assert_settled_counts(d, N, 0, N);
    delivery_free(d);
    for (int i = 0; i < N; i++)
        free(urls[i]);
    free(urls);
    free(n);
}

/* Runs the engine until *flag is set. */
static void run_until(struct delivery *d, const int *flag)
{
    int64_t limit = monotonic_ms() + 10000;
    while (!*flag && monotonic_ms() < limit) {
        assert_int_equal(delivery_wait(d, NULL, 0, 50), 0);
        delivery_perform(d);
    }
    assert_true(*flag);
}

/*
 * delivery_waiting() and delivery_host_waiting() count first attempts
 * waiting for a connection: the run loop's limits on a fan-out.  Two
 * connections in all, one a host; the first host hangs.
 */
static void test_waiting_by_host(void **state)
{
    char *hang[] = {url_for("/hang/w1"), url_for("/hang/w2"), url_for("/hang/w3")};
    char *slow[] = {xasprintf("http://localhost:%u/slow/w1", (unsigned)srv.port),
                    xasprintf("http://localhost:%u/slow/w2", (unsigned)srv.port)};
    struct channel hc, sc;
    channel_init(&hc, hang, 3);
    hc.timeout_ms = 60000;
    hc.retry_attempts = 1;
    channel_init(&sc, slow, 2);
    struct recorder rec = {0};
    struct note n[5] = {{0}};
    struct delivery_options opt = {.max_per_host = 1, .max_total_connections = 2};
    struct delivery *d = engine(&opt, &rec);
    struct delivery_host *h1 = delivery_host(d, hang[0]), *h2 = delivery_host(d, slow[0]);
    assert_non_null(h1);
    assert_non_null(h2);
    assert_ptr_equal(delivery_host(d, hang[2]), h1); /* the same host, another path */
    assert_ptr_not_equal(h1, h2);                    /* another name */
    assert_null(delivery_host(d, "ftp://127.0.0.1/x"));
    assert_int_equal(delivery_host_waiting(NULL), 0);

    for (int i = 0; i < 3; i++)
        submit(d, &hc, 0, (size_t)i, "hang", "{}", &n[i]);
    assert_int_equal(delivery_waiting(d), 3); /* nothing started */
    assert_int_equal(delivery_host_waiting(h1), 3);
    run_until(d, &n[0].started);
    /* One in flight, two behind the host's cap: the ready queue is empty. */
    assert_int_equal(delivery_waiting(d), 0);
    assert_int_equal(delivery_host_waiting(h1), 2);

    for (int i = 0; i < 2; i++)
        submit(d, &sc, 1, (size_t)i, "slow", "{}", &n[3 + i]);
    assert_int_equal(delivery_host_waiting(h2), 2);
    run_until(d, &n[3].started);
    /* The second connection taken: the other waits in the ready queue. */
    assert_int_equal(delivery_waiting(d), 1);
    assert_int_equal(delivery_host_waiting(h2), 1);
    run_until(d, &n[4].settled);
    assert_int_equal(delivery_waiting(d), 0);
    assert_int_equal(delivery_host_waiting(h2), 0);
    assert_int_equal(delivery_host_waiting(h1), 2); /* still behind the hanging one */
    delivery_free(d); /* the first is still in flight */
    for (int i = 0; i < 3; i++)
        free(hang[i]);
    for (int i = 0; i < 2; i++)
        free(slow[i]);
}

/*
 * Jobs that wait by design, for their not_before or for their channel's
 * rate limit, are not in delivery_waiting(): a rate-limited channel's
 * fan-out must not hold back the fan-outs after it.
 */
static void test_waiting_skips_held_jobs(void **state)
{
    char *urls[] = {url_for("/ok/held1"), url_for("/ok/held2"), url_for("/ok/held3")};
    struct channel limited, later;
    channel_init(&limited, urls, 3);
    limited.rate_count = 1;
    limited.rate_per_ms = 60000;
    channel_init(&later, urls, 1);
    struct recorder rec = {0};
    struct note n[4] = {{0}};
    struct delivery *d = engine(NULL, &rec);
    for (int i = 0; i < 3; i++)
        submit(d, &limited, 0, (size_t)i, "held", "{}", &n[i]);
    /* The limiter lets one through to the ready deque; two wait behind it. */
    assert_int_equal(delivery_waiting(d), 1);
    struct delivery_request rq = {
        .notification_id = "later", .channel = &later, .channel_index = 1,
        .endpoint_index = 0, .body = "{}", .len = 2, .provider = &test_provider,
        .not_before = monotonic_ms() + 60000, .tag = &n[3],
    };
    delivery_submit(d, &rq);
    assert_int_equal(delivery_waiting(d), 1);
    /* The host's queue: the released one and the one scheduled for later,
     * not the two behind the rate limit. */
    assert_int_equal(delivery_host_waiting(delivery_host(d, urls[0])), 2);
    run_until(d, &n[0].settled);
    assert_int_equal(delivery_waiting(d), 0);
    assert_int_equal(delivery_host_waiting(delivery_host(d, urls[0])), 1);
    assert_int_equal(delivery_active(d), 3);
    delivery_free(d);
    for (int i = 0; i < 3; i++)
        free(urls[i]);
}

/*
 * A URL's host is decided by its scheme and authority alone, whichever URL
 * was looked up before it (delivery_host() remembers the last one).
 */
static void test_host_identity(void **state)
{
    (void)state;
    struct delivery_options opt = {0};
    struct recorder rec = {0};
    struct delivery *d = engine(&opt, &rec);
    struct delivery_host *co = delivery_host(d, "http://example.co/a");
    struct delivery_host *com = delivery_host(d, "http://example.com/a");
    assert_non_null(co);
    assert_non_null(com);
    assert_ptr_not_equal(co, com); /* the first authority is a prefix of the second */
    assert_ptr_equal(delivery_host(d, "http://example.co?q"), co);
    assert_ptr_equal(delivery_host(d, "http://example.com:8080/a"),
                     delivery_host(d, "http://example.com:8080/b"));
    assert_ptr_not_equal(delivery_host(d, "http://example.com:8080/a"), com);
    assert_ptr_equal(delivery_host(d, "http://example.com/b"), com);
    assert_ptr_equal(delivery_host(d, "http://EXAMPLE.com:80/c"), com);
    assert_ptr_equal(delivery_host(d, "http://user:pw@example.com#f"), com);
    assert_ptr_not_equal(delivery_host(d, "https://example.com/a"), com);
    assert_null(delivery_host(d, "http:///a"));
    assert_ptr_equal(delivery_host(d, "http://example.com"), com);
    delivery_free(d);
}

/* A job waiting to retry counts in its host's retries, not in those
 * waiting for a connection: the run loop gives the two different limits. */
static void test_host_counts_retries(void **state)
{
    char *urls[] = {url_for("/fail/queue")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    ch.retry_backoff_ms = 60000;
    struct recorder rec = {0};
    struct note n = {0};
    struct delivery *d = engine(NULL, &rec);
    struct delivery_host *h = delivery_host(d, urls[0]);
    submit(d, &ch, 0, 0, "retry", "{}", &n);
    assert_int_equal(delivery_host_waiting(h), 1);
    assert_int_equal(delivery_host_retrying(h), 0);
    run_until(d, &n.done);
    assert_int_equal(n.results[0], DELIVERY_RETRY);
    assert_int_equal(delivery_host_waiting(h), 0);
    assert_int_equal(delivery_host_retrying(h), 1); /* a minute to wait */
    assert_int_equal(delivery_waiting(d), 0);
    delivery_free(d);
    free(urls[0]);
}

/*
 * One connection a host.  Two notifications to an endpoint that answers
 * 410, a third to another endpoint of the host: the second leaves the
 * host's queue after the 410 and settles without a request, and the third
 * must still get the connection.
 */
static void test_host_queue_after_gone(void **state)
{
    char *urls[] = {url_for("/gone/queue"), url_for("/ok/after-gone")};
    struct channel ch;
    channel_init(&ch, urls, 2);
    struct recorder rec = {0};
    struct note n[3] = {{0}};
    struct delivery_options opt = {.max_per_host = 1};
    struct delivery *d = engine(&opt, &rec);
    submit(d, &ch, 0, 0, "gone-1", "{}", &n[0]);
    submit(d, &ch, 0, 0, "gone-2", "{}", &n[1]);
    submit(d, &ch, 0, 1, "after", "{}", &n[2]);
    run_all(d);
    assert_int_equal(n[0].result, DELIVERY_GONE);
    assert_int_equal(n[1].result, DELIVERY_GONE);
    assert_int_equal(n[1].done, 0); /* no request */
    assert_int_equal(n[2].result, DELIVERY_OK);
    assert_int_equal(delivery_host_waiting(delivery_host(d, urls[1])), 0);
    delivery_free(d);
    free(urls[0]);
    free(urls[1]);
}

static void test_not_before_and_poll_integration(void **state)
{
    char *urls[] = {url_for("/ok/later")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    struct recorder rec = {0};
    struct note n = {0};
    struct delivery *d = engine(NULL, &rec);

    /* An idle engine waits on the caller's descriptors. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    struct pollfd pfd = {fds[0], POLLIN, 0};
    assert_int_equal(delivery_timeout_ms(d), -1);
    assert_int_equal(delivery_wait(d, &pfd, 1, -1), 0);
    assert_true(pfd.revents & POLLIN);

    /* not_before holds the first attempt back. */
    int64_t at = monotonic_ms() + 300;
    struct delivery_request rq = {
        .notification_id = "n-later",
        .channel = &ch,
        .body = "{}",
        .len = 2,
        .provider = &test_provider,
        .attempt = 3, /* resumed: continues the attempt count */
        .not_before = at,
        .tag = &n,
    };
    delivery_submit(d, &rq);
    assert_true(delivery_timeout_ms(d) > 0);
    run_all(d);
    assert_int_equal(n.result, DELIVERY_OK);
    assert_int_equal(n.done, 1);
    assert_int_equal(n.attempt[0], 3);
    assert_true(n.start_at[0] >= at);
    delivery_free(d);
    close(fds[0]);
    close(fds[1]);
    free(urls[0]);
}

static void test_free_aborts_inflight(void **state)
{
    char *urls[] = {url_for("/hang/2")};
    struct channel ch;
    channel_init(&ch, urls, 1);
    struct recorder rec = {0};
    struct note n = {0};
    struct delivery *d = engine(NULL, &rec);
    submit(d, &ch, 0, 0, "n-abort", "{}", &n);
    int64_t limit = monotonic_ms() + 5000;
    while (seen("/hang/2") == 0 && monotonic_ms() < limit) {
        assert_int_equal(delivery_wait(d, NULL, 0, 50), 0);
        delivery_perform(d);
    }
    assert_int_equal(seen("/hang/2"), 1);
    assert_int_equal(n.started, 1);
    assert_int_equal(delivery_active(d), 1);
    delivery_free(d); /* no callback, nothing leaked (sanitizer build) */
    assert_int_equal(n.done, 0);
    assert_int_equal(n.settled, 0);
    free(urls[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_success, release_channels),
        cmocka_unit_test_teardown(test_retry_then_success, release_channels),
        cmocka_unit_test_teardown(test_retry_after, release_channels),
        cmocka_unit_test_teardown(test_retry_after_whole_ms, release_channels),
        cmocka_unit_test_teardown(test_refused_attempts, release_channels),
        cmocka_unit_test_teardown(test_gone_disables_endpoint, release_channels),
        cmocka_unit_test_teardown(test_permanent_failures, release_channels),
        cmocka_unit_test_teardown(test_unconfirmed_success, release_channels),
        cmocka_unit_test_teardown(test_hanging_endpoint_blocks_nobody, release_channels),
        cmocka_unit_test_teardown(test_connection_caps, release_channels),
        cmocka_unit_test_teardown(test_rate_limit_spaces_messages, release_channels),
        cmocka_unit_test_teardown(test_channel_user_agent, release_channels),
        cmocka_unit_test_teardown(test_large_body_no_expect, release_channels),
        cmocka_unit_test_teardown(test_capture_dir, release_channels),
        cmocka_unit_test_teardown(test_fanout, release_channels),
        cmocka_unit_test_teardown(test_waiting_by_host, release_channels),
        cmocka_unit_test_teardown(test_waiting_skips_held_jobs, release_channels),
        cmocka_unit_test_teardown(test_host_identity, release_channels),
        cmocka_unit_test_teardown(test_host_counts_retries, release_channels),
        cmocka_unit_test_teardown(test_host_queue_after_gone, release_channels),
        cmocka_unit_test_teardown(test_not_before_and_poll_integration, release_channels),
        cmocka_unit_test_teardown(test_free_aborts_inflight, release_channels),
    };
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
