/*
 * store_codec.c - the stable hashes (dedup key, content hash) and the JSON
 * text of an item's categories and enclosures.
 *
 * The dedup key's hash is FNV-1a 64 over the fields joined by NUL bytes,
 * absent strings and dates taken as empty, dates as decimal seconds.  It
 * is part of stored keys: never change it (a change would turn every
 * stored item into a new one on the next fetch).
 *
 * The content hash (update detection) is stored too: changing it takes a
 * schema migration that rewrites every stored one (store_sql.c, version
 * 2, which replaced FNV-1a: hashing byte by byte cost 8 % of a cold
 * polling cycle's CPU).  It reads 8 bytes per step; every field is
 * followed by its length, so moving bytes between fields changes it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

uint64_t store_fnv1a64(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s, bool last)
{
	if (s)
		h = store_fnv1a64(h, s, strlen(s));
	return last ? h : store_fnv1a64(h, "", 1);
}

static uint64_t hash_date(uint64_t h, int64_t t, bool last)
{
	char buf[24] = "";
	if (t != FEED_NO_DATE)
		snprintf(buf, sizeof buf, "%" PRId64, t);
	return hash_str(h, buf, last);
}

/* title NUL published NUL summary */
static uint64_t key_hash(const struct feed_item *it)
{
	uint64_t h = hash_str(STORE_FNV_OFFSET, it->title, false);
	h = hash_date(h, it->published, false);
	return hash_str(h, it->summary, true);
}

/* ---------------------------------------------------------------- content hash */

#define CH_SEED 0x2d358dccaa6c78a5ULL
#define CH_MUL1 0x9e3779b97f4a7c15ULL
#define CH_MUL2 0xbf58476d1ce4e5b9ULL

/* Little-endian, whatever the machine (compilers make this one load on x86). */
static uint64_t ch_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

static uint64_t ch_mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= CH_MUL1;
	return h ^ (h >> 29);
}

static uint64_t ch_bytes(uint64_t h, const unsigned char *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		h = ch_mix(h, ch_le64(p + i));
	if (i < n) {
		unsigned char tail[8] = {0};
		memcpy(tail, p + i, n - i);
		h = ch_mix(h, ch_le64(tail));
	}
	return ch_mix(h, (uint64_t)n);
}

uint64_t store_content_hash_raw(const char *title, size_t tlen, const char *summary,
				size_t slen, const char *content, size_t clen, int64_t updated)
{
	uint64_t h = CH_SEED;
	h = ch_bytes(h, (const unsigned char *)(title ? title : ""), title ? tlen : 0);
	h = ch_bytes(h, (const unsigned char *)(summary ? summary : ""), summary ? slen : 0);
	h = ch_bytes(h, (const unsigned char *)(content ? content : ""), content ? clen : 0);
	h = ch_mix(h, (uint64_t)updated);
	h ^= h >> 32;
	h *= CH_MUL2;
	return h ^ (h >> 31);
}

/* title, summary, content (absent = empty), updated (FEED_NO_DATE when absent) */
uint64_t store_content_hash(const struct feed_item *it)
{
	return store_content_hash_raw(it->title, it->title ? strlen(it->title) : 0, it->summary,
				      it->summary ? strlen(it->summary) : 0, it->content,
				      it->content ? strlen(it->content) : 0, it->updated);
}

char *store_item_key(const struct feed_item *it)
{
	if (it->id && *it->id)
		return strdup(it->id);
	if (it->link && *it->link)
		return strdup(it->link);
	char *k = malloc(8 + 16 + 1);
	if (k)
		snprintf(k, 8 + 16 + 1, "fnv1a64:%016" PRIx64, key_hash(it));
	return k;
}

static void sql_content_hash(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	const char *s[3];
	size_t n[3];
	(void)argc;
	for (int i = 0; i < 3; i++) {
		s[i] = (const char *)sqlite3_value_text(v[i]);
		if (!s[i] && sqlite3_value_type(v[i]) != SQLITE_NULL) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
		n[i] = s[i] ? (size_t)sqlite3_value_bytes(v[i]) : 0;
	}
	int64_t updated =
		sqlite3_value_type(v[3]) == SQLITE_NULL ? FEED_NO_DATE : sqlite3_value_int64(v[3]);
	sqlite3_result_int64(ctx, (int64_t)store_content_hash_raw(s[0], n[0], s[1], n[1], s[2],
								   n[2], updated));
}

int store_register_functions(sqlite3 *db)
{
	return sqlite3_create_function_v2(db, "feedd_content_hash", 4,
					  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
					  NULL, sql_content_hash, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- JSON writer */

struct jw {
	char *p;
	size_t len, cap;
	bool oom;
};

static void jw_put(struct jw *w, const char *s, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = (w->len + n + 1) * 2;
		char *p = realloc(w->p, cap);
		if (!p) {
			w->oom = true;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = 0;
}

static void jw_lit(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

static void jw_str(struct jw *w, const char *s)
{
	jw_put(w, "\"", 1);
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_put(w, run, (size_t)(s - run));
		char esc[8];
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof esc, "\\%c", c);
		else
			snprintf(esc, sizeof esc, "\\u%04x", c);
		jw_lit(w, esc);
		run = s + 1;
	}
	jw_put(w, run, (size_t)(s - run));
	jw_put(w, "\"", 1);
}

static char *jw_done(struct jw *w, bool *oom)
{
	if (w->oom) {
		free(w->p);
		*oom = true;
		return NULL;
	}
	return w->p;
}

char *store_categories_json(const struct feed_item *it, bool *oom)
{
	if (!it->ncategories)
		return NULL;
	struct jw w = {0};
	jw_lit(&w, "[");
	for (size_t i = 0; i < it->ncategories; i++) {
		if (i)
			jw_lit(&w, ",");
		jw_str(&w, it->categories[i] ? it->categories[i] : "");
	}
	jw_lit(&w, "]");
	return jw_done(&w, oom);
}

char *store_enclosures_json(const struct feed_item *it, bool *oom)
{
	if (!it->nenclosures)
		return NULL;
	struct jw w = {0};
	jw_lit(&w, "[");
	for (size_t i = 0; i < it->nenclosures; i++) {
		const struct feed_enclosure *e = &it->enclosures[i];
		jw_lit(&w, i ? ",{\"url\":" : "{\"url\":");
		jw_str(&w, e->url ? e->url : "");
		if (e->type) {
			jw_lit(&w, ",\"type\":");
			jw_str(&w, e->type);
		}
		if (e->length >= 0) {
			char num[32];
			snprintf(num, sizeof num, ",\"length\":%" PRId64, e->length);
			jw_lit(&w, num);
		}
		jw_lit(&w, "}");
	}
	jw_lit(&w, "]");
	return jw_done(&w, oom);
}

/* ---------------------------------------------------------------- JSON reader */

/*
 * Reads back exactly what the writer above produces (and any equivalent
 * standard JSON of the same shape): an array of strings, or an array of
 * objects with string or integer members.
 */
struct jr {
	const char *p, *end;
};

static void jr_ws(struct jr *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r'))
		r->p++;
}

static bool jr_eat(struct jr *r, char c)
{
	jr_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static int jr_hex4(struct jr *r)
{
	if (r->end - r->p < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = r->p[i];
		int d = c >= '0' && c <= '9'	 ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	r->p += 4;
	return v;
}

static size_t utf8_put(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX (and a following low surrogate) -> code point; -1 when malformed. */
static long jr_unicode(struct jr *r)
{
	int hi = jr_hex4(r);
	if (hi < 0xd800 || hi > 0xdbff)
		return hi >= 0xdc00 && hi <= 0xdfff ? 0xfffd : hi;
	if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u')
		return 0xfffd;
	r->p += 2;
	int lo = jr_hex4(r);
	if (lo < 0xdc00 || lo > 0xdfff)
		return lo < 0 ? -1 : 0xfffd;
	return 0x10000 + ((long)(hi - 0xd800) << 10) + (lo - 0xdc00);
}

static const char jr_escapes[][2] = {{'"', '"'}, {'\\', '\\'}, {'/', '/'}, {'b', '\b'},
				     {'f', '\f'}, {'n', '\n'},	 {'r', '\r'}, {'t', '\t'}};

/* One escape after the backslash into out; returns bytes written, 0 when malformed. */
static size_t jr_escape(struct jr *r, char *out)
{
	if (r->p >= r->end)
		return 0;
	char c = *r->p++;
	for (size_t i = 0; i < sizeof jr_escapes / sizeof jr_escapes[0]; i++)
		if (jr_escapes[i][0] == c) {
			out[0] = jr_escapes[i][1];
			return 1;
		}
	if (c != 'u')
		return 0;
	long cp = jr_unicode(r);
	return cp < 0 ? 0 : utf8_put(out, (unsigned)cp);
}

/* A string literal, malloc'd; NULL when malformed or out of memory. */
static char *jr_str(struct jr *r)
{
	if (!jr_eat(r, '"'))
		return NULL;
	/* Decoded text is never longer than its escaped form. */
	const char *q = r->p;
	while (q < r->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	if (q >= r->end)
		return NULL;
	char *out = malloc((size_t)(q - r->p) + 1), *o = out;
	while (out && r->p < r->end && *r->p != '"') {
		size_t n = 1;
		if (*r->p == '\\') {
			r->p++;
			n = jr_escape(r, o);
		} else {
			*o = *r->p++;
		}
		if (!n) {
			free(out);
			return NULL;
		}
		o += n;
	}
	if (!out || r->p >= r->end) {
		free(out);
		return NULL;
	}
	r->p++;
	*o = 0;
	return out;
}

static bool jr_int(struct jr *r, int64_t *v)
{
	jr_ws(r);
	char buf[24];
	size_t n = 0;
	while (r->p < r->end && n < sizeof buf - 1 && (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')))
		buf[n++] = *r->p++;
	buf[n] = 0;
	char *end;
	*v = strtoll(buf, &end, 10);
	return n && !*end;
}

/* Grows *arr of *n elements of size sz by one; NULL when out of memory. */
static void *grow(void *arr, size_t n, size_t sz)
{
	return realloc(arr, (n + 1) * sz);
}

int store_categories_parse(const char *json, size_t len, struct feed_item *it)
{
	struct jr r = {json, json + len};
	if (!jr_eat(&r, '['))
		return -1;
	if (jr_eat(&r, ']'))
		return 0;
	do {
		char *s = jr_str(&r);
		char **cats = s ? grow(it->categories, it->ncategories, sizeof *cats) : NULL;
		if (!cats) {
			free(s);
			store_item_lists_free(it);
			return -1;
		}
		cats[it->ncategories++] = s;
		it->categories = cats;
	} while (jr_eat(&r, ','));
	if (jr_eat(&r, ']'))
		return 0;
	store_item_lists_free(it);
	return -1;
}

/* One "key": value member into e; false when malformed. */
static bool enclosure_member(struct jr *r, struct feed_enclosure *e)
{
	char *key = jr_str(r);
	bool ok = key && jr_eat(r, ':');
	if (ok && !strcmp(key, "length")) {
		ok = jr_int(r, &e->length);
	} else if (ok) {
		char **dst = !strcmp(key, "url") ? &e->url : !strcmp(key, "type") ? &e->type : NULL;
		char *v = jr_str(r);
		ok = v != NULL;
		if (dst && v) {
			free(*dst);
			*dst = v;
		} else {
			free(v);
		}
	}
	free(key);
	return ok;
}

int store_enclosures_parse(const char *json, size_t len, struct feed_item *it)
{
	struct jr r = {json, json + len};
	if (!jr_eat(&r, '['))
		return -1;
	if (jr_eat(&r, ']'))
		return 0;
	do {
		struct feed_enclosure *encs =
			grow(it->enclosures, it->nenclosures, sizeof *encs);
		if (!encs)
			break;
		it->enclosures = encs;
		struct feed_enclosure *e = &encs[it->nenclosures++];
		*e = (struct feed_enclosure){.length = -1};
		if (!jr_eat(&r, '{'))
			break;
		bool ok = true;
		if (!jr_eat(&r, '}')) {
			do
				ok = enclosure_member(&r, e);
			while (ok && jr_eat(&r, ','));
			ok = ok && jr_eat(&r, '}');
		}
		if (!ok || !e->url)
			break;
		if (!jr_eat(&r, ','))
			return jr_eat(&r, ']') ? 0 : (store_item_lists_free(it), -1);
	} while (1);
	store_item_lists_free(it);
	return -1;
}

void store_item_lists_free(struct feed_item *it)
{
	for (size_t i = 0; i < it->ncategories; i++)
		free(it->categories[i]);
	free(it->categories);
	for (size_t i = 0; i < it->nenclosures; i++) {
		free(it->enclosures[i].url);
		free(it->enclosures[i].type);
	}
	free(it->enclosures);
	it->categories = NULL;
	it->ncategories = 0;
	it->enclosures = NULL;
	it->nenclosures = 0;
}
