/*
 * store_feeds.c - the feeds table: add, remove, read, walk, due feeds and
 * the fetch state (validators byte for byte, errors, schedule, redirects).
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* Column order of FEED_COLS in store_sql.c. */
enum feed_col {
	FC_ID,
	FC_URL,
	FC_TITLE,
	FC_USER_TITLE,
	FC_SITE_LINK,
	FC_ETAG,
	FC_LAST_MODIFIED,
	FC_NEXT_POLL,
	FC_NEXT_POLL_REASON,
	FC_LAST_FETCH,
	FC_LAST_SUCCESS,
	FC_INTERVAL,
	FC_ERRORS,
	FC_LAST_ERROR,
	FC_LAST_STATUS,
	FC_DISABLED,
	FC_DISABLED_REASON,
	FC_REDIRECT_URL,
	FC_REDIRECT_COUNT,
	FC_ALLOW_PRIVATE,
	FC_CREATED,
	FC_WARNING,
};

void store_feed_clear(struct store_feed *f)
{
	char **strs[] = {&f->url,	    &f->title,		  &f->user_title, &f->site_link,
			 &f->etag,	    &f->last_modified,	  &f->next_poll_reason,
			 &f->last_error,    &f->disabled_reason, &f->redirect_url,
			 &f->warning};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		free(*strs[i]);
	memset(f, 0, sizeof *f);
}

const char *store_feed_display_title(const struct store_feed *f)
{
	return f->user_title ? f->user_title : f->title;
}

/* Fills f from the current row; false when memory ran out (f cleared). */
static bool feed_from_row(sqlite3_stmt *st, struct store_feed *f)
{
	static const struct {
		int col;
		size_t off;
	} strs[] = {
		{FC_URL, offsetof(struct store_feed, url)},
		{FC_TITLE, offsetof(struct store_feed, title)},
		{FC_USER_TITLE, offsetof(struct store_feed, user_title)},
		{FC_SITE_LINK, offsetof(struct store_feed, site_link)},
		{FC_ETAG, offsetof(struct store_feed, etag)},
		{FC_LAST_MODIFIED, offsetof(struct store_feed, last_modified)},
		{FC_NEXT_POLL_REASON, offsetof(struct store_feed, next_poll_reason)},
		{FC_LAST_ERROR, offsetof(struct store_feed, last_error)},
		{FC_DISABLED_REASON, offsetof(struct store_feed, disabled_reason)},
		{FC_REDIRECT_URL, offsetof(struct store_feed, redirect_url)},
		{FC_WARNING, offsetof(struct store_feed, warning)},
	};
	memset(f, 0, sizeof *f);
	bool ok = true;
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		char **p = (char **)((char *)f + strs[i].off);
		*p = store_col_dup(st, strs[i].col);
		if (!*p && sqlite3_column_type(st, strs[i].col) != SQLITE_NULL)
			ok = false;
	}
	f->id = sqlite3_column_int64(st, FC_ID);
	f->next_poll = sqlite3_column_int64(st, FC_NEXT_POLL);
	f->last_fetch = sqlite3_column_int64(st, FC_LAST_FETCH);
	f->last_success = sqlite3_column_int64(st, FC_LAST_SUCCESS);
	f->interval = sqlite3_column_int64(st, FC_INTERVAL);
	f->consecutive_errors = sqlite3_column_int(st, FC_ERRORS);
	f->last_status = sqlite3_column_int(st, FC_LAST_STATUS);
	f->disabled = sqlite3_column_int(st, FC_DISABLED) != 0;
	f->redirect_count = sqlite3_column_int(st, FC_REDIRECT_COUNT);
	f->allow_private = sqlite3_column_int(st, FC_ALLOW_PRIVATE) != 0;
	f->created = sqlite3_column_int64(st, FC_CREATED);
	if (!ok)
		store_feed_clear(f);
	return ok;
}

static bool in_batch(struct store *s, const char *what)
{
	if (!s->batch)
		return false;
	store_failf(s, STORE_ERR_INVALID, "%s: a batch is open on this handle", what);
	return true;
}

static enum store_err feed_id_by_url(struct store *s, const char *url, int64_t *id)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_ID_BY_URL);
	if (!st)
		return s->last_err;
	store_bind_str(st, 1, url);
	int rc = sqlite3_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	enum store_err e = rc == SQLITE_ROW	? STORE_OK
			   : rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND
					       : store_fail(s, rc, "find feed");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

enum store_err store_feed_add(struct store *s, const struct store_feed_new *nf, int64_t now,
			      int64_t *id_out)
{
	if (!nf || !nf->url || !*nf->url)
		return store_failf(s, STORE_ERR_INVALID, "feed URL is empty");
	if (in_batch(s, "add feed"))
		return STORE_ERR_INVALID;
	sqlite3_stmt *st = store_stmt(s, ST_FEED_ADD);
	if (!st)
		return s->last_err;
	store_bind_str(st, 1, nf->url);
	store_bind_str(st, 2, nf->user_title);
	sqlite3_bind_int64(st, 3, nf->interval);
	sqlite3_bind_int(st, 4, nf->allow_private);
	sqlite3_bind_int64(st, 5, nf->next_poll);
	sqlite3_bind_int64(st, 6, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE) {
		if (id_out)
			*id_out = sqlite3_last_insert_rowid(s->db);
		return STORE_OK;
	}
	if (rc != SQLITE_CONSTRAINT_UNIQUE)
		return store_fail(s, rc, "add feed");
	int64_t id = 0;
	feed_id_by_url(s, nf->url, &id);
	if (id_out)
		*id_out = id;
	return store_failf(s, STORE_ERR_EXISTS, "feed already exists: %s (id %lld)", nf->url,
			   (long long)id);
}

/* Runs a one-row write keyed by feed; NOT_FOUND when it changed nothing. */
static enum store_err write_feed(struct store *s, sqlite3_stmt *st, const char *what)
{
	enum store_err e = store_run(s, st, what);
	if (e == STORE_OK && sqlite3_changes(s->db) == 0)
		return store_failf(s, STORE_ERR_NOT_FOUND, "%s: no such feed", what);
	return e;
}

enum store_err store_feed_remove(struct store *s, int64_t id)
{
	if (in_batch(s, "remove feed"))
		return STORE_ERR_INVALID;
	sqlite3_stmt *st = store_stmt(s, ST_FEED_REMOVE);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	return write_feed(s, st, "remove feed");
}

enum store_err store_feed_remove_url(struct store *s, const char *url)
{
	if (in_batch(s, "remove feed"))
		return STORE_ERR_INVALID;
	sqlite3_stmt *st = store_stmt(s, ST_FEED_REMOVE_URL);
	if (!st)
		return s->last_err;
	store_bind_str(st, 1, url);
	return write_feed(s, st, "remove feed");
}

/* Reads the single row of a bound statement into f. */
static enum store_err get_one(struct store *s, sqlite3_stmt *st, struct store_feed *f)
{
	int rc = sqlite3_step(st);
	enum store_err e = STORE_OK;
	if (rc == SQLITE_ROW) {
		if (!feed_from_row(st, f))
			e = store_failf(s, STORE_ERR_NOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		e = store_failf(s, STORE_ERR_NOT_FOUND, "no such feed");
	} else {
		e = store_fail(s, rc, "read feed");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (e != STORE_OK)
		memset(f, 0, sizeof *f);
	return e;
}

enum store_err store_feed_get(struct store *s, int64_t id, struct store_feed *f)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_GET);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	return get_one(s, st, f);
}

enum store_err store_feed_get_url(struct store *s, const char *url, struct store_feed *f)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_GET_URL);
	if (!st)
		return s->last_err;
	store_bind_str(st, 1, url);
	return get_one(s, st, f);
}

/* Calls fn for each row of a bound statement. */
static enum store_err walk(struct store *s, sqlite3_stmt *st, store_feed_fn fn, void *ud)
{
	if (!fn) {
		sqlite3_clear_bindings(st);
		return store_failf(s, STORE_ERR_INVALID, "list feeds: no callback");
	}
	enum store_err e = STORE_OK;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_feed f;
		if (!feed_from_row(st, &f)) {
			e = store_failf(s, STORE_ERR_NOMEM, "out of memory");
			break;
		}
		int stop = fn(ud, &f);
		store_feed_clear(&f);
		if (stop)
			break;
	}
	if (e == STORE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store_fail(s, rc, "list feeds");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

enum store_err store_feeds_list(struct store *s, store_feed_fn fn, void *ud)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_LIST);
	return st ? walk(s, st, fn, ud) : s->last_err;
}

enum store_err store_feeds_due(struct store *s, int64_t now, size_t max, store_feed_fn fn,
			       void *ud)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_DUE);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max ? (int64_t)max : -1);
	return walk(s, st, fn, ud);
}

enum store_err store_next_due(struct store *s, int64_t *t, bool *found)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_NEXT_DUE);
	if (!st)
		return s->last_err;
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
	*t = *found ? sqlite3_column_int64(st, 0) : 0;
	enum store_err e = rc == SQLITE_ROW ? STORE_OK : store_fail(s, rc, "next due feed");
	sqlite3_reset(st);
	return e;
}

enum store_err store_feed_recent_times(struct store *s, int64_t id, int64_t *times, size_t max,
				       size_t *n)
{
	*n = 0;
	if (!max)
		return STORE_OK;
	sqlite3_stmt *st = store_stmt(s, ST_FEED_RECENT_TIMES);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		times[(*n)++] = sqlite3_column_int64(st, 0);
	enum store_err e = rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, "recent item times");
	sqlite3_reset(st);
	return e;
}

enum store_err store_apply_fetch(struct store *s, int64_t id, const struct store_fetch_update *u,
				 int *errors_out, int *redirects_out)
{
	sqlite3_stmt *st = store_stmt(s, ST_FEED_FETCH);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, u->fetched_at);
	sqlite3_bind_int(st, 3, u->http_status);
	sqlite3_bind_int(st, 4, u->ok);
	store_bind_str(st, 5, u->error ? u->error : "unknown error");
	sqlite3_bind_int(st, 6, u->set_validators);
	store_bind_str(st, 7, u->etag);
	store_bind_str(st, 8, u->last_modified);
	sqlite3_bind_int64(st, 9, u->next_poll);
	store_bind_str(st, 10, u->next_poll_reason);
	sqlite3_bind_int(st, 11, u->disable);
	store_bind_str(st, 12, u->disabled_reason);
	store_bind_str(st, 13, u->redirect_url);
	sqlite3_bind_int(st, 14, u->set_warning);
	store_bind_str(st, 15, u->warning);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (errors_out)
			*errors_out = sqlite3_column_int(st, 0);
		if (redirects_out)
			*redirects_out = sqlite3_column_int(st, 1);
		rc = sqlite3_step(st);
	}
	enum store_err e = STORE_OK;
	if (rc != SQLITE_DONE)
		e = store_fail(s, rc, "update feed state");
	else if (sqlite3_changes(s->db) == 0)
		e = store_failf(s, STORE_ERR_NOT_FOUND, "update feed state: no feed %lld",
				(long long)id);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

enum store_err store_feed_update_fetch(struct store *s, int64_t id,
				       const struct store_fetch_update *u, int *errors_out,
				       int *redirects_out)
{
	if (!u)
		return store_failf(s, STORE_ERR_INVALID, "no fetch update given");
	if (in_batch(s, "update feed state"))
		return STORE_ERR_INVALID;
	/*
	 * A fetch that stored no items (304, an error) announces nothing, so
	 * its state may be committed without an fsync: the next synchronous=FULL
	 * commit syncs the WAL up to its end, this frame included, and a power
	 * loss before that only costs a repeated conditional GET.  Without
	 * this, a cycle of 1000 feeds answering 304 spends its time in 1000
	 * fsyncs.  Item batches always commit with FULL (see store.c).
	 */
	sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	enum store_err e = store_apply_fetch(s, id, u, errors_out, redirects_out);
	sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	return e;
}

enum store_err store_feed_update_fetch_many(struct store *s, struct store_fetch_state *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i].u)
			return store_failf(s, STORE_ERR_INVALID, "no fetch update given");
	if (in_batch(s, "update feed state"))
		return STORE_ERR_INVALID;
	/* No event is written: commit without an fsync, as store_feed_update_fetch. */
	sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	sqlite3_stmt *begin = store_stmt(s, ST_BEGIN);
	enum store_err e = begin ? store_run(s, begin, "begin") : s->last_err;
	for (size_t i = 0; e == STORE_OK && i < n; i++) {
		v[i].errors = v[i].redirects = 0;
		v[i].err = store_apply_fetch(s, v[i].id, v[i].u, &v[i].errors, &v[i].redirects);
		if (v[i].err != STORE_ERR_NOT_FOUND)
			e = v[i].err;
	}
	if (e == STORE_OK) {
		sqlite3_stmt *commit = store_stmt(s, ST_COMMIT);
		e = commit ? store_run(s, commit, "commit") : s->last_err;
	}
	if (e != STORE_OK) {
		char msg[sizeof s->err];
		memcpy(msg, s->err, sizeof msg);
		store_rollback(s);
		store_failf(s, e, "%s", msg);
	}
	sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	return e;
}

enum store_err store_feed_set_url(struct store *s, int64_t id, const char *url)
{
	if (!url || !*url)
		return store_failf(s, STORE_ERR_INVALID, "feed URL is empty");
	if (in_batch(s, "set feed URL"))
		return STORE_ERR_INVALID;
	sqlite3_stmt *st = store_stmt(s, ST_FEED_SET_URL);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	store_bind_str(st, 2, url);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		int64_t other = 0;
		feed_id_by_url(s, url, &other);
		return store_failf(s, STORE_ERR_EXISTS, "feed already exists: %s (id %lld)", url,
				   (long long)other);
	}
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "set feed URL");
	if (sqlite3_changes(s->db) == 0)
		return store_failf(s, STORE_ERR_NOT_FOUND, "set feed URL: no such feed");
	return STORE_OK;
}

enum store_err store_feed_set_next_poll(struct store *s, int64_t id, int64_t next_poll,
					const char *reason)
{
	if (in_batch(s, "set next poll"))
		return STORE_ERR_INVALID;
	sqlite3_stmt *st = store_stmt(s, ST_FEED_SET_NEXT);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, next_poll);
	store_bind_str(st, 3, reason);
	return write_feed(s, st, "set next poll");
}

enum store_err store_feed_set_disabled(struct store *s, int64_t id, bool disabled,
				       const char *reason)
{
	if (in_batch(s, "disable feed"))
		return STORE_ERR_INVALID;
	sqlite3_stmt *st = store_stmt(s, ST_FEED_SET_DISABLED);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, disabled);
	store_bind_str(st, 3, reason);
	return write_feed(s, st, disabled ? "disable feed" : "enable feed");
}

enum store_err store_feed_set_user(struct store *s, int64_t id, const char *user_title,
				   int64_t interval, bool allow_private)
{
	if (in_batch(s, "set feed settings"))
		return STORE_ERR_INVALID;
	sqlite3_stmt *st = store_stmt(s, ST_FEED_SET_USER);
	if (!st)
		return s->last_err;
	sqlite3_bind_int64(st, 1, id);
	store_bind_str(st, 2, user_title);
	sqlite3_bind_int64(st, 3, interval);
	sqlite3_bind_int(st, 4, allow_private);
	return write_feed(s, st, "set feed settings");
}
