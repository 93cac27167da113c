/*
 * daemon.c - feedd's spine: start-up, the event loop, signals, the
 * scheduler timer, reload and the orderly stop.
 *
 * Start-up order matters: the config is read first (a bad line refuses
 * the start with its line number), then the store is opened (migrated and
 * checked), the config's [feed] sections are added, first polls are
 * spread, the sockets are bound, and only then is systemd told READY=1.
 *
 * Stopping (SIGTERM, SIGINT) runs in two phases, both bounded by
 * shutdown_timeout: no new fetch starts; in-flight fetches may finish
 * (their items are stored and announced) until the deadline, when the rest
 * are aborted; then subscribers get {"ev":"shutdown"} and a short grace to
 * read it; the store is closed last.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common_log.h"
#include "control.h"
#include "daemon.h"
#include "feeds.h"
#include "notify.h"
#include "poller.h"
#include "sdnotify.h"
#include "service.h"
#include "store.h"

/* The scheduler looks at the store at least this often, so feeds added by
 * `feedd add` next to a running daemon are noticed. */
#define DAEMON_RECHECK_MAX 60
/* How often the stop sequence checks its progress, and the grace subscribers
 * get to read {"ev":"shutdown"}. */
#define DAEMON_STOP_TICK_MS 20
/* Retention (retain_items, retain_days) runs at start-up and then this often. */
#define DAEMON_PRUNE_INTERVAL 3600
#define DAEMON_SHUTDOWN_GRACE_MS 1000

static int64_t daemon_now(void);
static int64_t daemon_mono_ms(void);
static size_t daemon_poll_due(struct daemon *d);
static void daemon_arm(struct daemon *d, int64_t min_wait);

/* ---------------------------------------------------------------- config */

struct daemon_override {
	const char *key;
	size_t off;
};

static const struct daemon_override daemon_overrides[] = {
    {"database", offsetof(struct daemon_args, database)},
    {"socket", offsetof(struct daemon_args, socket)},
    {"control_socket", offsetof(struct daemon_args, control_socket)},
};

static int daemon_apply_overrides(struct config *c, const struct daemon_args *a, char *err,
                                  size_t errlen)
{
	for (size_t i = 0; i < sizeof daemon_overrides / sizeof daemon_overrides[0]; i++) {
		const char *v = *(const char *const *)((const char *)a + daemon_overrides[i].off);
		char msg[512];
		if (v && config_set(c, daemon_overrides[i].key, v, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "--%s: %s", daemon_overrides[i].key, msg);
			return -1;
		}
	}
	return config_check(c, err, errlen);
}

int daemon_config_load(struct config *c, const struct daemon_args *a, char *err, size_t errlen)
{
	struct config fresh;
	char defpath[CONFIG_PATH_MAX + 1];
	const char *path = a->config_path;
	if (!path) {
		path = config_default_path(defpath, sizeof defpath);
		if (path && access(path, F_OK) < 0)
			path = NULL;
	}
	if (path) {
		if (config_load(&fresh, path, err, errlen) < 0)
			return -1;
	} else {
		config_defaults(&fresh);
	}
	if (daemon_apply_overrides(&fresh, a, err, errlen) < 0) {
		config_free(&fresh);
		return -1;
	}
	*c = fresh;
	return 0;
}

static void daemon_log_level(const struct daemon *d)
{
	log_set_level(d->args.verbose ? LOG_PRIO_DEBUG : (int)d->cfg.log_level);
}

/* ---------------------------------------------------------------- feeds of the config */

static void daemon_sync_feed(struct daemon *d, const struct config_feed *cf, int64_t now)
{
	struct feeds_add a = {
	    .url = cf->url,
	    .title = cf->title,
	    .interval = cf->interval,
	    .allow_private = config_feed_allow_private(&d->cfg, cf->url),
	    .allow_file = d->cfg.allow_file,
	};
	char err[512];
	int64_t id = 0;
	enum feeds_err e = feeds_add(d->store, &a, now, &id, err, sizeof err);
	if (e == FEEDS_OK) {
		log_info("feed %" PRId64 " added from the config: %s", id, cf->url);
		return;
	}
	if (e != FEEDS_ERR_EXISTS) {
		log_warning("config line %u: feed %s: %s", cf->line, cf->url, err);
		return;
	}
	struct store_feed f;
	if (store_feed_get(d->store, id, &f) != STORE_OK)
		return;
	const char *title = cf->title ? cf->title : f.user_title;
	int64_t interval = cf->interval ? cf->interval : f.interval;
	bool priv = cf->allow_private >= 0 ? cf->allow_private == 1 : f.allow_private;
	bool same_title =
	    (!title && !f.user_title) || (title && f.user_title && !strcmp(title, f.user_title));
	if (!same_title || interval != f.interval || priv != f.allow_private)
		if (store_feed_set_user(d->store, id, title, interval, priv) != STORE_OK)
			log_warning("feed %" PRId64 ": %s", id, store_errmsg(d->store));
	store_feed_clear(&f);
}

/* Adds the config's [feed] sections that the store does not have yet. */
static void daemon_sync_feeds(struct daemon *d)
{
	int64_t now = daemon_now();
	for (size_t i = 0; i < d->cfg.nfeeds; i++)
		daemon_sync_feed(d, &d->cfg.feeds[i], now);
}

/* ---------------------------------------------------------------- schedule */

/* Feed ids collected during a store walk (the store is not written while it walks). */
struct daemon_ids {
	int64_t *v;
	size_t n, cap;
	int64_t now;
	const struct daemon *d; /* skip feeds in flight (when set) */
	int failed;
};

static int daemon_ids_push(struct daemon_ids *ids, int64_t id)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		int64_t *v = realloc(ids->v, cap * sizeof *v);
		if (!v)
			return ids->failed = -1;
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

static int daemon_collect_due(void *ud, const struct store_feed *f)
{
	struct daemon_ids *ids = ud;
	if (f->disabled || f->next_poll > ids->now)
		return 0;
	return daemon_ids_push(ids, f->id);
}

int daemon_spread(struct store *s, const struct config *c, int64_t now, size_t *n)
{
	struct daemon_ids ids = {.now = now};
	if (n)
		*n = 0;
	if (store_feeds_list(s, daemon_collect_due, &ids) != STORE_OK || ids.failed) {
		free(ids.v);
		return -1;
	}
	int64_t window = (int64_t)ids.n < c->interval ? (int64_t)ids.n : c->interval;
	int rc = 0;
	for (size_t i = 0; i < ids.n && !rc; i++) {
		int64_t at = now + (window > 1 ? (int64_t)arc4random_uniform((uint32_t)window) : 0);
		if (store_feed_set_next_poll(s, ids.v[i], at, "start-up spread") != STORE_OK)
			rc = -1;
	}
	if (n && !rc)
		*n = ids.n;
	free(ids.v);
	return rc;
}

void daemon_reschedule(struct daemon *d)
{
	service_feeds_changed(d->service);
	daemon_arm(d, 0);
}

/* Arms the scheduler timer for the earliest next_poll, at least min_wait seconds away. */
static void daemon_arm(struct daemon *d, int64_t min_wait)
{
	if (d->stopping || !d->ev_poll)
		return;
	int64_t t = 0, now = daemon_now();
	bool found = false;
	int64_t wait = DAEMON_RECHECK_MAX;
	if (store_next_due(d->store, &t, &found) != STORE_OK)
		log_err("scheduler: %s", store_errmsg(d->store));
	else if (found)
		wait = t <= now ? 0 : (t - now < wait ? t - now : wait);
	if (wait < min_wait)
		wait = min_wait;
	struct timeval tv = {.tv_sec = (time_t)wait};
	evtimer_add(d->ev_poll, &tv);
	if (found)
		log_debug("scheduler: next check in %" PRId64 " s", wait);
}

static void daemon_on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct daemon *d = arg;
	/* Nothing could start (every due feed in flight, or the parallel
	 * limit reached): look again a second later rather than spin. */
	daemon_arm(d, daemon_poll_due(d) ? 0 : 1);
}

int daemon_poll_now(struct daemon *d, int64_t id, size_t *n)
{
	int64_t now = daemon_now();
	if (n)
		*n = 0;
	if (id) {
		if (store_feed_set_next_poll(d->store, id, now, "poll-now") != STORE_OK)
			return -1;
		if (n)
			*n = 1;
	} else {
		struct daemon_ids ids = {.now = INT64_MAX};
		if (store_feeds_list(d->store, daemon_collect_due, &ids) != STORE_OK ||
		    ids.failed) {
			free(ids.v);
			return -1;
		}
		for (size_t i = 0; i < ids.n; i++)
			if (store_feed_set_next_poll(d->store, ids.v[i], now, "poll-now") !=
			    STORE_OK) {
				free(ids.v);
				return -1;
			}
		if (n)
			*n = ids.n;
		free(ids.v);
	}
	daemon_reschedule(d);
	return 0;
}

/* ---------------------------------------------------------------- polls in flight */

static ssize_t daemon_flight_find(const struct daemon *d, int64_t id)
{
	for (size_t i = 0; i < d->nflights; i++)
		if (d->flights[i].feed_id == id)
			return (ssize_t)i;
	return -1;
}

static int daemon_flight_add(struct daemon *d, int64_t id)
{
	if (d->nflights == d->capflights) {
		size_t cap = d->capflights ? d->capflights * 2 : 32;
		struct daemon_flight *v = realloc(d->flights, cap * sizeof *v);
		if (!v)
			return -1;
		d->flights = v;
		d->capflights = cap;
	}
	d->flights[d->nflights++] = (struct daemon_flight){id, daemon_mono_ms()};
	return 0;
}

/* Removes feed id from the flights; returns the seconds it was in flight. */
static double daemon_flight_done(struct daemon *d, int64_t id)
{
	ssize_t i = daemon_flight_find(d, id);
	if (i < 0)
		return 0;
	double secs = (double)(daemon_mono_ms() - d->flights[i].start_ms) / 1000.0;
	d->flights[i] = d->flights[--d->nflights];
	return secs;
}

size_t daemon_fetches_in_flight(const struct daemon *d)
{
	return d->nflights;
}

/* ---------------------------------------------------------------- outcomes */

static enum metrics_result daemon_result(const struct poller_outcome *o)
{
	switch (o->result) {
	case POLLER_FETCHED:
		return METRICS_FETCH_OK;
	case POLLER_NOT_MODIFIED:
		return METRICS_FETCH_NOT_MODIFIED;
	case POLLER_ABORTED:
		return METRICS_FETCH_ABORTED;
	case POLLER_FAILED:
		break;
	}
	if (o->store_failed)
		return METRICS_FETCH_STORE_ERROR;
	if (o->http_status >= 200 && o->http_status < 300)
		return METRICS_FETCH_PARSE_ERROR; /* a response came, no feed in it */
	if (o->http_status)
		return METRICS_FETCH_HTTP_ERROR;
	if (o->error && (strstr(o->error, "timed out") || strstr(o->error, "timeout")))
		return METRICS_FETCH_TIMEOUT;
	return METRICS_FETCH_NET_ERROR;
}

static void daemon_log_outcome(const struct poller_outcome *o)
{
	char when[32] = "-";
	if (o->next_poll)
		date_format(o->next_poll, when);
	if (o->result == POLLER_FETCHED)
		log_msg(o->new_items || o->updated_items ? LOG_PRIO_INFO : LOG_PRIO_DEBUG,
		        "feed %" PRId64 " fetched: %zu new, %zu updated; next poll %s (%s)",
		        o->feed_id, o->new_items, o->updated_items, when,
		        o->next_poll_reason ? o->next_poll_reason : "");
	else if (o->result == POLLER_NOT_MODIFIED)
		log_debug("feed %" PRId64 " not modified; next poll %s (%s)", o->feed_id, when,
		          o->next_poll_reason ? o->next_poll_reason : "");
	else if (o->result == POLLER_FAILED)
		log_warning("feed %" PRId64 " %s: %s; next poll %s", o->feed_id, o->url,
		            o->error ? o->error : "failed", when);
	if (o->warning)
		log_warning("feed %" PRId64 " %s: stored with a warning: %s", o->feed_id, o->url,
		            o->warning);
	if (o->disabled)
		log_warning("feed %" PRId64 " %s disabled: %s", o->feed_id, o->url,
		            o->error ? o->error : "gone");
	if (o->new_url)
		log_info("feed %" PRId64 " moved permanently to %s", o->feed_id, o->new_url);
}

static void daemon_on_polled(void *ud, const struct poller_outcome *o)
{
	struct daemon *d = ud;
	enum metrics_result r = daemon_result(o);
	metrics_fetch(&d->metrics, r, daemon_flight_done(d, o->feed_id), o->body_bytes);
	if (r == METRICS_FETCH_PARSE_ERROR || o->malformed)
		d->metrics.parse_errors++;
	d->metrics.items_new += o->new_items;
	d->metrics.items_updated += o->updated_items;
	daemon_log_outcome(o);
	if (o->last_seq && d->notify)
		notify_committed(d->notify, o->first_seq, o->last_seq);
	if (!d->stopping)
		daemon_reschedule(d);
}

/* ---------------------------------------------------------------- the poller */

static int daemon_poller_new(struct daemon *d)
{
	d->poller = poller_new(d->base, d->store, &d->cfg, daemon_on_polled, d);
	d->poller_stale = false;
	return d->poller ? 0 : -1;
}

/* After a reload: fetch settings are read when the poller is made, so make a new one
 * as soon as nothing is in flight. */
static void daemon_poller_refresh(struct daemon *d)
{
	if (!d->poller_stale || d->stopping || poller_pending(d->poller))
		return;
	poller_free(d->poller);
	if (daemon_poller_new(d) < 0)
		log_err("out of memory: no more polls until the next reload");
}

/* Upper bound of polls started and not reported: max_parallel run, as many wait. */
static size_t daemon_poll_limit(const struct daemon *d)
{
	return d->cfg.max_parallel * 2;
}

static void daemon_start_poll(struct daemon *d, int64_t id)
{
	struct store_feed f;
	char err[512];
	if (store_feed_get(d->store, id, &f) != STORE_OK) {
		log_err("feed %" PRId64 ": %s", id, store_errmsg(d->store));
		return;
	}
	if (poller_start(d->poller, &f, err, sizeof err) == 0) {
		if (daemon_flight_add(d, id) < 0)
			log_err("out of memory tracking feed %" PRId64, id);
		log_debug("feed %" PRId64 " poll started: %s", id, f.url);
	} else {
		log_warning("feed %" PRId64 " %s: %s", id, f.url, err);
	}
	store_feed_clear(&f);
}

static int daemon_collect_startable(void *ud, const struct store_feed *f)
{
	struct daemon_ids *ids = ud;
	if (daemon_flight_find(ids->d, f->id) >= 0)
		return 0;
	return daemon_ids_push(ids, f->id);
}

/*
 * The scheduler: starts the due feeds that are not already in flight,
 * within the poll limit (the fetch engine runs max_parallel at once and
 * queues the rest).  Returns how many started.
 */
static size_t daemon_poll_due(struct daemon *d)
{
	daemon_poller_refresh(d);
	size_t limit = daemon_poll_limit(d);
	if (d->stopping || !d->poller || d->nflights >= limit)
		return 0;
	size_t room = limit - d->nflights;
	struct daemon_ids ids = {.d = d};
	if (store_feeds_due(d->store, daemon_now(), room + d->nflights, daemon_collect_startable,
	                    &ids) != STORE_OK) {
		log_err("scheduler: %s", store_errmsg(d->store));
		free(ids.v);
		return 0;
	}
	size_t n = ids.n < room ? ids.n : room;
	for (size_t i = 0; i < n; i++)
		daemon_start_poll(d, ids.v[i]);
	free(ids.v);
	return n;
}

/* ---------------------------------------------------------------- subscribers */

static void daemon_notify_log(void *ud, int prio, const char *msg)
{
	(void)ud;
	log_msg(prio, "subscribers: %s", msg);
}

void daemon_notify_limits(const struct config *c, struct notify_limits *l)
{
	notify_limits_default(l);
	l->max_clients = c->max_clients;
	l->max_line = c->max_line;
	l->sub_timeout_ms = c->sub_timeout * 1000;
	l->output_limit = c->client_output_limit;
	l->stall_timeout_ms = c->client_stall_timeout * 1000;
	l->heartbeat_ms = c->heartbeat * 1000;
	l->replay_batch = c->replay_batch;
	l->cache_bytes = c->event_cache;
	l->cache_events = c->event_cache_events;
	l->zero_copy = c->zero_copy;
	if (!c->replay_pack)
		l->pack_wait_ms = 0; /* else notify's default */
}

static int daemon_notify_start(struct daemon *d, int inherited_fd)
{
	struct notify_limits lim;
	char err[512];
	daemon_notify_limits(&d->cfg, &lim);
	d->notify = notify_new(d->base, d->store, &lim, daemon_notify_log, d);
	if (!d->notify) {
		log_err("subscriber socket: out of memory or unreadable store head");
		return -1;
	}
	int rc = inherited_fd >= 0 ? notify_listen_fd(d->notify, inherited_fd, err, sizeof err)
	                           : notify_listen_path(d->notify, d->cfg.socket,
	                                                d->cfg.socket_mode, err, sizeof err);
	if (rc < 0)
		log_err("subscriber socket: %s", err);
	return rc;
}

size_t daemon_subscribers(const struct daemon *d)
{
	return d->notify ? notify_client_count(d->notify) : 0;
}

size_t daemon_subscribers_waiting(const struct daemon *d)
{
	return d->notify ? notify_waiting_count(d->notify) : 0;
}

void daemon_feed_removed(struct daemon *d, int64_t id)
{
	log_debug("feed %" PRId64 " removed: dropping cached events", id);
	service_feeds_changed(d->service);
	if (d->notify)
		notify_forget(d->notify);
}

/* ---------------------------------------------------------------- retention */

/*
 * Retention runs on the store thread in steps of retain_batch items, each
 * its own transaction queued behind the writes waiting then, so neither
 * the loop nor the commits of documents wait for a large prune.  The next
 * step is queued from an event, not from the step's callback: that may
 * come while the poller is being freed (reload, stop).
 */
static void daemon_prune_end(struct daemon *d, bool complete)
{
	struct daemon_prune *pr = &d->prune;
	pr->running = false;
	if (pr->items || pr->events)
		log_info("retention: pruned %zu items and %zu events%s", pr->items, pr->events,
		         complete ? "" : " (stopped before the end)");
}

static void daemon_on_pruned(void *ud, struct poller_prune *step)
{
	struct daemon *d = ud;
	struct daemon_prune *pr = &d->prune;
	if (step->failed) {
		log_warning("retention: %s", step->error);
		daemon_prune_end(d, false);
		return;
	}
	pr->items += step->items;
	pr->events += step->events;
	if (step->items || step->events)
		log_debug("retention: step: %zu items and %zu events", step->items, step->events);
	if ((step->items || step->events) && d->notify)
		notify_forget(d->notify); /* cached lines may be of pruned items */
	if (step->more && !d->stopping)
		event_active(d->prune.ev_step, 0, 0);
	else
		daemon_prune_end(d, !step->more);
}

static void daemon_on_prune_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct daemon *d = arg;
	if (d->stopping || !d->poller) {
		daemon_prune_end(d, false);
		return;
	}
	if (poller_prune(d->poller, &d->prune.step, daemon_on_pruned, d) < 0) {
		log_warning("retention: out of memory");
		daemon_prune_end(d, false);
	}
}

/* Starts a run of what retain_items / retain_days no longer keep, unless one is running. */
static void daemon_prune(struct daemon *d)
{
	struct daemon_prune *pr = &d->prune;
	if (pr->running || d->stopping)
		return;
	pr->step = (struct poller_prune){
	    .r = {.max_items_per_feed = d->cfg.retain_items,
	          .max_age_days = (int64_t)d->cfg.retain_days},
	    .now = daemon_now(),
	    .batch = d->cfg.retain_batch,
	};
	pr->running = true;
	pr->items = pr->events = 0;
	event_active(pr->ev_step, 0, 0);
}

static void daemon_on_prune_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	daemon_prune(arg);
}

/* The first run starts with the loop (the poller exists by then), then hourly. */
static int daemon_prune_start(struct daemon *d)
{
	d->prune.ev_step = event_new(d->base, -1, 0, daemon_on_prune_step, d);
	d->ev_prune = event_new(d->base, -1, EV_PERSIST, daemon_on_prune_timer, d);
	struct timeval tv = {DAEMON_PRUNE_INTERVAL, 0};
	if (!d->prune.ev_step || !d->ev_prune || event_add(d->ev_prune, &tv) != 0)
		return -1;
	daemon_prune(d);
	return 0;
}

/* ---------------------------------------------------------------- time */

static int64_t daemon_now(void)
{
	return (int64_t)time(NULL);
}

static int64_t daemon_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- reload */

/* Paths only change with a restart: the sockets are bound and the store open. */
static void daemon_keep_paths(const struct config *old, struct config *fresh)
{
	static const struct {
		const char *key;
		size_t off, size;
	} paths[] = {
	    {"database", offsetof(struct config, database), sizeof old->database},
	    {"socket", offsetof(struct config, socket), sizeof old->socket},
	    {"control_socket", offsetof(struct config, control_socket), sizeof old->control_socket},
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		const char *o = (const char *)old + paths[i].off;
		char *f = (char *)fresh + paths[i].off;
		if (strcmp(o, f)) {
			log_warning(
			    "reload: %s changed to %s; that takes a restart, still using %s",
			    paths[i].key, f, o);
			memcpy(f, o, paths[i].size);
		}
	}
}

void daemon_reload(struct daemon *d)
{
	sdnotify_sendf("RELOADING=1\nMONOTONIC_USEC=%" PRIu64, sdnotify_monotonic_usec());
	struct config fresh;
	char err[1024];
	if (daemon_config_load(&fresh, &d->args, err, sizeof err) < 0) {
		log_err("reload failed, keeping the old configuration: %s", err);
		sdnotify_sendf("READY=1\nSTATUS=reload failed, old configuration kept; %s",
		               service_status(d->service));
		return;
	}
	daemon_keep_paths(&d->cfg, &fresh);
	config_free(&d->cfg);
	d->cfg = fresh; /* same address: the poller and notify see the new values */
	daemon_log_level(d);
	if (d->notify) {
		struct notify_limits lim;
		daemon_notify_limits(&d->cfg, &lim);
		notify_set_limits(d->notify, &lim);
	}
	d->poller_stale = true;
	daemon_poller_refresh(d);
	daemon_sync_feeds(d);
	daemon_reschedule(d);
	log_info("configuration reloaded%s%s", d->args.config_path ? " from " : "",
	         d->args.config_path ? d->args.config_path : "");
	sdnotify_sendf("READY=1\nSTATUS=%s", service_status(d->service));
}

/* ---------------------------------------------------------------- stop */

enum daemon_stop_phase { DAEMON_STOP_FETCHES = 1, DAEMON_STOP_SUBSCRIBERS };

static void daemon_stop_tick(evutil_socket_t fd, short what, void *arg);

void daemon_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	sdnotify_send("STOPPING=1");
	log_info("stopping: %zu fetches in flight, waiting up to %" PRId64 " s",
	         daemon_fetches_in_flight(d), d->cfg.shutdown_timeout);
	if (d->ev_poll)
		evtimer_del(d->ev_poll);
	control_free(d->control);
	d->control = NULL;
	struct timeval tick = {0, DAEMON_STOP_TICK_MS * 1000};
	evtimer_add(d->ev_deadline, &tick);
}

static void daemon_stop_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct daemon *d = arg;
	static const struct timeval tick = {0, DAEMON_STOP_TICK_MS * 1000};
	int64_t now = daemon_mono_ms();
	if (!d->stop_phase) {
		d->stop_phase = DAEMON_STOP_FETCHES;
		d->stop_deadline_ms = now + d->cfg.shutdown_timeout * 1000;
	}
	if (d->stop_phase == DAEMON_STOP_FETCHES &&
	    (!d->poller || !poller_pending(d->poller) || now >= d->stop_deadline_ms)) {
		if (d->poller && poller_pending(d->poller)) {
			log_warning("stopping: aborting %zu polls still in flight",
			            poller_pending(d->poller));
			poller_abort_all(d->poller);
		}
		if (d->notify)
			notify_shutdown(d->notify);
		d->stop_phase = DAEMON_STOP_SUBSCRIBERS;
		d->stop_deadline_ms = now + DAEMON_SHUTDOWN_GRACE_MS;
	}
	if (d->stop_phase == DAEMON_STOP_SUBSCRIBERS &&
	    (!d->notify || !notify_connection_count(d->notify) || now >= d->stop_deadline_ms)) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(d->ev_deadline, &tick);
}

/* ---------------------------------------------------------------- signals */

static void daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct daemon *d = arg;
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading the configuration");
		daemon_reload(d);
		return;
	}
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	daemon_stop(d);
}

static int daemon_signals(struct daemon *d)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		d->ev_signal[i] = evsignal_new(d->base, sigs[i], daemon_on_signal, d);
		if (!d->ev_signal[i] || evsignal_add(d->ev_signal[i], NULL) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- watchdog */

static void daemon_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	sdnotify_send("WATCHDOG=1");
}

static int daemon_watchdog(struct daemon *d)
{
	uint64_t usec = sdnotify_watchdog_usec();
	if (!usec)
		return 0;
	d->ev_watchdog = event_new(d->base, -1, EV_PERSIST, daemon_on_watchdog, d);
	struct timeval tv = {(time_t)(usec / 2 / 1000000), (suseconds_t)(usec / 2 % 1000000)};
	if (!d->ev_watchdog || event_add(d->ev_watchdog, &tv) < 0)
		return -1;
	log_debug("watchdog: keep-alive every %" PRIu64 " ms", usec / 2000);
	return 0;
}

/* ---------------------------------------------------------------- sockets */

/* Sockets passed by systemd (feedd.socket "sub", feedd-control.socket "control"). */
struct daemon_inherited {
	int sub;
	int control;
};

static int daemon_inherit(struct daemon_inherited *in)
{
	struct sdnotify_fd fds[4];
	in->sub = in->control = -1;
	int n = sdnotify_listen_fds(fds, 4);
	if (n < 0) {
		log_err("LISTEN_FDS: malformed socket-activation variables");
		return -1;
	}
	for (int i = 0; i < n && i < 4; i++) {
		if (!strcmp(fds[i].name, "control"))
			in->control = fds[i].fd;
		else if (!strcmp(fds[i].name, "sub") || in->sub < 0)
			in->sub = fds[i].fd;
		else
			close(fds[i].fd);
	}
	return 0;
}

static int daemon_sockets(struct daemon *d)
{
	struct daemon_inherited in;
	char err[512];
	if (daemon_inherit(&in) < 0)
		return -1;
	if (in.control >= 0)
		d->control = control_adopt(d, in.control, err, sizeof err);
	else
		d->control = control_listen(d, d->cfg.control_socket, err, sizeof err);
	if (!d->control) {
		log_err("control socket: %s", err);
		return -1;
	}
	return daemon_notify_start(d, in.sub);
}

/* ---------------------------------------------------------------- run */

static int daemon_open_store(struct daemon *d)
{
	struct store_opts so;
	store_opts_default(&so);
	so.busy_timeout_ms = (int)(d->cfg.busy_timeout * 1000);
	if (store_open(d->cfg.database, &so, &d->store) != STORE_OK) {
		log_err("store %s: %s", d->cfg.database, store_errmsg(d->store));
		return -1;
	}
	return 0;
}

static int daemon_start(struct daemon *d)
{
	char err[1024];
	if (daemon_config_load(&d->cfg, &d->args, err, sizeof err) < 0) {
		log_err("configuration: %s", err);
		return -1;
	}
	daemon_log_level(d);
	d->base = event_base_new();
	d->ev_poll = d->base ? evtimer_new(d->base, daemon_on_poll_timer, d) : NULL;
	d->ev_deadline = d->base ? evtimer_new(d->base, daemon_stop_tick, d) : NULL;
	if (!d->ev_poll || !d->ev_deadline || daemon_signals(d) < 0) {
		log_err("event loop: out of memory");
		return -1;
	}
	if (daemon_open_store(d) < 0)
		return -1;
	daemon_sync_feeds(d);
	if (daemon_prune_start(d) < 0) {
		log_err("event loop: out of memory");
		return -1;
	}
	size_t spread = 0;
	if (daemon_spread(d->store, &d->cfg, daemon_now(), &spread) < 0)
		log_warning("start-up spreading: %s", store_errmsg(d->store));
	if (daemon_sockets(d) < 0 || daemon_watchdog(d) < 0)
		return -1;
	if (daemon_poller_new(d) < 0) {
		log_err("fetch engine: out of memory");
		return -1;
	}
	daemon_reschedule(d);
	log_info("feedd %s started: database %s, subscriber socket %s, control socket %s, "
	         "%zu due feeds spread",
	         FEEDD_VERSION, d->cfg.database, d->cfg.socket, d->cfg.control_socket, spread);
	d->service = service_new(d);
	sdnotify_sendf("READY=1\nSTATUS=%s", service_status(d->service));
	return 0;
}

static void daemon_teardown(struct daemon *d)
{
	poller_free(d->poller); /* aborts what is left; outcomes still counted */
	free(d->flights);
	notify_free(d->notify);
	control_free(d->control);
	for (size_t i = 0; i < sizeof d->ev_signal / sizeof d->ev_signal[0]; i++)
		if (d->ev_signal[i])
			event_free(d->ev_signal[i]);
	if (d->ev_poll)
		event_free(d->ev_poll);
	if (d->ev_deadline)
		event_free(d->ev_deadline);
	service_free(d->service);
	if (d->ev_watchdog)
		event_free(d->ev_watchdog);
	if (d->ev_prune)
		event_free(d->ev_prune);
	if (d->prune.ev_step)
		event_free(d->prune.ev_step);
	store_close(d->store);
	if (d->base)
		event_base_free(d->base);
	config_free(&d->cfg);
}

int daemon_run(const struct daemon_args *a)
{
	struct daemon d = {.args = *a, .start_time = daemon_now()};
	if (a->verbose)
		log_set_level(LOG_PRIO_DEBUG);
	int rc = 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (daemon_start(&d) == 0) {
		event_base_dispatch(d.base);
		rc = d.exit_code;
	}
	daemon_teardown(&d);
	curl_global_cleanup();
	if (rc == 0)
		log_info("stopped");
	return rc;
}
