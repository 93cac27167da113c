/*
 * test_feeds.c - managing feeds without a daemon: `feedd add|remove|list|
 * import|export` run as child processes on a real SQLite file, and the
 * URL rules of feeds.c called directly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds.h"
#include "store.h"
#include "testutil.h"

static char *dir;
static char db[4200], conf[4200];

static void setup(void)
{
	dir = tu_tmpdir();
	snprintf(db, sizeof db, "%s/feedd.db", dir);
	snprintf(conf, sizeof conf, "%s/feedd.conf", dir);
	unsetenv("CONFIGURATION_DIRECTORY");
	unsetenv("STATE_DIRECTORY");
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Runs feedd CMD ARGS... --db db; returns the result (free with tu_run_free). */
static struct tu_run feedd(const char *cmd, const char *a1, const char *a2, const char *a3)
{
	char *argv[10] = {FEEDD_BIN, (char *)cmd};
	int n = 2;
	const char *extra[] = {a1, a2, a3};
	for (int i = 0; i < 3; i++)
		if (extra[i])
			argv[n++] = (char *)extra[i];
	argv[n++] = "--db";
	argv[n++] = db;
	struct tu_run r;
	tu_run(&r, argv, NULL, 0);
	return r;
}

START_TEST(add_prints_the_new_id_and_list_shows_the_feed)
{
	struct tu_run r = feedd("add", "https://example.org/feed.xml", "--title", "Example");
	ck_assert_msg(r.status == 0, "add: %s", r.err);
	ck_assert_str_eq(r.out, "1\n");
	tu_run_free(&r);
	r = feedd("list", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "https://example.org/feed.xml (Example)"));
	ck_assert_ptr_nonnull(strstr(r.out, " new "));
	tu_run_free(&r);
}
END_TEST

START_TEST(add_duplicate_exits_5_with_the_existing_id)
{
	struct tu_run r = feedd("add", "https://example.org/feed.xml", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	tu_run_free(&r);
	r = feedd("add", "https://EXAMPLE.org/feed.xml", NULL, NULL);
	ck_assert_int_eq(r.status, 5);
	ck_assert_msg(strstr(r.err, "already exists") && strstr(r.err, "(id 1)"), "%s", r.err);
	tu_run_free(&r);
}
END_TEST

START_TEST(add_refuses_other_schemes_with_exit_6)
{
	static const char *bad[] = {"ftp://example.org/feed", "gopher://x/", "not a url", "",
	                            "javascript:alert(1)",    "https://"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tu_run r = feedd("add", bad[i], NULL, NULL);
		ck_assert_msg(r.status == 6, "'%s' gave %d: %s", bad[i], r.status, r.err);
		ck_assert_msg(strstr(r.err, "feedd add: "), "%s", r.err);
		tu_run_free(&r);
	}
}
END_TEST

START_TEST(add_file_url_needs_allow_file)
{
	struct tu_run r = feedd("add", "file:///tmp/feed.xml", NULL, NULL);
	ck_assert_int_eq(r.status, 6);
	ck_assert_ptr_nonnull(strstr(r.err, "allow_file"));
	tu_run_free(&r);
	write_file(conf, "allow_file = yes\n");
	r = feedd("add", "file:///tmp/feed.xml", "--config", conf);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_run_free(&r);
}
END_TEST

START_TEST(a_bad_config_is_refused_with_its_line_number)
{
	write_file(conf, "# comment\ninterval = 1h\nmax_body = lots\n");
	struct tu_run r = feedd("list", "--config", conf, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, ":3:"), "%s", r.err);
	tu_run_free(&r);
}
END_TEST

START_TEST(remove_by_id_and_by_url)
{
	struct tu_run r = feedd("add", "https://a.example/1", NULL, NULL);
	tu_run_free(&r);
	r = feedd("add", "https://a.example/2", NULL, NULL);
	tu_run_free(&r);
	r = feedd("remove", "1", NULL, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_run_free(&r);
	r = feedd("remove", "https://A.example/2", NULL, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_run_free(&r);
	r = feedd("list", NULL, NULL, NULL);
	ck_assert_ptr_null(strstr(r.out, "a.example"));
	tu_run_free(&r);
}
END_TEST

START_TEST(remove_of_a_missing_feed_exits_4)
{
	struct tu_run r = feedd("remove", "42", NULL, NULL);
	ck_assert_int_eq(r.status, 4);
	ck_assert_ptr_nonnull(strstr(r.err, "no such feed"));
	tu_run_free(&r);
	r = feedd("remove", "https://nowhere.example/", NULL, NULL);
	ck_assert_int_eq(r.status, 4);
	tu_run_free(&r);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	struct tu_run r = feedd("add", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	tu_run_free(&r);
	r = feedd("remove", "1", "2", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_run_free(&r);
	r = feedd("list", "--bogus", NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	tu_run_free(&r);
}
END_TEST

START_TEST(export_writes_opml_2_with_escaped_titles)
{
	struct tu_run r =
	    feedd("add", "https://example.org/a?x=1&y=2", "--title", "Tom & \"Jerry\" <3");
	tu_run_free(&r);
	r = feedd("export", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "<opml version=\"2.0\">"));
	ck_assert_ptr_nonnull(strstr(r.out, "xmlUrl=\"https://example.org/a?x=1&amp;y=2\""));
	ck_assert_ptr_nonnull(strstr(r.out, "title=\"Tom &amp; &quot;Jerry&quot; &lt;3\""));
	ck_assert_ptr_nonnull(strstr(r.out, "</opml>"));
	tu_run_free(&r);
}
END_TEST

START_TEST(import_adds_outlines_counts_known_and_invalid_ones)
{
	char opml[4200];
	snprintf(opml, sizeof opml, "%s/subs.opml", dir);
	write_file(opml, "<?xml version=\"1.0\"?>\n<opml version=\"2.0\"><head/><body>\n"
	                 "<outline text=\"A\" title=\"A\" xmlUrl=\"https://a.example/feed\"/>\n"
	                 "<outline text=\"B\" xmlUrl=\"https://b.example/feed\"/>\n"
	                 "<outline text=\"bad\" xmlUrl=\"ftp://c.example/feed\"/>\n"
	                 "</body></opml>\n");
	struct tu_run r = feedd("add", "https://b.example/feed", NULL, NULL);
	tu_run_free(&r);
	r = feedd("import", opml, NULL, NULL);
	ck_assert_msg(r.status == 6, "%d %s", r.status, r.err);
	ck_assert_str_eq(r.out, "added 1, already present 1, invalid 1\n");
	ck_assert_ptr_nonnull(strstr(r.err, "ftp://c.example/feed"));
	tu_run_free(&r);
	r = feedd("list", NULL, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(r.out, "https://a.example/feed (A)"));
	tu_run_free(&r);
}
END_TEST

START_TEST(export_then_import_round_trips)
{
	struct tu_run r = feedd("add", "https://a.example/1", "--title", "One & only");
	tu_run_free(&r);
	r = feedd("add", "https://a.example/2", NULL, NULL);
	tu_run_free(&r);
	r = feedd("export", NULL, NULL, NULL);
	char opml[4200];
	snprintf(opml, sizeof opml, "%s/out.opml", dir);
	write_file(opml, r.out);
	tu_run_free(&r);
	snprintf(db, sizeof db, "%s/second.db", dir);
	r = feedd("import", opml, NULL, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "added 2, already present 0, invalid 0\n");
	tu_run_free(&r);
	r = feedd("list", NULL, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(r.out, "https://a.example/1 (One & only)"));
	tu_run_free(&r);
}
END_TEST

START_TEST(import_of_a_non_opml_file_exits_6)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/x.opml", dir);
	write_file(path, "this is not xml at all");
	struct tu_run r = feedd("import", path, NULL, NULL);
	ck_assert_int_eq(r.status, 6);
	tu_run_free(&r);
}
END_TEST

START_TEST(check_url_normalizes_the_host_and_trims)
{
	char *norm = NULL, err[256];
	ck_assert_int_eq(
	    feeds_check_url("  HTTPS://Example.ORG/Feed.xml ", false, &norm, err, sizeof err),
	    FEEDS_OK);
	ck_assert_str_eq(norm, "https://example.org/Feed.xml");
	free(norm);
	ck_assert_int_eq(feeds_check_url("http://", false, &norm, err, sizeof err),
	                 FEEDS_ERR_INVALID);
	ck_assert_ptr_null(norm);
	ck_assert_int_eq(feeds_check_url("file:///x", true, &norm, err, sizeof err), FEEDS_OK);
	free(norm);
}
END_TEST

START_TEST(find_accepts_an_id_or_a_url_as_typed)
{
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	struct feeds_add a = {.url = "https://example.org/f"};
	int64_t id = 0;
	char err[256];
	ck_assert_int_eq(feeds_add(s, &a, 1000, &id, err, sizeof err), FEEDS_OK);
	struct store_feed f;
	ck_assert_int_eq(feeds_find(s, "1", &f, err, sizeof err), FEEDS_OK);
	ck_assert_int_eq(f.id, id);
	store_feed_clear(&f);
	ck_assert_int_eq(feeds_find(s, "https://EXAMPLE.org/f", &f, err, sizeof err), FEEDS_OK);
	store_feed_clear(&f);
	ck_assert_int_eq(feeds_find(s, "2", &f, err, sizeof err), FEEDS_ERR_NOT_FOUND);
	ck_assert_int_eq(feeds_find(s, " ", &f, err, sizeof err), FEEDS_ERR_INVALID);
	store_close(s);
}
END_TEST

/* Records a fetch of feed id whose document was parsed with this warning. */
static void set_warning(int64_t id, const char *warning)
{
	struct store *s = NULL;
	ck_assert_int_eq(store_open(db, NULL, &s), STORE_OK);
	struct store_fetch_update u = {
	    .fetched_at = 2000, .http_status = 200, .ok = true, .set_warning = true, .warning = warning};
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, NULL), STORE_OK);
	store_close(s);
}

START_TEST(list_shows_the_warning_of_a_recovered_document)
{
	struct tu_run r = feedd("add", "https://example.org/feed.xml", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	tu_run_free(&r);
	set_warning(1, "line 4, column 32: undefined entity");
	r = feedd("list", NULL, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "https://example.org/feed.xml\n"
	                            "      warning: line 4, column 32: undefined entity\n"),
	              "%s", r.out);
	ck_assert_msg(strstr(r.out, " ok "), "a warning is not a failure: %s", r.out);
	tu_run_free(&r);
	set_warning(1, NULL);
	r = feedd("list", NULL, NULL, NULL);
	ck_assert_ptr_null(strstr(r.out, "warning"));
	tu_run_free(&r);
}
END_TEST

static Suite *feeds_suite(void)
{
	Suite *s = suite_create("feeds");
	TCase *tc = tcase_create("cli");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, add_prints_the_new_id_and_list_shows_the_feed);
	tcase_add_test(tc, add_duplicate_exits_5_with_the_existing_id);
	tcase_add_test(tc, add_refuses_other_schemes_with_exit_6);
	tcase_add_test(tc, add_file_url_needs_allow_file);
	tcase_add_test(tc, a_bad_config_is_refused_with_its_line_number);
	tcase_add_test(tc, remove_by_id_and_by_url);
	tcase_add_test(tc, remove_of_a_missing_feed_exits_4);
	tcase_add_test(tc, usage_errors_exit_2);
	tcase_add_test(tc, export_writes_opml_2_with_escaped_titles);
	tcase_add_test(tc, import_adds_outlines_counts_known_and_invalid_ones);
	tcase_add_test(tc, export_then_import_round_trips);
	tcase_add_test(tc, import_of_a_non_opml_file_exits_6);
	tcase_add_test(tc, check_url_normalizes_the_host_and_trims);
	tcase_add_test(tc, find_accepts_an_id_or_a_url_as_typed);
	tcase_add_test(tc, list_shows_the_warning_of_a_recovered_document);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(feeds_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
