/*
 * lenient.c - element stack, namespace bindings and the tolerant tokenizer
 * (see lenient.h).
 *
 * The tokenizer keeps the unconsumed tail of its input (an incomplete tag
 * or entity reference, at most LX_MAX_TAG bytes) and states for the
 * constructs that may be long (comments, CDATA, PIs, DOCTYPE), which it
 * consumes as it goes, so memory is bounded by the largest tag.
 */
#include "lenient.h"
#include "entities.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LX_MAX_TAG (1u << 20)	/* a longer "tag" is taken as a literal '<' */
#define LX_MAX_REF 40		/* longest entity reference looked at */

enum lx_state { LX_TEXT, LX_COMMENT, LX_CDATA, LX_PI, LX_DOCTYPE };

struct lx_buf {
	char *p;
	size_t len, cap;
};

struct lx_elem {
	size_t off;	     /* in names: ns\0local\0prefix\0 */
	size_t local, prefix; /* their offsets after off */
	size_t nbind_before; /* bindings in scope before this element's own */
};

struct lx_rawattr {
	size_t qn, val; /* offsets in abuf */
};

struct lx {
	struct xr_handlers h;
	void *ud;
	size_t max_depth;
	const bool *stopped;
	bool oom;
	/* element stack (only elements within max_depth are recorded) */
	struct lx_buf names;
	struct lx_elem *el;
	size_t nel, elcap;
	size_t depth;
	/* namespace bindings: offsets of prefix\0uri\0 in bnames */
	struct lx_buf bnames;
	size_t *bind;
	size_t nbind, bindcap, npending;
	/* tokenizer */
	enum lx_state st;
	struct lx_buf in;   /* unconsumed input */
	struct lx_buf text; /* decoded text of the current run */
	struct lx_buf abuf; /* attribute names and values of one tag */
	struct lx_rawattr *raw;
	size_t rawcap;
	struct xr_attr *attrs;
	size_t attrscap;
	unsigned dt_depth; /* DOCTYPE: '[' nesting */
	char dt_quote;
};

/* Well-known prefixes, for a prefix that was never declared. */
static const struct {
	const char *prefix, *uri;
} lx_known_prefixes[] = {
	{"atom", "http://www.w3.org/2005/Atom"},
	{"content", "http://purl.org/rss/1.0/modules/content/"},
	{"dc", "http://purl.org/dc/elements/1.1/"},
	{"dcterms", "http://purl.org/dc/terms/"},
	{"itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"},
	{"media", "http://search.yahoo.com/mrss/"},
	{"rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"},
	{"slash", "http://purl.org/rss/1.0/modules/slash/"},
	{"sy", "http://purl.org/rss/1.0/modules/syndication/"},
	{"wfw", "http://wellformedweb.org/CommentAPI/"},
	{"xhtml", "http://www.w3.org/1999/xhtml"},
};

static int lx_reserve(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *np;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	np = realloc(*p, n * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = n;
	return 0;
}

static int lx_add(struct lx_buf *b, const void *s, size_t n)
{
	if (lx_reserve((void **)&b->p, &b->cap, b->len + n + 1, 1))
		return -1;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int lx_addz(struct lx_buf *b, const char *s, size_t n)
{
	if (lx_add(b, s, n))
		return -1;
	b->len++; /* keep the NUL */
	return 0;
}

struct lx *lx_new(const struct xr_handlers *h, void *ud, size_t max_depth, const bool *stopped)
{
	struct lx *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->h = *h;
	l->ud = ud;
	l->max_depth = max_depth;
	l->stopped = stopped;
	return l;
}

void lx_free(struct lx *l)
{
	if (!l)
		return;
	free(l->names.p);
	free(l->el);
	free(l->bnames.p);
	free(l->bind);
	free(l->in.p);
	free(l->text.p);
	free(l->abuf.p);
	free(l->raw);
	free(l->attrs);
	free(l);
}

size_t lx_depth(const struct lx *l)
{
	return l->depth;
}

const size_t *lx_depth_ref(const struct lx *l)
{
	return &l->depth;
}

/* ---- element stack and bindings ---- */

int lx_bind(struct lx *l, const char *prefix, const char *uri)
{
	size_t off = l->bnames.len;

	if (lx_reserve((void **)&l->bind, &l->bindcap, l->nbind + 1, sizeof(*l->bind)) ||
	    lx_addz(&l->bnames, prefix, strlen(prefix)) || lx_addz(&l->bnames, uri, strlen(uri)))
		return -1;
	l->bind[l->nbind++] = off;
	l->npending++;
	return 0;
}

const char *lx_ns(const struct lx *l, const char *prefix)
{
	for (size_t i = l->nbind; i-- > 0;) {
		const char *p = l->bnames.p + l->bind[i];
		if (!strcmp(p, prefix))
			return p + strlen(p) + 1;
	}
	return NULL;
}

static void lx_unbind_to(struct lx *l, size_t n)
{
	if (n < l->nbind) {
		l->bnames.len = l->bind[n];
		l->nbind = n;
	}
}

int lx_open(struct lx *l, const char *ns, size_t nslen, const char *local, size_t llen,
	    const char *prefix, size_t plen, struct lx_name *out)
{
	size_t off = l->names.len;
	struct lx_elem *e;
	char *d;

	l->depth++;
	if (l->depth > l->max_depth) {
		lx_unbind_to(l, l->nbind - l->npending);
		l->npending = 0;
		return 0;
	}
	if (lx_reserve((void **)&l->el, &l->elcap, l->nel + 1, sizeof(*l->el)) ||
	    lx_reserve((void **)&l->names.p, &l->names.cap, off + nslen + llen + plen + 4, 1)) {
		l->depth--;
		return -1;
	}
	/* ns\0local\0prefix\0, and the NUL lx_add keeps after the text */
	d = l->names.p + off;
	memcpy(d, ns, nslen);
	d[nslen] = '\0';
	memcpy(d + nslen + 1, local, llen);
	d[nslen + 1 + llen] = '\0';
	memcpy(d + nslen + llen + 2, prefix, plen);
	d[nslen + llen + plen + 2] = '\0';
	d[nslen + llen + plen + 3] = '\0';
	l->names.len = off + nslen + llen + plen + 3;
	e = &l->el[l->nel++];
	e->off = off;
	e->local = nslen + 1;
	e->prefix = nslen + llen + 2;
	e->nbind_before = l->nbind - l->npending;
	l->npending = 0;
	out->ns = l->names.p + off;
	out->local = out->ns + nslen + 1;
	out->prefix = out->local + llen + 1;
	return 1;
}

int lx_close(struct lx *l, struct lx_name *out)
{
	struct lx_elem *e;

	if (l->depth == 0)
		return 0;
	if (l->depth-- > l->nel)
		return 0;
	e = &l->el[--l->nel];
	out->ns = l->names.p + e->off;
	out->local = out->ns + e->local;
	out->prefix = out->ns + e->prefix;
	l->names.len = e->off;
	lx_unbind_to(l, e->nbind_before);
	return 1;
}

/* ---- handler calls ---- */

static bool lx_live(const struct lx *l)
{
	return !*l->stopped && !l->oom;
}

static void lx_emit_text(struct lx *l, const char *s, size_t n)
{
	if (n == 0 || l->depth == 0 || l->depth > l->max_depth || !lx_live(l))
		return;
	if (l->h.text)
		l->h.text(l->ud, s, n);
}

static void lx_emit_end(struct lx *l)
{
	struct lx_name nm;

	if (lx_close(l, &nm) && lx_live(l) && l->h.end)
		l->h.end(l->ud, nm.ns, nm.local);
}

/* ---- text and entities ---- */

static bool lx_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool lx_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool lx_xml_char(uint32_t c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	       (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

static int lx_add_cp(struct lx_buf *b, uint32_t c)
{
	char u[4];
	size_t n;

	if (!lx_xml_char(c))
		c = 0xFFFD;
	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xC0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xE0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		u[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		u[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	return lx_add(b, u, n);
}

/* Appends s[0..n) without illegal control characters, newlines
 * normalized (CR LF and CR -> LF; in attributes every one -> space). */
static int lx_add_clean(struct lx_buf *b, const char *s, size_t n, bool attr)
{
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = "";
		size_t skip = 1;

		if (c >= 0x20 && c != 0xEF) {
			i++;
			continue;
		}
		if (c == 0xEF) {
			if (!(i + 2 < n && (unsigned char)s[i + 1] == 0xBF &&
			      (unsigned char)s[i + 2] >= 0xBE)) {
				i++;
				continue;
			}
			skip = 3; /* U+FFFE, U+FFFF */
		} else if (c == '\t' || c == '\n') {
			if (!attr) {
				i++;
				continue;
			}
			rep = " ";
		} else if (c == '\r') {
			rep = attr ? " " : "\n";
			if (i + 1 < n && s[i + 1] == '\n')
				skip = 2;
		}
		if (lx_add(b, s + run, i - run) || lx_add(b, rep, strlen(rep)))
			return -1;
		i += skip;
		run = i;
	}
	return lx_add(b, s + run, n - run);
}

/* At p[0] == '&': appends the expansion to b.  Returns the bytes used, 0
 * when more input is needed, (size_t)-1 on out of memory. */
static size_t lx_entity(const char *p, size_t n, bool final, bool attr, struct lx_buf *b)
{
	size_t i = 1;
	const char *u;

	if (n < 2 && !final)
		return 0;
	if (n >= 2 && p[1] == '#') {
		bool hex = n >= 3 && (p[2] == 'x' || p[2] == 'X');
		uint32_t cp = 0;
		size_t start = i = hex ? 3 : 2;

		for (; i < n && i < LX_MAX_REF; i++) {
			unsigned char c = (unsigned char)p[i];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && (c | 32) >= 'a' && (c | 32) <= 'f')
				d = (c | 32) - 'a' + 10;
			else
				break;
			cp = cp > 0x10FFFF ? cp : cp * (hex ? 16 : 10) + d;
		}
		if (i == n && !final && n < LX_MAX_REF)
			return 0;
		if (i == start)
			return lx_add(b, "&", 1) ? (size_t)-1 : 1;
		if (i < n && p[i] == ';')
			i++;
		return lx_add_cp(b, cp) ? (size_t)-1 : i;
	}
	while (i < n && i < LX_MAX_REF && lx_is_alnum((unsigned char)p[i]))
		i++;
	if (i == n && !final && n < LX_MAX_REF)
		return 0;
	if (i < n && p[i] == ';' && (u = html_entity_lookup(p + 1, i - 1)))
		return lx_add(b, u, strlen(u)) ? (size_t)-1 : i + 1;
	if (i > 1) {
		size_t m = html_entity_legacy_prefix(p + 1, i - 1, &u);

		if (m && !(attr && m + 1 < n && (lx_is_alnum((unsigned char)p[m + 1]) ||
						 p[m + 1] == '=')))
			return lx_add(b, u, strlen(u)) ? (size_t)-1 : m + 1;
	}
	return lx_add(b, "&", 1) ? (size_t)-1 : 1;
}

/* Decodes a run of text or an attribute value into b. */
static int lx_decode(const char *s, size_t n, bool attr, struct lx_buf *b)
{
	size_t i = 0;

	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t j = amp ? (size_t)(amp - s) : n, k;

		if (lx_add_clean(b, s + i, j - i, attr))
			return -1;
		if (j == n)
			break;
		k = lx_entity(s + j, n - j, true, attr, b);
		if (k == (size_t)-1)
			return -1;
		i = j + k;
	}
	return 0;
}

/* ---- tags ---- */

static const char *lx_lookup_ns(struct lx *l, const char *prefix, size_t plen)
{
	size_t i;

	if (plen == 3 && !memcmp(prefix, "xml", 3))
		return XR_NS_XML;
	for (i = l->nbind; i-- > 0;) {
		const char *bp = l->bnames.p + l->bind[i];

		if (strlen(bp) == plen && !memcmp(bp, prefix, plen))
			return bp + plen + 1;
	}
	if (plen == 0)
		return "";
	for (i = 0; i < sizeof(lx_known_prefixes) / sizeof(lx_known_prefixes[0]); i++)
		if (strlen(lx_known_prefixes[i].prefix) == plen &&
		    !memcmp(lx_known_prefixes[i].prefix, prefix, plen))
			return lx_known_prefixes[i].uri;
	return NULL;
}

/* Splits qname into prefix and local and resolves the namespace.  An
 * undeclared unknown prefix keeps the qname whole as local name. */
static void lx_resolve(struct lx *l, const char *qn, size_t qlen, bool attr, const char **ns,
		       const char **local, size_t *llen, size_t *plen)
{
	const char *colon = memchr(qn, ':', qlen);
	const char *uri;

	*plen = colon && colon != qn && colon + 1 < qn + qlen ? (size_t)(colon - qn) : 0;
	if (*plen == 0) {
		*ns = attr ? "" : lx_lookup_ns(l, "", 0);
		*local = qn;
		*llen = qlen;
		return;
	}
	uri = lx_lookup_ns(l, qn, *plen);
	if (!uri) {
		*ns = "";
		*local = qn;
		*llen = qlen;
		*plen = 0;
		return;
	}
	*ns = uri;
	*local = colon + 1;
	*llen = qlen - *plen - 1;
}

static size_t lx_name_end(const char *s, size_t i, size_t n)
{
	while (i < n && !lx_is_space((unsigned char)s[i]) && s[i] != '/' && s[i] != '>' &&
	       s[i] != '=')
		i++;
	return i;
}

/* Collects the attributes of s[i..n) into abuf/raw; returns the count. */
static size_t lx_attrs(struct lx *l, const char *s, size_t i, size_t n)
{
	size_t na = 0;

	l->abuf.len = 0;
	while (i < n) {
		size_t qs, qe, vs, ve;
		char q = 0;

		while (i < n && (lx_is_space((unsigned char)s[i]) || s[i] == '/'))
			i++;
		qs = i;
		qe = i = lx_name_end(s, i, n);
		if (qe == qs) {
			i++;
			continue;
		}
		while (i < n && lx_is_space((unsigned char)s[i]))
			i++;
		vs = ve = i;
		if (i < n && s[i] == '=') {
			i++;
			while (i < n && lx_is_space((unsigned char)s[i]))
				i++;
			if (i < n && (s[i] == '"' || s[i] == '\''))
				q = s[i++];
			vs = i;
			while (i < n && (q ? s[i] != q : !lx_is_space((unsigned char)s[i])))
				i++;
			ve = i;
			if (q && i < n)
				i++;
		}
		if (lx_reserve((void **)&l->raw, &l->rawcap, na + 1, sizeof(*l->raw))) {
			l->oom = true;
			return na;
		}
		l->raw[na].qn = l->abuf.len;
		if (lx_addz(&l->abuf, s + qs, qe - qs)) {
			l->oom = true;
			return na;
		}
		l->raw[na].val = l->abuf.len;
		if (lx_decode(s + vs, ve - vs, true, &l->abuf) || lx_addz(&l->abuf, "", 0)) {
			l->oom = true;
			return na;
		}
		na++;
	}
	return na;
}

static bool lx_is_xmlns(const char *qn)
{
	return !strncmp(qn, "xmlns", 5) && (qn[5] == '\0' || qn[5] == ':');
}

/* Builds the reported attribute array (bindings already made). */
static size_t lx_attr_array(struct lx *l, size_t na)
{
	size_t k = 0;

	if (lx_reserve((void **)&l->attrs, &l->attrscap, na + 1, sizeof(*l->attrs))) {
		l->oom = true;
		return 0;
	}
	for (size_t i = 0; i < na; i++) {
		const char *qn = l->abuf.p + l->raw[i].qn, *ns, *local;
		size_t llen, plen, j;
		bool dup = false;

		if (lx_is_xmlns(qn))
			continue;
		lx_resolve(l, qn, strlen(qn), true, &ns, &local, &llen, &plen);
		for (j = 0; j < k && !dup; j++)
			dup = !strcmp(l->attrs[j].local, local) && !strcmp(l->attrs[j].ns, ns);
		if (dup)
			continue;
		l->attrs[k].ns = ns;
		l->attrs[k].local = local;
		l->attrs[k].value = l->abuf.p + l->raw[i].val;
		k++;
	}
	return k;
}

/* s[0..n): the tag without '<' and '>'. */
static void lx_start_tag(struct lx *l, const char *s, size_t n)
{
	size_t ne = lx_name_end(s, 0, n), na, i, llen, plen, k;
	bool empty = n > 0 && s[n - 1] == '/';
	const char *ns, *local;
	struct lx_name nm;
	int r;

	if (empty)
		n--;
	if (ne > n)
		ne = n;
	na = lx_attrs(l, s, ne, n);
	for (i = 0; i < na && !l->oom; i++) {
		const char *qn = l->abuf.p + l->raw[i].qn;

		if (lx_is_xmlns(qn) && (qn[5] == '\0' || qn[6] != '\0') &&
		    lx_bind(l, qn[5] ? qn + 6 : "", l->abuf.p + l->raw[i].val))
			l->oom = true;
	}
	if (l->oom)
		return;
	lx_resolve(l, s, ne, false, &ns, &local, &llen, &plen);
	k = lx_attr_array(l, na);
	r = lx_open(l, ns, strlen(ns), local, llen, s, plen, &nm);
	if (r < 0) {
		l->oom = true;
		return;
	}
	if (r > 0 && lx_live(l) && l->h.start)
		l->h.start(l->ud, nm.ns, nm.local, nm.prefix, l->attrs, k);
	if (empty)
		lx_emit_end(l);
}

size_t lx_tag_attrs(struct lx *l, const char *tag, size_t len, const struct xr_attr **out)
{
	size_t n, na, k;

	if (len && tag[len - 1] == '>')
		len--;
	if (len && tag[len - 1] == '/')
		len--;
	tag++;
	len--;
	n = lx_name_end(tag, 0, len);
	na = lx_attrs(l, tag, n, len);
	k = lx_attr_array(l, na);
	*out = l->oom ? NULL : l->attrs;
	return k;
}

/* s[0..n): the end tag's name (and junk) without "</" and ">". */
static void lx_end_tag(struct lx *l, const char *s, size_t n)
{
	size_t ne = lx_name_end(s, 0, n), i;

	if (l->depth == 0)
		return;
	if (l->depth > l->nel) { /* deeper than recorded: cannot check */
		lx_emit_end(l);
		return;
	}
	/* the nearest exact match; else the nearest in another case
	 * (</TITLE> for <title>), as HTML-minded feed parsers read it */
	for (int fold = 0; fold < 2; fold++) {
		int (*cmp)(const char *, const char *, size_t) = fold ? strncasecmp : strncmp;

		for (i = l->nel; i-- > 0;) {
			const char *ns = l->names.p + l->el[i].off;
			const char *local = ns + strlen(ns) + 1;
			const char *prefix = local + strlen(local) + 1;
			size_t pl = strlen(prefix), ll = strlen(local);
			bool match = pl ? (ne == pl + 1 + ll && !cmp(s, prefix, pl) && s[pl] == ':' &&
					   !cmp(s + pl + 1, local, ll))
					: (ne == ll && !cmp(s, local, ll));

			if (match) {
				while (l->nel > i && lx_live(l))
					lx_emit_end(l);
				return;
			}
		}
	}
}

/* ---- the tokenizer ---- */

static int lx_flush_text(struct lx *l)
{
	lx_emit_text(l, l->text.p, l->text.len);
	l->text.len = 0;
	return 0;
}

/* End of p[i..j) without a character cut at j (nor a CR whose LF may
 * follow). */
static size_t lx_whole_chars(const char *p, size_t i, size_t j)
{
	size_t k = j;

	while (k > i && j - k < 3 && ((unsigned char)p[k - 1] & 0xC0) == 0x80)
		k--;
	if (k > i && (unsigned char)p[k - 1] >= 0xC0) {
		unsigned char c = (unsigned char)p[k - 1];
		size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

		if (j - (k - 1) < len)
			return k - 1;
	}
	if (j > i && p[j - 1] == '\r')
		return j - 1;
	return j;
}

/* Text up to the next '<'.  Returns bytes used (0: need more). */
static size_t lx_text(struct lx *l, const char *p, size_t n, bool final)
{
	size_t i = 0;

	l->text.len = 0;
	while (i < n && p[i] != '<') {
		size_t j = i, k;

		if (p[i] == '&') {
			k = lx_entity(p + i, n - i, final, false, &l->text);
			if (k == (size_t)-1)
				return (size_t)-1;
			if (k == 0)
				break;
			i += k;
			continue;
		}
		while (j < n && p[j] != '<' && p[j] != '&')
			j++;
		if (j == n && !final)
			j = lx_whole_chars(p, i, j);
		if (j == i)
			break;
		if (lx_add_clean(&l->text, p + i, j - i, false))
			return (size_t)-1;
		i = j;
	}
	lx_flush_text(l);
	return i;
}

static bool lx_name_start(char ch)
{
	unsigned char c = (unsigned char)ch;

	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       c >= 0x80;
}

/* Start (or end) tag length up to and including '>', 0 when incomplete,
 * (size_t)-1 when it is no tag (too long). */
static size_t lx_tag_len(const char *p, size_t n, bool final, size_t *content)
{
	size_t i = 1, gt_in_quote = 0;
	char q = 0, prev = 0;

	for (; i < n; i++) {
		char c = p[i];

		if (q) {
			if (c == q)
				q = 0;
			else if (c == '>' && !gt_in_quote)
				gt_in_quote = i;
			else if (c == '<' && i + 1 < n && (p[i + 1] == '/' || lx_name_start(p[i + 1])))
				break; /* looks like the next tag: this one is broken */
			continue;
		}
		if ((c == '"' || c == '\'') && prev == '=')
			q = c;
		else if (c == '>' || c == '<')
			break;
		if (!lx_is_space((unsigned char)c))
			prev = c;
	}
	if (i < n && p[i] == '>' && !q) {
		*content = i;
		return i + 1;
	}
	if (i < n) { /* a '<' inside the tag: the tag is broken */
		if (gt_in_quote) {
			*content = gt_in_quote;
			return gt_in_quote + 1;
		}
		*content = i;
		return i;
	}
	if (n > LX_MAX_TAG)
		return (size_t)-1;
	if (!final)
		return 0;
	*content = n;
	return n; /* truncated at the end of the document: dropped */
}


/* Markup at p[0] == '<'.  Returns bytes used, 0 when more is needed. */
static size_t lx_markup(struct lx *l, const char *p, size_t n, bool final)
{
	static const char cdata[] = "<![CDATA[";
	size_t len, content;

	if (n < 2)
		return final ? 1 : 0;
	if (p[1] == '!') {
		size_t m = n < 9 ? n : 9;

		if (!memcmp(p, cdata, m) && m < 9 && !final)
			return 0;
		if (m == 9 && !memcmp(p, cdata, 9)) {
			l->st = LX_CDATA;
			return 9;
		}
		if (n < 4 && !final && !memcmp(p, "<!--", n))
			return 0;
		if (n >= 4 && !memcmp(p, "<!--", 4)) {
			l->st = LX_COMMENT;
			return 4;
		}
		l->st = LX_DOCTYPE;
		l->dt_depth = 0;
		l->dt_quote = 0;
		return 2;
	}
	if (p[1] == '?') {
		l->st = LX_PI;
		return 2;
	}
	if (p[1] == '/' || lx_name_start(p[1])) {
		len = lx_tag_len(p, n, final, &content);
		if (len == 0)
			return 0;
		if (len != (size_t)-1) {
			if (content == n)
				return n; /* truncated at the end: dropped */
			if (p[1] == '/')
				lx_end_tag(l, p + 2, content - 2);
			else
				lx_start_tag(l, p + 1, content - 1);
			return len;
		}
	}
	lx_emit_text(l, "<", 1);
	return 1;
}

/* Skips to the end of a comment or PI.  Returns bytes used. */
static size_t lx_skip_until(struct lx *l, const char *p, size_t n, bool final, const char *end,
			    size_t elen)
{
	const char *e = memmem(p, n, end, elen);

	if (e) {
		l->st = LX_TEXT;
		return (size_t)(e - p) + elen;
	}
	if (final)
		return n;
	return n >= elen ? n - (elen - 1) : 0;
}

static size_t lx_cdata(struct lx *l, const char *p, size_t n, bool final)
{
	const char *e = memmem(p, n, "]]>", 3);
	size_t take = e ? (size_t)(e - p) : final ? n : n >= 3 ? n - 2 : 0;

	if (!e && !final) {
		while (take && ((unsigned char)p[take] & 0xC0) == 0x80)
			take--; /* keep a character whole */
		if (take && p[take - 1] == '\r')
			take--;
	}
	l->text.len = 0;
	if (lx_add_clean(&l->text, p, take, false))
		return (size_t)-1;
	lx_flush_text(l);
	if (e) {
		l->st = LX_TEXT;
		return take + 3;
	}
	return take;
}

static size_t lx_doctype(struct lx *l, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (l->dt_quote) {
			if (c == l->dt_quote)
				l->dt_quote = 0;
		} else if (c == '"' || c == '\'') {
			l->dt_quote = c;
		} else if (c == '[') {
			l->dt_depth++;
		} else if (c == ']') {
			if (l->dt_depth)
				l->dt_depth--;
		} else if (c == '>' && l->dt_depth == 0) {
			l->st = LX_TEXT;
			return i + 1;
		}
	}
	return n;
}

static size_t lx_step(struct lx *l, const char *p, size_t n, bool final)
{
	switch (l->st) {
	case LX_TEXT:
		if (p[0] == '<')
			return lx_markup(l, p, n, final);
		return lx_text(l, p, n, final);
	case LX_COMMENT:
		return lx_skip_until(l, p, n, final, "-->", 3);
	case LX_PI:
		return lx_skip_until(l, p, n, final, "?>", 2);
	case LX_CDATA:
		return lx_cdata(l, p, n, final);
	case LX_DOCTYPE:
		return lx_doctype(l, p, n);
	}
	return n;
}

/* Runs the tokenizer over p[0..n); returns the bytes consumed. */
static size_t lx_run(struct lx *l, const char *p, size_t n, bool final)
{
	size_t i = 0;

	while (i < n && lx_live(l)) {
		size_t k = lx_step(l, p + i, n - i, final);

		if (k == (size_t)-1) {
			l->oom = true;
			break;
		}
		if (k == 0)
			break;
		i += k;
	}
	return i;
}

int lx_feed(struct lx *l, const char *s, size_t n)
{
	size_t used;

	if (!lx_live(l))
		return l->oom ? -1 : 0;
	if (l->in.len == 0) {
		used = lx_run(l, s, n, false);
		if (used < n && lx_add(&l->in, s + used, n - used))
			l->oom = true;
	} else {
		if (lx_add(&l->in, s, n))
			l->oom = true;
		else {
			used = lx_run(l, l->in.p, l->in.len, false);
			memmove(l->in.p, l->in.p + used, l->in.len - used);
			l->in.len -= used;
		}
	}
	return l->oom ? -1 : 0;
}

int lx_finish(struct lx *l)
{
	if (l->in.len && lx_live(l))
		lx_run(l, l->in.p, l->in.len, true);
	l->in.len = 0;
	while (l->depth > 0 && lx_live(l))
		lx_emit_end(l);
	return l->oom ? -1 : 0;
}
