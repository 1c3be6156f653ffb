/*
 * runner_resume.c - continuing a run from the journal alone.
 *
 * The playbook is reloaded from the text journaled at the start (not from
 * the file, which may have changed since), the scheduler is rebuilt by
 * replaying the journaled events through sched_restore_fired() and the
 * operator's commands, and every unsettled notification is handed to the
 * engine again with its journaled body and id.  What the journal shows as
 * delivered is never sent again; what it shows pending or in flight is
 * sent (again) once.
 */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crisisrun/delivery.h"
#include "crisisrun/diag.h"
#include "crisisrun/loader.h"
#include "crisisrun/message.h"
#include "crisisrun/sched.h"
#include "runner_internal.h"

#define LEASE_MS 30000

static int process_alive(int64_t pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Takes the runner lock, or explains who holds it. */
static int claim(struct runner *r)
{
    int64_t dead = 0;
    if (r->run.owner_pid && r->run.owner_host && !strcmp(r->run.owner_host, r->host)) {
        if (process_alive(r->run.owner_pid) && r->run.owner_pid != getpid())
            return error("run %s is still driven by process %lld on this machine (use "
                         "'crisisrun ack|status|note|resolve %s' to act on it)",
                         r->run.id, (long long)r->run.owner_pid, r->run.id);
        dead = r->run.owner_pid;
    }
    int c = journal_run_claim(r->j, r->run.id, getpid(), r->host, wallclock_ms(), LEASE_MS, dead);
    if (c == 0)
        return error("run %s is driven by another process (on '%s'); two runners never drive "
                     "one run",
                     r->run.id, r->run.owner_host ? r->run.owner_host : "?");
    return c == 1 ? 0 : -1;
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

static long step_index(struct runner *r, const char *name)
{
    if (!name)
        return -1;
    if (!strcmp(name, MESSAGE_FEEDBACK_STEP))
        return (long)SCHED_FEEDBACK;
    return playbook_find_step(r->pb, name);
}

/* Replays the journal into a fresh scheduler. */
static int rebuild(struct runner *r)
{
    struct journal_event *ev = NULL;
    size_t n = 0;
    if (journal_event_list(r->j, r->run.id, &ev, &n) < 0)
        return -1;
    r->sched = sched_new(r->pb);
    sched_start(r->sched);
    for (size_t i = 0; i < n; i++) {
        int64_t off = ev[i].at_ms - r->run.started_ms;
        int runner_made = ev[i].actor && !strcmp(ev[i].actor, "runner");
        long idx = step_index(r, ev[i].step);
        switch (ev[i].kind) {
        case EV_STEP_FIRED:
            if (idx == -1 && ev[i].step)
                warning("run %s: step '%s' is no longer in the playbook", r->run.id, ev[i].step);
            else if (ev[i].step)
                sched_restore_fired(r->sched, (size_t)idx, ev[i].occurrence, off);
            break;
        case EV_STATUS_CHANGED:
            if (!runner_made && ev[i].detail_json) {
                json_t *d = json_loads(ev[i].detail_json, 0, NULL);
                int st = run_status_from_name(json_string_value(json_object_get(d, "to"))
                                                  ? json_string_value(json_object_get(d, "to"))
                                                  : "");
                if (st >= 0)
                    sched_set_status(r->sched, (enum run_status)st, off);
                json_decref(d);
            }
            break;
        case EV_ACKNOWLEDGED:
            if (!ev[i].step)
                sched_ack_run(r->sched, off);
            else if (idx >= 0)
                sched_ack_step(r->sched, (size_t)idx, off);
            break;
        case EV_TRIGGERED:
            if (idx >= 0)
                sched_trigger(r->sched, (size_t)idx, off);
            break;
        case EV_NOTE:
            if (ev[i].detail_json) {
                json_t *d = json_loads(ev[i].detail_json, 0, NULL);
                const char *t = json_string_value(json_object_get(d, "text"));
                if (t) {
                    free(r->latest_note);
                    r->latest_note = xstrdup(t);
                }
                json_decref(d);
            }
            break;
        default:
            break;
        }
    }
    journal_event_list_free(ev, n);
    return 0;
}

int runner_restore(struct runner *r, const struct runner_options *opt)
{
    char id[JOURNAL_RUN_ID_LEN + 1];
    if (journal_run_find(r->j, opt->resume_run, id) < 0)
        return -1;
    if (journal_run_get(r->j, id, &r->run) < 0)
        return -1;
    if (r->run.state == RUN_STATE_RESOLVED) {
        long counts[DELIVERY_STATE_COUNT] = {0};
        if (journal_notification_count(r->j, id, counts) < 0)
            return -1;
        int64_t now = r->run.started_ms +
                      (int64_t)((double)(wallclock_ms() - r->run.started_ms) * r->run.speed);
        if (!counts[DELIVERY_PENDING] && !counts[DELIVERY_INFLIGHT] &&
            (!r->run.feedback_closes_ms || now >= r->run.feedback_closes_ms)) {
            error("run %s is over: resolved, every notification settled", id);
            return EXIT_RUNTIME;
        }
    }
    if (claim(r) < 0)
        return -1;
    if (load(r) < 0)
        return EXIT_USAGE;
    r->speed = r->run.speed > 0 ? r->run.speed : 1.0;
    r->drill = r->run.drill;
    r->status = r->run.status;
    if (rebuild(r) < 0)
        return -1;
    /* The run's clock goes on from where the wall clock says it is. */
    r->offset_base = (int64_t)((double)(wallclock_ms() - r->run.started_ms) * r->speed);
    r->mono_base = monotonic_ms();
    sched_resume(r->sched, r->offset_base);
    if (r->run.feedback_closes_ms)
        r->feedback_closes = r->run.feedback_closes_ms - r->run.started_ms;
    if (r->run.state != RUN_STATE_RESOLVED &&
        journal_run_set_state(r->j, id, RUN_STATE_RUNNING, runner_wall(r, r->offset_base)) < 0)
        return -1;
    if (runner_event(r, EV_RESUMED, NULL, 0, json_pack("{s:I}", "pid", (json_int_t)getpid()),
                     runner_os_user()) < 0)
        return -1;
    return 0;
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
        if (c && v[i].endpoint_index >= 0 && (size_t)v[i].endpoint_index < c->nurls)
            journal_endpoint_hash(c->urls[v[i].endpoint_index], hash);
        if (!c || strcmp(hash, v[i].endpoint_hash)) {
            /* The endpoint list changed under the run: the journaled URL
             * hash no longer names this endpoint, so sending would reach
             * someone else. */
            warning("run %s: notification %s to %s can no longer be matched to its endpoint; "
                    "not re-sent",
                    r->run.id, v[i].id, v[i].endpoint_redacted);
            continue;
        }
        struct notif *nt = xcalloc(1, sizeof(*nt));
        nt->runner = r;
        memcpy(nt->id, v[i].id, sizeof(nt->id));
        nt->channel = (size_t)ch;
        nt->endpoint = (size_t)v[i].endpoint_index;
        nt->attempt = v[i].attempts + 1;
        nt->body = v[i].body;
        v[i].body = NULL;
        r->nnotifs_live++;
        /* Only what request_url needs: the run (Google Chat's thread). */
        nt->msg = (struct provider_message){
            .text = "", .title = r->pb->title, .playbook = r->pb->name, .severity = "",
            .status = r->status, .step = "", .run_id = r->run.id,
            .notification_id = nt->id, .next_update = "", .next_update_iso = "",
            .timestamp_iso = "", .drill = r->drill,
        };
        nt->has_msg = 1;
        ALLOC_GROW(r->submits, r->nsubmits + 1, r->asubmits);
        r->submits[r->nsubmits++] = nt;
        resent++;
    }
    journal_notification_list_free(v, n);
    if (resent)
        liveview_event(&r->lv, runner_wall(r, runner_offset(r)),
                       "re-sending %zu notifications that were not settled", resent);
}
