/* markup.c - see markup.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "markup.h"
#include "url.h"

/* (element, attribute) pairs whose value is a URL, as feedparser's list. */
static const struct {
	const char *el, *attr;
} markup_url_attrs[] = {
	{"a", "href"},		{"applet", "codebase"}, {"area", "href"},	{"audio", "src"},
	{"blockquote", "cite"}, {"body", "background"}, {"del", "cite"},	{"form", "action"},
	{"frame", "longdesc"},	{"frame", "src"},	{"iframe", "longdesc"}, {"iframe", "src"},
	{"head", "profile"},	{"img", "longdesc"},	{"img", "src"},		{"img", "usemap"},
	{"input", "src"},	{"input", "usemap"},	{"ins", "cite"},	{"link", "href"},
	{"object", "classid"},	{"object", "codebase"}, {"object", "data"},	{"object", "usemap"},
	{"q", "cite"},		{"script", "src"},	{"source", "src"},	{"video", "poster"},
	{"video", "src"},
};

static bool markup_is_url_attr(const char *el, size_t el_n, const char *at, size_t at_n)
{
	for (size_t i = 0; i < sizeof markup_url_attrs / sizeof markup_url_attrs[0]; i++)
		if (strlen(markup_url_attrs[i].el) == el_n &&
		    !strncasecmp(markup_url_attrs[i].el, el, el_n) &&
		    strlen(markup_url_attrs[i].attr) == at_n &&
		    !strncasecmp(markup_url_attrs[i].attr, at, at_n))
			return true;
	return false;
}

static bool markup_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == ':';
}

static bool markup_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* HTML void elements: feedparser writes them "<br />", so do we. */
static bool markup_void_element(const char *el, size_t el_n)
{
	static const char *const voids[] = {"area", "base",  "br",   "col",	"embed", "hr",	  "img",
					    "input", "link", "meta", "param", "source", "track", "wbr"};

	for (size_t i = 0; i < sizeof voids / sizeof voids[0]; i++)
		if (strlen(voids[i]) == el_n && !strncasecmp(voids[i], el, el_n))
			return true;
	return false;
}

static bool markup_is_srcset(const char *el, size_t el_n, const char *at, size_t at_n)
{
	return at_n == 6 && !strncasecmp(at, "srcset", 6) &&
	       ((el_n == 3 && !strncasecmp(el, "img", 3)) || (el_n == 6 && !strncasecmp(el, "source", 6)));
}

/* Where markup_resolve_urls is: s copied to out up to done, changed once
 * anything differs. */
struct markup_out {
	const char *s;
	const char *base;
	struct buf *out;
	size_t done;
	bool changed;
};

/* Replaces s[vs, vs+vl) by its absolute form when that differs; 0 or -1. */
static int markup_replace_url(struct markup_out *m, size_t vs, size_t vl)
{
	const char *s = m->s;

	if (!vl || url_is_absolute(s + vs, vl) || s[vs] == '#')
		return 0;
	char *abs = url_resolve(m->base, s + vs, vl);
	if (!abs)
		return -1;
	if (strlen(abs) != vl || memcmp(abs, s + vs, vl)) {
		if (buf_append(m->out, s + m->done, vs - m->done) || buf_puts(m->out, abs)) {
			free(abs);
			return -1;
		}
		m->done = vs + vl;
		m->changed = true;
	}
	free(abs);
	return 0;
}

/* srcset="a.png, b.png 2x": each candidate's URL (up to a space or comma),
 * descriptors kept as written. */
static int markup_replace_srcset(struct markup_out *m, size_t vs, size_t ve)
{
	const char *s = m->s;
	size_t i = vs;

	while (i < ve) {
		while (i < ve && (markup_space(s[i]) || s[i] == ','))
			i++;
		size_t us = i;
		while (i < ve && !markup_space(s[i]) && s[i] != ',')
			i++;
		if (i > us && markup_replace_url(m, us, i - us))
			return -1;
		while (i < ve && s[i] != ',')
			i++;
	}
	return 0;
}

/* "<img src=x>" as "<img src=x />" (s[gt] is its '>'); 0 or -1. */
static int markup_close_void(struct markup_out *m, size_t gt)
{
	if (gt && m->s[gt - 1] == '/')
		return 0;
	if (buf_append(m->out, m->s + m->done, gt - m->done) || buf_puts(m->out, " /"))
		return -1;
	m->done = gt;
	m->changed = true;
	return 0;
}

int markup_resolve_urls(const char *s, size_t n, const char *base, struct buf *out)
{
	struct markup_out m = {s, base, out, 0, false};
	const char *lt;
	size_t i = 0;
	out->len = 0;
	while (i < n && (lt = memchr(s + i, '<', n - i))) {
		i = (size_t)(lt - s) + 1;
		size_t es = i;
		while (i < n && markup_name_char(s[i]))
			i++;
		size_t el_n = i - es;
		if (!el_n)
			continue;
		/* attributes up to '>' */
		while (i < n && s[i] != '>') {
			while (i < n && (markup_space(s[i]) || s[i] == '/'))
				i++;
			size_t as = i;
			while (i < n && markup_name_char(s[i]))
				i++;
			size_t at_n = i - as;
			if (!at_n) {
				if (i < n && s[i] != '>')
					i++;
				continue;
			}
			while (i < n && markup_space(s[i]))
				i++;
			if (i >= n || s[i] != '=')
				continue;
			i++;
			while (i < n && markup_space(s[i]))
				i++;
			if (i >= n)
				break;
			size_t vs, ve;
			if (s[i] == '"' || s[i] == '\'') {
				const char *q = memchr(s + i + 1, s[i], n - i - 1);
				if (!q)
					goto rest; /* unterminated: leave the rest */
				vs = i + 1;
				ve = (size_t)(q - s);
				i = ve + 1;
			} else {
				vs = i;
				while (i < n && !markup_space(s[i]) && s[i] != '>')
					i++;
				ve = i;
			}
			if (markup_is_srcset(s + es, el_n, s + as, at_n)) {
				if (markup_replace_srcset(&m, vs, ve))
					return -1;
				continue;
			}
			if (!markup_is_url_attr(s + es, el_n, s + as, at_n))
				continue;
			size_t vl = ve - vs;
			while (vl && markup_space(s[vs]))
				vs++, vl--;
			if (markup_replace_url(&m, vs, vl))
				return -1;
		}
		if (i < n && markup_void_element(s + es, el_n) && markup_close_void(&m, i))
			return -1;
	}
rest:
	if (!m.changed)
		return 0;
	return buf_append(out, s + m.done, n - m.done) ? -1 : 1;
}

/* windows-1252 0x80..0x9f; 0 where it has no character (kept as is) */
static const unsigned short markup_cp1252_tab[32] = {
	0x20ac, 0,	0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
	0x2039, 0x0152, 0,	0x017d, 0,	0,	0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
	0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,	0x017e, 0x0178,
};

int markup_cp1252(const char *s, size_t n, struct buf *out)
{
	const char *c = memchr(s, 0xc2, n);
	size_t done = 0;
	bool changed = false;
	out->len = 0;
	while (c) {
		size_t i = (size_t)(c - s);
		unsigned char nx = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		if (nx >= 0x80 && nx <= 0x9f && markup_cp1252_tab[nx - 0x80]) {
			unsigned u = markup_cp1252_tab[nx - 0x80];
			char e[3];
			size_t el;
			if (u < 0x800) {
				e[0] = (char)(0xc0 | (u >> 6));
				e[1] = (char)(0x80 | (u & 0x3f));
				el = 2;
			} else {
				e[0] = (char)(0xe0 | (u >> 12));
				e[1] = (char)(0x80 | ((u >> 6) & 0x3f));
				e[2] = (char)(0x80 | (u & 0x3f));
				el = 3;
			}
			if (buf_append(out, s + done, i - done) || buf_append(out, e, el))
				return -1;
			done = i + 2;
			changed = true;
		}
		c = i + 1 < n ? memchr(s + i + 1, 0xc2, n - i - 1) : NULL;
	}
	if (!changed)
		return 0;
	return buf_append(out, s + done, n - done) ? -1 : 1;
}
