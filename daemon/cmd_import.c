/* cmd_import.c - `feedd import FILE.opml|-`: adds the outlines of an OPML document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_feeds.h"

struct cmd_import_report {
	const char *name;
};

static void cmd_import_report(void *ud, const char *url, enum feeds_err e, const char *msg)
{
	struct cmd_import_report *r = ud;
	if (e != FEEDS_OK && e != FEEDS_ERR_EXISTS)
		fprintf(stderr, "feedd %s: %s: %s\n", r->name, url, msg);
}

static char *cmd_import_read(FILE *f, size_t *len)
{
	struct buf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			buf_free(&b);
			return NULL;
		}
	if (ferror(f) || buf_append(&b, "", 1) < 0) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len - 1;
	return b.data;
}

/* feedd import FILE.opml (or - for stdin): exit 0 when every outline was added or known. */
int cmd_import(int argc, char **argv)
{
	struct cmd_feeds_ctx x = {.name = "import"};
	int i = cmd_feeds_options(&x, argc, argv, false);
	if (i < 0 || argc - i != 1)
		return cmd_feeds_usage(x.name, "FILE.opml|-");
	const char *path = argv[i];
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		perror(path);
		return 1;
	}
	size_t len = 0;
	char *data = cmd_import_read(f, &len);
	if (f != stdin)
		fclose(f);
	if (!data) {
		fprintf(stderr, "feedd import: %s: read error\n", path);
		return 1;
	}
	if (cmd_feeds_open(&x) < 0) {
		free(data);
		return 1;
	}
	char err[1024];
	struct feeds_import_result r;
	struct cmd_import_report rep = {x.name};
	enum feeds_err e = feeds_import(x.store, data, len, x.cfg.allow_file, (int64_t)time(NULL),
	                                &r, cmd_import_report, &rep, err, sizeof err);
	int rc;
	if (e != FEEDS_OK) {
		rc = cmd_feeds_fail(&x, e, err);
	} else {
		printf("added %zu, already present %zu, invalid %zu\n", r.added, r.existing,
		       r.invalid);
		rc = r.invalid ? cmd_feeds_exit[FEEDS_ERR_INVALID] : 0;
	}
	free(data);
	cmd_feeds_close(&x);
	return rc;
}
