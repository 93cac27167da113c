/*
 * notify.c - bench/notify: commit-to-read latency and throughput of the
 * subscriber socket.
 *
 * A "daemon" process runs feedd's own subscriber server (daemon/notify.c)
 * on a libevent loop over a real SQLite store on disk, and commits N new
 * items in batches through the store's batch API on the store thread
 * (daemon/storeq.c), announcing each commit on the loop with
 * notify_committed exactly as the daemon's pipeline does.  S
 * subscriber processes connect over the real UNIX socket, subscribe live
 * ({"op":"sub"}), and for every item line record the time from the
 * writer's COMMIT returning to the line being read (CLOCK_MONOTONIC, the
 * commit times shared through an mmap).  Scenario B repeats A with one
 * extra subscriber that never reads.  Then scenario C: S subscribers
 * replay all N stored events from "oldest" at once, for raw delivery rate.
 *
 * The writer commits a batch every PACE_MS (default 10 ms: 100-item
 * batches make 10,000 items/s), so latency is measured at a steady load
 * rather than behind a backlog; scenario C measures the delivery rate.
 *
 * usage: bench_notify [DIR] [N] [BATCH] [SUBSCRIBERS] [PACE_MS] [SCENARIOS] [ROUNDS]
 *                     [CONTENT_BYTES]
 *        (defaults /tmp 100000 100 100 10 ABCF 1 1200; scenario C replays the
 *        store that A or B left, so run it after them; with ROUNDS > 1, A,
 *        B, K, F and Z alternate that many times and the medians are
 *        printed; K and D are A and C with notify's zero_copy = no, P is C
 *        with replay_pack = no, Z a tee/splice floor, V a vmsplice/splice
 *        floor, W V with each batch first copied into a mapping of its
 *        own as feedd seals a block: each runs only when named)
 * Each run also prints the server's CPU time, the readers' mean bytes per
 * read(2) and how far apart they are (the bytes the furthest has read
 * beyond the one furthest behind, sampled while all read).  For
 * experiments: BENCH_READ_KIB caps each read(2) of the readers,
 * BENCH_PIPE_KIB sets the Z and V floors' pipes (1 MiB), REPLAY_BATCH
 * feedd's replay_batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <event2/event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "notify.h"
#include "store.h"
#include "storeq.h"

#define SAMPLE_EVERY 10

struct shared {
	double commit_t[1]; /* indexed by seq; sized at mmap time */
};

struct sub_result {
	double first_recv, last_recv;
	size_t events;
	size_t reads, bytes; /* read(2) calls that returned data, and their bytes */
	int ok;
};

static size_t g_n, g_batch, g_subs;
static long g_pace_us;           /* between commits */
static double *g_commit_t;       /* [g_n + 2] */
static float *g_samples;         /* [g_subs][g_n / SAMPLE_EVERY + 1] latencies in ms */
static struct sub_result *g_res; /* [g_subs] */

/* What a scenario run reports back to the parent (shared mapping). */
struct run_out {
	double p50, p99, rate;
	long rss_kib;
};
static struct run_out *g_out; /* the current run's slot */

static size_t g_content = 1200; /* bytes of each item's content */
static int g_vmsplice; /* 1: V, 2: W (each batch sealed into a fresh mapping first) */
static size_t g_read_max;       /* BENCH_READ_KIB: a reader's read(2) asks at most this */
static bool g_zero_copy = true; /* notify's zero_copy limit (K and D: off) */
static bool g_pack = true;      /* notify's replay_pack (P: off) */

/* The content of every item: g_content bytes of text with some non-ASCII. */
static char *bench_content(void)
{
	static char *content;
	if (!content) {
		content = malloc(g_content + 1);
		if (!content)
			exit(1);
		for (size_t i = 0; i < g_content; i++)
			content[i] = "harbour ferry \xc3\xa9 timetable "[i % 26];
		content[g_content] = 0;
		/* never end inside the two bytes of the é */
		if (g_content && (unsigned char)content[g_content - 1] == 0xc3)
			content[g_content - 1] = ' ';
	}
	return content;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *shared_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static int sub_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len >= sizeof sa.sun_path)
		return -1;
	memcpy(sa.sun_path, path, len + 1);
	for (int i = 0; i < 200; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		close(fd);
		usleep(10000);
	}
	return -1;
}

/* A subscriber: reads until it has seen n item events; records latencies. */
static void subscriber(const char *path, size_t idx, const char *req, int record)
{
	int fd = sub_connect(path);
	if (fd < 0)
		_exit(1);
	if (write(fd, req, strlen(req)) < 0)
		_exit(1);
	static char buf[1 << 20];
	size_t have = 0, seen = 0;
	float *samples = g_samples + idx * (g_n / SAMPLE_EVERY + 1);
	struct sub_result *res = &g_res[idx];
	while (seen < g_n) {
		size_t room = sizeof buf - have;
		if (g_read_max && room > g_read_max)
			room = g_read_max;
		ssize_t r = read(fd, buf + have, room);
		if (r <= 0)
			_exit(2);
		double now = mono();
		have += (size_t)r;
		res->reads++;
		res->bytes += (size_t)r;
		char *line = buf, *nl;
		while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			if (!strncmp(line, "{\"ev\":\"item\"", 12)) {
				char *c = strstr(line, "\"cursor\":\"");
				char *colon = c ? memchr(c + 10, ':', (size_t)(nl - c)) : NULL;
				long long seq = colon ? atoll(colon + 1) : 0;
				if (!seen)
					res->first_recv = now;
				if (record && seq > 0 && (size_t)seq <= g_n + 1 &&
				    seen % SAMPLE_EVERY == 0)
					samples[seen / SAMPLE_EVERY] =
					    (float)((now - g_commit_t[seq]) * 1000.0);
				seen++;
			}
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
	}
	res->last_recv = mono();
	res->events = seen;
	res->ok = 1;
	_exit(0);
}

/*
 * The writer does what the daemon's pipeline does: batches are committed on
 * the store thread (daemon/storeq.c, a store handle of its own) and
 * announced with notify_committed on the loop once their COMMIT returned.
 * Batch k is due at start + k * PACE_MS (at once when 0), and the store
 * thread waits for that moment itself (clock_nanosleep to an absolute
 * time): the loop keeps WRITER_AHEAD batches submitted ahead, so a loop
 * busy writing to subscribers cannot delay the next commit and bunch two
 * batches together (a timer on the loop did: the offered load was then
 * not the one asked for).
 */
#define WRITER_AHEAD 8
struct writer {
	struct event_base *base;
	struct notify *notify;
	struct storeq *q;
	int64_t feed;
	size_t submitted, done; /* items */
	double t0;              /* batch k is due at t0 + k * PACE_MS */
};

struct wjob {
	struct storeq_node node; /* first: the queue hands it back */
	size_t from, count;
	double due; /* mono() time its commit may start */
	int64_t first, last;
};

/* On the store thread. */
static void writer_work(void *ctx, struct store *st, struct storeq_node **jobs, size_t n)
{
	struct writer *w = ctx;
	char *content = bench_content();
	for (size_t k = 0; k < n; k++) {
		struct wjob *j = (struct wjob *)jobs[k];
		struct store_batch *b;
		while (mono() < j->due) {
			struct timespec ts;
			ts.tv_sec = (time_t)j->due;
			ts.tv_nsec = (long)((j->due - (double)ts.tv_sec) * 1e9);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		if (store_batch_begin(st, w->feed, 1000, &b) != STORE_OK)
			exit(1);
		for (size_t i = 0; i < j->count; i++) {
			char id[32], title[64];
			snprintf(id, sizeof id, "n-%zu", j->from + i);
			snprintf(title, sizeof title, "Item %zu", j->from + i);
			struct feed_item it = {.id = id,
			                       .title = title,
			                       .content = content,
			                       .published = FEED_NO_DATE,
			                       .updated = FEED_NO_DATE};
			if (store_batch_item(b, &it, NULL) != STORE_OK)
				exit(1);
		}
		if (store_batch_commit(b, NULL, NULL, &j->first, &j->last) != STORE_OK)
			exit(1);
		double t = mono(); /* COMMIT returned */
		for (int64_t s = j->first; s <= j->last && s > 0 && (size_t)s <= g_n + 1; s++)
			g_commit_t[s] = t;
		storeq_done_upto(w->q, k + 1); /* announced now, as the poller does */
	}
}

/* On the loop: submits the next batch, due one PACE_MS after the previous. */
static void writer_submit(struct writer *w)
{
	struct wjob *j = calloc(1, sizeof *j);
	if (!j)
		exit(1);
	j->from = w->submitted;
	j->count = g_n - w->submitted < g_batch ? g_n - w->submitted : g_batch;
	j->due = w->t0 + (double)(w->submitted / g_batch) * (double)g_pace_us / 1e6;
	w->submitted += j->count;
	storeq_submit(w->q, &j->node);
}

/* On the loop, in order. */
static void writer_done(void *ctx, struct storeq_node *node)
{
	struct writer *w = ctx;
	struct wjob *j = (struct wjob *)node;
	notify_committed(w->notify, j->first, j->last);
	w->done += j->count;
	free(j);
	if (w->submitted < g_n)
		writer_submit(w);
	if (w->done >= g_n)
		event_base_loopexit(w->base, NULL);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/*
 * p50 and p99 of every subscriber's latency samples, and the delivery rate
 * of the slowest subscriber from start, or from its first item when that
 * came earlier (a replay starts as soon as the sub is read, while the
 * others still connect) (rss_kib is the caller's).
 */
static struct run_out run_stats(double start)
{
	size_t per = g_n / SAMPLE_EVERY + 1, ns = 0;
	float *all = malloc(per * g_subs * sizeof *all);
	if (!all)
		exit(1);
	struct run_out o = {.rate = 1e18};
	for (size_t i = 0; i < g_subs; i++) {
		double from = g_res[i].first_recv < start ? g_res[i].first_recv : start;
		double d = g_res[i].last_recv - from;
		double rate = g_res[i].ok && d > 0 ? (double)g_res[i].events / d : 0;
		if (rate < o.rate)
			o.rate = rate;
		for (size_t j = 0; j < per && j * SAMPLE_EVERY < g_res[i].events; j++)
			all[ns++] = g_samples[i * per + j];
	}
	qsort(all, ns, sizeof *all, cmp_f);
	o.p50 = ns ? all[ns / 2] : -1.0;
	o.p99 = ns ? all[ns * 99 / 100] : -1.0;
	free(all);
	return o;
}

/* How far apart the readers are: the bytes the furthest reader has read
 * beyond the one furthest behind, sampled while none has finished. */
static double g_spread_sum, g_spread_max;
static size_t g_spread_n;
static void spread_sample(void)
{
	size_t lo = SIZE_MAX, hi = 0;
	for (size_t i = 0; i < g_subs; i++) {
		if (g_res[i].ok)
			return;
		lo = g_res[i].bytes < lo ? g_res[i].bytes : lo;
		hi = g_res[i].bytes > hi ? g_res[i].bytes : hi;
	}
	if (!lo)
		return;
	double d = (double)(hi - lo);
	g_spread_sum += d;
	g_spread_max = d > g_spread_max ? d : g_spread_max;
	g_spread_n++;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Prints the CPU time the server process (its threads, not the readers)
 * used since *from (taken when the run started). */
static void server_cpu(const struct rusage *from, double wall)
{
	struct rusage now;
	getrusage(RUSAGE_SELF, &now);
	size_t reads = 0, bytes = 0;
	for (size_t i = 0; i < g_subs; i++) {
		reads += g_res[i].reads;
		bytes += g_res[i].bytes;
	}
	printf("%-34s server CPU %.2f s user + %.2f s sys in %.2f s; readers: %.0f KiB a read, "
	       "%.0f KiB apart (mean; at most %.0f)\n",
	       "", tv_s(now.ru_utime) - tv_s(from->ru_utime),
	       tv_s(now.ru_stime) - tv_s(from->ru_stime), wall,
	       reads ? (double)bytes / (double)reads / 1024 : 0.0,
	       g_spread_n ? g_spread_sum / (double)g_spread_n / 1024 : 0.0, g_spread_max / 1024);
	g_spread_sum = g_spread_max = 0;
	g_spread_n = 0;
}

/* One scenario in a fresh process; prints one result line. */
static void scenario(const char *dir, const char *label, int stalled, int replay)
{
	char db[4096], sock[4096];
	snprintf(db, sizeof db, "%s/bench-notify.db", dir);
	snprintf(sock, sizeof sock, "%s/bench-notify.sock", dir);
	if (!replay) {
		unlink(db);
		char x[4200];
		snprintf(x, sizeof x, "%s-wal", db);
		unlink(x);
	}
	unlink(sock);
	memset(g_res, 0, g_subs * sizeof *g_res);
	struct store *st;
	if (store_open(db, NULL, &st) != STORE_OK) {
		fprintf(stderr, "store: %s\n", store_errmsg(st));
		exit(1);
	}
	int64_t feed = 1;
	if (!replay) {
		struct store_feed_new nf = {.url = "https://bench.example.org/feed.xml"};
		store_feed_add(st, &nf, 1, &feed);
	}
	struct event_base *base = event_base_new();
	struct notify_limits lim;
	notify_limits_default(&lim);
	lim.max_clients = g_subs + 8;
	lim.heartbeat_ms = 0;
	lim.zero_copy = g_zero_copy;
	if (!g_pack)
		lim.pack_wait_ms = 0;
	if (getenv("REPLAY_BATCH"))
		lim.replay_batch = (size_t)atol(getenv("REPLAY_BATCH"));
	struct notify *n = notify_new(base, st, &lim, NULL, NULL);
	char err[256];
	if (!n || notify_listen_path(n, sock, 0600, err, sizeof err)) {
		fprintf(stderr, "notify: %s\n", err);
		exit(1);
	}
	const char *req = replay ? "{\"op\":\"sub\",\"after\":\"oldest\"}\n" : "{\"op\":\"sub\"}\n";
	pid_t kids[1024], stall = 0;
	for (size_t i = 0; i < g_subs; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			subscriber(sock, i, req, !replay);
	}
	if (stalled) {
		stall = fork();
		if (stall == 0) {
			int fd = sub_connect(sock);
			if (fd < 0 || write(fd, "{\"op\":\"sub\"}\n", 13) < 0)
				_exit(1);
			pause();
			_exit(0);
		}
	}
	prctl(PR_SET_NAME, "bn-server"); /* after forking the readers: perf tells them apart */
	/* wait until every subscriber is connected and subscribed (a replay
	 * starts at sub: its server CPU counts from here) */
	struct rusage ru0;
	getrusage(RUSAGE_SELF, &ru0);
	double t0 = mono();
	while (notify_client_count(n) < g_subs + (stalled ? 1 : 0) && mono() - t0 < 20)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	for (int i = 0; i < 50; i++) /* let the subs be read */
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(2000);
	if (!replay)
		getrusage(RUSAGE_SELF, &ru0);
	double start = mono();
	struct writer w = {.base = base, .notify = n, .feed = feed};
	w.q = storeq_new(base, st, 16, writer_work, writer_done, &w, err, sizeof err);
	if (!w.q) {
		fprintf(stderr, "storeq: %s\n", err);
		exit(1);
	}
	if (replay) {
		w.submitted = w.done = g_n;
		notify_committed(n, 1, (int64_t)g_n); /* wake replay; no new rows */
	} else {
		w.t0 = mono();
		for (int k = 0; k < WRITER_AHEAD && w.submitted < g_n; k++)
			writer_submit(&w);
		event_base_dispatch(base); /* until all committed */
	}
	/* keep serving until the subscribers have everything */
	size_t finished = 0;
	while (finished < g_subs && mono() - start < 300) {
		struct timeval tv = {0, 1000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
		spread_sample();
		finished = 0;
		for (size_t i = 0; i < g_subs; i++)
			finished += g_res[i].ok;
	}
	double end = mono();
	server_cpu(&ru0, end - (replay ? t0 : start));
	size_t out_max = notify_output_bytes_max(n);
	for (size_t i = 0; i < g_subs; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	if (stall) {
		kill(stall, SIGKILL);
		waitpid(stall, NULL, 0);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	struct run_out o = run_stats(start);
	o.rss_kib = ru.ru_maxrss;
	if (replay)
		printf("%-34s %6zu/%zu done %9s %9s %12.0f %10ld %10zu\n", label, finished, g_subs,
		       "-", "-", o.rate, ru.ru_maxrss / 1024, out_max / 1024);
	else
		printf("%-34s %6zu/%zu done %9.2f %9.2f %12.0f %10ld %10zu\n", label, finished,
		       g_subs, o.p50, o.p99, o.rate, ru.ru_maxrss / 1024, out_max / 1024);
	if (g_out)
		*g_out = o;
	fflush(stdout);
	storeq_free(w.q);
	notify_free(n);
	event_base_free(base);
	store_close(st);
}

/* What F and Z share: the listening socket, the stream, the subscribers. */
struct floor {
	struct sockaddr_un sa;
	int lfd;
	char *stream;
	size_t *end; /* end[k]: bytes of the first k lines */
	pid_t kids[1024];
	struct pollfd *pf;
	size_t *sent;      /* bytes each subscriber's socket took */
	struct rusage ru0; /* when the subscribers were in */
};

/* Builds the stream, starts the subscribers and accepts them. */
static void floor_open(const char *dir, struct floor *f)
{
	memset(f, 0, sizeof *f);
	f->sa.sun_family = AF_UNIX;
	snprintf(f->sa.sun_path, sizeof f->sa.sun_path, "%s/bench-notify-floor.sock", dir);
	unlink(f->sa.sun_path);
	memset(g_res, 0, g_subs * sizeof *g_res);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&f->sa, sizeof f->sa) ||
	    listen(f->lfd, 1024)) {
		perror("floor socket");
		exit(1);
	}
	char *content = bench_content();
	size_t cap = g_n * (g_content + 400) + 1, len = 0;
	f->stream = malloc(cap);
	f->end = malloc((g_n + 1) * sizeof *f->end);
	f->pf = calloc(g_subs, sizeof *f->pf);
	f->sent = calloc(g_subs, sizeof *f->sent);
	if (!f->stream || !f->end || !f->pf || !f->sent)
		exit(1);
	f->end[0] = 0;
	for (size_t i = 0; i < g_n; i++) {
		len += (size_t)snprintf(f->stream + len, cap - len,
		                        "{\"ev\":\"item\",\"cursor\":\"0123456789abcdef:%zu\","
		                        "\"kind\":\"new\",\"feed\":{\"id\":1,\"url\":"
		                        "\"https://bench.example.org/feed.xml\"},\"item\":{\"id\":"
		                        "\"n-%zu\",\"title\":\"Item %zu\",\"content\":\"%s\"}}\n",
		                        i + 1, i, i, content);
		f->end[i + 1] = len;
	}
	for (size_t i = 0; i < g_subs; i++) {
		f->kids[i] = fork();
		if (f->kids[i] == 0)
			subscriber(f->sa.sun_path, i, "{\"op\":\"sub\"}\n", 1);
	}
	for (size_t i = 0; i < g_subs; i++) {
		f->pf[i].fd = accept(f->lfd, NULL, NULL);
		char req[64];
		if (f->pf[i].fd < 0 || read(f->pf[i].fd, req, sizeof req) <= 0)
			exit(1);
		fcntl(f->pf[i].fd, F_SETFL, O_NONBLOCK);
	}
	getrusage(RUSAGE_SELF, &f->ru0);
}

/* Waits for the readers, prints the run's line, stops them. */
static void floor_close(struct floor *f, const char *label, double start)
{
	size_t finished = 0;
	while (finished < g_subs && mono() - start < 300) {
		usleep(1000);
		finished = 0;
		for (size_t i = 0; i < g_subs; i++)
			finished += g_res[i].ok;
	}
	struct run_out o = run_stats(start);
	server_cpu(&f->ru0, mono() - start);
	for (size_t i = 0; i < g_subs; i++) {
		kill(f->kids[i], SIGKILL);
		waitpid(f->kids[i], NULL, 0);
		close(f->pf[i].fd);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	o.rss_kib = ru.ru_maxrss;
	if (g_out)
		*g_out = o;
	printf("%-34s %6zu/%zu done %9.2f %9.2f %12.0f %10ld %10s\n", label, finished, g_subs,
	       o.p50, o.p99, o.rate, ru.ru_maxrss / 1024, "-");
	fflush(stdout);
	free(f->stream);
	free(f->end);
	free(f->pf);
	free(f->sent);
	close(f->lfd);
	unlink(f->sa.sun_path);
}

/*
 * Scenario F, the floor: no feedd, no store, no libevent.  One process
 * accepts the same subscribers and gives them the same stream: N item lines
 * as long as feedd's, prebuilt (each with its own cursor, so the readers
 * time them the same way), released BATCH at a time every PACE_MS like the
 * writer's commits, and written with plain write(2) on non-blocking
 * sockets under poll(2).  That is the most a single-threaded server can do
 * through UNIX sockets to these readers on this machine: feedd's latency
 * and rate are read against it.
 */
static void scenario_floor(const char *dir, const char *label)
{
	struct floor f;
	floor_open(dir, &f);
	struct pollfd *pf = f.pf;
	double start = mono(), next = start;
	size_t released = 0; /* lines */
	size_t done = 0;     /* subscribers with the whole stream */
	while (done < g_subs) {
		double now = mono();
		if (released < g_n && now >= next) { /* a "commit" */
			released = released + g_batch < g_n ? released + g_batch : g_n;
			for (size_t k = released - (released - 1) % g_batch; k <= released; k++)
				g_commit_t[k] = now;
			next += (double)g_pace_us / 1e6; /* batch k at start + k * PACE_MS */
		}
		int wait_ms = released < g_n ? (int)((next - now) * 1000) : 1000;
		for (size_t i = 0; i < g_subs; i++)
			pf[i].events = f.sent[i] < f.end[released] ? POLLOUT : 0;
		if (poll(pf, g_subs, wait_ms > 0 ? wait_ms : 0) < 0)
			break;
		for (size_t i = 0; i < g_subs; i++) {
			if (!(pf[i].revents & POLLOUT))
				continue;
			ssize_t w =
			    write(pf[i].fd, f.stream + f.sent[i], f.end[released] - f.sent[i]);
			if (w > 0)
				f.sent[i] += (size_t)w;
			if (f.sent[i] == f.end[g_n])
				done++;
		}
	}
	floor_close(&f, label, start);
}

/*
 * Scenario Z: the same stream and pace as F, fanned out without copying on
 * the sending side: each batch is written once into a pipe, tee(2)d into
 * one pipe per subscriber (the kernel shares the pages) and splice(2)d
 * from there into the subscriber's socket.  A batch is released only when
 * every subscriber's pipe has room for it.  It shows what a zero-copy
 * fan-out allows on this machine.  Scenario V (g_vmsplice) is the same
 * with each batch vmsplice(2)d from the stream's memory into every pipe,
 * as feedd's zero_copy does with a sealed block, and W (g_vmsplice == 2)
 * copies each batch into a fresh mapping first, as feedd seals a block (so
 * the readers copy from pages just written); F copies every line once
 * per subscriber into the kernel, as feedd does with zero_copy = no.
 */
static void scenario_floor_splice(const char *dir, const char *label)
{
	struct floor f;
	floor_open(dir, &f);
	struct pollfd *pf = f.pf;
	size_t *sent = f.sent, *end = f.end;
	int src[2], devnull = open("/dev/null", O_WRONLY);
	int(*sp)[2] = calloc(g_subs, sizeof *sp);
	size_t *queued = calloc(g_subs, sizeof *queued), pcap = (size_t)1 << 20;
	if (getenv("BENCH_PIPE_KIB")) /* V and Z with other pipes than 1 MiB */
		pcap = (size_t)atol(getenv("BENCH_PIPE_KIB")) << 10;
	if (!sp || !queued || pipe2(src, O_NONBLOCK) ||
	    fcntl(src[1], F_SETPIPE_SZ, (int)pcap) < 0 || devnull < 0)
		exit(1);
	for (size_t i = 0; i < g_subs; i++)
		if (pipe2(sp[i], O_NONBLOCK) || fcntl(sp[i][1], F_SETPIPE_SZ, (int)pcap) < 0)
			exit(1);
	double start = mono(), next = start;
	size_t released = 0; /* lines */
	size_t done = 0;     /* subscribers with the whole stream */
	while (done < g_subs) {
		double now = mono();
		size_t upto = released + g_batch < g_n ? released + g_batch : g_n;
		size_t bytes = end[upto] - end[released];
		bool room = true;       /* every subscriber's pipe takes the batch */
		if (bytes > pcap / 2) { /* a pipe's room is in pages, partly used ones too */
			fprintf(stderr, "Z: a batch of %zu bytes is over half a pipe\n", bytes);
			exit(6);
		}
		for (size_t i = 0; i < g_subs && room; i++)
			room = queued[i] - sent[i] + bytes <= pcap / 2;
		if (released < g_n && now >= next && room) { /* a "commit" */
			for (size_t k = released + 1; k <= upto; k++)
				g_commit_t[k] = now;
			if (g_vmsplice) { /* V: the stream's pages straight into each pipe */
				char *src_mem = f.stream + end[released], *m = NULL;
				size_t mlen = (bytes + 4095) & ~(size_t)4095;
				if (g_vmsplice == 2) {
					m = mmap(NULL, mlen, PROT_READ | PROT_WRITE,
					         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
					if (m == MAP_FAILED)
						exit(7);
					memcpy(m, src_mem, bytes);
					src_mem = m;
				}
				for (size_t i = 0; i < g_subs; i++) {
					struct iovec iov = {src_mem, bytes};
					size_t got = 0;
					while (got < bytes) {
						ssize_t v =
						    vmsplice(sp[i][1], &iov, 1, SPLICE_F_NONBLOCK);
						if (v <= 0)
							exit(4);
						got += (size_t)v;
						iov.iov_base = (char *)iov.iov_base + v;
						iov.iov_len -= (size_t)v;
					}
					queued[i] += bytes;
				}
				if (m)
					munmap(m, mlen);
			} else {
				if (write(src[1], f.stream + end[released], bytes) !=
				    (ssize_t)bytes)
					exit(3);
				for (size_t i = 0; i < g_subs; i++) {
					if (tee(src[0], sp[i][1], bytes, SPLICE_F_NONBLOCK) !=
					    (ssize_t)bytes)
						exit(4);
					queued[i] += bytes;
				}
				if (splice(src[0], NULL, devnull, NULL, bytes, 0) != (ssize_t)bytes)
					exit(5);
			}
			released = upto;
			next += (double)g_pace_us / 1e6;
		}
		int wait_ms = released < g_n ? (int)((next - now) * 1000) : 1000;
		if (released < g_n && !room)
			wait_ms = 1;
		for (size_t i = 0; i < g_subs; i++)
			pf[i].events = sent[i] < queued[i] ? POLLOUT : 0;
		if (poll(pf, g_subs, wait_ms > 0 ? wait_ms : 0) < 0)
			break;
		spread_sample();
		for (size_t i = 0; i < g_subs; i++) {
			if (!(pf[i].revents & POLLOUT))
				continue;
			ssize_t w = splice(sp[i][0], NULL, pf[i].fd, NULL, queued[i] - sent[i],
			                   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (w > 0)
				sent[i] += (size_t)w;
			if (w > 0 && sent[i] == end[g_n])
				done++;
		}
	}
	floor_close(&f, label, start);
	for (size_t i = 0; i < g_subs; i++) {
		close(sp[i][0]);
		close(sp[i][1]);
	}
	close(src[0]);
	close(src[1]);
	close(devnull);
	free(sp);
	free(queued);
}

static void run_in_child(const char *dir, const char *label, int stalled, int replay)
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		if (stalled == -2)
			scenario_floor_splice(dir, label);
		else if (stalled < 0)
			scenario_floor(dir, label);
		else
			scenario(dir, label, stalled, replay);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "%s: failed (status %d)\n", label, st);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	g_n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	g_batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 100;
	g_subs = argc > 4 ? strtoul(argv[4], NULL, 10) : 100;
	g_pace_us = (argc > 5 ? atol(argv[5]) : 10) * 1000;
	const char *which = argc > 6 ? argv[6] : "ABCF";
	size_t rounds = argc > 7 ? strtoul(argv[7], NULL, 10) : 1;
	g_content = argc > 8 ? strtoul(argv[8], NULL, 10) : 1200;
	if (getenv("BENCH_READ_KIB"))
		g_read_max = (size_t)atol(getenv("BENCH_READ_KIB")) << 10;
	if (!g_n || !g_batch || !g_subs || g_subs > 1000 || !rounds || rounds > 100 ||
	    g_content > 1000000)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	g_commit_t = shared_alloc((g_n + 2) * sizeof *g_commit_t);
	g_samples = shared_alloc(g_subs * (g_n / SAMPLE_EVERY + 1) * sizeof *g_samples);
	g_res = shared_alloc(g_subs * sizeof *g_res);
	printf("%zu items (%zu bytes of content each) committed in batches of %zu every %ld ms, "
	       "%zu subscribers, store in %s\n",
	       g_n, g_content, g_batch, g_pace_us / 1000, g_subs, dir);
	printf("%-34s %11s %9s %9s %12s %10s %10s\n", "scenario", "subscribers", "p50_ms", "p99_ms",
	       "min_ev/s/sub", "rss_MiB", "outmax_KiB");
	/* A, B, K, F and Z alternate, so that all see the same machine; medians after */
	struct run_out *outs = shared_alloc(5 * rounds * sizeof *outs);
	static const char *const names[5] = {"A", "B", "F", "Z", "K"};
	for (size_t r = 0; r < rounds; r++) {
		g_out = &outs[r];
		if (strchr(which, 'A'))
			run_in_child(dir, "A: live", 0, 0);
		g_out = &outs[rounds + r];
		if (strchr(which, 'B'))
			run_in_child(dir, "B: live + 1 never-reading client", 1, 0);
		g_out = &outs[4 * rounds + r];
		g_zero_copy = false;
		if (strchr(which, 'K'))
			run_in_child(dir, "K: live, zero_copy = no", 0, 0);
		g_zero_copy = true;
		g_out = &outs[2 * rounds + r];
		if (strchr(which, 'F'))
			run_in_child(dir, "F: floor, raw write(2) fan-out", -1, 0);
		g_out = &outs[3 * rounds + r];
		if (strchr(which, 'Z'))
			run_in_child(dir, "Z: floor, tee(2)+splice(2) fan-out", -2, 0);
		g_vmsplice = 1;
		if (strchr(which, 'V'))
			run_in_child(dir, "V: floor, vmsplice(2)+splice(2)", -2, 0);
		g_vmsplice = 2;
		if (strchr(which, 'W'))
			run_in_child(dir, "W: floor, sealed + vmsplice(2)", -2, 0);
		g_vmsplice = 0;
	}
	g_out = NULL;
	if (rounds > 1) {
		size_t m = rounds / 2;
		double med[5][3]; /* scenario: p50, p99, peak RSS MiB */
		for (int k = 0; k < 5; k++) {
			double v[3][100];
			for (size_t r = 0; r < rounds; r++) {
				v[0][r] = outs[k * rounds + r].p50;
				v[1][r] = outs[k * rounds + r].p99;
				v[2][r] = (double)outs[k * rounds + r].rss_kib / 1024;
			}
			for (int q = 0; q < 3; q++) {
				qsort(v[q], rounds, sizeof v[q][0], cmp_d);
				med[k][q] = v[q][m];
			}
			if (strchr(which, names[k][0]))
				printf("medians of %zu rounds, %s: p50 %.2f ms, p99 %.2f ms, "
				       "peak RSS %.1f MiB\n",
				       rounds, names[k], med[k][0], med[k][1], med[k][2]);
		}
		if (strchr(which, 'A') && strchr(which, 'B'))
			printf("B against A: p99 x %.2f, peak RSS %+.1f MiB\n",
			       med[1][1] / med[0][1], med[1][2] - med[0][2]);
	}
	if (strchr(which, 'C'))
		run_in_child(dir, "C: replay from oldest", 0, 1);
	g_pack = false;
	if (strchr(which, 'P'))
		run_in_child(dir, "P: replay, replay_pack = no", 0, 1);
	g_pack = true;
	g_zero_copy = false;
	if (strchr(which, 'D'))
		run_in_child(dir, "D: replay, zero_copy = no", 0, 1);
	return 0;
}
