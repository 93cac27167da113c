/*
 * test_parse_buffer.c - the zero-copy input (parse_buffer /
 * parse_buffer_done) gives exactly what parse_chunk gives, also when expat
 * gives up in a later buffer and when the document is not UTF-8; and
 * parse_item_lengths / json_item_len agree with json_item.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

/* Everything a parse produced, as one string. */
struct run {
	struct buf out;
	struct parse *p;
	size_t stop_after; /* 0: never */
	size_t n;
	int bad_lengths; /* parse_item_lengths disagreed with strlen / json_item */
};

static int run_item(void *ud, const struct feed_item *it)
{
	struct run *r = ud;
	const size_t *len = parse_item_lengths(r->p, it);
	const char *s[JSON_ITEM_NSTR] = {it->id,      it->title,   it->link,
					 it->author, it->summary, it->content};
	struct buf a = {0}, b = {0};

	if (!len)
		r->bad_lengths++;
	for (int i = 0; len && i < JSON_ITEM_NSTR; i++)
		if (len[i] != (s[i] ? strlen(s[i]) : 0))
			r->bad_lengths++;
	ck_assert_int_eq(json_item(&a, it), 0);
	if (len) {
		ck_assert_int_eq(json_item_len(&b, it, len), 0);
		if (a.len != b.len || memcmp(a.data, b.data, a.len))
			r->bad_lengths++;
	}
	ck_assert_int_eq(buf_append(&r->out, a.data, a.len), 0);
	ck_assert_int_eq(buf_append(&r->out, "\n", 1), 0);
	buf_free(&a);
	buf_free(&b);
	r->n++;
	return r->stop_after && r->n >= r->stop_after;
}

static void run_end(struct run *r)
{
	char tail[512];
	const char *e;
	int finish = parse_finish(r->p);

	ck_assert_int_eq(json_meta(&r->out, parse_meta(r->p)), 0);
	snprintf(tail, sizeof tail, "\nformat=%s wellformed=%d finish=%d error=%s items=%zu\n",
		 feed_format_name(parse_format(r->p)), parse_wellformed(r->p), finish,
		 (e = parse_error(r->p)) ? e : "-", parse_item_count(r->p));
	ck_assert_int_eq(buf_puts(&r->out, tail), 0);
	parse_free(r->p);
}

static struct parse *run_new(struct run *r)
{
	struct parse_opts o = {.base_url = "http://example.org/feeds/"};
	memset(r, 0, sizeof *r);
	parse_limits_default(&o.limits);
	r->p = parse_new(&o, run_item, r);
	ck_assert_ptr_nonnull(r->p);
	return r->p;
}

/* The whole document through parse_chunk at once. */
static char *by_chunk(const char *doc, size_t len, size_t stop_after)
{
	struct run r;
	run_new(&r);
	r.stop_after = stop_after;
	parse_chunk(r.p, doc, len);
	run_end(&r);
	ck_assert_int_eq(r.bad_lengths, 0);
	return r.out.data;
}

/* The document through parse_buffer in pieces of at most step bytes. */
static char *by_buffer(const char *doc, size_t len, size_t step, size_t stop_after)
{
	struct run r;
	size_t off = 0;
	run_new(&r);
	r.stop_after = stop_after;
	while (off < len) {
		char *room = parse_buffer(r.p, step);
		size_t n = len - off < step ? len - off : step;
		if (!room)
			break;
		memcpy(room, doc + off, n);
		off += n;
		if (parse_buffer_done(r.p, n))
			break;
	}
	run_end(&r);
	ck_assert_int_eq(r.bad_lengths, 0);
	return r.out.data;
}

/* A document of n items: entities, CDATA, non-ASCII text, relative links. */
static char *make_doc(size_t n, const char *broken_item)
{
	struct buf b = {0};
	char it[1024];
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		     "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">"
		     "<channel><title>T &amp; \xc3\xa9</title><link>/home</link>\n");
	for (size_t i = 0; i < n; i++) {
		snprintf(it, sizeof it,
			 "<item><title>Item %zu &lt;b&gt; \xe2\x80\x9cq\xe2\x80\x9d</title>"
			 "<link>a/%zu</link><guid isPermaLink=\"false\">g%zu</guid>"
			 "<description>line one\nline two &#233; &#x2028; \"x\"</description>"
			 "<content:encoded><![CDATA[<p>caf\xc3\xa9 %zu</p>\n<a href=\"x\">y</a>]]>"
			 "</content:encoded><category>c%zu</category></item>\n",
			 i, i, i, i, i % 3);
		buf_puts(&b, it);
		if (broken_item && i == n / 2)
			buf_puts(&b, broken_item);
	}
	buf_puts(&b, "</channel></rss>\n");
	return b.data;
}

static void check_same(const char *doc)
{
	static const size_t steps[] = {1, 7, 64, 1000, 65536};
	size_t len = strlen(doc);
	char *want = by_chunk(doc, len, 0);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		char *got = by_buffer(doc, len, steps[i], 0);
		size_t k = 0;
		while (got[k] && got[k] == want[k])
			k++;
		ck_assert_msg(got[k] == want[k], "pieces of %zu: output differs from byte %zu on",
			      steps[i], k);
		free(got);
	}
	free(want);
}

START_TEST(parse_buffer_same_as_parse_chunk_wellformed)
{
	char *doc = make_doc(40, NULL);
	check_same(doc);
	free(doc);
}
END_TEST

START_TEST(parse_buffer_same_as_parse_chunk_when_expat_gives_up_later)
{
	/* an HTML entity and a bare & well after the first buffers */
	char *doc = make_doc(40, "<item><title>x &nbsp; y & z</title><link>b</link></item>\n");
	char *want = by_chunk(doc, strlen(doc), 0);
	ck_assert_ptr_nonnull(strstr(want, "wellformed=0"));
	ck_assert_ptr_nonnull(strstr(want, "x \xc2\xa0 y & z"));
	free(want);
	check_same(doc);
	free(doc);
}
END_TEST

START_TEST(parse_buffer_same_as_parse_chunk_truncated)
{
	char *doc = make_doc(20, NULL);
	doc[strlen(doc) * 2 / 3] = '\0';
	check_same(doc);
	free(doc);
}
END_TEST

START_TEST(parse_buffer_same_as_parse_chunk_latin1)
{
	char *doc = make_doc(10, NULL);
	/* the same bytes declared ISO-8859-1 go through the decoder, not
	 * straight into expat's buffer */
	char *d = strstr(doc, "utf-8");
	memcpy(d, "latin1", 6);
	memmove(d + 6, d + 5, strlen(d + 5) + 1);
	check_same(doc);
	free(doc);
}
END_TEST

START_TEST(parse_buffer_null_after_callback_stops)
{
	char *doc = make_doc(10, NULL);
	size_t len = strlen(doc);
	struct run r;
	run_new(&r);
	r.stop_after = 2;
	char *room = parse_buffer(r.p, len);
	ck_assert_ptr_nonnull(room);
	memcpy(room, doc, len);
	ck_assert_int_eq(parse_buffer_done(r.p, len), -1);
	ck_assert_ptr_null(parse_buffer(r.p, 16));
	ck_assert_int_eq(r.n, 2);
	run_end(&r);
	free(r.out.data);
	free(doc);
}
END_TEST

START_TEST(parse_item_lengths_null_for_other_item)
{
	struct run r;
	struct feed_item other = {.title = "t"};
	run_new(&r);
	ck_assert_ptr_null(parse_item_lengths(r.p, &other));
	ck_assert_ptr_null(parse_item_lengths(r.p, NULL));
	run_end(&r);
	free(r.out.data);
}
END_TEST

START_TEST(json_item_len_same_as_json_item)
{
	char *cats[] = {"a", "b\"c"};
	struct feed_enclosure enc = {.url = "http://e/x.mp3", .type = "audio/mpeg", .length = 5};
	struct feed_item it = {.id = "i", .title = "T\xe2\x80\xa8\x01", .summary = "\xff s",
			       .published = 0, .updated = FEED_NO_DATE, .categories = cats,
			       .ncategories = 2, .enclosures = &enc, .nenclosures = 1};
	size_t len[JSON_ITEM_NSTR] = {1, 5, 0, 0, 3, 0};
	struct buf a = {0}, b = {0};
	ck_assert_int_eq(json_item(&a, &it), 0);
	ck_assert_int_eq(json_item_len(&b, &it, len), 0);
	ck_assert_str_eq(b.data, a.data);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

static Suite *parse_buffer_suite(void)
{
	Suite *s = suite_create("parse_buffer");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, parse_buffer_same_as_parse_chunk_wellformed);
	tcase_add_test(tc, parse_buffer_same_as_parse_chunk_when_expat_gives_up_later);
	tcase_add_test(tc, parse_buffer_same_as_parse_chunk_truncated);
	tcase_add_test(tc, parse_buffer_same_as_parse_chunk_latin1);
	tcase_add_test(tc, parse_buffer_null_after_callback_stops);
	tcase_add_test(tc, parse_item_lengths_null_for_other_item);
	tcase_add_test(tc, json_item_len_same_as_json_item);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(parse_buffer_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
