/*
 * sdnotify.h - the systemd service protocols, spoken directly: readiness
 * and status (sd_notify), the watchdog interval, and socket activation
 * (LISTEN_FDS).  No libsystemd: the internet-facing process loads no
 * extra libraries for about a hundred lines of protocol.
 *
 * Every function is a silent no-op when not run under systemd.
 */
#ifndef FEEDD_SDNOTIFY_H
#define FEEDD_SDNOTIFY_H

#include <stddef.h>
#include <stdint.h>

/*
 * Sends state (e.g. "READY=1\nSTATUS=polling 12 feeds") to $NOTIFY_SOCKET.
 * Returns 1 when sent, 0 when there is no NOTIFY_SOCKET, -1 on error
 * (errno set).  Abstract addresses ("@name") use the exact address length.
 */
int sdnotify_send(const char *state);

/* Like sdnotify_send with a printf format.  The message is cut at 4 KiB. */
int sdnotify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The watchdog interval systemd asked for, in microseconds ($WATCHDOG_USEC,
 * honoured only when $WATCHDOG_PID is unset or this process), or 0.
 */
uint64_t sdnotify_watchdog_usec(void);

/* CLOCK_MONOTONIC in microseconds, for RELOADING=1 + MONOTONIC_USEC=. */
uint64_t sdnotify_monotonic_usec(void);

struct sdnotify_fd {
	int fd;
	char name[64];	/* from $LISTEN_FDNAMES, "" when unnamed */
};

/*
 * Takes the sockets systemd passed ($LISTEN_PID must be this process):
 * fills up to max entries, sets FD_CLOEXEC on each, and unsets
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES so children do not inherit
 * them.  Returns the number of fds passed (may exceed max: the extra ones
 * are closed), 0 when none, -1 when the variables are malformed.
 */
int sdnotify_listen_fds(struct sdnotify_fd *fds, size_t max);

#endif
