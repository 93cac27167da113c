/*
 * test_parse_conform.c - parsers/parse.c against what the common feed
 * parser test suites expect where the feedd contract agrees: one
 * behaviour each, small inline documents written for these tests.
 */
#include <check.h>
#include <stdio.h>

#include "parsetest.h"

/* The JSON of the only item of xml (or "" when there is none). */
static char *pc_one(const char *xml)
{
	struct pt r;
	pt_parse(&r, xml);
	char *s = strdup(r.n == 1 ? r.items[0] : "");
	pt_free(&r);
	return s;
}

#define ONE_EQ(xml, want)                                                                          \
	do {                                                                                       \
		char *got_ = pc_one(xml);                                                          \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while (0)

#define RSS(items) "<rss version=\"2.0\"><channel>" items "</channel></rss>"

/* ---- dialects ---- */

START_TEST(atom_draft_namespaces_are_atom03)
{
	static const char *ns[] = {"http://purl.org/echo/", "http://purl.org/pie/",
	                           "http://example.com/necho", "http://example.com/newformat#",
	                           "uri/of/echo/namespace#"};
	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		char xml[512];
		snprintf(xml, sizeof xml,
		         "<feed version=\"0.3\" xmlns=\"%s\"><title>Draft</title>"
		         "<entry><title>e</title></entry></feed>",
		         ns[i]);
		struct pt r;
		pt_parse(&r, xml);
		ck_assert_msg(r.format == FEED_FORMAT_ATOM03, "%s", ns[i]);
		ck_assert_str_eq(r.feed, "{\"title\":\"Draft\"}");
		ck_assert_uint_eq(r.n, 1);
		ck_assert_str_eq(r.items[0], "{\"title\":\"e\"}");
		pt_free(&r);
	}
}
END_TEST

/* An rdf:RDF document whose default namespace is RSS 0.90's is RSS 0.90
 * even with nothing in it; with RSS 1.0's, or none, it stays RSS 1.0. */
START_TEST(rdf_with_the_rss090_default_namespace_is_rss09x_even_when_empty)
{
	static const struct {
		const char *xmlns;
		enum feed_format want;
	} cases[] = {
	    {" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\"", FEED_FORMAT_RSS09X},
	    {" xmlns=\"http://purl.org/rss/1.0/\"", FEED_FORMAT_RSS10},
	    {"", FEED_FORMAT_RSS10},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char xml[512];
		snprintf(xml, sizeof xml,
		         "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"%s>\n"
		         "</rdf:RDF>",
		         cases[i].xmlns);
		struct pt r;
		pt_parse(&r, xml);
		ck_assert_msg(r.format == cases[i].want, "%s: format %d", cases[i].xmlns, r.format);
		ck_assert_uint_eq(r.n, 0);
		pt_free(&r);
	}
}
END_TEST

START_TEST(unknown_namespace_feed_is_not_atom)
{
	struct pt r;
	pt_parse(&r, "<feed xmlns=\"http://example.org/not-atom\"><title>x</title></feed>");
	ck_assert_int_eq(r.format, FEED_FORMAT_UNKNOWN);
	pt_free(&r);
}
END_TEST

START_TEST(any_userland_namespace_is_rss)
{
	static const char *ns[] = {"http://backend.userland.com/rss2.1",
	                           "http://backend.userland.com/RSS2",
	                           "http://backend.userland.com/rss092"};
	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		char xml[512];
		snprintf(xml, sizeof xml,
		         "<rss version=\"2.0\" xmlns=\"%s\"><channel><description>d</description>"
		         "<item><title>i</title></item></channel></rss>",
		         ns[i]);
		struct pt r;
		pt_parse(&r, xml);
		ck_assert_msg(r.format == FEED_FORMAT_RSS20, "%s", ns[i]);
		ck_assert_str_eq(r.feed, "{\"subtitle\":\"d\"}");
		ck_assert_uint_eq(r.n, 1);
		ck_assert_str_eq(r.items[0], "{\"title\":\"i\"}");
		pt_free(&r);
	}
}
END_TEST

START_TEST(other_namespace_elements_are_not_rss)
{
	ONE_EQ(RSS("<item><title>i</title><x:title xmlns:x=\"http://example.com/userland.com/rss\">"
	           "no</x:title></item>"),
	       "{\"title\":\"i\"}");
}
END_TEST

/* ---- content ---- */

START_TEST(rss_fullitem_is_content)
{
	ONE_EQ(RSS("<item><fullitem>&lt;p&gt;Full text&lt;/p&gt;</fullitem></item>"),
	       "{\"content\":\"<p>Full text</p>\"}");
}
END_TEST

START_TEST(rss_content_encoded_beats_fullitem)
{
	ONE_EQ("<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">"
	       "<channel><item><fullitem>short</fullitem>"
	       "<content:encoded>long</content:encoded></item></channel></rss>",
	       "{\"content\":\"long\"}");
}
END_TEST

/* ---- links ---- */

/* An RSS <link> written Atom-style, with href and no text (feeds that use
 * atom:link without declaring the namespace): feed readers take href. */
START_TEST(rss_link_with_href_is_the_link)
{
	ONE_EQ(RSS("<item><link href=\"http://example.com/a\"/></item>"),
	       "{\"link\":\"http://example.com/a\"}");
	ONE_EQ(
	    RSS("<item><link rel=\"alternate\" type=\"text/html\" href=\"http://example.com/b\"/>"
	        "</item>"),
	    "{\"link\":\"http://example.com/b\"}");
	struct pt r;
	pt_parse(
	    &r,
	    "<rss version=\"2.0\"><channel><link href=\"http://example.com/\"/></channel></rss>");
	ck_assert_str_eq(r.feed, "{\"link\":\"http://example.com/\"}");
	pt_free(&r);
}
END_TEST

START_TEST(rss_link_with_href_of_another_rel_is_not_the_link)
{
	ONE_EQ(RSS("<item><link rel=\"self\" href=\"http://example.com/self\"/>"
	           "<link rel=\"enclosure\" href=\"http://example.com/e.mp3\" type=\"audio/mpeg\"/>"
	           "</item>"),
	       "{\"enclosures\":[{\"url\":\"http://example.com/e.mp3\",\"type\":\"audio/mpeg\"}]}");
}
END_TEST

START_TEST(rss_link_text_beats_a_link_with_href)
{
	ONE_EQ(
	    RSS("<item><link href=\"http://example.com/href\"/><link>http://example.com/text</link>"
	        "</item>"),
	    "{\"link\":\"http://example.com/text\"}");
}
END_TEST

/* ---- broken documents ---- */

/* An <item> left open: the next <item> starts a new item (items do not
 * nest), so neither it nor any later item is lost. */
START_TEST(an_item_left_open_ends_where_the_next_begins)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0\"><channel><title>t</title>"
	             "<item><title>open</title><link>http://e/1</link>"
	             "<item><title>two</title></item>"
	             "<item><title>three</title></item></channel></rss>");
	ck_assert(!r.wellformed);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.items[0], "{\"title\":\"open\",\"link\":\"http://e/1\"}");
	ck_assert_str_eq(r.items[1], "{\"title\":\"two\"}");
	ck_assert_str_eq(r.items[2], "{\"title\":\"three\"}");
	pt_free(&r);
}
END_TEST

START_TEST(an_atom_entry_left_open_ends_where_the_next_begins)
{
	struct pt r;
	pt_parse(&r, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	             "<entry><id>1</id><entry><id>2</id></entry></feed>");
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(r.items[0], "{\"id\":\"1\"}");
	ck_assert_str_eq(r.items[1], "{\"id\":\"2\"}");
	pt_free(&r);
}
END_TEST

/* The items' ids are "1", "2", ... in order, each once. */
static void expect_ids_in_order(const struct pt *r)
{
	for (size_t i = 0; i < r->n; i++) {
		char want[32];
		snprintf(want, sizeof want, "{\"id\":\"%zu\"}", i + 1);
		ck_assert_str_eq(r->items[i], want);
	}
}

/* Items left open inside a media:group left open (the group passes its
 * children on to the item): each item is delivered once and none is lost,
 * however deep the open ones pile up. */
START_TEST(items_left_open_in_open_media_groups_are_each_delivered_once)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>"
	             "<item><guid>1</guid><media:group>"
	             "<item><guid>2</guid><media:group>"
	             "<item><guid>3</guid><media:group>"
	             "<item><guid>4</guid></item></channel></rss>");
	ck_assert(!r.wellformed);
	ck_assert_uint_eq(r.n, 4);
	expect_ids_in_order(&r);
	pt_free(&r);
}
END_TEST

START_TEST(entries_nested_in_media_groups_are_each_delivered_once)
{
	struct pt r;
	pt_parse(&r, "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	             "xmlns:media=\"http://search.yahoo.com/mrss/\">"
	             "<entry><id>1</id><media:group><entry><id>2</id><media:group>"
	             "<entry><id>3</id></entry></media:group></entry></media:group></entry>"
	             "<entry><id>4</id></entry></feed>");
	ck_assert_uint_eq(r.n, 4);
	expect_ids_in_order(&r);
	pt_free(&r);
}
END_TEST

START_TEST(an_end_tag_in_another_case_ends_the_title)
{
	ONE_EQ(RSS("<item><title>shout</TITLE><link>http://e/7</link></item>"),
	       "{\"title\":\"shout\",\"link\":\"http://e/7\"}");
}
END_TEST

/* ---- Media RSS ---- */

#define MRSS(items)                                                                                \
	"<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>" items       \
	"</channel></rss>"

/* YouTube's Atom feeds carry an entry's text only as media:description
 * inside media:group: it is the summary, as feed readers show it. */
START_TEST(media_description_in_a_group_is_the_summary)
{
	ONE_EQ("<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	       "xmlns:media=\"http://search.yahoo.com/mrss/\">"
	       "<entry><title>v</title><media:group><media:title>v</media:title>"
	       "<media:description>Line one\nLine "
	       "two</media:description></media:group></entry></feed>",
	       "{\"title\":\"v\",\"summary\":\"Line one\\nLine two\"}");
}
END_TEST

START_TEST(media_description_does_not_displace_description)
{
	ONE_EQ(MRSS("<item><media:description>m</media:description><description>d</description>"
	            "</item>"),
	       "{\"summary\":\"d\"}");
}
END_TEST

START_TEST(media_title_is_the_title_only_when_there_is_none)
{
	ONE_EQ(MRSS("<item><media:title>m</media:title></item>"), "{\"title\":\"m\"}");
	ONE_EQ(MRSS("<item><media:title>m</media:title><title>t</title></item>"),
	       "{\"title\":\"t\"}");
	ONE_EQ(MRSS("<item><title>t</title><media:group><media:title>m</media:title></media:group>"
	            "</item>"),
	       "{\"title\":\"t\"}");
}
END_TEST

START_TEST(media_keywords_and_category_are_categories)
{
	ONE_EQ(MRSS("<item><media:keywords>kitty, cat ,  big dog</media:keywords>"
	            "<media:category scheme=\"urn:x\">animals/cats</media:category></item>"),
	       "{\"categories\":[\"kitty\",\"cat\",\"big dog\",\"animals/cats\"]}");
}
END_TEST

static Suite *parse_conform_suite(void)
{
	Suite *s = suite_create("parse_conform");
	TCase *tc = tcase_create("dialects");
	tcase_add_test(tc, atom_draft_namespaces_are_atom03);
	tcase_add_test(tc, rdf_with_the_rss090_default_namespace_is_rss09x_even_when_empty);
	tcase_add_test(tc, unknown_namespace_feed_is_not_atom);
	tcase_add_test(tc, any_userland_namespace_is_rss);
	tcase_add_test(tc, other_namespace_elements_are_not_rss);
	suite_add_tcase(s, tc);
	tc = tcase_create("content");
	tcase_add_test(tc, rss_fullitem_is_content);
	tcase_add_test(tc, rss_content_encoded_beats_fullitem);
	suite_add_tcase(s, tc);
	tc = tcase_create("links");
	tcase_add_test(tc, rss_link_with_href_is_the_link);
	tcase_add_test(tc, rss_link_with_href_of_another_rel_is_not_the_link);
	tcase_add_test(tc, rss_link_text_beats_a_link_with_href);
	suite_add_tcase(s, tc);
	tc = tcase_create("broken");
	tcase_add_test(tc, an_item_left_open_ends_where_the_next_begins);
	tcase_add_test(tc, an_atom_entry_left_open_ends_where_the_next_begins);
	tcase_add_test(tc, items_left_open_in_open_media_groups_are_each_delivered_once);
	tcase_add_test(tc, entries_nested_in_media_groups_are_each_delivered_once);
	tcase_add_test(tc, an_end_tag_in_another_case_ends_the_title);
	suite_add_tcase(s, tc);
	tc = tcase_create("media");
	tcase_add_test(tc, media_description_in_a_group_is_the_summary);
	tcase_add_test(tc, media_description_does_not_displace_description);
	tcase_add_test(tc, media_title_is_the_title_only_when_there_is_none);
	tcase_add_test(tc, media_keywords_and_category_are_categories);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(parse_conform_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
