/*
 * test_poll.c - one poll end to end (daemon/poller.c, daemon/cmd_poll.c):
 * a real evhttp server on loopback, the real parser, a real SQLite file.
 * Scheduling results are read back from the store.
 */
#include <check.h>
#include <fcntl.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "httpd.h"
#include "poller.h"
#include "store.h"
#include "testutil.h"

static struct event_base *base;
static struct httpd *srv;
static struct store *st;
static struct config cfg;
static char *dir;
static char dbpath[512];

#define MAX_OUT 8
static struct {
	int64_t feed_id;
	enum poller_result result;
	char error[512];
	bool store_failed;
	size_t new_items, updated_items;
	char reason[64];
	char warning[512];
	bool malformed;
	int64_t first_seq, last_seq;
	int64_t visible_head; /* the last seq the test's own handle saw when the outcome came */
} out[MAX_OUT];
static size_t nout;

static const char *feed2 = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Two</title>"
                           "<link>http://example.org/</link>"
                           "<item><guid>a</guid><title>first</title></item>"
                           "<item><guid>b</guid><title>second</title></item></channel></rss>";

static void setup(void)
{
	base = event_base_new();
	srv = httpd_start(base);
	ck_assert_ptr_nonnull(srv);
	dir = tu_tmpdir();
	snprintf(dbpath, sizeof dbpath, "%s/feedd.db", dir);
	ck_assert_int_eq(store_open(dbpath, NULL, &st), STORE_OK);
	config_defaults(&cfg);
	cfg.allow_private = true; /* the test server is on loopback */
	nout = 0;
}

static void teardown(void)
{
	store_close(st);
	httpd_free(srv);
	event_base_free(base);
	config_free(&cfg);
	tu_rmtree(dir);
	free(dir);
}

static int64_t add_feed(const char *path)
{
	int64_t id = 0;
	struct store_feed_new nf = {.url = httpd_url(srv, path)};
	ck_assert_int_eq(store_feed_add(st, &nf, (int64_t)time(NULL), &id), STORE_OK);
	return id;
}

static void route(const char *path, int status, const char *headers, const char *body)
{
	struct httpd_route r = {.path = path, .status = status, .headers = headers, .body = body};
	httpd_route(srv, &r);
}

/* Keeps the highest seq delivered (events come in seq order). */
static int count_seq(void *ud, const struct store_event *ev)
{
	*(int64_t *)ud = ev->seq;
	return 0;
}

static void on_outcome(void *ud, const struct poller_outcome *o)
{
	(void)ud;
	ck_assert_uint_lt(nout, MAX_OUT);
	out[nout].feed_id = o->feed_id;
	out[nout].result = o->result;
	snprintf(out[nout].error, sizeof out[0].error, "%s", o->error ? o->error : "");
	out[nout].store_failed = o->store_failed;
	out[nout].new_items = o->new_items;
	out[nout].updated_items = o->updated_items;
	snprintf(out[nout].reason, sizeof out[0].reason, "%s",
	         o->next_poll_reason ? o->next_poll_reason : "");
	snprintf(out[nout].warning, sizeof out[0].warning, "%s", o->warning ? o->warning : "");
	out[nout].malformed = o->malformed;
	out[nout].first_seq = o->first_seq;
	out[nout].last_seq = o->last_seq;
	out[nout].visible_head = 0;
	ck_assert_int_eq(store_events_after(st, 0, NULL, 0, 0, count_seq, &out[nout].visible_head,
	                                    NULL, NULL),
	                 STORE_OK);
	nout++;
}

/* Polls the given feeds once, concurrently; outcomes land in out[]. */
static void poll_ids(const int64_t *ids, size_t n)
{
	char err[512];
	nout = 0;
	struct poller *p = poller_new(base, st, &cfg, on_outcome, NULL);
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++) {
		struct store_feed f = {0};
		ck_assert_int_eq(store_feed_get(st, ids[i], &f), STORE_OK);
		ck_assert_int_eq(poller_start(p, &f, err, sizeof err), 0);
		store_feed_clear(&f);
	}
	while (poller_pending(p))
		event_base_loop(base, EVLOOP_ONCE);
	poller_free(p);
	ck_assert_uint_eq(nout, n);
}

static void poll1(int64_t id)
{
	poll_ids(&id, 1);
}

static void feed_get(int64_t id, struct store_feed *f)
{
	memset(f, 0, sizeof *f);
	ck_assert_int_eq(store_feed_get(st, id, f), STORE_OK);
}

static int count_event(void *ud, const struct store_event *ev)
{
	(void)ev;
	(*(size_t *)ud)++;
	return 0;
}

static size_t events(void)
{
	size_t n = 0;
	ck_assert_int_eq(store_events_after(st, 0, NULL, 0, 0, count_event, &n, NULL, NULL),
	                 STORE_OK);
	return n;
}

/* ---- storing ---- */

START_TEST(items_are_stored_once)
{
	route("/f", 200, "Content-Type: application/rss+xml\n", feed2);
	int64_t id = add_feed("/f");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_eq(out[0].new_items, 2);
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_eq(out[0].new_items, 0);
	ck_assert_uint_eq(out[0].updated_items, 0);
	ck_assert_uint_eq(events(), 2);
	ck_assert_str_eq(httpd_req_header(srv, "/f", "User-Agent"),
	                 "feedd/" FEEDD_VERSION " (+https://github.com/feedd/feedd)");
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_str_eq(f.title, "Two");
	ck_assert_int_eq(f.last_status, 200);
	ck_assert_int_eq(f.consecutive_errors, 0);
	store_feed_clear(&f);
}
END_TEST

START_TEST(a_streamed_document_is_stored_whole)
{
	struct httpd_route r = {.path = "/s", .body = feed2, .mode = HTTPD_CHUNKED, .chunk = 7};
	httpd_route(srv, &r);
	int64_t id = add_feed("/s");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_eq(out[0].new_items, 2);
}
END_TEST

START_TEST(validators_are_stored_and_a_304_refreshes_the_state)
{
	struct httpd_route r = {.path = "/c",
	                        .body = feed2,
	                        .etag = "\"v1\"",
	                        .headers =
	                            "ETag: \"v1\"\nLast-Modified: Tue, 15 Nov 1994 08:12:31 GMT\n"};
	httpd_route(srv, &r);
	int64_t id = add_feed("/c");
	poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_str_eq(f.etag, "\"v1\"");
	ck_assert_str_eq(f.last_modified, "Tue, 15 Nov 1994 08:12:31 GMT");
	int64_t first = f.last_fetch;
	store_feed_clear(&f);

	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_NOT_MODIFIED);
	ck_assert_str_eq(httpd_req_header(srv, "/c", "If-None-Match"), "\"v1\"");
	ck_assert_str_eq(httpd_req_header(srv, "/c", "If-Modified-Since"),
	                 "Tue, 15 Nov 1994 08:12:31 GMT");
	feed_get(id, &f);
	ck_assert_int_eq(f.last_status, 304);
	ck_assert_str_eq(f.etag, "\"v1\"");
	ck_assert_str_eq(f.last_modified, "Tue, 15 Nov 1994 08:12:31 GMT");
	ck_assert_int_ge(f.last_fetch, first);
	ck_assert_int_gt(f.next_poll, f.last_fetch);
	store_feed_clear(&f);
	ck_assert_uint_eq(events(), 2);
}
END_TEST

/* ---- schedule written to the store ---- */

START_TEST(max_age_pushes_the_next_poll_later)
{
	route("/m", 200, "Cache-Control: max-age=7200\n", feed2);
	int64_t id = add_feed("/m");
	poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_int_eq(f.next_poll - f.last_fetch, 7200);
	ck_assert_str_eq(f.next_poll_reason, "max-age 7200s");
	store_feed_clear(&f);
}
END_TEST

START_TEST(expires_pushes_the_next_poll_later)
{
	route("/e", 200,
	      "Date: Sun, 06 Nov 1994 08:49:37 GMT\nExpires: Sun, 06 Nov 1994 10:12:57 GMT\n",
	      feed2);
	int64_t id = add_feed("/e");
	poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_int_eq(f.next_poll - f.last_fetch, 5000);
	ck_assert_str_eq(f.next_poll_reason, "expires in 5000s");
	store_feed_clear(&f);
}
END_TEST

START_TEST(rss_ttl_and_sy_update_period_push_the_next_poll_later)
{
	route("/ttl", 200, NULL,
	      "<rss version=\"2.0\"><channel><title>t</title><ttl>180</ttl>"
	      "<item><guid>1</guid></item></channel></rss>");
	route("/sy", 200, NULL,
	      "<rss version=\"2.0\" xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\">"
	      "<channel><title>t</title><sy:updatePeriod>daily</sy:updatePeriod>"
	      "<sy:updateFrequency>2</sy:updateFrequency><item><guid>1</guid></item>"
	      "</channel></rss>");
	int64_t ids[2] = {add_feed("/ttl"), add_feed("/sy")};
	poll_ids(ids, 2);
	struct store_feed f;
	feed_get(ids[0], &f);
	ck_assert_int_eq(f.next_poll - f.last_fetch, 10800);
	ck_assert_str_eq(f.next_poll_reason, "ttl 180min");
	store_feed_clear(&f);
	feed_get(ids[1], &f);
	ck_assert_int_eq(f.next_poll - f.last_fetch, 43200);
	store_feed_clear(&f);
}
END_TEST

START_TEST(a_short_max_age_does_not_pull_the_next_poll_earlier)
{
	route("/m", 200, "Cache-Control: max-age=10\n", feed2);
	int64_t id = add_feed("/m");
	poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_int_eq(f.next_poll - f.last_fetch, cfg.interval);
	store_feed_clear(&f);
}
END_TEST

/* An RSS document with n items published every gap seconds, the newest age seconds ago. */
static char *rhythm_doc(int n, int64_t gap, int64_t age)
{
	size_t cap = 256 + (size_t)n * 160;
	char *d = malloc(cap), *p = d;
	p += sprintf(p, "<rss version=\"2.0\"><channel><title>r</title>");
	for (int i = 0; i < n; i++) {
		time_t t = time(NULL) - (time_t)(age + i * gap);
		char date[64];
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
		p += sprintf(p, "<item><guid>r%d</guid><pubDate>%s</pubDate></item>", i, date);
	}
	sprintf(p, "</channel></rss>");
	return d;
}

START_TEST(the_schedule_adapts_to_how_often_the_feed_publishes)
{
	char *doc = rhythm_doc(6, 6 * 3600, 3600);
	route("/rhythm", 200, NULL, doc);
	int64_t id = add_feed("/rhythm");
	poll1(id); /* nothing stored yet: the interval */
	poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_str_eq(f.next_poll_reason, "adaptive 10800s");
	ck_assert_int_eq(f.next_poll - f.last_fetch, 10800);
	store_feed_clear(&f);

	/* a feed with an interval of its own keeps it */
	ck_assert_int_eq(store_feed_set_user(st, id, NULL, 7200, false), STORE_OK);
	poll1(id);
	feed_get(id, &f);
	ck_assert_str_eq(f.next_poll_reason, "interval 7200s");
	store_feed_clear(&f);
	free(doc);
}
END_TEST

START_TEST(retry_after_on_503_sets_the_next_poll)
{
	route("/busy", 503, "Retry-After: 7000\n", "<html>busy</html>");
	int64_t id = add_feed("/busy");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FAILED);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_int_eq(f.next_poll - f.last_fetch, 7000);
	ck_assert_str_eq(f.next_poll_reason, "retry-after 7000s");
	ck_assert_int_eq(f.consecutive_errors, 1);
	ck_assert_int_eq(f.last_status, 503);
	ck_assert_str_eq(f.last_error, "HTTP 503");
	store_feed_clear(&f);
}
END_TEST

START_TEST(a_far_future_retry_after_date_is_clamped)
{
	route("/429", 429, "Retry-After: Fri, 01 Jan 2037 00:00:00 GMT\n", NULL);
	int64_t id = add_feed("/429");
	poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_int_eq(f.next_poll - f.last_fetch, cfg.retry_after_max);
	store_feed_clear(&f);
}
END_TEST

START_TEST(server_errors_back_off_exponentially_with_jitter)
{
	cfg.backoff_base = 3600;
	cfg.backoff_max = 86400;
	route("/500", 500, NULL, "oops");
	int64_t id = add_feed("/500");
	int64_t d[3];
	for (int i = 0; i < 3; i++) {
		poll1(id);
		struct store_feed f;
		feed_get(id, &f);
		d[i] = f.next_poll - f.last_fetch;
		ck_assert_int_eq(f.consecutive_errors, i + 1);
		store_feed_clear(&f);
	}
	ck_assert_int_ge(d[0], 3600 * 8 / 10);
	ck_assert_int_le(d[0], 3600 * 12 / 10);
	ck_assert_int_ge(d[2], 4 * 3600 * 8 / 10);
	ck_assert_int_le(d[2], 4 * 3600 * 12 / 10);
}
END_TEST

START_TEST(a_timeout_backs_off)
{
	cfg.total_timeout = 1;
	struct httpd_route r = {.path = "/hang", .mode = HTTPD_HANG};
	httpd_route(srv, &r);
	int64_t id = add_feed("/hang");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FAILED);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_int_eq(f.consecutive_errors, 1);
	ck_assert_int_ge(f.next_poll - f.last_fetch, cfg.interval_floor);
	ck_assert_ptr_nonnull(strstr(f.last_error, "timed out"));
	store_feed_clear(&f);
}
END_TEST

START_TEST(gone_disables_the_feed)
{
	route("/gone", 410, NULL, "gone");
	int64_t id = add_feed("/gone");
	poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert(f.disabled);
	ck_assert_str_eq(f.disabled_reason, "410 Gone");
	store_feed_clear(&f);
}
END_TEST

/* ---- redirects ---- */

START_TEST(a_permanent_redirect_on_three_polls_rewrites_the_url)
{
	route("/old", 301, "Location: /new\n", NULL);
	route("/new", 200, NULL, feed2);
	int64_t id = add_feed("/old");
	for (int i = 1; i <= 3; i++) {
		poll1(id);
		ck_assert_int_eq(out[0].result, POLLER_FETCHED);
		struct store_feed f;
		feed_get(id, &f);
		ck_assert_str_eq(f.url, httpd_url(srv, i < 3 ? "/old" : "/new"));
		store_feed_clear(&f);
	}
	ck_assert_int_eq(httpd_hits(srv, "/old"), 3);
}
END_TEST

START_TEST(a_temporary_redirect_keeps_the_url)
{
	route("/tmp", 302, "Location: /new\n", NULL);
	route("/new", 200, NULL, feed2);
	int64_t id = add_feed("/tmp");
	for (int i = 0; i < 3; i++)
		poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_str_eq(f.url, httpd_url(srv, "/tmp"));
	store_feed_clear(&f);
}
END_TEST

/* ---- what arrives ---- */

START_TEST(a_feed_served_as_html_is_parsed_anyway)
{
	route("/mislabelled", 200, "Content-Type: text/html\n", feed2);
	int64_t id = add_feed("/mislabelled");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_eq(out[0].new_items, 2);
}
END_TEST

START_TEST(an_html_page_becomes_the_feed_error)
{
	route("/html", 200, "Content-Type: application/rss+xml\n",
	      "<!DOCTYPE html><html><head><title>Not a feed</title></head>"
	      "<body><p>hello</p></body></html>");
	int64_t id = add_feed("/html");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FAILED);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_ptr_nonnull(f.last_error);
	ck_assert_msg(!strncmp(f.last_error, "not a feed", 10), "error: %s", f.last_error);
	ck_assert_int_eq(f.consecutive_errors, 1);
	store_feed_clear(&f);
	ck_assert_uint_eq(events(), 0);
}
END_TEST

static const char *broken_feed =
    "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>B</title>\n"
    "<item><guid>a</guid><title>one</title></item>\n"
    "<item><guid>b</guid><title>two &nbsp; x</title></item>\n"
    "<item><guid>c</guid><title>three</title></item>\n"
    "</channel></rss>\n";

START_TEST(a_recovered_document_is_stored_with_its_warning_until_a_clean_one)
{
	route("/broken", 200, "Content-Type: application/rss+xml\n", broken_feed);
	int64_t id = add_feed("/broken");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_eq(out[0].new_items, 3);
	ck_assert_str_eq(out[0].warning, "line 4, column 32: undefined entity");
	ck_assert(out[0].malformed);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_ptr_nonnull(f.warning);
	ck_assert_str_eq(f.warning, "line 4, column 32: undefined entity");
	ck_assert_ptr_null(f.last_error);
	ck_assert_int_eq(f.consecutive_errors, 0);
	store_feed_clear(&f);
	/* the publisher fixes the feed: the next document clears the warning */
	route("/broken", 200, "Content-Type: application/rss+xml\n", feed2);
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_str_eq(out[0].warning, "");
	ck_assert(!out[0].malformed);
	feed_get(id, &f);
	ck_assert_ptr_null(f.warning);
	store_feed_clear(&f);
}
END_TEST

START_TEST(a_truncated_document_keeps_its_complete_items_and_the_warning)
{
	route("/cut", 200, NULL,
	      "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>B</title>\n"
	      "<item><guid>a</guid><title>one</title></item>\n"
	      "<item><guid>b</guid><title>tw");
	int64_t id = add_feed("/cut");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_ge(out[0].new_items, 1);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_ptr_nonnull(f.warning);
	ck_assert_msg(!strncmp(f.warning, "line 4, column ", 15), "warning: %s", f.warning);
	store_feed_clear(&f);
}
END_TEST

START_TEST(an_item_limit_hit_is_the_feed_warning)
{
	cfg.max_items = 1;
	route("/many", 200, NULL, feed2);
	int64_t id = add_feed("/many");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_eq(out[0].new_items, 1);
	ck_assert(!out[0].malformed);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_ptr_nonnull(f.warning);
	ck_assert_str_eq(f.warning, "item limit 1 reached");
	store_feed_clear(&f);
}
END_TEST

static int first_title(void *ud, const struct store_event *ev)
{
	snprintf(ud, 64, "%s", ev->item->title ? ev->item->title : "");
	return 1;
}

START_TEST(the_http_charset_reaches_the_parser)
{
	/* ISO-8859-1 bytes, no encoding declaration: only the HTTP header says so */
	route("/latin1", 200, "Content-Type: text/xml; charset=ISO-8859-1\n",
	      "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title>"
	      "<item><guid>1</guid><title>caf\xe9</title></item></channel></rss>");
	int64_t id = add_feed("/latin1");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	char title[64] = "";
	store_events_after(st, 0, NULL, 0, 0, first_title, title, NULL, NULL);
	ck_assert_str_eq(title, "caf\xc3\xa9");
}
END_TEST

START_TEST(a_too_big_body_is_recorded)
{
	cfg.max_body = 1000;
	struct httpd_route r = {.path = "/big", .body = "<!-- padding -->", .mode = HTTPD_ENDLESS};
	httpd_route(srv, &r);
	int64_t id = add_feed("/big");
	poll1(id);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_str_eq(f.last_error, "body larger than 1000 bytes");
	store_feed_clear(&f);
}
END_TEST

/* ---- private addresses ---- */

START_TEST(a_private_address_is_refused_and_recorded)
{
	cfg.allow_private = false;
	route("/p", 200, NULL, feed2);
	int64_t id = add_feed("/p");
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FAILED);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_str_eq(f.last_error, "refused private address 127.0.0.1");
	store_feed_clear(&f);
	ck_assert_int_eq(httpd_hits(srv, "/p"), 0);
}
END_TEST

START_TEST(a_feed_stored_with_allow_private_may_use_loopback)
{
	cfg.allow_private = false;
	route("/p", 200, NULL, feed2);
	int64_t id = 0;
	struct store_feed_new nf = {.url = httpd_url(srv, "/p"), .allow_private = true};
	ck_assert_int_eq(store_feed_add(st, &nf, (int64_t)time(NULL), &id), STORE_OK);
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
}
END_TEST

START_TEST(a_feed_section_in_the_config_may_allow_private)
{
	char err[256];
	route("/p", 200, NULL, feed2);
	char text[512];
	snprintf(text, sizeof text, "allow_private = no\n[feed \"%s\"]\nallow_private = yes\n",
	         httpd_url(srv, "/p"));
	config_free(&cfg);
	ck_assert_msg(config_parse(&cfg, text, strlen(text), "test", err, sizeof err) == 0, "%s",
	              err);
	int64_t id = add_feed("/p");
	route("/q", 200, NULL, feed2);
	int64_t other = add_feed("/q");
	int64_t ids[2] = {id, other};
	poll_ids(ids, 2);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(out[i].result,
		                 out[i].feed_id == id ? POLLER_FETCHED : POLLER_FAILED);
}
END_TEST

START_TEST(file_urls_need_allow_file)
{
	char path[600], url[700], err[512];
	snprintf(path, sizeof path, "%s/feed.xml", dir);
	FILE *fp = fopen(path, "w");
	fputs(feed2, fp);
	fclose(fp);
	snprintf(url, sizeof url, "file://%s", path);
	int64_t id = 0;
	struct store_feed_new nf = {.url = url};
	ck_assert_int_eq(store_feed_add(st, &nf, (int64_t)time(NULL), &id), STORE_OK);

	struct poller *p = poller_new(base, st, &cfg, on_outcome, NULL);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_int_eq(poller_start(p, &f, err, sizeof err), -1);
	store_feed_clear(&f);
	poller_free(p);
	feed_get(id, &f);
	ck_assert_ptr_nonnull(strstr(f.last_error, "allow_file"));
	store_feed_clear(&f);

	cfg.allow_file = true;
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_eq(out[0].new_items, 2);
}
END_TEST

/* ---- store failures ---- */

/* Reopens the store with a 10 ms busy timeout and has a second handle hold
 * the write lock (an open batch of feed): the next commit fails busy.
 * Release with store_batch_abort and store_close(*other). */
static struct store_batch *hold_write_lock(int64_t feed, struct store **other)
{
	store_close(st);
	struct store_opts so;
	store_opts_default(&so);
	so.busy_timeout_ms = 10;
	ck_assert_int_eq(store_open(dbpath, &so, &st), STORE_OK);
	struct store_batch *lock = NULL;
	ck_assert_int_eq(store_open(dbpath, NULL, other), STORE_OK);
	ck_assert_int_eq(store_batch_begin(*other, feed, (int64_t)time(NULL), &lock), STORE_OK);
	return lock;
}

START_TEST(a_busy_store_rolls_back_and_keeps_what_was_stored)
{
	route("/f", 200, NULL, feed2);
	int64_t id = add_feed("/f");
	poll1(id);
	ck_assert_uint_eq(events(), 2);

	/* a second writer holds the lock while the next document arrives */
	route("/f", 200, NULL,
	      "<rss version=\"2.0\"><channel><title>Two</title>"
	      "<item><guid>c</guid><title>third</title></item></channel></rss>");
	struct store *other = NULL;
	struct store_batch *lock = hold_write_lock(id, &other);
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FAILED);
	ck_assert(out[0].store_failed);
	ck_assert_msg(strstr(out[0].error, "store:") == out[0].error, "error: %s", out[0].error);
	store_batch_abort(lock);
	store_close(other);

	ck_assert_uint_eq(events(), 2); /* nothing of the failed batch, nothing lost */
	poll1(id);
	ck_assert_int_eq(out[0].result, POLLER_FETCHED);
	ck_assert_uint_eq(out[0].new_items, 1);
	ck_assert_uint_eq(events(), 3);
}
END_TEST

START_TEST(feeds_are_polled_concurrently)
{
	cfg.max_per_host = 3;
	struct httpd_route r = {.path = "/a", .body = feed2, .delay_ms = 300};
	httpd_route(srv, &r);
	r.path = "/b";
	httpd_route(srv, &r);
	r.path = "/c";
	httpd_route(srv, &r);
	int64_t ids[3] = {add_feed("/a"), add_feed("/b"), add_feed("/c")};
	poll_ids(ids, 3);
	ck_assert_int_eq(httpd_peak(srv), 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(out[i].result, POLLER_FETCHED);
}
END_TEST

/*
 * Documents are committed on the store thread; each outcome comes after
 * its commit (its events are readable on the loop's own handle when it is
 * reported, as notify reads them), and outcomes come in seq order.
 */
START_TEST(outcomes_come_after_their_commit_and_in_seq_order)
{
	cfg.max_parallel = 2; /* fewer waiting documents than feeds: the queue limit is hit */
	cfg.max_per_host = 2;
	const char *paths[MAX_OUT] = {"/o0", "/o1", "/o2", "/o3", "/o4", "/o5", "/o6", "/o7"};
	int64_t ids[MAX_OUT];
	for (int i = 0; i < MAX_OUT; i++) {
		char body[512];
		snprintf(body, sizeof body,
		         "<rss version=\"2.0\"><channel><title>O%d</title>"
		         "<item><guid>a%d</guid></item><item><guid>b%d</guid></item>"
		         "</channel></rss>",
		         i, i, i);
		route(paths[i], 200, NULL, body);
		ids[i] = add_feed(paths[i]);
	}
	poll_ids(ids, MAX_OUT);
	int64_t prev = 0;
	for (int i = 0; i < MAX_OUT; i++) {
		ck_assert_int_eq(out[i].result, POLLER_FETCHED);
		ck_assert_int_eq(out[i].last_seq - out[i].first_seq, 1);
		ck_assert_int_gt(out[i].first_seq, prev);
		ck_assert_int_ge(out[i].visible_head, out[i].last_seq); /* committed when reported */
		prev = out[i].last_seq;
	}
	ck_assert_uint_eq(events(), 2 * MAX_OUT);
}
END_TEST

/*
 * A commit that fails on the store thread (the lock held elsewhere) backs
 * that feed off with the error, while the 304s around it are written:
 * nothing stored before is lost and the other feeds go on.
 */
START_TEST(a_failed_commit_on_the_store_thread_backs_off_and_the_others_go_on)
{
	struct httpd_route r = {.path = "/n", .body = feed2, .etag = "\"v1\"",
	                        .headers = "ETag: \"v1\"\n"};
	httpd_route(srv, &r);
	route("/d", 200, NULL, feed2);
	int64_t nid = add_feed("/n"), did = add_feed("/d");
	int64_t ids[2] = {nid, did};
	poll_ids(ids, 2);
	ck_assert_uint_eq(events(), 4);
	route("/d", 200, NULL,
	      "<rss version=\"2.0\"><channel><title>Two</title>"
	      "<item><guid>c</guid><title>third</title></item></channel></rss>");
	struct store *other = NULL;
	struct store_batch *lock = hold_write_lock(nid, &other);
	poll_ids(ids, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(out[i].result, POLLER_FAILED);
		ck_assert(out[i].store_failed);
	}
	store_batch_abort(lock);
	store_close(other);
	ck_assert_uint_eq(events(), 4);

	poll_ids(ids, 2); /* the lock is gone: the 304 and the new item are written */
	for (size_t i = 0; i < 2; i++) {
		bool is_d = out[i].feed_id == did;
		ck_assert_int_eq(out[i].result, (is_d ? POLLER_FETCHED : POLLER_NOT_MODIFIED));
		ck_assert_uint_eq(out[i].new_items, (is_d ? 1 : 0));
	}
	ck_assert_uint_eq(events(), 5);
}
END_TEST

/* ---- feedd poll, the command: the server runs in a thread ---- */

static atomic_int srv_stop; /* written by the test, read by the server thread */

static void srv_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (srv_stop)
		event_base_loopbreak(arg);
}

static void *srv_thread(void *arg)
{
	struct event *t = event_new(base, -1, EV_PERSIST, srv_tick, base);
	struct timeval tv = {0, 20000};
	event_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
	(void)arg;
	return NULL;
}

/* Runs argv (through bash when shell is set) while the server answers. */
static void run_cmd(struct tu_run *r, char *const argv[])
{
	pthread_t th;
	srv_stop = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, srv_thread, NULL), 0);
	tu_run(r, argv, NULL, 0);
	srv_stop = 1;
	pthread_join(th, NULL);
}

static const char *write_config(const char *extra)
{
	static char path[600];
	snprintf(path, sizeof path, "%s/feedd.conf", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "allow_private = yes\n%s", extra ? extra : "");
	fclose(f);
	return path;
}

START_TEST(poll_command_prints_a_summary_and_succeeds_when_feeds_fail)
{
	route("/ok", 200, NULL, feed2);
	route("/missing", 404, NULL, "no");
	add_feed("/ok");
	add_feed("/missing");
	store_close(st);
	st = NULL;
	struct tu_run r;
	char *argv[] = {FEEDD_BIN, "poll", "--db", dbpath, "--config", (char *)write_config(NULL),
	                NULL};
	run_cmd(&r, argv);
	ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.out, "2 feeds polled"), "stdout: %s", r.out);
	ck_assert_msg(strstr(r.out, "1 fetched, 0 not modified, 1 failed; 2 new items, 0 updated"),
	              "stdout: %s", r.out);
	ck_assert_msg(strstr(r.err, "/missing: HTTP 404"), "stderr: %s", r.err);
	tu_run_free(&r);

	/* nothing is due now; --all polls everything again */
	run_cmd(&r, argv);
	ck_assert_msg(strstr(r.out, "0 feeds polled"), "stdout: %s", r.out);
	tu_run_free(&r);
	char *argv_all[] = {FEEDD_BIN, "poll",     "--db",
	                    dbpath,    "--config", (char *)write_config(NULL),
	                    "--all",   NULL};
	run_cmd(&r, argv_all);
	ck_assert_msg(strstr(r.out, "2 feeds polled"), "stdout: %s", r.out);
	ck_assert_int_eq(r.status, 0);
	tu_run_free(&r);
	ck_assert_int_eq(store_open(dbpath, NULL, &st), STORE_OK);
}
END_TEST

START_TEST(poll_command_fails_when_the_store_cannot_be_opened)
{
	struct tu_run r;
	char bad[600];
	snprintf(bad, sizeof bad, "%s/no/such/dir/feedd.db", dir);
	char *argv[] = {FEEDD_BIN, "poll", "--db", bad, NULL};
	tu_run(&r, argv, NULL, 0);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, bad), "stderr: %s", r.err);
	tu_run_free(&r);
}
END_TEST

/* Fills feed id with 200 large items, closes st and scribbles over pages in the middle of the
 * file (the first pages, with the schema and the feeds, stay readable). */
static void corrupt_items(int64_t id)
{
	static char big[3000];
	memset(big, 'x', sizeof big - 1);
	struct store_batch *b = NULL;
	ck_assert_int_eq(store_batch_begin(st, id, 1000, &b), STORE_OK);
	for (int i = 0; i < 200; i++) {
		char guid[32];
		snprintf(guid, sizeof guid, "id-%d", i);
		struct feed_item it = {.id = guid, .content = big, .published = FEED_NO_DATE,
		                       .updated = FEED_NO_DATE};
		ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
	}
	ck_assert_int_eq(store_batch_commit(b, NULL, NULL, NULL, NULL), STORE_OK);
	store_close(st);
	st = NULL;
	int fd = open(dbpath, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	static char junk[4096 * 8];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7 + 3);
	ck_assert_int_eq(pwrite(fd, junk, sizeof junk, 4096 * 40), (ssize_t)sizeof junk);
	close(fd);
}

/*
 * `feedd poll` checks the database on its store thread while the first
 * transfers run: a damaged one fails the run and nothing is written.
 */
START_TEST(poll_command_on_a_damaged_database_fails_and_writes_nothing)
{
	route("/f", 200, NULL, feed2);
	int64_t id = add_feed("/f");
	corrupt_items(id);
	char *argv[] = {FEEDD_BIN, "poll", "--all", "--db", dbpath, "--config",
	                (char *)write_config(NULL), NULL};
	struct tu_run r;
	run_cmd(&r, argv);
	ck_assert_msg(r.status == 1, "status %d, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "corrupt"), "stderr: %s", r.err);
	ck_assert_msg(strstr(r.out, "1 failed"), "stdout: %s", r.out);
	tu_run_free(&r);
	struct store_opts so;
	store_opts_default(&so);
	so.skip_quick_check = true;
	ck_assert_int_eq(store_open(dbpath, &so, &st), STORE_OK);
	struct store_feed f;
	feed_get(id, &f);
	ck_assert_int_eq(f.last_fetch, 0); /* not even the failure was written */
	store_feed_clear(&f);
}
END_TEST

/* With nothing due the check still runs. */
START_TEST(poll_command_with_nothing_due_still_checks_the_database)
{
	int64_t id = add_feed("/f");
	ck_assert_int_eq(store_feed_set_next_poll(st, id, INT64_MAX / 2, "later"), STORE_OK);
	corrupt_items(id);
	char *argv[] = {FEEDD_BIN, "poll", "--db", dbpath, "--config", (char *)write_config(NULL),
	                NULL};
	struct tu_run r;
	run_cmd(&r, argv);
	ck_assert_msg(r.status == 1, "status %d, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "corrupt"), "stderr: %s", r.err);
	tu_run_free(&r);
}
END_TEST

START_TEST(poll_command_refuses_a_bad_config)
{
	struct tu_run r;
	char *argv[] = {FEEDD_BIN, "poll",     "--db",
	                dbpath,    "--config", (char *)write_config("max_body = lots\n"),
	                NULL};
	tu_run(&r, argv, NULL, 0);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "feedd.conf:2"), "stderr: %s", r.err);
	tu_run_free(&r);
}
END_TEST

START_TEST(a_full_disk_fails_one_feed_keeps_the_others_and_exits_nonzero)
{
	/* feed /small fits; /big's batch cannot be written under the file-size limit */
	size_t n = 3000, cap = n * 400 + 200;
	char *big = malloc(cap), *p = big;
	p += sprintf(p, "<rss version=\"2.0\"><channel><title>Big</title>");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p,
		             "<item><guid>g%zu</guid><title>item %zu</title><description>"
		             "%0300zu</description></item>",
		             i, i, i);
	sprintf(p, "</channel></rss>");
	route("/small", 200, NULL, feed2);
	route("/big", 200, NULL,
	      "<rss version=\"2.0\"><channel><title>Big</title>"
	      "<item><guid>old</guid><title>kept</title></item></channel></rss>");
	int64_t small = add_feed("/small"), bigid = add_feed("/big");
	int64_t ids[1] = {bigid};
	poll_ids(ids, 1); /* the old item of /big is stored before the disk fills */
	route("/big", 200, NULL, big);
	store_close(st);
	st = NULL;

	char cmd[2048];
	snprintf(cmd, sizeof cmd,
	         "ulimit -f 600; trap '' XFSZ; exec %s poll --all --db %s --config %s", FEEDD_BIN,
	         dbpath, write_config(NULL));
	char *argv[] = {"/bin/bash", "-c", cmd, NULL};
	struct tu_run r;
	run_cmd(&r, argv);
	ck_assert_msg(r.status == 1, "status %d, stdout: %s stderr: %s", r.status, r.out, r.err);
	ck_assert_msg(strstr(r.err, "store"), "stderr: %s", r.err);
	tu_run_free(&r);

	ck_assert_int_eq(store_open(dbpath, NULL, &st), STORE_OK);
	struct store_feed f;
	feed_get(small, &f);
	ck_assert_int_gt(f.last_success, 0);
	store_feed_clear(&f);
	ck_assert_uint_eq(events(), 3); /* 1 old of /big + 2 of /small; none of the failed batch */
	feed_get(bigid, &f);
	/* the rolled-back feed has its error recorded and is backed off */
	ck_assert_int_eq(f.consecutive_errors, 1);
	ck_assert_msg(strstr(f.last_error, "store: ") == f.last_error, "error %s", f.last_error);
	ck_assert_str_eq(f.next_poll_reason, "backoff after 1 error");
	store_feed_clear(&f);
	free(big);
}
END_TEST

static Suite *poll_suite(void)
{
	Suite *s = suite_create("poll");
	TCase *tc = tcase_create("poll");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, items_are_stored_once);
	tcase_add_test(tc, a_streamed_document_is_stored_whole);
	tcase_add_test(tc, validators_are_stored_and_a_304_refreshes_the_state);
	tcase_add_test(tc, max_age_pushes_the_next_poll_later);
	tcase_add_test(tc, expires_pushes_the_next_poll_later);
	tcase_add_test(tc, rss_ttl_and_sy_update_period_push_the_next_poll_later);
	tcase_add_test(tc, a_short_max_age_does_not_pull_the_next_poll_earlier);
	tcase_add_test(tc, the_schedule_adapts_to_how_often_the_feed_publishes);
	tcase_add_test(tc, retry_after_on_503_sets_the_next_poll);
	tcase_add_test(tc, a_far_future_retry_after_date_is_clamped);
	tcase_add_test(tc, server_errors_back_off_exponentially_with_jitter);
	tcase_add_test(tc, a_timeout_backs_off);
	tcase_add_test(tc, gone_disables_the_feed);
	tcase_add_test(tc, a_permanent_redirect_on_three_polls_rewrites_the_url);
	tcase_add_test(tc, a_temporary_redirect_keeps_the_url);
	tcase_add_test(tc, a_feed_served_as_html_is_parsed_anyway);
	tcase_add_test(tc, an_html_page_becomes_the_feed_error);
	tcase_add_test(tc, a_recovered_document_is_stored_with_its_warning_until_a_clean_one);
	tcase_add_test(tc, a_truncated_document_keeps_its_complete_items_and_the_warning);
	tcase_add_test(tc, an_item_limit_hit_is_the_feed_warning);
	tcase_add_test(tc, the_http_charset_reaches_the_parser);
	tcase_add_test(tc, a_too_big_body_is_recorded);
	tcase_add_test(tc, a_private_address_is_refused_and_recorded);
	tcase_add_test(tc, a_feed_stored_with_allow_private_may_use_loopback);
	tcase_add_test(tc, a_feed_section_in_the_config_may_allow_private);
	tcase_add_test(tc, file_urls_need_allow_file);
	tcase_add_test(tc, a_busy_store_rolls_back_and_keeps_what_was_stored);
	tcase_add_test(tc, feeds_are_polled_concurrently);
	tcase_add_test(tc, outcomes_come_after_their_commit_and_in_seq_order);
	tcase_add_test(tc, a_failed_commit_on_the_store_thread_backs_off_and_the_others_go_on);
	tcase_add_test(tc, poll_command_prints_a_summary_and_succeeds_when_feeds_fail);
	tcase_add_test(tc, poll_command_fails_when_the_store_cannot_be_opened);
	tcase_add_test(tc, poll_command_refuses_a_bad_config);
	tcase_add_test(tc, poll_command_on_a_damaged_database_fails_and_writes_nothing);
	tcase_add_test(tc, poll_command_with_nothing_due_still_checks_the_database);
	tcase_add_test(tc, a_full_disk_fails_one_feed_keeps_the_others_and_exits_nonzero);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	SRunner *sr = srunner_create(poll_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
