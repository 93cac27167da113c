/*
 * test_control.c - the control commands, one behaviour each, through
 * control_handle_line (the function the socket path calls for every
 * line) on a real store in a temporary directory.  The socket itself is
 * exercised with the real daemon in test_daemon.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common_json.h"
#include "control.h"
#include "daemon.h"
#include "store.h"
#include "testutil.h"

static char *dir;
static struct daemon d;
static struct buf out;
static struct cjson reply;

static void setup(void)
{
	char db[4200];
	dir = tu_tmpdir();
	snprintf(db, sizeof db, "%s/feedd.db", dir);
	memset(&d, 0, sizeof d);
	config_defaults(&d.cfg);
	d.start_time = (int64_t)time(NULL);
	ck_assert_int_eq(store_open(db, NULL, &d.store), STORE_OK);
	memset(&out, 0, sizeof out);
	memset(&reply, 0, sizeof reply);
}

static void teardown(void)
{
	cjson_free(&reply);
	buf_free(&out);
	store_close(d.store);
	config_free(&d.cfg);
	tu_rmtree(dir);
	free(dir);
}

/* Sends one request line; parses the one reply line into `reply`. */
static const struct cjson *req(const char *line)
{
	cjson_free(&reply);
	out.len = 0;
	control_handle_line(&d, line, strlen(line), &out);
	ck_assert_msg(out.len > 0 && out.data[out.len - 1] == '\n', "no reply line");
	ck_assert_msg(memchr(out.data, '\n', out.len) == out.data + out.len - 1,
	              "reply is not one line");
	char err[128];
	ck_assert_msg(cjson_parse(out.data, out.len - 1, &reply, err, sizeof err) == 0,
	              "reply not JSON (%s): %.*s", err, (int)out.len, out.data);
	return &reply;
}

static bool ok(const struct cjson *r)
{
	const struct cjson *v = cjson_get(r, "ok");
	return v && v->type == CJSON_BOOL && v->u.b;
}

static const char *code(const struct cjson *r)
{
	ck_assert_msg(!ok(r), "expected an error: %.*s", (int)out.len, out.data);
	ck_assert_ptr_nonnull(cjson_get_str(r, "message"));
	return cjson_get_str(r, "code");
}

static int64_t get_int(const struct cjson *r, const char *key)
{
	const struct cjson *v = cjson_get(r, key);
	ck_assert_msg(v && v->type == CJSON_INT, "no integer %s in %.*s", key, (int)out.len,
	              out.data);
	return v->u.i;
}

START_TEST(add_replies_with_the_feed)
{
	const struct cjson *r =
	    req("{\"op\":\"add\",\"url\":\"https://example.org/f\",\"title\":\"T\"}");
	ck_assert(ok(r));
	const struct cjson *f = cjson_get(r, "feed");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(get_int(f, "id"), 1);
	ck_assert_str_eq(cjson_get_str(f, "url"), "https://example.org/f");
	ck_assert_str_eq(cjson_get_str(f, "title"), "T");
	ck_assert_str_eq(cjson_get_str(f, "state"), "new");
}
END_TEST

START_TEST(add_errors_have_codes)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/f\"}");
	ck_assert_str_eq(code(req("{\"op\":\"add\",\"url\":\"https://example.org/f\"}")), "exists");
	ck_assert_str_eq(code(req("{\"op\":\"add\",\"url\":\"ftp://example.org/f\"}")), "invalid");
	ck_assert_str_eq(code(req("{\"op\":\"add\",\"url\":\"file:///tmp/f\"}")), "invalid");
	ck_assert_str_eq(code(req("{\"op\":\"add\"}")), "bad_request");
	ck_assert_str_eq(code(req("{\"op\":\"add\",\"url\":7}")), "bad_request");
}
END_TEST

START_TEST(add_file_url_when_the_config_allows_it)
{
	d.cfg.allow_file = true;
	ck_assert(ok(req("{\"op\":\"add\",\"url\":\"file:///tmp/f.xml\"}")));
}
END_TEST

START_TEST(remove_by_id_or_url)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	req("{\"op\":\"add\",\"url\":\"https://example.org/2\"}");
	const struct cjson *r = req("{\"op\":\"remove\",\"feed\":1}");
	ck_assert(ok(r));
	ck_assert_int_eq(get_int(r, "removed"), 1);
	r = req("{\"op\":\"remove\",\"feed\":\"https://example.org/2\"}");
	ck_assert_int_eq(get_int(r, "removed"), 2);
	ck_assert_str_eq(code(req("{\"op\":\"remove\",\"feed\":1}")), "not_found");
	ck_assert_str_eq(code(req("{\"op\":\"remove\"}")), "bad_request");
}
END_TEST

START_TEST(list_gives_every_feed)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	req("{\"op\":\"add\",\"url\":\"https://example.org/2\"}");
	const struct cjson *r = req("{\"op\":\"list\"}");
	ck_assert(ok(r));
	const struct cjson *feeds = cjson_get(r, "feeds");
	ck_assert_int_eq(feeds->type, CJSON_ARR);
	ck_assert_int_eq(feeds->u.arr.n, 2);
	ck_assert_str_eq(cjson_get_str(&feeds->u.arr.v[1], "url"), "https://example.org/2");
}
END_TEST

START_TEST(list_and_why_give_the_warning_of_a_recovered_document)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	const struct cjson *r = req("{\"op\":\"list\"}");
	ck_assert_ptr_null(cjson_get(&cjson_get(r, "feeds")->u.arr.v[0], "warning"));
	struct store_fetch_update u = {.fetched_at = 2000,
	                               .http_status = 200,
	                               .ok = true,
	                               .set_warning = true,
	                               .warning = "line 4, column 32: undefined entity"};
	ck_assert_int_eq(store_feed_update_fetch(d.store, 1, &u, NULL, NULL), STORE_OK);
	r = req("{\"op\":\"list\"}");
	const struct cjson *f = &cjson_get(r, "feeds")->u.arr.v[0];
	ck_assert_str_eq(cjson_get_str(f, "warning"), "line 4, column 32: undefined entity");
	ck_assert_str_eq(cjson_get_str(f, "state"), "ok");
	r = req("{\"op\":\"why\",\"feed\":1}");
	ck_assert_str_eq(cjson_get_str(r, "warning"), "line 4, column 32: undefined entity");
	r = req("{\"op\":\"status\"}");
	ck_assert_int_eq(get_int(r, "feeds_warning"), 1);
}
END_TEST

START_TEST(poll_now_makes_feeds_due)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	req("{\"op\":\"add\",\"url\":\"https://example.org/2\"}");
	ck_assert_int_eq(store_feed_set_next_poll(d.store, 1, time(NULL) + 9999, "test"), STORE_OK);
	const struct cjson *r = req("{\"op\":\"poll-now\",\"feed\":1}");
	ck_assert_int_eq(get_int(r, "scheduled"), 1);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(d.store, 1, &f), STORE_OK);
	ck_assert_int_le(f.next_poll, time(NULL));
	ck_assert_str_eq(f.next_poll_reason, "poll-now");
	store_feed_clear(&f);
	r = req("{\"op\":\"poll-now\"}");
	ck_assert_int_eq(get_int(r, "scheduled"), 2);
	ck_assert_str_eq(code(req("{\"op\":\"poll-now\",\"feed\":3}")), "not_found");
}
END_TEST

START_TEST(why_says_when_and_what_set_it)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	int64_t at = (int64_t)time(NULL) + 7200;
	ck_assert_int_eq(store_feed_set_next_poll(d.store, 1, at, "max-age 7200s"), STORE_OK);
	const struct cjson *r = req("{\"op\":\"why\",\"feed\":\"https://example.org/1\"}");
	ck_assert(ok(r));
	ck_assert_str_eq(cjson_get_str(r, "reason"), "max-age 7200s");
	char t[32];
	date_format(at, t);
	ck_assert_str_eq(cjson_get_str(r, "next_poll"), t);
	ck_assert_int_le(get_int(r, "in"), 7200);
	ck_assert_int_gt(get_int(r, "in"), 7000);
}
END_TEST

START_TEST(why_of_a_disabled_feed_gives_the_reason)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	ck_assert_int_eq(store_feed_set_disabled(d.store, 1, true, "410 Gone"), STORE_OK);
	const struct cjson *r = req("{\"op\":\"why\",\"feed\":1}");
	ck_assert_str_eq(cjson_get_str(r, "state"), "disabled");
	ck_assert_str_eq(cjson_get_str(r, "reason"), "410 Gone");
	ck_assert_ptr_null(cjson_get(r, "next_poll"));
}
END_TEST

START_TEST(status_reports_counts_and_head)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	const struct cjson *r = req("{\"op\":\"status\"}");
	ck_assert(ok(r));
	ck_assert_int_eq(get_int(r, "feeds"), 1);
	ck_assert_int_eq(get_int(r, "feeds_new"), 1);
	ck_assert_int_eq(get_int(r, "items"), 0);
	ck_assert_str_eq(cjson_get_str(r, "version"), FEEDD_VERSION);
	char head[STORE_CURSOR_MAX];
	store_cursor_format(head, sizeof head, store_epoch(d.store), 0);
	ck_assert_str_eq(cjson_get_str(r, "head"), head);
}
END_TEST

START_TEST(metrics_text_has_every_family)
{
	static const char *families[] = {
	    "# TYPE feedd_feeds gauge",
	    "feedd_feeds{state=\"new\"} 1",
	    "# TYPE feedd_fetches_total counter",
	    "feedd_fetches_total{result=\"ok\"} 1",
	    "feedd_fetches_total{result=\"not_modified\"} 0",
	    "# TYPE feedd_items_stored gauge",
	    "# TYPE feedd_events_stored gauge",
	    "# TYPE feedd_subscribers gauge",
	    "feedd_subscribers_waiting 0",
	    "feedd_fetch_bytes_total 1234",
	    "feedd_parse_errors_total 0",
	    "# TYPE feedd_fetch_duration_seconds histogram",
	    "feedd_fetch_duration_seconds_bucket{le=\"0.5\"} 1",
	    "feedd_fetch_duration_seconds_bucket{le=\"0.25\"} 0",
	    "feedd_fetch_duration_seconds_bucket{le=\"+Inf\"} 1",
	    "feedd_fetch_duration_seconds_count 1",
	};
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	metrics_fetch(&d.metrics, METRICS_FETCH_OK, 0.3, 1234);
	const struct cjson *r = req("{\"op\":\"metrics\"}");
	const char *text = cjson_get_str(r, "text");
	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		ck_assert_msg(strstr(text, families[i]), "missing '%s' in\n%s", families[i], text);
}
END_TEST

START_TEST(export_gives_opml)
{
	req("{\"op\":\"add\",\"url\":\"https://example.org/1\"}");
	const char *opml = cjson_get_str(req("{\"op\":\"export\"}"), "opml");
	ck_assert_ptr_nonnull(opml);
	ck_assert_ptr_nonnull(strstr(opml, "xmlUrl=\"https://example.org/1\""));
}
END_TEST

START_TEST(bad_lines_get_bad_request)
{
	ck_assert_str_eq(code(req("hello")), "bad_request");
	ck_assert_str_eq(code(req("[1,2]")), "bad_request");
	ck_assert_str_eq(code(req("{\"op\":1}")), "bad_request");
	ck_assert_str_eq(code(req("{\"nop\":\"list\"}")), "bad_request");
	ck_assert_str_eq(code(req("{\"op\":\"list\"} x")), "bad_request");
	ck_assert_str_eq(code(req("{\"op\":\"frobnicate\"}")), "unknown_op");
}
END_TEST

START_TEST(the_request_id_is_echoed)
{
	const struct cjson *r = req("{\"op\":\"list\",\"id\":\"abc\"}");
	ck_assert_str_eq(cjson_get_str(r, "id"), "abc");
	r = req("{\"op\":\"remove\",\"feed\":9,\"id\":42}");
	ck_assert_str_eq(code(r), "not_found");
	ck_assert_int_eq(get_int(r, "id"), 42);
}
END_TEST

static Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, add_replies_with_the_feed);
	tcase_add_test(tc, add_errors_have_codes);
	tcase_add_test(tc, add_file_url_when_the_config_allows_it);
	tcase_add_test(tc, remove_by_id_or_url);
	tcase_add_test(tc, list_gives_every_feed);
	tcase_add_test(tc, poll_now_makes_feeds_due);
	tcase_add_test(tc, why_says_when_and_what_set_it);
	tcase_add_test(tc, why_of_a_disabled_feed_gives_the_reason);
	tcase_add_test(tc, list_and_why_give_the_warning_of_a_recovered_document);
	tcase_add_test(tc, status_reports_counts_and_head);
	tcase_add_test(tc, metrics_text_has_every_family);
	tcase_add_test(tc, export_gives_opml);
	tcase_add_test(tc, bad_lines_get_bad_request);
	tcase_add_test(tc, the_request_id_is_echoed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(control_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
