/*
 * sha256.h - SHA-256 (FIPS 180-4), for the journal's identifiers: the
 * notification ids, the endpoint hashes and the playbook's digest.
 *
 * Why not OpenSSL's: fetching its implementation initialises a provider
 * (a quarter of a megabyte of a run's memory that an unsigned run needs
 * for nothing else), and its EVP calls cost twice the hash itself on the
 * short strings hashed for every endpoint of a fan-out.  Signatures
 * (signature.h) still use OpenSSL's HMAC.
 */
#ifndef CRISISRUN_SHA256_H
#define CRISISRUN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* The digest of len bytes at data, into out.  Thread-safe. */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);

/*
 * 1 when sha256() runs on the processor's SHA extensions (x86-64 with
 * SHA, SSE4.1 and SSSE3, found at the first call), 0 when it runs the
 * portable code.
 */
int sha256_accelerated(void);
/* With on, sha256() runs the portable code from now on; with 0 it goes
 * back to the extensions where there are any.  For tests, which check
 * both; call it while no other thread hashes. */
void sha256_portable(int on);

#endif
