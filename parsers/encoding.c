/*
 * encoding.c - encoding detection (RFC 7303) and streaming transcoding to
 * UTF-8.  See encoding.h.
 *
 * The decision waits for the document's first bytes (see enc_head_ready:
 * never more than ENC_HEAD_MAX, and never in a way that depends on how the
 * input is chunked): BOM, then the HTTP charset, then the declaration's
 * encoding (also after junk), else UTF-8.  A UTF-16 label on
 * a document that is plainly 8-bit (or an unknown label) is a contradiction:
 * the document is read as UTF-8 and flagged.
 */
#include "encoding.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENC_HEAD_MAX 1024
#define ENC_OBUF 65536
#define ENC_PEND_MAX 16

enum enc_mode { ENC_SNIFF, ENC_UTF8, ENC_ICONV, ENC_TABLE };

struct enc {
	struct enc_sink s;
	enum enc_mode mode;
	bool validate; /* UTF-8 is validated (else passed through as is) */
	bool flagged;
	char *http;
	char name[48];
	iconv_t cd;
	const uint16_t *high; /* ENC_TABLE: 0x80..0xFF */
	unsigned char head[ENC_HEAD_MAX];
	size_t headlen;
	unsigned char pend[ENC_PEND_MAX]; /* an incomplete sequence */
	size_t pendlen;
	char *obuf; /* converted output waiting for the sink */
	size_t olen, ocap;
	char *ibuf; /* iconv: pend + chunk */
	size_t icap;
};

/* windows-1252 0x80..0x9F; undefined bytes map to U+FFFD. */
static const uint16_t enc_cp1252_high[32] = {
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

/* Labels glibc's iconv does not know under the name feeds use, as keys
 * (letters and digits only, see enc_key). */
static const struct {
	const char *key, *iconv;
} enc_aliases[] = {
	{"xsjis", "SHIFT_JIS"},	   {"xmacroman", "MACINTOSH"},	 {"iso88598i", "ISO-8859-8"},
	{"ksc56011987", "CP949"},  {"xeucjp", "EUC-JP"},	 {"xgbk", "GBK"},
	{"xxbig5", "BIG5"},	   {"gb231280", "GB2312"},	 {"xcp1252", "CP1252"},
	{"xuserdefined", "CP1252"}, {"cpis", "CP861"},		 {"csibm861", "CP861"},
	{"macroman", "MACINTOSH"}, {"maciceland", "MAC-IS"},	 {"maclatin2", "MAC-CENTRALEUROPE"},
	{"maccentraleurope", "MAC-CENTRALEUROPE"},		 {"ebcdiccpbe", "IBM500"},
	{"ebcdiccpch", "IBM500"},  {"ebcdiccpca", "IBM037"},	 {"ebcdiccpus", "IBM037"},
	{"ebcdiccpnl", "IBM037"},  {"ebcdiccpwt", "IBM037"},	 {"ibm039", "IBM037"},
	{"xmaccyrillic", "MAC-CYRILLIC"}, {"xmacukrainian", "MACUKRAINIAN"},
};

/* "latin-1", "windows1252", "cp-1252", "win-1251": glibc takes these
 * only as LATIN1 / CP1252; the iconv name for such a key, or NULL. */
static const char *enc_family_name(const char *key, char *out, size_t cap)
{
	static const char *const cp[] = {"windows", "win", "cp"};
	size_t n;

	if (!strncmp(key, "latin", 5) && key[5] >= '1' && key[5] <= '9' &&
	    strspn(key + 5, "0123456789") == strlen(key + 5) && strlen(key + 5) <= 2) {
		snprintf(out, cap, "LATIN%s", key + 5);
		return out;
	}
	for (size_t i = 0; i < sizeof(cp) / sizeof(cp[0]); i++) {
		n = strlen(cp[i]);
		if (!strncmp(key, cp[i], n) && strlen(key + n) == 4 && !strncmp(key + n, "125", 3) &&
		    key[n + 3] >= '0' && key[n + 3] <= '8') {
			snprintf(out, cap, "CP%s", key + n);
			return out;
		}
	}
	return NULL;
}

/* Mac OS Greek and Turkish 0x80..0xFF (glibc's iconv has neither). */
static const uint16_t enc_mac_greek[128] = {
	0x00C4, 0x00B9, 0x00B2, 0x00C9, 0x00B3, 0x00D6, 0x00DC, 0x0385,
	0x00E0, 0x00E2, 0x00E4, 0x0384, 0x00A8, 0x00E7, 0x00E9, 0x00E8,
	0x00EA, 0x00EB, 0x00A3, 0x2122, 0x00EE, 0x00EF, 0x2022, 0x00BD,
	0x2030, 0x00F4, 0x00F6, 0x00A6, 0x20AC, 0x00F9, 0x00FB, 0x00FC,
	0x2020, 0x0393, 0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x00DF,
	0x00AE, 0x00A9, 0x03A3, 0x03AA, 0x00A7, 0x2260, 0x00B0, 0x00B7,
	0x0391, 0x00B1, 0x2264, 0x2265, 0x00A5, 0x0392, 0x0395, 0x0396,
	0x0397, 0x0399, 0x039A, 0x039C, 0x03A6, 0x03AB, 0x03A8, 0x03A9,
	0x03AC, 0x039D, 0x00AC, 0x039F, 0x03A1, 0x2248, 0x03A4, 0x00AB,
	0x00BB, 0x2026, 0x00A0, 0x03A5, 0x03A7, 0x0386, 0x0388, 0x0153,
	0x2013, 0x2015, 0x201C, 0x201D, 0x2018, 0x2019, 0x00F7, 0x0389,
	0x038A, 0x038C, 0x038E, 0x03AD, 0x03AE, 0x03AF, 0x03CC, 0x038F,
	0x03CD, 0x03B1, 0x03B2, 0x03C8, 0x03B4, 0x03B5, 0x03C6, 0x03B3,
	0x03B7, 0x03B9, 0x03BE, 0x03BA, 0x03BB, 0x03BC, 0x03BD, 0x03BF,
	0x03C0, 0x03CE, 0x03C1, 0x03C3, 0x03C4, 0x03B8, 0x03C9, 0x03C2,
	0x03C7, 0x03C5, 0x03B6, 0x03CA, 0x03CB, 0x0390, 0x03B0, 0x00AD,
};

static const uint16_t enc_mac_turkish[128] = {
	0x00C4, 0x00C5, 0x00C7, 0x00C9, 0x00D1, 0x00D6, 0x00DC, 0x00E1,
	0x00E0, 0x00E2, 0x00E4, 0x00E3, 0x00E5, 0x00E7, 0x00E9, 0x00E8,
	0x00EA, 0x00EB, 0x00ED, 0x00EC, 0x00EE, 0x00EF, 0x00F1, 0x00F3,
	0x00F2, 0x00F4, 0x00F6, 0x00F5, 0x00FA, 0x00F9, 0x00FB, 0x00FC,
	0x2020, 0x00B0, 0x00A2, 0x00A3, 0x00A7, 0x2022, 0x00B6, 0x00DF,
	0x00AE, 0x00A9, 0x2122, 0x00B4, 0x00A8, 0x2260, 0x00C6, 0x00D8,
	0x221E, 0x00B1, 0x2264, 0x2265, 0x00A5, 0x00B5, 0x2202, 0x2211,
	0x220F, 0x03C0, 0x222B, 0x00AA, 0x00BA, 0x03A9, 0x00E6, 0x00F8,
	0x00BF, 0x00A1, 0x00AC, 0x221A, 0x0192, 0x2248, 0x2206, 0x00AB,
	0x00BB, 0x2026, 0x00A0, 0x00C0, 0x00C3, 0x00D5, 0x0152, 0x0153,
	0x2013, 0x2014, 0x201C, 0x201D, 0x2018, 0x2019, 0x00F7, 0x25CA,
	0x00FF, 0x0178, 0x011E, 0x011F, 0x0130, 0x0131, 0x015E, 0x015F,
	0x2021, 0x00B7, 0x201A, 0x201E, 0x2030, 0x00C2, 0x00CA, 0x00C1,
	0x00CB, 0x00C8, 0x00CD, 0x00CE, 0x00CF, 0x00CC, 0x00D3, 0x00D4,
	0xF8FF, 0x00D2, 0x00DA, 0x00DB, 0x00D9, 0xF8A0, 0x02C6, 0x02DC,
	0x00AF, 0x02D8, 0x02D9, 0x02DA, 0x00B8, 0x02DD, 0x02DB, 0x02C7,
};

static const struct {
	const char *key;
	const uint16_t *high;
} enc_tables[] = {
	{"macgreek", enc_mac_greek},
	{"macturkish", enc_mac_turkish},
};

/* Returns the length of the valid prefix; *st: 0 all valid, 1 incomplete
 * sequence at the end, 2 invalid byte at the returned offset. */
static size_t enc_utf8_scan(const unsigned char *s, size_t n, int *st)
{
	size_t i = 0;

	for (;;) {
		uint64_t v;
		unsigned c, lo = 0x80, hi = 0xBF;
		size_t len, k;

		while (i + 8 <= n) {
			memcpy(&v, s + i, 8);
			if (v & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		while (i < n && s[i] < 0x80)
			i++;
		if (i >= n) {
			*st = 0;
			return i;
		}
		c = s[i];
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			*st = 2;
			return i;
		}
		for (k = 1; k < len; k++) {
			if (i + k >= n) {
				*st = 1;
				return i;
			}
			if (s[i + k] < lo || s[i + k] > hi) {
				*st = 2;
				return i;
			}
			lo = 0x80;
			hi = 0xBF;
		}
		i += len;
	}
}

size_t enc_utf8_valid(const unsigned char *s, size_t n)
{
	int st;

	return enc_utf8_scan(s, n, &st);
}

static void enc_flag(struct enc *e, const char *msg)
{
	if (e->flagged)
		return;
	e->flagged = true;
	if (e->s.bad)
		e->s.bad(e->s.ctx, msg);
}

static int enc_reserve(struct enc *e, size_t more)
{
	size_t n;
	char *nb;

	if (e->olen + more <= e->ocap)
		return 0;
	n = e->ocap ? e->ocap : 4096;
	while (n < e->olen + more)
		n *= 2;
	nb = realloc(e->obuf, n);
	if (!nb)
		return -1;
	e->obuf = nb;
	e->ocap = n;
	return 0;
}

static int enc_append(struct enc *e, const void *s, size_t n)
{
	if (n == 0)
		return 0;
	if (enc_reserve(e, n))
		return -1;
	memcpy(e->obuf + e->olen, s, n);
	e->olen += n;
	return 0;
}

static int enc_append_cp(struct enc *e, unsigned cp)
{
	unsigned char b[3];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	}
	return enc_append(e, b, n);
}

static int enc_append_cp1252(struct enc *e, unsigned char c)
{
	return enc_append_cp(e, c >= 0x80 && c < 0xA0 ? enc_cp1252_high[c - 0x80] : c);
}

static int enc_flush(struct enc *e)
{
	size_t n = e->olen;

	e->olen = 0;
	if (n == 0)
		return 0;
	return e->s.out(e->s.ctx, e->obuf, n);
}

/* Bytes that are not UTF-8: windows-1252, flagged once. */
static int enc_utf8_bad(struct enc *e, const unsigned char *s, size_t n, const char *msg)
{
	if (!e->flagged) {
		if (enc_flush(e))
			return -1;
		enc_flag(e, msg);
	}
	for (size_t i = 0; i < n; i++)
		if (enc_append_cp1252(e, s[i]))
			return -1;
	return 0;
}

/* Completes the sequence left over from the previous chunk; returns how
 * many bytes of s it used, or (size_t)-1. */
static size_t enc_utf8_pending(struct enc *e, const unsigned char *s, size_t n)
{
	unsigned char tmp[8];
	size_t k = n < 4 ? n : 4, v;
	int st;

	memcpy(tmp, e->pend, e->pendlen);
	memcpy(tmp + e->pendlen, s, k);
	v = enc_utf8_scan(tmp, e->pendlen + k, &st);
	if (v > 0) { /* the first sequence completed: take only it */
		size_t seq = e->pendlen + 1;

		while (seq < v && (tmp[seq] & 0xC0) == 0x80)
			seq++;
		size_t had = e->pendlen;

		e->pendlen = 0;
		if (enc_append(e, tmp, seq) || enc_flush(e))
			return (size_t)-1;
		return seq - had;
	}
	if (st == 1) { /* still incomplete: n was tiny */
		memcpy(e->pend + e->pendlen, s, n);
		e->pendlen += n;
		return n;
	}
	if (enc_utf8_bad(e, e->pend, e->pendlen, "invalid UTF-8, read as windows-1252"))
		return (size_t)-1;
	e->pendlen = 0;
	return 0;
}

static int enc_utf8(struct enc *e, const unsigned char *s, size_t n, bool final)
{
	size_t i = 0, run, v;
	int st = 0;

	if (e->pendlen && n) {
		v = enc_utf8_pending(e, s, n);
		if (v == (size_t)-1)
			return -1;
		i = v;
	}
	run = i;
	while (i < n) {
		i += enc_utf8_scan(s + i, n - i, &st);
		if (st != 2)
			break;
		if (enc_append(e, s + run, i - run) ||
		    enc_utf8_bad(e, s + i, 1, "invalid UTF-8, read as windows-1252"))
			return -1;
		run = ++i;
		st = 0;
	}
	if (e->olen == 0) {
		if (i > run && e->s.out(e->s.ctx, (const char *)s + run, i - run))
			return -1;
	} else if (enc_append(e, s + run, i - run) || enc_flush(e)) {
		return -1;
	}
	if (st == 1) {
		memcpy(e->pend, s + i, n - i);
		e->pendlen = n - i;
	}
	if (final && e->pendlen) {
		if (enc_utf8_bad(e, e->pend, e->pendlen, "truncated UTF-8 sequence") ||
		    enc_flush(e))
			return -1;
		e->pendlen = 0;
	}
	return 0;
}

static int enc_iconv_bad(struct enc *e)
{
	if (!e->flagged) {
		if (enc_flush(e))
			return -1;
		enc_flag(e, "bytes invalid in the document's encoding");
	}
	return enc_append_cp(e, 0xFFFD);
}

static int enc_iconv(struct enc *e, const unsigned char *s, size_t n, bool final)
{
	char *ip = (char *)s;
	size_t il = n;

	if (e->pendlen) {
		if (e->icap < e->pendlen + n) {
			char *nb = realloc(e->ibuf, e->pendlen + n);
			if (!nb)
				return -1;
			e->ibuf = nb;
			e->icap = e->pendlen + n;
		}
		memcpy(e->ibuf, e->pend, e->pendlen);
		if (n)
			memcpy(e->ibuf + e->pendlen, s, n);
		ip = e->ibuf;
		il = e->pendlen + n;
		e->pendlen = 0;
	}
	if (e->ocap < ENC_OBUF && enc_reserve(e, ENC_OBUF))
		return -1;
	while (il > 0) {
		char *op;
		size_t ol;

		if (e->ocap - e->olen < 16 && enc_flush(e))
			return -1;
		op = e->obuf + e->olen;
		ol = e->ocap - e->olen;
		if (iconv(e->cd, &ip, &il, &op, &ol) != (size_t)-1) {
			e->olen = (size_t)(op - e->obuf);
			break;
		}
		e->olen = (size_t)(op - e->obuf);
		if (errno == E2BIG) {
			if (enc_flush(e))
				return -1;
			continue;
		}
		if (errno == EINVAL && !final && il <= ENC_PEND_MAX) {
			memcpy(e->pend, ip, il);
			e->pendlen = il;
			break;
		}
		if (enc_iconv_bad(e))
			return -1;
		ip++;
		il--;
	}
	if (final) {
		char *op;
		size_t ol;

		if (enc_reserve(e, 64))
			return -1;
		op = e->obuf + e->olen;
		ol = e->ocap - e->olen;
		iconv(e->cd, NULL, NULL, &op, &ol);
		e->olen = (size_t)(op - e->obuf);
	}
	return enc_flush(e);
}

/* A single-byte table encoding: ASCII runs copied as they are. */
static int enc_table(struct enc *e, const unsigned char *s, size_t n)
{
	size_t i = 0, run = 0;

	if (!n)
		return enc_flush(e);
	for (; i < n; i++) {
		if (s[i] < 0x80)
			continue;
		if (enc_append(e, s + run, i - run) || enc_append_cp(e, e->high[s[i] - 0x80]))
			return -1;
		run = i + 1;
	}
	if (enc_append(e, s + run, n - run))
		return -1;
	return enc_flush(e);
}

static int enc_convert(struct enc *e, const unsigned char *s, size_t n, bool final)
{
	if (e->mode == ENC_TABLE)
		return enc_table(e, s, n);
	if (e->mode == ENC_UTF8 && !e->validate)
		return n ? e->s.out(e->s.ctx, (const char *)s, n) : 0;
	if (e->mode == ENC_UTF8)
		return enc_utf8(e, s, n, final);
	return enc_iconv(e, s, n, final);
}

static void enc_lower(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i = 0;

	while (n && (*src == ' ' || *src == '\t')) {
		src++;
		n--;
	}
	while (n && (src[n - 1] == ' ' || src[n - 1] == '\t'))
		n--;
	if (n >= 2 && (src[0] == '"' || src[0] == '\'') && src[n - 1] == src[0]) {
		src++;
		n -= 2;
	}
	for (; i + 1 < cap && i < n; i++) {
		char c = src[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-_.:+()", c)))
			c = '?'; /* no encoding name has it: iconv will refuse */
		dst[i] = c;
	}
	dst[i] = '\0';
}

static const unsigned char *enc_decl(const unsigned char *h, size_t n);

/* The declaration's encoding value (its first byte, *len bytes), or NULL. */
static unsigned char *enc_decl_value(unsigned char *h, size_t n, size_t *len)
{
	const char *p = (const char *)enc_decl(h, n), *end, *q;
	char quote;

	if (!p)
		return NULL;
	end = memmem(p, n - (size_t)(p - (const char *)h), "?>", 2);
	if (!end)
		end = (const char *)h + n;
	q = memmem(p, (size_t)(end - p), "encoding", 8);
	if (!q)
		return NULL;
	q += 8;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
		q++;
	if (q >= end || *q++ != '=')
		return NULL;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
		q++;
	if (q >= end || (*q != '"' && *q != '\''))
		return NULL;
	quote = *q++;
	p = memchr(q, quote, (size_t)(end - q));
	if (!p)
		return NULL;
	*len = (size_t)(p - q);
	return h + (q - (const char *)h);
}

/* The declaration's encoding="..." (lower case) into out, or "". */
static void enc_declared(unsigned char *h, size_t n, char *out, size_t cap)
{
	size_t len = 0;
	const unsigned char *v = enc_decl_value(h, n, &len);

	out[0] = '\0';
	if (v)
		enc_lower(out, cap, (const char *)v, len);
}

/* Labels such as "437" that iconv knows but XML's EncName grammar (a letter
 * first) does not: the parser reads UTF-8 from us whatever the label says,
 * so the copy passed on gets a letter first ("x37") instead of a syntax error,
 * as feedparser, which rewrites the declaration, reads such documents. */
static void enc_decl_fix_name(unsigned char *h, size_t n)
{
	size_t len = 0;
	unsigned char *v = enc_decl_value(h, n, &len);

	if (v && len && !((*v | 0x20) >= 'a' && (*v | 0x20) <= 'z'))
		*v = 'x';
}

/* The first start tag ('<' and a name character) in h, or NULL. */
static const unsigned char *enc_first_tag(const unsigned char *h, size_t n)
{
	for (const unsigned char *p = h; (p = memchr(p, '<', n - (size_t)(p - h))); p++) {
		if (p + 1 >= h + n)
			return NULL;
		if ((p[1] | 32) >= 'a' && (p[1] | 32) <= 'z')
			return p;
		if (p[1] == '_' || p[1] == ':' || p[1] >= 0x80)
			return p;
	}
	return NULL;
}

/* The XML declaration: the first "<?xml" before the first start tag. */
static const unsigned char *enc_decl(const unsigned char *h, size_t n)
{
	const unsigned char *x = memmem(h, n, "<?xml", 5), *t = enc_first_tag(h, n);

	return x && (!t || x < t) ? x : NULL;
}

static bool enc_bom_or_16bit(const unsigned char *h, size_t n)
{
	return n >= 4 && ((h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) ||
			  (h[0] == 0xFF && h[1] == 0xFE) || (h[0] == 0xFE && h[1] == 0xFF) ||
			  (h[0] == 0 && h[1] == 0 && h[2] == 0xFE && h[3] == 0xFF) ||
			  (h[0] && !h[1] && h[2] && !h[3]) || (!h[0] && h[1] && !h[2] && h[3]));
}

/* Ready to decide, with the same outcome as on the first ENC_HEAD_MAX
 * bytes (so the decision never depends on how the input is chunked): a BOM
 * or 16-bit pattern; a complete declaration; a start tag with no
 * declaration before it. */
static bool enc_head_ready(const unsigned char *h, size_t n)
{
	const unsigned char *x;

	if (n >= ENC_HEAD_MAX || enc_bom_or_16bit(h, n))
		return true;
	if (n < 4)
		return false;
	x = enc_decl(h, n);
	if (x)
		return memmem(x, n - (size_t)(x - h), "?>", 2) != NULL;
	return enc_first_tag(h, n) != NULL;
}

static void enc_set_name(struct enc *e, const char *name)
{
	enc_lower(e->name, sizeof(e->name), name, strlen(name));
}

static int enc_open_iconv(struct enc *e, const char *iconv_name, const char *name)
{
	iconv_t cd = iconv_open("UTF-8", iconv_name);

	if (cd == (iconv_t)-1)
		return -1;
	e->cd = cd;
	e->mode = ENC_ICONV;
	enc_set_name(e, name);
	return 0;
}

/* "windows_1252" as "windows-1252": glibc knows the dashed names. */
static int enc_open_iconv_dashed(struct enc *e, const char *label)
{
	char dashed[48];
	size_t i;

	if (!strchr(label, '_'))
		return -1;
	for (i = 0; label[i] && i + 1 < sizeof(dashed); i++)
		dashed[i] = label[i] == '_' ? '-' : label[i];
	dashed[i] = '\0';
	return enc_open_iconv(e, dashed, label);
}

/* The label's letters and digits only ("UTF_8" -> "utf8"), as glibc
 * compares names. */
static void enc_key(char *dst, size_t cap, const char *l)
{
	size_t i = 0;

	for (; *l && i + 1 < cap; l++)
		if ((*l >= 'a' && *l <= 'z') || (*l >= '0' && *l <= '9'))
			dst[i++] = *l;
	dst[i] = '\0';
}

static bool enc_is_utf16_label(const char *k)
{
	return !strncmp(k, "utf16", 5) || !strncmp(k, "ucs2", 4) || !strncmp(k, "utf32", 5) ||
	       !strncmp(k, "ucs4", 4) || !strcmp(k, "unicode");
}

/* Tries a label; 0 when it is usable. */
static int enc_try_label(struct enc *e, const char *label)
{
	static const char *const ascii[] = {"usascii", "ascii", "ansix341968", "iso646us",
					    "us"};
	char key[48], family[56];
	size_t i;

	if (!*label)
		return -1;
	enc_key(key, sizeof(key), label);
	if (!strcmp(key, "utf8") || !strcmp(key, "unicode11utf8")) {
		e->mode = ENC_UTF8;
		enc_set_name(e, "utf-8");
		return 0;
	}
	for (i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++) {
		if (!strcmp(key, ascii[i])) {
			e->mode = ENC_UTF8;
			enc_set_name(e, "us-ascii");
			return 0;
		}
	}
	if (!strncmp(key, "utf7", 4) || !strcmp(key, "unicode11utf7"))
		return -1; /* refused, like browsers: a classic filter bypass */
	if (enc_is_utf16_label(key)) {
		/* no BOM and no 16-bit pattern: the bytes say otherwise */
		e->mode = ENC_UTF8;
		enc_set_name(e, "utf-8");
		enc_flag(e, "document labelled UTF-16/32 is not, read as UTF-8");
		return 0;
	}
	for (i = 0; i < sizeof(enc_tables) / sizeof(enc_tables[0]); i++) {
		if (!strcmp(key, enc_tables[i].key)) {
			e->mode = ENC_TABLE;
			e->high = enc_tables[i].high;
			enc_set_name(e, label);
			return 0;
		}
	}
	for (i = 0; i < sizeof(enc_aliases) / sizeof(enc_aliases[0]); i++)
		if (!strcmp(key, enc_aliases[i].key))
			return enc_open_iconv(e, enc_aliases[i].iconv, label);
	if (enc_family_name(key, family, sizeof(family)))
		return enc_open_iconv(e, family, label);
	if (!enc_open_iconv(e, label, label))
		return 0;
	return enc_open_iconv_dashed(e, label);
}

/* An EBCDIC document ("<?xm" in code page 037): its declaration read
 * through IBM037 names the exact EBCDIC page; 0 or -1. */
static int enc_start_ebcdic(struct enc *e, const unsigned char *h, size_t n)
{
	iconv_t cd = iconv_open("UTF-8", "IBM037");
	char in[ENC_HEAD_MAX], out[ENC_HEAD_MAX * 2], decl[48];
	char *ip = in, *op = out;
	size_t il = n, ol = sizeof(out) - 1;

	if (cd == (iconv_t)-1)
		return -1;
	memcpy(in, h, n);
	iconv(cd, &ip, &il, &op, &ol);
	iconv_close(cd);
	*op = '\0';
	enc_declared((unsigned char *)out, (size_t)(op - out), decl, sizeof(decl));
	if (!enc_try_label(e, decl))
		return 0;
	return enc_open_iconv(e, "IBM037", "ibm037");
}

/* Decides the encoding from head and passes head on; 0 or -1. */
static int enc_start(struct enc *e)
{
	unsigned char *h = e->head;
	size_t n = e->headlen, skip = 0;
	char decl[48];

	if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
		e->mode = ENC_UTF8;
		enc_set_name(e, "utf-8");
		skip = 3;
	} else if (n >= 4 && h[0] == 0xFF && h[1] == 0xFE && h[2] == 0 && h[3] == 0) {
		skip = enc_open_iconv(e, "UTF-32LE", "utf-32le") ? 0 : 4;
	} else if (n >= 4 && h[0] == 0 && h[1] == 0 && h[2] == 0xFE && h[3] == 0xFF) {
		skip = enc_open_iconv(e, "UTF-32BE", "utf-32be") ? 0 : 4;
	} else if (n >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
		skip = enc_open_iconv(e, "UTF-16LE", "utf-16le") ? 0 : 2;
	} else if (n >= 2 && h[0] == 0xFE && h[1] == 0xFF) {
		skip = enc_open_iconv(e, "UTF-16BE", "utf-16be") ? 0 : 2;
	} else if (n >= 4 && h[0] && !h[1] && h[2] && !h[3]) {
		enc_open_iconv(e, "UTF-16LE", "utf-16le");
	} else if (n >= 4 && !h[0] && h[1] && !h[2] && h[3]) {
		enc_open_iconv(e, "UTF-16BE", "utf-16be");
	} else if (n >= 4 && h[0] == 0x4C && h[1] == 0x6F && h[2] == 0xA7 && h[3] == 0x94) {
		enc_start_ebcdic(e, h, n);
	} else {
		enc_declared(h, n, decl, sizeof(decl));
		if ((!e->http || enc_try_label(e, e->http)) && enc_try_label(e, decl)) {
			e->mode = ENC_UTF8;
			enc_set_name(e, "utf-8");
			if (*decl || (e->http && *e->http))
				enc_flag(e, "unknown encoding, read as UTF-8");
		} else if (e->mode == ENC_ICONV) {
			enc_decl_fix_name(h, n);
		}
	}
	if (e->mode == ENC_SNIFF) { /* iconv without UTF-16/32 */
		e->mode = ENC_UTF8;
		enc_set_name(e, "utf-8");
	}
	return enc_convert(e, h + skip, n - skip, false);
}

struct enc *enc_new(const char *http_charset, const struct enc_sink *sink, bool lazy_utf8)
{
	struct enc *e = calloc(1, sizeof(*e));
	char tmp[48];

	if (!e)
		return NULL;
	e->s = *sink;
	e->validate = !lazy_utf8;
	e->cd = (iconv_t)-1;
	enc_set_name(e, "utf-8");
	if (http_charset && *http_charset) {
		enc_lower(tmp, sizeof(tmp), http_charset, strlen(http_charset));
		if (*tmp && !(e->http = strdup(tmp))) {
			free(e);
			return NULL;
		}
	}
	return e;
}

int enc_feed(struct enc *e, const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;

	if (e->mode == ENC_SNIFF) {
		size_t take = len < ENC_HEAD_MAX - e->headlen ? len : ENC_HEAD_MAX - e->headlen;

		memcpy(e->head + e->headlen, s, take);
		e->headlen += take;
		s += take;
		len -= take;
		if (!enc_head_ready(e->head, e->headlen))
			return 0;
		if (enc_start(e))
			return -1;
	}
	if (len == 0)
		return 0;
	return enc_convert(e, s, len, false);
}

int enc_finish(struct enc *e)
{
	if (e->mode == ENC_SNIFF && enc_start(e))
		return -1;
	return enc_convert(e, NULL, 0, true);
}

bool enc_raw(const struct enc *e)
{
	return e->mode == ENC_UTF8 && !e->validate;
}

int enc_validate(struct enc *e, const char *s, size_t n)
{
	e->validate = true;
	if (e->mode != ENC_UTF8 || n == 0)
		return 0;
	return enc_utf8(e, (const unsigned char *)s, n, false);
}

const char *enc_name(const struct enc *e)
{
	return e->name;
}

void enc_free(struct enc *e)
{
	if (!e)
		return;
	if (e->cd != (iconv_t)-1)
		iconv_close(e->cd);
	free(e->http);
	free(e->obuf);
	free(e->ibuf);
	free(e);
}
