/* test_sdnotify.c - the systemd protocols against a real datagram socket. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdnotify.h"
#include "testutil.h"

/* Binds a datagram socket at name ("@abstract" or a path) with the exact length. */
static int bind_dgram(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)), 0);
	return fd;
}

static void recv_expect(int fd, const char *want)
{
	char buf[4096];
	ssize_t r = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	ck_assert_int_gt(r, 0);
	buf[r] = 0;
	ck_assert_str_eq(buf, want);
}

START_TEST(test_send_without_notify_socket_is_a_silent_noop)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(sdnotify_send("READY=1"), 0);
}
END_TEST

START_TEST(test_send_reaches_an_abstract_socket_bound_with_exact_length)
{
	char name[64];
	snprintf(name, sizeof name, "@feedd-test-%d", (int)getpid());
	int fd = bind_dgram(name);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_int_eq(sdnotify_send("READY=1\nSTATUS=ok"), 1);
	recv_expect(fd, "READY=1\nSTATUS=ok");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(test_send_reaches_a_path_socket)
{
	char *dir = tu_tmpdir();
	char path[4096];
	snprintf(path, sizeof path, "%s/notify", dir);
	int fd = bind_dgram(path);
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_int_eq(sdnotify_sendf("STATUS=%d feeds", 12), 1);
	recv_expect(fd, "STATUS=12 feeds");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_send_to_a_relative_path_is_refused)
{
	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	ck_assert_int_eq(sdnotify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(test_watchdog_usec_read_for_this_pid_only)
{
	char pid[32];
	setenv("WATCHDOG_USEC", "3000000", 1);
	unsetenv("WATCHDOG_PID");
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 3000000);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 3000000);
	setenv("WATCHDOG_PID", "1", 1);
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "junk", 1);
	unsetenv("WATCHDOG_PID");
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 0);
}
END_TEST

/* Runs in a child: fd 3 and 4 are passed the way systemd passes them. */
static int listen_fds_child(void)
{
	int sv[2], sv2[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv2))
		return 10;
	if (dup2(sv[0], 3) != 3 || dup2(sv2[0], 4) != 4)
		return 11;
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("LISTEN_FDNAMES", "sub:control", 1);
	struct sdnotify_fd fds[4];
	int n = sdnotify_listen_fds(fds, 4);
	if (n != 2)
		return 12;
	if (fds[0].fd != 3 || strcmp(fds[0].name, "sub") || fds[1].fd != 4 ||
	    strcmp(fds[1].name, "control"))
		return 13;
	if (!(fcntl(3, F_GETFD) & FD_CLOEXEC) || !(fcntl(4, F_GETFD) & FD_CLOEXEC))
		return 14;
	if (getenv("LISTEN_PID") || getenv("LISTEN_FDS") || getenv("LISTEN_FDNAMES"))
		return 15;
	return 0;
}

START_TEST(test_listen_fds_taken_cloexec_named_and_variables_unset)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(listen_fds_child());
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

START_TEST(test_listen_fds_for_another_pid_are_ignored)
{
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	struct sdnotify_fd fds[1];
	ck_assert_int_eq(sdnotify_listen_fds(fds, 1), 0);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	ck_assert_int_eq(sdnotify_listen_fds(fds, 1), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sdnotify");
	TCase *tc = tcase_create("sdnotify");
	tcase_add_test(tc, test_send_without_notify_socket_is_a_silent_noop);
	tcase_add_test(tc, test_send_reaches_an_abstract_socket_bound_with_exact_length);
	tcase_add_test(tc, test_send_reaches_a_path_socket);
	tcase_add_test(tc, test_send_to_a_relative_path_is_refused);
	tcase_add_test(tc, test_watchdog_usec_read_for_this_pid_only);
	tcase_add_test(tc, test_listen_fds_taken_cloexec_named_and_variables_unset);
	tcase_add_test(tc, test_listen_fds_for_another_pid_are_ignored);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
