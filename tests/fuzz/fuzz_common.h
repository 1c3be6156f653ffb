/*
 * fuzz_common.h - what every harness in tests/fuzz/ shares.
 *
 * Each harness fuzz_NAME.c puts its work in fuzz_NAME_one(data, size) and
 * defines the libFuzzer entry points only when FUZZ_REPLAY is not defined:
 * tests/unit/test_fuzz_regressions.c defines it, includes every harness,
 * and replays each saved crash and seed through the very same function in
 * the ordinary build, without clang.  So every static name in a harness
 * carries its harness's prefix: they all share one translation unit there.
 */
#ifndef CRISISRUN_FUZZ_COMMON_H
#define CRISISRUN_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

/*
 * An invariant of the code under test.  A broken one aborts: libFuzzer
 * saves the input as a crash, and the replaying unit test fails with the
 * message below (stderr may be closed while fuzzing; the stack trace then
 * names the line).
 */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

static inline void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

/* The number of occurrences of needle in s. */
static inline size_t fuzz_count(const char *s, const char *needle)
{
    size_t n = 0;
    size_t len = 0;
    while (needle[len])
        len++;
    for (const char *p = s; *p; p++) {
        size_t i = 0;
        while (i < len && p[i] == needle[i])
            i++;
        n += i == len;
    }
    return n;
}

#endif
