/*
 * control_request.c - parsing control API requests (control_request.h).
 *
 * One table lists the actions with the fields each takes; the checks run
 * in the order the API documents, so a request with several problems gets
 * the same answer whichever client sent it.  Nothing here may put a byte
 * from the request into a message unchecked: the message goes into a JSON
 * answer, and jansson refuses a string that is not UTF-8.
 */
#include "crisisrun/control_request.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"
#include "crisisrun/utf8.h"

static const struct {
    const char *name;
    enum control_action action;
    const char *fields[4]; /* besides "actor"; an unknown field is a typo: 400 */
} actions[] = {
    {"ack", CONTROL_ACK, {"step"}},
    {"status", CONTROL_STATUS, {"status", "note"}},
    {"note", CONTROL_NOTE, {"text", "notify", "action"}},
    {"trigger", CONTROL_TRIGGER, {"step"}},
    {"resolve", CONTROL_RESOLVE, {"note"}},
};

static int fail(char **err, int status, char *msg)
{
    *err = msg;
    return status;
}

/* 1 when s can be quoted in a message: short UTF-8 text. */
static int quotable(const char *s)
{
    size_t len = strlen(s);
    if (len > CONTROL_MAX_NAME || utf8_check(s, len) != len)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/*
 * Text as people type it: no control character but tab and, when
 * multiline, line breaks.  (jansson has checked that it is UTF-8 and has
 * no NUL.)  Returns 0 or 400.
 */
static int check_text(const char *key, const char *s, int multiline, char **err)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t' && !(multiline && (c == '\n' || c == '\r'))) ||
            c == 0x7f)
            return fail(err, 400, xasprintf("'%s' contains a control character", key));
    }
    return 0;
}

/*
 * Copies the optional string field key into *out (NULL when absent or
 * null).  Returns 0, or 400 when it has another type.
 */
static int str_field(json_t *o, const char *key, char **out, char **err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(err, 400, xasprintf("'%s' must be a string", key));
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int required(const char *v, const char *key, char **err)
{
    if (v && *v)
        return 0;
    return fail(err, 400, xasprintf("'%s' is required", key));
}

/* A step, status or channel name: at most CONTROL_MAX_NAME bytes. */
static int name_field(json_t *o, const char *key, char **out, char **err)
{
    int ret = str_field(o, key, out, err);
    if (!ret && *out && strlen(*out) > CONTROL_MAX_NAME)
        ret = fail(err, 400,
                   xasprintf("'%s' is longer than %d bytes", key, CONTROL_MAX_NAME));
    return ret;
}

static int text_field(json_t *o, const char *key, char **out, char **err)
{
    int ret = str_field(o, key, out, err);
    if (!ret && *out)
        ret = check_text(key, *out, 1, err);
    return ret;
}

static int notify_field(json_t *o, struct control_request *rq, char **err)
{
    json_t *nj = json_object_get(o, "notify");
    if (!nj || json_is_null(nj))
        return 0;
    if (!json_is_array(nj))
        return fail(err, 400, xstrdup("'notify' must be a list of channel names"));
    size_t n = json_array_size(nj);
    if (n > CONTROL_MAX_NOTIFY)
        return fail(
            err, 400,
            xasprintf("'notify' names more than %d channels", CONTROL_MAX_NOTIFY));
    rq->notify = xcalloc(n + 1, sizeof(*rq->notify));
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(nj, i));
        if (!name)
            return fail(err, 400, xstrdup("'notify' must be a list of channel names"));
        if (strlen(name) > CONTROL_MAX_NAME)
            return fail(err, 400,
                        xasprintf("a channel in 'notify' is longer than %d bytes",
                                  CONTROL_MAX_NAME));
        rq->notify[rq->nnotify++] = xstrdup(name);
    }
    return 0;
}

/* The arguments of one action, in the order the API checks them. */
static int action_fields(json_t *body, struct control_request *rq, char **err)
{
    int ret = 0;
    json_t *aj;
    switch (rq->action) {
    case CONTROL_ACK:
        ret = name_field(body, "step", &rq->step, err);
        if (!ret && rq->step && !*rq->step) {
            free(rq->step);
            rq->step = NULL;
        }
        return ret;
    case CONTROL_STATUS:
        ret = name_field(body, "status", &rq->status, err);
        if (!ret)
            ret = text_field(body, "note", &rq->note, err);
        return ret ? ret : required(rq->status, "status", err);
    case CONTROL_RESOLVE:
        return text_field(body, "note", &rq->note, err);
    case CONTROL_TRIGGER:
        ret = name_field(body, "step", &rq->step, err);
        return ret ? ret : required(rq->step, "step", err);
    case CONTROL_NOTE:
        ret = text_field(body, "text", &rq->text, err);
        if (!ret)
            ret = required(rq->text, "text", err);
        if (ret)
            return ret;
        aj = json_object_get(body, "action");
        if (aj && !json_is_boolean(aj))
            return fail(err, 400, xstrdup("'action' must be true or false"));
        rq->action_item = json_is_true(aj);
        return notify_field(body, rq, err);
    case CONTROL_STATE:
        break;
    }
    return 0;
}

/* The body of action a: a JSON object with a's fields and "actor" only. */
static int parse_body(const char *body, size_t len, size_t a, struct control_request *rq,
                      char **err)
{
    json_error_t jerr;
    json_t *o = len ? json_loadb(body, len, 0, &jerr) : json_object();
    int ret = 0;
    if (!json_is_object(o)) {
        ret = fail(err, 400, xstrdup("the body must be a JSON object"));
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        int known = !strcmp(key, "actor");
        for (size_t i = 0;
             !known && i < ARRAY_SIZE(actions[a].fields) && actions[a].fields[i]; i++)
            known = !strcmp(key, actions[a].fields[i]);
        if (!known) {
            ret = fail(err, 400,
                       xasprintf("unknown field '%s' for '%s'", key, actions[a].name));
            goto out;
        }
    }
    ret = str_field(o, "actor", &rq->actor, err);
    if (ret)
        goto out;
    if (rq->actor && *rq->actor) {
        size_t chars = 0;
        for (const char *p = rq->actor; *p; p++)
            chars += ((unsigned char)*p & 0xc0) != 0x80;
        if (chars > CONTROL_MAX_ACTOR) {
            ret = fail(
                err, 400,
                xasprintf("'actor' is longer than %d characters", CONTROL_MAX_ACTOR));
            goto out;
        }
        ret = check_text("actor", rq->actor, 0, err);
        if (ret)
            goto out;
    } else {
        free(rq->actor);
        rq->actor = xstrdup("api");
    }
    ret = action_fields(o, rq, err);
out:
    json_decref(o);
    return ret;
}

int control_request_parse(const char *method, const char *path, const char *body,
                          size_t len, struct control_request *out, char **err)
{
    static const char prefix[] = "/api/runs/";
    memset(out, 0, sizeof(*out));
    *err = NULL;
    if (strncmp(path, prefix, sizeof(prefix) - 1) || !path[sizeof(prefix) - 1])
        return fail(err, 404, xstrdup("no such endpoint (use /api/runs/RUN)"));
    const char *rest = path + sizeof(prefix) - 1;
    size_t idlen = strcspn(rest, "/");
    out->run = xstrndup(rest, idlen);
    const char *name = rest[idlen] == '/' ? rest + idlen + 1 : "";
    if (!*name) {
        out->action = CONTROL_STATE;
        if (strcmp(method, "GET")) {
            out->allow = "GET";
            return fail(err, 405, xstrdup("use GET"));
        }
        return 0;
    }
    size_t a = 0;
    while (a < ARRAY_SIZE(actions) && strcmp(actions[a].name, name))
        a++;
    if (a == ARRAY_SIZE(actions)) {
        if (quotable(name))
            return fail(
                err, 404,
                xasprintf("unknown action '%s' (use ack, status, note, trigger or "
                          "resolve)",
                          name));
        return fail(
            err, 404,
            xstrdup("unknown action (use ack, status, note, trigger or resolve)"));
    }
    out->action = actions[a].action;
    if (strcmp(method, "POST")) {
        out->allow = "POST";
        return fail(err, 405, xstrdup("use POST"));
    }
    if (len > CONTROL_MAX_BODY)
        return fail(
            err, 413,
            xasprintf("request body too large (at most %d bytes)", CONTROL_MAX_BODY));
    return parse_body(body, len, a, out, err);
}

void control_request_release(struct control_request *rq)
{
    free(rq->run);
    free(rq->actor);
    free(rq->step);
    free(rq->status);
    free(rq->note);
    free(rq->text);
    for (size_t i = 0; i < rq->nnotify; i++)
        free(rq->notify[i]);
    free(rq->notify);
    memset(rq, 0, sizeof(*rq));
}
