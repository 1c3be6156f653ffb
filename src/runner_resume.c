/*
 * runner_resume.c - continuing a run from the journal alone.
 *
 * The playbook is reloaded from the text journaled at the start (not from
 * the file, which may have changed since), the scheduler is rebuilt by
 * replaying the journaled events through sched_restore_fired() and the
 * operator's commands, and every unsettled notification is handed to the
 * engine again with its journaled body and id.  What the journal shows as
 * delivered is never sent again; what it shows pending or in flight is
 * sent (again) once, but a feedback request whose window closed while the
 * run was down is given up instead (runner.c, on_refuse()).
 */
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisisrun/delivery.h"
#include "crisisrun/diag.h"
#include "crisisrun/loader.h"
#include "crisisrun/message.h"
#include "crisisrun/runner_ops.h"
#include "crisisrun/sched.h"
#include "runner_internal.h"

/*
 * Takes the runner lock, or explains who holds it.  An owner on this
 * machine whose process is gone is taken over at once; otherwise the lock
 * is free only when its lease has run out (an owner on another machine,
 * or a pid that was reused after a reboot).  The claim itself is one
 * compare-and-set in the journal, so of two resumes racing for the same
 * run exactly one gets it, whatever they saw before.
 */
static int claim(struct runner *r)
{
    int64_t dead = 0;
    if (r->run.owner_pid && r->run.owner_host && !strcmp(r->run.owner_host, r->host) &&
        r->run.owner_pid != getpid() && !process_alive(r->run.owner_pid))
        dead = r->run.owner_pid;
    int c = journal_run_claim(r->j, r->run.id, getpid(), r->host, wallclock_ms(),
                              RUNNER_LEASE_MS, dead);
    if (c < 0)
        return -1;
    if (c == 1) {
        r->lease_renewed = monotonic_ms();
        return 0;
    }
    /* Name the winner as the journal has it now, not as first read. */
    struct journal_run cur;
    if (journal_run_get(r->j, r->run.id, &cur) < 0)
        return -1;
    int here = cur.owner_host && !strcmp(cur.owner_host, r->host);
    if (here && process_stopped(cur.owner_pid))
        error(
            "run %s is already driven by process %lld on this machine, which is stopped "
            "(Ctrl-Z or SIGSTOP); continue it with 'kill -CONT %lld', or 'fg' in its "
            "terminal; two runners never drive one run",
            r->run.id, (long long)cur.owner_pid, (long long)cur.owner_pid);
    else if (here)
        error("run %s is already driven by process %lld on this machine; two runners never "
              "drive one run (act on it with 'crisisrun ack|status|note|trigger|resolve %s')",
              r->run.id, (long long)cur.owner_pid, r->run.id);
    else
        error("run %s is already driven by process %lld on '%s'; two runners never drive one "
              "run",
              r->run.id, (long long)cur.owner_pid, cur.owner_host ? cur.owner_host : "?");
    journal_run_release(&cur);
    return -1;
}

static int load(struct runner *r)
{
    struct kv *vars = NULL;
    size_t n = 0, alloc = 0;
    json_t *vj = r->run.vars_json ? json_loads(r->run.vars_json, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    json_object_foreach(vj, k, v)
    {
        ALLOC_GROW(vars, n + 1, alloc);
        vars[n].key = xstrdup(k);
        vars[n].value = xstrdup(json_string_value(v) ? json_string_value(v) : "");
        n++;
    }
    json_decref(vj);
    char *pathcopy = xstrdup(r->run.playbook_path ? r->run.playbook_path : "playbook.yaml");
    char *dir = xstrdup(dirname(pathcopy));
    struct diag d = DIAG_INIT;
    struct loader_options lo = {vars, n};
    const char *text = r->run.playbook_text ? r->run.playbook_text : "";
    r->pb = loader_load_mem(r->run.playbook_path ? r->run.playbook_path : "playbook", dir, text,
                            strlen(text), &lo, &d);
    diag_sort(&d);
    diag_print(&d, stderr);
    diag_release(&d);
    for (size_t i = 0; i < n; i++) {
        free(vars[i].key);
        free(vars[i].value);
    }
    free(vars);
    free(pathcopy);
    free(dir);
    if (!r->pb)
        return error("run %s: its journaled playbook no longer loads (an environment variable "
                     "or file it uses may be missing)",
                     r->run.id);
    return 0;
}

/* The step index of a journaled step name into *out (SCHED_FEEDBACK for
 * the feedback request); 0, or -1 when the playbook has no such step. */
static int step_index(struct runner *r, const char *name, size_t *out)
{
    if (!name)
        return -1;
    if (!strcmp(name, MESSAGE_FEEDBACK_STEP)) {
        *out = SCHED_FEEDBACK;
        return 0;
    }
    long i = playbook_find_step(r->pb, name);
    if (i < 0)
        return -1;
    *out = (size_t)i;
    return 0;
}

/*
 * When a step_fired event's occurrence fired: the offset the scheduler
 * popped it at (actual_offset_ms), not the event's time, which is a few
 * milliseconds later.  Deadlines and after: delays run from the former;
 * replaying the latter would move them, and an escalation journaled
 * right at its deadline would then no longer consume it, and fire again.
 */
static int64_t fired_offset(const struct journal_event *ev, int64_t fallback)
{
    json_t *d = ev->detail_json ? json_loads(ev->detail_json, 0, NULL) : NULL;
    json_t *v = json_object_get(d, "actual_offset_ms");
    int64_t off = json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
    json_decref(d);
    return off;
}

static const char *detail_string(const struct journal_event *ev, const char *key, char *buf,
                                 size_t size)
{
    json_t *d = ev->detail_json ? json_loads(ev->detail_json, 0, NULL) : NULL;
    const char *v = json_string_value(json_object_get(d, key));
    snprintf(buf, size, "%s", v ? v : "");
    json_decref(d);
    return buf;
}

/*
 * Replays the journal into a fresh scheduler: every occurrence that fired
 * and every operator command, in journal order, at the offsets they
 * happened.  *last_out: the last offset seen.
 */
static int rebuild(struct runner *r, int64_t *last_out)
{
    struct journal_event *ev = NULL;
    size_t n = 0;
    if (journal_event_list(r->j, r->run.id, &ev, &n) < 0)
        return -1;
    r->sched = sched_new(r->pb);
    sched_start(r->sched);
    int64_t last = 0; /* the scheduler's `now` never goes back */
    for (size_t i = 0; i < n; i++) {
        int64_t off = ev[i].at_ms - r->run.started_ms;
        size_t idx = 0;
        int known = step_index(r, ev[i].step, &idx) == 0;
        char buf[64];
        if (ev[i].kind == EV_STEP_FIRED)
            off = fired_offset(&ev[i], off);
        if (off < last)
            off = last;
        last = off;
        switch (ev[i].kind) {
        case EV_STEP_FIRED:
            if (known)
                sched_restore_fired(r->sched, idx, ev[i].occurrence, off);
            else
                warning("run %s: step '%s' is no longer in the playbook", r->run.id,
                        ev[i].step ? ev[i].step : "");
            break;
        case EV_STATUS_CHANGED: {
            /* Whoever made it: one a step made is already in force (the
             * step came first), and setting a status again is a no-op.
             * Never trust the actor name, which an API client chooses. */
            int st = run_status_from_name(detail_string(&ev[i], "to", buf, sizeof(buf)));
            if (st >= 0)
                sched_set_status(r->sched, (enum run_status)st, off);
            break;
        }
        case EV_ACKNOWLEDGED:
            if (!ev[i].step)
                sched_ack_run(r->sched, off);
            else if (known && idx != SCHED_FEEDBACK)
                sched_ack_step(r->sched, idx, off);
            break;
        case EV_TRIGGERED:
            if (known && idx != SCHED_FEEDBACK)
                sched_trigger(r->sched, idx, off);
            break;
        case EV_NOTE: {
            json_t *d = ev[i].detail_json ? json_loads(ev[i].detail_json, 0, NULL) : NULL;
            const char *t = json_string_value(json_object_get(d, "text"));
            /* As runner_op_note(): an action item is not {{latest_note}}. */
            if (t && !json_is_true(json_object_get(d, "action"))) {
                free(r->latest_note);
                r->latest_note = xstrdup(t);
            }
            json_decref(d);
            break;
        }
        default:
            break;
        }
    }
    journal_event_list_free(ev, n);
    *last_out = last;
    return 0;
}

/*
 * The endpoint counts a chunked fan-out's event recorded, or NULL: a
 * step's step_fired event, or the note event of a broadcast, whose
 * notifications are RUNNER_NOTE_STEP's with the note's id for occurrence
 * (runner_op_note).  *step and *occurrence: what its notifications carry.
 */
static json_t *fanout_counts(const struct journal_event *ev, const char **step,
                             int *occurrence)
{
    if (!(ev->kind == EV_STEP_FIRED && ev->step) && ev->kind != EV_NOTE)
        return NULL;
    json_t *d = ev->detail_json ? json_loads(ev->detail_json, 0, NULL) : NULL;
    json_t *c = json_object_get(d, "fanout_endpoints");
    json_t *note = json_object_get(d, "note_id");
    if (!json_is_object(c) || (ev->kind == EV_NOTE && !json_is_integer(note))) {
        json_decref(d);
        return NULL;
    }
    json_incref(c);
    *step = ev->kind == EV_NOTE ? RUNNER_NOTE_STEP : ev->step;
    *occurrence = ev->kind == EV_NOTE ? (int)json_integer_value(note) : ev->occurrence;
    json_decref(d);
    return c;
}

/* How many notifications the journal has for (step, occurrence, channel);
 * *first: the one to endpoint 0, or NULL. */
static size_t fanout_have(const struct journal_notification *v, size_t nv, const char *step,
                          int occurrence, const char *channel,
                          const struct journal_notification **first)
{
    size_t have = 0;
    *first = NULL;
    for (size_t j = 0; j < nv; j++) {
        if (v[j].occurrence != occurrence || strcmp(v[j].step, step) ||
            strcmp(v[j].channel, channel))
            continue;
        have++;
        if (v[j].endpoint_index == 0)
            *first = &v[j];
    }
    return have;
}

/* The journal's hash of endpoint e of channel c, into hash
 * (JOURNAL_ENDPOINT_HASH_LEN + 1 bytes). */
static void endpoint_hash(const struct channel *c, size_t e, char *hash)
{
    char url[URL_BUF_SIZE];
    journal_endpoint_hash(url_list_get(&c->urls, e, url), hash);
}

static int cmp_hash(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * One byte an endpoint of channel c: 1 when the journal already has a
 * notification of (step, occurrence) to that endpoint's URL, whatever its
 * index was then.  Ids contain the index, so if the list changed under a
 * stopped run (a line removed or added), an endpoint that moved would
 * otherwise be journaled again under a new id and sent twice.
 */
static unsigned char *journaled_endpoints(const struct channel *c,
                                          const struct journal_notification *v, size_t nv,
                                          const char *step, int occurrence)
{
    const char **hashes = xcalloc(nv ? nv : 1, sizeof(*hashes));
    size_t nh = 0;
    for (size_t j = 0; j < nv; j++)
        if (v[j].occurrence == occurrence && !strcmp(v[j].step, step) &&
            !strcmp(v[j].channel, c->name))
            hashes[nh++] = v[j].endpoint_hash;
    qsort(hashes, nh, sizeof(*hashes), cmp_hash);
    unsigned char *skip = xcalloc(c->urls.n ? c->urls.n : 1, 1);
    for (size_t e = 0; e < c->urls.n; e++) {
        char hash[JOURNAL_ENDPOINT_HASH_LEN + 1];
        const char *key = hash;
        endpoint_hash(c, e, hash);
        skip[e] = bsearch(&key, hashes, nh, sizeof(*hashes), cmp_hash) != NULL;
    }
    free(hashes);
    return skip;
}

/* 1 when a chunked fan-out has fewer notifications journaled than its
 * step_fired event counted (the run stopped before its last chunk). */
static int fanouts_incomplete(struct runner *r)
{
    struct journal_event *ev = NULL;
    struct journal_notification *v = NULL;
    size_t nev = 0, nv = 0;
    int ret = 0;
    if (journal_event_list(r->j, r->run.id, &ev, &nev) < 0)
        return -1;
    for (size_t i = 0; i < nev && !ret; i++) {
        const char *step;
        int occ;
        json_t *counts = fanout_counts(&ev[i], &step, &occ);
        if (!counts)
            continue;
        if (!v && journal_notification_list(r->j, r->run.id, DELIVERY_ALL, &v, &nv) < 0)
            ret = -1;
        const char *name;
        json_t *val;
        json_object_foreach(counts, name, val)
        {
            const struct journal_notification *first;
            if (ret == 0 && json_is_integer(val) &&
                fanout_have(v, nv, step, occ, name, &first) <
                    (size_t)json_integer_value(val))
                ret = 1;
        }
        json_decref(counts);
    }
    journal_notification_list_free(v, nv);
    journal_event_list_free(ev, nev);
    return ret;
}

/* 1 when the journal has the run's feedback_closed event. */
static int feedback_close_journaled(struct runner *r)
{
    struct journal_event *ev = NULL;
    size_t n = 0;
    int found = 0;
    if (journal_event_list(r->j, r->run.id, &ev, &n) < 0)
        return -1;
    for (size_t i = 0; i < n && !found; i++)
        found = ev[i].kind == EV_FEEDBACK_CLOSED;
    journal_event_list_free(ev, n);
    return found;
}

/* 1 when a resolved run has nothing left to do: resume refuses it. */
static int run_is_over(struct runner *r)
{
    long counts[DELIVERY_STATE_COUNT] = {0};
    if (journal_notification_count(r->j, r->run.id, counts) < 0)
        return -1;
    if (counts[DELIVERY_PENDING] || counts[DELIVERY_INFLIGHT])
        return 0;
    int incomplete = fanouts_incomplete(r);
    if (incomplete)
        return incomplete < 0 ? -1 : 0;
    if (!r->run.feedback_closes_ms)
        return 1;
    int64_t now = journal_run_clock(&r->run, wallclock_ms());
    if (now < r->run.feedback_closes_ms)
        return 0;
    /*
     * The window has closed.  The process that ends a run journals the
     * close; one killed, or stopped by a signal, while the window was
     * open did not, and resume ends the run: it journals the close at the
     * time the window closed, re-sends nothing settled, and exits.
     */
    return feedback_close_journaled(r);
}

/*
 * Endpoints that answered 410 before the crash stay disabled: the journal
 * has their notifications as disabled, each with its endpoint's hash.
 */
static int restore_disabled(struct runner *r)
{
    struct journal_notification *v = NULL;
    size_t n = 0;
    if (journal_notification_list(r->j, r->run.id, DELIVERY_MASK(DELIVERY_DISABLED), &v, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        long ch = playbook_find_channel(r->pb, v[i].channel);
        if (ch < 0 || v[i].endpoint_index < 0 ||
            (size_t)v[i].endpoint_index >= r->pb->channels[ch].urls.n)
            continue;
        char hash[JOURNAL_ENDPOINT_HASH_LEN + 1];
        endpoint_hash(&r->pb->channels[ch], (size_t)v[i].endpoint_index, hash);
        if (!strcmp(hash, v[i].endpoint_hash))
            runner_disable_endpoint(r, (size_t)ch, (size_t)v[i].endpoint_index);
    }
    journal_notification_list_free(v, n);
    return 0;
}

int runner_restore(struct runner *r, const struct runner_options *opt)
{
    char id[JOURNAL_RUN_ID_LEN + 1];
    int64_t last = 0;
    int ret = -1;
    if (journal_run_find(r->j, opt->resume_run, id) < 0)
        return -1;
    if (journal_run_get(r->j, id, &r->run) < 0)
        return -1;
    if (r->run.state == RUN_STATE_RESOLVED) {
        int over = run_is_over(r);
        if (over < 0)
            return -1;
        if (over) {
            error("run %s is over: it is resolved and every notification has settled", id);
            return EXIT_RUNTIME;
        }
    }
    if (claim(r) < 0)
        return -1;
    if (load(r) < 0) {
        ret = EXIT_USAGE;
        goto give_up;
    }
    r->speed = r->run.speed > 0 ? r->run.speed : 1.0;
    r->drill = r->run.drill;
    r->status = r->run.status;
    if (rebuild(r, &last) < 0 || restore_disabled(r) < 0)
        goto give_up;
    /*
     * The run's clock goes on as if the process had never stopped: at
     * --speed N it reads (wall now - started) * N, the formula of the
     * uninterrupted run, so every deadline and slot keeps the wall-clock
     * time the journal gave it and the down time counts like any other.
     * Never behind the last journaled event (a wall clock set back).
     */
    r->offset_base = (int64_t)((double)(wallclock_ms() - r->run.started_ms) * r->speed);
    if (r->offset_base < last)
        r->offset_base = last;
    r->mono_base = monotonic_ms();
    sched_resume(r->sched, r->offset_base);
    if (r->run.feedback_closes_ms) {
        r->feedback_closes = r->run.feedback_closes_ms - r->run.started_ms;
        r->feedback_closed_down = r->offset_base >= r->feedback_closes;
    }
    if (r->run.state != RUN_STATE_RESOLVED &&
        journal_run_set_state(r->j, id, RUN_STATE_RUNNING, runner_wall(r, r->offset_base)) < 0)
        goto give_up;
    if (runner_event(r, EV_RESUMED, NULL, 0,
                     json_pack("{s:I, s:s, s:I}", "pid", (json_int_t)getpid(), "from_state",
                               journal_run_state_name(r->run.state), "offset_ms",
                               (json_int_t)r->offset_base),
                     runner_os_user()) < 0)
        goto give_up;
    return 0;

give_up:
    /* Leave the run to the next resume instead of to the lease. */
    journal_run_release_owner(r->j, id, getpid(), r->host);
    return ret;
}

void runner_resend_unsettled(struct runner *r)
{
    struct journal_notification *v = NULL;
    size_t n = 0;
    if (journal_notification_list(r->j, r->run.id, DELIVERY_UNSETTLED, &v, &n) < 0) {
        r->journal_failed = 1;
        return;
    }
    size_t resent = 0;
    for (size_t i = 0; i < n; i++) {
        long ch = playbook_find_channel(r->pb, v[i].channel);
        const struct channel *c = ch >= 0 ? &r->pb->channels[ch] : NULL;
        char hash[JOURNAL_ENDPOINT_HASH_LEN + 1] = "";
        if (c && v[i].endpoint_index >= 0 && (size_t)v[i].endpoint_index < c->urls.n)
            endpoint_hash(c, (size_t)v[i].endpoint_index, hash);
        if (!c || strcmp(hash, v[i].endpoint_hash)) {
            /* The endpoint list changed under the run: the journaled URL
             * hash no longer names this endpoint, so sending would reach
             * someone else. */
            warning("run %s: notification %s to %s can no longer be matched to its endpoint; "
                    "not re-sent",
                    r->run.id, v[i].id, v[i].endpoint_redacted);
            continue;
        }
        if (runner_endpoint_disabled(r, (size_t)ch, (size_t)v[i].endpoint_index)) {
            /* Its endpoint answered 410 before the crash: settle it as the
             * engine would have, without a request. */
            if (journal_notification_set_state(r->j, v[i].id, DELIVERY_DISABLED,
                                               runner_wall(r, runner_offset(r)), 0) < 0)
                r->journal_failed = 1;
            continue;
        }
        struct notif *nt = notif_new(r, (size_t)ch, (size_t)v[i].endpoint_index);
        nt->feedback_request = !strcmp(v[i].step, MESSAGE_FEEDBACK_STEP);
        memcpy(nt->id, v[i].id, sizeof(nt->id));
        nt->attempt = v[i].attempts + 1;
        /*
         * A retry that was waiting keeps the time the journal gave it: the
         * endpoint asked for the wait (Retry-After) or the backoff chose it,
         * and a restart does not make the endpoint ready any sooner.  The
         * run's clock counted the down time, so a time that has passed
         * sends at once, as does a notification never attempted (due when
         * it was made).
         */
        int64_t wait = v[i].state == DELIVERY_PENDING
                           ? v[i].due_ms - runner_wall(r, runner_offset(r))
                           : 0;
        if (v[i].attempts > 0 && wait > 0) {
            nt->not_before = monotonic_ms() + (int64_t)ceil((double)wait / r->speed);
            /* A 429 holds a rate-limited channel whole (delivery.c): the
             * messages after it wait behind it.  Whether a Retry-After
             * came is not journaled, so any 429 holds it here. */
            nt->hold_channel = v[i].last_http_status == 429;
        }
        /* Only what request_url needs: the run (Google Chat's thread). */
        struct provider_message msg = {
            .text = "", .title = r->pb->title, .playbook = r->pb->name, .severity = "",
            .status = r->status, .step = "", .run_id = r->run.id,
            .notification_id = nt->id, .next_update = "", .next_update_iso = "",
            .timestamp_iso = "", .drill = r->drill,
        };
        nt->out = outgoing_new(v[i].body, &msg);
        v[i].body = NULL;
        ALLOC_GROW(r->submits, r->nsubmits + 1, r->asubmits);
        r->submits[r->nsubmits++] = nt;
        resent++;
    }
    journal_notification_list_free(v, n);
    if (resent)
        liveview_event(&r->lv, runner_wall(r, runner_offset(r)),
                       resent == 1 ? "re-sending %zu notification that was not settled"
                                   : "re-sending %zu notifications that were not settled",
                       resent);
}

/*
 * A large fan-out is journaled in chunks after its step_fired event
 * (runner.c), which also recorded each channel's endpoint count and
 * journaled each channel's first endpoints (FANOUT_FIRST).  A run stopped
 * in between has fewer notifications for the occurrence than the event
 * counted: queue the rest, with the body the journal has for the
 * channel, the bytes the other endpoints got, to every endpoint whose URL
 * has no notification of the occurrence yet (journaled_endpoints()).  They
 * share its body row.
 */
void runner_complete_fanouts(struct runner *r)
{
    struct journal_event *ev = NULL;
    struct journal_notification *v = NULL;
    size_t nev = 0, nv = 0, queued = 0;
    int have_list = 0;
    if (journal_event_list(r->j, r->run.id, &ev, &nev) < 0) {
        r->journal_failed = 1;
        return;
    }
    for (size_t i = 0; i < nev; i++) {
        const char *step;
        int occ;
        json_t *counts = fanout_counts(&ev[i], &step, &occ);
        if (!counts)
            continue;
        if (!have_list) {
            if (journal_notification_list(r->j, r->run.id, DELIVERY_ALL, &v, &nv) < 0) {
                r->journal_failed = 1;
                json_decref(counts);
                break;
            }
            have_list = 1;
        }
        struct fanout *fo = fanout_new(step, occ, json_object_size(counts));
        size_t k = 0;
        const char *name;
        json_t *val;
        json_object_foreach(counts, name, val)
        {
            long ch = playbook_find_channel(r->pb, name);
            if (ch < 0 || !json_is_integer(val))
                continue;
            const struct channel *c = &r->pb->channels[ch];
            const struct journal_notification *first;
            size_t want = (size_t)json_integer_value(val);
            size_t have = fanout_have(v, nv, step, occ, name, &first);
            if (want > c->urls.n)
                want = c->urls.n;
            if (have >= want || !first || !first->body)
                continue;
            char hash[JOURNAL_ENDPOINT_HASH_LEN + 1];
            endpoint_hash(c, 0, hash);
            if (strcmp(hash, first->endpoint_hash)) {
                if (ev[i].kind == EV_NOTE)
                    warning(
                        "run %s: the endpoints of channel '%s' changed; the rest of note "
                        "%d is not sent",
                        r->run.id, name, occ);
                else
                    warning(
                        "run %s: the endpoints of channel '%s' changed; the rest of step "
                        "'%s' is not sent",
                        r->run.id, name, step);
                continue;
            }
            struct provider_message msg = {
                .text = "", .title = r->pb->title, .playbook = r->pb->name, .severity = "",
                .status = r->status, .step = "", .run_id = r->run.id,
                .notification_id = "", .next_update = "", .next_update_iso = "",
                .timestamp_iso = "", .drill = r->drill,
            };
            fo->channels[k] = (size_t)ch;
            fo->outs[k] = outgoing_new(xstrdup(first->body), &msg);
            /* The same bytes: the notifications still to journal point to
             * the row the others have (runner_notify_endpoints() adds a
             * body row only for a message that has none yet). */
            fo->outs[k]->body_id = first->body_id;
            /* Every endpoint of the list as it is now that has not had the
             * message, by URL: one added since the step fired gets it. */
            fo->skip[k] = journaled_endpoints(c, v, nv, step, occ);
            fo->from[k] = 1;
            fo->to[k] = c->urls.n;
            queued += want - have;
            k++;
        }
        json_decref(counts);
        if (k)
            runner_queue_fanout(r, fo);
        else
            fanout_free(fo);
    }
    journal_notification_list_free(v, nv);
    journal_event_list_free(ev, nev);
    if (queued)
        liveview_event(&r->lv, runner_wall(r, runner_offset(r)),
                       queued == 1 ? "journaling the %zu notification of an interrupted fan-out"
                                   : "journaling the %zu notifications of interrupted fan-outs",
                       queued);
}
