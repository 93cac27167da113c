/*
 * test_hostile.c - `feedd poll` against a hostile HTTP server.
 *
 * Every test seeds a real SQLite store with items (a "keeper" feed and
 * the hostile feed itself, fetched while its server still behaved), then
 * lets the server turn hostile and runs the real `feedd poll --all` as a
 * child process while an in-process evhttp server (tests/httpd.c, on
 * loopback, in a thread) misbehaves.  Afterwards, for every behaviour:
 *
 *  - the poll exits 0 (feeds that fail are recorded on the feed; only a
 *    failing store makes `feedd poll` exit non-zero, see cmd_poll.c);
 *  - the feed records the right error and a next poll (read back from
 *    the store);
 *  - the child's peak RSS (ru_maxrss from wait4) stays under
 *    HOSTILE_RSS_MAX (64 MiB without sanitizers; ASan's shadow memory
 *    and quarantine need more, so 192 MiB under ASan);
 *  - nothing stored before is lost or changed: the event log with the
 *    items as stored before the poll is a prefix of the one after.
 *
 * Time limits are made small in the test config (low_speed_time 2 s,
 * total_timeout 6 s) so that the slow attacks end quickly; every server
 * behaviour is bounded because the client hangs up and the server stops
 * with the test.  Private addresses: the server is on loopback, so each
 * feed opts in with its own [feed "URL"] section (allow_private = yes)
 * while the global setting stays "no".  The tests of redirects from a
 * public address to a private one run in a network namespace of their own
 * where a public-looking address (198.51.100.7, TEST-NET-2) is put on lo.
 */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "httpd.h"
#include "poller.h"
#include "store.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTILE_ASAN 1
#endif
#endif
#ifdef HOSTILE_ASAN
#define HOSTILE_RSS_MAX (192L << 20)
#else
#define HOSTILE_RSS_MAX (64L << 20)
#endif

static struct event_base *base;
static struct httpd *srv;
static char *dir;
static char dbpath[512], confpath[512];
static int64_t keeper;
static char *before;      /* snapshot of the event log before the hostile poll */
static char label[64];    /* the hostile path, for the log lines */
static bool check_keeper; /* the keeper feed is reachable (not in the namespace test) */

struct poll_child {
	int status;  /* exit status, or 128+signal */
	long maxrss; /* bytes */
	char *out, *err;
};

static const char *good_feed =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Good</title>"
    "<link>http://example.org/</link>"
    "<item><guid>a</guid><title>first</title><description>one</description></item>"
    "<item><guid>b</guid><title>second</title><description>two</description></item>"
    "</channel></rss>";

/* ---- the server runs in a thread while the child polls ---- */

static volatile int srv_stop;

static void srv_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (srv_stop)
		event_base_loopbreak(arg);
}

static void *srv_thread(void *arg)
{
	struct event *t = event_new(base, -1, EV_PERSIST, srv_tick, base);
	struct timeval tv = {0, 20000};
	(void)arg;
	event_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
	return NULL;
}

static char *slurp(const char *path)
{
	return tu_read_file(path, NULL);
}

/* Runs argv with stdout/stderr into files, measuring the child's peak RSS with wait4. */
static void run_child(struct poll_child *c, char *const argv[])
{
	char out[600], err[600];
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(err, sizeof err, "%s/err", dir);
	pthread_t th;
	srv_stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, srv_thread, NULL), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int n = open("/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || n < 0)
			_exit(127);
		dup2(n, 0), dup2(o, 1), dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		ck_assert_int_eq(errno, EINTR);
	srv_stop = 1;
	pthread_join(th, NULL);
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	c->maxrss = ru.ru_maxrss * 1024L;
	c->out = slurp(out);
	c->err = slurp(err);
}

static void child_free(struct poll_child *c)
{
	free(c->out);
	free(c->err);
}

/* ---- config, store ---- */

static void route(const char *path, int status, const char *headers, const char *body)
{
	struct httpd_route r = {.path = path, .status = status, .headers = headers, .body = body};
	httpd_route(srv, &r);
}

/* Writes the test config: small time limits, private addresses per feed only, plus extra. */
static void write_config(const char *extra)
{
	FILE *f = fopen(confpath, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
	        "allow_private = no\nconnect_timeout = 2s\nlow_speed_limit = 100\n"
	        "low_speed_time = 2s\ntotal_timeout = 6s\n%s\n",
	        extra ? extra : "");
	fclose(f);
}

/* Adds a [feed] section opting this URL in to loopback. */
static void config_allow(const char *url)
{
	FILE *f = fopen(confpath, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[feed \"%s\"]\nallow_private = yes\n", url);
	fclose(f);
}

static struct store *open_store(void)
{
	struct store *st = NULL;
	enum store_err e = store_open(dbpath, NULL, &st);
	ck_assert_msg(e == STORE_OK, "store_open: %s", store_errmsg(st));
	return st;
}

static int64_t add_feed(struct store *st, const char *path)
{
	int64_t id = 0;
	struct store_feed_new nf = {.url = httpd_url(srv, path)};
	ck_assert_int_eq(store_feed_add(st, &nf, (int64_t)time(NULL), &id), STORE_OK);
	config_allow(nf.url);
	return id;
}

static void get_feed(int64_t id, struct store_feed *f)
{
	struct store *st = open_store();
	memset(f, 0, sizeof *f);
	ck_assert_int_eq(store_feed_get(st, id, f), STORE_OK);
	store_close(st);
}

struct snap {
	char *s;
	size_t len, cap;
};

static void snap_add(struct snap *sn, const char *fmt, const char *v)
{
	size_t n = (size_t)snprintf(NULL, 0, fmt, v ? v : "-");
	if (sn->len + n + 1 > sn->cap) {
		sn->cap = (sn->len + n + 1) * 2;
		sn->s = realloc(sn->s, sn->cap);
		ck_assert_ptr_nonnull(sn->s);
	}
	sn->len += (size_t)sprintf(sn->s + sn->len, fmt, v ? v : "-");
}

static int snap_event(void *ud, const struct store_event *ev)
{
	struct snap *sn = ud;
	char head[128];
	snprintf(head, sizeof head, "%lld %lld %d ", (long long)ev->seq, (long long)ev->feed_id,
	         (int)ev->kind);
	snap_add(sn, "%s", head);
	snap_add(sn, "id=%s ", ev->item->id);
	snap_add(sn, "title=%s ", ev->item->title);
	snap_add(sn, "link=%s ", ev->item->link);
	snap_add(sn, "summary=%s ", ev->item->summary);
	snap_add(sn, "content=%s\n", ev->item->content);
	return 0;
}

/* The whole event log with each event's item as stored now. */
static char *snapshot(void)
{
	struct store *st = open_store();
	struct snap sn = {0};
	snap_add(&sn, "%s", "");
	ck_assert_int_eq(store_events_after(st, 0, NULL, 0, 0, snap_event, &sn, NULL, NULL),
	                 STORE_OK);
	store_close(st);
	return sn.s;
}

static void on_outcome(void *ud, const struct poller_outcome *o)
{
	ck_assert_msg(o->result == POLLER_FETCHED, "seeding %s: %s", o->url,
	              o->error ? o->error : "");
	(*(int *)ud)++;
}

/* Polls these feeds in this process (the server still behaves). */
static void seed_poll(struct store *st, const int64_t *ids, size_t n)
{
	struct config cfg;
	char err[512];
	int done = 0;
	config_defaults(&cfg);
	cfg.allow_private = true;
	struct poller *p = poller_new(base, st, &cfg, on_outcome, &done);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++) {
		struct store_feed f = {0};
		ck_assert_int_eq(store_feed_get(st, ids[i], &f), STORE_OK);
		ck_assert_int_eq(poller_start(p, &f, err, sizeof err), 0);
		store_feed_clear(&f);
	}
	while (poller_pending(p))
		event_base_loop(base, EVLOOP_ONCE);
	poller_free(p);
	config_free(&cfg);
	ck_assert_int_eq(done, (int)n);
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	srv = httpd_start(base);
	ck_assert_ptr_nonnull(srv);
	dir = tu_tmpdir();
	snprintf(dbpath, sizeof dbpath, "%s/feedd.db", dir);
	snprintf(confpath, sizeof confpath, "%s/feedd.conf", dir);
	write_config(NULL);
	struct store *st = open_store();
	route("/keep", 200, NULL, good_feed);
	keeper = add_feed(st, "/keep");
	seed_poll(st, &keeper, 1);
	store_close(st);
	before = NULL;
	check_keeper = true;
}

static void teardown(void)
{
	free(before);
	httpd_free(srv);
	event_base_free(base);
	tu_rmtree(dir);
	free(dir);
}

/*
 * A feed at path that served good_feed-like items once (seeded), and now
 * serves r.  extra goes into the config.  Returns the feed's id.
 */
static int64_t hostile_feed(const struct httpd_route *r, const char *extra)
{
	char seed[1024];
	snprintf(seed, sizeof seed,
	         "<rss version=\"2.0\"><channel><title>Hostile</title>"
	         "<item><guid>%s-1</guid><title>kept</title><description>seeded</description>"
	         "</item></channel></rss>",
	         r->path);
	snprintf(label, sizeof label, "%s", r->path);
	write_config(extra);
	config_allow(httpd_url(srv, "/keep"));
	struct store *st = open_store();
	route(r->path, 200, NULL, seed);
	int64_t id = add_feed(st, r->path);
	seed_poll(st, &id, 1);
	store_close(st);
	httpd_route(srv, r);
	before = snapshot();
	return id;
}

/* feedd poll --all; checks exit status, memory bound and that nothing stored was lost. */
static void poll_all(struct poll_child *c)
{
	char *argv[] = {FEEDD_BIN, "poll", "--all", "--db", dbpath, "--config", confpath, NULL};
	run_child(c, argv);
	ck_assert_msg(c->status == 0, "feedd poll exited %d; stderr: %s", c->status, c->err);
	ck_assert_msg(c->maxrss < HOSTILE_RSS_MAX, "peak RSS %ld bytes (bound %ld)", c->maxrss,
	              HOSTILE_RSS_MAX);
	char *after = snapshot();
	ck_assert_msg(!strncmp(after, before, strlen(before)),
	              "the event log changed:\nbefore:\n%.2000s\nafter:\n%.2000s", before, after);
	free(after);
	fprintf(stderr, "test_hostile: %s: feedd poll exit %d, peak RSS %.1f MiB\n", label,
	        c->status, (double)c->maxrss / (1 << 20));
	if (!check_keeper)
		return;
	/* the well-behaved feed polled alongside is fine */
	struct store_feed f;
	get_feed(keeper, &f);
	ck_assert_msg(f.last_error == NULL, "keeper: %s", f.last_error);
	ck_assert_int_eq(f.last_status, 200);
	store_feed_clear(&f);
}

/* The feed failed once with an error containing want, and is backed off. */
static void assert_failed(int64_t id, const char *want)
{
	struct store_feed f;
	get_feed(id, &f);
	fprintf(stderr, "test_hostile: %s: recorded \"%s\", next poll in %llds (%s)\n", label,
	        f.last_error ? f.last_error : "", (long long)(f.next_poll - f.last_fetch),
	        f.next_poll_reason ? f.next_poll_reason : "");
	ck_assert_msg(f.last_error && strstr(f.last_error, want), "last_error %s, want %s",
	              f.last_error ? f.last_error : "(none)", want);
	ck_assert_int_eq(f.consecutive_errors, 1);
	ck_assert_int_gt(f.next_poll, f.last_fetch);
	ck_assert_msg(f.next_poll_reason && strstr(f.next_poll_reason, "backoff"),
	              "next_poll_reason %s", f.next_poll_reason);
	ck_assert(!f.disabled);
	store_feed_clear(&f);
}

/* Runs the poll and checks the recorded failure in one go. */
static void expect_failure(const struct httpd_route *r, const char *extra, const char *want)
{
	int64_t id = hostile_feed(r, extra);
	struct poll_child c;
	poll_all(&c);
	assert_failed(id, want);
	child_free(&c);
}

/* ---- slow and endless ---- */

START_TEST(a_body_trickling_one_byte_every_two_seconds_times_out)
{
	struct httpd_route r = {
	    .path = "/trickle", .body = good_feed, .mode = HTTPD_TRICKLE, .delay_ms = 2000};
	expect_failure(&r, NULL, "too slow");
}
END_TEST

START_TEST(headers_never_sent_time_out)
{
	struct httpd_route r = {.path = "/hang", .mode = HTTPD_HANG};
	expect_failure(&r, NULL, "too slow");
}
END_TEST

START_TEST(an_endless_chunked_body_is_cut_at_max_body)
{
	struct httpd_route r = {
	    .path = "/endless", .body = "<rss><channel><title>x", .mode = HTTPD_ENDLESS};
	expect_failure(&r, "max_body = 1M", "body larger than 1048576 bytes");
}
END_TEST

START_TEST(an_endless_close_delimited_body_is_cut_at_max_body)
{
	struct httpd_route r = {.path = "/close",
	                        .body = "<!-- padding padding padding -->",
	                        .mode = HTTPD_CLOSE,
	                        .chunk = 16384};
	expect_failure(&r, "max_body = 1M", "body larger than 1048576 bytes");
}
END_TEST

START_TEST(a_huge_content_length_is_refused)
{
	struct httpd_route r = {.path = "/huge",
	                        .headers = "Content-Length: 1000000000000\n",
	                        .body = "<!-- padding -->",
	                        .mode = HTTPD_ENDLESS};
	expect_failure(&r, NULL, "body larger than");
}
END_TEST

START_TEST(a_gzip_bomb_is_cut_at_max_body)
{
	/* 200 MB of zeros in about 200 KB of gzip */
	size_t n;
	void *bomb = httpd_gzip_zeros((size_t)200 << 20, &n);
	ck_assert_uint_lt(n, 1 << 20);
	struct httpd_route r = {.path = "/bomb",
	                        .headers = "Content-Encoding: gzip\nContent-Type: text/xml\n",
	                        .body = bomb,
	                        .body_len = n};
	expect_failure(&r, NULL, "body larger than 8388608 bytes");
	free(bomb);
}
END_TEST

START_TEST(an_endless_body_on_a_redirect_is_cut_at_max_body)
{
	/* libcurl reads a followed redirect's body without passing it on, to keep
	 * the connection: it must count all the same */
	struct httpd_route r = {.path = "/redirect-endless",
	                        .status = 302,
	                        .headers = "Location: /keep\n",
	                        .body = "<!-- padding padding padding -->",
	                        .mode = HTTPD_ENDLESS};
	expect_failure(&r, "max_body = 1M", "body larger than 1048576 bytes");
}
END_TEST

START_TEST(an_endless_error_page_is_cut_at_max_body)
{
	struct httpd_route r = {.path = "/error-endless",
	                        .status = 503,
	                        .body = "<p>busy busy busy busy</p>",
	                        .mode = HTTPD_ENDLESS};
	expect_failure(&r, "max_body = 1M", "body larger than 1048576 bytes");
}
END_TEST

/* ---- redirects ---- */

START_TEST(a_redirect_loop_stops_after_max_redirects)
{
	struct httpd_route r = {.path = "/loop", .status = 302, .headers = "Location: /loop\n"};
	expect_failure(&r, NULL, "more than 5 redirects");
}
END_TEST

static void redirect_to(const char *path, const char *location)
{
	char hdr[256];
	snprintf(hdr, sizeof hdr, "Location: %s\n", location);
	struct httpd_route r = {.path = path, .status = 302, .headers = hdr};
	expect_failure(&r, NULL, "not supported");
}

START_TEST(a_redirect_to_file_is_refused)
{
	redirect_to("/tofile", "file:///etc/passwd");
}
END_TEST

START_TEST(a_redirect_to_ftp_is_refused)
{
	redirect_to("/toftp", "ftp://127.0.0.1/feed.xml");
}
END_TEST

START_TEST(a_redirect_to_gopher_is_refused)
{
	redirect_to("/togopher", "gopher://127.0.0.1/1/feed");
}
END_TEST

START_TEST(a_chain_of_permanent_redirects_rewrites_the_url_after_three_polls)
{
	struct httpd_route r = {.path = "/p1", .status = 301, .headers = "Location: /p2\n"};
	int64_t id = hostile_feed(&r, NULL);
	route("/p2", 308, "Location: /p3\n", NULL);
	route("/p3", 301, "Location: /final\n", NULL);
	route("/final", 200, NULL, good_feed);
	for (int i = 1; i <= 3; i++) {
		struct poll_child c;
		poll_all(&c);
		child_free(&c);
		struct store_feed f;
		get_feed(id, &f);
		ck_assert_str_eq(f.url, httpd_url(srv, i < 3 ? "/p1" : "/final"));
		ck_assert_ptr_null(f.last_error);
		store_feed_clear(&f);
	}
	ck_assert_int_eq(httpd_hits(srv, "/final"), 3);
}
END_TEST

/* ---- HTTP errors ---- */

START_TEST(too_many_requests_with_retry_after_seconds_sets_the_next_poll)
{
	struct httpd_route r = {.path = "/429", .status = 429, .headers = "Retry-After: 7200\n"};
	int64_t id = hostile_feed(&r, NULL);
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	struct store_feed f;
	get_feed(id, &f);
	ck_assert_str_eq(f.last_error, "HTTP 429");
	ck_assert_int_eq(f.last_status, 429);
	ck_assert_int_eq(f.next_poll - f.last_fetch, 7200);
	ck_assert_str_eq(f.next_poll_reason, "retry-after 7200s");
	store_feed_clear(&f);
}
END_TEST

START_TEST(too_many_requests_with_a_far_future_date_is_clamped)
{
	struct httpd_route r = {.path = "/429d",
	                        .status = 429,
	                        .headers = "Retry-After: Fri, 01 Jan 2100 00:00:00 GMT\n"};
	int64_t id = hostile_feed(&r, "retry_after_max = 6h");
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	struct store_feed f;
	get_feed(id, &f);
	ck_assert_int_eq(f.last_status, 429);
	ck_assert_int_eq(f.next_poll - f.last_fetch, 6 * 3600);
	store_feed_clear(&f);
}
END_TEST

START_TEST(service_unavailable_backs_off)
{
	struct httpd_route r = {.path = "/503", .status = 503, .body = "<html>down</html>"};
	expect_failure(&r, NULL, "HTTP 503");
}
END_TEST

START_TEST(gone_disables_the_feed_and_keeps_its_items)
{
	struct httpd_route r = {.path = "/410", .status = 410, .body = "gone"};
	int64_t id = hostile_feed(&r, NULL);
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	struct store_feed f;
	get_feed(id, &f);
	ck_assert(f.disabled);
	ck_assert_str_eq(f.disabled_reason, "410 Gone");
	store_feed_clear(&f);
	/* a disabled feed is not polled again */
	poll_all(&c);
	child_free(&c);
	ck_assert_int_eq(httpd_hits(srv, "/410"), 2); /* seed + the one poll */
}
END_TEST

/* ---- documents ---- */

START_TEST(an_html_page_is_recorded_as_not_a_feed)
{
	struct httpd_route r = {.path = "/html",
	                        .headers = "Content-Type: application/rss+xml\n",
	                        .body =
	                            "<!DOCTYPE html><html><head><title>Welcome</title></head><body>"
	                            "<p>This is not a feed<br></body></html>"};
	expect_failure(&r, NULL, "not a feed");
}
END_TEST

static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s;
		size_t k = c < 0x80         ? 1
		           : (c >> 5) == 6  ? 2
		           : (c >> 4) == 14 ? 3
		           : (c >> 3) == 30 ? 4
		                            : 0;
		if (!k)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[j] & 0xc0) != 0x80)
				return 0;
		s += k;
	}
	return 1;
}

START_TEST(invalid_utf8_is_stored_as_valid_utf8)
{
	struct httpd_route r = {
	    .path = "/badutf8",
	    .headers = "Content-Type: application/rss+xml; charset=utf-8\n",
	    .body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
	            "<title>Bad \xff\xfe bytes</title><item><guid>u1</guid>"
	            "<title>caf\xe9 \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80</title></item>"
	            "</channel></rss>"};
	int64_t id = hostile_feed(&r, NULL);
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	char *after = snapshot();
	ck_assert_msg(valid_utf8((const unsigned char *)after), "%s", after);
	ck_assert_ptr_nonnull(strstr(after, "id=u1 "));
	free(after);
	struct store_feed f;
	get_feed(id, &f);
	ck_assert_int_eq(f.last_status, 200);
	ck_assert(valid_utf8((const unsigned char *)f.title));
	store_feed_clear(&f);
}
END_TEST

START_TEST(billion_laughs_is_bounded)
{
	static char doc[4096];
	char *p = doc;
	p += sprintf(p, "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY l0 \"ha\">");
	for (int i = 1; i <= 10; i++)
		p += sprintf(
		    p, "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">", i,
		    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	sprintf(p, "]><rss version=\"2.0\"><channel><title>lol</title><item><guid>bl</guid>"
	           "<title>&l10;</title></item></channel></rss>");
	struct httpd_route r = {.path = "/lol", .body = doc};
	int64_t id = hostile_feed(&r, NULL);
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	/* whatever was stored, no field is larger than the amplification allows */
	char *after = snapshot();
	ck_assert_uint_lt(strlen(after), strlen(before) + (2u << 20));
	free(after);
	struct store_feed f;
	get_feed(id, &f);
	ck_assert_int_eq(f.last_status, 200);
	store_feed_clear(&f);
}
END_TEST

START_TEST(an_external_entity_never_reads_a_local_file)
{
	char secret[600], doc[2048];
	snprintf(secret, sizeof secret, "%s/secret.txt", dir);
	FILE *fp = fopen(secret, "w");
	fputs("TOP-SECRET-7f3a9c", fp);
	fclose(fp);
	snprintf(doc, sizeof doc,
	         "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file://%s\">]>"
	         "<rss version=\"2.0\"><channel><title>t &xxe;</title><item><guid>x1</guid>"
	         "<title>leak: &xxe;</title><description>&xxe;</description></item>"
	         "</channel></rss>",
	         secret);
	struct httpd_route r = {.path = "/xxe", .body = doc};
	int64_t id = hostile_feed(&r, NULL);
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	char *after = snapshot();
	ck_assert_ptr_null(strstr(after, "TOP-SECRET"));
	free(after);
	/* not anywhere in the database files either */
	const char *files[] = {"feedd.db", "feedd.db-wal"};
	for (size_t i = 0; i < 2; i++) {
		char path[700];
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if (access(path, F_OK))
			continue;
		size_t len;
		char *b = tu_read_file(path, &len);
		ck_assert_ptr_null(memmem(b, len, "TOP-SECRET", 10));
		free(b);
	}
	struct store_feed f;
	get_feed(id, &f);
	ck_assert(!f.title || !strstr(f.title, "TOP-SECRET"));
	store_feed_clear(&f);
}
END_TEST

START_TEST(two_hundred_thousand_nested_elements_are_bounded)
{
	size_t depth = 200000, cap = depth * 8 + 512;
	char *doc = malloc(cap), *p = doc;
	p += sprintf(p, "<rss version=\"2.0\"><channel><title>deep</title><item><guid>d1</guid>"
	                "<description>");
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "<a>");
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "</description></item></channel></rss>");
	struct httpd_route r = {.path = "/deep", .body = doc};
	int64_t id = hostile_feed(&r, NULL);
	free(doc);
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	struct store_feed f;
	get_feed(id, &f);
	ck_assert_int_eq(f.last_status, 200);
	store_feed_clear(&f);
}
END_TEST

START_TEST(nesting_that_fills_max_body_is_bounded)
{
	/* 8 MiB of "<a>" cost expat 430 MB before the reader's depth limit (xmlreader.c) */
	size_t depth = (8u << 20) / 3 - 100, cap = depth * 3 + 512;
	char *doc = malloc(cap), *p = doc;
	p += sprintf(p, "<rss version=\"2.0\"><channel><title>deeper</title><item><guid>d2</guid>"
	                "<description>");
	for (size_t i = 0; i < depth; i++, p += 3)
		memcpy(p, "<a>", 3);
	*p = 0;
	struct httpd_route r = {.path = "/deeper", .body = doc};
	int64_t id = hostile_feed(&r, NULL);
	free(doc);
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	struct store_feed f;
	get_feed(id, &f);
	ck_assert_int_eq(f.last_status, 200);
	store_feed_clear(&f);
}
END_TEST

START_TEST(entity_expansion_within_the_amplification_limit_is_bounded)
{
	/* 8 MB of items that each expand 15 times (under expat's factor of 20): the items of
	 * one document held 124 MiB before the poller capped them at twice max_body */
	size_t cap = 8200000, used;
	char *doc = malloc(cap + 4096), *p = doc, x[801], pad[701];
	memset(x, 'a', 800);
	x[800] = 0;
	memset(pad, 'b', 700);
	pad[700] = 0;
	p += sprintf(p,
	             "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY x \"%s\">]>"
	             "<rss version=\"2.0\"><channel><title>amp</title>",
	             x);
	for (int i = 0; (used = (size_t)(p - doc)) < 8000000 && i < 10000; i++)
		p += sprintf(p,
		             "<item><guid>%d</guid><description>%s&x;&x;&x;&x;&x;&x;&x;&x;&x;&x;"
		             "&x;&x;&x;&x;&x;</description></item>",
		             i, pad);
	sprintf(p, "</channel></rss>");
	struct httpd_route r = {.path = "/amp", .body = doc};
	expect_failure(&r, NULL, "items larger than 16777216 bytes in all");
	free(doc);
}
END_TEST

struct longest {
	size_t title;
};

static int longest_title(void *ud, const struct store_event *ev)
{
	struct longest *l = ud;
	size_t n = ev->item->title ? strlen(ev->item->title) : 0;
	if (n > l->title)
		l->title = n;
	return 0;
}

START_TEST(a_ten_megabyte_title_is_capped_at_max_field)
{
	size_t n = 10u << 20;
	char *doc = malloc(n + 512), *p = doc;
	p += sprintf(p, "<rss version=\"2.0\"><channel><title>big</title><item><guid>t1</guid>"
	                "<title>");
	memset(p, 'x', n);
	p += n;
	sprintf(p, "</title></item></channel></rss>");
	struct httpd_route r = {.path = "/bigtitle", .body = doc};
	int64_t id = hostile_feed(&r, "max_body = 16M\nmax_field = 1M");
	free(doc);
	struct poll_child c;
	poll_all(&c);
	child_free(&c);
	struct store *st = open_store();
	struct longest l = {0};
	ck_assert_int_eq(store_events_after(st, 0, NULL, 0, 0, longest_title, &l, NULL, NULL),
	                 STORE_OK);
	store_close(st);
	ck_assert_uint_gt(l.title, 0);
	ck_assert_uint_le(l.title, 1u << 20);
	struct store_feed f;
	get_feed(id, &f);
	ck_assert_int_eq(f.last_status, 200);
	store_feed_clear(&f);
}
END_TEST

/* ---- private addresses, from a public-looking address in a network namespace ---- */

static int ns_set_addr(int fd, const char *ifname, const char *addr)
{
	struct ifreq ifr = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	return ioctl(fd, SIOCSIFADDR, &ifr);
}

static int ns_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * Moves this test process into a network namespace of its own (and a user
 * namespace when not root) with lo up and two more addresses on it:
 * 198.51.100.7 (public-looking) and 10.9.9.9 (private).  false when the
 * system does not allow it.
 */
static bool ns_enter(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (uid != 0) {
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
			return false;
		snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
		if (ns_write("/proc/self/uid_map", map))
			return false;
		ns_write("/proc/self/setgroups", "deny");
		snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
		if (ns_write("/proc/self/gid_map", map))
			return false;
	} else if (unshare(CLONE_NEWNET)) {
		return false;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	bool ok = fd >= 0 && !ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ok = ok && !ioctl(fd, SIOCSIFFLAGS, &ifr);
	ok = ok && !ns_set_addr(fd, "lo:1", "198.51.100.7") && !ns_set_addr(fd, "lo:2", "10.9.9.9");
	if (fd >= 0)
		close(fd);
	return ok;
}

START_TEST(a_redirect_from_a_public_address_to_private_ones_is_refused)
{
	if (!ns_enter()) {
		fprintf(stderr, "test_hostile: no network namespace here; redirect-to-private "
		                "tests skipped\n");
		return;
	}
	check_keeper = false; /* its server is outside this namespace */
	snprintf(label, sizeof label, "redirect-to-private");
	struct httpd *pub = httpd_start_addr(base, "198.51.100.7");
	struct httpd *priv = httpd_start_addr(base, "10.9.9.9");
	struct httpd *lo = httpd_start(base); /* srv's socket is outside this namespace */
	ck_assert_ptr_nonnull(lo);
	ck_assert_ptr_nonnull(pub);
	ck_assert_ptr_nonnull(priv);
	struct httpd_route ok = {.path = "/feed", .body = good_feed};
	httpd_route(priv, &ok);
	httpd_route(lo, &ok);
	char loc1[300], loc2[300];
	snprintf(loc1, sizeof loc1, "Location: %s\n", httpd_url(lo, "/feed"));
	snprintf(loc2, sizeof loc2, "Location: %s\n", httpd_url(priv, "/feed"));
	struct httpd_route r1 = {.path = "/to-loopback", .status = 302, .headers = loc1};
	struct httpd_route r2 = {.path = "/to-private", .status = 302, .headers = loc2};
	struct httpd_route r3 = {.path = "/direct", .body = good_feed};
	httpd_route(pub, &r1);
	httpd_route(pub, &r2);
	httpd_route(pub, &r3);

	write_config(NULL);
	config_allow(httpd_url(srv, "/keep"));
	struct store *st = open_store();
	int64_t ids[3];
	const char *paths[3] = {"/to-loopback", "/to-private", "/direct"};
	for (int i = 0; i < 3; i++) {
		struct store_feed_new nf = {.url = httpd_url(pub, paths[i])};
		ck_assert_int_eq(store_feed_add(st, &nf, (int64_t)time(NULL), &ids[i]), STORE_OK);
	}
	store_close(st);
	before = snapshot();
	struct poll_child c;
	poll_all(&c);
	child_free(&c);

	struct store_feed f;
	get_feed(ids[0], &f);
	ck_assert_str_eq(f.last_error, "refused private address 127.0.0.1");
	store_feed_clear(&f);
	get_feed(ids[1], &f);
	ck_assert_str_eq(f.last_error, "refused private address 10.9.9.9");
	store_feed_clear(&f);
	get_feed(ids[2], &f); /* the public address itself is fine */
	ck_assert_ptr_null(f.last_error);
	ck_assert_int_eq(f.last_status, 200);
	store_feed_clear(&f);
	ck_assert_int_eq(httpd_hits(priv, "/feed"), 0);
	ck_assert_int_eq(httpd_hits(lo, "/feed"), 0);
	ck_assert_int_eq(httpd_hits(pub, "/to-private"), 1);

	/* a feed that opts in may follow the redirect to loopback */
	config_allow(httpd_url(pub, "/to-loopback"));
	poll_all(&c);
	child_free(&c);
	get_feed(ids[0], &f);
	ck_assert_msg(f.last_error == NULL, "%s", f.last_error);
	store_feed_clear(&f);
	ck_assert_int_eq(httpd_hits(lo, "/feed"), 1);
	httpd_free(lo);
	httpd_free(pub);
	httpd_free(priv);
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_body_trickling_one_byte_every_two_seconds_times_out);
	tcase_add_test(tc, headers_never_sent_time_out);
	tcase_add_test(tc, an_endless_chunked_body_is_cut_at_max_body);
	tcase_add_test(tc, an_endless_close_delimited_body_is_cut_at_max_body);
	tcase_add_test(tc, a_huge_content_length_is_refused);
	tcase_add_test(tc, a_gzip_bomb_is_cut_at_max_body);
	tcase_add_test(tc, an_endless_body_on_a_redirect_is_cut_at_max_body);
	tcase_add_test(tc, an_endless_error_page_is_cut_at_max_body);
	tcase_add_test(tc, a_redirect_loop_stops_after_max_redirects);
	tcase_add_test(tc, a_redirect_to_file_is_refused);
	tcase_add_test(tc, a_redirect_to_ftp_is_refused);
	tcase_add_test(tc, a_redirect_to_gopher_is_refused);
	tcase_add_test(tc, a_chain_of_permanent_redirects_rewrites_the_url_after_three_polls);
	tcase_add_test(tc, too_many_requests_with_retry_after_seconds_sets_the_next_poll);
	tcase_add_test(tc, too_many_requests_with_a_far_future_date_is_clamped);
	tcase_add_test(tc, service_unavailable_backs_off);
	tcase_add_test(tc, gone_disables_the_feed_and_keeps_its_items);
	tcase_add_test(tc, an_html_page_is_recorded_as_not_a_feed);
	tcase_add_test(tc, invalid_utf8_is_stored_as_valid_utf8);
	tcase_add_test(tc, billion_laughs_is_bounded);
	tcase_add_test(tc, an_external_entity_never_reads_a_local_file);
	tcase_add_test(tc, two_hundred_thousand_nested_elements_are_bounded);
	tcase_add_test(tc, nesting_that_fills_max_body_is_bounded);
	tcase_add_test(tc, entity_expansion_within_the_amplification_limit_is_bounded);
	tcase_add_test(tc, a_ten_megabyte_title_is_capped_at_max_field);
	tcase_add_test(tc, a_redirect_from_a_public_address_to_private_ones_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	SRunner *sr = srunner_create(hostile_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
