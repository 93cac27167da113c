/*
 * test_store.c - the SQLite store: schema and epoch, dedup, updates, the
 * event log and cursors, retention, failed batches, feed state.
 * Real database files in a temporary directory; no mocks.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "testutil.h"

static char *dir;
static char dbpath[4200];

static void setup(void)
{
	dir = tu_tmpdir();
	snprintf(dbpath, sizeof dbpath, "%s/feedd.db", dir);
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

static struct store *open_ok(void)
{
	struct store *s = NULL;
	enum store_err e = store_open(dbpath, NULL, &s);
	ck_assert_msg(e == STORE_OK, "store_open: %s", store_errmsg(s));
	return s;
}

static int64_t add_feed(struct store *s, const char *url)
{
	struct store_feed_new nf = {.url = url};
	int64_t id = 0;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, &id), STORE_OK);
	ck_assert_int_gt(id, 0);
	return id;
}

static struct feed_item item(const char *id, const char *title, const char *link)
{
	struct feed_item it = {0};
	it.id = (char *)id;
	it.title = (char *)title;
	it.link = (char *)link;
	it.published = FEED_NO_DATE;
	it.updated = FEED_NO_DATE;
	return it;
}

/* Stores the items as one document of feed at time now; returns the results. */
static void store_doc(struct store *s, int64_t feed, int64_t now, const struct feed_item *items,
		      size_t n, enum store_item_result *res)
{
	struct store_batch *b = NULL;
	ck_assert_int_eq(store_batch_begin(s, feed, now, &b), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		enum store_item_result r;
		enum store_err e = store_batch_item(b, &items[i], &r);
		ck_assert_msg(e == STORE_OK, "store_batch_item: %s", store_errmsg(s));
		if (res)
			res[i] = r;
	}
	enum store_err e = store_batch_commit(b, NULL, NULL, NULL, NULL);
	ck_assert_msg(e == STORE_OK, "commit: %s", store_errmsg(s));
}

static enum store_item_result store_one(struct store *s, int64_t feed, int64_t now,
					const struct feed_item *it)
{
	enum store_item_result r;
	store_doc(s, feed, now, it, 1, &r);
	return r;
}

static int64_t head(struct store *s)
{
	int64_t h = -1;
	ck_assert_int_eq(store_head(s, &h), STORE_OK);
	return h;
}

/* Collects events as "seq kind feed title" lines. */
struct collect {
	char text[8192];
	size_t n;
	int64_t seqs[256];
	int stop_after;
};

static int collect_fn(void *ud, const struct store_event *ev)
{
	struct collect *c = ud;
	size_t len = strlen(c->text);
	snprintf(c->text + len, sizeof c->text - len, "%lld %s %lld %s\n", (long long)ev->seq,
		 store_event_kind_name(ev->kind), (long long)ev->feed_id,
		 ev->item->title ? ev->item->title : "-");
	if (c->n < 256)
		c->seqs[c->n] = ev->seq;
	c->n++;
	return c->stop_after && (int)c->n >= c->stop_after;
}

static struct stat st_of(const char *p)
{
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	return st;
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
}

static int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* ---------------------------------------------------------------- open, schema, epoch */

START_TEST(open_creates_schema_and_epoch)
{
	struct store *s = open_ok();
	const char *ep = store_epoch(s);
	ck_assert_uint_eq(strlen(ep), STORE_EPOCH_LEN);
	ck_assert_uint_eq(strspn(ep, "0123456789abcdef"), STORE_EPOCH_LEN);
	ck_assert_int_eq(head(s), 0);
	store_close(s);
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"), store_schema_version());
	ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM sqlite_schema WHERE name IN "
					 "('feeds','items','events','meta')"),
			 4);
}
END_TEST

START_TEST(open_uses_wal)
{
	struct store *s = open_ok();
	store_close(s);
	sqlite3 *db;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

START_TEST(reopen_keeps_epoch)
{
	struct store *s = open_ok();
	char ep[STORE_EPOCH_LEN + 1];
	strcpy(ep, store_epoch(s));
	store_close(s);
	s = open_ok();
	ck_assert_str_eq(store_epoch(s), ep);
	store_close(s);
}
END_TEST

START_TEST(two_databases_get_different_epochs)
{
	struct store *s = open_ok();
	char ep[STORE_EPOCH_LEN + 1];
	strcpy(ep, store_epoch(s));
	store_close(s);
	strcat(dbpath, "2");
	s = open_ok();
	ck_assert_str_ne(store_epoch(s), ep);
	store_close(s);
}
END_TEST

START_TEST(migrates_from_version_0)
{
	/* A database someone created with nothing of ours in it: version 0. */
	sql_exec(dbpath, "CREATE TABLE unrelated(x); INSERT INTO unrelated VALUES (1);");
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"), 0);
	struct store *s = open_ok();
	int64_t id = add_feed(s, "https://example.org/feed");
	store_close(s);
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"), store_schema_version());
	ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM feeds"), 1);
	ck_assert_int_eq(sql_int(dbpath, "SELECT x FROM unrelated"), 1);
	ck_assert_int_eq(id, 1);
}
END_TEST

/*
 * Version 1 stored FNV-1a content hashes; version 2 rewrites them with the
 * new hash, so the same document seen again after the upgrade changes
 * nothing, and a changed one is still an update.
 */
START_TEST(migration_2_rehashes_so_known_items_stay_unchanged)
{
	struct store *s = open_ok();
	int64_t feed = add_feed(s, "https://example.org/feed");
	struct feed_item items[3] = {item("a", "A", NULL), item("b", NULL, "https://e/b"),
				     item("c", "C", NULL)};
	items[0].summary = "sum";
	items[0].content = "<p>content of some length, more than eight bytes</p>";
	items[2].updated = 1650000000;
	store_doc(s, feed, 1000, items, 3, NULL);
	store_close(s);
	/* what a version-1 database looks like: other hashes, no items_recent */
	sql_exec(dbpath, "UPDATE items SET hash = 12345; DROP INDEX items_recent;"
			 " PRAGMA user_version = 1;");
	s = open_ok();
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA user_version"), 2);
	ck_assert_int_eq(sql_int(dbpath, "SELECT count(*) FROM sqlite_schema"
					 " WHERE name = 'items_recent'"),
			 1);
	enum store_item_result res[3];
	store_doc(s, feed, 2000, items, 3, res);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(res[i], STORE_ITEM_UNCHANGED);
	items[2].updated = 1650000001;
	ck_assert_int_eq(store_one(s, feed, 3000, &items[2]), STORE_ITEM_UPDATED);
	store_close(s);
}
END_TEST

/* Bytes moved from one field to the next make another hash. */
START_TEST(the_content_hash_tells_fields_apart)
{
	struct store *s = open_ok();
	int64_t feed = add_feed(s, "https://example.org/feed");
	struct feed_item it = item("a", "ab", NULL);
	it.summary = "c";
	ck_assert_int_eq(store_one(s, feed, 1000, &it), STORE_ITEM_NEW);
	it.title = "a";
	it.summary = "bc";
	ck_assert_int_eq(store_one(s, feed, 2000, &it), STORE_ITEM_UPDATED);
	it.summary = NULL;
	it.content = "bc";
	ck_assert_int_eq(store_one(s, feed, 3000, &it), STORE_ITEM_UPDATED);
	store_close(s);
}
END_TEST

/* New databases get 16 KiB pages; an existing one keeps its own. */
START_TEST(a_new_database_has_16_kib_pages_an_old_one_keeps_its_size)
{
	store_close(open_ok());
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA page_size"), 16384);
	strcat(dbpath, "2");
	sql_exec(dbpath, "PRAGMA page_size = 4096; CREATE TABLE unrelated(x);");
	store_close(open_ok());
	ck_assert_int_eq(sql_int(dbpath, "PRAGMA page_size"), 4096);
}
END_TEST

START_TEST(newer_schema_is_refused)
{
	sql_exec(dbpath, "PRAGMA user_version = 9999");
	struct store *s = NULL;
	ck_assert_int_eq(store_open(dbpath, NULL, &s), STORE_ERR_SCHEMA);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(store_errmsg(s), "9999"));
	store_close(s);
}
END_TEST

START_TEST(corrupted_file_is_a_clear_error)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	static char big[3000];
	memset(big, 'x', sizeof big - 1);
	for (int i = 0; i < 200; i++) {
		char id[32];
		snprintf(id, sizeof id, "id-%d", i);
		struct feed_item it = item(id, "t", NULL);
		it.content = big;
		store_one(s, f, 2000 + i, &it);
	}
	store_close(s);
	/* Scribble over pages in the middle of the file (keep the header page). */
	int fd = open(dbpath, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	off_t size = st_of(dbpath).st_size;
	ck_assert_int_gt(size, 200 * 4096);
	static char junk[4096 * 8];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7 + 3);
	ck_assert_int_eq(pwrite(fd, junk, sizeof junk, 4096 * 40), (ssize_t)sizeof junk);
	close(fd);
	s = NULL;
	ck_assert_int_eq(store_open(dbpath, NULL, &s), STORE_ERR_CORRUPT);
	ck_assert_msg(strstr(store_errmsg(s), "corrupt"), "message: %s", store_errmsg(s));
	ck_assert_ptr_null(strchr(store_errmsg(s), '\n'));
	ck_assert_ptr_nonnull(strstr(store_errmsg(s), dbpath));
	store_close(s);
}
END_TEST

START_TEST(not_a_database_is_a_clear_error)
{
	FILE *fp = fopen(dbpath, "w");
	for (int i = 0; i < 500; i++)
		fputs("this is not a database at all\n", fp);
	fclose(fp);
	struct store *s = NULL;
	ck_assert_int_eq(store_open(dbpath, NULL, &s), STORE_ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(store_errmsg(s), dbpath));
	store_close(s);
}
END_TEST

START_TEST(unopenable_path_is_an_error)
{
	char p[4300];
	snprintf(p, sizeof p, "%s/missing-dir/x.db", dir);
	struct store *s = NULL;
	ck_assert_int_ne(store_open(p, NULL, &s), STORE_OK);
	ck_assert_ptr_nonnull(strstr(store_errmsg(s), p));
	store_close(s);
}
END_TEST

/* ---------------------------------------------------------------- dedup */

START_TEST(dedup_by_id)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item a = item("urn:1", "Title", "https://example.org/a");
	struct feed_item b = item("urn:1", "Title", "https://example.org/other-link");
	ck_assert_int_eq(store_one(s, f, 2000, &a), STORE_ITEM_NEW);
	ck_assert_int_eq(store_one(s, f, 3000, &b), STORE_ITEM_UNCHANGED);
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.items, 1);
	store_close(s);
}
END_TEST

START_TEST(dedup_by_link_when_id_empty)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item a = item(NULL, "Title", "https://example.org/a");
	struct feed_item b = item("", "Title", "https://example.org/a");
	struct feed_item c = item(NULL, "Title", "https://example.org/c");
	ck_assert_int_eq(store_one(s, f, 2000, &a), STORE_ITEM_NEW);
	ck_assert_int_eq(store_one(s, f, 3000, &b), STORE_ITEM_UNCHANGED);
	ck_assert_int_eq(store_one(s, f, 3000, &c), STORE_ITEM_NEW);
	store_close(s);
}
END_TEST

START_TEST(dedup_by_hash_without_id_and_link)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item a = item(NULL, "Title", NULL);
	a.summary = "Summary";
	a.published = 1600000000;
	struct feed_item same = a;
	struct feed_item other_date = a;
	other_date.published = 1600000001;
	ck_assert_int_eq(store_one(s, f, 2000, &a), STORE_ITEM_NEW);
	ck_assert_int_eq(store_one(s, f, 3000, &same), STORE_ITEM_UNCHANGED);
	ck_assert_int_eq(store_one(s, f, 3000, &other_date), STORE_ITEM_NEW);
	store_close(s);
}
END_TEST

START_TEST(hash_key_is_stable)
{
	/* The key must not change across versions and machines: pinned value
	 * (FNV-1a 64 of "Title\0" "1600000000\0" "Summary", computed independently). */
	struct feed_item a = item(NULL, "Title", NULL);
	a.summary = "Summary";
	a.published = 1600000000;
	char *k = store_item_key(&a);
	ck_assert_str_eq(k, "fnv1a64:86dce22f55673690");
	free(k);
	ck_assert_uint_eq(store_fnv1a64(STORE_FNV_OFFSET, "a", 1), 0xaf63dc4c8601ec8cULL);
}
END_TEST

START_TEST(key_prefers_id_then_link)
{
	struct feed_item a = item("urn:x", "T", "https://l");
	char *k = store_item_key(&a);
	ck_assert_str_eq(k, "urn:x");
	free(k);
	a.id = "";
	k = store_item_key(&a);
	ck_assert_str_eq(k, "https://l");
	free(k);
}
END_TEST

START_TEST(same_guid_in_two_feeds_is_two_items)
{
	struct store *s = open_ok();
	int64_t f1 = add_feed(s, "https://example.org/one");
	int64_t f2 = add_feed(s, "https://example.org/two");
	struct feed_item a = item("shared-guid", "Title", NULL);
	ck_assert_int_eq(store_one(s, f1, 2000, &a), STORE_ITEM_NEW);
	ck_assert_int_eq(store_one(s, f2, 2000, &a), STORE_ITEM_NEW);
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.items, 2);
	ck_assert_int_eq(st.events, 2);
	store_close(s);
}
END_TEST

START_TEST(duplicate_key_in_one_document_is_stored_once)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item two[2] = {item("dup", "First", NULL), item("dup", "Second", NULL)};
	enum store_item_result r[2];
	store_doc(s, f, 2000, two, 2, r);
	ck_assert_int_eq(r[0], STORE_ITEM_NEW);
	ck_assert_int_eq(r[1], STORE_ITEM_UNCHANGED);
	ck_assert_int_eq(head(s), 1);
	/* And the next fetch of the same document changes nothing. */
	store_doc(s, f, 3000, two, 2, r);
	ck_assert_int_eq(r[0], STORE_ITEM_UNCHANGED);
	ck_assert_int_eq(r[1], STORE_ITEM_UNCHANGED);
	ck_assert_int_eq(head(s), 1);
	store_close(s);
}
END_TEST

/* ---------------------------------------------------------------- updates */

static void check_update(void (*change)(struct feed_item *))
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item a = item("urn:1", "Title", "https://example.org/a");
	a.summary = "Summary";
	a.content = "<p>Content</p>";
	a.updated = 1600000000;
	ck_assert_int_eq(store_one(s, f, 2000, &a), STORE_ITEM_NEW);
	struct feed_item b = a;
	change(&b);
	ck_assert_int_eq(store_one(s, f, 3000, &b), STORE_ITEM_UPDATED);
	ck_assert_int_eq(head(s), 2);
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 1, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_ptr_nonnull(strstr(c.text, "2 update 1 "));
	/* Seen again unchanged: nothing. */
	ck_assert_int_eq(store_one(s, f, 4000, &b), STORE_ITEM_UNCHANGED);
	ck_assert_int_eq(head(s), 2);
	store_close(s);
}

static void change_title(struct feed_item *it)
{
	it->title = "New title";
}
static void change_summary(struct feed_item *it)
{
	it->summary = "New summary";
}
static void change_content(struct feed_item *it)
{
	it->content = "<p>New content</p>";
}
static void change_updated(struct feed_item *it)
{
	it->updated = 1600000060;
}
static void drop_summary(struct feed_item *it)
{
	it->summary = NULL;
}

START_TEST(update_on_changed_title)
{
	check_update(change_title);
}
END_TEST

START_TEST(update_on_changed_summary)
{
	check_update(change_summary);
}
END_TEST

START_TEST(update_on_changed_content)
{
	check_update(change_content);
}
END_TEST

START_TEST(update_on_changed_updated_date)
{
	check_update(change_updated);
}
END_TEST

START_TEST(update_on_removed_summary)
{
	check_update(drop_summary);
}
END_TEST

START_TEST(unchanged_item_writes_no_event)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item a = item("urn:1", "Title", "https://example.org/a");
	a.summary = "S";
	ck_assert_int_eq(store_one(s, f, 2000, &a), STORE_ITEM_NEW);
	ck_assert_int_eq(store_one(s, f, 3000, &a), STORE_ITEM_UNCHANGED);
	ck_assert_int_eq(store_one(s, f, 4000, &a), STORE_ITEM_UNCHANGED);
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.events, 1);
	ck_assert_int_eq(st.head, 1);
	store_close(s);
}
END_TEST

START_TEST(update_event_carries_the_stored_item)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item a = item("urn:1", "Old", NULL);
	store_one(s, f, 2000, &a);
	a.title = "New";
	store_one(s, f, 3000, &a);
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "1 new 1 New\n2 update 1 New\n");
	store_close(s);
}
END_TEST

/* ---------------------------------------------------------------- the event log */

static int check_fields_fn(void *ud, const struct store_event *ev)
{
	int *calls = ud;
	const struct feed_item *it = ev->item;
	ck_assert_int_eq(ev->seq, 1);
	ck_assert_int_eq(ev->kind, STORE_EV_NEW);
	ck_assert_int_eq(ev->time, 2000);
	ck_assert_str_eq(ev->feed_url, "https://example.org/feed");
	ck_assert_str_eq(ev->feed_title, "My title");
	ck_assert_str_eq(it->id, "urn:1");
	ck_assert_str_eq(it->title, "T \"quoted\" \\ é");
	ck_assert_str_eq(it->link, "https://example.org/a");
	ck_assert_str_eq(it->author, "Ann (ann@example.org)");
	ck_assert_int_eq(it->published, 1600000000);
	ck_assert_int_eq(it->updated, FEED_NO_DATE);
	ck_assert_str_eq(it->summary, "sum");
	ck_assert_ptr_null(it->content);
	ck_assert_uint_eq(it->ncategories, 3);
	ck_assert_str_eq(it->categories[0], "a\"b");
	ck_assert_str_eq(it->categories[1], "line\nbreak\t\x01");
	ck_assert_str_eq(it->categories[2], "ü \xe2\x80\xa8");
	ck_assert_uint_eq(it->nenclosures, 2);
	ck_assert_str_eq(it->enclosures[0].url, "https://example.org/a.mp3");
	ck_assert_str_eq(it->enclosures[0].type, "audio/mpeg");
	ck_assert_int_eq(it->enclosures[0].length, 12345678901LL);
	ck_assert_str_eq(it->enclosures[1].url, "https://example.org/b");
	ck_assert_ptr_null(it->enclosures[1].type);
	ck_assert_int_eq(it->enclosures[1].length, -1);
	(*calls)++;
	return 0;
}

START_TEST(events_deliver_every_field)
{
	struct store *s = open_ok();
	struct store_feed_new nf = {.url = "https://example.org/feed", .user_title = "My title"};
	int64_t f;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, &f), STORE_OK);
	char *cats[] = {"a\"b", "line\nbreak\t\x01", "ü \xe2\x80\xa8"};
	struct feed_enclosure enc[] = {
		{.url = "https://example.org/a.mp3", .type = "audio/mpeg", .length = 12345678901LL},
		{.url = "https://example.org/b", .type = NULL, .length = -1},
	};
	struct feed_item a = item("urn:1", "T \"quoted\" \\ é", "https://example.org/a");
	a.author = "Ann (ann@example.org)";
	a.published = 1600000000;
	a.summary = "sum";
	a.categories = cats;
	a.ncategories = 3;
	a.enclosures = enc;
	a.nenclosures = 2;
	store_one(s, f, 2000, &a);
	int calls = 0;
	size_t delivered = 0;
	int64_t last = 0;
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, check_fields_fn, &calls, &delivered,
					    &last),
			 STORE_OK);
	ck_assert_int_eq(calls, 1);
	ck_assert_uint_eq(delivered, 1);
	ck_assert_int_eq(last, 1);
	store_close(s);
}
END_TEST

START_TEST(seq_strictly_increases)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	int64_t prev = 0;
	for (int i = 0; i < 20; i++) {
		char id[16];
		snprintf(id, sizeof id, "%d", i);
		struct feed_item it = item(id, "t", NULL);
		struct store_batch *b;
		int64_t first = 0, last = 0;
		ck_assert_int_eq(store_batch_begin(s, f, 2000 + i, &b), STORE_OK);
		ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
		ck_assert_int_eq(store_batch_commit(b, NULL, NULL, &first, &last), STORE_OK);
		ck_assert_int_eq(first, last);
		ck_assert_int_gt(first, prev);
		prev = first;
	}
	ck_assert_int_eq(head(s), prev);
	store_close(s);
}
END_TEST

START_TEST(commit_reports_seq_range)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item items[3] = {item("a", "A", NULL), item("b", "B", NULL),
				     item("c", "C", NULL)};
	struct store_batch *b;
	int64_t first = -1, last = -1;
	ck_assert_int_eq(store_batch_begin(s, f, 2000, &b), STORE_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_batch_item(b, &items[i], NULL), STORE_OK);
	ck_assert_uint_eq(store_batch_count(b, STORE_ITEM_NEW), 3);
	ck_assert_int_eq(store_batch_commit(b, NULL, NULL, &first, &last), STORE_OK);
	ck_assert_int_eq(first, 1);
	ck_assert_int_eq(last, 3);
	/* An unchanged document reports no range. */
	ck_assert_int_eq(store_batch_begin(s, f, 3000, &b), STORE_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_batch_item(b, &items[i], NULL), STORE_OK);
	ck_assert_int_eq(store_batch_commit(b, NULL, NULL, &first, &last), STORE_OK);
	ck_assert_int_eq(first, 0);
	ck_assert_int_eq(last, 0);
	store_close(s);
}
END_TEST

START_TEST(seq_is_never_reused_after_delete)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct feed_item items[3] = {item("a", "A", NULL), item("b", "B", NULL),
				     item("c", "C", NULL)};
	store_doc(s, f, 2000, items, 3, NULL);
	ck_assert_int_eq(head(s), 3);
	ck_assert_int_eq(store_feed_remove(s, f), STORE_OK);
	ck_assert_int_eq(head(s), 3);
	store_close(s);
	s = open_ok();
	f = add_feed(s, "https://example.org/feed");
	int64_t first, last;
	struct store_batch *b;
	ck_assert_int_eq(store_batch_begin(s, f, 3000, &b), STORE_OK);
	ck_assert_int_eq(store_batch_item(b, &items[0], NULL), STORE_OK);
	ck_assert_int_eq(store_batch_commit(b, NULL, NULL, &first, &last), STORE_OK);
	ck_assert_int_eq(first, 4);
	store_close(s);
}
END_TEST

static void three_feeds(struct store *s, int64_t f[3])
{
	f[0] = add_feed(s, "https://example.org/one");
	f[1] = add_feed(s, "https://example.org/two");
	f[2] = add_feed(s, "https://example.org/three");
	for (int round = 0; round < 2; round++)
		for (int k = 0; k < 3; k++) {
			char id[16], title[16];
			snprintf(id, sizeof id, "i%d", round);
			snprintf(title, sizeof title, "f%d-%d", k, round);
			struct feed_item it = item(id, title, NULL);
			store_one(s, f[k], 2000 + round * 10 + k, &it);
		}
}

START_TEST(events_after_in_seq_order)
{
	struct store *s = open_ok();
	int64_t f[3];
	three_feeds(s, f);
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "1 new 1 f0-0\n2 new 2 f1-0\n3 new 3 f2-0\n"
				 "4 new 1 f0-1\n5 new 2 f1-1\n6 new 3 f2-1\n");
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(store_events_after(s, 4, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "5 new 2 f1-1\n6 new 3 f2-1\n");
	store_close(s);
}
END_TEST

START_TEST(events_after_with_feed_filter)
{
	struct store *s = open_ok();
	int64_t f[3];
	three_feeds(s, f);
	struct collect c = {0};
	int64_t want[2] = {f[0], f[2]};
	ck_assert_int_eq(store_events_after(s, 1, want, 2, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "3 new 3 f2-0\n4 new 1 f0-1\n6 new 3 f2-1\n");
	store_close(s);
}
END_TEST

START_TEST(events_after_with_limit)
{
	struct store *s = open_ok();
	int64_t f[3];
	three_feeds(s, f);
	struct collect c = {0};
	size_t n = 0;
	int64_t last = 0;
	ck_assert_int_eq(store_events_after(s, 2, NULL, 0, 2, collect_fn, &c, &n, &last),
			 STORE_OK);
	ck_assert_str_eq(c.text, "3 new 3 f2-0\n4 new 1 f0-1\n");
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(last, 4);
	int64_t one = f[1];
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(store_events_after(s, 0, &one, 1, 1, collect_fn, &c, &n, &last),
			 STORE_OK);
	ck_assert_str_eq(c.text, "2 new 2 f1-0\n");
	store_close(s);
}
END_TEST

START_TEST(events_callback_can_stop)
{
	struct store *s = open_ok();
	int64_t f[3];
	three_feeds(s, f);
	struct collect c = {.stop_after = 2};
	size_t n = 0;
	int64_t last = 0;
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, &n, &last),
			 STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(last, 2);
	store_close(s);
}
END_TEST

START_TEST(events_after_head_delivers_nothing)
{
	struct store *s = open_ok();
	int64_t f[3];
	three_feeds(s, f);
	struct collect c = {0};
	size_t n = 99;
	int64_t last = 0;
	ck_assert_int_eq(store_events_after(s, 6, NULL, 0, 0, collect_fn, &c, &n, &last),
			 STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(last, 6);
	store_close(s);
}
END_TEST

START_TEST(events_are_refused_while_a_batch_is_open)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/feed");
	struct store_batch *b;
	ck_assert_int_eq(store_batch_begin(s, f, 2000, &b), STORE_OK);
	struct feed_item it = item("x", "x", NULL);
	ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_ERR_INVALID);
	ck_assert_uint_eq(c.n, 0);
	store_batch_abort(b);
	store_close(s);
}
END_TEST

START_TEST(events_without_callback_are_refused)
{
	struct store *s = open_ok();
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, NULL, NULL, NULL, NULL),
			 STORE_ERR_INVALID);
	ck_assert_int_eq(store_feeds_list(s, NULL, NULL), STORE_ERR_INVALID);
	store_close(s);
}
END_TEST

struct reenter {
	struct store *s;
	enum store_err inner;
	int calls;
};

static int reenter_fn(void *ud, const struct store_event *ev)
{
	struct reenter *r = ud;
	struct collect c = {0};
	r->inner = store_events_after(r->s, ev->seq, NULL, 0, 0, collect_fn, &c, NULL, NULL);
	r->calls++;
	return 0;
}

START_TEST(events_after_from_its_own_callback_is_refused)
{
	struct store *s = open_ok();
	int64_t f[3];
	three_feeds(s, f);
	struct reenter r = {.s = s, .inner = STORE_OK};
	size_t n = 0;
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 2, reenter_fn, &r, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(r.calls, 2);
	ck_assert_int_eq(r.inner, STORE_ERR_INVALID);
	/* Other calls from the callback work, and the handle is fine afterwards. */
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 6);
	store_close(s);
}
END_TEST

START_TEST(removed_feed_takes_its_items_and_events)
{
	struct store *s = open_ok();
	int64_t f[3];
	three_feeds(s, f);
	ck_assert_int_eq(store_feed_remove(s, f[1]), STORE_OK);
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "1 new 1 f0-0\n3 new 3 f2-0\n4 new 1 f0-1\n6 new 3 f2-1\n");
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.items, 4);
	ck_assert_int_eq(st.events, 4);
	ck_assert_int_eq(st.pruned_upto, 0);
	/* A cursor in the middle stays valid. */
	struct store_cursor cur = {.seq = 2};
	strcpy(cur.epoch, store_epoch(s));
	enum store_cursor_state cs;
	ck_assert_int_eq(store_cursor_check(s, &cur, &cs), STORE_OK);
	ck_assert_int_eq(cs, STORE_CURSOR_OK);
	store_close(s);
}
END_TEST

/* ---------------------------------------------------------------- cursors */

START_TEST(cursor_parse_and_format_round_trip)
{
	struct store_cursor c;
	ck_assert(store_cursor_parse("5f0c00aa:9120", &c));
	ck_assert_str_eq(c.epoch, "5f0c00aa");
	ck_assert_int_eq(c.seq, 9120);
	char buf[STORE_CURSOR_MAX];
	const char *ep = "0123456789abcdef0123456789abcdef";
	size_t n = store_cursor_format(buf, sizeof buf, ep, 9223372036854775807LL);
	ck_assert_str_eq(buf, "0123456789abcdef0123456789abcdef:9223372036854775807");
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert(store_cursor_parse(buf, &c));
	ck_assert_str_eq(c.epoch, ep);
	ck_assert_int_eq(c.seq, 9223372036854775807LL);
	ck_assert(store_cursor_parse("ABCDEF:0", &c));
	ck_assert_str_eq(c.epoch, "abcdef");
}
END_TEST

START_TEST(cursor_parse_rejects_malformed)
{
	static const char *bad[] = {
		"", ":", "abc", "abc:", ":12", "xyz:12", "abc:-1", "abc:+1", "abc:1x",
		"abc:12 ", " abc:12", "abc:9223372036854775808", "abc:1:2",
		"0123456789abcdef0123456789abcdef0", /* no seq */
		"0123456789abcdef0123456789abcdef0:1", /* epoch too long */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct store_cursor c;
		ck_assert_msg(!store_cursor_parse(bad[i], &c), "accepted '%s'", bad[i]);
	}
	ck_assert(!store_cursor_parse(NULL, NULL));
}
END_TEST

static enum store_cursor_state classify(struct store *s, const char *epoch, int64_t seq)
{
	struct store_cursor c = {.seq = seq};
	snprintf(c.epoch, sizeof c.epoch, "%s", epoch);
	enum store_cursor_state st = 99;
	ck_assert_int_eq(store_cursor_check(s, &c, &st), STORE_OK);
	return st;
}

START_TEST(cursor_classify_each_case)
{
	struct store *s = open_ok();
	int64_t f[3];
	three_feeds(s, f);
	const char *ep = store_epoch(s);
	ck_assert_int_eq(classify(s, ep, 0), STORE_CURSOR_OK);
	ck_assert_int_eq(classify(s, ep, 6), STORE_CURSOR_OK);
	ck_assert_int_eq(classify(s, ep, 7), STORE_CURSOR_AHEAD);
	ck_assert_int_eq(classify(s, "00000000000000000000000000000000", 3),
			 STORE_CURSOR_EPOCH_MISMATCH);
	ck_assert_str_eq(store_cursor_state_name(STORE_CURSOR_EXPIRED), "cursor_expired");
	ck_assert_str_eq(store_cursor_state_name(STORE_CURSOR_AHEAD), "cursor_ahead");
	ck_assert_str_eq(store_cursor_state_name(STORE_CURSOR_EPOCH_MISMATCH), "epoch_mismatch");
	store_close(s);
}
END_TEST

/* ---------------------------------------------------------------- retention */

/* Feed with items "0".."n-1" first seen in that order, each doc holding only one item. */
static int64_t feed_with_items(struct store *s, const char *url, int n, int64_t t0)
{
	int64_t f = add_feed(s, url);
	for (int i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof id, "%d", i);
		struct feed_item it = item(id, id, NULL);
		store_one(s, f, t0 + i, &it);
	}
	return f;
}

START_TEST(retention_by_count_keeps_newest)
{
	struct store *s = open_ok();
	int64_t f = feed_with_items(s, "https://example.org/a", 10, 2000);
	int64_t g = feed_with_items(s, "https://example.org/b", 3, 3000);
	struct store_retention r = {.max_items_per_feed = 4};
	size_t items = 0, events = 0;
	ck_assert_int_eq(store_prune(s, &r, 5000, &items, &events), STORE_OK);
	ck_assert_uint_eq(items, 6);
	ck_assert_uint_eq(events, 6);
	struct collect c = {0};
	int64_t only = f;
	ck_assert_int_eq(store_events_after(s, 0, &only, 1, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "7 new 1 6\n8 new 1 7\n9 new 1 8\n10 new 1 9\n");
	(void)g;
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.items, 7);
	store_close(s);
}
END_TEST

START_TEST(retention_keeps_items_of_the_latest_fetch)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/a");
	/* One document with 5 items: all present in the latest fetch. */
	struct feed_item items[5] = {item("a", "a", NULL), item("b", "b", NULL),
				     item("c", "c", NULL), item("d", "d", NULL),
				     item("e", "e", NULL)};
	store_doc(s, f, 2000, items, 5, NULL);
	struct store_retention r = {.max_items_per_feed = 2, .max_age_days = 1};
	size_t n = 99;
	ck_assert_int_eq(store_prune(s, &r, 2000 + 86400 * 30, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 0);
	/* The next document holds only d and e: a, b, c may go now. */
	store_doc(s, f, 3000, items + 3, 2, NULL);
	ck_assert_int_eq(store_prune(s, &r, 3000, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 3);
	store_close(s);
}
END_TEST

/* An item seen again unchanged counts as in the latest document, however
 * old: retention by count must not take it (its last_seen moved on). */
START_TEST(retention_keeps_an_old_item_seen_again_unchanged)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/a");
	struct feed_item items[3] = {item("a", "a", NULL), item("b", "b", NULL),
				     item("c", "c", NULL)};
	store_doc(s, f, 1000, items, 3, NULL);
	enum store_item_result r = store_one(s, f, 2000, &items[0]); /* only a, the oldest */
	ck_assert_int_eq(r, STORE_ITEM_UNCHANGED);
	struct store_retention ret = {.max_items_per_feed = 1};
	size_t n = 0;
	ck_assert_int_eq(store_prune(s, &ret, 2000, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 1); /* b: neither the newest nor in the latest document */
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "1 new 1 a\n3 new 1 c\n");
	store_close(s);
}
END_TEST

START_TEST(retention_by_age)
{
	struct store *s = open_ok();
	int64_t day = 86400;
	int64_t f = add_feed(s, "https://example.org/a");
	struct feed_item old = item("old", "old", NULL);
	struct feed_item mid = item("mid", "mid", NULL);
	struct feed_item cur = item("cur", "cur", NULL);
	store_one(s, f, 1 * day, &old);
	store_one(s, f, 5 * day, &mid);
	store_one(s, f, 9 * day, &cur);
	struct store_retention r = {.max_age_days = 3};
	size_t n = 0;
	/* At day 10: "old" last seen 9 days ago and "mid" 5 days ago go. */
	ck_assert_int_eq(store_prune(s, &r, 10 * day, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 2);
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "3 new 1 cur\n");
	store_close(s);
}
END_TEST

START_TEST(retention_by_age_also_drops_old_events)
{
	struct store *s = open_ok();
	int64_t day = 86400;
	int64_t f = add_feed(s, "https://example.org/a");
	struct feed_item a = item("a", "v1", NULL);
	store_one(s, f, 1 * day, &a);
	a.title = "v2";
	store_one(s, f, 8 * day, &a);
	struct store_retention r = {.max_age_days = 3};
	size_t items = 9, events = 0;
	ck_assert_int_eq(store_prune(s, &r, 9 * day, &items, &events), STORE_OK);
	ck_assert_uint_eq(items, 0);
	ck_assert_uint_eq(events, 1);
	int64_t oldest = 0, pu = 0;
	ck_assert_int_eq(store_oldest(s, &oldest), STORE_OK);
	ck_assert_int_eq(store_pruned_upto(s, &pu), STORE_OK);
	ck_assert_int_eq(oldest, 2);
	ck_assert_int_eq(pu, 1);
	store_close(s);
}
END_TEST

START_TEST(pruned_cursor_is_expired)
{
	struct store *s = open_ok();
	int64_t f = feed_with_items(s, "https://example.org/a", 10, 2000);
	(void)f;
	struct store_retention r = {.max_items_per_feed = 4};
	ck_assert_int_eq(store_prune(s, &r, 5000, NULL, NULL), STORE_OK);
	int64_t pu = 0, oldest = 0;
	ck_assert_int_eq(store_pruned_upto(s, &pu), STORE_OK);
	ck_assert_int_eq(pu, 6);
	ck_assert_int_eq(store_oldest(s, &oldest), STORE_OK);
	ck_assert_int_eq(oldest, 7);
	const char *ep = store_epoch(s);
	ck_assert_int_eq(classify(s, ep, 0), STORE_CURSOR_EXPIRED);
	ck_assert_int_eq(classify(s, ep, 5), STORE_CURSOR_EXPIRED);
	ck_assert_int_eq(classify(s, ep, 6), STORE_CURSOR_OK);
	ck_assert_int_eq(classify(s, ep, 10), STORE_CURSOR_OK);
	ck_assert_int_eq(classify(s, ep, 11), STORE_CURSOR_AHEAD);
	store_close(s);
	/* pruned_upto survives a restart. */
	s = open_ok();
	ck_assert_int_eq(classify(s, store_epoch(s), 5), STORE_CURSOR_EXPIRED);
	store_close(s);
}
END_TEST

START_TEST(retention_default_is_bounded)
{
	struct store_retention r = {0};
	store_retention_default(&r);
	ck_assert_uint_eq(r.max_items_per_feed, 1000);
	ck_assert_int_eq(r.max_age_days, 180);
	struct store *s = open_ok();
	feed_with_items(s, "https://example.org/a", 3, 2000);
	size_t n = 9;
	ck_assert_int_eq(store_prune(s, &r, 2000 + 181 * 86400, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 2); /* the item of the latest fetch stays */
	store_close(s);
}
END_TEST

START_TEST(retention_zero_means_unlimited)
{
	struct store *s = open_ok();
	feed_with_items(s, "https://example.org/a", 10, 2000);
	struct store_retention r = {0};
	size_t n = 9;
	ck_assert_int_eq(store_prune(s, &r, 2000 + 86400 * 1000, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 0);
	/* Absurd values are unlimited too, not an overflow. */
	r.max_items_per_feed = SIZE_MAX;
	r.max_age_days = INT64_MAX;
	ck_assert_int_eq(store_prune(s, &r, 2000 + 86400 * 1000, &n, NULL), STORE_OK);
	ck_assert_uint_eq(n, 0);
	store_close(s);
}
END_TEST

/* ---------------------------------------------------------------- failures */

START_TEST(aborted_batch_leaves_earlier_data)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/a");
	struct feed_item a = item("a", "a", NULL);
	store_one(s, f, 2000, &a);
	struct store_batch *b;
	ck_assert_int_eq(store_batch_begin(s, f, 3000, &b), STORE_OK);
	struct feed_item x = item("x", "x", NULL);
	a.title = "changed";
	ck_assert_int_eq(store_batch_item(b, &x, NULL), STORE_OK);
	ck_assert_int_eq(store_batch_item(b, &a, NULL), STORE_OK);
	store_batch_abort(b);
	ck_assert_int_eq(head(s), 1);
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "1 new 1 a\n");
	store_close(s);
}
END_TEST

START_TEST(second_batch_on_a_handle_is_refused)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/a");
	struct store_batch *b, *b2 = (void *)1;
	ck_assert_int_eq(store_batch_begin(s, f, 2000, &b), STORE_OK);
	ck_assert_int_eq(store_batch_begin(s, f, 2000, &b2), STORE_ERR_INVALID);
	ck_assert_ptr_null(b2);
	store_batch_abort(b);
	store_close(s);
}
END_TEST

START_TEST(batch_for_unknown_feed_is_refused)
{
	struct store *s = open_ok();
	struct store_batch *b = (void *)1;
	ck_assert_int_eq(store_batch_begin(s, 42, 2000, &b), STORE_ERR_NOT_FOUND);
	ck_assert_ptr_null(b);
	store_close(s);
}
END_TEST

START_TEST(busy_writer_times_out_with_busy)
{
	struct store *s1 = open_ok();
	int64_t f = add_feed(s1, "https://example.org/a");
	struct store_opts o;
	store_opts_default(&o);
	ck_assert_int_eq(o.busy_timeout_ms, 5000);
	o.busy_timeout_ms = 50;
	struct store *s2 = NULL;
	ck_assert_int_eq(store_open(dbpath, &o, &s2), STORE_OK);
	struct store_batch *b1, *b2 = (void *)1;
	ck_assert_int_eq(store_batch_begin(s1, f, 2000, &b1), STORE_OK);
	ck_assert_int_eq(store_batch_begin(s2, f, 2000, &b2), STORE_ERR_BUSY);
	ck_assert_ptr_null(b2);
	ck_assert_ptr_nonnull(strstr(store_errmsg(s2), "locked"));
	store_batch_abort(b1);
	/* Free again: works. */
	ck_assert_int_eq(store_batch_begin(s2, f, 2000, &b2), STORE_OK);
	store_batch_abort(b2);
	store_close(s2);
	store_close(s1);
}
END_TEST

/*
 * A full disk, without privileges: the child limits its file size
 * (RLIMIT_FSIZE) and ignores SIGXFSZ, so writing past the limit fails with
 * EFBIG, which SQLite reports as an I/O error at COMMIT.  Exit code: 0 when
 * the batch failed with IO or FULL and the handle still worked afterwards.
 */
static int fill_disk_child(int64_t feed)
{
	struct store *s = NULL;
	if (store_open(dbpath, NULL, &s) != STORE_OK)
		return 10;
	signal(SIGXFSZ, SIG_IGN);
	struct stat st = st_of(dbpath);
	struct rlimit rl = {.rlim_cur = (rlim_t)st.st_size + 8192,
			    .rlim_max = (rlim_t)st.st_size + 8192};
	char walpath[4300];
	snprintf(walpath, sizeof walpath, "%s-wal", dbpath);
	struct stat wst;
	if (stat(walpath, &wst) == 0 && (rlim_t)wst.st_size + 8192 > rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max = (rlim_t)wst.st_size + 8192;
	if (setrlimit(RLIMIT_FSIZE, &rl))
		return 11;
	static char big[20000];
	memset(big, 'y', sizeof big - 1);
	struct store_batch *b;
	if (store_batch_begin(s, feed, 3000, &b) != STORE_OK)
		return 12;
	enum store_err e = STORE_OK;
	for (int i = 0; i < 50 && e == STORE_OK; i++) {
		char id[16];
		snprintf(id, sizeof id, "big%d", i);
		struct feed_item it = item(id, "big", NULL);
		it.content = big;
		e = store_batch_item(b, &it, NULL);
	}
	if (e == STORE_OK) {
		e = store_batch_commit(b, NULL, NULL, NULL, NULL);
	} else {
		store_batch_abort(b);
	}
	if (e != STORE_ERR_IO && e != STORE_ERR_FULL)
		return 13;
	if (!*store_errmsg(s))
		return 14;
	/* The handle still answers reads. */
	int64_t h;
	if (store_head(s, &h) != STORE_OK || h != 1)
		return 15;
	store_close(s);
	return 0;
}

START_TEST(failed_commit_on_full_disk_keeps_earlier_data)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/a");
	struct feed_item a = item("a", "a", NULL);
	store_one(s, f, 2000, &a);
	store_close(s);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fill_disk_child(f));
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	s = open_ok(); /* quick_check passes */
	ck_assert_int_eq(head(s), 1);
	struct collect c = {0};
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, NULL, NULL),
			 STORE_OK);
	ck_assert_str_eq(c.text, "1 new 1 a\n");
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.items, 1);
	/* And the store takes new items again. */
	struct feed_item b = item("b", "b", NULL);
	ck_assert_int_eq(store_one(s, f, 4000, &b), STORE_ITEM_NEW);
	ck_assert_int_ge(head(s), 2);
	store_close(s);
}
END_TEST

/*
 * The writer is killed (SIGKILL) between batches and in the middle of
 * them; every seq it announced after a COMMIT returned must be there
 * afterwards, and the file must pass quick_check.
 */
static void announcing_writer(int fd, int64_t feed)
{
	struct store *s = NULL;
	if (store_open(dbpath, NULL, &s) != STORE_OK)
		_exit(20);
	for (int n = 0;; n++) {
		struct store_batch *b;
		if (store_batch_begin(s, feed, 2000 + n, &b) != STORE_OK)
			_exit(21);
		for (int i = 0; i < 5; i++) {
			char id[32];
			snprintf(id, sizeof id, "b%d-i%d", n, i);
			struct feed_item it = item(id, id, NULL);
			if (store_batch_item(b, &it, NULL) != STORE_OK)
				_exit(22);
		}
		int64_t seq[2];
		if (store_batch_commit(b, NULL, NULL, &seq[0], &seq[1]) != STORE_OK)
			_exit(23);
		if (write(fd, seq, sizeof seq) != (ssize_t)sizeof seq)
			_exit(24);
	}
}

START_TEST(announced_seqs_survive_a_killed_writer)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://example.org/a");
	store_close(s);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		announcing_writer(p[1], f);
	}
	close(p[1]);
	int64_t seq[2], last = 0;
	int announced = 0;
	while (announced < 40 && read(p[0], seq, sizeof seq) == (ssize_t)sizeof seq) {
		ck_assert_int_gt(seq[0], last);
		ck_assert_int_eq(seq[1], seq[0] + 4);
		last = seq[1];
		announced++;
	}
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFSIGNALED(status), "writer exited by itself: %d", status);
	/* What it wrote after our last read was announced too (the pipe has room). */
	while (read(p[0], seq, sizeof seq) == (ssize_t)sizeof seq)
		last = seq[1];
	close(p[0]);
	ck_assert_int_eq(announced, 40);
	s = open_ok(); /* quick_check passes */
	ck_assert_int_ge(head(s), last);
	struct collect c = {0};
	size_t n = 0;
	int64_t got = 0;
	ck_assert_int_eq(store_events_after(s, last - 5, NULL, 0, 0, collect_fn, &c, &n, &got),
			 STORE_OK);
	ck_assert_int_ge(n, 5);
	ck_assert_int_eq(c.seqs[4], last);
	/* Every seq up to the last announced one exists: no holes in this log. */
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(store_events_after(s, 0, NULL, 0, 0, collect_fn, &c, &n, &got), STORE_OK);
	ck_assert_int_ge((int64_t)c.n, last);
	store_close(s);
}
END_TEST

/* ---------------------------------------------------------------- feeds */

START_TEST(feed_add_get_and_defaults)
{
	struct store *s = open_ok();
	struct store_feed_new nf = {.url = "https://example.org/feed",
				    .user_title = "Mine",
				    .interval = 1800,
				    .allow_private = true,
				    .next_poll = 1234};
	int64_t id;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, &id), STORE_OK);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_int_eq(f.id, id);
	ck_assert_str_eq(f.url, "https://example.org/feed");
	ck_assert_str_eq(f.user_title, "Mine");
	ck_assert_ptr_null(f.title);
	ck_assert_ptr_null(f.etag);
	ck_assert_int_eq(f.interval, 1800);
	ck_assert(f.allow_private);
	ck_assert_int_eq(f.next_poll, 1234);
	ck_assert_int_eq(f.created, 1000);
	ck_assert_int_eq(f.last_fetch, 0);
	ck_assert(!f.disabled);
	ck_assert_str_eq(store_feed_display_title(&f), "Mine");
	store_feed_clear(&f);
	ck_assert_int_eq(store_feed_get_url(s, "https://example.org/feed", &f), STORE_OK);
	ck_assert_int_eq(f.id, id);
	store_feed_clear(&f);
	ck_assert_int_eq(store_feed_get(s, id + 1, &f), STORE_ERR_NOT_FOUND);
	ck_assert_int_eq(store_feed_get_url(s, "https://nope", &f), STORE_ERR_NOT_FOUND);
	store_close(s);
}
END_TEST

START_TEST(feed_duplicate_url_is_an_error)
{
	struct store *s = open_ok();
	int64_t id = add_feed(s, "https://example.org/feed");
	struct store_feed_new nf = {.url = "https://example.org/feed"};
	int64_t id2 = 0;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, &id2), STORE_ERR_EXISTS);
	ck_assert_int_eq(id2, id);
	ck_assert_ptr_nonnull(strstr(store_errmsg(s), "https://example.org/feed"));
	ck_assert_ptr_nonnull(strstr(store_errmsg(s), "already"));
	store_close(s);
}
END_TEST

START_TEST(feed_empty_url_is_invalid)
{
	struct store *s = open_ok();
	struct store_feed_new nf = {.url = ""};
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, NULL), STORE_ERR_INVALID);
	nf.url = NULL;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, NULL), STORE_ERR_INVALID);
	store_close(s);
}
END_TEST

static int list_fn(void *ud, const struct store_feed *f)
{
	char *out = ud;
	strcat(out, f->url);
	strcat(out, "\n");
	return 0;
}

START_TEST(feed_list_and_remove)
{
	struct store *s = open_ok();
	int64_t a = add_feed(s, "https://a");
	add_feed(s, "https://b");
	add_feed(s, "https://c");
	char out[256] = "";
	ck_assert_int_eq(store_feeds_list(s, list_fn, out), STORE_OK);
	ck_assert_str_eq(out, "https://a\nhttps://b\nhttps://c\n");
	ck_assert_int_eq(store_feed_remove(s, a), STORE_OK);
	ck_assert_int_eq(store_feed_remove_url(s, "https://c"), STORE_OK);
	ck_assert_int_eq(store_feed_remove(s, a), STORE_ERR_NOT_FOUND);
	ck_assert_int_eq(store_feed_remove_url(s, "https://c"), STORE_ERR_NOT_FOUND);
	out[0] = 0;
	ck_assert_int_eq(store_feeds_list(s, list_fn, out), STORE_OK);
	ck_assert_str_eq(out, "https://b\n");
	store_close(s);
}
END_TEST

START_TEST(feed_ids_are_never_reused)
{
	/* A subscriber filtering by feed id must never get another feed under that id. */
	struct store *s = open_ok();
	add_feed(s, "https://a");
	int64_t b = add_feed(s, "https://b");
	ck_assert_int_eq(store_feed_remove(s, b), STORE_OK);
	int64_t c = add_feed(s, "https://c");
	ck_assert_int_gt(c, b);
	store_close(s);
	/* also across a reopen */
	s = open_ok();
	ck_assert_int_eq(store_feed_remove(s, c), STORE_OK);
	ck_assert_int_gt(add_feed(s, "https://d"), c);
	store_close(s);
}
END_TEST

START_TEST(feeds_due_excludes_future_and_disabled)
{
	struct store *s = open_ok();
	struct store_feed_new nf = {0};
	nf.url = "https://later";
	nf.next_poll = 5000;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, NULL), STORE_OK);
	nf.url = "https://soon";
	nf.next_poll = 2000;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, NULL), STORE_OK);
	nf.url = "https://now";
	nf.next_poll = 0;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, NULL), STORE_OK);
	int64_t off;
	nf.url = "https://off";
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, &off), STORE_OK);
	ck_assert_int_eq(store_feed_set_disabled(s, off, true, "by hand"), STORE_OK);
	char out[256] = "";
	ck_assert_int_eq(store_feeds_due(s, 3000, 0, list_fn, out), STORE_OK);
	ck_assert_str_eq(out, "https://now\nhttps://soon\n");
	out[0] = 0;
	ck_assert_int_eq(store_feeds_due(s, 3000, 1, list_fn, out), STORE_OK);
	ck_assert_str_eq(out, "https://now\n");
	int64_t t;
	bool found;
	ck_assert_int_eq(store_next_due(s, &t, &found), STORE_OK);
	ck_assert(found);
	ck_assert_int_eq(t, 0);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, off, &f), STORE_OK);
	ck_assert(f.disabled);
	ck_assert_str_eq(f.disabled_reason, "by hand");
	store_feed_clear(&f);
	store_close(s);
}
END_TEST

START_TEST(validators_are_stored_byte_for_byte)
{
	struct store *s = open_ok();
	int64_t id = add_feed(s, "https://example.org/feed");
	const char *etag = "W/\"abc \\\" \xff\xfe\"  ";
	const char *lm = "Tue, 15 Nov 1994 08:12:31 GMT  \t";
	struct store_fetch_update u = {.fetched_at = 2000,
				       .http_status = 200,
				       .ok = true,
				       .set_validators = true,
				       .etag = etag,
				       .last_modified = lm,
				       .next_poll = 5600,
				       .next_poll_reason = "interval"};
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, NULL), STORE_OK);
	store_close(s);
	s = open_ok();
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_mem_eq(f.etag, etag, strlen(etag) + 1);
	ck_assert_mem_eq(f.last_modified, lm, strlen(lm) + 1);
	ck_assert_int_eq(f.last_status, 200);
	ck_assert_int_eq(f.last_fetch, 2000);
	ck_assert_int_eq(f.last_success, 2000);
	ck_assert_int_eq(f.next_poll, 5600);
	ck_assert_str_eq(f.next_poll_reason, "interval");
	store_feed_clear(&f);
	/* A 304 without validators keeps them. */
	u.http_status = 304;
	u.set_validators = false;
	u.etag = u.last_modified = NULL;
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_mem_eq(f.etag, etag, strlen(etag) + 1);
	ck_assert_int_eq(f.last_status, 304);
	store_feed_clear(&f);
	/* New validators replace, NULL clears. */
	u.set_validators = true;
	u.etag = "\"v2\"";
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_str_eq(f.etag, "\"v2\"");
	ck_assert_ptr_null(f.last_modified);
	store_feed_clear(&f);
	store_close(s);
}
END_TEST

/* Several feeds' states in one transaction; a feed that is gone fails alone. */
START_TEST(fetch_states_of_several_feeds_are_written_together)
{
	struct store *s = open_ok();
	int64_t a = add_feed(s, "https://example.org/a"), b = add_feed(s, "https://example.org/b");
	struct store_fetch_update ok = {.fetched_at = 2000,
					.http_status = 304,
					.ok = true,
					.next_poll = 5600,
					.next_poll_reason = "interval"};
	struct store_fetch_update bad = {.fetched_at = 2000,
					 .http_status = 503,
					 .error = "HTTP 503",
					 .next_poll = 2600,
					 .next_poll_reason = "backoff"};
	struct store_fetch_state v[3] = {{.id = a, .u = &ok}, {.id = 999, .u = &ok}, {.id = b, .u = &bad}};
	ck_assert_int_eq(store_feed_update_fetch_many(s, v, 3), STORE_OK);
	ck_assert_int_eq(v[0].err, STORE_OK);
	ck_assert_int_eq(v[1].err, STORE_ERR_NOT_FOUND);
	ck_assert_int_eq(v[2].err, STORE_OK);
	ck_assert_int_eq(v[2].errors, 1);
	store_close(s);
	s = open_ok();
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, a, &f), STORE_OK);
	ck_assert_int_eq(f.last_status, 304);
	ck_assert_int_eq(f.next_poll, 5600);
	store_feed_clear(&f);
	ck_assert_int_eq(store_feed_get(s, b, &f), STORE_OK);
	ck_assert_int_eq(f.consecutive_errors, 1);
	ck_assert_str_eq(f.last_error, "HTTP 503");
	store_feed_clear(&f);
	store_close(s);
}
END_TEST

/* When the lock cannot be had, none of them is written and the error comes back. */
START_TEST(fetch_states_of_several_feeds_are_all_or_nothing)
{
	struct store *s = NULL, *other = open_ok();
	struct store_opts so;
	store_opts_default(&so);
	so.busy_timeout_ms = 10;
	int64_t a = add_feed(other, "https://example.org/a");
	ck_assert_int_eq(store_open(dbpath, &so, &s), STORE_OK);
	struct store_batch *lock = NULL;
	ck_assert_int_eq(store_batch_begin(other, a, 1000, &lock), STORE_OK);
	struct store_fetch_update ok = {.fetched_at = 2000, .http_status = 304, .ok = true};
	struct store_fetch_state v[2] = {{.id = a, .u = &ok}, {.id = a, .u = &ok}};
	ck_assert_int_eq(store_feed_update_fetch_many(s, v, 2), STORE_ERR_BUSY);
	store_batch_abort(lock);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, a, &f), STORE_OK);
	ck_assert_int_eq(f.last_status, 0);
	store_feed_clear(&f);
	ck_assert_int_eq(store_feed_update_fetch_many(s, v, 2), STORE_OK);
	store_close(s);
	store_close(other);
}
END_TEST

/* A peer handle opens while another writer holds the lock, and sees what the first commits. */
START_TEST(a_peer_handle_opens_without_the_write_lock_and_shares_the_data)
{
	struct store *s = open_ok(), *other = open_ok(), *peer = NULL;
	int64_t a = add_feed(s, "https://example.org/a");
	struct store_batch *lock = NULL;
	ck_assert_int_eq(store_batch_begin(other, a, 1000, &lock), STORE_OK);
	ck_assert_int_eq(store_open_peer(s, &peer), STORE_OK);
	ck_assert_str_eq(store_epoch(peer), store_epoch(s));
	store_batch_abort(lock);
	int64_t b = add_feed(peer, "https://example.org/b");
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, b, &f), STORE_OK);
	store_feed_clear(&f);
	store_close(peer);
	store_close(other);
	store_close(s);
}
END_TEST

START_TEST(fetch_errors_count_up_and_reset)
{
	struct store *s = open_ok();
	int64_t id = add_feed(s, "https://example.org/feed");
	struct store_fetch_update u = {.fetched_at = 2000,
				       .http_status = 503,
				       .error = "HTTP 503",
				       .next_poll = 2600,
				       .next_poll_reason = "backoff"};
	int errors = 0;
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, &errors, NULL), STORE_OK);
	ck_assert_int_eq(errors, 1);
	u.http_status = 0;
	u.error = "timeout";
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, &errors, NULL), STORE_OK);
	ck_assert_int_eq(errors, 2);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_int_eq(f.consecutive_errors, 2);
	ck_assert_str_eq(f.last_error, "timeout");
	ck_assert_int_eq(f.last_success, 0);
	ck_assert_int_eq(f.last_status, 0);
	ck_assert_str_eq(f.next_poll_reason, "backoff");
	store_feed_clear(&f);
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.feeds_failing, 1);
	u.ok = true;
	u.http_status = 200;
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, &errors, NULL), STORE_OK);
	ck_assert_int_eq(errors, 0);
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_ptr_null(f.last_error);
	store_feed_clear(&f);
	ck_assert_int_eq(store_feed_update_fetch(s, id + 7, &u, &errors, NULL),
			 STORE_ERR_NOT_FOUND);
	store_close(s);
}
END_TEST

START_TEST(gone_disables_the_feed)
{
	struct store *s = open_ok();
	int64_t id = add_feed(s, "https://example.org/feed");
	struct store_fetch_update u = {.fetched_at = 2000,
				       .http_status = 410,
				       .error = "HTTP 410 Gone",
				       .disable = true,
				       .disabled_reason = "410 Gone"};
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, NULL), STORE_OK);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert(f.disabled);
	ck_assert_str_eq(f.disabled_reason, "410 Gone");
	store_feed_clear(&f);
	char out[64] = "";
	ck_assert_int_eq(store_feeds_due(s, 999999, 0, list_fn, out), STORE_OK);
	ck_assert_str_eq(out, "");
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.feeds_disabled, 1);
	ck_assert_int_eq(st.feeds_failing, 0);
	ck_assert_int_eq(store_feed_set_disabled(s, id, false, NULL), STORE_OK);
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert(!f.disabled);
	ck_assert_ptr_null(f.disabled_reason);
	store_feed_clear(&f);
	store_close(s);
}
END_TEST

START_TEST(permanent_redirects_are_counted_then_url_rewritten)
{
	struct store *s = open_ok();
	int64_t id = add_feed(s, "http://old.example/feed");
	add_feed(s, "https://taken.example/feed");
	struct store_fetch_update u = {.fetched_at = 2000,
				       .http_status = 200,
				       .ok = true,
				       .redirect_url = "https://new.example/feed"};
	int n = 0;
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, &n), STORE_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, &n), STORE_OK);
	ck_assert_int_eq(n, 2);
	u.redirect_url = "https://other.example/feed";
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, &n), STORE_OK);
	ck_assert_int_eq(n, 1);
	u.redirect_url = NULL;
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, &n), STORE_OK);
	ck_assert_int_eq(n, 0);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_ptr_null(f.redirect_url);
	store_feed_clear(&f);
	ck_assert_int_eq(store_feed_set_url(s, id, "https://taken.example/feed"),
			 STORE_ERR_EXISTS);
	ck_assert_int_eq(store_feed_set_url(s, id, "https://new.example/feed"), STORE_OK);
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_str_eq(f.url, "https://new.example/feed");
	ck_assert_int_eq(f.redirect_count, 0);
	store_feed_clear(&f);
	store_close(s);
}
END_TEST

START_TEST(commit_applies_meta_and_fetch_state_together)
{
	struct store *s = open_ok();
	int64_t id = add_feed(s, "https://example.org/feed");
	struct store_batch *b;
	ck_assert_int_eq(store_batch_begin(s, id, 2000, &b), STORE_OK);
	struct feed_item it = item("x", "x", NULL);
	ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
	struct feed_meta meta = {.title = "Feed title", .link = "https://example.org/"};
	struct store_fetch_update u = {.fetched_at = 2000,
				       .http_status = 200,
				       .ok = true,
				       .set_validators = true,
				       .etag = "\"e1\"",
				       .next_poll = 5600,
				       .next_poll_reason = "max-age"};
	ck_assert_int_eq(store_batch_commit(b, &meta, &u, NULL, NULL), STORE_OK);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_str_eq(f.title, "Feed title");
	ck_assert_str_eq(f.site_link, "https://example.org/");
	ck_assert_str_eq(f.etag, "\"e1\"");
	ck_assert_str_eq(f.next_poll_reason, "max-age");
	ck_assert_str_eq(store_feed_display_title(&f), "Feed title");
	store_feed_clear(&f);
	store_close(s);
}
END_TEST

/* The warning of the feed now, "" when none. */
static void warning_of(struct store *s, int64_t id, char *out, size_t len)
{
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	snprintf(out, len, "%s", f.warning ? f.warning : "");
	store_feed_clear(&f);
}

START_TEST(a_document_warning_is_stored_kept_by_failures_and_cleared_by_a_clean_document)
{
	struct store *s = open_ok();
	int64_t id = add_feed(s, "https://example.org/feed");
	char w[128];
	warning_of(s, id, w, sizeof w);
	ck_assert_str_eq(w, "");
	/* a document parsed after recovering from broken XML: items and the warning together */
	struct store_batch *b;
	ck_assert_int_eq(store_batch_begin(s, id, 2000, &b), STORE_OK);
	struct feed_item it = item("x", "x", NULL);
	ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
	struct store_fetch_update u = {.fetched_at = 2000,
				       .http_status = 200,
				       .ok = true,
				       .set_warning = true,
				       .warning = "line 4, column 32: undefined entity",
				       .next_poll = 5600};
	ck_assert_int_eq(store_batch_commit(b, NULL, &u, NULL, NULL), STORE_OK);
	warning_of(s, id, w, sizeof w);
	ck_assert_str_eq(w, "line 4, column 32: undefined entity");
	/* a failed fetch or a 304 says nothing about the document: the warning stays */
	struct store_fetch_update fail = {.fetched_at = 3000, .error = "HTTP 503", .next_poll = 9};
	ck_assert_int_eq(store_feed_update_fetch(s, id, &fail, NULL, NULL), STORE_OK);
	struct store_fetch_update nm = {.fetched_at = 3100, .http_status = 304, .ok = true};
	ck_assert_int_eq(store_feed_update_fetch(s, id, &nm, NULL, NULL), STORE_OK);
	warning_of(s, id, w, sizeof w);
	ck_assert_str_eq(w, "line 4, column 32: undefined entity");
	/* the next clean document clears it */
	u.warning = NULL;
	ck_assert_int_eq(store_feed_update_fetch(s, id, &u, NULL, NULL), STORE_OK);
	warning_of(s, id, w, sizeof w);
	ck_assert_str_eq(w, "");
	store_close(s);
}
END_TEST

START_TEST(user_settings_and_next_poll)
{
	struct store *s = open_ok();
	int64_t id = add_feed(s, "https://example.org/feed");
	ck_assert_int_eq(store_feed_set_user(s, id, "Named", 7200, true), STORE_OK);
	ck_assert_int_eq(store_feed_set_next_poll(s, id, 4242, "poll-now"), STORE_OK);
	struct store_feed f;
	ck_assert_int_eq(store_feed_get(s, id, &f), STORE_OK);
	ck_assert_str_eq(f.user_title, "Named");
	ck_assert_int_eq(f.interval, 7200);
	ck_assert(f.allow_private);
	ck_assert_int_eq(f.next_poll, 4242);
	ck_assert_str_eq(f.next_poll_reason, "poll-now");
	store_feed_clear(&f);
	ck_assert_int_eq(store_feed_set_next_poll(s, id + 1, 1, "x"), STORE_ERR_NOT_FOUND);
	store_close(s);
}
END_TEST

START_TEST(recent_times_newest_first_with_fallbacks)
{
	struct store *s = open_ok();
	int64_t f = add_feed(s, "https://a");
	struct feed_item items[4] = {item("a", "a", NULL), item("b", "b", NULL),
				     item("c", "c", NULL), item("d", "d", NULL)};
	items[0].published = 5000;
	items[1].updated = 7000;
	items[2].published = 6000;
	items[2].updated = 9999; /* published wins */
	/* d has no date: its first-seen time (8000) stands in. */
	store_doc(s, f, 8000, items, 4, NULL);
	int64_t t[3];
	size_t n = 0;
	ck_assert_int_eq(store_feed_recent_times(s, f, t, 3, &n), STORE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(t[0], 8000);
	ck_assert_int_eq(t[1], 7000);
	ck_assert_int_eq(t[2], 6000);
	ck_assert_int_eq(store_feed_recent_times(s, f + 1, t, 3, &n), STORE_OK);
	ck_assert_uint_eq(n, 0);
	store_close(s);
}
END_TEST

START_TEST(stats_count_feeds_by_state)
{
	struct store *s = open_ok();
	int64_t a = add_feed(s, "https://a");
	add_feed(s, "https://b");
	struct feed_item it = item("x", "x", NULL);
	store_one(s, a, 2000, &it);
	struct store_fetch_update u = {.fetched_at = 2000, .http_status = 200, .ok = true};
	ck_assert_int_eq(store_feed_update_fetch(s, a, &u, NULL, NULL), STORE_OK);
	struct store_stats st;
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.feeds, 2);
	ck_assert_int_eq(st.feeds_new, 1);
	ck_assert_int_eq(st.feeds_ok, 1);
	ck_assert_int_eq(st.feeds_failing, 0);
	ck_assert_int_eq(st.feeds_disabled, 0);
	ck_assert_int_eq(st.feeds_warning, 0);
	u.set_warning = true;
	u.warning = "item limit 1 reached";
	ck_assert_int_eq(store_feed_update_fetch(s, a, &u, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_stats(s, &st), STORE_OK);
	ck_assert_int_eq(st.feeds_warning, 1);
	ck_assert_int_eq(st.feeds_ok, 1); /* a warning is not a failure */
	ck_assert_int_eq(st.items, 1);
	ck_assert_int_eq(st.events, 1);
	ck_assert_int_eq(st.head, 1);
	ck_assert_int_eq(st.oldest, 1);
	store_close(s);
}
END_TEST

START_TEST(error_names_are_stable)
{
	ck_assert_str_eq(store_err_name(STORE_OK), "ok");
	ck_assert_str_eq(store_err_name(STORE_ERR_BUSY), "busy");
	ck_assert_str_eq(store_err_name(STORE_ERR_IO), "io");
	ck_assert_str_eq(store_err_name(STORE_ERR_EXISTS), "exists");
	ck_assert_str_eq(store_event_kind_name(STORE_EV_NEW), "new");
	ck_assert_str_eq(store_event_kind_name(STORE_EV_UPDATE), "update");
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	struct {
		const char *name;
		const TTest *t;
	} tests[] = {
#define T(x) {#x, x}
		T(open_creates_schema_and_epoch),
		T(open_uses_wal),
		T(reopen_keeps_epoch),
		T(two_databases_get_different_epochs),
		T(migrates_from_version_0),
		T(newer_schema_is_refused),
		T(corrupted_file_is_a_clear_error),
		T(not_a_database_is_a_clear_error),
		T(unopenable_path_is_an_error),
		T(dedup_by_id),
		T(dedup_by_link_when_id_empty),
		T(dedup_by_hash_without_id_and_link),
		T(hash_key_is_stable),
		T(key_prefers_id_then_link),
		T(same_guid_in_two_feeds_is_two_items),
		T(duplicate_key_in_one_document_is_stored_once),
		T(update_on_changed_title),
		T(update_on_changed_summary),
		T(update_on_changed_content),
		T(update_on_changed_updated_date),
		T(update_on_removed_summary),
		T(unchanged_item_writes_no_event),
		T(update_event_carries_the_stored_item),
		T(events_deliver_every_field),
		T(seq_strictly_increases),
		T(commit_reports_seq_range),
		T(seq_is_never_reused_after_delete),
		T(events_after_in_seq_order),
		T(events_after_with_feed_filter),
		T(events_after_with_limit),
		T(events_callback_can_stop),
		T(events_after_head_delivers_nothing),
		T(events_are_refused_while_a_batch_is_open),
		T(events_after_from_its_own_callback_is_refused),
		T(events_without_callback_are_refused),
		T(removed_feed_takes_its_items_and_events),
		T(cursor_parse_and_format_round_trip),
		T(cursor_parse_rejects_malformed),
		T(cursor_classify_each_case),
		T(retention_by_count_keeps_newest),
		T(retention_keeps_items_of_the_latest_fetch),
		T(retention_keeps_an_old_item_seen_again_unchanged),
		T(retention_by_age),
		T(retention_by_age_also_drops_old_events),
		T(pruned_cursor_is_expired),
		T(retention_default_is_bounded),
		T(retention_zero_means_unlimited),
		T(aborted_batch_leaves_earlier_data),
		T(second_batch_on_a_handle_is_refused),
		T(batch_for_unknown_feed_is_refused),
		T(busy_writer_times_out_with_busy),
		T(failed_commit_on_full_disk_keeps_earlier_data),
		T(announced_seqs_survive_a_killed_writer),
		T(feed_add_get_and_defaults),
		T(feed_duplicate_url_is_an_error),
		T(feed_empty_url_is_invalid),
		T(feed_list_and_remove),
		T(feed_ids_are_never_reused),
		T(feeds_due_excludes_future_and_disabled),
		T(validators_are_stored_byte_for_byte),
		T(fetch_errors_count_up_and_reset),
		T(migration_2_rehashes_so_known_items_stay_unchanged),
		T(a_new_database_has_16_kib_pages_an_old_one_keeps_its_size),
		T(the_content_hash_tells_fields_apart),
		T(fetch_states_of_several_feeds_are_written_together),
		T(fetch_states_of_several_feeds_are_all_or_nothing),
		T(a_peer_handle_opens_without_the_write_lock_and_shares_the_data),
		T(gone_disables_the_feed),
		T(permanent_redirects_are_counted_then_url_rewritten),
		T(commit_applies_meta_and_fetch_state_together),
		T(a_document_warning_is_stored_kept_by_failures_and_cleared_by_a_clean_document),
		T(user_settings_and_next_poll),
		T(recent_times_newest_first_with_fallbacks),
		T(stats_count_feeds_by_state),
		T(error_names_are_stable),
#undef T
	};
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, tests[i].t);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
