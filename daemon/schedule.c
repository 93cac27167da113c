/* schedule.c - next-poll policy; see schedule.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

void sched_policy_default(struct sched_policy *p)
{
	p->interval = 3600;
	p->floor = 900;
	p->hint_max = 86400;
	p->backoff_base = 1200;
	p->backoff_cap = 43200;
	p->retry_after_max = 86400;
	p->jitter_percent = 20;
}

void sched_hints_none(struct sched_hints *h)
{
	h->max_age = SCHED_NONE;
	h->expires_in = SCHED_NONE;
	h->ttl_minutes = SCHED_NONE;
	h->sy_period = SCHED_NONE;
	h->retry_after = SCHED_NONE;
	h->adaptive = SCHED_NONE;
}

static int64_t sched_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t sched_base_interval(const struct sched_policy *p)
{
	return p->interval > p->floor ? p->interval : p->floor;
}

/* Raises *best to the hint (clamped to hint_max) when it is later. */
static void sched_raise(struct sched_next *n, int64_t *best, int64_t hint, int64_t max,
                        const char *what, const char *unit, int64_t shown)
{
	if (hint == SCHED_NONE || hint <= 0)
		return;
	int64_t d = sched_min(hint, max);
	if (d <= *best)
		return;
	*best = d;
	snprintf(n->reason, sizeof n->reason, "%s %lld%s", what, (long long)shown, unit);
}

struct sched_next sched_after_success(const struct sched_policy *p, int64_t now,
                                      const struct sched_hints *h)
{
	struct sched_next n;
	int64_t best = sched_base_interval(p);
	int64_t max = p->hint_max > best ? p->hint_max : best;

	snprintf(n.reason, sizeof n.reason, "interval %llds", (long long)best);
	if (h && h->adaptive != SCHED_NONE) {
		best = h->adaptive < p->floor ? p->floor : sched_min(h->adaptive, max);
		snprintf(n.reason, sizeof n.reason, "adaptive %llds", (long long)best);
	}
	if (h) {
		sched_raise(&n, &best, h->max_age, max, "max-age", "s", h->max_age);
		sched_raise(&n, &best, h->expires_in, max, "expires in", "s", h->expires_in);
		if (h->ttl_minutes > 0 && h->ttl_minutes < INT64_MAX / 60)
			sched_raise(&n, &best, h->ttl_minutes * 60, max, "ttl", "min",
			            h->ttl_minutes);
		sched_raise(&n, &best, h->sy_period, max, "sy:updatePeriod", "s", h->sy_period);
		int64_t ra = h->retry_after == SCHED_NONE
		                 ? SCHED_NONE
		                 : sched_min(h->retry_after, p->retry_after_max);
		sched_raise(&n, &best, ra, p->retry_after_max, "retry-after", "s", ra);
	}
	n.at = now + best;
	return n;
}

static int sched_cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

int64_t sched_adaptive_interval(const struct sched_policy *p, int64_t now, const int64_t *times,
                                size_t n)
{
	int64_t t[64], gaps[64];
	size_t nt = 0, ng = 0;

	if (n > 64)
		n = 64;
	memcpy(t, times, n * sizeof *t);
	qsort(t, n, sizeof *t, sched_cmp_desc);
	for (size_t i = 0; i < n; i++)
		if (t[i] > 0 && (nt == 0 || t[i] != t[nt - 1]))
			t[nt++] = t[i];
	if (nt < SCHED_ADAPTIVE_MIN)
		return SCHED_NONE;
	for (size_t i = 0; i + 1 < nt; i++)
		gaps[ng++] = t[i] - t[i + 1];
	qsort(gaps, ng, sizeof *gaps, sched_cmp_desc);
	int64_t typical = gaps[ng / 2];
	if (now - t[0] > typical)
		typical = now - t[0];
	int64_t d = typical / 2;
	return d < p->floor ? p->floor : sched_min(d, p->hint_max);
}

struct sched_next sched_after_failure(const struct sched_policy *p, int64_t now, int errors,
                                      int64_t retry_after, uint32_t rnd)
{
	struct sched_next n;
	int64_t d = p->backoff_base > 0 ? p->backoff_base : 1;

	for (int i = 1; i < errors && d < p->backoff_cap; i++)
		d *= 2;
	d = sched_min(d, p->backoff_cap);
	/* jitter: factor (1 - j) .. (1 + j) */
	double j = p->jitter_percent / 100.0;
	d = llround((double)d * (1.0 - j + 2.0 * j * ((double)rnd / (double)UINT32_MAX)));
	snprintf(n.reason, sizeof n.reason, "backoff after %d error%s", errors,
	         errors == 1 ? "" : "s");
	if (retry_after != SCHED_NONE && retry_after > 0) {
		int64_t ra = sched_min(retry_after, p->retry_after_max);
		if (ra > d) {
			d = ra;
			snprintf(n.reason, sizeof n.reason, "retry-after %llds", (long long)ra);
		}
	}
	if (d < p->floor)
		d = p->floor;
	n.at = now + d;
	return n;
}

struct sched_next sched_startup(const struct sched_policy *p, int64_t now, int64_t stored,
                                int64_t spread, uint32_t rnd)
{
	struct sched_next n;

	if (stored != SCHED_NONE && stored > now) {
		n.at = stored;
		snprintf(n.reason, sizeof n.reason, "stored schedule");
		return n;
	}
	int64_t w = sched_min(sched_base_interval(p), spread > 0 ? spread : 1);
	n.at = now + (int64_t)(((uint64_t)rnd * (uint64_t)w) >> 32);
	snprintf(n.reason, sizeof n.reason, "start-up spread over %llds", (long long)w);
	return n;
}
