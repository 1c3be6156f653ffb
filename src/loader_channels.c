/*
 * loader_channels.c - the `channels` mapping of a playbook: type, endpoints
 * (`url` or a `urls_file`), headers, signing secret, rate, timeout, retry
 * and audience, with each type's defaults.
 *
 * URLs, header values and secrets are secrets: no message here ever quotes
 * one.  A bad URL is described ("url has no host"), never shown.
 */
#include "loader_priv.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "crisisrun/duration.h"
#include "crisisrun/interp.h"
#include "crisisrun/suggest.h"

static const struct {
    int count;
    int64_t per_ms;
} default_rates[CHANNEL_TYPE_COUNT] = {
    [CHANNEL_SLACK] = {1, 1000},      [CHANNEL_TEAMS] = {4, 1000},
    [CHANNEL_DISCORD] = {5, 2000},    [CHANNEL_MATTERMOST] = {1, 1000},
    [CHANNEL_GOOGLECHAT] = {1, 1000}, [CHANNEL_WEBHOOK] = {0, 0},
};

/*
 * Checks a URL: http or https, a host, a numeric port if any, and nothing
 * a request line could be confused by.  Returns NULL when it is fine, else
 * a description (static, or written into buf).
 */
static const char *url_problem(const char *u, char *buf, size_t size)
{
    for (const char *p = u; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7f)
            return "url must not contain spaces, control or non-ASCII characters "
                   "(percent-encode them)";
    }
    if (strlen(u) > URL_MAX_LEN)
        return "url is longer than 8192 bytes";
    const char *sep = strstr(u, "://");
    size_t slen = sep ? (size_t)(sep - u) : 0;
    for (size_t i = 0; i < slen; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
            slen = 0;
    }
    if (!slen)
        return "invalid url (expected https://HOST/PATH)";
    if (!((slen == 4 && !strncasecmp(u, "http", 4)) ||
          (slen == 5 && !strncasecmp(u, "https", 5)))) {
        snprintf(buf, size, "url scheme '%.*s' is not allowed (use http or https)",
                 (int)(slen > 16 ? 16 : slen), u);
        return buf;
    }
    const char *auth = sep + 3, *end = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < end; p++) {
        /* Parsers disagree on which '@' ends the user name and password:
         * one more would put part of a password where the host is read
         * (and where a redacted URL shows it). */
        if (*p == '@' && at)
            return "url has more than one '@' before its host (percent-encode an '@' "
                   "in a user name or password as %40)";
        if (*p == '@')
            at = p;
    }
    const char *host = at ? at + 1 : auth, *port = NULL;
    const char *hend = end;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close || close == host + 1)
            return "url has an invalid IPv6 address";
        hend = close + 1;
        if (hend < end && *hend != ':')
            return "url has an invalid IPv6 address";
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        if (colon)
            hend = colon;
    }
    if (hend == host)
        return "url has no host";
    if (hend < end && *hend == ':')
        port = hend + 1;
    if (port) {
        long v = 0;
        if (port == end)
            return "url has an invalid port";
        for (const char *p = port; p < end; p++) {
            if (*p < '0' || *p > '9' || (v = v * 10 + (*p - '0')) > 65535)
                return "url has an invalid port";
        }
        if (v == 0)
            return "url has an invalid port";
    }
    return NULL;
}

struct repeats {
    struct ld *l;
    const struct channel *c;
    const int *lines;
};

static void report_repeat(void *arg, size_t i, size_t first)
{
    struct repeats *r = arg;
    ld_error_at(r->l, r->c->urls_file, r->lines[i], 1,
                "this url is listed already, on line %d: list each endpoint once "
                "(it would get every message twice)",
                r->lines[first]);
}

/*
 * Reports every url of c listed again (lines[i] is the line of url i): an
 * endpoint listed twice would get every message twice, under two ids a
 * receiver cannot match.  url_list_repeats() keeps this to 4 bytes a slot,
 * not a nameidx (a pointer and a size_t, 16): a 100,000-url list would
 * take 4 MiB of that while it loads.
 */
static void check_repeats(struct ld *l, const struct channel *c, const int *lines)
{
    struct repeats r = {l, c, lines};
    url_list_repeats(&c->urls, report_repeat, &r);
}

/*
 * One line of f into buf (size bytes): at most size - 1 of its bytes, then
 * a NUL; the rest of a longer line is read and dropped.  Returns the
 * line's whole length, newline included, or -1 at the end of the file.
 * *nul is the 1-based column of its first NUL byte, 0 if none: fgets()
 * would cut the line there without telling.  f must be the caller's
 * alone: it is read without locking.
 */
static long read_line(FILE *f, char *buf, size_t size, size_t *nul)
{
    size_t len = 0;
    int ch = EOF;
    *nul = 0;
    while ((ch = getc_unlocked(f)) != EOF) {
        if (len < size - 1)
            buf[len] = (char)ch;
        len++;
        if (!ch && !*nul)
            *nul = len;
        if (ch == '\n')
            break;
    }
    if (!len && ch == EOF)
        return -1;
    buf[len < size - 1 ? len : size - 1] = '\0';
    return (long)len;
}

/* Reads one endpoint a line: blank lines and "#" comments are skipped. */
static void read_urls_file(struct ld *l, struct channel *c, const struct ynode *n,
                           const char *rel)
{
    c->urls_file = interp_path(l->dir, rel);
    const char *why;
    FILE *f = interp_open(c->urls_file, &why);
    if (!f) {
        ld_error(l, n, "cannot read urls_file '%s': %s", rel, why);
        return;
    }
    /* Room for the longest line accepted: a byte order mark, 8192 bytes (a
     * url, and the blanks around it), CR LF. */
    char line[3 + URL_MAX_LEN + 2 + 1], buf[128];
    size_t lines_alloc = 0;
    int *lines = NULL;
    int lineno = 0, bad = 0;
    long got;
    size_t nul;
    while ((got = read_line(f, line, sizeof(line), &nul)) >= 0) {
        size_t len = (size_t)got;
        lineno++;
        /* A byte order mark (Windows editors write one) is not part of the url. */
        size_t bom = lineno == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3) ? 3 : 0;
        if (nul) {
            ld_error_at(l, c->urls_file, lineno, (int)(nul - bom),
                        "line holds a NUL byte: a urls_file is text, one url a line");
            bad++;
            continue;
        }
        if (len - bom > URL_MAX_LEN + 2) {
            ld_error_at(l, c->urls_file, lineno, 1, "url is longer than %d bytes",
                        URL_MAX_LEN);
            bad++;
            continue;
        }
        if (bom) {
            memmove(line, line + 3, len - 2);
            len -= 3;
        }
        char *s = line, *e = line + len;
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *e = '\0';
        if (!*s || *s == '#')
            continue;
        if (c->urls.n == LOADER_MAX_URLS) {
            ld_error(l, n, "urls_file '%s' lists more than %d urls", rel,
                     LOADER_MAX_URLS);
            break;
        }
        const char *problem = url_problem(s, buf, sizeof(buf));
        if (problem) {
            ld_error_at(l, c->urls_file, lineno, 1, "%s", problem);
            bad++;
        } else {
            ALLOC_GROW(lines, c->urls.n + 1, lines_alloc);
            lines[c->urls.n] = lineno;
            url_list_add(&c->urls, s);
        }
    }
    url_list_trim(&c->urls);
    check_repeats(l, c, lines);
    free(lines);
    if (ferror(f))
        ld_error(l, n, "cannot read urls_file '%s': %s", rel, strerror(errno));
    else if (!c->urls.n && !bad)
        ld_error(l, n, "urls_file '%s' lists no urls", rel);
    fclose(f);
}

static int header_name_ok(const char *s)
{
    /* RFC 9110 token characters. */
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return 0;
    }
    return 1;
}

static void read_headers(struct ld *l, struct channel *c, const struct ynode *m)
{
    if (ynode_is_null(m))
        return;
    if (m->kind != YNODE_MAPPING) {
        ld_error(l, m, "'headers' must be a mapping of header names to values");
        return;
    }
    size_t n = ynode_npairs(m);
    char *skip = xmalloc(n ? n : 1);
    ld_check_dups(l, m, "header", 1, skip);
    c->headers = xcalloc(n ? n : 1, sizeof(*c->headers));
    for (size_t i = 0; i < n; i++) {
        const struct ynode *k = m->v[2 * i], *v = m->v[2 * i + 1];
        if (skip[i])
            continue;
        if (!header_name_ok(k->str)) {
            ld_error(l, k, "invalid header name '%s'", k->str);
            continue;
        }
        char *val = ld_text(l, v, k->str);
        if (!val)
            continue;
        for (const char *p = val; *p; p++) {
            if (*p == '\r' || *p == '\n') {
                ld_error(l, v, "header '%s' must not contain a line break", k->str);
                break;
            } else if ((unsigned char)*p < ' ' && *p != '\t') {
                ld_error(l, v, "header '%s' must not contain control characters", k->str);
                break;
            }
        }
        c->headers[c->nheaders].key = xstrdup(k->str);
        c->headers[c->nheaders++].value = val;
    }
    free(skip);
}

static int base64_ok(const char *s)
{
    size_t n = strlen(s), pad = 0;
    if (!n || n % 4)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '=') {
            pad++;
        } else if (pad || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                            (ch >= '0' && ch <= '9') || ch == '+' || ch == '/')) {
            return 0;
        }
    }
    if (pad > 2)
        return 0;
    unsigned char *out = xmalloc(n / 4 * 3 + 1);
    int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    OPENSSL_cleanse(out, n / 4 * 3 + 1);
    free(out);
    return got > 0 && (size_t)got > pad;
}

static void read_secret(struct ld *l, struct channel *c, const struct ynode *n)
{
    char *s = ld_text(l, n, "secret");
    if (!s)
        return;
    if (c->type != CHANNEL_WEBHOOK)
        ld_error(l, n,
                 "'secret' is only for webhook channels (%s messages are not signed)",
                 channel_type_name(c->type));
    else if (!*s) /* most often "${env:NAME}" with NAME set but empty */
        ld_error(l, n,
                 "'secret' is empty: a signing secret is 'whsec_' followed by base64");
    else if (strncmp(s, "whsec_", 6))
        ld_error(l, n, "'secret' must start with 'whsec_'");
    else if (!base64_ok(s + 6))
        ld_error(l, n, "'secret' must be base64 after 'whsec_'");
    c->secret = s;
}

static void read_retry(struct ld *l, struct channel *c, const struct ynode *m)
{
    static const char *const keys[] = {"attempts", "backoff", NULL};
    if (ld_check_keys(l, m, "retry", keys) < 0)
        return;
    const struct ynode *v;
    long attempts;
    if ((v = ld_get(m, "attempts")) && ld_int(l, v, "attempts", 1, 100, &attempts) == 0)
        c->retry_attempts = (int)attempts;
    if ((v = ld_get(m, "backoff")))
        ld_duration(l, v, "backoff", 1, &c->retry_backoff_ms);
}

static void read_type(struct ld *l, struct channel *c, const struct ynode *m)
{
    const struct ynode *v = ld_get(m, "type");
    if (!v) {
        ld_error(l, m, "channel '%s' has no 'type'", c->name);
        return;
    }
    char *s = ld_text(l, v, "type");
    if (!s)
        return;
    int t = channel_type_from_name(s);
    if (t >= 0) {
        c->type = (enum channel_type)t;
    } else {
        struct suggest sg = SUGGEST_INIT;
        for (int i = 0; i < CHANNEL_TYPE_COUNT; i++)
            suggest_add(&sg, channel_type_name((enum channel_type)i));
        const char *best = suggest_best(&sg, s);
        if (best)
            ld_error(l, v, "unknown channel type '%s' (did you mean '%s'?)", s, best);
        else
            ld_error(l, v,
                     "unknown channel type '%s' (use slack, teams, discord, mattermost, "
                     "googlechat or webhook)",
                     s);
        suggest_release(&sg);
    }
    free(s);
}

static void read_endpoints(struct ld *l, struct channel *c, const struct ynode *m)
{
    const struct ynode *url = ld_get(m, "url"), *file = ld_get(m, "urls_file");
    char buf[128];
    if (url && file) {
        ld_error(l, ld_get_key(m, "urls_file"),
                 "channel '%s' has both 'url' and 'urls_file': use one", c->name);
    } else if (url) {
        char *u = ld_text(l, url, "url");
        const char *why = u ? url_problem(u, buf, sizeof(buf)) : NULL;
        if (why) {
            ld_error(l, url, "%s", why);
        } else if (u) {
            url_list_add(&c->urls, u);
            url_list_trim(&c->urls);
        }
        free_secret(u); /* a chat webhook's URL is its credential */
    } else if (file) {
        char *rel = ld_text(l, file, "urls_file");
        if (rel)
            read_urls_file(l, c, file, rel);
        free(rel);
    } else {
        ld_error(l, m, "channel '%s' needs 'url' or 'urls_file'", c->name);
    }
}

static void read_channel(struct ld *l, struct channel *c, const struct ynode *m)
{
    static const char *const keys[] = {"type",     "url",  "urls_file", "headers",
                                       "secret",   "rate", "timeout",   "retry",
                                       "audience", NULL};
    c->timeout_ms = 10000;
    c->retry_attempts = 5;
    c->retry_backoff_ms = 1000;
    c->audience = AUDIENCE_INTERNAL;
    c->pos.line = m->line;
    c->pos.col = m->col;
    if (ld_check_keys(l, m, "channel", keys) < 0)
        return;
    read_type(l, c, m);
    c->rate_count = default_rates[c->type].count;
    c->rate_per_ms = default_rates[c->type].per_ms;
    read_endpoints(l, c, m);
    const struct ynode *v;
    if ((v = ld_get(m, "headers")))
        read_headers(l, c, v);
    if ((v = ld_get(m, "secret")))
        read_secret(l, c, v);
    if ((v = ld_get(m, "rate"))) {
        char *s = ld_text(l, v, "rate");
        const char *why;
        if (s && rate_parse(s, &c->rate_count, &c->rate_per_ms, &why) < 0)
            ld_error(l, v, "invalid rate '%s': %s", s, why);
        free(s);
    }
    if ((v = ld_get(m, "timeout")))
        ld_duration(l, v, "timeout", 1, &c->timeout_ms);
    if ((v = ld_get(m, "retry")))
        read_retry(l, c, v);
    if ((v = ld_get(m, "audience"))) {
        char *s = ld_text(l, v, "audience");
        if (s && !strcmp(s, "external"))
            c->audience = AUDIENCE_EXTERNAL;
        else if (s && strcmp(s, "internal"))
            ld_error(l, v, "'audience' must be internal or external");
        free(s);
    }
}

void ld_channels(struct ld *l, const struct ynode *m)
{
    struct playbook *pb = l->pb;
    if (ynode_is_null(m))
        return;
    if (m->kind != YNODE_MAPPING) {
        ld_error(l, m, "'channels' must be a mapping of channel names to channels");
        return;
    }
    size_t n = ynode_npairs(m);
    char *skip = xmalloc(n ? n : 1);
    ld_check_dups(l, m, "channel", 0, skip);
    pb->channels = xcalloc(n ? n : 1, sizeof(*pb->channels));
    /* Names first, so that the index never moves while channels are read. */
    for (size_t i = 0; i < n; i++) {
        const struct ynode *k = m->v[2 * i];
        if (skip[i])
            continue;
        if (!ld_is_ident(k->str, 1))
            ld_error(l, k,
                     "invalid channel name '%s' (use letters, digits, '_', '-' and '.')",
                     k->str);
        struct channel *c = &pb->channels[pb->nchannels];
        c->name = xstrdup(k->str);
        nameidx_put(&l->channels, c->name, pb->nchannels++);
    }
    for (size_t i = 0, j = 0; i < n; i++)
        if (!skip[i])
            read_channel(l, &pb->channels[j++], m->v[2 * i + 1]);
    free(skip);
}
