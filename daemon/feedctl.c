/*
 * feedctl.c - feedctl's entry point, its command table, and the socket and
 * line helpers the commands share.  A new command is a file
 * daemon/feedctl_NAME.c and one row in feedctl_cmds[].
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "feedctl.h"
#include "feedctl_ctl.h"

static const struct feedctl_cmd feedctl_cmds[] = {
	{"tail", feedctl_tail, feedctl_tail_usage, "subscribe and print events"},
	{"add", feedctl_add, feedctl_add_usage, "add a feed"},
	{"remove", feedctl_remove, feedctl_remove_usage, "remove a feed with its items"},
	{"list", feedctl_list, feedctl_list_usage, "feeds: state, last fetch, next poll, error"},
	{"poll-now", feedctl_poll_now, feedctl_poll_now_usage, "poll a feed (or all) now"},
	{"why", feedctl_why, feedctl_why_usage, "when a feed is polled next, and why"},
	{"status", feedctl_status, feedctl_status_usage, "the daemon's state"},
	{"metrics", feedctl_metrics, feedctl_metrics_usage, "Prometheus metrics"},
	{"import", feedctl_import, feedctl_import_usage, "add the feeds of an OPML file"},
	{"export", feedctl_export, feedctl_export_usage, "print every feed as OPML 2.0"},
};

static void feedctl_usage(FILE *f)
{
	fprintf(f, "usage: feedctl COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof feedctl_cmds / sizeof feedctl_cmds[0]; i++)
		fprintf(f, "  feedctl %s\n      %s\n", feedctl_cmds[i].usage, feedctl_cmds[i].help);
	fprintf(f, "\nexit status: 0 ok, 1 error (feedd's, protocol, cursor, output), "
		   "2 usage, 3 cannot connect,\n"
		   "             4 no such feed, 5 feed already exists, 6 invalid URL or input\n");
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		feedctl_usage(stderr);
		return FEEDCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		feedctl_usage(stdout);
		return FEEDCTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("feedctl %s\n", FEEDD_VERSION);
		return FEEDCTL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof feedctl_cmds / sizeof feedctl_cmds[0]; i++)
		if (!strcmp(argv[1], feedctl_cmds[i].name))
			return feedctl_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "feedctl: unknown command '%s'\n", argv[1]);
	feedctl_usage(stderr);
	return FEEDCTL_EXIT_USAGE;
}

/* ---------------------------------------------------------------- sockets */

const char *feedctl_sub_socket(char *buf, size_t len)
{
	const char *env = getenv("FEEDD_SOCKET");
	const char *rt = getenv("RUNTIME_DIRECTORY");
	struct stat st;
	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (rt && *rt)
		snprintf(buf, len, "%.*s/sub.sock", (int)strcspn(rt, ":"), rt);
	else if (stat("/run/feedd/sub.sock", &st) == 0)
		snprintf(buf, len, "/run/feedd/sub.sock");
	else
		snprintf(buf, len, "feedd.sock");
	return buf;
}

int feedctl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int feedctl_write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* ---------------------------------------------------------------- lines */

void feedctl_conn_init(struct feedctl_conn *c, int fd, size_t max_line)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->max_line = max_line;
}

static char *feedctl_conn_find(const struct feedctl_conn *c)
{
	return c->len > c->off ? memchr(c->buf + c->off, '\n', c->len - c->off) : NULL;
}

int feedctl_conn_pending(const struct feedctl_conn *c)
{
	return feedctl_conn_find(c) != NULL;
}

/* Makes room for at least one more read. */
static int feedctl_conn_room(struct feedctl_conn *c)
{
	if (c->off) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len > c->max_line) {
		errno = EMSGSIZE;
		return -1;
	}
	if (c->cap - c->len < 4096) {
		size_t nc = c->cap ? c->cap * 2 : 65536;
		char *nb = realloc(c->buf, nc + 1);
		if (!nb)
			return -1;
		c->buf = nb;
		c->cap = nc;
	}
	return 0;
}

int feedctl_conn_readline(struct feedctl_conn *c, char **line, size_t *len)
{
	char *nl;
	while (!(nl = feedctl_conn_find(c))) {
		if (feedctl_conn_room(c))
			return -1;
		ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		c->len += (size_t)r;
	}
	*line = c->buf + c->off;
	*len = (size_t)(nl - *line);
	if (*len > c->max_line) {
		errno = EMSGSIZE;
		return -1;
	}
	*nl = 0;
	c->off += *len + 1;
	return 1;
}

void feedctl_conn_free(struct feedctl_conn *c)
{
	free(c->buf);
	memset(c, 0, sizeof *c);
}
