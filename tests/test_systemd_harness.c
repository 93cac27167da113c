/*
 * test_systemd_harness.c - the real feedd binary under a harness that plays
 * systemd: a NOTIFY_SOCKET datagram socket with SO_PASSCRED (every message
 * must come from the daemon's pid), the subscriber socket passed as fd 3
 * and the control socket as fd 4 (LISTEN_FDS, LISTEN_FDNAMES=sub:control),
 * and WATCHDOG_USEC.
 *
 * Waits are bounded (HX_WAIT_MS); the watchdog test records arrival times
 * but only asserts what a loaded machine cannot break: no gap reaches the
 * full interval (systemd would kill the service) and the count over a
 * window is that of pings at half the interval, with generous slack.
 *
 * FEEDD_TEST_BIN in the environment overrides the binary under test.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"
#include "testutil.h"

#define HX_WAIT_MS 15000
#define HX_WATCHDOG_USEC 1000000u

struct hx {
	char *dir;
	char notify[256], sub[256], ctl[256], conf[256], db[256], log[256];
	int notify_fd;
	int sub_fd, ctl_fd; /* listening sockets made by the harness, -1 when not activating */
	ino_t sub_ino;
	pid_t pid;
	bool exited;
	int status;
};

struct hx_msg {
	char text[4096];
	pid_t pid;	/* sender, from SCM_CREDENTIALS */
	int64_t at_us;	/* CLOCK_MONOTONIC arrival */
};

static int64_t hx_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void hx_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A config with a good and a missing file:// feed (so one is failing). */
static void hx_good_config(const struct hx *h, const char *interval)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "allow_file = yes\n"
		 "interval_floor = 1s\n"
		 "interval = %s\n"
		 "backoff_base = 1h\n"
		 "[feed \"file://%s\"]\n"
		 "[feed \"file://%s/missing.xml\"]\n",
		 interval, tu_fixture("parse/atom10.xml"), h->dir);
	hx_write(h->conf, text);
}

/* A UNIX socket address for path (which must fit). */
static struct sockaddr_un hx_addr(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	ck_assert_uint_lt(n, sizeof sa.sun_path);
	memcpy(sa.sun_path, path, n + 1);
	return sa;
}

static int hx_listen(const char *path)
{
	struct sockaddr_un sa = hx_addr(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

static void hx_init(struct hx *h, bool activate)
{
	memset(h, 0, sizeof *h);
	h->dir = tu_tmpdir();
	snprintf(h->notify, sizeof h->notify, "%s/notify", h->dir);
	snprintf(h->sub, sizeof h->sub, "%s/sub.sock", h->dir);
	snprintf(h->ctl, sizeof h->ctl, "%s/control.sock", h->dir);
	snprintf(h->conf, sizeof h->conf, "%s/feedd.conf", h->dir);
	snprintf(h->db, sizeof h->db, "%s/feedd.db", h->dir);
	snprintf(h->log, sizeof h->log, "%s/feedd.log", h->dir);
	hx_good_config(h, "1h");

	struct sockaddr_un sa = hx_addr(h->notify);
	h->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(h->notify_fd, 0);
	ck_assert_int_eq(bind(h->notify_fd, (struct sockaddr *)&sa, sizeof sa), 0);
	int one = 1;
	ck_assert_int_eq(setsockopt(h->notify_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);

	h->sub_fd = h->ctl_fd = -1;
	if (activate) {
		h->sub_fd = hx_listen(h->sub);
		h->ctl_fd = hx_listen(h->ctl);
		/* A mode the daemon's socket_mode (0660) would never set. */
		ck_assert_int_eq(chmod(h->sub, 0604), 0);
		struct stat st;
		ck_assert_int_eq(stat(h->sub, &st), 0);
		h->sub_ino = st.st_ino;
	}
}

static const char *hx_bin(void)
{
	const char *b = getenv("FEEDD_TEST_BIN");
	return b && *b ? b : FEEDD_BIN;
}

/* Moves fd to target in the child (target may be occupied). */
static void hx_child_fd(int fd, int target)
{
	if (fd == target) {
		fcntl(fd, F_SETFD, 0);
		return;
	}
	dup2(fd, target); /* dup2 clears FD_CLOEXEC on the copy */
}

static void hx_start_env(struct hx *h, uint64_t watchdog_usec, const char *watchdog_pid)
{
	h->pid = fork();
	ck_assert_int_ge(h->pid, 0);
	if (h->pid == 0) {
		int logfd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (logfd >= 0) {
			dup2(logfd, 2);
			dup2(logfd, 1);
		}
		char num[32];
		if (h->sub_fd >= 0) {
			/* Out of the way first, so dup2 to 3 and 4 cannot clobber them. */
			int s = fcntl(h->sub_fd, F_DUPFD, 10), c = fcntl(h->ctl_fd, F_DUPFD, 10);
			hx_child_fd(s, 3);
			hx_child_fd(c, 4);
			snprintf(num, sizeof num, "%d", (int)getpid());
			setenv("LISTEN_PID", num, 1);
			setenv("LISTEN_FDS", "2", 1);
			setenv("LISTEN_FDNAMES", "sub:control", 1);
		}
		setenv("NOTIFY_SOCKET", h->notify, 1);
		if (watchdog_usec) {
			snprintf(num, sizeof num, "%" PRIu64, watchdog_usec);
			setenv("WATCHDOG_USEC", num, 1);
		}
		if (watchdog_pid)
			setenv("WATCHDOG_PID", watchdog_pid, 1);
		char *argv[] = {(char *)hx_bin(), "--config", h->conf, "--db", h->db,
				"--socket", h->sub, "--control-socket", h->ctl, NULL};
		execv(argv[0], argv);
		_exit(127);
	}
}

static void hx_start(struct hx *h)
{
	hx_start_env(h, HX_WATCHDOG_USEC, NULL);
}

/* Receives one notification within timeout_ms: 1, or 0 on timeout. */
static int hx_recv(struct hx *h, struct hx_msg *m, int timeout_ms)
{
	struct pollfd p = {.fd = h->notify_fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	ck_assert_int_ge(r, 0);
	if (r == 0)
		return 0;
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {m->text, sizeof m->text - 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf.buf, .msg_controllen = sizeof cbuf.buf};
	ssize_t n = recvmsg(h->notify_fd, &mh, 0);
	ck_assert_int_ge(n, 0);
	m->text[n] = '\0';
	m->at_us = hx_now_us();
	m->pid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cr;
			memcpy(&cr, CMSG_DATA(c), sizeof cr);
			m->pid = cr.pid;
		}
	return 1;
}

/* Does the message carry line (e.g. "READY=1") as one of its lines? */
static bool hx_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* Value of "KEY=" in the message, copied into out; false when absent. */
static bool hx_field(const char *text, const char *key, char *out, size_t len)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == '=') {
			size_t v = strcspn(p + n + 1, "\n");
			snprintf(out, len, "%.*s", (int)v, p + n + 1);
			return true;
		}
	return false;
}

static void hx_dump_log(const struct hx *h)
{
	size_t len;
	char *log = tu_read_file(h->log, &len);
	fprintf(stderr, "--- feedd log ---\n%s--- end ---\n", log);
	free(log);
}

/*
 * Receives until a message with line arrives (WATCHDOG=1 pings and other
 * messages are skipped), within HX_WAIT_MS.  Every message must come from
 * the daemon's pid.  Fails the test on timeout.
 */
static void hx_expect(struct hx *h, const char *line, struct hx_msg *m)
{
	int64_t deadline = hx_now_us() + HX_WAIT_MS * 1000LL;
	for (;;) {
		int left = (int)((deadline - hx_now_us()) / 1000);
		if (left <= 0 || !hx_recv(h, m, left)) {
			hx_dump_log(h);
			ck_abort_msg("no %s from feedd within %d ms", line, HX_WAIT_MS);
		}
		ck_assert_int_eq(m->pid, h->pid);
		if (hx_has_line(m->text, line))
			return;
	}
}

/* Connects to path and reads the first line; true when it is hello. */
static bool hx_hello(const char *path)
{
	struct sockaddr_un sa = hx_addr(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return false;
	}
	char buf[512];
	size_t got = 0;
	while (got < sizeof buf - 1 && !memchr(buf, '\n', got)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, HX_WAIT_MS) <= 0)
			break;
		ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	return strstr(buf, "\"ev\":\"hello\"") != NULL;
}

/* Sends a control request and returns the reply line (malloc'd). */
static char *hx_control(const char *path, const char *req)
{
	struct sockaddr_un sa = hx_addr(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	char *buf = calloc(1, 65536);
	size_t got = 0;
	while (got < 65535 && !memchr(buf, '\n', got)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, HX_WAIT_MS) <= 0)
			break;
		ssize_t r = read(fd, buf + got, 65535 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return buf;
}

/* Waits for the daemon to exit within HX_WAIT_MS; true when it did. */
static bool hx_wait_exit(struct hx *h)
{
	for (int i = 0; i < HX_WAIT_MS / 20; i++) {
		pid_t r = waitpid(h->pid, &h->status, WNOHANG);
		if (r == h->pid) {
			h->exited = true;
			return true;
		}
		usleep(20000);
	}
	return false;
}

static void hx_done(struct hx *h)
{
	if (h->pid > 0 && !h->exited) {
		kill(h->pid, SIGCONT);
		kill(h->pid, SIGTERM);
		if (!hx_wait_exit(h)) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &h->status, 0);
		}
	}
	close(h->notify_fd);
	if (h->sub_fd >= 0)
		close(h->sub_fd);
	if (h->ctl_fd >= 0)
		close(h->ctl_fd);
	tu_rmtree(h->dir);
	free(h->dir);
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_ready_comes_from_the_main_pid_once_the_sockets_answer)
{
	struct hx h;
	hx_init(&h, true);
	hx_start(&h);
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	/* At READY the config is parsed, the database open and both sockets served. */
	ck_assert(hx_hello(h.sub));
	char *st = hx_control(h.ctl, "{\"op\":\"status\"}\n");
	ck_assert_msg(strstr(st, "\"ok\":true"), "status: %s", st);
	free(st);
	ck_assert_int_eq(access(h.db, F_OK), 0);
	hx_done(&h);
}
END_TEST

START_TEST(test_activated_socket_is_used_and_neither_unlinked_nor_chmodded)
{
	struct hx h;
	hx_init(&h, true);
	hx_start(&h);
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	ck_assert(hx_hello(h.sub));
	struct stat st;
	ck_assert_int_eq(stat(h.sub, &st), 0);
	ck_assert_uint_eq(st.st_ino, h.sub_ino);
	ck_assert_uint_eq(st.st_mode & 07777, 0604);
	/* The harness still holds the listening socket: connecting to it is
	 * served by the daemon (the hello above), and after a stop the file stays. */
	kill(h.pid, SIGTERM);
	ck_assert(hx_wait_exit(&h));
	ck_assert_int_eq(stat(h.sub, &st), 0);
	ck_assert_uint_eq(st.st_ino, h.sub_ino);
	ck_assert_int_eq(stat(h.ctl, &st), 0);
	hx_done(&h);
}
END_TEST

START_TEST(test_without_systemd_the_daemon_binds_its_own_sockets)
{
	struct hx h;
	hx_init(&h, false);
	h.pid = fork();
	ck_assert_int_ge(h.pid, 0);
	if (h.pid == 0) {
		int logfd = open(h.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(logfd, 2);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("WATCHDOG_USEC");
		char *argv[] = {(char *)hx_bin(), "--config", h.conf, "--db", h.db,
				"--socket", h.sub, "--control-socket", h.ctl, NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	bool hello = false;
	for (int i = 0; i < HX_WAIT_MS / 50 && !hello; i++) {
		usleep(50000);
		hello = access(h.sub, F_OK) == 0 && hx_hello(h.sub);
	}
	ck_assert_msg(hello, "no hello on the daemon's own socket");
	struct stat st;
	ck_assert_int_eq(stat(h.sub, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	struct hx_msg m;
	ck_assert_int_eq(hx_recv(&h, &m, 0), 0); /* nothing was sent anywhere */
	kill(h.pid, SIGTERM);
	ck_assert(hx_wait_exit(&h));
	ck_assert(WIFEXITED(h.status));
	ck_assert_int_eq(WEXITSTATUS(h.status), 0);
	hx_done(&h);
}
END_TEST

START_TEST(test_status_line_counts_feeds_failing_feeds_and_subscribers)
{
	struct hx h;
	hx_init(&h, true);
	hx_start(&h);
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	/* The missing file:// feed fails at its first poll. */
	hx_expect(&h, "STATUS=2 feeds, 1 failing, 0 subscribers", &m);
	/* A connected subscriber is counted. */
	struct sockaddr_un sa = hx_addr(h.sub);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	const char *sub = "{\"op\":\"sub\"}\n";
	ck_assert_int_eq(write(fd, sub, strlen(sub)), (ssize_t)strlen(sub));
	hx_expect(&h, "STATUS=2 feeds, 1 failing, 1 subscriber", &m);
	close(fd);
	hx_expect(&h, "STATUS=2 feeds, 1 failing, 0 subscribers", &m);
	hx_done(&h);
}
END_TEST

static void hx_reload(struct hx *h)
{
	struct hx_msg m;
	int64_t before = (int64_t)sdnotify_monotonic_usec();
	kill(h->pid, SIGHUP);
	hx_expect(h, "RELOADING=1", &m);
	char mono[32];
	ck_assert_msg(hx_field(m.text, "MONOTONIC_USEC", mono, sizeof mono),
		      "RELOADING=1 without MONOTONIC_USEC: %s", m.text);
	int64_t at = strtoll(mono, NULL, 10);
	/* The same clock as ours, taken after the signal was sent. */
	ck_assert_int_ge(at, before);
	ck_assert_int_le(at, (int64_t)sdnotify_monotonic_usec());
	hx_expect(h, "READY=1", &m);
	ck_assert(hx_hello(h->sub));
}

START_TEST(test_sighup_with_a_good_config_sends_reloading_then_ready)
{
	struct hx h;
	hx_init(&h, true);
	hx_start(&h);
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	hx_good_config(&h, "2h");
	hx_reload(&h);
	hx_done(&h);
}
END_TEST

START_TEST(test_sighup_with_a_bad_config_still_sends_ready_and_keeps_running)
{
	struct hx h;
	hx_init(&h, true);
	hx_start(&h);
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	hx_write(h.conf, "interval = 1h # hourly\nbogus_key = 1\n");
	hx_reload(&h);
	ck_assert_int_eq(waitpid(h.pid, &h.status, WNOHANG), 0);
	/* And a good one after the bad one is taken again. */
	hx_good_config(&h, "3h");
	hx_reload(&h);
	hx_done(&h);
}
END_TEST

START_TEST(test_sigterm_sends_stopping_and_exits_zero)
{
	struct hx h;
	hx_init(&h, true);
	hx_start(&h);
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	kill(h.pid, SIGTERM);
	hx_expect(&h, "STOPPING=1", &m);
	ck_assert(hx_wait_exit(&h));
	ck_assert(WIFEXITED(h.status));
	ck_assert_int_eq(WEXITSTATUS(h.status), 0);
	hx_done(&h);
}
END_TEST

/* Collects WATCHDOG=1 pings for window_us; returns their count, *max_gap_us the widest gap. */
static int hx_pings(struct hx *h, int64_t window_us, int64_t *max_gap_us)
{
	struct hx_msg m;
	int64_t end = hx_now_us() + window_us, last = 0;
	int n = 0;
	*max_gap_us = 0;
	for (;;) {
		int64_t left = end - hx_now_us();
		if (left <= 0 || !hx_recv(h, &m, (int)(left / 1000) + 1))
			break;
		ck_assert_int_eq(m.pid, h->pid);
		if (!hx_has_line(m.text, "WATCHDOG=1"))
			continue;
		if (last && m.at_us - last > *max_gap_us)
			*max_gap_us = m.at_us - last;
		last = m.at_us;
		n++;
	}
	return n;
}

START_TEST(test_watchdog_pings_at_half_the_interval)
{
	struct hx h;
	hx_init(&h, true);
	hx_start(&h);
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	int64_t gap;
	/* 4 s at one ping per 0.5 s: 8 expected; a loaded machine may delay a
	 * few, and a sender at the full interval (4) or faster than a quarter
	 * (16+) is wrong. */
	int n = hx_pings(&h, 4 * (int64_t)HX_WATCHDOG_USEC, &gap);
	ck_assert_msg(n >= 5 && n <= 12, "%d pings in 4 s", n);
	ck_assert_msg(gap < (int64_t)HX_WATCHDOG_USEC, "a gap of %" PRId64 " us", gap);
	hx_done(&h);
}
END_TEST

START_TEST(test_watchdog_stops_while_the_loop_is_stopped_and_resumes)
{
	struct hx h;
	hx_init(&h, true);
	hx_start(&h);
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	hx_expect(&h, "WATCHDOG=1", &m);
	kill(h.pid, SIGSTOP);
	/* A ping already in flight may still arrive: drain, then none for 3 intervals. */
	while (hx_recv(&h, &m, 100))
		;
	int64_t gap;
	ck_assert_int_eq(hx_pings(&h, 3 * (int64_t)HX_WATCHDOG_USEC, &gap), 0);
	kill(h.pid, SIGCONT);
	hx_expect(&h, "WATCHDOG=1", &m);
	hx_done(&h);
}
END_TEST

START_TEST(test_watchdog_for_another_pid_is_ignored)
{
	struct hx h;
	hx_init(&h, true);
	hx_start_env(&h, HX_WATCHDOG_USEC, "1");
	struct hx_msg m;
	hx_expect(&h, "READY=1", &m);
	int64_t gap;
	ck_assert_int_eq(hx_pings(&h, 2 * (int64_t)HX_WATCHDOG_USEC, &gap), 0);
	hx_done(&h);
}
END_TEST

/* Start-up that fails: no READY=1 at all, exit status 1 (systemd marks the start failed). */
static void hx_expect_failed_start(struct hx *h)
{
	hx_start(h);
	ck_assert(hx_wait_exit(h));
	ck_assert(WIFEXITED(h->status));
	ck_assert_int_eq(WEXITSTATUS(h->status), 1);
	struct hx_msg m;
	while (hx_recv(h, &m, 0))
		ck_assert_msg(!hx_has_line(m.text, "READY=1"), "READY=1 from a failed start: %s", m.text);
}

START_TEST(test_bad_config_at_start_sends_no_ready_and_exits_1)
{
	struct hx h;
	hx_init(&h, true);
	hx_write(h.conf, "interval = 1h # hourly\n");
	hx_expect_failed_start(&h);
	hx_done(&h);
}
END_TEST

START_TEST(test_unopenable_database_sends_no_ready_and_exits_1)
{
	struct hx h;
	hx_init(&h, true);
	snprintf(h.db, sizeof h.db, "%s/no/such/dir/feedd.db", h.dir);
	hx_expect_failed_start(&h);
	hx_done(&h);
}
END_TEST

static Suite *harness_suite(void)
{
	Suite *s = suite_create("systemd_harness");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ready_comes_from_the_main_pid_once_the_sockets_answer);
	tcase_add_test(tc, test_activated_socket_is_used_and_neither_unlinked_nor_chmodded);
	tcase_add_test(tc, test_without_systemd_the_daemon_binds_its_own_sockets);
	tcase_add_test(tc, test_status_line_counts_feeds_failing_feeds_and_subscribers);
	tcase_add_test(tc, test_sighup_with_a_good_config_sends_reloading_then_ready);
	tcase_add_test(tc, test_sighup_with_a_bad_config_still_sends_ready_and_keeps_running);
	tcase_add_test(tc, test_sigterm_sends_stopping_and_exits_zero);
	tcase_add_test(tc, test_watchdog_pings_at_half_the_interval);
	tcase_add_test(tc, test_watchdog_stops_while_the_loop_is_stopped_and_resumes);
	tcase_add_test(tc, test_watchdog_for_another_pid_is_ignored);
	tcase_add_test(tc, test_bad_config_at_start_sends_no_ready_and_exits_1);
	tcase_add_test(tc, test_unopenable_database_sends_no_ready_and_exits_1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(harness_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
