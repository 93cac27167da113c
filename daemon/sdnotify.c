/* sdnotify.c - see sdnotify.h */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"

#define SDNOTIFY_FDS_START 3

int sdnotify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	/* Exact length: an abstract name is not NUL-terminated, and the
	 * kernel compares all addrlen bytes. */
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return w < 0 ? -1 : 1;
}

int sdnotify_sendf(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return sdnotify_send(msg);
}

static int sdnotify_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int sdnotify_for_us(const char *pidvar)
{
	uint64_t pid;
	const char *s = getenv(pidvar);
	if (!s)
		return 1;
	return sdnotify_parse_u64(s, &pid) == 0 && pid == (uint64_t)getpid();
}

uint64_t sdnotify_watchdog_usec(void)
{
	uint64_t usec;
	if (sdnotify_parse_u64(getenv("WATCHDOG_USEC"), &usec) || !usec)
		return 0;
	return sdnotify_for_us("WATCHDOG_PID") ? usec : 0;
}

uint64_t sdnotify_monotonic_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sdnotify_unset(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

int sdnotify_listen_fds(struct sdnotify_fd *fds, size_t max)
{
	uint64_t n;
	if (!getenv("LISTEN_PID") || !sdnotify_for_us("LISTEN_PID"))
		return 0;
	if (sdnotify_parse_u64(getenv("LISTEN_FDS"), &n) || n > 4096) {
		sdnotify_unset();
		return -1;
	}
	const char *names = getenv("LISTEN_FDNAMES");
	for (uint64_t i = 0; i < n; i++) {
		int fd = SDNOTIFY_FDS_START + (int)i;
		if (i >= max) {
			close(fd);
			continue;
		}
		fds[i].fd = fd;
		fds[i].name[0] = '\0';
		int flags = fcntl(fd, F_GETFD);
		if (flags >= 0)
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
		if (names) {
			size_t len = strcspn(names, ":");
			if (len >= sizeof fds[i].name)
				len = sizeof fds[i].name - 1;
			memcpy(fds[i].name, names, len);
			fds[i].name[len] = '\0';
			names = strchr(names, ':');
			if (names)
				names++;
		}
	}
	sdnotify_unset();
	return (int)n;
}
