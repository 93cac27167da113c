/*
 * test_prune.c - retention in steps (store_prune_step): each step deletes
 * at most its share, pruned_upto is right after every step, the end state
 * is exactly what one store_prune leaves, and an item a document brought
 * back between two steps is kept.  Real database files; no mocks.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "testutil.h"

#define DAY 86400

static char *dir;
static char path_a[4200], path_b[4200];

static void setup(void)
{
	dir = tu_tmpdir();
	snprintf(path_a, sizeof path_a, "%s/a.db", dir);
	snprintf(path_b, sizeof path_b, "%s/b.db", dir);
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
}

static struct store *open_ok(const char *path)
{
	struct store *s = NULL;
	enum store_err e = store_open(path, NULL, &s);
	ck_assert_msg(e == STORE_OK, "store_open: %s", store_errmsg(s));
	return s;
}

static int64_t add_feed(struct store *s, const char *url)
{
	struct store_feed_new nf = {.url = url};
	int64_t id = 0;
	ck_assert_int_eq(store_feed_add(s, &nf, 1000, &id), STORE_OK);
	return id;
}

/* One document of feed at time now holding items "<prefix><i>" for i in ids[0..n), titled t. */
static void doc(struct store *s, int64_t feed, int64_t now, const char *prefix, const int *ids,
		size_t n, const char *title)
{
	struct store_batch *b = NULL;
	ck_assert_int_eq(store_batch_begin(s, feed, now, &b), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "%s%d", prefix, ids[i]);
		struct feed_item it = {.id = id, .title = (char *)title};
		it.published = it.updated = FEED_NO_DATE;
		ck_assert_int_eq(store_batch_item(b, &it, NULL), STORE_OK);
	}
	ck_assert_int_eq(store_batch_commit(b, NULL, NULL, NULL, NULL), STORE_OK);
}

/*
 * A database where retention (4 items per feed, 3 days, at day 32) has
 * every kind of work: items beyond the count, items too old (mostly the
 * same ones), an old item updated late (its update event has a high seq),
 * items of the latest fetch that stay although old and beyond the count,
 * old events of items that stay, and a recent feed nothing of which goes.
 */
static void build(const char *path)
{
	struct store *s = open_ok(path);
	int64_t a = add_feed(s, "https://example.org/a");
	int64_t b = add_feed(s, "https://example.org/b");
	int64_t c = add_feed(s, "https://example.org/c");
	int all[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	doc(s, b, 2 * DAY, "b", all, 10, "v1");
	for (int i = 0; i < 30; i++) {
		int ids[2] = {i, 3};
		doc(s, a, (1 + i) * DAY, "a", ids, i == 20 ? 2 : 1, i == 20 ? "v2" : "v1");
	}
	doc(s, b, 20 * DAY, "b", all + 5, 5, "v1");
	int changed[1] = {7};
	doc(s, b, 21 * DAY, "b", changed, 1, "v2"); /* b7 updated */
	doc(s, b, 22 * DAY, "b", all + 5, 5, "v1"); /* b5..b9: the latest fetch */
	doc(s, c, 31 * DAY, "c", all, 6, "v1");
	store_close(s);
}

static const struct store_retention retention = {.max_items_per_feed = 4, .max_age_days = 3};
static const int64_t now = 32 * DAY;

static char *sql_text(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	const char *t = (const char *)sqlite3_column_text(st, 0);
	char *out = strdup(t ? t : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

/* Items, events and pruned_upto as text (the epoch differs between two builds). */
static char *dump(const char *path)
{
	return sql_text(path,
			"SELECT (SELECT group_concat(id || ':' || key, ',') FROM"
			"  (SELECT id, key FROM items ORDER BY id)) || ' | ' ||"
			" (SELECT group_concat(seq || ':' || item_id || ':' || kind, ',') FROM"
			"  (SELECT * FROM events ORDER BY seq)) || ' | ' ||"
			" (SELECT pruned_upto FROM meta)");
}

static enum store_cursor_state classify(struct store *s, int64_t seq)
{
	struct store_cursor c = {.seq = seq};
	snprintf(c.epoch, sizeof c.epoch, "%s", store_epoch(s));
	enum store_cursor_state st = 99;
	ck_assert_int_eq(store_cursor_check(s, &c, &st), STORE_OK);
	return st;
}

static int64_t pruned_upto(struct store *s)
{
	int64_t pu = -1;
	ck_assert_int_eq(store_pruned_upto(s, &pu), STORE_OK);
	return pu;
}

/* Steps until done; returns the number of calls, adds up what they deleted. */
static int prune_in_steps(struct store *s, size_t max, size_t *items, size_t *events)
{
	int calls = 0;
	bool more = true;
	while (more) {
		size_t i = 0, e = 0;
		ck_assert_int_eq(store_prune_step(s, &retention, now, max, &i, &e, &more),
				 STORE_OK);
		ck_assert_msg(i <= max, "a step deleted %zu items, more than %zu", i, max);
		*items += i;
		*events += e;
		ck_assert_int_lt(++calls, 1000);
	}
	return calls;
}

START_TEST(a_step_deletes_at_most_max_items)
{
	build(path_a);
	struct store *s = open_ok(path_a);
	size_t items = 0, events = 0;
	int calls = prune_in_steps(s, 3, &items, &events);
	ck_assert_uint_gt(items, 3 * 4); /* so several steps had to delete */
	ck_assert_int_ge(calls, 1 + (int)(items + 2) / 3);
	store_close(s);
}
END_TEST

START_TEST(steps_end_exactly_where_one_prune_ends)
{
	build(path_a);
	build(path_b);
	struct store *s = open_ok(path_a);
	size_t items = 0, events = 0;
	ck_assert_int_eq(store_prune(s, &retention, now, &items, &events), STORE_OK);
	store_close(s);
	s = open_ok(path_b);
	size_t step_items = 0, step_events = 0;
	prune_in_steps(s, 2, &step_items, &step_events);
	ck_assert_uint_eq(step_items, items);
	ck_assert_uint_eq(step_events, events);
	store_close(s);
	char *one = dump(path_a), *steps = dump(path_b);
	ck_assert_str_eq(steps, one);
	free(one);
	free(steps);
}
END_TEST

/* Every event deleted so far has a seq <= pruned_upto: events > pruned_upto all exist. */
static void check_cursors(struct store *s, const char *path, const char *before)
{
	int64_t pu = pruned_upto(s);
	char *now_seqs = sql_text(path, "SELECT ',' || group_concat(seq, ',') || ',' FROM"
					"(SELECT seq FROM events ORDER BY seq)");
	char *copy = strdup(before);
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
		char key[32];
		snprintf(key, sizeof key, ",%s,", tok);
		if (!strstr(now_seqs, key))
			ck_assert_msg(atoll(tok) <= pu, "event %s deleted above pruned_upto %lld",
				      tok, (long long)pu);
	}
	free(copy);
	free(now_seqs);
	if (pu > 0)
		ck_assert_int_eq(classify(s, pu - 1), STORE_CURSOR_EXPIRED);
	ck_assert_int_eq(classify(s, pu), STORE_CURSOR_OK);
}

START_TEST(pruned_upto_is_right_after_every_step)
{
	build(path_a);
	char *before = sql_text(path_a, "SELECT group_concat(seq, ',') FROM"
					" (SELECT seq FROM events ORDER BY seq)");
	struct store *s = open_ok(path_a);
	bool more = true;
	int steps = 0;
	while (more) {
		ck_assert_int_eq(store_prune_step(s, &retention, now, 2, NULL, NULL, &more),
				 STORE_OK);
		check_cursors(s, path_a, before);
		steps++;
	}
	ck_assert_int_gt(steps, 3);
	ck_assert_int_gt(pruned_upto(s), 0);
	ck_assert_int_eq(classify(s, 0), STORE_CURSOR_EXPIRED);
	free(before);
	store_close(s);
}
END_TEST

START_TEST(an_item_a_document_brought_back_between_steps_is_kept)
{
	struct store *s = open_ok(path_a);
	int64_t f = add_feed(s, "https://example.org/a");
	for (int i = 0; i < 10; i++)
		doc(s, f, 1000 + i, "x", &i, 1, "t");
	struct store_retention r = {.max_items_per_feed = 2};
	bool more = false;
	size_t items = 0, n = 0;
	ck_assert_int_eq(store_prune_step(s, &r, 5000, 2, &n, NULL, &more), STORE_OK);
	ck_assert(more);
	ck_assert_uint_eq(n, 0); /* the first step chooses, it deletes nothing */
	int back = 0;		 /* x0 is a candidate, and in the latest fetch now */
	doc(s, f, 2000, "x", &back, 1, "t");
	while (more) {
		ck_assert_int_eq(store_prune_step(s, &r, 5000, 2, &n, NULL, &more), STORE_OK);
		items += n;
	}
	ck_assert_uint_eq(items, 7); /* x1..x7 */
	store_close(s);
	char *left = sql_text(path_a, "SELECT group_concat(key, ',') FROM"
				      " (SELECT key FROM items ORDER BY id)");
	ck_assert_str_eq(left, "x0,x8,x9");
	free(left);
}
END_TEST

START_TEST(other_limits_or_another_now_start_a_new_run)
{
	build(path_a);
	struct store *s = open_ok(path_a);
	bool more = false;
	size_t n = 0;
	ck_assert_int_eq(store_prune_step(s, &retention, now, 2, &n, NULL, &more), STORE_OK);
	ck_assert(more);
	ck_assert_int_eq(store_prune_step(s, &retention, now, 2, &n, NULL, &more), STORE_OK);
	ck_assert_uint_eq(n, 2);
	/* another now: it chooses again (and deletes nothing in that call) */
	ck_assert_int_eq(store_prune_step(s, &retention, now + 1, 2, &n, NULL, &more), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert(more);
	/* unlimited: nothing to do */
	struct store_retention none = {0};
	ck_assert_int_eq(store_prune_step(s, &none, now, 2, &n, NULL, &more), STORE_OK);
	ck_assert(!more);
	store_close(s);
}
END_TEST

/* After most events are gone, a run with retain_days looks at the events
 * that are left, not at every seq from 0 (an hourly run would otherwise
 * step through all the history ever pruned). */
START_TEST(old_events_are_looked_at_from_the_oldest_one_left)
{
	struct store *s = open_ok(path_a);
	int64_t f = add_feed(s, "https://example.org/a");
	int ids[200];
	for (int i = 0; i < 200; i++)
		ids[i] = i;
	doc(s, f, 1 * DAY, "x", ids, 200, "t"); /* seqs 1..200 */
	doc(s, f, 2 * DAY, "y", ids, 8, "t");   /* seqs 201..208, the latest fetch */
	struct store_retention count = {.max_items_per_feed = 8};
	size_t items = 0;
	ck_assert_int_eq(store_prune(s, &count, 2 * DAY, &items, NULL), STORE_OK);
	ck_assert_uint_eq(items, 200);
	/* nothing is older than 30 days: with one item per step a step looks
	 * at 8 seqs, so 8 events left take a step or two, not 26 */
	struct store_retention age = {.max_age_days = 30};
	bool more = true;
	size_t steps = 0;
	while (more && steps < 100) {
		ck_assert_int_eq(store_prune_step(s, &age, 3 * DAY, 1, NULL, NULL, &more), STORE_OK);
		steps++;
	}
	ck_assert_uint_le(steps, 3);
	store_close(s);
}
END_TEST

static Suite *prune_suite(void)
{
	Suite *s = suite_create("prune");
	struct {
		const char *name;
		const TTest *t;
	} tests[] = {
#define T(x) {#x, x}
		T(a_step_deletes_at_most_max_items),
		T(steps_end_exactly_where_one_prune_ends),
		T(pruned_upto_is_right_after_every_step),
		T(an_item_a_document_brought_back_between_steps_is_kept),
		T(other_limits_or_another_now_start_a_new_run),
		T(old_events_are_looked_at_from_the_oldest_one_left),
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
	SRunner *sr = srunner_create(prune_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
