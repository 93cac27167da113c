/*
 * store.h - the persistent store of feedd (the whole public interface of
 * store/): feeds and their fetch state, items with dedup, the event log
 * with its cursors, retention.
 *
 * The implementation is SQLite (the .c files of store/; the schema is in store_sql.c,
 * readable with the sqlite3 shell), but nothing here exposes a
 * SQLite type, so another backend (PostgreSQL for several nodes, see
 * DESIGN.md "Beyond one machine") can implement the same header.
 *
 * Conventions
 * - Every function that can fail returns an enum store_err; STORE_OK is 0.
 *   store_errmsg() gives a human-readable message for the last failure on
 *   that handle (valid until the next call on the handle).
 * - Times are seconds since the epoch, UTC.  Functions that write take the
 *   current time from the caller ("now"), so tests and the scheduler agree
 *   on one clock.  0 means "never" / "not set" for times.
 * - Strings passed in are copied; the store keeps no pointer to them.
 *   Strings handed to callbacks are owned by the store and valid only for
 *   the duration of the call.  Structs filled for the caller
 *   (store_feed_get) own their strings: release them with store_feed_clear.
 * - One handle is used by one thread at a time.
 *
 * Events and cursors (DESIGN.md "Events, cursors")
 * - Every new item and every update of an item appends one event with a
 *   sequence number (seq) that only grows and is never reused, also after
 *   deletions (gaps are allowed).  Events become visible at COMMIT only,
 *   and in seq order: SQLite has one writer at a time, so a transaction
 *   that took lower seqs has committed before one with higher seqs starts
 *   (a backend with concurrent writers must keep that property, or a
 *   reader could pass over a seq that commits later).
 * - The database has an epoch: 128 random bits (32 lowercase hex digits)
 *   drawn when it is created.  A cursor is "<epoch>:<seq>".
 * - head: the highest seq ever assigned (0 for a new database).
 *   pruned_upto: events with seq <= pruned_upto may have been deleted by
 *   retention; every event with seq > pruned_upto still exists, except
 *   those of feeds that were removed (removing a feed removes its items and
 *   events: nobody should receive items of a feed that no longer exists).
 * - A subscriber at cursor N has handled every event <= N and wants the
 *   events > N: store_events_after(N).  To replay everything retained, use
 *   after = pruned_upto.
 * - An event refers to its item, and replay delivers the item as it is
 *   stored now: an item updated twice yields two `update` events that both
 *   carry the latest version (at-least-once, never older than the event).
 */
#ifndef FEEDD_STORE_H
#define FEEDD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"

struct store;
struct store_batch;

enum store_err {
	STORE_OK = 0,
	STORE_ERR_BUSY,		/* another writer held the lock past busy_timeout */
	STORE_ERR_FULL,		/* disk or file-size limit full (SQLITE_FULL) */
	STORE_ERR_IO,		/* I/O error (a full disk shows as this at COMMIT) */
	STORE_ERR_CORRUPT,	/* quick_check failed, not a database, corrupt page */
	STORE_ERR_SCHEMA,	/* schema version newer than this program knows */
	STORE_ERR_EXISTS,	/* a feed with that URL already exists */
	STORE_ERR_NOT_FOUND,	/* no such feed */
	STORE_ERR_INVALID,	/* bad argument (NULL or empty URL, bad cursor ...) */
	STORE_ERR_NOMEM,
	STORE_ERR_INTERNAL,	/* any other database error (message says which) */
};

/* Stable short name of an error code: "busy", "full", "io", ... */
const char *store_err_name(enum store_err e);

/* Message of the last failure on s ("" when none).  s may be NULL (-> "out of memory"). */
const char *store_errmsg(const struct store *s);

/* ---------------------------------------------------------------- open */

struct store_opts {
	int busy_timeout_ms;	/* wait for a lock held by another process (default 5000) */
	bool skip_quick_check;	/* don't run PRAGMA quick_check at open (default false) */
};
void store_opts_default(struct store_opts *o);

/*
 * Opens (creating when missing) the database at path, migrates its schema
 * to the current version in one transaction, checks it with quick_check
 * and draws the epoch on creation.  opts may be NULL (defaults).
 *
 * Always sets *out, also on failure (then to a handle that only carries
 * the error message, like sqlite3_open): call store_errmsg(*out) for the
 * reason and store_close(*out) in both cases.  *out is NULL only when
 * memory ran out.
 */
enum store_err store_open(const char *path, const struct store_opts *opts, struct store **out);

/*
 * Runs PRAGMA quick_check, as store_open does unless told to skip it:
 * STORE_ERR_CORRUPT with the finding when the database is damaged.
 * Reads the whole file.
 */
enum store_err store_quick_check(struct store *s);

/*
 * Opens another handle on the database s has open, for another thread (a
 * handle is used by one thread at a time): the same path and busy
 * timeout, without a second quick_check.  The schema is current already,
 * so no write lock is taken.  *out as with store_open.  The handles are
 * independent connections: what one commits, the other sees from its
 * next statement on; their writes wait for each other (busy timeout).
 */
enum store_err store_open_peer(const struct store *s, struct store **out);

/* Finalizes everything and closes.  NULL is fine.  An open batch is rolled back and
 * freed (its pointer must not be used afterwards). */
void store_close(struct store *s);

/* Current schema version (PRAGMA user_version after migration). */
int store_schema_version(void);

/* ---------------------------------------------------------------- feeds */

struct store_feed {
	int64_t id;		/* > 0; never reused after the feed is removed */
	char *url;
	char *title;		/* the feed's own title, from its last document; NULL if unknown */
	char *user_title;	/* title given by the user (feedd add --title); NULL if none */
	char *site_link;	/* the feed's <link>, absolute; NULL if unknown */
	char *etag;		/* validators exactly as received, NULL when none */
	char *last_modified;
	int64_t next_poll;	/* 0: as soon as possible */
	char *next_poll_reason; /* what set next_poll ("interval", "max-age", "backoff", ...) */
	int64_t last_fetch;	/* last attempt */
	int64_t last_success;
	int64_t interval;	/* per-feed interval override in seconds; 0 = global default */
	int consecutive_errors;
	char *last_error;	/* NULL after a success */
	/*
	 * The latest stored document was parsed only after recovering from
	 * broken XML ("line L, column C: message") or was cut short by a
	 * limit ("item limit 10000 reached"); NULL when it was clean.  What
	 * was stored from it is kept: this is a warning, not an error.
	 */
	char *warning;
	int last_status;	/* last HTTP status; 0 when none (never fetched, no response) */
	bool disabled;
	char *disabled_reason;
	char *redirect_url;	/* permanent-redirect candidate, NULL when none */
	int redirect_count;	/* polls in a row that redirected permanently to redirect_url */
	bool allow_private;	/* may connect to private / loopback addresses */
	int64_t created;
};

/* Frees the strings of f and zeroes it. */
void store_feed_clear(struct store_feed *f);

/* user_title when set, else title, else NULL. */
const char *store_feed_display_title(const struct store_feed *f);

struct store_feed_new {
	const char *url;	/* required, non-empty; validated by the caller */
	const char *user_title; /* NULL for none */
	int64_t interval;	/* 0 = global default */
	bool allow_private;
	int64_t next_poll;	/* first poll time; 0 = as soon as possible */
};

/*
 * Adds a feed.  A URL that is already stored gives STORE_ERR_EXISTS
 * ("feed already exists: URL (id N)") and *id_out the existing feed's id.
 * id_out may be NULL.
 */
enum store_err store_feed_add(struct store *s, const struct store_feed_new *nf, int64_t now,
			      int64_t *id_out);

/*
 * Removes a feed with its items and their events (see the head of this
 * file for why the cursors stay correct).  STORE_ERR_NOT_FOUND when absent.
 */
enum store_err store_feed_remove(struct store *s, int64_t id);
enum store_err store_feed_remove_url(struct store *s, const char *url);

/* Fills *f (release with store_feed_clear).  STORE_ERR_NOT_FOUND when absent. */
enum store_err store_feed_get(struct store *s, int64_t id, struct store_feed *f);
enum store_err store_feed_get_url(struct store *s, const char *url, struct store_feed *f);

/*
 * Called per feed; f is valid during the call only.  Non-zero stops the
 * walk.  The callback may call other store functions (also writes), but
 * not the same walk again (that returns STORE_ERR_INVALID).
 */
typedef int (*store_feed_fn)(void *ud, const struct store_feed *f);

/* Every feed, by id. */
enum store_err store_feeds_list(struct store *s, store_feed_fn fn, void *ud);

/*
 * Feeds with next_poll <= now that are not disabled, soonest first, at
 * most max (0 = all).  (A multi-node backend would lease the feeds it
 * returns, FOR UPDATE SKIP LOCKED; with one SQLite writer nothing is needed.)
 */
enum store_err store_feeds_due(struct store *s, int64_t now, size_t max, store_feed_fn fn,
			       void *ud);

/*
 * Publication times of the newest items of feed id (published, else
 * updated, else first seen), newest first, into times[0..max); *n gets how
 * many were written.  Input for a schedule that adapts to how often the
 * feed really publishes.
 */
enum store_err store_feed_recent_times(struct store *s, int64_t id, int64_t *times, size_t max,
				       size_t *n);

/* The earliest next_poll of an enabled feed into *t; *found = false when no feed is enabled. */
enum store_err store_next_due(struct store *s, int64_t *t, bool *found);

/*
 * The outcome of one fetch, written to the feed's state.  Used on its own
 * (304, errors) or inside store_batch_commit (a parsed document), so that
 * new validators are only stored together with the items they describe.
 */
struct store_fetch_update {
	int64_t fetched_at;	/* -> last_fetch */
	int http_status;	/* -> last_status; 0 when no response */
	bool ok;		/* true: last_success = fetched_at, consecutive_errors = 0,
				 * last_error = NULL.  false: consecutive_errors + 1,
				 * last_error = error */
	const char *error;	/* when !ok; NULL records "unknown error" */
	bool set_validators;	/* true: etag and last_modified below replace the stored
				 * ones (NULL clears); false: the stored ones stay */
	const char *etag;	/* bytes exactly as received (NUL-terminated) */
	const char *last_modified;
	int64_t next_poll;	/* when to poll next */
	const char *next_poll_reason;
	bool disable;		/* true: disabled = 1 with disabled_reason (e.g. 410 Gone) */
	const char *disabled_reason;
	/*
	 * A permanent redirect (301/308 on every hop) to this URL, or NULL.
	 * The same URL as the stored candidate increments redirect_count,
	 * another URL makes it the candidate with count 1, NULL clears both.
	 * The caller rewrites the URL (store_feed_set_url) when the count
	 * it gets back reaches its threshold.
	 */
	const char *redirect_url;
	/*
	 * A document was parsed (set_warning true): warning (NULL when the
	 * document was well-formed and within every limit) replaces the
	 * stored one.  false (304, errors): the stored warning stays.
	 */
	bool set_warning;
	const char *warning;
};

/*
 * Applies u to feed id.  *errors_out (may be NULL) receives the new
 * consecutive_errors, *redirects_out (may be NULL) the new redirect_count.
 * Commits without an fsync (it writes no event): the next item batch syncs
 * it along; a power loss before that only costs a repeated fetch.
 */
enum store_err store_feed_update_fetch(struct store *s, int64_t id,
				       const struct store_fetch_update *u, int *errors_out,
				       int *redirects_out);

/* One feed's fetch outcome for store_feed_update_fetch_many. */
struct store_fetch_state {
	int64_t id;
	const struct store_fetch_update *u; /* borrowed for the call */
	enum store_err err;		    /* out: STORE_OK, or STORE_ERR_NOT_FOUND (no such feed) */
	int errors, redirects;		    /* out: as errors_out / redirects_out above */
};

/*
 * Applies the updates of n feeds in one transaction, committed without an
 * fsync like store_feed_update_fetch (none writes an event, so grouping
 * them costs no durability an announcement relies on).  A feed that is
 * gone gets v[i].err = STORE_ERR_NOT_FOUND and the others are written.
 * Any other failure rolls all of them back and is returned (v[].err is
 * then meaningless): the caller may retry them one by one to learn which.
 */
enum store_err store_feed_update_fetch_many(struct store *s, struct store_fetch_state *v,
					    size_t n);

/* Rewrites the URL (after permanent redirects); clears the candidate.  STORE_ERR_EXISTS
 * when another feed has that URL. */
enum store_err store_feed_set_url(struct store *s, int64_t id, const char *url);

/* Sets next_poll and its reason only (poll-now, start-up spreading). */
enum store_err store_feed_set_next_poll(struct store *s, int64_t id, int64_t next_poll,
					const char *reason);

/* Enables (reason ignored) or disables a feed. */
enum store_err store_feed_set_disabled(struct store *s, int64_t id, bool disabled,
				       const char *reason);

/* Sets the user's title (NULL clears) and the interval override (0 = default). */
enum store_err store_feed_set_user(struct store *s, int64_t id, const char *user_title,
				   int64_t interval, bool allow_private);

/* ---------------------------------------------------------------- items: one batch per document */

enum store_item_result {
	STORE_ITEM_UNCHANGED = 0, /* known, same content: only last_seen written */
	STORE_ITEM_NEW,		  /* stored, `new` event appended */
	STORE_ITEM_UPDATED,	  /* stored over the old version, `update` event appended */
};

/*
 * Begins one transaction (BEGIN IMMEDIATE) for the items of one fetched
 * document of feed feed_id, at time now.  On failure (STORE_ERR_BUSY ...)
 * *out is NULL and nothing is open.  Only one batch may be open per handle.
 */
enum store_err store_batch_begin(struct store *s, int64_t feed_id, int64_t now,
				 struct store_batch **out);

/*
 * Stores one item with dedup (DESIGN.md "Dedup"): the key is the item's id
 * when non-empty, else its link, else a stable hash of title, published and
 * summary.  A known key whose title, summary, content or updated date
 * changed is an update; otherwise only last_seen moves.  *res may be NULL.
 * After an error the batch can only be aborted (store_batch_commit would
 * roll back and return that error).
 */
enum store_err store_batch_item(struct store_batch *b, const struct feed_item *it,
				enum store_item_result *res);

/*
 * Commits: meta (may be NULL) refreshes the feed's title and site link; fu
 * (may be NULL) is applied as store_feed_update_fetch inside the same
 * transaction.  On success *first_seq / *last_seq (may be NULL) receive
 * the range of seqs written (both 0 when no event was written), to be
 * announced now that they are durable.  On any failure (BUSY, FULL, IO at
 * COMMIT) everything of the batch is rolled back: no seq of it ever
 * becomes visible and nothing committed before is touched.  In every case
 * the batch is freed.
 */
enum store_err store_batch_commit(struct store_batch *b, const struct feed_meta *meta,
				  const struct store_fetch_update *fu, int64_t *first_seq,
				  int64_t *last_seq);

/* Rolls back and frees.  NULL is fine. */
void store_batch_abort(struct store_batch *b);

/* Counts of the batch so far. */
size_t store_batch_count(const struct store_batch *b, enum store_item_result r);

/* ---------------------------------------------------------------- events, cursors */

enum store_event_kind {
	STORE_EV_NEW = 1,
	STORE_EV_UPDATE = 2,
};
/* "new" or "update". */
const char *store_event_kind_name(enum store_event_kind k);

struct store_event {
	int64_t seq;
	enum store_event_kind kind;
	int64_t time;		/* when the event was committed (the batch's now) */
	int64_t feed_id;
	const char *feed_url;
	const char *feed_title; /* display title (user's, else the feed's); may be NULL */
	const struct feed_item *item; /* the item as stored now */
};

/*
 * Called per event in seq order.  Everything is valid during the call only.
 * Non-zero stops the replay (e.g. the client's output buffer is full).  The
 * callback may call other store functions, but not store_events_after
 * (STORE_ERR_INVALID): finish one replay, then start the next.
 */
typedef int (*store_event_fn)(void *ud, const struct store_event *ev);

/*
 * Delivers the events with seq > after, in seq order, at most max of them
 * (0 = no limit), of the feeds in feeds[0..nfeeds) only when nfeeds > 0.
 * Steps through one prepared statement: memory does not grow with the
 * number of events.  *delivered (may be NULL) gets the number of callbacks
 * made, *last_seq (may be NULL) the seq of the last one delivered (after
 * when none).  This is the one path for replay and live delivery.
 */
enum store_err store_events_after(struct store *s, int64_t after, const int64_t *feeds,
				  size_t nfeeds, size_t max, store_event_fn fn, void *ud,
				  size_t *delivered, int64_t *last_seq);

/* The epoch: 32 lowercase hex digits, NUL-terminated, owned by s. */
const char *store_epoch(const struct store *s);
/* Highest seq ever assigned (0 when none). */
enum store_err store_head(struct store *s, int64_t *seq);
/* Seq of the oldest event still retained; 0 when the log is empty. */
enum store_err store_oldest(struct store *s, int64_t *seq);
/* See the head of this file. */
enum store_err store_pruned_upto(struct store *s, int64_t *seq);

#define STORE_EPOCH_LEN 32
#define STORE_CURSOR_MAX (STORE_EPOCH_LEN + 1 + 20 + 1)

struct store_cursor {
	char epoch[STORE_EPOCH_LEN + 1];
	int64_t seq;
};

/*
 * Parses "<epoch>:<seq>" (epoch 1..32 hex digits, stored lowercase; seq a
 * decimal >= 0 that fits int64, digits only).  false when malformed.
 */
bool store_cursor_parse(const char *text, struct store_cursor *c);
/* Writes "<epoch>:<seq>" into buf (STORE_CURSOR_MAX bytes suffice); returns its length. */
size_t store_cursor_format(char *buf, size_t size, const char *epoch, int64_t seq);

enum store_cursor_state {
	STORE_CURSOR_OK = 0,
	STORE_CURSOR_EPOCH_MISMATCH, /* from another database */
	STORE_CURSOR_EXPIRED,	     /* seq < pruned_upto: events after it were deleted */
	STORE_CURSOR_AHEAD,	     /* seq > head */
};
/* "ok", "epoch_mismatch", "cursor_expired", "cursor_ahead" (the protocol's codes). */
const char *store_cursor_state_name(enum store_cursor_state st);

/* Classifies c against this database. */
enum store_err store_cursor_check(struct store *s, const struct store_cursor *c,
				  enum store_cursor_state *st);

/* ---------------------------------------------------------------- retention */

struct store_retention {
	size_t max_items_per_feed; /* keep the newest N items per feed; 0 = unlimited */
	int64_t max_age_days;	   /* drop items not seen for M days, and events older
				    * than M days; 0 = unlimited */
};

/*
 * Defaults: 1000 items per feed and 180 days, so that a database does not
 * grow without bound; the daemon's config overrides both (0 = unlimited).
 */
#define STORE_RETENTION_ITEMS_DEFAULT 1000
#define STORE_RETENTION_DAYS_DEFAULT 180
void store_retention_default(struct store_retention *r);

/*
 * Prunes items (with their events) beyond the limits, never an item that
 * was present in its feed's latest fetched document, and raises
 * pruned_upto to the highest seq deleted.  One transaction.  *items_pruned
 * and *events_pruned may be NULL.
 *
 * Which items go: per feed, those beyond the newest max_items_per_feed
 * (by first appearance); and those not seen in a document for
 * max_age_days.  Events older than max_age_days go too, also of items that
 * stay.  An item's later `update` event goes with the item, so pruning an
 * old item that was updated recently can raise pruned_upto past events
 * that remain: cursors below it are then refused (cursor_expired) rather
 * than silently missing that update.  One transaction: it blocks other
 * writers while it runs (seconds on a large database), so a daemon uses
 * store_prune_step instead.
 */
enum store_err store_prune(struct store *s, const struct store_retention *r, int64_t now,
			   size_t *items_pruned, size_t *events_pruned);

/* Items per transaction of a retention step, unless the caller says otherwise. */
#define STORE_PRUNE_STEP_DEFAULT 1000

/*
 * The same retention as store_prune, in short transactions, so that
 * other writers get the lock in between: call it until *more is false,
 * with the same r and now every time (other r or now start over).
 *
 * Each call does one bounded piece of the work (max_items, 0 = the
 * default, sets the size): either it chooses what goes of the next feeds
 * (whole feeds of about 8 * max_items items together, in a read
 * transaction that holds no write lock; the first call of a run does
 * this), or it deletes, in one write transaction, at most max_items
 * chosen items with their events, or once every feed was chosen and its
 * items deleted, at most max_items of the events older than max_age_days
 * among the next 8 * max_items seqs.  A write step raises pruned_upto to
 * the highest seq it deleted, so after every call the head of this file
 * holds (events > pruned_upto exist) and a cursor check is right.  An
 * item that a document committed between two calls made present in its
 * feed's latest fetch again is kept, as store_prune would keep it.
 * When no writer came between the calls, the end state (items, events,
 * pruned_upto) is exactly what store_prune(r, now) leaves.
 *
 * *items_pruned / *events_pruned (may be NULL) get what this call deleted.
 * On failure (BUSY ...) the call's transaction is rolled back and the run
 * stays where it was: calling again retries.  The run's state lives in
 * the handle: one run per handle at a time; store_prune ends it.
 */
enum store_err store_prune_step(struct store *s, const struct store_retention *r, int64_t now,
				size_t max_items, size_t *items_pruned, size_t *events_pruned,
				bool *more);

/* ---------------------------------------------------------------- metrics */

struct store_stats {
	int64_t feeds;
	int64_t feeds_new;	/* never fetched */
	int64_t feeds_ok;	/* fetched, last fetch succeeded */
	int64_t feeds_failing;	/* consecutive_errors > 0 */
	int64_t feeds_disabled;
	int64_t feeds_warning;	/* with a warning (store_feed.warning), whatever their state */
	int64_t items;
	int64_t events;
	int64_t head;
	int64_t oldest;
	int64_t pruned_upto;
};
enum store_err store_stats(struct store *s, struct store_stats *st);

/* ---------------------------------------------------------------- helpers */

/*
 * The dedup key of an item, as store_batch_item computes it: malloc'd,
 * the caller frees it.  NULL when out of memory.
 */
char *store_item_key(const struct feed_item *it);

/* FNV-1a 64 (stable across versions and machines). */
uint64_t store_fnv1a64(uint64_t h, const void *data, size_t len);
#define STORE_FNV_OFFSET 0xcbf29ce484222325ULL

#endif
