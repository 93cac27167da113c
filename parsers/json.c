/*
 * json.c - byte buffers and the JSON output of the feed model.
 *
 * json_str is the one place that turns parser strings into JSON: it never
 * emits invalid UTF-8 (bad bytes become U+FFFD), escapes every control
 * character and U+2028 / U+2029 (which JavaScript treats as line breaks).
 * Runs of plain bytes are copied with one memcpy each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

static int buf_grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	char *d = realloc(b->data, cap);
	if (!d)
		return -1;
	b->data = d;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *s, size_t n)
{
	if (n >= b->cap - b->len || !b->data) {
		if (b->len + n + 1 < n || buf_grow(b, b->len + n + 1))
			return -1;
	}
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/*
 * Byte classes: 0 plain ASCII, 1 needs an escape, 2 starts a multi-byte
 * sequence (validated), 3 never valid in UTF-8.
 */
static const unsigned char json_class[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 0,
	[0x80 ... 0xc1] = 3, [0xc2 ... 0xf4] = 2, [0xf5 ... 0xff] = 3,
};

/* Length of the valid UTF-8 sequence at s (s[0] >= 0xc2), or 0. */
static size_t json_utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c < 0xe0) {
		if (n < 2 || (s[1] & 0xc0) != 0x80)
			return 0;
		return 2;
	}
	if (c < 0xf0) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
		return 0;
	if (c == 0xf0 && s[1] < 0x90)
		return 0;
	if (c == 0xf4 && s[1] >= 0x90)
		return 0;
	return 4;
}

static int json_escape_ctl(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = {'\\', 0};
	size_t n = 2;
	switch (c) {
	case '"':
		e[1] = '"';
		break;
	case '\\':
		e[1] = '\\';
		break;
	case '\n':
		e[1] = 'n';
		break;
	case '\t':
		e[1] = 't';
		break;
	case '\r':
		e[1] = 'r';
		break;
	case '\b':
		e[1] = 'b';
		break;
	case '\f':
		e[1] = 'f';
		break;
	default:
		memcpy(e, "\\u00", 4);
		e[4] = hex[c >> 4];
		e[5] = hex[c & 15];
		n = 6;
	}
	return buf_append(b, e, n);
}

int json_str(struct buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	if (buf_append(b, "\"", 1))
		return -1;
	while (i < n) {
		unsigned char c = s[i];
		unsigned cls = json_class[c];
		if (cls == 0) {
			i++;
			continue;
		}
		size_t l = cls == 2 ? json_utf8_len(s + i, n - i) : 0;
		if (l && !(l == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8)) {
			i += l; /* valid, stays in the run */
			continue;
		}
		if (buf_append(b, s + run, i - run))
			return -1;
		int r;
		if (cls == 1)
			r = json_escape_ctl(b, c);
		else if (l)
			r = buf_append(b, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
		else
			r = buf_append(b, "\xef\xbf\xbd", 3);
		if (r)
			return -1;
		i += l ? l : 1;
		run = i;
	}
	if (buf_append(b, s + run, n - run))
		return -1;
	return buf_append(b, "\"", 1);
}

/* ,"key":"value" (or without the comma for the first key). */
static int json_kv_str(struct buf *b, bool *first, const char *key, const char *v)
{
	if (!v || !*v)
		return 0;
	if (buf_append(b, *first ? "\"" : ",\"", *first ? 1 : 2) || buf_puts(b, key) ||
	    buf_append(b, "\":", 2) || json_str(b, v, strlen(v)))
		return -1;
	*first = false;
	return 0;
}

static int json_kv_date(struct buf *b, bool *first, const char *key, int64_t t)
{
	char d[32];
	if (t == FEED_NO_DATE)
		return 0;
	date_format(t, d);
	return json_kv_str(b, first, key, d);
}

static int json_enclosure(struct buf *b, const struct feed_enclosure *e)
{
	bool first = true;
	if (buf_append(b, "{", 1) || json_kv_str(b, &first, "url", e->url) ||
	    json_kv_str(b, &first, "type", e->type))
		return -1;
	if (e->length >= 0) {
		char n[32];
		int l = snprintf(n, sizeof n, "%s\"length\":%lld", first ? "" : ",",
				 (long long)e->length);
		if (buf_append(b, n, (size_t)l))
			return -1;
	}
	return buf_append(b, "}", 1);
}

static int json_categories(struct buf *b, const struct feed_item *it)
{
	if (!it->ncategories)
		return 0;
	if (buf_puts(b, ",\"categories\":["))
		return -1;
	for (size_t i = 0; i < it->ncategories; i++) {
		if ((i && buf_append(b, ",", 1)) ||
		    json_str(b, it->categories[i], strlen(it->categories[i])))
			return -1;
	}
	return buf_append(b, "]", 1);
}

static int json_enclosures(struct buf *b, const struct feed_item *it)
{
	if (!it->nenclosures)
		return 0;
	if (buf_puts(b, ",\"enclosures\":["))
		return -1;
	for (size_t i = 0; i < it->nenclosures; i++) {
		if ((i && buf_append(b, ",", 1)) || json_enclosure(b, &it->enclosures[i]))
			return -1;
	}
	return buf_append(b, "]", 1);
}

int json_item(struct buf *b, const struct feed_item *it)
{
	bool first = true;
	if (buf_append(b, "{", 1) || json_kv_str(b, &first, "id", it->id) ||
	    json_kv_str(b, &first, "title", it->title) ||
	    json_kv_str(b, &first, "link", it->link) ||
	    json_kv_str(b, &first, "author", it->author) ||
	    json_kv_date(b, &first, "published", it->published) ||
	    json_kv_date(b, &first, "updated", it->updated) ||
	    json_kv_str(b, &first, "summary", it->summary) ||
	    json_kv_str(b, &first, "content", it->content))
		return -1;
	/* The arrays need a leading comma; fake one when they come first. */
	if (first && (it->ncategories || it->nenclosures)) {
		struct buf t = {0};
		int r = json_categories(&t, it) || json_enclosures(&t, it);
		if (!r)
			r = buf_append(b, t.data + 1, t.len - 1);
		buf_free(&t);
		if (r)
			return -1;
	} else if (json_categories(b, it) || json_enclosures(b, it)) {
		return -1;
	}
	return buf_append(b, "}", 1);
}

int json_meta(struct buf *b, const struct feed_meta *m)
{
	bool first = true;
	if (buf_append(b, "{", 1) || json_kv_str(b, &first, "title", m->title) ||
	    json_kv_str(b, &first, "link", m->link) || json_kv_str(b, &first, "id", m->id) ||
	    json_kv_str(b, &first, "subtitle", m->subtitle) ||
	    json_kv_str(b, &first, "language", m->language) ||
	    json_kv_str(b, &first, "author", m->author) ||
	    json_kv_date(b, &first, "updated", m->updated))
		return -1;
	return buf_append(b, "}", 1);
}
