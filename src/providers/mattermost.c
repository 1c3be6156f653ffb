/*
 * mattermost.c - Mattermost incoming webhooks (the Slack-compatible format).
 *
 * Payload: `text` holds the headline in bold and the message (Markdown,
 * searchable, what notifications show); one attachment carries the status
 * colour with the severity and status as short fields.  Mattermost's
 * Markdown reads the "&amp;", "&lt;", "&gt;" that template escaping
 * produces as the characters they stand for.
 *
 * Escaping: Mattermost notifies every member of the channel for "@channel",
 * "@all" and "@here" (in any case) in a post, its attachments' fields
 * included; values, the title and the severity get a zero-width space after
 * such an '@' (TEMPLATE_ESCAPE_MATTERMOST), so a note can quote one without
 * doing it.  "@username" is left alone.
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
    char *escaped = template_escape_value(value, TEMPLATE_ESCAPE_MATTERMOST);
    json_t *j = json_pack("{s:s, s:o, s:b}", "title", title, "value",
                          provider_json_text(escaped, MATTERMOST_FIELD_MAX, 1), "short", 1);
    free(escaped);
    return j;
}

/* What `text` holds before the message: the headline in bold. */
static char *text_prefix(const struct provider_message *m)
{
    char *headline =
        provider_headline(m, TEMPLATE_ESCAPE_MATTERMOST, MATTERMOST_HEADLINE_MAX);
    char *prefix = xasprintf("**%s**%s", headline, *m->text ? "\n\n" : "");
    free(headline);
    return prefix;
}

static char *mattermost_render(const struct provider_message *m)
{
    char *prefix = text_prefix(m);
    char *text = xasprintf("%s%s", prefix, m->text);
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
    free(prefix);
    return provider_json_dump(root);
}

static size_t mattermost_text_max(const struct provider_message *m)
{
    struct provider_message with_text = *m;
    with_text.text = "x"; /* the prefix as it is with a message */
    char *prefix = text_prefix(&with_text);
    size_t room = provider_text_room(prefix, MATTERMOST_TEXT_MAX);
    free(prefix);
    return room;
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
    .escape = TEMPLATE_ESCAPE_MATTERMOST,
    .render = mattermost_render,
    .text_max = mattermost_text_max,
    .classify = mattermost_classify,
};
