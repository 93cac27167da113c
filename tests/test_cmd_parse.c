/*
 * test_cmd_parse.c - `feedd parse` as a program: output, exit status,
 * stderr, stdin, --base.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void run_parse(struct tu_run *r, const char *a1, const char *a2, const char *a3,
		      const char *in)
{
	char *argv[] = {FEEDD_BIN, "parse", (char *)a1, (char *)a2, (char *)a3, NULL};
	tu_run(r, argv, in, in ? strlen(in) : 0);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static const char *rel_rss = "<rss version=\"2.0\"><channel><title>T</title><link>/home</link>"
			     "<item><title>A</title><link>a/1</link></item></channel></rss>";

START_TEST(cmd_parse_file_prints_one_object_exit_0)
{
	struct tu_run r;
	run_parse(&r, tu_fixture("parse/rss20.xml"), NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(!strncmp(r.out, "{\"format\":\"rss20\",\"items\":[{", 28), "%s", r.out);
	ck_assert_uint_eq(count_lines(r.out), 1);
	ck_assert_ptr_nonnull(strstr(r.out, "],\"feed\":{\"title\":\"Example Feed\""));
	ck_assert_ptr_nonnull(strstr(r.out, ",\"wellformed\":true}\n"));
	ck_assert_ptr_null(strstr(r.out, "\"error\""));
	ck_assert_uint_eq(r.errlen, 0);
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_stdin_dash)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL, rel_rss);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "{\"format\":\"rss20\",\"items\":[{\"title\":\"A\",\"link\":\"a/1\"}],"
				"\"feed\":{\"title\":\"T\",\"link\":\"/home\"},\"wellformed\":true}\n");
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_base_resolves_links)
{
	struct tu_run r;
	run_parse(&r, "--base", "http://example.com/dir/feed.xml", "-", rel_rss);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"link\":\"http://example.com/dir/a/1\""));
	ck_assert_ptr_nonnull(strstr(r.out, "\"link\":\"http://example.com/home\""));
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_empty_base_means_none)
{
	struct tu_run r;
	run_parse(&r, "--base", "", "-", rel_rss);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"link\":\"a/1\""));
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_empty_feed_has_empty_items)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL, "<rss version=\"2.0\"><channel/></rss>");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "{\"format\":\"rss20\",\"items\":[],\"feed\":{},\"wellformed\":true}\n");
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_not_a_feed_exit_1_with_error)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL, "<html><body>hi</body></html>");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "{\"format\":\"unknown\",\"items\":[],\"feed\":{},"
				"\"wellformed\":false,\"error\":\"not a feed: root element <html>\"}\n");
	ck_assert_ptr_nonnull(strstr(r.err, "not a feed: root element <html>"));
	ck_assert_uint_eq(count_lines(r.err), 1);
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_empty_input_exit_1)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL, "");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "\"wellformed\":false,\"error\":\""));
	ck_assert_uint_eq(count_lines(r.err), 1);
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_missing_file_exit_2_with_json)
{
	struct tu_run r;
	run_parse(&r, "/nonexistent/feed.xml", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.out, "\"wellformed\":false,\"error\":\"cannot open"));
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/feed.xml"));
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_no_file_is_usage_error)
{
	struct tu_run r;
	run_parse(&r, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_uint_eq(r.outlen, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "usage"));
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_unknown_option_is_usage_error)
{
	struct tu_run r;
	run_parse(&r, "--frobnicate", "-", NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_uint_eq(r.outlen, 0);
	tu_run_free(&r);
}
END_TEST

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (!k || i + k > n)
			return false;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

START_TEST(cmd_parse_recovers_from_html_entity_exit_0)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL,
		  "<rss version=\"2.0\"><channel><item><title>a&nbsp;b</title></item></channel></rss>");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"title\":\"a\xc2\xa0" "b\""));
	ck_assert_ptr_nonnull(strstr(r.out, "\"wellformed\":false,\"error\":\"line 1, column "));
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_truncated_document_keeps_items)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL,
		  "<rss version=\"2.0\"><channel><item><title>one</title></item><item><title>tw");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "{\"title\":\"one\"}"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"wellformed\":false"));
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_invalid_utf8_input_never_emitted)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL,
		  "<rss version=\"2.0\"><channel><item><title>bad \xff\xc3 \xed\xa0\x80 byte</title>"
		  "</item></channel></rss>");
	ck_assert_int_eq(r.status, 0);
	ck_assert(valid_utf8((const unsigned char *)r.out, r.outlen));
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_windows_1252_document_to_utf8)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL,
		  "<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><item>"
		  "<title>caf\xe9 \x93q\x94</title></item></channel></rss>");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"title\":\"caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d\""));
	tu_run_free(&r);
}
END_TEST

START_TEST(cmd_parse_control_chars_and_line_separators_escaped)
{
	struct tu_run r;
	run_parse(&r, "-", NULL, NULL,
		  "<rss version=\"2.0\"><channel><item><title>a&#9;b&#10;c\xe2\x80\xa8" "d</title>"
		  "</item></channel></rss>");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"title\":\"a\\tb\\nc\\u2028d\""));
	tu_run_free(&r);
}
END_TEST

static Suite *cmd_parse_suite(void)
{
	Suite *s = suite_create("cmd_parse");
	TCase *tc = tcase_create("cmd_parse");
	tcase_add_test(tc, cmd_parse_file_prints_one_object_exit_0);
	tcase_add_test(tc, cmd_parse_stdin_dash);
	tcase_add_test(tc, cmd_parse_base_resolves_links);
	tcase_add_test(tc, cmd_parse_empty_base_means_none);
	tcase_add_test(tc, cmd_parse_empty_feed_has_empty_items);
	tcase_add_test(tc, cmd_parse_not_a_feed_exit_1_with_error);
	tcase_add_test(tc, cmd_parse_empty_input_exit_1);
	tcase_add_test(tc, cmd_parse_missing_file_exit_2_with_json);
	tcase_add_test(tc, cmd_parse_no_file_is_usage_error);
	tcase_add_test(tc, cmd_parse_unknown_option_is_usage_error);
	tcase_add_test(tc, cmd_parse_recovers_from_html_entity_exit_0);
	tcase_add_test(tc, cmd_parse_truncated_document_keeps_items);
	tcase_add_test(tc, cmd_parse_invalid_utf8_input_never_emitted);
	tcase_add_test(tc, cmd_parse_windows_1252_document_to_utf8);
	tcase_add_test(tc, cmd_parse_control_chars_and_line_separators_escaped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmd_parse_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
