/*
 * feedctl.h - feedctl, the client of both feedd sockets: the command table
 * (daemon/feedctl.c) and what the commands share (connecting, reading and
 * writing JSON lines).  One file per command: daemon/feedctl_tail.c ...
 *
 * Exit statuses every command keeps (scripts rely on them):
 *	0  success (tail: the daemon shut down or closed the connection)
 *	1  error reported by feedd, protocol error, cursor (file) error,
 *	   output error
 *	2  usage error
 *	3  cannot connect to the socket
 * Errors go to stderr as one line "feedctl: COMMAND: ..." (with the
 * protocol's error code when feedd sent one).
 */
#ifndef FEEDD_FEEDCTL_H
#define FEEDD_FEEDCTL_H

#include <stddef.h>

enum {
	FEEDCTL_EXIT_OK = 0,
	FEEDCTL_EXIT_ERROR = 1,
	FEEDCTL_EXIT_USAGE = 2,
	FEEDCTL_EXIT_CONNECT = 3,
};

/* A command: argv[0] is the command's name.  Returns the exit status. */
struct feedctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage; /* "tail [--socket PATH] ..." */
	const char *help;  /* one line */
};

/* feedctl tail (daemon/feedctl_tail.c) */
int feedctl_tail(int argc, char **argv);
extern const char feedctl_tail_usage[];

/*
 * The subscriber socket when --socket is not given: $FEEDD_SOCKET, else
 * $RUNTIME_DIRECTORY/sub.sock, else /run/feedd/sub.sock when it exists,
 * else ./feedd.sock.  Written into buf.
 */
const char *feedctl_sub_socket(char *buf, size_t len);

/* Connects to the UNIX socket at path.  Returns the fd, or -1 with errno set. */
int feedctl_connect(const char *path);

/* A blocking line reader over a socket. */
struct feedctl_conn {
	int fd;
	char *buf;
	size_t len; /* bytes held */
	size_t off; /* start of the next line */
	size_t cap;
	size_t max_line;
};

/* Starts reading fd (owned by the caller) with lines of at most max_line bytes. */
void feedctl_conn_init(struct feedctl_conn *c, int fd, size_t max_line);
/*
 * The next line (without its LF, NUL-terminated, valid until the next call)
 * into *line.  Returns 1, 0 at EOF, -1 on error (errno; EMSGSIZE for a line
 * over max_line, EINTR when a signal interrupted the wait).
 */
int feedctl_conn_readline(struct feedctl_conn *c, char **line, size_t *len);
/* True when a complete line is already buffered (the next read won't block). */
int feedctl_conn_pending(const struct feedctl_conn *c);
void feedctl_conn_free(struct feedctl_conn *c);

/* Writes all of data to fd.  0, or -1 with errno. */
int feedctl_write_all(int fd, const char *data, size_t len);

#endif
