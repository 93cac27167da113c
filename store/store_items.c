/*
 * store_items.c - items and the event log: one batch (transaction) per
 * fetched document with dedup and update detection, replay of events by
 * seq, retention.
 *
 * The cost of an item seen again unchanged is one statement: an UPDATE of
 * last_seen through the (feed_id, key) index that returns the stored
 * content hash; only a differing hash leads to more work.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* Keys already handled in this batch (first occurrence in a document wins). */
struct keyset {
	uint64_t *slots; /* 0 = empty; a real hash of 0 is stored as 1 */
	size_t cap;	 /* power of two */
	size_t n;
};

struct store_batch {
	struct store *s;
	int64_t feed_id;
	int64_t now;
	int64_t first_seq, last_seq;
	size_t counts[3]; /* by enum store_item_result */
	enum store_err failed; /* the first error of an item, STORE_OK while none */
	struct keyset seen;
};

/* Returns 1 when h was already in the set, 0 when added, -1 when out of memory. */
static int keyset_add(struct keyset *k, uint64_t h)
{
	h = h ? h : 1;
	if (2 * (k->n + 1) > k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		uint64_t *slots = calloc(cap, sizeof *slots);
		if (!slots)
			return -1;
		for (size_t i = 0; i < k->cap; i++) {
			if (!k->slots[i])
				continue;
			size_t j = k->slots[i] & (cap - 1);
			while (slots[j])
				j = (j + 1) & (cap - 1);
			slots[j] = k->slots[i];
		}
		free(k->slots);
		k->slots = slots;
		k->cap = cap;
	}
	size_t j = h & (k->cap - 1);
	while (k->slots[j]) {
		if (k->slots[j] == h)
			return 1;
		j = (j + 1) & (k->cap - 1);
	}
	k->slots[j] = h;
	k->n++;
	return 0;
}

/* ---------------------------------------------------------------- batch */

static enum store_err step_simple(struct store *s, enum store_stmt id, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);
	return st ? store_run(s, st, what) : s->last_err;
}

static enum store_err feed_exists(struct store *s, int64_t feed_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_EXISTS);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, feed_id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return store_failf(s, STORE_ERR_NOT_FOUND, "no feed %lld", (long long)feed_id);
	return store_fail(s, rc, "find feed");
}

enum store_err store_batch_begin(struct store *s, int64_t feed_id, int64_t now,
				 struct store_batch **out)
{
	*out = NULL;
	if (s->batch)
		return store_failf(s, STORE_ERR_INVALID, "a batch is already open on this handle");
	struct store_batch *b = calloc(1, sizeof *b);
	if (!b)
		return store_failf(s, STORE_ERR_NOMEM, "out of memory");
	enum store_err e = step_simple(s, ST_BEGIN, "begin");
	if (e == STORE_OK) {
		e = feed_exists(s, feed_id);
		if (e != STORE_OK)
			store_rollback(s);
	}
	if (e != STORE_OK) {
		free(b);
		return e;
	}
	b->s = s;
	b->feed_id = feed_id;
	b->now = now;
	s->batch = b;
	*out = b;
	return STORE_OK;
}

/* Binds the item fields at ?first.. in the order guid, title, link, author, published,
 * updated, summary, content, categories, enclosures, hash (11 parameters). */
static enum store_err bind_item(struct store *s, sqlite3_stmt *st, int first,
				const struct feed_item *it, uint64_t hash)
{
	bool oom = false;
	char *cats = store_categories_json(it, &oom);
	char *encs = store_enclosures_json(it, &oom);
	if (oom) {
		free(cats);
		free(encs);
		return store_failf(s, STORE_ERR_NOMEM, "out of memory");
	}
	store_bind_str(st, first, it->id);
	store_bind_str(st, first + 1, it->title);
	store_bind_str(st, first + 2, it->link);
	store_bind_str(st, first + 3, it->author);
	store_bind_date(st, first + 4, it->published);
	store_bind_date(st, first + 5, it->updated);
	store_bind_str(st, first + 6, it->summary);
	store_bind_str(st, first + 7, it->content);
	if (cats)
		sqlite3_bind_text(st, first + 8, cats, -1, free);
	else
		sqlite3_bind_null(st, first + 8);
	if (encs)
		sqlite3_bind_text(st, first + 9, encs, -1, free);
	else
		sqlite3_bind_null(st, first + 9);
	sqlite3_bind_int64(st, first + 10, (int64_t)hash);
	return STORE_OK;
}

static enum store_err add_event(struct store_batch *b, int64_t item_id, enum store_event_kind k)
{
	struct store *s = b->s;
	sqlite3_stmt *st = store_stmt(s, ST_EVENT_INSERT);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_int64(st, 2, b->feed_id);
	sqlite3_bind_text(st, 3, store_event_kind_name(k), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, b->now);
	enum store_err e = store_run(s, st, "append event");
	if (e != STORE_OK)
		return e;
	int64_t seq = sqlite3_last_insert_rowid(s->db);
	if (!b->first_seq)
		b->first_seq = seq;
	b->last_seq = seq;
	return STORE_OK;
}

/* *id = 0 when the key is new, else its id and stored hash. */
static enum store_err find_item(struct store_batch *b, const char *key, int64_t *id,
				uint64_t *hash)
{
	struct store *s = b->s;
	sqlite3_stmt *st = store_stmt(s, ST_ITEM_FIND);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, b->feed_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	*id = 0;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*hash = (uint64_t)sqlite3_column_int64(st, 1);
		rc = sqlite3_step(st);
	}
	enum store_err e = rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "look up item");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

/* An unchanged item: only seen again (retention keeps what the latest document has). */
static enum store_err seen_item(struct store_batch *b, int64_t id)
{
	struct store *s = b->s;
	sqlite3_stmt *st = store_stmt(s, ST_ITEM_SEEN);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, b->now);
	return store_run(s, st, "mark item seen");
}

static enum store_err insert_item(struct store_batch *b, const char *key,
				  const struct feed_item *it, uint64_t hash)
{
	struct store *s = b->s;
	sqlite3_stmt *st = store_stmt(s, ST_ITEM_INSERT);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, b->feed_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	enum store_err e = bind_item(s, st, 3, it, hash);
	if (e != STORE_OK) {
		sqlite3_clear_bindings(st);
		return e;
	}
	sqlite3_bind_int64(st, 14, b->now);
	e = store_run(s, st, "insert item");
	return e == STORE_OK ? add_event(b, sqlite3_last_insert_rowid(s->db), STORE_EV_NEW) : e;
}

static enum store_err update_item(struct store_batch *b, int64_t id, const struct feed_item *it,
				  uint64_t hash)
{
	struct store *s = b->s;
	sqlite3_stmt *st = store_stmt(s, ST_ITEM_UPDATE);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	enum store_err e = bind_item(s, st, 2, it, hash);
	if (e != STORE_OK) {
		sqlite3_clear_bindings(st);
		return e;
	}
	sqlite3_bind_int64(st, 13, b->now);
	e = store_run(s, st, "update item");
	return e == STORE_OK ? add_event(b, id, STORE_EV_UPDATE) : e;
}

enum store_err store_batch_item(struct store_batch *b, const struct feed_item *it,
				enum store_item_result *res)
{
	struct store *s = b->s;
	if (b->failed)
		return store_failf(s, STORE_ERR_INVALID, "batch failed earlier: abort it");
	char *key = store_item_key(it);
	if (!key)
		return b->failed = store_failf(s, STORE_ERR_NOMEM, "out of memory");
	enum store_item_result r = STORE_ITEM_UNCHANGED;
	enum store_err e = STORE_OK;
	int dup = keyset_add(&b->seen, store_fnv1a64(STORE_FNV_OFFSET, key, strlen(key)));
	if (dup < 0)
		e = store_failf(s, STORE_ERR_NOMEM, "out of memory");
	if (e == STORE_OK && dup == 0) {
		uint64_t hash = store_content_hash(it), old = 0;
		int64_t id = 0;
		e = find_item(b, key, &id, &old);
		if (e == STORE_OK && !id) {
			e = insert_item(b, key, it, hash);
			r = STORE_ITEM_NEW;
		} else if (e == STORE_OK && old != hash) {
			e = update_item(b, id, it, hash); /* sets last_seen too */
			r = STORE_ITEM_UPDATED;
		} else if (e == STORE_OK) {
			e = seen_item(b, id);
		}
	}
	free(key);
	if (e != STORE_OK)
		return b->failed = e;
	b->counts[r]++;
	if (res)
		*res = r;
	return STORE_OK;
}

static void batch_free(struct store_batch *b)
{
	b->s->batch = NULL;
	free(b->seen.slots);
	free(b);
}

static enum store_err batch_feed_state(struct store_batch *b, const struct feed_meta *meta,
				       const struct store_fetch_update *fu)
{
	struct store *s = b->s;
	enum store_err e = STORE_OK;
	if (meta) {
		sqlite3_stmt *st = store_stmt(s, ST_FEED_META);
		if (!st)
			return s->last_err;
		sqlite3_bind_int64(st, 1, b->feed_id);
		store_bind_str(st, 2, meta->title);
		store_bind_str(st, 3, meta->link);
		e = store_run(s, st, "update feed title");
	}
	size_t stored = b->counts[0] + b->counts[1] + b->counts[2];
	if (e == STORE_OK && stored) {
		sqlite3_stmt *st = store_stmt(s, ST_FEED_LAST_BATCH);
		if (!st)
			return s->last_err;
		sqlite3_bind_int64(st, 1, b->feed_id);
		sqlite3_bind_int64(st, 2, b->now);
		e = store_run(s, st, "mark latest document");
	}
	if (e == STORE_OK && fu)
		e = store_apply_fetch(s, b->feed_id, fu, NULL, NULL);
	return e;
}

enum store_err store_batch_commit(struct store_batch *b, const struct feed_meta *meta,
				  const struct store_fetch_update *fu, int64_t *first_seq,
				  int64_t *last_seq)
{
	struct store *s = b->s;
	if (first_seq)
		*first_seq = 0;
	if (last_seq)
		*last_seq = 0;
	enum store_err e = b->failed ? store_failf(s, b->failed,
						   "batch not committed: an item failed (%s)",
						   store_err_name(b->failed))
				     : batch_feed_state(b, meta, fu);
	if (e == STORE_OK)
		e = step_simple(s, ST_COMMIT, "commit");
	if (e != STORE_OK) {
		store_rollback(s);
	} else {
		if (first_seq)
			*first_seq = b->first_seq;
		if (last_seq)
			*last_seq = b->last_seq;
	}
	batch_free(b);
	return e;
}

void store_batch_abort(struct store_batch *b)
{
	if (!b)
		return;
	store_rollback(b->s);
	batch_free(b);
}

size_t store_batch_count(const struct store_batch *b, enum store_item_result r)
{
	return (unsigned)r < 3 ? b->counts[r] : 0;
}

/* ---------------------------------------------------------------- events */

const char *store_event_kind_name(enum store_event_kind k)
{
	return k == STORE_EV_UPDATE ? "update" : "new";
}

/* Column order of EVENT_SELECT in store_sql.c. */
enum event_col {
	EC_SEQ,
	EC_KIND,
	EC_TIME,
	EC_FEED_ID,
	EC_FEED_URL,
	EC_FEED_TITLE,
	EC_GUID,
	EC_TITLE,
	EC_LINK,
	EC_AUTHOR,
	EC_PUBLISHED,
	EC_UPDATED,
	EC_SUMMARY,
	EC_CONTENT,
	EC_CATEGORIES,
	EC_ENCLOSURES,
};

static char *col_str(sqlite3_stmt *st, int col)
{
	return (char *)sqlite3_column_text(st, col);
}

static int64_t col_date(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? FEED_NO_DATE
							     : sqlite3_column_int64(st, col);
}

/* The event of the current row; the item's strings point into the row (no copy). */
static int event_from_row(sqlite3_stmt *st, struct store_event *ev, struct feed_item *it)
{
	memset(it, 0, sizeof *it);
	it->id = col_str(st, EC_GUID);
	it->title = col_str(st, EC_TITLE);
	it->link = col_str(st, EC_LINK);
	it->author = col_str(st, EC_AUTHOR);
	it->published = col_date(st, EC_PUBLISHED);
	it->updated = col_date(st, EC_UPDATED);
	it->summary = col_str(st, EC_SUMMARY);
	it->content = col_str(st, EC_CONTENT);
	const char *cats = col_str(st, EC_CATEGORIES);
	const char *encs = col_str(st, EC_ENCLOSURES);
	int rc = 0;
	if (cats)
		rc |= store_categories_parse(cats, (size_t)sqlite3_column_bytes(st, EC_CATEGORIES),
					     it);
	if (encs)
		rc |= store_enclosures_parse(encs, (size_t)sqlite3_column_bytes(st, EC_ENCLOSURES),
					     it);
	const char *kind = col_str(st, EC_KIND);
	ev->seq = sqlite3_column_int64(st, EC_SEQ);
	ev->kind = kind && !strcmp(kind, "update") ? STORE_EV_UPDATE : STORE_EV_NEW;
	ev->time = sqlite3_column_int64(st, EC_TIME);
	ev->feed_id = sqlite3_column_int64(st, EC_FEED_ID);
	ev->feed_url = col_str(st, EC_FEED_URL);
	ev->feed_title = col_str(st, EC_FEED_TITLE);
	ev->item = it;
	return rc;
}

/* "[3,7]": the feed filter as a JSON array for json_each(). */
static char *feeds_json(const int64_t *feeds, size_t n)
{
	char *out = malloc(n * 21 + 3);
	if (!out)
		return NULL;
	size_t len = 0;
	out[len++] = '[';
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(out + len, "%s%" PRId64, i ? "," : "", feeds[i]);
	out[len++] = ']';
	out[len] = 0;
	return out;
}

enum store_err store_events_after(struct store *s, int64_t after, const int64_t *feeds,
				  size_t nfeeds, size_t max, store_event_fn fn, void *ud,
				  size_t *delivered, int64_t *last_seq)
{
	if (delivered)
		*delivered = 0;
	if (last_seq)
		*last_seq = after;
	if (!fn)
		return store_failf(s, STORE_ERR_INVALID, "events: no callback");
	if (s->batch)
		return store_failf(s, STORE_ERR_INVALID,
				   "events: a batch is open (its events are not committed)");
	sqlite3_stmt *st = store_stmt(s, nfeeds ? ST_EVENTS_AFTER_FEEDS : ST_EVENTS_AFTER);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, max ? (int64_t)max : -1);
	if (nfeeds) {
		char *filter = feeds_json(feeds, nfeeds);
		if (!filter)
			return store_failf(s, STORE_ERR_NOMEM, "out of memory");
		sqlite3_bind_text(st, 3, filter, -1, free);
	}
	enum store_err e = STORE_OK;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event ev;
		struct feed_item it;
		if (event_from_row(st, &ev, &it) != 0) {
			store_item_lists_free(&it);
			e = store_failf(s, STORE_ERR_NOMEM, "cannot decode the lists of event %" PRId64 " (out of memory?)",
					ev.seq);
			break;
		}
		int stop = fn(ud, &ev);
		store_item_lists_free(&it);
		n++;
		if (last_seq)
			*last_seq = ev.seq;
		if (stop)
			break;
	}
	if (e == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store_fail(s, rc, "read events");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (delivered)
		*delivered = n;
	return e;
}

/* ---------------------------------------------------------------- retention */

void store_retention_default(struct store_retention *r)
{
	r->max_items_per_feed = STORE_RETENTION_ITEMS_DEFAULT;
	r->max_age_days = STORE_RETENTION_DAYS_DEFAULT;
}

static enum store_err prune_select(struct store *s, const struct store_retention *r,
				   int64_t cutoff)
{
	enum store_err e = step_simple(s, ST_PRUNE_CLEAR, "prune");
	if (e == STORE_OK && r->max_items_per_feed) {
		sqlite3_stmt *st = store_stmt(s, ST_PRUNE_BY_COUNT);
		if (!st)
			return s->last_err;
		size_t max = r->max_items_per_feed;
		sqlite3_bind_int64(st, 1, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
		e = store_run(s, st, "prune by count");
	}
	if (e == STORE_OK && r->max_age_days) {
		sqlite3_stmt *st = store_stmt(s, ST_PRUNE_BY_AGE);
		if (!st)
			return s->last_err;
		sqlite3_bind_int64(st, 1, cutoff);
		e = store_run(s, st, "prune by age");
	}
	return e;
}

static void bind_cutoff(sqlite3_stmt *st, const struct store_retention *r, int64_t cutoff)
{
	if (r->max_age_days)
		sqlite3_bind_int64(st, 1, cutoff);
	else
		sqlite3_bind_null(st, 1);
}

static enum store_err prune_delete(struct store *s, const struct store_retention *r,
				   int64_t cutoff, size_t *items, size_t *events)
{
	sqlite3_stmt *st = store_stmt(s, ST_PRUNE_EVENT_STATS);
	if (!st)
		return s->last_err;
	bind_cutoff(st, r, cutoff);
	int rc = sqlite3_step(st);
	int64_t nevents = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	int64_t maxseq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, rc, "prune");
	st = store_stmt(s, ST_PRUNE_EVENTS);
	if (!st)
		return s->last_err;
	bind_cutoff(st, r, cutoff);
	enum store_err e = store_run(s, st, "prune events");
	if (e == STORE_OK)
		e = step_simple(s, ST_PRUNE_ITEMS, "prune items");
	if (e != STORE_OK)
		return e;
	*items = (size_t)sqlite3_changes(s->db);
	*events = (size_t)nevents;
	st = store_stmt(s, ST_META_PRUNED);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, maxseq);
	return store_run(s, st, "record pruned_upto");
}

/* Negative days, or beyond a million years, mean unlimited (and keep the product in range). */
static void prune_normalise(struct store_retention *r)
{
	if (r->max_age_days < 0 || r->max_age_days > 365000000)
		r->max_age_days = 0;
}

static int64_t prune_cutoff(const struct store_retention *r, int64_t now)
{
	return now - r->max_age_days * 86400;
}

enum store_err store_prune(struct store *s, const struct store_retention *lim, int64_t now,
			   size_t *items_pruned, size_t *events_pruned)
{
	struct store_retention rr = *lim, *r = &rr;
	prune_normalise(r);
	size_t items = 0, events = 0;
	if (items_pruned)
		*items_pruned = 0;
	if (events_pruned)
		*events_pruned = 0;
	if (s->batch)
		return store_failf(s, STORE_ERR_INVALID, "prune: a batch is open");
	s->prune.active = false; /* it reuses temp.prune_ids */
	if (!r->max_items_per_feed && !r->max_age_days)
		return STORE_OK;
	int64_t cutoff = prune_cutoff(r, now);
	enum store_err e = step_simple(s, ST_BEGIN, "begin prune");
	if (e != STORE_OK)
		return e;
	e = prune_select(s, r, cutoff);
	if (e == STORE_OK)
		e = prune_delete(s, r, cutoff, &items, &events);
	if (e == STORE_OK)
		e = step_simple(s, ST_COMMIT, "commit prune");
	if (e != STORE_OK) {
		store_rollback(s);
		return e;
	}
	if (items_pruned)
		*items_pruned = items;
	if (events_pruned)
		*events_pruned = events;
	return STORE_OK;
}

/* ---------------------------------------------------------------- retention in steps */

/*
 * Why steps: the first prune after a user lowers retain_items on a
 * database of a million items deletes most of it, and as one transaction
 * it holds SQLite's write lock for seconds, so every document commit
 * waits (busy_timeout) or fails.  Here each call does one bounded piece:
 *
 * - choose: the candidates of the next feeds (whole feeds, about
 *   PRUNE_SCAN times max_items items) go into temp.prune_ids (per
 *   connection), in a read transaction (WAL readers do not block the
 *   writer).  Deleting items beyond a feed's newest N leaves the newest N
 *   in place, so what was chosen stays what store_prune would choose,
 *   except items a newer document brought back: the delete step
 *   rechecks those.
 * - delete: the lowest max_items candidates, with their events, in a
 *   write transaction; candidates go before the next feeds are chosen.
 * - old events: the events older than the cutoff, among the next
 *   PRUNE_SCAN times max_items seqs, at most max_items of them.
 */
#define PRUNE_SCAN 8

static bool prune_left(const struct store_prune_state *ps)
{
	return ps->items_left || !ps->chosen_all || ps->old_after < ps->old_upto;
}

static bool prune_same_run(const struct store *s, const struct store_retention *r, int64_t now)
{
	const struct store_prune_state *ps = &s->prune;
	return ps->active && ps->now == now && ps->r.max_items_per_feed == r->max_items_per_feed &&
	       ps->r.max_age_days == r->max_age_days;
}

/* One int64 column of a one-row statement with ?1 and ?2 bound (*found false when no row). */
static enum store_err prune_query(struct store *s, enum store_stmt id, int64_t a, int64_t b,
				  int64_t *out, bool *found, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	*out = 0;
	*found = false;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		*found = true;
		rc = SQLITE_DONE;
	}
	enum store_err e = rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

/* Runs a statement that takes one id bound (?1). */
static enum store_err prune_run_upto(struct store *s, enum store_stmt id, int64_t upto,
				     const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, upto);
	return store_run(s, st, what);
}

/* Runs a RANGE_BY_* statement: ?1 the limit, feeds in (lo, hi]. */
static enum store_err prune_run_range(struct store *s, enum store_stmt id, int64_t limit,
				      int64_t lo, int64_t hi, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, limit);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	return store_run(s, st, what);
}

/* Steps a DELETE ... RETURNING seq: adds the rows to *n, raises *maxseq. */
static enum store_err prune_returning(struct store *s, sqlite3_stmt *st, const char *what,
				      size_t *n, int64_t *maxseq)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		(*n)++;
		if (seq > *maxseq)
			*maxseq = seq;
	}
	enum store_err e = rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

static int64_t prune_int(size_t n)
{
	return n > (size_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* Chooses the candidates of the next feeds (about span items), in a read transaction. */
static enum store_err prune_choose_step(struct store *s, struct store_prune_state *ps,
					size_t span)
{
	const struct store_retention *r = &ps->r;
	int64_t lo = ps->chosen_upto, hi = 0, first = 0;
	bool more_feeds = false, any = false;
	enum store_err e = step_simple(s, ST_BEGIN_READ, "begin prune");
	if (e != STORE_OK)
		return e;
	e = prune_query(s, ST_PRUNE_RANGE_END, lo, prune_int(span - 1), &hi, &more_feeds,
			"prune");
	if (!more_feeds)
		hi = INT64_MAX;
	if (e == STORE_OK && r->max_items_per_feed)
		e = prune_run_range(s, ST_PRUNE_RANGE_BY_COUNT, prune_int(r->max_items_per_feed),
				    lo, hi, "prune by count");
	if (e == STORE_OK && r->max_age_days)
		e = prune_run_range(s, ST_PRUNE_RANGE_BY_AGE, prune_cutoff(r, ps->now), lo, hi,
				    "prune by age");
	if (e == STORE_OK)
		e = prune_query(s, ST_PRUNE_NEXT, 0, 0, &first, &any, "prune");
	if (e == STORE_OK)
		e = step_simple(s, ST_COMMIT, "commit prune");
	ps->chosen_upto = hi;
	ps->chosen_all = !more_feeds;
	ps->items_left = any;
	return e;
}

/* Deletes the next max candidates that are still prunable, with their events. */
static enum store_err prune_items_step(struct store *s, struct store_prune_state *ps, size_t max,
				       size_t *items, size_t *events, int64_t *maxseq)
{
	int64_t next = 0; /* the first candidate of the following step */
	bool more = false;
	enum store_err e =
		prune_query(s, ST_PRUNE_NEXT, prune_int(max), 0, &next, &more, "prune");
	int64_t upto = more ? next - 1 : INT64_MAX;
	if (e == STORE_OK)
		e = prune_run_upto(s, ST_PRUNE_RECHECK, upto, "prune: recheck");
	sqlite3_stmt *st = e == STORE_OK ? store_stmt(s, ST_PRUNE_STEP_EVENTS) : NULL;
	if (e == STORE_OK && !st)
		e = s->last_err;
	if (e == STORE_OK) {
		sqlite3_bind_int64(st, 1, upto);
		e = prune_returning(s, st, "prune events", events, maxseq);
	}
	if (e == STORE_OK)
		e = prune_run_upto(s, ST_PRUNE_STEP_ITEMS, upto, "prune items");
	if (e == STORE_OK) {
		*items = (size_t)sqlite3_changes(s->db);
		e = prune_run_upto(s, ST_PRUNE_STEP_DONE, upto, "prune");
	}
	ps->items_left = more;
	return e;
}

/* Deletes the events older than the cutoff among the next span seqs, at most max of them. */
static enum store_err prune_old_step(struct store *s, struct store_prune_state *ps, size_t max,
				     size_t span, size_t *events, int64_t *maxseq)
{
	sqlite3_stmt *st = store_stmt(s, ST_PRUNE_STEP_OLD);
	if (!st)
		return s->last_err;
	int64_t end = ps->old_upto - ps->old_after > prune_int(span)
			      ? ps->old_after + prune_int(span)
			      : ps->old_upto;
	sqlite3_bind_int64(st, 1, ps->old_after);
	sqlite3_bind_int64(st, 2, end);
	sqlite3_bind_int64(st, 3, prune_cutoff(&ps->r, ps->now));
	sqlite3_bind_int64(st, 4, prune_int(max));
	enum store_err e = prune_returning(s, st, "prune old events", events, maxseq);
	/* every old event up to the highest deleted is gone; fewer than max: all up to end */
	ps->old_after = *events < max ? end : *maxseq;
	return e;
}

static enum store_err prune_raise(struct store *s, int64_t maxseq)
{
	sqlite3_stmt *st = store_stmt(s, ST_META_PRUNED);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, maxseq);
	return store_run(s, st, "record pruned_upto");
}

/* A new run: nothing chosen yet; the old events to look at run from the
 * oldest event (not from seq 0: an hourly run would step through every seq
 * ever pruned) to the head. */
static enum store_err prune_new_run(struct store *s, const struct store_retention *r,
				    int64_t now, struct store_prune_state *ps)
{
	*ps = (struct store_prune_state){.active = true, .r = *r, .now = now};
	s->prune.active = false;
	enum store_err e = step_simple(s, ST_PRUNE_CLEAR, "prune");
	int64_t oldest = 0;
	if (e == STORE_OK && r->max_age_days)
		e = store_head(s, &ps->old_upto);
	if (e == STORE_OK && r->max_age_days)
		e = store_oldest(s, &oldest);
	if (oldest > 1)
		ps->old_after = oldest - 1;
	return e;
}

/* A write step: delete candidates, else old events; pruned_upto follows in the same transaction. */
static enum store_err prune_write_step(struct store *s, struct store_prune_state *ps, size_t max,
				       size_t *items, size_t *events)
{
	int64_t maxseq = 0;
	enum store_err e = step_simple(s, ST_BEGIN, "begin prune");
	if (e != STORE_OK)
		return e;
	if (ps->items_left)
		e = prune_items_step(s, ps, max, items, events, &maxseq);
	else
		e = prune_old_step(s, ps, max, max * PRUNE_SCAN, events, &maxseq);
	if (e == STORE_OK && maxseq)
		e = prune_raise(s, maxseq);
	if (e == STORE_OK)
		e = step_simple(s, ST_COMMIT, "commit prune");
	return e;
}

enum store_err store_prune_step(struct store *s, const struct store_retention *lim, int64_t now,
				size_t max_items, size_t *items_pruned, size_t *events_pruned,
				bool *more)
{
	struct store_retention r = *lim;
	prune_normalise(&r);
	size_t items = 0, events = 0;
	if (items_pruned)
		*items_pruned = 0;
	if (events_pruned)
		*events_pruned = 0;
	*more = false;
	if (s->batch)
		return store_failf(s, STORE_ERR_INVALID, "prune: a batch is open");
	if (!r.max_items_per_feed && !r.max_age_days) {
		s->prune.active = false;
		return STORE_OK;
	}
	if (!max_items)
		max_items = STORE_PRUNE_STEP_DEFAULT;
	if (max_items > SIZE_MAX / PRUNE_SCAN)
		max_items = SIZE_MAX / PRUNE_SCAN;
	struct store_prune_state ps = s->prune;
	enum store_err e = STORE_OK;
	if (!prune_same_run(s, &r, now))
		e = prune_new_run(s, &r, now, &ps);
	if (e == STORE_OK && !ps.items_left && !ps.chosen_all)
		e = prune_choose_step(s, &ps, max_items * PRUNE_SCAN);
	else if (e == STORE_OK)
		e = prune_write_step(s, &ps, max_items, &items, &events);
	if (e != STORE_OK) {
		store_rollback(s); /* temp.prune_ids too: the run is where it was */
		return e;
	}
	ps.active = prune_left(&ps);
	s->prune = ps;
	*more = ps.active;
	if (items_pruned)
		*items_pruned = items;
	if (events_pruned)
		*events_pruned = events;
	return STORE_OK;
}
