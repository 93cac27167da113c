/*
 * notify.c - the subscriber socket server (see notify.h for the protocol
 * decisions and how the daemon drives it).
 *
 * Structure
 * - Peers are plain structs in a TAILQ.  A peer in trouble is flagged
 *   CLOSING (no more reading, its output still flushes) and then GONE;
 *   GONE peers are freed by a separate "reap" event of the server, never
 *   from inside one of the peer's own callbacks.
 * - Delivery has one path: notify_client_pump() moves a subscriber's
 *   cursor forward by reading "events after cursor" (notify_read_step)
 *   in steps of replay_batch, while it is behind the head and its output
 *   is under the limit.  It runs after a commit, after sub, when the
 *   output drains below half the limit, on the heartbeat timer, and for
 *   a subscriber waiting for its replay pack, on the pace event (see
 *   notify_paced: replaying subscribers move in packs).
 * - The cache is a sorted array of blocks, none overlapping; a block holds
 *   the serialized lines of every event with lo < seq <= hi (with seq and
 *   feed id), read from the store in one unfiltered step after lo, so a
 *   hundred subscribers cost one SQLite read and one serialization per
 *   event, not a hundred.  A subscriber at a cursor no block covers fills
 *   a new block there (up to the next block's lo).  Lines of a block lie
 *   back to back: an unfiltered subscriber queues the rest of a block as
 *   one reference to it.  Blocks are refcounted (the cache, the filling
 *   step, every queued segment that refers to one).  A subscriber
 *   with a feed filter that replays behind the cache reads the store
 *   directly, with its filter.
 * - Output: each client has its own queue of segments (block runs by
 *   reference, other bytes owned) and a write event on its socket; the
 *   bufferevent reads requests only.  See "output" below.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common_json.h"
#include "notify.h"
#include "store.h"

enum {
	NC_SUBSCRIBED = 1 << 0,
	NC_LIVE = 1 << 1,        /* the live marker was sent */
	NC_CLOSING = 1 << 2,     /* flush the output, then close */
	NC_GONE = 1 << 3,        /* to be freed by the reap event */
	NC_READ_PAUSED = 1 << 4, /* requests not read while the output is full */
	NC_EOF = 1 << 5,         /* the client shut down its sending side */
	NC_HELD = 1 << 6,        /* replaying ahead of its pack: waits (notify_client_held) */
	NC_UNPACED = 1 << 7,     /* replays at its own pace, outside the pack */
};

/*
 * A piece of a client's pending output: len bytes at p, either inside a
 * cached block (bl holds a reference to it) or in memory of its own (own,
 * freed once sent).
 */
struct notify_seg {
	struct notify_block *bl;
	char *own;
	const char *p;
	size_t len;
};

struct notify_client {
	TAILQ_ENTRY(notify_client) entry;
	struct notify *n;
	struct bufferevent *bev; /* input only: requests, EOF, read errors */
	int fd;
	struct event *wev;    /* output: the socket writable, or stalled */
	int pipe[2];          /* the zero-copy stage, or -1 (see notify_out_flush) */
	size_t in_pipe;       /* bytes in it */
	struct notify_seg *q; /* pending output not yet in the pipe or socket */
	size_t qhead, qtail, qcap;
	size_t queued;       /* bytes in q */
	size_t turn;         /* bytes one flush moves at most (its socket buffer) */
	int outq;            /* bytes its socket held when the stall clock last started */
	struct event *timer; /* sub timeout, then heartbeat */
	unsigned flags;
	uint64_t id;
	int64_t cursor; /* every event <= cursor was queued (or filtered out) */
	int64_t *feeds; /* sorted filter, NULL for all */
	size_t nfeeds;
	char *live_id; /* raw JSON of the sub's "id", echoed in "live" */
	struct timeval last_queued;
	struct timeval last_drained; /* the kernel last took some of its output */
	struct timeval held_since;   /* NC_HELD since */
	struct timeval empty_since;  /* its output was last emptied (pack pacing) */
	struct timeval paced_since;  /* it subscribed (moved on as starved_ms decays) */
	int64_t starved_ms;          /* held with nothing to send since paced_since */
};
TAILQ_HEAD(notify_clients, notify_client);

/* One event's line inside a block. */
struct notify_line {
	int64_t seq;
	int64_t feed_id;
	size_t off;
	size_t len;
};

/*
 * The lines of one read from the store, back to back: every event with
 * lo < seq <= hi (the store's seqs may have gaps).  Shared by reference:
 * the cache holds one reference, every output buffer that queued some of
 * its bytes one more; freed with the last.  Never resized once filled.
 */
struct notify_block {
	size_t refs;
	int64_t lo, hi;
	uint64_t used; /* for least-recently-used eviction */
	struct notify_line *lines;
	size_t nlines;
	struct buf b;
	bool mapped; /* b.data is a private mapping of b.cap bytes (notify_block_seal) */
};

/* A subscriber whose output has not drained for this long does not hold
 * cached blocks for itself. */
#define NOTIFY_STALLED_MS 100

/* A block smaller than this stays on the heap (see notify_block_seal). */
#define NOTIFY_SEAL_MIN ((size_t)16 << 10)

/* The largest pipe a client gets: 256 clients then fit in the 64 MiB of
 * pipes an unprivileged user may have (pipe-user-pages-soft). */
#define NOTIFY_PIPE_MAX ((size_t)256 << 10)

struct notify {
	struct event_base *base;
	struct store *store;
	struct notify_limits lim;
	notify_log_fn log;
	void *log_ud;
	char epoch[STORE_EPOCH_LEN + 1];
	size_t epoch_len;
	int64_t head;

	struct evconnlistener *listener;
	struct event *listen_retry;
	char *path; /* socket file we created, NULL otherwise */
	dev_t path_dev;
	ino_t path_ino;

	struct notify_clients clients;
	size_t nclients; /* not closing */
	size_t nconns;   /* all */
	uint64_t next_id;
	struct event *reap;
	struct event *pace; /* lets held clients go on (notify_pace_cb) */
	size_t nheld;       /* clients with NC_HELD */
	bool shutting_down;

	/* The cache of serialized event lines: blocks sorted by seq, none
	 * overlapping, at most cache_events lines and cache_bytes bytes in
	 * all.  Subscribers at different cursors (a hundred replaying after
	 * a restart, say) share whatever blocks are there. */
	struct notify_block **blocks;
	size_t nblocks, blocks_cap;
	size_t cache_lines, cache_bytes;
	uint64_t cache_clock;
	struct buf scratch;
	bool zero_copy_works; /* notify_zero_copy_works() at start */
	bool sndbuf_capped;   /* logged that the kernel caps socket buffers */
};

/* What a read step hands to the store callbacks. */
struct notify_read {
	struct notify *n;
	struct notify_client *c;
	struct notify_block *bl; /* being filled */
	int64_t bound;           /* stop before events after this seq */
	bool bounded;            /* reached it */
	int failed;
};

static void notify_client_pump(struct notify_client *c);
static void notify_client_close(struct notify_client *c);
static void notify_client_gone(struct notify_client *c);
static void notify_client_requests(struct notify_client *c);

/* ---------------------------------------------------------------- helpers */

__attribute__((format(printf, 3, 4))) static void notify_logf(struct notify *n, int prio,
                                                              const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!n->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n->log(n->log_ud, prio, msg);
}

static struct timeval notify_tv(int64_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	return tv;
}

static int64_t notify_ms_since(struct notify *n, const struct timeval *t)
{
	struct timeval now;
	event_base_gettimeofday_cached(n->base, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_usec - t->tv_usec) / 1000;
}

static size_t notify_outlen(const struct notify_client *c)
{
	return c->queued + c->in_pipe;
}

/* Its output has been full for a while: it must not hold the cache, nor
 * its pack, for everybody. */
static bool notify_stalled(const struct notify_client *c)
{
	return notify_outlen(c) >= c->n->lim.output_limit / 2 &&
	       notify_ms_since(c->n, &c->last_drained) > NOTIFY_STALLED_MS;
}

static void notify_cursor_key(struct cjson_w *w, struct notify *n, const char *key, int64_t seq)
{
	char cur[STORE_CURSOR_MAX];
	store_cursor_format(cur, sizeof cur, n->epoch, seq);
	cjson_w_kstr(w, key, cur);
}

void notify_limits_default(struct notify_limits *l)
{
	l->max_clients = 256;
	l->max_line = 64 * 1024;
	l->sub_timeout_ms = 10 * 1000;
	l->output_limit = 1024 * 1024;
	l->stall_timeout_ms = 60 * 1000;
	l->heartbeat_ms = 30 * 1000;
	l->replay_batch = 256;
	l->cache_events = 32768;
	l->cache_bytes = 32u << 20;
	l->zero_copy = true;
	l->pack_wait_ms = 50;
}

static void notify_limits_sane(struct notify_limits *l)
{
	if (!l->max_clients)
		l->max_clients = 1;
	if (l->max_line < 64)
		l->max_line = 64;
	if (l->output_limit < 4096)
		l->output_limit = 4096;
	if (!l->replay_batch)
		l->replay_batch = 1;
	if (l->sub_timeout_ms <= 0)
		l->sub_timeout_ms = 1;
	if (l->stall_timeout_ms <= 0)
		l->stall_timeout_ms = 1;
	if (l->heartbeat_ms < 0)
		l->heartbeat_ms = 0;
	if (l->pack_wait_ms < 0)
		l->pack_wait_ms = 0;
}

/* ---------------------------------------------------------------- the cache */

static void notify_block_unref(struct notify_block *bl)
{
	if (bl && --bl->refs == 0) {
		if (bl->mapped) /* pages still in pipes or sockets stay theirs */
			munmap(bl->b.data, bl->b.cap);
		else
			buf_free(&bl->b);
		free(bl->lines);
		free(bl);
	}
}

/*
 * Moves a filled block's bytes into a private anonymous mapping of their
 * own, so that clients' pipes can take its pages by reference
 * (vmsplice(2)): those bytes are never written again, and the pages are
 * never handed to anything else while a pipe or a socket still holds
 * them (munmap leaves them to their last holder; heap memory would be
 * reused by the next malloc).  On failure the block stays on the heap and
 * is copied into pipes instead.
 */
static void notify_block_seal(struct notify_block *bl)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (bl->b.len + page - 1) / page * page;
	if (bl->b.len < NOTIFY_SEAL_MIN) /* copying a few lines costs less than a mapping */
		return;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	memcpy(m, bl->b.data, bl->b.len);
	mprotect(m, len, PROT_READ);
	free(bl->b.data);
	bl->b.data = m;
	bl->b.cap = len;
	bl->mapped = true;
}

/* Memory a block holds (a mapping takes whole pages). */
static size_t notify_block_bytes(const struct notify_block *bl)
{
	return bl->mapped ? bl->b.cap : bl->b.len;
}

/* Drops the cache's reference to blocks[i]. */
static void notify_cache_drop(struct notify *n, size_t i)
{
	struct notify_block *bl = n->blocks[i];
	n->cache_lines -= bl->nlines;
	n->cache_bytes -= notify_block_bytes(bl);
	memmove(n->blocks + i, n->blocks + i + 1, (n->nblocks - i - 1) * sizeof *n->blocks);
	n->nblocks--;
	notify_block_unref(bl);
}

static void notify_cache_clear(struct notify *n)
{
	while (n->nblocks)
		notify_cache_drop(n, n->nblocks - 1);
}

/*
 * The lowest cursor of the subscribers that are reading (INT64_MAX when
 * there are none).  One whose output has been full for a while is left
 * out: it must not hold the cache for everybody; when it reads again it
 * resumes from the store like any lagging subscriber.
 */
static int64_t notify_min_cursor(struct notify *n)
{
	int64_t low = INT64_MAX;
	struct notify_client *c;
	TAILQ_FOREACH(c, &n->clients, entry)
	{
		if ((c->flags & (NC_SUBSCRIBED | NC_CLOSING)) != NC_SUBSCRIBED || c->cursor >= low)
			continue;
		if (notify_stalled(c))
			continue;
		low = c->cursor;
	}
	return low;
}

/*
 * Evicts blocks until the cache is within its limits (never keep, unless
 * it is the only block).  First those that every subscriber has passed:
 * only a subscriber that connects later could want them, so they may use a
 * quarter of the limits at most; then the least recently used.  The live
 * steady state thus holds a quarter of the limits; a replay by many
 * subscribers at different speeds can use all of them.
 */
static void notify_cache_trim(struct notify *n, const struct notify_block *keep)
{
	size_t dead_lines = 0, dead_bytes = 0, dead = 0;
	int64_t low = notify_min_cursor(n);
	while (dead < n->nblocks && n->blocks[dead]->hi <= low) {
		dead_lines += n->blocks[dead]->nlines;
		dead_bytes += notify_block_bytes(n->blocks[dead]);
		dead++;
	}
	/* blocks are sorted: the dead ones come first, oldest first */
	while (dead && n->blocks[0] != keep &&
	       (dead_lines > n->lim.cache_events / 4 || dead_bytes > n->lim.cache_bytes / 4 ||
	        n->cache_lines > n->lim.cache_events || n->cache_bytes > n->lim.cache_bytes)) {
		dead_lines -= n->blocks[0]->nlines;
		dead_bytes -= notify_block_bytes(n->blocks[0]);
		dead--;
		notify_cache_drop(n, 0);
	}
	while (n->nblocks &&
	       (n->cache_lines > n->lim.cache_events || n->cache_bytes > n->lim.cache_bytes)) {
		size_t victim = n->nblocks;
		for (size_t i = 0; i < n->nblocks; i++)
			if ((n->blocks[i] != keep || n->nblocks == 1) &&
			    (victim == n->nblocks || n->blocks[i]->used < n->blocks[victim]->used))
				victim = i;
		notify_cache_drop(n, victim);
	}
}

/* Index of the first block with lo > seq (nblocks when none). */
static size_t notify_cache_after(const struct notify *n, int64_t seq)
{
	size_t a = 0, b = n->nblocks;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (n->blocks[m]->lo <= seq)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/* The block holding the events just after cursor, or NULL. */
static struct notify_block *notify_cache_lookup(struct notify *n, int64_t cursor)
{
	size_t i = notify_cache_after(n, cursor);
	struct notify_block *bl = i ? n->blocks[i - 1] : NULL;
	if (!bl || cursor >= bl->hi)
		return NULL;
	bl->used = ++n->cache_clock;
	return bl;
}

/* Inserts bl (lo after the previous block's hi, hi <= the next one's lo). */
static int notify_cache_insert(struct notify *n, struct notify_block *bl)
{
	if (n->nblocks == n->blocks_cap) {
		size_t cap = n->blocks_cap ? 2 * n->blocks_cap : 16;
		struct notify_block **nb = realloc(n->blocks, cap * sizeof *nb);
		if (!nb)
			return -1;
		n->blocks = nb;
		n->blocks_cap = cap;
	}
	size_t i = notify_cache_after(n, bl->lo);
	memmove(n->blocks + i + 1, n->blocks + i, (n->nblocks - i) * sizeof *n->blocks);
	n->blocks[i] = bl;
	n->nblocks++;
	bl->refs++;
	bl->used = ++n->cache_clock;
	n->cache_lines += bl->nlines;
	n->cache_bytes += notify_block_bytes(bl);
	notify_cache_trim(n, bl);
	return 0;
}

/* The highest seq the cache holds (0 when empty). */
static int64_t notify_cache_top(const struct notify *n)
{
	return n->nblocks ? n->blocks[n->nblocks - 1]->hi : 0;
}

/* ---------------------------------------------------------------- serialization */

/* v in decimal as "%" PRId64 writes it, ending at end; returns its start. */
static char *notify_i64_text(char *end, int64_t v)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		*--end = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		*--end = '-';
	return end;
}

static int notify_put_i64(struct buf *b, int64_t v)
{
	char num[24], *p = notify_i64_text(num + sizeof num, v);
	return buf_append(b, p, (size_t)(num + sizeof num - p));
}

#define NOTIFY_LIT(b, s) buf_append((b), (s), sizeof(s) - 1)

/*
 * Appends the item event line of ev to b.  Written directly rather than
 * through the generic writer (common_json.h): a line is serialized once
 * per fill for every subscriber, and the generic writer's key and number
 * handling cost as much as the item itself.  The bytes are the generic
 * writer's (tests/test_notify.c compares them).  0, or -1 on ENOMEM with
 * b as it was.
 */
static int notify_event_line(struct notify *n, const struct store_event *ev, struct buf *b)
{
	size_t start = b->len;
	const char *kind = store_event_kind_name(ev->kind);
	const char *url = ev->feed_url ? ev->feed_url : "";
	/* the cursor as store_cursor_format writes it: epoch ':' seq */
	char cur[STORE_CURSOR_MAX], *p = notify_i64_text(cur + sizeof cur, ev->seq);
	*--p = ':';
	p -= n->epoch_len;
	memcpy(p, n->epoch, n->epoch_len);
	int e = NOTIFY_LIT(b, "{\"ev\":\"item\",\"cursor\":") ||
	        json_str(b, p, (size_t)(cur + sizeof cur - p)) || NOTIFY_LIT(b, ",\"kind\":") ||
	        json_str(b, kind, strlen(kind)) || NOTIFY_LIT(b, ",\"feed\":{\"id\":") ||
	        notify_put_i64(b, ev->feed_id) || NOTIFY_LIT(b, ",\"url\":") ||
	        json_str(b, url, strlen(url));
	if (!e && ev->feed_title)
		e = NOTIFY_LIT(b, ",\"title\":") ||
		    json_str(b, ev->feed_title, strlen(ev->feed_title));
	if (!e)
		e = NOTIFY_LIT(b, "},\"item\":") || json_item(b, ev->item) || NOTIFY_LIT(b, "}\n");
	if (e)
		b->len = start;
	return e ? -1 : 0;
}

static int notify_feed_wanted(const struct notify_client *c, int64_t feed_id)
{
	size_t a = 0, b = c->nfeeds;
	if (!c->feeds)
		return 1;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (c->feeds[m] == feed_id)
			return 1;
		if (c->feeds[m] < feed_id)
			a = m + 1;
		else
			b = m;
	}
	return 0;
}

/* ---------------------------------------------------------------- output */

/*
 * A client's output is its own queue of segments (struct notify_seg), and
 * the socket's write event flushes it (notify_out_flush).  Block runs are
 * queued by reference, never copied in user space.  With a pipe (the
 * zero-copy stage, when this kernel and sandbox allow it) a run of a
 * sealed block enters the client's pipe by reference too (vmsplice), and
 * splice(2) hands the pipe's pages to the socket: a hundred subscribers
 * of one block cost a hundred page references, not a hundred copies.
 * Other bytes (control lines, runs of small blocks) are copied into the
 * pipe.  Without a pipe, writev(2) copies into the socket.  Pending
 * output (notify_outlen) is the queue plus what sits in the pipe.
 */

static void notify_seg_release(struct notify_seg *g)
{
	if (g->bl)
		notify_block_unref(g->bl);
	else
		free(g->own);
}

/* Bytes the client's socket holds that its reader has not taken. */
static int notify_outq(const struct notify_client *c)
{
	int q = 0;
	return ioctl(c->fd, SIOCOUTQ, &q) == 0 ? q : 0;
}

/* Starts waiting for the socket (and the stall clock) unless it already is. */
static void notify_out_arm(struct notify_client *c)
{
	if (!event_pending(c->wev, EV_WRITE, NULL)) {
		struct timeval stall = notify_tv(c->n->lim.stall_timeout_ms);
		c->outq = notify_outq(c);
		event_add(c->wev, &stall);
	}
}

/* Appends a segment (the caller's reference to bl, or own, is the
 * queue's from now on).  0, or -1 when out of memory (nothing changed). */
static int notify_out_push(struct notify_client *c, struct notify_block *bl, char *own,
                           const char *p, size_t len)
{
	if (!len) {
		notify_block_unref(bl);
		free(own);
		return 0;
	}
	if (c->qtail == c->qcap && c->qhead) {
		memmove(c->q, c->q + c->qhead, (c->qtail - c->qhead) * sizeof *c->q);
		c->qtail -= c->qhead;
		c->qhead = 0;
	}
	if (c->qtail == c->qcap) {
		size_t cap = c->qcap ? 2 * c->qcap : 8;
		struct notify_seg *q = realloc(c->q, cap * sizeof *q);
		if (!q)
			return -1;
		c->q = q;
		c->qcap = cap;
	}
	if (!notify_outlen(c)) /* the stall clock starts when there is something to drain */
		event_base_gettimeofday_cached(c->n->base, &c->last_drained);
	c->q[c->qtail++] = (struct notify_seg){bl, own, p, len};
	c->queued += len;
	notify_out_arm(c);
	return 0;
}

static int notify_out_copy(struct notify_client *c, const char *p, size_t len)
{
	char *own = malloc(len ? len : 1);
	if (!own)
		return -1;
	memcpy(own, p, len);
	if (notify_out_push(c, NULL, own, own, len)) {
		free(own);
		return -1;
	}
	return 0;
}

static int notify_out_block(struct notify_client *c, struct notify_block *bl, size_t off,
                            size_t len)
{
	bl->refs++;
	if (notify_out_push(c, bl, NULL, bl->b.data + off, len)) {
		bl->refs--;
		return -1;
	}
	return 0;
}

/* The first n queued bytes went into the pipe or the socket. */
static void notify_out_consume(struct notify_client *c, size_t n)
{
	c->queued -= n;
	while (n) {
		struct notify_seg *g = &c->q[c->qhead];
		size_t take = n < g->len ? n : g->len;
		g->p += take;
		g->len -= take;
		n -= take;
		if (!g->len)
			notify_seg_release(&c->q[c->qhead++]);
	}
	if (c->qhead == c->qtail)
		c->qhead = c->qtail = 0;
}

/* Moves queued segments into the client's pipe until it is full.  0, or
 * -1 on an error other than a full pipe. */
static int notify_out_fill_pipe(struct notify_client *c)
{
	while (c->qhead < c->qtail) {
		struct notify_seg *g = &c->q[c->qhead];
		struct iovec v = {(void *)g->p, g->len};
		bool by_ref = g->bl && g->bl->mapped;
		ssize_t r = by_ref ? vmsplice(c->pipe[1], &v, 1, SPLICE_F_NONBLOCK)
		                   : write(c->pipe[1], g->p, g->len);
		if (by_ref && r < 0 && errno != EAGAIN && errno != EINTR)
			r = write(c->pipe[1], g->p, g->len); /* refused: copy it */
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 && errno != EAGAIN ? -1 : 0;
		c->in_pipe += (size_t)r;
		notify_out_consume(c, (size_t)r);
	}
	return 0;
}

#define NOTIFY_IOV 64

/*
 * Moves pending output toward the socket, once per turn of the loop: at
 * most what the socket takes, and at most the size of its send buffer
 * (c->turn), then the other clients get their turn (the write
 * event fires again while there is more).  A client served until its
 * socket stops taking would run ahead of the others while its reader
 * keeps up, and the clients would spread over more blocks than the cache
 * holds.  With a pipe, that is as many rounds of filling the pipe and
 * splicing it into the socket as fit (the pipe holds less than the
 * socket); without, one writev.  Returns the bytes the socket took, or -1
 * on a write error (the peer is gone).
 */
static ssize_t notify_out_flush(struct notify_client *c)
{
	size_t moved = 0;
	ssize_t r;
	if (c->pipe[1] < 0) {
		struct iovec iov[NOTIFY_IOV];
		int k = 0;
		for (size_t i = c->qhead; i < c->qtail && k < NOTIFY_IOV; i++)
			iov[k++] = (struct iovec){(void *)c->q[i].p, c->q[i].len};
		if (!k)
			return 0;
		do
			r = writev(c->fd, iov, k);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		notify_out_consume(c, (size_t)r);
		return r;
	}
	while (moved < c->turn) {
		if (notify_out_fill_pipe(c))
			return -1;
		size_t had = c->in_pipe;
		if (!had)
			break;
		r = splice(c->pipe[0], NULL, c->fd, NULL, had, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r <= 0)
			return -1;
		c->in_pipe -= (size_t)r;
		moved += (size_t)r;
		if ((size_t)r < had) /* the socket is full */
			break;
	}
	return (ssize_t)moved;
}

/*
 * The kernel's buffers for a client: its socket's send buffer and its pipe
 * are sized to the output limit (the pipe to NOTIFY_PIPE_MAX at most), so
 * a turn moves up to that much and the reader is woken once for it.  The
 * kernel grants a socket at most twice net.core.wmem_max (208 KiB on a
 * stock Debian) unless the daemon may force it (SO_SNDBUFFORCE, with
 * CAP_NET_ADMIN: root, or a unit that grants it): in bench/notify, a
 * hundred 1.4 KB-line subscribers replaying in a pack got 44-47k events/s
 * each with 416 KiB, and 53-57k with the 2 MiB asked for granted.  A
 * pipe is never shrunk; when the user's pipe pages are used up
 * (pipe-user-pages-soft) it keeps the default size.
 */
static void notify_client_size_buffers(struct notify_client *c)
{
	size_t lim = c->n->lim.output_limit;
	int ask = lim < INT_MAX / 2 ? (int)lim : INT_MAX / 2, sndbuf = 0;
	socklen_t len = sizeof sndbuf;
	setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &ask, sizeof ask);
	/* what the kernel granted (it reports twice the size asked, up to
	 * twice net.core.wmem_max) */
	if (getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == 0 && sndbuf < 2 * ask &&
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUFFORCE, &ask, sizeof ask) == 0)
		getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
	if (sndbuf > 1 && sndbuf < 2 * ask && !c->n->sndbuf_capped) {
		c->n->sndbuf_capped = true;
		notify_logf(c->n, 6,
		            "subscriber socket buffers are capped at %d KiB (twice "
		            "net.core.wmem_max), below twice client_output_limit: raising that "
		            "sysctl, or giving feedd CAP_NET_ADMIN, speeds up replays to many "
		            "subscribers",
		            sndbuf / 1024);
	}
	c->turn = sndbuf > 1 ? (size_t)sndbuf / 2 : 64 << 10;
	if (c->pipe[1] >= 0) {
		int want = lim < NOTIFY_PIPE_MAX ? (int)lim : (int)NOTIFY_PIPE_MAX;
		int have = fcntl(c->pipe[1], F_GETPIPE_SZ);
		if (have > 0 && want > have)
			fcntl(c->pipe[1], F_SETPIPE_SZ, want);
	}
}

/*
 * The zero-copy stage of a subscriber, made at sub (a connection that
 * never subscribes, or is refused, costs no pipe).  Without one (zero_copy
 * off, or EMFILE) its output is copied.
 */
static void notify_client_pipe(struct notify_client *c)
{
	if (!notify_zero_copy(c->n) || c->pipe[1] >= 0)
		return;
	if (pipe2(c->pipe, O_NONBLOCK | O_CLOEXEC)) {
		notify_logf(c->n, 4, "client %" PRIu64 ": no pipe (%s): its output is copied",
		            c->id, strerror(errno));
		c->pipe[0] = c->pipe[1] = -1;
		return;
	}
	notify_client_size_buffers(c);
}

/* Frees whatever is still pending (the client is going). */
static void notify_out_free(struct notify_client *c)
{
	for (size_t i = c->qhead; i < c->qtail; i++)
		notify_seg_release(&c->q[i]);
	free(c->q);
	c->q = NULL;
	c->qhead = c->qtail = c->qcap = 0;
	c->queued = c->in_pipe = 0;
	for (int i = 0; i < 2; i++)
		if (c->pipe[i] >= 0)
			close(c->pipe[i]);
	c->pipe[0] = c->pipe[1] = -1;
}

/*
 * Whether vmsplice(2) and splice(2) into a UNIX socket work here (a
 * seccomp filter may refuse them): the zero-copy stage is used only then.
 */
static bool notify_zero_copy_works(void)
{
	int p[2] = {-1, -1}, sv[2] = {-1, -1};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char back = 0;
	bool ok = false;
	char *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED && !pipe2(p, O_NONBLOCK | O_CLOEXEC) &&
	    !socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		struct iovec v = {m, 1};
		m[0] = 'z';
		ok = vmsplice(p[1], &v, 1, SPLICE_F_NONBLOCK) == 1 &&
		     splice(p[0], NULL, sv[0], NULL, 1, SPLICE_F_NONBLOCK) == 1 &&
		     read(sv[1], &back, 1) == 1 && back == 'z';
	}
	for (int i = 0; i < 2; i++) {
		if (p[i] >= 0)
			close(p[i]);
		if (sv[i] >= 0)
			close(sv[i]);
	}
	if (m != MAP_FAILED)
		munmap(m, page);
	return ok;
}

/* ---------------------------------------------------------------- sending */

static void notify_client_queue(struct notify_client *c, const char *line, size_t len)
{
	if (c->flags & NC_GONE)
		return;
	if (notify_out_copy(c, line, len)) {
		notify_logf(c->n, 3, "client %" PRIu64 ": out of memory queueing output, dropped",
		            c->id);
		notify_client_gone(c);
		return;
	}
	event_base_gettimeofday_cached(c->n->base, &c->last_queued);
}

/* Queues the JSON line being written in w (into n->scratch). */
static void notify_client_queue_w(struct notify_client *c, struct cjson_w *w)
{
	if (cjson_w_line(w) == 0)
		notify_client_queue(c, w->b->data, w->b->len);
	else
		notify_logf(c->n, 3, "client %" PRIu64 ": out of memory", c->id);
}

/* {"ev":"error","code":..,"message":..[,"id":..]}; close afterwards when asked. */
static void notify_client_error(struct notify_client *c, const char *code, const char *msg,
                                const struct cjson *id, bool close)
{
	struct cjson_w w;
	c->n->scratch.len = 0;
	cjson_w_init(&w, &c->n->scratch);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "ev", "error");
	cjson_w_kstr(&w, "code", code);
	cjson_w_kstr(&w, "message", msg);
	if (id) {
		cjson_w_key(&w, "id");
		cjson_w_raw(&w, id->raw, id->rawlen);
	}
	cjson_w_obj_end(&w);
	notify_client_queue_w(c, &w);
	notify_logf(c->n, close ? 4 : 6, "client %" PRIu64 ": %s: %s%s", c->id, code, msg,
	            close ? " (closing)" : "");
	if (close)
		notify_client_close(c);
}

/* {"ev":EV,"head":..} plus the sub's id for live. */
static void notify_client_marker(struct notify_client *c, const char *ev, const char *id)
{
	struct cjson_w w;
	c->n->scratch.len = 0;
	cjson_w_init(&w, &c->n->scratch);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "ev", ev);
	notify_cursor_key(&w, c->n, "head", c->n->head);
	if (id) {
		cjson_w_key(&w, "id");
		cjson_w_raw(&w, id, strlen(id));
	}
	cjson_w_obj_end(&w);
	notify_client_queue_w(c, &w);
}

/* ---------------------------------------------------------------- the one read path */

static int notify_direct_cb(void *ud, const struct store_event *ev)
{
	struct notify_read *r = ud;
	if (notify_event_line(r->n, ev, &r->n->scratch)) { /* queued after the pruned check */
		r->failed = 1;
		return 1;
	}
	return 0;
}

static int notify_fill_cb(void *ud, const struct store_event *ev)
{
	struct notify_read *r = ud;
	struct notify_block *bl = r->bl;
	if (ev->seq > r->bound) { /* the next block has it */
		r->bounded = true;
		return 1;
	}
	size_t off = bl->b.len;
	if (notify_event_line(r->n, ev, &bl->b)) { /* straight into the block */
		r->failed = 1;
		return 1;
	}
	bl->lines[bl->nlines++] = (struct notify_line){ev->seq, ev->feed_id, off, bl->b.len - off};
	bl->hi = ev->seq;
	return 0;
}

/*
 * Reads up to replay_batch events after cursor into a new block, which
 * goes into the cache; *out gets it with a reference for the caller (NULL
 * when the read found nothing new).  0, -1 on a store error, 1 when events
 * after cursor may have been pruned (the subscriber must get cursor_expired
 * from the direct path, never a silent skip).
 */
static int notify_cache_fill(struct notify *n, int64_t cursor, struct notify_block **out)
{
	size_t next = notify_cache_after(n, cursor);
	struct notify_read r = {.n = n,
	                        .bound = next < n->nblocks ? n->blocks[next]->lo : INT64_MAX};
	size_t got = 0;
	int64_t last = cursor, pruned = 0;
	*out = NULL;
	if (store_pruned_upto(n->store, &pruned) != STORE_OK)
		return -1;
	if (cursor < pruned)
		return 1;
	struct notify_block *bl = calloc(1, sizeof *bl);
	if (bl)
		bl->lines = malloc(n->lim.replay_batch * sizeof *bl->lines);
	if (!bl || !bl->lines) {
		free(bl);
		return -1;
	}
	bl->refs = 1; /* the caller's */
	bl->lo = bl->hi = cursor;
	r.bl = bl;
	enum store_err e = store_events_after(n->store, cursor, NULL, 0, n->lim.replay_batch,
	                                      notify_fill_cb, &r, &got, &last);
	/* Again after the read: a prune step of the store thread may have committed
	 * between the check above and the read, and the read then misses what it
	 * deleted.  pruned_upto only grows, so this check sees that step. */
	if (e == STORE_OK && !r.failed && (e = store_pruned_upto(n->store, &pruned)) == STORE_OK &&
	    cursor < pruned) {
		notify_block_unref(bl);
		return 1;
	}
	if (e != STORE_OK || r.failed) {
		notify_logf(n, 3, "reading events after %" PRId64 ": %s", cursor,
		            e != STORE_OK ? store_errmsg(n->store) : "out of memory");
		notify_block_unref(bl);
		return -1;
	}
	/* The block holds everything up to the next block, or, after a short
	 * read that saw everything committed, up to the head. */
	if (r.bounded)
		bl->hi = r.bound;
	else if (got < n->lim.replay_batch && bl->hi < n->head)
		bl->hi = n->head < r.bound ? n->head : r.bound;
	if (bl->hi > n->head)
		n->head = bl->hi;
	char *fit = bl->b.len && bl->b.len < bl->b.cap ? realloc(bl->b.data, bl->b.len) : NULL;
	if (fit) { /* nobody refers to the lines yet: moving them is fine */
		bl->b.data = fit;
		bl->b.cap = bl->b.len;
	}
	if (!bl->nlines) { /* a gap block: only its range */
		free(bl->lines);
		bl->lines = NULL;
	}
	struct notify_line *lines = bl->nlines && bl->nlines < n->lim.replay_batch
	                                ? realloc(bl->lines, bl->nlines * sizeof *lines)
	                                : NULL;
	if (lines)
		bl->lines = lines;
	if (notify_zero_copy(n))
		notify_block_seal(bl);
	if (bl->hi == bl->lo || notify_cache_insert(n, bl)) {
		notify_block_unref(bl);
		return 0;
	}
	*out = bl;
	return 0;
}

/*
 * Queues len bytes of block bl from offset off by reference (the queue
 * holds a reference to the block, dropped once they are sent), so a
 * hundred subscribers of one fill share its bytes.  A run shorter than
 * half its block (a few lines a feed filter wants) is copied instead: a
 * reference keeps the whole block alive, and the output limit counts only
 * the bytes queued, so a subscriber holds at most twice its output limit
 * in blocks.  0, or -1 when out of memory.
 */
static int notify_queue_run(struct notify_client *c, struct notify_block *bl, size_t off,
                            size_t len)
{
	if (len < bl->b.len / 2)
		return notify_out_copy(c, bl->b.data + off, len);
	return notify_out_block(c, bl, off, len);
}

/*
 * Serves the client from block bl (its cursor is within [lo, hi)).
 * Wanted lines lie back to back in the block: a subscriber without a
 * filter costs one segment per block, not a copy per line.  0, or -1
 * after dropping the client (out of memory: it resumes by its cursor
 * when it reconnects).
 */
static int notify_block_serve(struct notify_client *c, struct notify_block *bl)
{
	size_t a = 0, b = bl->nlines, run = 0, runlen = 0, sent = 0;
	int e = 0;
	while (a < b) { /* the first line after the cursor */
		size_t m = a + (b - a) / 2;
		if (bl->lines[m].seq <= c->cursor)
			a = m + 1;
		else
			b = m;
	}
	size_t i = a;
	for (; i < bl->nlines && sent < c->n->lim.replay_batch && !e; i++) {
		const struct notify_line *l = &bl->lines[i];
		c->cursor = l->seq;
		if (!notify_feed_wanted(c, l->feed_id)) {
			if (runlen)
				e = notify_queue_run(c, bl, run, runlen);
			runlen = 0;
			continue;
		}
		sent++;
		if (!runlen)
			run = l->off;
		runlen += l->len;
	}
	if (runlen && !e)
		e = notify_queue_run(c, bl, run, runlen);
	if (e) {
		notify_logf(c->n, 3, "client %" PRIu64 ": out of memory queueing events, dropped",
		            c->id);
		notify_client_gone(c);
		return -1;
	}
	if (sent)
		event_base_gettimeofday_cached(c->n->base, &c->last_queued);
	if (i == bl->nlines)
		c->cursor = bl->hi;
	return 0;
}

/* Reads the store directly.  0, or -1 after closing c. */
static int notify_direct_read(struct notify_client *c)
{
	struct notify *n = c->n;
	struct notify_read r = {.n = n, .c = c};
	int64_t pruned = 0, last = c->cursor;
	size_t got = 0;
	enum store_err e = store_pruned_upto(n->store, &pruned);
	if (e == STORE_OK && c->cursor < pruned) {
		notify_client_error(c, "cursor_expired",
		                    "events after the cursor were pruned while the client lagged",
		                    NULL, true);
		return -1;
	}
	n->scratch.len = 0;
	if (e == STORE_OK)
		e = store_events_after(n->store, c->cursor, c->feeds, c->nfeeds,
		                       n->lim.replay_batch, notify_direct_cb, &r, &got, &last);
	/* see notify_cache_fill: a prune may have committed between check and read */
	if (e == STORE_OK && !r.failed && (e = store_pruned_upto(n->store, &pruned)) == STORE_OK &&
	    c->cursor < pruned) {
		notify_client_error(c, "cursor_expired",
		                    "events after the cursor were pruned while the client lagged",
		                    NULL, true);
		return -1;
	}
	if (e != STORE_OK || r.failed) {
		notify_logf(n, 3, "client %" PRIu64 ": reading events: %s", c->id,
		            e != STORE_OK ? store_errmsg(n->store) : "out of memory");
		return -1;
	}
	if (got) {
		notify_client_queue(c, n->scratch.data, n->scratch.len);
		c->cursor = last;
	}
	if (got < n->lim.replay_batch && c->cursor < n->head)
		c->cursor = n->head;
	return 0;
}

/*
 * One step of "read the events after the client's cursor": at most
 * replay_batch events, from the cache, else from a new block read into
 * the cache.  A subscriber with a feed filter replaying behind the cache
 * reads the store directly instead: filling the cache would serialize
 * every feed's events for a few of them.  Returns 0 when it made
 * progress, -1 when it could not (store error, or the client was closed).
 */
static int notify_read_step(struct notify_client *c)
{
	struct notify *n = c->n;
	int64_t before = c->cursor;
	struct notify_block *bl = notify_cache_lookup(n, c->cursor);
	if (bl) {
		if (notify_block_serve(c, bl))
			return -1;
	} else if (c->feeds && c->cursor < notify_cache_top(n)) {
		if (notify_direct_read(c))
			return -1;
	} else {
		int rc = notify_cache_fill(n, c->cursor, &bl);
		if (rc < 0)
			return -1;
		if (bl) {
			rc = notify_block_serve(c, bl);
			notify_block_unref(bl);
			if (rc)
				return -1;
		} else if (notify_direct_read(c)) {
			return -1;
		}
	}
	return c->cursor > before ? 0 : -1;
}

/*
 * Subscribers replaying at once (a hundred after a restart, say) move in
 * packs: one more than replay_batch events ahead of another that is at
 * most NOTIFY_PACK_SPAN replay batches behind it (and further than a batch
 * from the head) waits for it.  Each reader then copies pages that the
 * others have just read, from the processor's cache: left to the
 * scheduler's luck, readers drift tens of megabytes apart and every copy
 * comes from memory (bench/notify, 100 subscribers replaying 1.4 KB lines:
 * 18-21 MB apart and 34-42k events/s each; in a pack, about 1 MB and
 * 42-50k).  A waiting client's reader sleeps once it has read what it has
 * and leaves the processor to those behind, which catch up within
 * milliseconds: there a subscriber waits with nothing to send for 2-5 % of
 * its replay.  One that waits with nothing to send for more than a quarter
 * of its recent time (halved every 20 pack_wait_ms: the last second or
 * so), and for pack_wait_ms at least, is held back by a reader slow by
 * itself: nobody waits for that one again.  One further behind than the
 * span (a subscriber resuming from an old cursor) holds nobody up until
 * it has caught up.  Live subscribers neither wait nor are waited for
 * (latency), nor are those with a feed filter (their lines are copied:
 * there is nothing to share), and a stalled one (notify_stalled) is not
 * waited for.  Held clients go on when one behind them moves or goes
 * away, and at least every NOTIFY_STALLED_MS (notify_pace_cb).  A daemon
 * that lets more than NOTIFY_PACK_MAX_CLIENTS subscribers connect forms
 * no packs.
 */
#define NOTIFY_PACK_SPAN 8

/* Each waiting client looks at every other one: packs only where at most
 * this many subscribers may connect (max_clients). */
#define NOTIFY_PACK_MAX_CLIENTS 1024

static bool notify_paced(const struct notify_client *c)
{
	return c->n->lim.pack_wait_ms > 0 && c->n->lim.max_clients <= NOTIFY_PACK_MAX_CLIENTS &&
	       !c->feeds &&
	       (c->flags & (NC_SUBSCRIBED | NC_CLOSING | NC_LIVE | NC_UNPACED)) == NC_SUBSCRIBED;
}

/*
 * The paced client (not a stalled one) furthest behind c within the span
 * and more than a replay batch behind it, or NULL.  With first, any such
 * client.
 */
static struct notify_client *notify_pack_behind(struct notify_client *c, bool first)
{
	struct notify *n = c->n;
	int64_t w = (int64_t)n->lim.replay_batch, span = NOTIFY_PACK_SPAN * w;
	struct notify_client *t, *slowest = NULL;
	TAILQ_FOREACH(t, &n->clients, entry)
	{
		if (t == c || t->cursor >= c->cursor - w || t->cursor < c->cursor - span ||
		    (slowest && t->cursor >= slowest->cursor) || !notify_paced(t) ||
		    notify_stalled(t))
			continue;
		slowest = t;
		if (first)
			break;
	}
	return slowest;
}

/* Held clients look again soon (in this turn of the loop). */
static void notify_pack_moved(struct notify *n)
{
	if (n->nheld)
		event_active(n->pace, EV_TIMEOUT, 0);
}

static void notify_pace_arm(struct notify *n)
{
	int64_t ms =
	    n->lim.pack_wait_ms < NOTIFY_STALLED_MS ? n->lim.pack_wait_ms : NOTIFY_STALLED_MS;
	if (!evtimer_pending(n->pace, NULL)) {
		struct timeval tv = notify_tv(ms > 0 ? ms : 1);
		evtimer_add(n->pace, &tv);
	}
}

/* How long c has been waiting with nothing queued, this time (its socket
 * may still hold some: this counts a little more than the wait). */
static int64_t notify_starving_ms(const struct notify_client *c)
{
	if (!(c->flags & NC_HELD) || notify_outlen(c))
		return 0;
	const struct timeval *t =
	    timercmp(&c->empty_since, &c->held_since, >) ? &c->empty_since : &c->held_since;
	int64_t ms = notify_ms_since(c->n, t);
	return ms > 0 ? ms : 0;
}

static void notify_client_unhold(struct notify_client *c)
{
	if (!(c->flags & NC_HELD))
		return;
	c->starved_ms += notify_starving_ms(c);
	c->flags &= ~NC_HELD;
	c->n->nheld--;
}

/* Whether c waits for its pack now. */
static bool notify_client_held(struct notify_client *c)
{
	struct notify *n = c->n;
	if (!notify_paced(c) || n->head - c->cursor <= (int64_t)n->lim.replay_batch ||
	    !notify_pack_behind(c, true)) {
		notify_client_unhold(c);
		return false;
	}
	if (!(c->flags & NC_HELD)) {
		c->flags |= NC_HELD;
		n->nheld++;
		event_base_gettimeofday_cached(n->base, &c->held_since);
		notify_pace_arm(n);
	}
	int64_t life = notify_ms_since(n, &c->paced_since);
	if (life > 20 * n->lim.pack_wait_ms) { /* what counts is the last second or so */
		struct timeval half = notify_tv(life / 2);
		timeradd(&c->paced_since, &half, &c->paced_since);
		c->starved_ms /= 2;
		life -= life / 2;
	}
	int64_t starved = c->starved_ms + notify_starving_ms(c);
	if (starved < n->lim.pack_wait_ms || starved * 4 <= life)
		return true;
	struct notify_client *slow = notify_pack_behind(c, false);
	notify_logf(n, 7,
	            "client %" PRIu64 ": slow by itself, nobody waits for it (client %" PRIu64
	            " waited %" PRId64 " ms)",
	            slow->id, c->id, starved);
	slow->flags |= NC_UNPACED;
	notify_client_unhold(c);
	c->starved_ms = 0; /* a fresh start */
	event_base_gettimeofday_cached(n->base, &c->paced_since);
	notify_pack_moved(n);         /* others may have waited for it too */
	return notify_client_held(c); /* another one may be behind */
}

/* A paced client moved on or went away, or the timer ran out (a client
 * behind may have stalled): held clients look again. */
static void notify_pace_cb(evutil_socket_t fd, short what, void *ud)
{
	struct notify *n = ud;
	struct notify_client *c;
	(void)fd;
	(void)what;
	TAILQ_FOREACH(c, &n->clients, entry)
	{
		if ((c->flags & (NC_HELD | NC_GONE)) == NC_HELD)
			notify_client_pump(c);
	}
	if (n->nheld)
		notify_pace_arm(n);
}

static void notify_client_pump(struct notify_client *c)
{
	struct notify *n = c->n;
	if ((c->flags & (NC_SUBSCRIBED | NC_CLOSING)) != NC_SUBSCRIBED)
		return;
	int64_t before = c->cursor;
	bool held = false;
	while (c->cursor < n->head && notify_outlen(c) < n->lim.output_limit &&
	       !(c->flags & NC_CLOSING) && !(held = notify_client_held(c)))
		if (notify_read_step(c))
			return;
	if (!held) /* it is not waiting (any more): busy sending, or at the head */
		notify_client_unhold(c);
	if (c->cursor > before && notify_paced(c))
		notify_pack_moved(n);
	if (!(c->flags & NC_LIVE) && c->cursor >= n->head && !(c->flags & NC_CLOSING)) {
		c->flags |= NC_LIVE;
		notify_client_marker(c, "live", c->live_id);
	}
}

/* ---------------------------------------------------------------- peers: lifecycle */

static void notify_reap_cb(evutil_socket_t fd, short what, void *ud)
{
	struct notify *n = ud;
	struct notify_client *c, *next;
	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&n->clients); c; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!(c->flags & NC_GONE))
			continue;
		TAILQ_REMOVE(&n->clients, c, entry);
		event_free(c->wev);
		notify_out_free(c);
		bufferevent_free(c->bev); /* closes the socket */
		event_free(c->timer);
		free(c->feeds);
		free(c->live_id);
		free(c);
		n->nconns--;
	}
}

static void notify_client_gone(struct notify_client *c)
{
	if (c->flags & NC_GONE)
		return;
	if (!(c->flags & NC_CLOSING))
		c->n->nclients--;
	notify_client_unhold(c);
	notify_pack_moved(c->n); /* those waiting for it go on */
	c->flags |= NC_GONE | NC_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	event_del(c->wev);
	evtimer_del(c->timer);
	event_active(c->n->reap, EV_TIMEOUT, 0);
}

/* Stop reading; close once the output is flushed (or the peer stalls). */
static void notify_client_close(struct notify_client *c)
{
	if (c->flags & NC_CLOSING)
		return;
	c->flags |= NC_CLOSING;
	c->n->nclients--;
	notify_client_unhold(c);
	notify_pack_moved(c->n); /* those waiting for it go on */
	bufferevent_disable(c->bev, EV_READ);
	evtimer_del(c->timer);
	if (notify_outlen(c) == 0)
		notify_client_gone(c);
}

static void notify_client_arm(struct notify_client *c, int64_t ms)
{
	struct timeval tv = notify_tv(ms > 0 ? ms : 1);
	evtimer_add(c->timer, &tv);
}

static void notify_client_timer_cb(evutil_socket_t fd, short what, void *ud)
{
	struct notify_client *c = ud;
	struct notify *n = c->n;
	(void)fd;
	(void)what;
	if (c->flags & NC_CLOSING)
		return;
	if (!(c->flags & NC_SUBSCRIBED)) {
		char msg[96];
		snprintf(msg, sizeof msg, "no sub request within %" PRId64 " ms",
		         n->lim.sub_timeout_ms);
		notify_client_error(c, "bad_request", msg, NULL, true);
		return;
	}
	notify_client_pump(c); /* retries after a failed store read */
	if (!n->lim.heartbeat_ms)
		return;
	int64_t quiet = notify_ms_since(n, &c->last_queued);
	if (quiet >= n->lim.heartbeat_ms && notify_outlen(c) == 0) {
		notify_client_marker(c, "hb", NULL);
		quiet = 0;
	}
	notify_client_arm(c, quiet < n->lim.heartbeat_ms ? n->lim.heartbeat_ms - quiet
	                                                 : n->lim.heartbeat_ms);
}

static void notify_client_readcb(struct bufferevent *bev, void *ud)
{
	(void)bev;
	notify_client_requests(ud);
}

/* The output drained below half the limit. */
static void notify_client_drained(struct notify_client *c)
{
	if (c->flags & NC_CLOSING) {
		if (notify_outlen(c) == 0)
			notify_client_gone(c);
		return;
	}
	if (c->flags & NC_READ_PAUSED) {
		c->flags &= ~NC_READ_PAUSED;
		if (!(c->flags & NC_EOF))
			bufferevent_enable(c->bev, EV_READ);
		notify_client_requests(c);
	}
	notify_client_pump(c);
}

/* The socket is writable, or it stayed full for stall_timeout. */
static void notify_client_writecb(evutil_socket_t fd, short what, void *ud)
{
	struct notify_client *c = ud;
	struct notify *n = c->n;
	(void)fd;
	if (c->flags & NC_GONE)
		return;
	if (what & EV_TIMEOUT) {
		/* Stalled means its reader took nothing: a socket buffer sized
		 * to the output limit is writable again only once three
		 * quarters of it drained, which a slow reader may take longer
		 * than stall_timeout to do.  The timeout is rearmed (EV_PERSIST). */
		int q = notify_outq(c);
		if (q < c->outq) {
			c->outq = q;
			event_base_gettimeofday_cached(n->base, &c->last_drained);
			return;
		}
		notify_logf(n, 4, "client %" PRIu64 ": stalled with %zu bytes pending, dropped",
		            c->id, notify_outlen(c));
		notify_client_gone(c);
		return;
	}
	ssize_t moved = notify_out_flush(c);
	if (moved < 0) { /* the peer is gone */
		notify_logf(n, 7, "client %" PRIu64 ": write: %s", c->id, strerror(errno));
		notify_client_gone(c);
		return;
	}
	if (moved) { /* the stall clock starts again (EV_PERSIST) */
		event_base_gettimeofday_cached(n->base, &c->last_drained);
		if (notify_outlen(c))
			c->outq = notify_outq(c);
	}
	if (!notify_outlen(c)) {
		event_del(c->wev);
		event_base_gettimeofday_cached(n->base, &c->empty_since);
	}
	if (notify_outlen(c) <= n->lim.output_limit / 2)
		notify_client_drained(c);
}

static bool notify_peer_hung_up(struct notify_client *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLOUT};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void notify_client_eventcb(struct bufferevent *bev, short what, void *ud)
{
	struct notify_client *c = ud;
	(void)bev;
	if (what & BEV_EVENT_ERROR) {
		notify_client_gone(c);
	} else if (what & BEV_EVENT_EOF) {
		/* A subscriber may shut down its sending side and go on reading
		 * (socat, nc); one that closed altogether shows POLLHUP.  Anyone
		 * else can no longer say anything useful. */
		c->flags |= NC_EOF;
		if (!(c->flags & NC_SUBSCRIBED) || notify_peer_hung_up(c) ||
		    evbuffer_get_length(bufferevent_get_input(c->bev)))
			notify_client_gone(c);
	}
}

static void notify_client_apply_limits(struct notify_client *c, bool new_stall)
{
	struct notify_limits *l = &c->n->lim;
	bufferevent_setwatermark(c->bev, EV_READ, 0, l->max_line + 2);
	notify_client_size_buffers(c);
	/* a new stall_timeout from now on (the same one keeps running: reloads
	 * must not keep a stalled client connected) */
	if (new_stall && event_pending(c->wev, EV_WRITE, NULL)) {
		struct timeval stall = notify_tv(l->stall_timeout_ms);
		event_add(c->wev, &stall);
	}
}

/* ---------------------------------------------------------------- requests */

static int notify_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* "feeds": a non-empty array of positive integers.  Sorted, deduplicated. */
static const char *notify_parse_feeds(const struct cjson *v, int64_t **out, size_t *nout)
{
	if (v->type != CJSON_ARR)
		return "\"feeds\" must be an array of feed ids";
	if (v->u.arr.n == 0)
		return "\"feeds\" must not be empty";
	int64_t *f = malloc(v->u.arr.n * sizeof *f);
	size_t n = 0;
	if (!f)
		return "out of memory";
	for (size_t i = 0; i < v->u.arr.n; i++) {
		if (v->u.arr.v[i].type != CJSON_INT || v->u.arr.v[i].u.i <= 0) {
			free(f);
			return "\"feeds\" must hold positive integers";
		}
		f[i] = v->u.arr.v[i].u.i;
	}
	qsort(f, v->u.arr.n, sizeof *f, notify_cmp_i64);
	for (size_t i = 0; i < v->u.arr.n; i++)
		if (!n || f[n - 1] != f[i])
			f[n++] = f[i];
	*out = f;
	*nout = n;
	return NULL;
}

/*
 * The starting cursor for "after" (NULL: from the head on).  Returns 0,
 * 1 after a bad_request (connection stays), -1 after a cursor error (closing).
 */
static int notify_sub_after(struct notify_client *c, const struct cjson *after,
                            const struct cjson *id, int64_t *cursor)
{
	struct notify *n = c->n;
	struct store_cursor cur;
	enum store_cursor_state st;
	if (!after || after->type == CJSON_NULL) {
		*cursor = n->head;
		return 0;
	}
	if (after->type != CJSON_STR) {
		notify_client_error(c, "bad_request",
		                    "\"after\" must be a cursor string or \"oldest\"", id, false);
		return 1;
	}
	if (strcmp(after->u.str.s, "oldest") == 0) {
		if (store_pruned_upto(n->store, cursor) == STORE_OK)
			return 0;
	} else if (!store_cursor_parse(after->u.str.s, &cur)) {
		notify_client_error(c, "bad_request",
		                    "malformed cursor (expected \"<epoch>:<seq>\")", id, false);
		return 1;
	} else if (store_cursor_check(n->store, &cur, &st) == STORE_OK) {
		static const char *const why[] = {
		    [STORE_CURSOR_EPOCH_MISMATCH] = "the cursor belongs to another database",
		    [STORE_CURSOR_EXPIRED] = "events after the cursor were removed by retention",
		    [STORE_CURSOR_AHEAD] = "the cursor is beyond the head",
		};
		if (st == STORE_CURSOR_OK) {
			*cursor = cur.seq;
			return 0;
		}
		notify_client_error(c, store_cursor_state_name(st), why[st], id, true);
		return -1;
	}
	notify_logf(n, 3, "client %" PRIu64 ": %s", c->id, store_errmsg(n->store));
	notify_client_error(c, "bad_request", "the store could not be read, try again", id, false);
	return 1;
}

static void notify_subscribe(struct notify_client *c, const struct cjson *req,
                             const struct cjson *id)
{
	struct notify *n = c->n;
	const struct cjson *feeds = cjson_get(req, "feeds");
	int64_t *f = NULL, cursor = 0;
	size_t nf = 0;
	const char *bad = NULL;
	if (c->flags & NC_SUBSCRIBED)
		bad = "already subscribed on this connection";
	else if (feeds && feeds->type != CJSON_NULL)
		bad = notify_parse_feeds(feeds, &f, &nf);
	if (bad) {
		notify_client_error(c, "bad_request", bad, id, false);
		return;
	}
	if (notify_sub_after(c, cjson_get(req, "after"), id, &cursor)) {
		free(f);
		return;
	}
	if (id && !(c->live_id = strndup(id->raw, id->rawlen))) {
		free(f);
		notify_client_error(c, "bad_request", "out of memory", id, false);
		return;
	}
	c->feeds = f;
	c->nfeeds = nf;
	c->cursor = cursor;
	c->flags |= NC_SUBSCRIBED;
	event_base_gettimeofday_cached(n->base, &c->paced_since);
	c->empty_since = c->paced_since;
	notify_client_pipe(c);
	notify_logf(n, 7, "client %" PRIu64 ": sub after %" PRId64 " (%zu feeds)", c->id, cursor,
	            nf);
	evtimer_del(c->timer);
	if (n->lim.heartbeat_ms)
		notify_client_arm(c, n->lim.heartbeat_ms);
	notify_client_pump(c);
}

static void notify_request(struct notify_client *c, const char *line, size_t len)
{
	struct cjson req;
	char err[128], msg[160];
	if (cjson_parse(line, len, &req, err, sizeof err)) {
		snprintf(msg, sizeof msg, "not JSON: %s", err);
		notify_client_error(c, "bad_request", msg, NULL, false);
		return;
	}
	const struct cjson *id = cjson_get(&req, "id");
	const struct cjson *op = cjson_get(&req, "op");
	if (id && (id->type == CJSON_ARR || id->type == CJSON_OBJ)) {
		notify_client_error(c, "bad_request",
		                    "\"id\" must be a string, a number, true, false or null", NULL,
		                    false);
	} else if (req.type != CJSON_OBJ) {
		notify_client_error(c, "bad_request", "a request is a JSON object", NULL, false);
	} else if (!op || op->type != CJSON_STR) {
		notify_client_error(c, "bad_request", "\"op\" (a string) is missing", id, false);
	} else if (strcmp(op->u.str.s, "sub") == 0) {
		notify_subscribe(c, &req, id);
	} else {
		notify_client_error(c, "bad_request", "unknown op (known: sub)", id, false);
	}
	cjson_free(&req);
}

static bool notify_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Handles every complete line in the input; checks the length as data arrives. */
static void notify_client_requests(struct notify_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t max = c->n->lim.max_line;
	while (!(c->flags & NC_CLOSING) && evbuffer_get_length(in)) {
		if (notify_outlen(c) >= c->n->lim.output_limit) {
			c->flags |= NC_READ_PAUSED;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		size_t eol_len = 0;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		size_t linelen = p.pos < 0 ? evbuffer_get_length(in) : (size_t)p.pos;
		if (linelen > max) {
			char msg[96];
			snprintf(msg, sizeof msg, "request line longer than %zu bytes", max);
			notify_client_error(c, "line_too_long", msg, NULL, true);
			return;
		}
		if (p.pos < 0)
			return;
		const char *line = (const char *)evbuffer_pullup(in, (ssize_t)linelen + 1);
		if (line && !notify_blank(line, linelen))
			notify_request(c, line, linelen);
		evbuffer_drain(in, linelen + 1);
	}
	if ((c->flags & NC_EOF) && !(c->flags & NC_SUBSCRIBED))
		notify_client_gone(c);
}

/* ---------------------------------------------------------------- accepting */

static void notify_hello(struct notify_client *c)
{
	struct notify *n = c->n;
	int64_t head = 0, oldest = 0;
	struct cjson_w w;
	if (store_head(n->store, &head) == STORE_OK && head > n->head)
		n->head = head;
	if (store_oldest(n->store, &oldest) != STORE_OK || oldest <= 0)
		oldest = n->head;
	n->scratch.len = 0;
	cjson_w_init(&w, &n->scratch);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "ev", "hello");
	cjson_w_kint(&w, "proto", 1);
	cjson_w_kstr(&w, "epoch", n->epoch);
	notify_cursor_key(&w, n, "head", n->head);
	notify_cursor_key(&w, n, "oldest", oldest);
	cjson_w_obj_end(&w);
	notify_client_queue_w(c, &w);
}

static void notify_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                             int salen, void *ud)
{
	struct notify *n = ud;
	struct notify_client *c = calloc(1, sizeof *c);
	(void)l;
	(void)sa;
	(void)salen;
	if (c)
		c->bev = bufferevent_socket_new(n->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c && c->bev)
		c->timer = evtimer_new(n->base, notify_client_timer_cb, c);
	if (c && c->timer &&
	    !(c->wev = event_new(n->base, fd, EV_WRITE | EV_PERSIST, notify_client_writecb, c))) {
		event_free(c->timer);
		c->timer = NULL;
	}
	if (!c || !c->bev || !c->timer) {
		notify_logf(n, 3, "out of memory accepting a subscriber");
		if (c && c->bev)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		free(c);
		return;
	}
	c->fd = fd;
	c->pipe[0] = c->pipe[1] = -1; /* made at sub (notify_client_pipe) */
	c->n = n;
	c->id = ++n->next_id;
	event_base_gettimeofday_cached(n->base, &c->last_drained);
	TAILQ_INSERT_TAIL(&n->clients, c, entry);
	n->nconns++;
	n->nclients++;
	bufferevent_setcb(c->bev, notify_client_readcb, NULL, notify_client_eventcb, c);
	notify_client_apply_limits(c, false);
	if (n->nclients > n->lim.max_clients) {
		char msg[64];
		snprintf(msg, sizeof msg, "at most %zu subscribers", n->lim.max_clients);
		notify_client_error(c, "too_many_clients", msg, NULL, true);
		return;
	}
	notify_hello(c);
	notify_client_arm(c, n->lim.sub_timeout_ms);
	bufferevent_enable(c->bev, EV_READ);
}

static void notify_listen_retry_cb(evutil_socket_t fd, short what, void *ud)
{
	struct notify *n = ud;
	(void)fd;
	(void)what;
	if (n->listener && !n->shutting_down)
		evconnlistener_enable(n->listener);
}

/* accept() failed (EMFILE ...): pause a second instead of spinning. */
static void notify_accept_error_cb(struct evconnlistener *l, void *ud)
{
	struct notify *n = ud;
	struct timeval sec = {1, 0};
	notify_logf(n, 3, "accepting a subscriber: %s", strerror(errno));
	evconnlistener_disable(l);
	evtimer_add(n->listen_retry, &sec);
}

static int notify_adopt(struct notify *n, int fd, char *err, size_t errlen)
{
	evutil_make_socket_nonblocking(fd);
	n->listener = evconnlistener_new(n->base, notify_accept_cb, n,
	                                 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!n->listener) {
		snprintf(err, errlen, "cannot watch the listening socket");
		return -1;
	}
	evconnlistener_set_error_cb(n->listener, notify_accept_error_cb);
	return 0;
}

int notify_listen_fd(struct notify *n, int fd, char *err, size_t errlen)
{
	int type = 0, domain = 0, acc = 0;
	socklen_t len = sizeof type;
	if (n->listener) {
		snprintf(err, errlen, "already listening");
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &(socklen_t){sizeof domain}) ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &(socklen_t){sizeof acc}) ||
	    type != SOCK_STREAM || domain != AF_UNIX || !acc) {
		snprintf(err, errlen, "fd %d is not a listening UNIX stream socket", fd);
		return -1;
	}
	return notify_adopt(n, fd, err, errlen);
}

/* A socket file at path that nobody accepts on is stale: remove it.  0 when free. */
static int notify_clear_stale(const char *path, const struct sockaddr_un *sa, char *err,
                              size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT
		           ? 0
		           : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int rc = connect(probe, (const struct sockaddr *)sa, sizeof *sa);
	int e = errno;
	close(probe);
	if (rc == 0) {
		snprintf(err, errlen, "%s: another process is listening on it", path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "removing stale %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int notify_listen_path(struct notify *n, const char *path, unsigned mode, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	if (n->listener) {
		snprintf(err, errlen, "already listening");
		return -1;
	}
	if (!path || !*path || strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path empty or too long");
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (notify_clear_stale(path, &sa, err, errlen))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	umask(old);
	if (rc != 0) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	if (chmod(path, mode & 07777) != 0 || listen(fd, 128) != 0 || stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	if (notify_adopt(n, fd, err, errlen)) {
		unlink(path);
		close(fd);
		return -1;
	}
	n->path = strdup(path);
	n->path_dev = st.st_dev;
	n->path_ino = st.st_ino;
	return 0;
}

/* ---------------------------------------------------------------- the server */

struct notify *notify_new(struct event_base *base, struct store *store,
                          const struct notify_limits *l, notify_log_fn log, void *log_ud)
{
	struct notify *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->base = base;
	n->store = store;
	n->log = log;
	n->log_ud = log_ud;
	if (l)
		n->lim = *l;
	else
		notify_limits_default(&n->lim);
	notify_limits_sane(&n->lim);
	TAILQ_INIT(&n->clients);
	snprintf(n->epoch, sizeof n->epoch, "%s", store_epoch(store));
	n->epoch_len = strlen(n->epoch);
	n->reap = event_new(base, -1, 0, notify_reap_cb, n);
	n->listen_retry = evtimer_new(base, notify_listen_retry_cb, n);
	n->pace = evtimer_new(base, notify_pace_cb, n);
	if (!n->reap || !n->listen_retry || !n->pace || store_head(store, &n->head) != STORE_OK) {
		notify_free(n);
		return NULL;
	}
	n->zero_copy_works = notify_zero_copy_works();
	notify_logf(n, 7, "subscriber output: %s",
	            notify_zero_copy(n)
	                ? "zero-copy (vmsplice and splice through a pipe per client)"
	            : n->lim.zero_copy ? "copied (vmsplice/splice refused here)"
	                               : "copied (zero_copy = no)");
	return n;
}

void notify_committed(struct notify *n, int64_t first_seq, int64_t last_seq)
{
	struct notify_client *c;
	(void)first_seq;
	if (last_seq <= 0)
		return;
	if (last_seq > n->head)
		n->head = last_seq;
	TAILQ_FOREACH(c, &n->clients, entry)
	notify_client_pump(c);
}

void notify_forget(struct notify *n)
{
	notify_cache_clear(n);
}

void notify_set_limits(struct notify *n, const struct notify_limits *l)
{
	struct notify_client *c;
	int64_t stall = n->lim.stall_timeout_ms;
	n->lim = *l;
	notify_limits_sane(&n->lim);
	notify_cache_trim(n, NULL);
	TAILQ_FOREACH(c, &n->clients, entry)
	if (!(c->flags & NC_GONE))
		notify_client_apply_limits(c, n->lim.stall_timeout_ms != stall);
	notify_pack_moved(n); /* replay_pack or replay_batch may have changed */
}

size_t notify_cache_bytes(const struct notify *n)
{
	return n->cache_bytes;
}

bool notify_zero_copy(const struct notify *n)
{
	return n->lim.zero_copy && n->zero_copy_works; /* for new clients and blocks */
}

size_t notify_client_count(const struct notify *n)
{
	return n->nclients;
}

size_t notify_waiting_count(const struct notify *n)
{
	return n->nheld;
}

size_t notify_connection_count(const struct notify *n)
{
	return n->nconns;
}

size_t notify_output_bytes(const struct notify *n)
{
	const struct notify_client *c;
	size_t sum = 0;
	TAILQ_FOREACH(c, &n->clients, entry)
	sum += notify_outlen(c);
	return sum;
}

size_t notify_output_bytes_max(const struct notify *n)
{
	const struct notify_client *c;
	size_t max = 0;
	TAILQ_FOREACH(c, &n->clients, entry)
	if (notify_outlen(c) > max)
		max = notify_outlen(c);
	return max;
}

/* Removes the socket file if it is still the one we bound. */
static void notify_unlink(struct notify *n)
{
	struct stat st;
	if (n->path && stat(n->path, &st) == 0 && st.st_dev == n->path_dev &&
	    st.st_ino == n->path_ino)
		unlink(n->path);
	free(n->path);
	n->path = NULL;
}

void notify_shutdown(struct notify *n)
{
	static const char line[] = "{\"ev\":\"shutdown\"}\n";
	struct notify_client *c;
	n->shutting_down = true;
	if (n->listener)
		evconnlistener_free(n->listener);
	n->listener = NULL;
	notify_unlink(n);
	TAILQ_FOREACH(c, &n->clients, entry)
	{
		if (c->flags & NC_CLOSING)
			continue;
		notify_client_queue(c, line, sizeof line - 1);
		notify_client_close(c);
	}
}

void notify_free(struct notify *n)
{

	struct notify_client *c;
	if (!n)
		return;
	TAILQ_FOREACH(c, &n->clients, entry)
	c->flags |= NC_GONE;
	if (n->reap)
		notify_reap_cb(-1, 0, n);
	if (n->listener)
		evconnlistener_free(n->listener);
	notify_unlink(n);
	if (n->reap)
		event_free(n->reap);
	if (n->listen_retry)
		event_free(n->listen_retry);
	if (n->pace)
		event_free(n->pace);
	notify_cache_clear(n);
	free(n->blocks);
	buf_free(&n->scratch);
	free(n);
}
