/*
 * test_crash.c - crash consistency of the real daemon.
 *
 * An in-process HTTP server (tests/httpd.c, in a thread) publishes new
 * items continuously on CRASH_FEEDS feeds.  The real `feedd` polls them
 * every second and is killed with SIGKILL at a random moment, then
 * restarted, CRASH_ROUNDS times.  A subscriber that persists its cursor
 * after each event (here: a variable the SIGKILL cannot touch) reconnects
 * to every new daemon with "after" that cursor.  At the end one more
 * daemon runs until the subscriber has caught up ("live"), then:
 *
 *  - PRAGMA integrity_check is ok;
 *  - every event committed after the subscriber's starting cursor (0)
 *    reached it;
 *  - within a connection, cursors strictly increase;
 *  - no item is stored twice (one "new" event per guid; items are never
 *    changed by the publisher, so there are no updates);
 *
 * and the counts (committed, delivered, duplicates delivered) are printed.
 * Delivery is at-least-once, so duplicates across connections are allowed
 * and only counted.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"
#include "store.h"
#include "testutil.h"

#define CRASH_ROUNDS 100
#define CRASH_FEEDS 3
#define CRASH_WINDOW 20 /* items per document */

static char *dir;
static char db[600], conf[600], ctl[100], sub[100], logpath[600];
static pid_t pid;

/* ---- the publishing server ---- */

static struct event_base *base;
static struct httpd *srv;
static volatile int srv_stop;
static unsigned gen[CRASH_FEEDS];
static unsigned rnd = 12345;

static unsigned crash_rand(void)
{
	rnd = rnd * 1103515245u + 12345u;
	return rnd >> 8;
}

static void publish(int k)
{
	static char doc[CRASH_WINDOW * 200 + 256];
	char path[16];
	char *p = doc;
	gen[k]++;
	p += sprintf(p, "<rss version=\"2.0\"><channel><title>Feed %d</title>", k);
	for (unsigned i = gen[k]; i > 0 && i + CRASH_WINDOW > gen[k]; i--)
		p += sprintf(p,
		             "<item><guid>f%d-%u</guid><title>item %u of feed %d</title>"
		             "<description>published as number %u</description></item>",
		             k, i, i, k, i);
	sprintf(p, "</channel></rss>");
	snprintf(path, sizeof path, "/f%d", k);
	struct httpd_route r = {.path = path, .body = doc};
	httpd_route(srv, &r);
}

static void srv_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (srv_stop)
		event_base_loopbreak(base);
	publish((int)(crash_rand() % CRASH_FEEDS));
}

static void *srv_thread(void *arg)
{
	struct event *t = event_new(base, -1, EV_PERSIST, srv_tick, NULL);
	struct timeval tv = {0, 30000};
	(void)arg;
	event_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
	return NULL;
}

/* ---- the daemon ---- */

static void pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void spawn(void)
{
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0), dup2(nul, 1), dup2(fd, 2);
		execl(FEEDD_BIN, FEEDD_BIN, "run", "--config", conf, "--db", db, "--socket", sub,
		      "--control-socket", ctl, (char *)NULL);
		_exit(127);
	}
}

/* Connects to the subscriber socket of the daemon just started. */
static int connect_sub(void)
{
	for (;;) {
		int st;
		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "feedd exited during start-up: %s",
		              tu_read_file(logpath, NULL));
		int fd = connect_to(sub);
		if (fd >= 0)
			return fd;
		pause_ms(5);
	}
}

static void kill_daemon(void)
{
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	pid = 0;
}

/* ---- the subscriber ---- */

static char epoch[40];
static int64_t cursor;      /* persisted after each event */
static unsigned char *seen; /* seen[seq]: delivered at least once */
static size_t seen_cap;
static size_t delivered, duplicates, connections;

struct conn {
	int fd;
	char buf[1 << 16];
	size_t len;
	int64_t last; /* last cursor on this connection */
	bool live;
};

static void mark_seen(int64_t seq)
{
	if ((size_t)seq >= seen_cap) {
		size_t n = ((size_t)seq + 1) * 2;
		seen = realloc(seen, n);
		ck_assert_ptr_nonnull(seen);
		memset(seen + seen_cap, 0, n - seen_cap);
		seen_cap = n;
	}
	if (seen[seq])
		duplicates++;
	seen[seq] = 1;
	delivered++;
}

static void handle_line(struct conn *c, const char *line)
{
	const char *p;
	if ((p = strstr(line, "\"ev\":\"hello\""))) {
		const char *e = strstr(line, "\"epoch\":\"");
		ck_assert_ptr_nonnull(e);
		e += 9;
		if (!epoch[0])
			snprintf(epoch, sizeof epoch, "%.32s", e);
		ck_assert_msg(!strncmp(epoch, e, 32), "the epoch changed: %s", line);
		char req[128];
		int n = snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s:%lld\"}\n", epoch,
		                 (long long)cursor);
		ck_assert_int_eq(write(c->fd, req, (size_t)n), n);
		return;
	}
	if (strstr(line, "\"ev\":\"live\"")) {
		c->live = true;
		return;
	}
	if (strstr(line, "\"ev\":\"error\""))
		ck_abort_msg("the daemon refused the subscriber: %s", line);
	if (!strstr(line, "\"ev\":\"item\""))
		return;
	p = strstr(line, "\"cursor\":\"");
	ck_assert_ptr_nonnull(p);
	p += 10;
	ck_assert_msg(!strncmp(p, epoch, 32) && p[32] == ':', "%s", line);
	int64_t seq = strtoll(p + 33, NULL, 10);
	ck_assert_msg(seq > c->last, "cursor %lld after %lld on one connection", (long long)seq,
	              (long long)c->last);
	c->last = seq;
	mark_seen(seq);
	cursor = seq; /* persisted */
}

/* Reads what is there (waiting up to ms); false at EOF or error. */
static bool conn_read(struct conn *c, int ms)
{
	struct pollfd pfd = {c->fd, POLLIN, 0};
	int r = poll(&pfd, 1, ms);
	if (r <= 0)
		return r == 0 || errno == EINTR;
	ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len - 1);
	if (n <= 0)
		return n < 0 && errno == EINTR;
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	char *start = c->buf, *nl;
	while ((nl = memchr(start, '\n', c->len - (size_t)(start - c->buf)))) {
		*nl = 0;
		handle_line(c, start);
		start = nl + 1;
	}
	c->len -= (size_t)(start - c->buf);
	memmove(c->buf, start, c->len);
	ck_assert_uint_lt(c->len, sizeof c->buf - 1); /* no line is that long */
	return true;
}

/* ---- checks on the store ---- */

struct tally {
	size_t committed, missing, not_new;
	char **keys;
	size_t nkeys, capkeys;
};

static int tally_event(void *ud, const struct store_event *ev)
{
	struct tally *t = ud;
	t->committed++;
	if ((size_t)ev->seq >= seen_cap || !seen[ev->seq])
		t->missing++;
	if (ev->kind != STORE_EV_NEW)
		t->not_new++;
	if (t->nkeys == t->capkeys) {
		t->capkeys = t->capkeys ? t->capkeys * 2 : 1024;
		t->keys = realloc(t->keys, t->capkeys * sizeof *t->keys);
		ck_assert_ptr_nonnull(t->keys);
	}
	ck_assert_ptr_nonnull(ev->item->id);
	char *k = NULL;
	ck_assert_int_ge(asprintf(&k, "%lld/%s", (long long)ev->feed_id, ev->item->id), 0);
	t->keys[t->nkeys++] = k;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void assert_integrity(void)
{
	sqlite3 *h;
	sqlite3_stmt *q;
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	sqlite3_close(h);
}

/* ---- the test ---- */

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	dir = tu_tmpdir();
	snprintf(db, sizeof db, "%s/feedd.db", dir);
	snprintf(conf, sizeof conf, "%s/feedd.conf", dir);
	snprintf(ctl, sizeof ctl, "%s/control.sock", dir);
	snprintf(sub, sizeof sub, "%s/sub.sock", dir);
	snprintf(logpath, sizeof logpath, "%s/feedd.log", dir);
	unsetenv("CONFIGURATION_DIRECTORY");
	unsetenv("STATE_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");
	pid = 0;
	base = event_base_new();
	srv = httpd_start(base);
	ck_assert_ptr_nonnull(srv);
	for (int k = 0; k < CRASH_FEEDS; k++)
		publish(k);
}

static void teardown(void)
{
	if (pid > 0)
		kill_daemon();
	httpd_free(srv);
	event_base_free(base);
	tu_rmtree(dir);
	free(dir);
	free(seen);
}

static void write_config(void)
{
	FILE *f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "allow_private = yes\ninterval = 1s\ninterval_floor = 1s\ninterval_max = 1s\n"
	           "backoff_base = 1s\nbackoff_max = 1s\njitter = 0\n"
	           "retain_items = 0\nretain_days = 0\nheartbeat = 1s\n");
	for (int k = 0; k < CRASH_FEEDS; k++) {
		char path[16];
		snprintf(path, sizeof path, "/f%d", k);
		fprintf(f, "[feed \"%s\"]\n", httpd_url(srv, path));
	}
	fclose(f);
}

START_TEST(sigkilled_daemon_loses_nothing_and_the_subscriber_gets_every_event)
{
	write_config();
	pthread_t th;
	srv_stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, srv_thread, NULL), 0);
	rnd ^= (unsigned)getpid();

	for (int round = 0; round <= CRASH_ROUNDS; round++) {
		bool last = round == CRASH_ROUNDS;
		spawn();
		struct conn c = {.fd = connect_sub()};
		connections++;
		if (!last) {
			/* read until a random moment, then SIGKILL */
			int64_t deadline = now_ms() + 20 + crash_rand() % 900;
			while (now_ms() < deadline && conn_read(&c, (int)(deadline - now_ms())))
				;
			kill_daemon();
		} else {
			/* the last daemon runs until the subscriber has caught up */
			srv_stop =
			    1; /* no more publishing: everything committed can be delivered */
			pthread_join(th, NULL);
			while (!c.live && conn_read(&c, 1000))
				;
			ck_assert(c.live);
			kill(pid, SIGTERM);
			ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
			pid = 0;
		}
		/* what the daemon wrote before it died is still read, up to EOF */
		int64_t until = now_ms() + 5000;
		while (now_ms() < until && conn_read(&c, 100))
			;
		close(c.fd);
	}

	assert_integrity();
	struct store *st = NULL;
	ck_assert_int_eq(store_open(db, NULL, &st), STORE_OK);
	struct tally t = {0};
	ck_assert_int_eq(store_events_after(st, 0, NULL, 0, 0, tally_event, &t, NULL, NULL),
	                 STORE_OK);
	store_close(st);
	qsort(t.keys, t.nkeys, sizeof *t.keys, cmp_str);
	size_t twice = 0;
	for (size_t i = 1; i < t.nkeys; i++)
		twice += !strcmp(t.keys[i - 1], t.keys[i]);
	for (size_t i = 0; i < t.nkeys; i++)
		free(t.keys[i]);
	free(t.keys);
	unsigned published = 0;
	for (int k = 0; k < CRASH_FEEDS; k++)
		published += gen[k];
	fprintf(stderr,
	        "test_crash: %d SIGKILLs, %zu connections; items published %u, events committed "
	        "%zu, delivered %zu, duplicates delivered %zu, committed but never delivered "
	        "%zu, items stored twice %zu\n",
	        CRASH_ROUNDS, connections, published, t.committed, delivered, duplicates, t.missing,
	        twice);
	ck_assert_uint_gt(t.committed, 0);
	ck_assert_uint_eq(t.missing, 0);
	ck_assert_uint_eq(twice, 0);
	ck_assert_uint_eq(t.not_new, 0);
}
END_TEST

static Suite *crash_suite(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("crash");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 280);
	tcase_add_test(tc, sigkilled_daemon_loses_nothing_and_the_subscriber_gets_every_event);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(crash_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
