/* feeds_import.c - adding the outlines of an OPML document (see feeds.h). */
#include <stdio.h>
#include <string.h>

#include "feeds.h"

struct feeds_importer {
	struct store *s;
	bool allow_file;
	int64_t now;
	struct feeds_import_result *r;
	feeds_import_fn report;
	void *ud;
	enum feeds_err fatal;
	char *err;
	size_t errlen;
};

static int feeds_import_one(void *ud, const struct opml_outline *o)
{
	struct feeds_importer *im = ud;
	struct feeds_add a = {.url = o->xml_url, .title = o->title, .allow_file = im->allow_file};
	char msg[512] = "";
	enum feeds_err rc = feeds_add(im->s, &a, im->now, NULL, msg, sizeof msg);
	if (rc == FEEDS_OK)
		im->r->added++;
	else if (rc == FEEDS_ERR_EXISTS)
		im->r->existing++;
	else if (rc == FEEDS_ERR_INVALID)
		im->r->invalid++;
	if (im->report)
		im->report(im->ud, o->xml_url, rc, msg);
	if (rc == FEEDS_ERR_STORE) {
		im->fatal = rc;
		snprintf(im->err, im->errlen, "%s", msg);
		return -1;
	}
	return 0;
}

enum feeds_err feeds_import(struct store *s, const char *opml, size_t len, bool allow_file,
                            int64_t now, struct feeds_import_result *r, feeds_import_fn report,
                            void *ud, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	struct feeds_importer im = {
	    .s = s,
	    .allow_file = allow_file,
	    .now = now,
	    .r = r,
	    .report = report,
	    .ud = ud,
	    .err = err,
	    .errlen = errlen,
	};
	char perr[256] = "";
	int rc = opml_parse(opml, len, feeds_import_one, &im, perr, sizeof perr);
	if (im.fatal != FEEDS_OK)
		return im.fatal;
	if (rc < 0) {
		snprintf(err, errlen, "not an OPML document: %s", perr);
		return FEEDS_ERR_INVALID;
	}
	return FEEDS_OK;
}
