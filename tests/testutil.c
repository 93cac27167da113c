/* testutil.c - see testutil.h */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "tu_read_file: %s: %s\n", path, strerror(errno));
		abort();
	}
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap + 1);
	size_t r;
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			b = realloc(b, cap + 1);
		}
	}
	fclose(f);
	if (!b)
		abort();
	b[n] = 0;
	if (len)
		*len = n;
	return b;
}

const char *tu_fixture(const char *name)
{
	static char slots[8][4096];
	static int next;
	char *s = slots[next++ & 7];
	snprintf(s, sizeof slots[0], "%s/%s", FIXTURES, name);
	return s;
}

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof tmpl, "%s/feedd-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl))
		abort();
	return strdup(tmpl);
}

void tu_rmtree(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void tu_drain(int fd, char **buf, size_t *len, size_t *cap)
{
	if (*len + 65536 + 1 > *cap) {
		*cap = (*len + 65536 + 1) * 2;
		*buf = realloc(*buf, *cap);
		if (!*buf)
			abort();
	}
	ssize_t r = fd < 0 ? 0 : read(fd, *buf + *len, *cap - *len - 1);
	if (r > 0)
		*len += (size_t)r;
	(*buf)[*len] = 0;
}

void tu_run(struct tu_run *r, char *const argv[], const char *in, size_t inlen)
{
	int po[2], pe[2], pi[2];
	if (pipe(po) || pipe(pe) || pipe(pi))
		abort();
	signal(SIGPIPE, SIG_IGN);
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(pi[0]), close(pi[1]), close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pi[0]), close(po[1]), close(pe[1]);
	memset(r, 0, sizeof *r);
	size_t ocap = 0, ecap = 0, written = 0;
	int ofd = po[0], efd = pe[0], ifd = pi[1];
	if (!in || !inlen) {
		close(ifd);
		ifd = -1;
	} else {
		fcntl(ifd, F_SETFL, O_NONBLOCK);
	}
	tu_drain(-1, &r->out, &r->outlen, &ocap);
	tu_drain(-1, &r->err, &r->errlen, &ecap);
	while (ofd >= 0 || efd >= 0) {
		struct pollfd p[3] = {{ofd, POLLIN, 0}, {efd, POLLIN, 0}, {ifd, POLLOUT, 0}};
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			abort();
		if (p[0].revents) {
			size_t before = r->outlen;
			tu_drain(ofd, &r->out, &r->outlen, &ocap);
			if (r->outlen == before)
				close(ofd), ofd = -1;
		}
		if (p[1].revents) {
			size_t before = r->errlen;
			tu_drain(efd, &r->err, &r->errlen, &ecap);
			if (r->errlen == before)
				close(efd), efd = -1;
		}
		if (ifd >= 0 && p[2].revents) {
			ssize_t w = write(ifd, in + written, inlen - written);
			if (w > 0)
				written += (size_t)w;
			if (w < 0 && errno != EAGAIN)
				written = inlen;
			if (written == inlen)
				close(ifd), ifd = -1;
		}
	}
	if (ifd >= 0)
		close(ifd);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void tu_run_free(struct tu_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int tu_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own descriptor */
}
