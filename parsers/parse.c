/*
 * parse.c - the feed parser core: SAX events from the xmlreader -> the
 * feed model -> one callback per item.
 *
 * Every element is identified once, by a table lookup on (namespace,
 * local name); what it means then depends on the context it appears in
 * (document, feed, item, author, or skipped).  Text is captured only while
 * an element that carries a field is open, into one reusable buffer, and
 * then moved (swapped, not copied) into the field's slot.  Each field slot
 * remembers the priority of the source that filled it, so that e.g.
 * <description> beats dc:description and itunes:summary whatever their
 * order.  Per-item slots are reused from item to item: the steady state
 * allocates nothing.
 *
 * Dialect semantics follow the most widely used feed parser (feedparser)
 * where the feedd contract is silent.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed.h"
#include "markup.h"
#include "url.h"
#include "xmlreader.h"

/* ---- namespaces ---- */

enum ns_class {
	NSC_EMPTY,	/* no namespace: RSS or Atom by document family */
	NSC_RSS,	/* RSS 2.0 variants (Userland, Harvard) */
	NSC_RSS10,
	NSC_RSS090,
	NSC_ATOM10,
	NSC_ATOM03,
	NSC_RDF,
	NSC_DC,
	NSC_DCTERMS,
	NSC_CONTENT,
	NSC_ITUNES,
	NSC_MEDIA,
	NSC_SY,
	NSC_XHTML,
	NSC_OTHER,
};

static const struct {
	const char *uri;
	unsigned char cls;
} parse_ns_table[] = {
	{"http://www.w3.org/2005/Atom", NSC_ATOM10},
	{"http://purl.org/dc/elements/1.1/", NSC_DC},
	{"http://purl.org/rss/1.0/modules/content/", NSC_CONTENT},
	{"http://www.itunes.com/dtds/podcast-1.0.dtd", NSC_ITUNES},
	{"http://search.yahoo.com/mrss/", NSC_MEDIA},
	{"http://purl.org/rss/1.0/", NSC_RSS10},
	{"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NSC_RDF},
	{"http://purl.org/dc/terms/", NSC_DCTERMS},
	{"http://www.w3.org/1999/xhtml", NSC_XHTML},
	{"http://purl.org/atom/ns#", NSC_ATOM03},
	{"http://my.netscape.com/rdf/simple/0.9/", NSC_RSS090},
	{"http://purl.org/rss/1.0/modules/syndication/", NSC_SY},
	{"http://search.yahoo.com/mrss", NSC_MEDIA},
	{"http://backend.userland.com/rss2", NSC_RSS},
	{"http://backend.userland.com/rss", NSC_RSS},
	{"http://blogs.law.harvard.edu/tech/rss", NSC_RSS},
	{"http://purl.org/dc/elements/1.0/", NSC_DC},
	{"http://purl.org/rss/1.0", NSC_RSS10},
	{"http://my.netscape.com/rdf/simple/0.9", NSC_RSS090},
	{"http://purl.org/rss/1.0/modules/content", NSC_CONTENT},
	{"http://www.w3.org/2005/Atom/", NSC_ATOM10},
	/* pre-0.3 drafts of Atom ("Echo", "Pie", "Necho"), still met in archives */
	{"http://purl.org/echo/", NSC_ATOM03},
	{"http://purl.org/pie/", NSC_ATOM03},
	{"http://example.com/necho", NSC_ATOM03},
	{"http://example.com/newformat#", NSC_ATOM03},
	{"uri/of/echo/namespace#", NSC_ATOM03},
};

/* Element tables are keyed by these, after folding the RSS variants. */
enum ns_table {
	T_NONE,
	T_RSS,
	T_ATOM,
	T_RDF,
	T_DC,
	T_DCTERMS,
	T_CONTENT,
	T_ITUNES,
	T_MEDIA,
	T_SY,
	T_XHTML,
};

/* ---- elements ---- */

enum el {
	E_UNKNOWN,
	/* structure */
	E_RSS, E_RDF, E_FEED, E_CHANNEL, E_ITEM, E_ENTRY, E_SKIP, E_TRANSPARENT,
	/* RSS */
	E_TITLE, E_LINK, E_DESCRIPTION, E_GUID, E_PUBDATE, E_LASTBUILDDATE, E_AUTHOR,
	E_MANAGINGEDITOR, E_CATEGORY, E_ENCLOSURE, E_LANGUAGE, E_TTL,
	/* Atom */
	EA_TITLE, EA_LINK, EA_ID, EA_UPDATED, EA_PUBLISHED, EA_SUMMARY, EA_CONTENT, EA_AUTHOR,
	EA_NAME, EA_EMAIL, EA_SUBTITLE, EA_MODIFIED, EA_ISSUED, EA_CREATED, EA_CATEGORY,
	/* modules */
	E_DC_TITLE, E_DC_CREATOR, E_DC_DATE, E_DC_SUBJECT, E_DC_DESCRIPTION, E_DC_LANGUAGE,
	E_DCT_MODIFIED, E_DCT_ISSUED, E_DCT_CREATED, E_CONTENT_ENCODED, E_IT_AUTHOR, E_IT_SUMMARY,
	E_IT_SUBTITLE, E_IT_CATEGORY, E_IT_KEYWORDS, E_MEDIA_CONTENT, E_MEDIA_THUMBNAIL,
	E_MEDIA_TITLE, E_MEDIA_DESCRIPTION,
	E_SY_PERIOD, E_SY_FREQUENCY, E_XHTML_BODY, E_FULLITEM,
};

struct parse_el {
	unsigned char table;
	const char *name; /* compared case-insensitively, like feedparser */
	unsigned char el;
};

/* Sorted by (table, strcasecmp(name)); parse_new checks it in debug builds. */
static const struct parse_el parse_el_table[] = {
	{T_RSS, "author", E_AUTHOR},
	{T_RSS, "body", E_XHTML_BODY},
	{T_RSS, "category", E_CATEGORY},
	{T_RSS, "channel", E_CHANNEL},
	{T_RSS, "description", E_DESCRIPTION},
	{T_RSS, "enclosure", E_ENCLOSURE},
	{T_RSS, "fullitem", E_FULLITEM},
	{T_RSS, "guid", E_GUID},
	{T_RSS, "image", E_SKIP},
	{T_RSS, "item", E_ITEM},
	{T_RSS, "items", E_SKIP},
	{T_RSS, "language", E_LANGUAGE},
	{T_RSS, "lastBuildDate", E_LASTBUILDDATE},
	{T_RSS, "link", E_LINK},
	{T_RSS, "managingEditor", E_MANAGINGEDITOR},
	{T_RSS, "pubDate", E_PUBDATE},
	{T_RSS, "rss", E_RSS},
	{T_RSS, "source", E_SKIP},
	{T_RSS, "textInput", E_SKIP},
	{T_RSS, "title", E_TITLE},
	{T_RSS, "ttl", E_TTL},
	{T_ATOM, "author", EA_AUTHOR},
	{T_ATOM, "category", EA_CATEGORY},
	{T_ATOM, "content", EA_CONTENT},
	{T_ATOM, "contributor", E_SKIP},
	{T_ATOM, "created", EA_CREATED},
	{T_ATOM, "email", EA_EMAIL},
	{T_ATOM, "entry", E_ENTRY},
	{T_ATOM, "feed", E_FEED},
	{T_ATOM, "id", EA_ID},
	{T_ATOM, "issued", EA_ISSUED},
	{T_ATOM, "link", EA_LINK},
	{T_ATOM, "modified", EA_MODIFIED},
	{T_ATOM, "name", EA_NAME},
	{T_ATOM, "published", EA_PUBLISHED},
	{T_ATOM, "source", E_SKIP},
	{T_ATOM, "subtitle", EA_SUBTITLE},
	{T_ATOM, "summary", EA_SUMMARY},
	{T_ATOM, "tagline", EA_SUBTITLE},
	{T_ATOM, "title", EA_TITLE},
	{T_ATOM, "updated", EA_UPDATED},
	{T_RDF, "RDF", E_RDF},
	{T_DC, "author", E_DC_CREATOR},
	{T_DC, "creator", E_DC_CREATOR},
	{T_DC, "date", E_DC_DATE},
	{T_DC, "description", E_DC_DESCRIPTION},
	{T_DC, "language", E_DC_LANGUAGE},
	{T_DC, "subject", E_DC_SUBJECT},
	{T_DC, "title", E_DC_TITLE},
	{T_DCTERMS, "created", E_DCT_CREATED},
	{T_DCTERMS, "issued", E_DCT_ISSUED},
	{T_DCTERMS, "modified", E_DCT_MODIFIED},
	{T_CONTENT, "encoded", E_CONTENT_ENCODED},
	{T_ITUNES, "author", E_IT_AUTHOR},
	{T_ITUNES, "category", E_IT_CATEGORY},
	{T_ITUNES, "keywords", E_IT_KEYWORDS},
	{T_ITUNES, "subtitle", E_IT_SUBTITLE},
	{T_ITUNES, "summary", E_IT_SUMMARY},
	{T_MEDIA, "category", E_CATEGORY},
	{T_MEDIA, "content", E_MEDIA_CONTENT},
	{T_MEDIA, "description", E_MEDIA_DESCRIPTION},
	{T_MEDIA, "group", E_TRANSPARENT},
	{T_MEDIA, "keywords", E_IT_KEYWORDS},
	{T_MEDIA, "thumbnail", E_MEDIA_THUMBNAIL},
	{T_MEDIA, "title", E_MEDIA_TITLE},
	{T_SY, "updateFrequency", E_SY_FREQUENCY},
	{T_SY, "updatePeriod", E_SY_PERIOD},
	{T_XHTML, "body", E_XHTML_BODY},
};

#define N_ELS (sizeof parse_el_table / sizeof parse_el_table[0])

/* ---- fields ---- */

/* Text fields shared by items and the feed (F_SUMMARY is the feed's subtitle). */
enum field { F_ID, F_TITLE, F_LINK, F_AUTHOR, F_SUMMARY, F_CONTENT, F_LANGUAGE, F_COUNT };
enum { D_PUB, D_UPD };

struct slot {
	struct buf b;
	unsigned char prio; /* 0: unset */
};

struct fields {
	struct slot s[F_COUNT];
	int64_t date[2];
	unsigned char dprio[2];
};

/* What to do with an element's text at its end. */
enum kind {
	K_TEXT,		/* plain text into a field */
	K_TC,		/* text construct: child elements serialized as markup */
	K_URL,		/* link, resolved against xml:base */
	K_DATE,
	K_AUTHOR,	/* "email (Name)" and other one-string forms */
	K_NAME,		/* atom person name / email */
	K_EMAIL,
	K_CATEGORY,
	K_KEYWORDS,
	K_GUID,
	K_TTL,
	K_SY_PERIOD,
	K_SY_FREQUENCY,
};

/* Text construct modes. */
enum tc { TC_TEXT, TC_HTML, TC_XHTML, TC_XML };

enum ctx {
	CTX_DOC,	/* before the root, or inside an RSS root */
	CTX_FEED,
	CTX_ITEM,
	CTX_PERSON,	/* atom:author of the feed or of the item */
	CTX_SKIP,
};

/* frame flags */
enum {
	FR_CAPTURE = 1,	  /* this element started the capture */
	FR_SERIAL = 2,	  /* serialized into the captured markup: emit an end tag */
	FR_SUPPRESS = 4,  /* a non-markup child of a capture: its text is dropped */
	FR_BASE_OWNED = 8,
	FR_VOID = 16,	  /* serialized as <br /> */
};

struct frame {
	const char *base; /* xml:base in effect (owned when FR_BASE_OWNED) */
	unsigned char ctx; /* context for the children */
	unsigned char el;
	unsigned char flags;
	unsigned char person_of; /* CTX_FEED / CTX_ITEM for a CTX_PERSON frame */
};

struct enclosure_slot {
	struct buf url, type;
	int64_t length;
};

struct enclosure_list {
	struct enclosure_slot *v;
	size_t n, cap;
};

struct parse {
	struct parse_opts o;
	parse_item_fn on_item;
	void *ud;
	struct xr *xr;

	enum feed_format format;
	bool atom_family;
	bool rdf;		/* the root is rdf:RDF */
	bool root_seen, recognized, stopped, oom;
	char root_name[64];
	char *errmsg;
	char limit_msg[64];

	struct frame *fr;
	size_t nfr, capfr;

	/* The one active text capture. */
	struct {
		bool on;
		size_t at;		/* frame index of the capturing element */
		unsigned char kind, field, prio, target, tc, date;
		bool base64, truncated;
		size_t suppress;	/* open FR_SUPPRESS children */
		/* For stripping the wrapper div of Atom 1.0 xhtml content: */
		size_t top_children;	/* element children of the capturing element */
		bool top_text;		/* non-blank text directly in it */
		bool top_div;		/* its first element child is a div */
		size_t div_open_end, div_close_start; /* offsets in text */
	} cap;
	struct buf text;

	struct fields feed, item;
	bool in_item;
	bool guid_permalink;
	struct buf guid;
	struct buf pname, pemail;
	struct buf *cats;
	size_t ncats, capcats;
	struct enclosure_list encl, media;

	size_t nitems;
	/* delivery scratch; the item being delivered and its string lengths */
	const struct feed_item *cur;
	size_t cur_len[JSON_ITEM_NSTR];
	char **catv;
	size_t catv_cap;
	struct feed_enclosure *enclv;
	size_t enclv_cap;
	struct buf tmp;

	/* element lookup cache: (table, name) -> element, verified by strcmp */
	struct {
		const char *name;
		unsigned char table, el;
	} lcache[256];
	char ns_last[96];	/* the last namespace classified, and its class */
	unsigned char ns_last_cls;

	/* feed meta, valid after parse_finish */
	struct feed_meta meta;
	int64_t sy_period, sy_freq;
};

/* ---- small helpers ---- */

static int parse_el_cmp(const void *k, const void *e)
{
	const struct parse_el *a = k, *b = e;
	if (a->table != b->table)
		return (int)a->table - (int)b->table;
	return strcasecmp(a->name, b->name);
}

static unsigned char parse_ns_classify(const char *ns)
{
	if (!*ns)
		return NSC_EMPTY;
	for (size_t i = 0; i < sizeof parse_ns_table / sizeof parse_ns_table[0]; i++)
		if (!strcasecmp(ns, parse_ns_table[i].uri))
			return parse_ns_table[i].cls;
	/* Userland minted one per version (rss, rss2, rss2.1, ...): any of them is RSS. */
	if (!strncasecmp(ns, "http://backend.userland.com/rss", 31))
		return NSC_RSS;
	return NSC_OTHER;
}

static unsigned char parse_ns_to_table(const struct parse *p, unsigned char cls)
{
	switch (cls) {
	case NSC_EMPTY:
		return p->atom_family ? T_ATOM : T_RSS;
	case NSC_RSS:
	case NSC_RSS10:
	case NSC_RSS090:
		return T_RSS;
	case NSC_ATOM10:
	case NSC_ATOM03:
		return T_ATOM;
	case NSC_RDF:
		return T_RDF;
	case NSC_DC:
		return T_DC;
	case NSC_DCTERMS:
		return T_DCTERMS;
	case NSC_CONTENT:
		return T_CONTENT;
	case NSC_ITUNES:
		return T_ITUNES;
	case NSC_MEDIA:
		return T_MEDIA;
	case NSC_SY:
		return T_SY;
	case NSC_XHTML:
		return T_XHTML;
	}
	return T_NONE;
}

static unsigned char parse_lookup(struct parse *p, unsigned char table, const char *local)
{
	if (table == T_NONE)
		return E_UNKNOWN;
	size_t n = strlen(local);
	unsigned h = (table * 31u + (unsigned char)local[0] * 7u + (unsigned)n * 13u +
		      (n ? (unsigned char)local[n - 1] : 0u)) & 255u;
	if (p->lcache[h].name && p->lcache[h].table == table && !strcmp(p->lcache[h].name, local))
		return p->lcache[h].el;
	struct parse_el key = {table, local, 0};
	const struct parse_el *e = bsearch(&key, parse_el_table, N_ELS, sizeof key, parse_el_cmp);
	if (!e)
		return E_UNKNOWN;
	if (!strcmp(e->name, local)) { /* cache exact spellings only */
		p->lcache[h].name = e->name;
		p->lcache[h].table = table;
		p->lcache[h].el = e->el;
	}
	return e->el;
}

/* parse_ns_classify with a one-entry cache: documents repeat namespaces. */
static unsigned char parse_ns_cached(struct parse *p, const char *ns)
{
	if (!*ns)
		return NSC_EMPTY;
	if (p->ns_last[0] && !strcmp(p->ns_last, ns))
		return p->ns_last_cls;
	unsigned char c = parse_ns_classify(ns);
	size_t n = strlen(ns);
	if (n < sizeof p->ns_last) {
		memcpy(p->ns_last, ns, n + 1);
		p->ns_last_cls = c;
	}
	return c;
}

static const char *parse_attr(const struct xr_attr *a, size_t n, const char *local)
{
	for (size_t i = 0; i < n; i++)
		if (!a[i].ns[0] && !strcasecmp(a[i].local, local))
			return a[i].value;
	return NULL;
}

static void parse_buf(struct parse *p, struct buf *b, const char *s, size_t n)
{
	if (buf_append(b, s, n))
		p->oom = true;
}

/* Length of s cut to at most max bytes, on a UTF-8 character boundary. */
static size_t parse_utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Sets b to s (n bytes), capped at the field limit. */
static void parse_set(struct parse *p, struct buf *b, const char *s, size_t n)
{
	b->len = 0;
	parse_buf(p, b, s, parse_utf8_cut(s, n, p->o.limits.max_field));
	if (!b->data)
		parse_buf(p, b, "", 0);
}

static bool parse_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void parse_trim(struct buf *b)
{
	size_t s = 0, e = b->len;
	while (s < e && parse_is_ws(b->data[s]))
		s++;
	while (e > s && parse_is_ws(b->data[e - 1]))
		e--;
	if (s)
		memmove(b->data, b->data + s, e - s);
	b->len = e - s;
	if (b->data)
		b->data[b->len] = 0;
}

static struct fields *parse_target(struct parse *p, unsigned char ctx)
{
	return ctx == CTX_ITEM ? &p->item : &p->feed;
}

/* Moves b into the slot when prio beats what the slot holds. */
static void parse_slot_take(struct slot *s, struct buf *b, unsigned char prio)
{
	if (prio <= s->prio || !b->len)
		return;
	struct buf t = s->b;
	s->b = *b;
	*b = t;
	b->len = 0;
	s->prio = prio;
}

static void parse_fields_reset(struct fields *f)
{
	for (int i = 0; i < F_COUNT; i++) {
		f->s[i].prio = 0;
		f->s[i].b.len = 0;
	}
	f->date[D_PUB] = f->date[D_UPD] = FEED_NO_DATE;
	f->dprio[D_PUB] = f->dprio[D_UPD] = 0;
}

static void parse_fields_free(struct fields *f)
{
	for (int i = 0; i < F_COUNT; i++)
		buf_free(&f->s[i].b);
}

static const char *parse_slot_str(const struct slot *s)
{
	return s->prio && s->b.len ? s->b.data : NULL;
}

/* ---- authors ---- */

static bool parse_email_char(char c, bool domain)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' ||
	       (!domain && (c == '_' || c == '+'));
}

/*
 * Turns a one-string author ("jdoe@example.com (John Doe)", "John Doe
 * <jdoe@example.com>", "John Doe", "mailto:jdoe@example.com") into
 * "Name (email)" / "Name" / "email" in out.
 */
static void parse_author_string(struct parse *p, const char *s, size_t n, struct buf *out)
{
	const char *at = memchr(s, '@', n);
	size_t es = 0, ee = 0;
	if (at) {
		es = ee = (size_t)(at - s);
		while (es > 0 && parse_email_char(s[es - 1], false))
			es--;
		ee++;
		while (ee < n && parse_email_char(s[ee], true))
			ee++;
		while (ee > es && s[ee - 1] == '.')
			ee--;
		if (es == (size_t)(at - s) || !memchr(at, '.', ee - (size_t)(at - s)))
			es = ee = 0; /* not an address */
	}
	/* name: everything but the address, without brackets and mailto: */
	struct buf *nm = &p->tmp;
	nm->len = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == es && ee > es) {
			i = ee - 1;
			continue;
		}
		char c = s[i];
		if (c == '(' || c == ')' || c == '<' || c == '>')
			c = ' ';
		parse_buf(p, nm, &c, 1);
	}
	if (nm->len >= 7 && ee > es) {
		/* drop a "mailto:" that preceded the address */
		char *m = nm->data ? strstr(nm->data, "mailto:") : NULL;
		if (m)
			memset(m, ' ', 7);
	}
	parse_buf(p, nm, "", 0);
	parse_trim(nm);
	out->len = 0;
	if (nm->len)
		parse_buf(p, out, nm->data, nm->len);
	if (ee > es) {
		if (out->len) {
			parse_buf(p, out, " (", 2);
			parse_buf(p, out, s + es, ee - es);
			parse_buf(p, out, ")", 1);
		} else {
			parse_buf(p, out, s + es, ee - es);
		}
	}
	parse_buf(p, out, "", 0);
}

/* ---- categories and enclosures ---- */

static void parse_add_category(struct parse *p, const char *s, size_t n)
{
	while (n && parse_is_ws(*s))
		s++, n--;
	while (n && parse_is_ws(s[n - 1]))
		n--;
	if (!n || !p->in_item)
		return;
	n = parse_utf8_cut(s, n, p->o.limits.max_field);
	for (size_t i = 0; i < p->ncats; i++)
		if (p->cats[i].len == n && !memcmp(p->cats[i].data, s, n))
			return;
	if (p->ncats >= p->o.limits.max_categories)
		return;
	if (p->ncats == p->capcats) {
		size_t c = p->capcats ? p->capcats * 2 : 8;
		struct buf *v = realloc(p->cats, c * sizeof *v);
		if (!v) {
			p->oom = true;
			return;
		}
		memset(v + p->capcats, 0, (c - p->capcats) * sizeof *v);
		p->cats = v;
		p->capcats = c;
	}
	parse_set(p, &p->cats[p->ncats++], s, n);
}

static int64_t parse_length(const char *s)
{
	if (!s)
		return -1;
	while (parse_is_ws(*s))
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	int64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	while (parse_is_ws(*s))
		s++;
	return *s ? -1 : v;
}

static void parse_add_enclosure(struct parse *p, struct enclosure_list *l, const char *url,
				const char *type, const char *length)
{
	if (!p->in_item || !url)
		return;
	size_t n = strlen(url);
	while (n && parse_is_ws(*url))
		url++, n--;
	while (n && parse_is_ws(url[n - 1]))
		n--;
	if (!n || l->n >= p->o.limits.max_enclosures)
		return;
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 4;
		struct enclosure_slot *v = realloc(l->v, c * sizeof *v);
		if (!v) {
			p->oom = true;
			return;
		}
		memset(v + l->cap, 0, (c - l->cap) * sizeof *v);
		l->v = v;
		l->cap = c;
	}
	struct enclosure_slot *e = &l->v[l->n++];
	char *abs = url_resolve(p->fr[p->nfr - 1].base, url, n);
	if (!abs) {
		p->oom = true;
		l->n--;
		return;
	}
	parse_set(p, &e->url, abs, strlen(abs));
	free(abs);
	e->type.len = 0;
	if (type && *type)
		parse_set(p, &e->type, type, strlen(type));
	e->length = parse_length(length);
}

/* ---- capture ---- */

static void parse_capture(struct parse *p, unsigned char kind, unsigned char target,
			  unsigned char field, unsigned char prio)
{
	p->cap.on = true;
	p->cap.at = p->nfr - 1;
	p->cap.kind = kind;
	p->cap.target = target;
	p->cap.field = field;
	p->cap.prio = prio;
	p->cap.tc = TC_TEXT;
	p->cap.base64 = false;
	p->cap.top_children = 0;
	p->cap.top_text = false;
	p->cap.top_div = false;
	p->cap.div_open_end = p->cap.div_close_start = 0;
	p->cap.truncated = false;
	p->cap.suppress = 0;
	p->text.len = 0;
	p->fr[p->nfr - 1].flags |= FR_CAPTURE;
}

static void parse_capture_text(struct parse *p, unsigned char target, unsigned char field,
			       unsigned char prio)
{
	parse_capture(p, K_TEXT, target, field, prio);
}

static void parse_capture_date(struct parse *p, unsigned char target, unsigned char which,
			       unsigned char prio)
{
	parse_capture(p, K_DATE, target, 0, prio);
	p->cap.date = which;
}

/* Appends captured text, capped at max_field on a UTF-8 boundary. */
static void parse_cap_append(struct parse *p, const char *s, size_t n)
{
	size_t room = p->o.limits.max_field - p->text.len;
	if (p->text.len >= p->o.limits.max_field)
		room = 0;
	if (n > room) {
		n = parse_utf8_cut(s, n, room);
		p->cap.truncated = true;
	}
	if (n)
		parse_buf(p, &p->text, s, n);
}

/* Appends s with &, <, > (and " when attr) escaped. */
static void parse_cap_escaped(struct parse *p, const char *s, size_t n, bool attr)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e;
		switch (s[i]) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			if (!attr)
				continue;
			e = "&quot;";
			break;
		default:
			continue;
		}
		parse_cap_append(p, s + run, i - run);
		parse_cap_append(p, e, strlen(e));
		run = i + 1;
	}
	parse_cap_append(p, s + run, n - run);
}

static bool parse_void_element(const char *local)
{
	static const char *const v[] = {"area", "base", "br", "col", "embed", "hr", "img",
					"input", "link", "meta", "param", "source", "track", "wbr"};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (!strcasecmp(local, v[i]))
			return true;
	return false;
}

/* A child element inside a text construct: serialize it as markup. */
static void parse_serialize_start(struct parse *p, struct frame *f, const char *ns,
				  const char *local, const struct xr_attr *a, size_t na)
{
	bool xhtml_ns = !*ns || !strcmp(ns, "http://www.w3.org/1999/xhtml");
	bool div = xhtml_ns && !strcasecmp(local, "div");
	bool top = p->nfr - 1 == p->cap.at + 1;
	if (p->cap.tc <= TC_HTML) {
		/* markup inside escaped html / text: a div is dropped (as
		 * feedparser does), anything else turns it into xhtml */
		if (div)
			return;
		p->cap.tc = TC_XHTML;
	}
	if (top && p->cap.top_children++ == 0)
		p->cap.top_div = div;
	f->flags |= FR_SERIAL;
	parse_cap_append(p, "<", 1);
	parse_cap_append(p, local, strlen(local));
	if (!strcmp(ns, "http://www.w3.org/1998/Math/MathML") && !strcmp(local, "math"))
		parse_cap_append(p, " xmlns=\"http://www.w3.org/1998/Math/MathML\"", 43);
	else if (!strcmp(ns, "http://www.w3.org/2000/svg") && !strcmp(local, "svg"))
		parse_cap_append(p, " xmlns=\"http://www.w3.org/2000/svg\"", 35);
	for (size_t i = 0; i < na; i++) {
		parse_cap_append(p, " ", 1);
		if (!strcmp(a[i].ns, XR_NS_XML))
			parse_cap_append(p, "xml:", 4);
		parse_cap_append(p, a[i].local, strlen(a[i].local));
		parse_cap_append(p, "=\"", 2);
		parse_cap_escaped(p, a[i].value, strlen(a[i].value), true);
		parse_cap_append(p, "\"", 1);
	}
	if (parse_void_element(local)) {
		f->flags |= FR_VOID;
		parse_cap_append(p, " />", 3);
	} else {
		parse_cap_append(p, ">", 1);
	}
	if (top && p->cap.top_children == 1)
		p->cap.div_open_end = p->text.len;
}

static void parse_serialize_end(struct parse *p, const struct frame *f, const char *local)
{
	if ((f->flags & FR_VOID) || !*local)
		return;
	if (p->nfr - 1 == p->cap.at + 1 && p->cap.top_children == 1)
		p->cap.div_close_start = p->text.len;
	parse_cap_append(p, "</", 2);
	parse_cap_append(p, local, strlen(local));
	parse_cap_append(p, ">", 1);
}

/* Text construct mode from Atom type= / mode= (or RSS: always html). */
static void parse_tc_mode(struct parse *p, const struct xr_attr *a, size_t na, bool atom)
{
	const char *type = parse_attr(a, na, "type");
	const char *mode = parse_attr(a, na, "mode");
	p->cap.kind = K_TC;
	if (!atom) {
		p->cap.tc = TC_HTML;
		return;
	}
	p->cap.tc = TC_TEXT;
	if (type) {
		size_t tl = strlen(type);
		if (!strcasecmp(type, "xhtml") || !strcasecmp(type, "application/xhtml+xml"))
			p->cap.tc = TC_XHTML;
		else if (!strcasecmp(type, "html") || !strcasecmp(type, "text/html"))
			p->cap.tc = TC_HTML;
		else if (!strcasecmp(type, "text") || !strncasecmp(type, "text/", 5))
			p->cap.tc = TC_TEXT;
		else if ((tl > 4 && !strcasecmp(type + tl - 4, "+xml")) ||
			 (tl > 4 && !strcasecmp(type + tl - 4, "/xml")))
			p->cap.tc = TC_XML;
		else if (p->format == FEED_FORMAT_ATOM10 && !mode)
			p->cap.base64 = true;
	}
	if (mode && !strcasecmp(mode, "base64"))
		p->cap.base64 = true;
	else if (mode && !strcasecmp(mode, "escaped") && p->cap.tc == TC_XHTML)
		p->cap.tc = TC_HTML;
}

static int parse_b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes p->text in place when it is valid base64 of valid UTF-8. */
static void parse_b64_decode(struct parse *p)
{
	struct buf *t = &p->text;
	if (!t->len)
		return;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	char *d = calloc(t->len + 1, 1);
	if (!d)
		return;
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->data[i];
		if (parse_is_ws((char)c))
			continue;
		if (c == '=')
			break;
		int v = parse_b64_val(c);
		if (v < 0) {
			free(d);
			return;
		}
		acc = ((acc << 6) | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* only keep the decoded form when it is text */
	struct buf chk = {0};
	if (json_str(&chk, d, o) == 0 && !memchr(d, 0, o) &&
	    !memmem(chk.data, chk.len, "\xef\xbf\xbd", 3)) {
		memcpy(t->data, d, o);
		t->len = o;
		t->data[o] = 0;
	}
	buf_free(&chk);
	free(d);
}

/* Atom 1.0 xhtml: the one div that wraps the content is not part of it. */
static void parse_strip_div(struct parse *p)
{
	if (p->cap.top_children != 1 || !p->cap.top_div || p->cap.top_text ||
	    p->cap.truncated || p->cap.div_close_start < p->cap.div_open_end)
		return;
	size_t n = p->cap.div_close_start - p->cap.div_open_end;
	memmove(p->text.data, p->text.data + p->cap.div_open_end, n);
	p->text.len = n;
}

static void parse_set_date(struct parse *p, struct fields *f)
{
	int64_t t;
	unsigned char w = p->cap.date;
	if (p->cap.prio <= f->dprio[w] || !p->text.len)
		return;
	if (!date_parse(p->text.data, &t))
		return;
	f->date[w] = t;
	f->dprio[w] = p->cap.prio;
}

static int64_t parse_int(const char *s)
{
	return parse_length(s);
}

static void parse_set_url(struct parse *p, struct fields *f, const char *base)
{
	struct slot *s = &f->s[F_LINK];
	if (p->cap.prio <= s->prio || !p->text.len)
		return;
	char *abs = url_resolve(base, p->text.data, p->text.len);
	if (!abs) {
		p->oom = true;
		return;
	}
	parse_set(p, &s->b, abs, strlen(abs));
	s->prio = p->cap.prio;
	free(abs);
}

/* Replaces p->text by p->tmp when a fix-up returned 1. */
static void parse_take_tmp(struct parse *p, int r)
{
	if (r < 0) {
		p->oom = true;
	} else if (r > 0) {
		struct buf t = p->text;
		p->text = p->tmp;
		p->tmp = t;
		parse_buf(p, &p->text, "", 0);
	}
}

/* feedparser's fix-ups: windows-1252 C1 characters, relative URLs in markup. */
static void parse_fixups(struct parse *p, const char *base)
{
	if (p->text.len && memchr(p->text.data, 0xc2, p->text.len))
		parse_take_tmp(p, markup_cp1252(p->text.data, p->text.len, &p->tmp));
	if (base && p->cap.kind == K_TC && p->cap.tc != TC_TEXT && p->text.len &&
	    memchr(p->text.data, '<', p->text.len))
		parse_take_tmp(p, markup_resolve_urls(p->text.data, p->text.len, base, &p->tmp));
}

static void parse_capture_end(struct parse *p)
{
	struct fields *f = parse_target(p, p->cap.target);
	struct frame *fr = &p->fr[p->cap.at];
	p->cap.on = false;
	if (p->cap.base64)
		parse_b64_decode(p);
	else if (p->cap.tc == TC_XHTML && p->format == FEED_FORMAT_ATOM10)
		parse_strip_div(p);
	parse_buf(p, &p->text, "", 0);
	parse_fixups(p, fr->base);
	parse_trim(&p->text);
	switch (p->cap.kind) {
	case K_TEXT:
	case K_TC:
		parse_slot_take(&f->s[p->cap.field], &p->text, p->cap.prio);
		break;
	case K_URL:
		parse_set_url(p, f, fr->base);
		break;
	case K_DATE:
		parse_set_date(p, f);
		break;
	case K_AUTHOR:
		if (p->text.len && p->cap.prio > f->s[F_AUTHOR].prio) {
			struct buf *out = &f->s[F_AUTHOR].b;
			parse_author_string(p, p->text.data, p->text.len, out);
			if (out->len)
				f->s[F_AUTHOR].prio = p->cap.prio;
		}
		break;
	case K_NAME:
		parse_set(p, &p->pname, p->text.data ? p->text.data : "", p->text.len);
		break;
	case K_EMAIL:
		parse_set(p, &p->pemail, p->text.data ? p->text.data : "", p->text.len);
		break;
	case K_CATEGORY:
		parse_add_category(p, p->text.data, p->text.len);
		break;
	case K_KEYWORDS: {
		const char *s = p->text.data, *e = s + p->text.len;
		while (s && s < e) {
			const char *c = memchr(s, ',', (size_t)(e - s));
			if (!c)
				c = e;
			parse_add_category(p, s, (size_t)(c - s));
			s = c + 1;
		}
		break;
	}
	case K_GUID:
		if (p->cap.target == CTX_ITEM && p->text.len)
			parse_set(p, &p->guid, p->text.data, p->text.len);
		parse_slot_take(&f->s[F_ID], &p->text, p->cap.prio);
		break;
	case K_TTL:
		if (p->text.len)
			p->meta.ttl_minutes = parse_int(p->text.data);
		break;
	case K_SY_PERIOD: {
		static const struct {
			const char *n;
			int64_t s;
		} per[] = {{"hourly", 3600},	 {"daily", 86400},	{"weekly", 604800},
			   {"monthly", 2592000}, {"yearly", 31536000}};
		for (size_t i = 0; i < sizeof per / sizeof per[0]; i++)
			if (p->text.len && !strcasecmp(p->text.data, per[i].n))
				p->sy_period = per[i].s;
		break;
	}
	case K_SY_FREQUENCY:
		if (p->text.len) {
			int64_t v = parse_int(p->text.data);
			if (v > 0)
				p->sy_freq = v;
		}
		break;
	}
	p->text.len = 0;
}

/* ---- items ---- */

static void parse_item_begin(struct parse *p)
{
	parse_fields_reset(&p->item);
	p->in_item = true;
	p->guid_permalink = true;
	p->guid.len = 0;
	p->ncats = 0;
	p->encl.n = 0;
	p->media.n = 0;
}

static bool parse_url_like(const char *s, size_t n)
{
	return (n > 7 && !strncasecmp(s, "http://", 7)) || (n > 8 && !strncasecmp(s, "https://", 8));
}

static int parse_grow(void **v, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 8;
	while (c < need)
		c *= 2;
	void *n = realloc(*v, c * sz);
	if (!n)
		return -1;
	*v = n;
	*cap = c;
	return 0;
}

static void parse_item_end(struct parse *p, const char *base)
{
	struct fields *f = &p->item;
	p->in_item = false;
	if (p->stopped)
		return;
	if (!f->s[F_LINK].prio && p->guid.len && p->guid_permalink &&
	    parse_url_like(p->guid.data, p->guid.len)) {
		char *abs = url_resolve(base, p->guid.data, p->guid.len);
		if (abs) {
			parse_set(p, &f->s[F_LINK].b, abs, strlen(abs));
			f->s[F_LINK].prio = 1;
			free(abs);
		}
	}
	struct enclosure_list *el = p->encl.n ? &p->encl : &p->media;
	if (parse_grow((void **)&p->catv, &p->catv_cap, p->ncats + 1, sizeof *p->catv) ||
	    parse_grow((void **)&p->enclv, &p->enclv_cap, el->n + 1, sizeof *p->enclv)) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < p->ncats; i++)
		p->catv[i] = p->cats[i].data;
	for (size_t i = 0; i < el->n; i++) {
		p->enclv[i].url = el->v[i].url.data;
		p->enclv[i].type = el->v[i].type.len ? el->v[i].type.data : NULL;
		p->enclv[i].length = el->v[i].length;
	}
	struct feed_item it = {
		.id = (char *)parse_slot_str(&f->s[F_ID]),
		.title = (char *)parse_slot_str(&f->s[F_TITLE]),
		.link = (char *)parse_slot_str(&f->s[F_LINK]),
		.author = (char *)parse_slot_str(&f->s[F_AUTHOR]),
		.published = f->date[D_PUB],
		.updated = f->date[D_UPD],
		.summary = (char *)parse_slot_str(&f->s[F_SUMMARY]),
		.content = (char *)parse_slot_str(&f->s[F_CONTENT]),
		.categories = p->catv,
		.ncategories = p->ncats,
		.enclosures = p->enclv,
		.nenclosures = el->n,
	};
	static const unsigned char order[JSON_ITEM_NSTR] = {F_ID,      F_TITLE,   F_LINK,
							    F_AUTHOR,  F_SUMMARY, F_CONTENT};
	for (int i = 0; i < JSON_ITEM_NSTR; i++)
		p->cur_len[i] = parse_slot_str(&f->s[order[i]]) ? f->s[order[i]].b.len : 0;
	p->nitems++;
	p->cur = &it;
	int stop = p->on_item && p->on_item(p->ud, &it);
	p->cur = NULL;
	if (stop) {
		p->stopped = true;
		xr_stop(p->xr);
	}
}

/* ---- atom links and persons ---- */

static bool parse_html_type(const char *t)
{
	return !t || !*t || !strcasecmp(t, "text/html") || !strcasecmp(t, "application/xhtml+xml");
}

static void parse_atom_link(struct parse *p, unsigned char ctx, const struct xr_attr *a, size_t na)
{
	const char *rel = parse_attr(a, na, "rel");
	const char *href = parse_attr(a, na, "href");
	const char *type = parse_attr(a, na, "type");
	if (!href)
		href = parse_attr(a, na, "url");
	bool alternate = !rel || !*rel || !strcasecmp(rel, "alternate") ||
			 !strcasecmp(rel, "http://www.iana.org/assignments/relation/alternate");
	unsigned char prio = parse_html_type(type) ? 2 : 1;
	if (!href) {
		/* <link rel="alternate">http://...</link>: the URL as text */
		if (alternate)
			parse_capture(p, K_URL, ctx, F_LINK, prio);
		return;
	}
	if (alternate) {
		struct fields *f = parse_target(p, ctx);
		if (prio <= f->s[F_LINK].prio)
			return;
		size_t n = strlen(href);
		while (n && parse_is_ws(*href))
			href++, n--;
		while (n && parse_is_ws(href[n - 1]))
			n--;
		if (!n)
			return;
		char *abs = url_resolve(p->fr[p->nfr - 1].base, href, n);
		if (!abs) {
			p->oom = true;
			return;
		}
		parse_set(p, &f->s[F_LINK].b, abs, strlen(abs));
		f->s[F_LINK].prio = prio;
		free(abs);
	} else if (!strcasecmp(rel, "enclosure") && ctx == CTX_ITEM) {
		parse_add_enclosure(p, &p->encl, href, type, parse_attr(a, na, "length"));
	}
}

static void parse_person_end(struct parse *p, unsigned char of)
{
	struct fields *f = parse_target(p, of);
	struct buf *out = &p->tmp;
	if (f->s[F_AUTHOR].prio >= 3 || (!p->pname.len && !p->pemail.len))
		return;
	out->len = 0;
	if (p->pname.len)
		parse_buf(p, out, p->pname.data, p->pname.len);
	if (p->pemail.len) {
		if (out->len) {
			parse_buf(p, out, " (", 2);
			parse_buf(p, out, p->pemail.data, p->pemail.len);
			parse_buf(p, out, ")", 1);
		} else {
			parse_buf(p, out, p->pemail.data, p->pemail.len);
		}
	}
	parse_buf(p, out, "", 0);
	parse_slot_take(&f->s[F_AUTHOR], out, 3);
}

/* ---- the root ---- */

static void parse_root(struct parse *p, struct frame *f, unsigned char nsc, const char *local,
		       const char *prefix, const struct xr_attr *a, size_t na)
{
	p->root_seen = true;
	f->ctx = CTX_SKIP;
	if (!strcasecmp(local, "rss") && (nsc == NSC_EMPTY || nsc == NSC_RSS || nsc == NSC_RSS10 ||
					   nsc == NSC_RSS090)) {
		const char *v = parse_attr(a, na, "version");
		p->format = v && !strncmp(v, "0.9", 3) ? FEED_FORMAT_RSS09X : FEED_FORMAT_RSS20;
		p->recognized = true;
		f->ctx = CTX_DOC;
	} else if (!strcasecmp(local, "RDF") && (nsc == NSC_RDF || nsc == NSC_EMPTY)) {
		p->recognized = true;
		p->rdf = true;
		/* RSS 0.90 by its default namespace, even with no channel */
		p->format = parse_ns_classify(xr_default_ns(p->xr)) == NSC_RSS090
				    ? FEED_FORMAT_RSS09X
				    : FEED_FORMAT_RSS10;
		f->ctx = CTX_DOC;
	} else if (!strcasecmp(local, "feed") &&
		   (nsc == NSC_ATOM10 || nsc == NSC_ATOM03 || nsc == NSC_EMPTY)) {
		const char *v = parse_attr(a, na, "version");
		if (nsc == NSC_ATOM10)
			p->format = FEED_FORMAT_ATOM10;
		else if (nsc == NSC_ATOM03 || (v && !strncmp(v, "0.", 2)))
			p->format = FEED_FORMAT_ATOM03;
		p->atom_family = true;
		p->recognized = true;
		f->ctx = CTX_FEED;
	}
	if (!p->recognized)
		snprintf(p->root_name, sizeof p->root_name, "%s%s%s", prefix, *prefix ? ":" : "",
			 local);
}

/* ---- xr handlers ---- */

static struct frame *parse_push(struct parse *p)
{
	if (parse_grow((void **)&p->fr, &p->capfr, p->nfr + 1, sizeof *p->fr)) {
		p->oom = true;
		xr_stop(p->xr);
		return NULL;
	}
	struct frame *f = &p->fr[p->nfr++];
	const struct frame *up = p->nfr > 1 ? f - 1 : NULL;
	f->base = up ? up->base : p->o.base_url;
	f->ctx = up ? up->ctx : CTX_DOC;
	f->el = E_UNKNOWN;
	f->flags = 0;
	f->person_of = up ? up->person_of : 0;
	return f;
}

/* xml:base and xml:lang on this element. */
static void parse_xml_attrs(struct parse *p, struct frame *f, const struct xr_attr *a, size_t na,
			    bool feed_level)
{
	for (size_t i = 0; i < na; i++) {
		if (strcmp(a[i].ns, XR_NS_XML))
			continue;
		if (!strcmp(a[i].local, "base")) {
			const char *v = a[i].value; /* white space around it is no part of it */
			size_t n = strlen(v);
			while (n && strchr(" \t\r\n", *v))
				v++, n--;
			while (n && strchr(" \t\r\n", v[n - 1]))
				n--;
			char *b = url_resolve(f->base, v, n);
			if (!b) {
				p->oom = true;
				continue;
			}
			f->base = b;
			f->flags |= FR_BASE_OWNED;
		} else if (!strcmp(a[i].local, "lang") && feed_level && *a[i].value &&
			   p->feed.s[F_LANGUAGE].prio < 1) {
			struct buf *l = &p->feed.s[F_LANGUAGE].b;
			parse_set(p, l, a[i].value, strlen(a[i].value));
			for (char *u = l->data; u && (u = memchr(u, '_', l->len - (size_t)(u - l->data)));)
				*u++ = '-'; /* en_US -> en-US */
			p->feed.s[F_LANGUAGE].prio = 1;
		}
	}
}

/* An rdf:RDF document is RSS 1.0 unless its channel or items are 0.90's. */
static void parse_rdf_format(struct parse *p, unsigned char nsc)
{
	if (p->rdf && nsc == NSC_RSS090 && !p->nitems)
		p->format = FEED_FORMAT_RSS09X;
}

static const char *parse_rdf_about(const struct xr_attr *a, size_t na)
{
	for (size_t i = 0; i < na; i++)
		if (!strcmp(a[i].local, "about") &&
		    !strcmp(a[i].ns, "http://www.w3.org/1999/02/22-rdf-syntax-ns#"))
			return a[i].value;
	return NULL;
}

/*
 * An item or entry starting inside the open one: the open one was never
 * closed (items do not nest).  Delivers it, and its element no longer
 * counts as an item; returns the context the new one starts in: that of
 * the nearest frame below the run in item context (the open item, the
 * media:group it passes children through, and the like, also those of an
 * item ended here before), so the feed's or the document's.
 */
static unsigned char parse_end_open_item(struct parse *p)
{
	size_t k = p->nfr - 1, open = (size_t)-1;
	while (k-- > 0 && p->fr[k].ctx == CTX_ITEM)
		if (p->fr[k].el == E_ITEM || p->fr[k].el == E_ENTRY)
			open = k;
	if (open == (size_t)-1)
		return CTX_ITEM;
	parse_item_end(p, p->fr[open].base);
	p->fr[open].ctx = k == (size_t)-1 ? CTX_DOC : p->fr[k].ctx;
	return p->fr[open].ctx;
}

/* An element in feed or item context. */
static void parse_element(struct parse *p, struct frame *f, unsigned char ctx, unsigned char el,
			  unsigned char nsc, const struct xr_attr *a, size_t na)
{
	bool item = ctx == CTX_ITEM, feed = ctx == CTX_FEED;
	switch (el) {
	case E_CHANNEL:
		if (ctx == CTX_DOC) {
			parse_rdf_format(p, nsc);
			f->ctx = CTX_FEED;
			parse_xml_attrs(p, f, a, na, true);
			return;
		}
		break;
	case E_ITEM:
	case E_ENTRY:
		if (item && p->in_item) {
			ctx = parse_end_open_item(p);
			feed = ctx == CTX_FEED;
		}
		if ((ctx == CTX_DOC && el == E_ITEM) || feed) {
			parse_rdf_format(p, nsc);
			if (p->nitems >= p->o.limits.max_items) {
				snprintf(p->limit_msg, sizeof p->limit_msg,
					 "item limit %zu reached", p->o.limits.max_items);
				break;
			}
			f->ctx = CTX_ITEM;
			parse_item_begin(p);
			parse_xml_attrs(p, f, a, na, false);
			/* RSS 1.0: rdf:about is the id unless a guid says otherwise */
			const char *about = p->rdf ? parse_rdf_about(a, na) : NULL;
			if (about && *about) {
				parse_set(p, &p->item.s[F_ID].b, about, strlen(about));
				parse_trim(&p->item.s[F_ID].b);
				p->item.s[F_ID].prio = p->item.s[F_ID].b.len ? 1 : 0;
			}
			return;
		}
		break;
	case E_TRANSPARENT:
		if (item || feed) {
			f->ctx = ctx;
			return;
		}
		break;
	case E_TITLE:
	case EA_TITLE:
		if (item || feed) {
			parse_capture_text(p, ctx, F_TITLE, 3);
			parse_tc_mode(p, a, na, el == EA_TITLE);
		}
		break;
	case E_DC_TITLE:
		if (item || feed)
			parse_capture_text(p, ctx, F_TITLE, 2);
		break;
	case E_MEDIA_TITLE: /* the last resort of an item's title */
		if (item)
			parse_capture_text(p, ctx, F_TITLE, 1);
		break;
	case E_LINK:
		/* <link href=".."/> in RSS: an atom:link without its namespace */
		if ((item || feed) && parse_attr(a, na, "href"))
			parse_atom_link(p, ctx, a, na);
		else if (item || feed)
			parse_capture(p, K_URL, ctx, F_LINK, 3);
		break;
	case EA_LINK:
		if (item || feed)
			parse_atom_link(p, ctx, a, na);
		break;
	case E_DESCRIPTION:
	case EA_SUMMARY:
	case EA_SUBTITLE:
		if (item || feed) {
			if (el == EA_SUBTITLE && !feed)
				break;
			parse_capture_text(p, ctx, F_SUMMARY, 3);
			parse_tc_mode(p, a, na, el != E_DESCRIPTION);
		}
		break;
	case E_DC_DESCRIPTION:
		if (item || feed)
			parse_capture_text(p, ctx, F_SUMMARY, 2);
		break;
	case E_IT_SUBTITLE:
		if (feed)
			parse_capture_text(p, ctx, F_SUMMARY, 2);
		break;
	case E_IT_SUMMARY:
		if (item || feed)
			parse_capture_text(p, ctx, F_SUMMARY, 1);
		break;
	case E_MEDIA_DESCRIPTION: /* YouTube's entries have no other text */
		if (item)
			parse_capture_text(p, ctx, F_SUMMARY, 1);
		break;
	case E_CONTENT_ENCODED:
	case EA_CONTENT:
		if (item) {
			parse_capture_text(p, ctx, F_CONTENT, 3);
			parse_tc_mode(p, a, na, el == EA_CONTENT);
		}
		break;
	case E_XHTML_BODY:
		if (item) {
			parse_capture_text(p, ctx, F_CONTENT, 2);
			p->cap.kind = K_TC;
			p->cap.tc = TC_XHTML;
		}
		break;
	case E_FULLITEM: /* Userland's full item text: escaped HTML, like content:encoded */
		if (item) {
			parse_capture_text(p, ctx, F_CONTENT, 1);
			parse_tc_mode(p, a, na, false);
		}
		break;
	case E_GUID:
		if (item) {
			const char *pl = parse_attr(a, na, "isPermaLink");
			p->guid_permalink = !pl || strcasecmp(pl, "false");
			parse_capture(p, K_GUID, ctx, F_ID, 3);
		}
		break;
	case EA_ID:
		if (item || feed)
			parse_capture(p, K_TEXT, ctx, F_ID, 3);
		break;
	case E_PUBDATE:
	case EA_PUBLISHED:
	case EA_ISSUED:
		if (item || feed)
			parse_capture_date(p, ctx, D_PUB, 3);
		break;
	case E_DCT_ISSUED:
		if (item || feed)
			parse_capture_date(p, ctx, D_PUB, 2);
		break;
	case EA_CREATED:
	case E_DCT_CREATED:
		if (item || feed)
			parse_capture_date(p, ctx, D_PUB, 1);
		break;
	case EA_UPDATED:
	case EA_MODIFIED:
	case E_LASTBUILDDATE:
		if (item || feed)
			parse_capture_date(p, ctx, D_UPD, 3);
		break;
	case E_DCT_MODIFIED:
		if (item || feed)
			parse_capture_date(p, ctx, D_UPD, 2);
		break;
	case E_DC_DATE:
		if (item || feed)
			parse_capture_date(p, ctx, D_UPD, 1);
		break;
	case E_AUTHOR:
	case E_MANAGINGEDITOR:
		if (item || feed)
			parse_capture(p, K_AUTHOR, ctx, F_AUTHOR, 3);
		break;
	case E_DC_CREATOR:
		if (item || feed)
			parse_capture(p, K_AUTHOR, ctx, F_AUTHOR, 2);
		break;
	case E_IT_AUTHOR:
		if (item || feed)
			parse_capture(p, K_AUTHOR, ctx, F_AUTHOR, 1);
		break;
	case EA_AUTHOR:
		if (item || feed) {
			f->ctx = CTX_PERSON;
			f->person_of = ctx;
			p->pname.len = 0;
			p->pemail.len = 0;
			return;
		}
		break;
	case EA_NAME:
		if (ctx == CTX_PERSON)
			parse_capture(p, K_NAME, f->person_of, 0, 0);
		break;
	case EA_EMAIL:
		if (ctx == CTX_PERSON)
			parse_capture(p, K_EMAIL, f->person_of, 0, 0);
		break;
	case E_CATEGORY:
	case E_DC_SUBJECT:
		if (item)
			parse_capture(p, K_CATEGORY, ctx, 0, 0);
		break;
	case E_IT_KEYWORDS:
		if (item)
			parse_capture(p, K_KEYWORDS, ctx, 0, 0);
		break;
	case EA_CATEGORY:
		if (item) {
			const char *t = parse_attr(a, na, "term");
			if (!t || !*t)
				t = parse_attr(a, na, "label");
			if (t)
				parse_add_category(p, t, strlen(t));
		}
		break;
	case E_IT_CATEGORY:
		if (item || feed) {
			const char *t = parse_attr(a, na, "text");
			if (t && item)
				parse_add_category(p, t, strlen(t));
			f->ctx = ctx; /* nested itunes:category */
			return;
		}
		break;
	case E_ENCLOSURE:
		if (item)
			parse_add_enclosure(p, &p->encl, parse_attr(a, na, "url"),
					    parse_attr(a, na, "type"), parse_attr(a, na, "length"));
		break;
	case E_MEDIA_CONTENT:
	case E_MEDIA_THUMBNAIL:
		if (item)
			parse_add_enclosure(p, &p->media, parse_attr(a, na, "url"),
					    el == E_MEDIA_CONTENT ? parse_attr(a, na, "type")
								  : NULL,
					    el == E_MEDIA_CONTENT ? parse_attr(a, na, "fileSize")
								  : NULL);
		break;
	case E_LANGUAGE:
		if (feed)
			parse_capture_text(p, ctx, F_LANGUAGE, 3);
		break;
	case E_DC_LANGUAGE:
		if (feed)
			parse_capture_text(p, ctx, F_LANGUAGE, 2);
		break;
	case E_TTL:
		if (feed)
			parse_capture(p, K_TTL, ctx, 0, 0);
		break;
	case E_SY_PERIOD:
		if (feed)
			parse_capture(p, K_SY_PERIOD, ctx, 0, 0);
		break;
	case E_SY_FREQUENCY:
		if (feed)
			parse_capture(p, K_SY_FREQUENCY, ctx, 0, 0);
		break;
	default:
		break;
	}
	f->ctx = CTX_SKIP;
}

static void parse_on_start(void *ud, const char *ns, const char *local, const char *prefix,
			   const struct xr_attr *a, size_t na)
{
	struct parse *p = ud;
	struct frame *f = parse_push(p);
	if (!f)
		return;
	if (p->cap.on && p->cap.kind == K_AUTHOR && !p->cap.suppress &&
	    (!strcasecmp(local, "name") || !strcasecmp(local, "email"))) {
		/* <author><name>..</name><email>..</email></author> in RSS:
		 * the author element becomes a person construct */
		struct frame *au = &p->fr[p->cap.at];
		au->flags &= (unsigned char)~FR_CAPTURE;
		au->ctx = CTX_PERSON;
		au->el = EA_AUTHOR;
		au->person_of = p->cap.target;
		p->cap.on = false;
		p->text.len = 0;
		p->pname.len = 0;
		p->pemail.len = 0;
		f->ctx = CTX_PERSON;
		f->person_of = au->person_of;
		parse_element(p, f, CTX_PERSON, tolower((unsigned char)local[0]) == 'n' ? EA_NAME : EA_EMAIL,
			      NSC_EMPTY, a, na);
		return;
	}
	if (p->cap.on) {
		f->ctx = CTX_SKIP;
		if (p->cap.kind == K_TC && !p->cap.suppress) {
			parse_serialize_start(p, f, ns, local, a, na);
		} else {
			f->flags |= FR_SUPPRESS;
			p->cap.suppress++;
		}
		return;
	}
	if (p->nfr == 1) {
		parse_xml_attrs(p, f, a, na, true);
		parse_root(p, f, parse_ns_classify(ns), local, prefix, a, na);
		return;
	}
	unsigned char ctx = f->ctx;
	if (ctx == CTX_SKIP)
		return;
	unsigned char nsc = parse_ns_cached(p, ns);
	/* inside a person (also an RSS <author> with children) plain names
	 * are Atom's name / email */
	unsigned char table = ctx == CTX_PERSON && nsc == NSC_EMPTY ? T_ATOM : parse_ns_to_table(p, nsc);
	unsigned char el = parse_lookup(p, table, local);
	f->el = el;
	if (el != E_CHANNEL && el != E_ITEM && el != E_ENTRY)
		parse_xml_attrs(p, f, a, na, false);
	parse_element(p, f, ctx, el, nsc, a, na);
}

static void parse_on_end(void *ud, const char *ns, const char *local)
{
	struct parse *p = ud;
	(void)ns;
	if (!p->nfr)
		return;
	struct frame *f = &p->fr[p->nfr - 1];
	if (p->cap.on) {
		if (f->flags & FR_CAPTURE) {
			parse_capture_end(p);
		} else if (f->flags & FR_SUPPRESS) {
			p->cap.suppress--;
		} else if (f->flags & FR_SERIAL) {
			parse_serialize_end(p, f, local);
		}
	}
	if (f->ctx == CTX_ITEM && (f->el == E_ITEM || f->el == E_ENTRY))
		parse_item_end(p, f->base);
	else if (f->ctx == CTX_PERSON && f->el == EA_AUTHOR)
		parse_person_end(p, f->person_of);
	if (f->flags & FR_BASE_OWNED)
		free((char *)f->base);
	p->nfr--;
}

/* Text that is not plain character data for the capture buffer's spare
 * room: the first text of the capturing element, markup serialization,
 * a full buffer or the field cap. */
static __attribute__((noinline)) void parse_on_text_slow(struct parse *p, const char *s,
							 size_t len)
{
	if (p->nfr - 1 == p->cap.at && !p->cap.top_text) {
		for (size_t i = 0; i < len; i++)
			if (!parse_is_ws(s[i])) {
				p->cap.top_text = true;
				break;
			}
	}
	if (p->cap.tc >= TC_XHTML && p->cap.kind == K_TC) {
		parse_cap_escaped(p, s, len, false);
		return;
	}
	parse_cap_append(p, s, len);
}

static void parse_on_text(void *ud, const char *s, size_t len)
{
	struct parse *p = ud;
	if (!p->cap.on || p->cap.suppress)
		return;
	/* the hot path: room in the buffer and under the field cap (the
	 * terminating NUL is written when the capture ends) */
	struct buf *t = &p->text;
	if ((p->cap.top_text || p->nfr - 1 != p->cap.at) &&
	    !(p->cap.tc >= TC_XHTML && p->cap.kind == K_TC) && len < t->cap - t->len &&
	    t->len + len <= p->o.limits.max_field) {
		char *d = t->data + t->len;
		t->len += len;
		if (len == 1) /* entity references come one character at a time */
			*d = s[0];
		else
			memcpy(d, s, len);
		return;
	}
	parse_on_text_slow(p, s, len);
}

/* ---- public ---- */

struct parse *parse_new(const struct parse_opts *opts, parse_item_fn on_item, void *ud)
{
	struct parse *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (opts) {
		p->o = *opts;
	} else {
		parse_limits_default(&p->o.limits);
	}
	if (p->o.base_url && !*p->o.base_url)
		p->o.base_url = NULL;
	if (p->o.base_url && !(p->o.base_url = strdup(p->o.base_url))) {
		free(p);
		return NULL;
	}
	p->on_item = on_item;
	p->ud = ud;
	p->meta.ttl_minutes = -1;
	p->meta.sy_period_seconds = -1;
	p->sy_period = p->sy_freq = -1;
	parse_fields_reset(&p->feed);
	parse_fields_reset(&p->item);
#ifndef NDEBUG
	for (size_t i = 1; i < N_ELS; i++)
		if (parse_el_cmp(&parse_el_table[i - 1], &parse_el_table[i]) >= 0)
			abort(); /* the element table must stay sorted */
#endif
	struct xr_opts xo = {
		.http_charset = p->o.http_charset,
		.amplification_threshold = p->o.limits.amplification_threshold,
		.max_amplification = p->o.limits.max_amplification,
		.max_depth = p->o.limits.max_depth,
	};
	struct xr_handlers h = {parse_on_start, parse_on_end, parse_on_text};
	p->xr = xr_new(&xo, &h, p);
	if (!p->xr) {
		free((char *)p->o.base_url);
		free(p);
		return NULL;
	}
	return p;
}

int parse_chunk(struct parse *p, const void *buf, size_t len)
{
	if (p->stopped || p->oom)
		return -1;
	int r = xr_feed(p->xr, buf, len);
	return r || p->stopped || p->oom ? -1 : 0;
}

const size_t *parse_item_lengths(const struct parse *p, const struct feed_item *it)
{
	return it && it == p->cur ? p->cur_len : NULL;
}

void *parse_buffer(struct parse *p, size_t len)
{
	if (p->stopped || p->oom)
		return NULL;
	return xr_buffer(p->xr, len);
}

int parse_buffer_done(struct parse *p, size_t n)
{
	if (p->stopped || p->oom)
		return -1;
	int r = xr_feed_buffer(p->xr, n);
	return r || p->stopped || p->oom ? -1 : 0;
}

static void parse_build_meta(struct parse *p)
{
	struct fields *f = &p->feed;
	struct feed_meta *m = &p->meta;
	m->title = (char *)parse_slot_str(&f->s[F_TITLE]);
	m->link = (char *)parse_slot_str(&f->s[F_LINK]);
	m->id = (char *)parse_slot_str(&f->s[F_ID]);
	m->subtitle = (char *)parse_slot_str(&f->s[F_SUMMARY]);
	m->language = (char *)parse_slot_str(&f->s[F_LANGUAGE]);
	m->author = (char *)parse_slot_str(&f->s[F_AUTHOR]);
	m->updated = f->dprio[D_UPD] ? f->date[D_UPD] : f->date[D_PUB];
	if (p->sy_period > 0 || p->sy_freq > 0) {
		int64_t per = p->sy_period > 0 ? p->sy_period : 86400;
		int64_t fr = p->sy_freq > 0 ? p->sy_freq : 1;
		m->sy_period_seconds = per / fr;
	}
}

int parse_finish(struct parse *p)
{
	if (!p->stopped)
		xr_finish(p->xr);
	/* a truncated document: close what is open */
	while (p->nfr)
		parse_on_end(p, "", "");
	parse_build_meta(p);
	if (p->root_seen && !p->recognized && !p->errmsg) {
		size_t n = strlen(p->root_name) + 40;
		p->errmsg = malloc(n);
		if (p->errmsg)
			snprintf(p->errmsg, n, "not a feed: root element <%s>", p->root_name);
	}
	return p->recognized || p->nitems ? 0 : -1;
}

enum feed_format parse_format(const struct parse *p)
{
	return p->format;
}

const struct feed_meta *parse_meta(const struct parse *p)
{
	return &p->meta;
}

bool parse_wellformed(const struct parse *p)
{
	return p->recognized && xr_wellformed(p->xr) && !p->oom;
}

const char *parse_error(const struct parse *p)
{
	if (p->stopped)
		return "stopped";
	if (p->oom)
		return "out of memory";
	const char *e = xr_error(p->xr);
	if (e)
		return e;
	if (p->errmsg)
		return p->errmsg;
	if (!p->recognized)
		return p->root_seen ? "not a feed" : "no root element";
	return NULL;
}

const char *parse_limit_hit(const struct parse *p)
{
	return p->limit_msg[0] ? p->limit_msg : NULL;
}

size_t parse_item_count(const struct parse *p)
{
	return p->nitems;
}

static void parse_encl_free(struct enclosure_list *l)
{
	for (size_t i = 0; i < l->cap; i++) {
		buf_free(&l->v[i].url);
		buf_free(&l->v[i].type);
	}
	free(l->v);
}

void parse_free(struct parse *p)
{
	if (!p)
		return;
	while (p->nfr) {
		struct frame *f = &p->fr[--p->nfr];
		if (f->flags & FR_BASE_OWNED)
			free((char *)f->base);
	}
	xr_free(p->xr);
	free(p->fr);
	buf_free(&p->text);
	parse_fields_free(&p->feed);
	parse_fields_free(&p->item);
	buf_free(&p->guid);
	buf_free(&p->pname);
	buf_free(&p->pemail);
	buf_free(&p->tmp);
	for (size_t i = 0; i < p->capcats; i++)
		buf_free(&p->cats[i]);
	free(p->cats);
	parse_encl_free(&p->encl);
	parse_encl_free(&p->media);
	free(p->catv);
	free(p->enclv);
	free(p->errmsg);
	free((char *)p->o.base_url);
	free(p);
}
