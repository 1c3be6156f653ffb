/*
 * interp.c - ${env:...} and ${file:...} substitution (see interp.h).
 *
 * The grammar is deliberately small: no nesting and no other forms, so
 * "${" in a value means exactly one of these, and anything else after "${"
 * is reported rather than passed through, where it would surface as a
 * puzzling literal in a message or a URL.
 */
#include "crisisrun/interp.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/util.h"
#include "crisisrun/yamltree.h"
#include "crisisrun/utf8.h"

char *interp_path(const char *dir, const char *path)
{
    if (path[0] == '/' || !dir || !strcmp(dir, "."))
        return xstrdup(path);
    return xasprintf("%s/%s", dir, path);
}

FILE *interp_open_any(const char *path, struct stat *st, const char **why)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    FILE *f = NULL;
    if (fd < 0 || fstat(fd, st) < 0 || fcntl(fd, F_SETFL, 0) < 0 ||
        !(f = fdopen(fd, "r"))) {
        *why = strerror(errno);
        if (fd >= 0)
            close(fd);
    }
    return f;
}

FILE *interp_open(const char *path, const char **why)
{
    struct stat st;
    FILE *f = interp_open_any(path, &st, why);
    if (f && !S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        fclose(f);
        return NULL;
    }
    return f;
}

static int env_name_ok(const char *s, size_t n)
{
    if (!n || isdigit((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

static void report_f(interp_report_fn report, void *arg, size_t off, const char *fmt, ...)
    CR_PRINTF(4, 5);
static void report_f(interp_report_fn report, void *arg, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    report(arg, off, msg);
    free(msg);
}

/* Appends the contents of path; -1 after reporting. */
static int add_file(struct strbuf *out, const char *dir, const char *rel, size_t off,
                    interp_report_fn report, void *arg)
{
    if (!*rel) {
        report(arg, off, "'${file:}' needs a path");
        return -1;
    }
    char *path = interp_path(dir, rel);
    const char *why;
    FILE *f = interp_open(path, &why);
    if (!f) {
        report_f(report, arg, off, "cannot read file '%s': %s", rel, why);
        free(path);
        return -1;
    }
    struct strbuf sb = STRBUF_INIT;
    char chunk[8192];
    size_t n;
    int ret = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (sb.len + n > INTERP_MAX_FILE) {
            report_f(report, arg, off, "file '%s' is larger than %u bytes", rel,
                     INTERP_MAX_FILE);
            ret = -1;
            break;
        }
        strbuf_add(&sb, chunk, n);
    }
    if (!ret && ferror(f)) {
        report_f(report, arg, off, "cannot read file '%s': %s", rel, strerror(errno));
        ret = -1;
    }
    fclose(f);
    free(path);
    if (!ret && (memchr(strbuf_str(&sb), '\0', sb.len) ||
                 utf8_check(strbuf_str(&sb), sb.len) != sb.len)) {
        report_f(report, arg, off, "file '%s' is not UTF-8 text", rel);
        ret = -1;
    }
    if (!ret) {
        size_t len = sb.len;
        if (len && sb.buf[len - 1] == '\n')
            len--;
        if (len && sb.buf[len - 1] == '\r')
            len--;
        strbuf_add(out, strbuf_str(&sb), len);
    }
    /* The contents may be a secret: do not leave them in freed memory. */
    if (sb.buf)
        memset(sb.buf, 0, sb.len);
    strbuf_release(&sb);
    return ret;
}

/* Appends ${env:BODY}; -1 after reporting. */
static int add_env(struct strbuf *out, const char *body, size_t n, size_t off,
                   interp_report_fn report, void *arg)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 1 < n; i++) {
        if (body[i] == ':' && body[i + 1] == '-') {
            sep = body + i;
            break;
        }
    }
    size_t nlen = sep ? (size_t)(sep - body) : n;
    if (!env_name_ok(body, nlen)) {
        /* Not quoted: what was written there may be the secret itself. */
        report(arg, off, "invalid environment variable name in '${env:...}' (use letters, "
                         "digits and '_')");
        return -1;
    }
    char *name = xstrndup(body, nlen);
    const char *v = getenv(name);
    int ret = 0;
    if (sep && (!v || !*v)) {
        strbuf_add(out, sep + 2, n - nlen - 2);
    } else if (!v) {
        report_f(report, arg, off,
                 "environment variable '%s' is not set (and has no default)", name);
        ret = -1;
    } else if (utf8_check(v, strlen(v)) != strlen(v)) {
        report_f(report, arg, off, "environment variable '%s' is not UTF-8 text", name);
        ret = -1;
    } else {
        strbuf_addstr(out, v);
    }
    free(name);
    return ret;
}

int interp_expand(const char *s, const char *dir, char **out, interp_report_fn report,
                  void *arg)
{
    *out = NULL;
    if (!strchr(s, '$')) {
        *out = xstrdup(s);
        return 0;
    }
    struct strbuf sb = STRBUF_INIT;
    strbuf_init(&sb, strlen(s) + 1);
    int changed = 0, failed = 0;
    const char *p = s;
    while (*p) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            strbuf_addstr(&sb, "${");
            p += 3;
            changed = 1;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            strbuf_addch(&sb, *p++);
            continue;
        }
        size_t off = (size_t)(p - s);
        const char *body = p + 2, *end = strchr(body, '}');
        if (!end) {
            report(arg, off,
                   "'${' is not closed by '}' (write '$${' for a literal '${')");
            failed = 1;
            break;
        }
        size_t n = (size_t)(end - body);
        if (n >= 4 && !memcmp(body, "env:", 4)) {
            if (add_env(&sb, body + 4, n - 4, off, report, arg) < 0)
                failed = 1;
        } else if (n >= 5 && !memcmp(body, "file:", 5)) {
            char *rel = xstrndup(body + 5, n - 5);
            if (add_file(&sb, dir, rel, off, report, arg) < 0)
                failed = 1;
            free(rel);
        } else {
            /* Quotes only a short word before a ':' ("vault" of
             * ${vault:...}): the rest may be a secret written in place. */
            size_t k = 0;
            while (k < n && k < 16 && (isalnum((unsigned char)body[k]) || body[k] == '_'))
                k++;
            if (k && k < n && body[k] == ':')
                report_f(report, arg, off,
                         "unknown substitution '${%.*s:...}' (use ${env:NAME} or "
                         "${file:PATH}, or '$${' for a literal '${')",
                         (int)k, body);
            else
                report(arg, off,
                       "unknown substitution '${...}' (use ${env:NAME} or ${file:PATH}, "
                       "or '$${' for a literal '${')");
            failed = 1;
        }
        changed = 1;
        p = end + 1;
    }
    if (failed) {
        if (sb.buf)
            memset(sb.buf, 0, sb.len);
        strbuf_release(&sb);
        return -1;
    }
    *out = strbuf_detach(&sb, NULL);
    return changed;
}
