/*
 * teams.c - Microsoft Teams through a Workflows webhook ("Post to a channel
 * when a webhook request is received").
 *
 * Payload: the envelope Workflows expects, a "message" whose one attachment
 * is an Adaptive Card 1.4: the headline, the status in its colour
 * ("attention", "warning", "accent", "good"), the severity, and the message.
 * Workflows only accept Adaptive Cards; the old MessageCard format of
 * Office 365 connectors is not used.
 *
 * Limits: Teams rejects a message over 28 KB, counted in bytes of the
 * whole request.  When the card is too large, a binary search finds the
 * longest (visibly truncated) message text that fits: about fifteen
 * renders of a 28 KB document, only for messages that are too long.
 *
 * Success: any 2xx (Workflows answer 202 Accepted; 200 is also seen).
 */
#include <stdlib.h>
#include <string.h>

#include "providers.h"

#define TEAMS_MAX_BYTES (27 * 1024) /* 28 KB, less a margin for the envelope */
#define TEAMS_HEADLINE_MAX 256
#define TEAMS_SEVERITY_MAX 256

static const char *const status_colour[STATUS_COUNT] = {
    [STATUS_INVESTIGATING] = "attention",
    [STATUS_IDENTIFIED] = "warning",
    [STATUS_MONITORING] = "accent",
    [STATUS_RESOLVED] = "good",
};

static json_t *text_block(json_t *text)
{
    return json_pack("{s:s, s:o, s:b}", "type", "TextBlock", "text", text, "wrap", 1);
}

static char *render_card(const struct provider_message *m, size_t text_max)
{
    char *headline = provider_headline(m, TEMPLATE_ESCAPE_NONE, TEAMS_HEADLINE_MAX);
    char *status = xasprintf("Status: %s", run_status_name(m->status));
    json_t *body = json_array();
    json_t *block;

    block = text_block(provider_json_text(headline, 0, 0));
    json_object_set_new(block, "weight", json_string("Bolder"));
    json_object_set_new(block, "size", json_string("Large"));
    json_array_append_new(body, block);

    block = text_block(provider_json_text(status, 0, 0));
    json_object_set_new(block, "weight", json_string("Bolder"));
    json_object_set_new(block, "color", json_string(status_colour[m->status % STATUS_COUNT]));
    json_object_set_new(block, "spacing", json_string("Small"));
    json_array_append_new(body, block);

    if (*m->severity) {
        char *sev = xasprintf("Severity: %s", m->severity);
        block = text_block(provider_json_text(sev, TEAMS_SEVERITY_MAX, 0));
        json_object_set_new(block, "isSubtle", json_true());
        json_object_set_new(block, "spacing", json_string("None"));
        json_array_append_new(body, block);
        free(sev);
    }
    /* text_max is 0 only when nothing of the text fits (or there is none). */
    if (text_max)
        json_array_append_new(body, text_block(provider_json_text(m->text, text_max, 0)));

    json_t *root = json_pack(
        "{s:s, s:[{s:s, s:n, s:{s:s, s:s, s:s, s:o, s:{s:s}}}]}",
        "type", "message",
        "attachments",
        "contentType", "application/vnd.microsoft.card.adaptive",
        "contentUrl",
        "content",
        "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
        "type", "AdaptiveCard",
        "version", "1.4",
        "body", body,
        "msteams", "width", "Full");
    free(status);
    free(headline);
    return provider_json_dump(root);
}

static char *teams_render(const struct provider_message *m)
{
    /* Measure what will be sent: cleaning can add characters (U+FFFD). */
    char *text = utf8_clean(m->text);
    struct provider_message c = *m;
    size_t lo = 0, hi = utf8_len(text);
    char *out;

    c.text = text;
    out = render_card(&c, hi);
    if (strlen(out) > TEAMS_MAX_BYTES) {
        free(out);
        /* The longest text that fits: hi never does, lo always does. */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            out = render_card(&c, mid);
            if (strlen(out) <= TEAMS_MAX_BYTES)
                lo = mid;
            else
                hi = mid;
            free(out);
        }
        out = render_card(&c, lo);
    }
    free(text);
    return out;
}

static enum delivery_result teams_classify(long status, const char *body, size_t len,
                                           int64_t *retry_after_ms)
{
    return provider_classify_http(status);
}

const struct provider provider_teams = {
    .name = "teams",
    .type = CHANNEL_TEAMS,
    .escape = TEMPLATE_ESCAPE_NONE,
    .rate_count = 4,
    .rate_per_ms = 1000,
    .render = teams_render,
    .classify = teams_classify,
};
