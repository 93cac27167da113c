/*
 * fuzz_request.c - libFuzzer target over the request reader
 * (daemon/common_json.h): any input must either be refused with a message
 * or give a tree whose strings are valid UTF-8 without NUL, whose raw spans
 * lie inside the input, and which the writer can serialize and the reader
 * read back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common_json.h"

static int fuzz_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k = c < 0x80         ? 1
		           : (c >> 5) == 6  ? 2
		           : (c >> 4) == 14 ? 3
		           : (c >> 3) == 30 ? 4
		                            : 0;
		if (!k || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

static void fuzz_write(struct cjson_w *w, const struct cjson *v, const uint8_t *data, size_t size)
{
	if (v->raw < (const char *)data || v->raw + v->rawlen > (const char *)data + size)
		abort();
	switch (v->type) {
	case CJSON_NULL:
		cjson_w_null(w);
		break;
	case CJSON_BOOL:
		cjson_w_bool(w, v->u.b);
		break;
	case CJSON_INT:
		cjson_w_int(w, v->u.i);
		break;
	case CJSON_NUM: /* kept as text: written back as it was */
		if (!v->rawlen)
			abort();
		cjson_w_raw(w, v->raw, v->rawlen);
		break;
	case CJSON_STR:
		if (strlen(v->u.str.s) != v->u.str.len ||
		    !fuzz_utf8((const unsigned char *)v->u.str.s, v->u.str.len))
			abort();
		cjson_w_strn(w, v->u.str.s, v->u.str.len);
		break;
	case CJSON_ARR:
		cjson_w_arr(w);
		for (size_t i = 0; i < v->u.arr.n; i++)
			fuzz_write(w, &v->u.arr.v[i], data, size);
		cjson_w_arr_end(w);
		break;
	case CJSON_OBJ:
		cjson_w_obj(w);
		for (size_t i = 0; i < v->u.obj.n; i++) {
			cjson_w_key(w, v->u.obj.m[i].key);
			fuzz_write(w, &v->u.obj.m[i].v, data, size);
		}
		cjson_w_obj_end(w);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cjson v, back;
	char err[128];
	if (cjson_parse((const char *)data, size, &v, err, sizeof err)) {
		if (strncmp(err, "column ", 7) != 0)
			abort();
		return 0;
	}
	struct buf b = {0};
	struct cjson_w w;
	cjson_w_init(&w, &b);
	fuzz_write(&w, &v, data, size);
	if (cjson_w_line(&w) == 0 && cjson_parse(b.data, b.len, &back, err, sizeof err) == 0)
		cjson_free(&back);
	else if (w.err == 0)
		abort(); /* what the writer wrote must read back */
	buf_free(&b);
	cjson_free(&v);
	return 0;
}
