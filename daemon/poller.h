/*
 * poller.h - one poll of a feed, end to end: fetch (daemon/fetch.h) ->
 * streaming parse (parsers/feed.h) -> one store transaction
 * (store/store.h) -> the next poll time (daemon/sched.h).
 *
 * Used by `feedd poll` and by the daemon's scheduler: start polls, run the
 * event loop, get one outcome callback per poll.
 *
 * The body streams into the parser as it arrives and is never held whole.
 * Parsed items are kept (copied) until the document is complete, then
 * written in one batch (BEGIN IMMEDIATE ... COMMIT) together with the new
 * validators and schedule, so that a half-read document never leaves half
 * its items, and the validators never claim a document that was not
 * stored.  What is held is capped at twice max_body (entities can expand
 * text up to max_amplification times): past it the document is refused
 * ("items larger than N bytes in all").  A store failure (busy, full, I/O) rolls the batch back, is
 * recorded on the feed with a back-off when the store takes even that,
 * and the other polls go on.
 *
 * Writes run on the store thread (daemon/storeq.h) with a handle of its
 * own, so the loop parses the next documents while one commits: every
 * write of a poll goes there, in completion order, and the outcome
 * callback comes on the loop after its write (so first_seq..last_seq are
 * committed when announced, and outcomes come in seq order).  Feed states
 * without items (304s, failures) that wait together are written in one
 * transaction.  At most max_parallel polls wait for the store thread;
 * beyond that the loop waits for it.  The loop's own handle (st) is used
 * for reads only, except for the failure that poller_start records.
 *
 * HTTP outcomes: 200 stores items; 304 refreshes validators and state;
 * 410 disables the feed ("410 Gone"); other errors back off
 * exponentially with jitter (Retry-After honoured, clamped); a permanent
 * redirect seen on POLLER_REDIRECT_POLLS polls in a row rewrites the
 * stored URL.  A document that is not a feed is recorded as the feed's error;
 * a broken one that could be parsed in part is stored as far as recovery
 * allows, with the parse error recorded as the feed's warning (likewise a
 * limit that cut it short).
 */
#ifndef FEEDD_POLLER_H
#define FEEDD_POLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct config;
struct event_base;
struct store;
struct store_feed;
struct poller;

/* Polls in a row that must redirect permanently to one URL before it replaces the stored one. */
#define POLLER_REDIRECT_POLLS 3

enum poller_result {
	POLLER_FETCHED,      /* a document was parsed and stored */
	POLLER_NOT_MODIFIED, /* 304 */
	POLLER_FAILED,       /* fetch, parse or store failed; recorded on the feed */
	POLLER_ABORTED,      /* poller_abort_all: nothing written */
};

/* One per poll; pointers valid during the callback only. */
struct poller_outcome {
	int64_t feed_id;
	const char *url;
	enum poller_result result;
	const char *error; /* why it failed; NULL otherwise */
	int http_status;   /* 0 when there was no response */
	bool store_failed; /* the store refused a write (busy, full, I/O, ...) */
	size_t new_items, updated_items;
	int64_t first_seq, last_seq; /* events committed, 0 when none: announce them now */
	int64_t next_poll;
	const char *next_poll_reason;
	bool disabled;       /* 410 Gone */
	const char *new_url; /* the stored URL was rewritten to this, else NULL */
	/*
	 * POLLER_FETCHED only: the document was parsed after recovering from
	 * broken XML ("line L, column C: message") and/or cut short by a limit
	 * ("item limit N reached"), recorded as the feed's warning; NULL when
	 * it was clean (the stored warning is then cleared).
	 */
	const char *warning;
	bool malformed; /* POLLER_FETCHED only: the document was broken XML, parsed after recovery */
	uint64_t body_bytes;
};

typedef void (*poller_done_fn)(void *ud, const struct poller_outcome *o);

/*
 * base, st and cfg are borrowed and must outlive the poller.  The fetch
 * settings are taken from cfg now; the schedule settings at each outcome.
 * Starts the store thread with a second handle on st's database.  NULL
 * when out of memory or when that handle or thread cannot be had.
 */
struct poller *poller_new(struct event_base *base, struct store *st, const struct config *cfg,
                          poller_done_fn done, void *ud);

/* Aborts what is running (outcomes POLLER_ABORTED), then frees. */
void poller_free(struct poller *p);

/*
 * Starts a poll of f (copied).  0: done will be called once, from the
 * event loop.  -1: it could not start (e.g. a file:// URL while file:// is
 * not allowed); the error is in err, recorded on the feed with a back-off,
 * and done is not called.
 */
int poller_start(struct poller *p, const struct store_feed *f, char *err, size_t errlen);

/*
 * For a store opened with skip_quick_check: the store thread runs the
 * check on its own handle before its first write, while the first
 * transfers are under way (`feedd poll` takes ~0.1 s per 300 MB of
 * database off its wall time this way).  If the database fails it,
 * nothing is written at all and every poll fails with store_failed and
 * the check's message.  Call it before the first poller_start.
 */
void poller_check_store(struct poller *p);

/* Polls started and not yet reported. */
size_t poller_pending(const struct poller *p);

/* Aborts every running poll now (for SIGTERM); each reports POLLER_ABORTED, and every
 * document already fetched is stored and reported, before this returns. */
void poller_abort_all(struct poller *p);

/*
 * One step of retention (store_prune_step), run on the store thread
 * between the documents: a prune of a million items is many such steps,
 * each a short transaction, with the commits of fetched documents queued
 * meanwhile running in between, and the loop never waits for it.  The
 * caller owns the struct and submits it again while more is true; it
 * must not change it while a step is queued.
 */
struct poller_prune {
	struct store_retention r; /* in: the same for every step of one prune */
	int64_t now;              /* in: likewise */
	size_t batch;             /* in: items per transaction, 0 = STORE_PRUNE_STEP_DEFAULT */
	size_t items, events;     /* out: deleted by this step */
	bool more;                /* out: submit again to go on */
	bool failed;              /* out: error says why; submitting again retries the step */
	char error[512];
};

/* On the loop, once per step, after its transaction committed or failed. */
typedef void (*poller_prune_fn)(void *ud, struct poller_prune *pr);

/*
 * Queues one step of pr behind the writes already queued; done(ud, pr)
 * follows on the loop (also when the poller is freed before it ran:
 * poller_free runs it first).  Does not count in poller_pending: the stop
 * does not wait for a prune, only for the step in flight.  0, or -1 when
 * out of memory (done is not called).
 */
int poller_prune(struct poller *p, struct poller_prune *pr, poller_prune_fn done, void *ud);

#endif
