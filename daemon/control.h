/*
 * control.h - the control socket: a UNIX stream socket (mode 0600 unless
 * the config says otherwise) that takes feed management and status
 * commands as JSON lines, one request and one reply per line, the same
 * framing as the subscriber socket (DESIGN.md).  A process allowed to read
 * items is not thereby allowed to change feeds: the two sockets are
 * separate files with separate modes.
 *
 * Requests ("id", when present, is echoed in the reply):
 *	{"op":"add","url":U[,"title":T]}     -> {"ok":true,"feed":{...}}
 *	{"op":"remove","feed":ID|URL}        -> {"ok":true,"removed":ID}
 *	{"op":"list"}                        -> {"ok":true,"feeds":[{...},...]}
 *	{"op":"poll-now"[,"feed":ID|URL]}    -> {"ok":true,"scheduled":N}
 *	{"op":"why","feed":ID|URL}           -> {"ok":true,"feed":ID,"url":U,"next_poll":T,
 *	                                         "in":SECONDS,"reason":R,...}
 *	{"op":"status"}                      -> {"ok":true,"version":..,"pid":..,...}
 *	{"op":"metrics"}                     -> {"ok":true,"text":"# HELP ..."} (Prometheus text)
 *	{"op":"export"}                      -> {"ok":true,"opml":"<?xml ..."}
 * Errors: {"ok":false,"code":C,"message":M} with C one of bad_request,
 * line_too_long, unknown_op, invalid, exists, not_found, store,
 * too_many_clients.  A line longer than max_line (checked as data
 * arrives) gets line_too_long and the connection is closed; every other
 * error leaves it open.
 */
#ifndef FEEDD_CONTROL_H
#define FEEDD_CONTROL_H

#include <stddef.h>

struct daemon;
struct control;
struct buf;

/*
 * Binds path (replacing a stale socket file, refusing when a daemon
 * answers there), with mode cfg.control_socket_mode, and starts accepting
 * on d->base.  NULL with a message in err on failure.
 */
struct control *control_listen(struct daemon *d, const char *path, char *err, size_t errlen);

/*
 * Takes over an inherited listening socket (socket activation): it is
 * never unlinked or chmod-ed.  NULL with a message in err on failure.
 */
struct control *control_adopt(struct daemon *d, int fd, char *err, size_t errlen);

/* Stops accepting and closes every client (replies not yet flushed are dropped). */
void control_free(struct control *c);

/* Clients connected now. */
size_t control_clients(const struct control *c);

/*
 * Handles one request line (without its LF) and appends the reply line
 * (with its LF) to out.  Exposed so that the dispatch is testable
 * without a socket; the socket path calls the same function.
 */
void control_handle_line(struct daemon *d, const char *line, size_t len, struct buf *out);

#endif
