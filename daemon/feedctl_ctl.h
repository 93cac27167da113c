/*
 * feedctl_ctl.h - feedctl's control commands (daemon/feedctl_ctl.c): add,
 * remove, list, poll-now, why, status, metrics, import, export, each a
 * request on feedd's control socket (see control.h for the protocol).
 *
 * Every command takes --control-socket PATH; without it the socket is
 * $FEEDD_CONTROL_SOCKET, else $RUNTIME_DIRECTORY/control.sock, else
 * /run/feedd/control.sock when it exists, else ./feedd-control.sock.
 * list, why and status print text, or feedd's JSON with --json.
 *
 * Exit statuses (the common ones of feedctl.h, plus):
 *	4  no such feed (not_found)
 *	5  the feed already exists (exists)
 *	6  invalid URL or input (invalid; import: some outlines were invalid)
 */
#ifndef FEEDD_FEEDCTL_CTL_H
#define FEEDD_FEEDCTL_CTL_H

#include <stdbool.h>

#include "common_json.h"
#include "feedctl.h"

enum {
	FEEDCTL_EXIT_NOT_FOUND = 4,
	FEEDCTL_EXIT_EXISTS = 5,
	FEEDCTL_EXIT_INVALID = 6,
};

/* Replies can be large (list, export of many feeds); requests are small. */
#define FEEDCTL_CTL_REPLY_MAX (256u << 20)

/* One control command being run. */
struct feedctl_ctl {
	const char *name;
	const char *usage;
	const char *path; /* control socket */
	const char *title;
	bool json;
	char **args; /* operands */
	int nargs;
	int fd;
	struct feedctl_conn conn;
	struct cjson reply;
	char pathbuf[256];
};

#define FEEDCTL_CTL_INIT(cname, u)                                                                 \
	{                                                                                          \
		.name = cname, .usage = u, .fd = -1                                                \
	}

/*
 * Parses --control-socket, --title (add only) and --json; the operands
 * (c->args, c->nargs) must number between min and max.  Returns 0, or -1
 * for a usage error (then return feedctl_ctl_usage(c)).
 */
int feedctl_ctl_options(struct feedctl_ctl *c, int argc, char **argv, int min, int max);
/* Prints the usage line; returns FEEDCTL_EXIT_USAGE. */
int feedctl_ctl_usage(const struct feedctl_ctl *c);
/* Connects to c->path; -1 (message printed) when it cannot. */
int feedctl_ctl_connect(struct feedctl_ctl *c);
/*
 * Sends the request in b (one JSON object, no LF; b gets the LF appended)
 * and reads the reply into c->reply (owned by c, valid until the next
 * request).  Returns 0 when feedd said ok, else the exit status for its
 * error code (printed unless quiet).
 */
int feedctl_ctl_request(struct feedctl_ctl *c, struct buf *b, bool quiet);
/* Closes the connection and flushes stdout; returns rc, or 1 when output failed. */
int feedctl_ctl_finish(struct feedctl_ctl *c, int rc);

int feedctl_add(int argc, char **argv);
int feedctl_remove(int argc, char **argv);
int feedctl_list(int argc, char **argv);
int feedctl_poll_now(int argc, char **argv);
int feedctl_why(int argc, char **argv);
int feedctl_status(int argc, char **argv);
int feedctl_metrics(int argc, char **argv);
int feedctl_import(int argc, char **argv);
int feedctl_export(int argc, char **argv);

extern const char feedctl_add_usage[], feedctl_remove_usage[], feedctl_list_usage[],
    feedctl_poll_now_usage[], feedctl_why_usage[], feedctl_status_usage[], feedctl_metrics_usage[],
    feedctl_import_usage[], feedctl_export_usage[];

#endif
