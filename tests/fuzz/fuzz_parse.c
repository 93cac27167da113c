/*
 * fuzz_parse.c - libFuzzer target over the feed parser: the input is fed
 * in two chunks (split point taken from the first byte, so chunking is
 * fuzzed too; the second through the zero-copy parse_buffer), every item
 * is serialized to JSON, and the JSON must be valid UTF-8; json_item_len
 * with the parser's lengths must print the same as json_item.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

static int fuzz_valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (!k || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

struct fuzz_run {
	struct buf b, c;
	struct parse *p;
};

static int fuzz_item(void *ud, const struct feed_item *it)
{
	struct fuzz_run *r = ud;
	const size_t *len = parse_item_lengths(r->p, it);
	r->b.len = 0;
	r->c.len = 0;
	if (json_item(&r->b, it) == 0 && !fuzz_valid_utf8((const unsigned char *)r->b.data, r->b.len))
		abort();
	if (!len || (json_item_len(&r->c, it, len) == 0 &&
		     (r->c.len != r->b.len || memcmp(r->c.data, r->b.data, r->b.len))))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_opts o = {.base_url = "http://example.org/dir/feed.xml"};
	parse_limits_default(&o.limits);
	o.limits.max_items = 50;
	o.limits.max_field = 4096;
	o.limits.max_depth = 64;
	struct fuzz_run r;
	memset(&r, 0, sizeof r);
	struct parse *p = parse_new(&o, fuzz_item, &r);
	if (!p)
		return 0;
	r.p = p;
	size_t split = size ? (size_t)data[0] * size / 256 : 0;
	if (parse_chunk(p, data, split) == 0 && size > split) {
		char *room = parse_buffer(p, size - split);
		if (room) {
			memcpy(room, data + split, size - split);
			parse_buffer_done(p, size - split);
		}
	}
	parse_finish(p);
	r.b.len = 0;
	if (json_meta(&r.b, parse_meta(p)) == 0 &&
	    !fuzz_valid_utf8((const unsigned char *)r.b.data, r.b.len))
		abort();
	buf_free(&r.b);
	buf_free(&r.c);
	parse_free(p);
	return 0;
}
