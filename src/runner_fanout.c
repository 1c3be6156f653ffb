/*
 * runner_fanout.c - large fan-outs, journaled and handed to the delivery
 * engine a chunk at a time (see runner_internal.h).
 *
 * A step that notifies more than FANOUT_CHUNK endpoints in all fires with
 * every channel's first endpoint journaled (runner.c, handle_fire); the
 * rest waits here, FIFO among fan-outs, and the loop journals the next
 * chunk in each iteration that fired no step, committing it before its
 * requests go out.  Two limits keep a fan-out from getting in anyone's
 * way:
 *   - time: a chunk stops every FANOUT_SLICE endpoints once a step falls
 *     due, so a step waits for at most that many inserts;
 *   - memory: the engine is fed only while fewer than FANOUT_WINDOW of its
 *     notifications wait for a connection to make their first attempt,
 *     not counting those of a host that has stalled (no request of its
 *     started or answered for FANOUT_STALL_MS), so that endpoints queued
 *     behind a host that hangs do not hold back the ones after them.  A
 *     host that answers, however slowly, keeps its queue counted: the
 *     bound holds.  It does not hold for a host whose answers all take
 *     longer than FANOUT_STALL_MS (it looks stalled in between), nor for a
 *     rate-limited channel, whose queue waits by design and is not
 *     counted: those fan-outs reach the engine whole.
 * Resume completes a fan-out a stop cut short (runner_resume.c).
 */
#include <stdlib.h>

#include "crisisrun/delivery.h"
#include "crisisrun/sched.h"
#include "crisisrun/util.h"
#include "runner_internal.h"

#define FANOUT_CHUNK 256    /* endpoints journaled a loop iteration */
#define FANOUT_SLICE 32     /* endpoints between two looks at the clock */
#define FANOUT_WINDOW 128   /* notifications waiting in the engine */
#define FANOUT_STALL_MS 500 /* ... not counting a host silent this long */

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
        total += r->pb->channels[notify[i]].nurls;
    return total > FANOUT_CHUNK;
}

/*
 * The engine is fed only while fewer than FANOUT_WINDOW of its
 * notifications wait for a connection: a fan-out to 100,000
 * endpoints that answer costs the memory of a few hundred (those waiting,
 * a chunk, those in flight), not of all of them, and the journal's inserts
 * interleave with the sending.
 * Notifications queued behind the per-host cap of a host that has stalled
 * do not count: the endpoints after them in the list go ahead instead of
 * waiting for their timeouts.
 */
int runner_fanout_ready(const struct runner *r)
{
    return r->fanouts &&
           delivery_waiting(r->d, FANOUT_STALL_MS) + r->nsubmits < FANOUT_WINDOW;
}

/*
 * Journals the next FANOUT_CHUNK endpoints of the queued fan-outs, oldest
 * first.  The loop calls it once an iteration, after the due steps, and not
 * at all in an iteration that fired one: their own (small) notifications
 * are committed and handed to the engine first.  It stops early when a
 * step falls due meanwhile, so that a step waits for at most FANOUT_SLICE
 * inserts.  Every chunk is committed and handed to the engine before the
 * next one is journaled.
 */
void runner_fanout_work(struct runner *r)
{
    size_t budget = FANOUT_CHUNK;
    while (r->fanouts) {
        struct fanout *fo = r->fanouts;
        while (fo->cur < fo->n) {
            size_t c = fo->cur;
            if (!fo->outs[c] || fo->from[c] >= fo->to[c]) {
                fo->cur++;
                continue;
            }
            if (!budget || sched_next_time(r->sched) <= runner_offset(r))
                return;
            size_t slice = budget < FANOUT_SLICE ? budget : FANOUT_SLICE;
            size_t to = fo->to[c] - fo->from[c] < slice ? fo->to[c] : fo->from[c] + slice;
            if (runner_notify_endpoints(r, fo->channels[c], fo->step, fo->occurrence,
                                        fo->outs[c], fo->from[c], to, fo->skip[c]) < 0)
                return;
            budget -= to - fo->from[c];
            fo->from[c] = to;
        }
        r->fanouts = fo->next;
        fanout_free(fo);
    }
}

int runner_fanout_timeout(const struct runner *r, int timeout)
{
    if (runner_fanout_ready(r))
        return 0; /* the next chunk, after a look at the network */
    if (r->fanouts && timeout > FANOUT_STALL_MS / 4)
        return FANOUT_STALL_MS / 4; /* a host may stall meanwhile */
    return timeout;
}
