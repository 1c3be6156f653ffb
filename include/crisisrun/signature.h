/*
 * signature.h - Standard Webhooks signing and verification (symmetric, v1).
 *
 * The signed content is "{msg_id}.{timestamp}.{body}", the MAC is
 * HMAC-SHA256 keyed with the base64-decoded secret (the part after the
 * "whsec_" prefix), and a signature is written "v1,BASE64(MAC)".  The
 * webhook-signature header may carry several space-separated signatures
 * (secret rotation); one valid v1 signature is enough.
 *
 * Neither function prints anything: the delivery side signs every request
 * and the inbox verifies every request, and both decide themselves what a
 * failure means.  Secrets are never copied anywhere but the stack.
 */
#ifndef CRISISRUN_SIGNATURE_H
#define CRISISRUN_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

/* The tolerance the Standard Webhooks spec recommends (seconds either way). */
#define SIGNATURE_TOLERANCE_S 300

/*
 * Returns 1 when `secret` is a usable signing secret: "whsec_" followed by
 * base64 (the prefix may be left out, as the reference libraries allow) that
 * decodes to 1..512 bytes.  Returns 0 otherwise.
 */
int signature_secret_valid(const char *secret);

/*
 * Signs one message.  Returns a new string "v1,BASE64" (free() it), or NULL
 * when the secret is malformed (see signature_secret_valid()).
 */
char *signature_sign(const char *secret, const char *msg_id, int64_t ts_seconds,
                     const char *body, size_t len);

/*
 * Verifies the three Standard Webhooks headers of one request against
 * `secret`.  `msg_id`, `ts` and `sig_header` are the raw header values (NULL
 * when absent).  The timestamp must be a decimal integer within
 * `tolerance_s` seconds of `now_seconds` in either direction.  The signature
 * comparison runs in constant time.
 *
 * Returns 0 when at least one "v1," signature in `sig_header` matches, -1
 * otherwise (absent header, malformed secret or timestamp, expired
 * timestamp, no matching signature).
 */
int signature_verify(const char *secret, const char *msg_id, const char *ts,
                     const char *sig_header, const char *body, size_t len,
                     int64_t now_seconds, int64_t tolerance_s);

#endif
