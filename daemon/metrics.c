/* metrics.c - counters and the Prometheus text format. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "metrics.h"

static const char *const metrics_result_names[METRICS_FETCH_NRESULTS] = {
    [METRICS_FETCH_OK] = "ok",
    [METRICS_FETCH_NOT_MODIFIED] = "not_modified",
    [METRICS_FETCH_HTTP_ERROR] = "http_error",
    [METRICS_FETCH_NET_ERROR] = "network_error",
    [METRICS_FETCH_TIMEOUT] = "timeout",
    [METRICS_FETCH_PARSE_ERROR] = "parse_error",
    [METRICS_FETCH_STORE_ERROR] = "store_error",
    [METRICS_FETCH_ABORTED] = "aborted",
};

static const double metrics_bounds[METRICS_LATENCY_NBUCKETS] = METRICS_LATENCY_BOUNDS;

const char *metrics_result_name(enum metrics_result r)
{
	return (size_t)r < METRICS_FETCH_NRESULTS ? metrics_result_names[r] : "unknown";
}

void metrics_fetch(struct metrics *m, enum metrics_result r, double seconds, uint64_t bytes)
{
	if ((size_t)r >= METRICS_FETCH_NRESULTS)
		return;
	m->fetches[r]++;
	m->bytes_fetched += bytes;
	if (r == METRICS_FETCH_ABORTED)
		return;
	size_t i = 0;
	while (i < METRICS_LATENCY_NBUCKETS && seconds > metrics_bounds[i])
		i++;
	m->latency[i]++;
	m->latency_sum += seconds;
	m->latency_count++;
}

static int metrics_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int metrics_printf(struct buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		return -1;
	return buf_append(b, line, (size_t)n);
}

static int metrics_family(struct buf *b, const char *name, const char *type, const char *help)
{
	return metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int metrics_one(struct buf *b, const char *name, const char *type, const char *help,
                       int64_t v)
{
	int rc = metrics_family(b, name, type, help);
	return rc | metrics_printf(b, "%s %" PRId64 "\n", name, v);
}

static int metrics_feeds(struct buf *b, const struct store_stats *st)
{
	static const char *const states[] = {"new", "ok", "failing", "disabled"};
	const int64_t v[] = {st->feeds_new, st->feeds_ok, st->feeds_failing, st->feeds_disabled};
	int rc = metrics_family(b, "feedd_feeds", "gauge", "Feeds by state.");
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		rc |= metrics_printf(b, "feedd_feeds{state=\"%s\"} %" PRId64 "\n", states[i], v[i]);
	return rc;
}

static int metrics_fetches(struct buf *b, const struct metrics *m)
{
	int rc = metrics_family(b, "feedd_fetches_total", "counter", "Finished fetches by result.");
	for (size_t i = 0; i < METRICS_FETCH_NRESULTS; i++)
		rc |= metrics_printf(b, "feedd_fetches_total{result=\"%s\"} %" PRIu64 "\n",
		                     metrics_result_names[i], m->fetches[i]);
	return rc;
}

static int metrics_latency(struct buf *b, const struct metrics *m)
{
	const char *name = "feedd_fetch_duration_seconds";
	int rc = metrics_family(b, name, "histogram", "Time of each fetch, request to last byte.");
	uint64_t cum = 0;
	for (size_t i = 0; i < METRICS_LATENCY_NBUCKETS; i++) {
		cum += m->latency[i];
		rc |= metrics_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
		                     metrics_bounds[i], cum);
	}
	cum += m->latency[METRICS_LATENCY_NBUCKETS];
	rc |= metrics_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	rc |= metrics_printf(b, "%s_sum %.6f\n", name, m->latency_sum);
	rc |= metrics_printf(b, "%s_count %" PRIu64 "\n", name, m->latency_count);
	return rc;
}

int metrics_format(struct buf *b, const struct metrics *m, const struct metrics_gauges *g)
{
	int rc = metrics_feeds(b, g->store);
	rc |= metrics_fetches(b, m);
	rc |= metrics_latency(b, m);
	rc |= metrics_one(b, "feedd_fetch_bytes_total", "counter",
	                  "Body bytes fetched, after decompression.", (int64_t)m->bytes_fetched);
	rc |= metrics_one(b, "feedd_parse_errors_total", "counter",
	                  "Fetched documents that were not well-formed.", (int64_t)m->parse_errors);
	rc |= metrics_one(b, "feedd_items_new_total", "counter", "New items stored.",
	                  (int64_t)m->items_new);
	rc |= metrics_one(b, "feedd_items_updated_total", "counter", "Item updates stored.",
	                  (int64_t)m->items_updated);
	rc |= metrics_one(b, "feedd_items_stored", "gauge", "Items in the store.", g->store->items);
	rc |= metrics_one(b, "feedd_events_stored", "gauge", "Events in the store's log.",
	                  g->store->events);
	rc |= metrics_one(b, "feedd_event_head_seq", "gauge", "Highest event sequence number.",
	                  g->store->head);
	rc |= metrics_one(b, "feedd_subscribers", "gauge", "Connected subscribers.",
	                  (int64_t)g->subscribers);
	rc |= metrics_one(b, "feedd_subscribers_waiting", "gauge",
	                  "Replaying subscribers waiting for the slowest of their pack.",
	                  (int64_t)g->subscribers_waiting);
	rc |= metrics_one(b, "feedd_control_clients", "gauge", "Connected control clients.",
	                  (int64_t)g->control_clients);
	rc |= metrics_one(b, "feedd_fetches_in_flight", "gauge", "Fetches running or queued.",
	                  (int64_t)g->fetches_in_flight);
	rc |= metrics_one(b, "feedd_start_time_seconds", "gauge",
	                  "When the daemon started, seconds since the epoch.", g->start_time);
	return rc ? -1 : 0;
}
