/*
 * duration.h - playbook durations and human-readable times.
 *
 * Playbook durations are sequences of NUMBER UNIT with units d, h, m, s and
 * ms, largest first, each at most once: "90s", "5m", "1h30m", "2d", "0s",
 * "500ms".  All durations are carried as int64 milliseconds.
 */
#ifndef CRISISRUN_DURATION_H
#define CRISISRUN_DURATION_H

#include <stdint.h>
#include <stddef.h>

/* Upper bound for any playbook duration: 365 days. */
#define DURATION_MAX_MS ((int64_t)365 * 24 * 3600 * 1000)

/*
 * Parses s into *ms.  Returns 0, or -1 with a static description of what is
 * wrong in *why (for a diagnostic: "invalid duration '5x': <why>").
 */
int duration_parse(const char *s, int64_t *ms, const char **why);

/*
 * Formats ms compactly for messages: "0s", "45s", "5m", "1h30m", "2d4h",
 * "1m30s".  Sub-second parts are dropped unless the whole is under 1s
 * ("250ms").  Negative values get a leading '-'.  Writes into buf (>= 32).
 */
char *duration_format(int64_t ms, char *buf, size_t size);

/*
 * Parses a rate "N/s", "N/m", "N/h" or "N/2s" (a count over a duration).
 * Returns 0 with *count and *per_ms set, or -1 with *why set.
 */
int rate_parse(const char *s, int *count, int64_t *per_ms, const char **why);

/*
 * Formats a wall-clock time (ms since the epoch) for messages, in UTC:
 * "14:35 UTC" when it falls on the same UTC day as ref_ms, else
 * "2026-11-27 14:35 UTC".
 */
char *walltime_format(int64_t t_ms, int64_t ref_ms, char *buf, size_t size);
/*
 * walltime_format() of a promise ("next update by 14:36 UTC"): rounded up
 * to the minute, so that what the message says is never earlier than
 * when the update comes.
 */
char *walltime_format_by(int64_t t_ms, int64_t ref_ms, char *buf, size_t size);

/* Formats an ISO 8601 UTC timestamp with milliseconds: "2026-11-26T14:35:02.120Z". */
char *iso8601_format(int64_t t_ms, char *buf, size_t size);
/* Parses "2026-11-26T14:35:00Z" (seconds and fraction optional), a real
 * date and time only (no 30 February, no second 60).  0 or -1. */
int iso8601_parse(const char *s, int64_t *t_ms);

#endif
