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
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/feedback_form.h"
#include "crisisrun/httpd.h"
#include "crisisrun/journal.h"
#include "crisisrun/runner_ops.h"
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
    char token[65];
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

static int write_token_file(const char *path, const char *token)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return error("cannot write the control token to '%s': %s", path, strerror(errno));
    /* An existing file keeps its mode through O_CREAT: force owner-only. */
    int ret = 0;
    if (fchmod(fd, 0600) < 0 || write(fd, token, strlen(token)) != (ssize_t)strlen(token) ||
        write(fd, "\n", 1) != 1)
        ret = error("cannot write the control token to '%s': %s", path, strerror(errno));
    if (close(fd) < 0 && !ret)
        ret = error("cannot write the control token to '%s': %s", path, strerror(errno));
    return ret;
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

static int authorized(const struct control *c, const struct httpd_request *req)
{
    const char *auth = httpd_header(req, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    const char *tok = auth + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(c->token);
    return strlen(tok) == n && CRYPTO_memcmp(tok, c->token, n) == 0;
}

/*
 * Reads an optional string field into *out (NULL when absent).  Returns 0,
 * or 400 with *msg set when the field has another type.
 */
static int str_field(json_t *o, const char *key, const char **out, char **msg)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        *msg = xasprintf("'%s' must be a string", key);
        return 400;
    }
    *out = json_string_value(v);
    return 0;
}

static int required(const char *v, const char *key, char **msg)
{
    if (v && *v)
        return 0;
    *msg = xasprintf("'%s' is required", key);
    return 400;
}

static int do_ack(struct runner *r, json_t *body, const char *who, char **msg)
{
    const char *step;
    int ret = str_field(body, "step", &step, msg);
    return ret ? ret : runner_op_ack(r, step, who, msg);
}

static int do_status(struct runner *r, json_t *body, const char *who, char **msg)
{
    const char *st, *note;
    int ret = str_field(body, "status", &st, msg);
    if (!ret)
        ret = str_field(body, "note", &note, msg);
    if (!ret)
        ret = required(st, "status", msg);
    return ret ? ret : runner_op_status(r, st, note, who, msg);
}

static int do_resolve(struct runner *r, json_t *body, const char *who, char **msg)
{
    const char *note;
    int ret = str_field(body, "note", &note, msg);
    return ret ? ret : runner_op_resolve(r, note, who, msg);
}

static int do_trigger(struct runner *r, json_t *body, const char *who, char **msg)
{
    const char *step;
    int ret = str_field(body, "step", &step, msg);
    if (!ret)
        ret = required(step, "step", msg);
    return ret ? ret : runner_op_trigger(r, step, who, msg);
}

static int do_note(struct runner *r, json_t *body, const char *who, char **msg)
{
    const char *text;
    int ret = str_field(body, "text", &text, msg);
    if (!ret)
        ret = required(text, "text", msg);
    if (ret)
        return ret;
    json_t *nj = json_object_get(body, "notify");
    json_t *aj = json_object_get(body, "action");
    if (aj && !json_is_boolean(aj)) {
        *msg = xstrdup("'action' must be true or false");
        return 400;
    }
    if (nj && !json_is_null(nj) && !json_is_array(nj)) {
        *msg = xstrdup("'notify' must be a list of channel names");
        return 400;
    }
    size_t n = json_array_size(nj);
    const char **names = xcalloc(n + 1, sizeof(*names));
    for (size_t i = 0; i < n; i++) {
        names[i] = json_string_value(json_array_get(nj, i));
        if (!names[i]) {
            free(names);
            *msg = xstrdup("'notify' must be a list of channel names");
            return 400;
        }
    }
    ret = runner_op_note(r, text, names, n, json_is_true(aj), who, msg);
    free(names);
    return ret;
}

/* The POST actions under /api/runs/{id}/, with the fields each accepts
 * (besides "actor"): an unknown field is a client's typo, answered 400. */
static const struct action {
    const char *name;
    const char *fields[4];
    int (*run)(struct runner *r, json_t *body, const char *who, char **msg);
} actions[] = {
    {"ack", {"step"}, do_ack},
    {"status", {"status", "note"}, do_status},
    {"note", {"text", "notify", "action"}, do_note},
    {"trigger", {"step"}, do_trigger},
    {"resolve", {"note"}, do_resolve},
};

static const struct action *find_action(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
        if (!strcmp(actions[i].name, name))
            return &actions[i];
    return NULL;
}

/* Runs one operator action with its JSON arguments. */
static int run_action(struct control *c, const struct action *a, json_t *body, char **msg)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        int known = !strcmp(key, "actor");
        for (size_t i = 0; !known && i < ARRAY_SIZE(a->fields) && a->fields[i]; i++)
            known = !strcmp(key, a->fields[i]);
        if (!known) {
            *msg = xasprintf("unknown field '%s' for '%s'", key, a->name);
            return 400;
        }
    }
    const char *who;
    int ret = str_field(body, "actor", &who, msg);
    if (ret)
        return ret;
    if (!who || !*who)
        who = "api";
    if (strlen(who) > CONTROL_MAX_ACTOR) {
        *msg = xasprintf("'actor' is longer than %d characters", CONTROL_MAX_ACTOR);
        return 400;
    }
    return a->run(c->r, body, who, msg);
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

static void handle_api(struct control *c, struct httpd_request *req)
{
    /* Before anything else looks at the request: no token, no answer. */
    if (!authorized(c, req)) {
        static const char *const hdrs[] = {"WWW-Authenticate", "Bearer", "Content-Type",
                                           "application/json", NULL};
        static const char body[] = "{\"error\":\"missing or wrong bearer token\"}";
        httpd_respond(req, 401, hdrs, body, sizeof(body) - 1);
        return;
    }
    if (strncmp(req->path, "/api/runs/", 10) != 0 || !req->path[10]) {
        respond_error(req, 404, "no such endpoint (use /api/runs/RUN)");
        return;
    }
    const char *rest = req->path + 10;
    size_t idlen = strcspn(rest, "/");
    const char *id = c->r->run.id;
    if (idlen == 0 || idlen > strlen(id) || strncmp(rest, id, idlen) != 0) {
        respond_error(req, 404, "no such run here: this process drives another run");
        return;
    }
    const char *name = rest[idlen] == '/' ? rest + idlen + 1 : "";
    if (!*name) {
        if (strcmp(req->method, "GET")) {
            respond_405(req, "GET");
            return;
        }
        respond_json(req, 200, runner_op_state(c->r));
        return;
    }
    const struct action *a = find_action(name);
    if (!a) {
        char *msg = xasprintf("unknown action '%s' (use ack, status, note, trigger or resolve)",
                              name);
        respond_error(req, 404, msg);
        free(msg);
        return;
    }
    if (strcmp(req->method, "POST")) {
        respond_405(req, "POST");
        return;
    }
    if (req->body_too_large || req->body_len > CONTROL_MAX_BODY) {
        char *msg = xasprintf("request body too large (at most %d bytes)", CONTROL_MAX_BODY);
        respond_error(req, 413, msg);
        free(msg);
        return;
    }
    json_error_t jerr;
    json_t *body = req->body_len ? json_loadb(req->body, req->body_len, 0, &jerr) : json_object();
    if (!json_is_object(body)) {
        json_decref(body);
        respond_error(req, 400, "the body must be a JSON object");
        return;
    }
    char *msg = NULL;
    int status = run_action(c, a, body, &msg);
    json_decref(body);
    json_t *answer = status == 200 ? json_pack("{s:b, s:s}", "ok", 1, "message", msg)
                                   : json_pack("{s:s}", "error", msg);
    free(msg);
    /*
     * Journal first: the action is in the run loop's open batch, so the
     * answer waits for control_commit().  A client told "acknowledged"
     * must never see the acknowledgement lost by a crash a moment later.
     */
    ALLOC_GROW(c->held, c->nheld + 1, c->aheld);
    c->held[c->nheld++] = (struct held){req, (unsigned)status,
                                        json_dumps(answer, JSON_COMPACT | JSON_SORT_KEYS)};
    json_decref(answer);
    httpd_suspend(req);
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
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        free(c);
        error("cannot make a control token: no randomness available");
        return NULL;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(c->token + 2 * i, 3, "%02x", raw[i]);
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
    if (write_token_file(c->token_path, c->token) < 0) {
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
    OPENSSL_cleanse(c->token, sizeof(c->token));
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
