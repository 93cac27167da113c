/*
 * fuzz_parse.c - libFuzzer target over the feed parser: the input is fed
 * in two chunks (split point taken from the first byte, so chunking is
 * fuzzed too), every item is serialized to JSON, and the JSON must be
 * valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>

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

static int fuzz_item(void *ud, const struct feed_item *it)
{
	struct buf *b = ud;
	b->len = 0;
	if (json_item(b, it) == 0 && !fuzz_valid_utf8((const unsigned char *)b->data, b->len))
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
	struct buf b = {0};
	struct parse *p = parse_new(&o, fuzz_item, &b);
	if (!p)
		return 0;
	size_t split = size ? (size_t)data[0] * size / 256 : 0;
	if (parse_chunk(p, data, split) == 0)
		parse_chunk(p, data + split, size - split);
	parse_finish(p);
	b.len = 0;
	if (json_meta(&b, parse_meta(p)) == 0 && !fuzz_valid_utf8((const unsigned char *)b.data, b.len))
		abort();
	buf_free(&b);
	parse_free(p);
	return 0;
}
