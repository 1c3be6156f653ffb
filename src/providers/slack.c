/*
 * slack.c - Slack incoming webhooks.
 *
 * Payload: top-level `text` is the notification fallback (the message
 * itself), `blocks` holds the headline, and one attachment carries the
 * status colour as its bar with the severity/status fields and the message
 * in its own blocks, so the colour runs alongside the whole update.
 *
 * Limits: a section block's text is at most 3000 characters, a field's 2000;
 * every text is cut visibly below those, never splitting an "&amp;".
 *
 * Success: Slack answers 200 with the body "ok".  A 200 with anything else
 * is not a confirmed delivery and is classified permanent: re-sending the
 * same payload gets the same answer, and a retry could post twice if Slack
 * did accept it.  Errors otherwise come as 400 (invalid_payload), 403
 * (action_prohibited), 404 (channel_not_found, no_service), 410
 * (channel_is_archived), 429 and 5xx, which the shared rules cover.
 */
#include <stdlib.h>
#include <string.h>

#include "providers.h"

#define SLACK_SECTION_MAX 3000
#define SLACK_FIELD_MAX 2000
#define SLACK_HEADLINE_MAX 150

static json_t *mrkdwn(json_t *text)
{
    return json_pack("{s:s, s:o}", "type", "mrkdwn", "text", text);
}

static json_t *field(const char *label, const char *value)
{
    char *escaped = template_escape_value(value, TEMPLATE_ESCAPE_SLACK);
    char *s = xasprintf("*%s*\n%s", label, escaped);
    json_t *j = mrkdwn(provider_json_text(s, SLACK_FIELD_MAX, 1));
    free(escaped);
    free(s);
    return j;
}

static char *slack_render(const struct provider_message *m)
{
    char *headline = provider_headline(m, TEMPLATE_ESCAPE_SLACK, SLACK_HEADLINE_MAX);
    char *bold = xasprintf("*%s*", headline);
    json_t *fields = json_array();
    json_t *inner = json_array();

    if (*m->severity)
        json_array_append_new(fields, field("Severity", m->severity));
    json_array_append_new(fields, field("Status", run_status_name(m->status)));
    json_array_append_new(inner, json_pack("{s:s, s:o}", "type", "section", "fields", fields));
    /* Slack rejects a section whose text is empty. */
    if (*m->text)
        json_array_append_new(
            inner, json_pack("{s:s, s:o}", "type", "section", "text",
                             mrkdwn(provider_json_text(m->text, SLACK_SECTION_MAX, 1))));

    json_t *root = json_pack(
        "{s:o, s:[{s:s, s:o}], s:[{s:s, s:o, s:o}]}",
        "text", provider_json_text(*m->text ? m->text : headline, SLACK_SECTION_MAX, 1),
        "blocks", "type", "section", "text", mrkdwn(provider_json_text(bold, 0, 0)),
        "attachments", "color", provider_status_hex(m->status),
        "fallback", provider_json_text(run_status_name(m->status), 0, 0),
        "blocks", inner);
    free(bold);
    free(headline);
    return provider_json_dump(root);
}

static size_t slack_text_max(const struct provider_message *m)
{
    return SLACK_SECTION_MAX;
}

static enum delivery_result slack_classify(long status, const char *body, size_t len,
                                           int64_t *retry_after_ms)
{
    if (status == 200)
        return len == 2 && !memcmp(body, "ok", 2) ? DELIVERY_OK : DELIVERY_PERMANENT;
    return provider_classify_http(status);
}

const struct provider provider_slack = {
    .name = "slack",
    .type = CHANNEL_SLACK,
    .escape = TEMPLATE_ESCAPE_SLACK,
    .rate_count = 1,
    .rate_per_ms = 1000,
    .render = slack_render,
    .text_max = slack_text_max,
    .classify = slack_classify,
};
