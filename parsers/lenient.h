/*
 * lenient.h - internal to parsers/: the element stack and namespace
 * bindings (kept while expat parses) and the tolerant tokenizer that takes
 * over from expat after its first fatal error, driving the same handlers.
 *
 * The tokenizer is a push tokenizer over valid UTF-8: chunks of any size,
 * tokens split anywhere.  It decodes the XML and HTML5 named entities and
 * numeric references, keeps a bare & or < as text, drops illegal control
 * characters, skips comments, PIs and DOCTYPE (internal entities are never
 * expanded), treats CDATA as text, closes up to a matching open element on
 * an end tag (one matching in another case when none matches exactly;
 * ignores one that matches nothing) and closes every open element at
 * lx_finish.
 */
#ifndef FEEDD_LENIENT_H
#define FEEDD_LENIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "xmlreader.h"

struct lx;

struct lx_name {
	const char *ns, *local, *prefix;
};

/* *stopped is checked after every handler call.  NULL on out of memory. */
struct lx *lx_new(const struct xr_handlers *h, void *ud, size_t max_depth, const bool *stopped);
void lx_free(struct lx *l);

/* Tracking while expat parses.  lx_open: 1 when the element is within
 * max_depth (*out gets NUL-terminated copies, valid until the element's
 * lx_close and the next lx_open), 0 when deeper, -1 out of memory. */
int lx_open(struct lx *l, const char *ns, size_t nslen, const char *local, size_t llen,
	    const char *prefix, size_t plen, struct lx_name *out);
/* 1 when the closed element had been reported (*out set), else 0. */
int lx_close(struct lx *l, struct lx_name *out);
/* A namespace declaration of the element about to open ("" prefix for the
 * default namespace).  0 or -1. */
int lx_bind(struct lx *l, const char *prefix, const char *uri);
/* The namespace prefix ("" for the default) is bound to in the scope of
 * the element opening or open, or NULL. */
const char *lx_ns(const struct lx *l, const char *prefix);
/* Open elements, including those deeper than max_depth. */
size_t lx_depth(const struct lx *l);
/* The same, as a counter to read directly (it lives as long as l). */
const size_t *lx_depth_ref(const struct lx *l);

/* The attributes of a start tag's bytes tag[0..len) ("<name ...>"), read
 * as the tolerant tokenizer reads them, namespaces resolved in the current
 * scope.  *out (NULL on out of memory) is valid until the next lx call. */
size_t lx_tag_attrs(struct lx *l, const char *tag, size_t len, const struct xr_attr **out);

/* Tolerant tokenizer: s is valid UTF-8.  0, or -1 on out of memory. */
int lx_feed(struct lx *l, const char *s, size_t n);
/* End of input: flushes what is pending and closes every open element. */
int lx_finish(struct lx *l);

#endif
