/*
 * test_notify.c - the subscriber protocol (daemon/notify.h, DESIGN.md
 * "Events, cursors and the subscriber protocol") against a real store, a
 * real event loop and real UNIX socket clients.
 */
#include <sys/stat.h>

#include <sqlite3.h>

#include "notify_harness.h"
#include "store_int.h" /* the loop connection, for the trace hook of one test */

static struct nh h;

static void setup(void)
{
	nh_start(&h, NULL);
}

static void teardown(void)
{
	nh_stop(&h);
}

/* ---- hello ---- */

START_TEST(hello_carries_proto_epoch_head_and_oldest)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 3);
	struct nh_client *c = nh_connect(&h);
	struct cjson v;
	char head[STORE_CURSOR_MAX], oldest[STORE_CURSOR_MAX];
	nh_event(&h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "hello");
	const struct cjson *proto = cjson_get(&v, "proto");
	ck_assert_ptr_nonnull(proto);
	ck_assert_int_eq(proto->type, CJSON_INT);
	ck_assert_int_eq(proto->u.i, 1);
	ck_assert_str_eq(cjson_get_str(&v, "epoch"), store_epoch(h.store));
	ck_assert_int_eq(strlen(store_epoch(h.store)), 32);
	nh_cursor(&h, 3, head, sizeof head);
	nh_cursor(&h, 1, oldest, sizeof oldest);
	ck_assert_str_eq(cjson_get_str(&v, "head"), head);
	ck_assert_str_eq(cjson_get_str(&v, "oldest"), oldest);
	nh_event_free(&v);
	nh_close(c);
}
END_TEST

START_TEST(hello_of_an_empty_database_has_head_zero)
{
	struct nh_client *c = nh_connect(&h);
	struct cjson v;
	char zero[STORE_CURSOR_MAX];
	nh_cursor(&h, 0, zero, sizeof zero);
	nh_event(&h, c, &v);
	ck_assert_str_eq(cjson_get_str(&v, "head"), zero);
	ck_assert_str_eq(cjson_get_str(&v, "oldest"), zero);
	nh_event_free(&v);
	nh_close(c);
}
END_TEST

/* ---- sub ---- */

START_TEST(sub_after_cursor_replays_later_events_in_order_then_live_then_new_ones)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 5);
	char req[256], cur[STORE_CURSOR_MAX];
	nh_cursor(&h, 2, cur, sizeof cur);
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s\"}", cur);
	struct nh_client *c = nh_sub(&h, req);
	for (int64_t s = 3; s <= 5; s++)
		nh_expect_item(&h, c, s);
	nh_expect_live(&h, c, 5);
	nh_commit(&h, feed, 2);
	nh_expect_item(&h, c, 6);
	nh_expect_item(&h, c, 7);
	nh_close(c);
}
END_TEST

START_TEST(item_event_has_kind_feed_and_the_parse_item_object)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	ck_assert_int_eq(store_feed_set_user(h.store, feed, "My feed", 0, false), STORE_OK);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	nh_commit(&h, feed, 1);
	struct cjson v;
	nh_event(&h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "item");
	ck_assert_str_eq(cjson_get_str(&v, "kind"), "new");
	const struct cjson *f = cjson_get(&v, "feed");
	ck_assert_int_eq(cjson_get(f, "id")->u.i, feed);
	ck_assert_str_eq(cjson_get_str(f, "url"), "https://example.org/a.xml");
	ck_assert_str_eq(cjson_get_str(f, "title"), "My feed");
	const struct cjson *it = cjson_get(&v, "item");
	ck_assert_str_eq(cjson_get_str(it, "id"), "item-1");
	ck_assert_str_eq(cjson_get_str(it, "title"), "Item 1");
	ck_assert_str_eq(cjson_get_str(it, "link"), "https://example.org/1");
	ck_assert_ptr_null(cjson_get(it, "summary")); /* keys with no value are omitted */
	nh_event_free(&v);
	nh_close(c);
}
END_TEST

/* The line the generic JSON writer makes of ev: what notify's own
 * serializer must produce byte for byte (the reference it replaced). */
static char *reference_line(const struct store_event *ev, const char *epoch)
{
	struct buf b = {0};
	struct cjson_w w;
	char cur[STORE_CURSOR_MAX];
	cjson_w_init(&w, &b);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "ev", "item");
	store_cursor_format(cur, sizeof cur, epoch, ev->seq);
	cjson_w_kstr(&w, "cursor", cur);
	cjson_w_kstr(&w, "kind", store_event_kind_name(ev->kind));
	cjson_w_key(&w, "feed");
	cjson_w_obj(&w);
	cjson_w_kint(&w, "id", ev->feed_id);
	cjson_w_kstr(&w, "url", ev->feed_url ? ev->feed_url : "");
	if (ev->feed_title)
		cjson_w_kstr(&w, "title", ev->feed_title);
	cjson_w_obj_end(&w);
	cjson_w_key(&w, "item");
	ck_assert_int_eq(json_item(w.b, ev->item), 0);
	w.want_value = false;
	cjson_w_obj_end(&w);
	ck_assert_int_eq(cjson_w_line(&w), 0);
	ck_assert_int_eq(buf_append(&b, "", 1), 0);
	return b.data;
}

struct ref_lines {
	const char *epoch;
	char *lines[8];
	size_t n;
};

static int collect_reference(void *ud, const struct store_event *ev)
{
	struct ref_lines *r = ud;
	ck_assert_uint_lt(r->n, 8);
	r->lines[r->n++] = reference_line(ev, r->epoch);
	return 0;
}

START_TEST(item_lines_are_byte_for_byte_the_generic_writers_in_replay_and_live)
{
	/* strings that need escaping everywhere the line has one */
	int64_t titled = nh_feed(&h, "https://example.org/a.xml?q=\"x\"&y=\\z");
	int64_t plain = nh_feed(&h, "https://example.org/b.xml");
	ck_assert_int_eq(store_feed_set_user(h.store, titled,
	                                     "Q \"quoted\" \\ tab\t\xc3\xa9 \xe2\x80\xa8 \x01", 0,
	                                     false),
	                 STORE_OK);
	char *cats[] = {"one \"1\"", "two\n"};
	struct feed_enclosure enc = {
	    .url = "https://example.org/a.mp3", .type = "audio/mpeg", .length = 1234};
	struct feed_item it = {.id = "id \"1\"",
	                       .title = "T\\itle \xf0\x9f\x98\x80",
	                       .link = "https://example.org/1",
	                       .author = "A (a@example.org)",
	                       .published = 1652779800,
	                       .updated = 1652779900,
	                       .summary = "<p>s</p>\r\n",
	                       .content = "c\x7f\x1f",
	                       .categories = cats,
	                       .ncategories = 2,
	                       .enclosures = &enc,
	                       .nenclosures = 1};
	struct feed_item bare = {.id = "bare", .published = FEED_NO_DATE, .updated = FEED_NO_DATE};
	struct nh_client *live = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, live, 0);
	/* An event carries its item as stored when it is read: the live
	 * client's lines are compared with a read right after each commit. */
	struct ref_lines now = {.epoch = store_epoch(h.store)};
	int64_t first, last;
	size_t got = 0;
	struct store_batch *b;
	for (int round = 0; round < 3; round++) { /* new, update, another feed's */
		ck_assert_int_eq(
		    store_batch_begin(h.store, round < 2 ? titled : plain, h.now + round, &b),
		    STORE_OK);
		it.summary = round ? "changed" : "<p>s</p>\r\n";
		ck_assert_int_eq(store_batch_item(b, round < 2 ? &it : &bare, NULL), STORE_OK);
		ck_assert_int_eq(store_batch_commit(b, NULL, NULL, &first, &last), STORE_OK);
		ck_assert_int_eq(store_events_after(h.store, first - 1, NULL, 0, 0,
		                                    collect_reference, &now, &got, &last),
		                 STORE_OK);
		notify_committed(h.n, first, last);
	}
	/* and a replay read from the store again (not from the lines cached
	 * for the live client) against a read now */
	notify_forget(h.n);
	struct ref_lines end = {.epoch = store_epoch(h.store)};
	ck_assert_int_eq(
	    store_events_after(h.store, 0, NULL, 0, 0, collect_reference, &end, &got, &last),
	    STORE_OK);
	ck_assert_uint_eq(now.n, 3);
	ck_assert_uint_eq(end.n, 3);
	struct nh_client *replay = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	struct {
		struct nh_client *c;
		struct ref_lines *ref;
	} runs[] = {{live, &now}, {replay, &end}};
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < 3; i++) {
			char *want = runs[k].ref->lines[i], *line = nh_line(&h, runs[k].c);
			want[strlen(want) - 1] = '\0'; /* nh_line gives it without its LF */
			ck_assert_ptr_nonnull(line);
			ck_assert_str_eq(line, want);
			free(line);
			free(want);
		}
	}
	nh_close(live);
	nh_close(replay);
}
END_TEST

START_TEST(an_updated_item_arrives_as_kind_update)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	struct store_batch *b;
	int64_t first, last;
	struct feed_item it = {
	    .id = "x", .title = "one", .published = FEED_NO_DATE, .updated = FEED_NO_DATE};
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(store_batch_begin(h.store, feed, h.now + round, &b), STORE_OK);
		it.title = round ? "two" : "one";
		ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
		ck_assert_int_eq(store_batch_commit(b, NULL, NULL, &first, &last), STORE_OK);
		notify_committed(h.n, first, last);
	}
	struct cjson v;
	nh_event(&h, c, &v);
	ck_assert_str_eq(cjson_get_str(&v, "kind"), "new");
	nh_event_free(&v);
	nh_event(&h, c, &v);
	ck_assert_str_eq(cjson_get_str(&v, "kind"), "update");
	ck_assert_str_eq(cjson_get_str(cjson_get(&v, "item"), "title"), "two");
	nh_event_free(&v);
	nh_close(c);
}
END_TEST

START_TEST(sub_oldest_replays_everything_retained)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 4);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	for (int64_t s = 1; s <= 4; s++)
		nh_expect_item(&h, c, s);
	nh_expect_live(&h, c, 4);
	nh_close(c);
}
END_TEST

START_TEST(sub_without_after_gets_only_new_events)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 3);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 3);
	nh_commit(&h, feed, 2);
	nh_expect_item(&h, c, 4);
	nh_expect_item(&h, c, 5);
	nh_close(c);
}
END_TEST

START_TEST(feed_filter_delivers_only_those_feeds_in_replay_and_live)
{
	int64_t a = nh_feed(&h, "https://example.org/a.xml");
	int64_t b = nh_feed(&h, "https://example.org/b.xml");
	nh_commit(&h, a, 2); /* 1, 2 */
	nh_commit(&h, b, 2); /* 3, 4 */
	nh_commit(&h, a, 1); /* 5 */
	char req[128];
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"oldest\",\"feeds\":[%" PRId64 "]}",
	         b);
	struct nh_client *c = nh_sub(&h, req);
	nh_expect_item(&h, c, 3);
	nh_expect_item(&h, c, 4);
	nh_expect_live(&h, c, 5);
	nh_commit(&h, a, 3); /* 6..8 */
	nh_commit(&h, b, 1); /* 9 */
	nh_expect_item(&h, c, 9);
	nh_close(c);
}
END_TEST

START_TEST(request_id_is_echoed_as_given_string_or_number)
{
	struct nh_client *c = nh_connect(&h);
	struct cjson v;
	nh_hello(&h, c);
	nh_send(c, "{\"op\":\"nope\",\"id\":\"req-1\"}\n");
	nh_event(&h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "error");
	ck_assert_str_eq(cjson_get_str(&v, "id"), "req-1");
	nh_event_free(&v);
	nh_send(c, "{\"op\":\"sub\",\"id\":42}\n");
	nh_event(&h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "live");
	ck_assert_int_eq(cjson_get(&v, "id")->type, CJSON_INT);
	ck_assert_int_eq(cjson_get(&v, "id")->u.i, 42);
	nh_event_free(&v);
	nh_send(c, "{\"op\":\"sub\",\"id\":\"again\"}\n");
	nh_event(&h, c, &v);
	ck_assert_str_eq(cjson_get_str(&v, "code"), "bad_request");
	ck_assert_str_eq(cjson_get_str(&v, "id"), "again");
	nh_event_free(&v);
	nh_close(c);
}
END_TEST

START_TEST(request_id_null_boolean_or_any_number_is_echoed_too)
{
	struct nh_client *c = nh_connect(&h);
	struct cjson v;
	nh_hello(&h, c);
	nh_send(c, "{\"op\":\"nope\",\"id\":true}\n");
	nh_event(&h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "error");
	ck_assert_int_eq(cjson_get(&v, "id")->type, CJSON_BOOL);
	nh_event_free(&v);
	nh_send(c, "{\"op\":\"nope\",\"id\":1.5e3}\n"); /* any JSON number, as written */
	char *line = nh_line(&h, c);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, "\"id\":1.5e3") != NULL, "%s", line);
	free(line);
	nh_send(c, "{\"op\":\"sub\",\"id\":null}\n");
	nh_event(&h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "live");
	ck_assert_ptr_nonnull(cjson_get(&v, "id"));
	ck_assert_int_eq(cjson_get(&v, "id")->type, CJSON_NULL);
	nh_event_free(&v);
	nh_close(c);
}
END_TEST

/* ---- errors ---- */

START_TEST(cursor_of_another_epoch_gets_epoch_mismatch_and_close)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 2);
	struct nh_client *c =
	    nh_sub(&h, "{\"op\":\"sub\",\"after\":\"0123456789abcdef0123456789abcdef:1\"}");
	nh_expect_error(&h, c, "epoch_mismatch");
	nh_expect_eof(&h, c);
	nh_close(c);
}
END_TEST

START_TEST(cursor_beyond_head_gets_cursor_ahead_and_close)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 2);
	char req[256], cur[STORE_CURSOR_MAX];
	nh_cursor(&h, 3, cur, sizeof cur);
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s\"}", cur);
	struct nh_client *c = nh_sub(&h, req);
	nh_expect_error(&h, c, "cursor_ahead");
	nh_expect_eof(&h, c);
	nh_close(c);
}
END_TEST

/* Two fetches of 5 items each, then retention keeps 5 per feed: events 1..5 go. */
static void prune_first_five(void)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 5);
	nh_commit(&h, feed, 5);
	struct store_retention r = {.max_items_per_feed = 5};
	size_t items = 0;
	ck_assert_int_eq(store_prune(h.store, &r, h.now + 100, &items, NULL), STORE_OK);
	ck_assert_int_eq(items, 5);
	int64_t pruned;
	ck_assert_int_eq(store_pruned_upto(h.store, &pruned), STORE_OK);
	ck_assert_int_eq(pruned, 5);
}

START_TEST(cursor_older_than_retention_gets_cursor_expired_and_close)
{
	prune_first_five();
	char req[256], cur[STORE_CURSOR_MAX];
	nh_cursor(&h, 2, cur, sizeof cur);
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s\"}", cur);
	struct nh_client *c = nh_sub(&h, req);
	nh_expect_error(&h, c, "cursor_expired");
	nh_expect_eof(&h, c);
	nh_close(c);
}
END_TEST

/* Retention commits on the store thread: a step may land between notify's
 * look at pruned_upto and its read of the events.  A trace hook on the
 * loop's connection runs such a step (on a handle of its own) just as the
 * read starts, before it takes its snapshot. */
static struct store *race_peer;
static int race_fired;

static int prune_as_the_read_starts(unsigned what, void *ud, void *stmt, void *sql)
{
	(void)ud, (void)stmt;
	if (what != SQLITE_TRACE_STMT || race_fired || strncmp(sql, "SELECT e.seq", 12) != 0)
		return 0;
	race_fired = 1;
	struct store_retention r = {.max_items_per_feed = 5};
	size_t items = 0;
	ck_assert_int_eq(store_prune(race_peer, &r, h.now + 100, &items, NULL), STORE_OK);
	ck_assert_int_eq(items, 5);
	return 0;
}

START_TEST(a_prune_committed_between_check_and_read_still_gets_cursor_expired)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 5);
	nh_commit(&h, feed, 5);
	ck_assert_int_eq(store_open(h.db, NULL, &race_peer), STORE_OK);
	race_fired = 0;
	sqlite3_trace_v2(h.store->db, SQLITE_TRACE_STMT, prune_as_the_read_starts, NULL);
	char req[256], cur[STORE_CURSOR_MAX];
	nh_cursor(&h, 0, cur, sizeof cur);
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s\"}", cur);
	struct nh_client *c = nh_sub(&h, req);
	nh_expect_error(&h, c, "cursor_expired"); /* not items 6..10 with 1..5 missing */
	nh_expect_eof(&h, c);
	ck_assert_int_eq(race_fired, 1);
	sqlite3_trace_v2(h.store->db, 0, NULL, NULL);
	nh_close(c);
	store_close(race_peer);
}
END_TEST

START_TEST(sub_oldest_after_pruning_starts_at_the_first_retained_event)
{
	prune_first_five();
	struct nh_client *c = nh_connect(&h);
	struct cjson v;
	char oldest[STORE_CURSOR_MAX];
	nh_event(&h, c, &v);
	nh_cursor(&h, 6, oldest, sizeof oldest);
	ck_assert_str_eq(cjson_get_str(&v, "oldest"), oldest);
	nh_event_free(&v);
	nh_send(c, "{\"op\":\"sub\",\"after\":\"oldest\"}\n");
	for (int64_t s = 6; s <= 10; s++)
		nh_expect_item(&h, c, s);
	nh_expect_live(&h, c, 10);
	nh_close(c);
}
END_TEST

START_TEST(bad_request_keeps_the_connection_open)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 1);
	struct nh_client *c = nh_connect(&h);
	nh_hello(&h, c);
	nh_send(c, "this is not json\n");
	nh_expect_error(&h, c, "bad_request");
	nh_send(c, "{\"op\":\"sub\",\"after\":\"oldest\"}\n");
	nh_expect_item(&h, c, 1);
	nh_expect_live(&h, c, 1);
	nh_close(c);
}
END_TEST

START_TEST(second_sub_on_a_connection_is_a_bad_request)
{
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	nh_send(c, "{\"op\":\"sub\",\"after\":\"oldest\"}\n");
	nh_expect_error(&h, c, "bad_request");
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 1);
	nh_expect_item(&h, c, 1); /* still subscribed, once */
	nh_close(c);
}
END_TEST

static const char *const bad_lines[] = {
    "not json\n",
    "[1,2]\n",
    "{\"op\":3}\n",
    "{\"after\":\"oldest\"}\n",
    "{\"op\":\"unsubscribe\"}\n",
    "{\"op\":\"sub\",\"after\":5}\n",
    "{\"op\":\"sub\",\"after\":\"nocolon\"}\n",
    "{\"op\":\"sub\",\"after\":\"xyz:12\"}\n",
    "{\"op\":\"sub\",\"feeds\":\"3\"}\n",
    "{\"op\":\"sub\",\"feeds\":[0]}\n",
    "{\"op\":\"sub\",\"feeds\":[\"3\"]}\n",
    "{\"op\":\"sub\",\"feeds\":[]}\n",
    "{\"op\":\"sub\",\"id\":{\"a\":1}}\n",
    "{\"op\":\"sub\"} trailing\n",
    "{\"op\":\"sub\",\"op\":\"sub\"}\n",
    "\x01\x02\xff\xfe binary \x80 junk\n",
    "{\"op\":\"s\xc3\x28\"}\n",
};

START_TEST(each_bad_input_gets_bad_request_while_others_carry_on)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *good = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, good, 0);
	struct nh_client *c = nh_connect(&h);
	nh_hello(&h, c);
	nh_send(c, bad_lines[_i]);
	nh_expect_error(&h, c, "bad_request");
	nh_commit(&h, feed, 1);
	nh_expect_item(&h, good, 1);
	nh_close(c);
	nh_close(good);
}
END_TEST

static int no_connections(struct nh *hh)
{
	return notify_connection_count(hh->n) == 0;
}

START_TEST(half_a_line_then_hang_up_is_dropped_and_others_carry_on)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *good = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, good, 0);
	struct nh_client *c = nh_connect(&h);
	nh_send(c, "{\"op\":\"su");
	nh_spin(&h);
	ck_assert_int_eq(notify_connection_count(h.n), 2);
	nh_close(c);
	nh_commit(&h, feed, 1);
	nh_expect_item(&h, good, 1);
	nh_close(good);
	nh_until(&h, no_connections);
}
END_TEST

START_TEST(subscriber_that_half_closes_keeps_receiving)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	shutdown(c->fd, SHUT_WR); /* like socat or nc at the end of their input */
	nh_expect_live(&h, c, 0);
	nh_commit(&h, feed, 2);
	nh_expect_item(&h, c, 1);
	nh_expect_item(&h, c, 2);
	nh_close(c);
}
END_TEST

START_TEST(requests_split_over_several_writes_are_joined)
{
	struct nh_client *c = nh_connect(&h);
	nh_hello(&h, c);
	nh_send(c, "{\"op\":");
	nh_spin(&h);
	nh_send(c, "\"sub\",\"id\":7}\r\n");
	struct cjson v;
	nh_event(&h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "live");
	ck_assert_int_eq(cjson_get(&v, "id")->u.i, 7);
	nh_event_free(&v);
	nh_close(c);
}
END_TEST

/* ---- delivery ---- */

START_TEST(reconnect_with_cursor_receives_every_later_event_exactly_once)
{
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	nh_commit(&h, feed, 10);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	for (int64_t s = 1; s <= 4; s++)
		nh_expect_item(&h, c, s);
	nh_close(c); /* handled 1..4, the rest may have been queued: lost with the connection */
	nh_commit(&h, feed, 5);
	char req[256], cur[STORE_CURSOR_MAX];
	nh_cursor(&h, 4, cur, sizeof cur);
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s\"}", cur);
	c = nh_sub(&h, req);
	for (int64_t s = 5; s <= 15; s++)
		nh_expect_item(&h, c, s);
	nh_expect_live(&h, c, 15);
	nh_commit(&h, feed, 1);
	nh_expect_item(&h, c, 16);
	nh_close(c);
}
END_TEST

/* Many subscribers at different cursors, commits in batches bigger than
 * replay_batch: each gets exactly its sequence, whichever path served it. */
START_TEST(many_subscribers_at_different_cursors_each_get_every_event_once_in_order)
{
	enum { NC = 6, BATCHES = 8, PER = 300 };
	struct nh_client *c[NC];
	int64_t feed = nh_feed(&h, "https://example.org/a.xml");
	int64_t next[NC];
	nh_commit(&h, feed, PER);
	for (int i = 0; i < NC; i++) {
		char req[256], cur[STORE_CURSOR_MAX];
		next[i] = 1 + i * 50;
		nh_cursor(&h, next[i] - 1, cur, sizeof cur);
		snprintf(req, sizeof req, "{\"op\":\"sub\",\"after\":\"%s\"}", cur);
		c[i] = nh_sub(&h, req);
	}
	for (int b = 0; b < BATCHES; b++) {
		nh_commit(&h, feed, PER);
		for (int i = 0; i < NC; i++) { /* read a little from each, unevenly */
			for (int k = 0; k < 40 * (i + 1); k++) {
				struct cjson v;
				nh_event(&h, c[i], &v);
				if (!strcmp(nh_ev(&v), "item")) {
					char want[STORE_CURSOR_MAX];
					nh_cursor(&h, next[i]++, want, sizeof want);
					ck_assert_str_eq(cjson_get_str(&v, "cursor"), want);
				} else {
					ck_assert_str_eq(nh_ev(&v), "live");
				}
				nh_event_free(&v);
			}
		}
	}
	int64_t head = (BATCHES + 1) * PER;
	for (int i = 0; i < NC; i++) {
		while (next[i] <= head) {
			struct cjson v;
			nh_event(&h, c[i], &v);
			if (!strcmp(nh_ev(&v), "item")) {
				char want[STORE_CURSOR_MAX];
				nh_cursor(&h, next[i]++, want, sizeof want);
				ck_assert_str_eq(cjson_get_str(&v, "cursor"), want);
			}
			nh_event_free(&v);
		}
		nh_close(c[i]);
	}
}
END_TEST

START_TEST(notify_forget_after_removing_a_feed_keeps_its_items_out_of_replay)
{
	int64_t a = nh_feed(&h, "https://example.org/a.xml");
	int64_t b = nh_feed(&h, "https://example.org/b.xml");
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	nh_commit(&h, a, 2);
	nh_commit(&h, b, 2);
	nh_expect_item(&h, c, 1);
	nh_close(c); /* the cache now holds 1..4 */
	ck_assert_int_eq(store_feed_remove(h.store, a), STORE_OK);
	notify_forget(h.n);
	c = nh_sub(&h, "{\"op\":\"sub\",\"after\":\"oldest\"}");
	nh_expect_item(&h, c, 3);
	nh_expect_item(&h, c, 4);
	nh_expect_live(&h, c, 4);
	nh_close(c);
}
END_TEST

/*
 * Whether zero_copy is on or off, lines arrive whole and in order after
 * the blocks they came from were dropped while still unread: with
 * zero_copy their pages sit in the client's pipe and socket by reference,
 * and the memory of later blocks must not be able to change them.
 * Commits of 300 items make blocks big enough to be sealed (16 KiB and
 * more), and a second feed's few items between them make a filtered
 * subscriber's runs short (copied) and an unfiltered one's long.
 */
START_TEST(lines_arrive_whole_after_their_blocks_are_dropped_unread)
{
	struct notify_limits l;
	nh_stop(&h);
	notify_limits_default(&l);
	l.zero_copy = _i == 0;
	nh_start(&h, &l);
	/* where the kernel refuses vmsplice/splice, both runs copy */
	ck_assert(notify_zero_copy(h.n) == (l.zero_copy && nh_kernel_zero_copy()));
	int64_t big = nh_feed(&h, "https://example.org/big.xml");
	int64_t few = nh_feed(&h, "https://example.org/few.xml");
	struct nh_client *all = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, all, 0);
	char req[64];
	snprintf(req, sizeof req, "{\"op\":\"sub\",\"feeds\":[%" PRId64 "]}", few);
	struct nh_client *one = nh_sub(&h, req);
	nh_expect_live(&h, one, 0);
	int64_t feed_of[1 + 2 * 3 * 303];
	int64_t seq = 0;
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < 3; k++) {
			for (int64_t s = nh_commit(&h, big, 300); seq < s;)
				feed_of[++seq] = big;
			for (int64_t s = nh_commit(&h, few, 3); seq < s;)
				feed_of[++seq] = few;
			for (int i = 0; i < 20; i++)
				nh_spin(&h); /* into the pipes and sockets, unread */
		}
		/* drop every block: nothing but the kernel holds their bytes
		 * now; the next round's blocks are new memory */
		notify_forget(h.n);
	}
	ck_assert_int_eq(seq, 2 * 3 * 303);
	struct {
		struct nh_client *c;
		int64_t only;
	} subs[] = {{all, 0}, {one, few}};
	for (size_t k = 0; k < 2; k++) {
		for (int64_t i = 1; i <= seq; i++) {
			if (subs[k].only && feed_of[i] != subs[k].only)
				continue;
			struct cjson v;
			char want[STORE_CURSOR_MAX], id[32];
			nh_event(&h, subs[k].c, &v);
			nh_cursor(&h, i, want, sizeof want);
			ck_assert_str_eq(nh_ev(&v), "item");
			ck_assert_str_eq(cjson_get_str(&v, "cursor"), want);
			snprintf(id, sizeof id, "item-%" PRId64, i);
			ck_assert_str_eq(cjson_get_str(cjson_get(&v, "item"), "id"), id);
			nh_event_free(&v);
		}
		nh_close(subs[k].c);
	}
}
END_TEST

START_TEST(heartbeat_follows_a_quiet_interval)
{
	struct notify_limits l;
	nh_stop(&h);
	notify_limits_default(&l);
	l.heartbeat_ms = 50;
	nh_start(&h, &l);
	struct nh_client *c = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, c, 0);
	struct cjson v;
	nh_event(&h, c, &v);
	ck_assert_str_eq(nh_ev(&v), "hb");
	ck_assert_ptr_nonnull(cjson_get_str(&v, "head"));
	nh_event_free(&v);
	nh_close(c);
}
END_TEST

START_TEST(shutdown_sends_the_shutdown_line_then_closes)
{
	struct nh_client *a = nh_sub(&h, "{\"op\":\"sub\"}");
	nh_expect_live(&h, a, 0);
	struct nh_client *b = nh_connect(&h); /* not subscribed yet */
	notify_shutdown(h.n);
	struct cjson v;
	nh_event(&h, a, &v);
	ck_assert_str_eq(nh_ev(&v), "shutdown");
	nh_event_free(&v);
	nh_expect_eof(&h, a);
	nh_hello(&h, b);
	nh_event(&h, b, &v);
	ck_assert_str_eq(nh_ev(&v), "shutdown");
	nh_event_free(&v);
	nh_expect_eof(&h, b);
	nh_until(&h, no_connections);
	struct stat st;
	ck_assert_int_ne(stat(h.sock, &st), 0); /* the socket file is gone */
	nh_close(a);
	nh_close(b);
}
END_TEST

/* ---- the listening socket ---- */

START_TEST(socket_file_gets_the_configured_mode)
{
	struct stat st;
	ck_assert_int_eq(stat(h.sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0660);
}
END_TEST

START_TEST(a_live_socket_is_not_replaced)
{
	char err[256];
	struct notify *other = notify_new(h.base, h.store, NULL, NULL, NULL);
	ck_assert_int_eq(notify_listen_path(other, h.sock, 0600, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "listening"));
	notify_free(other);
	struct nh_client *c = nh_connect(&h); /* the first server still serves */
	nh_hello(&h, c);
	nh_close(c);
}
END_TEST

START_TEST(a_stale_socket_file_is_replaced)
{
	char err[256], path[4200];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(path, sizeof path, "%s/stale.sock", h.dir);
	nh_sun(&sa, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd); /* bound, never listened, closed: a leftover file */
	struct notify *other = notify_new(h.base, h.store, NULL, NULL, NULL);
	ck_assert_msg(notify_listen_path(other, path, 0600, err, sizeof err) == 0, "%s", err);
	struct nh_client *c = nh_connect_path(path);
	nh_spin(&h);
	char *line = nh_line(&h, c);
	ck_assert_ptr_nonnull(strstr(line, "\"hello\""));
	free(line);
	nh_close(c);
	notify_free(other);
}
END_TEST

START_TEST(a_path_that_is_not_a_socket_is_refused)
{
	char err[256], path[4200];
	snprintf(path, sizeof path, "%s/plain", h.dir);
	FILE *f = fopen(path, "w");
	fputs("data", f);
	fclose(f);
	struct notify *other = notify_new(h.base, h.store, NULL, NULL, NULL);
	ck_assert_int_eq(notify_listen_path(other, path, 0600, err, sizeof err), -1);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0); /* untouched */
	ck_assert(S_ISREG(st.st_mode));
	notify_free(other);
}
END_TEST

START_TEST(an_inherited_socket_is_served_and_never_unlinked_or_chmoded)
{
	char err[256], path[4200];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	snprintf(path, sizeof path, "%s/inherited.sock", h.dir);
	nh_sun(&sa, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(chmod(path, 0666), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	struct notify *other = notify_new(h.base, h.store, NULL, NULL, NULL);
	ck_assert_msg(notify_listen_fd(other, fd, err, sizeof err) == 0, "%s", err);
	struct nh_client *c = nh_connect_path(path);
	char *line = nh_line(&h, c);
	ck_assert_ptr_nonnull(strstr(line, "\"hello\""));
	free(line);
	nh_close(c);
	notify_shutdown(other);
	notify_free(other);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0666);
}
END_TEST

START_TEST(a_descriptor_that_is_not_a_listening_socket_is_refused)
{
	char err[256];
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct notify *other = notify_new(h.base, h.store, NULL, NULL, NULL);
	ck_assert_int_eq(notify_listen_fd(other, sv[0], err, sizeof err), -1);
	notify_free(other);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hello_carries_proto_epoch_head_and_oldest);
	tcase_add_test(tc, hello_of_an_empty_database_has_head_zero);
	tcase_add_test(tc, sub_after_cursor_replays_later_events_in_order_then_live_then_new_ones);
	tcase_add_test(tc, item_event_has_kind_feed_and_the_parse_item_object);
	tcase_add_test(tc, item_lines_are_byte_for_byte_the_generic_writers_in_replay_and_live);
	tcase_add_test(tc, an_updated_item_arrives_as_kind_update);
	tcase_add_test(tc, sub_oldest_replays_everything_retained);
	tcase_add_test(tc, sub_without_after_gets_only_new_events);
	tcase_add_test(tc, feed_filter_delivers_only_those_feeds_in_replay_and_live);
	tcase_add_test(tc, request_id_is_echoed_as_given_string_or_number);
	tcase_add_test(tc, request_id_null_boolean_or_any_number_is_echoed_too);
	tcase_add_test(tc, cursor_of_another_epoch_gets_epoch_mismatch_and_close);
	tcase_add_test(tc, cursor_beyond_head_gets_cursor_ahead_and_close);
	tcase_add_test(tc, cursor_older_than_retention_gets_cursor_expired_and_close);
	tcase_add_test(tc, sub_oldest_after_pruning_starts_at_the_first_retained_event);
	tcase_add_test(tc, a_prune_committed_between_check_and_read_still_gets_cursor_expired);
	tcase_add_test(tc, bad_request_keeps_the_connection_open);
	tcase_add_test(tc, second_sub_on_a_connection_is_a_bad_request);
	tcase_add_loop_test(tc, each_bad_input_gets_bad_request_while_others_carry_on, 0,
	                    (int)(sizeof bad_lines / sizeof bad_lines[0]));
	tcase_add_test(tc, half_a_line_then_hang_up_is_dropped_and_others_carry_on);
	tcase_add_test(tc, subscriber_that_half_closes_keeps_receiving);
	tcase_add_test(tc, requests_split_over_several_writes_are_joined);
	tcase_add_test(tc, reconnect_with_cursor_receives_every_later_event_exactly_once);
	tcase_add_test(tc,
	               many_subscribers_at_different_cursors_each_get_every_event_once_in_order);
	tcase_add_test(tc, notify_forget_after_removing_a_feed_keeps_its_items_out_of_replay);
	tcase_add_loop_test(tc, lines_arrive_whole_after_their_blocks_are_dropped_unread, 0, 2);
	tcase_add_test(tc, heartbeat_follows_a_quiet_interval);
	tcase_add_test(tc, shutdown_sends_the_shutdown_line_then_closes);
	tcase_add_test(tc, socket_file_gets_the_configured_mode);
	tcase_add_test(tc, a_live_socket_is_not_replaced);
	tcase_add_test(tc, a_stale_socket_file_is_replaced);
	tcase_add_test(tc, a_path_that_is_not_a_socket_is_refused);
	tcase_add_test(tc, an_inherited_socket_is_served_and_never_unlinked_or_chmoded);
	tcase_add_test(tc, a_descriptor_that_is_not_a_listening_socket_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(notify_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
