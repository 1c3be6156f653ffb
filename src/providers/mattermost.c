/*
 * mattermost.c - Mattermost incoming webhooks (the Slack-compatible format).
 *
 * Payload: `text` holds the headline in bold and the message (Markdown,
 * searchable, what notifications show); one attachment carries the status
 * colour with the severity and status as short fields.  Mattermost's
 * Markdown reads the "&amp;", "&lt;", "&gt;" that template escaping
 * produces as the characters they stand for.
 *
 * Limits: a post's text is at most 16383 characters; the text is cut
 * visibly below that, never splitting an entity.
 *
 * Success: 200 with the body "ok", as for Slack; a 200 with another body
 * is permanent (see slack.c for why).
 */
#include <stdlib.h>
#include <string.h>

#include "providers.h"

#define MATTERMOST_TEXT_MAX 16383
#define MATTERMOST_HEADLINE_MAX 256
#define MATTERMOST_FIELD_MAX 1024

static json_t *field(const char *title, const char *value)
{
    char *escaped = template_escape_value(value, TEMPLATE_ESCAPE_SLACK);
    json_t *j = json_pack("{s:s, s:o, s:b}", "title", title, "value",
                          provider_json_text(escaped, MATTERMOST_FIELD_MAX, 1), "short", 1);
    free(escaped);
    return j;
}

static char *mattermost_render(const struct provider_message *m)
{
    char *headline = provider_headline(m, TEMPLATE_ESCAPE_SLACK, MATTERMOST_HEADLINE_MAX);
    char *text = *m->text ? xasprintf("**%s**\n\n%s", headline, m->text)
                          : xasprintf("**%s**", headline);
    json_t *fields = json_array();

    if (*m->severity)
        json_array_append_new(fields, field("Severity", m->severity));
    json_array_append_new(fields, field("Status", run_status_name(m->status)));
    json_t *root = json_pack(
        "{s:o, s:[{s:o, s:s, s:o}]}", "text",
        provider_json_text(text, MATTERMOST_TEXT_MAX, 1), "attachments", "fallback",
        provider_json_text(run_status_name(m->status), 0, 0), "color",
        provider_status_hex(m->status), "fields", fields);
    free(text);
    free(headline);
    return provider_json_dump(root);
}

static enum delivery_result mattermost_classify(long status, const char *body, size_t len,
                                                int64_t *retry_after_ms)
{
    if (status == 200)
        return len == 2 && !memcmp(body, "ok", 2) ? DELIVERY_OK : DELIVERY_PERMANENT;
    return provider_classify_http(status);
}

const struct provider provider_mattermost = {
    .name = "mattermost",
    .type = CHANNEL_MATTERMOST,
    .escape = TEMPLATE_ESCAPE_SLACK,
    .render = mattermost_render,
    .classify = mattermost_classify,
};
