/*
 * xmlreader_floor.c - parsers/xmlreader alone (encoding detection, UTF-8
 * validation, namespace splitting, recovery bookkeeping) with empty
 * handlers over a file fed in 64 KiB chunks: compare with
 * bench_expat_floor to see what the reader adds to bare expat.
 *
 * usage: bench_xmlreader_floor FILE
 */
#include <stdio.h>

#include "xmlreader.h"

static void floor_start(void *ud, const char *ns, const char *local, const char *prefix,
			const struct xr_attr *a, size_t n)
{
	(void)ud, (void)ns, (void)local, (void)prefix, (void)a, (void)n;
}

static void floor_end(void *ud, const char *ns, const char *local)
{
	(void)ud, (void)ns, (void)local;
}

static void floor_text(void *ud, const char *s, size_t n)
{
	(void)ud, (void)s, (void)n;
}

int main(int argc, char **argv)
{
	static char chunk[1 << 16];
	struct xr_handlers h = {floor_start, floor_end, floor_text};
	struct xr_opts o = {NULL, 1u << 20, 20.0f, 256};
	struct xr *x;
	FILE *f;
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	x = xr_new(&o, &h, NULL);
	if (!x)
		return 1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (xr_feed(x, chunk, n))
			break;
	xr_finish(x);
	if (!xr_wellformed(x))
		fprintf(stderr, "%s\n", xr_error(x));
	xr_free(x);
	fclose(f);
	return 0;
}
