/* poller.c - fetch -> parse -> store -> schedule for one feed; see poller.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "feed.h"
#include "fetch.h"
#include "poller.h"
#include "schedule.h"
#include "store.h"
#include "storeq.h"

struct poller {
	struct event_base *base;
	struct store *st;
	const struct config *cfg;
	struct fetch_engine *engine;
	struct storeq *writer; /* the store thread: every write of a poll goes through it */
	poller_done_fn done;
	void *ud;
	size_t pending;
	uint64_t rnd; /* xorshift state for back-off jitter */
	/* The store thread's own (poller_check_store): set before the first job, then its only. */
	bool check_first; /* run quick_check before the first write */
	bool broken;      /* it failed: no write at all, every poll fails with broken_msg */
	char broken_msg[512];
};

enum poller_write {
	PW_NONE,         /* aborted: nothing to write */
	PW_FAILURE,      /* fail_fu-like state: error and back-off */
	PW_NOT_MODIFIED, /* 304: validators and schedule */
	PW_DOCUMENT,     /* the items in one transaction, with the state */
	PW_PRUNE,        /* one retention step (poller_prune), not a poll */
};

struct poller_job {
	struct poller *p;
	int64_t feed_id;
	char *url, *etag, *last_modified;
	int errors;          /* consecutive errors before this poll */
	int64_t interval;    /* effective interval */
	bool own_interval;   /* set for this feed (store or config): no adaptation */
	struct parse *parse; /* created at the first body byte */
	char *base_url;
	char charset[64];
	struct feed_item *items; /* parsed, waiting for the end of the document */
	size_t nitems, capitems;
	size_t held; /* bytes held by items[] */
	bool oom;
	bool too_big;      /* held passed poller_held_max */
	char reason[64];   /* the outcome's next_poll_reason */
	char warning[512]; /* the outcome's warning */

	/*
	 * The write, prepared on the loop and done on the store thread
	 * (storeq.h), which fills the rest of o.  Every string it needs is
	 * the job's own: the fetch result and the parser are gone by then.
	 */
	struct storeq_node node;
	enum poller_write write;
	int64_t now;
	struct poller_outcome o;
	struct store_fetch_update fu;      /* the feed's state, alone or with the document */
	struct store_fetch_update fail_fu; /* PW_DOCUMENT: written instead when the batch fails */
	char fail_reason[64];
	struct feed_meta meta; /* PW_DOCUMENT: title and link (copies), the rest unset */
	bool has_meta;
	char *r_etag, *r_last_modified, *r_final_url; /* copies of the response's */
	bool permanent_redirect;
	char error[512]; /* the outcome's error */

	/* PW_PRUNE: the caller's step and whom to tell */
	struct poller_prune *prune;
	poller_prune_fn prune_done;
	void *prune_ud;
};

/* ---- item copies (the parser's item lives only during its callback) ---- */

static char *poller_dup(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static void poller_item_free(struct feed_item *it)
{
	free(it->id);
	free(it->title);
	free(it->link);
	free(it->author);
	free(it->summary);
	free(it->content);
	for (size_t i = 0; i < it->ncategories; i++)
		free(it->categories[i]);
	free(it->categories);
	for (size_t i = 0; i < it->nenclosures; i++) {
		free(it->enclosures[i].url);
		free(it->enclosures[i].type);
	}
	free(it->enclosures);
}

static bool poller_item_copy(struct feed_item *d, const struct feed_item *s)
{
	bool oom = false;
	*d = (struct feed_item){.published = s->published, .updated = s->updated};
	d->id = poller_dup(s->id, &oom);
	d->title = poller_dup(s->title, &oom);
	d->link = poller_dup(s->link, &oom);
	d->author = poller_dup(s->author, &oom);
	d->summary = poller_dup(s->summary, &oom);
	d->content = poller_dup(s->content, &oom);
	if (s->ncategories && (d->categories = calloc(s->ncategories, sizeof(char *)))) {
		d->ncategories = s->ncategories;
		for (size_t i = 0; i < s->ncategories; i++)
			d->categories[i] = poller_dup(s->categories[i], &oom);
	}
	if (s->nenclosures && (d->enclosures = calloc(s->nenclosures, sizeof *d->enclosures))) {
		d->nenclosures = s->nenclosures;
		for (size_t i = 0; i < s->nenclosures; i++) {
			d->enclosures[i].url = poller_dup(s->enclosures[i].url, &oom);
			d->enclosures[i].type = poller_dup(s->enclosures[i].type, &oom);
			d->enclosures[i].length = s->enclosures[i].length;
		}
	}
	if ((s->ncategories && !d->categories) || (s->nenclosures && !d->enclosures))
		oom = true;
	return !oom;
}

/*
 * The items of one document are held until it is complete.  Entities can
 * make their text up to max_amplification times the body (8 MiB of body
 * held 124 MiB of items), so what is held is capped at twice max_body.
 */
static size_t poller_held_max(const struct poller_job *j)
{
	return 2 * j->p->cfg->max_body;
}

static size_t poller_item_bytes(const struct feed_item *it)
{
	size_t n = sizeof *it;
	const char *s[] = {it->id, it->title, it->link, it->author, it->summary, it->content};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		n += s[i] ? strlen(s[i]) + 1 : 0;
	for (size_t i = 0; i < it->ncategories; i++)
		n += sizeof(char *) + (it->categories[i] ? strlen(it->categories[i]) + 1 : 0);
	for (size_t i = 0; i < it->nenclosures; i++)
		n += sizeof *it->enclosures +
		     (it->enclosures[i].url ? strlen(it->enclosures[i].url) + 1 : 0) +
		     (it->enclosures[i].type ? strlen(it->enclosures[i].type) + 1 : 0);
	return n;
}

static int poller_on_item(void *ud, const struct feed_item *it)
{
	struct poller_job *j = ud;
	j->held += poller_item_bytes(it);
	if (j->held > poller_held_max(j)) {
		j->too_big = true;
		return 1;
	}
	if (j->nitems == j->capitems) {
		size_t n = j->capitems ? j->capitems * 2 : 64;
		struct feed_item *a = realloc(j->items, n * sizeof *a);
		if (!a)
			goto oom;
		j->items = a;
		j->capitems = n;
	}
	if (!poller_item_copy(&j->items[j->nitems], it)) {
		poller_item_free(&j->items[j->nitems]);
		goto oom;
	}
	j->nitems++;
	return 0;
oom:
	j->oom = true;
	return 1;
}

/* ---- streaming into the parser ---- */

static int poller_on_body(void *ud, const struct fetch_body *b, const void *buf, size_t len)
{
	struct poller_job *j = ud;

	if (!j->parse) {
		struct parse_opts po = {0};
		j->base_url = strdup(b->url);
		po.base_url = j->base_url;
		if (fetch_content_type_charset(b->content_type, j->charset, sizeof j->charset))
			po.http_charset = j->charset;
		config_parse_limits(j->p->cfg, &po.limits);
		j->parse = parse_new(&po, poller_on_item, j);
		if (!j->parse || !j->base_url) {
			j->oom = true;
			return 1;
		}
	}
	return parse_chunk(j->parse, buf, len) != 0;
}

/* ---- outcomes (prepared on the loop) ---- */

static uint32_t poller_random(struct poller *p)
{
	p->rnd ^= p->rnd << 13;
	p->rnd ^= p->rnd >> 7;
	p->rnd ^= p->rnd << 17;
	return (uint32_t)(p->rnd >> 32);
}

static void poller_policy(const struct poller_job *j, struct sched_policy *pol)
{
	const struct config *c = j->p->cfg;
	sched_policy_default(pol);
	pol->interval = j->interval;
	pol->floor = c->interval_floor;
	pol->hint_max = c->interval_max;
	pol->backoff_base = c->backoff_base;
	pol->backoff_cap = c->backoff_max;
	pol->retry_after_max = c->retry_after_max;
	pol->jitter_percent = (int)c->jitter;
}

/* The feed's own rhythm (from the items stored so far), unless it has an interval of its own. */
static int64_t poller_adaptive(const struct poller_job *j, const struct sched_policy *pol,
                               int64_t now)
{
	int64_t times[32];
	size_t n = 0;
	if (j->own_interval ||
	    store_feed_recent_times(j->p->st, j->feed_id, times, 32, &n) != STORE_OK)
		return SCHED_NONE;
	return sched_adaptive_interval(pol, now, times, n);
}

static void poller_hints(const struct fetch_result *r, const struct feed_meta *m,
                         struct sched_hints *h)
{
	sched_hints_none(h);
	h->max_age = r->max_age;
	h->expires_in = r->expires_in;
	h->retry_after = r->retry_after;
	if (m) {
		h->ttl_minutes = m->ttl_minutes;
		h->sy_period = m->sy_period_seconds;
	}
}

static void poller_set_next(struct poller_job *j, const struct sched_next *n)
{
	snprintf(j->reason, sizeof j->reason, "%s", n->reason);
	j->o.next_poll = n->at;
	j->o.next_poll_reason = j->reason;
}

static char *poller_strdup_or_null(const char *s, bool *oom)
{
	return s ? poller_dup(s, oom) : NULL;
}

/* Keeps what the write needs of the response (it is gone when the write runs). */
static bool poller_keep_response(struct poller_job *j, const struct fetch_result *r)
{
	bool oom = false;
	j->r_etag = poller_strdup_or_null(r->etag, &oom);
	j->r_last_modified = poller_strdup_or_null(r->last_modified, &oom);
	j->permanent_redirect = r->permanent_redirect && r->final_url;
	if (j->permanent_redirect)
		j->r_final_url = poller_dup(r->final_url, &oom);
	return !oom;
}

/* Prepares a failure with a back-off (or 410: disables the feed). */
static void poller_fail(struct poller_job *j, const struct fetch_result *r, const char *error)
{
	struct sched_policy pol;
	struct poller_outcome *o = &j->o;

	if (error != j->error)
		snprintf(j->error, sizeof j->error, "%s", error ? error : "unknown error");
	poller_policy(j, &pol);
	struct sched_next n =
	    sched_after_failure(&pol, j->now, j->errors + 1, r->retry_after, poller_random(j->p));
	j->fu = (struct store_fetch_update){
	    .fetched_at = j->now, .http_status = (int)r->http_status, .error = j->error};
	if (r->http_status == 410) {
		j->fu.disable = true;
		j->fu.disabled_reason = "410 Gone";
		snprintf(n.reason, sizeof n.reason, "disabled: 410 Gone");
		o->disabled = true;
	}
	poller_set_next(j, &n);
	j->fu.next_poll = n.at;
	j->fu.next_poll_reason = j->reason;
	j->write = PW_FAILURE;
	o->result = POLLER_FAILED;
	o->error = j->error;
}

static void poller_not_modified(struct poller_job *j, const struct fetch_result *r)
{
	struct sched_policy pol;
	struct sched_hints h;

	if (!poller_keep_response(j, r)) {
		poller_fail(j, r, "out of memory");
		return;
	}
	poller_policy(j, &pol);
	poller_hints(r, NULL, &h);
	h.adaptive = poller_adaptive(j, &pol, j->now);
	struct sched_next n = sched_after_success(&pol, j->now, &h);
	poller_set_next(j, &n);
	j->fu = (struct store_fetch_update){
	    .fetched_at = j->now,
	    .http_status = (int)r->http_status,
	    .ok = true,
	    /* a 304 may repeat the validators (refresh them) or omit them (keep ours) */
	    .set_validators = j->r_etag || j->r_last_modified,
	    .etag = j->r_etag ? j->r_etag : j->etag,
	    .last_modified = j->r_last_modified ? j->r_last_modified : j->last_modified,
	    .next_poll = n.at,
	    .next_poll_reason = j->reason,
	    .redirect_url = j->r_final_url,
	};
	j->write = PW_NOT_MODIFIED;
	j->o.result = POLLER_NOT_MODIFIED;
}

/* The document's warning into j->warning: the parse error after recovery and/or the limit hit;
 * NULL when the document was clean. */
static const char *poller_warning(struct poller_job *j)
{
	const char *err = parse_wellformed(j->parse) ? NULL : parse_error(j->parse);
	const char *limit = parse_limit_hit(j->parse);
	if (!err && !limit)
		return NULL;
	snprintf(j->warning, sizeof j->warning, "%s%s%s", err ? err : "", err && limit ? "; " : "",
	         limit ? limit : "");
	return j->warning;
}

/* Prepares the document's transaction, and the failure written instead if it fails. */
static void poller_prepare_document(struct poller_job *j, const struct fetch_result *r)
{
	const struct feed_meta *meta = parse_meta(j->parse);
	struct sched_policy pol;
	struct sched_hints h;
	bool oom = !poller_keep_response(j, r);

	if (meta) {
		j->meta = (struct feed_meta){
		    .updated = FEED_NO_DATE, .ttl_minutes = -1, .sy_period_seconds = -1};
		j->meta.title = poller_strdup_or_null(meta->title, &oom);
		j->meta.link = poller_strdup_or_null(meta->link, &oom);
		j->has_meta = true;
	}
	if (oom) {
		poller_fail(j, r, "out of memory");
		return;
	}
	/* the failure first: poller_fail fills the same fields the success then overwrites */
	poller_fail(j, r, "store");
	j->fail_fu = j->fu;
	snprintf(j->fail_reason, sizeof j->fail_reason, "%s", j->reason);
	j->fail_fu.next_poll_reason = j->fail_reason;

	poller_policy(j, &pol);
	poller_hints(r, meta, &h);
	h.adaptive = poller_adaptive(j, &pol, j->now);
	struct sched_next n = sched_after_success(&pol, j->now, &h);
	poller_set_next(j, &n);
	j->fu = (struct store_fetch_update){
	    .fetched_at = j->now,
	    .http_status = (int)r->http_status,
	    .ok = true,
	    .set_validators = true,
	    .etag = j->r_etag,
	    .last_modified = j->r_last_modified,
	    .next_poll = n.at,
	    .next_poll_reason = j->reason,
	    .redirect_url = j->r_final_url,
	    .set_warning = true,
	    .warning = poller_warning(j),
	};
	j->write = PW_DOCUMENT;
	j->o.result = POLLER_FETCHED;
	j->o.error = NULL;
	j->o.warning = j->fu.warning;
	j->o.malformed = !parse_wellformed(j->parse);
}

static void poller_document(struct poller_job *j, const struct fetch_result *r, char *msg,
                            size_t msglen)
{
	if (!j->parse) /* empty body */
		j->parse = parse_new(NULL, poller_on_item, j);
	if (!j->parse) {
		poller_fail(j, r, "out of memory");
		return;
	}
	int finished = parse_finish(j->parse);
	if (j->too_big) {
		snprintf(msg, msglen, "items larger than %zu bytes in all", poller_held_max(j));
		poller_fail(j, r, msg);
		return;
	}
	if (finished != 0 || parse_format(j->parse) == FEED_FORMAT_UNKNOWN) {
		const char *why = parse_error(j->parse);
		snprintf(msg, msglen, "not a feed%s%s",
		         why ? ": " : " (no RSS or Atom root element)", why ? why : "");
		poller_fail(j, r, msg);
		return;
	}
	if (j->oom) {
		poller_fail(j, r, "out of memory while parsing");
		return;
	}
	poller_prepare_document(j, r);
}

static void poller_items_free(struct poller_job *j)
{
	for (size_t i = 0; i < j->nitems; i++)
		poller_item_free(&j->items[i]);
	free(j->items);
	j->items = NULL;
	j->nitems = j->capitems = 0;
}

static void poller_job_free(struct poller_job *j)
{
	parse_free(j->parse);
	poller_items_free(j);
	free(j->base_url);
	free(j->url);
	free(j->etag);
	free(j->last_modified);
	free(j->meta.title);
	free(j->meta.link);
	free(j->r_etag);
	free(j->r_last_modified);
	free(j->r_final_url);
	free(j);
}

static void poller_on_fetched(void *ud, const struct fetch_result *r)
{
	struct poller_job *j = ud;
	char msg[512];

	j->now = (int64_t)time(NULL);
	j->o = (struct poller_outcome){.feed_id = j->feed_id,
	                               .url = j->url,
	                               .http_status = (int)r->http_status,
	                               .body_bytes = r->body_bytes};
	switch (r->status) {
	case FETCH_OK:
		poller_document(j, r, msg, sizeof msg);
		break;
	case FETCH_NOT_MODIFIED:
		poller_not_modified(j, r);
		break;
	case FETCH_ABORTED:
		snprintf(j->error, sizeof j->error, "%s", r->error ? r->error : "aborted");
		j->o.result = POLLER_ABORTED;
		j->o.error = j->error;
		break;
	case FETCH_STOPPED: {
		if (j->too_big) {
			snprintf(msg, sizeof msg, "items larger than %zu bytes in all",
			         poller_held_max(j));
			poller_fail(j, r, msg);
			break;
		}
		const char *why = j->oom     ? "out of memory"
		                  : j->parse ? parse_error(j->parse)
		                             : NULL;
		snprintf(msg, sizeof msg, "parse stopped: %s", why ? why : "unknown error");
		poller_fail(j, r, msg);
		break;
	}
	default:
		poller_fail(j, r, r->error);
		break;
	}
	/* the parser's memory goes now; the items wait for the store thread */
	parse_free(j->parse);
	j->parse = NULL;
	if (j->write != PW_DOCUMENT)
		poller_items_free(j);
	/* a document's items count against the queue's limit; a state is a few bytes */
	if (j->write == PW_DOCUMENT)
		storeq_submit(j->p->writer, &j->node);
	else
		storeq_submit_small(j->p->writer, &j->node);
}

/* ---- the writes (on the store thread, with its own handle st) ---- */

static struct poller_job *poller_job_of(struct storeq_node *n)
{
	return (struct poller_job *)((char *)n - offsetof(struct poller_job, node));
}

/* After a success: a permanent redirect seen often enough replaces the URL. */
static void poller_follow_redirect(struct store *st, struct poller_job *j, int count)
{
	if (!j->permanent_redirect || count < POLLER_REDIRECT_POLLS)
		return;
	if (store_feed_set_url(st, j->feed_id, j->r_final_url) == STORE_OK)
		j->o.new_url = j->r_final_url;
}

/* The state write of one job is done (e = its result). */
static void poller_state_written(struct store *st, struct poller_job *j, enum store_err e,
                                 int redirects)
{
	if (e != STORE_OK) {
		j->o.store_failed = true;
		if (j->write == PW_NOT_MODIFIED) {
			snprintf(j->error, sizeof j->error, "%s", store_errmsg(st));
			j->o.result = POLLER_FAILED;
			j->o.error = j->error;
		}
		return;
	}
	if (j->write == PW_NOT_MODIFIED)
		poller_follow_redirect(st, j, redirects);
}

static void poller_write_state(struct store *st, struct poller_job *j)
{
	int redirects = 0;
	enum store_err e = store_feed_update_fetch(st, j->feed_id, &j->fu, NULL, &redirects);
	poller_state_written(st, j, e, redirects);
}

/*
 * Feed states only (304s, failures): one transaction for the lot (none
 * writes an event; see store_feed_update_fetch_many), one by one when that
 * fails or a feed is gone, so that each gets its own error.
 */
static void poller_write_states(struct store *st, struct storeq_node **v, size_t n)
{
	struct store_fetch_state *fs = n > 1 ? calloc(n, sizeof *fs) : NULL;
	enum store_err e = STORE_ERR_NOMEM;
	if (fs) {
		for (size_t i = 0; i < n; i++) {
			struct poller_job *j = poller_job_of(v[i]);
			fs[i] = (struct store_fetch_state){.id = j->feed_id, .u = &j->fu};
		}
		e = store_feed_update_fetch_many(st, fs, n);
	}
	for (size_t i = 0; i < n; i++) {
		if (e == STORE_OK && fs[i].err == STORE_OK)
			poller_state_written(st, poller_job_of(v[i]), STORE_OK, fs[i].redirects);
		else
			poller_write_state(st, poller_job_of(v[i]));
	}
	free(fs);
}

/* One document: one BEGIN IMMEDIATE ... COMMIT; on failure the back-off instead. */
static void poller_write_document(struct store *st, struct poller_job *j)
{
	struct poller_outcome *o = &j->o;
	struct store_batch *b = NULL;
	enum store_err e = store_batch_begin(st, j->feed_id, j->now, &b);
	for (size_t i = 0; e == STORE_OK && i < j->nitems; i++)
		if ((e = store_batch_item(b, &j->items[i], NULL)) != STORE_OK)
			store_batch_abort(b);
	if (e == STORE_OK) {
		size_t nnew = store_batch_count(b, STORE_ITEM_NEW);
		size_t nupd = store_batch_count(b, STORE_ITEM_UPDATED);
		e = store_batch_commit(b, j->has_meta ? &j->meta : NULL, &j->fu, &o->first_seq,
		                       &o->last_seq);
		if (e == STORE_OK) {
			o->new_items = nnew;
			o->updated_items = nupd;
		}
	}
	poller_items_free(j); /* stored or rolled back: not needed any more */
	if (e == STORE_OK) {
		if (j->permanent_redirect) {
			struct store_feed f = {0};
			if (store_feed_get(st, j->feed_id, &f) == STORE_OK)
				poller_follow_redirect(st, j, f.redirect_count);
			store_feed_clear(&f);
		}
		return;
	}
	/* rolled back: record why and back off (this too may fail: then it is retried next run) */
	snprintf(j->error, sizeof j->error, "store: %s", store_errmsg(st));
	*o = (struct poller_outcome){.feed_id = o->feed_id,
	                             .url = o->url,
	                             .http_status = o->http_status,
	                             .body_bytes = o->body_bytes,
	                             .result = POLLER_FAILED,
	                             .error = j->error,
	                             .store_failed = true,
	                             .next_poll = j->fail_fu.next_poll,
	                             .next_poll_reason = j->fail_reason};
	j->fail_fu.error = j->error;
	store_feed_update_fetch(st, j->feed_id, &j->fail_fu, NULL, NULL);
}

static bool poller_is_state(const struct poller_job *j)
{
	return j->write == PW_FAILURE || j->write == PW_NOT_MODIFIED;
}

/* One retention step: a transaction of its own, between the documents of the queue. */
static void poller_write_prune(struct store *st, struct poller_job *j)
{
	struct poller_prune *pr = j->prune;
	enum store_err e =
	    store_prune_step(st, &pr->r, pr->now, pr->batch, &pr->items, &pr->events, &pr->more);
	pr->failed = e != STORE_OK;
	if (pr->failed)
		snprintf(pr->error, sizeof pr->error, "%s", store_errmsg(st));
}

/* The database failed its check: the poll fails, nothing is written. */
static void poller_refuse(struct poller *p, struct poller_job *j)
{
	poller_items_free(j);
	if (j->write == PW_PRUNE) {
		*j->prune = (struct poller_prune){.r = j->prune->r, .failed = true};
		snprintf(j->prune->error, sizeof j->prune->error, "%s", p->broken_msg);
		return;
	}
	if (j->write == PW_NONE)
		return;
	snprintf(j->error, sizeof j->error, "%s", p->broken_msg);
	j->o = (struct poller_outcome){.feed_id = j->o.feed_id,
	                               .url = j->o.url,
	                               .http_status = j->o.http_status,
	                               .body_bytes = j->o.body_bytes,
	                               .result = POLLER_FAILED,
	                               .error = j->error,
	                               .store_failed = true};
}

/* storeq_work_fn: a run of jobs in order; consecutive state writes go in one transaction. */
static void poller_write_run(void *ctx, struct store *st, struct storeq_node **jobs, size_t n)
{
	struct poller *p = ctx;
	if (p->check_first) {
		p->check_first = false;
		if (store_quick_check(st) != STORE_OK) {
			p->broken = true;
			snprintf(p->broken_msg, sizeof p->broken_msg, "%s", store_errmsg(st));
		}
	}
	if (p->broken) {
		for (size_t i = 0; i < n; i++)
			poller_refuse(p, poller_job_of(jobs[i]));
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t k = i;
		while (k < n && poller_is_state(poller_job_of(jobs[k])))
			k++;
		if (k > i) {
			poller_write_states(st, jobs + i, k - i);
			i = k;
		} else {
			struct poller_job *j = poller_job_of(jobs[i++]);
			if (j->write == PW_DOCUMENT)
				poller_write_document(st, j);
			else if (j->write == PW_PRUNE)
				poller_write_prune(st, j);
		}
		/* announce what is committed now, not after the rest of the run */
		storeq_done_upto(p->writer, i);
	}
}

/* storeq_done_fn: on the loop, in the order the polls completed. */
static void poller_write_done(void *ctx, struct storeq_node *node)
{
	struct poller *p = ctx;
	struct poller_job *j = poller_job_of(node);
	if (j->write == PW_PRUNE) {
		j->prune_done(j->prune_ud, j->prune);
	} else {
		p->pending--;
		p->done(p->ud, &j->o);
	}
	poller_job_free(j);
}

/* ---- the poller ---- */

static void poller_fetch_opts(const struct config *c, struct fetch_opts *o)
{
	fetch_opts_default(o);
	o->user_agent = c->user_agent;
	o->max_redirs = (long)c->max_redirects;
	o->connect_timeout = (long)c->connect_timeout;
	o->low_speed_limit = (long)c->low_speed_limit;
	o->low_speed_time = (long)c->low_speed_time;
	o->timeout = (long)c->total_timeout;
	o->max_body = (int64_t)c->max_body;
	o->max_host_connections = (long)c->max_per_host;
	o->max_parallel = (long)c->max_parallel;
	o->allow_private = c->allow_private;
	o->allow_file = c->allow_file;
}

struct poller *poller_new(struct event_base *base, struct store *st, const struct config *cfg,
                          poller_done_fn done, void *ud)
{
	struct poller *p = calloc(1, sizeof *p);
	struct fetch_opts fo;

	if (!p)
		return NULL;
	p->base = base;
	p->st = st;
	p->cfg = cfg;
	p->done = done;
	p->ud = ud;
	p->rnd = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)p;
	if (!p->rnd)
		p->rnd = 1;
	poller_fetch_opts(cfg, &fo);
	p->engine = fetch_engine_new(base, &fo);
	/* documents waiting for the store thread: as many as transfers run (same memory bound) */
	char err[256];
	if (p->engine)
		p->writer = storeq_new(base, st, cfg->max_parallel, poller_write_run,
		                       poller_write_done, p, err, sizeof err);
	if (!p->writer) {
		fetch_engine_free(p->engine);
		free(p);
		return NULL;
	}
	return p;
}

void poller_free(struct poller *p)
{
	if (!p)
		return;
	fetch_engine_free(p->engine); /* the aborted polls go to the writer too ... */
	storeq_free(p->writer);       /* ... which reports every poll before it stops */
	free(p);
}

void poller_check_store(struct poller *p)
{
	p->check_first = true; /* the store thread reads it under storeq's lock, at the first job */
}

size_t poller_pending(const struct poller *p)
{
	return p->pending;
}

void poller_abort_all(struct poller *p)
{
	fetch_abort_all(p->engine);
	storeq_flush(p->writer); /* every outcome now, documents already fetched stored first */
}

int poller_prune(struct poller *p, struct poller_prune *pr, poller_prune_fn done, void *ud)
{
	struct poller_job *j = calloc(1, sizeof *j);
	if (!j)
		return -1;
	j->p = p;
	j->write = PW_PRUNE;
	j->prune = pr;
	j->prune_done = done;
	j->prune_ud = ud;
	storeq_submit_small(p->writer, &j->node); /* a few bytes: never waits for the limit */
	return 0;
}

int poller_start(struct poller *p, const struct store_feed *f, char *err, size_t errlen)
{
	struct poller_job *j = calloc(1, sizeof *j);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	j->p = p;
	j->feed_id = f->id;
	j->url = strdup(f->url);
	j->etag = f->etag ? strdup(f->etag) : NULL;
	j->last_modified = f->last_modified ? strdup(f->last_modified) : NULL;
	j->errors = f->consecutive_errors;
	const struct config_feed *cf = config_feed_find(p->cfg, f->url);
	j->own_interval = f->interval > 0 || (cf && cf->interval > 0);
	j->interval = f->interval > 0 ? f->interval : config_feed_interval(p->cfg, f->url);

	struct fetch_request rq = {
	    .url = j->url,
	    .etag = j->etag,
	    .last_modified = j->last_modified,
	    .allow_private = f->allow_private || config_feed_allow_private(p->cfg, f->url),
	    .on_body = poller_on_body,
	    .ud = j,
	};
	if (j->url && fetch_start(p->engine, &rq, poller_on_fetched) == 0) {
		p->pending++;
		return 0;
	}
	snprintf(err, errlen, "cannot fetch %s: %s", f->url,
	         !j->url ? "out of memory"
	         : p->cfg->allow_file
	             ? "only http, https and file URLs are fetched"
	             : "only http and https URLs are fetched (file:// needs allow_file)");
	/* recorded here, on the loop's own handle: no outcome will follow */
	struct fetch_result r = {.retry_after = SCHED_NONE};
	j->now = (int64_t)time(NULL);
	poller_fail(j, &r, err);
	poller_write_state(p->st, j);
	poller_job_free(j);
	return -1;
}
