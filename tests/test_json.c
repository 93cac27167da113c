/*
 * test_json.c - parsers/json.c: buffers, string escaping, the item and
 * feed objects.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

static char *js(const char *s, size_t n)
{
	struct buf b = {0};
	ck_assert_int_eq(json_str(&b, s, n), 0);
	return b.data;
}

#define JS_EQ(in, want)                                                                 \
	do {                                                                               \
		char *got_ = js(in, sizeof(in) - 1);                                                    \
		ck_assert_str_eq(got_, want);                                              \
		free(got_);                                                                \
	} while (0)

START_TEST(json_plain_ascii_is_quoted)
{
	JS_EQ("hello / world", "\"hello / world\"");
}
END_TEST

START_TEST(json_quote_and_backslash_escaped)
{
	JS_EQ("a\"b\\c", "\"a\\\"b\\\\c\"");
}
END_TEST

START_TEST(json_short_control_escapes)
{
	JS_EQ("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
}
END_TEST

START_TEST(json_other_controls_as_u00xx)
{
	JS_EQ("\x01\x1f", "\"\\u0001\\u001f\"");
}
END_TEST

START_TEST(json_nul_byte_escaped)
{
	JS_EQ("a\0b", "\"a\\u0000b\"");
}
END_TEST

START_TEST(json_u2028_u2029_escaped)
{
	JS_EQ("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"");
}
END_TEST

START_TEST(json_valid_multibyte_kept)
{
	JS_EQ("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80",
	      "\"caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80\"");
}
END_TEST

START_TEST(json_invalid_utf8_replaced)
{
	/* lone continuation, truncated sequence, 0xff, overlong, surrogate */
	JS_EQ("a\x80" "b\xc3" "c\xff" "d\xc0\xaf" "e\xed\xa0\x80",
	      "\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd" "d\xef\xbf\xbd\xef\xbf\xbd"
	      "e\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}
END_TEST

START_TEST(json_truncated_sequence_at_end_replaced)
{
	JS_EQ("ab\xe2\x80", "\"ab\xef\xbf\xbd\xef\xbf\xbd\"");
}
END_TEST

/* A plain reference for json_str: decode one character at a time. */
static size_t ref_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t l = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!l || l > n)
		return 0;
	for (size_t k = 1; k < l; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return l;
}

static void ref_json(struct buf *b, const unsigned char *s, size_t n)
{
	char e[8];
	buf_append(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		if (c == '"' || c == '\\') {
			e[0] = '\\', e[1] = (char)c;
			buf_append(b, e, 2);
			i++;
		} else if (c < 0x20) {
			const char *m = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
				      : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
			if (m) {
				buf_puts(b, m);
			} else {
				snprintf(e, sizeof e, "\\u%04x", c);
				buf_puts(b, e);
			}
			i++;
		} else if (c < 0x80) {
			buf_append(b, s + i, 1);
			i++;
		} else {
			size_t l = ref_seq(s + i, n - i);
			if (!l) {
				buf_puts(b, "\xef\xbf\xbd");
				i++;
			} else if (l == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
				buf_puts(b, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
				i += 3;
			} else {
				buf_append(b, s + i, l);
				i += l;
			}
		}
	}
	buf_append(b, "\"", 1);
}

/* Random strings from pieces that stress the 16-byte fast paths. */
START_TEST(json_str_matches_reference_on_random_input)
{
	static const char *const pieces[] = {
		"a", "hello world ", "\"", "\\", "\n", "\x01", "\xc3\xa9", "\xe2\x80\x9c",
		"\xe2\x80\xa8", "\xe2\x80\xa9", "\xf0\x9f\x98\x80", "\x80", "\xc3", "\xe2\x80",
		"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\x80",
		"\xf0\x80\x80\x80", "\xce\x95\xce\xbb", "\xe6\x9d\xb1", "0123456789abcdef"};
	unsigned seed = 12345;
	for (int iter = 0; iter < 20000; iter++) {
		unsigned char s[256];
		size_t n = 0;
		seed = seed * 1103515245u + 12345u;
		int np = (int)((seed >> 16) % 24);
		for (int k = 0; k < np; k++) {
			seed = seed * 1103515245u + 12345u;
			const char *pc = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
			size_t l = strlen(pc);
			if (!strcmp(pc, "\\n") || l == 0)
				l = 1;
			if (n + l > sizeof s)
				break;
			memcpy(s + n, pc, l);
			n += l;
		}
		struct buf got = {0}, want = {0};
		ck_assert_int_eq(json_str(&got, (const char *)s, n), 0);
		ref_json(&want, s, n);
		ck_assert_uint_eq(got.len, want.len);
		ck_assert_msg(!memcmp(got.data, want.data, got.len), "iteration %d", iter);
		buf_free(&got);
		buf_free(&want);
	}
}
END_TEST

START_TEST(json_item_omits_missing_keys)
{
	struct feed_item it = {.title = "T", .published = FEED_NO_DATE, .updated = FEED_NO_DATE,
			       .summary = ""};
	struct buf b = {0};
	ck_assert_int_eq(json_item(&b, &it), 0);
	ck_assert_str_eq(b.data, "{\"title\":\"T\"}");
	buf_free(&b);
}
END_TEST

START_TEST(json_item_empty_object_when_nothing_known)
{
	struct feed_item it = {.published = FEED_NO_DATE, .updated = FEED_NO_DATE};
	struct buf b = {0};
	ck_assert_int_eq(json_item(&b, &it), 0);
	ck_assert_str_eq(b.data, "{}");
	buf_free(&b);
}
END_TEST

START_TEST(json_item_arrays_first_have_no_leading_comma)
{
	char *cats[] = {"a", "b"};
	struct feed_enclosure e = {.url = "http://x/y.mp3", .length = -1};
	struct feed_item it = {.published = FEED_NO_DATE, .updated = FEED_NO_DATE,
			       .categories = cats, .ncategories = 2, .enclosures = &e,
			       .nenclosures = 1};
	struct buf b = {0};
	ck_assert_int_eq(json_item(&b, &it), 0);
	ck_assert_str_eq(b.data, "{\"categories\":[\"a\",\"b\"],"
				 "\"enclosures\":[{\"url\":\"http://x/y.mp3\"}]}");
	buf_free(&b);
}
END_TEST

START_TEST(json_item_dates_rfc3339_utc)
{
	struct feed_item it = {.published = 1652779800, .updated = FEED_NO_DATE};
	struct buf b = {0};
	ck_assert_int_eq(json_item(&b, &it), 0);
	ck_assert_str_eq(b.data, "{\"published\":\"2022-05-17T09:30:00Z\"}");
	buf_free(&b);
}
END_TEST

START_TEST(json_enclosure_length_integer)
{
	struct feed_enclosure e = {.url = "u", .type = "audio/mpeg", .length = 0};
	struct feed_item it = {.published = FEED_NO_DATE, .updated = FEED_NO_DATE,
			       .title = "t", .enclosures = &e, .nenclosures = 1};
	struct buf b = {0};
	ck_assert_int_eq(json_item(&b, &it), 0);
	ck_assert_str_eq(b.data, "{\"title\":\"t\",\"enclosures\":[{\"url\":\"u\","
				 "\"type\":\"audio/mpeg\",\"length\":0}]}");
	buf_free(&b);
}
END_TEST

START_TEST(json_meta_keys_in_order)
{
	struct feed_meta m = {.title = "T", .link = "L", .id = "I", .subtitle = "S",
			      .language = "en", .author = "A", .updated = 0};
	struct buf b = {0};
	ck_assert_int_eq(json_meta(&b, &m), 0);
	ck_assert_str_eq(b.data, "{\"title\":\"T\",\"link\":\"L\",\"id\":\"I\",\"subtitle\":\"S\","
				 "\"language\":\"en\",\"author\":\"A\","
				 "\"updated\":\"1970-01-01T00:00:00Z\"}");
	buf_free(&b);
}
END_TEST

START_TEST(buf_append_grows_and_terminates)
{
	struct buf b = {0};
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_append(&b, "abc", 3), 0);
	ck_assert_uint_eq(b.len, 3000);
	ck_assert_int_eq(b.data[3000], 0);
	ck_assert_int_eq(buf_puts(&b, ""), 0);
	ck_assert_uint_eq(b.len, 3000);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, json_plain_ascii_is_quoted);
	tcase_add_test(tc, json_quote_and_backslash_escaped);
	tcase_add_test(tc, json_short_control_escapes);
	tcase_add_test(tc, json_other_controls_as_u00xx);
	tcase_add_test(tc, json_nul_byte_escaped);
	tcase_add_test(tc, json_u2028_u2029_escaped);
	tcase_add_test(tc, json_valid_multibyte_kept);
	tcase_add_test(tc, json_invalid_utf8_replaced);
	tcase_add_test(tc, json_truncated_sequence_at_end_replaced);
	tcase_add_test(tc, json_str_matches_reference_on_random_input);
	tcase_add_test(tc, json_item_omits_missing_keys);
	tcase_add_test(tc, json_item_empty_object_when_nothing_known);
	tcase_add_test(tc, json_item_arrays_first_have_no_leading_comma);
	tcase_add_test(tc, json_item_dates_rfc3339_utc);
	tcase_add_test(tc, json_enclosure_length_integer);
	tcase_add_test(tc, json_meta_keys_in_order);
	tcase_add_test(tc, buf_append_grows_and_terminates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
