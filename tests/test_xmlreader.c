/*
 * test_xmlreader.c - parsers/xmlreader: events, namespaces, limits.
 *
 * Events are recorded as one string: "<{ns}local|prefix a={ns}n=v>" for a
 * start, "</{ns}local>" for an end and the text in between (adjacent text
 * pieces coalesced), so a test compares one string.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmlreader.h"

struct rec {
	char *s;
	size_t len, cap;
	size_t nstart;
	size_t textbytes;
	size_t stop_after; /* xr_stop after this many starts (0: never) */
	struct xr *x;
};

static void rec_add(struct rec *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->s = realloc(r->s, r->cap);
		ck_assert_ptr_nonnull(r->s);
	}
	memcpy(r->s + r->len, s, n);
	r->len += n;
	r->s[r->len] = '\0';
}

static void rec_str(struct rec *r, const char *s)
{
	rec_add(r, s, strlen(s));
}

static void rec_name(struct rec *r, const char *ns, const char *local)
{
	if (*ns) {
		rec_str(r, "{");
		rec_str(r, ns);
		rec_str(r, "}");
	}
	rec_str(r, local);
}

static void rec_start(void *ud, const char *ns, const char *local, const char *prefix,
		      const struct xr_attr *a, size_t n)
{
	struct rec *r = ud;

	r->nstart++;
	rec_str(r, "<");
	rec_name(r, ns, local);
	if (*prefix) {
		rec_str(r, "|");
		rec_str(r, prefix);
	}
	for (size_t i = 0; i < n; i++) {
		rec_str(r, " ");
		rec_name(r, a[i].ns, a[i].local);
		rec_str(r, "=");
		rec_str(r, a[i].value);
	}
	rec_str(r, ">");
	if (r->stop_after && r->nstart == r->stop_after)
		xr_stop(r->x);
}

static void rec_end(void *ud, const char *ns, const char *local)
{
	struct rec *r = ud;

	rec_str(r, "</");
	rec_name(r, ns, local);
	rec_str(r, ">");
}

static void rec_text(void *ud, const char *s, size_t n)
{
	struct rec *r = ud;

	r->textbytes += n;
	rec_add(r, s, n);
}

static const struct xr_handlers rec_handlers = {rec_start, rec_end, rec_text};

static struct xr_opts default_opts(void)
{
	struct xr_opts o = {NULL, 1u << 20, 20.0f, 256};
	return o;
}

/* Parses doc (len bytes) in chunks of `chunk` bytes (0: whole). */
static struct xr *parse_with(struct rec *r, const struct xr_opts *o, const char *doc, size_t len,
			     size_t chunk)
{
	struct xr *x = xr_new(o, &rec_handlers, r);

	ck_assert_ptr_nonnull(x);
	r->x = x;
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (xr_feed(x, doc + off, n) < 0)
			return x;
	}
	xr_finish(x);
	return x;
}

static char *events(const char *doc, bool *wf)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x = parse_with(&r, &o, doc, strlen(doc), 0);

	if (wf)
		*wf = xr_wellformed(x);
	xr_free(x);
	if (!r.s)
		return strdup("");
	return r.s;
}

START_TEST(test_utf8_elements_text_attributes)
{
	bool wf;
	char *e = events("<?xml version=\"1.0\"?><a x=\"1\"><b>hi &amp; \xc3\xa9</b></a>", &wf);

	ck_assert_str_eq(e, "<a x=1><b>hi & \xc3\xa9</b></a>");
	ck_assert(wf);
	free(e);
}
END_TEST

START_TEST(test_namespaces_resolved_with_prefix)
{
	char *e = events("<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
			 "xmlns=\"urn:d\"><dc:creator dc:x=\"1\" y=\"2\">me</dc:creator></rss>",
			 NULL);

	ck_assert_str_eq(e, "<{urn:d}rss><{http://purl.org/dc/elements/1.1/}creator|dc "
			    "{http://purl.org/dc/elements/1.1/}x=1 y=2>me"
			    "</{http://purl.org/dc/elements/1.1/}creator></{urn:d}rss>");
	free(e);
}
END_TEST

START_TEST(test_xml_lang_attribute_in_xml_namespace)
{
	char *e = events("<a xml:lang=\"en\"/>", NULL);

	ck_assert_str_eq(e, "<a {" XR_NS_XML "}lang=en></a>");
	free(e);
}
END_TEST

START_TEST(test_cdata_is_text)
{
	char *e = events("<a><![CDATA[<b>x</b>]]></a>", NULL);

	ck_assert_str_eq(e, "<a><b>x</b></a>");
	free(e);
}
END_TEST

START_TEST(test_depth_cap_at_limit_reported)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;

	o.max_depth = 3;
	x = parse_with(&r, &o, "<a><b><c>t</c></b></a>", 22, 0);
	ck_assert_str_eq(r.s, "<a><b><c>t</c></b></a>");
	xr_free(x);
	free(r.s);
}
END_TEST

START_TEST(test_depth_cap_past_limit_skipped)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;
	const char *doc = "<a><b><c><d>t<e/></d>u</c>v</b></a>";

	o.max_depth = 3;
	x = parse_with(&r, &o, doc, strlen(doc), 0);
	ck_assert_str_eq(r.s, "<a><b><c>u</c>v</b></a>");
	ck_assert(xr_wellformed(x));
	xr_free(x);
	free(r.s);
}
END_TEST

START_TEST(test_200000_nested_elements_bounded)
{
	size_t n = 200000, len = n * 7 + 1;
	char *doc = malloc(len), *p = doc;
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;

	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "<a>");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "</a>");
	x = parse_with(&r, &o, doc, (size_t)(p - doc), 4096);
	ck_assert_uint_eq(r.nstart, o.max_depth);
	ck_assert_msg(xr_wellformed(x), "%s", xr_error(x));
	xr_free(x);
	free(r.s);
	free(doc);
}
END_TEST

START_TEST(test_stop_from_handler)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	struct xr *x;
	const char *doc = "<a><b/><c/><d/></a>";

	r.stop_after = 2;
	x = parse_with(&r, &o, doc, strlen(doc), 1);
	ck_assert_str_eq(r.s, "<a><b>");
	ck_assert_int_eq(xr_feed(x, "x", 1), -1);
	xr_free(x);
	free(r.s);
}
END_TEST

START_TEST(test_error_has_line_and_column)
{
	struct rec r = {0};
	struct xr_opts o = default_opts();
	const char *doc = "<a>\n  <b></c></a>";
	struct xr *x = parse_with(&r, &o, doc, strlen(doc), 0);

	ck_assert(!xr_wellformed(x));
	ck_assert_ptr_nonnull(xr_error(x));
	ck_assert_msg(strncmp(xr_error(x), "line 2, column 8: ", 18) == 0, "%s", xr_error(x));
	xr_free(x);
	free(r.s);
}
END_TEST

static Suite *xmlreader_suite(void)
{
	Suite *s = suite_create("xmlreader");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_utf8_elements_text_attributes);
	tcase_add_test(tc, test_namespaces_resolved_with_prefix);
	tcase_add_test(tc, test_xml_lang_attribute_in_xml_namespace);
	tcase_add_test(tc, test_cdata_is_text);
	tcase_add_test(tc, test_depth_cap_at_limit_reported);
	tcase_add_test(tc, test_depth_cap_past_limit_skipped);
	tcase_add_test(tc, test_200000_nested_elements_bounded);
	tcase_add_test(tc, test_stop_from_handler);
	tcase_add_test(tc, test_error_has_line_and_column);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xmlreader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
