/*
 * common_json.c - strict JSON reader and JSON line writer (see common_json.h).
 *
 * The reader is a recursive descent over the text with an explicit depth
 * bound, so a hostile request line cannot exhaust the stack.  It is strict
 * on purpose: a request that is not exactly JSON gets bad_request instead
 * of a guess.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common_json.h"

struct cjson_p {
	const char *s;
	size_t len;
	size_t pos;
	char *err;
	size_t errlen;
	int failed;
};

static int cjson_value(struct cjson_p *p, struct cjson *v, int depth);

static int cjson_fail(struct cjson_p *p, const char *msg)
{
	if (!p->failed && p->errlen)
		snprintf(p->err, p->errlen, "column %zu: %s", p->pos + 1, msg);
	p->failed = 1;
	return -1;
}

static void cjson_ws(struct cjson_p *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int cjson_lit(struct cjson_p *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return cjson_fail(p, "invalid literal");
	p->pos += n;
	return 0;
}

static bool cjson_digit(const struct cjson_p *p)
{
	return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

/* A JSON number: an int64_t integer is a CJSON_INT, anything else a CJSON_NUM. */
static int cjson_number(struct cjson_p *p, struct cjson *v)
{
	bool neg = false, big = false;
	uint64_t acc = 0, lim = INT64_MAX;
	if (p->s[p->pos] == '-') {
		neg = true;
		lim = (uint64_t)INT64_MAX + 1;
		p->pos++;
	}
	if (!cjson_digit(p))
		return cjson_fail(p, "invalid number");
	if (p->s[p->pos] == '0' && p->pos + 1 < p->len && p->s[p->pos + 1] >= '0' &&
	    p->s[p->pos + 1] <= '9')
		return cjson_fail(p, "leading zero");
	while (cjson_digit(p)) {
		unsigned d = (unsigned)(p->s[p->pos] - '0');
		if (acc > (lim - d) / 10)
			big = true;
		else
			acc = acc * 10 + d;
		p->pos++;
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!cjson_digit(p))
			return cjson_fail(p, "invalid number");
		while (cjson_digit(p))
			p->pos++;
		big = true;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!cjson_digit(p))
			return cjson_fail(p, "invalid number");
		while (cjson_digit(p))
			p->pos++;
		big = true;
	}
	if (big) {
		v->type = CJSON_NUM;
		return 0;
	}
	v->type = CJSON_INT;
	v->u.i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

static int cjson_hex4(struct cjson_p *p, unsigned *out)
{
	unsigned x = 0;
	if (p->len - p->pos < 4)
		return cjson_fail(p, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (unsigned)(c - 'A' + 10);
		else
			return cjson_fail(p, "bad \\u escape");
	}
	*out = x;
	return 0;
}

static int cjson_put_utf8(struct buf *b, unsigned cp)
{
	char o[4];
	size_t n;
	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(b, o, n);
}

static int cjson_escape(struct cjson_p *p, struct buf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	char c = p->s[p->pos++];
	const char *hit = c ? strchr(from, c) : NULL;
	if (hit)
		return buf_append(b, &to[hit - from], 1) ? cjson_fail(p, "out of memory") : 0;
	if (c != 'u')
		return cjson_fail(p, "bad escape");
	unsigned cp, lo;
	if (cjson_hex4(p, &cp))
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return cjson_fail(p, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
			return cjson_fail(p, "lone high surrogate");
		p->pos += 2;
		if (cjson_hex4(p, &lo))
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return cjson_fail(p, "bad surrogate pair");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return cjson_fail(p, "\\u0000 is not accepted");
	return cjson_put_utf8(b, cp) ? cjson_fail(p, "out of memory") : 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid. */
static size_t cjson_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t k;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		k = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

static int cjson_string_into(struct cjson_p *p, struct buf *b)
{
	p->pos++; /* the opening quote */
	for (;;) {
		if (p->pos >= p->len)
			return cjson_fail(p, "unterminated string");
		const unsigned char *u = (const unsigned char *)p->s + p->pos;
		if (*u == '"') {
			p->pos++;
			break;
		}
		if (*u < 0x20)
			return cjson_fail(p, "control character in string");
		if (*u == '\\') {
			p->pos++;
			if (p->pos >= p->len)
				return cjson_fail(p, "unterminated string");
			if (cjson_escape(p, b))
				return -1;
			continue;
		}
		size_t k = cjson_utf8_seq(u, p->len - p->pos);
		if (!k)
			return cjson_fail(p, "invalid UTF-8");
		if (buf_append(b, u, k))
			return cjson_fail(p, "out of memory");
		p->pos += k;
	}
	if (buf_append(b, "", 1))
		return cjson_fail(p, "out of memory");
	return 0;
}

static int cjson_string(struct cjson_p *p, char **out, size_t *outlen)
{
	struct buf b = {0};
	if (cjson_string_into(p, &b)) {
		buf_free(&b);
		return -1;
	}
	*out = b.data;
	*outlen = b.len - 1;
	return 0;
}

static int cjson_array(struct cjson_p *p, struct cjson *v, int depth)
{
	size_t cap = 0;
	v->type = CJSON_ARR;
	p->pos++;
	cjson_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (v->u.arr.n == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct cjson *nv = realloc(v->u.arr.v, nc * sizeof *nv);
			if (!nv)
				return cjson_fail(p, "out of memory");
			v->u.arr.v = nv;
			cap = nc;
		}
		struct cjson *e = &v->u.arr.v[v->u.arr.n];
		memset(e, 0, sizeof *e);
		v->u.arr.n++;
		if (cjson_value(p, e, depth + 1))
			return -1;
		cjson_ws(p);
		if (p->pos >= p->len)
			return cjson_fail(p, "unterminated array");
		char c = p->s[p->pos++];
		if (c == ']')
			return 0;
		if (c != ',')
			return cjson_fail(p, "expected ',' or ']'");
	}
}

static int cjson_member(struct cjson_p *p, struct cjson *obj, int depth)
{
	struct cjson_member *m = &obj->u.obj.m[obj->u.obj.n];
	size_t klen;
	memset(m, 0, sizeof *m);
	cjson_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return cjson_fail(p, "expected a string key");
	if (cjson_string(p, &m->key, &klen))
		return -1;
	obj->u.obj.n++;
	for (size_t i = 0; i + 1 < obj->u.obj.n; i++)
		if (strcmp(obj->u.obj.m[i].key, m->key) == 0)
			return cjson_fail(p, "duplicate key");
	cjson_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return cjson_fail(p, "expected ':'");
	p->pos++;
	return cjson_value(p, &m->v, depth + 1);
}

static int cjson_object(struct cjson_p *p, struct cjson *v, int depth)
{
	size_t cap = 0;
	v->type = CJSON_OBJ;
	p->pos++;
	cjson_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (v->u.obj.n == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct cjson_member *nm = realloc(v->u.obj.m, nc * sizeof *nm);
			if (!nm)
				return cjson_fail(p, "out of memory");
			v->u.obj.m = nm;
			cap = nc;
		}
		if (cjson_member(p, v, depth))
			return -1;
		cjson_ws(p);
		if (p->pos >= p->len)
			return cjson_fail(p, "unterminated object");
		char c = p->s[p->pos++];
		if (c == '}')
			return 0;
		if (c != ',')
			return cjson_fail(p, "expected ',' or '}'");
	}
}

static int cjson_dispatch(struct cjson_p *p, struct cjson *v, int depth)
{
	char c = p->s[p->pos];
	switch (c) {
	case '{':
		return cjson_object(p, v, depth);
	case '[':
		return cjson_array(p, v, depth);
	case '"':
		v->type = CJSON_STR;
		return cjson_string(p, &v->u.str.s, &v->u.str.len);
	case 't':
		v->type = CJSON_BOOL;
		v->u.b = true;
		return cjson_lit(p, "true");
	case 'f':
		v->type = CJSON_BOOL;
		return cjson_lit(p, "false");
	case 'n':
		return cjson_lit(p, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return cjson_number(p, v);
		return cjson_fail(p, "unexpected character");
	}
}

static int cjson_value(struct cjson_p *p, struct cjson *v, int depth)
{
	if (depth > CJSON_MAX_DEPTH)
		return cjson_fail(p, "nesting too deep");
	cjson_ws(p);
	if (p->pos >= p->len)
		return cjson_fail(p, "unexpected end of input");
	size_t start = p->pos;
	v->raw = p->s + start;
	int rc = cjson_dispatch(p, v, depth);
	v->rawlen = p->pos - start;
	return rc;
}

int cjson_parse(const char *text, size_t len, struct cjson *out, char *err, size_t errlen)
{
	struct cjson_p p = {.s = text, .len = len, .err = err, .errlen = errlen};
	memset(out, 0, sizeof *out);
	if (errlen)
		err[0] = 0;
	if (cjson_value(&p, out, 0) == 0) {
		cjson_ws(&p);
		if (p.pos == p.len)
			return 0;
		cjson_fail(&p, "trailing characters after the value");
	}
	cjson_free(out);
	return -1;
}

void cjson_free(struct cjson *v)
{
	if (!v)
		return;
	switch (v->type) {
	case CJSON_STR:
		free(v->u.str.s);
		break;
	case CJSON_ARR:
		for (size_t i = 0; i < v->u.arr.n; i++)
			cjson_free(&v->u.arr.v[i]);
		free(v->u.arr.v);
		break;
	case CJSON_OBJ:
		for (size_t i = 0; i < v->u.obj.n; i++) {
			free(v->u.obj.m[i].key);
			cjson_free(&v->u.obj.m[i].v);
		}
		free(v->u.obj.m);
		break;
	default:
		break;
	}
	memset(v, 0, sizeof *v);
}

const struct cjson *cjson_get(const struct cjson *obj, const char *key)
{
	if (!obj || obj->type != CJSON_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->u.obj.n; i++)
		if (strcmp(obj->u.obj.m[i].key, key) == 0)
			return &obj->u.obj.m[i].v;
	return NULL;
}

const char *cjson_get_str(const struct cjson *obj, const char *key)
{
	const struct cjson *v = cjson_get(obj, key);
	return v && v->type == CJSON_STR ? v->u.str.s : NULL;
}

const char *cjson_type_name(enum cjson_type t)
{
	static const char *const names[] = {
	    [CJSON_NULL] = "null",  [CJSON_BOOL] = "bool", [CJSON_INT] = "integer",
	    [CJSON_STR] = "string", [CJSON_ARR] = "array", [CJSON_OBJ] = "object",
	    [CJSON_NUM] = "number",
	};
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* ---------------------------------------------------------------- writer */

void cjson_w_init(struct cjson_w *w, struct buf *b)
{
	memset(w, 0, sizeof *w);
	w->b = b;
	w->first[0] = true;
}

static void cjson_w_put(struct cjson_w *w, const char *s, size_t n)
{
	if (!w->err && buf_append(w->b, s, n))
		w->err = -1;
}

/* The separator before a value (or a key) at the current depth. */
static void cjson_w_sep(struct cjson_w *w)
{
	if (w->want_value) {
		w->want_value = false;
		return;
	}
	if (!w->first[w->depth])
		cjson_w_put(w, ",", 1);
	w->first[w->depth] = false;
}

static void cjson_w_open(struct cjson_w *w, const char *c)
{
	cjson_w_sep(w);
	if (w->depth > CJSON_MAX_DEPTH) { /* as deep as the reader reads */
		w->err = -1;
		return;
	}
	cjson_w_put(w, c, 1);
	w->first[++w->depth] = true;
}

static void cjson_w_close(struct cjson_w *w, const char *c)
{
	if (w->depth <= 0 || w->want_value) {
		w->err = -1;
		return;
	}
	w->depth--;
	cjson_w_put(w, c, 1);
}

void cjson_w_obj(struct cjson_w *w)
{
	cjson_w_open(w, "{");
}

void cjson_w_obj_end(struct cjson_w *w)
{
	cjson_w_close(w, "}");
}

void cjson_w_arr(struct cjson_w *w)
{
	cjson_w_open(w, "[");
}

void cjson_w_arr_end(struct cjson_w *w)
{
	cjson_w_close(w, "]");
}

void cjson_w_key(struct cjson_w *w, const char *key)
{
	cjson_w_sep(w);
	if (!w->err && json_str(w->b, key, strlen(key)))
		w->err = -1;
	cjson_w_put(w, ":", 1);
	w->want_value = true;
}

void cjson_w_strn(struct cjson_w *w, const char *s, size_t n)
{
	cjson_w_sep(w);
	if (!w->err && json_str(w->b, s, n))
		w->err = -1;
}

void cjson_w_str(struct cjson_w *w, const char *s)
{
	if (!s)
		cjson_w_null(w);
	else
		cjson_w_strn(w, s, strlen(s));
}

void cjson_w_int(struct cjson_w *w, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%" PRId64, v);
	cjson_w_raw(w, num, (size_t)n);
}

void cjson_w_bool(struct cjson_w *w, bool v)
{
	cjson_w_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void cjson_w_null(struct cjson_w *w)
{
	cjson_w_raw(w, "null", 4);
}

void cjson_w_raw(struct cjson_w *w, const char *json, size_t n)
{
	cjson_w_sep(w);
	cjson_w_put(w, json, n);
}

void cjson_w_kstr(struct cjson_w *w, const char *key, const char *s)
{
	cjson_w_key(w, key);
	cjson_w_str(w, s);
}

void cjson_w_kint(struct cjson_w *w, const char *key, int64_t v)
{
	cjson_w_key(w, key);
	cjson_w_int(w, v);
}

int cjson_w_line(struct cjson_w *w)
{
	if (w->depth != 0 || w->want_value)
		w->err = -1;
	cjson_w_put(w, "\n", 1);
	w->first[0] = true;
	return w->err;
}
