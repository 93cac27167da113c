/* test_common_json.c - the strict JSON request reader and the JSON line writer
 * (daemon/common_json.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common_json.h"

static int parse(const char *text, struct cjson *v)
{
	char err[128];
	return cjson_parse(text, strlen(text), v, err, sizeof err);
}

START_TEST(object_with_every_value_type_is_read)
{
	struct cjson v;
	ck_assert_int_eq(parse(" {\"s\":\"a\\\"b\\n\\u00e9\\ud83d\\ude00\", \"i\":-42, \"t\":true,"
	                       " \"f\":false, \"n\":null, \"a\":[1,\"x\",[]], \"o\":{}} \n",
	                       &v),
	                 0);
	ck_assert_int_eq(v.type, CJSON_OBJ);
	ck_assert_str_eq(cjson_get_str(&v, "s"), "a\"b\n\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_int_eq(cjson_get(&v, "i")->u.i, -42);
	ck_assert(cjson_get(&v, "t")->u.b);
	ck_assert_int_eq(cjson_get(&v, "f")->type, CJSON_BOOL);
	ck_assert(!cjson_get(&v, "f")->u.b);
	ck_assert_int_eq(cjson_get(&v, "n")->type, CJSON_NULL);
	ck_assert_uint_eq(cjson_get(&v, "a")->u.arr.n, 3);
	ck_assert_int_eq(cjson_get(&v, "o")->type, CJSON_OBJ);
	ck_assert_ptr_null(cjson_get(&v, "missing"));
	cjson_free(&v);
}
END_TEST

START_TEST(raw_span_of_a_value_is_its_source_text)
{
	struct cjson v;
	ck_assert_int_eq(parse("{\"id\": \"x\\u0041\" , \"n\":  17}", &v), 0);
	const struct cjson *id = cjson_get(&v, "id");
	ck_assert_int_eq((int)id->rawlen, 9);
	ck_assert(!strncmp(id->raw, "\"x\\u0041\"", id->rawlen));
	ck_assert(!strncmp(cjson_get(&v, "n")->raw, "17", cjson_get(&v, "n")->rawlen));
	cjson_free(&v);
}
END_TEST

START_TEST(int64_limits_are_read_exactly)
{
	struct cjson v;
	ck_assert_int_eq(parse("[9223372036854775807,-9223372036854775808]", &v), 0);
	ck_assert(v.u.arr.v[0].u.i == INT64_MAX);
	ck_assert(v.u.arr.v[1].u.i == INT64_MIN);
	cjson_free(&v);
}
END_TEST

/* Any JSON number is read: one that is not an int64_t integer is a
 * CJSON_NUM that keeps only its text (a request id is echoed as given). */
START_TEST(fractions_exponents_and_big_integers_are_numbers_kept_as_text)
{
	static const char *const nums[] = {"1.5",
	                                   "-0.25",
	                                   "1e3",
	                                   "2E-7",
	                                   "6.02e+23",
	                                   "9223372036854775808",
	                                   "-9223372036854775809",
	                                   "123456789012345678901234567890",
	                                   "0.0",
	                                   "-0e0"};
	for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
		char text[96];
		struct cjson v;
		snprintf(text, sizeof text, "{\"id\":%s}", nums[k]);
		ck_assert_msg(parse(text, &v) == 0, "%s", text);
		const struct cjson *id = cjson_get(&v, "id");
		ck_assert_int_eq(id->type, CJSON_NUM);
		ck_assert_uint_eq(id->rawlen, strlen(nums[k]));
		ck_assert(!strncmp(id->raw, nums[k], id->rawlen));
		ck_assert_str_eq(cjson_type_name(id->type), "number");
		cjson_free(&v);
	}
}
END_TEST

static const char *const rejected[] = {
    "",
    "   ",
    "{",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{a:1}",
    "[1,]",
    "{\"a\":1} x",
    "{\"a\":1}{}",
    "01",
    "-",
    "1.",
    ".5",
    "-.5",
    "1e",
    "1e+",
    "1.e3",
    "01.5",
    "+1",
    "0x10",
    "\"tab\there\"",
    "\"\\x\"",
    "\"\\u12\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\"",
    "\"\\ud800\\u0041\"",
    "\"\xc3\x28\"",
    "\"\xed\xa0\x80\"",
    "\"\xc0\xaf\"",
    "\"\xf4\x90\x80\x80\"",
    "\"unterminated",
    "{\"a\":1,\"a\":2}",
    "nul",
    "True",
    "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]",
};

START_TEST(malformed_or_non_strict_json_is_rejected_with_a_message)
{
	struct cjson v;
	char err[128] = "";
	const char *t = rejected[_i];
	ck_assert_int_eq(cjson_parse(t, strlen(t), &v, err, sizeof err), -1);
	ck_assert_msg(!strncmp(err, "column ", 7), "message '%s'", err);
	ck_assert_int_eq(v.type, CJSON_NULL);
}
END_TEST

START_TEST(depth_limit_is_exact)
{
	char deep[2 * (CJSON_MAX_DEPTH + 2) + 1];
	struct cjson v;
	size_t n = CJSON_MAX_DEPTH + 1; /* CJSON_MAX_DEPTH + 1 arrays: depths 0..16 */
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = 0;
	ck_assert_int_eq(parse(deep, &v), 0);
	cjson_free(&v);
	memset(deep, '[', n + 1);
	memset(deep + n + 1, ']', n + 1);
	deep[2 * n + 2] = 0;
	ck_assert_int_eq(parse(deep, &v), -1);
}
END_TEST

START_TEST(text_with_an_embedded_nul_is_rejected)
{
	struct cjson v;
	char err[64];
	ck_assert_int_eq(cjson_parse("{}\0", 3, &v, err, sizeof err), -1);
	ck_assert_int_eq(cjson_parse("\"a\0b\"", 5, &v, err, sizeof err), -1);
}
END_TEST

START_TEST(writer_places_commas_and_escapes)
{
	struct buf b = {0};
	struct cjson_w w;
	cjson_w_init(&w, &b);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "ev", "item");
	cjson_w_kint(&w, "n", -3);
	cjson_w_key(&w, "a");
	cjson_w_arr(&w);
	cjson_w_int(&w, 1);
	cjson_w_str(&w, "x\n\x01\"");
	cjson_w_bool(&w, true);
	cjson_w_null(&w);
	cjson_w_obj(&w);
	cjson_w_obj_end(&w);
	cjson_w_arr_end(&w);
	cjson_w_key(&w, "id");
	cjson_w_raw(&w, "\"r\"", 3);
	cjson_w_kstr(&w, "none", NULL);
	cjson_w_obj_end(&w);
	ck_assert_int_eq(cjson_w_line(&w), 0);
	ck_assert_int_eq(buf_append(&b, "", 1), 0);
	ck_assert_str_eq(b.data,
	                 "{\"ev\":\"item\",\"n\":-3,\"a\":[1,\"x\\n\\u0001\\\"\",true,null,{}],"
	                 "\"id\":\"r\",\"none\":null}\n");
	/* what the writer writes, the reader reads back */
	struct cjson v;
	ck_assert_int_eq(cjson_parse(b.data, b.len - 1, &v, NULL, 0), 0);
	ck_assert_str_eq(cjson_get(&v, "a")->u.arr.v[1].u.str.s, "x\n\x01\"");
	cjson_free(&v);
	buf_free(&b);
}
END_TEST

START_TEST(writer_reports_unbalanced_output)
{
	struct buf b = {0};
	struct cjson_w w;
	cjson_w_init(&w, &b);
	cjson_w_obj(&w);
	ck_assert_int_eq(cjson_w_line(&w), -1);
	cjson_w_init(&w, &b);
	cjson_w_arr_end(&w);
	ck_assert_int_eq(w.err, -1);
	buf_free(&b);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("common_json");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, object_with_every_value_type_is_read);
	tcase_add_test(tc, raw_span_of_a_value_is_its_source_text);
	tcase_add_test(tc, int64_limits_are_read_exactly);
	tcase_add_test(tc, fractions_exponents_and_big_integers_are_numbers_kept_as_text);
	tcase_add_loop_test(tc, malformed_or_non_strict_json_is_rejected_with_a_message, 0,
	                    (int)(sizeof rejected / sizeof rejected[0]));
	tcase_add_test(tc, depth_limit_is_exact);
	tcase_add_test(tc, text_with_an_embedded_nul_is_rejected);
	tcase_add_test(tc, writer_places_commas_and_escapes);
	tcase_add_test(tc, writer_reports_unbalanced_output);
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
