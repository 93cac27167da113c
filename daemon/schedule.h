/*
 * schedule.h - when to poll a feed next (pure functions, no I/O, no clock,
 * no randomness of their own: the caller passes `now` and a random word,
 * so every rule can be tested exactly).  Named schedule.h, not sched.h: a
 * daemon/sched.h would shadow the system's <sched.h> (which <pthread.h>
 * includes) because daemon/ is on the include path.
 *
 * Every answer is a time AND a short reason ("retry-after 120s",
 * "max-age 7200s", "backoff after 3 errors") that `feedctl why` shows.
 *
 * Rules:
 *  - After a success (200 or 304) the next poll is `interval` later (or the
 *    feed's own rhythm, see sched_adaptive_interval, when it has no
 *    interval of its own), raised
 *    (never lowered) by the feed's and the server's hints: Cache-Control
 *    max-age, Expires, RSS <ttl>, sy:updatePeriod/updateFrequency and
 *    Retry-After.  Hints are clamped to `hint_max`; the result is never
 *    earlier than `floor`.
 *  - After a failure (network error, timeout, 429, 5xx, a store error ...)
 *    the delay doubles per consecutive error from `backoff_base` up to
 *    `backoff_cap`, with +-20% jitter so that feeds failing together do
 *    not retry together.  A Retry-After (clamped to `retry_after_max`)
 *    that is later wins.  Never earlier than `floor` either.
 *  - At start-up, feeds whose stored time has passed are spread over the
 *    interval instead of all firing at once.
 */
#ifndef FEEDD_SCHEDULE_H
#define FEEDD_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#define SCHED_NONE (-1) /* "no such hint" for every int64_t hint below */

struct sched_policy {
	int64_t interval;        /* seconds between polls (default 3600) */
	int64_t floor;           /* never poll more often (default 900) */
	int64_t hint_max;        /* hints raise the interval up to this (default 86400) */
	int64_t backoff_base;    /* delay after the first error (default 1200) */
	int64_t backoff_cap;     /* largest error delay (default 43200) */
	int64_t retry_after_max; /* Retry-After is clamped to this (default 86400) */
	int jitter_percent;      /* +- this much on back-off delays (default 20) */
};

/* Hints from the last response and document; SCHED_NONE when absent. */
struct sched_hints {
	int64_t max_age;     /* Cache-Control max-age, seconds */
	int64_t expires_in;  /* Expires minus the response's Date, seconds */
	int64_t ttl_minutes; /* RSS <ttl> */
	int64_t sy_period;   /* sy:updatePeriod / updateFrequency, seconds */
	int64_t retry_after; /* Retry-After, seconds (a date already converted) */
	int64_t adaptive;    /* sched_adaptive_interval: replaces interval (not a raise) */
};

struct sched_next {
	int64_t at;      /* epoch seconds */
	char reason[64]; /* e.g. "max-age 7200s" */
};

void sched_policy_default(struct sched_policy *p);
/* All hints SCHED_NONE. */
void sched_hints_none(struct sched_hints *h);

/* Next poll after a successful fetch (200 or 304). h may be NULL. */
struct sched_next sched_after_success(const struct sched_policy *p, int64_t now,
                                      const struct sched_hints *h);

/* Distinct publication times needed before a feed's rhythm is trusted. */
#define SCHED_ADAPTIVE_MIN 4

/*
 * The interval a feed's own publishing suggests: half the typical gap
 * between its items, where the typical gap is the median gap between its
 * newest publication times (any order; equal times count once), or the
 * time since the newest one when the feed has been silent for longer.
 * Within [floor, hint_max].  SCHED_NONE when there are fewer than
 * SCHED_ADAPTIVE_MIN distinct times (only the first 64 are looked at).
 */
int64_t sched_adaptive_interval(const struct sched_policy *p, int64_t now, const int64_t *times,
                                size_t n);

/*
 * Next poll after a failure.  errors: consecutive errors including this
 * one (>= 1).  retry_after: seconds or SCHED_NONE.  rnd: a uniformly
 * random 32-bit word that sets the jitter (0 -> -20%, UINT32_MAX -> +20%
 * with the default jitter_percent).
 */
struct sched_next sched_after_failure(const struct sched_policy *p, int64_t now, int errors,
                                      int64_t retry_after, uint32_t rnd);

/*
 * First poll at start-up.  stored: the feed's next poll time from the
 * store, or SCHED_NONE for a feed never polled.  A stored time in the
 * future is kept; otherwise the feed is due at a point spread over
 * [now, now + min(interval, spread)) chosen by rnd.
 */
struct sched_next sched_startup(const struct sched_policy *p, int64_t now, int64_t stored,
                                int64_t spread, uint32_t rnd);

#endif
