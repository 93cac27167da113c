/* feeds.c - the feed list, for the command line and the control socket alike. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "feeds.h"

static int feeds_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void feeds_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum feeds_err feeds_store_err(struct store *s, char *err, size_t errlen);
static char *feeds_trim(const char *s);
static int feeds_json_time(struct buf *b, const char *key, int64_t t);
static int feeds_json_strkey(struct buf *b, const char *key, const char *val);
static int feeds_xml_escape(struct buf *b, const char *s);

static const char *const feeds_err_codes[] = {
    [FEEDS_OK] = "ok",
    [FEEDS_ERR_INVALID] = "invalid",
    [FEEDS_ERR_EXISTS] = "exists",
    [FEEDS_ERR_NOT_FOUND] = "not_found",
    [FEEDS_ERR_STORE] = "store",
};

const char *feeds_err_code(enum feeds_err e)
{
	if ((size_t)e >= sizeof feeds_err_codes / sizeof feeds_err_codes[0])
		return "internal";
	return feeds_err_codes[e];
}

static int feeds_printf(struct buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof small)
		return buf_append(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = buf_append(b, big, (size_t)n);
	free(big);
	return rc;
}

static void feeds_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static enum feeds_err feeds_store_err(struct store *s, char *err, size_t errlen)
{
	feeds_seterr(err, errlen, "store: %s", store_errmsg(s));
	return FEEDS_ERR_STORE;
}

/* A malloc'd copy of s without surrounding blanks; NULL when out of memory. */
static char *feeds_trim(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

/* ---------------------------------------------------------------- URLs */

struct feeds_scheme {
	const char *name;
	bool needs_host;
	bool needs_allow_file;
};

static const struct feeds_scheme feeds_schemes[] = {
    {"http", true, false},
    {"https", true, false},
    {"file", false, true},
};

static const struct feeds_scheme *feeds_scheme_find(const char *name)
{
	for (size_t i = 0; i < sizeof feeds_schemes / sizeof feeds_schemes[0]; i++)
		if (!strcasecmp(name, feeds_schemes[i].name))
			return &feeds_schemes[i];
	return NULL;
}

/* The scheme of a URL as typed (letters before "://"), for error messages. */
static void feeds_typed_scheme(const char *url, char *out, size_t outlen)
{
	size_t n = strcspn(url, ":/?#");
	if (url[n] != ':' || n == 0 || n >= outlen) {
		out[0] = 0;
		return;
	}
	memcpy(out, url, n);
	out[n] = 0;
}

static enum feeds_err feeds_check_parts(CURLU *u, const char *url, bool allow_file, char *err,
                                        size_t errlen)
{
	char *scheme = NULL, *host = NULL;
	enum feeds_err rc = FEEDS_OK;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		feeds_seterr(err, errlen, "invalid URL '%s': no scheme", url);
		return FEEDS_ERR_INVALID;
	}
	const struct feeds_scheme *sc = feeds_scheme_find(scheme);
	if (!sc) {
		feeds_seterr(err, errlen,
		             "unsupported URL scheme '%s' in '%s': only http and https", scheme,
		             url);
		rc = FEEDS_ERR_INVALID;
	} else if (sc->needs_allow_file && !allow_file) {
		feeds_seterr(
		    err, errlen,
		    "file:// URLs are not allowed ('%s'): set allow_file = yes in the config", url);
		rc = FEEDS_ERR_INVALID;
	} else if (sc->needs_host &&
	           (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)) {
		feeds_seterr(err, errlen, "invalid URL '%s': no host", url);
		rc = FEEDS_ERR_INVALID;
	}
	curl_free(scheme);
	curl_free(host);
	return rc;
}

/* Host names compare without case; curl keeps them as written (the config does the same). */
static void feeds_lower_host(CURLU *u)
{
	char *host = NULL;
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return; /* file:///path has none */
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	curl_url_set(u, CURLUPART_HOST, host, 0);
	curl_free(host);
}

enum feeds_err feeds_check_url(const char *url, bool allow_file, char **norm, char *err,
                               size_t errlen)
{
	*norm = NULL;
	char *t = feeds_trim(url ? url : "");
	CURLU *u = curl_url();
	if (!t || !u) {
		free(t);
		curl_url_cleanup(u);
		feeds_seterr(err, errlen, "out of memory");
		return FEEDS_ERR_STORE;
	}
	enum feeds_err rc = FEEDS_OK;
	char scheme[16];
	feeds_typed_scheme(t, scheme, sizeof scheme);
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, t, 0);
	if (!*t) {
		feeds_seterr(err, errlen, "empty URL");
		rc = FEEDS_ERR_INVALID;
	} else if (uc == CURLUE_UNSUPPORTED_SCHEME ||
	           (uc != CURLUE_OK && *scheme && !feeds_scheme_find(scheme))) {
		feeds_seterr(err, errlen,
		             "unsupported URL scheme '%s' in '%s': only http and https", scheme, t);
		rc = FEEDS_ERR_INVALID;
	} else if (uc != CURLUE_OK) {
		feeds_seterr(err, errlen, "invalid URL '%s': %s", t, curl_url_strerror(uc));
		rc = FEEDS_ERR_INVALID;
	} else {
		rc = feeds_check_parts(u, t, allow_file, err, errlen);
	}
	char *out = NULL;
	if (rc == FEEDS_OK)
		feeds_lower_host(u);
	if (rc == FEEDS_OK && curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
		*norm = strdup(out);
		if (!*norm) {
			feeds_seterr(err, errlen, "out of memory");
			rc = FEEDS_ERR_STORE;
		}
	} else if (rc == FEEDS_OK) {
		feeds_seterr(err, errlen, "invalid URL '%s'", t);
		rc = FEEDS_ERR_INVALID;
	}
	curl_free(out);
	curl_url_cleanup(u);
	free(t);
	return rc;
}

/* ---------------------------------------------------------------- add, find, remove */

enum feeds_err feeds_add(struct store *s, const struct feeds_add *a, int64_t now, int64_t *id,
                         char *err, size_t errlen)
{
	char *url;
	enum feeds_err rc = feeds_check_url(a->url, a->allow_file, &url, err, errlen);
	if (rc != FEEDS_OK)
		return rc;
	struct store_feed_new nf = {
	    .url = url,
	    .user_title = a->title && *a->title ? a->title : NULL,
	    .interval = a->interval,
	    .allow_private = a->allow_private,
	    .next_poll = a->next_poll,
	};
	int64_t got = 0;
	enum store_err se = store_feed_add(s, &nf, now, &got);
	if (id)
		*id = got;
	if (se == STORE_ERR_EXISTS) {
		feeds_seterr(err, errlen, "feed already exists: %s (id %" PRId64 ")", url, got);
		rc = FEEDS_ERR_EXISTS;
	} else if (se != STORE_OK) {
		rc = feeds_store_err(s, err, errlen);
	}
	free(url);
	return rc;
}

static bool feeds_is_id(const char *ref, int64_t *id)
{
	if (!*ref || strlen(ref) > 18)
		return false;
	for (const char *p = ref; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	*id = strtoll(ref, NULL, 10);
	return true;
}

static enum feeds_err feeds_find_url(struct store *s, const char *ref, struct store_feed *f,
                                     char *err, size_t errlen)
{
	enum store_err se = store_feed_get_url(s, ref, f);
	if (se == STORE_ERR_NOT_FOUND) {
		char *norm = NULL;
		char ignored[8];
		if (feeds_check_url(ref, true, &norm, ignored, sizeof ignored) == FEEDS_OK)
			se = store_feed_get_url(s, norm, f);
		free(norm);
	}
	if (se == STORE_ERR_NOT_FOUND) {
		feeds_seterr(err, errlen, "no such feed: %s", ref);
		return FEEDS_ERR_NOT_FOUND;
	}
	return se == STORE_OK ? FEEDS_OK : feeds_store_err(s, err, errlen);
}

enum feeds_err feeds_find(struct store *s, const char *ref, struct store_feed *f, char *err,
                          size_t errlen)
{
	memset(f, 0, sizeof *f);
	char *t = feeds_trim(ref ? ref : "");
	if (!t) {
		feeds_seterr(err, errlen, "out of memory");
		return FEEDS_ERR_STORE;
	}
	enum feeds_err rc;
	int64_t id;
	if (!*t) {
		feeds_seterr(err, errlen, "no feed given (an id or a URL)");
		rc = FEEDS_ERR_INVALID;
	} else if (feeds_is_id(t, &id)) {
		enum store_err se = store_feed_get(s, id, f);
		if (se == STORE_ERR_NOT_FOUND) {
			feeds_seterr(err, errlen, "no such feed: id %" PRId64, id);
			rc = FEEDS_ERR_NOT_FOUND;
		} else {
			rc = se == STORE_OK ? FEEDS_OK : feeds_store_err(s, err, errlen);
		}
	} else {
		rc = feeds_find_url(s, t, f, err, errlen);
	}
	free(t);
	return rc;
}

enum feeds_err feeds_remove(struct store *s, const char *ref, int64_t *id, char *err, size_t errlen)
{
	struct store_feed f;
	enum feeds_err rc = feeds_find(s, ref, &f, err, errlen);
	if (rc != FEEDS_OK)
		return rc;
	if (id)
		*id = f.id;
	enum store_err se = store_feed_remove(s, f.id);
	if (se == STORE_ERR_NOT_FOUND) {
		feeds_seterr(err, errlen, "no such feed: id %" PRId64, f.id);
		rc = FEEDS_ERR_NOT_FOUND;
	} else if (se != STORE_OK) {
		rc = feeds_store_err(s, err, errlen);
	}
	store_feed_clear(&f);
	return rc;
}

/* ---------------------------------------------------------------- list */

const char *feeds_state(const struct store_feed *f)
{
	if (f->disabled)
		return "disabled";
	if (f->consecutive_errors > 0)
		return "failing";
	if (f->last_fetch == 0)
		return "new";
	return "ok";
}

static int feeds_json_strkey(struct buf *b, const char *key, const char *val)
{
	if (!val)
		return 0;
	if (feeds_printf(b, ",\"%s\":", key) < 0)
		return -1;
	return json_str(b, val, strlen(val));
}

static int feeds_json_time(struct buf *b, const char *key, int64_t t)
{
	if (!t)
		return 0;
	char d[32];
	date_format(t, d);
	return feeds_printf(b, ",\"%s\":\"%s\"", key, d);
}

int feeds_json(struct buf *b, const struct store_feed *f)
{
	int rc = 0;
	rc |= feeds_printf(b, "{\"id\":%" PRId64, f->id);
	rc |= feeds_json_strkey(b, "url", f->url);
	rc |= feeds_json_strkey(b, "title", store_feed_display_title(f));
	rc |= feeds_json_strkey(b, "site", f->site_link);
	rc |= feeds_json_strkey(b, "state", feeds_state(f));
	rc |= feeds_json_time(b, "last_fetch", f->last_fetch);
	rc |= feeds_json_time(b, "last_success", f->last_success);
	rc |= feeds_json_time(b, "next_poll", f->next_poll);
	rc |= feeds_json_strkey(b, "next_poll_reason", f->next_poll_reason);
	if (f->interval)
		rc |= feeds_printf(b, ",\"interval\":%" PRId64, f->interval);
	rc |= feeds_printf(b, ",\"errors\":%d", f->consecutive_errors);
	if (f->last_status)
		rc |= feeds_printf(b, ",\"last_status\":%d", f->last_status);
	rc |= feeds_json_strkey(b, "last_error", f->last_error);
	rc |= feeds_json_strkey(b, "warning", f->warning);
	rc |= feeds_json_strkey(b, "disabled_reason", f->disabled ? f->disabled_reason : NULL);
	rc |= buf_puts(b, "}");
	return rc ? -1 : 0;
}

struct feeds_walk {
	struct buf *b;
	int n;
	int64_t now;
	int rc;
};

static int feeds_list_json_one(void *ud, const struct store_feed *f)
{
	struct feeds_walk *w = ud;
	if ((w->n++ && buf_puts(w->b, ",") < 0) || feeds_json(w->b, f) < 0)
		return w->rc = -1;
	return 0;
}

enum feeds_err feeds_list_json(struct store *s, struct buf *b, char *err, size_t errlen)
{
	struct feeds_walk w = {.b = b};
	if (buf_puts(b, "[") < 0)
		goto nomem;
	if (store_feeds_list(s, feeds_list_json_one, &w) != STORE_OK && !w.rc)
		return feeds_store_err(s, err, errlen);
	if (w.rc || buf_puts(b, "]") < 0)
		goto nomem;
	return FEEDS_OK;
nomem:
	feeds_seterr(err, errlen, "out of memory");
	return FEEDS_ERR_STORE;
}

static void feeds_text_time(int64_t t, char out[32])
{
	if (!t) {
		strcpy(out, "-");
		return;
	}
	date_format(t, out);
}

static int feeds_list_text_one(void *ud, const struct store_feed *f)
{
	struct feeds_walk *w = ud;
	char last[32], next[32];
	feeds_text_time(f->last_fetch, last);
	feeds_text_time(f->next_poll, next);
	if (!f->next_poll)
		strcpy(next, "asap");
	if (f->disabled)
		strcpy(next, "-");
	const char *title = store_feed_display_title(f);
	int rc = feeds_printf(w->b, "%-5" PRId64 " %-8s %-20s %-20s %s%s%s%s\n", f->id,
	                      feeds_state(f), last, next, f->url, title ? " (" : "",
	                      title ? title : "", title ? ")" : "");
	if (!rc && f->disabled && f->disabled_reason)
		rc = feeds_printf(w->b, "      disabled: %s\n", f->disabled_reason);
	if (!rc && f->last_error)
		rc = feeds_printf(w->b, "      error: %s\n", f->last_error);
	if (!rc && f->warning)
		rc = feeds_printf(w->b, "      warning: %s\n", f->warning);
	w->n++;
	return rc ? (w->rc = -1) : 0;
}

enum feeds_err feeds_list_text(struct store *s, struct buf *b, char *err, size_t errlen)
{
	struct feeds_walk w = {.b = b};
	if (feeds_printf(b, "%-5s %-8s %-20s %-20s %s\n", "ID", "STATE", "LAST FETCH", "NEXT POLL",
	                 "URL (TITLE)") < 0)
		goto nomem;
	if (store_feeds_list(s, feeds_list_text_one, &w) != STORE_OK && !w.rc)
		return feeds_store_err(s, err, errlen);
	if (w.rc)
		goto nomem;
	return FEEDS_OK;
nomem:
	feeds_seterr(err, errlen, "out of memory");
	return FEEDS_ERR_STORE;
}

/* ---------------------------------------------------------------- OPML */

/* Appends s as XML character data / attribute value; drops characters XML 1.0 forbids. */
static int feeds_xml_escape(struct buf *b, const char *s)
{
	int rc = 0;
	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			rc = buf_puts(b, "&amp;");
			break;
		case '<':
			rc = buf_puts(b, "&lt;");
			break;
		case '>':
			rc = buf_puts(b, "&gt;");
			break;
		case '"':
			rc = buf_puts(b, "&quot;");
			break;
		case '\t':
			rc = buf_puts(b, "&#9;");
			break;
		case '\n':
			rc = buf_puts(b, "&#10;");
			break;
		case '\r':
			rc = buf_puts(b, "&#13;");
			break;
		default:
			if (c >= 0x20 && c != 0x7f)
				rc = buf_append(b, s, 1);
		}
	}
	return rc;
}

static int feeds_xml_attr(struct buf *b, const char *name, const char *val)
{
	if (!val)
		return 0;
	if (feeds_printf(b, " %s=\"", name) < 0 || feeds_xml_escape(b, val) < 0)
		return -1;
	return buf_puts(b, "\"");
}

static int feeds_export_one(void *ud, const struct store_feed *f)
{
	struct feeds_walk *w = ud;
	const char *title = store_feed_display_title(f);
	int rc = buf_puts(w->b, "    <outline type=\"rss\"");
	rc |= feeds_xml_attr(w->b, "text", title ? title : f->url);
	rc |= feeds_xml_attr(w->b, "title", title);
	rc |= feeds_xml_attr(w->b, "xmlUrl", f->url);
	rc |= feeds_xml_attr(w->b, "htmlUrl", f->site_link);
	rc |= buf_puts(w->b, "/>\n");
	return rc ? (w->rc = -1) : 0;
}

enum feeds_err feeds_export(struct store *s, struct buf *b, int64_t now, char *err, size_t errlen)
{
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	struct feeds_walk w = {.b = b};
	if (feeds_printf(b,
	                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                 "<opml version=\"2.0\">\n"
	                 "  <head>\n"
	                 "    <title>feedd subscriptions</title>\n"
	                 "    <dateCreated>%s</dateCreated>\n"
	                 "  </head>\n"
	                 "  <body>\n",
	                 date) < 0)
		goto nomem;
	if (store_feeds_list(s, feeds_export_one, &w) != STORE_OK && !w.rc)
		return feeds_store_err(s, err, errlen);
	if (w.rc || buf_puts(b, "  </body>\n</opml>\n") < 0)
		goto nomem;
	return FEEDS_OK;
nomem:
	feeds_seterr(err, errlen, "out of memory");
	return FEEDS_ERR_STORE;
}
