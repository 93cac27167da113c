/*
 * opml.c - OPML 1.0 / 2.0 subscription lists over the xmlreader.
 *
 * Every <outline> with an xmlUrl is one subscription.  The outlines that
 * enclose it are its category path ("Tech/News"), kept in one buffer with
 * a stack of lengths so that nesting costs no allocation per level.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed.h"
#include "url.h"
#include "xmlreader.h"

struct opml_frame {
	size_t path_len; /* category path length before this element */
	char *base;	 /* xml:base in effect (owned when own_base) */
	bool own_base;
	bool outline;
};

struct opml {
	struct xr *xr;
	opml_outline_fn fn;
	void *ud;
	struct opml_frame *fr;
	size_t nfr, capfr;
	struct buf path;
	bool root_seen, is_opml, stopped, oom;
	char root[64];
};

static const char *opml_attr(const struct xr_attr *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!a[i].ns[0] && !strcasecmp(a[i].local, name))
			return a[i].value;
	return NULL;
}

/* s without leading / trailing white space, as (start, length). */
static const char *opml_trim(const char *s, size_t *n)
{
	if (!s) {
		*n = 0;
		return NULL;
	}
	size_t l = strlen(s);
	while (l && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, l--;
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\n' || s[l - 1] == '\r'))
		l--;
	*n = l;
	return l ? s : NULL;
}

static char *opml_dup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static void opml_emit(struct opml *o, const char *xml_url, const char *label, size_t label_len,
		      const struct xr_attr *a, size_t na)
{
	size_t n, hn;
	const char *u = opml_trim(xml_url, &n);
	if (!u)
		return;
	const char *h = opml_trim(opml_attr(a, na, "htmlUrl"), &hn);
	const char *base = o->nfr ? o->fr[o->nfr - 1].base : NULL;
	struct opml_outline ol = {0};
	ol.xml_url = url_resolve(base, u, n);
	ol.title = label ? opml_dup(label, label_len) : NULL;
	ol.html_url = h ? url_resolve(base, h, hn) : NULL;
	if (o->path.len)
		ol.category = opml_dup(o->path.data, o->path.len);
	else {
		/* OPML 2.0: category="/Tech/News,/Other" when not nested */
		size_t cn;
		const char *c = opml_trim(opml_attr(a, na, "category"), &cn);
		while (c && cn && *c == '/')
			c++, cn--;
		const char *comma = c ? memchr(c, ',', cn) : NULL;
		if (comma)
			cn = (size_t)(comma - c);
		if (c && cn)
			ol.category = opml_dup(c, cn);
	}
	if (!ol.xml_url || (label && !ol.title) || (h && !ol.html_url)) {
		o->oom = true;
	} else if (o->fn(o->ud, &ol)) {
		o->stopped = true;
		xr_stop(o->xr);
	}
	free(ol.xml_url);
	free(ol.title);
	free(ol.html_url);
	free(ol.category);
}

static void opml_on_start(void *ud, const char *ns, const char *local, const char *prefix,
			  const struct xr_attr *a, size_t na)
{
	struct opml *o = ud;
	if (o->nfr == o->capfr) {
		size_t c = o->capfr ? o->capfr * 2 : 16;
		struct opml_frame *f = realloc(o->fr, c * sizeof *f);
		if (!f) {
			o->oom = true;
			xr_stop(o->xr);
			return;
		}
		o->fr = f;
		o->capfr = c;
	}
	struct opml_frame *f = &o->fr[o->nfr];
	f->path_len = o->path.len;
	f->base = o->nfr ? o->fr[o->nfr - 1].base : NULL;
	f->own_base = false;
	f->outline = false;
	o->nfr++;
	for (size_t i = 0; i < na; i++) {
		if (!strcmp(a[i].ns, XR_NS_XML) && !strcmp(a[i].local, "base")) {
			char *b = url_resolve(f->base, a[i].value, strlen(a[i].value));
			if (b) {
				f->base = b;
				f->own_base = true;
			}
		}
	}
	if (!o->root_seen) {
		o->root_seen = true;
		o->is_opml = !strcasecmp(local, "opml");
		if (!o->is_opml)
			snprintf(o->root, sizeof o->root, "%s%s%s", prefix, *prefix ? ":" : "", local);
		return;
	}
	if (!o->is_opml || *ns || strcasecmp(local, "outline"))
		return;
	f->outline = true;
	size_t ln;
	const char *label = opml_trim(opml_attr(a, na, "title"), &ln);
	if (!label)
		label = opml_trim(opml_attr(a, na, "text"), &ln);
	const char *xml_url = opml_attr(a, na, "xmlUrl");
	if (xml_url)
		opml_emit(o, xml_url, label, ln, a, na);
	if (label) {
		if ((o->path.len && buf_append(&o->path, "/", 1)) || buf_append(&o->path, label, ln))
			o->oom = true;
	}
}

static void opml_on_end(void *ud, const char *ns, const char *local)
{
	struct opml *o = ud;
	(void)ns;
	(void)local;
	if (!o->nfr)
		return;
	struct opml_frame *f = &o->fr[--o->nfr];
	o->path.len = f->path_len;
	if (o->path.data)
		o->path.data[o->path.len] = 0;
	if (f->own_base)
		free(f->base);
}

static void opml_on_text(void *ud, const char *s, size_t len)
{
	(void)ud;
	(void)s;
	(void)len;
}

int opml_parse(const char *data, size_t len, opml_outline_fn fn, void *ud, char *err, size_t errlen)
{
	struct opml o = {.fn = fn, .ud = ud};
	struct parse_limits l;
	parse_limits_default(&l);
	struct xr_opts xo = {
		.amplification_threshold = l.amplification_threshold,
		.max_amplification = l.max_amplification,
		.max_depth = l.max_depth,
	};
	struct xr_handlers h = {opml_on_start, opml_on_end, opml_on_text};
	int rc = 0;
	o.xr = xr_new(&xo, &h, &o);
	if (!o.xr) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	xr_feed(o.xr, data, len);
	if (!o.stopped)
		xr_finish(o.xr);
	while (o.nfr)
		opml_on_end(&o, "", "");
	if (o.oom) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	} else if (o.stopped) {
		snprintf(err, errlen, "stopped");
		rc = -1;
	} else if (!o.root_seen) {
		const char *e = xr_error(o.xr);
		snprintf(err, errlen, "%s", e ? e : "empty document");
		rc = -1;
	} else if (!o.is_opml) {
		snprintf(err, errlen, "not an OPML document: root element <%s>", o.root);
		rc = -1;
	}
	xr_free(o.xr);
	free(o.fr);
	buf_free(&o.path);
	return rc;
}
