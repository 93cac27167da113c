/*
 * json.c - byte buffers and the JSON output of the feed model.
 *
 * json_str is the one place that turns parser strings into JSON: it never
 * emits invalid UTF-8 (bad bytes become U+FFFD), escapes every control
 * character and U+2028 / U+2029 (which JavaScript treats as line breaks).
 * Runs of plain bytes are copied with one memcpy each.
 */
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
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

#define JSON_ONES 0x0101010101010101ull
#define JSON_HIGHS 0x8080808080808080ull

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

/*
 * true when s is valid UTF-8 without U+2028 / U+2029: then only ASCII
 * bytes can need escaping.  ASCII runs are skipped eight bytes at a time.
 */
static __attribute__((unused)) bool json_utf8_clean_scalar(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			w &= JSON_HIGHS;
			if (!w) {
				i += 8;
				continue;
			}
			i += (size_t)__builtin_ctzll(w) >> 3; /* the first high byte */
		}
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
		} else if (c < 0xe0) {
			if (c < 0xc2 || i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
				return false;
			i += 2;
		} else if (c < 0xf0) {
			if (i + 2 >= n || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80 ||
			    (c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0) ||
			    (c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8))
				return false;
			i += 3;
		} else {
			if (json_utf8_len(s + i, n - i) != 4)
				return false;
			i += 4;
		}
	}
	return true;
}

/* true when one of the 8 bytes at s is a control character, '"' or '\\'
 * (may say true for a word that has none: the caller then looks closer). */
static inline uint64_t json_esc8(const unsigned char *s)
{
	uint64_t w;
	memcpy(&w, s, 8);
	uint64_t q = w ^ (JSON_ONES * '"');
	uint64_t bs = w ^ (JSON_ONES * '\\');
	uint64_t hit = ((w - JSON_ONES * 0x20) & ~w) | ((q - JSON_ONES) & ~q) |
		       ((bs - JSON_ONES) & ~bs);
	return hit & JSON_HIGHS;
}

/* The fast path: s is clean UTF-8, only ASCII specials get escaped. */
static __attribute__((unused)) int json_str_clean_scalar(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i = 0, run = 0;
	while (i < n) {
		if (i + 8 <= n) {
			uint64_t m = json_esc8(s + i);
			if (!m) {
				i += 8;
				continue;
			}
			i += (size_t)__builtin_ctzll(m) >> 3; /* the first candidate */
		}
		unsigned char c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (buf_append(b, s + run, i - run) || json_escape_ctl(b, c))
			return -1;
		run = ++i;
	}
	return buf_append(b, s + run, n - run);
}

#ifdef __SSE2__
/*
 * SSE2 versions of the two fast-path scans, 16 bytes per step.  The UTF-8
 * check looks at every byte independently of the others (no decoding
 * loop, no unpredictable branches): a byte must be a continuation byte
 * exactly when one of the three bytes before it is a lead byte that asks
 * for it, plus the range rules for the byte after E0, ED, F0 and F4.
 */
static inline __m128i json_prev(__m128i cur, __m128i prev, int k)
{
	switch (k) {
	case 1:
		return _mm_or_si128(_mm_slli_si128(cur, 1), _mm_srli_si128(prev, 15));
	case 2:
		return _mm_or_si128(_mm_slli_si128(cur, 2), _mm_srli_si128(prev, 14));
	default:
		return _mm_or_si128(_mm_slli_si128(cur, 3), _mm_srli_si128(prev, 13));
	}
}

#define JSON_B(c) _mm_set1_epi8((char)(c))

/* bytes >= c (unsigned) */
static inline __m128i json_ge(__m128i x, unsigned char c)
{
	return _mm_cmpeq_epi8(_mm_max_epu8(x, JSON_B(c)), x);
}

/* Non-zero when the block x (after the block prev) breaks a rule. */
static inline int json_utf8_block_bad(__m128i x, __m128i prev)
{
	__m128i p1 = json_prev(x, prev, 1), p2 = json_prev(x, prev, 2), p3 = json_prev(x, prev, 3);
	__m128i is_cont = _mm_cmplt_epi8(x, JSON_B(0xc0));
	__m128i must = _mm_or_si128(_mm_or_si128(json_ge(p1, 0xc0), json_ge(p2, 0xe0)),
				    json_ge(p3, 0xf0));
	__m128i err = _mm_xor_si128(is_cont, must);
	err = _mm_or_si128(err, _mm_cmpeq_epi8(_mm_and_si128(x, JSON_B(0xfe)), JSON_B(0xc0)));
	err = _mm_or_si128(err, json_ge(x, 0xf5));
	err = _mm_or_si128(err, _mm_and_si128(_mm_cmpeq_epi8(p1, JSON_B(0xe0)),
					      _mm_cmplt_epi8(x, JSON_B(0xa0))));
	err = _mm_or_si128(err, _mm_and_si128(_mm_cmpeq_epi8(p1, JSON_B(0xed)),
					      _mm_cmpgt_epi8(x, JSON_B(0x9f))));
	err = _mm_or_si128(err, _mm_and_si128(_mm_cmpeq_epi8(p1, JSON_B(0xf0)),
					      _mm_cmplt_epi8(x, JSON_B(0x90))));
	err = _mm_or_si128(err, _mm_and_si128(_mm_cmpeq_epi8(p1, JSON_B(0xf4)),
					      _mm_cmpgt_epi8(x, JSON_B(0x8f))));
	/* U+2028 / U+2029 (E2 80 A8 / A9) count as "not clean" too */
	err = _mm_or_si128(err, _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(p2, JSON_B(0xe2)),
							    _mm_cmpeq_epi8(p1, JSON_B(0x80))),
					      _mm_cmpeq_epi8(_mm_and_si128(x, JSON_B(0xfe)),
							     JSON_B(0xa8))));
	return _mm_movemask_epi8(err);
}

static __attribute__((unused)) bool json_utf8_clean(const unsigned char *s, size_t n)
{
	__m128i prev = _mm_setzero_si128();
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(s + i));
		/* an ASCII block after a block that ends on a complete character */
		if (!_mm_movemask_epi8(x) &&
		    !_mm_movemask_epi8(json_ge(_mm_srli_si128(prev, 13), 0xc0))) {
			prev = x;
			continue;
		}
		if (json_utf8_block_bad(x, prev))
			return false;
		prev = x;
	}
	/* the tail, zero-padded: a sequence cut by the end shows as an error */
	unsigned char t[16] = {0};
	memcpy(t, s + i, n - i);
	return !json_utf8_block_bad(_mm_loadu_si128((const __m128i *)t), prev);
}

static __attribute__((unused)) int json_str_clean(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i = 0, run = 0;
	const __m128i q = JSON_B('"'), bs = JSON_B('\\'), ctl = JSON_B(0x1f);
	while (i < n) {
		if (i + 16 <= n) {
			__m128i x = _mm_loadu_si128((const __m128i *)(s + i));
			__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
						   _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
			unsigned m = (unsigned)_mm_movemask_epi8(hit);
			if (!m) {
				i += 16;
				continue;
			}
			i += (size_t)__builtin_ctz(m);
		}
		unsigned char c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (buf_append(b, s + run, i - run) || json_escape_ctl(b, c))
			return -1;
		run = ++i;
	}
	return buf_append(b, s + run, n - run);
}

/*
 * One pass over s in 16-byte steps: validates UTF-8 (blocks with high
 * bytes, and the block after one) and escapes ASCII specials as it goes.
 * Returns 0, -1 when out of memory, 1 when s is not clean UTF-8 (the
 * caller then starts over with the general path).
 */
/*
 * Escapes the bytes of s flagged in mask m (bit k: s[i + k] needs an
 * escape), copying the unescaped run before each; *run is the first byte
 * not yet copied.  Shared by the 16- and 32-byte passes.
 */
static int json_escape_hits(struct buf *b, const unsigned char *s, size_t n, size_t i,
			    uint32_t m, size_t *run)
{
	while (m) {
		size_t pos = i + (size_t)__builtin_ctz(m);
		unsigned char c = s[pos];
		/* room for the run, this escape and the rest unescaped */
		if (b->cap - b->len < (n - *run) + 8 && buf_grow(b, b->len + (n - *run) + 8))
			return -1;
		memcpy(b->data + b->len, s + *run, pos - *run);
		b->len += pos - *run;
		if (c == '"' || c == '\\' || c == '\n') {
			b->data[b->len++] = '\\';
			b->data[b->len++] = c == '\n' ? 'n' : (char)c;
		} else if (json_escape_ctl(b, c)) {
			return -1;
		}
		*run = pos + 1;
		m &= m - 1;
	}
	return 0;
}

static int json_str_onepass(struct buf *b, const unsigned char *s, size_t n)
{
	const __m128i q = JSON_B('"'), bs = JSON_B('\\'), ctl = JSON_B(0x1f);
	__m128i prev = _mm_setzero_si128();
	int prev_hi = 0;
	size_t i = 0, run = 0;
	for (;; i += 16) {
		__m128i x;
		unsigned valid = 0xffff;
		unsigned char t[16];
		bool tail = i + 16 > n;
		if (!tail) {
			x = _mm_loadu_si128((const __m128i *)(s + i));
		} else {
			memset(t, 0, sizeof t);
			memcpy(t, s + i, n - i);
			x = _mm_loadu_si128((const __m128i *)t);
			valid = (1u << (n - i)) - 1;
		}
		int hi = _mm_movemask_epi8(x);
		if ((hi || prev_hi || tail) && json_utf8_block_bad(x, prev))
			return 1;
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
					   _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
		unsigned m = (unsigned)_mm_movemask_epi8(hit) & valid;
		if (m && json_escape_hits(b, s, n, i, m, &run))
			return -1;
		if (tail)
			break;
		prev = x;
		prev_hi = hi;
	}
	return buf_append(b, s + run, n - run);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define JSON_AVX2 1
/*
 * The same pass 32 bytes at a time on CPUs with AVX2 (chosen at run time;
 * the build stays baseline x86-64).  Within a 256-bit register the bytes
 * before each byte come from alignr over [previous high lane, this low
 * lane] and [this low lane, this high lane].
 */
#define JSON_B32(c) _mm256_set1_epi8((char)(c))

/*
 * UTF-8 errors in the block x (after the block prev), by table lookups on
 * the nibbles of each byte and of the byte before it (the method of
 * Keiser and Lemire, "Validating UTF-8 in less than one instruction per
 * byte", 2021): each table gives the error classes a nibble allows, and a
 * byte pair is wrong when all three agree; whether a byte must be the 3rd
 * or 4th of a sequence comes from the lead bytes two and three back.
 * U+2028 / U+2029 (E2 80 A8 / A9) count as errors too.  Non-zero: bad.
 */
enum {
	JSON_TOO_SHORT = 1 << 0,   /* lead byte not followed by a continuation */
	JSON_TOO_LONG = 1 << 1,	   /* continuation after ASCII */
	JSON_OVERLONG_3 = 1 << 2,  /* E0 80..9F */
	JSON_TOO_LARGE = 1 << 3,   /* F4 90.., F5.. */
	JSON_SURROGATE = 1 << 4,   /* ED A0..BF */
	JSON_OVERLONG_2 = 1 << 5,  /* C0, C1 */
	JSON_TOO_LARGE_1000 = 1 << 6,
	JSON_OVERLONG_4 = 1 << 6,  /* F0 80..8F */
	JSON_TWO_CONTS = 1 << 7,   /* continuation after continuation */
	JSON_CARRY = JSON_TOO_SHORT | JSON_TOO_LONG | JSON_TWO_CONTS,
};


/* The pass's constants.  Built once per string and hidden from the
 * optimizer (json_k32_init): as plain constants GCC rebuilds each splat in
 * every iteration of the loop. */
struct json_k32 {
	__m256i nib, e0, f0, hi, e2, fe, a8, tab1h, tab1l, tab2h, q, bs, ctl;
};

#define JSON_TL (JSON_CARRY | JSON_TOO_LARGE | JSON_TOO_LARGE_1000)
#define JSON_CONT (JSON_TOO_LONG | JSON_OVERLONG_2 | JSON_TWO_CONTS)

/* Error classes allowed by the high nibble of the byte before, by its low
 * nibble, and by the high nibble of the byte itself. */
static const unsigned char json_tab[3][16] = {
	{JSON_TOO_LONG, JSON_TOO_LONG, JSON_TOO_LONG, JSON_TOO_LONG, JSON_TOO_LONG, JSON_TOO_LONG,
	 JSON_TOO_LONG, JSON_TOO_LONG, JSON_TWO_CONTS, JSON_TWO_CONTS, JSON_TWO_CONTS,
	 JSON_TWO_CONTS, JSON_TOO_SHORT | JSON_OVERLONG_2, JSON_TOO_SHORT,
	 JSON_TOO_SHORT | JSON_OVERLONG_3 | JSON_SURROGATE,
	 JSON_TOO_SHORT | JSON_TOO_LARGE | JSON_TOO_LARGE_1000 | JSON_OVERLONG_4},
	{JSON_CARRY | JSON_OVERLONG_3 | JSON_OVERLONG_2 | JSON_OVERLONG_4,
	 JSON_CARRY | JSON_OVERLONG_2, JSON_CARRY, JSON_CARRY, JSON_CARRY | JSON_TOO_LARGE, JSON_TL,
	 JSON_TL, JSON_TL, JSON_TL, JSON_TL, JSON_TL, JSON_TL, JSON_TL, JSON_TL | JSON_SURROGATE,
	 JSON_TL, JSON_TL},
	{JSON_TOO_SHORT, JSON_TOO_SHORT, JSON_TOO_SHORT, JSON_TOO_SHORT, JSON_TOO_SHORT,
	 JSON_TOO_SHORT, JSON_TOO_SHORT, JSON_TOO_SHORT,
	 JSON_CONT | JSON_OVERLONG_3 | JSON_TOO_LARGE_1000 | JSON_OVERLONG_4,
	 JSON_CONT | JSON_OVERLONG_3 | JSON_TOO_LARGE, JSON_CONT | JSON_SURROGATE | JSON_TOO_LARGE,
	 JSON_CONT | JSON_SURROGATE | JSON_TOO_LARGE, JSON_TOO_SHORT, JSON_TOO_SHORT,
	 JSON_TOO_SHORT, JSON_TOO_SHORT},
};

/* A 16-byte table in both lanes. */
#define JSON_TAB16(t) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t)))

__attribute__((target("avx2"))) static inline void json_k32_init(struct json_k32 *k)
{
	k->nib = JSON_B32(0x0f);
	k->e0 = JSON_B32(0xe0 - 0x80);
	k->f0 = JSON_B32(0xf0 - 0x80);
	k->hi = JSON_B32(0x80);
	k->e2 = JSON_B32(0xe2);
	k->fe = JSON_B32(0xfe);
	k->a8 = JSON_B32(0xa8);
	k->q = JSON_B32('"');
	k->bs = JSON_B32('\\');
	k->ctl = JSON_B32(0x1f);
	k->tab1h = JSON_TAB16(json_tab[0]);
	k->tab1l = JSON_TAB16(json_tab[1]);
	k->tab2h = JSON_TAB16(json_tab[2]);
	__asm__("" : "+x"(k->nib), "+x"(k->e0), "+x"(k->f0), "+x"(k->hi), "+x"(k->e2),
		"+x"(k->fe), "+x"(k->a8));
	__asm__("" : "+x"(k->tab1h), "+x"(k->tab1l), "+x"(k->tab2h), "+x"(k->q), "+x"(k->bs),
		"+x"(k->ctl));
}

__attribute__((target("avx2"))) static inline __m256i json_utf8_err32(const struct json_k32 *k,
								      __m256i x, __m256i prev)
{
	__m256i t = _mm256_permute2x128_si256(prev, x, 0x21);
	__m256i p1 = _mm256_alignr_epi8(x, t, 15), p2 = _mm256_alignr_epi8(x, t, 14),
		p3 = _mm256_alignr_epi8(x, t, 13);
	__m256i b1h = _mm256_shuffle_epi8(k->tab1h, _mm256_and_si256(_mm256_srli_epi16(p1, 4), k->nib));
	__m256i b1l = _mm256_shuffle_epi8(k->tab1l, _mm256_and_si256(p1, k->nib));
	__m256i b2h = _mm256_shuffle_epi8(k->tab2h, _mm256_and_si256(_mm256_srli_epi16(x, 4), k->nib));
	__m256i special = _mm256_and_si256(_mm256_and_si256(b1h, b1l), b2h);
	/* only 111xxxxx two back and 1111xxxx three back stay >= 0x80 */
	__m256i must23 = _mm256_or_si256(_mm256_subs_epu8(p2, k->e0), _mm256_subs_epu8(p3, k->f0));
	__m256i err = _mm256_xor_si256(special, _mm256_and_si256(must23, k->hi));
	__m256i ls = _mm256_and_si256(_mm256_and_si256(_mm256_cmpeq_epi8(p2, k->e2),
						       _mm256_cmpeq_epi8(p1, k->hi)),
				      _mm256_cmpeq_epi8(_mm256_and_si256(x, k->fe), k->a8));
	return _mm256_or_si256(err, ls);
}

/* t = the last len (< 32) bytes of a string, zero-padded: with two
 * overlapping fixed-size copies (inlined) instead of a memcpy call, since
 * every string ends in one. */
static inline void json_tail32(unsigned char t[32], const unsigned char *p, size_t len)
{
	memset(t, 0, 32);
	if (len >= 16) {
		memcpy(t, p, 16);
		memcpy(t + len - 16, p + len - 16, 16);
	} else if (len >= 8) {
		memcpy(t, p, 8);
		memcpy(t + len - 8, p + len - 8, 8);
	} else if (len >= 4) {
		memcpy(t, p, 4);
		memcpy(t + len - 4, p + len - 4, 4);
	} else if (len) {
		t[0] = p[0];
		t[len / 2] = p[len / 2];
		t[len - 1] = p[len - 1];
	}
}

__attribute__((target("avx2"))) static int json_str_onepass32(struct buf *b, const unsigned char *s,
							      size_t n)
{
	struct json_k32 k;
	__m256i prev = _mm256_setzero_si256();
	unsigned prev_hi = 0;
	size_t i = 0, run = 0;
	json_k32_init(&k);
	for (;; i += 32) {
		__m256i x;
		uint32_t valid = 0xffffffffu;
		unsigned char t[32];
		bool tail = i + 32 > n;
		if (!tail) {
			x = _mm256_loadu_si256((const __m256i *)(s + i));
		} else {
			json_tail32(t, s + i, n - i);
			x = _mm256_loadu_si256((const __m256i *)t);
			valid = (uint32_t)((1ull << (n - i)) - 1);
		}
		/* an ASCII block after an ASCII block cannot be wrong; the zero
		 * padding of the tail shows a sequence cut by the end */
		unsigned hi = (unsigned)_mm256_movemask_epi8(x);
		if (hi | prev_hi | tail) {
			__m256i e = json_utf8_err32(&k, x, prev);
			if (!_mm256_testz_si256(e, e))
				return 1; /* not clean: the caller starts over */
		}
		__m256i hit = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(x, k.q),
							      _mm256_cmpeq_epi8(x, k.bs)),
					      _mm256_cmpeq_epi8(_mm256_min_epu8(x, k.ctl), x));
		uint32_t m = (uint32_t)_mm256_movemask_epi8(hit) & valid;
		if (m && json_escape_hits(b, s, n, i, m, &run))
			return -1;
		if (tail)
			break;
		prev = x;
		prev_hi = hi;
	}
	return buf_append(b, s + run, n - run);
}
#endif
#else
#define json_utf8_clean json_utf8_clean_scalar
#define json_str_clean json_str_clean_scalar
#endif

/* The general path: bad bytes become U+FFFD, U+2028 / U+2029 escaped. */
static int json_str_slow(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i = 0, run = 0;
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
	return buf_append(b, s + run, n - run);
}

int json_str(struct buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	/* reserve for the common case: no escapes */
	if (b->cap - b->len < n + 3 && buf_grow(b, b->len + n + 3))
		return -1;
	if (buf_append(b, "\"", 1))
		return -1;
#ifdef __SSE2__
	size_t start = b->len;
#ifdef JSON_AVX2
	int r = __builtin_cpu_supports("avx2") ? json_str_onepass32(b, s, n) : json_str_onepass(b, s, n);
#else
	int r = json_str_onepass(b, s, n);
#endif
	if (r > 0) {
		b->len = start;
		r = json_str_slow(b, s, n);
	}
#else
	int r = json_utf8_clean(s, n) ? json_str_clean(b, s, n) : json_str_slow(b, s, n);
#endif
	if (r)
		return -1;
	return buf_append(b, "\"", 1);
}

/* ,"key":"value" (or without the comma for the first key); v has n bytes.
 * qkey is the key with its quotes and colon: "\"key\":". */
static int json_kv_strn(struct buf *b, bool *first, const char *qkey, const char *v, size_t n)
{
	if (!v || !n)
		return 0;
	if ((!*first && buf_append(b, ",", 1)) || buf_puts(b, qkey) || json_str(b, v, n))
		return -1;
	*first = false;
	return 0;
}

static int json_kv_str(struct buf *b, bool *first, const char *qkey, const char *v)
{
	return json_kv_strn(b, first, qkey, v, v ? strlen(v) : 0);
}

static int json_kv_date(struct buf *b, bool *first, const char *qkey, int64_t t)
{
	char d[32];
	if (t == FEED_NO_DATE)
		return 0;
	date_format(t, d);
	return json_kv_str(b, first, qkey, d);
}

static int json_enclosure(struct buf *b, const struct feed_enclosure *e)
{
	bool first = true;
	if (buf_append(b, "{", 1) || json_kv_str(b, &first, "\"url\":", e->url) ||
	    json_kv_str(b, &first, "\"type\":", e->type))
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

int json_item_len(struct buf *b, const struct feed_item *it, const size_t len[JSON_ITEM_NSTR])
{
	bool first = true;
	if (buf_append(b, "{", 1) || json_kv_strn(b, &first, "\"id\":", it->id, len[0]) ||
	    json_kv_strn(b, &first, "\"title\":", it->title, len[1]) ||
	    json_kv_strn(b, &first, "\"link\":", it->link, len[2]) ||
	    json_kv_strn(b, &first, "\"author\":", it->author, len[3]) ||
	    json_kv_date(b, &first, "\"published\":", it->published) ||
	    json_kv_date(b, &first, "\"updated\":", it->updated) ||
	    json_kv_strn(b, &first, "\"summary\":", it->summary, len[4]) ||
	    json_kv_strn(b, &first, "\"content\":", it->content, len[5]))
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

int json_item(struct buf *b, const struct feed_item *it)
{
	const char *s[JSON_ITEM_NSTR] = {it->id, it->title, it->link, it->author, it->summary,
					 it->content};
	size_t len[JSON_ITEM_NSTR];
	for (int i = 0; i < JSON_ITEM_NSTR; i++)
		len[i] = s[i] ? strlen(s[i]) : 0;
	return json_item_len(b, it, len);
}

int json_meta(struct buf *b, const struct feed_meta *m)
{
	bool first = true;
	if (buf_append(b, "{", 1) || json_kv_str(b, &first, "\"title\":", m->title) ||
	    json_kv_str(b, &first, "\"link\":", m->link) || json_kv_str(b, &first, "\"id\":", m->id) ||
	    json_kv_str(b, &first, "\"subtitle\":", m->subtitle) ||
	    json_kv_str(b, &first, "\"language\":", m->language) ||
	    json_kv_str(b, &first, "\"author\":", m->author) ||
	    json_kv_date(b, &first, "\"updated\":", m->updated))
		return -1;
	return buf_append(b, "}", 1);
}
