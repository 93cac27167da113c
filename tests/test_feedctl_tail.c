/*
 * test_feedctl_tail.c - the built feedctl binary's `tail` against a real
 * notify server (in this process, its loop driven while feedctl runs as a
 * child): output formats, --cursor-file resuming exactly where it
 * stopped, exit statuses.
 */
#include <libgen.h>
#include <signal.h>
#include <sys/wait.h>

#include "notify_harness.h"

static struct nh h;
static char feedctl[4096];
static char curfile[4200];

static void setup(void)
{
	char bin[4096];
	snprintf(bin, sizeof bin, "%s", FEEDD_BIN);
	snprintf(feedctl, sizeof feedctl, "%s/feedctl", dirname(bin));
	nh_start(&h, NULL);
	snprintf(curfile, sizeof curfile, "%s/cursor", h.dir);
}

static void teardown(void)
{
	nh_stop(&h);
}

/* A running feedctl with its stdout and stderr collected. */
struct fc {
	pid_t pid;
	int out, err;
	struct buf o, e;
	int status;
};

static void fc_start(struct fc *f, const char *const *args)
{
	char *argv[16];
	int po[2], pe[2];
	size_t n = 0;
	memset(f, 0, sizeof *f);
	argv[n++] = feedctl;
	argv[n++] = "tail";
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		execv(feedctl, argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	f->out = po[0];
	f->err = pe[0];
	fcntl(f->out, F_SETFL, O_NONBLOCK);
	fcntl(f->err, F_SETFL, O_NONBLOCK);
	f->status = -1;
}

static void fc_read(int fd, struct buf *b)
{
	char tmp[65536];
	ssize_t r;
	while (fd >= 0 && (r = read(fd, tmp, sizeof tmp)) > 0)
		ck_assert_int_eq(buf_append(b, tmp, (size_t)r), 0);
}

/* One turn: the server's loop, then what feedctl printed. */
static void fc_turn(struct fc *f)
{
	struct pollfd p[2] = {{f->out, POLLIN, 0}, {f->err, POLLIN, 0}};
	nh_spin(&h);
	poll(p, 2, 2);
	fc_read(f->out, &f->o);
	fc_read(f->err, &f->e);
}

static size_t fc_lines(const struct fc *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->o.len; i++)
		n += f->o.data[i] == '\n';
	return n;
}

/* Drives the server until feedctl printed at least n lines. */
static void fc_wait_lines(struct fc *f, size_t n)
{
	double deadline = nh_clock() + NH_DEADLINE_S;
	while (fc_lines(f) < n) {
		fc_turn(f);
		ck_assert_msg(nh_clock() < deadline,
		              "feedctl printed %zu of %zu lines; stderr: %.*s", fc_lines(f), n,
		              (int)f->e.len, f->e.data ? f->e.data : "");
	}
}

/* Drives the server until feedctl exits; returns its exit status. */
static int fc_wait(struct fc *f)
{
	double deadline = nh_clock() + NH_DEADLINE_S;
	int st;
	for (;;) {
		fc_turn(f);
		pid_t r = waitpid(f->pid, &st, WNOHANG);
		if (r == f->pid)
			break;
		ck_assert_msg(nh_clock() < deadline, "feedctl did not exit");
	}
	fc_read(f->out, &f->o);
	fc_read(f->err, &f->e);
	buf_append(&f->o, "", 1);
	f->o.len--;
	buf_append(&f->e, "", 1);
	f->e.len--;
	close(f->out);
	close(f->err);
	f->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (f->status == 0) /* success says nothing (and a sanitizer build reports nothing) */
		ck_assert_msg(f->e.len == 0, "stderr: %s", f->e.data);
	return f->status;
}

static void fc_free(struct fc *f)
{
	buf_free(&f->o);
	buf_free(&f->e);
}

/* Line i (0-based) of the output, parsed. */
static void fc_line(const struct fc *f, size_t i, struct cjson *v)
{
	const char *s = f->o.data, *end = f->o.data + f->o.len;
	char err[128];
	for (; i; i--)
		s = memchr(s, '\n', (size_t)(end - s)) + 1;
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	ck_assert_ptr_nonnull(nl);
	ck_assert_msg(cjson_parse(s, (size_t)(nl - s), v, err, sizeof err) == 0, "%s", err);
}

static void expect_item_line(const struct fc *f, size_t i, int64_t seq)
{
	struct cjson v;
	char want[STORE_CURSOR_MAX];
	fc_line(f, i, &v);
	nh_cursor(&h, seq, want, sizeof want);
	ck_assert_str_eq(cjson_get_str(&v, "ev"), "item");
	ck_assert_str_eq(cjson_get_str(&v, "cursor"), want);
	cjson_free(&v);
}

static void expect_cursor_file(int64_t seq)
{
	char want[STORE_CURSOR_MAX + 1];
	nh_cursor(&h, seq, want, sizeof want - 1);
	strcat(want, "\n");
	char *got = tu_read_file(curfile, NULL);
	ck_assert_str_eq(got, want);
	free(got);
}

/* The daemon stops: shutdown to everyone, then a new server on the same path. */
static void restart_server(void)
{
	char err[256];
	notify_shutdown(h.n);
	double deadline = nh_clock() + NH_DEADLINE_S;
	while (notify_connection_count(h.n)) {
		nh_spin(&h);
		ck_assert(nh_clock() < deadline);
	}
	notify_free(h.n);
	h.n = notify_new(h.base, h.store, &h.lim, NULL, NULL);
	ck_assert_msg(notify_listen_path(h.n, h.sock, 0660, err, sizeof err) == 0, "%s", err);
}

START_TEST(tail_prints_json_lines_and_resumes_from_the_cursor_file_exactly)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 5);
	struct fc f;
	const char *a1[] = {"--socket",      h.sock,  "--after", "oldest",
	                    "--cursor-file", curfile, NULL};
	fc_start(&f, a1);
	fc_wait_lines(&f, 6); /* 5 items and live */
	for (int i = 0; i < 5; i++)
		expect_item_line(&f, (size_t)i, i + 1);
	struct cjson v;
	fc_line(&f, 5, &v);
	ck_assert_str_eq(cjson_get_str(&v, "ev"), "live");
	cjson_free(&v);
	nh_commit(&h, feed, 2); /* live ones: 6, 7 */
	fc_wait_lines(&f, 8);
	expect_item_line(&f, 6, 6);
	expect_item_line(&f, 7, 7);
	restart_server();
	ck_assert_int_eq(fc_wait(&f), 0);
	expect_cursor_file(7);
	fc_free(&f);

	nh_commit(&h, feed, 3); /* 8..10 while nobody listened */
	const char *a2[] = {"--socket", h.sock, "--cursor-file", curfile, NULL};
	fc_start(&f, a2);
	fc_wait_lines(&f, 4);
	for (int i = 0; i < 3; i++)
		expect_item_line(&f, (size_t)i, 8 + i);
	restart_server();
	ck_assert_int_eq(fc_wait(&f), 0);
	ck_assert_uint_eq(fc_lines(&f), 4); /* nothing twice, nothing more */
	expect_cursor_file(10);
	fc_free(&f);
}
END_TEST

START_TEST(tail_stopped_by_sigterm_saves_its_cursor_and_resumes_after_it)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 3);
	struct fc f;
	const char *a1[] = {"--socket",      h.sock,  "--after", "oldest",
	                    "--cursor-file", curfile, NULL};
	fc_start(&f, a1);
	fc_wait_lines(&f, 4);
	kill(f.pid, SIGTERM);
	ck_assert_int_eq(fc_wait(&f), 0);
	expect_cursor_file(3);
	fc_free(&f);
	nh_commit(&h, feed, 2);
	const char *a2[] = {"--socket",      h.sock,  "--after", "oldest",
	                    "--cursor-file", curfile, NULL}; /* the file wins over --after */
	fc_start(&f, a2);
	fc_wait_lines(&f, 3);
	expect_item_line(&f, 0, 4);
	expect_item_line(&f, 1, 5);
	kill(f.pid, SIGTERM);
	ck_assert_int_eq(fc_wait(&f), 0);
	expect_cursor_file(5);
	fc_free(&f);
}
END_TEST

START_TEST(tail_killed_hard_has_already_saved_the_cursor_of_each_printed_event)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 5);
	struct fc f;
	const char *a1[] = {"--socket",      h.sock,  "--after", "oldest",
	                    "--cursor-file", curfile, NULL};
	fc_start(&f, a1);
	fc_wait_lines(&f, 6); /* 5 items, then live: item 5 was handled before live came */
	expect_cursor_file(5);
	kill(f.pid, SIGKILL);
	ck_assert_int_eq(fc_wait(&f), 128 + SIGKILL);
	expect_cursor_file(5);
	fc_free(&f);
}
END_TEST

START_TEST(tail_line_format_prints_one_readable_line_per_item)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	ck_assert_int_eq(store_feed_set_user(h.store, feed, "Example\nFeed", 0, false), STORE_OK);
	nh_commit(&h, feed, 2);
	struct fc f;
	const char *a[] = {"--socket", h.sock, "--after", "oldest", "--format", "line", NULL};
	fc_start(&f, a);
	fc_wait_lines(&f, 2);
	restart_server();
	ck_assert_int_eq(fc_wait(&f), 0);
	ck_assert_uint_eq(fc_lines(&f), 2);
	ck_assert_ptr_nonnull(strstr(f.o.data, "Example Feed: Item 1  https://example.org/1\n"));
	ck_assert_ptr_nonnull(strstr(f.o.data, "Example Feed: Item 2  https://example.org/2\n"));
	ck_assert_ptr_null(strchr(f.o.data, '{'));
	fc_free(&f);
}
END_TEST

START_TEST(tail_feeds_option_filters)
{
	int64_t a = nh_feed(&h, "https://example.org/a.xml");
	int64_t b = nh_feed(&h, "https://example.org/b.xml");
	nh_commit(&h, a, 2);
	nh_commit(&h, b, 1);
	char feeds[32];
	snprintf(feeds, sizeof feeds, "%" PRId64, b);
	struct fc f;
	const char *args[] = {"--socket", h.sock, "--after", "oldest", "--feeds", feeds, NULL};
	fc_start(&f, args);
	fc_wait_lines(&f, 2);
	expect_item_line(&f, 0, 3);
	restart_server();
	ck_assert_int_eq(fc_wait(&f), 0);
	fc_free(&f);
}
END_TEST

START_TEST(tail_exits_0_when_the_connection_closes)
{
	struct fc f;
	const char *args[] = {"--socket", h.sock, NULL};
	fc_start(&f, args);
	fc_wait_lines(&f, 1); /* live */
	notify_free(h.n);     /* no shutdown line: a plain EOF */
	h.n = notify_new(h.base, h.store, &h.lim, NULL, NULL);
	ck_assert_int_eq(fc_wait(&f), 0);
	fc_free(&f);
}
END_TEST

START_TEST(tail_cursor_error_from_feedd_exits_1_with_the_code)
{
	FILE *cf = fopen(curfile, "w");
	fputs("0123456789abcdef0123456789abcdef:3\n", cf);
	fclose(cf);
	struct fc f;
	const char *args[] = {"--socket", h.sock, "--cursor-file", curfile, NULL};
	fc_start(&f, args);
	ck_assert_int_eq(fc_wait(&f), 1);
	ck_assert_ptr_nonnull(strstr(f.e.data, "epoch_mismatch"));
	fc_free(&f);
}
END_TEST

START_TEST(tail_unreadable_cursor_file_exits_1)
{
	FILE *cf = fopen(curfile, "w");
	fputs("garbage\n", cf);
	fclose(cf);
	struct fc f;
	const char *args[] = {"--socket", h.sock, "--cursor-file", curfile, NULL};
	fc_start(&f, args);
	ck_assert_int_eq(fc_wait(&f), 1);
	ck_assert_ptr_nonnull(strstr(f.e.data, "cursor file"));
	fc_free(&f);
}
END_TEST

START_TEST(tail_without_a_daemon_exits_3)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/nobody.sock", h.dir);
	char *argv[] = {feedctl, "tail", "--socket", path, NULL};
	struct tu_run r;
	tu_run(&r, argv, NULL, 0);
	ck_assert_int_eq(r.status, 3);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot connect"));
	tu_run_free(&r);
}
END_TEST

static const char *const usage_errors[][3] = {
    {"--format", "xml", NULL}, {"--after", "yesterday", NULL}, {"--feeds", "0", NULL},
    {"--feeds", "3,x", NULL},  {"--bogus", NULL, NULL},        {"extra", NULL, NULL},
};

START_TEST(tail_usage_errors_exit_2)
{
	char *argv[8] = {feedctl, "tail", "--socket", h.sock};
	size_t n = 4;
	for (size_t i = 0; i < 3 && usage_errors[_i][i]; i++)
		argv[n++] = (char *)usage_errors[_i][i];
	argv[n] = NULL;
	struct tu_run r;
	tu_run(&r, argv, NULL, 0);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "usage"));
	tu_run_free(&r);
}
END_TEST

START_TEST(feedctl_unknown_command_exits_2)
{
	char *argv[] = {feedctl, "frobnicate", NULL};
	struct tu_run r;
	tu_run(&r, argv, NULL, 0);
	ck_assert_int_eq(r.status, 2);
	tu_run_free(&r);
}
END_TEST

static Suite *tail_suite(void)
{
	Suite *s = suite_create("feedctl_tail");
	TCase *tc = tcase_create("tail");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tail_prints_json_lines_and_resumes_from_the_cursor_file_exactly);
	tcase_add_test(tc, tail_stopped_by_sigterm_saves_its_cursor_and_resumes_after_it);
	tcase_add_test(tc, tail_killed_hard_has_already_saved_the_cursor_of_each_printed_event);
	tcase_add_test(tc, tail_line_format_prints_one_readable_line_per_item);
	tcase_add_test(tc, tail_feeds_option_filters);
	tcase_add_test(tc, tail_exits_0_when_the_connection_closes);
	tcase_add_test(tc, tail_cursor_error_from_feedd_exits_1_with_the_code);
	tcase_add_test(tc, tail_unreadable_cursor_file_exits_1);
	tcase_add_test(tc, tail_without_a_daemon_exits_3);
	tcase_add_loop_test(tc, tail_usage_errors_exit_2, 0,
	                    (int)(sizeof usage_errors / sizeof usage_errors[0]));
	tcase_add_test(tc, feedctl_unknown_command_exits_2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tail_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
