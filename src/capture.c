/*
 * capture.c - requests written to a directory instead of sent (see
 * capture.h for the file format).
 */
#include "crisisrun/capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/util.h"

struct capture {
    char *dir;
    unsigned long seq; /* the last number used */
};

/* The highest sequence number already used in dir. */
static unsigned long last_seq(const char *dir)
{
    unsigned long last = 0;
    DIR *dh = opendir(dir);
    if (!dh)
        return 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        char *end;
        unsigned long n = strtoul(e->d_name, &end, 10);
        if (end != e->d_name && *end == '-' && n > last)
            last = n;
    }
    closedir(dh);
    return last;
}

struct capture *capture_open(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        error("cannot create capture directory '%s': %s", dir, strerror(errno));
        return NULL;
    }
    struct capture *c = xcalloc(1, sizeof(*c));
    c->dir = xstrdup(dir);
    c->seq = last_seq(dir);
    return c;
}

void capture_close(struct capture *c)
{
    if (!c)
        return;
    free(c->dir);
    free(c);
}

static void add_safe_name(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        char ch = *s;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        strbuf_addch(sb, ok ? ch : '_');
    }
}

static int write_all(int fd, const char *p, size_t left)
{
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        left -= (size_t)n;
    }
    return 0;
}

int capture_write(struct capture *c, const char *id, const char *url,
                  const char *const *headers, size_t nheaders, const char *body, size_t len,
                  char *err, size_t errlen)
{
    struct strbuf name = STRBUF_INIT;
    int fd = -1;
    for (int tries = 0; tries < 1000; tries++) {
        /* O_EXCL: never overwrite, even if something else writes into
         * the directory meanwhile; then take the next number. */
        strbuf_reset(&name);
        strbuf_addf(&name, "%s/%06lu-", c->dir, ++c->seq);
        add_safe_name(&name, id);
        strbuf_addstr(&name, ".http");
        fd = open(name.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot create capture file '%s': %s", name.buf,
                 strerror(errno));
        strbuf_release(&name);
        return -1;
    }
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "POST %s HTTP/1.1\n", url);
    for (size_t i = 0; i < nheaders; i++) {
        const char *colon = strchr(headers[i], ':');
        if (colon && !colon[strspn(colon + 1, " \t") + 1]) /* a blank value: not sent */
            continue;
        strbuf_addf(&sb, "%s\n", headers[i]);
    }
    strbuf_addf(&sb, "Content-Length: %zu\n\n", len);
    strbuf_add(&sb, body, len);
    int ret = write_all(fd, sb.buf, sb.len);
    if (close(fd) < 0)
        ret = -1;
    if (ret < 0)
        snprintf(err, errlen, "cannot write capture file '%s': %s", name.buf,
                 strerror(errno));
    strbuf_release(&sb);
    strbuf_release(&name);
    return ret;
}
