/*
 * prune.c - the first prune after retain_items was lowered on a large
 * database: one store_prune transaction (what the daemon ran on its loop
 * before) against store_prune_step in batches (what its store thread runs
 * now), on two copies of one database.  Meanwhile another thread commits
 * a one-item document every few milliseconds, as the store thread would
 * between steps, and its longest commit is the wait a fetched document
 * sees.  Wall times (CLOCK_MONOTONIC): the machine is shared, read the
 * ratios.
 *
 * usage: bench_prune [DIR] [FEEDS] [ITEMS_PER_FEED] [KEEP] [BATCH]
 *        (defaults: /tmp 100 2000 100 1000)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "store.h"

#define DOC_ITEMS 50

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, struct store *s)
{
	fprintf(stderr, "%s: %s\n", what, store_errmsg(s));
	exit(1);
}

/* Item n of a feed: ~2.5 KB of text, like bench_store_rate's. */
static void make_item(struct feed_item *it, size_t n, char *bufs[3])
{
	static const char lorem[] = "The harbour council voted on Thursday evening to adopt the "
				    "winter ferry timetable, said people who work late. ";
	snprintf(bufs[0], 64, "item-%zu", n);
	snprintf(bufs[1], 128, "Item %zu: council approves the new ferry timetable", n);
	size_t len = 0;
	while (len + sizeof lorem < 2400) {
		memcpy(bufs[2] + len, lorem, sizeof lorem - 1);
		len += sizeof lorem - 1;
	}
	bufs[2][len] = 0;
	*it = (struct feed_item){.id = bufs[0], .title = bufs[1], .content = bufs[2]};
	it->published = 1700000000 + (int64_t)n;
	it->updated = FEED_NO_DATE;
}

static void build(const char *path, size_t feeds, size_t per_feed)
{
	struct store *s;
	unlink(path);
	if (store_open(path, NULL, &s) != STORE_OK)
		die("store_open", s);
	char b0[64], b1[128], b2[4096], *bufs[3] = {b0, b1, b2};
	for (size_t f = 0; f < feeds; f++) {
		char url[64];
		snprintf(url, sizeof url, "https://example.org/%zu.xml", f);
		struct store_feed_new nf = {.url = url};
		int64_t id;
		if (store_feed_add(s, &nf, 1, &id) != STORE_OK)
			die("feed_add", s);
		for (size_t i = 0; i < per_feed; i += DOC_ITEMS) {
			struct store_batch *b;
			if (store_batch_begin(s, id, 1000 + (int64_t)i, &b) != STORE_OK)
				die("begin", s);
			for (size_t j = i; j < i + DOC_ITEMS && j < per_feed; j++) {
				struct feed_item it;
				make_item(&it, j, bufs);
				if (store_batch_item(b, &it, NULL) != STORE_OK)
					die("item", s);
			}
			if (store_batch_commit(b, NULL, NULL, NULL, NULL) != STORE_OK)
				die("commit", s);
		}
	}
	store_close(s);
}

/* The other writer: a one-item document every 5 ms on a handle of its own. */
struct writer {
	const char *path;
	atomic_bool stop;
	pthread_t thread;
	double max_commit;
	size_t commits, failed;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct store_opts o;
	store_opts_default(&o);
	o.busy_timeout_ms = 600000; /* wait, to see for how long */
	o.skip_quick_check = true;
	struct store *s;
	if (store_open(w->path, &o, &s) != STORE_OK)
		die("writer open", s);
	struct store_feed_new nf = {.url = "https://example.org/writer.xml"};
	int64_t id;
	if (store_feed_add(s, &nf, 1, &id) != STORE_OK)
		die("writer feed", s);
	char b0[64], b1[128], b2[4096], *bufs[3] = {b0, b1, b2};
	for (size_t n = 0; !atomic_load(&w->stop); n++) {
		struct feed_item it;
		make_item(&it, n, bufs);
		double t0 = now_s();
		struct store_batch *b;
		enum store_err e = store_batch_begin(s, id, 5000, &b);
		if (e == STORE_OK)
			e = store_batch_item(b, &it, NULL);
		if (e == STORE_OK)
			e = store_batch_commit(b, NULL, NULL, NULL, NULL);
		else
			store_batch_abort(b);
		double t = now_s() - t0;
		w->commits++;
		w->failed += e != STORE_OK;
		if (t > w->max_commit)
			w->max_commit = t;
		usleep(5000);
	}
	store_close(s);
	return NULL;
}

static void writer_start(struct writer *w, const char *path)
{
	*w = (struct writer){.path = path};
	pthread_create(&w->thread, NULL, writer_main, w);
	usleep(50000);
}

static void writer_stop(struct writer *w)
{
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
}

static struct store *open_quick(const char *path)
{
	struct store_opts o;
	store_opts_default(&o);
	o.skip_quick_check = true;
	struct store *s;
	if (store_open(path, &o, &s) != STORE_OK)
		die("store_open", s);
	return s;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[8400];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
	if (system(cmd) != 0)
		exit(1);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	size_t feeds = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
	size_t per_feed = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;
	size_t keep = argc > 4 ? strtoul(argv[4], NULL, 10) : 100;
	size_t batch = argc > 5 ? strtoul(argv[5], NULL, 10) : 1000;
	char base[4096], one[4200], steps[4200];
	snprintf(base, sizeof base, "%s/bench_prune_base.db", dir);
	snprintf(one, sizeof one, "%s/bench_prune_one.db", dir);
	snprintf(steps, sizeof steps, "%s/bench_prune_steps.db", dir);
	double t0 = now_s();
	build(base, feeds, per_feed);
	printf("database: %zu feeds x %zu items (~2.5 KB each), keep %zu per feed, built in %.1f s\n",
	       feeds, per_feed, keep, now_s() - t0);
	copy_file(base, one);
	copy_file(base, steps);
	struct store_retention r = {.max_items_per_feed = keep};

	struct writer w;
	struct store *s = open_quick(one);
	writer_start(&w, one);
	size_t items = 0, events = 0;
	t0 = now_s();
	if (store_prune(s, &r, 100000, &items, &events) != STORE_OK)
		die("store_prune", s);
	double t_one = now_s() - t0;
	writer_stop(&w);
	store_close(s);
	printf("one transaction (store_prune): %zu items, %zu events in %.3f s; "
	       "the loop stalled that long; other writer: %zu commits, longest %.3f s, %zu failed\n",
	       items, events, t_one, w.commits, w.max_commit, w.failed);

	s = open_quick(steps);
	writer_start(&w, steps);
	size_t nsteps = 0, nchoose = 0;
	double t_choose = 0, t_choose_max = 0, t_max = 0;
	bool more = true;
	items = events = 0;
	t0 = now_s();
	while (more) {
		size_t i = 0, e = 0;
		double t1 = now_s();
		if (store_prune_step(s, &r, 100000, batch, &i, &e, &more) != STORE_OK)
			die("store_prune_step", s);
		double t = now_s() - t1;
		if (!i && !e) { /* chose (or found nothing to delete) */
			nchoose++;
			t_choose += t;
			if (t > t_choose_max)
				t_choose_max = t;
		} else if (t > t_max) {
			t_max = t;
		}
		nsteps++;
		items += i;
		events += e;
	}
	double t_steps = now_s() - t0;
	writer_stop(&w);
	store_close(s);
	printf("steps of %zu (store_prune_step): %zu items, %zu events in %.3f s; %zu steps: "
	       "%zu choosing (read only) %.3f s in all, longest %.3f s; longest deleting step "
	       "%.3f s; other writer: %zu commits, longest %.3f s, %zu failed\n",
	       batch, items, events, t_steps, nsteps, nchoose, t_choose, t_choose_max, t_max,
	       w.commits, w.max_commit, w.failed);
	unlink(base);
	unlink(one);
	unlink(steps);
	return 0;
}
