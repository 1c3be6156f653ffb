/*
 * control_request.h - a control API request, parsed (docs/api.md): the
 * method, path and JSON body of a request to /api/runs/{id}[/ACTION] turned
 * into the action and its typed, bounded arguments, or into the HTTP
 * status and message that refuse it.
 *
 * Parsing is apart from acting (control.c) so that it can be tested and
 * fuzzed without a run: it reads nothing but its arguments and decides
 * only what the request says, not whether the run can do it (an unknown
 * step or a resolved run is the runner's answer, runner_ops.h).  The
 * bearer token is checked before this is called.
 *
 * Limits: a body over CONTROL_MAX_BODY bytes; "actor" over
 * CONTROL_MAX_ACTOR characters; a step, status or channel name over
 * CONTROL_MAX_NAME bytes (longer than any playbook identifier); more than
 * CONTROL_MAX_NOTIFY channels in "notify".  Text is UTF-8 (jansson
 * guarantees it) without control characters: "text" and "note" may hold
 * tabs and line breaks, "actor" only tabs.
 */
#ifndef CRISISRUN_CONTROL_REQUEST_H
#define CRISISRUN_CONTROL_REQUEST_H

#include <stddef.h>

#include "crisisrun/control.h" /* CONTROL_MAX_BODY, CONTROL_MAX_ACTOR */

#define CONTROL_MAX_NAME 128   /* bytes: playbook identifiers are at most 128 */
#define CONTROL_MAX_NOTIFY 256 /* channels one note is broadcast to */

enum control_action {
    CONTROL_STATE,   /* GET /api/runs/{id} */
    CONTROL_ACK,     /* POST .../ack {step?} */
    CONTROL_STATUS,  /* POST .../status {status, note?} */
    CONTROL_NOTE,    /* POST .../note {text, notify?, action?} */
    CONTROL_TRIGGER, /* POST .../trigger {step} */
    CONTROL_RESOLVE, /* POST .../resolve {note?} */
};

/* Every string is owned by the request (control_request_release). */
struct control_request {
    enum control_action action;
    /*
     * The path's run part, as given (the server matches it against its run
     * id, a prefix being enough); "" in "/api/runs//ack".  Set whenever the
     * path is /api/runs/SOMETHING, even when the request is refused for
     * another reason, so the server can say "no such run" first.  NULL for
     * any other path.
     */
    char *run;
    const char *allow; /* with status 405: the method the path takes (static) */
    char *actor;       /* who acts: "api" when absent or empty */
    char *step;        /* ack: NULL for the run itself; trigger: required */
    char *status;      /* status: required */
    char *note;        /* status, resolve: NULL when none */
    char *text;        /* note: required */
    char **notify;     /* note: channel names, nnotify of them */
    size_t nnotify;
    int action_item; /* note: "action": true, a follow-up action item */
};

/*
 * Parses one request into *out, which it initialises (release it whatever
 * the result).  body holds len bytes and need not be NUL-terminated; an
 * empty body is {}.  A len over CONTROL_MAX_BODY gives 413 without the body
 * being read: a server that dropped an oversize body passes SIZE_MAX.
 *
 * Returns 0 when the request is well formed; else the HTTP status that
 * refuses it, with *err a new lowercase message for the client (valid
 * UTF-8, so it always fits in a JSON answer), checked in this order:
 * 404 not /api/runs/{id}[/ACTION].  The run: 405 for another method than
 * GET.  An action: 404 unknown; 405 for another method than POST; 413 the
 * body is too large; 400 the body is not a JSON object, has a field the
 * action does not take, a field of the wrong type, misses a required
 * field, or breaks a limit above.  With 405, out->allow says which method.
 */
int control_request_parse(const char *method, const char *path, const char *body,
                          size_t len, struct control_request *out, char **err);
void control_request_release(struct control_request *rq);

#endif
