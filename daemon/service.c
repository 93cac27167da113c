/* service.c - the STATUS= line (see service.h). */
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common_log.h"
#include "daemon.h"
#include "sdnotify.h"
#include "service.h"
#include "store.h"

struct service_counts {
	size_t feeds, failing, disabled, subscribers;
};

struct service {
	struct daemon *d;
	struct event *tick;
	struct service_counts counts;
	bool dirty;		/* feeds changed since the last count */
	int64_t counted_ms;	/* CLOCK_MONOTONIC of the last count */
	char sent[160];		/* the line systemd has */
	char line[160];
};

static int64_t service_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int service_count_feed(void *ud, const struct store_feed *f)
{
	struct service_counts *c = ud;
	c->feeds++;
	if (f->disabled)
		c->disabled++;
	else if (f->consecutive_errors > 0)
		c->failing++;
	return 0;
}

static void service_recount(struct service *s)
{
	struct service_counts c = {0};
	if (store_feeds_list(s->d->store, service_count_feed, &c) != STORE_OK) {
		log_warning("status: %s", store_errmsg(s->d->store));
		return; /* keep the old counts; try again next time */
	}
	c.subscribers = s->counts.subscribers;
	s->counts = c;
	s->dirty = false;
	s->counted_ms = service_mono_ms();
}

static const char *service_plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void service_format(struct service *s)
{
	const struct service_counts *c = &s->counts;
	char disabled[40] = "";
	if (c->disabled)
		snprintf(disabled, sizeof disabled, ", %zu disabled", c->disabled);
	snprintf(s->line, sizeof s->line, "%zu %s, %zu failing%s, %zu %s", c->feeds,
		 service_plural(c->feeds, "feed", "feeds"), c->failing, disabled, c->subscribers,
		 service_plural(c->subscribers, "subscriber", "subscribers"));
}

static void service_on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct service *s = arg;
	s->counts.subscribers = daemon_subscribers(s->d);
	if (s->dirty && service_mono_ms() - s->counted_ms >= SERVICE_RECOUNT_MS)
		service_recount(s);
	service_format(s);
	if (strcmp(s->line, s->sent)) {
		sdnotify_sendf("STATUS=%s", s->line);
		memcpy(s->sent, s->line, sizeof s->sent);
	}
}

struct service *service_new(struct daemon *d)
{
	const char *ns = getenv("NOTIFY_SOCKET");
	if (!ns || !*ns)
		return NULL;
	struct service *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->d = d;
	s->dirty = true;
	s->tick = event_new(d->base, -1, EV_PERSIST, service_on_tick, s);
	struct timeval tv = {SERVICE_TICK_MS / 1000, SERVICE_TICK_MS % 1000 * 1000};
	if (!s->tick || event_add(s->tick, &tv) < 0) {
		service_free(s);
		return NULL;
	}
	return s;
}

void service_feeds_changed(struct service *s)
{
	if (s)
		s->dirty = true;
}

const char *service_status(struct service *s)
{
	if (!s)
		return "";
	s->counts.subscribers = daemon_subscribers(s->d);
	if (s->dirty)
		service_recount(s);
	service_format(s);
	memcpy(s->sent, s->line, sizeof s->sent);
	return s->sent;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	if (s->tick)
		event_free(s->tick);
	free(s);
}
