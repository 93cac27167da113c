/*
 * common_json.h - a small strict JSON reader for request lines, and helpers
 * to write JSON lines (daemon/common_json.c, linked into feedd and feedctl).
 *
 * Reader: one JSON text (normally an object) held in memory.  Accepted
 * values: object, array, string, number, true, false, null.  An integer
 * within int64_t is a CJSON_INT with its value; any other number (a
 * fraction, an exponent, a bigger integer) is a CJSON_NUM that keeps only
 * its text (raw): requests use integers, and echo an "id" as given.
 * Rejected: duplicate keys, invalid UTF-8, raw control characters in strings, "\u0000",
 * lone surrogates, nesting deeper than CJSON_MAX_DEPTH, anything but
 * whitespace after the value.  Requests are small and short-lived, so the
 * parsed tree is a plain malloc'd structure; cjson_free releases it.
 *
 * Writer: appends to a struct buf (parsers/feed.h) with commas placed for
 * the caller; strings go through json_str (control characters, U+2028/9
 * escaped, invalid UTF-8 replaced).  Errors (out of memory, nesting too
 * deep) are sticky: check once with cjson_w_end / w->err.
 */
#ifndef FEEDD_COMMON_JSON_H
#define FEEDD_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"

#define CJSON_MAX_DEPTH 16

enum cjson_type {
	CJSON_NULL = 0,
	CJSON_BOOL,
	CJSON_INT,
	CJSON_STR,
	CJSON_ARR,
	CJSON_OBJ,
	CJSON_NUM, /* not an int64_t integer: only raw is set */
};

struct cjson_member;

struct cjson {
	enum cjson_type type;
	/* The value's text in the source (for echoing a value as given);
	 * points into the parsed text: valid as long as that text is. */
	const char *raw;
	size_t rawlen;
	union {
		bool b;
		int64_t i;
		struct {
			char *s; /* NUL-terminated (no NUL inside), UTF-8 */
			size_t len;
		} str;
		struct {
			struct cjson *v;
			size_t n;
		} arr;
		struct {
			struct cjson_member *m;
			size_t n;
		} obj;
	} u;
};

struct cjson_member {
	char *key;
	struct cjson v;
};

/*
 * Parses text[0..len) into *out.  Returns 0, or -1 with a message
 * ("column 7: expected ':'") in err and *out zeroed (nothing to free).
 * On success free *out with cjson_free; out->raw and the raw spans inside
 * point into text.
 */
int cjson_parse(const char *text, size_t len, struct cjson *out, char *err, size_t errlen);

/* Frees what v owns (not v itself) and zeroes it. */
void cjson_free(struct cjson *v);

/* Member key of object obj, or NULL (also when obj is not an object). */
const struct cjson *cjson_get(const struct cjson *obj, const char *key);

/* The string of member key when it is a string, else NULL. */
const char *cjson_get_str(const struct cjson *obj, const char *key);

/* "null", "bool", "integer", "string", "array", "object". */
const char *cjson_type_name(enum cjson_type t);

/* ---------------------------------------------------------------- writer */

struct cjson_w {
	struct buf *b;
	int depth;
	bool first[CJSON_MAX_DEPTH + 2];
	bool want_value; /* a key was written, its value comes next */
	int err;         /* 0, or -1 once anything failed */
};

/* Starts writing into b (appending to what it holds). */
void cjson_w_init(struct cjson_w *w, struct buf *b);
void cjson_w_obj(struct cjson_w *w);     /* { */
void cjson_w_obj_end(struct cjson_w *w); /* } */
void cjson_w_arr(struct cjson_w *w);     /* [ */
void cjson_w_arr_end(struct cjson_w *w); /* ] */
void cjson_w_key(struct cjson_w *w, const char *key);
void cjson_w_str(struct cjson_w *w, const char *s); /* NULL writes null */
void cjson_w_strn(struct cjson_w *w, const char *s, size_t n);
void cjson_w_int(struct cjson_w *w, int64_t v);
void cjson_w_bool(struct cjson_w *w, bool v);
void cjson_w_null(struct cjson_w *w);
/* A value already serialized as JSON (e.g. an echoed "id" or json_item's output). */
void cjson_w_raw(struct cjson_w *w, const char *json, size_t n);
/* Shorthands for "key": value in an object. */
void cjson_w_kstr(struct cjson_w *w, const char *key, const char *s);
void cjson_w_kint(struct cjson_w *w, const char *key, int64_t v);
/* Appends the LF that ends a JSON line (at depth 0).  Returns w->err. */
int cjson_w_line(struct cjson_w *w);

#endif
