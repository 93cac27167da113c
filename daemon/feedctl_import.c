/*
 * feedctl_import.c - `feedctl import FILE.opml|-`: reads the OPML file
 * here and sends one add per outline, so the daemon validates each like
 * `feedctl add` and no request line grows with the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedctl_ctl.h"

const char feedctl_import_usage[] = "import FILE.opml|- [--control-socket PATH]";

struct ctl_import {
	struct feedctl_ctl *c;
	size_t added, existing, invalid;
	int fatal; /* an exit status that stops the import */
};

static int ctl_import_one(void *ud, const struct opml_outline *o)
{
	struct ctl_import *im = ud;
	struct buf b = {0};
	struct cjson_w w;
	cjson_w_init(&w, &b);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "op", "add");
	cjson_w_kstr(&w, "url", o->xml_url);
	if (o->title)
		cjson_w_kstr(&w, "title", o->title);
	cjson_w_obj_end(&w);
	int rc = feedctl_ctl_request(im->c, &b, true);
	buf_free(&b);
	const char *msg = cjson_get_str(&im->c->reply, "message");
	if (rc == 0) {
		im->added++;
	} else if (rc == FEEDCTL_EXIT_EXISTS) {
		im->existing++;
	} else if (rc == FEEDCTL_EXIT_INVALID) {
		im->invalid++;
		fprintf(stderr, "feedctl: import: %s: %s\n", o->xml_url, msg ? msg : "invalid");
	} else {
		fprintf(stderr, "feedctl: import: %s: %s\n", o->xml_url, msg ? msg : "failed");
		im->fatal = rc;
		return -1;
	}
	return 0;
}

static char *ctl_read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return NULL;
	struct buf b = {0};
	char chunk[65536];
	size_t n;
	int rc = 0;
	while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = buf_append(&b, chunk, n);
	if (ferror(f))
		rc = -1;
	if (f != stdin)
		fclose(f);
	if (rc < 0 || buf_append(&b, "", 1) < 0) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len - 1;
	return b.data;
}

/* Sends one add per outline (the daemon validates each like `feedctl add`). */
int feedctl_import(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("import", feedctl_import_usage);
	if (feedctl_ctl_options(&c, argc, argv, 1, 1) < 0)
		return feedctl_ctl_usage(&c);
	size_t len = 0;
	char *data = ctl_read_file(c.args[0], &len);
	if (!data) {
		fprintf(stderr, "feedctl: import: %s: %s\n", c.args[0], strerror(errno));
		return FEEDCTL_EXIT_ERROR;
	}
	if (feedctl_ctl_connect(&c) < 0) {
		free(data);
		return FEEDCTL_EXIT_CONNECT;
	}
	struct ctl_import im = {.c = &c};
	char err[256] = "";
	int rc = 0;
	if (opml_parse(data, len, ctl_import_one, &im, err, sizeof err) < 0 && !im.fatal) {
		fprintf(stderr, "feedctl: import: %s: not an OPML document: %s\n", c.args[0], err);
		rc = FEEDCTL_EXIT_INVALID;
	} else if (im.fatal) {
		rc = im.fatal;
	} else {
		printf("added %zu, already present %zu, invalid %zu\n", im.added, im.existing,
		       im.invalid);
		rc = im.invalid ? FEEDCTL_EXIT_INVALID : 0;
	}
	free(data);
	return feedctl_ctl_finish(&c, rc);
}
