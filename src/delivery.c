/*
 * delivery.c - the delivery engine (see delivery.h and docs/delivery.md).
 *
 * A notification is a `struct job` that moves through queues, never scanned:
 *
 *   submit --(not_before in the future)--> timer heap
 *      |                                       | due
 *      v                                       v
 *   channel FIFO (rate-limited channels only; one job at a time is let
 *      |          through, when the limiter allows)
 *      v
 *   ready deque --(host at its cap)--> host wait FIFO
 *      |                                  | a request to that host ends
 *      v                                  v (back to the front of ready)
 *   on the wire (http.c) --> outcome --> settled, or timer heap (retry)
 *
 * Every step is O(1) or O(log n) in the number of waiting jobs, so a
 * fan-out to ten thousand endpoints costs the same per endpoint as one
 * message.  Caps are enforced here rather than in curl so that nothing
 * waits inside curl, where its timeout would already be running.
 *
 * A rate-limited channel lets a job out of its FIFO only when the limiter
 * allows and no other job of the channel is between the limiter and the
 * wire; the limiter is charged when the request is actually handed over.
 * So the spacing the service sees is the spacing the limiter chose, even
 * when caps delay a request.
 */
#include "crisisrun/delivery.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crisisrun/backoff.h"
#include "crisisrun/capture.h"
#include "crisisrun/http.h"
#include "crisisrun/ratelimit.h"
#include "crisisrun/util.h"

#ifndef CRISISRUN_VERSION
#define CRISISRUN_VERSION "0"
#endif

#define DEFAULT_MAX_TOTAL 256
#define DEFAULT_MAX_PER_HOST 64
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_TIMEOUT_MS 10000

#define NOT_IN_HEAP SIZE_MAX
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static const char content_type_json[] = "Content-Type: application/json";

enum tkind { T_JOB, T_CHAN };

struct tnode {
    int64_t at;
    size_t pos; /* index in the heap, NOT_IN_HEAP when not in it */
    enum tkind kind;
};

enum jstate {
    J_TIMER,  /* in the heap: not before, or waiting to retry */
    J_CHANQ,  /* in its channel's FIFO, waiting for the rate limiter */
    J_READY,  /* in the ready deque */
    J_HOSTQ,  /* in its host's wait FIFO */
    J_FLIGHT, /* handed to the HTTP client */
    J_SETTLE, /* settles at the next delivery_perform() without a request */
};

struct job;

/* A FIFO of jobs through job.next; push at either end, pop at the front. */
struct jlist {
    struct job *head, *tail;
};

struct delivery_host {
    char *key; /* "scheme://host:port" */
    size_t inflight;
    /* Its jobs that wait for a connection (in the ready deque or behind
     * its cap, or scheduled for a first attempt), and those waiting to
     * retry; not those in flight or held by a rate limit. */
    size_t queued, retrying;
    struct jlist waitq;
    struct delivery_host *hnext;
};

struct chan {
    const struct channel *ch;
    struct ratelimit rl;
    struct jlist fifo;
    int released; /* a job is between the limiter and the wire */
    struct tnode timer;
    char **hdr; /* the channel's headers as "Name: value" lines */
    size_t nhdr;
    int has_content_type, has_user_agent;
    unsigned char *disabled; /* per endpoint index: 1 after a 410 */
    size_t ndisabled;
    struct delivery_counts counts;
};

struct job {
    struct job *next;          /* in the one jlist the job is on */
    struct job *aprev, *anext; /* every live job, for delivery_free() */
    struct tnode timer;
    enum jstate state;
    struct delivery *d;
    struct chan *chan;
    struct delivery_host *host; /* NULL when the URL is unusable */
    size_t endpoint;
    const struct provider *prov;
    const char *id, *url; /* in text */
    const char *body; /* owned unless body_release is set */
    size_t len;
    void (*body_release)(void *owner);
    void *body_owner;
    int attempt;
    int retrying; /* the timer is a retry's (else a first not_before) */
    int released; /* this is its channel's released job */
    void *tag;
    int64_t started;
    int counted;           /* HOST_QUEUED or HOST_RETRYING: in its host's count */
    struct header_list ah; /* the provider's headers of this attempt */
    const char **hdrv;     /* every header line of this attempt */
    size_t hdrv_alloc;
    /* J_SETTLE: the outcome, and the error of the attempt reported for it
     * (NULL: settle without reporting an attempt). */
    enum delivery_result early;
    const char *early_error;
    /* The id, then the URL when there is one, each ended by a NUL: one
     * allocation with the job, where two copies were two more mallocs
     * and frees for every notification of a fan-out. */
    char text[];
};

struct delivery {
    struct delivery_options opt;
    struct delivery_callbacks cb;
    void *user;
    /* "User-Agent: VALUE", the line every request carries unless its
     * channel sets its own (job_headers()); opt.user_agent is VALUE. */
    char *user_agent;
    struct capture *capture;  /* NULL when sending */
    struct http_client *http; /* NULL when capturing */
    struct chan **chans;
    size_t nchans;
    struct delivery_host **buckets;
    size_t nbuckets, nhosts;
    /* The host of the last URL looked up, and that URL's scheme and
     * authority (last_auth_len bytes): a fan-out's URLs mostly share them
     * with the one before, and a comparison is cheaper than a key. */
    struct delivery_host *last_host;
    char *last_auth;
    size_t last_auth_len, last_auth_alloc;
    struct jlist ready, settle;
    struct tnode **heap;
    size_t nheap, heap_alloc;
    struct job *all;
    size_t active, inflight;
    uint64_t rng;
    size_t nready; /* jobs in the ready deque */
};

/* --- lists ---------------------------------------------------------------- */

static void jl_push_back(struct jlist *l, struct job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static void jl_push_front(struct jlist *l, struct job *j)
{
    j->next = l->head;
    l->head = j;
    if (!l->tail)
        l->tail = j;
}

static struct job *jl_pop(struct jlist *l)
{
    struct job *j = l->head;
    if (j) {
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
        j->next = NULL;
    }
    return j;
}

/* --- timer heap (min-heap on `at`) --------------------------------------- */

static void heap_set(struct delivery *d, size_t i, struct tnode *n)
{
    d->heap[i] = n;
    n->pos = i;
}

static void heap_up(struct delivery *d, size_t i)
{
    struct tnode *n = d->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (d->heap[p]->at <= n->at)
            break;
        heap_set(d, i, d->heap[p]);
        i = p;
    }
    heap_set(d, i, n);
}

static void heap_down(struct delivery *d, size_t i)
{
    struct tnode *n = d->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= d->nheap)
            break;
        if (c + 1 < d->nheap && d->heap[c + 1]->at < d->heap[c]->at)
            c++;
        if (n->at <= d->heap[c]->at)
            break;
        heap_set(d, i, d->heap[c]);
        i = c;
    }
    heap_set(d, i, n);
}

static void heap_remove(struct delivery *d, struct tnode *n)
{
    size_t i = n->pos;
    n->pos = NOT_IN_HEAP;
    d->nheap--;
    if (i == d->nheap)
        return;
    struct tnode *m = d->heap[d->nheap];
    heap_set(d, i, m);
    heap_down(d, i);
    heap_up(d, m->pos);
}

/* Puts n in the heap at time `at`, or moves it there when it already is. */
static void heap_schedule(struct delivery *d, struct tnode *n, int64_t at)
{
    if (n->pos != NOT_IN_HEAP) {
        if (n->at == at)
            return;
        heap_remove(d, n);
    }
    n->at = at;
    ALLOC_GROW(d->heap, d->nheap + 1, d->heap_alloc);
    d->heap[d->nheap] = n;
    n->pos = d->nheap++;
    heap_up(d, n->pos);
}

/* --- hosts ---------------------------------------------------------------- */

/* Room for any real host key: "https://" + a host (a DNS name is at most
 * 253 characters) + ":" + a port.  Longer ones are built on the heap. */
#define HOST_KEY_MAX 512

/*
 * "scheme://host:port" of an http or https URL, the unit of the per-host
 * cap, in key (size bytes) when it fits; its length either way, or 0 when
 * the URL is not one we may send to.  Built by hand: it ran twice for
 * every endpoint of a fan-out before delivery_host() kept the last host,
 * and a string builder with a printf for the port was 5% of the run
 * loop's instructions.
 */
static size_t host_key(const char *url, char *key, size_t size)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return 0;
    size_t slen = (size_t)(sep - url);
    int https;
    if (slen == 4 && !strncasecmp(url, "http", 4))
        https = 0;
    else if (slen == 5 && !strncasecmp(url, "https", 5))
        https = 1;
    else
        return 0;
    const char *auth = sep + 3;
    const char *end = auth + strcspn(auth, "/?#");
    for (const char *p = auth; p < end; p++) /* userinfo is not the host */
        if (*p == '@')
            auth = p + 1;
    const char *host = auth, *hend, *port = NULL;
    if (*host == '[') {
        hend = memchr(host, ']', (size_t)(end - host));
        if (!hend)
            return 0;
        hend++;
        if (hend < end && *hend == ':')
            port = hend + 1;
    } else {
        hend = memchr(host, ':', (size_t)(end - host));
        if (hend)
            port = hend + 1;
        else
            hend = end;
    }
    if (hend == host)
        return 0;
    const char *scheme = https ? "https://" : "http://";
    const char *dflt = https ? "443" : "80";
    size_t sl = strlen(scheme), hl = (size_t)(hend - host);
    size_t pl = port && port < end ? (size_t)(end - port) : strlen(dflt);
    if (sl + hl + 1 + pl + 1 > size)
        return sl + hl + 1 + pl;
    char *k = key;
    memcpy(k, scheme, sl);
    k += sl;
    for (const char *p = host; p < hend; p++)
        *k++ = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    *k++ = ':';
    memcpy(k, port && port < end ? port : dflt, pl);
    k += pl;
    *k = '\0';
    return (size_t)(k - key);
}

/* The host of `key` (len bytes), made on first use. */
static struct delivery_host *host_get(struct delivery *d, const char *key, size_t len)
{
    if (d->nhosts >= d->nbuckets) {
        size_t nb = d->nbuckets ? 2 * d->nbuckets : 64;
        struct delivery_host **b = xcalloc(nb, sizeof(*b));
        for (size_t i = 0; i < d->nbuckets; i++) {
            struct delivery_host *h = d->buckets[i], *next;
            for (; h; h = next) {
                next = h->hnext;
                size_t k = hash_str(h->key) & (nb - 1);
                h->hnext = b[k];
                b[k] = h;
            }
        }
        free(d->buckets);
        d->buckets = b;
        d->nbuckets = nb;
    }
    size_t k = hash_str(key) & (d->nbuckets - 1);
    for (struct delivery_host *h = d->buckets[k]; h; h = h->hnext) {
        if (!strcmp(h->key, key))
            return h;
    }
    struct delivery_host *h = xcalloc(1, sizeof(*h));
    h->key = xstrndup(key, len);
    h->hnext = d->buckets[k];
    d->buckets[k] = h;
    d->nhosts++;
    return h;
}

/* The length of url's scheme and authority ("http://user@host:port"), the
 * only part host_key() reads; 0 without "://". */
static size_t authority_len(const char *url)
{
    const char *sep = strstr(url, "://");
    return sep ? (size_t)(sep + 3 - url) + strcspn(sep + 3, "/?#") : 0;
}

struct delivery_host *delivery_host(struct delivery *d, const char *url)
{
    size_t alen = url ? authority_len(url) : 0;
    if (alen && d->last_host && alen == d->last_auth_len &&
        !memcmp(url, d->last_auth, alen))
        return d->last_host;
    char buf[HOST_KEY_MAX], *key = buf;
    size_t klen = url ? host_key(url, key, sizeof(buf)) : 0;
    if (klen >= sizeof(buf))
        host_key(url, key = xmalloc(klen + 1), klen + 1);
    struct delivery_host *h = klen ? host_get(d, key, klen) : NULL;
    if (key != buf)
        free(key);
    if (h) {
        ALLOC_GROW(d->last_auth, alen, d->last_auth_alloc);
        memcpy(d->last_auth, url, alen);
        d->last_auth_len = alen;
        d->last_host = h;
    }
    return h;
}

/* --- channels ------------------------------------------------------------- */

static struct chan *chan_get(struct delivery *d, size_t ci, const struct channel *ch)
{
    if (ci >= d->nchans) {
        size_t n = d->nchans ? d->nchans : 8;
        while (n <= ci)
            n *= 2;
        d->chans = xrealloc(d->chans, n * sizeof(*d->chans));
        memset(d->chans + d->nchans, 0, (n - d->nchans) * sizeof(*d->chans));
        d->nchans = n;
    }
    struct chan *c = d->chans[ci];
    if (c)
        return c;
    c = xcalloc(1, sizeof(*c));
    c->ch = ch;
    ratelimit_init(&c->rl, ch->rate_count, ch->rate_per_ms);
    c->timer.pos = NOT_IN_HEAP;
    c->timer.kind = T_CHAN;
    if (ch->nheaders) {
        c->hdr = xcalloc(ch->nheaders, sizeof(*c->hdr));
        for (size_t i = 0; i < ch->nheaders; i++) {
            c->hdr[i] = xasprintf("%s: %s", ch->headers[i].key, ch->headers[i].value);
            if (!strcasecmp(ch->headers[i].key, "Content-Type"))
                c->has_content_type = 1;
            if (!strcasecmp(ch->headers[i].key, "User-Agent"))
                c->has_user_agent = 1;
        }
        c->nhdr = ch->nheaders;
    }
    d->chans[ci] = c;
    return c;
}

static void chan_free(struct chan *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nhdr; i++)
        free(c->hdr[i]);
    free(c->hdr);
    free(c->disabled);
    free(c);
}

static int endpoint_disabled(const struct chan *c, size_t ei)
{
    return ei < c->ndisabled && c->disabled[ei];
}

static void endpoint_disable(struct chan *c, size_t ei)
{
    if (ei >= c->ndisabled) {
        size_t n = c->ndisabled ? c->ndisabled : 16;
        while (n <= ei)
            n *= 2;
        c->disabled = xrealloc(c->disabled, n);
        memset(c->disabled + c->ndisabled, 0, n - c->ndisabled);
        c->ndisabled = n;
    }
    c->disabled[ei] = 1;
}

enum { HOST_NONE, HOST_QUEUED, HOST_RETRYING };

static size_t *host_count(struct job *j, int which)
{
    return which == HOST_QUEUED ? &j->host->queued : &j->host->retrying;
}

/* Moves j to state s, keeping its host's counts. */
static void job_state(struct job *j, enum jstate s)
{
    j->state = s;
    int which = HOST_NONE;
    if (j->host && (s == J_READY || s == J_HOSTQ))
        which = HOST_QUEUED;
    else if (j->host && s == J_TIMER)
        which = j->retrying ? HOST_RETRYING : HOST_QUEUED;
    if (which == j->counted)
        return;
    if (j->counted != HOST_NONE)
        (*host_count(j, j->counted))--;
    if (which != HOST_NONE)
        (*host_count(j, which))++;
    j->counted = which;
}

/* The ready deque: jobs past their time and their channel's rate limit,
 * waiting for a connection. */
static void ready_push(struct delivery *d, struct job *j, int front)
{
    job_state(j, J_READY);
    if (front)
        jl_push_front(&d->ready, j);
    else
        jl_push_back(&d->ready, j);
    d->nready++;
}

static struct job *ready_pop(struct delivery *d)
{
    struct job *j = jl_pop(&d->ready);
    if (j)
        d->nready--;
    return j;
}

/* A connection of h's may be free: its next job behind the cap gets in
 * line for it, at the front. */
static void host_next(struct delivery *d, struct delivery_host *h)
{
    if (h && h->waitq.head && (d->capture || h->inflight < d->opt.max_per_host))
        ready_push(d, jl_pop(&h->waitq), 1);
}

/*
 * Lets the head of a rate-limited channel's FIFO through when the limiter
 * allows and no other job of the channel is on its way; otherwise sets the
 * channel's timer for when it will.  Released jobs go to the front of the
 * ready deque: they have waited their turn already, and a fan-out's
 * thousands of queued requests must not add to a chat channel's spacing.
 */
static void chan_kick(struct delivery *d, struct chan *c, int64_t now)
{
    if (c->released || !c->fifo.head)
        return;
    int64_t t = ratelimit_next(&c->rl, now);
    if (t > now) {
        heap_schedule(d, &c->timer, t);
        return;
    }
    if (c->timer.pos != NOT_IN_HEAP)
        heap_remove(d, &c->timer);
    struct job *j = jl_pop(&c->fifo);
    c->released = 1;
    j->released = 1;
    ready_push(d, j, 1);
}

/* The job no longer holds its channel's release (it started, or settled
 * without a request). */
static void chan_unrelease(struct delivery *d, struct job *j, int64_t now, int sent)
{
    if (!j->released)
        return;
    struct chan *c = j->chan;
    j->released = 0;
    c->released = 0;
    if (sent)
        ratelimit_take(&c->rl, now);
    chan_kick(d, c, now);
}

/* A job whose time has come joins its channel's FIFO, or the ready deque. */
static void job_enter(struct delivery *d, struct job *j, int64_t now)
{
    struct chan *c = j->chan;
    if (ratelimit_enabled(&c->rl)) {
        job_state(j, J_CHANQ);
        /* A retry is older than anything queued after it. */
        if (j->retrying)
            jl_push_front(&c->fifo, j);
        else
            jl_push_back(&c->fifo, j);
        chan_kick(d, c, now);
    } else {
        ready_push(d, j, 0);
    }
}

/* --- jobs ----------------------------------------------------------------- */

/* header_list_release() lives with the providers; the engine frees the
 * list itself so that it depends on nothing but the provider interface. */
static void attempt_headers_clear(struct header_list *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    free(h->v);
    h->v = NULL;
    h->n = h->alloc = 0;
}

static void job_free(struct delivery *d, struct job *j)
{
    if (j->aprev)
        j->aprev->anext = j->anext;
    else
        d->all = j->anext;
    if (j->anext)
        j->anext->aprev = j->aprev;
    if (j->counted != HOST_NONE)
        (*host_count(j, j->counted))--;
    attempt_headers_clear(&j->ah);
    free(j->hdrv);
    if (j->body_release)
        j->body_release(j->body_owner);
    else
        free((char *)j->body);
    free(j);
}

static uint64_t next_random(struct delivery *d)
{
    if (d->opt.random)
        return d->opt.random(d->opt.random_ctx);
    /* xorshift64*: plenty for spreading retries. */
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* The job is done: count it, tell the caller, forget it. */
static void job_settle(struct delivery *d, struct job *j, enum delivery_result res)
{
    struct chan *c = j->chan;
    if (res == DELIVERY_OK)
        c->counts.ok++;
    else
        c->counts.failed++;
    d->active--;
    void *tag = j->tag;
    job_free(d, j);
    if (d->cb.settled)
        d->cb.settled(d->user, tag, res);
}

/*
 * An attempt is over (j is no longer in flight): report it, then retry
 * or settle.  retry_after_ms is what the service asked for, or -1.
 */
static void job_outcome(struct delivery *d, struct job *j, int64_t now, long status,
                        enum delivery_result res, const char *err, int64_t retry_after_ms)
{
    struct chan *c = j->chan;
    const struct channel *ch = c->ch;
    attempt_headers_clear(&j->ah);
    c->counts.inflight--;

    struct delivery_attempt a = {
        .attempt = j->attempt,
        .status = status,
        .latency_ms = now - j->started,
        .result = res,
        .error = err,
        .retry_at = -1,
    };
    if (res == DELIVERY_GONE)
        endpoint_disable(c, j->endpoint);
    if (res == DELIVERY_RETRY && j->attempt < ch->retry_attempts) {
        double u = backoff_unit(next_random(d));
        int64_t delay =
            backoff_retry_delay_ms(ch->retry_backoff_ms, j->attempt, retry_after_ms, u);
        a.retry_at = now + delay;
        /* A 429 on a rate-limited (single-service) channel is the service
         * saying the whole channel is over its limit: hold all of it. */
        if (status == 429 && retry_after_ms >= 0 && ratelimit_enabled(&c->rl)) {
            int64_t ra =
                retry_after_ms < RETRY_AFTER_CAP_MS ? retry_after_ms : RETRY_AFTER_CAP_MS;
            ratelimit_block(&c->rl, now + ra);
        }
        j->attempt++;
        j->retrying = 1;
        job_state(j, J_TIMER);
        c->counts.retrying++;
        heap_schedule(d, &j->timer, a.retry_at);
        if (d->cb.attempt_done)
            d->cb.attempt_done(d->user, j->tag, &a);
        return;
    }
    if (d->cb.attempt_done)
        d->cb.attempt_done(d->user, j->tag, &a);
    job_settle(d, j, res);
}

static void on_http_done(void *ctx, const struct http_result *r)
{
    struct job *j = ctx;
    struct delivery *d = j->d;
    int64_t now = d->opt.clock();
    d->inflight--;
    j->host->inflight--;
    host_next(d, j->host);

    if (r->error) {
        job_outcome(d, j, now, 0, r->permanent ? DELIVERY_PERMANENT : DELIVERY_RETRY,
                    r->error, -1);
        return;
    }
    int64_t ra =
        r->retry_after ? retry_after_parse(r->retry_after, d->opt.wallclock()) : -1;
    enum delivery_result res = j->prov->classify(r->status, r->body, r->len, &ra);
    /* now is whole milliseconds, up to one behind the answer: a wait
     * counted from it is one longer, so never shorter than asked. */
    if (ra >= 0)
        ra++;
    char err[64] = "";
    /* A 2xx refused by the provider's own rule (Slack's and Mattermost's
     * "ok") would otherwise read as a success code next to a failure. */
    if (res != DELIVERY_OK)
        snprintf(err, sizeof(err),
                 r->status >= 200 && r->status < 300
                     ? "HTTP %ld without the service's confirmation"
                     : "HTTP %ld",
                 r->status);
    job_outcome(d, j, now, r->status, res, res == DELIVERY_OK ? NULL : err, ra);
}

/* Makes this attempt's header lines in j->hdrv; returns how many. */
static size_t job_headers(struct job *j, int64_t wall_ms)
{
    struct chan *c = j->chan;
    if (j->prov->attempt_headers)
        j->prov->attempt_headers(c->ch, j->id, j->body, j->len, wall_ms / 1000, &j->ah);
    size_t n = j->ah.n + c->nhdr + 2;
    ALLOC_GROW(j->hdrv, n, j->hdrv_alloc);
    n = 0;
    if (!c->has_user_agent)
        j->hdrv[n++] = j->d->user_agent;
    for (size_t i = 0; i < j->ah.n; i++)
        j->hdrv[n++] = j->ah.v[i];
    for (size_t i = 0; i < c->nhdr; i++)
        j->hdrv[n++] = c->hdr[i];
    if (!c->has_content_type)
        j->hdrv[n++] = content_type_json;
    return n;
}

/* Hands one attempt to the network (or the capture directory). */
static void job_start(struct delivery *d, struct job *j, int64_t now)
{
    struct chan *c = j->chan;
    int64_t wall = d->opt.wallclock();
    size_t nh = job_headers(j, wall);

    c->counts.queued--;
    c->counts.inflight++;
    c->counts.attempts++;
    j->started = now;
    chan_unrelease(d, j, now, 1);
    if (d->cb.attempt_start)
        d->cb.attempt_start(d->user, j->tag, j->attempt, wall);

    if (d->capture) {
        char err[512];
        if (capture_write(d->capture, j->id, j->url, j->hdrv, nh, j->body, j->len, err,
                          sizeof(err)) < 0)
            job_outcome(d, j, now, 0, DELIVERY_PERMANENT, err, -1);
        else
            job_outcome(d, j, now, 0, DELIVERY_OK, NULL, -1);
        return;
    }

    const struct channel *ch = c->ch;
    int64_t timeout = ch->timeout_ms > 0 ? ch->timeout_ms : DEFAULT_TIMEOUT_MS;
    int64_t connect = d->opt.connect_timeout_ms;
    if (connect > timeout)
        connect = timeout;
    struct http_request rq = {
        .url = j->url,
        .body = j->body,
        .len = j->len,
        .headers = j->hdrv,
        .nheaders = nh,
        .timeout_ms = timeout,
        .connect_timeout_ms = connect,
    };
    if (http_start(d->http, &rq, on_http_done, j) < 0) {
        struct delivery_host *h = j->host;
        job_outcome(d, j, now, 0, DELIVERY_RETRY, "cannot start the request", -1);
        host_next(d, h); /* the connection it would have taken */
        return;
    }
    job_state(j, J_FLIGHT);
    d->inflight++;
    j->host->inflight++;
}

/* Settles a job that makes no request (disabled endpoint, unusable URL). */
static void job_settle_early(struct delivery *d, struct job *j, int64_t now)
{
    struct chan *c = j->chan;
    chan_unrelease(d, j, now, 0);
    if (!j->early_error) {
        c->counts.queued--;
        job_settle(d, j, j->early);
        return;
    }
    /* Reported as an attempt, so the journal says why. */
    c->counts.queued--;
    c->counts.inflight++;
    c->counts.attempts++;
    j->started = now;
    if (d->cb.attempt_start)
        d->cb.attempt_start(d->user, j->tag, j->attempt, d->opt.wallclock());
    job_outcome(d, j, now, 0, j->early, j->early_error, -1);
}

/* Starts ready jobs while the global cap allows. */
static void dispatch(struct delivery *d, int64_t now)
{
    size_t max_total = d->opt.max_total_connections;
    size_t max_host = d->opt.max_per_host;
    while (d->ready.head && (d->capture || d->inflight < max_total)) {
        struct job *j = ready_pop(d);
        const char *refused = NULL;
        if (endpoint_disabled(j->chan, j->endpoint) ||
            (d->cb.refuse && (refused = d->cb.refuse(d->user, j->tag)))) {
            struct delivery_host *h = j->host;
            j->early = refused ? DELIVERY_PERMANENT : DELIVERY_GONE;
            j->early_error = refused;
            job_settle_early(d, j, now);
            /* It may have been let out of h's queue for a connection it
             * will not take: the next one in that queue takes it. */
            host_next(d, h);
            continue;
        }
        if (!d->capture && j->host->inflight >= max_host) {
            job_state(j, J_HOSTQ);
            jl_push_back(&j->host->waitq, j);
            continue;
        }
        job_start(d, j, now);
    }
}

static void run_timers(struct delivery *d, int64_t now)
{
    while (d->nheap && d->heap[0]->at <= now) {
        struct tnode *n = d->heap[0];
        heap_remove(d, n);
        if (n->kind == T_CHAN) {
            chan_kick(d, container_of(n, struct chan, timer), now);
            continue;
        }
        struct job *j = container_of(n, struct job, timer);
        if (j->retrying) {
            j->chan->counts.retrying--;
            j->chan->counts.queued++;
        }
        job_enter(d, j, now);
    }
}

static void run_settles(struct delivery *d, int64_t now)
{
    struct job *j;
    while ((j = jl_pop(&d->settle)))
        job_settle_early(d, j, now);
}

/* --- public API ----------------------------------------------------------- */

static int64_t default_clock(void)
{
    return monotonic_ms();
}

static int64_t default_wallclock(void)
{
    return wallclock_ms();
}

struct delivery *delivery_new(const struct delivery_options *opt,
                              const struct delivery_callbacks *cb, void *user)
{
    struct delivery *d = xcalloc(1, sizeof(*d));
    if (opt)
        d->opt = *opt;
    if (cb)
        d->cb = *cb;
    d->user = user;
    if (!d->opt.max_total_connections)
        d->opt.max_total_connections = DEFAULT_MAX_TOTAL;
    if (!d->opt.max_per_host)
        d->opt.max_per_host = DEFAULT_MAX_PER_HOST;
    if (d->opt.connect_timeout_ms <= 0)
        d->opt.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    if (!d->opt.clock)
        d->opt.clock = default_clock;
    if (!d->opt.wallclock)
        d->opt.wallclock = default_wallclock;
    d->user_agent = xasprintf("User-Agent: %s", d->opt.user_agent ? d->opt.user_agent
                                                                  : "crisisrun/" CRISISRUN_VERSION);
    d->opt.user_agent = d->user_agent + strlen("User-Agent: ");
    d->opt.capture_dir = NULL;
    d->rng = ((uint64_t)wallclock_ms() << 20) ^ (uint64_t)monotonic_ms() ^
             ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)d;
    if (!d->rng)
        d->rng = 0x9E3779B97F4A7C15ULL;

    if (opt && opt->capture_dir) {
        d->capture = capture_open(opt->capture_dir);
        if (!d->capture)
            goto fail;
        return d;
    }
    struct http_options ho = {
        .user_agent = d->opt.user_agent,
        .max_idle_connections = (long)d->opt.max_total_connections,
    };
    d->http = http_client_new(&ho);
    if (!d->http)
        goto fail;
    return d;
fail:
    free(d->user_agent);
    free(d);
    return NULL;
}

void delivery_free(struct delivery *d)
{
    if (!d)
        return;
    /* First: the client's in-flight requests point at jobs. */
    http_client_free(d->http);
    while (d->all)
        job_free(d, d->all);
    for (size_t i = 0; i < d->nchans; i++)
        chan_free(d->chans[i]);
    free(d->chans);
    for (size_t i = 0; i < d->nbuckets; i++) {
        struct delivery_host *h = d->buckets[i], *next;
        for (; h; h = next) {
            next = h->hnext;
            free(h->key);
            free(h);
        }
    }
    free(d->buckets);
    free(d->last_auth);
    free(d->heap);
    capture_close(d->capture);
    free(d->user_agent);
    free(d);
}

void delivery_submit(struct delivery *d, const struct delivery_request *req)
{
    const struct channel *ch = req->channel;
    const char *url = req->url, *id = req->notification_id ? req->notification_id : "";
    char buf[URL_BUF_SIZE];
    if (!url && req->endpoint_index < ch->urls.n)
        url = url_list_get(&ch->urls, req->endpoint_index, buf);
    char *own_url = NULL;
    if (url && req->msg && req->provider->request_url &&
        (own_url = req->provider->request_url(url, req->msg)))
        url = own_url;
    size_t id_len = strlen(id), url_len = url ? strlen(url) : 0;
    struct job *j = xcalloc(1, sizeof(*j) + id_len + 1 + url_len + 1);
    memcpy(j->text, id, id_len + 1);
    j->id = j->text;
    if (url) {
        memcpy(j->text + id_len + 1, url, url_len + 1);
        j->url = j->text + id_len + 1;
    }
    free(own_url);
    j->d = d;
    j->timer.pos = NOT_IN_HEAP;
    j->timer.kind = T_JOB;
    j->chan = chan_get(d, req->channel_index, ch);
    j->endpoint = req->endpoint_index;
    j->prov = req->provider;
    if (req->body_release) {
        j->body = req->body;
        j->body_release = req->body_release;
        j->body_owner = req->body_owner;
    } else {
        char *body = xmalloc(req->len + 1);
        if (req->len)
            memcpy(body, req->body, req->len);
        body[req->len] = '\0';
        j->body = body;
    }
    j->len = req->len;
    j->attempt = req->attempt > 0 ? req->attempt : 1;
    j->tag = req->tag;

    j->anext = d->all;
    if (d->all)
        d->all->aprev = j;
    d->all = j;
    d->active++;
    j->chan->counts.queued++;

    int disabled = endpoint_disabled(j->chan, j->endpoint);
    if (disabled || !(j->host = delivery_host(d, j->url))) {
        /* Settled at the next delivery_perform(): callbacks never run
         * inside delivery_submit(). */
        j->early = disabled ? DELIVERY_GONE : DELIVERY_PERMANENT;
        j->early_error = disabled ? NULL : "unusable URL (only http and https are sent)";
        job_state(j, J_SETTLE);
        jl_push_back(&d->settle, j);
        return;
    }
    int64_t now = d->opt.clock();
    /* A later attempt that must wait is a retry a resume carries on: it
     * goes ahead of the messages that were queued behind it (job_enter). */
    if (req->not_before > now && j->attempt > 1)
        j->retrying = 1;
    if (req->hold_channel && req->not_before > now && ratelimit_enabled(&j->chan->rl)) {
        /* The service's wait holds the whole channel: this one waits at
         * the head of the channel's queue, the messages after it behind. */
        ratelimit_block(&j->chan->rl, req->not_before);
        job_enter(d, j, now);
        return;
    }
    if (req->not_before > now) {
        if (j->retrying) {
            j->chan->counts.queued--;
            j->chan->counts.retrying++;
        }
        job_state(j, J_TIMER);
        heap_schedule(d, &j->timer, req->not_before);
        return;
    }
    job_enter(d, j, now);
}

size_t delivery_active(const struct delivery *d)
{
    return d->active;
}

size_t delivery_waiting(const struct delivery *d)
{
    return d->nready;
}

size_t delivery_host_waiting(const struct delivery_host *h)
{
    return h ? h->queued : 0;
}

size_t delivery_host_retrying(const struct delivery_host *h)
{
    return h ? h->retrying : 0;
}

int64_t delivery_timeout_ms(const struct delivery *d)
{
    if (d->settle.head)
        return 0;
    if (d->ready.head && (d->capture || d->inflight < d->opt.max_total_connections))
        return 0;
    if (!d->nheap)
        return -1;
    int64_t t = d->heap[0]->at - d->opt.clock();
    return t > 0 ? t : 0;
}

int delivery_wait(struct delivery *d, struct pollfd *extra, int nextra, int timeout_ms)
{
    int64_t t = delivery_timeout_ms(d);
    if (timeout_ms >= 0 && (t < 0 || timeout_ms < t))
        t = timeout_ms;
    int ti = t > INT_MAX ? INT_MAX : (int)t;
    if (d->http)
        return http_wait(d->http, extra, nextra, ti);
    int r = poll(extra, (nfds_t)nextra, ti);
    if (r < 0) {
        for (int i = 0; i < nextra; i++)
            extra[i].revents = 0;
        if (errno != EINTR)
            return error("cannot wait for events: %s", strerror(errno));
    }
    return 0;
}

void delivery_perform(struct delivery *d)
{
    int64_t now = d->opt.clock();
    run_settles(d, now);
    run_timers(d, now);
    dispatch(d, now);
    if (!d->http)
        return;
    http_perform(d->http);
    /* Answers free slots and may make retries due: fill the slots now
     * rather than a poll later. */
    now = d->opt.clock();
    run_settles(d, now);
    run_timers(d, now);
    dispatch(d, now);
}

void delivery_counts(const struct delivery *d, size_t channel_index,
                     struct delivery_counts *out)
{
    if (channel_index < d->nchans && d->chans[channel_index])
        *out = d->chans[channel_index]->counts;
    else
        memset(out, 0, sizeof(*out));
}

int delivery_endpoint_disabled(const struct delivery *d, size_t channel_index,
                               size_t endpoint_index)
{
    if (channel_index >= d->nchans || !d->chans[channel_index])
        return 0;
    return endpoint_disabled(d->chans[channel_index], endpoint_index);
}
