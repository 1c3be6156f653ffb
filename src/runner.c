/*
 * runner.c - the run loop (see runner.h).
 *
 * The loop, once per iteration, inside one journal batch:
 *   1. the engine reports the outcomes of finished requests (attempts,
 *      settled notifications) and the control API serves every request
 *      that has arrived;
 *   2. every step occurrence due on the run's clock is popped and
 *      journaled: the fired event, status changes, acknowledgement waits
 *      and, per channel, one rendered message and its notifications; a
 *      fan-out of many endpoints journals its first notification per
 *      channel now and the rest a chunk an iteration afterwards
 *      (runner_fanout.c), so steps due meanwhile are not held up, and
 *      resume completes a fan-out a crash cut short;
 *   3. the batch commits, and only then are the new notifications handed
 *      to the engine and the operator's actions answered;
 *   4. delivery_wait() waits for the network, the control server, the
 *      signal pipe or the next timer, whichever is first.
 * While only outcomes of requests already sent arrive, a batch may stay
 * open across iterations for up to BATCH_MS, so a fan-out's thousands of
 * outcomes cost a few hundred commits.
 * Deliberate choice: a notification stays `pending` in the journal until
 * its first attempt ends (then retrying, delivered or failed); a request
 * on the wire is not journaled as such.  Resume re-sends every unsettled
 * notification with its webhook-id, which is what DESIGN.md promises for
 * requests that were in flight, and batching keeps a 10,000-endpoint
 * fan-out to a few commits.
 */
#include "crisisrun/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisisrun/control.h"
#include "crisisrun/delivery.h"
#include "crisisrun/diag.h"
#include "crisisrun/duration.h"
#include "crisisrun/journal.h"
#include "crisisrun/liveview.h"
#include "crisisrun/loader.h"
#include "crisisrun/message.h"
#include "crisisrun/provider.h"
#include "crisisrun/runmeta.h"
#include "runner_internal.h"
#include "crisisrun/sched.h"
#include "crisisrun/utf8.h"

#define REDRAW_MS 250      /* live screen refresh */
#define BATCH_MS 20        /* longest a journal batch stays open */
/* The most new notifications in a batch the loop commits itself. */
#define COMMIT_HERE_MAX 16
_Static_assert(FANOUT_FIRST <= COMMIT_HERE_MAX, "a fan-out's step commits in the loop");
#define CHECKPOINT_PAGES 1000     /* WAL pages worth a checkpoint (SQLite's default) */
#define CHECKPOINT_MAX_PAGES 4000 /* ... and checkpointed whatever is due (16 MiB) */
#define CHECKPOINT_US_PER_PAGE 10 /* a checkpoint's cost until one is timed */
#define CHECKPOINT_MIN_QUIET_MS 5 /* no step due this soon, however fast */

static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    int saved = errno;
    stop_signal = sig;
    if (signal_pipe[1] >= 0) {
        ssize_t w = write(signal_pipe[1], "x", 1);
        (void)w;
    }
    errno = saved;
}

/*
 * Ctrl-Z in the runner's terminal halts the run: no update goes out, no
 * command is answered, no escalation fires, and nothing said so.  The
 * handler says it, then stops the process as the default action would:
 * with that action back and SIGTSTP unblocked, raise() stops it right
 * there, and once continued the handler is put back and says so too
 * (steps that came due meanwhile go out at once, as after a resume).
 * Only async-signal-safe calls; the lines are formatted beforehand.
 */
static char tstp_line[160], cont_line[96];
static size_t tstp_len, cont_len;
static int tstp_caught; /* 0 when SIGTSTP was ignored at start: left so */

static void on_tstp(int sig)
{
    int saved = errno;
    ssize_t w = write(STDERR_FILENO, tstp_line, tstp_len);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTSTP, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    /* Continued (or never stopped: a process group without a terminal's
     * job control discards the stop). */
    sigprocmask(SIG_BLOCK, &set, NULL);
    sa.sa_handler = on_tstp;
    sigaction(SIGTSTP, &sa, NULL);
    w = write(STDERR_FILENO, cont_line, cont_len);
    (void)w;
    errno = saved;
}

static int setup_signals(void)
{
    if (pipe(signal_pipe) < 0)
        return error("cannot create the signal pipe: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        fcntl(signal_pipe[i], F_SETFL, fcntl(signal_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(signal_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A pid has at most 19 digits: the line fits, never cut short. */
    snprintf(
        tstp_line, sizeof(tstp_line),
        "crisisrun: suspended: the run sends nothing and answers no command until it "
        "is continued ('fg', or 'kill -CONT %lld')\n",
        (long long)getpid());
    tstp_len = strlen(tstp_line);
    snprintf(cont_line, sizeof(cont_line),
             "crisisrun: continued: what came due meanwhile goes out now\n");
    cont_len = strlen(cont_line);
    /* A SIGTSTP ignored by whoever started us (a supervisor that keeps
     * its children running) stays ignored, as shells leave it. */
    struct sigaction old;
    tstp_caught = sigaction(SIGTSTP, NULL, &old) == 0 && old.sa_handler != SIG_IGN;
    if (tstp_caught) {
        sa.sa_handler = on_tstp;
        sigaction(SIGTSTP, &sa, NULL);
    }
    return 0;
}

static void teardown_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (tstp_caught)
        signal(SIGTSTP, SIG_DFL);
    for (int i = 0; i < 2; i++) {
        if (signal_pipe[i] >= 0)
            close(signal_pipe[i]);
        signal_pipe[i] = -1;
    }
}

/* ---- clocks ----------------------------------------------------------------- */

int64_t runner_offset(const struct runner *r)
{
    return r->offset_base + (int64_t)((double)(monotonic_ms() - r->mono_base) * r->speed);
}

int64_t runner_wall(const struct runner *r, int64_t offset)
{
    return r->run.started_ms + offset;
}

/* Real milliseconds until the run's clock reaches offset (0 if passed). */
static int64_t real_ms_until(const struct runner *r, int64_t offset)
{
    int64_t now = runner_offset(r);
    if (offset <= now)
        return 0;
    double ms = ceil((double)(offset - now) / r->speed);
    return ms > 1e9 ? 1000000000 : (int64_t)ms;
}

/* ---- journal helpers ------------------------------------------------------------ */

/* Journals an event at at_ms, on the run's clock. */
static int event_at(struct runner *r, int64_t at_ms, enum journal_event_kind kind,
                    const char *step, int occurrence, json_t *detail, const char *actor)
{
    char *dj = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    struct journal_event ev = {
        .at_ms = at_ms,
        .kind = kind,
        .step = (char *)step,
        .occurrence = occurrence,
        .detail_json = dj,
        .actor = (char *)actor,
    };
    int ret = journal_event_add(r->j, r->run.id, &ev);
    free(dj);
    json_decref(detail);
    if (ret < 0)
        r->journal_failed = 1;
    return ret;
}

/* Journals an event at the run's current time. */
int runner_event(struct runner *r, enum journal_event_kind kind, const char *step,
                 int occurrence, json_t *detail, const char *actor)
{
    return event_at(r, runner_wall(r, runner_offset(r)), kind, step, occurrence, detail,
                    actor);
}

const char *runner_os_user(void)
{
    static char name[64];
    if (!name[0]) {
        struct passwd *pw = getpwuid(getuid());
        snprintf(name, sizeof(name), "%s", pw ? pw->pw_name : "unknown");
    }
    return name;
}

/* ---- notifications ----------------------------------------------------------------- */

struct pending_submit {
    struct notif *n;
};

static void queue_submit(struct runner *r, struct notif *n)
{
    ALLOC_GROW(r->submits, r->nsubmits + 1, r->asubmits);
    r->submits[r->nsubmits++] = n;
}

static void notif_free(struct notif *n);

/*
 * Hands the first count notifications queued, whose batch has committed,
 * to the engine.
 */
static void flush_submits(struct runner *r, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        struct notif *n = r->submits[i];
        if (n->existed) {
            /* Journaled before (a step replayed after resume): resume
             * re-sends it from the journal if it is unsettled. */
            notif_free(n);
            continue;
        }
        const struct channel *ch = &r->pb->channels[n->channel];
        struct delivery_request req = {
            .notification_id = n->id,
            .channel = ch,
            .channel_index = n->channel,
            .endpoint_index = n->endpoint,
            .url = NULL,
            .msg = &n->out->msg,
            .body = n->out->body,
            .len = n->out->len,
            .body_release = outgoing_release,
            .body_owner = n->out,
            .provider = provider_for(ch->type),
            .attempt = n->attempt,
            .not_before = n->not_before,
            .hold_channel = n->hold_channel,
            .tag = n,
        };
        /* The engine holds the message's body (one for every endpoint)
         * until the notification settles. */
        delivery_submit(r->d, &req);
        r->live[n->channel].pending++;
        n->out = NULL;
    }
    r->nsubmits -= count;
    if (r->nsubmits)
        memmove(r->submits, r->submits + count, r->nsubmits * sizeof(*r->submits));
}

struct notif *notif_new(struct runner *r, size_t channel, size_t endpoint)
{
    struct notif *n = xcalloc(1, sizeof(*n));
    n->runner = r;
    n->channel = channel;
    n->endpoint = endpoint;
    n->attempt = 1;
    n->next = r->notifs;
    if (r->notifs)
        r->notifs->prev = n;
    r->notifs = n;
    return n;
}

static void notif_free(struct notif *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        n->runner->notifs = n->next;
    if (n->next)
        n->next->prev = n->prev;
    outgoing_unref(n->out);
    free(n->error);
    free(n);
}

/* The message to every endpoint of channel ch, rendered once: a
 * 10,000-endpoint fan-out is one render, not ten thousand. */
static struct outgoing *channel_message(struct runner *r, size_t ch, const char *step,
                                        const char *text, enum run_status status,
                                        const char *next_update, const char *next_iso)
{
    const struct channel *c = &r->pb->channels[ch];
    const struct provider *p = provider_for(c->type);
    char ts[40];
    iso8601_format(runner_wall(r, runner_offset(r)), ts, sizeof(ts));
    struct provider_message msg = {
        .text = text,
        .title = r->pb->title,
        .playbook = r->pb->name,
        .severity = r->pb->severity ? r->pb->severity : "",
        .status = status,
        .step = step,
        .run_id = r->run.id,
        .notification_id = "",
        .next_update = next_update ? next_update : "",
        .next_update_iso = next_iso ? next_iso : "",
        .timestamp_iso = ts,
        .drill = r->drill,
    };
    return outgoing_new(p->render(&msg), &msg);
}

/*
 * Journals endpoints [from, to) of channel ch with message out and queues
 * them for the engine, except those skip marks (MAY be NULL).  `step` and
 * `occurrence` name the notification (with channel and endpoint they make
 * its stable id).
 */
int runner_notify_endpoints(struct runner *r, size_t ch, const char *step, int occurrence,
                            struct outgoing *out, size_t from, size_t to,
                            const unsigned char *skip)
{
    const struct channel *c = &r->pb->channels[ch];
    int64_t now = runner_offset(r);
    int ret = 0;
    int feedback = !strcmp(step, MESSAGE_FEEDBACK_STEP);
    char url[URL_BUF_SIZE];
    /* One body row for every endpoint of the message, journaled with the
     * first chunk of them. */
    if (from < to && !out->body_id &&
        journal_body_add(r->j, r->run.id, out->body, &out->body_id) < 0) {
        r->journal_failed = 1;
        return -1;
    }
    for (size_t e = from; e < to; e++) {
        if (skip && skip[e])
            continue;
        struct notif *n = notif_new(r, ch, e);
        n->feedback_request = feedback;
        int disabled = runner_endpoint_disabled(r, ch, e);
        struct journal_notification_new nn = {
            .run_id = r->run.id,
            .id_scheme = r->run.id_scheme,
            .step = step,
            .occurrence = occurrence,
            .channel = c->name,
            .endpoint_index = (int)e,
            .endpoint_url = url_list_get(&c->urls, e, url),
            .body = out->body,
            .body_id = out->body_id,
            .created_ms = runner_wall(r, now),
            .due_ms = runner_wall(r, now),
            /* Journaled with the batch's commit, on the writer thread:
             * flush_submits() drops it if it existed.  A disabled
             * endpoint's is settled at once, below, so it is written now. */
            .existed = disabled ? NULL : &n->existed,
        };
        int added = journal_notification_add(r->j, &nn, n->id);
        if (added != 0) {
            /* 1: already journaled (a step replayed after resume): resume
             * re-sends it from the journal if it is unsettled. */
            if (added < 0) {
                r->journal_failed = 1;
                ret = -1;
            }
            notif_free(n);
            if (added < 0)
                break;
            continue;
        }
        if (disabled) {
            /* It answered 410 earlier in the run (before a resume, too):
             * no request, settled as the engine would settle it. */
            if (journal_notification_set_state(r->j, n->id, DELIVERY_DISABLED,
                                               runner_wall(r, now), 0) < 0) {
                r->journal_failed = 1;
                ret = -1;
            }
            r->live[ch].failed++;
            notif_free(n);
            continue;
        }
        n->out = out;
        out->refs++;
        queue_submit(r, n);
    }
    return ret;
}

/* Journals and queues one message to every endpoint of channel ch. */
int runner_notify_channel(struct runner *r, size_t ch, const char *step, int occurrence,
                          const char *text, enum run_status status,
                          const char *next_update, const char *next_iso,
                          struct fanout *fo, size_t slot)
{
    struct outgoing *out = channel_message(r, ch, step, text, status, next_update, next_iso);
    size_t n = r->pb->channels[ch].urls.n;
    size_t with_step = fo && n > FANOUT_FIRST ? FANOUT_FIRST : n;
    int ret = runner_notify_endpoints(r, ch, step, occurrence, out, 0, with_step, NULL);
    if (!fo) {
        outgoing_unref(out);
        return ret;
    }
    /* Rendered now, as of its firing, for every part. */
    fo->channels[slot] = ch;
    fo->outs[slot] = out;
    fo->from[slot] = with_step;
    fo->to[slot] = n;
    return ret;
}

void runner_disable_endpoint(struct runner *r, size_t ch, size_t endpoint)
{
    const struct channel *c = &r->pb->channels[ch];
    if (endpoint >= c->urls.n)
        return;
    if (!r->disabled)
        r->disabled = xcalloc(r->pb->nchannels, sizeof(*r->disabled));
    if (!r->disabled[ch])
        r->disabled[ch] = xcalloc(c->urls.n, 1);
    r->disabled[ch][endpoint] = 1;
}

int runner_endpoint_disabled(const struct runner *r, size_t ch, size_t endpoint)
{
    return r->disabled && r->disabled[ch] && r->disabled[ch][endpoint];
}

struct outgoing *outgoing_new(char *body, const struct provider_message *msg)
{
    struct outgoing *o = xcalloc(1, sizeof(*o));
    o->refs = 1;
    o->body = body;
    o->len = strlen(body);
    o->msg = *msg;
    /* Copy the strings the message points to: the engine reads them in
     * delivery_submit (request_url), after the caller's buffers are gone. */
    const char **f[] = {&o->msg.text, &o->msg.title, &o->msg.playbook, &o->msg.severity,
                        &o->msg.step, &o->msg.run_id, &o->msg.notification_id,
                        &o->msg.next_update, &o->msg.next_update_iso, &o->msg.timestamp_iso};
    size_t total = 0;
    for (size_t i = 0; i < ARRAY_SIZE(f); i++)
        total += strlen(*f[i]) + 1;
    char *q = o->strings = xmalloc(total);
    for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
        size_t len = strlen(*f[i]) + 1;
        *f[i] = memcpy(q, *f[i], len);
        q += len;
    }
    return o;
}

void outgoing_release(void *o)
{
    outgoing_unref(o);
}

void outgoing_unref(struct outgoing *o)
{
    if (!o || --o->refs > 0)
        return;
    free(o->body);
    free(o->strings);
    free(o);
}

/* ---- delivery callbacks ----------------------------------------------------------- */

/*
 * A run resumed after its feedback window closed while no process ran it
 * sends no feedback request: each would ask for answers the form refuses
 * (410).  Its attempts are given up, whether resume re-sends one or
 * completes an interrupted fan-out of them.
 *
 * Not while a run is live, deliberately: a drill's window is on its
 * virtual clock while rate limits and retries wait in real time, so at a
 * high --speed a request queued behind a channel's limit would be given up
 * in every short drill; a real run's retries end long before a window of
 * hours.
 */
static const char *on_refuse(void *user, void *tag)
{
    struct runner *r = user;
    const struct notif *n = tag;
    if (n->feedback_request && r->feedback_closed_down)
        return "given up: the feedback window closed before it was delivered";
    return NULL;
}

/*
 * Deliberately no journal write here: the batch of this loop iteration is
 * committed only after the engine has handed the request over, so marking
 * it in flight would protect nothing (pending and in-flight notifications
 * are both re-sent by resume, with the same id), and it was a sixth of the
 * journal's cost in a fan-out.  The attempt is journaled when it ends.
 */
static void on_attempt_start(void *user, void *tag, int attempt, int64_t wall_ms)
{
    struct runner *r = user;
    struct notif *n = tag;
    (void)wall_ms;
    n->attempt = attempt;
    n->attempt_started = runner_wall(r, runner_offset(r));
}

static void on_attempt_done(void *user, void *tag, const struct delivery_attempt *a)
{
    struct runner *r = user;
    struct notif *n = tag;
    int64_t now = runner_wall(r, runner_offset(r));
    struct journal_attempt ja = {
        .number = a->attempt,
        .started_ms = n->attempt_started ? n->attempt_started : now,
        .finished_ms = now,
        .http_status = (int)a->status,
        .latency_ms = a->latency_ms,
        .outcome = a->result == DELIVERY_OK      ? ATTEMPT_DELIVERED
                   : a->retry_at >= 0            ? ATTEMPT_RETRY
                                                 : ATTEMPT_FAILED,
        .error = (char *)a->error,
    };
    memcpy(ja.notification_id, n->id, sizeof(ja.notification_id));
    if (a->retry_at < 0 && a->result != DELIVERY_GONE) {
        /* on_settled follows with the same result: journal the settled
         * state with the attempt, one write instead of two.  A 410 is
         * settled there, with every other notification to the endpoint. */
        ja.settles = a->result == DELIVERY_OK ? DELIVERY_DELIVERED : DELIVERY_FAILED;
        n->settle_journaled = 1;
        /* For the live view's "failed" line (on_settled). */
        if (a->result != DELIVERY_OK && a->error && !n->error)
            n->error = xstrdup(a->error);
    }
    if (journal_attempt_add(r->j, &ja) < 0)
        r->journal_failed = 1;
    if (a->result == DELIVERY_GONE)
        n->answered_gone = 1;
    if (a->retry_at >= 0) {
        int64_t due = now + (int64_t)((double)(a->retry_at - monotonic_ms()) * r->speed);
        if (journal_notification_set_state(r->j, n->id, DELIVERY_PENDING, now, due) < 0)
            r->journal_failed = 1;
        if (!n->retrying) {
            n->retrying = 1;
            r->live[n->channel].retrying++;
        }
        const struct channel *c = &r->pb->channels[n->channel];
        char url[URL_BUF_SIZE];
        char *ep = url_redact(url_list_get(&c->urls, n->endpoint, url));
        liveview_event(&r->lv, now, "retry %s -> %s (%s): %s, attempt %d", n->id + 4, c->name,
                       ep, a->error ? a->error : "failed", a->attempt);
        free(ep);
    }
}

static void on_settled(void *user, void *tag, enum delivery_result result)
{
    struct runner *r = user;
    struct notif *n = tag;
    int64_t now = runner_wall(r, runner_offset(r));
    const struct channel *c = &r->pb->channels[n->channel];
    struct live_channel *lc = &r->live[n->channel];
    if (n->retrying)
        lc->retrying--;
    lc->pending--;
    if (result == DELIVERY_GONE) {
        /* Each notification to a disabled endpoint settles on its own: the
         * engine settles the queued ones without a request, and one that
         * was already on the wire settles with its own answer, so nothing
         * is settled twice. */
        if (journal_notification_set_state(r->j, n->id, DELIVERY_DISABLED, now, 0) < 0)
            r->journal_failed = 1;
    } else {
        enum journal_delivery_state st =
            result == DELIVERY_OK ? DELIVERY_DELIVERED : DELIVERY_FAILED;
        if (!n->settle_journaled &&
            journal_notification_set_state(r->j, n->id, st, now, 0) < 0)
            r->journal_failed = 1;
    }
    if (result == DELIVERY_OK) {
        lc->ok++;
    } else {
        lc->failed++;
        r->failed++;
        char url[URL_BUF_SIZE];
        char *ep = url_redact(url_list_get(&c->urls, n->endpoint, url));
        if (result == DELIVERY_GONE)
            runner_disable_endpoint(r, n->channel, n->endpoint);
        if (result == DELIVERY_GONE && n->answered_gone) {
            /* One event per endpoint, from the 410 itself: later
             * notifications to it settle without a request. */
            char hash[JOURNAL_ENDPOINT_HASH_LEN + 1];
            journal_endpoint_hash(url, hash);
            runner_event(r, EV_ENDPOINT_DISABLED, NULL, 0,
                         json_pack("{s:s, s:s, s:s}", "channel", c->name, "endpoint", ep,
                                   "endpoint_hash", hash),
                         "runner");
            liveview_event(&r->lv, now, "endpoint %s of %s answered 410: disabled for this run",
                           ep, c->name);
        } else if (result == DELIVERY_GONE) {
            liveview_event(&r->lv, now, "disabled %s -> %s (%s): the endpoint answered 410",
                           n->id + 4, c->name, ep);
        } else {
            liveview_event(&r->lv, now, "failed %s -> %s (%s)%s%s", n->id + 4, c->name,
                           ep, n->error ? ": " : "", n->error ? n->error : "");
        }
        free(ep);
    }
    notif_free(n);
}

/* ---- step occurrences ----------------------------------------------------------------- */

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void announce_fire(struct runner *r, const struct sched_fire *f, const char *step)
{
    char late[48] = "";
    if (f->lateness > 0 && f->late)
        snprintf(late, sizeof(late), " (late by %s)",
                 duration_format(f->lateness, (char[32]){0}, 32));
    struct strbuf chans = STRBUF_INIT;
    const size_t *notify = f->step == SCHED_FEEDBACK ? r->pb->feedback.notify
                                                     : r->pb->steps[f->step].notify;
    size_t nn = f->step == SCHED_FEEDBACK ? r->pb->feedback.nnotify
                                          : r->pb->steps[f->step].nnotify;
    for (size_t i = 0; i < nn; i++)
        strbuf_addf(&chans, "%s%s", i ? ", " : " -> ", r->pb->channels[notify[i]].name);
    liveview_event(&r->lv, runner_wall(r, f->fired), "step %s #%d [%s]%s%s", step,
                   f->occurrence, run_status_name(f->status), strbuf_str(&chans), late);
    strbuf_release(&chans);
}

/* The feedback link of a channel: PUBLIC_URL/feedback/TOKEN (new string). */
static char *feedback_link(struct runner *r, size_t ch)
{
    char token[JOURNAL_FEEDBACK_TOKEN_LEN + 1];
    const struct channel *c = &r->pb->channels[ch];
    if (journal_feedback_token(r->j, r->run.id, c->name, c->audience,
                               runner_wall(r, runner_offset(r)), token) < 0) {
        r->journal_failed = 1;
        return xstrdup("");
    }
    const char *base = r->public_url ? r->public_url : "";
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    return xasprintf("%.*s/feedback/%s", (int)bl, base, token);
}

static void handle_fire(struct runner *r, const struct sched_fire *f)
{
    const struct playbook *pb = r->pb;
    const char *step = message_step_name(pb, f->step);
    const struct step *s = f->step == SCHED_FEEDBACK ? NULL : &pb->steps[f->step];
    const char *cause = sched_cause_name(f->cause);
    const size_t *notify = s ? s->notify : pb->feedback.notify;
    size_t nnotify = s ? s->nnotify : pb->feedback.nnotify;

    /*
     * A large fan-out is journaled in chunks, one a loop iteration
     * (runner_fanout_work), so that the steps due meanwhile are not kept
     * waiting for thousands of INSERTs.  Everything else about the occurrence,
     * its step_fired event first, is journaled now, in this batch: the
     * scheduler has applied its effects (status, after: dependents, ack
     * deadline) and the steps popped before the last chunk see them, so
     * the journal must show them in that order too.  With the event go
     * every channel's first endpoints (FANOUT_FIRST), the first of which
     * puts the channel's request body in the journal, and each channel's
     * endpoint count: a run stopped before the last chunk is completed on
     * resume from those (runner_complete_fanouts), with the very bytes the
     * other endpoints got.  Deliberately not "step_fired with the last
     * chunk and re-fire on resume": a resolution journaled in between (by
     * a step or the operator) cancels on replay every timer armed before
     * it, so the occurrence would never fire again and its missing
     * endpoints would be lost; its after: dependents would fire twice.
     */
    struct fanout *fo = NULL;
    json_t *fired = json_pack("{s:I, s:I, s:b, s:i, s:s}", "scheduled_offset_ms",
                              (json_int_t)f->due, "actual_offset_ms", (json_int_t)f->fired,
                              "late", f->late && f->lateness > 0, "skipped", f->skipped,
                              "cause", cause);
    if (runner_fanout_wanted(r, notify, nnotify)) {
        fo = fanout_new(step, f->occurrence, nnotify);
        json_t *counts = json_object();
        for (size_t i = 0; i < nnotify; i++)
            json_object_set_new(counts, pb->channels[notify[i]].name,
                                json_integer((json_int_t)pb->channels[notify[i]].urls.n));
        json_object_set_new(fired, "fanout_endpoints", counts);
    }
    runner_event(r, EV_STEP_FIRED, step, f->occurrence, fired, "runner");
    announce_fire(r, f, step);

    if (f->cause == SCHED_CAUSE_ESCALATION) {
        const char *waiting = pb->steps[f->trigger_step].id;
        if (journal_ack_escalated(r->j, r->run.id, waiting, f->trigger_occurrence,
                                  runner_wall(r, f->fired)) < 0)
            r->journal_failed = 1;
        runner_event(r, EV_ESCALATED, waiting, f->trigger_occurrence,
                     json_pack("{s:s, s:I}", "escalation", step, "waited_ms",
                               (json_int_t)f->waited),
                     "runner");
    }
    if (f->status_changed)
        runner_status_changed(r, f->status, "runner");
    if (s && s->has_ack) {
        int64_t deadline = f->fired + s->ack_within_ms;
        if (journal_ack_wait_add(r->j, r->run.id, step, f->occurrence,
                                 runner_wall(r, f->fired), runner_wall(r, deadline),
                                 pb->steps[s->ack_escalate].id) < 0)
            r->journal_failed = 1;
        runner_event(r, EV_ACK_WAITING, step, f->occurrence,
                     json_pack("{s:I, s:s}", "deadline_ms", (json_int_t)runner_wall(r, deadline),
                               "escalate", pb->steps[s->ack_escalate].id),
                     "runner");
    }

    struct message_env env = {
        .pb = pb,
        .sched = r->sched,
        .run_id = r->run.id,
        .start_wall_ms = r->run.started_ms,
        .drill = r->drill,
        .latest_note = r->latest_note,
    };
    for (size_t i = 0; i < nnotify; i++) {
        size_t ch = notify[i];
        const struct provider *p = provider_for(pb->channels[ch].type);
        char *link = NULL;
        if (!s)
            env.feedback_url = link = feedback_link(r, ch);
        char next_iso[40];
        env.text_max = message_text_max(pb, ch, f->status, r->drill);
        char *text = message_render(&env, f, ch, p->escape, next_iso);
        if (text) {
            char next_text[64] = "";
            int64_t nx = sched_next_update(r->sched, ch, f->fired);
            if (nx >= 0)
                walltime_format_by(runner_wall(r, nx), runner_wall(r, f->fired), next_text,
                                   sizeof(next_text));
            runner_notify_channel(r, ch, step, f->occurrence, text, f->status, next_text,
                                  next_iso, fo, i);
        }
        free(text);
        free(link);
    }
    if (!s) {
        runner_event(r, EV_FEEDBACK_REQUESTED, NULL, 0, NULL, "runner");
    }
    if (fo)
        runner_queue_fanout(r, fo);
}

/* Journals a status change that the scheduler has already applied. */
void runner_status_changed(struct runner *r, enum run_status to, const char *actor)
{
    enum run_status from = r->status;
    if (from == to)
        return;
    r->status = to;
    int64_t off = runner_offset(r);
    if (journal_run_set_status(r->j, r->run.id, to, runner_wall(r, off)) < 0)
        r->journal_failed = 1;
    runner_event(r, EV_STATUS_CHANGED, NULL, 0,
                 json_pack("{s:s, s:s}", "from", run_status_name(from), "to",
                           run_status_name(to)),
                 actor);
    liveview_event(&r->lv, runner_wall(r, off), "status %s -> %s", run_status_name(from),
                   run_status_name(to));
    if (to == STATUS_RESOLVED) {
        runner_event(r, EV_RESOLVED, NULL, 0, NULL, actor);
        if (journal_run_set_state(r->j, r->run.id, RUN_STATE_RESOLVED, runner_wall(r, off)) < 0)
            r->journal_failed = 1;
        if (r->pb->feedback.present) {
            r->feedback_closes = off + r->pb->feedback.window_ms;
            if (journal_run_set_feedback_closes(r->j, r->run.id,
                                                runner_wall(r, r->feedback_closes)) < 0)
                r->journal_failed = 1;
        }
    }
}

/* Pops and handles every occurrence due now. */
static void run_due(struct runner *r)
{
    struct sched_fire f;
    while (sched_pop(r->sched, runner_offset(r), &f))
        handle_fire(r, &f);
}

/* ---- the live view --------------------------------------------------------------------- */

static void draw(struct runner *r)
{
    if (!r->lv.interactive)
        return;
    int64_t now = runner_offset(r);
    size_t step = 0;
    int64_t next = sched_next_step(r->sched, &step);
    struct live_state st = {
        .run_id = r->run.id,
        .title = r->pb->title,
        .status = run_status_name(r->status),
        .drill = r->drill,
        .speed = r->speed,
        .elapsed_ms = now,
        .next_step = next != INT64_MAX ? message_step_name(r->pb, step) : NULL,
        .next_in_ms = next != INT64_MAX ? next - now : 0,
        .channels = r->live,
        .nchannels = r->pb->nchannels,
    };
    liveview_draw(&r->lv, &st);
}

/* ---- setting up ------------------------------------------------------------------------- */

/*
 * The --var overrides as journaled for resume.  A value need not be UTF-8
 * and jansson refuses one that is not, which would drop the override from
 * the journal silently: store it cleaned, as every provider sends it.
 */
static char *vars_json(const struct kv *vars, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        char *v = utf8_clean(vars[i].value);
        json_object_set_new(o, vars[i].key, json_string(v));
        free(v);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

static int load_playbook(struct runner *r, const struct runner_options *opt)
{
    struct diag d = DIAG_INIT;
    struct loader_options lo = {opt->vars, opt->nvars};
    /* The journal keeps the very bytes that were loaded (see loader.h). */
    r->pb = loader_load_text(opt->playbook_path, &lo, &d, &r->playbook_text);
    diag_sort(&d);
    diag_print(&d, stderr);
    diag_release(&d);
    return r->pb ? 0 : -1;
}

static int create_run(struct runner *r, const struct runner_options *opt)
{
    char *abs = realpath(opt->playbook_path, NULL);
    char *vj = vars_json(opt->vars, opt->nvars);
    r->run.playbook_name = r->pb->name;
    r->run.title = r->pb->title;
    r->run.severity = r->pb->severity;
    r->run.playbook_path = abs ? abs : (char *)opt->playbook_path;
    r->run.playbook_text = r->playbook_text;
    r->run.vars_json = vj;
    r->run.meta_json = runmeta_json(r->pb);
    char *cwd = opt->capture_dir && opt->capture_dir[0] != '/' ? getcwd(NULL, 0) : NULL;
    r->run.capture_dir = !opt->capture_dir ? NULL
                         : cwd             ? xasprintf("%s/%s", cwd, opt->capture_dir)
                                           : xstrdup(opt->capture_dir);
    free(cwd);
    r->run.drill = opt->drill;
    r->run.speed = opt->speed;
    r->run.started_ms = wallclock_ms();
    int ret = journal_run_create(r->j, &r->run);
    /* The strings were only lent to journal_run_create. */
    r->run.playbook_name = r->run.title = r->run.severity = NULL;
    r->run.playbook_path = r->run.playbook_text = r->run.vars_json = NULL;
    free(r->run.meta_json);
    free(r->run.capture_dir);
    r->run.meta_json = r->run.capture_dir = NULL;
    free(abs);
    free(vj);
    return ret;
}

static void runner_release(struct runner *r)
{
    /* The journal's writer may still be setting notifications' `existed`. */
    if (r->j)
        journal_commit_wait(r->j);
    free(r->submits); /* their notifications are in r->notifs */
    while (r->fanouts) {
        /* Stopped mid-fan-out: resume completes it (runner_complete_fanouts). */
        struct fanout *fo = r->fanouts;
        r->fanouts = fo->next;
        fanout_free(fo);
    }
    delivery_free(r->d);
    /* Stopped with notifications unsettled (a journal error, a signal):
     * the engine dropped them without a callback. */
    while (r->notifs)
        notif_free(r->notifs);
    control_free(r->control);
    sched_free(r->sched);
    journal_run_release(&r->run);
    journal_close(r->j);
    for (size_t i = 0; r->disabled && i < r->pb->nchannels; i++)
        free(r->disabled[i]);
    free(r->disabled);
    playbook_free(r->pb);
    free(r->playbook_text);
    free(r->live);
    free(r->latest_note);
    free(r->public_url);
    liveview_release(&r->lv);
}

static void maybe_checkpoint(struct runner *r, int acted);

/*
 * The batch with the journal's writer is durable: the notifications it
 * journaled go to the engine.  checkpoint_ok: the WAL may be checkpointed
 * now, which journal_checkpoint() does only with no batch open or one
 * untouched.  0, or -1 when it failed.
 */
static int finish_commit(struct runner *r, int checkpoint_ok)
{
    if (journal_commit_wait(r->j) < 0) {
        r->journal_failed = 1;
        return -1;
    }
    size_t n = r->ncommitting;
    r->ncommitting = 0;
    flush_submits(r, n);
    if (checkpoint_ok)
        maybe_checkpoint(r, n > 0 || r->committing_served);
    return r->journal_failed ? -1 : 0;
}

/* The real-time wait until something on the run's clock is due. */
static int wait_timeout(struct runner *r)
{
    int64_t t = real_ms_until(r, sched_next_time(r->sched));
    if (r->status == STATUS_RESOLVED && r->feedback_closes >= 0)
        t = min64(t, real_ms_until(r, r->feedback_closes));
    t = min64(t, RUNNER_HEARTBEAT_MS);
    if (r->lv.interactive)
        t = min64(t, REDRAW_MS);
    int64_t ct = control_timeout(r->control);
    if (ct >= 0)
        t = min64(t, ct);
    return (int)(t < 0 ? 0 : t);
}

static int run_is_over(struct runner *r)
{
    if (!sched_is_done(r->sched) || delivery_active(r->d) || r->nsubmits || r->fanouts ||
        journal_committing(r->j))
        return 0;
    return r->feedback_closes < 0 || runner_offset(r) >= r->feedback_closes;
}

int runner_checkpoint_now(int pending, int acted, int64_t quiet_ms, int64_t us_per_page)
{
    if (pending < CHECKPOINT_PAGES)
        return 0;
    if (pending >= CHECKPOINT_MAX_PAGES)
        return 1;
    if (acted)
        return 0;
    if (us_per_page <= 0)
        us_per_page = CHECKPOINT_US_PER_PAGE;
    /* Twice the expected time: a checkpoint's fsync varies. */
    int64_t need = 2 * (int64_t)pending * us_per_page / 1000;
    return quiet_ms >= (need > CHECKPOINT_MIN_QUIET_MS ? need : CHECKPOINT_MIN_QUIET_MS);
}

int64_t runner_checkpoint_learn(int64_t us_per_page, int copied, int64_t took_ms)
{
    int64_t was = us_per_page > 0 ? us_per_page : CHECKPOINT_US_PER_PAGE;
    /* A checkpoint that copied little (a reader held the WAL back, or
     * another process had checkpointed) tells nothing of the cost. */
    if (copied < CHECKPOINT_PAGES / 2)
        return us_per_page;
    /* took_ms + 1: the millisecond clock may have lost up to one. */
    int64_t took = (took_ms + 1) * 1000 / copied;
    /* Halfway to the latest, which counts for at most twice the estimate:
     * one slow fsync must not ask for windows that steps due every 50 ms
     * never leave (the WAL would then grow to CHECKPOINT_MAX_PAGES), and a
     * disk that stays slow is learnt over a few checkpoints. */
    if (took > 2 * was)
        took = 2 * was;
    return (was + took + 1) / 2;
}

/*
 * Copies the WAL back into the journal's file when it has grown, in an
 * iteration that just handed nothing to the engine or a client (`acted`)
 * and with no step due before the checkpoint is done, with room to spare
 * (runner_checkpoint_now()).  SQLite's own checkpoint ran inside whichever
 * commit crossed 1,000 pages: an fsync and milliseconds of copying during
 * which a step that fell due waited.  The window a checkpoint needs is
 * learnt from the ones before: a fixed one (50 ms once) was never found
 * between steps 50 ms apart, so the WAL grew to CHECKPOINT_MAX_PAGES and
 * its checkpoint, four times the size, made a step 20 ms late.
 */
static void maybe_checkpoint(struct runner *r, int acted)
{
    int pending = journal_wal_pending(r->j);
    if (!runner_checkpoint_now(pending, acted, real_ms_until(r, sched_next_time(r->sched)),
                               r->checkpoint_us_per_page))
        return;
    int64_t t0 = monotonic_ms();
    int copied = journal_checkpoint(r->j);
    if (copied < 0) {
        r->journal_failed = 1;
        return;
    }
    r->checkpoint_us_per_page =
        runner_checkpoint_learn(r->checkpoint_us_per_page, copied, monotonic_ms() - t0);
}

#define BATCH_GO_ON 2

/*
 * After a batch is durable and no other is open: draws, and says whether
 * the loop ends (loop()'s 0 or 1) or goes on (BATCH_GO_ON).
 */
static int batch_done(struct runner *r)
{
    draw(r);
    if (run_is_over(r))
        return 0;
    if (stop_signal)
        return 1;
    return BATCH_GO_ON;
}

/*
 * Returns 0 when the run is over, 1 on SIGINT/SIGTERM, -1 when the journal
 * failed, -2 when another process took the runner lock.
 */
static int loop(struct runner *r)
{
    int64_t batch_started = 0;
    int batch_open = 0, served = 0;
    for (;;) {
        /*
         * The lease first, before anything is answered, fired or sent: a
         * process stopped (Ctrl-Z, SIGSTOP) past its lease may have been
         * taken over by a resume, and once continued must not fire what
         * came due meanwhile, or serve a request left in its socket,
         * again beside the resume.
         */
        if (monotonic_ms() - r->lease_renewed >= RUNNER_HEARTBEAT_MS) {
            r->lease_renewed = monotonic_ms();
            int hb = journal_run_heartbeat(r->j, r->run.id, getpid(), r->host, wallclock_ms(),
                                           RUNNER_LEASE_MS);
            if (hb < 0)
                return -1;
            if (hb == 0)
                return -2;
        }
        /*
         * The outcomes of the requests that just finished, the operator's
         * actions and the steps now due go into one batch.  It is committed
         * before anything new is sent or any request answered, and at the
         * latest BATCH_MS after it began: a fan-out's thousands of outcomes
         * then cost a few hundred commits, not one each, and what a kill
         * can lose is only outcomes of requests already sent, which resume
         * re-sends with the same id.
         */
        if (!batch_open) {
            if (journal_begin(r->j) < 0)
                return -1;
            batch_open = 1;
            batch_started = monotonic_ms();
        }
        delivery_perform(r->d);
        /*
         * Requests before the steps due: an acknowledgement that reached
         * the process by its deadline (waiting in the socket while the
         * loop was busy, or the process stopped) cancels the escalation
         * before run_due() would fire it.  Whether such a request came
         * just before the deadline or just after, the loop cannot tell:
         * it counts as in time.  One that comes after the turn that fired
         * the escalation finds the step escalated (docs/plan.md,
         * "Acknowledgement and escalation").
         */
        control_run(r->control);
        run_due(r);
        int chunk = 0; /* this batch journals a fan-out's chunk */
        if (!r->nsubmits && runner_fanout_ready(r)) {
            runner_fanout_work(r);
            chunk = 1;
        }
        if (r->journal_failed)
            return -1;
        if (r->nsubmits > r->ncommitting || runner_fanout_ready(r) || served || stop_signal ||
            !delivery_active(r->d) || monotonic_ms() - batch_started >= BATCH_MS) {
            /* Batches commit in order: the one before first. */
            if (journal_committing(r->j) && finish_commit(r, 0) < 0)
                return -1;
            /*
             * A step's few notifications (not a fan-out's chunk, however
             * small: while a host's window is full, a fan-out journals as
             * many as settled, and each such batch holds their outcomes,
             * which are the writer's work): the loop commits their batch
             * itself and sends them at once.
             * Through the writer, the wake-up that hands the batch over
             * and the one that says it is durable each waited for a core
             * on a busy machine (docs/performance.md, "Twentieth round").
             * What is left to run is little: a step's first journal write
             * (its event) already ran what the batch held before it.
             */
            size_t fresh = r->nsubmits - r->ncommitting;
            int here = !chunk && fresh > 0 && fresh <= COMMIT_HERE_MAX;
            r->ncommitting = r->nsubmits;
            r->committing_served = served;
            if ((here ? journal_commit_here(r->j) : journal_commit_start(r->j)) < 0) {
                r->journal_failed = 1;
                return -1;
            }
            batch_open = 0;
            /*
             * The writer commits while the loop goes on with requests in
             * flight; the batch's notifications go out when it is done.
             * Answers to clients, a stop and the end of the run wait for
             * the commit here, as they did before there was a writer.
             */
            if (here || served || control_holding(r->control) || stop_signal ||
                !delivery_active(r->d)) {
                if (finish_commit(r, 1) < 0)
                    return -1;
                served = 0;
                control_commit(r->control); /* answers only what is journaled */
                int rc = batch_done(r);
                if (rc != BATCH_GO_ON)
                    return rc;
            }
        }

        struct pollfd fds[1 + CONTROL_MAX_FDS + 1]; /* + the journal writer's */
        fds[0] = (struct pollfd){signal_pipe[0], POLLIN, 0};
        int nfds = 1 + (int)control_fds(r->control, fds + 1, CONTROL_MAX_FDS);
        int timeout = wait_timeout(r);
        timeout = runner_fanout_timeout(r, timeout);
        if (batch_open) {
            int64_t left = BATCH_MS - (monotonic_ms() - batch_started);
            timeout = (int)(left < 0 ? 0 : left < timeout ? left : timeout);
        }
        int cfd = -1;
        if (journal_committing(r->j)) {
            cfd = nfds;
            fds[nfds++] = (struct pollfd){journal_commit_fd(r->j), POLLIN, 0};
        }
        if (delivery_wait(r->d, fds, nfds, timeout) < 0)
            return -1;
        if (cfd >= 0)
            nfds = cfd;
        if (cfd >= 0 && fds[cfd].revents) {
            /* A turn whose batch has written nothing yet is a chance to
             * checkpoint too: during a long fan-out (outcomes all the
             * time) one with no batch open hardly ever came, and the WAL
             * grew until a checkpoint could no longer fit between steps. */
            if (finish_commit(r, 1) < 0)
                return -1;
            if (!batch_open) {
                int rc = batch_done(r);
                if (rc != BATCH_GO_ON)
                    return rc;
            }
        }
        if (fds[0].revents) {
            char buf[16];
            while (read(signal_pipe[0], buf, sizeof(buf)) > 0)
                ;
        }
        /* A request to the control API or the feedback form is answered
         * from this batch: commit it at the end of this iteration. */
        for (int i = 1; i < nfds; i++)
            served |= fds[i].revents != 0;
    }
}

int runner_main(const struct cmd_ctx *ctx, const struct runner_options *opt)
{
    struct runner r;
    memset(&r, 0, sizeof(r));
    r.speed = opt->speed > 0 ? opt->speed : 1.0;
    r.drill = opt->drill;
    r.feedback_closes = -1;
    r.status = STATUS_INVESTIGATING;
    int ret = EXIT_RUNTIME;
    liveview_init(&r.lv, stdout, opt->quiet);
    gethostname(r.host, sizeof(r.host) - 1);

    if (opt->playbook_path && load_playbook(&r, opt) < 0) {
        runner_release(&r);
        return EXIT_USAGE;
    }
    char *db = cmd_db_path(ctx);
    r.j = journal_open(db, JOURNAL_CREATE | JOURNAL_WRITE);
    free(db);
    if (!r.j)
        goto out;
    journal_manual_checkpoints(r.j); /* the loop checkpoints: maybe_checkpoint() */
    if (opt->resume_run) {
        int rr = runner_restore(&r, opt);
        if (rr != 0) {
            ret = rr < 0 ? EXIT_RUNTIME : rr;
            goto out;
        }
    } else {
        if (create_run(&r, opt) < 0)
            goto out;
        if (journal_run_claim(r.j, r.run.id, getpid(), r.host, wallclock_ms(),
                              RUNNER_LEASE_MS, 0) != 1)
            goto out;
        r.lease_renewed = monotonic_ms();
        r.sched = sched_new(r.pb);
        r.mono_base = monotonic_ms();
        r.offset_base = 0;
    }
    r.live = xcalloc(r.pb->nchannels, sizeof(*r.live));
    for (size_t i = 0; i < r.pb->nchannels; i++) {
        r.live[i].name = r.pb->channels[i].name;
        r.live[i].type = channel_type_name(r.pb->channels[i].type);
    }
    printf("%s\n", r.run.id);
    fflush(stdout);

    /* A resumed capture-only run keeps capturing: it must never start
     * sending for real because --capture was not repeated. */
    struct delivery_options dopt = {.capture_dir = opt->capture_dir ? opt->capture_dir
                                                                    : r.run.capture_dir};
    struct delivery_callbacks cb = {on_attempt_start, on_attempt_done, on_settled,
                                    on_refuse};
    const char *why = "delivery could not be set up";
    r.d = delivery_new(&dopt, &cb, &r);
    if (!r.d)
        goto not_started;
    why = "the signal handlers could not be set up";
    if (setup_signals() < 0)
        goto not_started;
    why = "the control API could not be started";
    r.control = control_start(&r, opt->listen);
    if (!r.control)
        goto not_started;
    why = "the control API's address could not be journaled";
    r.public_url = xstrdup(opt->public_url ? opt->public_url : control_url(r.control));
    if (journal_run_set_control(r.j, r.run.id, control_url(r.control), control_token(r.control),
                                r.public_url) < 0)
        goto not_started;

    liveview_event(&r.lv, runner_wall(&r, runner_offset(&r)),
                   "%s %s: %s%s (%zu step%s, %zu channel%s)",
                   opt->resume_run ? "resumed" : "started", r.run.id,
                   r.drill ? "[DRILL] " : "", r.pb->title, r.pb->nsteps,
                   r.pb->nsteps == 1 ? "" : "s", r.pb->nchannels,
                   r.pb->nchannels == 1 ? "" : "s");
    if (opt->resume_run) {
        runner_resend_unsettled(&r);
        runner_complete_fanouts(&r);
    }
    else
        sched_start(r.sched);

    /* The fan-out's writes commit on a second thread (journal.h, "Deferred
     * writes"); without one, the loop writes them itself. */
    journal_writer_start(r.j);
    int lr = loop(&r);
    int64_t now = runner_wall(&r, runner_offset(&r));
    if (lr > 0 && r.status != STATUS_RESOLVED) {
        /* SIGINT/SIGTERM: the run can be resumed. */
        journal_run_set_state(r.j, r.run.id, RUN_STATE_INTERRUPTED, now);
        runner_event(&r, EV_INTERRUPTED, NULL, 0,
                     json_pack("{s:s}", "signal", stop_signal == SIGINT ? "SIGINT" : "SIGTERM"),
                     "runner");
        liveview_event(&r.lv, now, "interrupted: continue with 'crisisrun resume %s'", r.run.id);
        ret = EXIT_RUNTIME;
    } else if (lr == -2) {
        /* Another process holds the run now: leave everything to it. */
        error("run %s: another process took over the run (its runner lock lapsed); "
              "stopping without touching it",
              r.run.id);
        ret = EXIT_RUNTIME;
    } else if (lr < 0) {
        error("run %s stopped: the journal could not be written (resume it with "
              "'crisisrun resume %s' once the problem is fixed)",
              r.run.id, r.run.id);
        ret = EXIT_RUNTIME;
    } else {
        /*
         * A resolved run that ended by itself (a signal stops one with its
         * feedback window still open) journals the close and its end.
         * The window closed at its set time, whether or not a process was
         * running then: a run resumed after its window closed while it was
         * down has the close at that time, not at the resume.  ended_ms:
         * when its deliveries had settled and its window had closed.
         */
        if (lr == 0 && r.status == STATUS_RESOLVED) {
            int64_t ended = now;
            if (r.feedback_closes >= 0) {
                int64_t closed = runner_wall(&r, r.feedback_closes);
                int64_t settled = 0;
                event_at(&r, closed, EV_FEEDBACK_CLOSED, NULL, 0, NULL, "runner");
                if (journal_notification_last_settled(r.j, r.run.id, &settled) == 0)
                    ended = settled > closed ? settled : closed;
            }
            journal_run_set_state(r.j, r.run.id, RUN_STATE_RESOLVED, ended);
        }
        long counts[DELIVERY_STATE_COUNT] = {0};
        journal_notification_count(r.j, r.run.id, counts);
        /*
         * A signal can stop a resolved run before its last notifications
         * went out (held by a rate limit, waiting to retry): they are
         * journaled, and resume sends them, but only if someone knows.
         * A run that ended by itself has settled all it can; a
         * notification it still shows pending is one resume could not
         * match to its endpoint any more (it said so), not one to send.
         */
        long unsent = lr > 0 ? counts[DELIVERY_PENDING] + counts[DELIVERY_INFLIGHT] : 0;
        char rest[96] = "";
        if (unsent)
            snprintf(rest, sizeof(rest),
                     ", %ld not sent yet: continue with 'crisisrun resume %s'", unsent,
                     r.run.id);
        liveview_event(&r.lv, now, "%s %s: %ld delivered, %ld failed, %ld disabled%s",
                       r.status == STATUS_RESOLVED ? "resolved" : "ended", r.run.id,
                       counts[DELIVERY_DELIVERED], counts[DELIVERY_FAILED],
                       counts[DELIVERY_DISABLED], rest);
        ret = counts[DELIVERY_FAILED] || counts[DELIVERY_DISABLED] || unsent
                  ? EXIT_RUNTIME
                  : EXIT_OK;
    }
    /* On a terminal the events above only reach the screen when it is
     * drawn: the last screen must say how the run ended. */
    draw(&r);
    goto release;
not_started:
    /* Set-up failed after the run was journaled (the error is printed).  A
     * new run has sent nothing: it ends as failed, with the reason on its
     * timeline, instead of showing as running until its lease lapses.  A
     * resumed run goes back to the state it was resumed from, to be
     * resumed again once the problem is fixed. */
    if (opt->resume_run) {
        if (r.run.state != RUN_STATE_RESOLVED)
            journal_run_set_state(r.j, r.run.id, r.run.state, r.run.ended_ms);
        error("run %s was not resumed (%s): resume it again once the cause is fixed",
              r.run.id, why);
    } else {
        runner_event(&r, EV_FAILED, NULL, 0, json_pack("{s:s}", "reason", why), "runner");
        journal_run_set_state(r.j, r.run.id, RUN_STATE_FAILED, wallclock_ms());
        /* Its steps are still due from its start: say how to go on. */
        error("run %s did not start (%s) and has sent nothing: once the cause is fixed, "
              "continue it with 'crisisrun resume %s' or start a new run",
              r.run.id, why, r.run.id);
    }
release:
    journal_run_release_owner(r.j, r.run.id, getpid(), r.host);
out:
    teardown_signals();
    runner_release(&r);
    return ret;
}
