/*
 * notify.h - the subscriber socket: a UNIX stream socket server on the
 * daemon's event_base that speaks the subscriber protocol of DESIGN.md
 * ("Events, cursors and the subscriber protocol") and streams the store's
 * committed events to every subscriber (daemon/notify.c).
 *
 * How the daemon uses it
 *
 *	struct notify_limits lim;
 *	notify_limits_default(&lim);		// or fill from struct config
 *	struct notify *n = notify_new(base, store, &lim, log_fn, log_ud);
 *	notify_listen_path(n, cfg.socket, cfg.socket_mode, err, sizeof err);
 *	   (or notify_listen_fd(n, fd, ...) for a socket passed by systemd)
 *	...
 *	store_batch_commit(b, ..., &first, &last);
 *	notify_committed(n, first, last);	// after every successful COMMIT
 *	...
 *	notify_set_limits(n, &lim);		// SIGHUP
 *	notify_shutdown(n);			// SIGTERM: {"ev":"shutdown"} to all
 *	(run the loop until notify_connection_count(n) == 0 or a deadline)
 *	notify_free(n);
 *
 * Protocol decisions the DESIGN leaves open (documented here and in the README)
 * - After accept the server sends hello; "oldest" is the cursor of the
 *   oldest retained event (head when no event is retained).
 * - A request's "id" (a string, an integer, true, false or null) is echoed, exactly as given,
 *   in the reply to that request: in the error for a refused request, in
 *   the "live" event for an accepted sub.  Unknown keys are ignored;
 *   "after": null and "feeds": null mean absent; "feeds" is a non-empty
 *   array of positive integers.  Empty (blank) lines are ignored.
 * - bad_request (not JSON, wrong types, unknown op, a second sub ...)
 *   keeps the connection open.  line_too_long, too_many_clients,
 *   epoch_mismatch, cursor_expired and cursor_ahead are followed by close
 *   once the error line is flushed.  No sub within sub_timeout also gets
 *   bad_request ("no sub request within N ms") and close.
 * - too_many_clients is sent instead of hello.
 * - A subscriber whose cursor falls behind retention while it is being
 *   served (a prune ran while it lagged) gets cursor_expired and close.
 * - Heartbeats go to subscribed connections only, after `heartbeat` ms
 *   in which nothing was queued for them.
 *
 * Delivery: each subscriber has a cursor.  Whenever it is behind the head
 * (after notify_committed, after subscribing, when its output drains)
 * the one read path runs: events after its cursor, with its feed filter,
 * at most replay_batch per step, from a bounded cache of serialized lines
 * in front of store_events_after.  The cache is a set of blocks (one read
 * from the store each, sorted by seq, never overlapping) shared by every
 * subscriber: output queues hold references to a block's bytes, not
 * copies, so an event is read and serialized once however many
 * subscribers get it.  With zero_copy (where vmsplice(2) and splice(2)
 * work) a block of 16 KiB or more is sealed into pages of its own, and
 * each subscriber's pipe and then socket take those pages by reference: a
 * hundred subscribers cost a hundred page references per page, not a
 * hundred copies; otherwise each subscriber's pending lines go out in one
 * writev.  Each write moves what the socket takes, then the next
 * subscriber has its turn; socket send buffers and pipes are sized to
 * output_limit (pipes to 256 KiB).  Blocks that every reading subscriber has passed use at
 * most a quarter of the cache; a subscriber whose output has not drained
 * for 100 ms is not waited for (it resumes from the store).  Past
 * output_limit bytes pending the subscriber is not read for until its
 * output drains below half the limit.  Events are therefore sent only
 * after COMMIT, in cursor order, at least once, and the daemon holds at
 * most the cache plus, per subscriber, output_limit + one batch of queued
 * lines (and blocks they refer to: a run shorter than half its block is
 * copied, so at most twice that); the kernel holds, per subscriber, at most
 * its pipe and socket buffer (pages of sealed blocks are shared by all).
 *
 * The process must ignore SIGPIPE (a subscriber that went away is seen
 * as a write error).
 *
 * Ownership: notify keeps the event_base and the store pointers (both must
 * outlive it) and uses the store only from the loop's thread.
 */
#ifndef FEEDD_NOTIFY_H
#define FEEDD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct store;
struct notify;

/* Limits of the subscriber socket (config keys in parentheses). */
struct notify_limits {
	size_t max_clients;       /* subscribers connected at once (max_clients, 256) */
	size_t max_line;          /* bytes of a request line without its LF (max_line, 64 KiB) */
	int64_t sub_timeout_ms;   /* to send the first valid sub (sub_timeout, 10 s) */
	size_t output_limit;      /* pending output per client (client_output_limit, 1 MiB) */
	int64_t stall_timeout_ms; /* output pending, nothing written (client_stall_timeout, 60 s) */
	int64_t heartbeat_ms;     /* quiet interval before {"ev":"hb"} (heartbeat, 30 s); 0 = off */
	size_t replay_batch;      /* events read per step (replay_batch, 256) */
	size_t cache_events;      /* serialized event lines cached (event_cache_events, 32768) */
	size_t cache_bytes;       /* bytes of those lines (event_cache, 32 MiB); 0 = no cache */
	bool zero_copy;           /* pages of cached lines go to sockets by reference (zero_copy, yes) */
	/* Replay packs (replay_pack = yes: 50 ms): the least a subscriber waits
	 * with nothing to send before one behind it counts as slow by itself;
	 * 0: no packs, each replays at its own pace. */
	int64_t pack_wait_ms;
};
void notify_limits_default(struct notify_limits *l);

/* Priorities are syslog's (3 err, 4 warning, 6 info, 7 debug). */
typedef void (*notify_log_fn)(void *ud, int prio, const char *msg);

/*
 * Creates the server (not yet listening).  log may be NULL.  Returns NULL
 * when out of memory or when the store's head cannot be read.
 */
struct notify *notify_new(struct event_base *base, struct store *store,
                          const struct notify_limits *l, notify_log_fn log, void *log_ud);

/*
 * Listens on path: binds under umask 0177, then sets mode (e.g. 0660).
 * A stale socket file is replaced only when nobody accepts on it; a live
 * one, or a path that is not a socket, is an error.  The file is removed
 * by notify_free (if it is still ours).  Returns 0, or -1 with a message.
 */
int notify_listen_path(struct notify *n, const char *path, unsigned mode, char *err, size_t errlen);

/*
 * Adopts an inherited listening socket (socket activation).  It is never
 * unlinked or chmod-ed; notify_free closes this process's descriptor.
 * Returns 0, or -1 with a message (not a listening UNIX stream socket).
 */
int notify_listen_fd(struct notify *n, int fd, char *err, size_t errlen);

/*
 * Announces that events first_seq..last_seq were committed (both 0 = none:
 * nothing to do).  Every subscriber that is behind is served right away.
 */
void notify_committed(struct notify *n, int64_t first_seq, int64_t last_seq);

/*
 * Drops the cache of serialized events (call after removing a feed, so
 * that its cached items are not replayed; the store has deleted them).
 */
void notify_forget(struct notify *n);

/* New limits (SIGHUP).  Connected clients keep their connection; a lower
 * max_clients refuses new ones only. */
void notify_set_limits(struct notify *n, const struct notify_limits *l);

/* Subscribers and connections still waiting for sub (not those closing). */
size_t notify_client_count(const struct notify *n);
/* Replaying subscribers waiting for the slowest of their pack (replay_pack). */
size_t notify_waiting_count(const struct notify *n);
/* Every open connection, closing ones included. */
size_t notify_connection_count(const struct notify *n);
/* Bytes queued to all connections and not yet written (for metrics and tests). */
size_t notify_output_bytes(const struct notify *n);
/* The largest of those per connection. */
size_t notify_output_bytes_max(const struct notify *n);
/* Bytes of serialized event lines in the cache (for metrics and tests). */
size_t notify_cache_bytes(const struct notify *n);
/* Whether new subscribers get the zero-copy output stage (zero_copy, and
 * vmsplice(2)/splice(2) work here). */
bool notify_zero_copy(const struct notify *n);

/*
 * Stops accepting, queues {"ev":"shutdown"} to every connection and closes
 * each once its output is flushed (or it stalls).  Run the loop until
 * notify_connection_count is 0 (or a deadline), then notify_free.
 */
void notify_shutdown(struct notify *n);

/* Closes everything (without flushing), removes the socket file it made. */
void notify_free(struct notify *n);

#endif
