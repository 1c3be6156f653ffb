/*
 * control.c - the control API of a live run (see control.h, docs/api.md).
 *
 * Routing is a short table of (method, action) pairs under
 * /api/runs/{id}; the bearer check happens before any of it.  Bodies are
 * small JSON objects mirroring the CLI's arguments; answers are JSON
 * objects with "ok" and "message", or "error".
 *
 * Deliberate choice: an action's answer is held (the request suspended)
 * until the run loop has committed the journal batch that records the
 * action (control_commit), so "acknowledged" is never said of an
 * acknowledgement a crash could still lose.
 */
#include "crisisrun/control.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/control_request.h"
#include "crisisrun/feedback_form.h"
#include "crisisrun/httpd.h"
#include "crisisrun/journal.h"
#include "crisisrun/runner_ops.h"
#include "crisisrun/token.h"
#include "crisisrun/util.h"
#include "runner_internal.h"

/* An action's answer, held until the journal batch that records it commits. */
struct held {
    struct httpd_request *req;
    unsigned status;
    char *body;
};

struct control {
    struct runner *r;
    struct httpd *h;
    char token[TOKEN_HEX_LEN + 1];
    char *token_path;
    struct held *held;
    size_t nheld, aheld;
    int released; /* answers given since the last control_run: send them now */
};

char *control_token_path(const char *db_path, const char *run_id)
{
    const char *slash = strrchr(db_path, '/');
    if (!slash)
        return xasprintf("run-%s.token", run_id);
    return xasprintf("%.*s/run-%s.token", (int)(slash - db_path), db_path, run_id);
}

static void respond_json(struct httpd_request *req, unsigned status, json_t *o)
{
    static const char *const hdrs[] = {"Content-Type", "application/json",
                                       "Cache-Control", "no-store", NULL};
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    httpd_respond(req, status, hdrs, s, strlen(s));
    free(s);
}

static void respond_error(struct httpd_request *req, unsigned status, const char *msg)
{
    respond_json(req, status, json_pack("{s:s}", "error", msg));
}

/* Runs one parsed action on the run; returns its HTTP status and *msg. */
static int run_action(struct runner *r, const struct control_request *rq, char **msg)
{
    switch (rq->action) {
    case CONTROL_ACK:
        return runner_op_ack(r, rq->step, rq->actor, msg);
    case CONTROL_STATUS:
        return runner_op_status(r, rq->status, rq->note, rq->actor, msg);
    case CONTROL_NOTE:
        return runner_op_note(r, rq->text, (const char *const *)rq->notify, rq->nnotify,
                              rq->action_item, rq->actor, msg);
    case CONTROL_TRIGGER:
        return runner_op_trigger(r, rq->step, rq->actor, msg);
    case CONTROL_RESOLVE:
        return runner_op_resolve(r, rq->note, rq->actor, msg);
    case CONTROL_STATE:
        break;
    }
    *msg = xstrdup("not an action");
    return 500;
}

static void respond_405(struct httpd_request *req, const char *allow)
{
    const char *const hdrs[] = {"Allow", allow, "Content-Type", "application/json",
                                "Cache-Control", "no-store", NULL};
    json_t *o = json_pack("{s:s}", "error", !strcmp(allow, "GET") ? "use GET" : "use POST");
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    httpd_respond(req, 405, hdrs, s, strlen(s));
    free(s);
}

/*
 * Acts, and holds the answer: the action is in the run loop's open batch,
 * so the answer waits for control_commit().  A client told "acknowledged"
 * must never see the acknowledgement lost by a crash a moment later.  (A
 * request refused before acting journaled nothing and is answered at once.)
 */
static void hold_answer(struct control *c, struct httpd_request *req,
                        const struct control_request *rq)
{
    char *msg = NULL;
    int status = run_action(c->r, rq, &msg);
    json_t *answer = status == 200 ? json_pack("{s:b, s:s}", "ok", 1, "message", msg)
                                   : json_pack("{s:s}", "error", msg);
    free(msg);
    ALLOC_GROW(c->held, c->nheld + 1, c->aheld);
    c->held[c->nheld++] = (struct held){
        req, (unsigned)status, json_dumps(answer, JSON_COMPACT | JSON_SORT_KEYS)};
    json_decref(answer);
    httpd_suspend(req);
}

static void handle_api(struct control *c, struct httpd_request *req)
{
    /* Before anything else looks at the request: no token, no answer. */
    if (!token_bearer_ok(req, c->token)) {
        static const char *const hdrs[] = {"WWW-Authenticate", "Bearer", "Content-Type",
                                           "application/json", NULL};
        static const char body[] = "{\"error\":\"missing or wrong bearer token\"}";
        httpd_respond(req, 401, hdrs, body, sizeof(body) - 1);
        return;
    }
    struct control_request rq;
    char *err;
    int status =
        control_request_parse(req->method, req->path, req->body,
                              req->body_too_large ? SIZE_MAX : req->body_len, &rq, &err);
    const char *id = c->r->run.id;
    size_t idlen = rq.run ? strlen(rq.run) : 0;
    if (rq.run && (idlen == 0 || idlen > strlen(id) || strncmp(rq.run, id, idlen) != 0))
        respond_error(req, 404, "no such run here: this process drives another run");
    else if (status == 405)
        respond_405(req, rq.allow);
    else if (status)
        respond_error(req, (unsigned)status, err);
    else if (rq.action == CONTROL_STATE)
        respond_json(req, 200, runner_op_state(c->r));
    else
        hold_answer(c, req, &rq);
    free(err);
    control_request_release(&rq);
}

void control_commit(struct control *c)
{
    static const char *const hdrs[] = {"Content-Type", "application/json",
                                       "Cache-Control", "no-store", NULL};
    if (!c)
        return;
    /* httpd_respond may end a request, whose `closed` callback edits the list. */
    struct held *v = c->held;
    size_t n = c->nheld;
    c->held = NULL;
    c->nheld = c->aheld = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].req) {
            httpd_respond(v[i].req, v[i].status, hdrs, v[i].body, strlen(v[i].body));
            c->released = 1;
        }
        free(v[i].body);
    }
    free(v);
}

int control_holding(const struct control *c)
{
    return c && c->nheld > 0;
}

/* A held request whose client went away (or the server is stopping). */
static void closed(void *cls, struct httpd_request *req)
{
    struct control *c = cls;
    for (size_t i = 0; i < c->nheld; i++)
        if (c->held[i].req == req)
            c->held[i].req = NULL;
}

static void handle(void *cls, struct httpd_request *req)
{
    struct control *c = cls;
    if (!strncmp(req->path, "/api/", 5) || !strcmp(req->path, "/api")) {
        handle_api(c, req);
    } else if (!strcmp(req->path, "/healthz")) {
        httpd_respond(req, 200, NULL, "ok\n", 3);
    } else if (!feedback_form_handle(c->r->j, req, wallclock_ms())) {
        respond_error(req, 404, "not found");
    }
}

struct control *control_start(struct runner *r, const char *listen)
{
    struct control *c = xcalloc(1, sizeof(*c));
    c->r = r;
    if (token_new(c->token, "a control token") < 0) {
        free(c);
        return NULL;
    }
    struct httpd_config cfg = {
        .listen = listen ? listen : "127.0.0.1:0",
        .max_body = FEEDBACK_FORM_MAX_BODY > CONTROL_MAX_BODY ? FEEDBACK_FORM_MAX_BODY
                                                               : CONTROL_MAX_BODY,
        .deliver_oversized = 1,
        .handle = handle,
        .closed = closed,
        .cls = c,
    };
    c->h = httpd_start(&cfg);
    if (!c->h) {
        free(c);
        return NULL;
    }
    c->token_path = control_token_path(journal_path(r->j), r->run.id);
    if (token_write_file(c->token_path, c->token, "the control token") < 0) {
        control_free(c);
        return NULL;
    }
    return c;
}

void control_free(struct control *c)
{
    if (!c)
        return;
    /* Answers never committed are not given: the clients see the
     * connection close, as they would if the process had died. */
    httpd_free(c->h);
    for (size_t i = 0; i < c->nheld; i++)
        free(c->held[i].body);
    free(c->held);
    if (c->token_path)
        unlink(c->token_path);
    free(c->token_path);
    token_forget(c->token);
    free(c);
}

size_t control_fds(struct control *c, struct pollfd *fds, size_t max)
{
    return c ? httpd_fds(c->h, fds, max) : 0;
}

int64_t control_timeout(struct control *c)
{
    if (!c)
        return -1;
    return c->released ? 0 : httpd_timeout(c->h);
}

void control_run(struct control *c)
{
    if (!c)
        return;
    c->released = 0;
    httpd_run(c->h);
}

const char *control_url(const struct control *c)
{
    return httpd_url(c->h);
}

const char *control_token(const struct control *c)
{
    return c->token;
}
