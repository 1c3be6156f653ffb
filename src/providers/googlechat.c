/*
 * googlechat.c - Google Chat incoming webhooks.
 *
 * Payload: `text` (the headline in bold, the status and severity on one
 * line, then the message) and `thread.threadKey`.  The key is derived from
 * the run id, so every update of one run lands in one thread of the space;
 * the request URL gets `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`
 * so that Chat replies in that thread, or starts it.  Without the option
 * Chat ignores the key and starts a new thread each time.  The deprecated
 * `threadKey` query parameter is not sent: the body's key replaces it.
 *
 * Escaping: Chat reads "<users/all>" in a text as a mention of everyone in
 * the space, "<users/ID>" as a mention and "<url|text>" as a link that
 * shows only its text; values, the title and the severity get a zero-width
 * space after every '<', so a note can quote one without doing it.
 *
 * Limits: the text is cut visibly at 4096 characters.
 *
 * Success: any 2xx.
 */
#include <stdlib.h>
#include <string.h>

#include "providers.h"

#define GOOGLECHAT_TEXT_MAX 4096
#define GOOGLECHAT_HEADLINE_MAX 256
#define REPLY_OPTION_NAME "messageReplyOption"
#define REPLY_OPTION REPLY_OPTION_NAME "=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

/* What `text` holds before the message: headline, status and severity. */
static void text_prefix(struct strbuf *sb, const struct provider_message *m)
{
    char *headline =
        provider_headline(m, TEMPLATE_ESCAPE_GOOGLECHAT, GOOGLECHAT_HEADLINE_MAX);
    char *severity = template_escape_value(m->severity, TEMPLATE_ESCAPE_GOOGLECHAT);

    strbuf_addf(sb, "*%s*\nStatus: %s", headline, run_status_name(m->status));
    if (*severity)
        strbuf_addf(sb, " \xc2\xb7 Severity: %s", severity); /* U+00B7 middle dot */
    free(severity);
    free(headline);
}

static char *googlechat_render(const struct provider_message *m)
{
    char *key = xasprintf("crisisrun-%s", m->run_id);
    struct strbuf sb = STRBUF_INIT;

    text_prefix(&sb, m);
    if (*m->text)
        strbuf_addf(&sb, "\n\n%s", m->text);
    json_t *root = json_pack("{s:o, s:{s:o}}", "text",
                             provider_json_text(strbuf_str(&sb), GOOGLECHAT_TEXT_MAX, 0),
                             "thread", "threadKey", provider_json_text(key, 0, 0));
    strbuf_release(&sb);
    free(key);
    return provider_json_dump(root);
}

static size_t googlechat_text_max(const struct provider_message *m)
{
    struct strbuf sb = STRBUF_INIT;

    text_prefix(&sb, m);
    strbuf_addstr(&sb, "\n\n");
    size_t room = provider_text_room(strbuf_str(&sb), GOOGLECHAT_TEXT_MAX);
    strbuf_release(&sb);
    return room;
}

/* 1 when the query q[0..len) already has a parameter called name. */
static int query_has(const char *q, size_t len, const char *name)
{
    size_t n = strlen(name);

    while (len) {
        size_t plen = 0;
        while (plen < len && q[plen] != '&')
            plen++;
        if (plen >= n && !strncmp(q, name, n) && (plen == n || q[n] == '='))
            return 1;
        if (plen == len)
            break;
        q += plen + 1;
        len -= plen + 1;
    }
    return 0;
}

static char *googlechat_request_url(const char *url, const struct provider_message *m)
{
    size_t end = strcspn(url, "#"); /* the query ends where a fragment starts */
    const char *q = memchr(url, '?', end);
    const char *sep;

    if (!q)
        sep = "?";
    else if (query_has(q + 1, end - (size_t)(q + 1 - url), REPLY_OPTION_NAME))
        return NULL; /* the configured URL already says how to reply */
    else if (url[end - 1] == '?' || url[end - 1] == '&')
        sep = "";
    else
        sep = "&";
    return xasprintf("%.*s%s%s%s", (int)end, url, sep, REPLY_OPTION, url + end);
}

static enum delivery_result googlechat_classify(long status, const char *body, size_t len,
                                                int64_t *retry_after_ms)
{
    return provider_classify_http(status);
}

const struct provider provider_googlechat = {
    .name = "googlechat",
    .type = CHANNEL_GOOGLECHAT,
    .escape = TEMPLATE_ESCAPE_GOOGLECHAT,
    .rate_count = 1,
    .rate_per_ms = 1000,
    .render = googlechat_render,
    .text_max = googlechat_text_max,
    .request_url = googlechat_request_url,
    .classify = googlechat_classify,
};
