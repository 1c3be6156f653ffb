/*
 * serve.c - `crisisrun serve`: feedback forms and a read-only API over
 * every run in the journal (see serve.h, docs/feedback.md).
 *
 * Run ids in the API match exactly or by unique prefix, like the CLI; the
 * match is done over the run list rather than journal_run_find(), which
 * reports a miss on stderr: a wrong id from a client is the client's
 * problem, answered with 404, not something for the server's log.
 */
#include "crisisrun/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/duration.h"
#include "crisisrun/feedback_form.h"
#include "crisisrun/httpd.h"
#include "crisisrun/journal.h"
#include "crisisrun/token.h"
#include "crisisrun/util.h"

struct serve {
    struct journal *j;
    struct httpd *h;
    char *public_url;
    char token[TOKEN_HEX_LEN + 1];
    char *token_path;
};

char *serve_token_path_for(const char *db_path)
{
    const char *slash = strrchr(db_path, '/');
    if (!slash)
        return xstrdup("serve.token");
    return xasprintf("%.*s/serve.token", (int)(slash - db_path), db_path);
}

/* ---- JSON answers --------------------------------------------------------------- */

static void respond_json(struct httpd_request *req, unsigned status, json_t *o,
                         const char *extra_name, const char *extra_value)
{
    const char *hdrs[] = {"Content-Type",
                          "application/json",
                          "Cache-Control",
                          "no-store",
                          extra_name,
                          extra_value,
                          NULL};
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    httpd_respond(req, status, hdrs, s, strlen(s));
    free(s);
}

static void respond_error(struct httpd_request *req, unsigned status, const char *msg)
{
    respond_json(req, status, json_pack("{s:s}", "error", msg), NULL, NULL);
}

/* An ISO 8601 time, or null for 0. */
static json_t *time_json(int64_t ms)
{
    if (!ms)
        return json_null();
    char buf[40];
    return json_string(iso8601_format(ms, buf, sizeof(buf)));
}

static json_t *run_json(const struct journal_run *r, int64_t wall_ms)
{
    json_t *feedback = json_pack("{s:s, s:o}", "window",
                                 feedback_window_name(feedback_window_at(r, wall_ms)),
                                 "closes", time_json(r->feedback_closes_ms));
    return json_pack(
        "{s:s, s:s, s:s, s:s?, s:s, s:s, s:b, s:f, s:o, s:o, s:o, s:o, s:s?, s:o}", "id",
        r->id, "playbook", r->playbook_name, "title", r->title, "severity", r->severity,
        "state", journal_run_state_name(r->state), "status", run_status_name(r->status),
        "drill", r->drill, "speed", r->speed > 0 ? r->speed : 1.0, "started",
        time_json(r->started_ms), "acknowledged", time_json(r->acknowledged_ms),
        "resolved", time_json(r->resolved_ms), "ended", time_json(r->ended_ms),
        "public_url", r->public_url, "feedback", feedback);
}

/* ---- routes ------------------------------------------------------------------------ */

static void get_runs(struct serve *s, struct httpd_request *req)
{
    struct journal_run *runs;
    size_t n;
    if (journal_run_list(s->j, &runs, &n) < 0) {
        respond_error(req, 500, "the journal cannot be read");
        return;
    }
    int64_t now = wallclock_ms();
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, run_json(&runs[i], now));
    journal_run_list_free(runs, n);
    respond_json(req, 200, json_pack("{s:o}", "runs", arr), NULL, NULL);
}

/* The run whose id is `id` or starts with it: 1 found (out filled), 0 none,
 * -1 error, -2 ambiguous. */
static int match_run(struct serve *s, const char *id, char *out)
{
    struct journal_run *runs;
    size_t n, found = 0;
    if (journal_run_list(s->j, &runs, &n) < 0)
        return -1;
    size_t len = strlen(id);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(runs[i].id, id)) {
            found = 1;
            memcpy(out, runs[i].id, sizeof(runs[i].id));
            break;
        }
        if (len && !strncmp(runs[i].id, id, len)) {
            if (!found++)
                memcpy(out, runs[i].id, sizeof(runs[i].id));
        }
    }
    journal_run_list_free(runs, n);
    return found > 1 ? -2 : (int)found;
}

static json_t *counts_json(struct serve *s, const char *id)
{
    long counts[DELIVERY_STATE_COUNT] = {0};
    struct journal_feedback *fb = NULL;
    struct journal_note *notes = NULL;
    struct journal_event *ev = NULL;
    size_t nfb = 0, nnotes = 0, nev = 0;
    json_t *ret = NULL;
    if (journal_notification_count(s->j, id, counts) < 0 ||
        journal_feedback_list(s->j, id, &fb, &nfb) < 0 ||
        journal_note_list(s->j, id, &notes, &nnotes) < 0 ||
        journal_event_list(s->j, id, &ev, &nev) < 0)
        goto out;
    json_t *notif = json_object();
    long total = 0;
    for (int st = 0; st < DELIVERY_STATE_COUNT; st++) {
        json_object_set_new(notif,
                            journal_delivery_state_name((enum journal_delivery_state)st),
                            json_integer(counts[st]));
        total += counts[st];
    }
    json_object_set_new(notif, "total", json_integer(total));
    long internal = 0, external = 0, actions = 0;
    for (size_t i = 0; i < nfb; i++)
        fb[i].audience == AUDIENCE_EXTERNAL ? external++ : internal++;
    for (size_t i = 0; i < nnotes; i++)
        actions += notes[i].action_item != 0;
    ret = json_pack("{s:o, s:{s:I, s:I, s:I}, s:I, s:I, s:I}", "notifications", notif,
                    "feedback", "responses", (json_int_t)nfb, "internal",
                    (json_int_t)internal, "external", (json_int_t)external, "notes",
                    (json_int_t)nnotes, "action_items", (json_int_t)actions, "events",
                    (json_int_t)nev);
out:
    journal_feedback_list_free(fb, nfb);
    journal_note_list_free(notes, nnotes);
    journal_event_list_free(ev, nev);
    return ret;
}

static void get_run(struct serve *s, struct httpd_request *req, const char *id)
{
    char full[JOURNAL_RUN_ID_LEN + 1];
    int m = strlen(id) > JOURNAL_RUN_ID_LEN ? 0 : match_run(s, id, full);
    if (m == 0 || m == -2) {
        respond_error(req, 404,
                      m ? "the run id is ambiguous: give more of it" : "no such run");
        return;
    }
    struct journal_run r;
    json_t *counts = NULL;
    if (m < 0 || journal_run_get(s->j, full, &r) < 0) {
        respond_error(req, 500, "the journal cannot be read");
        return;
    }
    counts = counts_json(s, full);
    if (!counts) {
        journal_run_release(&r);
        respond_error(req, 500, "the journal cannot be read");
        return;
    }
    json_t *o = run_json(&r, wallclock_ms());
    json_object_set_new(o, "counts", counts);
    journal_run_release(&r);
    respond_json(req, 200, o, NULL, NULL);
}

static void handle_api(struct serve *s, struct httpd_request *req)
{
    if (!token_bearer_ok(req, s->token)) {
        respond_json(req, 401,
                     json_pack("{s:s}", "error", "missing or wrong bearer token"),
                     "WWW-Authenticate", "Bearer");
        return;
    }
    const char *rest = NULL;
    if (!strcmp(req->path, "/api/runs") || !strcmp(req->path, "/api/runs/"))
        rest = "";
    else if (!strncmp(req->path, "/api/runs/", 10) && !strchr(req->path + 10, '/'))
        rest = req->path + 10;
    if (!rest) {
        respond_error(req, 404, "no such endpoint");
        return;
    }
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        respond_json(req, 405,
                     json_pack("{s:s}", "error",
                               "this API is read-only: operate a run through its own "
                               "process ('crisisrun ack', 'status', 'note', ...)"),
                     "Allow", "GET, HEAD");
        return;
    }
    if (*rest)
        get_run(s, req, rest);
    else
        get_runs(s, req);
}

static void handle(void *cls, struct httpd_request *req)
{
    struct serve *s = cls;
    if (!strncmp(req->path, "/api/", 5) || !strcmp(req->path, "/api"))
        handle_api(s, req);
    else if (!strcmp(req->path, "/healthz"))
        httpd_respond(req, 200, (const char *const[]){"Content-Type", "text/plain", NULL},
                      "ok\n", 3);
    else if (!feedback_form_handle(s->j, req, wallclock_ms()))
        httpd_respond(req, 404, (const char *const[]){"Content-Type", "text/plain", NULL},
                      "not found\n", 10);
}

/* ---- life cycle ----------------------------------------------------------------------
 */

struct serve *serve_start(struct journal *j, const struct serve_options *opt)
{
    struct serve *s = xcalloc(1, sizeof(*s));
    s->j = j;
    if (token_new(s->token, "an API token") < 0) {
        free(s);
        return NULL;
    }
    struct httpd_config cfg = {
        .listen = opt->listen ? opt->listen : SERVE_DEFAULT_LISTEN,
        .max_body = FEEDBACK_FORM_MAX_BODY,
        .deliver_oversized = 1,
        .handle = handle,
        .cls = s,
    };
    s->h = httpd_start(&cfg);
    if (!s->h) {
        serve_free(s);
        return NULL;
    }
    s->public_url = xstrdup(opt->public_url ? opt->public_url : httpd_url(s->h));
    s->token_path = serve_token_path_for(journal_path(j));
    if (token_write_file(s->token_path, s->token, "the API token") < 0) {
        free(s->token_path);
        s->token_path = NULL; /* not ours to remove */
        serve_free(s);
        return NULL;
    }
    return s;
}

void serve_free(struct serve *s)
{
    if (!s)
        return;
    httpd_free(s->h);
    if (s->token_path)
        unlink(s->token_path);
    free(s->token_path);
    free(s->public_url);
    token_forget(s->token);
    free(s);
}

size_t serve_fds(struct serve *s, struct pollfd *fds, size_t max)
{
    return httpd_fds(s->h, fds, max);
}

int64_t serve_timeout(struct serve *s)
{
    return httpd_timeout(s->h);
}

void serve_run(struct serve *s)
{
    httpd_run(s->h);
}

const char *serve_url(const struct serve *s)
{
    return httpd_url(s->h);
}

const char *serve_public_url(const struct serve *s)
{
    return s->public_url;
}

const char *serve_token_path(const struct serve *s)
{
    return s->token_path;
}
