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

START_TEST(rss090_rdf_fixture)
{
	struct pt r;
	pt_fixture(&r, "rss090.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS09X);
	ck_assert(r.wellformed);
	ck_assert_uint_eq(r.n, 2);
	ITEM_EQ(r, 0, "{\"title\":\"New Status Updates\",\"link\":\"http://www.mozilla.org/status/\"}");
	ITEM_EQ(r, 1, "{\"title\":\"Bugzilla Reorganized\",\"link\":\"http://www.mozilla.org/bugs/\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"Mozilla Dot Org\",\"link\":\"http://www.mozilla.org\","
				 "\"subtitle\":\"the Mozilla Organization web site\"}");
	pt_free(&r);
}
END_TEST

START_TEST(rss091_netscape_with_doctype_fixture)
{
	struct pt r;
	pt_fixture(&r, "rss091_netscape.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS09X);
	ck_assert(r.wellformed);
	ck_assert_uint_eq(r.n, 1);
	ITEM_EQ(r, 0, "{\"title\":\"Giving the world a pluggable Gnutella\","
		      "\"link\":\"http://writetheweb.com/read.php?item=24\","
		      "\"summary\":\"WorldOS is a framework on which to build programs that work like "
		      "Freenet or Gnutella.\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"WriteTheWeb\",\"link\":\"http://writetheweb.com\","
				 "\"subtitle\":\"News for web users that write back\","
				 "\"language\":\"en-us\",\"author\":\"editor@writetheweb.com\"}");
	pt_free(&r);
}
END_TEST

START_TEST(rss091_userland_fixture)
{
	struct pt r;
	pt_fixture(&r, "rss091_userland.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS09X);
	ck_assert_uint_eq(r.n, 1);
	ITEM_EQ(r, 0, "{\"summary\":\"\\\"rssflowersalignright\\\"With any luck we should have one or "
		      "two more days of namespaces stuff here on Scripting News.\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"Scripting News\",\"link\":\"http://www.scripting.com/\","
				 "\"subtitle\":\"A weblog about scripting and stuff like that.\","
				 "\"language\":\"en-us\",\"updated\":\"2002-09-30T11:00:00Z\"}");
	pt_free(&r);
}
END_TEST

START_TEST(rss092_fixture)
{
	struct pt r;
	pt_fixture(&r, "rss092.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS09X);
	ck_assert_uint_eq(r.n, 1);
	ITEM_EQ(r, 0, "{\"summary\":\"It's been a few days since I added a song to the Grateful Dead "
		      "channel.\",\"categories\":[\"Music\"],\"enclosures\":[{\"url\":"
		      "\"http://www.scripting.com/mp3s/weatherReportSuite.mp3\",\"type\":\"audio/mpeg\","
		      "\"length\":12216320}]}");
	ck_assert_str_eq(r.feed, "{\"title\":\"Dave Winer: Grateful Dead\","
				 "\"link\":\"http://www.scripting.com/blog/categories/gratefulDead.html\","
				 "\"subtitle\":\"A high-fidelity Grateful Dead song every day.\","
				 "\"author\":\"Dave Winer (dave@userland.com)\","
				 "\"updated\":\"2001-04-13T19:23:02Z\"}");
	pt_free(&r);
}
END_TEST

START_TEST(rss093_fixture)
{
	struct pt r;
	pt_fixture(&r, "rss093.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS09X);
	ITEM_EQ(r, 0, "{\"title\":\"Item 0.93\",\"link\":\"http://example.com/093/1\","
		      "\"published\":\"2002-09-07T00:00:01Z\",\"enclosures\":[{\"url\":"
		      "\"http://example.com/093/1.mp3\",\"type\":\"audio/mpeg\"}]}");
	pt_free(&r);
}
END_TEST

START_TEST(rss094_fixture)
{
	struct pt r;
	pt_fixture(&r, "rss094.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS09X);
	ITEM_EQ(r, 0, "{\"id\":\"http://example.com/094/1\",\"title\":\"Item 0.94\","
		      "\"link\":\"http://example.com/094/1\",\"author\":\"Jane Roe\","
		      "\"categories\":[\"a\"]}");
	ck_assert_str_eq(r.feed, "{\"title\":\"RSS 0.94 channel\",\"link\":\"http://example.com/094\","
				 "\"subtitle\":\"0.94 feed\"}");
	pt_free(&r);
}
END_TEST

START_TEST(rss10_rdf_fixture)
{
	struct pt r;
	pt_fixture(&r, "rss10.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS10);
	ck_assert(r.wellformed);
	ck_assert_uint_eq(r.n, 1);
	ITEM_EQ(r, 0, "{\"id\":\"http://c.moreover.com/click/here.pl?r123\","
		      "\"title\":\"XML: A Disruptive Technology\","
		      "\"link\":\"http://c.moreover.com/click/here.pl?r123\","
		      "\"author\":\"Simon St.Laurent (simonstl@simonstl.com)\","
		      "\"updated\":\"2000-01-01T12:00:00Z\","
		      "\"summary\":\"XML is placing increasingly heavy loads on the existing technical "
		      "infrastructure of the Internet.\",\"content\":\"<p>Full text</p>\","
		      "\"categories\":[\"XML\"]}");
	ck_assert_str_eq(r.feed, "{\"title\":\"Meerkat\",\"link\":\"http://meerkat.oreillynet.com\","
				 "\"subtitle\":\"Meerkat: An Open Wire Service\",\"language\":\"en\","
				 "\"author\":\"Rael Dornfest (rael@oreilly.com)\","
				 "\"updated\":\"2000-01-01T12:00:00Z\"}");
	ck_assert_int_eq(r.meta.sy_period_seconds, 1800);
	pt_free(&r);
}
END_TEST

START_TEST(atom03_fixture)
{
	struct pt r;
	pt_fixture(&r, "atom03.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_ATOM03);
	ck_assert(r.wellformed);
	ck_assert_uint_eq(r.n, 2);
	ITEM_EQ(r, 0, "{\"id\":\"tag:example.org,2003:3.2397\",\"title\":\"Atom 0.3 snapshot\","
		      "\"link\":\"http://example.org/2003/12/13/atom03\","
		      "\"published\":\"2003-12-13T12:29:29Z\",\"updated\":\"2003-12-13T18:30:02Z\","
		      "\"summary\":\"Summary 0.3\",\"content\":\"<div><p><i>[Update: The Atom draft is "
		      "finished.]</i></p></div>\"}");
	ITEM_EQ(r, 1, "{\"title\":\"Base64 title\",\"content\":\"<p>escaped</p>\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"dive into <b>mark</b>\",\"link\":\"http://example.org/\","
				 "\"id\":\"tag:example.org,2003:3\","
				 "\"subtitle\":\"A lot of effort went into making this effortless\","
				 "\"language\":\"en-GB\",\"author\":\"Mark Pilgrim (f8dy@example.com)\","
				 "\"updated\":\"2003-12-13T18:30:02Z\"}");
	pt_free(&r);
}
END_TEST

/* ---- namespaces ---- */

START_TEST(ns_dublin_core_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_dc.xml", NULL);
	ITEM_EQ(r, 0, "{\"title\":\"DC item title\",\"author\":\"John Doe (jdoe@example.com)\","
		      "\"updated\":\"2004-05-06T05:08:09Z\",\"summary\":\"DC item description\","
		      "\"categories\":[\"one\",\"two\"]}");
	ck_assert_str_eq(r.feed, "{\"title\":\"DC title\",\"subtitle\":\"DC description\","
				 "\"language\":\"fr\",\"author\":\"Channel Creator\","
				 "\"updated\":\"2004-05-06T07:08:09Z\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_dcterms_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_dcterms.xml", NULL);
	ITEM_EQ(r, 0, "{\"title\":\"issued and modified\",\"published\":\"2009-01-02T03:04:05Z\","
		      "\"updated\":\"2009-02-02T03:04:05Z\"}");
	ITEM_EQ(r, 1, "{\"title\":\"created only\",\"published\":\"2008-01-02T03:04:05Z\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"dcterms\",\"updated\":\"2010-01-02T03:04:05Z\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_content_encoded_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_content.xml", NULL);
	ITEM_EQ(r, 0, "{\"summary\":\"short\",\"content\":\"<p>long <em>body</em> &amp; more</p>\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_itunes_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_itunes.xml", NULL);
	ITEM_EQ(r, 0, "{\"title\":\"Episode 1\",\"author\":\"Episode Author\","
		      "\"summary\":\"Episode summary\",\"categories\":[\"Technology\",\"Gadgets\","
		      "\"alpha\",\"beta\",\"gamma\"],\"enclosures\":[{\"url\":"
		      "\"http://example.com/ep1.m4a\",\"type\":\"audio/x-m4a\"}]}");
	ck_assert_str_eq(r.feed, "{\"title\":\"Podcast\",\"subtitle\":\"Podcast summary\","
				 "\"author\":\"Podcast Author\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_itunes_uppercase_uri_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_itunes_uppercase.xml", NULL);
	ck_assert_str_eq(r.feed, "{\"title\":\"Podcast\","
				 "\"subtitle\":\"Summary via the old URI spelling\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_media_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_media.xml", NULL);
	ITEM_EQ(r, 0, "{\"title\":\"media only\",\"enclosures\":["
		      "{\"url\":\"http://example.com/v.mp4\",\"type\":\"video/mp4\",\"length\":1000},"
		      "{\"url\":\"http://example.com/v.webm\",\"type\":\"video/webm\"},"
		      "{\"url\":\"http://example.com/t.jpg\"}]}");
	ITEM_EQ(r, 1, "{\"title\":\"enclosure wins over media\",\"enclosures\":["
		      "{\"url\":\"http://example.com/e.mp3\",\"type\":\"audio/mpeg\",\"length\":5}]}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_syndication_and_ttl_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_sy.xml", NULL);
	ck_assert_int_eq(r.meta.ttl_minutes, 30);
	ck_assert_int_eq(r.meta.sy_period_seconds, 21600);
	pt_free(&r);
}
END_TEST

START_TEST(ns_xhtml_body_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_xhtml.xml", NULL);
	ITEM_EQ(r, 0, "{\"title\":\"with body\",\"content\":\"<p>Para &amp; <a "
		      "href=\\\"http://example.com/?a=1&amp;b=2\\\">link</a></p><br />\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_userland_rss2_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_userland.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS20);
	ITEM_EQ(r, 0, "{\"title\":\"U1\",\"link\":\"http://example.com/u/1\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"Userland namespace\",\"link\":\"http://example.com/u\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_harvard_rss_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_harvard.xml", NULL);
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS20);
	ITEM_EQ(r, 0, "{\"title\":\"H1\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_atom_in_rss_fixture)
{
	struct pt r;
	pt_fixture(&r, "ns_atom_in_rss.xml", NULL);
	ITEM_EQ(r, 0, "{\"title\":\"atom link only\",\"link\":\"http://example.com/a1\","
		      "\"author\":\"Ann (ann@example.com)\",\"updated\":\"2011-01-01T00:00:00Z\"}");
	ITEM_EQ(r, 1, "{\"title\":\"rss link wins\",\"link\":\"http://example.com/rss\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"atom in rss\",\"link\":\"http://example.com/home\"}");
	pt_free(&r);
}
END_TEST

START_TEST(ns_unknown_elements_ignored)
{
	struct pt r;
	pt_fixture(&r, "ns_unknown.xml", NULL);
	ITEM_EQ(r, 0, "{\"id\":\"g1\",\"title\":\"real title\"}");
	ck_assert_str_eq(r.feed, "{\"title\":\"unknown ns\"}");
	pt_free(&r);
}
END_TEST

/* ---- helpers for inline documents ---- */

#define RSS(items) "<rss version=\"2.0\"><channel><title>t</title>" items "</channel></rss>"
#define ATOM(entries) "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>" entries "</feed>"

static char *pt_one(const char *xml, const char *base)
{
	struct pt r;
	pt_parse_base(&r, xml, base);
	ck_assert_msg(r.n >= 1, "no item");
	char *s = strdup(r.items[0]);
	pt_free(&r);
	return s;
}

#define ONE_EQ(xml, base, want)                                                            \
	do {                                                                               \
		char *got_ = pt_one(xml, base);                                            \
		ck_assert_str_eq(got_, want);                                              \
		free(got_);                                                                \
	} while (0)

/* ---- text constructs ---- */

START_TEST(atom_text_type_is_plain_text)
{
	ONE_EQ(ATOM("<entry><title type=\"text\">a &lt;b&gt; c</title></entry>"), NULL,
	       "{\"title\":\"a <b> c\"}");
}
END_TEST

START_TEST(atom_html_type_is_decoded_markup)
{
	ONE_EQ(ATOM("<entry><summary type=\"html\">&lt;p&gt;x &amp;amp; y&lt;/p&gt;</summary></entry>"),
	       NULL, "{\"summary\":\"<p>x &amp; y</p>\"}");
}
END_TEST

START_TEST(atom_xhtml_type_is_inner_markup_without_div)
{
	ONE_EQ(ATOM("<entry><content type=\"xhtml\"> <div xmlns=\"http://www.w3.org/1999/xhtml\">"
		    "<p class=\"a&amp;b\">1 &lt; 2</p></div> </content></entry>"),
	       NULL, "{\"content\":\"<p class=\\\"a&amp;b\\\">1 &lt; 2</p>\"}");
}
END_TEST

START_TEST(atom_xhtml_two_divs_are_kept)
{
	ONE_EQ(ATOM("<entry><content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">a</div>"
		    "<div xmlns=\"http://www.w3.org/1999/xhtml\">b</div></content></entry>"),
	       NULL, "{\"content\":\"<div>a</div><div>b</div>\"}");
}
END_TEST

START_TEST(atom_xhtml_prefixed_elements_lose_prefix)
{
	ONE_EQ(ATOM("<entry><title type=\"xhtml\"><h:div xmlns:h=\"http://www.w3.org/1999/xhtml\">"
		    "<h:b>bold</h:b> text</h:div></title></entry>"),
	       NULL, "{\"title\":\"<b>bold</b> text\"}");
}
END_TEST

START_TEST(atom_text_default_type_keeps_text)
{
	ONE_EQ(ATOM("<entry><title>  AT&amp;T  </title></entry>"), NULL, "{\"title\":\"AT&T\"}");
}
END_TEST

START_TEST(atom_base64_content_decoded)
{
	ONE_EQ(ATOM("<entry><content type=\"application/octet-stream\">aGVsbG8=</content></entry>"), NULL,
	       "{\"content\":\"hello\"}");
}
END_TEST

START_TEST(rss_cdata_description_kept_as_markup)
{
	ONE_EQ(RSS("<item><description><![CDATA[<b>bold</b> &amp;]]></description></item>"), NULL,
	       "{\"summary\":\"<b>bold</b> &amp;\"}");
}
END_TEST

START_TEST(rss_escaped_html_description_decoded)
{
	ONE_EQ(RSS("<item><description>&lt;a href=\"x\"&gt;y&lt;/a&gt;</description></item>"), NULL,
	       "{\"summary\":\"<a href=\\\"x\\\">y</a>\"}");
}
END_TEST

START_TEST(rss_raw_markup_in_description_serialized)
{
	ONE_EQ(RSS("<item><description>a <b>b</b> &amp; c</description></item>"), NULL,
	       "{\"summary\":\"a <b>b</b> &amp; c\"}");
}
END_TEST

START_TEST(rss_div_in_description_dropped)
{
	ONE_EQ(RSS("<item><description><div>inside</div></description></item>"), NULL,
	       "{\"summary\":\"inside\"}");
}
END_TEST

START_TEST(rss_entities_decoded_in_title)
{
	ONE_EQ(RSS("<item><title>caf&#233; &#x2014; &amp;</title></item>"), NULL,
	       "{\"title\":\"caf\xc3\xa9 \xe2\x80\x94 &\"}");
}
END_TEST

/* ---- links and bases ---- */

START_TEST(xml_base_nested_and_relative)
{
	ONE_EQ("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"http://example.com/a/\">"
	       "<entry xml:base=\"b/\"><link href=\"c.html\"/></entry></feed>",
	       NULL, "{\"link\":\"http://example.com/a/b/c.html\"}");
}
END_TEST

/* White space around an xml:base value is no part of the URI (as around an href). */
START_TEST(xml_base_with_white_space_around_it)
{
	ONE_EQ("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\" http://example.com/a/\n\">"
	       "<entry><link href=\"c.html\"/></entry></feed>",
	       NULL, "{\"link\":\"http://example.com/a/c.html\"}");
}
END_TEST

START_TEST(xml_base_on_link_element_itself)
{
	ONE_EQ("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"http://example.com/a/\">"
	       "<entry><link xml:base=\"/root/\" href=\"x\"/></entry></feed>",
	       NULL, "{\"link\":\"http://example.com/root/x\"}");
}
END_TEST

START_TEST(xml_base_scope_ends_with_element)
{
	struct pt r;
	pt_parse_base(&r, "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"http://example.com/\">"
			  "<entry xml:base=\"http://other.example/\"><link href=\"1\"/></entry>"
			  "<entry><link href=\"2\"/></entry></feed>", NULL);
	ITEM_EQ(r, 0, "{\"link\":\"http://other.example/1\"}");
	ITEM_EQ(r, 1, "{\"link\":\"http://example.com/2\"}");
	pt_free(&r);
}
END_TEST

START_TEST(relative_xml_base_resolved_against_document_url)
{
	ONE_EQ(RSS("<item xml:base=\"/news/\"><link>item.html</link></item>"),
	       "http://example.org/feeds/rss.xml", "{\"link\":\"http://example.org/news/item.html\"}");
}
END_TEST

START_TEST(document_url_resolves_rss_link)
{
	ONE_EQ(RSS("<item><link>../x?a=1</link></item>"), "http://example.org/feeds/rss.xml",
	       "{\"link\":\"http://example.org/x?a=1\"}");
}
END_TEST

START_TEST(relative_link_without_base_kept_as_written)
{
	ONE_EQ(RSS("<item><link>/relative/uri</link></item>"), NULL, "{\"link\":\"/relative/uri\"}");
}
END_TEST

START_TEST(absolute_link_kept_as_written)
{
	ONE_EQ(RSS("<item><link>HTTP://Example.COM</link></item>"), "http://base.example/",
	       "{\"link\":\"HTTP://Example.COM\"}");
}
END_TEST

/* Resolving a reference changes no character of it: non-ASCII, spaces
 * (also in the query) stay as written, as an absolute link would. */
START_TEST(resolved_link_keeps_its_characters)
{
	ONE_EQ(RSS("<item><link>caf\xc3\xa9 au lait.html?q=cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
		   "e</link></item>"),
	       "http://example.org/dir/feed.xml",
	       "{\"link\":\"http://example.org/dir/caf\xc3\xa9 au lait.html?q=cr\xc3\xa8me "
	       "br\xc3\xbbl\xc3\xa9" "e\"}");
}
END_TEST

START_TEST(resolved_href_in_content_keeps_its_characters)
{
	ONE_EQ(RSS("<item><description>&lt;a href=\"/wiki/\xc3\x9c" "ber uns\"&gt;x&lt;/a&gt;"
		   "</description></item>"),
	       "http://example.org/dir/feed.xml",
	       "{\"summary\":\"<a href=\\\"http://example.org/wiki/\xc3\x9c" "ber uns\\\">x</a>\"}");
}
END_TEST

/* RFC 3986 5.2.2: a reference of only a fragment or a query keeps the
 * base's path (and, for a fragment, its query). */
START_TEST(fragment_or_query_only_link_keeps_the_base_path)
{
	ONE_EQ(RSS("<item><link>#comments</link></item>"), "http://example.org/a/b.php?id=7#top",
	       "{\"link\":\"http://example.org/a/b.php?id=7#comments\"}");
	ONE_EQ(RSS("<item><link>?id=8</link></item>"), "http://example.org/a/b.php?id=7",
	       "{\"link\":\"http://example.org/a/b.php?id=8\"}");
}
END_TEST

START_TEST(dot_segments_removed_when_resolving)
{
	ONE_EQ(RSS("<item><link>./x/../y/./z/..</link></item>"), "http://example.org/a/b/c",
	       "{\"link\":\"http://example.org/a/b/y/\"}");
	ONE_EQ(RSS("<item><link>../../../../up</link></item>"), "http://example.org/a/b/c",
	       "{\"link\":\"http://example.org/up\"}");
	ONE_EQ(RSS("<item><link>//cdn.example.net/./p/../q</link></item>"), "https://example.org/a",
	       "{\"link\":\"https://cdn.example.net/q\"}");
	ONE_EQ(RSS("<item><link>x</link></item>"), "http://example.org",
	       "{\"link\":\"http://example.org/x\"}");
}
END_TEST

START_TEST(enclosure_url_resolved)
{
	ONE_EQ(RSS("<item><enclosure url=\"a.mp3\" type=\"audio/mpeg\" length=\"1\"/></item>"),
	       "http://example.org/p/feed", "{\"enclosures\":[{\"url\":\"http://example.org/p/a.mp3\","
					    "\"type\":\"audio/mpeg\",\"length\":1}]}");
}
END_TEST

START_TEST(atom_link_prefers_text_html_alternate)
{
	ONE_EQ(ATOM("<entry><link rel=\"alternate\" type=\"application/pdf\" href=\"http://e/pdf\"/>"
		    "<link rel=\"related\" href=\"http://e/rel\"/>"
		    "<link rel=\"alternate\" type=\"text/html\" href=\"http://e/html\"/>"
		    "<link rel=\"alternate\" type=\"text/html\" href=\"http://e/second\"/></entry>"),
	       NULL, "{\"link\":\"http://e/html\"}");
}
END_TEST

START_TEST(atom_link_without_rel_is_alternate)
{
	ONE_EQ(ATOM("<entry><link rel=\"self\" href=\"http://e/self\"/><link href=\"http://e/alt\"/>"
		    "</entry>"),
	       NULL, "{\"link\":\"http://e/alt\"}");
}
END_TEST

START_TEST(guid_permalink_becomes_link)
{
	ONE_EQ(RSS("<item><guid>http://example.com/p/1</guid></item>"), NULL,
	       "{\"id\":\"http://example.com/p/1\",\"link\":\"http://example.com/p/1\"}");
}
END_TEST

START_TEST(guid_not_permalink_is_no_link)
{
	ONE_EQ(RSS("<item><guid isPermaLink=\"false\">http://example.com/p/1</guid></item>"), NULL,
	       "{\"id\":\"http://example.com/p/1\"}");
}
END_TEST

START_TEST(guid_not_url_is_no_link)
{
	ONE_EQ(RSS("<item><guid>tag:example.com,2004:1</guid></item>"), NULL,
	       "{\"id\":\"tag:example.com,2004:1\"}");
}
END_TEST

START_TEST(guid_does_not_replace_link)
{
	ONE_EQ(RSS("<item><guid>http://example.com/guid</guid><link>http://example.com/link</link></item>"),
	       NULL, "{\"id\":\"http://example.com/guid\",\"link\":\"http://example.com/link\"}");
}
END_TEST

START_TEST(id_trimmed)
{
	ONE_EQ(ATOM("<entry><id>\n  urn:x  \n</id></entry>"), NULL, "{\"id\":\"urn:x\"}");
}
END_TEST

/* ---- authors ---- */

START_TEST(author_email_then_name_in_parens)
{
	ONE_EQ(RSS("<item><author>jdoe@example.com (John Doe)</author></item>"), NULL,
	       "{\"author\":\"John Doe (jdoe@example.com)\"}");
}
END_TEST

START_TEST(author_name_then_email_in_angle_brackets)
{
	ONE_EQ(RSS("<item><author>John Doe &lt;jdoe@example.com&gt;</author></item>"), NULL,
	       "{\"author\":\"John Doe (jdoe@example.com)\"}");
}
END_TEST

START_TEST(author_email_only)
{
	ONE_EQ(RSS("<item><author>jdoe@example.com</author></item>"), NULL,
	       "{\"author\":\"jdoe@example.com\"}");
}
END_TEST

START_TEST(author_name_only)
{
	ONE_EQ(RSS("<item><author>John Doe</author></item>"), NULL, "{\"author\":\"John Doe\"}");
}
END_TEST

START_TEST(atom_author_email_only)
{
	ONE_EQ(ATOM("<entry><author><email>me@example.com</email><uri>http://x/</uri></author></entry>"),
	       NULL, "{\"author\":\"me@example.com\"}");
}
END_TEST

START_TEST(rss_author_beats_dc_creator_and_itunes)
{
	ONE_EQ("<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
	       "xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"><channel><item>"
	       "<itunes:author>I</itunes:author><dc:creator>D</dc:creator><author>A</author>"
	       "</item></channel></rss>",
	       NULL, "{\"author\":\"A\"}");
}
END_TEST

START_TEST(item_inherits_no_author_from_feed)
{
	ONE_EQ(ATOM("<author><name>Feed Author</name></author><entry><title>x</title></entry>"), NULL,
	       "{\"title\":\"x\"}");
}
END_TEST

/* ---- feed subtitle ---- */

START_TEST(feed_subtitle_from_description)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">"
		     "<channel><itunes:summary>S</itunes:summary><description>D</description>"
		     "</channel></rss>");
	ck_assert_str_eq(r.feed, "{\"subtitle\":\"D\"}");
	pt_free(&r);
}
END_TEST

START_TEST(feed_subtitle_falls_back_to_itunes_summary)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">"
		     "<channel><itunes:summary>S</itunes:summary></channel></rss>");
	ck_assert_str_eq(r.feed, "{\"subtitle\":\"S\"}");
	pt_free(&r);
}
END_TEST

START_TEST(feed_subtitle_from_atom_subtitle)
{
	struct pt r;
	pt_parse(&r, ATOM("<subtitle type=\"html\">&lt;i&gt;x&lt;/i&gt;</subtitle>"));
	ck_assert_str_eq(r.feed, "{\"title\":\"t\",\"subtitle\":\"<i>x</i>\"}");
	pt_free(&r);
}
END_TEST

/* ---- dates ---- */

START_TEST(only_published_leaves_updated_out)
{
	ONE_EQ(RSS("<item><pubDate>Tue, 17 May 2022 09:30:00 GMT</pubDate></item>"), NULL,
	       "{\"published\":\"2022-05-17T09:30:00Z\"}");
}
END_TEST

START_TEST(unparseable_date_omitted)
{
	ONE_EQ(RSS("<item><title>x</title><pubDate>someday soon</pubDate></item>"), NULL,
	       "{\"title\":\"x\"}");
}
END_TEST

START_TEST(channel_pubdate_is_feed_updated_fallback)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0\"><channel><pubDate>Tue, 17 May 2022 09:30:00 GMT</pubDate>"
		     "</channel></rss>");
	ck_assert_str_eq(r.feed, "{\"updated\":\"2022-05-17T09:30:00Z\"}");
	pt_free(&r);
}
END_TEST

START_TEST(channel_lastbuilddate_beats_pubdate)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0\"><channel><pubDate>Tue, 17 May 2022 09:30:00 GMT</pubDate>"
		     "<lastBuildDate>Wed, 18 May 2022 09:30:00 GMT</lastBuildDate></channel></rss>");
	ck_assert_str_eq(r.feed, "{\"updated\":\"2022-05-18T09:30:00Z\"}");
	pt_free(&r);
}
END_TEST

/* ---- format detection ---- */

START_TEST(rss_without_version_is_rss20)
{
	struct pt r;
	pt_parse(&r, "<rss><channel><title>x</title></channel></rss>");
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS20);
	ck_assert_int_eq(r.finish, 0);
	pt_free(&r);
}
END_TEST

START_TEST(rss_version_201_is_rss20)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0.1\"><channel/></rss>");
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS20);
	pt_free(&r);
}
END_TEST

START_TEST(atom03_detected_by_version_without_namespace)
{
	struct pt r;
	pt_parse(&r, "<feed version=\"0.3\"><title>x</title><entry><title>e</title></entry></feed>");
	ck_assert_int_eq(r.format, FEED_FORMAT_ATOM03);
	ITEM_EQ(r, 0, "{\"title\":\"e\"}");
	pt_free(&r);
}
END_TEST

START_TEST(unknown_root_is_not_a_feed)
{
	struct pt r;
	pt_parse(&r, "<html><item><title>x</title></item></html>");
	ck_assert_int_eq(r.format, FEED_FORMAT_UNKNOWN);
	ck_assert_int_eq(r.finish, -1);
	ck_assert(!r.wellformed);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_str_eq(r.error, "not a feed: root element <html>");
	pt_free(&r);
}
END_TEST

START_TEST(empty_document_is_an_error)
{
	struct pt r;
	pt_parse(&r, "");
	ck_assert_int_eq(r.finish, -1);
	ck_assert(!r.wellformed);
	ck_assert_ptr_nonnull(r.error);
	pt_free(&r);
}
END_TEST

START_TEST(language_from_xml_lang_on_root)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0\" xml:lang=\"de-AT\"><channel/></rss>");
	ck_assert_str_eq(r.feed, "{\"language\":\"de-AT\"}");
	pt_free(&r);
}
END_TEST

START_TEST(language_element_beats_xml_lang)
{
	struct pt r;
	pt_parse(&r, "<rss version=\"2.0\" xml:lang=\"de\"><channel><language>fr</language></channel></rss>");
	ck_assert_str_eq(r.feed, "{\"language\":\"fr\"}");
	pt_free(&r);
}
END_TEST

START_TEST(element_names_match_case_insensitively)
{
	ONE_EQ(RSS("<item><Title>x</Title><PUBDATE>Tue, 17 May 2022 09:30:00 GMT</PUBDATE></item>"),
	       NULL, "{\"title\":\"x\",\"published\":\"2022-05-17T09:30:00Z\"}");
}
END_TEST

/* ---- streaming ---- */

START_TEST(byte_by_byte_chunks_give_the_same_result)
{
	char *xml = tu_read_file(tu_fixture("parse/rss20.xml"), NULL);
	struct pt whole, bytes;
	struct parse_opts o = {0};
	parse_limits_default(&o.limits);
	memset(&whole, 0, sizeof whole);
	memset(&bytes, 0, sizeof bytes);
	pt_parse_opts(&whole, xml, strlen(xml), &o, 0);
	pt_parse_opts(&bytes, xml, strlen(xml), &o, 1);
	ck_assert_uint_eq(whole.n, bytes.n);
	for (size_t i = 0; i < whole.n; i++)
		ck_assert_str_eq(whole.items[i], bytes.items[i]);
	ck_assert_str_eq(whole.feed, bytes.feed);
	pt_free(&whole);
	pt_free(&bytes);
	free(xml);
}
END_TEST

START_TEST(callback_nonzero_stops_the_parse)
{
	struct pt r;
	struct parse_opts o = {0};
	parse_limits_default(&o.limits);
	memset(&r, 0, sizeof r);
	r.stop_after = 1;
	const char *xml = RSS("<item><title>1</title></item><item><title>2</title></item>");
	pt_parse_opts(&r, xml, strlen(xml), &o, 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.error, "stopped");
	pt_free(&r);
}
END_TEST

static int count_item(void *ud, const struct feed_item *it)
{
	(void)it;
	++*(int *)ud;
	return 0;
}

START_TEST(items_are_delivered_before_the_document_ends)
{
	int n = 0;
	struct parse *p = parse_new(NULL, count_item, &n);
	const char *a = "<rss version=\"2.0\"><channel><item><title>1</title></item><item>";
	ck_assert_int_eq(parse_chunk(p, a, strlen(a)), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(parse_format(p), FEED_FORMAT_RSS20);
	parse_free(p);
}
END_TEST

/* ---- limits: each at the cap and one past it ---- */

static void pt_limited(struct pt *r, const char *xml, void (*set)(struct parse_limits *, size_t),
		       size_t v)
{
	struct parse_opts o = {0};
	parse_limits_default(&o.limits);
	set(&o.limits, v);
	memset(r, 0, sizeof *r);
	pt_parse_opts(r, xml, strlen(xml), &o, 0);
}

static void set_items(struct parse_limits *l, size_t v)
{
	l->max_items = v;
}
static void set_cats(struct parse_limits *l, size_t v)
{
	l->max_categories = v;
}
static void set_encl(struct parse_limits *l, size_t v)
{
	l->max_enclosures = v;
}
static void set_field(struct parse_limits *l, size_t v)
{
	l->max_field = v;
}
static void set_depth(struct parse_limits *l, size_t v)
{
	l->max_depth = v;
}

static const char *three_items = RSS("<item><title>1</title></item><item><title>2</title></item>"
				     "<item><title>3</title></item>");

START_TEST(item_limit_at_cap_delivers_all)
{
	struct pt r;
	pt_limited(&r, three_items, set_items, 3);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_ptr_null(r.limit);
	pt_free(&r);
}
END_TEST

START_TEST(item_limit_past_cap_stops_delivering)
{
	struct pt r;
	pt_limited(&r, three_items, set_items, 2);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(r.limit, "item limit 2 reached");
	ck_assert_int_eq(r.finish, 0);
	ck_assert_str_eq(r.feed, "{\"title\":\"t\"}");
	pt_free(&r);
}
END_TEST

static const char *three_cats = RSS("<item><category>a</category><category>b</category>"
				    "<category>c</category></item>");

START_TEST(category_limit_at_cap_keeps_all)
{
	struct pt r;
	pt_limited(&r, three_cats, set_cats, 3);
	ITEM_EQ(r, 0, "{\"categories\":[\"a\",\"b\",\"c\"]}");
	pt_free(&r);
}
END_TEST

START_TEST(category_limit_past_cap_keeps_first)
{
	struct pt r;
	pt_limited(&r, three_cats, set_cats, 2);
	ITEM_EQ(r, 0, "{\"categories\":[\"a\",\"b\"]}");
	pt_free(&r);
}
END_TEST

static const char *three_encl = RSS("<item><enclosure url=\"http://e/1\"/><enclosure url=\"http://e/2\"/>"
				    "<enclosure url=\"http://e/3\"/></item>");

START_TEST(enclosure_limit_at_cap_keeps_all)
{
	struct pt r;
	pt_limited(&r, three_encl, set_encl, 3);
	ITEM_EQ(r, 0, "{\"enclosures\":[{\"url\":\"http://e/1\"},{\"url\":\"http://e/2\"},"
		      "{\"url\":\"http://e/3\"}]}");
	pt_free(&r);
}
END_TEST

START_TEST(enclosure_limit_past_cap_keeps_first)
{
	struct pt r;
	pt_limited(&r, three_encl, set_encl, 2);
	ITEM_EQ(r, 0, "{\"enclosures\":[{\"url\":\"http://e/1\"},{\"url\":\"http://e/2\"}]}");
	pt_free(&r);
}
END_TEST

START_TEST(field_limit_at_cap_keeps_field)
{
	struct pt r;
	pt_limited(&r, RSS("<item><title>abcde</title></item>"), set_field, 5);
	ITEM_EQ(r, 0, "{\"title\":\"abcde\"}");
	pt_free(&r);
}
END_TEST

START_TEST(field_limit_past_cap_truncates)
{
	struct pt r;
	pt_limited(&r, RSS("<item><title>abcdef</title></item>"), set_field, 5);
	ITEM_EQ(r, 0, "{\"title\":\"abcde\"}");
	pt_free(&r);
}
END_TEST

START_TEST(field_limit_never_splits_a_character)
{
	struct pt r;
	/* "abcd" + U+00E9 (2 bytes) + "f": the cut at 5 would split the e-acute */
	pt_limited(&r, RSS("<item><title>abcd\xc3\xa9" "f</title></item>"), set_field, 5);
	ITEM_EQ(r, 0, "{\"title\":\"abcd\"}");
	pt_free(&r);
}
END_TEST

START_TEST(field_limit_applies_across_text_pieces)
{
	struct pt r;
	pt_limited(&r, RSS("<item><title>ab&amp;cd&amp;ef</title></item>"), set_field, 5);
	ITEM_EQ(r, 0, "{\"title\":\"ab&cd\"}");
	pt_free(&r);
}
END_TEST

static const char *deep = RSS("<item><title>x</title></item>");

START_TEST(depth_limit_at_cap_sees_field)
{
	struct pt r;
	pt_limited(&r, deep, set_depth, 4); /* rss, channel, item, title */
	ITEM_EQ(r, 0, "{\"title\":\"x\"}");
	pt_free(&r);
}
END_TEST

START_TEST(depth_limit_past_cap_skips_deeper_elements)
{
	struct pt r;
	pt_limited(&r, deep, set_depth, 3);
	ITEM_EQ(r, 0, "{}");
	pt_free(&r);
}
END_TEST

START_TEST(duplicate_categories_dropped)
{
	ONE_EQ(RSS("<item><category>a</category><category>b</category><category> a </category></item>"),
	       NULL, "{\"categories\":[\"a\",\"b\"]}");
}
END_TEST

START_TEST(atom_category_label_used_without_term)
{
	ONE_EQ(ATOM("<entry><category term=\"t\" label=\"L\"/><category label=\"only\"/></entry>"), NULL,
	       "{\"categories\":[\"t\",\"only\"]}");
}
END_TEST

START_TEST(enclosure_length_non_number_omitted)
{
	ONE_EQ(RSS("<item><enclosure url=\"http://e/1\" length=\"-5\"/>"
		   "<enclosure url=\"http://e/2\" length=\"12 MB\"/></item>"),
	       NULL, "{\"enclosures\":[{\"url\":\"http://e/1\"},{\"url\":\"http://e/2\"}]}");
}
END_TEST

START_TEST(atom_link_url_as_text_without_href)
{
	struct pt r;
	pt_parse(&r, ATOM("<entry><link rel=\"alternate\" type=\"text/html\">http://e/alt</link>"
			  "<link rel=\"enclosure\" type=\"text/html\">http://e/enc</link></entry>"
			  "<entry><link rel=\"enclosure\" type=\"text/html\">http://e/enc</link>"
			  "<link rel=\"alternate\" type=\"text/html\">http://e/alt</link></entry>"));
	ITEM_EQ(r, 0, "{\"link\":\"http://e/alt\"}");
	ITEM_EQ(r, 1, "{\"link\":\"http://e/alt\"}");
	pt_free(&r);
}
END_TEST

START_TEST(dc_author_is_author)
{
	ONE_EQ("<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><item>"
	       "<dc:author>Example editor</dc:author></item></channel></rss>",
	       NULL, "{\"author\":\"Example editor\"}");
}
END_TEST

START_TEST(empty_base64_content_is_absent)
{
	ONE_EQ(ATOM("<entry><title>x</title><content type=\"application/octet-stream\"></content></entry>"),
	       NULL, "{\"title\":\"x\"}");
}
END_TEST

START_TEST(srcset_candidates_in_html_content_resolved)
{
	ONE_EQ(ATOM("<entry xml:base=\"http://example.com/b/\"><content type=\"html\">"
		    "&lt;img srcset=\"/r/a.png, b.png 2x\" /&gt;</content></entry>"),
	       NULL,
	       "{\"content\":\"<img srcset=\\\"http://example.com/r/a.png, "
	       "http://example.com/b/b.png 2x\\\" />\"}");
}
END_TEST

START_TEST(void_elements_in_html_content_written_self_closed)
{
	ONE_EQ(ATOM("<entry xml:base=\"http://example.com/\"><content type=\"html\">"
		    "a&lt;br&gt;b&lt;hr/&gt;&lt;p&gt;c&lt;/p&gt;</content></entry>"),
	       NULL, "{\"content\":\"a<br />b<hr/><p>c</p>\"}");
}
END_TEST

START_TEST(unterminated_attribute_in_html_content_keeps_the_rest)
{
	ONE_EQ(ATOM("<entry xml:base=\"http://example.com/\"><content type=\"html\">"
		    "&lt;a href=\"x\"&gt;1&lt;/a&gt;&lt;a href=\"y&gt;2</content></entry>"),
	       NULL, "{\"content\":\"<a href=\\\"http://example.com/x\\\">1</a><a href=\\\"y>2\"}");
}
END_TEST

START_TEST(relative_urls_in_html_content_resolved)
{
	ONE_EQ(ATOM("<entry xml:base=\"http://example.com/base/\"><content type=\"html\">"
		    "&lt;a href=\"/relative/uri\"&gt;click&lt;/a&gt; &lt;img src='i.png' alt=\"a.png\"&gt;"
		    " &lt;a href=\"http://other/\"&gt;x&lt;/a&gt; &lt;a href=\"#frag\"&gt;y&lt;/a&gt;"
		    "</content></entry>"),
	       NULL,
	       "{\"content\":\"<a href=\\\"http://example.com/relative/uri\\\">click</a> "
	       "<img src='http://example.com/base/i.png' alt=\\\"a.png\\\" /> "
	       "<a href=\\\"http://other/\\\">x</a> <a href=\\\"#frag\\\">y</a>\"}");
}
END_TEST

START_TEST(relative_urls_in_xhtml_content_resolved_against_document_url)
{
	ONE_EQ(ATOM("<entry><content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">"
		    "<a href=\"/relative/uri\">click here</a></div></content></entry>"),
	       "http://127.0.0.1:8097/feed.xml",
	       "{\"content\":\"<a href=\\\"http://127.0.0.1:8097/relative/uri\\\">click here</a>\"}");
}
END_TEST

START_TEST(relative_urls_in_text_content_untouched)
{
	ONE_EQ(ATOM("<entry><title type=\"text\">&lt;a href=\"/x\"&gt;</title></entry>"),
	       "http://example.com/", "{\"title\":\"<a href=\\\"/x\\\">\"}");
}
END_TEST

START_TEST(c1_controls_mapped_as_windows_1252)
{
	ONE_EQ(RSS("<item><title>it&#146;s &#128;5 &#150; ok &#129;</title></item>"), NULL,
	       "{\"title\":\"it\xe2\x80\x99s \xe2\x82\xac" "5 \xe2\x80\x93 ok \xc2\x81\"}");
}
END_TEST

START_TEST(encoding_label_starting_with_a_digit_is_read)
{
	struct pt r;
	pt_parse(&r, "<?xml version=\"1.0\" encoding=\"437\"?>"
		     "<rss version=\"2.0\"><channel><title>\x80</title></channel></rss>");
	ck_assert(r.wellformed);
	ck_assert_str_eq(r.feed, "{\"title\":\"\xc3\x87\"}");
	pt_free(&r);
}
END_TEST

START_TEST(encoding_alias_cp_is_is_cp861)
{
	struct pt r;
	pt_parse(&r, "<?xml version=\"1.0\" encoding=\"cp_is\"?>"
		     "<rss version=\"2.0\"><channel><title>\x8c</title></channel></rss>");
	ck_assert(r.wellformed);
	ck_assert_str_eq(r.feed, "{\"title\":\"\xc3\xb0\"}");
	pt_free(&r);
}
END_TEST

START_TEST(encoding_label_with_underscore_is_read)
{
	struct pt r;
	pt_parse(&r, "<?xml version=\"1.0\" encoding=\"windows_1251\"?>"
		     "<rss version=\"2.0\"><channel><title>\xc0</title></channel></rss>");
	ck_assert(r.wellformed);
	ck_assert_str_eq(r.feed, "{\"title\":\"\xd0\x90\"}");
	pt_free(&r);
}
END_TEST

/* The whole document in EBCDIC (IBM500, where '[' is 0x4A, not 037's 0xBA). */
START_TEST(ebcdic_document_read_through_its_declared_page)
{
	struct pt r;
	pt_parse(&r, "\x4c\x6f\xa7\x94\x93\x40\xa5\x85\x99\xa2\x89\x96\x95\x7e\x7f\xf1"
		     "\x4b\xf0\x7f\x40\x85\x95\x83\x96\x84\x89\x95\x87\x7e\x7f\x89\x82"
		     "\x94\xf5\xf0\xf0\x7f\x6f\x6e\x4c\x99\xa2\xa2\x40\xa5\x85\x99\xa2"
		     "\x89\x96\x95\x7e\x7f\xf2\x4b\xf0\x7f\x6e\x4c\x83\x88\x81\x95\x95"
		     "\x85\x93\x6e\x4c\xa3\x89\xa3\x93\x85\x6e\x4a\xa7\x5a\x4c\x61\xa3"
		     "\x89\xa3\x93\x85\x6e\x4c\x61\x83\x88\x81\x95\x95\x85\x93\x6e\x4c"
		     "\x61\x99\xa2\xa2\x6e");
	ck_assert(r.wellformed);
	ck_assert_str_eq(r.feed, "{\"title\":\"[x]\"}");
	pt_free(&r);
}
END_TEST

START_TEST(mac_greek_document_read_through_a_table)
{
	struct pt r;
	pt_parse(&r, "<?xml version=\"1.0\" encoding=\"macgreek\"?>"
		     "<rss version=\"2.0\"><channel><title>a\x80" "b\xe1</title></channel></rss>");
	ck_assert(r.wellformed);
	ck_assert_str_eq(r.feed, "{\"title\":\"a\xc3\x84" "b\xce\xb1\"}");
	pt_free(&r);
}
END_TEST

START_TEST(html_lang_rang_entities_are_html4_angle_brackets)
{
	ONE_EQ(RSS("<item><title>&lang;x&rang;</title></item>"), NULL,
	       "{\"title\":\"\xe2\x8c\xa9x\xe2\x8c\xaa\"}");
}
END_TEST

START_TEST(xml_lang_underscore_becomes_hyphen)
{
	struct pt r;
	pt_parse(&r, "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\" xml:lang=\"en_US\"></feed>");
	ck_assert_str_eq(r.feed, "{\"language\":\"en-US\"}");
	pt_free(&r);
}
END_TEST

START_TEST(relative_xml_base_without_document_url_still_joins)
{
	ONE_EQ(RSS("<item xml:base=\"/news/\"><link>item.html</link></item>"), NULL,
	       "{\"link\":\"/news/item.html\"}");
}
END_TEST

/* A path-relative xml:base with no document URL: "x" joins it, "/x" and
 * "//host/x" do not depend on it and stay as written. */
START_TEST(relative_xml_base_without_document_url_keeps_absolute_paths)
{
	ONE_EQ(RSS("<item xml:base=\"news/\"><link>item.html</link></item>"), NULL,
	       "{\"link\":\"news/item.html\"}");
	ONE_EQ(RSS("<item xml:base=\"news/\"><link>/item.html</link></item>"), NULL,
	       "{\"link\":\"/item.html\"}");
	ONE_EQ(RSS("<item xml:base=\"news/\"><link>//cdn.example/x</link></item>"), NULL,
	       "{\"link\":\"//cdn.example/x\"}");
}
END_TEST

START_TEST(rdf_about_is_item_id)
{
	struct pt r;
	pt_parse(&r, "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
		     "xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:about=\"http://example.com/index.rdf\">"
		     "</channel><item rdf:about=\"http://example.org/1\"></item>"
		     "<item rdf:about=\"http://example.org/2\"><guid>g2</guid></item></rdf:RDF>");
	ITEM_EQ(r, 0, "{\"id\":\"http://example.org/1\"}");
	ITEM_EQ(r, 1, "{\"id\":\"g2\"}");
	pt_free(&r);
}
END_TEST

START_TEST(empty_rdf_is_rss10)
{
	struct pt r;
	pt_parse(&r, "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
		     "xmlns=\"http://purl.org/rss/1.0/\"></rdf:RDF>");
	ck_assert_int_eq(r.format, FEED_FORMAT_RSS10);
	ck_assert(r.wellformed);
	pt_free(&r);
}
END_TEST

START_TEST(rss_author_with_name_and_email_children)
{
	ONE_EQ(RSS("<item><author><name>Jane</name><email>jane@example.com</email></author></item>"), NULL,
	       "{\"author\":\"Jane (jane@example.com)\"}");
}
END_TEST

static Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("dialects");
	tcase_add_test(tc, rss20_fixture_items_and_feed);
	tcase_add_test(tc, atom10_fixture_items_and_feed);
	tcase_add_test(tc, rss090_rdf_fixture);
	tcase_add_test(tc, rss091_netscape_with_doctype_fixture);
	tcase_add_test(tc, rss091_userland_fixture);
	tcase_add_test(tc, rss092_fixture);
	tcase_add_test(tc, rss093_fixture);
	tcase_add_test(tc, rss094_fixture);
	tcase_add_test(tc, rss10_rdf_fixture);
	tcase_add_test(tc, atom03_fixture);
	tcase_add_test(tc, ns_dublin_core_fixture);
	tcase_add_test(tc, ns_dcterms_fixture);
	tcase_add_test(tc, ns_content_encoded_fixture);
	tcase_add_test(tc, ns_itunes_fixture);
	tcase_add_test(tc, ns_itunes_uppercase_uri_fixture);
	tcase_add_test(tc, ns_media_fixture);
	tcase_add_test(tc, ns_syndication_and_ttl_fixture);
	tcase_add_test(tc, ns_xhtml_body_fixture);
	tcase_add_test(tc, ns_userland_rss2_fixture);
	tcase_add_test(tc, ns_harvard_rss_fixture);
	tcase_add_test(tc, ns_atom_in_rss_fixture);
	tcase_add_test(tc, ns_unknown_elements_ignored);
	suite_add_tcase(s, tc);
	tc = tcase_create("behaviour");
	tcase_add_test(tc, atom_text_type_is_plain_text);
	tcase_add_test(tc, atom_html_type_is_decoded_markup);
	tcase_add_test(tc, atom_xhtml_type_is_inner_markup_without_div);
	tcase_add_test(tc, atom_xhtml_two_divs_are_kept);
	tcase_add_test(tc, atom_xhtml_prefixed_elements_lose_prefix);
	tcase_add_test(tc, atom_text_default_type_keeps_text);
	tcase_add_test(tc, atom_base64_content_decoded);
	tcase_add_test(tc, rss_cdata_description_kept_as_markup);
	tcase_add_test(tc, rss_escaped_html_description_decoded);
	tcase_add_test(tc, rss_raw_markup_in_description_serialized);
	tcase_add_test(tc, rss_div_in_description_dropped);
	tcase_add_test(tc, rss_entities_decoded_in_title);
	tcase_add_test(tc, xml_base_nested_and_relative);
	tcase_add_test(tc, xml_base_on_link_element_itself);
	tcase_add_test(tc, xml_base_with_white_space_around_it);
	tcase_add_test(tc, xml_base_scope_ends_with_element);
	tcase_add_test(tc, relative_xml_base_resolved_against_document_url);
	tcase_add_test(tc, document_url_resolves_rss_link);
	tcase_add_test(tc, relative_link_without_base_kept_as_written);
	tcase_add_test(tc, absolute_link_kept_as_written);
	tcase_add_test(tc, enclosure_url_resolved);
	tcase_add_test(tc, resolved_link_keeps_its_characters);
	tcase_add_test(tc, resolved_href_in_content_keeps_its_characters);
	tcase_add_test(tc, fragment_or_query_only_link_keeps_the_base_path);
	tcase_add_test(tc, dot_segments_removed_when_resolving);
	tcase_add_test(tc, atom_link_prefers_text_html_alternate);
	tcase_add_test(tc, atom_link_without_rel_is_alternate);
	tcase_add_test(tc, guid_permalink_becomes_link);
	tcase_add_test(tc, guid_not_permalink_is_no_link);
	tcase_add_test(tc, guid_not_url_is_no_link);
	tcase_add_test(tc, guid_does_not_replace_link);
	tcase_add_test(tc, id_trimmed);
	tcase_add_test(tc, author_email_then_name_in_parens);
	tcase_add_test(tc, author_name_then_email_in_angle_brackets);
	tcase_add_test(tc, author_email_only);
	tcase_add_test(tc, author_name_only);
	tcase_add_test(tc, atom_author_email_only);
	tcase_add_test(tc, rss_author_beats_dc_creator_and_itunes);
	tcase_add_test(tc, item_inherits_no_author_from_feed);
	tcase_add_test(tc, feed_subtitle_from_description);
	tcase_add_test(tc, feed_subtitle_falls_back_to_itunes_summary);
	tcase_add_test(tc, feed_subtitle_from_atom_subtitle);
	tcase_add_test(tc, only_published_leaves_updated_out);
	tcase_add_test(tc, unparseable_date_omitted);
	tcase_add_test(tc, channel_pubdate_is_feed_updated_fallback);
	tcase_add_test(tc, channel_lastbuilddate_beats_pubdate);
	tcase_add_test(tc, rss_without_version_is_rss20);
	tcase_add_test(tc, rss_version_201_is_rss20);
	tcase_add_test(tc, atom03_detected_by_version_without_namespace);
	tcase_add_test(tc, unknown_root_is_not_a_feed);
	tcase_add_test(tc, empty_document_is_an_error);
	tcase_add_test(tc, language_from_xml_lang_on_root);
	tcase_add_test(tc, language_element_beats_xml_lang);
	tcase_add_test(tc, element_names_match_case_insensitively);
	tcase_add_test(tc, byte_by_byte_chunks_give_the_same_result);
	tcase_add_test(tc, callback_nonzero_stops_the_parse);
	tcase_add_test(tc, items_are_delivered_before_the_document_ends);
	suite_add_tcase(s, tc);
	tc = tcase_create("feedparser");
	tcase_add_test(tc, rss_author_with_name_and_email_children);
	tcase_add_test(tc, rdf_about_is_item_id);
	tcase_add_test(tc, empty_rdf_is_rss10);
	tcase_add_test(tc, xml_lang_underscore_becomes_hyphen);
	tcase_add_test(tc, relative_xml_base_without_document_url_still_joins);
	tcase_add_test(tc, relative_xml_base_without_document_url_keeps_absolute_paths);
	tcase_add_test(tc, atom_link_url_as_text_without_href);
	tcase_add_test(tc, dc_author_is_author);
	tcase_add_test(tc, empty_base64_content_is_absent);
	tcase_add_test(tc, relative_urls_in_html_content_resolved);
	tcase_add_test(tc, srcset_candidates_in_html_content_resolved);
	tcase_add_test(tc, void_elements_in_html_content_written_self_closed);
	tcase_add_test(tc, unterminated_attribute_in_html_content_keeps_the_rest);
	tcase_add_test(tc, relative_urls_in_xhtml_content_resolved_against_document_url);
	tcase_add_test(tc, relative_urls_in_text_content_untouched);
	tcase_add_test(tc, c1_controls_mapped_as_windows_1252);
	tcase_add_test(tc, encoding_label_starting_with_a_digit_is_read);
	tcase_add_test(tc, encoding_alias_cp_is_is_cp861);
	tcase_add_test(tc, encoding_label_with_underscore_is_read);
	tcase_add_test(tc, ebcdic_document_read_through_its_declared_page);
	tcase_add_test(tc, html_lang_rang_entities_are_html4_angle_brackets);
	tcase_add_test(tc, mac_greek_document_read_through_a_table);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, item_limit_at_cap_delivers_all);
	tcase_add_test(tc, item_limit_past_cap_stops_delivering);
	tcase_add_test(tc, category_limit_at_cap_keeps_all);
	tcase_add_test(tc, category_limit_past_cap_keeps_first);
	tcase_add_test(tc, enclosure_limit_at_cap_keeps_all);
	tcase_add_test(tc, enclosure_limit_past_cap_keeps_first);
	tcase_add_test(tc, field_limit_at_cap_keeps_field);
	tcase_add_test(tc, field_limit_past_cap_truncates);
	tcase_add_test(tc, field_limit_never_splits_a_character);
	tcase_add_test(tc, field_limit_applies_across_text_pieces);
	tcase_add_test(tc, depth_limit_at_cap_sees_field);
	tcase_add_test(tc, depth_limit_past_cap_skips_deeper_elements);
	tcase_add_test(tc, duplicate_categories_dropped);
	tcase_add_test(tc, atom_category_label_used_without_term);
	tcase_add_test(tc, enclosure_length_non_number_omitted);
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
