/*
 * feeds.h - managing the feed list: the one code path behind both the
 * command line (`feedd add|remove|list|import|export`, daemon/cmd_feeds.c)
 * and the control socket (daemon/control.c).
 *
 * Every function works on an open store and reports failures as an enum
 * feeds_err with a one-line message in err (NUL-terminated, cut to errlen).
 * Nothing here prints or logs.
 */
#ifndef FEEDD_FEEDS_H
#define FEEDD_FEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "store.h"

enum feeds_err {
	FEEDS_OK = 0,
	FEEDS_ERR_INVALID,   /* a URL that is not http/https (or file:// when allowed), bad input */
	FEEDS_ERR_EXISTS,    /* the feed is already there */
	FEEDS_ERR_NOT_FOUND, /* no such feed */
	FEEDS_ERR_STORE,     /* the store failed (message says why) */
};

/* Stable code of an error, as used in control replies: "ok", "invalid", "exists",
 * "not_found", "store". */
const char *feeds_err_code(enum feeds_err e);

/*
 * Checks that url is an absolute http or https URL with a host (or a
 * file:// URL when allow_file), and writes its normalized form (curl's
 * URL API, host lowercased as the config does) into *norm,
 * malloc'd, the caller frees it.  Surrounding blanks are ignored.
 */
enum feeds_err feeds_check_url(const char *url, bool allow_file, char **norm, char *err,
                               size_t errlen);

struct feeds_add {
	const char *url;
	const char *title; /* NULL for none */
	int64_t interval;  /* 0: the global default */
	bool allow_private;
	bool allow_file;   /* from the config */
	int64_t next_poll; /* first poll; 0 = as soon as possible */
};

/*
 * Validates and adds a feed.  *id (may be NULL) receives the new feed's
 * id, or the existing one's with FEEDS_ERR_EXISTS.
 */
enum feeds_err feeds_add(struct store *s, const struct feeds_add *a, int64_t now, int64_t *id,
                         char *err, size_t errlen);

/*
 * Finds a feed by a reference as a user types it: a decimal id, or a URL
 * (as stored, or as given before normalization).  Fills *f (release with
 * store_feed_clear).
 */
enum feeds_err feeds_find(struct store *s, const char *ref, struct store_feed *f, char *err,
                          size_t errlen);

/* Removes the feed ref names (see feeds_find); *id (may be NULL) gets its id. */
enum feeds_err feeds_remove(struct store *s, const char *ref, int64_t *id, char *err,
                            size_t errlen);

/*
 * State of a feed in one word: "new" (never fetched), "ok", "failing"
 * (consecutive errors), "disabled".
 */
const char *feeds_state(const struct store_feed *f);

/*
 * Appends the JSON object of one feed: id, url, title, state, last_fetch,
 * last_success, next_poll (RFC 3339), next_poll_reason, errors,
 * last_status, last_error, warning (the latest document was broken XML
 * parsed after recovery, or cut by a limit), disabled_reason (keys with
 * no value omitted).
 * Returns 0, or -1 when out of memory.
 */
int feeds_json(struct buf *b, const struct store_feed *f);

/* Appends a JSON array of every feed.  FEEDS_ERR_STORE on failure. */
enum feeds_err feeds_list_json(struct store *s, struct buf *b, char *err, size_t errlen);

/*
 * Appends the list as text for a terminal: a header line, then one line
 * per feed: id, state, last fetch, next poll, title or URL, then the last
 * error ("      error: ...") and the warning ("      warning: ...") on
 * indented lines of their own when there are.
 */
enum feeds_err feeds_list_text(struct store *s, struct buf *b, char *err, size_t errlen);

/* Called per outline of an import with its outcome; msg is "" on success. */
typedef void (*feeds_import_fn)(void *ud, const char *url, enum feeds_err e, const char *msg);

struct feeds_import_result {
	size_t added;
	size_t existing;
	size_t invalid;
};

/*
 * Adds every outline of an OPML document (titles kept; outlines already
 * present count as existing, invalid URLs as invalid; neither stops the
 * import).  report (may be NULL) is told about each outline.  Returns
 * FEEDS_ERR_INVALID when the document could not be read at all,
 * FEEDS_ERR_STORE when the store failed (what was added stays).
 */
enum feeds_err feeds_import(struct store *s, const char *opml, size_t len, bool allow_file,
                            int64_t now, struct feeds_import_result *r, feeds_import_fn report,
                            void *ud, char *err, size_t errlen);

/* Appends every feed as an OPML 2.0 document. */
enum feeds_err feeds_export(struct store *s, struct buf *b, int64_t now, char *err, size_t errlen);

#endif
