/*
 * test_hostile_clients.c - the real daemon (`feedd run`) against hostile
 * local input: bad request lines on the subscriber socket while another
 * subscriber is being served, file descriptors exhausted while clients
 * keep connecting, and config files with every kind of mistake.
 *
 * Each bad line must get its documented error (daemon/notify.h, DESIGN.md)
 * and neither the daemon nor the well-behaved subscriber may notice.
 * With descriptors exhausted (RLIMIT_NOFILE set low for the daemon), the
 * accept loops must pause and retry rather than spin: libevent logs every
 * failed accept() of a listener without an error callback, so the number
 * of such lines in a few seconds tells a pause (a few) from a spin
 * (thousands).  Once clients leave, new ones are served again.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "testutil.h"

static char *dir;
static char db[600], conf[600], ctl[100], sub[100], logpath[600];
static pid_t pid;
static char epoch[40];

static void pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
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

/* Starts the daemon; nofile > 0 limits its descriptors. */
static void start(rlim_t nofile)
{
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0), dup2(nul, 1), dup2(fd, 2);
		close(fd), close(nul);
		if (nofile) {
			struct rlimit rl = {nofile, nofile};
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		execl(FEEDD_BIN, FEEDD_BIN, "run", "--config", conf, "--db", db, "--socket", sub,
		      "--control-socket", ctl, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		int st;
		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "feedd exited during start-up: %s",
		              tu_read_file(logpath, NULL));
		int fd = connect_to(ctl);
		if (fd >= 0) {
			close(fd);
			return;
		}
		pause_ms(10);
	}
}

static void alive(void)
{
	int st;
	ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "feedd died: %s",
	              tu_read_file(logpath, NULL));
}

/* One line from fd within ms (malloc'd, without LF), or NULL at EOF / timeout. */
static char *read_line_ms(int fd, int ms)
{
	char *b = malloc(1 << 16);
	size_t n = 0;
	while (n < (1 << 16) - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, ms) <= 0)
			break;
		ssize_t r = read(fd, b + n, 1);
		if (r <= 0)
			break;
		if (b[n] == '\n') {
			b[n] = 0;
			return b;
		}
		n++;
	}
	free(b);
	return NULL;
}

/* The next line that is not a heartbeat. */
static char *read_line(int fd)
{
	for (int i = 0; i < 20; i++) {
		char *l = read_line_ms(fd, 10000);
		if (!l || !strstr(l, "\"ev\":\"hb\""))
			return l;
		free(l);
	}
	return NULL;
}

/* EOF (or reset) comes within 10 s. */
static bool closed_by_peer(int fd)
{
	char c;
	struct pollfd p = {fd, POLLIN, 0};
	if (poll(&p, 1, 10000) <= 0)
		return false;
	return read(fd, &c, 1) <= 0;
}

static void send_str(int fd, const char *s, size_t n)
{
	ck_assert_int_eq(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* A subscriber connection after hello. */
static int subscriber(void)
{
	int fd = connect_to(sub);
	for (int tries = 0; fd < 0 && tries < 200; tries++) {
		pause_ms(10);
		fd = connect_to(sub);
	}
	ck_assert_int_ge(fd, 0);
	char *hello = read_line(fd);
	ck_assert_ptr_nonnull(hello);
	ck_assert_ptr_nonnull(strstr(hello, "\"ev\":\"hello\""));
	const char *e = strstr(hello, "\"epoch\":\"");
	ck_assert_ptr_nonnull(e);
	snprintf(epoch, sizeof epoch, "%.32s", e + 9);
	free(hello);
	return fd;
}

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
	write_file(conf, "heartbeat = 1s\nmax_line = 1K\n");
	pid = 0;
}

static void teardown(void)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	tu_rmtree(dir);
	free(dir);
}

/* ---- bad lines ---- */

struct bad_line {
	const char *name;
	const char *line; /* sent as is (with its LF when it has one) */
	size_t len;       /* 0: strlen */
	const char *code; /* the error code expected */
	bool closes;      /* the daemon closes the connection after it */
};

static void check_bad_line(int good, const struct bad_line *b)
{
	int fd = subscriber();
	fprintf(stderr, "test_hostile_clients: %s\n", b->name);
	send_str(fd, b->line, b->len ? b->len : strlen(b->line));
	char *reply = read_line(fd);
	ck_assert_msg(reply != NULL, "%s: no reply", b->name);
	char want[96];
	snprintf(want, sizeof want, "\"code\":\"%s\"", b->code);
	ck_assert_msg(strstr(reply, "\"ev\":\"error\"") && strstr(reply, want), "%s: %s", b->name,
	              reply);
	free(reply);
	if (b->closes) {
		ck_assert_msg(closed_by_peer(fd), "%s: not closed", b->name);
	} else {
		/* still usable: a valid sub works */
		send_str(fd, "{\"op\":\"sub\",\"id\":1}\n", strlen("{\"op\":\"sub\",\"id\":1}\n"));
		reply = read_line(fd);
		ck_assert_msg(reply && strstr(reply, "\"ev\":\"live\""), "%s: then %s", b->name,
		              reply ? reply : "(nothing)");
		free(reply);
	}
	close(fd);
	alive();
	/* the well-behaved subscriber carries on: its heartbeat still comes */
	reply = read_line_ms(good, 10000);
	ck_assert_msg(reply && strstr(reply, "\"ev\":\"hb\""), "after %s: %s", b->name,
	              reply ? reply : "(nothing)");
	free(reply);
}

START_TEST(each_bad_line_gets_its_error_and_the_daemon_and_other_clients_carry_on)
{
	start(0);
	int good = subscriber();
	send_str(good, "{\"op\":\"sub\"}\n", strlen("{\"op\":\"sub\"}\n"));
	char *live = read_line(good);
	ck_assert_ptr_nonnull(strstr(live, "\"ev\":\"live\""));
	free(live);

	char huge[4096], junk[64], other[128], ahead[128];
	memset(huge, 'a', sizeof huge);
	huge[sizeof huge - 1] = '\n';
	for (size_t i = 0; i < sizeof junk; i++) /* no LF inside: one line */
		junk[i] = (char)(i * 37 + 1) == '\n' ? '\x80' : (char)(i * 37 + 1);
	junk[sizeof junk - 1] = '\n';
	snprintf(other, sizeof other,
	         "{\"op\":\"sub\",\"after\":\"0123456789abcdef0123456789abcdef:1\"}\n");
	snprintf(ahead, sizeof ahead, "{\"op\":\"sub\",\"after\":\"%s:999999\"}\n", epoch);
	const struct bad_line lines[] = {
	    {"not JSON", "hello there\n", 0, "bad_request", false},
	    {"binary junk", junk, sizeof junk, "bad_request", false},
	    {"a NUL byte", "{\"op\":\"s\0b\"}\n", 13, "bad_request", false},
	    {"wrong type of op", "{\"op\":42}\n", 0, "bad_request", false},
	    {"wrong type of after", "{\"op\":\"sub\",\"after\":[1]}\n", 0, "bad_request", false},
	    {"wrong type of feeds", "{\"op\":\"sub\",\"feeds\":\"all\"}\n", 0, "bad_request",
	     false},
	    {"not an object", "[\"sub\"]\n", 0, "bad_request", false},
	    {"unknown op", "{\"op\":\"rm -rf\"}\n", 0, "bad_request", false},
	    {"a garbled cursor", "{\"op\":\"sub\",\"after\":\"yesterday\"}\n", 0, "bad_request",
	     false},
	    {"oversized line", huge, sizeof huge, "line_too_long", true},
	    {"a cursor of another epoch", other, 0, "epoch_mismatch", true},
	    {"a cursor in the future", ahead, 0, "cursor_ahead", true},
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		check_bad_line(good, &lines[i]);

	/* a second sub on a subscribed connection */
	int fd = subscriber();
	const char *twice = "{\"op\":\"sub\"}\n{\"op\":\"sub\",\"id\":\"again\"}\n";
	send_str(fd, twice, strlen(twice));
	char *r1 = read_line(fd), *r2 = read_line(fd);
	ck_assert_msg(r1 && strstr(r1, "\"ev\":\"live\""), "%s", r1);
	ck_assert_msg(r2 && strstr(r2, "bad_request") && strstr(r2, "again"), "%s", r2);
	free(r1);
	free(r2);
	close(fd);

	/* half a line, then hang-up */
	fd = subscriber();
	send_str(fd, "{\"op\":\"su", 9);
	close(fd);
	pause_ms(100);
	alive();
	char *hb = read_line_ms(good, 10000);
	ck_assert_msg(hb && strstr(hb, "\"ev\":\"hb\""), "%s", hb);
	free(hb);
	close(good);
	kill(pid, SIGTERM);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	pid = 0;
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

/* ---- descriptors exhausted ---- */

static size_t log_count(const char *s)
{
	char *text = tu_read_file(logpath, NULL);
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, s)); p++)
		n++;
	free(text);
	return n;
}

START_TEST(descriptors_exhausted_pause_the_accept_loops_and_they_recover)
{
	write_file(conf, "heartbeat = 1s\nmax_clients = 1000\n");
	start(48);
	int fds[200];
	size_t n = 0;
	/* connect until the daemon stops saying hello: its descriptors are gone */
	for (; n < 200; n++) {
		fds[n] = connect_to(sub);
		if (fds[n] < 0)
			break;
		char *hello = read_line_ms(fds[n], 2000);
		if (!hello) {
			n++;
			break;
		}
		free(hello);
	}
	ck_assert_msg(n < 200, "the daemon never ran out of descriptors");
	/* more clients keep knocking, on both sockets */
	int extra[8];
	for (int i = 0; i < 8; i++)
		extra[i] = connect_to(i % 2 ? ctl : sub);
	size_t before = log_count("ccept");
	pause_ms(3000);
	alive();
	size_t during = log_count("ccept") - before;
	if (during >= 30) {
		char *text = tu_read_file(logpath, NULL);
		char *p = strstr(text, "ccept");
		fprintf(stderr, "test_hostile_clients: for example: %.200s\n", p ? p - 40 : text);
		free(text);
	}
	ck_assert_msg(during < 30, "%zu accept errors logged in 3 s: the accept loop spins",
	              during);

	/* clients leave: new ones are served again */
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (int i = 0; i < 8; i++)
		if (extra[i] >= 0)
			close(extra[i]);
	char *hello = NULL;
	for (int tries = 0; tries < 50 && !hello; tries++) {
		int fd = connect_to(sub);
		if (fd >= 0) {
			hello = read_line_ms(fd, 500);
			close(fd);
		}
	}
	ck_assert_msg(hello && strstr(hello, "\"ev\":\"hello\""), "no hello after recovery");
	free(hello);
	int c = -1;
	char *reply = NULL;
	for (int tries = 0; tries < 50 && !reply; tries++) {
		c = connect_to(ctl);
		if (c < 0)
			continue;
		send_str(c, "{\"op\":\"status\"}\n", strlen("{\"op\":\"status\"}\n"));
		reply = read_line_ms(c, 500);
		close(c);
	}
	ck_assert_msg(reply && strstr(reply, "\"ok\":true"), "control: %s", reply);
	free(reply);
	fprintf(stderr,
	        "test_hostile_clients: %zu subscribers exhausted the descriptors; %zu "
	        "accept errors logged in 3 s\n",
	        n, during);
}
END_TEST

/* ---- config mistakes ---- */

START_TEST(a_config_with_any_mistake_is_refused_with_its_line_number)
{
	static const struct {
		const char *text;
		const char *where; /* "feedd.conf:N" expected in the message */
	} bad[] = {
	    {"interval = 1h\nbogus_key = 1\n", "feedd.conf:2"},
	    {"interval = soon\n", "feedd.conf:1"},
	    {"\n\nmax_body = -5\n", "feedd.conf:3"},
	    {"max_body = 100T\n", "feedd.conf:1"},
	    {"jitter = 90\n", "feedd.conf:1"},
	    {"allow_private = perhaps\n", "feedd.conf:1"},
	    {"interval 1h\n", "feedd.conf:1"},
	    {"[global]\n[feed \"ftp://example.org/\"]\n", "feedd.conf:2"},
	    {"[feed \"https://example.org/\"\n", "feedd.conf:1"},
	    {"[feed \"https://example.org/\"]\ninterval = 1h\n[feed \"https://example.org/\"]\n",
	     "feedd.conf:3"},
	    {"[nonsense]\n", "feedd.conf:1"},
	    {"interval = 1h  # hourly\n", "feedd.conf:1"},
	    {"socket_mode = 999\n", "feedd.conf:1"},
	    {"log_level = loud\n", "feedd.conf:1"},
	    {"interval = 1h\ninterval = 2h\n", "feedd.conf:2"},
	    {"max_line = 1\xff\n", "feedd.conf:1"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(conf, bad[i].text);
		struct tu_run r;
		char *argv[] = {FEEDD_BIN,  "run", "--config",         conf, "--db", db,
		                "--socket", sub,   "--control-socket", ctl,  NULL};
		tu_run(&r, argv, NULL, 0);
		ck_assert_msg(r.status != 0 && r.status < 128, "%s: exit %d", bad[i].text,
		              r.status);
		ck_assert_msg(strstr(r.err, bad[i].where), "%s: want %s in: %s", bad[i].text,
		              bad[i].where, r.err);
		ck_assert_int_ne(access(ctl, F_OK), 0); /* it never started */
		tu_run_free(&r);
	}
}
END_TEST

static Suite *clients_suite(void)
{
	Suite *s = suite_create("hostile_clients");
	TCase *tc = tcase_create("hostile_clients");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, each_bad_line_gets_its_error_and_the_daemon_and_other_clients_carry_on);
	tcase_add_test(tc, descriptors_exhausted_pause_the_accept_loops_and_they_recover);
	tcase_add_test(tc, a_config_with_any_mistake_is_refused_with_its_line_number);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(clients_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
