/* fuzz_config.c - libFuzzer target: config_parse on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[256];

	if (config_parse(&c, (const char *)data, size, "fuzz.conf", err, sizeof err) == 0) {
		/* exercise the lookups on what was accepted */
		for (size_t i = 0; i < c.nfeeds; i++)
			if (config_feed_find(&c, c.feeds[i].url) == NULL)
				__builtin_trap();
		(void)config_feed_interval(&c, "https://example.org/");
		config_free(&c);
	}
	return 0;
}
