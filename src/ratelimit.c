/*
 * ratelimit.c - even spacing of a channel's messages (see ratelimit.h).
 */
#include "crisisrun/ratelimit.h"

void ratelimit_init(struct ratelimit *rl, int count, int64_t per_ms)
{
    rl->interval_ms = 0;
    rl->next_ms = 0;
    rl->used = 0;
    /* Rounding the interval up keeps N/P a true upper bound: 3/s is one
     * every 334 ms, never four in a second. */
    if (count > 0 && per_ms > 0)
        rl->interval_ms = (per_ms + count - 1) / count;
}

int ratelimit_enabled(const struct ratelimit *rl)
{
    return rl->interval_ms > 0;
}

int64_t ratelimit_next(const struct ratelimit *rl, int64_t now)
{
    if (!rl->used || rl->next_ms <= now)
        return now;
    return rl->next_ms;
}

void ratelimit_take(struct ratelimit *rl, int64_t now)
{
    int64_t base = rl->used && rl->next_ms > now ? rl->next_ms : now;
    rl->next_ms = base + rl->interval_ms;
    rl->used = 1;
}

void ratelimit_block(struct ratelimit *rl, int64_t until)
{
    if (!rl->used || until > rl->next_ms)
        rl->next_ms = until;
    rl->used = 1;
}
