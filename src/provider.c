/*
 * provider.c - the provider table and the rules every provider shares
 * (see provider.h and src/providers/providers.h).
 *
 * Adding a service is one file in src/providers/, one extern in
 * providers.h and one line in the table below.
 *
 * Text is measured in code points, the unit the services document their
 * limits in.  Services that count UTF-16 units (an emoji outside the BMP
 * counts twice there) are covered by the margins each provider keeps.
 */
#include "crisisrun/provider.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "providers/providers.h"
#include "crisisrun/utf8.h"

static const struct provider *const providers[CHANNEL_TYPE_COUNT] = {
    [CHANNEL_SLACK] = &provider_slack,
    [CHANNEL_TEAMS] = &provider_teams,
    [CHANNEL_DISCORD] = &provider_discord,
    [CHANNEL_MATTERMOST] = &provider_mattermost,
    [CHANNEL_GOOGLECHAT] = &provider_googlechat,
    [CHANNEL_WEBHOOK] = &provider_webhook,
};

const struct provider *provider_for(enum channel_type type)
{
    return (unsigned)type < CHANNEL_TYPE_COUNT ? providers[type] : NULL;
}

void header_list_add(struct header_list *h, const char *fmt, ...)
{
    va_list ap;

    ALLOC_GROW(h->v, h->n + 1, h->alloc);
    va_start(ap, fmt);
    h->v[h->n++] = xvasprintf(fmt, ap);
    va_end(ap);
}

void header_list_add_pair(struct header_list *h, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    char *line = xmalloc(nl + 2 + vl + 1);
    memcpy(line, name, nl);
    memcpy(line + nl, ": ", 2);
    memcpy(line + nl + 2, value, vl + 1);
    ALLOC_GROW(h->v, h->n + 1, h->alloc);
    h->v[h->n++] = line;
}

void header_list_release(struct header_list *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    free(h->v);
    h->v = NULL;
    h->n = h->alloc = 0;
}

enum delivery_result provider_classify_http(long status)
{
    if (status >= 200 && status < 300)
        return DELIVERY_OK;
    if (status == 410)
        return DELIVERY_GONE;
    if (status == 408 || status == 425 || status == 429 || (status >= 500 && status < 600))
        return DELIVERY_RETRY;
    if (status >= 300 && status < 500)
        return DELIVERY_PERMANENT; /* redirects are not followed; client errors repeat */
    /*
     * Not an HTTP status at all (1xx as a final answer, or out of range):
     * something in between misbehaved, which is worth another attempt
     * rather than losing the message.
     */
    return DELIVERY_RETRY;
}

/* ---- colours ----------------------------------------------------------- */

static const struct {
    const char *hex;
    long rgb;
} status_colours[STATUS_COUNT] = {
    [STATUS_INVESTIGATING] = {"#E01E5A", 0xE01E5A},
    [STATUS_IDENTIFIED] = {"#ECB22E", 0xECB22E},
    [STATUS_MONITORING] = {"#36C5F0", 0x36C5F0},
    [STATUS_RESOLVED] = {"#2EB67D", 0x2EB67D},
};

const char *provider_status_hex(enum run_status s)
{
    return status_colours[(unsigned)s < STATUS_COUNT ? s : STATUS_INVESTIGATING].hex;
}

long provider_status_rgb(enum run_status s)
{
    return status_colours[(unsigned)s < STATUS_COUNT ? s : STATUS_INVESTIGATING].rgb;
}

/* ---- UTF-8 ------------------------------------------------------------- */

#define TRUNCATION_MARKER " \xe2\x80\xa6 (truncated)" /* " … (truncated)" */
#define TRUNCATION_MARKER_CHARS 14


/* Byte offset just after the first k characters of s. */
static size_t offset_after_chars(const char *s, size_t k)
{
    size_t i, seen = 0;
    for (i = 0; s[i]; i++) {
        if (!utf8_is_continuation((unsigned char)s[i])) {
            if (seen == k)
                return i;
            seen++;
        }
    }
    return i;
}

char *provider_truncate_text(const char *text, size_t max_chars, int entities)
{
    size_t cut;

    if (utf8_len(text) <= max_chars)
        return xstrdup(text);
    /* No room for the marker: a bare cut is the only way to stay within. */
    if (max_chars < TRUNCATION_MARKER_CHARS)
        return xstrndup(text, offset_after_chars(text, max_chars));

    cut = offset_after_chars(text, max_chars - TRUNCATION_MARKER_CHARS);
    if (entities) {
        /* "&amp;" is the longest entity escaping produces: look back 4 bytes. */
        for (size_t j = cut; j > 0 && cut - j < 4; j--) {
            if (text[j - 1] == ';')
                break;
            if (text[j - 1] == '&') {
                cut = j - 1;
                break;
            }
        }
    }
    /* The marker brings its own space. */
    while (cut > 0 && strchr(" \t\r\n", text[cut - 1]))
        cut--;
    return xasprintf("%.*s%s", (int)cut, text, TRUNCATION_MARKER);
}

char *provider_truncate(const char *text, size_t max_chars)
{
    return provider_truncate_text(text, max_chars, 0);
}

/* ---- JSON helpers ------------------------------------------------------ */

json_t *provider_json_text(const char *s, size_t max_chars, int entities)
{
    char *clean = utf8_clean(s);
    json_t *j;

    if (max_chars) {
        char *cut = provider_truncate_text(clean, max_chars, entities);
        free(clean);
        clean = cut;
    }
    j = json_string(clean);
    free(clean);
    if (!j)
        die("cannot encode message text as JSON");
    return j;
}

size_t provider_text_room(const char *prefix, size_t max_chars)
{
    char *clean = utf8_clean(prefix);
    size_t used = utf8_len(clean);
    free(clean);
    return used < max_chars ? max_chars - used : 1;
}

char *provider_headline(const struct provider_message *m, enum template_escape esc,
                        size_t max_chars)
{
    const char *title = *m->title ? m->title : m->playbook;
    struct strbuf sb = STRBUF_INIT;
    char *clean, *escaped, *out;

    strbuf_init(&sb, strlen(title) + 8);
    if (m->drill)
        strbuf_addstr(&sb, "[DRILL] ");
    for (const char *p = title; *p; p++)
        strbuf_addch(&sb, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
    clean = utf8_clean(strbuf_str(&sb));
    strbuf_release(&sb);
    escaped = template_escape_value(clean, esc);
    free(clean);
    out = provider_truncate_text(escaped, max_chars, template_escape_entities(esc));
    free(escaped);
    return out;
}

char *provider_json_dump(json_t *root)
{
    char *s;

    if (!root)
        die("cannot build a message payload");
    s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s)
        die("cannot encode a message payload");
    return s;
}
