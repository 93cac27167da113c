/*
 * fuzz_config.c - libFuzzer target over the config parser: any bytes go to
 * config_parse; what is accepted must be found by its own feed URLs, and
 * must survive config_write -> config_parse unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_same(const struct config *a, const struct config *b)
{
	struct config x = *a;

	x.feeds = b->feeds;
	x.feed_sorted = b->feed_sorted;
	if (memcmp(&x, b, sizeof x) || a->nfeeds != b->nfeeds)
		return 0;
	for (size_t i = 0; i < a->nfeeds; i++) {
		const struct config_feed *fa = &a->feeds[i], *fb = &b->feeds[i];

		if (strcmp(fa->url, fb->url) || fa->interval != fb->interval ||
		    fa->allow_private != fb->allow_private || !fa->title != !fb->title ||
		    (fa->title && strcmp(fa->title, fb->title)))
			return 0;
	}
	return 1;
}

static void fuzz_round_trip(const struct config *c)
{
	char *text = NULL, err[256];
	size_t len = 0;
	struct config again;
	FILE *f = open_memstream(&text, &len);

	if (!f || config_write(c, f) < 0)
		abort();
	fclose(f);
	if (config_parse(&again, text, len, "written", err, sizeof err) < 0) {
		fprintf(stderr, "written config refused: %s\n%s", err, text);
		abort();
	}
	if (!fuzz_same(c, &again)) {
		fprintf(stderr, "written config differs:\n%s", text);
		abort();
	}
	config_free(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[256];

	if (config_parse(&c, (const char *)data, size, "fuzz.conf", err, sizeof err) < 0)
		return 0;
	for (size_t i = 0; i < c.nfeeds; i++)
		if (config_feed_find(&c, c.feeds[i].url) == NULL)
			abort();
	(void)config_feed_interval(&c, "https://example.org/");
	fuzz_round_trip(&c);
	config_free(&c);
	return 0;
}
