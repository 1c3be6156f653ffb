/*
 * control_client.c - posting an operator's action to a live run (see
 * control_client.h).
 *
 * The request is one blocking POST through the same HTTP client the runner
 * uses (http.h), with short timeouts: the run's process is on this
 * machine, so an answer that takes seconds means it is stuck or gone.
 */
#include "crisisrun/control_client.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crisisrun/control.h"
#include "crisisrun/http.h"
#include "crisisrun/journal.h"
#include "crisisrun/runmeta.h"
#include "crisisrun/suggest.h"
#include "crisisrun/util.h"

#define CALL_TIMEOUT_MS 10000

struct answer {
    int done;
    long status;
    char *body;
    char *error;
    int timed_out;
};

static void on_done(void *ctx, const struct http_result *r)
{
    struct answer *a = ctx;
    a->done = 1;
    a->status = r->status;
    a->body = xstrndup(r->body ? r->body : "", r->len);
    a->error = r->error ? xstrdup(r->error) : NULL;
    a->timed_out = r->timed_out;
}

/* Reads the token file; falls back to the journal's copy. */
static char *read_token(const char *db, const struct journal_run *run)
{
    char *path = control_token_path(db, run->id);
    FILE *f = fopen(path, "r");
    free(path);
    char buf[128] = "";
    if (f) {
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
    }
    if (buf[0])
        return xstrdup(buf);
    return run->control_token ? xstrdup(run->control_token) : NULL;
}

/*
 * Who acts: the account of the real user id, as the runner records its
 * own actions.  Not $USER, which is unset under cron and systemd and
 * which anyone can set to another name.
 */
static const char *os_user(void)
{
    static char name[64];
    struct passwd *pw = getpwuid(getuid());
    if (pw)
        snprintf(name, sizeof(name), "%s", pw->pw_name);
    else
        snprintf(name, sizeof(name), "uid %lu", (unsigned long)getuid());
    return name;
}

/* 1 when the run's owner is (or was) a process on this machine. */
static int owner_is_here(const struct journal_run *run)
{
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    return run->owner_pid && run->owner_host && !strcmp(run->owner_host, host);
}

/* 1 when the run's owner was on this machine and its process is gone. */
static int owner_is_dead(const struct journal_run *run)
{
    return owner_is_here(run) && !process_alive(run->owner_pid);
}

/*
 * 1 when the run's owner is a live process on this machine that holds the
 * run: a runner renews its lease while it lives, and a resume takes a
 * fresh one as it claims.  A pid whose lease has run out is not the
 * owner any more but a process that reused its number (after a reboot).
 */
static int owner_is_alive(const struct journal_run *run)
{
    return owner_is_here(run) && run->lease_until_ms >= wallclock_ms() &&
           process_alive(run->owner_pid);
}

/* Between two looks at the journal or /proc while a command waits. */
static void pause_a_moment(void)
{
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

/* Whether two optional strings differ. */
static int differ(const char *a, const char *b)
{
    return !a != !b || (a && strcmp(a, b));
}

/*
 * 1 when the run's control address changed while we waited, *run re-read.
 * A resume claims the run (owner_pid) before its control server is up, and
 * until then the journal keeps the address of the process it took over
 * from, where nobody answers: an operator acting meanwhile would be told
 * the run is gone, and to resume it.  So while the owner is alive on this
 * machine and the address is still the one that did not answer, wait for
 * it to change, as long as a call may take.  A resume given the same
 * --listen as the killed process publishes the same address: its new
 * token says that it serves the run now.
 */
static int new_address(struct journal *j, const char *id, struct journal_run *run)
{
    char *tried = run->control_addr ? xstrdup(run->control_addr) : NULL;
    char *tried_token = run->control_token ? xstrdup(run->control_token) : NULL;
    int64_t end = monotonic_ms() + CALL_TIMEOUT_MS;
    int changed = 0, said = 0;
    while (tried && owner_is_alive(run) && monotonic_ms() < end) {
        if (!said++)
            fprintf(stderr,
                    "crisisrun: run %s does not answer yet; waiting for process %lld "
                    "to serve it\n",
                    id, (long long)run->owner_pid);
        pause_a_moment();
        struct journal_run now;
        memset(&now, 0, sizeof(now));
        if (journal_run_get(j, id, &now) < 0)
            break;
        journal_run_release(run);
        *run = now;
        if (!run->control_addr || strcmp(run->control_addr, tried) ||
            differ(run->control_token, tried_token)) {
            changed = run->control_addr != NULL;
            break;
        }
    }
    free(tried);
    free_secret(tried_token);
    return changed;
}

static int gone(const char *id)
{
    error("the process of run %s is gone; continue the run with 'crisisrun resume %s'", id, id);
    return EXIT_RUNTIME;
}

/*
 * A run whose owner lives on this machine but did not answer.  It is not
 * gone: `resume` refuses while it lives, so "resume it" would send the
 * operator in a circle.  A stopped runner (Ctrl-Z in its terminal) needs
 * SIGCONT; one that runs but does not answer is busy starting (a resume
 * loading a large playbook) or stuck, and only stopping it lets a resume
 * take the run over.  With `sent`, the request reached the process, which
 * may still carry it out: repeating a note or a status would repeat its
 * notifications, so the operator is sent to `show` first.
 */
static int not_answering(const struct journal_run *run, const char *id, int sent)
{
    long long pid = (long long)run->owner_pid;
    char *what = sent ? xasprintf("; it has the request and may still carry it out: look "
                                  "with 'crisisrun show %s' before trying again",
                                  id)
                      : xstrdup("; nothing was sent");
    if (process_stopped(run->owner_pid))
        error(
            "run %s does not answer: its process %lld is stopped (Ctrl-Z or SIGSTOP)%s; "
            "continue it with 'kill -CONT %lld', or 'fg' in its terminal",
            id, pid, what, pid);
    else
        error("run %s does not answer: its process %lld holds the run but did not answer "
              "within %d s%s; if it stays so, stop it with 'kill %lld' and "
              "continue the run with 'crisisrun resume %s'",
              id, pid, CALL_TIMEOUT_MS / 1000, what, pid, id);
    free(what);
    return EXIT_RUNTIME;
}

/*
 * 1 when the run's owner is not (or no longer) a stopped process.  A
 * request to a stopped runner would wait in its socket and be carried
 * out whenever it is continued, after the command had said it failed.
 * So the command sends nothing to it: it says the process is stopped and
 * waits, as long as a call may take, for the operator to continue it.
 * Its lease does not matter: a runner stopped for longer than its lease
 * still has its socket, and would still carry the request out.
 */
static int not_stopped(const struct journal_run *run, const char *id)
{
    int64_t end = monotonic_ms() + CALL_TIMEOUT_MS;
    int said = 0;
    while (owner_is_here(run) && process_stopped(run->owner_pid)) {
        if (monotonic_ms() >= end)
            return 0;
        if (!said++)
            fprintf(stderr,
                    "crisisrun: run %s: its process %lld is stopped (Ctrl-Z or SIGSTOP); "
                    "waiting for it to continue ('kill -CONT %lld', or 'fg' in its "
                    "terminal)\n",
                    id, (long long)run->owner_pid, (long long)run->owner_pid);
        pause_a_moment();
    }
    return 1;
}

/* A run whose process ended cleanly (it clears control_addr on its way out). */
static int ended(const struct journal_run *run, const char *id)
{
    if (run->state == RUN_STATE_RESOLVED)
        error("run %s is resolved and its process has ended", id);
    else if (run->state == RUN_STATE_INTERRUPTED)
        error("run %s was interrupted; continue it with 'crisisrun resume %s'", id, id);
    else if (run->state == RUN_STATE_FAILED)
        error("run %s stopped on an error; continue it with 'crisisrun resume %s'", id,
              id);
    else
        return gone(id);
    return EXIT_RUNTIME;
}

/* Reports "run ID: no WHAT 'NAME' in this playbook" as the run itself
 * words it (suggest_not_in_playbook()); releases sg. */
static int unknown(const char *id, const char *what, const char *name, struct suggest *sg)
{
    char *msg = suggest_not_in_playbook(sg, what, name);
    error("run %s: %s", id, msg);
    free(msg);
    return EXIT_USAGE;
}

/*
 * For a run whose process does not answer: EXIT_USAGE after reporting a
 * step or channel of body that the playbook recorded with the run
 * (runs.meta_json) does not have, or a trigger of a step that is not
 * `on: manual`; else 0.  A live run checks these itself, with the same
 * words; checked here too, a misspelt name stays a usage error (2) once
 * the process has ended, as a misspelt status does, rather than turning
 * into "the run is over" (1).  A run recorded without metadata is not
 * checked.  The suggestion for a misspelt step of `ack` is any step, not
 * only those with `ack:` as the run offers: the metadata does not say.
 */
static int check_names(const struct journal_run *run, const char *id, const char *action,
                       json_t *body)
{
    struct runmeta m;
    if (!run->meta_json || runmeta_parse(run->meta_json, &m) < 0)
        return 0;
    int ret = 0;
    const char *step = json_string_value(json_object_get(body, "step"));
    int trigger = !strcmp(action, "trigger");
    if (step && m.nsteps && (trigger || !strcmp(action, "ack"))) {
        const struct runmeta_step *s = runmeta_step(&m, step);
        if (!s) {
            struct suggest sg = SUGGEST_INIT;
            for (size_t i = 0; i < m.nsteps; i++)
                if (!trigger ||
                    (m.steps[i].timing && !strcmp(m.steps[i].timing, "on manual")))
                    suggest_add(&sg, m.steps[i].id);
            ret = unknown(id, "step", step, &sg);
        } else if (trigger && s->timing && strcmp(s->timing, "on manual")) {
            error("run %s: step '%s' is not an 'on: manual' step", id, step);
            ret = EXIT_USAGE;
        }
    }
    json_t *notify = json_object_get(body, "notify");
    for (size_t i = 0; !ret && m.nchannels && i < json_array_size(notify); i++) {
        const char *ch = json_string_value(json_array_get(notify, i));
        if (ch && !runmeta_channel(&m, ch)) {
            struct suggest sg = SUGGEST_INIT;
            for (size_t c = 0; c < m.nchannels; c++)
                suggest_add(&sg, m.channels[c].name);
            ret = unknown(id, "channel", ch, &sg);
        }
    }
    runmeta_release(&m);
    return ret;
}

static int post(const char *url, const char *token, const char *body, struct answer *a)
{
    struct http_client *c = http_client_new(
        &(struct http_options){.user_agent = "crisisrun", .plain_http_only = 1});
    if (!c)
        return -1;
    char *auth = xasprintf("Authorization: Bearer %s", token);
    const char *headers[] = {auth, "Content-Type: application/json"};
    struct http_request rq = {
        .url = url,
        .body = body,
        .len = strlen(body),
        .headers = headers,
        .nheaders = ARRAY_SIZE(headers),
        .timeout_ms = CALL_TIMEOUT_MS,
        .connect_timeout_ms = 2000,
    };
    int ret = http_start(c, &rq, on_done, a);
    while (!ret && !a->done) {
        if (http_wait(c, NULL, 0, 1000) < 0)
            ret = -1;
        else
            http_perform(c);
    }
    http_client_free(c);
    free_secret(auth);
    return ret;
}

int control_call(const struct cmd_ctx *ctx, const char *run_arg, const char *action,
                 json_t *body)
{
    char *db = cmd_db_path(ctx);
    struct journal *j = journal_open(db, 0);
    struct journal_run run;
    memset(&run, 0, sizeof(run));
    char id[JOURNAL_RUN_ID_LEN + 1];
    int ret = EXIT_RUNTIME;
    char *token = NULL, *url = NULL, *payload = NULL;
    struct answer a = {0};
    if (!j || journal_run_find(j, run_arg, id) < 0 || journal_run_get(j, id, &run) < 0)
        goto out;
    if (!run.control_addr) {
        /* The process ended cleanly (it clears the address) or never served. */
        ret = check_names(&run, id, action, body);
        if (!ret)
            ret = ended(&run, id);
        goto out;
    }
    if (owner_is_dead(&run)) {
        /* Killed: its address is still journaled but nobody answers there,
         * or worse, another process has the port now. */
        ret = check_names(&run, id, action, body);
        if (!ret)
            ret = gone(id);
        goto out;
    }
    if (!not_stopped(&run, id)) {
        ret = check_names(&run, id, action, body);
        if (!ret)
            ret = not_answering(&run, id, 0);
        goto out;
    }
    json_object_set_new(body, "actor", json_string(os_user()));
    payload = json_dumps(body, JSON_COMPACT);
    for (int tries = 0; tries < 2; tries++) {
        token = read_token(db, &run);
        if (!token) {
            error("no control token for run %s (is it running as another user?)", id);
            goto out;
        }
        url = xasprintf("%s/api/runs/%s/%s", run.control_addr, id, action);
        if (post(url, token, payload, &a) < 0)
            goto out;
        if (!a.error || tries)
            break;
        /* Something took the connection and held it without answering:
         * when the owner lives, that is the owner, stopped or stuck, and
         * its address will not change. */
        if (a.timed_out && owner_is_alive(&run))
            break;
        if (!new_address(j, id, &run))
            break;
        /* A resume serves the run now: ask it, with its token. */
        free_secret(token);
        free(url);
        free(a.body);
        free(a.error);
        token = url = NULL;
        memset(&a, 0, sizeof(a));
    }
    if (a.error) {
        /*
         * The process may have ended cleanly between our reading of its
         * address and the request (the run was resolved and settled, or
         * stopped by a signal): it clears the address in the journal
         * before it closes its socket, so the journal now says which.
         * Only a process that left its address behind is gone.
         */
        ret = check_names(&run, id, action, body);
        if (ret)
            goto out;
        struct journal_run now;
        memset(&now, 0, sizeof(now));
        if (journal_run_get(j, id, &now) < 0)
            ret = gone(id);
        else if (!now.control_addr)
            ret = ended(&now, id);
        else if (owner_is_alive(&now))
            ret = not_answering(&now, id, a.timed_out);
        else
            ret = gone(id);
        journal_run_release(&now);
        goto out;
    }
    json_t *resp = json_loads(a.body, 0, NULL);
    const char *msg = json_string_value(json_object_get(resp, "message"));
    const char *err = json_string_value(json_object_get(resp, "error"));
    if (a.status == 200) {
        printf("%s: %s\n", id, msg ? msg : "done");
        ret = EXIT_OK;
    } else {
        error("run %s: %s", id, err ? err : "the run refused the request");
        ret = a.status == 400 || a.status == 404 ? EXIT_USAGE : EXIT_RUNTIME;
    }
    json_decref(resp);
out:
    json_decref(body);
    free(payload);
    free(url);
    free_secret(token);
    free(a.body);
    free(a.error);
    journal_run_release(&run);
    journal_close(j);
    free(db);
    return ret;
}
