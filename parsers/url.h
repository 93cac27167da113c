/*
 * url.h - internal to parsers/: resolving relative references (xml:base,
 * the document URL) as RFC 3986 section 5 says, every character kept as
 * written (nothing percent-encoded or decoded).
 */
#ifndef FEEDD_URL_H
#define FEEDD_URL_H

#include <stdbool.h>
#include <stddef.h>

/* true when s (n bytes) starts with a URI scheme followed by ':'. */
bool url_is_absolute(const char *s, size_t n);

/*
 * Resolves ref (n bytes) against base.  Returns a malloc'd string the
 * caller frees, or NULL when out of memory.  An absolute ref is returned as
 * written; with no usable base (NULL, empty, or one with no hierarchical
 * path such as urn: or mailto:) ref is returned as written too; a relative
 * base is first resolved against a placeholder origin.
 */
char *url_resolve(const char *base, const char *ref, size_t n);

#endif
