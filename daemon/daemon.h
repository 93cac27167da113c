/*
 * daemon.h - feedd's long-running process: the root state that every part
 * of the daemon is handed (no globals), start-up, the run loop, reload and
 * shutdown (daemon/daemon.c).
 *
 * One process, one libevent loop, one thread.  The parts hang off struct
 * daemon and reach each other through it:
 *
 *	signals (SIGTERM, SIGINT, SIGHUP)  -> daemon_stop / daemon_reload
 *	scheduler timer (earliest next_poll in the store) -> daemon_poll_due
 *	  -> poller (fetch -> parse -> store batch -> next poll, daemon/poller.h)
 *	  -> outcome: metrics, notify_committed(first, last) to subscribers
 *	control socket (control.c)         -> feeds.c, daemon_poll_now, metrics
 *	retention timer (hourly, and at start-up) -> steps of store_prune_step
 *	  on the store thread (poller_prune), the next one queued after each
 *
 * Signals go through the event loop (evsignal): no work happens inside a
 * signal handler.  SIGPIPE is ignored.
 */
#ifndef FEEDD_DAEMON_H
#define FEEDD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"
#include "poller.h"

struct event;
struct event_base;
struct store;
struct control;
struct notify;
struct notify_limits;
struct poller;
struct service;

/* A poll in flight: which feed, since when (CLOCK_MONOTONIC ms, for the latency histogram). */
struct daemon_flight {
	int64_t feed_id;
	int64_t start_ms;
};

/* A retention run: its steps, and what they deleted so far (logged once, at the end). */
struct daemon_prune {
	struct poller_prune step; /* the poller's while a step is queued */
	struct event *ev_step;    /* queues the next step */
	bool running;
	size_t items, events;
};

/* What the command line gave; every field may be NULL / false. */
struct daemon_args {
	const char *config_path;    /* NULL: $CONFIGURATION_DIRECTORY/feedd.conf if it exists */
	const char *database;       /* --db, overrides the config's database */
	const char *socket;         /* --socket */
	const char *control_socket; /* --control-socket */
	bool verbose;               /* -v: log debug messages */
};

/*
 * Loads the configuration the way feedd does everywhere: the file named by
 * a->config_path (an error when unreadable), else the default file when it
 * exists, else the defaults; then the command-line overrides.  Returns 0,
 * or -1 with "PATH:LINE: message" in err and *c untouched.
 */
int daemon_config_load(struct config *c, const struct daemon_args *a, char *err, size_t errlen);

/* The root state of the running daemon. */
struct daemon {
	struct daemon_args args; /* borrowed from the caller of daemon_run */
	struct config cfg;       /* owned; replaced as a whole on SIGHUP */
	struct event_base *base;
	struct store *store;
	struct control *control;       /* the control socket */
	struct notify *notify;         /* the subscriber socket */
	struct poller *poller;         /* fetch -> parse -> store -> next poll */
	bool poller_stale;             /* the config changed: recreate once idle */
	struct daemon_flight *flights; /* polls started and not yet reported */
	size_t nflights, capflights;
	struct event *ev_signal[3]; /* SIGTERM, SIGINT, SIGHUP */
	struct event *ev_poll;      /* fires at the earliest next_poll */
	struct event *ev_deadline;  /* shutdown_timeout after SIGTERM */
	struct event *ev_watchdog;  /* systemd watchdog keep-alive */
	struct service *service;    /* systemd STATUS= line (service.h); NULL when not under systemd */
	struct event *ev_prune;     /* retention, hourly and at start-up */
	struct daemon_prune prune;  /* the retention run */
	struct metrics metrics;
	int64_t start_time;
	bool stopping;
	int stop_phase;           /* see daemon_stop */
	int64_t stop_deadline_ms; /* CLOCK_MONOTONIC */
	int exit_code;
};

/*
 * Runs the daemon in the foreground until SIGTERM or SIGINT: loads the
 * config (a bad line refuses the start), opens the store, binds the
 * sockets, spreads the first polls, then loops.  Returns the exit status
 * (0 after a clean stop).
 */
int daemon_run(const struct daemon_args *a);

/* Re-arms the scheduler timer after next_poll times changed (add, poll-now, import). */
void daemon_reschedule(struct daemon *d);

/*
 * Makes feed id (0: every enabled feed) due now.  *n (may be NULL) gets
 * the number of feeds scheduled.  Returns 0, or -1 when the store failed.
 */
int daemon_poll_now(struct daemon *d, int64_t id, size_t *n);

/*
 * Start-up spreading: every enabled feed whose next poll has passed (or
 * never polled) gets a time spread over [now, now + window), window =
 * min(interval, one second per such feed), so a restart with many feeds
 * does not fire them all at once.  Times in the future are kept: the
 * schedule survives restarts.  *n (may be NULL) gets the number moved.
 */
int daemon_spread(struct store *s, const struct config *c, int64_t now, size_t *n);

/* Tells the parts that cache items (notify) that feed id and its items are gone. */
void daemon_feed_removed(struct daemon *d, int64_t id);

/* The subscriber socket's limits a configuration gives (at start and on
 * SIGHUP). */
void daemon_notify_limits(const struct config *c, struct notify_limits *l);

/* Subscribers connected right now (0 before notify is up). */
size_t daemon_subscribers(const struct daemon *d);
/* Of those, replaying ones waiting for the slowest of their pack. */
size_t daemon_subscribers_waiting(const struct daemon *d);
/* Fetches running or queued. */
size_t daemon_fetches_in_flight(const struct daemon *d);

/* Begins the orderly stop (what SIGTERM does). */
void daemon_stop(struct daemon *d);
/* Reloads the configuration (what SIGHUP does); keeps the old one when the new is bad. */
void daemon_reload(struct daemon *d);

#endif
