/*
 * test_parse.c - parsers/parse.c: dialects, namespaces, text constructs,
 * links and bases, authors, dates mapping, limits.  One behaviour each.
 */
#include <check.h>
#include <stdio.h>

#include "parsetest.h"
#include "testutil.h"

static void pt_fixture(struct pt *r, const char *name, const char *base)
{
	char path[256];
	snprintf(path, sizeof path, "parse/%s", name);
	char *xml = tu_read_file(tu_fixture(path), NULL);
	pt_parse_base(r, xml, base);
	free(xml);
}

#define ITEM_EQ(r, i, s)                                                                  \
	do {                                                                               \
		ck_assert_uint_gt((r).n, (i));                                             \
		ck_assert_str_eq((r).items[i], s);                                         \
	} while (0)

/* ---- dialects ---- */

START_TEST(rss20_fixture_items_and_feed)
{
	struct pt r;
	pt_fixture(&r, "rss20.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS20);
	ck_assert(r.wellformed);
	ck_assert_int_eq(r.finish, 0);
	ck_assert_uint_eq(r.n, 2);
	ITEM_EQ(r, 0,
		"{\"id\":\"item-1\",\"title\":\"First item\",\"link\":\"http://example.com/1\","
		"\"author\":\"John Doe (jdoe@example.com)\",\"published\":\"2022-05-16T06:00:00Z\","
		"\"summary\":\"<p>Hello &amp; welcome</p>\",\"categories\":[\"news\",\"tech\"],"
		"\"enclosures\":[{\"url\":\"http://example.com/a.mp3\",\"type\":\"audio/mpeg\","
		"\"length\":12345}]}");
	ITEM_EQ(r, 1,
		"{\"id\":\"http://example.com/2\",\"title\":\"Second <b>item</b>\","
		"\"link\":\"http://example.com/2\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"Example Feed\",\"link\":\"http://example.com/\","
				 "\"subtitle\":\"An example feed\",\"language\":\"en-us\","
				 "\"author\":\"Ed Itor (editor@example.com)\","
				 "\"updated\":\"2022-05-17T09:30:00Z\"}");
	ck_assert_int_eq(r.meta.ttl_minutes, 60);
	pt_free(&r);
}
END_TEST

START_TEST(atom10_fixture_items_and_feed)
{
	struct pt r;
	pt_fixture(&r, "atom10.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_ATOM10);
	ck_assert(r.wellformed);
	ck_assert_uint_eq(r.n, 1);
	ITEM_EQ(r, 0,
		"{\"id\":\"urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a\","
		"\"title\":\"Atom-Powered Robots Run Amok\","
		"\"link\":\"http://example.org/2003/12/13/atom03\",\"author\":\"Jane\","
		"\"published\":\"2003-12-13T12:29:29Z\",\"updated\":\"2003-12-13T18:30:02Z\","
		"\"summary\":\"Some text.\","
		"\"content\":\"<p>Hello <b>world</b> &amp; co<br /></p>\","
		"\"categories\":[\"robots\",\"only-label\"],"
		"\"enclosures\":[{\"url\":\"http://example.org/audio/ph34r_my_podcast.mp3\","
		"\"type\":\"audio/mpeg\",\"length\":1337}]}");
	ck_assert_str_eq(r.feed, "{\"title\":\"Example Atom\",\"link\":\"http://example.org/\","
				 "\"id\":\"urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6\","
				 "\"subtitle\":\"<b>sub</b>\",\"language\":\"en\","
				 "\"author\":\"John Doe (johndoe@example.com)\","
				 "\"updated\":\"2003-12-13T18:30:02Z\"}");
	pt_free(&r);
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("dialects");
	tcase_add_test(tc, rss20_fixture_items_and_feed);
	tcase_add_test(tc, atom10_fixture_items_and_feed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
