/*
 * fuzz_control.c - libFuzzer harness for control_request_parse()
 * (control_request.h): every control API request goes through it after the
 * bearer check.
 *
 * Input: byte 0 chooses the method (bits 0-2) and, when no path is given,
 * one of a few paths (bits 4-6); then the path up to the first NUL and the
 * body after it (without a NUL, all of it is the body).
 *
 * Invariants: the answer is 0 or one of 400, 404, 405, 413, with a message
 * exactly when it is not 0, a lowercase message that fits in a JSON answer;
 * 405 says which method to use; the run part is there exactly when the
 * path has one.  A request that parses has the arguments its action takes
 * and no others, within the limits, as text without control characters;
 * written back as a JSON body, it parses to the same request; and with a
 * body over the limit it is refused with 413.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/control_request.h"
#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"
#include "crisisrun/utf8.h"
#include "fuzz_common.h"

int fuzz_control_one(const uint8_t *data, size_t size);

static const char *const fuzz_control_methods[] = {"POST", "GET",    "PUT",  "HEAD",
                                                   "POST", "DELETE", "post", "OPTIONS"};
static const char *const fuzz_control_paths[] = {
    "/api/runs/0123456789ab/note",
    "/api/runs/0123/ack",
    "/api/runs/0123/status",
    "/api/runs/0123456789ab/trigger",
    "/api/runs/01/resolve",
    "/api/runs/0123456789ab",
    "/api/runs//ack",
    "/api",
};

static int fuzz_control_utf8(const char *s)
{
    size_t len = strlen(s);
    return utf8_check(s, len) == len;
}

/* s is text: UTF-8, no control character but tab (and line breaks when multiline). */
static void fuzz_control_text(const char *s, int multiline)
{
    FUZZ_CHECK(fuzz_control_utf8(s));
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        FUZZ_CHECK(c >= 0x20 ? c != 0x7f
                             : (c == '\t' || (multiline && (c == '\n' || c == '\r'))));
    }
}

static void fuzz_control_name(const char *s)
{
    FUZZ_CHECK(s && *s && strlen(s) <= CONTROL_MAX_NAME && fuzz_control_utf8(s));
}

static int fuzz_control_same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int fuzz_control_same(const struct control_request *a,
                             const struct control_request *b)
{
    if (a->action != b->action || a->action_item != b->action_item ||
        a->nnotify != b->nnotify || !fuzz_control_same_str(a->run, b->run) ||
        !fuzz_control_same_str(a->actor, b->actor) ||
        !fuzz_control_same_str(a->step, b->step) ||
        !fuzz_control_same_str(a->status, b->status) ||
        !fuzz_control_same_str(a->note, b->note) ||
        !fuzz_control_same_str(a->text, b->text))
        return 0;
    for (size_t i = 0; i < a->nnotify; i++)
        if (strcmp(a->notify[i], b->notify[i]))
            return 0;
    return 1;
}

/* The JSON body a client would send for rq (new string). */
static char *fuzz_control_body(const struct control_request *rq)
{
    json_t *o = json_pack("{s:s}", "actor", rq->actor);
    FUZZ_CHECK(o != NULL);
    const char *const fields[][2] = {{"step", rq->step},
                                     {"status", rq->status},
                                     {"note", rq->note},
                                     {"text", rq->text}};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        if (fields[i][1])
            FUZZ_CHECK(json_object_set_new(o, fields[i][0], json_string(fields[i][1])) ==
                       0);
    if (rq->action == CONTROL_NOTE) {
        json_t *n = json_array();
        for (size_t i = 0; i < rq->nnotify; i++)
            json_array_append_new(n, json_string(rq->notify[i]));
        json_object_set_new(o, "notify", n);
        json_object_set_new(o, "action", json_boolean(rq->action_item));
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    FUZZ_CHECK(s != NULL);
    return s;
}

static void fuzz_control_check_ok(const char *method, const char *path,
                                  const struct control_request *rq)
{
    FUZZ_CHECK(rq->run != NULL && !rq->allow);
    FUZZ_CHECK(!strcmp(method, rq->action == CONTROL_STATE ? "GET" : "POST"));
    if (rq->action == CONTROL_STATE) {
        FUZZ_CHECK(!rq->actor && !rq->step && !rq->status && !rq->note && !rq->text &&
                   !rq->nnotify);
        return;
    }
    FUZZ_CHECK(rq->actor && *rq->actor);
    fuzz_control_text(rq->actor, 0);
    size_t chars = 0;
    for (const char *p = rq->actor; *p; p++)
        chars += ((unsigned char)*p & 0xc0) != 0x80;
    FUZZ_CHECK(chars <= CONTROL_MAX_ACTOR);
    if (rq->step)
        fuzz_control_name(rq->step);
    if (rq->status)
        fuzz_control_name(rq->status);
    if (rq->note)
        fuzz_control_text(rq->note, 1);
    if (rq->text)
        fuzz_control_text(rq->text, 1);
    FUZZ_CHECK(rq->nnotify <= CONTROL_MAX_NOTIFY);
    for (size_t i = 0; i < rq->nnotify; i++)
        FUZZ_CHECK(strlen(rq->notify[i]) <= CONTROL_MAX_NAME &&
                   fuzz_control_utf8(rq->notify[i]));
    switch (rq->action) {
    case CONTROL_ACK:
        FUZZ_CHECK(!rq->status && !rq->note && !rq->text && !rq->nnotify);
        break;
    case CONTROL_STATUS:
        FUZZ_CHECK(rq->status && !rq->step && !rq->text && !rq->nnotify);
        break;
    case CONTROL_NOTE:
        FUZZ_CHECK(rq->text && *rq->text && !rq->step && !rq->status && !rq->note);
        break;
    case CONTROL_TRIGGER:
        FUZZ_CHECK(rq->step && !rq->status && !rq->note && !rq->text && !rq->nnotify);
        break;
    case CONTROL_RESOLVE:
        FUZZ_CHECK(!rq->step && !rq->status && !rq->text && !rq->nnotify);
        break;
    case CONTROL_STATE:
        break;
    }
    FUZZ_CHECK(rq->action_item == 0 || rq->action == CONTROL_NOTE);

    /* What a client would send for it parses to the same request. */
    char *body = fuzz_control_body(rq), *err;
    struct control_request again;
    FUZZ_CHECK(control_request_parse(method, path, body, strlen(body), &again, &err) ==
               0);
    FUZZ_CHECK(fuzz_control_same(rq, &again));
    control_request_release(&again);
    free(body);
    /* The same request with a body over the limit: 413, before the body is read. */
    FUZZ_CHECK(control_request_parse(method, path, NULL, SIZE_MAX, &again, &err) == 413);
    FUZZ_CHECK(again.action == rq->action);
    control_request_release(&again);
    free(err);
}

int fuzz_control_one(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *method = fuzz_control_methods[data[0] & 7];
    const char *rest = (const char *)data + 1;
    size_t rlen = size - 1;
    const char *nul = memchr(rest, '\0', rlen);
    char *path = nul ? xstrndup(rest, (size_t)(nul - rest))
                     : xstrdup(fuzz_control_paths[(data[0] >> 4) & 7]);
    const char *body = nul ? nul + 1 : rest;
    size_t len = nul ? rlen - (size_t)(nul + 1 - rest) : rlen;
    /* Not NUL-terminated: the parser must keep to len. */
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, body, len);

    struct control_request rq;
    char *err = (char *)1;
    int status = control_request_parse(method, path, copy, len, &rq, &err);
    FUZZ_CHECK(status == 0 || status == 400 || status == 404 || status == 405 ||
               status == 413);
    FUZZ_CHECK((status == 0) == (err == NULL));
    int has_run = !strncmp(path, "/api/runs/", 10) && path[10];
    FUZZ_CHECK((rq.run != NULL) == has_run);
    if (has_run)
        FUZZ_CHECK(!strncmp(rq.run, path + 10, strlen(rq.run)) &&
                   strchr("/", path[10 + strlen(rq.run)]));
    if (status) {
        FUZZ_CHECK((err[0] >= 'a' && err[0] <= 'z') || err[0] == '\'');
        json_t *answer = json_pack("{s:s}", "error", err);
        FUZZ_CHECK(answer != NULL);
        json_decref(answer);
        FUZZ_CHECK((status == 405) == (rq.allow != NULL));
        if (status == 405)
            FUZZ_CHECK(!strcmp(rq.allow, rq.action == CONTROL_STATE ? "GET" : "POST") &&
                       strcmp(method, rq.allow));
        free(err);
    } else {
        fuzz_control_check_ok(method, path, &rq);
    }
    control_request_release(&rq);
    free(copy);
    free(path);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_control_one(data, size);
}
#endif
