/* Unit tests for signature.h against the Standard Webhooks reference values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "crisisrun/signature.h"
#include "crisisrun/util.h"

/* The example used by the spec's reference libraries (Go, JavaScript, ...). */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS 1614265330
#define SPEC_TS_STR "1614265330"
#define SPEC_PAYLOAD "{\"test\": 2432232314}"
#define SPEC_SIGNATURE "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

#define OTHER_SECRET "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"

static int verify(const char *secret, const char *ts, const char *header,
                  const char *body, int64_t now)
{
    return signature_verify(secret, SPEC_MSG_ID, ts, header, body, strlen(body), now,
                            SIGNATURE_TOLERANCE_S);
}

static void test_sign_spec_example(void **state)
{
    (void)state;
    char *sig = signature_sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TS, SPEC_PAYLOAD,
                               strlen(SPEC_PAYLOAD));
    assert_non_null(sig);
    assert_string_equal(sig, SPEC_SIGNATURE);
    free(sig);
    /* The prefix is optional, as in the reference libraries. */
    sig = signature_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SPEC_MSG_ID, SPEC_TS,
                         SPEC_PAYLOAD, strlen(SPEC_PAYLOAD));
    assert_non_null(sig);
    assert_string_equal(sig, SPEC_SIGNATURE);
    free(sig);
}

static void test_sign_differs_by_input(void **state)
{
    (void)state;
    char *a = signature_sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TS + 1, SPEC_PAYLOAD,
                             strlen(SPEC_PAYLOAD));
    char *b = signature_sign(SPEC_SECRET, "msg_other", SPEC_TS, SPEC_PAYLOAD,
                             strlen(SPEC_PAYLOAD));
    char *c = signature_sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TS, "", 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_string_not_equal(a, SPEC_SIGNATURE);
    assert_string_not_equal(b, SPEC_SIGNATURE);
    assert_string_not_equal(c, SPEC_SIGNATURE);
    assert_true(starts_with(c, "v1,"));
    free(a);
    free(b);
    free(c);
}

static void test_malformed_secret(void **state)
{
    (void)state;
    assert_null(signature_sign("whsec_", SPEC_MSG_ID, SPEC_TS, "x", 1));
    assert_null(signature_sign("whsec_not base64!", SPEC_MSG_ID, SPEC_TS, "x", 1));
    assert_null(signature_sign("", SPEC_MSG_ID, SPEC_TS, "x", 1));
    assert_null(signature_sign(NULL, SPEC_MSG_ID, SPEC_TS, "x", 1));
    char *huge = xmalloc(2000);
    memcpy(huge, "whsec_", 6);
    memset(huge + 6, 'A', 1990);
    huge[1996] = '\0';
    assert_null(signature_sign(huge, SPEC_MSG_ID, SPEC_TS, "x", 1));
    free(huge);
    assert_false(signature_secret_valid("whsec_%%%"));
    assert_true(signature_secret_valid(SPEC_SECRET));
    assert_int_equal(verify("whsec_", SPEC_TS_STR, SPEC_SIGNATURE, SPEC_PAYLOAD, SPEC_TS),
                     -1);
}

static void test_verify_valid(void **state)
{
    (void)state;
    assert_int_equal(
        verify(SPEC_SECRET, SPEC_TS_STR, SPEC_SIGNATURE, SPEC_PAYLOAD, SPEC_TS), 0);
    /* Within the tolerance either way. */
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR, SPEC_SIGNATURE, SPEC_PAYLOAD,
                            SPEC_TS + SIGNATURE_TOLERANCE_S),
                     0);
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR, SPEC_SIGNATURE, SPEC_PAYLOAD,
                            SPEC_TS - SIGNATURE_TOLERANCE_S),
                     0);
}

static void test_verify_tampered_body(void **state)
{
    (void)state;
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR, SPEC_SIGNATURE,
                            "{\"test\": 2432232315}", SPEC_TS),
                     -1);
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR, SPEC_SIGNATURE, "", SPEC_TS), -1);
    /* A different id or timestamp is tampering too. */
    assert_int_equal(signature_verify(SPEC_SECRET, "msg_other", SPEC_TS_STR,
                                      SPEC_SIGNATURE, SPEC_PAYLOAD, strlen(SPEC_PAYLOAD),
                                      SPEC_TS, SIGNATURE_TOLERANCE_S),
                     -1);
    assert_int_equal(
        verify(SPEC_SECRET, "1614265331", SPEC_SIGNATURE, SPEC_PAYLOAD, SPEC_TS), -1);
}

static void test_verify_wrong_secret(void **state)
{
    (void)state;
    assert_int_equal(
        verify(OTHER_SECRET, SPEC_TS_STR, SPEC_SIGNATURE, SPEC_PAYLOAD, SPEC_TS), -1);
}

static void test_verify_expired_or_future(void **state)
{
    (void)state;
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR, SPEC_SIGNATURE, SPEC_PAYLOAD,
                            SPEC_TS + SIGNATURE_TOLERANCE_S + 1),
                     -1);
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR, SPEC_SIGNATURE, SPEC_PAYLOAD,
                            SPEC_TS - SIGNATURE_TOLERANCE_S - 1),
                     -1);
}

static void test_verify_malformed_headers(void **state)
{
    (void)state;
    assert_int_equal(verify(SPEC_SECRET, NULL, SPEC_SIGNATURE, SPEC_PAYLOAD, SPEC_TS),
                     -1);
    assert_int_equal(verify(SPEC_SECRET, "", SPEC_SIGNATURE, SPEC_PAYLOAD, SPEC_TS), -1);
    assert_int_equal(
        verify(SPEC_SECRET, " 1614265330", SPEC_SIGNATURE, SPEC_PAYLOAD, SPEC_TS), -1);
    assert_int_equal(
        verify(SPEC_SECRET, "1614265330x", SPEC_SIGNATURE, SPEC_PAYLOAD, SPEC_TS), -1);
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR, NULL, SPEC_PAYLOAD, SPEC_TS), -1);
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR, "", SPEC_PAYLOAD, SPEC_TS), -1);
    /* The right MAC under another version tag is not a v1 signature. */
    assert_int_equal(
        verify(SPEC_SECRET, SPEC_TS_STR,
               "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SPEC_PAYLOAD, SPEC_TS),
        -1);
    assert_int_equal(signature_verify(SPEC_SECRET, NULL, SPEC_TS_STR, SPEC_SIGNATURE,
                                      SPEC_PAYLOAD, strlen(SPEC_PAYLOAD), SPEC_TS,
                                      SIGNATURE_TOLERANCE_S),
                     -1);
}

static void test_verify_multiple_signatures(void **state)
{
    (void)state;
    /* Rotation: the valid one may be anywhere in the list. */
    const char *lists[] = {
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " SPEC_SIGNATURE,
        SPEC_SIGNATURE " v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZ "
        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=  " SPEC_SIGNATURE " ",
    };
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
        assert_int_equal(
            verify(SPEC_SECRET, SPEC_TS_STR, lists[i], SPEC_PAYLOAD, SPEC_TS), 0);
    assert_int_equal(verify(SPEC_SECRET, SPEC_TS_STR,
                            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
                            "v1,AAAAqEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                            SPEC_PAYLOAD, SPEC_TS),
                     -1);
}

static void test_roundtrip_binary_body(void **state)
{
    (void)state;
    const char body[] = {'a', '\0', 'b', (char)0xff};
    char *sig = signature_sign(OTHER_SECRET, "msg_1", 1700000000, body, sizeof(body));
    assert_non_null(sig);
    assert_int_equal(signature_verify(OTHER_SECRET, "msg_1", "1700000000", sig, body,
                                      sizeof(body), 1700000000, SIGNATURE_TOLERANCE_S),
                     0);
    assert_int_equal(signature_verify(OTHER_SECRET, "msg_1", "1700000000", sig, body,
                                      sizeof(body) - 1, 1700000000,
                                      SIGNATURE_TOLERANCE_S),
                     -1);
    free(sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_spec_example),
        cmocka_unit_test(test_sign_differs_by_input),
        cmocka_unit_test(test_malformed_secret),
        cmocka_unit_test(test_verify_valid),
        cmocka_unit_test(test_verify_tampered_body),
        cmocka_unit_test(test_verify_wrong_secret),
        cmocka_unit_test(test_verify_expired_or_future),
        cmocka_unit_test(test_verify_malformed_headers),
        cmocka_unit_test(test_verify_multiple_signatures),
        cmocka_unit_test(test_roundtrip_binary_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
