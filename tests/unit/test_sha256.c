/* Unit tests for sha256.h: the examples of FIPS 180-4 (and the longer ones
 * NIST publishes), and agreement with OpenSSL on every length from 0 to
 * 300 bytes, which covers the one- and two-block tails and several blocks;
 * each with the portable code and, where the processor has them, the SHA
 * extensions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_CPUID 1
#include <cpuid.h>
#endif
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/sha256.h"
#include "crisisrun/util.h"

static void hex(const unsigned char *md, char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void check(const void *data, size_t len, const char *want)
{
    unsigned char md[SHA256_LEN];
    char got[65];
    sha256(data, len, md);
    hex(md, got);
    assert_string_equal(got, want);
}

static void standard_examples(void)
{
    check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check(four, strlen(four), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    size_t n = 1000000;
    char *a = xmalloc(n);
    memset(a, 'a', n);
    check(a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

static void agrees_with_openssl(void)
{
    unsigned char buf[300];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    for (size_t len = 0; len <= sizeof(buf); len++) {
        unsigned char ours[SHA256_LEN], theirs[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        sha256(buf, len, ours);
        assert_int_equal(EVP_Digest(buf, len, theirs, &n, EVP_sha256(), NULL), 1);
        assert_int_equal(n, SHA256_LEN);
        if (memcmp(ours, theirs, SHA256_LEN))
            fail_msg("SHA-256 of %zu bytes differs from OpenSSL's", len);
    }
}

/* 1 when the processor reports what sha256() needs for its extensions:
 * SHA, SSE4.1 and SSSE3 (valgrind reports no SHA). */
static int cpu_has_sha(void)
{
#ifdef HAVE_CPUID
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
           __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
#else
    return 0;
#endif
}

/*
 * check() with the code sha256() chose (the extensions where the
 * processor has them, which the first assertion makes sure of), then with
 * the portable code.  Without the extensions both passes run the portable
 * code, and the output says so.
 */
static void both_ways(void (*check_all)(void))
{
    assert_int_equal(sha256_accelerated(), cpu_has_sha());
    if (!cpu_has_sha())
        print_message("no SHA extensions here: the portable code only\n");
    check_all();
    sha256_portable(1);
    assert_int_equal(sha256_accelerated(), 0);
    check_all();
    sha256_portable(0);
    assert_int_equal(sha256_accelerated(), cpu_has_sha());
}

static void test_standard_examples(void **state)
{
    (void)state;
    both_ways(standard_examples);
}

static void test_agrees_with_openssl(void **state)
{
    (void)state;
    both_ways(agrees_with_openssl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_examples),
        cmocka_unit_test(test_agrees_with_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
