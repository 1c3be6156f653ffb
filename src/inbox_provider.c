/*
 * inbox_provider.c - how each chat service answers a webhook message, for
 * the inbox: status codes and bodies of success, and the refusals of
 * malformed messages, as the real services send them (docs/inbox.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"
#include "inbox_answer.h"

void answer_release(struct answer *a)
{
    free(a->body);
    free(a->hvalue);
    memset(a, 0, sizeof(*a));
}

void answer_set(struct answer *a, unsigned status, const char *ctype, const char *body)
{
    a->status = status;
    a->ctype = ctype;
    free(a->body);
    a->body = body ? xstrdup(body) : NULL;
    a->len = body ? strlen(body) : 0;
}

void answer_json(struct answer *a, unsigned status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    answer_set(a, status, "application/json", s);
    free(s);
}

static int has_nonempty(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return (json_is_string(v) && json_string_length(v) > 0) ||
           (json_is_array(v) && json_array_size(v) > 0);
}

static void thread_name(const struct httpd_request *req, const char *space, long seq,
                        char **out)
{
    const char *key = httpd_query_arg(req, "threadKey");
    if (!key) {
        *out = xasprintf("spaces/%s/threads/t%ld", space, seq);
        return;
    }
    /* A stable id per thread key, as the service keeps one thread a key. */
    uint32_t hash = 2166136261u;
    for (const char *p = key; *p; p++)
        hash = (hash ^ (unsigned char)*p) * 16777619u;
    *out = xasprintf("spaces/%s/threads/k%08x", space, hash);
}

void inbox_provider_answer(const struct httpd_request *req, const char *provider,
                           const char *channel, long seq, struct answer *a)
{
    json_error_t jerr;
    json_t *msg = json_loadb(req->body, req->body_len, 0, &jerr);
    int is_obj = json_is_object(msg);

    if (!strcmp(provider, "slack") || !strcmp(provider, "mattermost")) {
        if (!is_obj)
            answer_set(a, 400, "text/plain", "invalid_payload");
        else if (!has_nonempty(msg, "text") && !has_nonempty(msg, "blocks") &&
                 !has_nonempty(msg, "attachments"))
            answer_set(a, 400, "text/plain", "no_text");
        else
            answer_set(a, 200, "text/plain", "ok");
    } else if (!strcmp(provider, "discord")) {
        if (!is_obj)
            answer_json(a, 400,
                        json_pack("{s:i,s:s}", "code", 50109, "message",
                                  "The request body contains invalid JSON."));
        else if (!has_nonempty(msg, "content") && !has_nonempty(msg, "embeds"))
            answer_json(a, 400,
                        json_pack("{s:i,s:s}", "code", 50006, "message",
                                  "Cannot send an empty message"));
        else
            answer_set(a, 204, NULL, NULL);
    } else if (!strcmp(provider, "teams")) {
        if (!is_obj)
            answer_json(a, 400,
                        json_pack("{s:{s:s,s:s}}", "error", "code",
                                  "InvalidRequestContent", "message",
                                  "The request content is not valid JSON."));
        else
            answer_set(a, 202, NULL, NULL);
    } else if (!strcmp(provider, "googlechat")) {
        if (!is_obj || (!has_nonempty(msg, "text") && !has_nonempty(msg, "cardsV2") &&
                        !has_nonempty(msg, "cards"))) {
            answer_json(a, 400,
                        json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 400, "message",
                                  is_obj ? "Message cannot be empty."
                                         : "Invalid JSON payload received.",
                                  "status", "INVALID_ARGUMENT"));
        } else {
            const char *slash = strchr(channel, '/');
            char *space = xstrdup(slash && slash[1] ? slash + 1 : "inbox");
            char *sl = strchr(space, '/');
            if (sl)
                *sl = '\0';
            char *name = xasprintf("spaces/%s/messages/m%ld", space, seq);
            char *thread;
            thread_name(req, space, seq, &thread);
            const char *text = json_string_value(json_object_get(msg, "text"));
            answer_json(a, 200,
                        json_pack("{s:s,s:s,s:{s:s}}", "name", name, "text",
                                  text ? text : "", "thread", "name", thread));
            free(name);
            free(thread);
            free(space);
        }
    } else {
        answer_json(a, 200, json_pack("{s:b}", "ok", 1));
    }
    json_decref(msg);
}
