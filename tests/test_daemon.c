/*
 * test_daemon.c - the real feedd binary run as a child process: start-up
 * and its refusals, the control socket (mode, framing, limits), signals
 * (SIGTERM, SIGINT, SIGHUP with good and bad configs), the schedule across
 * restarts and start-up spreading.  Real sockets and SQLite files in a
 * temporary directory.  Waits are "until something happened", never
 * assertions on elapsed time.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common_json.h"
#include "httpd.h"
#include "config.h"
#include "daemon.h"
#include "store.h"
#include "testutil.h"

static char *dir;
static char db[4200], conf[4200], ctl[200], sub[200], logpath[4200];
static pid_t pid;

static void setup(void)
{
	dir = tu_tmpdir();
	snprintf(db, sizeof db, "%s/feedd.db", dir);
	snprintf(conf, sizeof conf, "%s/feedd.conf", dir);
	snprintf(ctl, sizeof ctl, "%s/control.sock", dir);
	snprintf(sub, sizeof sub, "%s/sub.sock", dir);
	snprintf(logpath, sizeof logpath, "%s/feedd.log", dir);
	unsetenv("CONFIGURATION_DIRECTORY");
	unsetenv("STATE_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");
	signal(SIGPIPE, SIG_IGN);
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

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	ck_assert_uint_lt(strlen(path), sizeof sa.sun_path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Starts feedd (argv after the program name given, NULL-terminated) with stderr to logpath. */
static pid_t spawn(char *const args[])
{
	char *argv[32] = {FEEDD_BIN};
	int n = 1;
	for (; args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 2);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return p;
}

/* Waits until the control socket answers; fails when the daemon exits first. */
static void wait_ready(const char *path)
{
	for (;;) {
		int st;
		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "feedd exited during start-up: %s",
		              tu_read_file(logpath, NULL));
		int fd = connect_to(path);
		if (fd >= 0) {
			close(fd);
			return;
		}
		pause_ms(10);
	}
}

static void start(void)
{
	char *args[] = {"--config", conf,       "--db", db,   "--control-socket",
	                ctl,        "--socket", sub,    "-v", NULL};
	if (access(conf, F_OK) < 0)
		write_file(conf, "# defaults\n");
	pid = spawn(args);
	wait_ready(ctl);
}

/* Signals the daemon and returns its exit status (128+N for a signal). */
static int stop(int sig)
{
	ck_assert_int_eq(kill(pid, sig), 0);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Reads one line from fd (malloc'd, without LF); NULL at EOF before any LF. */
static char *read_line(int fd)
{
	struct buf b = {0};
	char c;
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			buf_free(&b);
			return NULL;
		}
		if (c == '\n')
			break;
		buf_append(&b, &c, 1);
	}
	buf_append(&b, "", 1);
	return b.data;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		ck_assert_int_gt(w, 0);
		s += w;
		n -= (size_t)w;
	}
}

/* One request on a fresh connection; the reply parsed into *r (cjson_free it). */
static void request(const char *line, struct cjson *r)
{
	int fd = connect_to(ctl);
	ck_assert_int_ge(fd, 0);
	send_all(fd, line, strlen(line));
	send_all(fd, "\n", 1);
	char *reply = read_line(fd);
	close(fd);
	ck_assert_msg(reply != NULL, "no reply to %s", line);
	char err[128];
	ck_assert_msg(cjson_parse(reply, strlen(reply), r, err, sizeof err) == 0, "%s: %s", err,
	              reply);
	free(reply);
}

static bool reply_ok(const struct cjson *r)
{
	const struct cjson *v = cjson_get(r, "ok");
	return v && v->type == CJSON_BOOL && v->u.b;
}

static int64_t add_with_next_poll(const char *url, int64_t next, const char *reason);

static bool log_contains(const char *s)
{
	char *text = tu_read_file(logpath, NULL);
	bool found = strstr(text, s) != NULL;
	free(text);
	return found;
}

START_TEST(a_bad_config_refuses_start_with_its_line_number)
{
	write_file(conf, "interval = 1h\n\nmax_clients = many\n");
	char *argv[] = {FEEDD_BIN, "--config", conf, "--db", db, "--control-socket", ctl, NULL};
	struct tu_run r;
	tu_run(&r, argv, NULL, 0);
	ck_assert_int_ne(r.status, 0);
	ck_assert_int_lt(r.status, 128);
	char where[4300];
	snprintf(where, sizeof where, "%s:3:", conf);
	ck_assert_msg(strstr(r.err, where), "%s", r.err);
	ck_assert_msg(strstr(r.err, "<3>"), "error without its priority: %s", r.err);
	ck_assert_int_ne(access(ctl, F_OK), 0);
	tu_run_free(&r);
}
END_TEST

START_TEST(a_missing_config_file_refuses_start)
{
	char *argv[] = {FEEDD_BIN, "--config", "/nonexistent/feedd.conf", "--db", db, NULL};
	struct tu_run r;
	tu_run(&r, argv, NULL, 0);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/feedd.conf"));
	tu_run_free(&r);
}
END_TEST

START_TEST(sigterm_exits_0_and_removes_the_control_socket)
{
	start();
	struct stat st;
	ck_assert_int_eq(stat(ctl, &st), 0);
	ck_assert_int_eq(stat(db, &st), 0);
	ck_assert_int_eq(stop(SIGTERM), 0);
	ck_assert_int_ne(access(ctl, F_OK), 0);
	ck_assert(log_contains("<6>stopped"));
}
END_TEST

START_TEST(sigint_exits_0)
{
	start();
	ck_assert_int_eq(stop(SIGINT), 0);
}
END_TEST

START_TEST(the_control_socket_is_mode_0600)
{
	start();
	struct stat st;
	ck_assert_int_eq(stat(ctl, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(the_control_socket_mode_is_configurable)
{
	write_file(conf, "control_socket_mode = 0660\n");
	start();
	struct stat st;
	ck_assert_int_eq(stat(ctl, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0660);
}
END_TEST

START_TEST(a_second_daemon_on_the_same_socket_is_refused)
{
	start();
	char other[4200];
	snprintf(other, sizeof other, "%s/other.db", dir);
	char *argv[] = {FEEDD_BIN, "--config", conf, "--db", other, "--control-socket", ctl, NULL};
	struct tu_run r;
	tu_run(&r, argv, NULL, 0);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "another daemon"), "%s", r.err);
	tu_run_free(&r);
	struct cjson rep;
	request("{\"op\":\"status\"}", &rep);
	ck_assert(reply_ok(&rep));
	cjson_free(&rep);
}
END_TEST

START_TEST(control_commands_work_over_the_socket)
{
	start();
	struct cjson r;
	request("{\"op\":\"add\",\"url\":\"http://127.0.0.1:9/feed\",\"id\":1}", &r);
	ck_assert(reply_ok(&r));
	cjson_free(&r);
	request("{\"op\":\"list\"}", &r);
	const struct cjson *feeds = cjson_get(&r, "feeds");
	ck_assert_int_eq(feeds->u.arr.n, 1);
	cjson_free(&r);
	request("{\"op\":\"why\",\"feed\":1}", &r);
	ck_assert(reply_ok(&r));
	ck_assert_ptr_nonnull(cjson_get_str(&r, "reason"));
	cjson_free(&r);
	request("{\"op\":\"metrics\"}", &r);
	ck_assert_ptr_nonnull(strstr(cjson_get_str(&r, "text"), "# TYPE feedd_feeds gauge"));
	cjson_free(&r);
	ck_assert_int_eq(stop(SIGTERM), 0);
}
END_TEST

START_TEST(several_requests_on_one_connection_get_replies_in_order)
{
	start();
	int fd = connect_to(ctl);
	const char *reqs = "{\"op\":\"status\",\"id\":1}\n{\"op\":\"bogus\",\"id\":2}\r\n"
	                   "not json\n{\"op\":\"list\",\"id\":3}\n";
	send_all(fd, reqs, strlen(reqs));
	const char *want[] = {"{\"id\":1,\"ok\":true",
	                      "{\"id\":2,\"ok\":false,\"code\":\"unknown_op\"",
	                      "{\"ok\":false,\"code\":\"bad_request\"", "{\"id\":3,\"ok\":true"};
	for (size_t i = 0; i < 4; i++) {
		char *line = read_line(fd);
		ck_assert_ptr_nonnull(line);
		ck_assert_msg(!strncmp(line, want[i], strlen(want[i])), "%zu: %s", i, line);
		free(line);
	}
	close(fd);
}
END_TEST

START_TEST(a_line_too_long_gets_an_error_and_close)
{
	write_file(conf, "max_line = 1k\n");
	start();
	int fd = connect_to(ctl);
	char big[3000];
	memset(big, 'x', sizeof big);
	send_all(fd, big, sizeof big); /* no LF: checked as data arrives */
	char *line = read_line(fd);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, "\"code\":\"line_too_long\""), "%s", line);
	free(line);
	ck_assert_ptr_null(read_line(fd)); /* then closed */
	close(fd);
	struct cjson r;
	request("{\"op\":\"status\"}", &r); /* the daemon lives on */
	ck_assert(reply_ok(&r));
	cjson_free(&r);
}
END_TEST

START_TEST(too_many_control_clients_are_refused)
{
	write_file(conf, "max_control_clients = 1\n");
	start();
	int first;
	char *line;
	for (;;) { /* until the start-up probe's slot is free and the first is in */
		first = connect_to(ctl);
		send_all(first, "{\"op\":\"status\"}\n", 16);
		line = read_line(first);
		bool in = line && strstr(line, "\"ok\":true");
		free(line);
		if (in)
			break;
		close(first);
		pause_ms(10);
	}
	int second = connect_to(ctl);
	line = read_line(second);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, "\"code\":\"too_many_clients\""), "%s", line);
	free(line);
	close(second);
	close(first);
}
END_TEST

START_TEST(a_client_past_the_output_limit_is_paused_and_loses_nothing)
{
	for (int i = 0; i < 20; i++) {
		char url[64];
		snprintf(url, sizeof url, "http://127.0.0.1:9/feed-with-a-longish-name-%d", i);
		add_with_next_poll(url, (int64_t)time(NULL) + 99999, "test");
	}
	write_file(conf, "client_output_limit = 4k\n");
	start();
	int fd = connect_to(ctl);
	struct buf reqs = {0};
	for (int i = 0; i < 300; i++) { /* ~1 MB of replies, nothing read meanwhile */
		char line[64];
		snprintf(line, sizeof line, "{\"op\":\"list\",\"id\":%d}\n", i);
		buf_puts(&reqs, line);
	}
	send_all(fd, reqs.data, reqs.len);
	buf_free(&reqs);
	for (int i = 0; i < 300; i++) {
		char *line = read_line(fd), want[32];
		ck_assert_ptr_nonnull(line);
		snprintf(want, sizeof want, "{\"id\":%d,\"ok\":true", i);
		ck_assert_msg(!strncmp(line, want, strlen(want)), "reply %d: %.60s", i, line);
		free(line);
	}
	close(fd);
}
END_TEST

START_TEST(an_idle_control_client_is_disconnected)
{
	write_file(conf, "client_stall_timeout = 1s\n");
	start();
	int fd = connect_to(ctl);
	ck_assert_ptr_null(read_line(fd)); /* EOF, no reply: it never asked */
	close(fd);
}
END_TEST

static const char *status_log_level(void)
{
	static char level[32];
	struct cjson r;
	request("{\"op\":\"status\"}", &r);
	snprintf(level, sizeof level, "%s", cjson_get_str(&r, "log_level"));
	cjson_free(&r);
	return level;
}

START_TEST(sighup_applies_a_good_config)
{
	write_file(conf, "log_level = info\n");
	start();
	ck_assert_str_eq(status_log_level(), "info");
	write_file(conf, "log_level = debug\n");
	kill(pid, SIGHUP);
	while (strcmp(status_log_level(), "debug"))
		pause_ms(10);
	ck_assert(log_contains("configuration reloaded"));
	ck_assert_int_eq(stop(SIGTERM), 0);
}
END_TEST

START_TEST(sighup_with_a_bad_config_keeps_the_old_one)
{
	write_file(conf, "log_level = warning\n");
	start();
	write_file(conf, "log_level = debug\ninterval = soon\n");
	kill(pid, SIGHUP);
	while (!log_contains("reload failed"))
		pause_ms(10);
	char where[4300];
	snprintf(where, sizeof where, "%s:2:", conf);
	ck_assert(log_contains(where));
	ck_assert_str_eq(status_log_level(), "warning");
	ck_assert_int_eq(stop(SIGTERM), 0);
}
END_TEST

START_TEST(sighup_applies_new_limits)
{
	write_file(conf, "max_control_clients = 1\nlog_level = info\n");
	start();
	int held;
	for (;;) { /* hold the one slot (once the start-up probe has left it) */
		held = connect_to(ctl);
		send_all(held, "{\"op\":\"status\"}\n", 16);
		char *line = read_line(held);
		bool in = line && strstr(line, "\"ok\":true");
		free(line);
		if (in)
			break;
		close(held);
		pause_ms(10);
	}
	write_file(conf, "max_control_clients = 2\nlog_level = debug\n");
	kill(pid, SIGHUP);
	for (;;) { /* the reload is done when the held connection sees the new level */
		send_all(held, "{\"op\":\"status\"}\n", 16);
		char *line = read_line(held);
		bool done = line && strstr(line, "\"log_level\":\"debug\"");
		free(line);
		if (done)
			break;
		pause_ms(10);
	}
	struct cjson r;
	request("{\"op\":\"status\"}", &r); /* a second client now fits */
	ck_assert(reply_ok(&r));
	cjson_free(&r);
	close(held);
}
END_TEST

START_TEST(sighup_adds_feeds_of_new_feed_sections)
{
	start();
	write_file(conf, "[feed \"http://127.0.0.1:9/new\"]\ntitle = New\n");
	kill(pid, SIGHUP);
	for (;;) {
		struct cjson r;
		request("{\"op\":\"list\"}", &r);
		size_t n = cjson_get(&r, "feeds")->u.arr.n;
		cjson_free(&r);
		if (n == 1)
			break;
		pause_ms(10);
	}
	ck_assert_int_eq(stop(SIGTERM), 0);
}
END_TEST

static int64_t add_with_next_poll(const char *url, int64_t next, const char *reason)
{
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	struct store_feed_new nf = {.url = url};
	int64_t id;
	ck_assert_int_eq(store_feed_add(s, &nf, time(NULL), &id), STORE_OK);
	if (next)
		ck_assert_int_eq(store_feed_set_next_poll(s, id, next, reason), STORE_OK);
	store_close(s);
	return id;
}

START_TEST(the_schedule_survives_a_restart)
{
	int64_t at = (int64_t)time(NULL) + 5000;
	add_with_next_poll("http://127.0.0.1:9/later", at, "max-age 5000s");
	char when[32];
	date_format(at, when);
	for (int round = 0; round < 2; round++) {
		start();
		struct cjson r;
		request("{\"op\":\"why\",\"feed\":1}", &r);
		ck_assert_str_eq(cjson_get_str(&r, "reason"), "max-age 5000s");
		ck_assert_str_eq(cjson_get_str(&r, "next_poll"), when);
		cjson_free(&r);
		ck_assert_int_eq(stop(SIGTERM), 0);
	}
}
END_TEST

/* Commits one document of ids[] for feed at time now. */
static void store_doc(struct store *s, int64_t feed, int64_t now, const char *const *ids, size_t n)
{
	struct store_batch *b = NULL;
	ck_assert_int_eq(store_batch_begin(s, feed, now, &b), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		struct feed_item it = {.id = (char *)ids[i], .title = (char *)ids[i]};
		it.published = it.updated = FEED_NO_DATE;
		ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
	}
	struct store_fetch_update fu = {.fetched_at = now, .ok = true, .next_poll = now + 99999};
	ck_assert_int_eq(store_batch_commit(b, NULL, &fu, NULL, NULL), STORE_OK);
}

/* Waits until the log has s; fails when the daemon exits first. */
static void wait_log(const char *s)
{
	while (!log_contains(s)) {
		int st;
		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "feedd exited: %s",
		              tu_read_file(logpath, NULL));
		pause_ms(10);
	}
}

static int log_count(const char *s)
{
	char *text = tu_read_file(logpath, NULL);
	int n = 0;
	for (const char *p = text; (p = strstr(p, s)); p += strlen(s))
		n++;
	free(text);
	return n;
}

START_TEST(retention_prunes_at_start_up)
{
	int64_t now = (int64_t)time(NULL);
	int64_t id = add_with_next_poll("http://127.0.0.1:9/r", now + 99999, "test");
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	static const char *const old[] = {"a", "b", "c"}, *const fresh[] = {"d"};
	store_doc(s, id, now - 100, old, 3);
	store_doc(s, id, now - 50, fresh, 1);
	store_close(s);
	write_file(conf, "retain_items = 1\n");
	start();
	wait_log("retention: pruned 3 items"); /* on the store thread, after start-up */
	struct cjson r;
	request("{\"op\":\"status\"}", &r);
	ck_assert_int_eq(cjson_get(&r, "items")->u.i, 1);
	cjson_free(&r);
	ck_assert(log_contains("retention: pruned 3 items"));
}
END_TEST

/*
 * 50 items of one feed, each first seen in a document of its own (the
 * last is the latest fetch); retain_items = 5 and retain_batch = 4 leave
 * 45 to prune in 12 transactions.  The epoch goes to epoch[].
 */
static void big_store_to_prune(char *epoch)
{
	int64_t now = (int64_t)time(NULL);
	int64_t id = add_with_next_poll("http://127.0.0.1:9/big", now + 99999, "test");
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	for (int i = 0; i < 50; i++) {
		char key[16];
		const char *ids[] = {key};
		snprintf(key, sizeof key, "item%d", i);
		store_doc(s, id, now - 100 + i, ids, 1);
	}
	snprintf(epoch, STORE_EPOCH_LEN + 1, "%s", store_epoch(s));
	store_close(s);
	write_file(conf, "retain_items = 5\nretain_batch = 4\n");
}

START_TEST(retention_prunes_a_store_larger_than_one_batch_in_batches_to_the_end)
{
	char epoch[STORE_EPOCH_LEN + 1];
	big_store_to_prune(epoch);
	start();
	wait_log("retention: pruned 45 items and 45 events");
	ck_assert_int_eq(log_count("retention: step: 4 items and 4 events"), 11);
	ck_assert_int_eq(log_count("retention: step: 1 items and 1 events"), 1);
	ck_assert_int_eq(log_count("retention: pruned"), 1); /* one line for the whole prune */
	struct cjson r;
	request("{\"op\":\"status\"}", &r);
	ck_assert_int_eq(cjson_get(&r, "items")->u.i, 5);
	cjson_free(&r);
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	int64_t pu = 0, oldest = 0;
	ck_assert_int_eq(store_pruned_upto(s, &pu), STORE_OK);
	ck_assert_int_eq(store_oldest(s, &oldest), STORE_OK);
	ck_assert_int_eq(pu, 45);
	ck_assert_int_eq(oldest, 46);
	store_close(s);
	ck_assert_int_eq(stop(SIGTERM), 0);
}
END_TEST

/* Subscribes after "<epoch>:<seq>" and returns the first line that is not the hello. */
static char *subscribe_after(const char *epoch, int64_t seq, int *fd_out)
{
	int fd;
	while ((fd = connect_to(sub)) < 0)
		pause_ms(10);
	char *hello = read_line(fd);
	ck_assert_msg(hello && strstr(hello, "\"ev\":\"hello\""), "%s", hello);
	free(hello);
	char req[128];
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s:%lld\"}\n", epoch,
	         (long long)seq);
	send_all(fd, req, strlen(req));
	*fd_out = fd;
	return read_line(fd);
}

START_TEST(a_subscriber_below_what_retention_pruned_gets_cursor_expired)
{
	char epoch[STORE_EPOCH_LEN + 1];
	big_store_to_prune(epoch);
	start();
	wait_log("retention: pruned 45 items");
	int fd;
	char *line = subscribe_after(epoch, 44, &fd);
	ck_assert_msg(line && strstr(line, "cursor_expired"), "%s", line ? line : "(closed)");
	free(line);
	close(fd);
	line = subscribe_after(epoch, 45, &fd); /* at pruned_upto: everything after it is there */
	ck_assert_msg(line && strstr(line, "\"ev\":\"item\"") && strstr(line, "item45"), "%s",
	              line ? line : "(closed)");
	free(line);
	close(fd);
	ck_assert_int_eq(stop(SIGTERM), 0);
}
END_TEST

/*
 * 20,000 items to prune one per transaction (retain_batch = 1): far more
 * steps than the stop takes.  SIGTERM after the first step: the daemon
 * stops after the step in flight, with what was pruned so far logged,
 * instead of pruning to the end (or, as before, not even answering until
 * the prune was done).
 */
START_TEST(sigterm_during_a_long_prune_stops_after_the_step_in_flight)
{
	int64_t now = (int64_t)time(NULL);
	int64_t id = add_with_next_poll("http://127.0.0.1:9/long", now + 99999, "test");
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	static char keys[50][16];
	const char *ids[50];
	for (int d = 0; d < 401; d++) {
		for (int i = 0; i < 50; i++) {
			snprintf(keys[i], sizeof keys[i], "k%d", d * 50 + i);
			ids[i] = keys[i];
		}
		store_doc(s, id, now - 1000 + d, ids, 50);
	}
	store_close(s);
	write_file(conf, "retain_items = 1\nretain_batch = 1\n");
	start();
	wait_log("retention: step: 1 items");
	ck_assert_int_eq(stop(SIGTERM), 0);
	ck_assert(log_contains("(stopped before the end)"));
	ck_assert(!log_contains("retention: pruned 20000 items"));
	/* what was deleted is consistent: every event above pruned_upto is there */
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	int64_t pu = 0, oldest = 0;
	ck_assert_int_eq(store_pruned_upto(s, &pu), STORE_OK);
	ck_assert_int_eq(store_oldest(s, &oldest), STORE_OK);
	ck_assert_int_gt(pu, 0);
	ck_assert_int_eq(oldest, pu + 1);
	store_close(s);
}
END_TEST

START_TEST(start_up_spreads_first_polls)
{
	char url[64];
	for (int i = 0; i < 40; i++) {
		snprintf(url, sizeof url, "http://127.0.0.1:9/%d", i);
		add_with_next_poll(url, 0, NULL);
	}
	int64_t t0 = (int64_t)time(NULL);
	start();
	int64_t t1 = (int64_t)time(NULL);
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	int64_t lo = INT64_MAX, hi = 0;
	int waiting = 0;
	for (int64_t id = 1; id <= 40; id++) {
		struct store_feed f;
		ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
		if (!f.last_fetch) { /* not polled yet (those due at once may have been) */
			ck_assert_str_eq(f.next_poll_reason, "start-up spread");
			lo = f.next_poll < lo ? f.next_poll : lo;
			hi = f.next_poll > hi ? f.next_poll : hi;
			waiting++;
		}
		store_feed_clear(&f);
	}
	store_close(s);
	ck_assert_int_gt(waiting, 1);
	ck_assert_int_ge(lo, t0);
	ck_assert_int_lt(hi, t1 + 40);
	ck_assert_int_gt(hi, lo); /* not all at once */
}
END_TEST

START_TEST(spread_keeps_future_times_and_bounds_the_rest)
{
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	struct config c;
	config_defaults(&c);
	c.interval = 10;
	int64_t now = 1000000;
	for (int i = 0; i < 100; i++) {
		char url[64];
		snprintf(url, sizeof url, "http://127.0.0.1:9/%d", i);
		struct store_feed_new nf = {.url = url};
		ck_assert_int_eq(store_feed_add(s, &nf, now, NULL), STORE_OK);
	}
	ck_assert_int_eq(store_feed_set_next_poll(s, 1, now + 99999, "kept"), STORE_OK);
	size_t moved = 0;
	ck_assert_int_eq(daemon_spread(s, &c, now, &moved), 0);
	ck_assert_int_eq(moved, 99);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, 1, &f), STORE_OK);
	ck_assert_int_eq(f.next_poll, now + 99999);
	store_feed_clear(&f);
	for (int64_t id = 2; id <= 100; id++) {
		ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
		ck_assert_int_ge(f.next_poll, now);
		ck_assert_int_lt(f.next_poll, now + 10); /* window capped by the interval */
		store_feed_clear(&f);
	}
	store_close(s);
}
END_TEST

START_TEST(no_subcommand_runs_the_daemon_in_systemd_directories)
{
	char state[4200], run[100], cfgdir[4200], path[4300];
	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(run, sizeof run, "%s/run", dir);
	snprintf(cfgdir, sizeof cfgdir, "%s/etc", dir);
	mkdir(state, 0700);
	mkdir(run, 0700);
	mkdir(cfgdir, 0700);
	snprintf(path, sizeof path, "%s/feedd.conf", cfgdir);
	write_file(path, "log_level = debug\n");
	setenv("STATE_DIRECTORY", state, 1);
	setenv("RUNTIME_DIRECTORY", run, 1);
	setenv("CONFIGURATION_DIRECTORY", cfgdir, 1);
	char *none[] = {NULL};
	pid = spawn(none);
	snprintf(ctl, sizeof ctl, "%s/control.sock", run);
	wait_ready(ctl);
	ck_assert_str_eq(status_log_level(), "debug"); /* the config was read */
	snprintf(path, sizeof path, "%s/feedd.db", state);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(stop(SIGTERM), 0);
}
END_TEST

START_TEST(log_lines_carry_syslog_priorities)
{
	start();
	ck_assert_int_eq(stop(SIGTERM), 0);
	char *text = tu_read_file(logpath, NULL);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		ck_assert_msg(line[0] == '<' && strchr("34567", line[1]) && line[2] == '>',
		              "line without priority: %s", line);
	free(text);
}
END_TEST

static const char rss[] =
    "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Local</title>\n"
    "<item><guid>a1</guid><title>First light</title><link>http://x.invalid/1</link></item>\n"
    "<item><guid>a2</guid><title>Second wind</title><link>http://x.invalid/2</link></item>\n"
    "</channel></rss>\n";

START_TEST(file_feeds_are_polled_and_a_subscriber_receives_their_items)
{
	char feed[4200], text[8600];
	snprintf(feed, sizeof feed, "%s/local.xml", dir);
	write_file(feed, rss);
	snprintf(text, sizeof text, "allow_file = yes\n[feed \"file://%s\"]\ntitle = Local\n",
	         feed);
	write_file(conf, text);
	start();
	int fd;
	while ((fd = connect_to(sub)) < 0) /* bound with the control socket: already there */
		pause_ms(10);
	char *hello = read_line(fd);
	ck_assert_msg(hello && strstr(hello, "\"ev\":\"hello\""), "%s", hello);
	free(hello);
	const char *req = "{\"op\":\"sub\",\"after\":\"oldest\"}\n";
	send_all(fd, req, strlen(req));
	bool first = false, second = false;
	while (!first || !second) {
		char *line = read_line(fd);
		ck_assert_msg(line != NULL, "subscriber connection closed");
		if (strstr(line, "\"ev\":\"item\"")) {
			ck_assert_ptr_nonnull(strstr(line, "\"kind\":\"new\""));
			first |= strstr(line, "First light") != NULL;
			second |= strstr(line, "Second wind") != NULL;
		}
		free(line);
	}
	ck_assert_int_eq(stop(SIGTERM), 0);
	char *last = read_line(fd); /* the daemon said goodbye before it went */
	while (last && !strstr(last, "\"ev\":\"shutdown\"")) {
		free(last);
		last = read_line(fd);
	}
	ck_assert_msg(last != NULL, "no shutdown event");
	free(last);
	close(fd);
}
END_TEST

START_TEST(sigterm_exits_0_while_transfers_hang)
{
	struct event_base *base = event_base_new();
	struct httpd *srv = httpd_start(base);
	ck_assert_ptr_nonnull(srv);
	struct httpd_route r = {.path = "/hang", .mode = HTTPD_HANG};
	httpd_route(srv, &r);
	char text[1024];
	snprintf(text, sizeof text,
	         "allow_private = yes\nshutdown_timeout = 1s\ntotal_timeout = 10m\n"
	         "low_speed_time = 10m\n[feed \"%s\"]\n",
	         httpd_url(srv, "/hang"));
	write_file(conf, text);
	start();
	while (httpd_hits(srv, "/hang") < 1) /* the transfer is in flight */
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), pause_ms(5);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	int st;
	pid_t got;
	while ((got = waitpid(pid, &st, WNOHANG)) == 0) /* keep serving (by hanging) meanwhile */
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), pause_ms(5);
	ck_assert_int_eq(got, pid);
	pid = 0;
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert(log_contains("aborting 1 polls still in flight"));
	httpd_free(srv);
	event_base_free(base);
}
END_TEST

/* ---------------------------------------------------------------- feedctl */

/* Runs feedctl ARGS... --control-socket ctl (path derived from FEEDD_BIN's directory). */
static struct tu_run feedctl(const char *a1, const char *a2, const char *a3)
{
	static char bin[4200];
	snprintf(bin, sizeof bin, "%s", FEEDD_BIN);
	char *slash = strrchr(bin, '/');
	snprintf(slash + 1, sizeof bin - (size_t)(slash + 1 - bin), "feedctl");
	char *argv[8] = {bin};
	int n = 1;
	const char *extra[] = {a1, a2, a3};
	for (int i = 0; i < 3; i++)
		if (extra[i])
			argv[n++] = (char *)extra[i];
	argv[n++] = "--control-socket";
	argv[n++] = ctl;
	struct tu_run r;
	tu_run(&r, argv, NULL, 0);
	return r;
}

START_TEST(feedctl_add_list_remove_with_exit_codes)
{
	start();
	struct tu_run r = feedctl("add", "http://127.0.0.1:9/f", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "1\n");
	tu_run_free(&r);
	r = feedctl("add", "http://127.0.0.1:9/f", NULL);
	ck_assert_int_eq(r.status, 5);
	ck_assert_ptr_nonnull(strstr(r.err, "(exists)"));
	tu_run_free(&r);
	r = feedctl("add", "gopher://127.0.0.1/f", NULL);
	ck_assert_int_eq(r.status, 6);
	tu_run_free(&r);
	r = feedctl("list", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "http://127.0.0.1:9/f"));
	tu_run_free(&r);
	r = feedctl("list", "--json", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(r.out[0] == '[', "%s", r.out);
	tu_run_free(&r);
	r = feedctl("remove", "1", NULL);
	ck_assert_int_eq(r.status, 0);
	tu_run_free(&r);
	r = feedctl("remove", "1", NULL);
	ck_assert_int_eq(r.status, 4);
	tu_run_free(&r);
}
END_TEST

START_TEST(feedctl_why_status_metrics_export_poll_now)
{
	int64_t at = (int64_t)time(NULL) + 3600;
	add_with_next_poll("http://127.0.0.1:9/later", at, "interval 3600s");
	start();
	struct tu_run r = feedctl("why", "1", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "set by: interval 3600s"), "%s", r.out);
	tu_run_free(&r);
	r = feedctl("why", "7", NULL);
	ck_assert_int_eq(r.status, 4);
	tu_run_free(&r);
	r = feedctl("status", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "feeds "));
	tu_run_free(&r);
	r = feedctl("metrics", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "# TYPE feedd_fetch_duration_seconds histogram"));
	tu_run_free(&r);
	r = feedctl("export", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "xmlUrl=\"http://127.0.0.1:9/later\""));
	tu_run_free(&r);
	r = feedctl("poll-now", "http://127.0.0.1:9/later", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "1 feed scheduled now\n");
	tu_run_free(&r);
}
END_TEST

START_TEST(feedctl_import_adds_each_outline_through_the_daemon)
{
	start();
	char opml[4200];
	snprintf(opml, sizeof opml, "%s/subs.opml", dir);
	write_file(opml, "<?xml version=\"1.0\"?>\n<opml version=\"2.0\"><head/><body>\n"
	                 "<outline text=\"A\" title=\"Alpha\" xmlUrl=\"http://127.0.0.1:9/a\"/>\n"
	                 "<outline text=\"B\" xmlUrl=\"http://127.0.0.1:9/b\"/>\n"
	                 "<outline text=\"bad\" xmlUrl=\"ftp://127.0.0.1/c\"/>\n"
	                 "</body></opml>\n");
	struct tu_run r = feedctl("add", "http://127.0.0.1:9/b", NULL);
	tu_run_free(&r);
	r = feedctl("import", opml, NULL);
	ck_assert_msg(r.status == 6, "%d %s", r.status, r.err);
	ck_assert_str_eq(r.out, "added 1, already present 1, invalid 1\n");
	ck_assert_ptr_nonnull(strstr(r.err, "ftp://127.0.0.1/c"));
	tu_run_free(&r);
	r = feedctl("list", NULL, NULL);
	ck_assert_msg(strstr(r.out, "http://127.0.0.1:9/a (Alpha)"), "%s", r.out);
	tu_run_free(&r);
}
END_TEST

START_TEST(feedctl_shows_the_warning_of_a_broken_feed_stored_after_recovery)
{
	char feed[4200], text[8600];
	snprintf(feed, sizeof feed, "%s/broken.xml", dir);
	write_file(feed, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>B</title>\n"
	                 "<item><guid>a</guid><title>one</title></item>\n"
	                 "<item><guid>b</guid><title>two &nbsp; x</title></item>\n"
	                 "</channel></rss>\n");
	snprintf(text, sizeof text, "allow_file = yes\n[feed \"file://%s\"]\n", feed);
	write_file(conf, text);
	start();
	struct tu_run r;
	for (;;) { /* until the first poll is recorded */
		r = feedctl("list", NULL, NULL);
		ck_assert_int_eq(r.status, 0);
		if (!strstr(r.out, " new "))
			break;
		tu_run_free(&r);
		pause_ms(20);
	}
	ck_assert_msg(strstr(r.out, "      warning: line 4, column 32: undefined entity\n"), "%s",
	              r.out);
	tu_run_free(&r);
	r = feedctl("list", "--json", NULL);
	ck_assert_msg(strstr(r.out, "\"warning\":\"line 4, column 32: undefined entity\""), "%s",
	              r.out);
	tu_run_free(&r);
	r = feedctl("why", "1", NULL);
	ck_assert_msg(strstr(r.out, "  warning: line 4, column 32: undefined entity\n"), "%s", r.out);
	tu_run_free(&r);
	r = feedctl("metrics", NULL, NULL);
	ck_assert_msg(strstr(r.out, "\nfeedd_parse_errors_total 1\n"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "feedd_items_new_total 2"), "%s", r.out);
	tu_run_free(&r);
}
END_TEST

START_TEST(feedctl_without_a_daemon_exits_3)
{
	struct tu_run r = feedctl("list", NULL, NULL);
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot connect"));
	tu_run_free(&r);
	r = feedctl("why", NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	tu_run_free(&r);
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("process");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_bad_config_refuses_start_with_its_line_number);
	tcase_add_test(tc, a_missing_config_file_refuses_start);
	tcase_add_test(tc, sigterm_exits_0_and_removes_the_control_socket);
	tcase_add_test(tc, sigint_exits_0);
	tcase_add_test(tc, the_control_socket_is_mode_0600);
	tcase_add_test(tc, the_control_socket_mode_is_configurable);
	tcase_add_test(tc, a_second_daemon_on_the_same_socket_is_refused);
	tcase_add_test(tc, control_commands_work_over_the_socket);
	tcase_add_test(tc, several_requests_on_one_connection_get_replies_in_order);
	tcase_add_test(tc, a_line_too_long_gets_an_error_and_close);
	tcase_add_test(tc, too_many_control_clients_are_refused);
	tcase_add_test(tc, an_idle_control_client_is_disconnected);
	tcase_add_test(tc, a_client_past_the_output_limit_is_paused_and_loses_nothing);
	tcase_add_test(tc, sighup_applies_a_good_config);
	tcase_add_test(tc, sighup_with_a_bad_config_keeps_the_old_one);
	tcase_add_test(tc, sighup_applies_new_limits);
	tcase_add_test(tc, sighup_adds_feeds_of_new_feed_sections);
	tcase_add_test(tc, the_schedule_survives_a_restart);
	tcase_add_test(tc, start_up_spreads_first_polls);
	tcase_add_test(tc, retention_prunes_at_start_up);
	tcase_add_test(tc, retention_prunes_a_store_larger_than_one_batch_in_batches_to_the_end);
	tcase_add_test(tc, a_subscriber_below_what_retention_pruned_gets_cursor_expired);
	tcase_add_test(tc, sigterm_during_a_long_prune_stops_after_the_step_in_flight);
	tcase_add_test(tc, spread_keeps_future_times_and_bounds_the_rest);
	tcase_add_test(tc, no_subcommand_runs_the_daemon_in_systemd_directories);
	tcase_add_test(tc, log_lines_carry_syslog_priorities);
	tcase_add_test(tc, file_feeds_are_polled_and_a_subscriber_receives_their_items);
	tcase_add_test(tc, sigterm_exits_0_while_transfers_hang);
	suite_add_tcase(s, tc);
	tc = tcase_create("feedctl");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, feedctl_add_list_remove_with_exit_codes);
	tcase_add_test(tc, feedctl_why_status_metrics_export_poll_now);
	tcase_add_test(tc, feedctl_shows_the_warning_of_a_broken_feed_stored_after_recovery);
	tcase_add_test(tc, feedctl_import_adds_each_outline_through_the_daemon);
	tcase_add_test(tc, feedctl_without_a_daemon_exits_3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(daemon_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
