/*
 * token.c - API bearer tokens (see token.h).
 */
#include "crisisrun/token.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crisisrun/util.h"

int token_new(char *out, const char *what)
{
    unsigned char raw[TOKEN_HEX_LEN / 2];
    if (random_bytes(raw, sizeof(raw)) < 0)
        return error("cannot make %s: no randomness available: %s", what, strerror(errno));
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

int token_write_file(const char *path, const char *token, const char *what)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return error("cannot write %s to '%s': %s", what, path, strerror(errno));
    size_t len = strlen(token);
    int ret = 0;
    /* A file left by an earlier process keeps its mode through O_CREAT. */
    if (fchmod(fd, 0600) < 0 || write(fd, token, len) != (ssize_t)len ||
        write(fd, "\n", 1) != 1)
        ret = error("cannot write %s to '%s': %s", what, path, strerror(errno));
    if (close(fd) < 0 && !ret)
        ret = error("cannot write %s to '%s': %s", what, path, strerror(errno));
    return ret;
}

int token_bearer_ok(const struct httpd_request *req, const char *token)
{
    const char *auth = httpd_header(req, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    const char *tok = auth + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(token);
    return n && strlen(tok) == n && CRYPTO_memcmp(tok, token, n) == 0;
}

void token_forget(char *token)
{
    OPENSSL_cleanse(token, TOKEN_HEX_LEN + 1);
}
