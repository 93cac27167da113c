/*
 * feed.h - the feed model and the streaming feed parser (the whole public
 * interface of parsers/).
 *
 * The parser is a push parser: the caller feeds bytes as a transfer
 * delivers them (parse_chunk), and each item is handed to a callback as
 * soon as its closing tag has been seen, so memory does not grow with the
 * number of items.  Feed-level metadata is complete after parse_finish().
 *
 * No I/O, no globals: everything lives in the struct parse.
 */
#ifndef FEEDD_FEED_H
#define FEEDD_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A date is seconds since the epoch, UTC; FEED_NO_DATE when absent. */
#define FEED_NO_DATE INT64_MIN

enum feed_format {
	FEED_FORMAT_UNKNOWN = 0,
	FEED_FORMAT_RSS20,	/* RSS 2.0 (and <rss> with no / unknown version) */
	FEED_FORMAT_RSS10,	/* RSS 1.0 (RDF) */
	FEED_FORMAT_RSS09X,	/* RSS 0.90 (RDF), 0.91 (Netscape, Userland), 0.92-0.94 */
	FEED_FORMAT_ATOM10,
	FEED_FORMAT_ATOM03,
};

/* "rss20", "rss10", "rss09x", "atom10", "atom03" or "unknown". */
const char *feed_format_name(enum feed_format f);

struct feed_enclosure {
	char *url;	/* absolute; never NULL in a delivered item */
	char *type;	/* NULL when absent */
	int64_t length; /* bytes; -1 when absent or not a number */
};

/*
 * One item.  All strings are valid UTF-8, NUL-terminated, NULL when the
 * feed did not carry the field.  In callbacks the item is owned by the
 * parser and valid only for the duration of the call.
 */
struct feed_item {
	char *id;		/* guid / atom:id as written, trimmed */
	char *title;
	char *link;		/* absolute */
	char *author;		/* "Name (email)", or whichever is known */
	int64_t published;	/* FEED_NO_DATE when absent */
	int64_t updated;	/* FEED_NO_DATE when absent (never copied from published) */
	char *summary;		/* RSS description / Atom summary */
	char *content;		/* content:encoded / Atom content */
	char **categories;
	size_t ncategories;
	struct feed_enclosure *enclosures;
	size_t nenclosures;
};

struct feed_meta {
	char *title;
	char *link;		/* absolute */
	char *id;
	char *subtitle;
	char *language;
	char *author;
	int64_t updated;	/* FEED_NO_DATE when absent */
	/* Scheduling hints carried by the feed itself (not part of the JSON). */
	int64_t ttl_minutes;	/* RSS <ttl>; -1 when absent */
	int64_t sy_period_seconds; /* sy:updatePeriod / sy:updateFrequency; -1 when absent */
};

/*
 * Limits.  Each has a safe default (parse_limits_default) and a config key
 * in the daemon.  Hitting one is never fatal to what was already parsed.
 */
struct parse_limits {
	size_t max_depth;	/* element nesting; deeper content is skipped (default 256) */
	size_t max_field;	/* bytes per text field, cut on a UTF-8 boundary (default 1 MiB) */
	size_t max_items;	/* items delivered per document (default 10000) */
	size_t max_categories;	/* per item (default 100) */
	size_t max_enclosures;	/* per item (default 32) */
	/* expat billion-laughs protection (when this expat has it) */
	unsigned long long amplification_threshold; /* bytes (default 1 MiB) */
	float max_amplification;	/* factor (default 20) */
};
void parse_limits_default(struct parse_limits *l);

struct parse_opts {
	const char *base_url;	  /* the document's own URL, or NULL / "" for none */
	const char *http_charset; /* charset from HTTP Content-Type, or NULL */
	struct parse_limits limits;
};

struct parse;

/*
 * Called for each complete item, in document order.  Return 0 to go on,
 * non-zero to stop the parse (parse_chunk then returns -1 and
 * parse_error says "stopped").
 */
typedef int (*parse_item_fn)(void *ud, const struct feed_item *item);

/* Returns NULL only when out of memory.  opts may be NULL (defaults). */
struct parse *parse_new(const struct parse_opts *opts, parse_item_fn on_item, void *ud);

/*
 * Feed the next len bytes.  Returns 0 while parsing can go on (also after
 * recovering from malformed XML), -1 when it cannot (stopped by the
 * callback, out of memory).
 */
int parse_chunk(struct parse *p, const void *buf, size_t len);

/*
 * The same as parse_chunk without a copy: parse_buffer returns room for up
 * to len bytes of the next input (NULL when the parse cannot go on); read
 * n <= len bytes into it, then call parse_buffer_done(p, n).  The room is
 * valid until the next call of a parse_ function.
 */
void *parse_buffer(struct parse *p, size_t len);
int parse_buffer_done(struct parse *p, size_t n);

/*
 * End of input: completes what can be completed (a truncated document
 * keeps every item completed before the break).  Returns 0 when anything
 * could be parsed (a feed root or an item), -1 when nothing could.
 */
int parse_finish(struct parse *p);

/* Valid after parse_finish (and, for format, as soon as the root is seen). */
enum feed_format parse_format(const struct parse *p);
const struct feed_meta *parse_meta(const struct parse *p);
bool parse_wellformed(const struct parse *p);
/* "line L, column C: message" of the first error, or NULL. */
const char *parse_error(const struct parse *p);
/* A limit that cut the document short ("item limit 10000 reached"), or NULL. */
const char *parse_limit_hit(const struct parse *p);
size_t parse_item_count(const struct parse *p);
/*
 * Called from the parse_item_fn callback with the item it was handed: the
 * byte lengths of its id, title, link, author, summary and content (0 for
 * NULL), for json_item_len.  NULL for any other item.
 */
const size_t *parse_item_lengths(const struct parse *p, const struct feed_item *it);

void parse_free(struct parse *p);

/* ---- dates (parsers/date.c) ---- */

/*
 * Parses an RFC 822/1123/2822, RFC 3339 / ISO 8601 / W3C-DTF, asctime or
 * common broken date.  Returns true and sets *out (UTC epoch seconds) on
 * success; false when the string is not a recognizable date (s NULL,
 * fields out of range, or an instant outside years 0000-9999), leaving
 * *out untouched.  Pure: no clock, no TZ, no locale.
 */
bool date_parse(const char *s, int64_t *out);

/*
 * Writes "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL) into buf.  t
 * outside years 0000-9999 is clamped to 0000-01-01T00:00:00Z or
 * 9999-12-31T23:59:59Z; check FEED_NO_DATE before calling.
 */
void date_format(int64_t t, char buf[32]);

/* ---- JSON (parsers/json.c) ---- */

/* A growable byte buffer.  Zero-initialize; free with buf_free. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
int buf_append(struct buf *b, const void *s, size_t n); /* 0, or -1 on ENOMEM */
int buf_puts(struct buf *b, const char *s);
void buf_free(struct buf *b);

/*
 * Appends s as a JSON string literal (quotes included): control
 * characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
 */
int json_str(struct buf *b, const char *s, size_t n);

/* The item / feed objects of the `feedd parse` contract (keys with no value omitted). */
int json_item(struct buf *b, const struct feed_item *it);
/* json_item with the byte lengths of the item's id, title, link, author,
 * summary and content known (in that order; 0 for NULL), e.g. from
 * parse_item_lengths: the same output without measuring the strings. */
#define JSON_ITEM_NSTR 6
int json_item_len(struct buf *b, const struct feed_item *it, const size_t len[JSON_ITEM_NSTR]);
int json_meta(struct buf *b, const struct feed_meta *m);

/* ---- OPML (parsers/opml.c) ---- */

struct opml_outline {
	char *xml_url;		/* absolute when the document had a base; never NULL */
	char *title;		/* title, else text; NULL when neither */
	char *html_url;
	char *category;		/* enclosing outlines' titles joined with "/", or NULL */
};

typedef int (*opml_outline_fn)(void *ud, const struct opml_outline *o);

/*
 * Parses an OPML 1.0 / 2.0 document held in memory and calls fn for each
 * outline that has an xmlUrl.  Returns 0, or -1 with a message in err
 * ("line L, column C: ...") when the document could not be read at all.
 */
int opml_parse(const char *data, size_t len, opml_outline_fn fn, void *ud,
	       char *err, size_t errlen);

#endif
