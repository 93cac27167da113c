/*
 * common_config.c - feedd.conf parser (see config.h; the format and every
 * key are documented in examples/feedd.conf).
 *
 * The keys live in two tables (global, per feed): name, type, where the
 * value goes and its range.  A line is checked (NUL, control characters,
 * UTF-8), split into section header or key = value, and the value is
 * converted by its type's function.  Rules between keys (floor <= interval
 * and so on) are checked once the whole text is read, with the line of the
 * key that made them fail.  Everything is built in a private struct and
 * copied to the caller only on success.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "feed.h"

#define CFG_TITLE_MAX 1024
#define CFG_NONE ((size_t)-1)

enum cfg_type {
	CFG_PATH,	/* char[size], non-empty */
	CFG_STRING,	/* char[size], printable */
	CFG_TITLE,	/* char * (malloc'd) */
	CFG_DURATION,	/* int64_t seconds */
	CFG_SIZE,	/* size_t bytes, k/M/G units */
	CFG_COUNT,	/* size_t, plain number */
	CFG_PERCENT,	/* unsigned, optional '%' */
	CFG_MODE,	/* unsigned, octal */
	CFG_FACTOR,	/* double */
	CFG_BOOL,	/* bool */
	CFG_TRISTATE,	/* int -1/0/1 (per-feed bool) */
	CFG_LOGLEVEL,	/* enum config_log_level */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;	/* in struct config, or struct config_feed for feed keys */
	size_t size;	/* buffer size for PATH / STRING */
	int64_t min, max;
};

#define G(name, type, min, max) {#name, type, offsetof(struct config, name), \
	sizeof(((struct config *)0)->name), min, max}
#define F(name, type, min, max) {#name, type, offsetof(struct config_feed, name), \
	sizeof(((struct config_feed *)0)->name), min, max}
#define KiB 1024LL
#define MiB (1024LL * 1024)
#define GiB (1024LL * 1024 * 1024)
#define MIN 60LL
#define HOUR 3600LL
#define DAY 86400LL

static const struct cfg_key cfg_global_keys[] = {
	G(database, CFG_PATH, 0, 0),
	G(socket, CFG_PATH, 0, 0),
	G(control_socket, CFG_PATH, 0, 0),
	G(socket_mode, CFG_MODE, 0, 0777),
	G(control_socket_mode, CFG_MODE, 0, 0777),

	G(interval, CFG_DURATION, 1, 365 * DAY),
	G(interval_floor, CFG_DURATION, 1, 7 * DAY),
	G(interval_max, CFG_DURATION, 1, 365 * DAY),
	G(backoff_base, CFG_DURATION, 1, DAY),
	G(backoff_max, CFG_DURATION, 1, 30 * DAY),
	G(jitter, CFG_PERCENT, 0, 50),

	G(user_agent, CFG_STRING, 0, 0),
	G(max_body, CFG_SIZE, 1 * KiB, 1 * GiB),
	G(connect_timeout, CFG_DURATION, 1, 10 * MIN),
	G(total_timeout, CFG_DURATION, 1, HOUR),
	G(low_speed_limit, CFG_SIZE, 1, 100 * MiB),
	G(low_speed_time, CFG_DURATION, 1, HOUR),
	G(max_redirects, CFG_COUNT, 0, 20),
	G(max_parallel, CFG_COUNT, 1, 1024),
	G(max_per_host, CFG_COUNT, 1, 64),
	G(allow_private, CFG_BOOL, 0, 1),
	G(allow_file, CFG_BOOL, 0, 1),
	G(retry_after_max, CFG_DURATION, 1, 365 * DAY),

	G(max_items, CFG_COUNT, 1, 1000000),
	G(max_field, CFG_SIZE, 1 * KiB, 64 * MiB),
	G(max_depth, CFG_COUNT, 8, 10000),
	G(max_categories, CFG_COUNT, 0, 10000),
	G(max_enclosures, CFG_COUNT, 0, 1000),
	G(amplification_threshold, CFG_SIZE, 64 * KiB, 1 * GiB),
	G(max_amplification, CFG_FACTOR, 1, 1000),

	G(retain_items, CFG_COUNT, 0, 10000000),
	G(retain_days, CFG_COUNT, 0, 36500),
	G(retain_batch, CFG_COUNT, 1, 1000000),
	G(busy_timeout, CFG_DURATION, 1, 10 * MIN),

	G(max_clients, CFG_COUNT, 1, 65536),
	G(max_control_clients, CFG_COUNT, 1, 1024),
	G(max_line, CFG_SIZE, 256, 16 * MiB),
	G(sub_timeout, CFG_DURATION, 1, HOUR),
	G(client_output_limit, CFG_SIZE, 4 * KiB, 1 * GiB),
	G(client_stall_timeout, CFG_DURATION, 1, DAY),
	G(heartbeat, CFG_DURATION, 1, HOUR),
	G(replay_batch, CFG_COUNT, 1, 100000),
	G(event_cache, CFG_SIZE, 0, 1 * GiB),
	G(event_cache_events, CFG_COUNT, 0, 10000000),
	G(zero_copy, CFG_BOOL, 0, 1),
	G(replay_pack, CFG_BOOL, 0, 1),

	G(shutdown_timeout, CFG_DURATION, 1, 10 * MIN),
	G(log_level, CFG_LOGLEVEL, 0, 0),
};

static const struct cfg_key cfg_feed_keys[] = {
	F(interval, CFG_DURATION, 1, 365 * DAY),
	F(allow_private, CFG_TRISTATE, 0, 1),
	F(title, CFG_TITLE, 1, CFG_TITLE_MAX),
};

#define NGLOBAL (sizeof cfg_global_keys / sizeof cfg_global_keys[0])
#define NFEED (sizeof cfg_feed_keys / sizeof cfg_feed_keys[0])

/* The state of one config_parse call. */
struct cfg_parser {
	struct config c;
	const char *name;
	unsigned line;
	size_t cur;			/* feed index of the open section, CFG_NONE for global */
	size_t feedcap;
	unsigned gline[NGLOBAL];	/* line where each global key was set, 0 = default */
	unsigned fline[NFEED];		/* same for the open feed section */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static void cfg_msg(char *err, size_t errlen,
							   const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- defaults ---- */

/* dir/file from the first entry of $env, or fallback; "" when too long. */
static void cfg_env_path(char *dst, size_t size, const char *env, const char *file,
			 const char *fallback)
{
	const char *v = getenv(env);
	int n;

	if (!v || !*v) {
		snprintf(dst, size, "%s", fallback);
		return;
	}
	n = snprintf(dst, size, "%.*s/%s", (int)strcspn(v, ":"), v, file);
	if (n < 0 || (size_t)n >= size)
		dst[0] = '\0';
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	cfg_env_path(c->database, sizeof c->database, "STATE_DIRECTORY", "feedd.db",
		     "./feedd.db");
	cfg_env_path(c->socket, sizeof c->socket, "RUNTIME_DIRECTORY", "sub.sock",
		     "./feedd.sock");
	cfg_env_path(c->control_socket, sizeof c->control_socket, "RUNTIME_DIRECTORY",
		     "control.sock", "./feedd-control.sock");
	c->socket_mode = 0660;
	c->control_socket_mode = 0600;

	c->interval = HOUR;
	c->interval_floor = 15 * MIN;
	c->interval_max = 24 * HOUR;
	c->backoff_base = 20 * MIN;
	c->backoff_max = 12 * HOUR;
	c->jitter = 20;

	snprintf(c->user_agent, sizeof c->user_agent,
		 "feedd/%s (+https://github.com/feedd/feedd)", FEEDD_VERSION);
	c->max_body = 8 * MiB;
	c->connect_timeout = 15;
	c->total_timeout = 60;
	c->low_speed_limit = 100;
	c->low_speed_time = 30;
	c->max_redirects = 5;
	c->max_parallel = 16;
	c->max_per_host = 2;
	c->allow_private = false;
	c->allow_file = false;
	c->retry_after_max = 24 * HOUR;

	c->max_items = 10000;
	c->max_field = 1 * MiB;
	c->max_depth = 256;
	c->max_categories = 100;
	c->max_enclosures = 32;
	c->amplification_threshold = 1 * MiB;
	c->max_amplification = 20;

	c->retain_items = 1000;
	c->retain_days = 0;
	c->retain_batch = 1000;
	c->busy_timeout = 5;

	c->max_clients = 256;
	c->max_control_clients = 16;
	c->max_line = 64 * KiB;
	c->sub_timeout = 10;
	c->client_output_limit = 1 * MiB;
	c->client_stall_timeout = 60;
	c->heartbeat = 30;
	c->replay_batch = 256;
	c->event_cache = 32 * MiB;
	c->event_cache_events = 32768;
	c->zero_copy = true;
	c->replay_pack = true;

	c->shutdown_timeout = 10;
	c->log_level = CONFIG_LOG_INFO;
}

const char *config_default_path(char *buf, size_t len)
{
	const char *v = getenv("CONFIGURATION_DIRECTORY");
	int n;

	if (!v || !*v || !len)
		return NULL;
	n = snprintf(buf, len, "%.*s/feedd.conf", (int)strcspn(v, ":"), v);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->nfeeds; i++) {
		free(c->feeds[i].url);
		free(c->feeds[i].url_norm);
		free(c->feeds[i].title);
	}
	free(c->feeds);
	free(c->feed_sorted);
	c->feeds = NULL;
	c->feed_sorted = NULL;
	c->nfeeds = 0;
}

/* ---- formatting values for messages ---- */

static void cfg_fmt_duration(char *b, size_t n, int64_t s)
{
	static const struct {
		int64_t secs;
		char unit;
	} units[] = {{DAY, 'd'}, {HOUR, 'h'}, {MIN, 'm'}};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (s && s % units[i].secs == 0) {
			snprintf(b, n, "%lld%c", (long long)(s / units[i].secs), units[i].unit);
			return;
		}
	snprintf(b, n, "%llds", (long long)s);
}

static void cfg_fmt_size(char *b, size_t n, int64_t v)
{
	static const struct {
		int64_t bytes;
		char unit;
	} units[] = {{GiB, 'G'}, {MiB, 'M'}, {KiB, 'k'}};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (v && v % units[i].bytes == 0) {
			snprintf(b, n, "%lld%c", (long long)(v / units[i].bytes), units[i].unit);
			return;
		}
	snprintf(b, n, "%lld", (long long)v);
}

static void cfg_fmt(const struct cfg_key *k, char *b, size_t n, int64_t v)
{
	if (k->type == CFG_DURATION)
		cfg_fmt_duration(b, n, v);
	else if (k->type == CFG_SIZE)
		cfg_fmt_size(b, n, v);
	else if (k->type == CFG_PERCENT)
		snprintf(b, n, "%lld%%", (long long)v);
	else if (k->type == CFG_MODE)
		snprintf(b, n, "%04llo", (long long)v);
	else
		snprintf(b, n, "%lld", (long long)v);
}

/* ---- value conversion: each returns 0, or -1 with a message ---- */

/* Leading decimal digits of s into *v; the rest in *end.  -1 on none / overflow. */
static int cfg_digits(const char *s, const char **end, uint64_t *v)
{
	uint64_t n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	*end = p;
	*v = n;
	return 0;
}

static int cfg_scale(uint64_t n, uint64_t mult, int64_t *out)
{
	if (n > (uint64_t)INT64_MAX / mult)
		return -1;
	*out = (int64_t)(n * mult);
	return 0;
}

static int cfg_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t secs;
	} units[] = {{"", 1},	      {"s", 1},	      {"m", 60},   {"h", 3600},
		     {"d", 86400}, {"w", 604800}, {"min", 60}};
	const char *end;
	uint64_t n;

	if (cfg_digits(s, &end, &n) < 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (!strcmp(end, units[i].unit))
			return cfg_scale(n, units[i].secs, out);
	return -1;
}

static int cfg_size(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t bytes;
	} units[] = {{"", 1},	 {"B", 1},	  {"k", 1 << 10},     {"K", 1 << 10},
		     {"KiB", 1 << 10}, {"M", 1 << 20},  {"MiB", 1 << 20}, {"G", 1 << 30},
		     {"GiB", 1 << 30}};
	const char *end;
	uint64_t n;

	if (cfg_digits(s, &end, &n) < 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (!strcmp(end, units[i].unit))
			return cfg_scale(n, units[i].bytes, out);
	return -1;
}

static int cfg_count(const char *s, int64_t *out)
{
	const char *end;
	uint64_t n;

	if (cfg_digits(s, &end, &n) < 0 || *end)
		return -1;
	return cfg_scale(n, 1, out);
}

static int cfg_percent(const char *s, int64_t *out)
{
	const char *end;
	uint64_t n;

	if (cfg_digits(s, &end, &n) < 0 || (*end && strcmp(end, "%")))
		return -1;
	return cfg_scale(n, 1, out);
}

static int cfg_mode(const char *s, int64_t *out)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '7'; i++) {
		if (i >= 4)
			return -1;
		n = n * 8 + (s[i] - '0');
	}
	if (!i || s[i])
		return -1;
	*out = n;
	return 0;
}

/* digits[.digits] */
static int cfg_factor(const char *s, double *out)
{
	const char *end, *frac;
	uint64_t n;

	if (cfg_digits(s, &end, &n) < 0 || n > 1000000)
		return -1;
	if (*end == '.') {
		frac = end + 1;
		if (cfg_digits(frac, &end, &n) < 0 || end - frac > 6)
			return -1;
	}
	if (*end)
		return -1;
	*out = strtod(s, NULL);
	return 0;
}

static int cfg_bool(const char *s, bool *out)
{
	static const char *yes[] = {"yes", "true", "on", "1"};
	static const char *no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (!strcmp(s, yes[i]))
			return *out = true, 0;
		if (!strcmp(s, no[i]))
			return *out = false, 0;
	}
	return -1;
}

static const struct {
	const char *name;
	enum config_log_level level;
} cfg_levels[] = {
	{"error", CONFIG_LOG_ERR},   {"warning", CONFIG_LOG_WARNING}, {"notice", CONFIG_LOG_NOTICE},
	{"info", CONFIG_LOG_INFO},   {"debug", CONFIG_LOG_DEBUG},     {"err", CONFIG_LOG_ERR},
	{"warn", CONFIG_LOG_WARNING},
};

const char *config_log_level_name(enum config_log_level l)
{
	for (size_t i = 0; i < sizeof cfg_levels / sizeof cfg_levels[0]; i++)
		if (cfg_levels[i].level == l)
			return cfg_levels[i].name;
	return "info";
}

static int cfg_loglevel(const char *s, enum config_log_level *out)
{
	for (size_t i = 0; i < sizeof cfg_levels / sizeof cfg_levels[0]; i++)
		if (!strcmp(s, cfg_levels[i].name))
			return *out = cfg_levels[i].level, 0;
	return -1;
}

static const char *cfg_type_hint(enum cfg_type t)
{
	switch (t) {
	case CFG_DURATION:
		return "bad duration (a number with an optional unit s, m, h, d or w: 30s, 15m, 1h)";
	case CFG_SIZE:
		return "bad size (a number of bytes with an optional unit k, M or G: 512k, 8M)";
	case CFG_COUNT:
		return "bad number (digits only)";
	case CFG_PERCENT:
		return "bad percentage (a number with an optional '%': 20%)";
	case CFG_MODE:
		return "bad mode (octal permission bits: 0660)";
	case CFG_FACTOR:
		return "bad factor (a number, optionally with a decimal point: 20, 12.5)";
	case CFG_BOOL:
	case CFG_TRISTATE:
		return "bad boolean (yes/no, true/false, on/off, 1/0)";
	case CFG_LOGLEVEL:
		return "bad log level (error, warning, notice, info or debug)";
	default:
		return "bad value";
	}
}

/* Convert a numeric value and check its range.  -1 with a message. */
static int cfg_number(const struct cfg_key *k, const char *v, int64_t *n, char *msg,
		      size_t msglen)
{
	static int (*const conv[])(const char *, int64_t *) = {
		[CFG_DURATION] = cfg_duration, [CFG_SIZE] = cfg_size, [CFG_COUNT] = cfg_count,
		[CFG_PERCENT] = cfg_percent,   [CFG_MODE] = cfg_mode,
	};
	char lo[32], hi[32], got[32];

	if (conv[k->type](v, n) < 0) {
		cfg_msg(msg, msglen, "%s: %s, got '%s'%s", k->name, cfg_type_hint(k->type), v,
			strchr(v, '#') ? " (comments go on their own line)" : "");
		return -1;
	}
	if (*n < k->min || *n > k->max) {
		cfg_fmt(k, lo, sizeof lo, k->min);
		cfg_fmt(k, hi, sizeof hi, k->max);
		cfg_fmt(k, got, sizeof got, *n);
		cfg_msg(msg, msglen, "%s: %s is out of range (%s to %s)", k->name, got, lo, hi);
		return -1;
	}
	return 0;
}

static int cfg_string(const struct cfg_key *k, const char *v, void *dst, char *msg,
		      size_t msglen)
{
	size_t n = strlen(v);

	if (n >= k->size) {
		cfg_msg(msg, msglen, "%s: too long (%zu bytes, at most %zu)", k->name, n,
			k->size - 1);
		return -1;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

/*
 * Sets key k from value v into base (a struct config or config_feed).
 * Writes nothing on error.
 */
static int cfg_set_value(const struct cfg_key *k, const char *v, void *base, char *msg,
			 size_t msglen)
{
	void *dst = (char *)base + k->off;
	int64_t n;
	double d;
	bool b;
	enum config_log_level l;
	char *s;

	if (!*v) {
		cfg_msg(msg, msglen, "%s: missing value", k->name);
		return -1;
	}
	switch (k->type) {
	case CFG_PATH:
	case CFG_STRING:
		return cfg_string(k, v, dst, msg, msglen);
	case CFG_TITLE:
		if (strlen(v) > (size_t)k->max) {
			cfg_msg(msg, msglen, "%s: too long (at most %lld bytes)", k->name,
				(long long)k->max);
			return -1;
		}
		if (!(s = strdup(v))) {
			cfg_msg(msg, msglen, "out of memory");
			return -1;
		}
		free(*(char **)dst);
		*(char **)dst = s;
		return 0;
	case CFG_FACTOR:
		if (cfg_factor(v, &d) < 0)
			break;
		if (d < (double)k->min || d > (double)k->max) {
			cfg_msg(msg, msglen, "%s: %s is out of range (%lld to %lld)", k->name, v,
				(long long)k->min, (long long)k->max);
			return -1;
		}
		*(double *)dst = d;
		return 0;
	case CFG_BOOL:
	case CFG_TRISTATE:
		if (cfg_bool(v, &b) < 0)
			break;
		if (k->type == CFG_BOOL)
			*(bool *)dst = b;
		else
			*(int *)dst = b;
		return 0;
	case CFG_LOGLEVEL:
		if (cfg_loglevel(v, &l) < 0)
			break;
		*(enum config_log_level *)dst = l;
		return 0;
	default:
		if (cfg_number(k, v, &n, msg, msglen) < 0)
			return -1;
		if (k->type == CFG_DURATION)
			*(int64_t *)dst = n;
		else if (k->type == CFG_SIZE || k->type == CFG_COUNT)
			*(size_t *)dst = (size_t)n;
		else
			*(unsigned *)dst = (unsigned)n;
		return 0;
	}
	cfg_msg(msg, msglen, "%s: %s, got '%s'%s", k->name, cfg_type_hint(k->type), v,
		strchr(v, '#') ? " (comments go on their own line)" : "");
	return -1;
}

static const struct cfg_key *cfg_find_key(const struct cfg_key *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* ---- URLs ---- */

/* Host names compare without case; curl keeps them as written. */
static CURLUcode cfg_url_lower_host(CURLU *h)
{
	char *host = NULL;
	CURLUcode rc = curl_url_get(h, CURLUPART_HOST, &host, 0);

	if (rc == CURLUE_NO_HOST)
		return CURLUE_OK;	/* file:///path */
	if (rc != CURLUE_OK)
		return rc;
	for (char *p = host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	rc = curl_url_set(h, CURLUPART_HOST, host, 0);
	curl_free(host);
	return rc;
}

/*
 * Validates a feed URL (http, https, or file) with curl's URL API and
 * returns its normalized form in *norm (malloc'd).  *is_file tells file://.
 */
static int cfg_url(const char *url, char **norm, bool *is_file, char *msg, size_t msglen)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *out = NULL;
	CURLUcode rc;
	int ret = -1;

	if (!h) {
		cfg_msg(msg, msglen, "out of memory");
		return -1;
	}
	if (strpbrk(url, " \t")) {
		cfg_msg(msg, msglen, "feed URL '%s' contains white space", url);
		goto out;
	}
	rc = curl_url_set(h, CURLUPART_URL, url, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_get(h, CURLUPART_SCHEME, &scheme, 0);
	if (rc == CURLUE_OK)
		rc = cfg_url_lower_host(h);
	if (rc == CURLUE_OK)
		rc = curl_url_get(h, CURLUPART_URL, &out, 0);
	if (rc != CURLUE_OK) {
		cfg_msg(msg, msglen, "bad feed URL '%s': %s", url, curl_url_strerror(rc));
		goto out;
	}
	*is_file = !strcmp(scheme, "file");
	if (strcmp(scheme, "http") && strcmp(scheme, "https") && !*is_file) {
		cfg_msg(msg, msglen, "feed URL '%s': only http:// and https:// are fetched", url);
		goto out;
	}
	if (!(*norm = strdup(out))) {
		cfg_msg(msg, msglen, "out of memory");
		goto out;
	}
	ret = 0;
out:
	curl_free(scheme);
	curl_free(out);
	curl_url_cleanup(h);
	return ret;
}

static char *cfg_url_norm(const char *url)
{
	char *norm = NULL, msg[8];
	bool is_file;

	if (cfg_url(url, &norm, &is_file, msg, sizeof msg) < 0)
		return NULL;
	return norm;
}

/* ---- rules between keys ---- */

/* a <= b, both global keys; lines may be NULL (config_check). */
struct cfg_order {
	const char *a, *b;
};

static const struct cfg_order cfg_orders[] = {
	{"interval_floor", "interval"},
	{"interval", "interval_max"},
	{"backoff_base", "backoff_max"},
	{"connect_timeout", "total_timeout"},
};

static int64_t cfg_get_int(const void *c, const struct cfg_key *k)
{
	const void *p = (const char *)c + k->off;

	if (k->type == CFG_DURATION)
		return *(const int64_t *)p;
	if (k->type == CFG_SIZE || k->type == CFG_COUNT)
		return (int64_t)*(const size_t *)p;
	return *(const unsigned *)p;
}

/* Location prefix "NAME:LINE: " (or "NAME: " / "" when unknown). */
static void cfg_where(char *b, size_t n, const char *name, unsigned line)
{
	if (name && line)
		snprintf(b, n, "%s:%u: ", name, line);
	else if (name)
		snprintf(b, n, "%s: ", name);
	else
		b[0] = '\0';
}

static int cfg_check_orders(const struct config *c, const unsigned *lines, const char *name,
			    char *err, size_t errlen)
{
	char where[256], va[32], vb[32];

	for (size_t i = 0; i < sizeof cfg_orders / sizeof cfg_orders[0]; i++) {
		const struct cfg_key *a = cfg_find_key(cfg_global_keys, NGLOBAL, cfg_orders[i].a);
		const struct cfg_key *b = cfg_find_key(cfg_global_keys, NGLOBAL, cfg_orders[i].b);
		int64_t x = cfg_get_int(c, a), y = cfg_get_int(c, b);
		unsigned la, lb;

		if (x <= y)
			continue;
		la = lines ? lines[a - cfg_global_keys] : 0;
		lb = lines ? lines[b - cfg_global_keys] : 0;
		cfg_where(where, sizeof where, name, la > lb ? la : lb);
		cfg_fmt(a, va, sizeof va, x);
		cfg_fmt(b, vb, sizeof vb, y);
		cfg_msg(err, errlen, "%s%s %s%s must not be above %s %s%s", where, a->name, va,
			lines && !la ? " (default)" : "", b->name, vb,
			lines && !lb ? " (default)" : "");
		return -1;
	}
	return 0;
}

static int cfg_check_feeds(const struct config *c, const char *name, char *err, size_t errlen)
{
	char where[256], v[32], lim[32];

	for (size_t i = 0; i < c->nfeeds; i++) {
		const struct config_feed *f = &c->feeds[i];

		cfg_where(where, sizeof where, name, f->line);
		if (!c->allow_file && !strncmp(f->url_norm, "file:", 5)) {
			cfg_msg(err, errlen, "%sfeed URL '%s': file:// needs allow_file = yes",
				where, f->url);
			return -1;
		}
		if (f->interval && (f->interval < c->interval_floor ||
				    f->interval > c->interval_max)) {
			cfg_fmt_duration(v, sizeof v, f->interval);
			cfg_fmt_duration(lim, sizeof lim, f->interval < c->interval_floor
							      ? c->interval_floor
							      : c->interval_max);
			cfg_msg(err, errlen, "%sinterval %s of feed '%s' is %s %s %s", where, v,
				f->url, f->interval < c->interval_floor ? "below" : "above",
				f->interval < c->interval_floor ? "interval_floor" : "interval_max",
				lim);
			return -1;
		}
	}
	return 0;
}

static int cfg_cmp_feed(const void *a, const void *b, void *ctx)
{
	const struct config *c = ctx;
	const struct config_feed *fa = &c->feeds[*(const size_t *)a];
	const struct config_feed *fb = &c->feeds[*(const size_t *)b];
	int r = strcmp(fa->url_norm, fb->url_norm);

	if (r)
		return r;
	return fa->line < fb->line ? -1 : fa->line > fb->line;
}

/* Builds c->feed_sorted and refuses duplicate sections. */
static int cfg_index_feeds(struct config *c, const char *name, char *err, size_t errlen)
{
	char where[256];

	free(c->feed_sorted);
	c->feed_sorted = NULL;
	if (!c->nfeeds)
		return 0;
	if (!(c->feed_sorted = malloc(c->nfeeds * sizeof *c->feed_sorted))) {
		cfg_msg(err, errlen, "%s: out of memory", name);
		return -1;
	}
	for (size_t i = 0; i < c->nfeeds; i++)
		c->feed_sorted[i] = i;
	qsort_r(c->feed_sorted, c->nfeeds, sizeof *c->feed_sorted, cfg_cmp_feed, c);
	for (size_t i = 1; i < c->nfeeds; i++) {
		const struct config_feed *a = &c->feeds[c->feed_sorted[i - 1]];
		const struct config_feed *b = &c->feeds[c->feed_sorted[i]];

		if (strcmp(a->url_norm, b->url_norm))
			continue;
		cfg_where(where, sizeof where, name, b->line);
		cfg_msg(err, errlen, "%sduplicate section for feed '%s' (first on line %u)", where,
			b->url, a->line);
		return -1;
	}
	return 0;
}

static int cfg_check_all(const struct config *c, const unsigned *lines, const char *name,
			 char *err, size_t errlen)
{
	static const char *paths[] = {"database", "socket", "control_socket"};
	char where[256];

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		const struct cfg_key *k = cfg_find_key(cfg_global_keys, NGLOBAL, paths[i]);

		if (!*((const char *)c + k->off)) {
			cfg_where(where, sizeof where, name, 0);
			cfg_msg(err, errlen,
				"%s%s: no path (the default from $STATE_DIRECTORY or "
				"$RUNTIME_DIRECTORY is too long)",
				where, k->name);
			return -1;
		}
	}
	if (!strcmp(c->socket, c->control_socket)) {
		unsigned l = 0;

		if (lines) {
			unsigned a = lines[cfg_find_key(cfg_global_keys, NGLOBAL, "socket") -
					   cfg_global_keys];
			unsigned b = lines[cfg_find_key(cfg_global_keys, NGLOBAL,
							 "control_socket") -
					   cfg_global_keys];
			l = a > b ? a : b;
		}
		cfg_where(where, sizeof where, name, l);
		cfg_msg(err, errlen, "%ssocket and control_socket must differ (both '%s')", where,
			c->socket);
		return -1;
	}
	if (cfg_check_orders(c, lines, name, err, errlen) < 0)
		return -1;
	return cfg_check_feeds(c, name, err, errlen);
}

int config_check(const struct config *c, char *err, size_t errlen)
{
	return cfg_check_all(c, NULL, NULL, err, errlen);
}

/* ---- lines ---- */

__attribute__((format(printf, 2, 3))) static int cfg_fail(struct cfg_parser *p,
							   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cfg_msg(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
	return -1;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t cfg_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* NUL, control characters, invalid UTF-8. */
static int cfg_check_bytes(struct cfg_parser *p, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		if (u[i] == 0)
			return cfg_fail(p, "NUL byte");
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			return cfg_fail(p, "control character 0x%02x", u[i]);
		if (!(l = cfg_utf8_len(u + i, n - i)))
			return cfg_fail(p, "invalid UTF-8");
		i += l;
	}
	return 0;
}

static char *cfg_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/*
 * A value: bare (as is), or "quoted" with \" and \\ escapes and nothing but
 * blanks after the closing quote.  Unquotes in place.
 */
static int cfg_unquote(struct cfg_parser *p, char *s, char **out)
{
	char *r = s + 1, *w = s;

	if (*s != '"') {
		*out = s;
		return 0;
	}
	for (;; r++) {
		if (!*r)
			return cfg_fail(p, "unterminated quoted string");
		if (*r == '"')
			break;
		if (*r == '\\') {
			r++;
			if (*r != '"' && *r != '\\')
				return cfg_fail(p, "unknown escape '\\%c' in quoted string "
						   "(only \\\" and \\\\)",
						*r ? *r : ' ');
		}
		*w++ = *r;
	}
	if (*cfg_trim(r + 1))
		return cfg_fail(p, "unexpected text after the closing quote");
	*w = '\0';
	*out = s;
	return 0;
}

static int cfg_new_feed(struct cfg_parser *p, const char *url)
{
	struct config *c = &p->c;
	struct config_feed *f;
	char msg[512], *norm;
	bool is_file;

	if (cfg_url(url, &norm, &is_file, msg, sizeof msg) < 0)
		return cfg_fail(p, "%s", msg);
	if (c->nfeeds == p->feedcap) {
		size_t cap = p->feedcap ? p->feedcap * 2 : 16;
		void *n = realloc(c->feeds, cap * sizeof *c->feeds);

		if (!n) {
			free(norm);
			return cfg_fail(p, "out of memory");
		}
		c->feeds = n;
		p->feedcap = cap;
	}
	f = &c->feeds[c->nfeeds];
	memset(f, 0, sizeof *f);
	f->url_norm = norm;
	f->allow_private = -1;
	f->line = p->line;
	c->nfeeds++;
	if (!(f->url = strdup(url)))
		return cfg_fail(p, "out of memory");
	p->cur = c->nfeeds - 1;
	memset(p->fline, 0, sizeof p->fline);
	return 0;
}

/* "[global]" or "[feed "URL"]"; s is the trimmed line. */
static int cfg_section(struct cfg_parser *p, char *s)
{
	size_t n = strlen(s);
	char *in, *url;

	if (s[n - 1] != ']')
		return cfg_fail(p, "section header without closing ']'");
	s[n - 1] = '\0';
	in = cfg_trim(s + 1);
	if (!strcmp(in, "global")) {
		p->cur = CFG_NONE;
		return 0;
	}
	if (!strncmp(in, "feed", 4) && (in[4] == ' ' || in[4] == '\t' || in[4] == '"')) {
		in = cfg_trim(in + 4);
		if (*in != '"')
			return cfg_fail(p, "expected [feed \"URL\"]");
		if (cfg_unquote(p, in, &url) < 0)
			return -1;
		if (!*url)
			return cfg_fail(p, "empty feed URL");
		return cfg_new_feed(p, url);
	}
	return cfg_fail(p, "unknown section [%s] (sections are [global] and [feed \"URL\"])",
			in);
}

/* Edit distance between two short strings (keys), capped at 3. */
static size_t cfg_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la >= 64 || lb >= 64)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb] < 3 ? row[lb] : 3;
}

/* "unknown key 'intervall' (did you mean 'interval'?)" */
static int cfg_unknown_key(struct cfg_parser *p, const char *key)
{
	const struct cfg_key *keys = p->cur == CFG_NONE ? cfg_global_keys : cfg_feed_keys;
	size_t n = p->cur == CFG_NONE ? NGLOBAL : NFEED, best = 3, d;
	const char *guess = NULL;

	for (size_t i = 0; i < n; i++)
		if ((d = cfg_distance(key, keys[i].name)) < best) {
			best = d;
			guess = keys[i].name;
		}
	if (guess)
		return cfg_fail(p, "unknown key '%s' (did you mean '%s'?)", key, guess);
	return cfg_fail(p, "unknown key '%s'", key);
}

static int cfg_keyval(struct cfg_parser *p, char *s)
{
	const struct cfg_key *k;
	char *key = s, *v, msg[512];
	unsigned *seen;
	void *base;
	size_t n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
	       (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '-' || s[n] == '.')
		n++;
	if (!n)
		return cfg_fail(p, "expected 'key = value', a [section] or a # comment");
	v = cfg_trim(s + n);
	if (*v != '=') {
		s[n] = '\0';
		return cfg_fail(p, "missing '=' after '%s'", key);
	}
	s[n] = '\0';
	if (cfg_unquote(p, cfg_trim(v + 1), &v) < 0)
		return -1;
	if (p->cur == CFG_NONE) {
		k = cfg_find_key(cfg_global_keys, NGLOBAL, key);
		if (!k && cfg_find_key(cfg_feed_keys, NFEED, key))
			return cfg_fail(p, "'%s' is only allowed in a [feed \"URL\"] section", key);
		seen = k ? &p->gline[k - cfg_global_keys] : NULL;
		base = &p->c;
	} else {
		k = cfg_find_key(cfg_feed_keys, NFEED, key);
		if (!k && cfg_find_key(cfg_global_keys, NGLOBAL, key))
			return cfg_fail(p, "'%s' is not allowed in a [feed] section (only "
					   "interval, allow_private, title)",
					key);
		seen = k ? &p->fline[k - cfg_feed_keys] : NULL;
		base = &p->c.feeds[p->cur];
	}
	if (!k)
		return cfg_unknown_key(p, key);
	if (*seen)
		return cfg_fail(p, "duplicate key '%s' (first set on line %u)", key, *seen);
	if (cfg_set_value(k, v, base, msg, sizeof msg) < 0)
		return cfg_fail(p, "%s", msg);
	*seen = p->line;
	return 0;
}

/* One line (len bytes, no LF). */
static int cfg_line(struct cfg_parser *p, const char *text, size_t len)
{
	char *buf, *s;
	int r = 0;

	if (len && text[len - 1] == '\r')
		len--;
	if (p->line == 1 && len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		text += 3, len -= 3;
	if (cfg_check_bytes(p, text, len) < 0)
		return -1;
	if (!(buf = malloc(len + 1)))
		return cfg_fail(p, "out of memory");
	memcpy(buf, text, len);
	buf[len] = '\0';
	s = cfg_trim(buf);
	if (!*s || *s == '#' || *s == ';')
		r = 0;
	else if (*s == '[')
		r = cfg_section(p, s);
	else
		r = cfg_keyval(p, s);
	free(buf);
	return r;
}

int config_parse(struct config *c, const char *text, size_t len, const char *name, char *err,
		 size_t errlen)
{
	struct cfg_parser *p = calloc(1, sizeof *p);
	const char *end = text + len, *nl;
	int r = -1;

	if (!name)
		name = "config";
	if (!p) {
		cfg_msg(err, errlen, "%s: out of memory", name);
		return -1;
	}
	config_defaults(&p->c);
	p->name = name;
	p->cur = CFG_NONE;
	p->err = err;
	p->errlen = errlen;
	while (text < end) {
		p->line++;
		nl = memchr(text, '\n', (size_t)(end - text));
		if (cfg_line(p, text, nl ? (size_t)(nl - text) : (size_t)(end - text)) < 0)
			goto out;
		text = nl ? nl + 1 : end;
	}
	if (cfg_index_feeds(&p->c, name, err, errlen) < 0 ||
	    cfg_check_all(&p->c, p->gline, name, err, errlen) < 0)
		goto out;
	*c = p->c;
	memset(&p->c, 0, sizeof p->c);
	r = 0;
out:
	config_free(&p->c);
	free(p);
	return r;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = NULL, *nb;
	ssize_t got;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cfg_msg(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (n == cap || !buf) {
			if (buf)
				cap *= 2;
			if (!(nb = realloc(buf, cap))) {
				cfg_msg(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cfg_msg(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (!got)
			break;
		n += (size_t)got;
		if (n > CONFIG_FILE_MAX) {
			cfg_msg(err, errlen, "%s: larger than %u MiB", path, CONFIG_FILE_MAX >> 20);
			goto fail;
		}
	}
	close(fd);
	r = config_parse(c, buf, n, path, err, errlen);
	free(buf);
	return r;
fail:
	close(fd);
	free(buf);
	return -1;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
	const struct cfg_key *k = cfg_find_key(cfg_global_keys, NGLOBAL, key);

	if (!k) {
		cfg_msg(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	return cfg_set_value(k, value, c, err, errlen);
}

/* ---- writing ---- */

static void cfg_write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Writes "key = value\n" for key k of base; nothing for unset feed keys. */
static void cfg_write_key(FILE *f, const struct cfg_key *k, const void *base)
{
	const void *p = (const char *)base + k->off;
	char v[64];

	switch (k->type) {
	case CFG_PATH:
	case CFG_STRING:
		fprintf(f, "%s = ", k->name);
		cfg_write_string(f, p);
		fputc('\n', f);
		return;
	case CFG_TITLE:
		if (!*(char *const *)p)
			return;
		fprintf(f, "%s = ", k->name);
		cfg_write_string(f, *(char *const *)p);
		fputc('\n', f);
		return;
	case CFG_FACTOR:
		snprintf(v, sizeof v, "%.6f", *(const double *)p);
		for (char *e = v + strlen(v) - 1; *e == '0' || *e == '.'; e--) {
			char dot = *e;

			*e = '\0';
			if (dot == '.')
				break;
		}
		break;
	case CFG_BOOL:
		snprintf(v, sizeof v, "%s", *(const bool *)p ? "yes" : "no");
		break;
	case CFG_TRISTATE:
		if (*(const int *)p < 0)
			return;
		snprintf(v, sizeof v, "%s", *(const int *)p ? "yes" : "no");
		break;
	case CFG_LOGLEVEL:
		snprintf(v, sizeof v, "%s", config_log_level_name(*(const enum config_log_level *)p));
		break;
	case CFG_DURATION:
		if (!*(const int64_t *)p)
			return;	/* only a feed's unset interval */
		cfg_fmt(k, v, sizeof v, *(const int64_t *)p);
		break;
	default:
		cfg_fmt(k, v, sizeof v, cfg_get_int(base, k));
		break;
	}
	fprintf(f, "%s = %s\n", k->name, v);
}

int config_write(const struct config *c, FILE *f)
{
	fputs("[global]\n", f);
	for (size_t i = 0; i < NGLOBAL; i++)
		cfg_write_key(f, &cfg_global_keys[i], c);
	for (size_t i = 0; i < c->nfeeds; i++) {
		fputs("\n[feed ", f);
		cfg_write_string(f, c->feeds[i].url);
		fputs("]\n", f);
		for (size_t j = 0; j < NFEED; j++)
			cfg_write_key(f, &cfg_feed_keys[j], &c->feeds[i]);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* ---- lookups ---- */

const char *config_key_name(size_t i)
{
	if (i < NGLOBAL)
		return cfg_global_keys[i].name;
	if (i - NGLOBAL < NFEED)
		return cfg_feed_keys[i - NGLOBAL].name;
	return NULL;
}

const struct config_feed *config_feed_find(const struct config *c, const char *url)
{
	const struct config_feed *found = NULL;
	char *norm;
	size_t lo = 0, hi = c->nfeeds;

	if (!c->nfeeds || !url)
		return NULL;
	if (!(norm = cfg_url_norm(url))) {
		for (size_t i = 0; i < c->nfeeds; i++)
			if (!strcmp(c->feeds[i].url, url))
				return &c->feeds[i];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct config_feed *f = &c->feeds[c->feed_sorted[mid]];
		int r = strcmp(norm, f->url_norm);

		if (!r) {
			found = f;
			break;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	free(norm);
	return found;
}

int64_t config_feed_interval(const struct config *c, const char *url)
{
	const struct config_feed *f = config_feed_find(c, url);

	return f && f->interval ? f->interval : c->interval;
}

bool config_feed_allow_private(const struct config *c, const char *url)
{
	const struct config_feed *f = config_feed_find(c, url);

	return f && f->allow_private >= 0 ? f->allow_private : c->allow_private;
}

void config_parse_limits(const struct config *c, struct parse_limits *l)
{
	parse_limits_default(l);
	l->max_depth = c->max_depth;
	l->max_field = c->max_field;
	l->max_items = c->max_items;
	l->max_categories = c->max_categories;
	l->max_enclosures = c->max_enclosures;
	l->amplification_threshold = c->amplification_threshold;
	l->max_amplification = (float)c->max_amplification;
}
