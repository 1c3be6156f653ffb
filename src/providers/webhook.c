/*
 * webhook.c - generic JSON webhooks, signed per Standard Webhooks.
 *
 * Payload: one flat JSON object for machines, not people:
 *   {"type": "crisisrun.notification", "run", "playbook", "title",
 *    "severity", "status", "step", "message", "next_update", "timestamp",
 *    "drill"}
 * The notification id is not in the body, which is shared by every
 * endpoint of the channel: it travels as the webhook-id header.
 * `title` is the playbook title as written (`drill` says whether this is a
 * drill; `message` already starts with "[DRILL] " in drills), `severity`
 * and `next_update` are null when unset, `next_update` and `timestamp` are
 * ISO 8601.  No truncation: a receiver has no documented limit.
 *
 * Headers: every attempt carries `webhook-id` (the notification id,
 * identical across retries and resumes, so receivers can deduplicate) and
 * `webhook-timestamp` (the attempt's time); with a secret, also
 * `webhook-signature: v1,BASE64`.
 *
 * Success: any 2xx.
 */
#include <stdint.h>
#include <stdlib.h>

#include "crisisrun/signature.h"
#include "providers.h"

static json_t *text_or_null(const char *s)
{
    return *s ? provider_json_text(s, 0, 0) : json_null();
}

static char *webhook_render(const struct provider_message *m)
{
    return provider_json_dump(json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:b}",
        "type", "crisisrun.notification",
        "run", provider_json_text(m->run_id, 0, 0),
        "playbook", provider_json_text(m->playbook, 0, 0),
        "title", provider_json_text(m->title, 0, 0),
        "severity", text_or_null(m->severity),
        "status", run_status_name(m->status),
        "step", provider_json_text(m->step, 0, 0),
        "message", provider_json_text(m->text, 0, 0),
        "next_update", text_or_null(m->next_update_iso),
        "timestamp", provider_json_text(m->timestamp_iso, 0, 0),
        "drill", m->drill != 0));
}

/* v in decimal into out; snprintf() took 800 instructions for it, which
 * every attempt of a fan-out paid. */
static void decimal(char out[24], int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *out++ = '-';
    while (n)
        *out++ = tmp[--n];
    *out = '\0';
}

static void webhook_attempt_headers(const struct channel *ch, const char *notification_id,
                                    const char *body, size_t len, int64_t now_s,
                                    struct header_list *out)
{
    /* The id and timestamp go out signed or not: the id is how a receiver
     * recognises a re-send after resume (DESIGN.md "Delivery semantics"). */
    char ts[24];
    decimal(ts, now_s);
    header_list_add_pair(out, "webhook-id", notification_id);
    header_list_add_pair(out, "webhook-timestamp", ts);
    if (!ch->secret)
        return;
    char *sig = signature_sign(ch->secret, notification_id, now_s, body, len);
    if (!sig) {
        /* The loader checks secrets; reaching this is a bug, not bad input. */
        error("channel '%s' has a malformed signing secret; request sent unsigned",
              ch->name);
        return;
    }
    header_list_add_pair(out, "webhook-signature", sig);
    free(sig);
}

static enum delivery_result webhook_classify(long status, const char *body, size_t len,
                                             int64_t *retry_after_ms)
{
    return provider_classify_http(status);
}

const struct provider provider_webhook = {
    .name = "webhook",
    .type = CHANNEL_WEBHOOK,
    .escape = TEMPLATE_ESCAPE_NONE,
    .render = webhook_render,
    .attempt_headers = webhook_attempt_headers,
    .classify = webhook_classify,
};
