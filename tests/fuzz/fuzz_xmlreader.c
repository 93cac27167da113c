/*
 * fuzz_xmlreader.c - libFuzzer target over parsers/xmlreader: every string
 * a handler gets must be valid UTF-8 (strictly: no overlongs, surrogates
 * or code points past U+10FFFF), and feeding the input in small chunks
 * must give the same events and wellformedness as feeding it whole (not
 * always the same error position: expat itself reports some errors at a
 * different place depending on where a chunk ends, e.g. junk after the
 * root element).  The first input byte picks the HTTP charset and chunk
 * size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmlreader.h"

struct fz {
	char *s;
	size_t len, cap;
};

static int fz_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], cp;
		size_t k, j;

		if (c < 0x80) {
			i++;
			continue;
		}
		k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (!k || i + k > n)
			return 0;
		cp = c & (0x7F >> k);
		for (j = 1; j < k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k;
	}
	return 1;
}

static void fz_add(struct fz *f, const char *s, size_t n)
{
	if (!fz_valid((const unsigned char *)s, n))
		abort();
	if (f->len + n + 1 > f->cap) {
		f->cap = (f->len + n + 1) * 2;
		f->s = realloc(f->s, f->cap);
		if (!f->s)
			abort();
	}
	memcpy(f->s + f->len, s, n);
	f->len += n;
	f->s[f->len] = '\0';
}

static void fz_str(struct fz *f, const char *s)
{
	fz_add(f, s, strlen(s));
}

static void fz_start(void *ud, const char *ns, const char *local, const char *prefix,
		     const struct xr_attr *a, size_t n)
{
	struct fz *f = ud;

	fz_str(f, "\x02<");
	fz_str(f, ns);
	fz_str(f, "\x03");
	fz_str(f, local);
	fz_str(f, "\x03");
	fz_str(f, prefix);
	for (size_t i = 0; i < n; i++) {
		fz_str(f, "\x03");
		fz_str(f, a[i].ns);
		fz_str(f, "\x03");
		fz_str(f, a[i].local);
		fz_str(f, "\x03");
		fz_str(f, a[i].value);
	}
	fz_str(f, "\x02");
}

static void fz_end(void *ud, const char *ns, const char *local)
{
	struct fz *f = ud;

	fz_str(f, "\x02/");
	fz_str(f, ns);
	fz_str(f, "\x03");
	fz_str(f, local);
	fz_str(f, "\x02");
}

static void fz_text(void *ud, const char *s, size_t n)
{
	fz_add(ud, s, n);
}

static void fz_run(const uint8_t *d, size_t n, const char *cs, size_t chunk, struct fz *f,
		   int *wf, char *err, size_t errcap)
{
	struct xr_handlers h = {fz_start, fz_end, fz_text};
	struct xr_opts o = {cs, 1u << 16, 20.0f, 64};
	struct xr *x = xr_new(&o, &h, f);

	if (!x)
		abort();
	for (size_t off = 0; off < n; off += chunk)
		xr_feed(x, (const char *)d + off, n - off < chunk ? n - off : chunk);
	xr_finish(x);
	*wf = xr_wellformed(x);
	snprintf(err, errcap, "%s", xr_error(x) ? xr_error(x) : "");
	if (!fz_valid((const unsigned char *)xr_encoding(x), strlen(xr_encoding(x))))
		abort();
	xr_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *charsets[] = {NULL, NULL, NULL, NULL, "utf-16", "shift_jis", "koi8-r",
					 "x-bogus"};
	struct fz whole = {0}, parts = {0};
	char e1[256], e2[256];
	int wf1, wf2;
	const char *cs;
	size_t chunk;

	if (size < 1)
		return 0;
	cs = charsets[data[0] & 7];
	chunk = 1 + (data[0] >> 3);
	data++;
	size--;
	fz_run(data, size, cs, size ? size : 1, &whole, &wf1, e1, sizeof(e1));
	fz_run(data, size, cs, chunk, &parts, &wf2, e2, sizeof(e2));
	if (wf1 != wf2 ||
	    (whole.len != parts.len || (whole.len && memcmp(whole.s, parts.s, whole.len)))) {
		fprintf(stderr, "chunk %zu differs:\nwhole %d %s\n%.*s\nparts %d %s\n%.*s\n", chunk,
			wf1, e1, (int)whole.len, whole.s ? whole.s : "", wf2, e2, (int)parts.len,
			parts.s ? parts.s : "");
		abort();
	}
	free(whole.s);
	free(parts.s);
	return 0;
}
