/*
 * store_sql.c - every SQL text of the store: the schema migrations and the
 * statements, indexed by enum store_stmt.  All constant; values are bound.
 */
#include "store_int.h"

/*
 * Schema version 1.
 *
 * feeds.last_batch is the time of the latest stored document of the feed:
 * its items have last_seen >= last_batch, and retention never prunes them.
 *
 * feeds.warning describes the latest stored document when it was parsed
 * only after recovering from broken XML, or cut short by a limit (NULL
 * when it was clean); fetches that parse no document leave it alone.
 *
 * items.hash covers the fields whose change is an update (title, summary,
 * content, updated); categories and enclosures are JSON arrays (NULL when
 * empty), as the `feedd parse` contract writes them.
 *
 * feeds.id is AUTOINCREMENT: an id is never handed to another feed after
 * its feed was removed, so a subscriber's feed filter or a script holding
 * an id never silently gets a different feed.
 *
 * events.seq is AUTOINCREMENT: a seq is never handed out twice, also after
 * the row with the highest seq was deleted.  feed_id is repeated from the
 * item so that a feed filter is an index range, and removing a feed takes
 * its events along.
 */
const char *const store_migrations[] = {
	"CREATE TABLE meta ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" epoch TEXT NOT NULL,"
	" pruned_upto INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE feeds ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" url TEXT NOT NULL UNIQUE,"
	" title TEXT,"
	" user_title TEXT,"
	" site_link TEXT,"
	" etag TEXT,"
	" last_modified TEXT,"
	" next_poll INTEGER NOT NULL DEFAULT 0,"
	" next_poll_reason TEXT,"
	" last_fetch INTEGER NOT NULL DEFAULT 0,"
	" last_success INTEGER NOT NULL DEFAULT 0,"
	" poll_interval INTEGER NOT NULL DEFAULT 0,"
	" consecutive_errors INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" warning TEXT,"
	" last_status INTEGER NOT NULL DEFAULT 0,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" disabled_reason TEXT,"
	" redirect_url TEXT,"
	" redirect_count INTEGER NOT NULL DEFAULT 0,"
	" allow_private INTEGER NOT NULL DEFAULT 0,"
	" last_batch INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX feeds_due ON feeds (disabled, next_poll);"
	"CREATE TABLE items ("
	" id INTEGER PRIMARY KEY,"
	" feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,"
	" key TEXT NOT NULL,"
	" guid TEXT,"
	" title TEXT,"
	" link TEXT,"
	" author TEXT,"
	" published INTEGER,"
	" updated INTEGER,"
	" summary TEXT,"
	" content TEXT,"
	" categories TEXT,"
	" enclosures TEXT,"
	" hash INTEGER NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" UNIQUE (feed_id, key));"
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,"
	" feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL CHECK (kind IN ('new', 'update')),"
	" time INTEGER NOT NULL);"
	"CREATE INDEX events_item ON events (item_id);"
	"CREATE INDEX events_feed ON events (feed_id, seq);"
	"PRAGMA user_version = 1;",
	/*
	 * Version 2: the content hash is no longer FNV-1a (one byte per step)
	 * but a word-at-a-time hash (store_codec.c); every stored hash is
	 * rewritten so that no item looks changed.  And the publication
	 * times the schedule adapts to (ST_FEED_RECENT_TIMES, at every poll)
	 * come from an index instead of one row read per item: items are
	 * large, so that was one page read per item.
	 */
	"UPDATE items SET hash = feedd_content_hash(title, summary, content, updated);"
	"CREATE INDEX items_recent ON items (feed_id, coalesce(published, updated, first_seen));"
	"PRAGMA user_version = 2;",
};
const int store_nmigrations = sizeof store_migrations / sizeof store_migrations[0];

const char store_sql_temp[] = "CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY)";

#define FEED_COLS                                                                                  \
	"id, url, title, user_title, site_link, etag, last_modified, next_poll, "                  \
	"next_poll_reason, last_fetch, last_success, poll_interval, consecutive_errors, "          \
	"last_error, last_status, disabled, disabled_reason, redirect_url, redirect_count, "       \
	"allow_private, created, warning"

#define EVENT_SELECT                                                                               \
	"SELECT e.seq, e.kind, e.time, e.feed_id, f.url, coalesce(f.user_title, f.title),"        \
	" i.guid, i.title, i.link, i.author, i.published, i.updated, i.summary, i.content,"       \
	" i.categories, i.enclosures"                                                              \
	" FROM events e JOIN items i ON i.id = e.item_id JOIN feeds f ON f.id = e.feed_id"

/* Item ids that retention may remove: not in their feed's latest document. */
#define PRUNABLE "i.last_seen < f.last_batch"

static const char *const sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_USER_VERSION] = "PRAGMA user_version",
	[ST_META_INSERT] = "INSERT INTO meta (id, epoch, created) VALUES (1, ?1, ?2)",
	[ST_META_GET] = "SELECT epoch, pruned_upto FROM meta WHERE id = 1",
	[ST_META_PRUNED] = "UPDATE meta SET pruned_upto = max(pruned_upto, ?1) WHERE id = 1",
	[ST_HEAD] = "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
	[ST_OLDEST] = "SELECT min(seq) FROM events",
	[ST_FEED_ADD] = "INSERT INTO feeds (url, user_title, poll_interval, allow_private,"
			" next_poll, next_poll_reason, created)"
			" VALUES (?1, ?2, ?3, ?4, ?5, 'added', ?6)",
	[ST_FEED_ID_BY_URL] = "SELECT id FROM feeds WHERE url = ?1",
	[ST_FEED_EXISTS] = "SELECT 1 FROM feeds WHERE id = ?1",
	[ST_FEED_GET] = "SELECT " FEED_COLS " FROM feeds WHERE id = ?1",
	[ST_FEED_GET_URL] = "SELECT " FEED_COLS " FROM feeds WHERE url = ?1",
	[ST_FEED_LIST] = "SELECT " FEED_COLS " FROM feeds ORDER BY id",
	[ST_FEED_DUE] = "SELECT " FEED_COLS " FROM feeds WHERE disabled = 0 AND next_poll <= ?1"
			" ORDER BY next_poll, id LIMIT ?2",
	[ST_FEED_NEXT_DUE] = "SELECT min(next_poll) FROM feeds WHERE disabled = 0",
	[ST_FEED_REMOVE] = "DELETE FROM feeds WHERE id = ?1",
	[ST_FEED_REMOVE_URL] = "DELETE FROM feeds WHERE url = ?1",
	[ST_FEED_FETCH] =
		"UPDATE feeds SET last_fetch = ?2, last_status = ?3,"
		" last_success = CASE WHEN ?4 THEN ?2 ELSE last_success END,"
		" consecutive_errors = CASE WHEN ?4 THEN 0 ELSE consecutive_errors + 1 END,"
		" last_error = CASE WHEN ?4 THEN NULL ELSE ?5 END,"
		" etag = CASE WHEN ?6 THEN ?7 ELSE etag END,"
		" last_modified = CASE WHEN ?6 THEN ?8 ELSE last_modified END,"
		" next_poll = ?9, next_poll_reason = ?10,"
		" disabled = CASE WHEN ?11 THEN 1 ELSE disabled END,"
		" disabled_reason = CASE WHEN ?11 THEN ?12 ELSE disabled_reason END,"
		" redirect_count = CASE WHEN ?13 IS NULL THEN 0"
		"  WHEN ?13 = redirect_url THEN redirect_count + 1 ELSE 1 END,"
		" redirect_url = ?13,"
		" warning = CASE WHEN ?14 THEN ?15 ELSE warning END"
		" WHERE id = ?1 RETURNING consecutive_errors, redirect_count",
	[ST_FEED_SET_URL] = "UPDATE feeds SET url = ?2, redirect_url = NULL, redirect_count = 0"
			    " WHERE id = ?1",
	[ST_FEED_SET_NEXT] = "UPDATE feeds SET next_poll = ?2, next_poll_reason = ?3 WHERE id = ?1",
	[ST_FEED_SET_DISABLED] = "UPDATE feeds SET disabled = ?2,"
				 " disabled_reason = CASE WHEN ?2 THEN ?3 ELSE NULL END"
				 " WHERE id = ?1",
	[ST_FEED_SET_USER] = "UPDATE feeds SET user_title = ?2, poll_interval = ?3,"
			     " allow_private = ?4 WHERE id = ?1",
	[ST_FEED_META] = "UPDATE feeds SET title = coalesce(?2, title),"
			 " site_link = coalesce(?3, site_link) WHERE id = ?1",
	[ST_FEED_LAST_BATCH] = "UPDATE feeds SET last_batch = ?2 WHERE id = ?1",
	[ST_FEED_RECENT_TIMES] = "SELECT coalesce(published, updated, first_seen) AS t FROM items"
				 " WHERE feed_id = ?1 ORDER BY t DESC LIMIT ?2",
	/* a SELECT and an UPDATE by rowid, not UPDATE .. RETURNING: that one
	 * opens an ephemeral table for its rows on every run (a third of an
	 * item's cost with 16 KiB pages) */
	[ST_ITEM_FIND] = "SELECT id, hash FROM items WHERE feed_id = ?1 AND key = ?2",
	[ST_ITEM_SEEN] = "UPDATE items SET last_seen = ?2 WHERE id = ?1",
	[ST_ITEM_INSERT] = "INSERT INTO items (feed_id, key, guid, title, link, author,"
			   " published, updated, summary, content, categories, enclosures,"
			   " hash, first_seen, last_seen)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
	[ST_ITEM_UPDATE] = "UPDATE items SET guid = ?2, title = ?3, link = ?4, author = ?5,"
			   " published = ?6, updated = ?7, summary = ?8, content = ?9,"
			   " categories = ?10, enclosures = ?11, hash = ?12, last_seen = ?13"
			   " WHERE id = ?1",
	[ST_EVENT_INSERT] = "INSERT INTO events (item_id, feed_id, kind, time)"
			    " VALUES (?1, ?2, ?3, ?4)",
	[ST_EVENTS_AFTER] = EVENT_SELECT " WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2",
	/*
	 * The unary + keeps the plan a scan in seq order over the primary key
	 * (rows stream out as stepped); through the events_feed index SQLite
	 * would collect and sort every match before the first row.
	 */
	[ST_EVENTS_AFTER_FEEDS] = EVENT_SELECT
	" WHERE e.seq > ?1 AND +e.feed_id IN (SELECT value FROM json_each(?3))"
	" ORDER BY e.seq LIMIT ?2",
	[ST_PRUNE_CLEAR] = "DELETE FROM temp.prune_ids",
	[ST_PRUNE_BY_COUNT] =
		"INSERT OR IGNORE INTO temp.prune_ids (id)"
		" SELECT id FROM (SELECT i.id AS id, " PRUNABLE " AS prunable,"
		"  row_number() OVER (PARTITION BY i.feed_id ORDER BY i.id DESC) AS rn"
		"  FROM items i JOIN feeds f ON f.id = i.feed_id)"
		" WHERE rn > ?1 AND prunable",
	[ST_PRUNE_BY_AGE] = "INSERT OR IGNORE INTO temp.prune_ids (id)"
			    " SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id"
			    " WHERE i.last_seen < ?1 AND " PRUNABLE,
	[ST_PRUNE_EVENT_STATS] = "SELECT count(*), max(seq) FROM events"
				 " WHERE item_id IN (SELECT id FROM temp.prune_ids) OR time < ?1",
	[ST_PRUNE_EVENTS] = "DELETE FROM events"
			    " WHERE item_id IN (SELECT id FROM temp.prune_ids) OR time < ?1",
	[ST_PRUNE_ITEMS] = "DELETE FROM items WHERE id IN (SELECT id FROM temp.prune_ids)",
	/*
	 * Retention in steps (store_prune_step): the candidates are chosen a
	 * range of feeds at a time (feed_id in (?2, ?3], whole feeds of about
	 * ?2 items after ?1: RANGE_END gives the last feed id).  A delete
	 * step takes the candidates with id <= ?1 (the first of the next step
	 * is found by OFFSET), drops those that a document committed since
	 * made present in their feed's latest fetch again, then deletes the
	 * rest with their events.
	 */
	[ST_PRUNE_RANGE_END] = "SELECT feed_id FROM items WHERE feed_id > ?1"
			       " ORDER BY feed_id LIMIT 1 OFFSET ?2",
	[ST_PRUNE_RANGE_BY_COUNT] =
		"INSERT OR IGNORE INTO temp.prune_ids (id)"
		" SELECT id FROM (SELECT i.id AS id, " PRUNABLE " AS prunable,"
		"  row_number() OVER (PARTITION BY i.feed_id ORDER BY i.id DESC) AS rn"
		"  FROM items i JOIN feeds f ON f.id = i.feed_id"
		"  WHERE i.feed_id > ?2 AND i.feed_id <= ?3)"
		" WHERE rn > ?1 AND prunable",
	[ST_PRUNE_RANGE_BY_AGE] = "INSERT OR IGNORE INTO temp.prune_ids (id)"
				  " SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id"
				  " WHERE i.feed_id > ?2 AND i.feed_id <= ?3"
				  " AND i.last_seen < ?1 AND " PRUNABLE,
	[ST_PRUNE_NEXT] = "SELECT id FROM temp.prune_ids ORDER BY id LIMIT 1 OFFSET ?1",
	[ST_PRUNE_RECHECK] = "DELETE FROM temp.prune_ids AS p WHERE p.id <= ?1 AND NOT EXISTS"
			     " (SELECT 1 FROM items i JOIN feeds f ON f.id = i.feed_id"
			     "  WHERE i.id = p.id AND " PRUNABLE ")",
	[ST_PRUNE_STEP_EVENTS] = "DELETE FROM events WHERE item_id IN"
				 " (SELECT id FROM temp.prune_ids WHERE id <= ?1) RETURNING seq",
	[ST_PRUNE_STEP_ITEMS] = "DELETE FROM items WHERE id IN"
				" (SELECT id FROM temp.prune_ids WHERE id <= ?1)",
	[ST_PRUNE_STEP_DONE] = "DELETE FROM temp.prune_ids WHERE id <= ?1",
	[ST_PRUNE_STEP_OLD] = "DELETE FROM events WHERE seq IN (SELECT seq FROM events"
			      " WHERE seq > ?1 AND seq <= ?2 AND time < ?3 ORDER BY seq LIMIT ?4)"
			      " RETURNING seq",
	[ST_STATS_FEEDS] = "SELECT count(*),"
			   " sum(disabled = 0 AND last_fetch = 0),"
			   " sum(disabled = 0 AND last_fetch > 0 AND consecutive_errors = 0),"
			   " sum(disabled = 0 AND consecutive_errors > 0),"
			   " sum(disabled != 0), sum(warning IS NOT NULL) FROM feeds",
	[ST_STATS_ITEMS] = "SELECT count(*) FROM items",
	[ST_STATS_EVENTS] = "SELECT count(*) FROM events",
};

const char *store_sql(enum store_stmt id)
{
	return sql[id];
}
