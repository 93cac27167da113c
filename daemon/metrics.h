/*
 * metrics.h - the daemon's counters and their Prometheus text exposition
 * (format 0.0.4), served by the control socket's `metrics` command.
 *
 * Counters live in struct metrics inside the daemon's root state; the
 * fetch pipeline records each finished fetch with metrics_fetch.  Gauges
 * (feeds by state, items, events, subscribers) are read when formatting.
 */
#ifndef FEEDD_METRICS_H
#define FEEDD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "store.h"

enum metrics_result {
	METRICS_FETCH_OK = 0,       /* fetched and stored */
	METRICS_FETCH_NOT_MODIFIED, /* 304 */
	METRICS_FETCH_HTTP_ERROR,   /* other HTTP status */
	METRICS_FETCH_NET_ERROR,    /* DNS, connect, TLS, limits */
	METRICS_FETCH_TIMEOUT,
	METRICS_FETCH_PARSE_ERROR, /* nothing could be parsed */
	METRICS_FETCH_STORE_ERROR, /* the batch was rolled back */
	METRICS_FETCH_ABORTED,     /* shutdown */
	METRICS_FETCH_NRESULTS
};

/* Upper bounds (seconds) of the fetch-latency histogram buckets; +Inf is implicit. */
#define METRICS_LATENCY_BOUNDS                                                                     \
	{                                                                                          \
		0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60                                        \
	}
#define METRICS_LATENCY_NBUCKETS 10

struct metrics {
	uint64_t fetches[METRICS_FETCH_NRESULTS];
	uint64_t bytes_fetched; /* decompressed body bytes */
	uint64_t parse_errors;  /* documents that were not well-formed (recovered or not) */
	uint64_t items_new;     /* new items stored */
	uint64_t items_updated;
	uint64_t latency[METRICS_LATENCY_NBUCKETS + 1]; /* per bucket, not cumulative; last +Inf */
	double latency_sum;
	uint64_t latency_count;
};

/* "ok", "not_modified", ... (the label value). */
const char *metrics_result_name(enum metrics_result r);

/* Records one finished fetch: its result, transfer time and bytes. */
void metrics_fetch(struct metrics *m, enum metrics_result r, double seconds, uint64_t bytes);

/* Values read at exposition time. */
struct metrics_gauges {
	const struct store_stats *store;
	size_t subscribers;
	size_t subscribers_waiting; /* for the slowest of their replay pack */
	size_t control_clients;
	size_t fetches_in_flight;
	int64_t start_time; /* epoch seconds */
};

/* Appends the exposition text.  Returns 0, or -1 when out of memory. */
int metrics_format(struct buf *b, const struct metrics *m, const struct metrics_gauges *g);

#endif
