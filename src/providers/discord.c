/*
 * discord.c - Discord webhooks.
 *
 * Payload: one embed (title = headline, description = the message, colour =
 * status, fields = severity and status, timestamp = when the step fired)
 * and `allowed_mentions: {"parse": []}`, so that nothing in a message can
 * ping @everyone, a role or a user, whatever the template escaping missed.
 * An embed rather than `content` because it carries the status colour and
 * has room for 4096 characters instead of 2000.
 *
 * Limits: embed title 256, description 4096, field value 1024, and 6000
 * for the whole embed, which these caps keep to (256 + 4096 + 1024 + 27).
 *
 * Success: 204 No Content (200 with ?wait=true).  A 429 carries JSON with
 * `retry_after` in seconds (a float); it is more precise than the
 * Retry-After header and overrides it.
 */
#include <math.h>
#include <stdlib.h>

#include "providers.h"

#define DISCORD_TITLE_MAX 256
#define DISCORD_DESCRIPTION_MAX 4096
#define DISCORD_FIELD_MAX 1024

static json_t *field(const char *name, const char *value)
{
    char *escaped = template_escape_value(value, TEMPLATE_ESCAPE_DISCORD);
    json_t *j = json_pack("{s:s, s:o, s:b}", "name", name, "value",
                          provider_json_text(escaped, DISCORD_FIELD_MAX, 0), "inline", 1);
    free(escaped);
    return j;
}

static char *discord_render(const struct provider_message *m)
{
    char *headline = provider_headline(m, TEMPLATE_ESCAPE_DISCORD, DISCORD_TITLE_MAX);
    json_t *fields = json_array();
    json_t *embed;

    if (*m->severity)
        json_array_append_new(fields, field("Severity", m->severity));
    json_array_append_new(fields, field("Status", run_status_name(m->status)));
    embed = json_pack("{s:o, s:I, s:o}", "title", provider_json_text(headline, 0, 0),
                      "color", (json_int_t)provider_status_rgb(m->status), "fields", fields);
    if (*m->text)
        json_object_set_new(embed, "description",
                            provider_json_text(m->text, DISCORD_DESCRIPTION_MAX, 0));
    if (*m->timestamp_iso)
        json_object_set_new(embed, "timestamp", provider_json_text(m->timestamp_iso, 0, 0));
    free(headline);
    return provider_json_dump(
        json_pack("{s:{s:[]}, s:[o]}", "allowed_mentions", "parse", "embeds", embed));
}

static size_t discord_text_max(const struct provider_message *m)
{
    return DISCORD_DESCRIPTION_MAX;
}

static enum delivery_result discord_classify(long status, const char *body, size_t len,
                                             int64_t *retry_after_ms)
{
    if (status == 429 && body && len) {
        json_t *root = json_loadb(body, len, 0, NULL);
        json_t *ra = json_is_object(root) ? json_object_get(root, "retry_after") : NULL;
        if (json_is_number(ra)) {
            double s = json_number_value(ra);
            /* Bound it: a day is longer than any run waits for one message. */
            if (s >= 0 && s <= 86400)
                /* Rounded up, less floating-point noise: 1.5 is 1500 ms, not 1501. */
                *retry_after_ms = (int64_t)ceil(s * 1000.0 - 1e-6);
        }
        json_decref(root);
    }
    return provider_classify_http(status);
}

const struct provider provider_discord = {
    .name = "discord",
    .type = CHANNEL_DISCORD,
    .escape = TEMPLATE_ESCAPE_DISCORD,
    .rate_count = 5,
    .rate_per_ms = 2000,
    .render = discord_render,
    .text_max = discord_text_max,
    .classify = discord_classify,
};
