/*
 * util.c - allocation, strbuf, error reporting and small helpers.
 */
#include "crisisrun/util.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

static CR_NORETURN void oom(size_t n)
{
    fprintf(stderr, "crisisrun: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

void free_secret(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        die("invalid format string '%s'", fmt);
    char *p = xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

void *xgrow(void *p, size_t *alloc, size_t need, size_t sz)
{
    if (need <= *alloc)
        return p;
    size_t n = *alloc ? *alloc : 8;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / sz)
        oom(SIZE_MAX);
    *alloc = n;
    return xrealloc(p, n * sz);
}

static void report(const char *prefix, const char *fmt, va_list ap)
{
    char *msg = xvasprintf(fmt, ap);
    fprintf(stderr, "crisisrun: %s%s\n", prefix, msg);
    free(msg);
}

int error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("", fmt, ap);
    va_end(ap);
    return -1;
}

void warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("warning: ", fmt, ap);
    va_end(ap);
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("", fmt, ap);
    va_end(ap);
    exit(1);
}

void strbuf_init(struct strbuf *sb, size_t hint)
{
    sb->len = 0;
    sb->alloc = hint + 1;
    sb->buf = xmalloc(sb->alloc);
    sb->buf[0] = '\0';
}

void strbuf_release(struct strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->alloc = 0;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
    if (!sb->buf)
        strbuf_init(sb, 0);
    char *p = sb->buf;
    if (len)
        *len = sb->len;
    sb->buf = NULL;
    sb->len = sb->alloc = 0;
    return p;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
    if (!sb->buf)
        strbuf_init(sb, extra);
    if (sb->len + extra + 1 > sb->alloc) {
        size_t n = sb->alloc * 2;
        if (n < sb->len + extra + 1)
            n = sb->len + extra + 1;
        sb->buf = xrealloc(sb->buf, n);
        sb->alloc = n;
    }
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
    strbuf_grow(sb, len);
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
    strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, char c)
{
    strbuf_add(sb, &c, 1);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    strbuf_addstr(sb, s);
    free(s);
}

void strbuf_reset(struct strbuf *sb)
{
    if (sb->buf) {
        sb->len = 0;
        sb->buf[0] = '\0';
    }
}

void strbuf_add_html(struct strbuf *sb, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            strbuf_addstr(sb, "&amp;");
            break;
        case '<':
            strbuf_addstr(sb, "&lt;");
            break;
        case '>':
            strbuf_addstr(sb, "&gt;");
            break;
        case '"':
            strbuf_addstr(sb, "&quot;");
            break;
        case '\'':
            strbuf_addstr(sb, "&#39;");
            break;
        default:
            strbuf_addch(sb, *s);
        }
    }
}

const char *strbuf_str(const struct strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}

int read_file(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return error("cannot open '%s': %s", path, strerror(errno));
    struct strbuf sb = STRBUF_INIT;
    strbuf_init(&sb, 4096);
    char chunk[65536];
    size_t n;
    int ret = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (sb.len + n > max) {
            ret = error("'%s' is larger than %zu bytes", path, max);
            break;
        }
        strbuf_add(&sb, chunk, n);
    }
    if (!ret && ferror(f))
        ret = error("cannot read '%s': %s", path, strerror(errno));
    fclose(f);
    if (ret) {
        strbuf_release(&sb);
        return ret;
    }
    *out = strbuf_detach(&sb, len);
    return 0;
}

int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *url_redact(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return xstrdup("(invalid url)");
    const char *host = p + 3;
    /* Drop any userinfo: it is a credential, and a password may hold an
     * '@' of its own, so the host starts after the last one. */
    const char *end = host + strcspn(host, "/?#");
    const char *at = memrchr(host, '@', (size_t)(end - host));
    if (at)
        host = at + 1;
    struct strbuf sb = STRBUF_INIT;
    strbuf_add(&sb, url, (size_t)(p + 3 - url));
    strbuf_add(&sb, host, (size_t)(end - host));
    if (*end && !(end[0] == '/' && end[1] == '\0'))
        strbuf_addstr(&sb, "/\xe2\x80\xa6");
    return strbuf_detach(&sb, NULL);
}

char *text_redact_urls(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "");
    const char *p = s;
    const char *sep;
    while ((sep = strstr(p, "://"))) {
        const char *start = sep;
        while (start > p && (isalnum((unsigned char)start[-1]) || start[-1] == '+' ||
                             start[-1] == '-' || start[-1] == '.'))
            start--;
        /* Only a space or a control character ends a URL: the loader
         * takes any other byte in an endpoint, and a URL cut short in its
         * password or path would show the rest. */
        const char *end = sep + 3;
        while ((unsigned char)*end > ' ' && *end != 0x7f)
            end++;
        strbuf_add(&sb, p, (size_t)(start - p));
        if (start == sep) {
            /* No scheme: keep the separator, but never what follows it. */
            strbuf_addstr(&sb, "://\xe2\x80\xa6");
        } else {
            char *url = xstrndup(start, (size_t)(end - start));
            char *red = url_redact(url);
            strbuf_addstr(&sb, red);
            free(red);
            free(url);
        }
        p = end;
    }
    strbuf_addstr(&sb, p);
    return strbuf_detach(&sb, NULL);
}

const char *public_url_problem(const char *url)
{
    if (!starts_with(url, "http://") && !starts_with(url, "https://"))
        return "invalid --public-url (use http:// or https://)";
    const char *host = strstr(url, "://") + 3;
    if (memchr(host, '@', strcspn(host, "/?#")))
        return "--public-url must not hold a user name or password: it goes into the "
               "feedback links people receive";
    return NULL;
}

uint64_t hash_add(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * HASH_PRIME;
    return h;
}

uint64_t hash_str(const char *s)
{
    return hash_add(HASH_INIT, s);
}

void repeats_of(const void *v, size_t n,
                const char *(*at)(const void *v, size_t i, char *buf), size_t buf_size,
                void (*repeat)(void *arg, size_t i, size_t first), void *arg)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    uint32_t *slot = xcalloc(cap, sizeof(*slot)); /* index + 1; 0 when free */
    char *buf = buf_size ? xmalloc(2 * buf_size) : NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s = at(v, i, buf);
        size_t h = (size_t)hash_str(s) & (cap - 1);
        while (slot[h] && strcmp(at(v, slot[h] - 1, buf ? buf + buf_size : NULL), s))
            h = (h + 1) & (cap - 1);
        if (slot[h])
            repeat(arg, i, slot[h] - 1);
        else
            slot[h] = (uint32_t)i + 1;
    }
    free(buf);
    free(slot);
}

static const char *string_at(const void *v, size_t i, char *buf)
{
    (void)buf;
    return ((char *const *)v)[i];
}

void strings_repeats(char *const *v, size_t n,
                     void (*repeat)(void *arg, size_t i, size_t first), void *arg)
{
    repeats_of(v, n, string_at, 0, repeat, arg);
}

int64_t wallclock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int process_alive(int64_t pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int process_stopped(int64_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "PID (COMM) STATE ...": the command name may hold spaces and
     * parentheses, so the state follows the last ')'. */
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
}

int random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
