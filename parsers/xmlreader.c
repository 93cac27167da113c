/*
 * xmlreader.c - bytes -> namespace-resolved SAX events over expat.
 *
 * This first version reads UTF-8 only and stops at the first fatal error
 * (recorded for xr_error).  Encodings and recovery come next.
 */
#define XML_DTD 1
#include <expat.h>

#include "xmlreader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XR_SEP '\x01' /* cannot occur in an XML 1.0 name or URI */

struct xr {
	XML_Parser p;
	struct xr_handlers h;
	void *ud;
	struct xr_opts o;
	size_t depth;	/* open elements, including those past max_depth */
	bool stopped;
	bool failed;	/* expat gave up (no recovery yet) */
	bool wellformed;
	bool oom;
	char *error;
	/* Reused per element: split names and the attribute array. */
	char *names;
	size_t names_cap;
	struct xr_attr *attrs;
	size_t attrs_cap;
};

static int xr_reserve(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *nb;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	nb = realloc(*buf, n * elem);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = n;
	return 0;
}

/* Copies an expat name "uri SEP local SEP prefix" (or "local") to dst,
 * NUL-separating the parts; returns the byte count used. */
static size_t xr_split(char *dst, const char *name, const char **ns, const char **local,
		       const char **prefix)
{
	size_t n = strlen(name) + 1;
	char *a, *b;

	memcpy(dst, name, n);
	a = memchr(dst, XR_SEP, n);
	if (!a) {
		*ns = "";
		*local = dst;
		*prefix = "";
		return n;
	}
	*a++ = '\0';
	*ns = dst;
	*local = a;
	b = memchr(a, XR_SEP, n - (size_t)(a - dst));
	if (b) {
		*b++ = '\0';
		*prefix = b;
	} else {
		*prefix = "";
	}
	return n;
}

static void xr_set_error(struct xr *x, unsigned long line, unsigned long col, const char *msg)
{
	x->wellformed = false;
	if (x->error)
		return;
	if (asprintf(&x->error, "line %lu, column %lu: %s", line, col, msg) < 0)
		x->error = NULL;
}

static void XMLCALL xr_on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xr *x = ud;
	const char *ns, *local, *prefix, *ans, *alocal, *apfx;
	size_t need = 0, nattrs = 0, i, off;

	if (++x->depth > x->o.max_depth || x->stopped)
		return;
	need = strlen(name) + 1;
	for (i = 0; atts[i]; i += 2) {
		need += strlen(atts[i]) + 1;
		nattrs++;
	}
	if (xr_reserve((void **)&x->names, &x->names_cap, need, 1) ||
	    xr_reserve((void **)&x->attrs, &x->attrs_cap, nattrs + 1, sizeof(*x->attrs))) {
		x->oom = true;
		xr_stop(x);
		return;
	}
	off = xr_split(x->names, name, &ns, &local, &prefix);
	for (i = 0; i < nattrs; i++) {
		off += xr_split(x->names + off, atts[2 * i], &ans, &alocal, &apfx);
		x->attrs[i].ns = ans;
		x->attrs[i].local = alocal;
		x->attrs[i].value = atts[2 * i + 1];
	}
	if (x->h.start)
		x->h.start(x->ud, ns, local, prefix, x->attrs, nattrs);
}

static void XMLCALL xr_on_end(void *ud, const XML_Char *name)
{
	struct xr *x = ud;
	const char *ns, *local, *prefix;

	if (x->depth-- > x->o.max_depth || x->stopped)
		return;
	if (xr_reserve((void **)&x->names, &x->names_cap, strlen(name) + 1, 1)) {
		x->oom = true;
		xr_stop(x);
		return;
	}
	xr_split(x->names, name, &ns, &local, &prefix);
	if (x->h.end)
		x->h.end(x->ud, ns, local);
}

static void XMLCALL xr_on_text(void *ud, const XML_Char *s, int len)
{
	struct xr *x = ud;

	if (x->depth > x->o.max_depth || x->stopped)
		return;
	if (x->h.text)
		x->h.text(x->ud, s, (size_t)len);
}

struct xr *xr_new(const struct xr_opts *o, const struct xr_handlers *h, void *ud)
{
	struct xr *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->o = *o;
	x->h = *h;
	x->ud = ud;
	x->wellformed = true;
	x->p = XML_ParserCreateNS("UTF-8", XR_SEP);
	if (!x->p) {
		free(x);
		return NULL;
	}
	XML_SetUserData(x->p, x);
	XML_SetReturnNSTriplet(x->p, XML_TRUE);
	XML_SetElementHandler(x->p, xr_on_start, xr_on_end);
	XML_SetCharacterDataHandler(x->p, xr_on_text);
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
#ifdef HAVE_XML_BLAP
	if (o->amplification_threshold)
		XML_SetBillionLaughsAttackProtectionActivationThreshold(x->p,
									o->amplification_threshold);
	if (o->max_amplification >= 1.0f)
		XML_SetBillionLaughsAttackProtectionMaximumAmplification(x->p,
									 o->max_amplification);
#endif
	/* The allocation tracker (when present) keeps expat's own defaults
	 * (64 MiB, x100): lower values refuse legitimately deep documents. */
	return x;
}

static int xr_parse(struct xr *x, const char *buf, size_t len, bool final)
{
	enum XML_Status st;

	if (x->failed)
		return 0;
	while (len > 0 || final) {
		int n = len > (1u << 30) ? 1 << 30 : (int)len;
		bool last = final && (size_t)n == len;

		st = XML_Parse(x->p, buf, n, last);
		if (x->stopped)
			return -1;
		if (st == XML_STATUS_ERROR) {
			xr_set_error(x, XML_GetCurrentLineNumber(x->p),
				     XML_GetCurrentColumnNumber(x->p) + 1,
				     XML_ErrorString(XML_GetErrorCode(x->p)));
			x->failed = true;
			return 0;
		}
		buf += n;
		len -= (size_t)n;
		if (last)
			break;
	}
	return 0;
}

int xr_feed(struct xr *x, const char *buf, size_t len)
{
	if (x->stopped)
		return -1;
	return xr_parse(x, buf, len, false);
}

int xr_finish(struct xr *x)
{
	if (x->stopped)
		return -1;
	return xr_parse(x, "", 0, true);
}

void xr_stop(struct xr *x)
{
	if (x->stopped)
		return;
	x->stopped = true;
	XML_StopParser(x->p, XML_FALSE);
}

bool xr_wellformed(const struct xr *x)
{
	return x->wellformed;
}

const char *xr_error(const struct xr *x)
{
	return x->error;
}

const char *xr_encoding(const struct xr *x)
{
	(void)x;
	return "utf-8";
}

void xr_free(struct xr *x)
{
	if (!x)
		return;
	XML_ParserFree(x->p);
	free(x->names);
	free(x->attrs);
	free(x->error);
	free(x);
}
