/*
 * inbox_page.c - how the inbox shows recorded messages to a person: the
 * readable text of each provider's payload, and the HTML page grouping
 * them per channel, newest first.
 *
 * The page is self-contained (inline CSS, no JavaScript, a meta refresh)
 * and every string that came from a request goes through strbuf_add_html():
 * the inbox is where untrusted payloads are displayed.
 */
#include "crisisrun/inbox.h"

#include <stdlib.h>
#include <string.h>

#include "crisisrun/util.h"

#define TEXT_MAX 8000       /* characters of one message shown */
#define PER_CHANNEL_MAX 200 /* messages shown per channel */
#define CARD_DEPTH_MAX 16   /* Adaptive Card nesting walked */

/* ---- readable text of a payload ---- */

static void add_line(struct strbuf *sb, const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || !*s)
        return;
    if (sb->len)
        strbuf_addch(sb, '\n');
    strbuf_addstr(sb, s);
}

/* Slack and Mattermost: text, blocks (section text and fields, context
 * elements, header) and legacy attachments. */
static void slack_text(const json_t *msg, struct strbuf *sb)
{
    size_t i, k;
    json_t *block, *el, *att;
    add_line(sb, json_object_get(msg, "text"));
    json_array_foreach(json_object_get(msg, "blocks"), i, block)
    {
        add_line(sb, json_object_get(json_object_get(block, "text"), "text"));
        json_array_foreach(json_object_get(block, "fields"), k, el)
            add_line(sb, json_object_get(el, "text"));
        json_array_foreach(json_object_get(block, "elements"), k, el)
            add_line(sb, json_object_get(el, "text"));
    }
    json_array_foreach(json_object_get(msg, "attachments"), i, att)
    {
        add_line(sb, json_object_get(att, "pretext"));
        add_line(sb, json_object_get(att, "title"));
        add_line(sb, json_object_get(att, "text"));
    }
}

static void discord_text(const json_t *msg, struct strbuf *sb)
{
    size_t i, k;
    json_t *embed, *field;
    add_line(sb, json_object_get(msg, "content"));
    json_array_foreach(json_object_get(msg, "embeds"), i, embed)
    {
        add_line(sb, json_object_get(embed, "title"));
        add_line(sb, json_object_get(embed, "description"));
        json_array_foreach(json_object_get(embed, "fields"), k, field)
        {
            add_line(sb, json_object_get(field, "name"));
            add_line(sb, json_object_get(field, "value"));
        }
    }
}

/* Adaptive Card elements: TextBlocks wherever containers nest them. */
static void card_elements(const json_t *items, struct strbuf *sb, int depth)
{
    size_t i, k;
    json_t *el, *sub;
    if (depth > CARD_DEPTH_MAX)
        return;
    json_array_foreach(items, i, el)
    {
        const char *type = json_string_value(json_object_get(el, "type"));
        if (type && !strcmp(type, "TextBlock")) {
            add_line(sb, json_object_get(el, "text"));
        } else if (type && !strcmp(type, "RichTextBlock")) {
            json_array_foreach(json_object_get(el, "inlines"), k, sub)
                add_line(sb, json_is_string(sub) ? sub : json_object_get(sub, "text"));
        } else if (type && !strcmp(type, "FactSet")) {
            json_array_foreach(json_object_get(el, "facts"), k, sub)
            {
                const char *t = json_string_value(json_object_get(sub, "title"));
                const char *v = json_string_value(json_object_get(sub, "value"));
                if (sb->len)
                    strbuf_addch(sb, '\n');
                strbuf_addf(sb, "%s: %s", t ? t : "", v ? v : "");
            }
        }
        card_elements(json_object_get(el, "items"), sb, depth + 1);
        json_array_foreach(json_object_get(el, "columns"), k, sub)
            card_elements(json_object_get(sub, "items"), sb, depth + 1);
    }
}

/* Teams: Workflows envelope {attachments: [{content: AdaptiveCard}]}, a
 * bare Adaptive Card, or a legacy MessageCard (title/text). */
static void teams_text(const json_t *msg, struct strbuf *sb)
{
    size_t i;
    json_t *att;
    json_array_foreach(json_object_get(msg, "attachments"), i, att)
        card_elements(json_object_get(json_object_get(att, "content"), "body"), sb, 0);
    card_elements(json_object_get(msg, "body"), sb, 0);
    add_line(sb, json_object_get(msg, "title"));
    add_line(sb, json_object_get(msg, "text"));
}

char *inbox_message_text(const json_t *record)
{
    const char *body = json_string_value(json_object_get(record, "body"));
    const char *enc = json_string_value(json_object_get(record, "body_encoding"));
    const char *provider = json_string_value(json_object_get(record, "provider"));
    struct strbuf sb = STRBUF_INIT;
    if (!body)
        return xstrdup("");
    if (enc && strcmp(enc, "utf-8"))
        return xasprintf("(%zu bytes of binary data)",
                         json_string_length(json_object_get(record, "body")) * 3 / 4);

    json_t *msg = json_loads(body, JSON_DECODE_ANY, NULL);
    if (json_is_object(msg) && provider) {
        if (!strcmp(provider, "slack") || !strcmp(provider, "mattermost"))
            slack_text(msg, &sb);
        else if (!strcmp(provider, "discord"))
            discord_text(msg, &sb);
        else if (!strcmp(provider, "teams"))
            teams_text(msg, &sb);
        else if (!strcmp(provider, "googlechat"))
            add_line(&sb, json_object_get(msg, "text"));
        else
            add_line(&sb, json_object_get(msg, "message"));
    }
    if (!sb.len && msg) {
        char *s = json_dumps(msg, JSON_INDENT(2) | JSON_ENCODE_ANY);
        strbuf_addstr(&sb, s ? s : "");
        free(s);
    }
    if (!sb.len)
        strbuf_addstr(&sb, body);
    json_decref(msg);
    return strbuf_detach(&sb, NULL);
}

/* ---- the page ---- */

/* Escapes at most TEXT_MAX bytes of s, cut on a UTF-8 boundary. */
static void html_escape_capped(struct strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    if (n <= TEXT_MAX) {
        strbuf_add_html(sb, s);
        return;
    }
    while (n > TEXT_MAX || ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    char *cut = xstrndup(s, n);
    strbuf_add_html(sb, cut);
    strbuf_addstr(sb, " …");
    free(cut);
}

static const char *rec_str(const json_t *rec, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(rec, key));
    return s ? s : def;
}

static void render_message(struct strbuf *sb, const json_t *rec)
{
    const json_t *status = json_object_get(rec, "status");
    const char *sig = rec_str(rec, "signature", "absent");
    const char *fault = rec_str(rec, "fault", NULL);
    json_int_t code = json_integer_value(status);
    const char *cls = !json_is_integer(status) ? "hang" : code < 300 ? "ok" : "err";

    strbuf_addstr(sb, "<article><header><time>");
    strbuf_add_html(sb, rec_str(rec, "time", ""));
    strbuf_addf(sb, "</time> <span class=\"st %s\">", cls);
    if (json_is_integer(status))
        strbuf_addf(sb, "%lld", (long long)code);
    else
        strbuf_addstr(sb, "no answer");
    strbuf_addf(sb, "</span> <span class=\"sig %s\">signature: %s</span>",
                !strcmp(sig, "invalid") ? "err"
                : !strcmp(sig, "valid") ? "ok"
                                        : "",
                sig);
    if (fault) {
        strbuf_addstr(sb, " <span class=\"fault\">fault: ");
        strbuf_add_html(sb, fault);
        strbuf_addstr(sb, "</span>");
    }
    if (strcmp(rec_str(rec, "method", "POST"), "POST")) {
        strbuf_addstr(sb, " <span class=\"fault\">");
        strbuf_add_html(sb, rec_str(rec, "method", ""));
        strbuf_addstr(sb, "</span>");
    }
    strbuf_addstr(sb, "</header><div class=\"text\">");
    char *text = inbox_message_text(rec);
    html_escape_capped(sb, text);
    free(text);
    strbuf_addstr(sb, "</div></article>\n");
}

static const char PAGE_HEAD[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"refresh\" content=\"5\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>crisisrun inbox</title>\n<style>\n"
    "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;"
    "color:#1d1d1f;background:#f6f6f4}\n"
    "h1{font-size:1.3rem}h2{font-size:1.05rem;margin:1.6rem 0 "
    ".5rem;font-family:monospace}\n"
    "article{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;"
    "margin:.5rem 0}\n"
    "header{font-size:.8rem;color:#555;margin-bottom:.3rem}\n"
    ".text{white-space:pre-wrap;overflow-wrap:anywhere}\n"
    ".st,.sig,.fault{padding:0 .35rem;border-radius:3px;background:#eee}\n"
    ".ok{background:#dff3e0}.err{background:#f8d9d7}.hang{background:#fbeec8}\n"
    ".fault{background:#e6e1f5}p.note{color:#666;font-size:.85rem}\n"
    "</style></head><body>\n<h1>crisisrun inbox</h1>\n";

char *inbox_page_html(const json_t *records, const char *log_path)
{
    struct strbuf sb = STRBUF_INIT;
    size_t n = json_array_size(records);
    /* Channels in order of their newest message: walk newest first and
     * emit a channel the first time it is met. */
    const char **seen = xcalloc(n ? n : 1, sizeof(*seen));
    size_t nseen = 0;

    strbuf_addstr(&sb, PAGE_HEAD);
    strbuf_addf(&sb, "<p class=\"note\">%zu request%s recorded in <code>", n,
                n == 1 ? "" : "s");
    strbuf_add_html(&sb, log_path ? log_path : "");
    strbuf_addstr(&sb, "</code>. This page refreshes every 5 seconds.</p>\n");
    if (!n)
        strbuf_addstr(&sb, "<p>No messages yet.</p>\n");

    for (size_t i = n; i-- > 0;) {
        const char *ch = rec_str(json_array_get(records, i), "channel", "");
        size_t k;
        for (k = 0; k < nseen && strcmp(seen[k], ch); k++)
            ;
        if (k < nseen)
            continue;
        seen[nseen++] = ch;
        strbuf_addstr(&sb, "<section><h2>");
        strbuf_add_html(&sb, *ch ? ch : "(root)");
        strbuf_addstr(&sb, "</h2>\n");
        size_t shown = 0;
        for (size_t j = i + 1; j-- > 0 && shown < PER_CHANNEL_MAX;) {
            const json_t *rec = json_array_get(records, j);
            if (strcmp(rec_str(rec, "channel", ""), ch))
                continue;
            render_message(&sb, rec);
            shown++;
        }
        strbuf_addstr(&sb, "</section>\n");
    }
    strbuf_addstr(&sb, "</body></html>\n");
    free(seen);
    return strbuf_detach(&sb, NULL);
}
