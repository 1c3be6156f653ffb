/*
 * ratelimit.h - a per-channel rate limit that holds messages back.
 *
 * A channel's `rate: N/P` means at most N messages in any window of P.
 * The limiter spaces messages evenly, one every ceil(P/N) ms (a cell-rate
 * limiter with a burst of one): that never puts more than N into any window
 * of P, and it avoids the burst-then-stall pattern that trips the services'
 * own limiters (Discord's 5/2s bucket, Slack's "about one per second").
 * Nothing is ever dropped: the engine asks when the next message may go
 * and waits until then.
 *
 * Pure arithmetic on times the caller passes in (monotonic ms), so it is
 * tested on virtual time.  A zeroed struct (or count <= 0) is no limit.
 */
#ifndef CRISISRUN_RATELIMIT_H
#define CRISISRUN_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
    int64_t interval_ms; /* ceil(per/count); 0 = no limit */
    int64_t next_ms;     /* earliest time the next message may go */
    int used;            /* 0 until the first message */
};

/* Sets up a limit of count messages per per_ms; count <= 0 or per_ms <= 0
 * means none. */
void ratelimit_init(struct ratelimit *rl, int count, int64_t per_ms);

/* 1 when the limiter limits anything. */
int ratelimit_enabled(const struct ratelimit *rl);

/* The earliest time (>= now) at which one more message may go. */
int64_t ratelimit_next(const struct ratelimit *rl, int64_t now);

/*
 * Records a message sent at `now`.  The caller MUST have waited until
 * ratelimit_next(rl, now) <= now; a message sent late does not earn a
 * burst later (the next one is due interval_ms after this one).
 */
void ratelimit_take(struct ratelimit *rl, int64_t now);

/*
 * Holds everything back until `until` (a service answered 429 with
 * Retry-After for the whole channel).  Never moves the release earlier.
 */
void ratelimit_block(struct ratelimit *rl, int64_t until);

#endif
