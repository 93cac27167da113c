/*
 * xmlreader.c - bytes in any encoding -> namespace-resolved SAX events.
 *
 *   xr_feed -> enc (encoding.c: detect, transcode to valid UTF-8)
 *           -> xr_out -> expat (always fed UTF-8; namespace triplets)
 *                     -> after expat's first fatal error: lx (lenient.c)
 *
 * While expat parses, every callback records where its event ended
 * (XML_GetCurrentByteIndex + XML_GetCurrentByteCount) and we keep a copy of
 * the UTF-8 fed to expat from that point on; the element stack and the
 * namespace bindings are mirrored in lx.  On the first fatal error the
 * tolerant tokenizer resumes at the end of the last event expat delivered,
 * with the same stack, so the handlers see one continuous event stream.
 *
 * UTF-8 input goes to expat unvalidated (expat validates it); only when the
 * tolerant tokenizer takes over is it validated (bytes that are not UTF-8
 * read as windows-1252), from the resume point on.
 *
 * Positions: expat's own for its errors; for encoding errors that iconv
 * finds before expat sees the bytes we count lines and columns of the
 * UTF-8 stream until the first error is recorded.  The earliest error wins.
 */
#define XML_DTD 1
#include <expat.h>

#if defined(__GNUC__) && !defined(__clang__)
/* Called twice per event: straight through the GOT, not via the PLT. */
XMLPARSEAPI(XML_Index) XML_GetCurrentByteIndex(XML_Parser parser) __attribute__((noplt));
XMLPARSEAPI(int) XML_GetCurrentByteCount(XML_Parser parser) __attribute__((noplt));
#endif

#include "xmlreader.h"
#include "encoding.h"
#include "lenient.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XR_SEP '\x01' /* cannot occur in an XML 1.0 name or URI */
#define XR_PRE_MAX 1024	/* junk before the document looked at */
/*
 * expat keeps every open element (about 160 bytes each) and has no depth
 * limit of its own: 8 MiB of "<a>" cost 430 MB.  Past this depth (or
 * max_depth when larger) the tolerant tokenizer takes over; it only counts
 * the levels beyond max_depth.
 */
#define XR_EXPAT_DEPTH 1024

struct xr {
	XML_Parser p;
	struct enc *dec;
	struct lx *lx;
	const size_t *depth; /* lx's open elements */
	struct xr_handlers h;
	void *ud;
	struct xr_opts o;
	bool stopped;
	bool lenient; /* expat gave up; lx tokenizes */
	bool was_raw; /* ... while the decoder passed UTF-8 unvalidated */
	bool ext_dtd; /* the document names an external DTD */
	bool oom;
	bool wellformed;
	char *error;
	unsigned long err_line, err_col;
	/* end of the UTF-8 fed so far (line 1-based, col 0-based), counted
	 * until the first error is recorded */
	unsigned long line, col;
	/* resume point for lx, and the kept copy of bytes from keep_off */
	unsigned long long fed, resume, keep_off;
	char *keep;
	size_t keeplen, keepcap;
	/* the document's first bytes, held until we know where it starts */
	bool started;
	char pre[XR_PRE_MAX];
	size_t prelen;
	/* reused per element: split attribute names, the attribute array */
	char *names;
	size_t names_cap;
	struct xr_attr *attrs;
	size_t attrs_cap;
	/* xr_buffer: expat's own buffer (direct) or ours */
	bool direct;
	char *dbuf;
	char *inbuf;
	size_t inbuf_cap;
};

static int xr_reserve(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *nb;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	nb = realloc(*buf, n * elem);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = n;
	return 0;
}

static void xr_set_error(struct xr *x, unsigned long line, unsigned long col, const char *msg)
{
	char *e;

	x->wellformed = false;
	if (x->error && (line > x->err_line || (line == x->err_line && col >= x->err_col)))
		return;
	if (asprintf(&e, "line %lu, column %lu: %s", line, col, msg) < 0)
		return;
	free(x->error);
	x->error = e;
	x->err_line = line;
	x->err_col = col;
}

static void xr_oom(struct xr *x)
{
	x->oom = true;
	xr_stop(x);
}

/* ---- expat callbacks ---- */

static void xr_mark(struct xr *x)
{
	XML_Index i = XML_GetCurrentByteIndex(x->p);

	if (i >= 0) {
		unsigned long long end = (unsigned long long)i + (unsigned)XML_GetCurrentByteCount(x->p);

		if (end > x->resume)
			x->resume = end;
	}
}

/* Copies an expat attribute name "uri SEP local [SEP prefix]" to dst with
 * NULs; returns the bytes used. */
static size_t xr_split_attr(char *dst, const char *name, const char **ns, const char **local)
{
	size_t n = strlen(name) + 1;
	char *a, *b;

	memcpy(dst, name, n);
	a = memchr(dst, XR_SEP, n);
	if (!a) {
		*ns = "";
		*local = dst;
		return n;
	}
	*a++ = '\0';
	*ns = dst;
	*local = a;
	b = strchr(a, XR_SEP);
	if (b)
		*b = '\0';
	return n;
}

/* With an external DTD (never loaded) expat drops an undefined entity
 * from an attribute value without a word: when the start tag's own bytes
 * hold a '&', its attributes are read again by lx (HTML5 entities). */
static void xr_reread_attrs(struct xr *x, size_t *nattrs)
{
	int off = 0, size = 0, cnt = XML_GetCurrentByteCount(x->p);
	const char *buf = XML_GetInputContext(x->p, &off, &size);
	const struct xr_attr *a;
	size_t n;

	if (!buf || cnt < 3 || off < 0 || off + cnt > size || buf[off] != '<' ||
	    !memchr(buf + off, '&', (size_t)cnt))
		return;
	n = lx_tag_attrs(x->lx, buf + off, (size_t)cnt, &a);
	if (!a) {
		xr_oom(x);
		return;
	}
	if (xr_reserve((void **)&x->attrs, &x->attrs_cap, n + 1, sizeof(*x->attrs))) {
		xr_oom(x);
		return;
	}
	memcpy(x->attrs, a, n * sizeof(*a));
	*nattrs = n;
}

static void XMLCALL xr_on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xr *x = ud;
	const char *a = strchr(name, XR_SEP), *b = NULL;
	struct lx_name nm;
	size_t need = 0, nattrs = 0, i, off = 0;
	int r;

	xr_mark(x);
	if (!a)
		r = lx_open(x->lx, "", 0, name, strlen(name), "", 0, &nm);
	else if (!(b = strchr(a + 1, XR_SEP)))
		r = lx_open(x->lx, name, (size_t)(a - name), a + 1, strlen(a + 1), "", 0, &nm);
	else
		r = lx_open(x->lx, name, (size_t)(a - name), a + 1, (size_t)(b - a - 1), b + 1,
			    strlen(b + 1), &nm);
	if (r < 0)
		xr_oom(x);
	if (r == 0 && !x->stopped && lx_depth(x->lx) > x->o.max_depth &&
	    lx_depth(x->lx) > XR_EXPAT_DEPTH) {
		xr_set_error(x, XML_GetCurrentLineNumber(x->p),
			     XML_GetCurrentColumnNumber(x->p) + 1, "elements nested too deep");
		XML_StopParser(x->p, XML_FALSE); /* xr_expat hands over to lx */
	}
	if (r <= 0 || x->stopped)
		return;
	for (i = 0; atts[i]; i += 2) {
		need += strlen(atts[i]) + 1;
		nattrs++;
	}
	if (xr_reserve((void **)&x->names, &x->names_cap, need, 1) ||
	    xr_reserve((void **)&x->attrs, &x->attrs_cap, nattrs + 1, sizeof(*x->attrs))) {
		xr_oom(x);
		return;
	}
	for (i = 0; i < nattrs; i++) {
		off += xr_split_attr(x->names + off, atts[2 * i], &x->attrs[i].ns,
				     &x->attrs[i].local);
		x->attrs[i].value = atts[2 * i + 1];
	}
	if (x->ext_dtd && nattrs)
		xr_reread_attrs(x, &nattrs);
	if (x->h.start && !x->stopped)
		x->h.start(x->ud, nm.ns, nm.local, nm.prefix, x->attrs, nattrs);
}

static void XMLCALL xr_on_end(void *ud, const XML_Char *name)
{
	struct xr *x = ud;
	struct lx_name nm;

	(void)name;
	xr_mark(x);
	if (lx_close(x->lx, &nm) && !x->stopped && x->h.end)
		x->h.end(x->ud, nm.ns, nm.local);
}

static void xr_text(struct xr *x, const char *s, size_t len)
{
	size_t d = *x->depth;

	if (d - 1 >= x->o.max_depth || x->stopped || !x->h.text) /* d == 0 wraps */
		return;
	x->h.text(x->ud, s, len);
}

static void XMLCALL xr_on_text(void *ud, const XML_Char *s, int len)
{
	struct xr *x = ud;

	xr_mark(x);
	xr_text(x, s, (size_t)len);
}

static void XMLCALL xr_on_ns(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
	struct xr *x = ud;

	xr_mark(x);
	if (lx_bind(x->lx, prefix ? prefix : "", uri ? uri : ""))
		xr_oom(x);
}

/* Markup without events: only moves the resume point past it, so that
 * the kept copy does not grow over a long comment or DOCTYPE. */
static void XMLCALL xr_on_comment(void *ud, const XML_Char *data)
{
	(void)data;
	xr_mark(ud);
}

static void XMLCALL xr_on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
	(void)target, (void)data;
	xr_mark(ud);
}

static void XMLCALL xr_on_doctype_start(void *ud, const XML_Char *name, const XML_Char *sysid,
					const XML_Char *pubid, int has_internal_subset)
{
	struct xr *x = ud;

	(void)name, (void)has_internal_subset;
	if (sysid || pubid)
		x->ext_dtd = true;
}

static void XMLCALL xr_on_doctype_end(void *ud)
{
	xr_mark(ud);
}

/* An entity expat did not expand because the document has an external DTD
 * (which is never loaded): resolved from the HTML5 table. */
static void XMLCALL xr_on_skipped(void *ud, const XML_Char *name, int is_param)
{
	struct xr *x = ud;
	const char *u;

	xr_mark(x);
	if (is_param)
		return;
	u = html_entity_lookup(name, strlen(name));
	if (u) {
		xr_text(x, u, strlen(u));
	} else {
		xr_text(x, "&", 1);
		xr_text(x, name, strlen(name));
		xr_text(x, ";", 1);
	}
}

/* ---- the UTF-8 stream ---- */

/* Characters (not continuation bytes) in s[0..n). */
static size_t xr_chars(const char *s, size_t n)
{
	size_t i = 0, c = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, s + i, 8);
		c += 8 - (size_t)__builtin_popcountll(v & ~(v << 1) & 0x8080808080808080ULL);
	}
	for (; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static void xr_track(struct xr *x, const char *s, size_t n)
{
	const char *nl = memrchr(s, '\n', n), *p = s;

	if (!nl) {
		x->col += xr_chars(s, n);
		return;
	}
	while ((p = memchr(p, '\n', (size_t)(nl - p) + 1))) {
		x->line++;
		if (p++ == nl)
			break;
	}
	x->col = xr_chars(nl + 1, (size_t)(s + n - nl - 1));
}

static int xr_keep(struct xr *x, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (xr_reserve((void **)&x->keep, &x->keepcap, x->keeplen + n, 1))
		return -1;
	memcpy(x->keep + x->keeplen, s, n);
	x->keeplen += n;
	return 0;
}

/* Drops the kept bytes before the resume point. */
static void xr_drop_kept(struct xr *x)
{
	size_t d;

	if (x->resume <= x->keep_off || x->keeplen == 0)
		return;
	d = x->resume - x->keep_off;
	if (d > x->keeplen)
		d = x->keeplen;
	memmove(x->keep, x->keep + d, x->keeplen - d);
	x->keeplen -= d;
	x->keep_off += d;
}

static int xr_lenient_finish(struct xr *x)
{
	if (x->was_raw && enc_finish(x->dec)) /* a sequence cut at the end */
		return -1;
	return lx_finish(x->lx);
}

/* Bytes of the current chunk after the point where expat gave up: raw
 * UTF-8 was not validated yet. */
static int xr_rest(struct xr *x, const char *s, size_t n)
{
	int r = 0;

	if (n)
		r = x->was_raw ? enc_validate(x->dec, s, n) : lx_feed(x->lx, s, n);
	if (r < 0)
		xr_oom(x);
	return x->stopped ? -1 : 0;
}

static int xr_to_lenient(struct xr *x, bool final)
{
	enum XML_Error code = XML_GetErrorCode(x->p);
	const char *rest;
	int r;

	xr_set_error(x, XML_GetCurrentLineNumber(x->p), XML_GetCurrentColumnNumber(x->p) + 1,
		     XML_ErrorString(code));
	x->lenient = true;
	x->was_raw = enc_raw(x->dec);
	xr_drop_kept(x);
	rest = x->keep ? x->keep : "";
	/* expat validated what it parsed, lx does not */
	r = x->was_raw ? enc_validate(x->dec, rest, x->keeplen) : lx_feed(x->lx, rest, x->keeplen);
	free(x->keep);
	x->keep = NULL;
	x->keeplen = x->keepcap = 0;
	if (r == 0 && final)
		r = xr_lenient_finish(x);
	if (r < 0)
		xr_oom(x);
	return x->stopped ? -1 : 0;
}

/* After a parse of s[0..n) (which starts at stream offset at): keeps the
 * bytes from the resume point on (usually the few bytes of a token cut by
 * the chunk's end), so that lx can take over from there. */
static int xr_keep_rest(struct xr *x, const char *s, size_t n, unsigned long long at)
{
	size_t skip = 0;

	xr_drop_kept(x);
	if (x->keeplen == 0) {
		if (x->resume > at)
			skip = x->resume - at < n ? (size_t)(x->resume - at) : n;
		x->keep_off = at + skip;
	}
	return xr_keep(x, s + skip, n - skip);
}

/* Hands the kept bytes and the rest of s[0..n) (after the k bytes expat
 * saw) over to lx, after expat's error. */
static int xr_expat_failed(struct xr *x, const char *s, size_t k, size_t n, unsigned long long at,
			   bool final)
{
	bool more = k < n;

	if (xr_keep_rest(x, s, k, at)) {
		xr_oom(x);
		return -1;
	}
	if (xr_to_lenient(x, final && !more) || !more)
		return x->stopped ? -1 : 0;
	if (xr_rest(x, s + k, n - k))
		return -1;
	if (final && xr_lenient_finish(x))
		xr_oom(x);
	return x->stopped ? -1 : 0;
}

/* After expat parsed s[0..k) (from stream offset at) without an error. */
static int xr_expat_parsed(struct xr *x, const char *s, size_t k, unsigned long long at)
{
	if (x->stopped)
		return -1;
	if (xr_keep_rest(x, s, k, at)) {
		xr_oom(x);
		return -1;
	}
	return 0;
}

static int xr_expat(struct xr *x, const char *s, size_t n, bool final)
{
	do {
		int k = n > INT_MAX ? INT_MAX : (int)n;
		bool more = (size_t)k < n;
		unsigned long long at = x->fed;
		enum XML_Status st;

		st = XML_Parse(x->p, s, k, final && !more);
		x->fed += (size_t)k;
		if (x->stopped)
			return -1;
		if (st == XML_STATUS_ERROR)
			return xr_expat_failed(x, s, (size_t)k, n, at, final);
		if (xr_expat_parsed(x, s, (size_t)k, at))
			return -1;
		s += k;
		n -= (size_t)k;
	} while (n > 0);
	return 0;
}

static int xr_pass(struct xr *x, const char *s, size_t n, bool final)
{
	if (!x->error && !enc_raw(x->dec))
		xr_track(x, s, n);
	if (!x->lenient)
		return xr_expat(x, s, n, final);
	if (lx_feed(x->lx, s, n) || (final && xr_lenient_finish(x)))
		xr_oom(x);
	return x->stopped ? -1 : 0;
}

static bool xr_markup_start(unsigned char c)
{
	return c == '?' || c == '!' || c == '_' || c == ':' || c >= 0x80 ||
	       ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* Where the document starts in pre: after junk before the first markup
 * (whitespace counts as junk only before an XML declaration).  Returns
 * (size_t)-1 while more bytes are needed to tell. */
static size_t xr_doc_start(const char *p, size_t n, bool final)
{
	size_t k, i;

	for (k = 0; k < n; k++) {
		if (p[k] != '<')
			continue;
		if (k + 6 >= n && !final && n < XR_PRE_MAX)
			return (size_t)-1;
		if (k + 1 < n && xr_markup_start((unsigned char)p[k + 1]))
			break;
	}
	if (k == 0 || k >= n)
		return 0; /* no junk, or no markup at all: expat will say */
	for (i = 0; i < k && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'); i++)
		;
	if (i == k && !(k + 6 <= n && !memcmp(p + k, "<?xml", 5) &&
			(p[k + 5] == ' ' || p[k + 5] == '\t' || p[k + 5] == '\r' ||
			 p[k + 5] == '\n' || p[k + 5] == '?')))
		return 0; /* whitespace before the root: fine */
	return k;
}

/* Holds the first bytes until the start of the document is known. */
static int xr_begin(struct xr *x, const char *s, size_t n, bool final)
{
	size_t take = n < XR_PRE_MAX - x->prelen ? n : XR_PRE_MAX - x->prelen, k;

	memcpy(x->pre + x->prelen, s, take);
	x->prelen += take;
	k = xr_doc_start(x->pre, x->prelen, final || take < n);
	if (k == (size_t)-1)
		return 0;
	x->started = true;
	if (k > 0)
		xr_set_error(x, 1, 1, "junk before the document, skipped");
	if (xr_pass(x, x->pre + k, x->prelen - k, false))
		return -1;
	if (take == n)
		return 0;
	if (x->lenient) /* expat gave up within pre */
		return xr_rest(x, s + take, n - take);
	return xr_pass(x, s + take, n - take, false);
}

static int xr_out(void *ctx, const char *s, size_t n)
{
	struct xr *x = ctx;

	if (x->stopped)
		return -1;
	if (!x->started)
		return xr_begin(x, s, n, false);
	return xr_pass(x, s, n, false);
}

static void xr_bad(void *ctx, const char *msg)
{
	struct xr *x = ctx;

	if (x->lenient) { /* after expat's error, which comes first */
		x->wellformed = false;
		return;
	}
	xr_set_error(x, x->line, x->col + 1, msg);
}

/* ---- interface ---- */

static void xr_setup_expat(struct xr *x)
{
	XML_SetUserData(x->p, x);
	XML_SetReturnNSTriplet(x->p, XML_TRUE);
	XML_SetElementHandler(x->p, xr_on_start, xr_on_end);
	XML_SetCharacterDataHandler(x->p, xr_on_text);
	XML_SetStartNamespaceDeclHandler(x->p, xr_on_ns);
	XML_SetSkippedEntityHandler(x->p, xr_on_skipped);
	XML_SetCommentHandler(x->p, xr_on_comment);
	XML_SetProcessingInstructionHandler(x->p, xr_on_pi);
	XML_SetDoctypeDeclHandler(x->p, xr_on_doctype_start, xr_on_doctype_end);
	/* no ExternalEntityRefHandler: nothing external is ever loaded */
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
#ifdef HAVE_XML_BLAP
	if (x->o.amplification_threshold)
		XML_SetBillionLaughsAttackProtectionActivationThreshold(
			x->p, x->o.amplification_threshold);
	if (x->o.max_amplification >= 1.0f)
		XML_SetBillionLaughsAttackProtectionMaximumAmplification(x->p,
									 x->o.max_amplification);
#endif
	/* The allocation tracker (when present) keeps expat's own defaults
	 * (64 MiB, x100): lower values refuse legitimately deep documents. */
}

struct xr *xr_new(const struct xr_opts *o, const struct xr_handlers *h, void *ud)
{
	return xr_new_mm(o, h, ud, NULL);
}

struct xr *xr_new_mm(const struct xr_opts *o, const struct xr_handlers *h, void *ud,
		     const void *memsuite)
{
	static const XML_Char sep = XR_SEP;
	struct xr *x = calloc(1, sizeof(*x));
	struct enc_sink sink = {xr_out, xr_bad, x};

	if (!x)
		return NULL;
	x->o = *o;
	x->h = *h;
	x->ud = ud;
	x->wellformed = true;
	x->line = 1;
	x->p = memsuite ? XML_ParserCreate_MM("UTF-8", memsuite, &sep)
			: XML_ParserCreateNS("UTF-8", XR_SEP);
	x->dec = enc_new(o->http_charset, &sink, true);
	x->lx = lx_new(h, ud, o->max_depth, &x->stopped);
	if (!x->p || !x->dec || !x->lx) {
		xr_free(x);
		return NULL;
	}
	x->depth = lx_depth_ref(x->lx);
	xr_setup_expat(x);
	return x;
}

int xr_feed(struct xr *x, const char *buf, size_t len)
{
	if (x->stopped)
		return -1;
	if (enc_feed(x->dec, buf, len) || x->stopped)
		return -1;
	return 0;
}

void *xr_buffer(struct xr *x, size_t len)
{
	x->direct = false;
	if (x->stopped)
		return NULL;
	if (x->started && !x->lenient && enc_raw(x->dec) && len > 0 && len <= INT_MAX) {
		/* NULL when expat cannot take input now: the copying path says why */
		x->dbuf = XML_GetBuffer(x->p, (int)len);
		if (x->dbuf) {
			x->direct = true;
			return x->dbuf;
		}
	}
	if (xr_reserve((void **)&x->inbuf, &x->inbuf_cap, len ? len : 1, 1))
		return NULL;
	return x->inbuf;
}

int xr_feed_buffer(struct xr *x, size_t n)
{
	unsigned long long at = x->fed;
	enum XML_Status st;
	int r;

	if (!x->direct)
		return x->inbuf && n <= x->inbuf_cap ? xr_feed(x, x->inbuf, n) : -1;
	x->direct = false;
	if (x->stopped)
		return -1;
	st = XML_ParseBuffer(x->p, (int)n, XML_FALSE);
	x->fed += n;
	if (x->stopped)
		return -1;
	if (st == XML_STATUS_ERROR)
		r = xr_expat_failed(x, x->dbuf, n, n, at, false);
	else
		r = xr_expat_parsed(x, x->dbuf, n, at);
	return r || x->stopped ? -1 : 0;
}

int xr_finish(struct xr *x)
{
	if (x->stopped)
		return -1;
	if (enc_finish(x->dec) || x->stopped)
		return -1;
	if (!x->started && xr_begin(x, "", 0, true))
		return -1;
	return xr_pass(x, "", 0, true);
}

void xr_stop(struct xr *x)
{
	if (x->stopped)
		return;
	x->stopped = true;
	if (x->p && !x->lenient)
		XML_StopParser(x->p, XML_FALSE);
}

bool xr_wellformed(const struct xr *x)
{
	return x->wellformed;
}

const char *xr_error(const struct xr *x)
{
	if (x->oom)
		return "out of memory";
	return x->error;
}

const char *xr_encoding(const struct xr *x)
{
	return enc_name(x->dec);
}

const char *xr_default_ns(const struct xr *x)
{
	const char *uri = lx_ns(x->lx, "");
	return uri ? uri : "";
}

void xr_free(struct xr *x)
{
	if (!x)
		return;
	if (x->p)
		XML_ParserFree(x->p);
	enc_free(x->dec);
	lx_free(x->lx);
	free(x->keep);
	free(x->inbuf);
	free(x->names);
	free(x->attrs);
	free(x->error);
	free(x);
}
