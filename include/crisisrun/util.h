/*
 * util.h - memory, strings and error reporting shared by every module.
 *
 * Allocation failure is not recoverable in a crisis runner that must keep
 * its journal consistent, so the x* family aborts with a message instead of
 * returning NULL; call sites never check.
 *
 * Errors follow one rule: the function that detects a failure reports it
 * once (error()) and returns -1; its callers only propagate.
 */
#ifndef CRISISRUN_UTIL_H
#define CRISISRUN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define CR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CR_NORETURN __attribute__((noreturn))
#else
#define CR_PRINTF(f, a)
#define CR_NORETURN
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string. */
char *xasprintf(const char *fmt, ...) CR_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap);
/*
 * Frees a NUL-terminated secret (a signing secret, a control token, an
 * Authorization line) after zeroing it, so that it is not left in freed
 * heap memory; explicit_bzero(), which the optimiser cannot drop as a dead
 * store before free().  NULL is fine.
 */
void free_secret(char *s);

/*
 * Grow an array *p of *alloc elements of size sz so that it holds at least
 * `need` elements.  Amortised doubling.
 */
void *xgrow(void *p, size_t *alloc, size_t need, size_t sz);
#define ALLOC_GROW(p, need, alloc)                                                       \
    do {                                                                                 \
        if ((need) > (alloc))                                                            \
            (p) = xgrow((p), &(alloc), (need), sizeof(*(p)));                            \
    } while (0)

/* Prints "crisisrun: MESSAGE" to stderr and returns -1. */
int error(const char *fmt, ...) CR_PRINTF(1, 2);
/* Prints "crisisrun: warning: MESSAGE" to stderr. */
void warning(const char *fmt, ...) CR_PRINTF(1, 2);
/* Prints "crisisrun: MESSAGE" and exits with status 1. */
CR_NORETURN void die(const char *fmt, ...) CR_PRINTF(1, 2);

/*
 * strbuf: a growable NUL-terminated byte buffer.
 * `buf` is always valid (never NULL after strbuf_init) and owned by the
 * strbuf; strbuf_detach() hands ownership to the caller and re-initialises.
 */
struct strbuf {
    char *buf;
    size_t len;
    size_t alloc;
};
#define STRBUF_INIT {NULL, 0, 0}

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) CR_PRINTF(2, 3);
void strbuf_reset(struct strbuf *sb);
/*
 * Appends s escaped for HTML text and attribute values: & < > " ' become
 * entities.  Every HTML page crisisrun writes (report, feedback form,
 * inbox) puts user text through this one function.  NULL appends nothing.
 */
void strbuf_add_html(struct strbuf *sb, const char *s);
/* Returns the buffer as a C string ("" when empty and unallocated). */
const char *strbuf_str(const struct strbuf *sb);

/* Reads a whole file (at most max bytes; -1 and an error if larger). */
int read_file(const char *path, size_t max, char **out, size_t *len);

/* Returns 1 when s starts with prefix. */
int starts_with(const char *s, const char *prefix);

/*
 * Redacts a URL for display: keeps scheme and host[:port] only and appends
 * "/…" when anything followed.  Webhook URLs carry their secret in the path
 * and query, so this is the only form of a URL that may be printed, logged,
 * journaled for display or put in a report.  Returns a new string.
 */
char *url_redact(const char *url);

/*
 * Replaces every URL in s by its url_redact() form, for text that may
 * quote one (a delivery error): a URL runs from its scheme to the next
 * space or control character, so a quote or bracket after it is taken
 * with it.  Returns a new string.
 */
char *text_redact_urls(const char *s);

/*
 * The problem with url as a --public-url, or NULL: it must be http or
 * https, and must not carry a user name or password, which would go out in
 * every feedback link.  The message never quotes the URL.
 */
const char *public_url_problem(const char *url);

/*
 * FNV-1a, the hash of crisisrun's hash tables: hash_str(s) from the
 * start, hash_add(h, s) going on from h (HASH_INIT to start), HASH_PRIME
 * to mix in a number.
 */
#define HASH_INIT 14695981039346656037u
#define HASH_PRIME 1099511628211u
uint64_t hash_add(uint64_t h, const char *s);
uint64_t hash_str(const char *s);

/*
 * Finds, in one hashed pass, each string of v[0..n) equal to an earlier
 * one and calls repeat(arg, i, first) for it, first being the index of
 * that string's first occurrence.  repeat may free v[i]: only first
 * occurrences are looked at again.  The table takes 4 bytes a slot, 8 a
 * string: a 100,000-url list is checked in under 1 MiB.  n < 2^32.
 */
void strings_repeats(char *const *v, size_t n,
                     void (*repeat)(void *arg, size_t i, size_t first), void *arg);
/*
 * The same for n strings of any collection v: at(v, i, buf) returns string
 * i, written into buf (buf_size bytes) where it is not held whole.  Two
 * strings are looked at a time, each in a buffer of its own.
 */
void repeats_of(const void *v, size_t n,
                const char *(*at)(const void *v, size_t i, char *buf), size_t buf_size,
                void (*repeat)(void *arg, size_t i, size_t first), void *arg);

/* Wall clock in milliseconds since the epoch. */
int64_t wallclock_ms(void);
/* Monotonic clock in milliseconds (CLOCK_MONOTONIC). */
int64_t monotonic_ms(void);

/*
 * 1 when process pid on this machine exists (kill(pid, 0) succeeds, or is
 * refused because it belongs to another user), 0 when it is gone.
 */
int process_alive(int64_t pid);

/*
 * 1 when process pid on this machine is stopped: by Ctrl-Z or SIGSTOP
 * (its /proc/PID/stat state is T), or at a debugger's stop (t).  0 when
 * it runs, is gone, or /proc cannot be read.  A stopped runner holds its
 * run without answering, and the operator's way out is SIGCONT, not a
 * resume.
 */
int process_stopped(int64_t pid);

/*
 * Fills buf with len bytes from the kernel's random number generator
 * (getrandom(2), which waits until it is seeded): run ids and bearer and
 * feedback tokens.  0, or -1 with errno set.
 */
int random_bytes(void *buf, size_t len);

#endif
