/*
 * fuzz_date.c - libFuzzer target over date_parse: any bytes (as a C
 * string) either fail or give an instant in years 0000-9999 whose RFC 3339
 * form parses back to the same instant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[32];
	int64_t t, back;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (date_parse(s, &t)) {
		if (t < INT64_C(-62167219200) || t > INT64_C(253402300799))
			abort();
		date_format(t, buf);
		if (strlen(buf) != 20 || !date_parse(buf, &back) || back != t)
			abort();
	}
	free(s);
	return 0;
}
