/*
 * config.h - feedd.conf: every setting and every limit of feedd in one
 * struct, and the parser that fills it (daemon/common_config.c, linked into
 * both feedd and feedctl).
 *
 * The file format and every key (default, unit, range) are documented in
 * examples/feedd.conf.  In short:
 *
 *	# a comment: '#' (or ';') as the first non-blank character of a line
 *	[global]			(implicit at the top of the file)
 *	interval = 1h
 *	max_body = 8M
 *	[feed "https://example.org/feed.xml"]
 *	interval = 30m
 *
 * A '#' anywhere else belongs to the value (URLs carry fragments), so
 * "interval = 1h  # hourly" is refused as a bad duration, never silently
 * misread.
 *
 * No globals: a config is a plain value.  Reloading is "parse into a fresh
 * struct, swap on success":
 *
 *	struct config fresh;
 *	if (config_load(&fresh, path, err, sizeof err) == 0) {
 *		config_free(&d->cfg);
 *		d->cfg = fresh;		// plain struct assignment moves it
 *	} else {
 *		log_warning("%s; keeping the old configuration", err);
 *	}
 *
 * config_load / config_parse never read *c and write it only on success,
 * so on error the caller's struct is untouched (and needs no free).
 */
#ifndef FEEDD_CONFIG_H
#define FEEDD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct parse_limits;

/* sizeof(sockaddr_un.sun_path) minus the NUL */
#define CONFIG_SOCKET_PATH_MAX 107
#define CONFIG_PATH_MAX 4095
#define CONFIG_USER_AGENT_MAX 511
/* A config file larger than this is refused (a fixed sanity bound). */
#define CONFIG_FILE_MAX (16u << 20)

/* log_level values are syslog priorities (the "<N>" prefix of a log line). */
enum config_log_level {
	CONFIG_LOG_ERR = 3,
	CONFIG_LOG_WARNING = 4,
	CONFIG_LOG_NOTICE = 5,
	CONFIG_LOG_INFO = 6,
	CONFIG_LOG_DEBUG = 7,
};

/*
 * Settings of one [feed "URL"] section.  Fields not set in the section
 * say so (interval 0, allow_private -1, title NULL); use the
 * config_feed_* helpers below for the effective value.
 * The daemon subscribes to every feed that has a section (adds it to the
 * store when missing).
 */
struct config_feed {
	char *url;		/* as written in the section header, validated */
	char *url_norm;		/* normalized by curl's URL API (used for lookup) */
	char *title;		/* NULL when not set */
	int64_t interval;	/* seconds; 0 when not set */
	int allow_private;	/* -1 not set, 0 no, 1 yes */
	unsigned line;		/* line of the section header */
};

/*
 * Every setting.  Units: durations in seconds (int64_t), sizes in bytes
 * (size_t), socket modes as permission bits.  Field names are the keys.
 */
struct config {
	/* paths */
	char database[CONFIG_PATH_MAX + 1];		/* $STATE_DIRECTORY/feedd.db, else ./feedd.db */
	char socket[CONFIG_SOCKET_PATH_MAX + 1];	/* $RUNTIME_DIRECTORY/sub.sock, else ./feedd.sock */
	char control_socket[CONFIG_SOCKET_PATH_MAX + 1]; /* $RUNTIME_DIRECTORY/control.sock, else ./feedd-control.sock */
	unsigned socket_mode;				/* 0660 */
	unsigned control_socket_mode;			/* 0600 */

	/* schedule */
	int64_t interval;		/* 1h: default poll interval */
	int64_t interval_floor;		/* 15m: no feed is polled more often */
	int64_t interval_max;		/* 24h: adaptive / server-raised intervals stop here */
	int64_t backoff_base;		/* 20m: first retry delay after a failure, doubles */
	int64_t backoff_max;		/* 12h: cap of the error back-off */
	unsigned jitter;		/* 20: +- percent applied to back-off and spread */

	/* fetch */
	char user_agent[CONFIG_USER_AGENT_MAX + 1]; /* "feedd/VERSION (+https://github.com/feedd/feedd)" */
	size_t max_body;		/* 8 MiB, counted after decompression */
	int64_t connect_timeout;	/* 15s */
	int64_t total_timeout;		/* 60s per transfer */
	size_t low_speed_limit;		/* 100 bytes/s ... */
	int64_t low_speed_time;		/* ... for 30s aborts the transfer */
	size_t max_redirects;		/* 5 */
	size_t max_parallel;		/* 16 transfers in all */
	size_t max_per_host;		/* 2 connections per host */
	bool allow_private;		/* no: refuse loopback/private/link-local/... */
	bool allow_file;		/* no: file:// feeds refused */
	int64_t retry_after_max;	/* 24h: Retry-After is clamped to this */

	/* parse (mirrors struct parse_limits; see config_parse_limits) */
	size_t max_items;		/* 10000 per document */
	size_t max_field;		/* 1 MiB per text field */
	size_t max_depth;		/* 256 */
	size_t max_categories;		/* 100 per item */
	size_t max_enclosures;		/* 32 per item */
	size_t amplification_threshold;	/* 1 MiB */
	double max_amplification;	/* 20 */

	/* store */
	size_t retain_items;		/* 1000 per feed; 0 = unlimited */
	size_t retain_days;		/* 0 = unlimited */
	size_t retain_batch;		/* 1000 items deleted per retention transaction */
	int64_t busy_timeout;		/* 5s */

	/* subscribers and control clients */
	size_t max_clients;		/* 256 subscribers */
	size_t max_control_clients;	/* 16 */
	size_t max_line;		/* 64 KiB per request line */
	int64_t sub_timeout;		/* 10s to send the first request after connecting */
	size_t client_output_limit;	/* 1 MiB pending output per client */
	int64_t client_stall_timeout;	/* 60s with output pending and none read */
	int64_t heartbeat;		/* 30s */
	size_t replay_batch;		/* 256 events read from the store per step */
	size_t event_cache;		/* 32 MiB of serialized event lines shared by subscribers */
	size_t event_cache_events;	/* 32768 lines at most in that cache */
	bool zero_copy;			/* yes: cached lines reach sockets by page reference */
	bool replay_pack;		/* yes: replaying subscribers move in packs */

	/* daemon */
	int64_t shutdown_timeout;	/* 10s to finish in-flight work on SIGTERM */
	enum config_log_level log_level; /* info */

	/* [feed "URL"] sections in file order; owned by the config */
	struct config_feed *feeds;
	size_t nfeeds;
	size_t *feed_sorted;		/* private: indexes sorted by url_norm */
};

/*
 * Fills c with the defaults (reading $STATE_DIRECTORY and
 * $RUNTIME_DIRECTORY; the first entry when they list several).  Allocates
 * nothing, so a defaulted config needs no config_free (calling it is fine).
 */
void config_defaults(struct config *c);

/*
 * Parses a config text (len bytes, need not be NUL-terminated) on top of
 * the defaults.  name is used in messages (normally the file's path).
 * Returns 0 and fills *c, or -1 with "NAME:LINE: message" in err (NUL
 * terminated, cut to errlen) and *c untouched.  Never reads *c.
 */
int config_parse(struct config *c, const char *text, size_t len, const char *name,
		 char *err, size_t errlen);

/* Reads path and calls config_parse.  Same contract ("PATH: ..." when unreadable). */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/*
 * Sets one global key from a string as if it were a line of the file
 * (for command-line overrides such as --db).  Returns 0, or -1 with
 * "KEY: message" in err and c unchanged.  Run config_check afterwards.
 */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);

/*
 * Checks the rules between keys (interval_floor <= interval <= interval_max,
 * distinct sockets, ...).  config_parse runs it; call it again after
 * config_set.  Returns 0, or -1 with a message.
 */
int config_check(const struct config *c, char *err, size_t errlen);

/* Frees what c owns and leaves it empty (feeds NULL); c itself is the caller's. */
void config_free(struct config *c);

/*
 * The [feed] section for url, or NULL.  Matches the URL as written or
 * after normalization by curl's URL API.  The pointer lives as long as c.
 */
const struct config_feed *config_feed_find(const struct config *c, const char *url);

/* Effective values for one feed (its section's override, else global). */
int64_t config_feed_interval(const struct config *c, const char *url);
bool config_feed_allow_private(const struct config *c, const char *url);

/* Copies the parse limits (parsers/feed.h) out of the config. */
void config_parse_limits(const struct config *c, struct parse_limits *l);

/*
 * Writes c as a config file that parses back to the same settings: every
 * global key with its effective value, then the [feed] sections (for
 * `feedd config` and for checking what a file amounts to).  Returns 0, or
 * -1 when writing failed.
 */
int config_write(const struct config *c, FILE *f);

/*
 * The i-th key name (global keys, then the per-feed ones; interval and
 * allow_private appear in both), or NULL past the end.  For docs and tests.
 */
const char *config_key_name(size_t i);

/* "info", "debug", ... */
const char *config_log_level_name(enum config_log_level l);

/*
 * Default config file: "$CONFIGURATION_DIRECTORY/feedd.conf" (first entry)
 * written into buf, or NULL when that variable is unset or too long.
 */
const char *config_default_path(char *buf, size_t len);

#endif
