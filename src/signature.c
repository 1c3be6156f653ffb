/*
 * signature.c - Standard Webhooks HMAC-SHA256 signatures (see signature.h).
 *
 * The MAC is computed with OpenSSL's EVP_MAC interface and fed in three
 * pieces (id, timestamp, body) so a large body is never copied.  The key
 * lives only in a stack buffer that is cleansed before returning.
 */
#include "crisisrun/signature.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crisisrun/util.h"

#define SECRET_PREFIX "whsec_"
#define KEY_MAX 512    /* the spec's upper bound for a symmetric secret */
#define MAC_LEN 32     /* SHA-256 */
#define MAC_B64_LEN 44 /* 4 * ceil(32 / 3) */

/* Decodes the secret into key[KEY_MAX]; returns its length, or -1. */
static int decode_secret(const char *secret, unsigned char *key)
{
    if (!secret)
        return -1;
    if (starts_with(secret, SECRET_PREFIX))
        secret += strlen(SECRET_PREFIX);
    size_t n = strlen(secret);
    /* Base64 of KEY_MAX bytes is 684 characters; refuse anything longer so
     * the decoder can never overrun key[]. */
    if (n == 0 || n > 4 * ((KEY_MAX + 2) / 3))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)secret[i]) && !strchr("+/=", secret[i]))
            return -1;

    unsigned char buf[4 * ((KEY_MAX + 2) / 3)];
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int len = -1, out = 0, fin = 0;
    if (!ctx)
        return -1;
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, buf, &out, (const unsigned char *)secret, (int)n) >= 0 &&
        EVP_DecodeFinal(ctx, buf + out, &fin) == 1) {
        len = out + fin;
        if (len < 1 || len > KEY_MAX)
            len = -1;
        else
            memcpy(key, buf, (size_t)len);
    }
    EVP_ENCODE_CTX_free(ctx);
    OPENSSL_cleanse(buf, sizeof(buf));
    return len;
}

int signature_secret_valid(const char *secret)
{
    unsigned char key[KEY_MAX];
    int n = decode_secret(secret, key);
    OPENSSL_cleanse(key, sizeof(key));
    return n > 0;
}

/* HMAC-SHA256 over "{id}.{ts}.{body}" into mac[MAC_LEN]; 0 or -1. */
static int compute_mac(const unsigned char *key, size_t keylen, const char *msg_id,
                       const char *ts, const char *body, size_t len, unsigned char *mac)
{
    EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t maclen = 0;
    int ret = -1;
    if (ctx && EVP_MAC_init(ctx, key, keylen, params) &&
        EVP_MAC_update(ctx, (const unsigned char *)msg_id, strlen(msg_id)) &&
        EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
        EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) &&
        EVP_MAC_update(ctx, (const unsigned char *)".", 1) &&
        (len == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, len)) &&
        EVP_MAC_final(ctx, mac, &maclen, MAC_LEN) && maclen == MAC_LEN)
        ret = 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(alg);
    return ret;
}

/* The base64 MAC of one message into out[MAC_B64_LEN + 1]; 0 or -1. */
static int sign_b64(const char *secret, const char *msg_id, const char *ts,
                    const char *body, size_t len, char *out)
{
    unsigned char key[KEY_MAX], mac[MAC_LEN];
    int keylen = decode_secret(secret, key), ret = -1;
    if (keylen > 0 && compute_mac(key, (size_t)keylen, msg_id, ts, body, len, mac) == 0 &&
        EVP_EncodeBlock((unsigned char *)out, mac, MAC_LEN) == MAC_B64_LEN)
        ret = 0;
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(mac, sizeof(mac));
    return ret;
}

char *signature_sign(const char *secret, const char *msg_id, int64_t ts_seconds,
                     const char *body, size_t len)
{
    char ts[24], b64[MAC_B64_LEN + 1];
    if (!msg_id)
        return NULL;
    snprintf(ts, sizeof(ts), "%" PRId64, ts_seconds);
    if (sign_b64(secret, msg_id, ts, body, len, b64) < 0)
        return NULL;
    return xasprintf("v1,%s", b64);
}

/* Parses a decimal timestamp strictly (digits only, no sign or spaces). */
static int parse_ts(const char *ts, int64_t *out)
{
    if (!ts || !*ts || strlen(ts) > 18)
        return -1;
    int64_t v = 0;
    for (const char *p = ts; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

int signature_verify(const char *secret, const char *msg_id, const char *ts,
                     const char *sig_header, const char *body, size_t len,
                     int64_t now_seconds, int64_t tolerance_s)
{
    int64_t t;
    char want[MAC_B64_LEN + 1];
    if (!msg_id || !sig_header || parse_ts(ts, &t) < 0)
        return -1;
    if (t < now_seconds - tolerance_s || t > now_seconds + tolerance_s)
        return -1;
    if (sign_b64(secret, msg_id, ts, body, len, want) < 0)
        return -1;

    int ok = 0;
    const char *p = sig_header;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        /* Only "v1," is ours; v1a (asymmetric) and unknown versions are
         * skipped, as the spec asks, rather than failing the header. */
        if (n == 3 + MAC_B64_LEN && !memcmp(p, "v1,", 3) &&
            CRYPTO_memcmp(p + 3, want, MAC_B64_LEN) == 0)
            ok = 1;
        p += n;
    }
    OPENSSL_cleanse(want, sizeof(want));
    return ok ? 0 : -1;
}
