/*
 * test_notify_limits.c - every limit of the subscriber socket is hit:
 * clients, request line length, time to send sub, output per client,
 * stall time.  Real store, real loop, real UNIX sockets.
 */
#include "notify_harness.h"

static struct nh h;

static void start(void (*tweak)(struct notify_limits *l))
{
	struct notify_limits l;
	notify_limits_default(&l);
	tweak(&l);
	nh_start(&h, &l);
}

static void teardown(void)
{
	nh_stop(&h);
}

static int no_connections(struct nh *hh)
{
	return notify_connection_count(hh->n) == 0;
}

static int no_connections_but_one(struct nh *hh)
{
	return notify_connection_count(hh->n) == 1;
}

/* ---- max_clients ---- */

static void two_clients(struct notify_limits *l)
{
	l->max_clients = 2;
}

START_TEST(client_over_max_clients_gets_too_many_clients_then_close)
{
	start(two_clients);
	struct nh_client *a = nh_sub(&h, "{\"op\":\"sub\"}");
	struct nh_client *b = nh_connect(&h);
	nh_hello(&h, b);
	struct nh_client *c = nh_connect(&h);
	nh_expect_error(&h, c, "too_many_clients");
	nh_expect_eof(&h, c);
	nh_close(c);
	ck_assert_int_eq(notify_client_count(h.n), 2);
	nh_expect_live(&h, a, 0); /* the others are served as before */
	nh_close(b);
	nh_until(&h, no_connections_but_one);
	c = nh_connect(&h); /* a place is free again */
	nh_hello(&h, c);
	nh_close(c);
	nh_close(a);
}
END_TEST

START_TEST(lowering_max_clients_on_reload_keeps_connected_clients)
{
	start(two_clients);
	struct nh_client *a = nh_sub(&h, "{\"op\":\"sub\"}");
	struct nh_client *b = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, a, 0);
	nh_expect_live(&h, b, 0);
	struct notify_limits l = h.lim;
	l.max_clients = 1;
	notify_set_limits(h.n, &l);
	struct nh_client *c = nh_connect(&h);
	nh_expect_error(&h, c, "too_many_clients");
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 1);
	nh_expect_item(&h, a, 1);
	nh_expect_item(&h, b, 1);
	nh_close(a);
	nh_close(b);
	nh_close(c);
}
END_TEST

/* ---- max_line ---- */

static void short_lines(struct notify_limits *l)
{
	l->max_line = 100;
}

START_TEST(long_request_line_without_lf_gets_line_too_long_then_close)
{
	start(short_lines);
	struct nh_client *c = nh_connect(&h);
	char junk[300];
	memset(junk, 'x', sizeof junk - 1);
	junk[sizeof junk - 1] = 0;
	nh_hello(&h, c);
	nh_send(c, junk); /* no LF: the server must not wait for one */
	nh_expect_error(&h, c, "line_too_long");
	nh_expect_eof(&h, c);
	nh_close(c);
}
END_TEST

START_TEST(request_line_of_exactly_max_line_is_accepted)
{
	start(short_lines);
	struct nh_client *c = nh_connect(&h);
	char line[102];
	const char *req = "{\"op\":\"sub\"}";
	memset(line, ' ', 100);
	memcpy(line, req, strlen(req));
	line[100] = '\n';
	line[101] = 0;
	nh_hello(&h, c);
	nh_send(c, line);
	nh_expect_live(&h, c, 0);
	nh_close(c);
}
END_TEST

/* ---- sub_timeout ---- */

static void quick_sub(struct notify_limits *l)
{
	l->sub_timeout_ms = 100;
}

START_TEST(client_that_never_subscribes_is_closed_after_sub_timeout)
{
	start(quick_sub);
	struct nh_client *c = nh_connect(&h);
	nh_hello(&h, c);
	nh_expect_error(&h, c, "bad_request");
	nh_expect_eof(&h, c);
	nh_close(c);
	nh_until(&h, no_connections);
}
END_TEST

START_TEST(subscribed_client_outlives_sub_timeout)
{
	start(quick_sub);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	struct nh_client *d = nh_connect(&h); /* times out meanwhile */
	nh_hello(&h, d);
	nh_expect_error(&h, d, "bad_request");
	nh_expect_eof(&h, d);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 1);
	nh_expect_item(&h, c, 1);
	nh_close(c);
	nh_close(d);
}
END_TEST

/* ---- output limit ---- */

static void small_output(struct notify_limits *l)
{
	l->output_limit = 16 * 1024;
	l->replay_batch = 32;
}

/* The longest line one batch can add: items here serialize to < 512 bytes. */
#define LINE_MAX_BYTES 512

START_TEST(client_that_never_reads_holds_bounded_memory_and_later_gets_every_event)
{
	start(small_output);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	size_t bound = h.lim.output_limit + h.lim.replay_batch * LINE_MAX_BYTES;
	int64_t head = 0;
	for (int round = 0; round < 40; round++) { /* 8000 events, megabytes of JSON */
		head = nh_commit(&h, feed, 200);
		for (int spin = 0; spin < 20; spin++)
			nh_spin(&h);
		ck_assert_uint_le(notify_output_bytes_max(h.n), bound);
	}
	ck_assert_uint_gt(notify_output_bytes_max(h.n), 0); /* the limit was really reached */
	for (int64_t s = 1; s <= head; s++)
		nh_expect_item(&h, c, s);
	nh_commit(&h, feed, 1);
	nh_expect_item(&h, c, head + 1);
	nh_close(c);
}
END_TEST

START_TEST(slow_replay_of_a_long_backlog_stays_bounded_and_complete)
{
	start(small_output);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	int64_t head = 0;
	for (int round = 0; round < 10; round++)
		head = nh_commit(&h, feed, 500);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	size_t bound = h.lim.output_limit + h.lim.replay_batch * LINE_MAX_BYTES;
	for (int64_t s = 1; s <= head; s++) {
		nh_expect_item(&h, c, s);
		ck_assert_uint_le(notify_output_bytes_max(h.n), bound);
	}
	nh_expect_live(&h, c, head);
	nh_close(c);
}
END_TEST

START_TEST(lagging_client_overtaken_by_retention_gets_cursor_expired_not_a_gap)
{
	start(small_output);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	nh_commit(&h, feed, 3000); /* far more than the socket and the output limit hold */
	for (int spin = 0; spin < 20; spin++)
		nh_spin(&h);
	nh_commit(&h, feed, 3000);
	struct store_retention r = {.max_items_per_feed = 3000};
	ck_assert_int_eq(store_prune(h.store, &r, h.now + 100, NULL, NULL), STORE_OK);
	notify_forget(h.n); /* as the daemon does after a prune */
	int64_t next = 1;
	for (;;) {
		struct cjson v;
		nh_event(&h, c, &v);
		if (strcmp(nh_ev(&v), "item")) {
			ck_assert_str_eq(nh_ev(&v), "error");
			ck_assert_str_eq(cjson_get_str(&v, "code"), "cursor_expired");
			nh_event_free(&v);
			break;
		}
		char want[STORE_CURSOR_MAX];
		nh_cursor(&h, next++, want, sizeof want);
		ck_assert_str_eq(cjson_get_str(&v, "cursor"), want); /* no gap before the error */
		nh_event_free(&v);
	}
	ck_assert_int_lt(next, 3000);
	nh_expect_eof(&h, c);
	nh_close(c);
}
END_TEST

/* ---- stall timeout ---- */

static void quick_stall(struct notify_limits *l)
{
	l->output_limit = 16 * 1024;
	l->stall_timeout_ms = 200;
}

START_TEST(client_stalled_with_output_pending_is_disconnected)
{
	start(quick_stall);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	struct nh_client *d = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, d, 0);
	int64_t head = 0;
	double deadline = nh_clock() + NH_DEADLINE_S;
	for (int round = 0; notify_connection_count(h.n) > 1; round++) {
		if (round < 20) /* more than the socket buffers hold */
			head = nh_commit(&h, feed, 200);
		nh_spin(&h); /* d reads all along, c never */
		nh_pull(d);
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
		ck_assert(nh_clock() < deadline);
	}
	while (notify_output_bytes(h.n)) { /* the rest of d's backlog */
		nh_spin(&h);
		nh_pull(d);
		ck_assert(nh_clock() < deadline);
	}
	/* c was dropped (it may reconnect and resume by cursor); d got everything */
	ck_assert_int_eq(notify_client_count(h.n), 1);
	for (int64_t s = 1; s <= head; s++)
		nh_expect_item(&h, d, s);
	nh_close(c);
	nh_close(d);
}
END_TEST

/*
 * Stalled means the client took nothing for stall_timeout, not that its
 * socket did not become writable: a socket buffer sized to the output
 * limit becomes writable again only once three quarters of it drained,
 * which a slow reader may take far longer than stall_timeout to do.  Here
 * the reader takes 4 KiB every 10 ms, well inside a stall_timeout of 1 s
 * each time, for 3 s, while events keep coming faster than that (its
 * buffers stay full); it must stay connected and get every event in
 * order.  Once with output copied, once zero-copy.
 */
static void slow_reader_limits(struct notify_limits *l)
{
	l->output_limit = 1 << 20;
	l->stall_timeout_ms = 1000;
}

START_TEST(reader_that_keeps_taking_a_little_is_not_dropped_as_stalled)
{
	struct notify_limits l;
	notify_limits_default(&l);
	slow_reader_limits(&l);
	l.zero_copy = _i;
	nh_start(&h, &l);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	int64_t head = 0;
	double deadline = nh_clock() + NH_DEADLINE_S;
	while (notify_output_bytes(h.n) < l.output_limit / 2) { /* socket and queue full */
		head = nh_commit(&h, feed, 500);
		for (int i = 0; i < 20; i++)
			nh_spin(&h);
		ck_assert(nh_clock() < deadline);
	}
	double end = nh_clock() + 3;
	size_t took = 0;
	while (nh_clock() < end && notify_connection_count(h.n) == 1) {
		head = nh_commit(&h, feed, 100); /* more than it takes: its buffers stay full */
		took += nh_pull_max(c, 4096);    /* kept: the events are checked below */
		nh_spin(&h);
		struct timespec ms = {0, 10 * 1000000};
		nanosleep(&ms, NULL);
	}
	ck_assert_msg(notify_connection_count(h.n) == 1,
	              "dropped as stalled while it read (%zu bytes taken)", took);
	for (int64_t s = 1; s <= head; s++)
		nh_expect_item(&h, c, s);
	nh_close(c);
}
END_TEST

/*
 * Reloading the same limits does not start a stalled client's clock again:
 * reloads more frequent than stall_timeout must not keep it connected.
 * Reloads every 20 ms; stall_timeout is 200 ms; it is dropped well within
 * the 3 s given (15 stall times).
 */
START_TEST(reloads_do_not_keep_a_stalled_client_connected)
{
	start(quick_stall);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	for (int round = 0; round < 20; round++) { /* more than its buffers hold */
		nh_commit(&h, feed, 200);
		nh_spin(&h);
	}
	double end = nh_clock() + 3;
	while (notify_connection_count(h.n) && nh_clock() < end) {
		struct notify_limits same = h.lim;
		notify_set_limits(h.n, &same);
		nh_spin(&h);
		struct timespec ms = {0, 20 * 1000000};
		nanosleep(&ms, NULL);
	}
	ck_assert_int_eq(notify_connection_count(h.n), 0);
	nh_close(c);
}
END_TEST

/* A connection costs one descriptor until it subscribes (the pipe of
 * zero_copy is made at sub): idle or refused ones hold no pipe. */
START_TEST(connections_get_a_pipe_only_when_they_subscribe)
{
	nh_start(&h, NULL);
	int pipe_fds = nh_kernel_zero_copy() ? 2 : 0; /* no pipes where the kernel refuses */
	ck_assert(notify_zero_copy(h.n) == (pipe_fds != 0));
	int before = tu_open_fds();
	struct nh_client *c = nh_connect(&h), *d = nh_connect(&h);
	nh_hello(&h, c);
	nh_hello(&h, d);
	/* each: the test's end and the daemon's end of the socket */
	ck_assert_int_eq(tu_open_fds() - before, 2 * 2);
	nh_send(c, "{\"op\":\"sub\"}\n");
	nh_expect_live(&h, c, 0);
	ck_assert_int_eq(tu_open_fds() - before, 2 * 2 + pipe_fds); /* c's pipe */
	nh_close(c);
	nh_close(d);
}
END_TEST

/* ---- the kernel's buffers ---- */

static long wmem_max(void)
{
	long v = 0;
	FILE *f = fopen("/proc/sys/net/core/wmem_max", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld", &v), 1);
	fclose(f);
	return v;
}

/* Whether this process may force a socket buffer past net.core.wmem_max,
 * asked of the kernel: it wants CAP_NET_ADMIN in the initial user
 * namespace, and CapEff shows the capability inside any other too
 * (unshare -r, rootless containers), where SO_SNDBUFFORCE fails. */
static int may_force_buffers(void)
{
	int sv[2], v = 4096;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int ok = setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) == 0;
	close(sv[0]);
	close(sv[1]);
	return ok;
}

/* The send buffer of the daemon's end of c: the connected socket, other
 * than c's own, whose local name is the server's path. */
static int server_end_sndbuf(struct nh *hh, struct nh_client *c)
{
	int found = -1;
	for (int fd = 0; fd < 4096; fd++) {
		struct sockaddr_un a;
		socklen_t alen = sizeof a;
		int listening = 0, v = 0;
		socklen_t len = sizeof listening;
		if (fd == c->fd || getsockname(fd, (struct sockaddr *)&a, &alen) ||
		    a.sun_family != AF_UNIX || alen <= offsetof(struct sockaddr_un, sun_path) ||
		    strcmp(a.sun_path, hh->sock) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) || listening)
			continue;
		len = sizeof v;
		ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
		ck_assert_int_eq(found, -1); /* one subscriber: one such socket */
		found = v;
	}
	ck_assert_int_ne(found, -1);
	return found;
}

static void output_over_wmem_max(struct notify_limits *l)
{
	long w = wmem_max();
	l->output_limit = (size_t)(w < (128L << 20) ? 4 * w : (512L << 20));
}

/* A subscriber's socket buffer is asked for client_output_limit: where the
 * daemon may (CAP_NET_ADMIN, as root) it gets that even past
 * net.core.wmem_max, elsewhere what the kernel allows. */
START_TEST(subscriber_socket_buffer_is_the_output_limit_even_past_wmem_max_where_allowed)
{
	start(output_over_wmem_max);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	long want = (long)h.lim.output_limit;
	int got = server_end_sndbuf(&h, c); /* the kernel reports twice what was set */
	if (may_force_buffers())
		ck_assert_int_eq(got, 2 * want);
	else
		ck_assert_int_eq(got, 2 * wmem_max());
	nh_close(c);
}
END_TEST

/* ---- the cache of serialized lines: every size still delivers everything ---- */

/* The next item (the live marker, once, may come before it) has cursor seq. */
static void expect_item_after_live(struct nh_client *c, int64_t seq, int *live_seen)
{
	struct cjson v;
	char want[STORE_CURSOR_MAX];
	nh_event(&h, c, &v);
	if (!strcmp(nh_ev(&v), "live")) {
		ck_assert(!*live_seen);
		*live_seen = 1;
		nh_event_free(&v);
		nh_event(&h, c, &v);
	}
	ck_assert_str_eq(nh_ev(&v), "item");
	nh_cursor(&h, seq, want, sizeof want);
	ck_assert_str_eq(cjson_get_str(&v, "cursor"), want);
	nh_event_free(&v);
}

static const struct {
	size_t events, bytes, batch;
} cache_sizes[] = {
    {4096, 8u << 20, 256}, /* defaults */
    {8, 1024, 32},         /* fills bigger than the cache */
    {1, 1, 4},             /* no line fits: every read goes to the store */
    {64, 64 * 1024, 1},    /* one event per step */
};

START_TEST(every_cache_size_delivers_every_event_once_in_order)
{
	struct notify_limits l;
	notify_limits_default(&l);
	l.cache_events = cache_sizes[_i].events;
	l.cache_bytes = cache_sizes[_i].bytes;
	l.replay_batch = cache_sizes[_i].batch;
	nh_start(&h, &l);
	enum { NC = 4 };
	int64_t a = nh_feed(&h, "https://example.org/a.xml");
	int64_t b = nh_feed(&h, "https://example.org/b.xml");
	struct nh_client *c[NC];
	int64_t next[NC] = {0};
	nh_commit(&h, a, 40);
	c[0] = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	c[1] = nh_sub(&h, "{\"op\":\"sub\"}");
	c[2] = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\",\"feeds\":[2]}");
	c[3] = nh_sub(&h, "{\"op\":\"sub\",\"feeds\":[1]}");
	nh_expect_live(&h, c[1], 40); /* "from now on" starts when the sub is read */
	nh_expect_live(&h, c[3], 40);
	for (int round = 0; round < 6; round++) {
		nh_commit(&h, round % 2 ? b : a, 30);
		nh_spin(&h);
	}
	/* feed a: 1-40, 41-70, 101-130, 161-190; feed b: 71-100, 131-160, 191-220 */
	for (int i = 0; i < NC; i++) {
		int64_t s = i == 1 || i == 3 ? 40 : 0;
		int live = 0;
		for (;;) {
			s++;
			if (s > 220)
				break;
			int in_b = (s > 70 && s <= 100) || (s > 130 && s <= 160) || s > 190;
			if ((i == 2 && !in_b) || (i == 3 && in_b))
				continue;
			expect_item_after_live(c[i], s, &live);
			next[i] = s;
		}
		nh_close(c[i]);
	}
	ck_assert_int_eq(next[0], 220);
	ck_assert_int_eq(next[3], 190);
}
END_TEST

/* ---- event_cache ---- */

static void small_cache(struct notify_limits *l)
{
	l->cache_bytes = 64 * 1024;
	l->cache_events = 100000;
	l->replay_batch = 32;
	l->output_limit = 16 * 1024;
}

START_TEST(event_cache_never_holds_more_than_its_limit)
{
	start(small_cache);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	int64_t head = 0;
	for (int round = 0; round < 4; round++) /* ~600 KB of lines */
		head = nh_commit(&h, feed, 500);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	struct nh_client *d = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	size_t most = 0;
	for (int64_t s = 1; s <= head; s++) {
		nh_expect_item(&h, c, s);
		if (s % 2)
			nh_expect_item(&h, d, (s + 1) / 2);
		size_t now = notify_cache_bytes(h.n);
		ck_assert_uint_le(now, h.lim.cache_bytes);
		if (now > most)
			most = now;
	}
	for (int64_t s = head / 2 + 1; s <= head; s++)
		nh_expect_item(&h, d, s);
	ck_assert_uint_gt(most, h.lim.cache_bytes / 2); /* it was really used */
	nh_close(c);
	nh_close(d);
}
END_TEST

/* Lines of the events every reader passed, and the newest block. */
#define PASSED_BOUND(l, batch) ((l).cache_bytes / 4 + (batch)*LINE_MAX_BYTES)

START_TEST(event_cache_keeps_a_quarter_for_events_every_reader_passed)
{
	start(small_cache);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	for (int round = 0; round < 40; round++) { /* 800 events, ~240 KB of lines */
		int64_t last = nh_commit(&h, feed, 20);
		for (int64_t s = last - 19; s <= last; s++)
			nh_expect_item(&h, c, s);
		ck_assert_uint_le(notify_cache_bytes(h.n), PASSED_BOUND(h.lim, 20));
	}
	ck_assert_uint_gt(notify_cache_bytes(h.n), 0);
	nh_close(c);
}
END_TEST

static double wait_until;

static int waited(struct nh *hh)
{
	(void)hh;
	return nh_clock() >= wait_until;
}

START_TEST(subscriber_whose_output_never_drains_does_not_hold_the_event_cache)
{
	start(small_cache);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *stalled = nh_sub(&h, "{\"op\":\"sub\"}");
	struct nh_client *reader = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, reader, 0);
	int64_t last = 0;
	/* fill the socket buffer, then the daemon's output for the stalled one */
	for (int round = 0; round < 200 && notify_output_bytes_max(h.n) < h.lim.output_limit / 2;
	     round++) {
		last = nh_commit(&h, feed, 100);
		for (int64_t s = last - 99; s <= last; s++)
			nh_expect_item(&h, reader, s);
	}
	ck_assert_uint_ge(notify_output_bytes_max(h.n), h.lim.output_limit / 2);
	wait_until = nh_clock() + 1.2; /* longer than a subscriber may stall */
	nh_until(&h, waited);
	for (int round = 0; round < 40; round++) { /* ~240 KB of lines: past the limit */
		last = nh_commit(&h, feed, 20);
		for (int64_t s = last - 19; s <= last; s++)
			nh_expect_item(&h, reader, s);
		ck_assert_uint_le(notify_cache_bytes(h.n), PASSED_BOUND(h.lim, 20));
	}
	/* and when it reads again it loses nothing */
	int live = 0;
	for (int64_t s = 1; s <= last; s++)
		expect_item_after_live(stalled, s, &live);
	nh_close(stalled);
	nh_close(reader);
}
END_TEST

static void defaults(struct notify_limits *l)
{
	(void)l;
}

START_TEST(reload_with_other_cache_and_batch_sizes_loses_nothing)
{
	start(defaults);
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	nh_commit(&h, feed, 100);
	for (int64_t s = 1; s <= 50; s++)
		nh_expect_item(&h, c, s);
	struct notify_limits l = h.lim;
	l.cache_events = 7;
	l.cache_bytes = 3000;
	l.replay_batch = 3;
	notify_set_limits(h.n, &l);
	nh_commit(&h, feed, 100);
	int live = 0;
	for (int64_t s = 51; s <= 200; s++) {
		struct cjson v;
		char want[STORE_CURSOR_MAX];
		nh_event(&h, c, &v);
		if (!strcmp(nh_ev(&v), "live") && !live++) {
			nh_event_free(&v);
			nh_event(&h, c, &v);
		}
		nh_cursor(&h, s, want, sizeof want);
		ck_assert_str_eq(cjson_get_str(&v, "cursor"), want);
		nh_event_free(&v);
	}
	nh_close(c);
}
END_TEST

/* ---- pack_wait_ms: replaying subscribers move as a pack ---- */

static void pack(struct notify_limits *l)
{
	l->output_limit = 64 << 10;
	l->replay_batch = 64;
	l->pack_wait_ms = 60 * 1000; /* the slow reader below never outwaits it */
}

static void pack_short_wait(struct notify_limits *l)
{
	pack(l);
	l->pack_wait_ms = 50;
}

/* Lines read so far (counted from *scanned on; the bytes are kept). */
static size_t lines_read(struct nh_client *c, size_t *scanned, size_t *lines)
{
	for (size_t i = *scanned; i < c->len; i++)
		*lines += c->buf[i] == '\n';
	*scanned = c->len;
	return *lines;
}

struct pack_reader {
	struct nh_client *c;
	size_t scanned, lines;
};

/* One turn: the loop runs, slow takes at most slow_bytes, fast all it can. */
static void pack_turn(struct pack_reader *slow, size_t slow_bytes, struct pack_reader *fast)
{
	nh_spin(&h);
	nh_pull_max(slow->c, slow_bytes);
	while (nh_pull(fast->c))
		;
	lines_read(slow->c, &slow->scanned, &slow->lines);
	lines_read(fast->c, &fast->scanned, &fast->lines);
}

/* Both got every item from 1 to head, then live. */
static void pack_expect_all(struct pack_reader *r, size_t n, int64_t head)
{
	for (size_t i = 0; i < n; i++) {
		double deadline = nh_clock() + NH_DEADLINE_S;
		while (r[i].lines < (size_t)head + 1) {
			nh_spin(&h);
			nh_pull(r[i].c);
			lines_read(r[i].c, &r[i].scanned, &r[i].lines);
			ck_assert(nh_clock() < deadline);
		}
		for (int64_t s = 1; s <= head; s++)
			nh_expect_item(&h, r[i].c, s);
		nh_expect_live(&h, r[i].c, head);
		nh_close(r[i].c);
	}
}

static void pause_ms(long ms)
{
	struct timespec t = {0, ms * 1000000};
	nanosleep(&t, NULL);
}

#define PACK_SUB_OLDEST "{\"op\":\"sub\",\"after\":\"oldest\"}"

/* 6000 stored events of one feed (*feed, when asked); returns the head. */
static int64_t pack_backlog(int64_t *feed)
{
	int64_t f = nh_feed(&h, "https://example.org/a.xml"), head = 0;
	for (int i = 0; i < 6; i++)
		head = nh_commit(&h, f, 1000);
	if (feed)
		*feed = f;
	return head;
}

/* A subscriber replaying the events after seq. */
static struct nh_client *pack_sub_after(int64_t seq)
{
	char req[256], cur[STORE_CURSOR_MAX];
	nh_cursor(&h, seq, cur, sizeof cur);
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s\"}", cur);
	return nh_sub(&h, req);
}

/* Turns (see pack_turn) until fast has until lines; nobody waits meanwhile. */
static void pack_run_nobody_waits(struct pack_reader *slow, size_t slow_bytes,
                                  struct pack_reader *fast, size_t until)
{
	double deadline = nh_clock() + NH_DEADLINE_S;
	while (fast->lines < until) {
		pack_turn(slow, slow_bytes, fast);
		ck_assert_uint_eq(notify_waiting_count(h.n), 0);
		ck_assert(nh_clock() < deadline);
	}
}

/*
 * Two subscribers replay 6000 events (about 1.7 MB) from oldest; one
 * takes 16 KiB a turn, the other all it can.  The fast one waits for the
 * slow one: it is never more than a replay batch, the slow one's output
 * (64 KiB queued, its pipe and socket buffer) and a batch of slack ahead,
 * some 1100 events; unpaced, it would have everything at once.
 */
START_TEST(replaying_subscriber_waits_for_the_slowest_of_its_pack)
{
	start(pack);
	int64_t head = pack_backlog(NULL);
	struct pack_reader r[2] = {{nh_sub(&h, PACK_SUB_OLDEST), 0, 0},
	                           {nh_sub(&h, PACK_SUB_OLDEST), 0, 0}};
	size_t lead = 0, waiting = 0;
	double deadline = nh_clock() + NH_DEADLINE_S;
	while (r[0].lines < (size_t)head + 1) {
		pack_turn(&r[0], 16 << 10, &r[1]);
		if (r[1].lines > r[0].lines && r[1].lines - r[0].lines > lead)
			lead = r[1].lines - r[0].lines;
		if (notify_waiting_count(h.n) > waiting)
			waiting = notify_waiting_count(h.n);
		ck_assert(nh_clock() < deadline);
	}
	ck_assert_msg(lead <= (size_t)head / 3, "the fast reader ran %zu events ahead", lead);
	ck_assert_uint_eq(waiting, 1); /* the fast one, seen waiting (the metric) */
	ck_assert_uint_eq(notify_waiting_count(h.n), 0);
	pack_expect_all(r, 2, head);
}
END_TEST

/*
 * The same, but the slow one takes 4 KiB a millisecond, and the others
 * wait for it 50 ms at most: then it replays at its own pace, and the fast
 * one has everything while the slow one has read less than half.
 */
START_TEST(subscriber_slow_by_itself_leaves_the_pack_after_pack_wait)
{
	start(pack_short_wait);
	int64_t head = pack_backlog(NULL);
	struct pack_reader r[2] = {{nh_sub(&h, PACK_SUB_OLDEST), 0, 0},
	                           {nh_sub(&h, PACK_SUB_OLDEST), 0, 0}};
	double deadline = nh_clock() + NH_DEADLINE_S;
	while (r[1].lines < (size_t)head + 1) {
		pack_turn(&r[0], 4 << 10, &r[1]);
		pause_ms(1);
		ck_assert(nh_clock() < deadline);
	}
	ck_assert_msg(r[0].lines < (size_t)head / 2, "the fast reader waited: the slow one had %zu",
	              r[0].lines);
	pack_expect_all(r, 2, head);
}
END_TEST

/*
 * A live subscriber never waits for a replaying one: a batch of three
 * replay batches committed at once reaches it while the replaying reader
 * (taking 4 KiB a turn, with the others allowed to wait a minute for it)
 * has read less than half of its backlog.
 */
START_TEST(live_subscriber_never_waits_for_a_replaying_one)
{
	start(pack);
	int64_t feed, head = pack_backlog(&feed);
	struct pack_reader r[2] = {{nh_sub(&h, PACK_SUB_OLDEST), 0, 0},
	                           {nh_sub(&h, "{\"op\":\"sub\"}"), 0, 0}};
	nh_expect_live(&h, r[1].c, head);
	int64_t old = head;
	head = nh_commit(&h, feed, 3 * (int)h.lim.replay_batch);
	double deadline = nh_clock() + NH_DEADLINE_S;
	while (r[1].lines < (size_t)(head - old)) {
		pack_turn(&r[0], 4 << 10, &r[1]);
		ck_assert(nh_clock() < deadline);
	}
	ck_assert_msg(r[0].lines < (size_t)old / 2, "the live reader waited: the slow one had %zu",
	              r[0].lines);
	for (int64_t s = old + 1; s <= head; s++)
		nh_expect_item(&h, r[1].c, s);
	nh_close(r[1].c);
	pack_expect_all(r, 1, head);
}
END_TEST

/*
 * Held clients must go on when the pack's slowest leaves it, without
 * waiting for pack_wait: here it is ten minutes and there is no heartbeat,
 * so only the pack's own events (and the check for stalled ones every
 * 100 ms) can let the held one go.  A subscribes from oldest and reads
 * nothing (the pack's slowest until it stalls); B subscribes after 400,
 * ahead of A by more than a replay batch and less than 8, and waits with
 * nothing queued (checked: the loop must not be so slow that A already
 * counts as stalled when B subscribes).
 */
static void pack_event_driven(struct notify_limits *l)
{
	pack(l);
	l->pack_wait_ms = 10 * 60 * 1000;
	l->stall_timeout_ms = 10 * 60 * 1000; /* A is not dropped meanwhile */
	l->heartbeat_ms = 0;
	/* A's queue, pipe and socket hold a few batches of 64 events (about
	 * 18 KiB each): it stops between 64 and 512 events behind B */
	l->output_limit = 4096;
	l->replay_batch = 64;
}

static struct nh_client *pack_held_ahead(int64_t *head, struct nh_client **slow)
{
	*head = pack_backlog(NULL);
	*slow = nh_sub(&h, PACK_SUB_OLDEST);
	nh_spin(&h); /* A queues up to its output limit and stops there */
	struct nh_client *b = pack_sub_after(400);
	for (int i = 0; i < 10; i++) { /* A's buffers fill up: it stops moving */
		nh_spin(&h);
		pause_ms(2);
	}
	ck_assert_uint_eq(notify_waiting_count(h.n), 1); /* B: held behind A */
	return b;
}

START_TEST(held_subscriber_goes_on_when_the_slowest_of_its_pack_disconnects)
{
	start(pack_event_driven);
	int64_t head = 0;
	struct nh_client *a, *b = pack_held_ahead(&head, &a);
	nh_close(a);
	for (int64_t s = 401; s <= head; s++)
		nh_expect_item(&h, b, s);
	nh_expect_live(&h, b, head);
	nh_close(b);
}
END_TEST

/* The same, but A stays connected and never reads: once it counts as
 * stalled (NOTIFY_STALLED_MS), it is not waited for. */
START_TEST(held_subscriber_goes_on_when_the_slowest_of_its_pack_stalls)
{
	start(pack_event_driven);
	int64_t head = 0;
	struct nh_client *a, *b = pack_held_ahead(&head, &a);
	for (int64_t s = 401; s <= head; s++)
		nh_expect_item(&h, b, s);
	nh_expect_live(&h, b, head);
	nh_close(b);
	nh_close(a);
}
END_TEST

/*
 * A subscriber far behind (more than 8 replay batches: one resuming from
 * an old cursor) holds nobody up: A replays from 3000, C from oldest
 * taking 4 KiB a turn, and A (which would wait ten minutes for C, were C
 * in its pack) never waits and gets everything while C is still far
 * behind.
 */
START_TEST(subscriber_far_behind_does_not_hold_the_pack)
{
	start(pack_event_driven);
	int64_t head = pack_backlog(NULL);
	struct pack_reader r[2] = {{nh_sub(&h, PACK_SUB_OLDEST), 0, 0},
	                           {pack_sub_after(3000), 0, 0}};
	pack_run_nobody_waits(&r[0], 4 << 10, &r[1], (size_t)(head - 3000) + 1);
	ck_assert_uint_lt(r[0].lines, 3000);
	for (int64_t s = 3001; s <= head; s++)
		nh_expect_item(&h, r[1].c, s);
	nh_expect_live(&h, r[1].c, head);
	nh_close(r[1].c);
	pack_expect_all(r, 1, head);
}
END_TEST

/*
 * Packs are formed only where at most 1024 subscribers may connect
 * (max_clients): each waiting client looks at every other one.  The same
 * readers as in replaying_subscriber_waits_for_the_slowest_of_its_pack,
 * with max_clients 1025: nobody waits.
 */
static void pack_many_clients(struct notify_limits *l)
{
	pack(l);
	l->max_clients = 1025;
}

START_TEST(no_packs_where_more_than_1024_subscribers_may_connect)
{
	start(pack_many_clients);
	int64_t head = pack_backlog(NULL);
	struct pack_reader r[2] = {{nh_sub(&h, PACK_SUB_OLDEST), 0, 0},
	                           {nh_sub(&h, PACK_SUB_OLDEST), 0, 0}};
	pack_run_nobody_waits(&r[0], 16 << 10, &r[1], (size_t)head + 1);
	pack_expect_all(r, 2, head);
}
END_TEST

/*
 * A subscriber with a feed filter is in no pack (its lines are copies:
 * nothing to share): B replays everything and never waits for A, which
 * filters on the one feed and takes 4 KiB a turn.
 */
START_TEST(subscriber_with_a_feed_filter_holds_nobody_up)
{
	start(pack_event_driven);
	char req[256];
	int64_t feed, head = pack_backlog(&feed);
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"oldest\",\"feeds\":[%" PRId64 "]}",
	         feed);
	struct pack_reader r[2] = {{nh_sub(&h, req), 0, 0}, {nh_sub(&h, PACK_SUB_OLDEST), 0, 0}};
	pack_run_nobody_waits(&r[0], 4 << 10, &r[1], (size_t)head + 1);
	ck_assert_uint_lt(r[0].lines, (size_t)head / 2);
	pack_expect_all(r, 2, head);
}
END_TEST

static Suite *limits_suite(void)
{
	Suite *s = suite_create("notify_limits");
	TCase *tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, client_over_max_clients_gets_too_many_clients_then_close);
	tcase_add_test(tc, lowering_max_clients_on_reload_keeps_connected_clients);
	tcase_add_test(tc, long_request_line_without_lf_gets_line_too_long_then_close);
	tcase_add_test(tc, request_line_of_exactly_max_line_is_accepted);
	tcase_add_test(tc, client_that_never_subscribes_is_closed_after_sub_timeout);
	tcase_add_test(tc, subscribed_client_outlives_sub_timeout);
	tcase_add_test(tc, client_that_never_reads_holds_bounded_memory_and_later_gets_every_event);
	tcase_add_test(tc, slow_replay_of_a_long_backlog_stays_bounded_and_complete);
	tcase_add_test(tc, client_stalled_with_output_pending_is_disconnected);
	tcase_add_loop_test(tc, reader_that_keeps_taking_a_little_is_not_dropped_as_stalled, 0, 2);
	tcase_add_test(tc, reloads_do_not_keep_a_stalled_client_connected);
	tcase_add_test(tc, connections_get_a_pipe_only_when_they_subscribe);
	tcase_add_test(tc, replaying_subscriber_waits_for_the_slowest_of_its_pack);
	tcase_add_test(tc, subscriber_slow_by_itself_leaves_the_pack_after_pack_wait);
	tcase_add_test(tc, live_subscriber_never_waits_for_a_replaying_one);
	tcase_add_test(tc, held_subscriber_goes_on_when_the_slowest_of_its_pack_disconnects);
	tcase_add_test(tc, held_subscriber_goes_on_when_the_slowest_of_its_pack_stalls);
	tcase_add_test(tc, subscriber_far_behind_does_not_hold_the_pack);
	tcase_add_test(tc, no_packs_where_more_than_1024_subscribers_may_connect);
	tcase_add_test(tc, subscriber_with_a_feed_filter_holds_nobody_up);
	tcase_add_test(tc, subscriber_socket_buffer_is_the_output_limit_even_past_wmem_max_where_allowed);
	tcase_add_test(tc, reload_with_other_cache_and_batch_sizes_loses_nothing);
	tcase_add_test(tc, event_cache_never_holds_more_than_its_limit);
	tcase_add_test(tc, event_cache_keeps_a_quarter_for_events_every_reader_passed);
	tcase_add_test(tc, subscriber_whose_output_never_drains_does_not_hold_the_event_cache);
	tcase_add_test(tc, lagging_client_overtaken_by_retention_gets_cursor_expired_not_a_gap);
	tcase_add_loop_test(tc, every_cache_size_delivers_every_event_once_in_order, 0,
	                    (int)(sizeof cache_sizes / sizeof cache_sizes[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(limits_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
