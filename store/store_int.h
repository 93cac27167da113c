/*
 * store_int.h - shared by the files of store/ only (not part of the
 * interface): the handle, the prepared-statement cache, error helpers.
 */
#ifndef FEEDD_STORE_INT_H
#define FEEDD_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/*
 * Every statement the store runs, prepared once (lazily) and cached in the
 * handle.  No SQL is ever built at run time: values go through bindings.
 * The SQL text of each id is in store_sql.c.
 */
enum store_stmt {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_USER_VERSION,
	ST_META_INSERT,
	ST_META_GET,
	ST_META_PRUNED,
	ST_HEAD,
	ST_OLDEST,
	ST_FEED_ADD,
	ST_FEED_ID_BY_URL,
	ST_FEED_EXISTS,
	ST_FEED_GET,
	ST_FEED_GET_URL,
	ST_FEED_LIST,
	ST_FEED_DUE,
	ST_FEED_NEXT_DUE,
	ST_FEED_REMOVE,
	ST_FEED_REMOVE_URL,
	ST_FEED_FETCH,
	ST_FEED_SET_URL,
	ST_FEED_SET_NEXT,
	ST_FEED_SET_DISABLED,
	ST_FEED_SET_USER,
	ST_FEED_META,
	ST_FEED_LAST_BATCH,
	ST_FEED_RECENT_TIMES,
	ST_ITEM_FIND,
	ST_ITEM_SEEN,
	ST_ITEM_INSERT,
	ST_ITEM_UPDATE,
	ST_EVENT_INSERT,
	ST_EVENTS_AFTER,
	ST_EVENTS_AFTER_FEEDS,
	ST_PRUNE_CLEAR,
	ST_PRUNE_BY_COUNT,
	ST_PRUNE_BY_AGE,
	ST_PRUNE_EVENT_STATS,
	ST_PRUNE_EVENTS,
	ST_PRUNE_ITEMS,
	ST_PRUNE_RANGE_END,
	ST_PRUNE_RANGE_BY_COUNT,
	ST_PRUNE_RANGE_BY_AGE,
	ST_PRUNE_NEXT,
	ST_PRUNE_RECHECK,
	ST_PRUNE_STEP_EVENTS,
	ST_PRUNE_STEP_ITEMS,
	ST_PRUNE_STEP_DONE,
	ST_PRUNE_STEP_OLD,
	ST_STATS_FEEDS,
	ST_STATS_ITEMS,
	ST_STATS_EVENTS,
	ST__COUNT
};

/* SQL text of a statement id (store_sql.c). */
const char *store_sql(enum store_stmt id);
/* The schema migrations: migration i (0-based) takes version i to i + 1. */
extern const char *const store_migrations[];
extern const int store_nmigrations;
/* Run once per connection, after the schema exists. */
extern const char store_sql_temp[];

/*
 * A retention run in steps (store_prune_step): the candidates of the
 * feeds with id <= chosen_upto are in temp.prune_ids (chosen_all: of every
 * feed); the events older than the cutoff still to go are among those
 * with old_after < seq <= old_upto (the head when the run started).
 * Changed only after a commit.
 */
struct store_prune_state {
	bool active;
	struct store_retention r; /* normalised (see store_prune) */
	int64_t now;
	int64_t chosen_upto;
	bool chosen_all;
	bool items_left;	  /* temp.prune_ids is not empty */
	int64_t old_after, old_upto;
};

struct store {
	sqlite3 *db;
	char *path;
	int busy_timeout_ms;
	sqlite3_stmt *stmt[ST__COUNT];
	char epoch[STORE_EPOCH_LEN + 1];
	struct store_batch *batch; /* the open batch, or NULL */
	struct store_prune_state prune; /* store_prune_step between calls */
	char err[512];
	enum store_err last_err; /* the code that goes with err */
};

/*
 * The cached statement id, prepared on first use and reset.  NULL (with
 * the error recorded in s: return s->last_err) when it cannot be prepared,
 * or when it is in use already (a callback re-entering the walk that
 * called it: STORE_ERR_INVALID).
 */
sqlite3_stmt *store_stmt(struct store *s, enum store_stmt id);

/* Records "what: <sqlite message>" for rc and returns the matching store_err. */
enum store_err store_fail(struct store *s, int rc, const char *what);
/* Records a message of our own and returns e. */
enum store_err store_failf(struct store *s, enum store_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Maps an SQLite result code to a store_err. */
enum store_err store_err_of(int rc);

/* Steps a statement that returns no rows (or ignores them) and resets it. */
enum store_err store_run(struct store *s, sqlite3_stmt *st, const char *what);

/* Binds text or NULL. */
int store_bind_str(sqlite3_stmt *st, int idx, const char *v);
/* Binds a date, NULL for FEED_NO_DATE. */
int store_bind_date(sqlite3_stmt *st, int idx, int64_t t);

/* A malloc'd copy of a text column, NULL when the column is NULL. */
char *store_col_dup(sqlite3_stmt *st, int col);

/* Applies a fetch update (store_feeds.c), inside whatever transaction is open. */
enum store_err store_apply_fetch(struct store *s, int64_t id, const struct store_fetch_update *u,
				 int *errors_out, int *redirects_out);

/* Rolls back the open transaction if there is one. */
void store_rollback(struct store *s);

/* ---- store_codec.c ---- */

/* Hash of the fields whose change makes an update: title, summary, content, updated. */
uint64_t store_content_hash(const struct feed_item *it);
/* The same from the stored columns (lengths in bytes; NULL strings are empty). */
uint64_t store_content_hash_raw(const char *title, size_t tlen, const char *summary,
				size_t slen, const char *content, size_t clen, int64_t updated);
/* Registers feedd_content_hash(title, summary, content, updated) on db (for migration 2). */
int store_register_functions(sqlite3 *db);

/* JSON arrays of categories / enclosures: malloc'd text, NULL when the list is empty
 * (*oom set when memory ran out). */
char *store_categories_json(const struct feed_item *it, bool *oom);
char *store_enclosures_json(const struct feed_item *it, bool *oom);

/*
 * Decodes what the two functions above wrote into it->categories /
 * it->enclosures (malloc'd, free with store_item_lists_free).  Returns 0,
 * or -1 when out of memory or the text is not what we wrote (then the list
 * is left empty).
 */
int store_categories_parse(const char *json, size_t len, struct feed_item *it);
int store_enclosures_parse(const char *json, size_t len, struct feed_item *it);
void store_item_lists_free(struct feed_item *it);

#endif
