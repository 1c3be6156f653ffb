/*
 * backoff.h - when to try a failed delivery again.
 *
 * Pure arithmetic, no clock and no random source of its own: the delivery
 * engine passes the time and a uniform random number in, so every rule here
 * is tested on virtual time with chosen "random" values.
 *
 * The delay before the attempt after attempt k (k = 1 for the first) is
 *
 *     ceiling = min(BACKOFF_CAP_MS, base * 2^(k-1))
 *     delay   = ceiling/2 + u * (ceiling - ceiling/2)      u uniform in [0, 1)
 *
 * ("equal jitter": at least half the exponential delay, so retries never
 * bunch up at zero, and spread over the other half so that thousands of
 * endpoints failing together do not retry together).  When the service said
 * Retry-After (header, or a provider's body field such as Discord's
 * retry_after), the retry comes no earlier than that, capped at
 * RETRY_AFTER_CAP_MS so a hostile or confused endpoint cannot park a
 * notification for a day:
 *
 *     delay = max(delay, min(retry_after, RETRY_AFTER_CAP_MS))
 */
#ifndef CRISISRUN_BACKOFF_H
#define CRISISRUN_BACKOFF_H

#include <stdint.h>

#define BACKOFF_CAP_MS ((int64_t)5 * 60 * 1000)      /* 5 minutes */
#define RETRY_AFTER_CAP_MS ((int64_t)60 * 60 * 1000) /* 1 hour */

/*
 * The un-jittered delay after attempt `attempt` (1-based):
 * min(cap_ms, base_ms * 2^(attempt-1)), without overflow for any attempt.
 * base_ms <= 0 gives 0 (retry at once); attempt < 1 counts as 1.
 */
int64_t backoff_ceiling_ms(int64_t base_ms, int attempt, int64_t cap_ms);

/*
 * The jittered delay after attempt `attempt`: in [ceiling/2, ceiling)
 * for u in [0, 1) (u outside that range is clamped).
 */
int64_t backoff_delay_ms(int64_t base_ms, int attempt, int64_t cap_ms, double u);

/*
 * The delay before retrying after attempt `attempt` failed, as the engine
 * uses it: backoff_delay_ms() with BACKOFF_CAP_MS, raised to
 * min(retry_after_ms, RETRY_AFTER_CAP_MS) when retry_after_ms >= 0
 * (-1 means the service gave no Retry-After).
 */
int64_t backoff_retry_delay_ms(int64_t base_ms, int attempt, int64_t retry_after_ms,
                               double u);

/* Maps 64 random bits to a double uniform in [0, 1). */
double backoff_unit(uint64_t bits);

/*
 * Parses a Retry-After header value (RFC 9110 10.2.3): delta-seconds, or an
 * HTTP-date in IMF-fixdate, obsolete RFC 850 or asctime form, read against
 * the wall clock now_wall_ms (ms since the epoch).  Returns the delay in ms
 * (0 for a date in the past), or -1 when the value is neither form.
 * Leading and trailing white space is ignored.
 */
int64_t retry_after_parse(const char *value, int64_t now_wall_ms);

#endif
