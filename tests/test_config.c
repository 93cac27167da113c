/* test_config.c - feedd.conf parser (daemon/config.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "daemon.h"
#include "notify.h"
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

/* examples/feedd.conf: FIXTURES is SRC/tests/fixtures. */
static void sample_path(char *buf, size_t len)
{
	const char *fx = FIXTURES;
	size_t n = strlen(fx) - strlen("/tests/fixtures");

	snprintf(buf, len, "%.*s/examples/feedd.conf", (int)n, fx);
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
	ck_assert_int_eq(c.backoff_base, 1200);
	ck_assert_int_eq(c.backoff_max, 43200);
	ck_assert_int_eq(c.retry_after_max, 86400);
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
	ck_assert_uint_eq(c.event_cache, 32u << 20);
	ck_assert_uint_eq(c.event_cache_events, 32768);
	ck_assert(c.zero_copy);
	ck_assert(c.replay_pack);
	ck_assert_uint_eq(c.retain_items, 1000);
	ck_assert_uint_eq(c.retain_days, 0);
	ck_assert_uint_eq(c.retain_batch, 1000);
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

START_TEST(out_of_range_value_is_refused)
{
	refused("\n\nmax_redirects = 21\n", 3, "out of range (0 to 20)");
}
END_TEST

START_TEST(number_overflow_is_refused)
{
	refused("max_body = 99999999999999999999999\n", 1, "bad size");
}
END_TEST

START_TEST(size_overflow_by_unit_is_refused)
{
	refused("max_body = 17179869184G\n", 1, "bad size");
}
END_TEST

START_TEST(negative_number_is_refused)
{
	refused("max_clients = -1\n", 1, "bad number");
}
END_TEST

START_TEST(empty_value_is_refused)
{
	refused("interval =\n", 1, "missing value");
}
END_TEST

START_TEST(replay_pack_can_be_turned_off)
{
	struct config c;
	struct notify_limits l;
	accepted(&c, "replay_pack = no\n");
	ck_assert(!c.replay_pack);
	daemon_notify_limits(&c, &l);
	ck_assert_int_eq(l.pack_wait_ms, 0);
	config_free(&c);
	accepted(&c, "replay_pack = yes\n");
	daemon_notify_limits(&c, &l);
	ck_assert_int_gt(l.pack_wait_ms, 0);
	config_free(&c);
}
END_TEST

START_TEST(zero_copy_can_be_turned_off)
{
	struct config c;
	accepted(&c, "zero_copy = no\n");
	ck_assert(!c.zero_copy);
	config_free(&c);
}
END_TEST

START_TEST(bad_boolean_is_refused)
{
	refused("allow_file = maybe\n", 1, "bad boolean");
}
END_TEST

START_TEST(bad_mode_is_refused)
{
	refused("socket_mode = 0668\n", 1, "bad mode");
}
END_TEST

START_TEST(bad_log_level_is_refused)
{
	refused("log_level = loud\n", 1, "bad log level");
}
END_TEST

START_TEST(duplicate_key_is_refused)
{
	refused("interval = 1h\n# x\ninterval = 2h\n", 3, "duplicate key 'interval' (first set on line 1)");
}
END_TEST

START_TEST(duplicate_key_across_reopened_global_is_refused)
{
	refused("interval = 1h\n[feed \"https://a.example/\"]\n[global]\ninterval = 2h\n", 4,
		"duplicate key");
}
END_TEST

START_TEST(text_after_closing_quote_is_refused)
{
	refused("user_agent = \"a\" b\n", 1, "after the closing quote");
}
END_TEST

START_TEST(unknown_escape_is_refused)
{
	refused("user_agent = \"a\\n\"\n", 1, "unknown escape");
}
END_TEST

START_TEST(section_without_bracket_is_refused)
{
	refused("[global\n", 1, "closing ']'");
}
END_TEST

START_TEST(line_of_garbage_is_refused)
{
	refused("interval = 1h\n= 5\n", 2, "expected 'key = value'");
}
END_TEST

START_TEST(nul_byte_is_refused)
{
	struct config c;
	static const char text[] = "interval = 1h\ninter\0val = 2h\n";

	ck_assert_int_eq(config_parse(&c, text, sizeof text - 1, "t.conf", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "t.conf:2: NUL byte"), "%s", err);
}
END_TEST

START_TEST(control_character_is_refused)
{
	refused("interval = 1h\x1b\n", 1, "control character 0x1b");
}
END_TEST

START_TEST(overlong_utf8_is_refused)
{
	refused("user_agent = \xc0\xaf\n", 1, "invalid UTF-8");
}
END_TEST

START_TEST(valid_utf8_is_accepted)
{
	struct config c;

	accepted(&c, "user_agent = f\xc3\xa9\x65\x64\xe2\x82\xac\xf0\x9f\x93\xb0\n");
	ck_assert_str_eq(c.user_agent, "f\xc3\xa9\x65\x64\xe2\x82\xac\xf0\x9f\x93\xb0");
	config_free(&c);
}
END_TEST

START_TEST(too_long_socket_path_is_refused)
{
	char text[256];

	snprintf(text, sizeof text, "socket = /%0108d\n", 0);
	refused(text, 1, "too long");
}
END_TEST

START_TEST(socket_path_at_its_limit_is_accepted)
{
	struct config c;
	char text[256];

	snprintf(text, sizeof text, "socket = /%0106d\n", 0);
	accepted(&c, text);
	ck_assert_uint_eq(strlen(c.socket), CONFIG_SOCKET_PATH_MAX);
	config_free(&c);
}
END_TEST

/* ---- limits at min, max, one past ---- */

struct limit_case {
	const char *key, *min, *max, *below, *above;
	const char *first_line; /* needed by the rules between keys, or NULL */
};

static const struct limit_case limit_cases[] = {
	{"max_body", "1k", "1G", "1023", "1025M", NULL},
	{"max_clients", "1", "65536", "0", "65537", NULL},
	{"max_line", "256", "16M", "255", "16385k", NULL},
	{"client_output_limit", "4k", "1G", "4095", "1048577k", NULL},
	{"max_redirects", "0", "20", NULL, "21", NULL},
	{"max_parallel", "1", "1024", "0", "1025", NULL},
	{"max_per_host", "1", "64", "0", "65", NULL},
	{"max_items", "1", "1000000", "0", "1000001", NULL},
	{"max_depth", "8", "10000", "7", "10001", NULL},
	{"jitter", "0%", "50%", NULL, "51%", NULL},
	{"heartbeat", "1s", "1h", "0", "3601", NULL},
	{"sub_timeout", "1", "3600", "0s", "61m", NULL},
	{"connect_timeout", "1s", "10m", "0", "601s", "total_timeout = 1h"},
	{"total_timeout", "15s", "1h", "0", "3601s", NULL},
	{"retain_days", "0", "36500", NULL, "36501", NULL},
	{"retain_batch", "1", "1000000", "0", "1000001", NULL},
	{"max_amplification", "1", "1000", "0.5", "1000.5", NULL},
};

START_TEST(limit_accepted_at_min_and_max_refused_one_past)
{
	const struct limit_case *lc = &limit_cases[_i];
	struct config c;
	char text[128];

	const char *first = lc->first_line ? lc->first_line : "#";

	snprintf(text, sizeof text, "%s\n%s = %s\n", first, lc->key, lc->min);
	accepted(&c, text);
	config_free(&c);
	snprintf(text, sizeof text, "%s\n%s = %s\n", first, lc->key, lc->max);
	accepted(&c, text);
	config_free(&c);
	if (lc->below) {
		snprintf(text, sizeof text, "%s\n%s = %s\n", first, lc->key, lc->below);
		refused(text, 2, lc->key);
	}
	snprintf(text, sizeof text, "%s\n%s = %s\n", first, lc->key, lc->above);
	refused(text, 2, lc->key);
}
END_TEST

/* ---- rules between keys ---- */

START_TEST(interval_below_floor_is_refused_at_the_later_line)
{
	refused("interval = 10m\n#\ninterval_floor = 20m\n", 3,
		"interval_floor 20m must not be above interval 10m");
}
END_TEST

START_TEST(floor_above_default_interval_names_the_default)
{
	refused("#\ninterval_floor = 2h\n", 2, "interval 1h (default)");
}
END_TEST

START_TEST(interval_above_max_is_refused)
{
	refused("interval_max = 2h\ninterval = 3h\n", 2, "must not be above interval_max");
}
END_TEST

START_TEST(connect_timeout_above_total_is_refused)
{
	refused("connect_timeout = 2m\n", 1, "must not be above total_timeout");
}
END_TEST

START_TEST(same_socket_twice_is_refused)
{
	refused("socket = /tmp/a.sock\ncontrol_socket = /tmp/a.sock\n", 2, "must differ");
}
END_TEST

/* ---- feed sections ---- */

START_TEST(feed_sections_are_kept_in_order)
{
	struct config c;

	accepted(&c, "interval = 2h\n"
		     "[feed \"https://b.example/feed\"]\n"
		     "interval = 30m\n"
		     "title = \"B's feed\"\n"
		     "[feed \"http://a.example/rss#x\"]\n"
		     "allow_private = yes\n");
	ck_assert_uint_eq(c.nfeeds, 2);
	ck_assert_str_eq(c.feeds[0].url, "https://b.example/feed");
	ck_assert_int_eq(c.feeds[0].interval, 1800);
	ck_assert_str_eq(c.feeds[0].title, "B's feed");
	ck_assert_int_eq(c.feeds[0].allow_private, -1);
	ck_assert_uint_eq(c.feeds[0].line, 2);
	ck_assert_str_eq(c.feeds[1].url, "http://a.example/rss#x");
	ck_assert_int_eq(c.feeds[1].interval, 0);
	ck_assert_ptr_null(c.feeds[1].title);
	ck_assert_int_eq(c.feeds[1].allow_private, 1);
	config_free(&c);
}
END_TEST

START_TEST(feed_overrides_are_found_by_url)
{
	struct config c;

	accepted(&c, "[feed \"https://b.example/feed\"]\ninterval = 30m\n"
		     "[feed \"http://a.example\"]\nallow_private = on\n");
	ck_assert_ptr_eq(config_feed_find(&c, "https://b.example/feed"), &c.feeds[0]);
	/* found after normalization (host case, empty path) */
	ck_assert_ptr_eq(config_feed_find(&c, "http://A.example/"), &c.feeds[1]);
	ck_assert_ptr_null(config_feed_find(&c, "https://c.example/"));
	ck_assert_int_eq(config_feed_interval(&c, "https://b.example/feed"), 1800);
	ck_assert_int_eq(config_feed_interval(&c, "https://c.example/"), 3600);
	ck_assert(config_feed_allow_private(&c, "http://a.example"));
	ck_assert(!config_feed_allow_private(&c, "https://b.example/feed"));
	config_free(&c);
}
END_TEST

START_TEST(feed_keys_are_scoped_to_their_section)
{
	struct config c;

	accepted(&c, "[feed \"https://a.example/\"]\ninterval = 2h\n"
		     "[feed \"https://b.example/\"]\ninterval = 3h\n");
	ck_assert_int_eq(c.feeds[0].interval, 7200);
	ck_assert_int_eq(c.feeds[1].interval, 3 * 3600);
	ck_assert_int_eq(c.interval, 3600);
	config_free(&c);
}
END_TEST

START_TEST(feed_section_with_ftp_url_is_refused)
{
	refused("[feed \"ftp://a.example/f\"]\n", 1, "only http:// and https://");
}
END_TEST

START_TEST(feed_section_with_bad_url_is_refused)
{
	refused("#\n[feed \"not a url\"]\n", 2, "feed URL");
}
END_TEST

START_TEST(feed_section_without_quotes_is_refused)
{
	refused("[feed https://a.example/]\n", 1, "expected [feed \"URL\"]");
}
END_TEST

START_TEST(file_feed_without_allow_file_is_refused)
{
	refused("#\n[feed \"file:///srv/feeds/a.xml\"]\n", 2, "allow_file = yes");
}
END_TEST

START_TEST(file_feed_with_allow_file_is_accepted)
{
	struct config c;

	accepted(&c, "allow_file = yes\n[feed \"file:///srv/feeds/a.xml\"]\ninterval = 20m\n");
	ck_assert_uint_eq(c.nfeeds, 1);
	ck_assert_ptr_eq(config_feed_find(&c, "file:///srv/feeds/a.xml"), &c.feeds[0]);
	config_free(&c);
}
END_TEST

START_TEST(duplicate_feed_section_is_refused)
{
	refused("[feed \"https://a.example/x\"]\n[feed \"https://b.example/\"]\n"
		"[feed \"https://A.EXAMPLE/x\"]\n",
		3, "first on line 1");
}
END_TEST

START_TEST(global_key_in_feed_section_is_refused)
{
	refused("[feed \"https://a.example/\"]\nmax_body = 1M\n", 2, "not allowed in a [feed]");
}
END_TEST

START_TEST(feed_key_in_global_is_refused)
{
	refused("title = x\n", 1, "only allowed in a [feed");
}
END_TEST

START_TEST(duplicate_key_in_feed_section_is_refused)
{
	refused("[feed \"https://a.example/\"]\ntitle = a\ntitle = b\n", 3, "duplicate key 'title'");
}
END_TEST

START_TEST(feed_interval_below_floor_is_refused)
{
	refused("[feed \"https://a.example/\"]\ninterval = 1m\n", 1, "below interval_floor 15m");
}
END_TEST

START_TEST(feed_interval_above_max_is_refused)
{
	refused("[feed \"https://a.example/\"]\ninterval = 2d\n", 1, "above interval_max 1d");
}
END_TEST

/* ---- files and reload ---- */

START_TEST(file_is_loaded)
{
	struct config c;
	char *dir = tu_tmpdir(), path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/feedd.conf", dir);
	f = fopen(path, "w");
	fputs("interval = 2h\n", f);
	fclose(f);
	ck_assert_msg(config_load(&c, path, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(c.interval, 7200);
	config_free(&c);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(error_in_file_names_path_and_line)
{
	struct config c;
	char *dir = tu_tmpdir(), path[512], want[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/feedd.conf", dir);
	f = fopen(path, "w");
	fputs("interval = 2h\nbogus = 1\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(&c, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:2: unknown key 'bogus'", path);
	ck_assert_str_eq(err, want);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(unreadable_file_is_refused)
{
	struct config c;

	ck_assert_int_eq(config_load(&c, "/nonexistent/feedd.conf", err, sizeof err), -1);
	ck_assert_str_eq(err, "/nonexistent/feedd.conf: No such file or directory");
}
END_TEST

START_TEST(directory_is_refused)
{
	struct config c;
	char *dir = tu_tmpdir();

	ck_assert_int_eq(config_load(&c, dir, err, sizeof err), -1);
	ck_assert_msg(strstr(err, dir) == err, "%s", err);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(failed_reload_leaves_the_old_config_untouched)
{
	struct config cur, copy;

	accepted(&cur, "interval = 2h\n[feed \"https://a.example/\"]\ntitle = A\n");
	memcpy(&copy, &cur, sizeof cur);
	ck_assert_int_eq(parse(&cur, "interval = 3h\n[feed \"https://b.example/\"]\nbad\n"), -1);
	ck_assert_int_eq(memcmp(&copy, &cur, sizeof cur), 0);
	ck_assert_str_eq(cur.feeds[0].title, "A");
	config_free(&cur);
}
END_TEST

START_TEST(successful_reload_swaps_in_the_new_config)
{
	struct config cur, fresh;

	accepted(&cur, "interval = 2h\n[feed \"https://a.example/\"]\n");
	accepted(&fresh, "interval = 3h\n");
	config_free(&cur);
	cur = fresh;
	ck_assert_int_eq(cur.interval, 3 * 3600);
	ck_assert_uint_eq(cur.nfeeds, 0);
	config_free(&cur);
}
END_TEST

/* ---- environment, overrides, helpers ---- */

START_TEST(defaults_follow_systemd_directories)
{
	struct config c;
	char buf[256];

	setenv("STATE_DIRECTORY", "/var/lib/feedd:/var/lib/other", 1);
	setenv("RUNTIME_DIRECTORY", "/run/feedd", 1);
	setenv("CONFIGURATION_DIRECTORY", "/etc/feedd", 1);
	config_defaults(&c);
	ck_assert_str_eq(c.database, "/var/lib/feedd/feedd.db");
	ck_assert_str_eq(c.socket, "/run/feedd/sub.sock");
	ck_assert_str_eq(c.control_socket, "/run/feedd/control.sock");
	ck_assert_str_eq(config_default_path(buf, sizeof buf), "/etc/feedd/feedd.conf");
	unsetenv("STATE_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");
	unsetenv("CONFIGURATION_DIRECTORY");
	ck_assert_ptr_null(config_default_path(buf, sizeof buf));
}
END_TEST

START_TEST(too_long_runtime_directory_is_reported)
{
	struct config c;
	char dir[200];

	memset(dir, 'x', sizeof dir - 1);
	dir[0] = '/';
	dir[sizeof dir - 1] = '\0';
	setenv("RUNTIME_DIRECTORY", dir, 1);
	ck_assert_int_eq(parse(&c, ""), -1);
	unsetenv("RUNTIME_DIRECTORY");
	ck_assert_msg(strstr(err, "t.conf: socket: no path"), "%s", err);
}
END_TEST

START_TEST(command_line_override_is_validated)
{
	struct config c;

	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "database", "/tmp/x.db", err, sizeof err), 0);
	ck_assert_str_eq(c.database, "/tmp/x.db");
	ck_assert_int_eq(config_set(&c, "interval", "1y", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "interval: bad duration"), "%s", err);
	ck_assert_int_eq(c.interval, 3600);
	ck_assert_int_eq(config_set(&c, "nope", "1", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&c, "interval", "5m", err, sizeof err), 0);
	ck_assert_int_eq(config_check(&c, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "interval_floor 15m must not be above interval 5m"), "%s", err);
}
END_TEST

START_TEST(parse_limits_are_copied)
{
	struct config c;
	struct parse_limits l;

	accepted(&c, "max_items = 7\nmax_field = 2k\nmax_depth = 9\nmax_categories = 3\n"
		     "max_enclosures = 4\namplification_threshold = 128k\nmax_amplification = 5\n");
	config_parse_limits(&c, &l);
	ck_assert_uint_eq(l.max_items, 7);
	ck_assert_uint_eq(l.max_field, 2048);
	ck_assert_uint_eq(l.max_depth, 9);
	ck_assert_uint_eq(l.max_categories, 3);
	ck_assert_uint_eq(l.max_enclosures, 4);
	ck_assert_uint_eq(l.amplification_threshold, 128 << 10);
	ck_assert(l.max_amplification == 5.0f);
	config_free(&c);
}
END_TEST

START_TEST(log_level_names)
{
	ck_assert_str_eq(config_log_level_name(CONFIG_LOG_DEBUG), "debug");
	ck_assert_str_eq(config_log_level_name(CONFIG_LOG_WARNING), "warning");
}
END_TEST

START_TEST(sample_config_is_valid)
{
	struct config c;
	char path[1024];

	sample_path(path, sizeof path);
	ck_assert_msg(config_load(&c, path, err, sizeof err) == 0, "%s", err);
	config_free(&c);
}
END_TEST

START_TEST(every_key_is_documented_in_the_sample)
{
	char path[1024], pat[128];
	const char *key;
	char *text;

	sample_path(path, sizeof path);
	text = tu_read_file(path, NULL);
	for (size_t i = 0; (key = config_key_name(i)); i++) {
		snprintf(pat, sizeof pat, "\n# %s = ", key);
		ck_assert_msg(strstr(text, pat), "examples/feedd.conf lacks '# %s = '", key);
	}
	free(text);
}
END_TEST

/* Uncomments "# key = value" and "# [section]" lines of the sample. */
static char *uncomment_sample(void)
{
	char path[1024], *text, *out, *w;
	const char *r;

	sample_path(path, sizeof path);
	text = tu_read_file(path, NULL);
	out = malloc(strlen(text) + 1);
	w = out;
	for (r = text; *r;) {
		const char *nl = strchr(r, '\n');
		size_t n = nl ? (size_t)(nl - r + 1) : strlen(r);
		size_t k = 2;

		while ((r[k] >= 'a' && r[k] <= 'z') || r[k] == '_')
			k++;
		if (n > 2 && !strncmp(r, "# ", 2) &&
		    (r[2] == '[' || (k > 2 && !strncmp(r + k, " = ", 3)))) {
			r += 2;
			n -= 2;
		}
		memcpy(w, r, n);
		w += n;
		r += n;
	}
	*w = '\0';
	free(text);
	return out;
}

START_TEST(sample_documents_the_real_defaults)
{
	struct config c, d;
	char *text;

	setenv("STATE_DIRECTORY", "/var/lib/feedd", 1);
	setenv("RUNTIME_DIRECTORY", "/run/feedd", 1);
	text = uncomment_sample();
	accepted(&c, text);
	config_defaults(&d);
	unsetenv("STATE_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");
	ck_assert_uint_eq(c.nfeeds, 1);
	ck_assert_str_eq(c.feeds[0].url, "https://example.org/feed.xml");
	ck_assert_str_eq(c.user_agent, "feedd/VERSION (+https://github.com/feedd/feedd)");
	memcpy(c.user_agent, d.user_agent, sizeof d.user_agent);
	d.feeds = c.feeds;
	d.nfeeds = c.nfeeds;
	d.feed_sorted = c.feed_sorted;
	ck_assert_msg(!memcmp(&c, &d, sizeof c), "a default in examples/feedd.conf is wrong");
	config_free(&c);
	free(text);
}
END_TEST

/* Writes c with config_write and parses the text back into *out. */
static void round_trip(const struct config *c, struct config *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_int_eq(config_write(c, f), 0);
	fclose(f);
	ck_assert_msg(config_parse(out, text, len, "w.conf", err, sizeof err) == 0, "%s\n%s",
		      err, text);
	free(text);
}

/* Same settings and feeds (pointers aside). */
static void assert_same_config(const struct config *a, const struct config *b)
{
	struct config x = *a;

	x.feeds = b->feeds;
	x.feed_sorted = b->feed_sorted;
	ck_assert_msg(!memcmp(&x, b, sizeof x), "global settings differ");
	ck_assert_uint_eq(a->nfeeds, b->nfeeds);
	for (size_t i = 0; i < a->nfeeds; i++) {
		ck_assert_str_eq(a->feeds[i].url, b->feeds[i].url);
		ck_assert_int_eq(a->feeds[i].interval, b->feeds[i].interval);
		ck_assert_int_eq(a->feeds[i].allow_private, b->feeds[i].allow_private);
		ck_assert(!a->feeds[i].title == !b->feeds[i].title);
		if (a->feeds[i].title)
			ck_assert_str_eq(a->feeds[i].title, b->feeds[i].title);
	}
}

START_TEST(written_config_parses_back_the_same)
{
	struct config a, b;

	accepted(&a, "interval = 90m\nmax_body = 1025\nmax_amplification = 12.25\n"
		     "user_agent = \"q\\\"uote \\\\ # x\"\ndatabase = \"/tmp/a b.db\"\n"
		     "log_level = warning\nallow_file = yes\nsocket_mode = 0640\njitter = 0\n"
		     "[feed \"https://a.example/f?x=1#y\"]\ntitle = \"T \\\"1\\\"\"\n"
		     "allow_private = no\n[feed \"file:///x.xml\"]\ninterval = 2h\n");
	round_trip(&a, &b);
	assert_same_config(&a, &b);
	config_free(&a);
	config_free(&b);
}
END_TEST

START_TEST(written_defaults_parse_back_the_same)
{
	struct config a, b;

	config_defaults(&a);
	round_trip(&a, &b);
	assert_same_config(&a, &b);
	config_free(&b);
}
END_TEST

START_TEST(title_at_its_limit_is_accepted_and_one_past_refused)
{
	struct config c;
	char *text = malloc(2200);

	snprintf(text, 2200, "[feed \"https://a.example/\"]\ntitle = %01024d\n", 0);
	accepted(&c, text);
	ck_assert_uint_eq(strlen(c.feeds[0].title), 1024);
	config_free(&c);
	snprintf(text, 2200, "[feed \"https://a.example/\"]\ntitle = %01025d\n", 0);
	refused(text, 2, "title: too long");
	free(text);
}
END_TEST

START_TEST(user_agent_at_its_limit_is_accepted_and_one_past_refused)
{
	struct config c;
	char text[1200];

	snprintf(text, sizeof text, "user_agent = %0511d\n", 0);
	accepted(&c, text);
	ck_assert_uint_eq(strlen(c.user_agent), CONFIG_USER_AGENT_MAX);
	config_free(&c);
	snprintf(text, sizeof text, "user_agent = %0512d\n", 0);
	refused(text, 1, "user_agent: too long");
}
END_TEST

/* A comment line of exactly 64 bytes. */
#define PAD64 "# padding padding padding padding padding padding padding paddi\n"
_Static_assert(sizeof PAD64 == 65, "PAD64 is 64 bytes");

START_TEST(file_larger_than_the_limit_is_refused)
{
	struct config c;
	char *dir = tu_tmpdir(), path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/big.conf", dir);
	f = fopen(path, "w");
	for (size_t n = 0; n <= CONFIG_FILE_MAX; n += 64)
		fputs(PAD64, f);
	fclose(f);
	ck_assert_int_eq(config_load(&c, path, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "larger than 16 MiB"), "%s", err);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(file_at_the_limit_is_accepted)
{
	struct config c;
	char *dir = tu_tmpdir(), path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/big.conf", dir);
	f = fopen(path, "w");
	for (size_t n = 0; n < CONFIG_FILE_MAX; n += 64)
		fputs(PAD64, f);
	ck_assert_int_eq(ftell(f), CONFIG_FILE_MAX);
	fclose(f);
	ck_assert_msg(config_load(&c, path, err, sizeof err) == 0, "%s", err);
	config_free(&c);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(unknown_key_suggests_a_close_one)
{
	refused("max_bdy = 1M\n", 1, "unknown key 'max_bdy' (did you mean 'max_body'?)");
}
END_TEST

START_TEST(unknown_key_far_from_any_suggests_nothing)
{
	struct config c;

	ck_assert_int_eq(parse(&c, "frobnicate = 1\n"), -1);
	ck_assert_str_eq(err, "t.conf:1: unknown key 'frobnicate'");
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
	tcase_add_test(tc, out_of_range_value_is_refused);
	tcase_add_test(tc, number_overflow_is_refused);
	tcase_add_test(tc, size_overflow_by_unit_is_refused);
	tcase_add_test(tc, negative_number_is_refused);
	tcase_add_test(tc, empty_value_is_refused);
	tcase_add_test(tc, zero_copy_can_be_turned_off);
	tcase_add_test(tc, replay_pack_can_be_turned_off);
	tcase_add_test(tc, bad_boolean_is_refused);
	tcase_add_test(tc, bad_mode_is_refused);
	tcase_add_test(tc, bad_log_level_is_refused);
	tcase_add_test(tc, duplicate_key_is_refused);
	tcase_add_test(tc, duplicate_key_across_reopened_global_is_refused);
	tcase_add_test(tc, text_after_closing_quote_is_refused);
	tcase_add_test(tc, unknown_escape_is_refused);
	tcase_add_test(tc, section_without_bracket_is_refused);
	tcase_add_test(tc, line_of_garbage_is_refused);
	tcase_add_test(tc, nul_byte_is_refused);
	tcase_add_test(tc, control_character_is_refused);
	tcase_add_test(tc, overlong_utf8_is_refused);
	tcase_add_test(tc, valid_utf8_is_accepted);
	tcase_add_test(tc, too_long_socket_path_is_refused);
	tcase_add_test(tc, socket_path_at_its_limit_is_accepted);
	tcase_add_loop_test(tc, limit_accepted_at_min_and_max_refused_one_past, 0,
			     sizeof limit_cases / sizeof limit_cases[0]);
	tcase_add_test(tc, interval_below_floor_is_refused_at_the_later_line);
	tcase_add_test(tc, floor_above_default_interval_names_the_default);
	tcase_add_test(tc, interval_above_max_is_refused);
	tcase_add_test(tc, connect_timeout_above_total_is_refused);
	tcase_add_test(tc, same_socket_twice_is_refused);
	tcase_add_test(tc, feed_sections_are_kept_in_order);
	tcase_add_test(tc, feed_overrides_are_found_by_url);
	tcase_add_test(tc, feed_keys_are_scoped_to_their_section);
	tcase_add_test(tc, feed_section_with_ftp_url_is_refused);
	tcase_add_test(tc, feed_section_with_bad_url_is_refused);
	tcase_add_test(tc, feed_section_without_quotes_is_refused);
	tcase_add_test(tc, file_feed_without_allow_file_is_refused);
	tcase_add_test(tc, file_feed_with_allow_file_is_accepted);
	tcase_add_test(tc, duplicate_feed_section_is_refused);
	tcase_add_test(tc, global_key_in_feed_section_is_refused);
	tcase_add_test(tc, feed_key_in_global_is_refused);
	tcase_add_test(tc, duplicate_key_in_feed_section_is_refused);
	tcase_add_test(tc, feed_interval_below_floor_is_refused);
	tcase_add_test(tc, feed_interval_above_max_is_refused);
	tcase_add_test(tc, file_is_loaded);
	tcase_add_test(tc, error_in_file_names_path_and_line);
	tcase_add_test(tc, unreadable_file_is_refused);
	tcase_add_test(tc, directory_is_refused);
	tcase_add_test(tc, failed_reload_leaves_the_old_config_untouched);
	tcase_add_test(tc, successful_reload_swaps_in_the_new_config);
	tcase_add_test(tc, defaults_follow_systemd_directories);
	tcase_add_test(tc, too_long_runtime_directory_is_reported);
	tcase_add_test(tc, command_line_override_is_validated);
	tcase_add_test(tc, parse_limits_are_copied);
	tcase_add_test(tc, log_level_names);
	tcase_add_test(tc, sample_config_is_valid);
	tcase_add_test(tc, every_key_is_documented_in_the_sample);
	tcase_add_test(tc, sample_documents_the_real_defaults);
	tcase_add_test(tc, written_config_parses_back_the_same);
	tcase_add_test(tc, written_defaults_parse_back_the_same);
	tcase_add_test(tc, title_at_its_limit_is_accepted_and_one_past_refused);
	tcase_add_test(tc, user_agent_at_its_limit_is_accepted_and_one_past_refused);
	tcase_add_test(tc, file_larger_than_the_limit_is_refused);
	tcase_add_test(tc, file_at_the_limit_is_accepted);
	tcase_add_test(tc, unknown_key_suggests_a_close_one);
	tcase_add_test(tc, unknown_key_far_from_any_suggests_nothing);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
