/* url.c - see url.h: relative references resolved as RFC 3986 section 5 says. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "url.h"

bool url_is_absolute(const char *s, size_t n)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	if (n < 2 || !memchr(alpha, s[0], sizeof alpha - 1))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (c == ':')
			return true;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))
			return false;
	}
	return false;
}

static char *url_dup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

#define URL_DUMMY "http://feedd.invalid"

/*
 * Both relative: resolve against a dummy origin and take it off again, so
 * that xml:base="/a/" with no document URL still turns "b" into "/a/b".
 * A ref that starts with '/' does not depend on such a base's path: "/x"
 * keeps its slash, "//host/x" (no scheme to give it) stays as written.
 */
static char *url_resolve_relative(const char *base, const char *ref, size_t n)
{
	if (n >= 2 && ref[0] == '/' && ref[1] == '/')
		return url_dup(ref, n);
	size_t bl = strlen(base);
	char *abs = malloc(sizeof URL_DUMMY + 1 + bl);
	if (!abs)
		return NULL;
	snprintf(abs, sizeof URL_DUMMY + 1 + bl, "%s%s%s", URL_DUMMY, base[0] == '/' ? "" : "/",
	         base);
	char *r = url_resolve(abs, ref, n);
	free(abs);
	if (!r || strncmp(r, URL_DUMMY "/", sizeof URL_DUMMY))
		return r;
	size_t skip = sizeof URL_DUMMY - 1 + (base[0] == '/' || (n && ref[0] == '/') ? 0 : 1);
	memmove(r, r + skip, strlen(r + skip) + 1);
	return r;
}

/* The parts of a URI reference (RFC 3986 3): offsets into it, -1 when absent. */
struct url_ref {
	const char *s;
	size_t n;
	size_t scheme_n;        /* 0: none */
	ptrdiff_t auth, auth_n; /* after "//" */
	size_t path, path_n;
	ptrdiff_t query, query_n; /* after '?' */
	ptrdiff_t frag;           /* after '#', to the end */
};

static void url_split(struct url_ref *u, const char *s, size_t n, bool has_scheme)
{
	size_t i = 0;
	u->s = s;
	u->n = n;
	u->scheme_n = 0;
	if (has_scheme) {
		while (s[i] != ':')
			i++;
		u->scheme_n = i++;
	}
	u->auth = u->auth_n = -1;
	if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
		i += 2;
		u->auth = (ptrdiff_t)i;
		while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#')
			i++;
		u->auth_n = (ptrdiff_t)i - u->auth;
	}
	u->path = i;
	while (i < n && s[i] != '?' && s[i] != '#')
		i++;
	u->path_n = i - u->path;
	u->query = u->query_n = -1;
	if (i < n && s[i] == '?') {
		u->query = (ptrdiff_t)++i;
		while (i < n && s[i] != '#')
			i++;
		u->query_n = (ptrdiff_t)i - u->query;
	}
	u->frag = i < n ? (ptrdiff_t)i + 1 : -1;
}

/* Appends path (n bytes) to out without its "." and ".." segments (RFC 3986 5.2.4). */
static int url_remove_dots(struct buf *out, const char *in, size_t n)
{
	size_t i = 0, root = out->len;
	while (i < n) {
		const char *p = in + i;
		size_t left = n - i;
		if (left >= 3 && !memcmp(p, "../", 3)) {
			i += 3;
		} else if (left >= 2 && !memcmp(p, "./", 2)) {
			i += 2;
		} else if ((left >= 3 && !memcmp(p, "/./", 3)) ||
		           (left == 2 && !memcmp(p, "/.", 2))) {
			i += 2; /* the next segment starts at the '/' (or the path ends: add it) */
			if (i == n && buf_append(out, "/", 1))
				return -1;
		} else if ((left >= 4 && !memcmp(p, "/../", 4)) ||
		           (left == 3 && !memcmp(p, "/..", 3))) {
			i += 3;
			while (out->len > root && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > root)
				out->len--;
			if (i == n && buf_append(out, "/", 1))
				return -1;
		} else if ((left == 1 && p[0] == '.') || (left == 2 && !memcmp(p, "..", 2))) {
			i = n;
		} else {
			size_t e = i + (in[i] == '/');
			while (e < n && in[e] != '/')
				e++;
			if (buf_append(out, in + i, e - i))
				return -1;
			i = e;
		}
	}
	return 0;
}

static int url_part(struct buf *out, const char *pre, const char *s, ptrdiff_t at, ptrdiff_t n)
{
	if (at < 0)
		return 0;
	return buf_puts(out, pre) || buf_append(out, s + at, (size_t)n);
}

/*
 * RFC 3986 5.2.2 with base absolute and ref not: every character of both
 * is kept as written (libcurl percent-encodes a relative reference's
 * spaces and non-ASCII bytes, writes a query's spaces as '+', and drops
 * the base's last segment for "#fragment").  NULL when out of memory;
 * ref as written when the base has no hierarchical path (urn:, mailto:).
 */
static char *url_join(const char *base, const char *ref, size_t n)
{
	struct url_ref b, r;
	url_split(&b, base, strlen(base), true);
	url_split(&r, ref, n, false);
	if (b.auth < 0 && (!b.path_n || base[b.path] != '/'))
		return url_dup(ref, n);
	struct buf out = {0};
	int err = 0;
	for (size_t i = 0; i < b.scheme_n && !err; i++) {
		char c = base[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		err = buf_append(&out, &c, 1);
	}
	err = err || buf_append(&out, ":", 1);
	const struct url_ref *q = &r; /* whose query */
	if (r.auth >= 0) {
		err = err || url_part(&out, "//", ref, r.auth, r.auth_n) ||
		      url_remove_dots(&out, ref + r.path, r.path_n);
	} else {
		err = err || url_part(&out, "//", base, b.auth, b.auth_n);
		if (!r.path_n) {
			err = err || buf_append(&out, base + b.path, b.path_n);
			if (r.query < 0)
				q = &b;
		} else if (ref[r.path] == '/') {
			err = err || url_remove_dots(&out, ref + r.path, r.path_n);
		} else {
			/* merge: the base path up to its last '/', then ref's */
			struct buf m = {0};
			size_t keep = b.path_n;
			while (keep && base[b.path + keep - 1] != '/')
				keep--;
			if (b.auth >= 0 && !b.path_n)
				err = err || buf_append(&m, "/", 1);
			err = err || buf_append(&m, base + b.path, keep) ||
			      buf_append(&m, ref + r.path, r.path_n) ||
			      url_remove_dots(&out, m.data, m.len);
			buf_free(&m);
		}
	}
	err = err || url_part(&out, "?", q->s, q->query, q->query_n) ||
	      url_part(&out, "#", ref, r.frag, r.frag < 0 ? 0 : (ptrdiff_t)n - r.frag) ||
	      buf_append(&out, "", 0);
	if (err) {
		buf_free(&out);
		return NULL;
	}
	return out.data;
}

char *url_resolve(const char *base, const char *ref, size_t n)
{
	if (!base || !*base || url_is_absolute(ref, n))
		return url_dup(ref, n);
	if (!url_is_absolute(base, strlen(base)))
		return url_resolve_relative(base, ref, n);
	return url_join(base, ref, n);
}
