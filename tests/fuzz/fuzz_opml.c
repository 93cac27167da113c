/*
 * fuzz_opml.c - libFuzzer target over the OPML reader (opml_parse): every
 * outline delivered must carry a non-NULL xmlUrl, and every string must be
 * valid UTF-8 and NUL-terminated; an error message must be terminated too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

static int fuzz_valid_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
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

static int fuzz_outline(void *ud, const struct opml_outline *o)
{
	size_t *n = ud;
	if (!o->xml_url || !fuzz_valid_utf8(o->xml_url))
		abort();
	if ((o->title && !fuzz_valid_utf8(o->title)) ||
	    (o->html_url && !fuzz_valid_utf8(o->html_url)) ||
	    (o->category && !fuzz_valid_utf8(o->category)))
		abort();
	return ++*n >= 1000; /* a caller may stop the walk */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	size_t n = 0;
	memset(err, 'x', sizeof err);
	if (opml_parse((const char *)data, size, fuzz_outline, &n, err, sizeof err) != 0 &&
	    !memchr(err, 0, sizeof err))
		abort();
	return 0;
}
