/*
 * test_opml.c - parsers/opml.c: OPML 1.0 and 2.0 subscription lists.
 * Each outline is recorded as "title|xmlUrl|htmlUrl|category" lines.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "testutil.h"

struct rec {
	struct buf b;
	int stop_after;
	int n;
};

static int rec_outline(void *ud, const struct opml_outline *o)
{
	struct rec *r = ud;
	char line[1024];
	snprintf(line, sizeof line, "%s|%s|%s|%s\n", o->title ? o->title : "-", o->xml_url,
		 o->html_url ? o->html_url : "-", o->category ? o->category : "-");
	buf_puts(&r->b, line);
	r->n++;
	return r->stop_after && r->n >= r->stop_after;
}

static int run(struct rec *r, const char *data, char *err)
{
	memset(r, 0, sizeof *r);
	buf_puts(&r->b, "");
	return opml_parse(data, strlen(data), rec_outline, r, err, 256);
}

static int run_fixture(struct rec *r, const char *name, char *err)
{
	char path[256];
	snprintf(path, sizeof path, "opml/%s", name);
	char *d = tu_read_file(tu_fixture(path), NULL);
	int rc = run(r, d, err);
	free(d);
	return rc;
}

START_TEST(opml10_outlines_title_text_and_urls)
{
	struct rec r;
	char err[256] = "";
	ck_assert_int_eq(run_fixture(&r, "opml10.opml", err), 0);
	ck_assert_str_eq(r.b.data, "Scripting News|http://www.scripting.com/rss.xml|"
				   "http://www.scripting.com/|-\n"
				   "Text only|http://example.com/text.xml|-|-\n");
	buf_free(&r.b);
}
END_TEST

START_TEST(opml20_nested_outlines_give_category_path)
{
	struct rec r;
	char err[256] = "";
	ck_assert_int_eq(run_fixture(&r, "opml20.opml", err), 0);
	ck_assert_str_eq(r.b.data, "LWN|https://lwn.net/headlines/rss|https://lwn.net/|Tech/News & Views\n"
				   "Ars Technica|http://feeds.arstechnica.com/arstechnica/index|-|Tech\n"
				   "Loose|http://example.com/loose.xml|-|Misc/Sub\n");
	buf_free(&r.b);
}
END_TEST

START_TEST(opml_xml_base_makes_urls_absolute)
{
	struct rec r;
	char err[256] = "";
	ck_assert_int_eq(run_fixture(&r, "opml_base.opml", err), 0);
	ck_assert_str_eq(r.b.data, "Rel|http://example.org/lists/feeds/a.xml|http://example.org/a/|-\n");
	buf_free(&r.b);
}
END_TEST

START_TEST(opml_outline_without_title_or_text)
{
	struct rec r;
	char err[256] = "";
	ck_assert_int_eq(run(&r, "<opml><body><outline xmlUrl=\"http://e/x\"/></body></opml>", err), 0);
	ck_assert_str_eq(r.b.data, "-|http://e/x|-|-\n");
	buf_free(&r.b);
}
END_TEST

START_TEST(opml_not_opml_is_an_error)
{
	struct rec r;
	char err[256] = "";
	ck_assert_int_eq(run(&r, "<rss version=\"2.0\"><channel/></rss>", err), -1);
	ck_assert_str_eq(err, "not an OPML document: root element <rss>");
	buf_free(&r.b);
}
END_TEST

START_TEST(opml_empty_input_is_an_error)
{
	struct rec r;
	char err[256] = "";
	ck_assert_int_eq(run(&r, "", err), -1);
	ck_assert_str_ne(err, "");
	buf_free(&r.b);
}
END_TEST

START_TEST(opml_callback_can_stop)
{
	struct rec r;
	char err[256] = "";
	memset(&r, 0, sizeof r);
	r.stop_after = 1;
	const char *d = "<opml><body><outline xmlUrl=\"http://e/1\"/><outline xmlUrl=\"http://e/2\"/>"
			"</body></opml>";
	ck_assert_int_eq(opml_parse(d, strlen(d), rec_outline, &r, err, sizeof err), -1);
	ck_assert_int_eq(r.n, 1);
	ck_assert_str_eq(err, "stopped");
	buf_free(&r.b);
}
END_TEST

static Suite *opml_suite(void)
{
	Suite *s = suite_create("opml");
	TCase *tc = tcase_create("opml");
	tcase_add_test(tc, opml10_outlines_title_text_and_urls);
	tcase_add_test(tc, opml20_nested_outlines_give_category_path);
	tcase_add_test(tc, opml_xml_base_makes_urls_absolute);
	tcase_add_test(tc, opml_outline_without_title_or_text);
	tcase_add_test(tc, opml_not_opml_is_an_error);
	tcase_add_test(tc, opml_empty_input_is_an_error);
	tcase_add_test(tc, opml_callback_can_stop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(opml_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
