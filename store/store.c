/*
 * store.c - opening the database (pragmas, quick_check, migrations,
 * epoch), errors, the statement cache, cursors and counters.
 *
 * Durability: the database runs in WAL mode with synchronous=FULL, kept on
 * purpose although NORMAL is the usual WAL pairing.  The daemon announces
 * an event's seq to subscribers right after COMMIT returns.  With NORMAL a
 * power loss can roll back a commit that already returned (the WAL is not
 * synced at each commit), so the seqs announced from it would be handed
 * out again to other items after the restart: a subscriber that persisted
 * such a cursor would then silently skip those items.  FULL syncs the WAL
 * at every commit, so an announced seq is durable.  One exception, which
 * writes no event: store_feed_update_fetch (304s, errors) commits with
 * NORMAL; see there (store_feeds.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"

/*
 * Pragmas run on every connection before anything else (outside any
 * transaction).  page_size applies when the file is created only: items
 * are a few KiB each (4 KiB pages put most of them on overflow chains),
 * and the 16 KiB pages quarter the reads and writes of a polling cycle and
 * of the quick_check at open (bench/RESULTS.md).
 */
static const char *const open_pragmas[] = {
	"PRAGMA page_size = 16384",
	"PRAGMA foreign_keys = ON",
	"PRAGMA trusted_schema = OFF",
	"PRAGMA journal_mode = WAL",
	"PRAGMA synchronous = FULL", /* see the top of this file */
};

static const struct {
	enum store_err e;
	const char *name;
} err_names[] = {
	{STORE_OK, "ok"},
	{STORE_ERR_BUSY, "busy"},
	{STORE_ERR_FULL, "full"},
	{STORE_ERR_IO, "io"},
	{STORE_ERR_CORRUPT, "corrupt"},
	{STORE_ERR_SCHEMA, "schema"},
	{STORE_ERR_EXISTS, "exists"},
	{STORE_ERR_NOT_FOUND, "not_found"},
	{STORE_ERR_INVALID, "invalid"},
	{STORE_ERR_NOMEM, "nomem"},
	{STORE_ERR_INTERNAL, "internal"},
};

const char *store_err_name(enum store_err e)
{
	for (size_t i = 0; i < sizeof err_names / sizeof err_names[0]; i++)
		if (err_names[i].e == e)
			return err_names[i].name;
	return "unknown";
}

const char *store_errmsg(const struct store *s)
{
	return s ? s->err : "out of memory";
}

/* Primary SQLite result code -> store_err. */
static const struct {
	int rc;
	enum store_err e;
} rc_map[] = {
	{SQLITE_OK, STORE_OK},
	{SQLITE_DONE, STORE_OK},
	{SQLITE_ROW, STORE_OK},
	{SQLITE_BUSY, STORE_ERR_BUSY},
	{SQLITE_LOCKED, STORE_ERR_BUSY},
	{SQLITE_FULL, STORE_ERR_FULL},
	{SQLITE_IOERR, STORE_ERR_IO},
	{SQLITE_CANTOPEN, STORE_ERR_IO},
	{SQLITE_READONLY, STORE_ERR_IO},
	{SQLITE_PERM, STORE_ERR_IO},
	{SQLITE_CORRUPT, STORE_ERR_CORRUPT},
	{SQLITE_NOTADB, STORE_ERR_CORRUPT},
	{SQLITE_NOMEM, STORE_ERR_NOMEM},
};

enum store_err store_err_of(int rc)
{
	for (size_t i = 0; i < sizeof rc_map / sizeof rc_map[0]; i++)
		if (rc_map[i].rc == (rc & 0xff))
			return rc_map[i].e;
	return STORE_ERR_INTERNAL;
}

enum store_err store_failf(struct store *s, enum store_err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	s->last_err = e;
	/* One line, whatever SQLite said (quick_check reports span lines): it goes to logs. */
	for (char *p = s->err; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return e;
}

enum store_err store_fail(struct store *s, int rc, const char *what)
{
	enum store_err e = store_err_of(rc);
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	/* The connection's message may belong to an earlier call: prefer the code's. */
	if (!s->db || (sqlite3_extended_errcode(s->db) & 0xff) != (rc & 0xff))
		msg = sqlite3_errstr(rc);
	if (e == STORE_ERR_CORRUPT)
		return store_failf(s, e, "%s: %s: database is corrupt or not a database: %s",
				   s->path, what, msg);
	int sys = s->db && (e == STORE_ERR_IO || e == STORE_ERR_FULL) ? sqlite3_system_errno(s->db)
								       : 0;
	if (sys)
		return store_failf(s, e, "%s: %s (%s)", what, msg, strerror(sys));
	return store_failf(s, e, "%s: %s", what, msg);
}

sqlite3_stmt *store_stmt(struct store *s, enum store_stmt id)
{
	sqlite3_stmt *st = s->stmt[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(s->db, store_sql(id), -1, SQLITE_PREPARE_PERSISTENT,
					    &st, NULL);
		if (rc != SQLITE_OK) {
			store_fail(s, rc, "prepare");
			return NULL;
		}
		s->stmt[id] = st;
	} else if (sqlite3_stmt_busy(st)) {
		store_failf(s, STORE_ERR_INVALID, "statement in use: store called back into itself");
		return NULL;
	}
	return st;
}

enum store_err store_run(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	enum store_err e = rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e;
}

int store_bind_str(sqlite3_stmt *st, int idx, const char *v)
{
	return v ? sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}

int store_bind_date(sqlite3_stmt *st, int idx, int64_t t)
{
	return t == FEED_NO_DATE ? sqlite3_bind_null(st, idx) : sqlite3_bind_int64(st, idx, t);
}

char *store_col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	if (!t)
		return NULL;
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, t, n);
		p[n] = 0;
	}
	return p;
}

void store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	sqlite3_stmt *st = s->stmt[ST_ROLLBACK];
	if (!st && sqlite3_prepare_v3(s->db, store_sql(ST_ROLLBACK), -1, SQLITE_PREPARE_PERSISTENT,
				      &st, NULL) != SQLITE_OK)
		return;
	s->stmt[ST_ROLLBACK] = st;
	sqlite3_step(st);
	sqlite3_reset(st);
}

/* ---------------------------------------------------------------- open */

void store_opts_default(struct store_opts *o)
{
	memset(o, 0, sizeof *o);
	o->busy_timeout_ms = 5000;
}

int store_schema_version(void)
{
	return store_nmigrations;
}

static void random_bytes(unsigned char *b, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == n)
		return;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (fd >= 0)
		close(fd);
	/* Last resort (no getrandom, no /dev/urandom): time and pid, better than nothing. */
	for (uint64_t h = store_fnv1a64(STORE_FNV_OFFSET, b, got); got < n; got++) {
		uint64_t mix[2] = {(uint64_t)time(NULL) ^ h, (uint64_t)getpid() + got};
		h = store_fnv1a64(h, mix, sizeof mix);
		b[got] = (unsigned char)(h >> 24);
	}
}

static void new_epoch(char out[STORE_EPOCH_LEN + 1])
{
	unsigned char b[STORE_EPOCH_LEN / 2];
	random_bytes(b, sizeof b);
	for (size_t i = 0; i < sizeof b; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static enum store_err exec_sql(struct store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? STORE_OK : store_fail(s, rc, what);
}

enum store_err store_quick_check(struct store *s)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc, "quick_check");
	enum store_err e = STORE_OK;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		if (!r || strcmp(r, "ok") != 0)
			e = store_failf(s, STORE_ERR_CORRUPT,
					"%s: database is corrupt (quick_check: %s); restore it "
					"from a backup or move it away",
					s->path, r ? r : "?");
	} else if (rc != SQLITE_DONE) {
		e = store_fail(s, rc, "quick_check");
	}
	sqlite3_finalize(st);
	return e;
}

static enum store_err user_version(struct store *s, int *v)
{
	sqlite3_stmt *st = store_stmt(s, ST_USER_VERSION);
	if (!st)
		return s->last_err;
	int rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : store_fail(s, rc, "read schema version");
}

static enum store_err insert_meta(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ST_META_INSERT);
	if (!st)
		return s->last_err;
	char epoch[STORE_EPOCH_LEN + 1];
	new_epoch(epoch);
	sqlite3_bind_text(st, 1, epoch, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	return store_run(s, st, "create meta");
}

/*
 * Brings the schema to the current version in one transaction.  A schema
 * that is current already takes no write lock (a second handle opened
 * while another writer holds the lock must not wait for it).
 */
static enum store_err migrate(struct store *s)
{
	int v = 0;
	enum store_err e = user_version(s, &v);
	if (e != STORE_OK || v == store_nmigrations)
		return e;
	e = exec_sql(s, "BEGIN IMMEDIATE", "begin migration");
	if (e == STORE_OK)
		e = user_version(s, &v);
	if (e == STORE_OK && v > store_nmigrations)
		e = store_failf(s, STORE_ERR_SCHEMA,
				"%s: schema version %d is newer than this feedd knows (%d)", s->path,
				v, store_nmigrations);
	for (int i = v; e == STORE_OK && i < store_nmigrations; i++)
		e = exec_sql(s, store_migrations[i], "migrate schema");
	if (e == STORE_OK && v == 0)
		e = insert_meta(s);
	if (e == STORE_OK)
		e = exec_sql(s, "COMMIT", "commit migration");
	if (e != STORE_OK)
		store_rollback(s);
	return e;
}

static enum store_err load_meta(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ST_META_GET);
	if (!st)
		return s->last_err;
	int rc = sqlite3_step(st);
	enum store_err e = STORE_OK;
	const char *ep = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store_fail(s, rc, "read meta");
	else if (!ep || strlen(ep) != STORE_EPOCH_LEN)
		e = store_failf(s, STORE_ERR_CORRUPT, "%s: database is corrupt: no valid epoch",
				s->path);
	else
		memcpy(s->epoch, ep, STORE_EPOCH_LEN + 1);
	sqlite3_reset(st);
	return e;
}

static enum store_err open_db(struct store *s, const struct store_opts *o)
{
	int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		enum store_err e = store_err_of(rc);
		return store_failf(s, e == STORE_ERR_INTERNAL ? STORE_ERR_IO : e,
				   "%s: cannot open database: %s", s->path,
				   s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, o->busy_timeout_ms);
	s->busy_timeout_ms = o->busy_timeout_ms;
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if ((rc = store_register_functions(s->db)) != SQLITE_OK)
		return store_fail(s, rc, "open");
	for (size_t i = 0; i < sizeof open_pragmas / sizeof open_pragmas[0]; i++) {
		enum store_err e = exec_sql(s, open_pragmas[i], "open");
		if (e != STORE_OK) {
			if (e != STORE_ERR_CORRUPT) {
				char msg[sizeof s->err];
				memcpy(msg, s->err, sizeof msg);
				store_failf(s, e, "%s: %s", s->path, msg);
			}
			return e;
		}
	}
	return STORE_OK;
}

enum store_err store_open(const char *path, const struct store_opts *opts, struct store **out)
{
	struct store_opts defaults;
	if (!opts) {
		store_opts_default(&defaults);
		opts = &defaults;
	}
	struct store *s = calloc(1, sizeof *s);
	*out = s;
	if (!s)
		return STORE_ERR_NOMEM;
	if (!path || !*path)
		return store_failf(s, STORE_ERR_INVALID, "no database path given");
	s->path = strdup(path);
	if (!s->path)
		return store_failf(s, STORE_ERR_NOMEM, "out of memory");
	enum store_err e = open_db(s, opts);
	if (e == STORE_OK && !opts->skip_quick_check)
		e = store_quick_check(s);
	if (e == STORE_OK)
		e = migrate(s);
	if (e == STORE_OK)
		e = load_meta(s);
	if (e == STORE_OK)
		e = exec_sql(s, store_sql_temp, "create temporary table");
	if (e == STORE_OK)
		s->err[0] = 0;
	return e;
}

enum store_err store_open_peer(const struct store *s, struct store **out)
{
	struct store_opts o;
	store_opts_default(&o);
	o.busy_timeout_ms = s->busy_timeout_ms;
	o.skip_quick_check = true; /* s checked the database when it opened it */
	enum store_err e = store_open(s->path, &o, out);
	if (e == STORE_OK && strcmp((*out)->epoch, s->epoch) != 0)
		e = store_failf(*out, STORE_ERR_INVALID, "%s: the database was replaced", s->path);
	return e;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->batch)
		store_batch_abort(s->batch);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	/* Lets SQLite refresh its planner statistics where they went stale (cheap). */
	if (s->db && s->epoch[0])
		sqlite3_exec(s->db, "PRAGMA optimize", NULL, NULL, NULL);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* ---------------------------------------------------------------- epoch, head, cursors */

const char *store_epoch(const struct store *s)
{
	return s->epoch;
}

/* A single integer from a statement without parameters; NULL or no row -> 0. */
static enum store_err scalar(struct store *s, enum store_stmt id, int64_t *v, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);
	if (!st)
		return s->last_err;
	int rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	enum store_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_fail(s, rc, what);
	sqlite3_reset(st);
	return e;
}

enum store_err store_head(struct store *s, int64_t *seq)
{
	return scalar(s, ST_HEAD, seq, "read head");
}

enum store_err store_oldest(struct store *s, int64_t *seq)
{
	return scalar(s, ST_OLDEST, seq, "read oldest event");
}

enum store_err store_pruned_upto(struct store *s, int64_t *seq)
{
	sqlite3_stmt *st = store_stmt(s, ST_META_GET);
	if (!st)
		return s->last_err;
	int rc = sqlite3_step(st);
	*seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	enum store_err e = rc == SQLITE_ROW ? STORE_OK : store_fail(s, rc, "read pruned_upto");
	sqlite3_reset(st);
	return e;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool store_cursor_parse(const char *text, struct store_cursor *c)
{
	if (!text || !c)
		return false;
	size_t n = 0;
	while (hexval((unsigned char)text[n]) >= 0)
		n++;
	if (n == 0 || n > STORE_EPOCH_LEN || text[n] != ':')
		return false;
	const char *p = text + n + 1;
	if (*p < '0' || *p > '9')
		return false;
	int64_t seq = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		int d = *p - '0';
		if (seq > (INT64_MAX - d) / 10)
			return false;
		seq = seq * 10 + d;
	}
	if (*p)
		return false;
	for (size_t i = 0; i < n; i++)
		c->epoch[i] = "0123456789abcdef"[hexval((unsigned char)text[i])];
	c->epoch[n] = 0;
	c->seq = seq;
	return true;
}

size_t store_cursor_format(char *buf, size_t size, const char *epoch, int64_t seq)
{
	int n = snprintf(buf, size, "%s:%" PRId64, epoch, seq);
	return n < 0 ? 0 : (size_t)n;
}

static const char *const cursor_state_names[] = {
	[STORE_CURSOR_OK] = "ok",
	[STORE_CURSOR_EPOCH_MISMATCH] = "epoch_mismatch",
	[STORE_CURSOR_EXPIRED] = "cursor_expired",
	[STORE_CURSOR_AHEAD] = "cursor_ahead",
};

const char *store_cursor_state_name(enum store_cursor_state st)
{
	if ((unsigned)st >= sizeof cursor_state_names / sizeof cursor_state_names[0])
		return "unknown";
	return cursor_state_names[st];
}

enum store_err store_cursor_check(struct store *s, const struct store_cursor *c,
				  enum store_cursor_state *st)
{
	if (strcmp(c->epoch, s->epoch) != 0) {
		*st = STORE_CURSOR_EPOCH_MISMATCH;
		return STORE_OK;
	}
	int64_t head, pruned;
	enum store_err e = store_head(s, &head);
	if (e == STORE_OK)
		e = store_pruned_upto(s, &pruned);
	if (e != STORE_OK)
		return e;
	if (c->seq > head)
		*st = STORE_CURSOR_AHEAD;
	else if (c->seq < pruned)
		*st = STORE_CURSOR_EXPIRED;
	else
		*st = STORE_CURSOR_OK;
	return STORE_OK;
}

/* ---------------------------------------------------------------- counters */

enum store_err store_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = store_stmt(s, ST_STATS_FEEDS);
	if (!st)
		return s->last_err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->feeds = sqlite3_column_int64(st, 0);
		out->feeds_new = sqlite3_column_int64(st, 1);
		out->feeds_ok = sqlite3_column_int64(st, 2);
		out->feeds_failing = sqlite3_column_int64(st, 3);
		out->feeds_disabled = sqlite3_column_int64(st, 4);
		out->feeds_warning = sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_fail(s, rc, "count feeds");
	enum store_err e = scalar(s, ST_STATS_ITEMS, &out->items, "count items");
	if (e == STORE_OK)
		e = scalar(s, ST_STATS_EVENTS, &out->events, "count events");
	if (e == STORE_OK)
		e = store_head(s, &out->head);
	if (e == STORE_OK)
		e = store_oldest(s, &out->oldest);
	if (e == STORE_OK)
		e = store_pruned_upto(s, &out->pruned_upto);
	return e;
}
