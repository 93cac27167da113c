/*
 * service.h - feedd as a systemd service: the one human line of STATUS=
 * that `systemctl status feedd` shows, sent to systemd whenever it
 * changes:
 *
 *	STATUS=12 feeds, 1 failing, 3 subscribers
 *	STATUS=12 feeds, 1 failing, 2 disabled, 1 subscriber
 *
 * The feed counts come from one pass over the store's feeds (never the
 * items), made only after service_feeds_changed and at most every
 * SERVICE_RECOUNT_MS; the subscriber count is read each tick (1 s).  The
 * line is sent only when it differs from the last one sent.
 *
 * Readiness, reload, stop and the watchdog stay in daemon.c (sdnotify.h);
 * this module only owns the status line.  Every function accepts NULL:
 * service_new returns NULL when not run under systemd (no NOTIFY_SOCKET),
 * so the daemon calls these unconditionally.
 */
#ifndef FEEDD_SERVICE_H
#define FEEDD_SERVICE_H

struct daemon;
struct service;

#define SERVICE_TICK_MS 1000
#define SERVICE_RECOUNT_MS 5000

/*
 * Starts the status line for d (its base, store and subscribers must
 * outlive the service).  NULL when not under systemd or out of memory.
 */
struct service *service_new(struct daemon *d);

/* Feeds were polled, added or removed: recount at the next chance. */
void service_feeds_changed(struct service *s);

/*
 * The current line (recounted now when stale), for READY=1 messages; marks
 * it as sent.  "" for NULL.  Valid until the next call on s.
 */
const char *service_status(struct service *s);

void service_free(struct service *s);

#endif
