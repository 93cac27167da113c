/*
 * xmlreader.h - internal to parsers/: turns a byte stream in any encoding
 * into namespace-resolved SAX events, recovering from broken XML.
 *
 * Pipeline:  bytes --(encoding detection per RFC 7303, iconv to UTF-8)-->
 *            expat (namespace mode, no external entities, billion-laughs
 *            protection)  --on the first fatal error-->  a tolerant
 *            tokenizer that resumes at the byte where expat stopped and
 *            drives the same handlers (HTML5 named entities, bare & and <,
 *            control characters, mismatched / missing end tags, truncation).
 *
 * The handlers never see which of the two produced an event.  Every
 * string passed to a handler is valid UTF-8; names and attribute values are
 * NUL-terminated, text pieces are not (use their length).
 */
#ifndef FEEDD_XMLREADER_H
#define FEEDD_XMLREADER_H

#include <stdbool.h>
#include <stddef.h>

#define XR_NS_XML "http://www.w3.org/XML/1998/namespace"

struct xr_attr {
	const char *ns;	   /* namespace URI, "" when none; never NULL */
	const char *local; /* local name */
	const char *value; /* entities decoded */
};

struct xr_handlers {
	/* ns is "" for no namespace.  prefix is the qname prefix ("" when
	 * none), for serializing xhtml content. */
	void (*start)(void *ud, const char *ns, const char *local, const char *prefix,
		      const struct xr_attr *attrs, size_t nattrs);
	void (*end)(void *ud, const char *ns, const char *local);
	/* Character data (CDATA sections included), in one or more pieces. */
	void (*text)(void *ud, const char *s, size_t len);
};

struct xr_opts {
	const char *http_charset;	/* may be NULL */
	unsigned long long amplification_threshold;
	float max_amplification;
	size_t max_depth;		/* deeper elements are not reported */
};

struct xr;

struct xr *xr_new(const struct xr_opts *o, const struct xr_handlers *h, void *ud);
/* The same with expat allocating through memsuite (an XML_Memory_Handling_Suite;
 * NULL: malloc), for the allocation-failure tests. */
struct xr *xr_new_mm(const struct xr_opts *o, const struct xr_handlers *h, void *ud,
		     const void *memsuite);
/* 0 ok (also after recovery), -1 when stopped (xr_stop) or out of memory. */
int xr_feed(struct xr *x, const char *buf, size_t len);
/*
 * Zero-copy input, the same as xr_feed: xr_buffer returns room for up to
 * len bytes of the next input (NULL when stopped or out of memory); put n
 * of them there, then xr_feed_buffer(x, n).  While expat reads plain UTF-8
 * the room is expat's own input buffer, so the bytes are not copied again.
 * The room is valid until the next call of an xr_ function.
 */
void *xr_buffer(struct xr *x, size_t len);
int xr_feed_buffer(struct xr *x, size_t n);
/* End of input: closes every element still open (end events). 0 or -1. */
int xr_finish(struct xr *x);
/* Called from a handler: no further events are delivered. */
void xr_stop(struct xr *x);
/* false once any recovery happened. */
bool xr_wellformed(const struct xr *x);
/* "line L, column C: message" of the first error, or NULL. */
const char *xr_error(const struct xr *x);
/* The encoding the document was read in, e.g. "utf-8", "windows-1252". */
const char *xr_encoding(const struct xr *x);
/* From a start handler: the default namespace in the element's scope ("" none). */
const char *xr_default_ns(const struct xr *x);
void xr_free(struct xr *x);

/* HTML5 named character references (parsers/entities.c, generated).
 * name without '&' and ';'.  Returns the UTF-8 expansion or NULL. */
const char *html_entity_lookup(const char *name, size_t len);

#endif
