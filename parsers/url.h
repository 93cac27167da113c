/*
 * url.h - internal to parsers/: resolving relative references (xml:base,
 * the document URL) with libcurl's URL API.
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
 * written; with no usable base (NULL, empty, itself relative, or a pair curl
 * cannot combine) ref is returned as written too.
 */
char *url_resolve(const char *base, const char *ref, size_t n);

#endif
