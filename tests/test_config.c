/* test_config.c - feedd.conf parser (daemon/config.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "feed.h"
#include "testutil.h"

static char err[1024];

/* Parses text (NUL-terminated) as "t.conf" into *c; returns config_parse's result. */
static int parse(struct config *c, const char *text)
{
	err[0] = '\0';
	return config_parse(c, text, strlen(text), "t.conf", err, sizeof err);
}

/* Parses text that must fail; checks the message starts with "t.conf:LINE: " and has want. */
static void refused(const char *text, unsigned line, const char *want)
{
	struct config c;
	char prefix[64];

	memset(&c, 0xa5, sizeof c);
	ck_assert_int_eq(parse(&c, text), -1);
	snprintf(prefix, sizeof prefix, "t.conf:%u: ", line);
	ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "message '%s' does not start with '%s'",
		      err, prefix);
	ck_assert_msg(strstr(err, want), "message '%s' lacks '%s'", err, want);
}

/* Parses text that must succeed into *c (free with config_free). */
static void accepted(struct config *c, const char *text)
{
	ck_assert_msg(parse(c, text) == 0, "refused: %s", err);
}

/* ---- defaults ---- */

START_TEST(defaults_match_the_documented_values)
{
	struct config c;

	unsetenv("STATE_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");
	config_defaults(&c);
	ck_assert_str_eq(c.database, "./feedd.db");
	ck_assert_str_eq(c.socket, "./feedd.sock");
	ck_assert_str_eq(c.control_socket, "./feedd-control.sock");
	ck_assert_uint_eq(c.socket_mode, 0660);
	ck_assert_uint_eq(c.control_socket_mode, 0600);
	ck_assert_int_eq(c.interval, 3600);
	ck_assert_int_eq(c.interval_floor, 900);
	ck_assert_int_eq(c.interval_max, 86400);
	ck_assert_int_eq(c.backoff_max, 86400);
	ck_assert_uint_eq(c.jitter, 20);
	ck_assert_str_eq(c.user_agent, "feedd/" FEEDD_VERSION " (+https://github.com/feedd/feedd)");
	ck_assert_uint_eq(c.max_body, 8u << 20);
	ck_assert_int_eq(c.connect_timeout, 15);
	ck_assert_int_eq(c.total_timeout, 60);
	ck_assert_uint_eq(c.low_speed_limit, 100);
	ck_assert_int_eq(c.low_speed_time, 30);
	ck_assert_uint_eq(c.max_redirects, 5);
	ck_assert_uint_eq(c.max_parallel, 16);
	ck_assert_uint_eq(c.max_per_host, 2);
	ck_assert(!c.allow_private);
	ck_assert(!c.allow_file);
	ck_assert_uint_eq(c.max_items, 10000);
	ck_assert_uint_eq(c.max_clients, 256);
	ck_assert_uint_eq(c.max_line, 64u << 10);
	ck_assert_int_eq(c.sub_timeout, 10);
	ck_assert_uint_eq(c.client_output_limit, 1u << 20);
	ck_assert_int_eq(c.client_stall_timeout, 60);
	ck_assert_int_eq(c.heartbeat, 30);
	ck_assert_uint_eq(c.replay_batch, 256);
	ck_assert_uint_eq(c.retain_items, 1000);
	ck_assert_uint_eq(c.retain_days, 0);
	ck_assert_int_eq(c.busy_timeout, 5);
	ck_assert_int_eq(c.shutdown_timeout, 10);
	ck_assert_int_eq(c.log_level, CONFIG_LOG_INFO);
	ck_assert_ptr_null(c.feeds);
	ck_assert_uint_eq(c.nfeeds, 0);
}
END_TEST

START_TEST(empty_text_gives_the_defaults)
{
	struct config c, d;

	config_defaults(&d);
	accepted(&c, "");
	ck_assert_int_eq(c.interval, d.interval);
	ck_assert_str_eq(c.database, d.database);
	config_free(&c);
}
END_TEST

/* ---- values ---- */

START_TEST(durations_take_units)
{
	struct config c;

	accepted(&c, "interval = 2h\ninterval_floor = 90s\ninterval_max = 2d\n"
		     "connect_timeout = 20\ntotal_timeout = 2m\n");
	ck_assert_int_eq(c.interval, 7200);
	ck_assert_int_eq(c.interval_floor, 90);
	ck_assert_int_eq(c.interval_max, 2 * 86400);
	ck_assert_int_eq(c.connect_timeout, 20);
	ck_assert_int_eq(c.total_timeout, 120);
	config_free(&c);
}
END_TEST

START_TEST(sizes_take_binary_units)
{
	struct config c;

	accepted(&c, "max_body = 512k\nclient_output_limit = 4M\nmax_field = 2MiB\n"
		     "max_line = 1000\namplification_threshold = 1G\n");
	ck_assert_uint_eq(c.max_body, 512u << 10);
	ck_assert_uint_eq(c.client_output_limit, 4u << 20);
	ck_assert_uint_eq(c.max_field, 2u << 20);
	ck_assert_uint_eq(c.max_line, 1000);
	ck_assert_uint_eq(c.amplification_threshold, 1u << 30);
	config_free(&c);
}
END_TEST

START_TEST(booleans_take_every_spelling)
{
	static const char *yes[] = {"yes", "true", "on", "1"};
	static const char *no[] = {"no", "false", "off", "0"};
	struct config c;
	char text[64];

	for (size_t i = 0; i < 4; i++) {
		snprintf(text, sizeof text, "allow_private = %s\n", yes[i]);
		accepted(&c, text);
		ck_assert(c.allow_private);
		config_free(&c);
		snprintf(text, sizeof text, "allow_private = %s\n", no[i]);
		accepted(&c, text);
		ck_assert(!c.allow_private);
		config_free(&c);
	}
}
END_TEST

START_TEST(strings_may_be_quoted_with_escapes)
{
	struct config c;

	accepted(&c, "user_agent = \"my agent \\\"x\\\" \\\\ 1\"  \n");
	ck_assert_str_eq(c.user_agent, "my agent \"x\" \\ 1");
	config_free(&c);
}
END_TEST

START_TEST(bare_strings_are_trimmed_and_keep_hash)
{
	struct config c;

	accepted(&c, "user_agent =   bot/1.0 (+https://x.example/#about)  \t\n");
	ck_assert_str_eq(c.user_agent, "bot/1.0 (+https://x.example/#about)");
	config_free(&c);
}
END_TEST

START_TEST(modes_are_octal)
{
	struct config c;

	accepted(&c, "socket_mode = 0666\ncontrol_socket_mode = 600\n");
	ck_assert_uint_eq(c.socket_mode, 0666);
	ck_assert_uint_eq(c.control_socket_mode, 0600);
	config_free(&c);
}
END_TEST

START_TEST(percent_and_factor_and_log_level)
{
	struct config c;

	accepted(&c, "jitter = 10%\nmax_amplification = 12.5\nlog_level = debug\n");
	ck_assert_uint_eq(c.jitter, 10);
	ck_assert(c.max_amplification == 12.5);
	ck_assert_int_eq(c.log_level, CONFIG_LOG_DEBUG);
	config_free(&c);
}
END_TEST

START_TEST(comments_blank_lines_crlf_and_global_header)
{
	struct config c;

	accepted(&c, "\xef\xbb\xbf# top comment\r\n\r\n   ; another\r\n[global]\r\n"
		     "  interval = 3h\r\n\t# indented comment\r\n");
	ck_assert_int_eq(c.interval, 3 * 3600);
	config_free(&c);
}
END_TEST

START_TEST(paths_are_taken_as_written)
{
	struct config c;

	accepted(&c, "database = /var/lib/x/f.db\nsocket = /run/x/s.sock\n"
		     "control_socket = \"/run/x/c ctl.sock\"\n");
	ck_assert_str_eq(c.database, "/var/lib/x/f.db");
	ck_assert_str_eq(c.socket, "/run/x/s.sock");
	ck_assert_str_eq(c.control_socket, "/run/x/c ctl.sock");
	config_free(&c);
}
END_TEST

/* ---- mistakes ---- */

START_TEST(unknown_key_is_refused)
{
	refused("interval = 1h\n\nintervall = 2h\n", 3, "unknown key 'intervall'");
}
END_TEST

START_TEST(missing_equals_is_refused)
{
	refused("# c\ninterval 1h\n", 2, "missing '='");
}
END_TEST

START_TEST(bad_duration_is_refused)
{
	refused("interval = 1x\n", 1, "bad duration");
}
END_TEST

START_TEST(trailing_comment_is_refused_with_a_hint)
{
	refused("\ninterval = 1h # hourly\n", 2, "comments go on their own line");
}
END_TEST

START_TEST(unknown_section_is_refused)
{
	refused("[global]\n[feeds]\n", 2, "unknown section [feeds]");
}
END_TEST

START_TEST(unterminated_quote_is_refused)
{
	refused("user_agent = \"abc\n", 1, "unterminated");
}
END_TEST

START_TEST(invalid_utf8_is_refused)
{
	refused("# ok\n# \xc3\x28 bad\n", 2, "invalid UTF-8");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, defaults_match_the_documented_values);
	tcase_add_test(tc, empty_text_gives_the_defaults);
	tcase_add_test(tc, durations_take_units);
	tcase_add_test(tc, sizes_take_binary_units);
	tcase_add_test(tc, booleans_take_every_spelling);
	tcase_add_test(tc, strings_may_be_quoted_with_escapes);
	tcase_add_test(tc, bare_strings_are_trimmed_and_keep_hash);
	tcase_add_test(tc, modes_are_octal);
	tcase_add_test(tc, percent_and_factor_and_log_level);
	tcase_add_test(tc, comments_blank_lines_crlf_and_global_header);
	tcase_add_test(tc, paths_are_taken_as_written);
	tcase_add_test(tc, unknown_key_is_refused);
	tcase_add_test(tc, missing_equals_is_refused);
	tcase_add_test(tc, bad_duration_is_refused);
	tcase_add_test(tc, trailing_comment_is_refused_with_a_hint);
	tcase_add_test(tc, unknown_section_is_refused);
	tcase_add_test(tc, unterminated_quote_is_refused);
	tcase_add_test(tc, invalid_utf8_is_refused);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
