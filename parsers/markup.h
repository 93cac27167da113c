/*
 * markup.h - internal to parsers/: fix-ups applied to captured text, the
 * way the most widely used feed parser (feedparser) does them.
 */
#ifndef FEEDD_MARKUP_H
#define FEEDD_MARKUP_H

#include "feed.h"

/*
 * Rewrites relative URLs in the URL attributes of HTML markup (a href,
 * img src, ...) into absolute ones against base.  in is not modified;
 * returns 1 and the rewritten text in out (reset first) when anything
 * changed, 0 when nothing did, -1 when out of memory.
 */
int markup_resolve_urls(const char *in, size_t n, const char *base, struct buf *out);

/*
 * Maps the C1 control characters U+0080..U+009F, which in feeds are
 * nearly always windows-1252 bytes decoded as ISO-8859-1, to the
 * characters windows-1252 has there (U+0092 -> U+2019 ...).  Returns 1 and
 * the mapped text in out when anything changed, 0 when nothing did, -1
 * when out of memory.
 */
int markup_cp1252(const char *in, size_t n, struct buf *out);

#endif
