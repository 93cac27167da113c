/*
 * store_rate.c - storing new items: feedd's store (store_batch_*: dedup
 * lookup, insert, event) against a raw-SQLite floor that inserts the same
 * rows into the same schema (created by store_open) with the same batch
 * size and durability (WAL, synchronous=FULL), and nothing else.
 * Runs both RUNS times, alternating, and prints the medians.
 *
 * usage: bench_store_rate [DIR] [ITEMS] [BATCH] [RUNS]   (defaults: /tmp 100000 50 3)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "store.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A realistic item n: ~2.5 KB of text. */
static void make_item(struct feed_item *it, size_t n, char *bufs[4], char **cats)
{
	static const char lorem[] = "The harbour council voted on Thursday evening to adopt the winter "
				    "ferry timetable \xe2\x80\x94 \xe2\x80\x9cpeople who work late\xe2\x80\x9d said. ";
	snprintf(bufs[0], 64, "bench-item-%zu", n);
	snprintf(bufs[1], 128, "https://news.example.org/%zu", n);
	snprintf(bufs[2], 128, "Item %zu: council approves the new ferry timetable", n);
	size_t len = 0;
	while (len + sizeof lorem < 2400) {
		memcpy(bufs[3] + len, lorem, sizeof lorem - 1);
		len += sizeof lorem - 1;
	}
	bufs[3][len] = 0;
	memset(it, 0, sizeof *it);
	it->id = bufs[0];
	it->link = bufs[1];
	it->title = bufs[2];
	it->author = "Reporter";
	it->published = 1700000000 + (int64_t)n;
	it->updated = FEED_NO_DATE;
	it->summary = "A short summary of the item, as feeds carry in their description.";
	it->content = bufs[3];
	it->categories = cats;
	it->ncategories = 2;
}

static double run_store(const char *path, size_t nitems, size_t batch)
{
	struct store *s;
	unlink(path);
	if (store_open(path, NULL, &s) != STORE_OK) {
		fprintf(stderr, "store_open: %s\n", store_errmsg(s));
		exit(1);
	}
	struct store_feed_new nf = {.url = "https://news.example.org/feed.xml"};
	int64_t fid;
	store_feed_add(s, &nf, 1, &fid);
	char b0[64], b1[128], b2[128], b3[4096], *bufs[4] = {b0, b1, b2, b3};
	char *cats[2] = {"News", "Transport"};
	struct feed_item it;
	double t0 = now_s();
	for (size_t i = 0; i < nitems; i += batch) {
		struct store_batch *b;
		if (store_batch_begin(s, fid, 2 + (int64_t)i, &b) != STORE_OK)
			exit(1);
		for (size_t j = i; j < i + batch && j < nitems; j++) {
			make_item(&it, j, bufs, cats);
			if (store_batch_item(b, &it, NULL) != STORE_OK)
				exit(1);
		}
		if (store_batch_commit(b, NULL, NULL, NULL, NULL) != STORE_OK) {
			fprintf(stderr, "commit: %s\n", store_errmsg(s));
			exit(1);
		}
	}
	double t = now_s() - t0;
	store_close(s);
	return t;
}

static void floor_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, err);
		exit(1);
	}
}

static double run_floor(const char *path, size_t nitems, size_t batch)
{
	struct store *s;
	unlink(path);
	if (store_open(path, NULL, &s) != STORE_OK)
		exit(1);
	struct store_feed_new nf = {.url = "https://news.example.org/feed.xml"};
	int64_t fid;
	store_feed_add(s, &nf, 1, &fid);
	store_close(s);

	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	floor_exec(db, "PRAGMA journal_mode = WAL");
	floor_exec(db, "PRAGMA synchronous = FULL");
	sqlite3_stmt *ins, *ev;
	sqlite3_prepare_v2(db,
			   "INSERT INTO items (feed_id, key, guid, title, link, author, published, updated,"
			   " summary, content, categories, enclosures, hash, first_seen, last_seen)"
			   " VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, ?9, NULL, ?10, ?11, ?11)",
			   -1, &ins, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO events (item_id, feed_id, kind, time) VALUES (?1, ?2, 'new', ?3)",
			   -1, &ev, NULL);
	char b0[64], b1[128], b2[128], b3[4096], *bufs[4] = {b0, b1, b2, b3};
	char *cats[2] = {"News", "Transport"};
	struct feed_item it;
	double t0 = now_s();
	for (size_t i = 0; i < nitems; i += batch) {
		floor_exec(db, "BEGIN IMMEDIATE");
		for (size_t j = i; j < i + batch && j < nitems; j++) {
			make_item(&it, j, bufs, cats);
			sqlite3_bind_int64(ins, 1, fid);
			sqlite3_bind_text(ins, 2, it.id, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, it.title, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 4, it.link, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 5, it.author, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 6, it.published);
			sqlite3_bind_text(ins, 7, it.summary, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 8, it.content, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 9, "[\"News\",\"Transport\"]", -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 10, (int64_t)j * 2654435761u);
			sqlite3_bind_int64(ins, 11, 2 + (int64_t)i);
			if (sqlite3_step(ins) != SQLITE_DONE)
				exit(1);
			sqlite3_reset(ins);
			sqlite3_bind_int64(ev, 1, sqlite3_last_insert_rowid(db));
			sqlite3_bind_int64(ev, 2, fid);
			sqlite3_bind_int64(ev, 3, 2 + (int64_t)i);
			if (sqlite3_step(ev) != SQLITE_DONE)
				exit(1);
			sqlite3_reset(ev);
		}
		floor_exec(db, "COMMIT");
	}
	double t = now_s() - t0;
	sqlite3_finalize(ins);
	sqlite3_finalize(ev);
	sqlite3_close(db);
	return t;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	size_t nitems = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	size_t batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 50;
	int runs = argc > 4 ? atoi(argv[4]) : 3;
	if (runs < 1 || runs > 50 || !batch)
		return 2;
	char path[4096];
	snprintf(path, sizeof path, "%s/bench-store-rate.db", dir);
	double ts[50], tf[50];
	for (int r = 0; r < runs; r++) {
		tf[r] = run_floor(path, nitems, batch);
		ts[r] = run_store(path, nitems, batch);
	}
	qsort(ts, (size_t)runs, sizeof ts[0], cmp_d);
	qsort(tf, (size_t)runs, sizeof tf[0], cmp_d);
	double ms = ts[runs / 2], mf = tf[runs / 2];
	printf("%zu new items in batches of %zu, median of %d runs, WAL + synchronous=FULL\n", nitems,
	       batch, runs);
	printf("raw SQLite floor : %8.2f s  %9.0f items/s\n", mf, (double)nitems / mf);
	printf("feedd store      : %8.2f s  %9.0f items/s  (%.0f%% of the floor)\n", ms,
	       (double)nitems / ms, 100.0 * mf / ms);
	char wal[4200];
	unlink(path);
	snprintf(wal, sizeof wal, "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof wal, "%s-shm", path);
	unlink(wal);
	return 0;
}
