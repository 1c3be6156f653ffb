/*
 * inbox.c - the webhook receiver (see inbox.h, docs/inbox.md): routing,
 * fault modes, signature checks, the request log and the timers of slow
 * answers.  How each service answers is in inbox_provider.c, the page in
 * inbox_page.c.
 *
 * Deliberate choices:
 * - A request is written to the log, with the status it is going to get,
 *   before that answer is queued, so whoever sees the answer can read the
 *   record at once.  The log is flushed after every line.
 * - Fault modes never block: a hanging request is suspended, a slow one is
 *   suspended with a timer, a dripping body pauses its stream between
 *   bytes.  Other requests are served meanwhile.
 * - The page and /api/requests show this process's requests (kept in
 *   memory); the log file accumulates across runs.
 */
#include "crisisrun/inbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "crisisrun/httpd.h"
#include "crisisrun/signature.h"
#include "crisisrun/util.h"
#include "inbox_answer.h"

#define DRIP_BODY "dripping!\n"
#define DRIP_INTERVAL_MS 1000
#define BIG_SIZE (10u * 1024 * 1024)
#define SLOW_MAX_MS (10 * 60 * 1000)
#define RETRY_AFTER_MAX 86400
#define THEN_OK_MAX 1000000

enum fault_kind {
    FAULT_NONE,
    FAULT_STATUS,   /* /fault/CODE/...: always CODE */
    FAULT_THEN_OK,  /* /fault/CODE-then-ok/N/...: CODE N times, then normal */
    FAULT_429,      /* /fault/429/SECONDS/...: Retry-After header */
    FAULT_429JSON,  /* /fault/429json/SECONDS/...: Discord-style JSON body */
    FAULT_REDIRECT, /* /fault/redirect/...: 302 to /redirected/... */
    FAULT_HANG,
    FAULT_DRIP,
    FAULT_BIG,
    FAULT_SLOW, /* /fault/slow/MS/... */
    FAULT_UNKNOWN,
};

struct fault {
    enum fault_kind kind;
    unsigned status;
    long arg;
    char *name; /* as recorded: "500", "429/5", "hang", ... */
};

/* How a request will be answered. */
struct counter {
    char *path;
    long count;
};

struct timer {
    struct httpd_request *req;
    int64_t due; /* monotonic ms */
    int respond; /* 1: send `ans`; 0: resume a paused stream */
    struct answer ans;
};

struct drip {
    struct inbox *in;
    struct httpd_request *req;
    int64_t next;
};

struct inbox {
    struct httpd *httpd;
    char *dir, *log_path;
    FILE *log;
    int log_failed;
    struct inbox_secret *secrets;
    size_t nsecrets;
    char *default_secret;
    json_t *records;
    long seq;
    struct counter *counters;
    size_t ncounters, acounters;
    struct timer *timers;
    size_t ntimers, atimers;
};

/* ---- small helpers ---- */

/* A JSON string from arbitrary bytes: as is when valid UTF-8, otherwise
 * with every non-ASCII byte shown as '?'. */
static json_t *json_bytes(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    char *copy = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_stringn(copy, len);
    free(copy);
    return j;
}

static json_t *json_str(const char *s)
{
    return json_bytes(s, strlen(s));
}

static void iso_time(int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03dZ", (int)(ms % 1000));
}

/* Parses a non-negative decimal no larger than max; -1 when malformed. */
static long parse_num(const char *s, size_t len, long max)
{
    long v = 0;
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

static int mkdir_p(const char *dir)
{
    if (!*dir)
        return error("empty directory name");
    char *p = xstrdup(dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return error("cannot create directory '%s': %s", dir, strerror(e));
        }
        *s = '/';
    }
    free(p);
    if (mkdir(dir, 0777) < 0 && errno != EEXIST)
        return error("cannot create directory '%s': %s", dir, strerror(errno));
    return 0;
}

/* ---- routing ---- */

/*
 * Splits "/fault/KIND[/ARG]/REST" into f and returns REST ("/slack/x"), or
 * returns the path itself when it has no fault prefix.  f->name is what
 * the record shows: "500", "429/5", "hang", ...
 */
static const char *parse_fault(const char *path, struct fault *f)
{
    memset(f, 0, sizeof(*f));
    if (!starts_with(path, "/fault/"))
        return path;
    const char *kind = path + strlen("/fault/");
    size_t klen = strcspn(kind, "/");
    const char *rest = kind + klen; /* "" or "/..." */
    const char *arg = *rest ? rest + 1 : rest;
    size_t alen = strcspn(arg, "/");
    long status = klen >= 3 ? parse_num(kind, 3, 599) : -1;
    int takes_arg = 0;

#define KIND_IS(s) (klen == strlen(s) && !memcmp(kind, s, klen))
    if (KIND_IS("redirect")) {
        f->kind = FAULT_REDIRECT;
    } else if (KIND_IS("hang")) {
        f->kind = FAULT_HANG;
    } else if (KIND_IS("drip")) {
        f->kind = FAULT_DRIP;
    } else if (KIND_IS("big")) {
        f->kind = FAULT_BIG;
    } else if (KIND_IS("slow")) {
        takes_arg = 1;
        f->kind = FAULT_SLOW;
        f->arg = parse_num(arg, alen, SLOW_MAX_MS);
    } else if (KIND_IS("429") || KIND_IS("429json")) {
        takes_arg = 1;
        f->kind = klen == 3 ? FAULT_429 : FAULT_429JSON;
        f->status = 429;
        f->arg = parse_num(arg, alen, RETRY_AFTER_MAX);
    } else if (status >= 400 && klen == 3) {
        f->kind = FAULT_STATUS;
        f->status = (unsigned)status;
    } else if (status >= 400 && klen == 11 && !memcmp(kind + 3, "-then-ok", 8)) {
        takes_arg = 1;
        f->kind = FAULT_THEN_OK;
        f->status = (unsigned)status;
        f->arg = parse_num(arg, alen, THEN_OK_MAX);
    } else {
        f->kind = FAULT_UNKNOWN;
    }
#undef KIND_IS
    if (takes_arg) {
        if (f->arg < 0)
            f->kind = FAULT_UNKNOWN;
        rest = arg + alen;
    }
    f->name = xstrndup(kind, (size_t)(rest - kind));
    return rest;
}

/* The secret that applies to a channel ("slack/x"), or NULL. */
static const char *secret_for(const struct inbox *in, const char *channel)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < in->nsecrets; i++) {
        const char *p = in->secrets[i].prefix;
        size_t n = strlen(p);
        if (starts_with(channel, p) && (!best || n > best_len)) {
            best = in->secrets[i].secret;
            best_len = n;
        }
    }
    return best ? best : in->default_secret;
}

static const char *check_signature(const struct inbox *in,
                                   const struct httpd_request *req, const char *channel)
{
    const char *sig = httpd_header(req, "webhook-signature");
    const char *secret = secret_for(in, channel);
    if (!sig)
        return "absent";
    if (!secret)
        return "unchecked";
    int rc = signature_verify(
        secret, httpd_header(req, "webhook-id"), httpd_header(req, "webhook-timestamp"),
        sig, req->body, req->body_len, wallclock_ms() / 1000, SIGNATURE_TOLERANCE_S);
    return rc == 0 ? "valid" : "invalid";
}

/* Counts a request to `path` and returns how many came before it. */
static long count_request(struct inbox *in, const char *path)
{
    for (size_t i = 0; i < in->ncounters; i++)
        if (!strcmp(in->counters[i].path, path))
            return in->counters[i].count++;
    ALLOC_GROW(in->counters, in->ncounters + 1, in->acounters);
    in->counters[in->ncounters].path = xstrdup(path);
    in->counters[in->ncounters].count = 1;
    in->ncounters++;
    return 0;
}

/* Decides the answer to a message request; *fault has been parsed. */
static void decide(struct inbox *in, const struct httpd_request *req,
                   const struct fault *f, const char *rest, const char *provider,
                   const char *channel, const char *sigstate, struct answer *a)
{
    if (f->kind == FAULT_UNKNOWN) {
        char *msg = xasprintf("invalid fault '%s' (see docs/inbox.md)\n", f->name);
        answer_set(a, 400, "text/plain", msg);
        free(msg);
        return;
    }
    if (!strcmp(sigstate, "invalid") ||
        (!strcmp(sigstate, "absent") && secret_for(in, channel))) {
        answer_set(a, 401, "text/plain", "invalid signature\n");
        return;
    }
    switch (f->kind) {
    case FAULT_STATUS:
        answer_json(a, f->status,
                    json_pack("{s:b,s:i}", "ok", 0, "status", (int)f->status));
        return;
    case FAULT_THEN_OK:
        if (count_request(in, req->path) < f->arg) {
            answer_json(a, f->status,
                        json_pack("{s:b,s:i}", "ok", 0, "status", (int)f->status));
            if (f->status == 429) {
                a->hname = "Retry-After";
                a->hvalue = xstrdup("1");
            }
            return;
        }
        break;
    case FAULT_429:
        answer_set(a, 429, "text/plain", "rate limited\n");
        a->hname = "Retry-After";
        a->hvalue = xasprintf("%ld", f->arg);
        return;
    case FAULT_429JSON:
        answer_json(a, 429,
                    json_pack("{s:s,s:f,s:b}", "message", "You are being rate limited.",
                              "retry_after", (double)f->arg, "global", 0));
        return;
    case FAULT_REDIRECT:
        answer_set(a, 302, "text/plain", "moved\n");
        a->hname = "Location";
        a->hvalue = xasprintf("%s/redirected%s", httpd_url(in->httpd), rest);
        return;
    case FAULT_HANG:
        a->mode = ANSWER_HANG;
        return;
    case FAULT_DRIP:
        a->mode = ANSWER_DRIP;
        a->status = 200;
        a->ctype = "text/plain";
        return;
    case FAULT_BIG:
        a->mode = ANSWER_BIG;
        a->status = 200;
        a->ctype = "text/plain";
        return;
    case FAULT_SLOW:
        a->mode = ANSWER_SLOW;
        a->delay_ms = f->arg;
        break;
    default:
        break;
    }
    inbox_provider_answer(req, provider, channel, in->seq, a);
}

/* ---- recording ---- */

/* Headers as an object with lowercase names; repeated headers are joined
 * with ", " as HTTP allows. */
static json_t *headers_json(const struct httpd_request *req)
{
    json_t *h = json_object();
    for (size_t i = 0; i < req->nheaders; i++) {
        char *name = xstrdup(req->headers[i].name);
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        const json_t *old = json_object_get(h, name);
        json_t *v;
        if (old) {
            char *joined =
                xasprintf("%s, %s", json_string_value(old), req->headers[i].value);
            v = json_str(joined);
            free(joined);
        } else {
            v = json_str(req->headers[i].value);
        }
        /* A name that is not UTF-8 cannot be a JSON key: it is dropped
         * (json_object_set_new releases v then). */
        json_object_set_new(h, name, v);
        free(name);
    }
    return h;
}

static json_t *body_json(const struct httpd_request *req, const char **encoding)
{
    /* Only the part of an oversized body that fitted was kept: recording
     * it would suggest it was the whole message. */
    size_t len = req->body_too_large ? 0 : req->body_len;
    json_t *j = json_stringn(req->body, len);
    if (j) {
        *encoding = "utf-8";
        return j;
    }
    size_t n = 4 * ((len + 2) / 3) + 1;
    unsigned char *b64 = xmalloc(n);
    EVP_EncodeBlock(b64, (const unsigned char *)req->body, (int)len);
    j = json_string((char *)b64);
    free(b64);
    *encoding = "base64";
    return j;
}

static void record(struct inbox *in, const struct httpd_request *req, const char *channel,
                   const char *provider, const struct fault *f, const char *sigstate,
                   const struct answer *a)
{
    char when[40];
    const char *enc;
    iso_time(wallclock_ms(), when, sizeof(when));
    json_t *body = body_json(req, &enc);
    json_t *rec =
        json_pack("{s:I,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:b}", "seq",
                  (json_int_t)in->seq, "time", when, "method", json_str(req->method),
                  "path", json_str(req->path), "query", json_str(req->query), "channel",
                  json_str(channel), "provider", json_str(provider), "fault",
                  f->name ? json_str(f->name) : json_null(), "headers", headers_json(req),
                  "body", body, "body_encoding", enc, "signature", sigstate,
                  "body_too_large", req->body_too_large);
    json_object_set_new(rec, "status",
                        a->mode == ANSWER_HANG ? json_null() : json_integer(a->status));
    char *line = json_dumps(rec, JSON_COMPACT);
    if (line && fprintf(in->log, "%s\n", line) > 0 && fflush(in->log) == 0) {
        in->log_failed = 0;
    } else if (!in->log_failed) {
        error("cannot write '%s': %s", in->log_path, strerror(errno));
        in->log_failed = 1;
    }
    free(line);
    json_array_append_new(in->records, rec);
}

/* ---- answering ---- */

static ssize_t big_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    size_t n = BIG_SIZE - pos < max ? (size_t)(BIG_SIZE - pos) : max;
    memset(buf, 'x', n);
    return n ? (ssize_t)n : HTTPD_READER_END;
}

static void add_timer(struct inbox *in, struct httpd_request *req, int64_t due,
                      int respond, struct answer *a)
{
    ALLOC_GROW(in->timers, in->ntimers + 1, in->atimers);
    struct timer *t = &in->timers[in->ntimers++];
    memset(t, 0, sizeof(*t));
    t->req = req;
    t->due = due;
    t->respond = respond;
    if (a) {
        t->ans = *a;
        memset(a, 0, sizeof(*a));
    }
}

static ssize_t drip_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct drip *d = cls;
    int64_t now = monotonic_ms();
    if (pos >= sizeof(DRIP_BODY) - 1)
        return HTTPD_READER_END;
    if (now < d->next) {
        add_timer(d->in, d->req, d->next, 0, NULL);
        return HTTPD_READER_PAUSE;
    }
    (void)max;
    buf[0] = DRIP_BODY[pos];
    d->next = now + DRIP_INTERVAL_MS;
    return 1;
}

static int send_answer(struct httpd_request *req, const struct answer *a)
{
    const char *headers[5] = {NULL};
    size_t n = 0;
    if (a->ctype) {
        headers[n++] = "Content-Type";
        headers[n++] = a->ctype;
    }
    if (a->hname) {
        headers[n++] = a->hname;
        headers[n++] = a->hvalue;
    }
    return httpd_respond(req, a->status, headers, a->body, a->len);
}

static void respond_text(struct httpd_request *req, unsigned status, const char *ctype,
                         const char *body)
{
    httpd_respond(req, status, (const char *const[]){"Content-Type", ctype, NULL}, body,
                  strlen(body));
}

static void serve_ui(struct inbox *in, struct httpd_request *req)
{
    if (!strcmp(req->path, "/healthz")) {
        respond_text(req, 200, "text/plain", "ok");
    } else if (!strcmp(req->path, "/api/requests")) {
        char *s = json_dumps(in->records, JSON_COMPACT);
        respond_text(req, 200, "application/json", s);
        free(s);
    } else if (!strcmp(req->path, "/")) {
        char *page = inbox_page_html(in->records, in->log_path);
        respond_text(req, 200, "text/html; charset=utf-8", page);
        free(page);
    } else {
        respond_text(req, 404, "text/plain", "not found\n");
    }
}

static int is_ui_request(const struct httpd_request *req)
{
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
        return 0;
    return !strcmp(req->path, "/") || !strcmp(req->path, "/healthz") ||
           !strcmp(req->path, "/api/requests") || !strcmp(req->path, "/favicon.ico");
}

static void on_request(void *cls, struct httpd_request *req)
{
    struct inbox *in = cls;
    struct fault f;
    struct answer a = {0};

    if (is_ui_request(req)) {
        serve_ui(in, req);
        return;
    }
    in->seq++;
    const char *rest = parse_fault(req->path, &f);
    const char *channel = rest[0] == '/' ? rest + 1 : rest;
    const char *slash = strchr(channel, '/');
    char *provider =
        slash ? xstrndup(channel, (size_t)(slash - channel)) : xstrdup(channel);
    const char *sigstate = check_signature(in, req, channel);

    if (req->body_too_large) {
        answer_set(&a, 413, "text/plain", "request body too large\n");
    } else if (strcmp(req->method, "POST")) {
        answer_set(&a, 405, "text/plain", "method not allowed: webhooks are POSTed\n");
        a.hname = "Allow";
        a.hvalue = xstrdup("POST");
    } else {
        decide(in, req, &f, rest, provider, channel, sigstate, &a);
    }
    record(in, req, channel, provider, &f, sigstate, &a);

    switch (a.mode) {
    case ANSWER_NOW:
        send_answer(req, &a);
        break;
    case ANSWER_HANG:
        httpd_suspend(req);
        break;
    case ANSWER_SLOW:
        httpd_suspend(req);
        add_timer(in, req, monotonic_ms() + a.delay_ms, 1, &a);
        break;
    case ANSWER_BIG:
        httpd_respond_stream(req, 200,
                             (const char *const[]){"Content-Type", a.ctype, NULL},
                             BIG_SIZE, big_read, NULL, NULL);
        break;
    case ANSWER_DRIP: {
        struct drip *d = xcalloc(1, sizeof(*d));
        d->in = in;
        d->req = req;
        httpd_respond_stream(req, 200,
                             (const char *const[]){"Content-Type", a.ctype, NULL},
                             sizeof(DRIP_BODY) - 1, drip_read, d, free);
        break;
    }
    }
    answer_release(&a);
    free(f.name);
    free(provider);
}

/* A request has ended: forget its timers. */
static void on_closed(void *cls, struct httpd_request *req)
{
    struct inbox *in = cls;
    for (size_t i = 0; i < in->ntimers;) {
        if (in->timers[i].req == req) {
            answer_release(&in->timers[i].ans);
            in->timers[i] = in->timers[--in->ntimers];
        } else {
            i++;
        }
    }
}

/* ---- lifecycle and loop ---- */

struct inbox *inbox_start(const struct inbox_options *opts)
{
    struct inbox *in = xcalloc(1, sizeof(*in));
    in->dir = xstrdup(opts->dir ? opts->dir : INBOX_DEFAULT_DIR);
    in->log_path = xasprintf("%s/%s", in->dir, INBOX_LOG_NAME);
    in->records = json_array();
    in->nsecrets = opts->nsecrets;
    in->secrets = xcalloc(opts->nsecrets ? opts->nsecrets : 1, sizeof(*in->secrets));
    for (size_t i = 0; i < opts->nsecrets; i++) {
        const char *p = opts->secrets[i].prefix;
        in->secrets[i].prefix = xstrdup(p[0] == '/' ? p + 1 : p);
        in->secrets[i].secret = xstrdup(opts->secrets[i].secret);
    }
    in->default_secret = opts->default_secret ? xstrdup(opts->default_secret) : NULL;

    if (mkdir_p(in->dir) < 0)
        goto fail;
    in->log = fopen(in->log_path, "a");
    if (!in->log) {
        error("cannot open '%s': %s", in->log_path, strerror(errno));
        goto fail;
    }
    struct httpd_config cfg = {
        .listen = opts->listen ? opts->listen : INBOX_DEFAULT_LISTEN,
        .max_body = opts->max_body,
        .deliver_oversized = 1,
        .handle = on_request,
        .closed = on_closed,
        .cls = in,
    };
    in->httpd = httpd_start(&cfg);
    if (!in->httpd)
        goto fail;
    return in;
fail:
    inbox_free(in);
    return NULL;
}

void inbox_free(struct inbox *in)
{
    if (!in)
        return;
    httpd_free(in->httpd);
    for (size_t i = 0; i < in->ntimers; i++)
        answer_release(&in->timers[i].ans);
    free(in->timers);
    for (size_t i = 0; i < in->ncounters; i++)
        free(in->counters[i].path);
    free(in->counters);
    for (size_t i = 0; i < in->nsecrets; i++) {
        free((char *)in->secrets[i].prefix);
        free((char *)in->secrets[i].secret);
    }
    free(in->secrets);
    free(in->default_secret);
    if (in->log)
        fclose(in->log);
    json_decref(in->records);
    free(in->dir);
    free(in->log_path);
    free(in);
}

const char *inbox_url(const struct inbox *in)
{
    return httpd_url(in->httpd);
}

const char *inbox_log_path(const struct inbox *in)
{
    return in->log_path;
}

size_t inbox_fds(struct inbox *in, struct pollfd *fds, size_t max)
{
    return httpd_fds(in->httpd, fds, max);
}

int64_t inbox_timeout(struct inbox *in)
{
    int64_t t = httpd_timeout(in->httpd);
    int64_t now = monotonic_ms();
    for (size_t i = 0; i < in->ntimers; i++) {
        int64_t left = in->timers[i].due > now ? in->timers[i].due - now : 0;
        if (t < 0 || left < t)
            t = left;
    }
    return t;
}

void inbox_run(struct inbox *in)
{
    int64_t now = monotonic_ms();
    for (size_t i = 0; i < in->ntimers;) {
        struct timer t = in->timers[i];
        if (t.due > now) {
            i++;
            continue;
        }
        in->timers[i] = in->timers[--in->ntimers];
        if (t.respond)
            send_answer(t.req, &t.ans);
        else
            httpd_resume(t.req);
        answer_release(&t.ans);
    }
    httpd_run(in->httpd);
}
