/*
 * parsetest.h - a helper shared by the parser tests: parses a document with
 * the library and keeps every item and the feed as the JSON that
 * `feedd parse` would print for them, so a test compares strings.
 */
#ifndef FEEDD_PARSETEST_H
#define FEEDD_PARSETEST_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

#define PT_MAX_ITEMS 64

struct pt {
	char *items[PT_MAX_ITEMS];
	size_t n;		/* items delivered */
	char *feed;		/* json_meta */
	enum feed_format format;
	bool wellformed;
	char *error;
	char *limit;
	int finish;		/* parse_finish's result */
	struct feed_meta meta;	/* scalars only (strings are freed) */
	size_t stop_after;	/* callback returns non-zero after this many (0: never) */
};

static inline int pt_item(void *ud, const struct feed_item *it)
{
	struct pt *r = ud;
	struct buf b = {0};
	if (json_item(&b, it))
		abort();
	if (r->n < PT_MAX_ITEMS)
		r->items[r->n] = b.data;
	else
		buf_free(&b);
	r->n++;
	return r->stop_after && r->n >= r->stop_after;
}

static inline char *pt_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Parses data in chunks of chunk bytes (0: all at once). */
static inline void pt_parse_opts(struct pt *r, const char *data, size_t len, const struct parse_opts *o,
			  size_t chunk)
{
	struct parse *p = parse_new(o, pt_item, r);
	if (!p)
		abort();
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		if (parse_chunk(p, data + off, len - off < chunk ? len - off : chunk))
			break;
	r->finish = parse_finish(p);
	r->format = parse_format(p);
	r->wellformed = parse_wellformed(p);
	r->error = pt_dup(parse_error(p));
	r->limit = pt_dup(parse_limit_hit(p));
	r->meta = *parse_meta(p);
	struct buf b = {0};
	if (json_meta(&b, parse_meta(p)))
		abort();
	r->feed = b.data;
	parse_free(p);
}

static inline void pt_parse_base(struct pt *r, const char *xml, const char *base)
{
	struct parse_opts o = {.base_url = base};
	parse_limits_default(&o.limits);
	memset(r, 0, sizeof *r);
	pt_parse_opts(r, xml, strlen(xml), &o, 0);
}

static inline void pt_parse(struct pt *r, const char *xml)
{
	pt_parse_base(r, xml, NULL);
}

static inline void pt_free(struct pt *r)
{
	for (size_t i = 0; i < r->n && i < PT_MAX_ITEMS; i++)
		free(r->items[i]);
	free(r->feed);
	free(r->error);
	free(r->limit);
}

#endif
