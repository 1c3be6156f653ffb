/*
 * runner_fanout.c - large fan-outs, journaled and handed to the delivery
 * engine a part at a time (see runner_internal.h).
 *
 * A step that notifies more than FANOUT_CHUNK endpoints in all fires with
 * every channel's first FANOUT_FIRST endpoints journaled (runner.c,
 * handle_fire); the rest waits here, and the loop journals up to
 * FANOUT_CHUNK more in each iteration that fired no step, committing them
 * before their requests go out.  Three limits keep a fan-out from getting
 * in anyone's way:
 *   - time: a chunk stops every FANOUT_SLICE endpoints once a step falls
 *     due, so a step waits for at most that many inserts;
 *   - memory, globally: the engine is fed only while fewer than
 *     FANOUT_WINDOW notifications wait in its ready queue, which backs up
 *     only while every connection it allows is in use;
 *   - memory, per host: an endpoint whose host already has
 *     FANOUT_HOST_BACKLOG notifications waiting for a connection (behind
 *     its per-host cap: it hangs, answers slowly, or simply has thousands
 *     of endpoints in the list), or FANOUT_HOST_RETRYING waiting to retry
 *     (it fails), is passed over and held, as an index, until the host is
 *     down to half the first and under the second; the endpoints after it
 *     go ahead.  So such a host holds back no other host's endpoints, and
 *     holds a bounded number of notifications itself.  Retries have the
 *     larger allowance because they wait for seconds, not for a
 *     connection: counted in the backlog, the few failing endpoints of a
 *     host would throttle its healthy ones.
 * Notifications held by a channel's rate limit are not counted: they wait
 * by design, and a rate-limited channel's fan-out reaches the engine whole.
 * Fan-outs are worked oldest first; one whose rest is held does not hold
 * back the ones queued after it.  Resume completes a fan-out a stop cut
 * short (runner_resume.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/delivery.h"
#include "crisisrun/sched.h"
#include "crisisrun/util.h"
#include "runner_internal.h"

#define FANOUT_CHUNK 256        /* endpoints journaled a loop iteration */
#define FANOUT_SLICE 32         /* endpoints between two looks at the clock */
#define FANOUT_WINDOW 128       /* notifications waiting for any connection */
#define FANOUT_HOST_BACKLOG 256 /* ... for one host's; refilled from half */
#define FANOUT_HOST_RETRYING 2048 /* waiting to retry, one host's */
#define FANOUT_LOOKAHEAD 4096   /* endpoints passed over a loop iteration */

/* Endpoints [from, to) of a fan-out's channel slot, held for a host. */
struct held_range {
    size_t slot, from, to;
};

/* A host's held endpoints, in list order: v[head..n). */
struct fanout_held {
    struct delivery_host *host;
    struct held_range *v;
    size_t head, n, alloc;
};

struct fanout *fanout_new(const char *step, int occurrence, size_t n)
{
    struct fanout *fo = xcalloc(1, sizeof(*fo));
    fo->step = xstrdup(step);
    fo->occurrence = occurrence;
    fo->n = n;
    fo->channels = xcalloc(n ? n : 1, sizeof(*fo->channels));
    fo->outs = xcalloc(n ? n : 1, sizeof(*fo->outs));
    fo->from = xcalloc(n ? n : 1, sizeof(*fo->from));
    fo->to = xcalloc(n ? n : 1, sizeof(*fo->to));
    fo->skip = xcalloc(n ? n : 1, sizeof(*fo->skip));
    return fo;
}

void fanout_free(struct fanout *fo)
{
    for (size_t i = 0; i < fo->n; i++) {
        if (fo->outs[i])
            outgoing_unref(fo->outs[i]);
        free(fo->skip[i]);
    }
    for (size_t i = 0; i < fo->nheld; i++)
        free(fo->held[i].v);
    free(fo->held);
    free(fo->skip);
    free(fo->outs);
    free(fo->channels);
    free(fo->from);
    free(fo->to);
    free(fo->step);
    free(fo);
}

void runner_queue_fanout(struct runner *r, struct fanout *fo)
{
    struct fanout **tail = &r->fanouts;
    while (*tail)
        tail = &(*tail)->next;
    *tail = fo;
}

int runner_fanout_wanted(const struct runner *r, const size_t *notify, size_t nnotify)
{
    size_t total = 0;
    for (size_t i = 0; i < nnotify; i++)
        total += r->pb->channels[notify[i]].urls.n;
    return total > FANOUT_CHUNK;
}

/* This iteration's notifications to each host, not yet in the engine's
 * count (they are handed over after the commit). */
struct tally {
    struct delivery_host *host[FANOUT_CHUNK];
    size_t n[FANOUT_CHUNK];
    size_t len;
};

/* h's slot in t, or t->len when it has none. */
static size_t tally_find(const struct tally *t, const struct delivery_host *h)
{
    size_t i = t->len;
    while (i-- > 0)
        if (t->host[i] == h)
            return i;
    return t->len;
}

static size_t tally_get(const struct tally *t, const struct delivery_host *h)
{
    size_t i = tally_find(t, h);
    return i < t->len ? t->n[i] : 0;
}

static void tally_add(struct tally *t, struct delivery_host *h, size_t n)
{
    size_t i = tally_find(t, h);
    if (i == t->len) {
        /* At most FANOUT_CHUNK endpoints are journaled a call: room enough. */
        if (t->len == FANOUT_CHUNK)
            return;
        t->host[t->len] = h;
        t->n[t->len++] = 0;
    }
    t->n[i] += n;
}

/* How many more of h's endpoints may be journaled now. */
static size_t host_room(const struct tally *t, struct delivery_host *h)
{
    if (!h)
        return SIZE_MAX; /* no host: settled at once, without a request */
    if (delivery_host_retrying(h) >= FANOUT_HOST_RETRYING)
        return 0;
    size_t have = delivery_host_waiting(h) + tally_get(t, h);
    return have < FANOUT_HOST_BACKLOG ? FANOUT_HOST_BACKLOG - have : 0;
}

/* Holds endpoint e of slot c for host h. */
static void hold(struct fanout *fo, struct delivery_host *h, size_t c, size_t e)
{
    struct fanout_held *g = NULL;
    for (size_t i = 0; i < fo->nheld && !g; i++)
        if (fo->held[i].host == h)
            g = &fo->held[i];
    if (!g) {
        ALLOC_GROW(fo->held, fo->nheld + 1, fo->held_alloc);
        g = &fo->held[fo->nheld++];
        memset(g, 0, sizeof(*g));
        g->host = h;
    }
    if (g->n > g->head && g->v[g->n - 1].slot == c && g->v[g->n - 1].to == e) {
        g->v[g->n - 1].to = e + 1;
        return;
    }
    ALLOC_GROW(g->v, g->n + 1, g->alloc);
    g->v[g->n++] = (struct held_range){.slot = c, .from = e, .to = e + 1};
}

/* Whether the loop should stop journaling: out of budget, or a step due. */
static int must_stop(const struct runner *r, size_t budget)
{
    return !budget || sched_next_time(r->sched) <= runner_offset(r);
}

/* Journals [from, to) of slot c; -1 on a journal error. */
static int journal_range(struct runner *r, struct fanout *fo, size_t c, size_t from, size_t to)
{
    return runner_notify_endpoints(r, fo->channels[c], fo->step, fo->occurrence, fo->outs[c],
                                   from, to, fo->skip[c]);
}

/*
 * Journals held endpoints of fo whose host has room again, in list order
 * a host.  Returns 1 when it stopped for the budget or a due step (or a
 * journal error), 0 when it did what it could.
 */
static int work_held(struct runner *r, struct fanout *fo, struct tally *t, size_t *budget)
{
    for (size_t i = 0; i < fo->nheld;) {
        struct fanout_held *g = &fo->held[i];
        size_t room;
        while (g->head < g->n && (room = host_room(t, g->host)) > 0) {
            if (must_stop(r, *budget))
                return 1;
            struct held_range *hr = &g->v[g->head];
            size_t k = hr->to - hr->from;
            if (k > room)
                k = room;
            if (k > *budget)
                k = *budget;
            if (k > FANOUT_SLICE)
                k = FANOUT_SLICE;
            if (journal_range(r, fo, hr->slot, hr->from, hr->from + k) < 0)
                return 1;
            tally_add(t, g->host, k);
            *budget -= k;
            hr->from += k;
            if (hr->from == hr->to)
                g->head++;
        }
        if (g->head == g->n) {
            free(g->v);
            fo->held[i] = fo->held[--fo->nheld];
            continue;
        }
        i++;
    }
    return 0;
}

/*
 * Walks fo's endpoints not yet looked at: journals those whose host has
 * room, holds the others.  Returns 1 when it stopped for the budget, the
 * look-ahead, a due step (or a journal error), 0 at the end of the list.
 */
static int work_list(struct runner *r, struct fanout *fo, struct tally *t, size_t *budget,
                     size_t *looks)
{
    while (fo->cur < fo->n) {
        size_t c = fo->cur;
        if (!fo->outs[c] || fo->from[c] >= fo->to[c]) {
            fo->cur++;
            continue;
        }
        const struct channel *ch = &r->pb->channels[fo->channels[c]];
        /* Up to FANOUT_SLICE endpoints looked at: the runs of them whose
         * host has room journaled together, the others held. */
        size_t e = fo->from[c], end = e, seen = 0;
        char url[URL_BUF_SIZE];
        while (end < fo->to[c] && seen++ < FANOUT_SLICE && end - e < *budget) {
            struct delivery_host *h = NULL;
            if (!(fo->skip[c] && fo->skip[c][end])) /* else journaled before */
                h = delivery_host(r->d, url_list_get(&ch->urls, end, url));
            if (host_room(t, h) > 0) {
                if (h)
                    tally_add(t, h, 1);
                end++;
                continue;
            }
            if (!*looks)
                break;
            (*looks)--;
            if (end > e && journal_range(r, fo, c, e, end) < 0)
                return 1;
            *budget -= end - e;
            hold(fo, h, c, end);
            e = ++end;
        }
        if (end > e) {
            if (journal_range(r, fo, c, e, end) < 0)
                return 1;
            *budget -= end - e;
        }
        fo->from[c] = end;
        if (must_stop(r, *budget) || !*looks)
            return 1;
    }
    return 0;
}

/*
 * Journals up to FANOUT_CHUNK endpoints of the queued fan-outs, oldest
 * first: held ones whose host has room, then the list onwards.  The loop
 * calls it once an iteration, after the due steps, and not at all in an
 * iteration that fired one: their own (small) notifications are committed
 * and handed to the engine first.  It stops early when a step falls due
 * meanwhile, so that a step waits for at most FANOUT_SLICE inserts.  What
 * it journals is committed and handed to the engine before the next call.
 */
void runner_fanout_work(struct runner *r)
{
    struct tally t;
    t.len = 0;
    size_t budget = FANOUT_CHUNK, looks = FANOUT_LOOKAHEAD;
    for (struct fanout **link = &r->fanouts; *link;) {
        struct fanout *fo = *link;
        if (work_held(r, fo, &t, &budget) || work_list(r, fo, &t, &budget, &looks))
            return;
        if (fo->nheld) { /* the rest waits for its hosts */
            link = &fo->next;
            continue;
        }
        *link = fo->next;
        fanout_free(fo);
    }
}

/*
 * Whether runner_fanout_work() has something to do: the engine's ready
 * queue has room, and a fan-out has endpoints not yet looked at, or held
 * ones whose host has room now.
 */
int runner_fanout_ready(const struct runner *r)
{
    if (!r->fanouts || delivery_waiting(r->d) + r->nsubmits >= FANOUT_WINDOW)
        return 0;
    for (const struct fanout *fo = r->fanouts; fo; fo = fo->next) {
        if (fo->cur < fo->n)
            return 1;
        /* Refilled in batches, not one endpoint an answer. */
        for (size_t i = 0; i < fo->nheld; i++) {
            const struct delivery_host *h = fo->held[i].host;
            if (delivery_host_waiting(h) <= FANOUT_HOST_BACKLOG / 2 &&
                delivery_host_retrying(h) < FANOUT_HOST_RETRYING)
                return 1;
        }
    }
    return 0;
}

int runner_fanout_timeout(const struct runner *r, int timeout)
{
    /* Otherwise only the engine's progress (which wakes the loop) can make
     * room. */
    return runner_fanout_ready(r) ? 0 : timeout;
}
