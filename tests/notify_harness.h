/*
 * notify_harness.h - what the notify tests share: a real store in a
 * temporary directory, a real event_base with the notify server listening
 * on a real UNIX socket, and clients that are real sockets read without
 * blocking while the test drives the loop.
 *
 * Waiting never asserts on time: a helper drives the loop until what it
 * waits for happened, with a generous deadline that only exists so that a
 * broken build fails instead of hanging.
 */
#ifndef FEEDD_NOTIFY_HARNESS_H
#define FEEDD_NOTIFY_HARNESS_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common_json.h"
#include "notify.h"
#include "store.h"
#include "testutil.h"

#define NH_DEADLINE_S 60

struct nh {
	char *dir;
	char db[4096];
	char sock[4096];
	struct store *store;
	struct event_base *base;
	struct notify *n;
	struct notify_limits lim;
	int64_t now;
	int items; /* items made so far (item ids are unique) */
};

struct nh_client {
	int fd;
	char *buf;
	size_t len, cap;
	int eof;
};

static inline double nh_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void nh_log(void *ud, int prio, const char *msg)
{
	(void)ud;
	if (getenv("NH_LOG"))
		fprintf(stderr, "<%d>notify: %s\n", prio, msg);
}

/* Opens the store and a notify server with lim (NULL: defaults). */
static inline void nh_start(struct nh *h, const struct notify_limits *lim)
{
	char err[256];
	memset(h, 0, sizeof *h);
	signal(SIGPIPE, SIG_IGN); /* as the daemon does */
	/* a real SQLite file, on tmpfs when the caller did not choose: the
	 * tests are about sockets, not about fsync on a loaded disk */
	if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 0);
	h->dir = tu_tmpdir();
	snprintf(h->db, sizeof h->db, "%s/feedd.db", h->dir);
	snprintf(h->sock, sizeof h->sock, "%s/sub.sock", h->dir);
	ck_assert_int_eq(store_open(h->db, NULL, &h->store), STORE_OK);
	h->base = event_base_new();
	ck_assert_ptr_nonnull(h->base);
	if (lim)
		h->lim = *lim;
	else
		notify_limits_default(&h->lim);
	h->n = notify_new(h->base, h->store, &h->lim, nh_log, NULL);
	ck_assert_ptr_nonnull(h->n);
	ck_assert_msg(notify_listen_path(h->n, h->sock, 0660, err, sizeof err) == 0, "%s", err);
	h->now = 1700000000;
}

/*
 * Whether this kernel and sandbox let a page go by reference into a pipe
 * (vmsplice) and from there into a UNIX socket (splice): the tests' own
 * check, to compare with notify_zero_copy().
 */
static inline int nh_kernel_zero_copy(void)
{
	int p[2], sv[2], ok = 0;
	static char page[4096] __attribute__((aligned(4096))) = "z";
	char back = 0;
	struct iovec v = {page, 1};
	if (pipe(p))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
		ok = vmsplice(p[1], &v, 1, 0) == 1 && splice(p[0], NULL, sv[0], NULL, 1, 0) == 1 &&
		     read(sv[1], &back, 1) == 1 && back == 'z';
		close(sv[0]);
		close(sv[1]);
	}
	close(p[0]);
	close(p[1]);
	return ok;
}

static inline void nh_stop(struct nh *h)
{
	notify_free(h->n);
	event_base_free(h->base);
	store_close(h->store);
	tu_rmtree(h->dir);
	free(h->dir);
}

/* Runs whatever the loop has ready (and a little more). */
static inline void nh_spin(struct nh *h)
{
	event_base_loop(h->base, EVLOOP_NONBLOCK);
}

static inline int64_t nh_feed(struct nh *h, const char *url)
{
	struct store_feed_new nf = {.url = url};
	int64_t id = 0;
	ck_assert_int_eq(store_feed_add(h->store, &nf, h->now, &id), STORE_OK);
	return id;
}

/*
 * Commits count new items to feed (one batch) and announces them.
 * Returns the last seq.
 */
static inline int64_t nh_commit(struct nh *h, int64_t feed, int count)
{
	struct store_batch *b;
	int64_t first = 0, last = 0;
	h->now += 10;
	ck_assert_int_eq(store_batch_begin(h->store, feed, h->now, &b), STORE_OK);
	for (int i = 0; i < count; i++) {
		char id[64], title[64], link[96];
		int k = ++h->items;
		snprintf(id, sizeof id, "item-%d", k);
		snprintf(title, sizeof title, "Item %d", k);
		snprintf(link, sizeof link, "https://example.org/%d", k);
		struct feed_item it = {.id = id,
		                       .title = title,
		                       .link = link,
		                       .published = FEED_NO_DATE,
		                       .updated = FEED_NO_DATE};
		ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
	}
	ck_assert_int_eq(store_batch_commit(b, NULL, NULL, &first, &last), STORE_OK);
	notify_committed(h->n, first, last);
	return last;
}

static inline void nh_cursor(struct nh *h, int64_t seq, char *buf, size_t len)
{
	store_cursor_format(buf, len, store_epoch(h->store), seq);
}

/* ---------------------------------------------------------------- clients */

static inline void nh_sun(struct sockaddr_un *sa, const char *path)
{
	ck_assert_uint_lt(strlen(path), sizeof sa->sun_path);
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

static inline struct nh_client *nh_connect_path(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct nh_client *c = calloc(1, sizeof *c);
	ck_assert_ptr_nonnull(c);
	nh_sun(&sa, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(c->fd, 0);
	ck_assert_msg(connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect: %s",
	              strerror(errno));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return c;
}

static inline struct nh_client *nh_connect(struct nh *h)
{
	struct nh_client *c = nh_connect_path(h->sock);
	nh_spin(h); /* accept */
	return c;
}

static inline void nh_close(struct nh_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

static inline void nh_send(struct nh_client *c, const char *text)
{
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(c->fd, text + off, len - off);
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {c->fd, POLLOUT, 0};
			poll(&p, 1, 10);
			continue;
		}
		ck_assert_msg(w > 0, "write: %s", strerror(errno));
		off += (size_t)w;
	}
}

/* Reads what is available, max bytes at most.  Returns the bytes read (0
 * at EOF or when none). */
static inline size_t nh_pull_max(struct nh_client *c, size_t max)
{
	if (c->eof)
		return 0;
	if (c->cap - c->len < max + 1) {
		c->cap = (c->cap + max + 1) * 2;
		c->buf = realloc(c->buf, c->cap);
		ck_assert_ptr_nonnull(c->buf);
	}
	ssize_t r = read(c->fd, c->buf + c->len, max);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		c->eof = 1;
	if (r <= 0)
		return 0;
	c->len += (size_t)r;
	return (size_t)r;
}

static inline size_t nh_pull(struct nh_client *c)
{
	return nh_pull_max(c, 65536);
}

/* The next line (malloc'd, without LF), driving the loop; NULL at EOF. */
static inline char *nh_line(struct nh *h, struct nh_client *c)
{
	double deadline = nh_clock() + NH_DEADLINE_S;
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			char *line = strndup(c->buf, n);
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		if (c->eof)
			return NULL;
		nh_spin(h);
		if (!nh_pull(c) && !c->eof) {
			struct pollfd p = {c->fd, POLLIN, 0};
			poll(&p, 1, 2);
		}
		ck_assert_msg(nh_clock() < deadline, "no line within %d s", NH_DEADLINE_S);
	}
}

/* The next line parsed (free with cjson_free); fails the test at EOF. */
static inline void nh_event(struct nh *h, struct nh_client *c, struct cjson *v)
{
	char err[128];
	char *line = nh_line(h, c);
	ck_assert_msg(line != NULL, "EOF where an event was expected");
	ck_assert_msg(cjson_parse(line, strlen(line), v, err, sizeof err) == 0, "%s: %s", err,
	              line);
	/* raw spans point into line: keep it alive with the value */
	v->raw = line;
}

static inline void nh_event_free(struct cjson *v)
{
	char *line = (char *)v->raw;
	cjson_free(v);
	free(line);
}

static inline const char *nh_ev(const struct cjson *v)
{
	const char *ev = cjson_get_str(v, "ev");
	ck_assert_ptr_nonnull(ev);
	return ev;
}

/* Expects {"ev":"error","code":code}. */
static inline void nh_expect_error(struct nh *h, struct nh_client *c, const char *code)
{
	struct cjson v;
	nh_event(h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "error");
	ck_assert_str_eq(cjson_get_str(&v, "code"), code);
	ck_assert_ptr_nonnull(cjson_get_str(&v, "message"));
	nh_event_free(&v);
}

/* Expects the connection to be closed by the server (after what is pending). */
static inline void nh_expect_eof(struct nh *h, struct nh_client *c)
{
	char *line = nh_line(h, c);
	ck_assert_msg(line == NULL, "expected EOF, got %s", line ? line : "");
}

/* Expects an item event with cursor seq; returns nothing. */
static inline void nh_expect_item(struct nh *h, struct nh_client *c, int64_t seq)
{
	struct cjson v;
	char want[STORE_CURSOR_MAX];
	nh_event(h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "item");
	nh_cursor(h, seq, want, sizeof want);
	ck_assert_str_eq(cjson_get_str(&v, "cursor"), want);
	nh_event_free(&v);
}

static inline void nh_expect_live(struct nh *h, struct nh_client *c, int64_t head)
{
	struct cjson v;
	char want[STORE_CURSOR_MAX];
	nh_event(h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "live");
	nh_cursor(h, head, want, sizeof want);
	ck_assert_str_eq(cjson_get_str(&v, "head"), want);
	nh_event_free(&v);
}

/* Skips the hello line. */
static inline void nh_hello(struct nh *h, struct nh_client *c)
{
	struct cjson v;
	nh_event(h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "hello");
	nh_event_free(&v);
}

/* Connects, reads hello, sends a sub request (text without LF). */
static inline struct nh_client *nh_sub(struct nh *h, const char *req)
{
	struct nh_client *c = nh_connect(h);
	char line[1024];
	nh_hello(h, c);
	snprintf(line, sizeof line, "%s\n", req);
	nh_send(c, line);
	return c;
}

/* Drives the loop until cond(h) holds. */
static inline void nh_until(struct nh *h, int (*cond)(struct nh *h))
{
	double deadline = nh_clock() + NH_DEADLINE_S;
	while (!cond(h)) {
		event_base_loop(h->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
		ck_assert_msg(nh_clock() < deadline, "condition not met within %d s",
		              NH_DEADLINE_S);
	}
}

#endif
