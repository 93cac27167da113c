/*
 * cmd_poll.c - feedd poll [--db PATH] [--config PATH] [--all]
 *
 * Fetches every due feed (every enabled feed with --all) once,
 * concurrently, stores what arrives, and prints a summary on stdout.
 * Feeds that failed are listed on stderr; a progress bar goes to stderr
 * when it is a terminal.  Exit status: 0 even when feeds failed (their
 * errors are recorded on them), 1 when the store failed, 2 on bad usage
 * or configuration.
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "poller.h"
#include "store.h"

struct poll_run {
	struct event_base *base;
	struct poller *poller;
	size_t total, done;
	size_t fetched, not_modified, failed;
	size_t new_items, updated_items;
	bool store_failed;
	bool progress;
	int64_t *ids;
	size_t nids, capids;
};

static void poll_progress(struct poll_run *r, bool last)
{
	if (!r->progress || !r->total)
		return;
	int width = 30, fill = (int)(r->done * (size_t)width / r->total);
	fprintf(stderr, "\r[%.*s%*s] %zu/%zu", fill, "##############################", width - fill,
	        "", r->done, r->total);
	if (last)
		fprintf(stderr, "\r%*s\r", width + 30, "");
	fflush(stderr);
}

static void poll_on_done(void *ud, const struct poller_outcome *o)
{
	struct poll_run *r = ud;

	r->done++;
	r->store_failed |= o->store_failed;
	switch (o->result) {
	case POLLER_FETCHED:
		r->fetched++;
		r->new_items += o->new_items;
		r->updated_items += o->updated_items;
		break;
	case POLLER_NOT_MODIFIED:
		r->not_modified++;
		break;
	default:
		r->failed++;
		if (r->progress)
			fprintf(stderr, "\r\033[K");
		fprintf(stderr, "feedd poll: feed %lld %s: %s\n", (long long)o->feed_id, o->url,
		        o->error ? o->error : "failed");
		break;
	}
	if (o->new_url)
		fprintf(stderr, "feedd poll: feed %lld moved permanently to %s\n",
		        (long long)o->feed_id, o->new_url);
	poll_progress(r, false);
	if (!poller_pending(r->poller))
		event_base_loopbreak(r->base);
}

static int poll_collect(void *ud, const struct store_feed *f)
{
	struct poll_run *r = ud;
	if (f->disabled)
		return 0;
	if (r->nids == r->capids) {
		size_t n = r->capids ? r->capids * 2 : 64;
		int64_t *a = realloc(r->ids, n * sizeof *a);
		if (!a)
			return 1;
		r->ids = a;
		r->capids = n;
	}
	r->ids[r->nids++] = f->id;
	return 0;
}

static int poll_usage(void)
{
	fprintf(stderr, "usage: feedd poll [--db PATH] [--config PATH] [--all]\n");
	return 2;
}

/* Loads --config, else the default config file when there is one, else the defaults. */
static int poll_config(struct config *cfg, const char *path, const char *db)
{
	char err[512], buf[4200];

	config_defaults(cfg);
	if (!path && (path = config_default_path(buf, sizeof buf)) && access(path, F_OK))
		path = NULL;
	if (path && config_load(cfg, path, err, sizeof err)) {
		fprintf(stderr, "feedd poll: %s\n", err);
		return -1;
	}
	if (db && (config_set(cfg, "database", db, err, sizeof err) ||
	           config_check(cfg, err, sizeof err))) {
		fprintf(stderr, "feedd poll: %s\n", err);
		return -1;
	}
	return 0;
}

static void poll_start_all(struct poll_run *r, struct store *st)
{
	char err[512];
	for (size_t i = 0; i < r->nids; i++) {
		struct store_feed f = {0};
		if (store_feed_get(st, r->ids[i], &f) != STORE_OK) {
			fprintf(stderr, "feedd poll: feed %lld: %s\n", (long long)r->ids[i],
			        store_errmsg(st));
			r->store_failed = true;
			continue;
		}
		if (poller_start(r->poller, &f, err, sizeof err)) {
			fprintf(stderr, "feedd poll: feed %lld: %s\n", (long long)f.id, err);
			r->failed++;
			r->done++;
		}
		store_feed_clear(&f);
	}
}

static int poll_run(const struct config *cfg, bool all)
{
	struct poll_run r = {.progress = isatty(STDERR_FILENO)};
	struct store *st = NULL;
	struct store_opts so;
	struct timespec t0, t1;
	int64_t now = (int64_t)time(NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	store_opts_default(&so);
	so.busy_timeout_ms = (int)(cfg->busy_timeout * 1000);
	so.skip_quick_check = true; /* the poller's store thread checks it before any write */
	if (store_open(cfg->database, &so, &st) != STORE_OK) {
		fprintf(stderr, "feedd poll: %s: %s\n", cfg->database, store_errmsg(st));
		store_close(st);
		return 1;
	}
	enum store_err e = all ? store_feeds_list(st, poll_collect, &r)
	                       : store_feeds_due(st, now, 0, poll_collect, &r);
	if (e != STORE_OK) {
		fprintf(stderr, "feedd poll: %s\n", store_errmsg(st));
		store_close(st);
		free(r.ids);
		return 1;
	}
	r.total = r.nids;
	r.base = event_base_new();
	r.poller = r.base ? poller_new(r.base, st, cfg, poll_on_done, &r) : NULL;
	if (!r.poller) {
		fprintf(stderr, "feedd poll: out of memory\n");
		r.store_failed = true;
	} else {
		poller_check_store(r.poller);
		poll_start_all(&r, st);
		if (poller_pending(r.poller)) {
			event_base_dispatch(r.base);
		} else if (store_quick_check(st) != STORE_OK) { /* no poll ran the check */
			fprintf(stderr, "feedd poll: %s\n", store_errmsg(st));
			r.store_failed = true;
		}
	}
	poll_progress(&r, true);
	poller_free(r.poller);
	if (r.base)
		event_base_free(r.base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%zu feeds polled in %.2fs: %zu fetched, %zu not modified, %zu failed; "
	       "%zu new items, %zu updated\n",
	       r.total, secs, r.fetched, r.not_modified, r.failed, r.new_items, r.updated_items);
	store_close(st);
	free(r.ids);
	if (r.store_failed)
		fprintf(stderr, "feedd poll: the store failed; see the errors above\n");
	return r.store_failed ? 1 : 0;
}

int cmd_poll(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *db = NULL, *cfgpath = NULL;
	bool all = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			printf("usage: feedd poll [--db PATH] [--config PATH] [--all]\n");
			return 0;
		default:
			return poll_usage();
		}
	}
	if (optind != argc)
		return poll_usage();

	struct config cfg;
	if (poll_config(&cfg, cfgpath, db))
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = poll_run(&cfg, all);
	curl_global_cleanup();
	config_free(&cfg);
	return rc;
}
