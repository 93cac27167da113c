/* test_sched.c - the next-poll policy (daemon/sched.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

#define NOW 1700000000

static struct sched_policy pol;
static struct sched_hints hints;

static void setup(void)
{
	sched_policy_default(&pol);
	sched_hints_none(&hints);
}

START_TEST(success_without_hints_uses_interval)
{
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 3600);
	ck_assert_str_eq(n.reason, "interval 3600s");
}
END_TEST

START_TEST(interval_below_floor_is_raised_to_floor)
{
	pol.interval = 60;
	struct sched_next n = sched_after_success(&pol, NOW, NULL);
	ck_assert_int_eq(n.at, NOW + 900);
}
END_TEST

START_TEST(max_age_pushes_later)
{
	hints.max_age = 7200;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 7200);
	ck_assert_str_eq(n.reason, "max-age 7200s");
}
END_TEST

START_TEST(short_max_age_never_pulls_earlier)
{
	hints.max_age = 60;
	hints.expires_in = 120;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 3600);
	ck_assert_str_eq(n.reason, "interval 3600s");
}
END_TEST

START_TEST(expires_pushes_later)
{
	hints.expires_in = 5000;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 5000);
	ck_assert_str_eq(n.reason, "expires in 5000s");
}
END_TEST

START_TEST(rss_ttl_in_minutes_pushes_later)
{
	hints.ttl_minutes = 120;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 7200);
	ck_assert_str_eq(n.reason, "ttl 120min");
}
END_TEST

START_TEST(sy_update_period_pushes_later)
{
	hints.sy_period = 43200;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 43200);
}
END_TEST

START_TEST(largest_hint_wins_and_is_named)
{
	hints.max_age = 4000;
	hints.ttl_minutes = 100;
	hints.sy_period = 5000;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 6000);
	ck_assert_str_eq(n.reason, "ttl 100min");
}
END_TEST

START_TEST(hints_are_clamped_to_hint_max)
{
	hints.max_age = 10 * 86400;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 86400);
}
END_TEST

START_TEST(retry_after_on_success_pushes_later)
{
	hints.retry_after = 7300;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 7300);
	ck_assert_str_eq(n.reason, "retry-after 7300s");
}
END_TEST

START_TEST(absurd_retry_after_is_clamped)
{
	/* what CURLINFO_RETRY_AFTER gives for an HTTP date in 2037 */
	struct sched_next n = sched_after_failure(&pol, NOW, 1, 343900756, 0);
	ck_assert_int_eq(n.at, NOW + 86400);
	ck_assert_str_eq(n.reason, "retry-after 86400s");
}
END_TEST

START_TEST(retry_after_longer_than_backoff_wins)
{
	struct sched_next n = sched_after_failure(&pol, NOW, 1, 5000, UINT32_MAX / 2);
	ck_assert_int_eq(n.at, NOW + 5000);
	ck_assert_str_eq(n.reason, "retry-after 5000s");
}
END_TEST

START_TEST(retry_after_shorter_than_floor_is_raised)
{
	pol.backoff_base = 1;
	struct sched_next n = sched_after_failure(&pol, NOW, 1, 10, 0);
	ck_assert_int_eq(n.at, NOW + 900);
}
END_TEST

START_TEST(backoff_doubles_per_error)
{
	uint32_t mid = UINT32_MAX / 2; /* jitter factor 1.0 */
	int64_t d1 = sched_after_failure(&pol, NOW, 1, SCHED_NONE, mid).at - NOW;
	int64_t d2 = sched_after_failure(&pol, NOW, 2, SCHED_NONE, mid).at - NOW;
	int64_t d3 = sched_after_failure(&pol, NOW, 3, SCHED_NONE, mid).at - NOW;
	ck_assert_int_eq(d1, 1200);
	ck_assert_int_eq(d2, 2400);
	ck_assert_int_eq(d3, 4800);
	struct sched_next n = sched_after_failure(&pol, NOW, 3, SCHED_NONE, mid);
	ck_assert_str_eq(n.reason, "backoff after 3 errors");
}
END_TEST

START_TEST(backoff_stops_at_cap)
{
	struct sched_next n = sched_after_failure(&pol, NOW, 1000, SCHED_NONE, UINT32_MAX);
	ck_assert_int_eq(n.at, NOW + 43200 * 12 / 10);
}
END_TEST

START_TEST(jitter_spans_minus_to_plus_twenty_percent)
{
	int64_t lo = sched_after_failure(&pol, NOW, 4, SCHED_NONE, 0).at - NOW;
	int64_t hi = sched_after_failure(&pol, NOW, 4, SCHED_NONE, UINT32_MAX).at - NOW;
	ck_assert_int_eq(lo, 9600 * 8 / 10);
	ck_assert_int_eq(hi, 9600 * 12 / 10);
}
END_TEST

START_TEST(jitter_percent_is_configurable)
{
	pol.jitter_percent = 0;
	int64_t lo = sched_after_failure(&pol, NOW, 4, SCHED_NONE, 0).at - NOW;
	int64_t hi = sched_after_failure(&pol, NOW, 4, SCHED_NONE, UINT32_MAX).at - NOW;
	ck_assert_int_eq(lo, 9600);
	ck_assert_int_eq(hi, 9600);
}
END_TEST

START_TEST(adaptive_interval_is_half_the_typical_gap)
{
	/* a post every 6 hours, the last one an hour ago */
	int64_t t[] = {NOW - 3600, NOW - 3600 - 21600, NOW - 3600 - 2 * 21600,
	               NOW - 3600 - 3 * 21600, NOW - 3600 - 4 * 21600};
	ck_assert_int_eq(sched_adaptive_interval(&pol, NOW, t, 5), 10800);
}
END_TEST

START_TEST(adaptive_interval_needs_enough_distinct_times)
{
	int64_t same[] = {NOW - 100, NOW - 100, NOW - 100, NOW - 100, NOW - 100};
	ck_assert_int_eq(sched_adaptive_interval(&pol, NOW, same, 5), SCHED_NONE);
	int64_t three[] = {NOW - 100, NOW - 200, NOW - 300};
	ck_assert_int_eq(sched_adaptive_interval(&pol, NOW, three, 3), SCHED_NONE);
}
END_TEST

START_TEST(adaptive_interval_stays_within_floor_and_max)
{
	int64_t busy[] = {NOW - 60, NOW - 120, NOW - 180, NOW - 240, NOW - 300};
	ck_assert_int_eq(sched_adaptive_interval(&pol, NOW, busy, 5), 900);
	int64_t rare[] = {NOW - 86400 * 30, NOW - 86400 * 60, NOW - 86400 * 90, NOW - 86400 * 120};
	ck_assert_int_eq(sched_adaptive_interval(&pol, NOW, rare, 4), 86400);
}
END_TEST

START_TEST(a_long_silence_slows_an_adaptive_feed)
{
	/* a burst of posts a minute apart, ten days ago */
	int64_t t[] = {NOW - 864000, NOW - 864060, NOW - 864120, NOW - 864180, NOW - 864240};
	ck_assert_int_eq(sched_adaptive_interval(&pol, NOW, t, 5), 86400);
}
END_TEST

START_TEST(adaptive_replaces_the_interval_and_hints_still_raise_it)
{
	hints.adaptive = 10800;
	struct sched_next n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 10800);
	ck_assert_str_eq(n.reason, "adaptive 10800s");
	hints.adaptive = 1000;
	n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 1000); /* shorter than the interval: allowed */
	hints.max_age = 20000;
	n = sched_after_success(&pol, NOW, &hints);
	ck_assert_int_eq(n.at, NOW + 20000);
}
END_TEST

START_TEST(startup_keeps_a_future_schedule)
{
	struct sched_next n = sched_startup(&pol, NOW, NOW + 500, 3600, 12345);
	ck_assert_int_eq(n.at, NOW + 500);
	ck_assert_str_eq(n.reason, "stored schedule");
}
END_TEST

START_TEST(startup_spreads_overdue_feeds_over_the_interval)
{
	int64_t a = sched_startup(&pol, NOW, NOW - 10, 86400, 0).at;
	int64_t b = sched_startup(&pol, NOW, SCHED_NONE, 86400, UINT32_MAX / 2).at;
	int64_t c = sched_startup(&pol, NOW, SCHED_NONE, 86400, UINT32_MAX).at;
	ck_assert_int_eq(a, NOW);
	ck_assert_int_eq(b, NOW + 1799);
	ck_assert_int_eq(c, NOW + 3599);
}
END_TEST

START_TEST(startup_spread_window_can_be_shorter)
{
	int64_t c = sched_startup(&pol, NOW, SCHED_NONE, 60, UINT32_MAX).at;
	ck_assert_int_eq(c, NOW + 59);
}
END_TEST

static Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, success_without_hints_uses_interval);
	tcase_add_test(tc, interval_below_floor_is_raised_to_floor);
	tcase_add_test(tc, max_age_pushes_later);
	tcase_add_test(tc, short_max_age_never_pulls_earlier);
	tcase_add_test(tc, expires_pushes_later);
	tcase_add_test(tc, rss_ttl_in_minutes_pushes_later);
	tcase_add_test(tc, sy_update_period_pushes_later);
	tcase_add_test(tc, largest_hint_wins_and_is_named);
	tcase_add_test(tc, hints_are_clamped_to_hint_max);
	tcase_add_test(tc, retry_after_on_success_pushes_later);
	tcase_add_test(tc, absurd_retry_after_is_clamped);
	tcase_add_test(tc, retry_after_longer_than_backoff_wins);
	tcase_add_test(tc, retry_after_shorter_than_floor_is_raised);
	tcase_add_test(tc, backoff_doubles_per_error);
	tcase_add_test(tc, backoff_stops_at_cap);
	tcase_add_test(tc, jitter_spans_minus_to_plus_twenty_percent);
	tcase_add_test(tc, jitter_percent_is_configurable);
	tcase_add_test(tc, adaptive_interval_is_half_the_typical_gap);
	tcase_add_test(tc, adaptive_interval_needs_enough_distinct_times);
	tcase_add_test(tc, adaptive_interval_stays_within_floor_and_max);
	tcase_add_test(tc, a_long_silence_slows_an_adaptive_feed);
	tcase_add_test(tc, adaptive_replaces_the_interval_and_hints_still_raise_it);
	tcase_add_test(tc, startup_keeps_a_future_schedule);
	tcase_add_test(tc, startup_spreads_overdue_feeds_over_the_interval);
	tcase_add_test(tc, startup_spread_window_can_be_shorter);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sched_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
