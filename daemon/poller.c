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

struct poller {
	struct event_base *base;
	struct store *st;
	const struct config *cfg;
	struct fetch_engine *engine;
	poller_done_fn done;
	void *ud;
	size_t pending;
	uint64_t rnd; /* xorshift state for back-off jitter */
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
	bool too_big; /* held passed poller_held_max */
	char reason[64];   /* the outcome's next_poll_reason */
	char warning[512]; /* the outcome's warning */
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

/* ---- outcomes ---- */

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

static void poller_set_next(struct poller_job *j, const struct sched_next *n,
                            struct poller_outcome *o)
{
	snprintf(j->reason, sizeof j->reason, "%s", n->reason);
	o->next_poll = n->at;
	o->next_poll_reason = j->reason;
}

/* Records a failure with a back-off (or 410: disables the feed). */
static void poller_fail(struct poller_job *j, const struct fetch_result *r, int64_t now,
                        const char *error, struct poller_outcome *o)
{
	struct sched_policy pol;
	struct store_fetch_update fu = {
	    .fetched_at = now, .http_status = (int)r->http_status, .error = error};
	struct sched_next n;

	poller_policy(j, &pol);
	n = sched_after_failure(&pol, now, j->errors + 1, r->retry_after, poller_random(j->p));
	if (r->http_status == 410) {
		fu.disable = true;
		fu.disabled_reason = "410 Gone";
		snprintf(n.reason, sizeof n.reason, "disabled: 410 Gone");
		o->disabled = true;
	}
	fu.next_poll = n.at;
	fu.next_poll_reason = n.reason;
	o->result = POLLER_FAILED;
	o->error = error;
	poller_set_next(j, &n, o);
	if (store_feed_update_fetch(j->p->st, j->feed_id, &fu, NULL, NULL) != STORE_OK)
		o->store_failed = true;
}

/* After a success: a permanent redirect seen often enough replaces the URL. */
static void poller_follow_redirect(struct poller_job *j, const struct fetch_result *r, int count,
                                   struct poller_outcome *o)
{
	if (!r->permanent_redirect || count < POLLER_REDIRECT_POLLS)
		return;
	if (store_feed_set_url(j->p->st, j->feed_id, r->final_url) == STORE_OK)
		o->new_url = r->final_url;
}

static void poller_not_modified(struct poller_job *j, const struct fetch_result *r, int64_t now,
                                struct poller_outcome *o)
{
	struct sched_policy pol;
	struct sched_hints h;
	int redirects = 0;

	poller_policy(j, &pol);
	poller_hints(r, NULL, &h);
	h.adaptive = poller_adaptive(j, &pol, now);
	struct sched_next n = sched_after_success(&pol, now, &h);
	struct store_fetch_update fu = {
	    .fetched_at = now,
	    .http_status = (int)r->http_status,
	    .ok = true,
	    /* a 304 may repeat the validators (refresh them) or omit them (keep ours) */
	    .set_validators = r->etag || r->last_modified,
	    .etag = r->etag ? r->etag : j->etag,
	    .last_modified = r->last_modified ? r->last_modified : j->last_modified,
	    .next_poll = n.at,
	    .next_poll_reason = n.reason,
	    .redirect_url = r->permanent_redirect ? r->final_url : NULL,
	};
	o->result = POLLER_NOT_MODIFIED;
	poller_set_next(j, &n, o);
	if (store_feed_update_fetch(j->p->st, j->feed_id, &fu, NULL, &redirects) != STORE_OK) {
		o->store_failed = true;
		o->result = POLLER_FAILED;
		o->error = store_errmsg(j->p->st);
		return;
	}
	poller_follow_redirect(j, r, redirects, o);
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

/* Writes the parsed document in one transaction; false when the store failed. */
static bool poller_commit(struct poller_job *j, const struct fetch_result *r, int64_t now,
                          struct poller_outcome *o)
{
	struct store *st = j->p->st;
	const struct feed_meta *meta = parse_meta(j->parse);
	struct sched_policy pol;
	struct sched_hints h;
	struct store_batch *b;

	poller_policy(j, &pol);
	poller_hints(r, meta, &h);
	h.adaptive = poller_adaptive(j, &pol, now);
	struct sched_next n = sched_after_success(&pol, now, &h);
	struct store_fetch_update fu = {
	    .fetched_at = now,
	    .http_status = (int)r->http_status,
	    .ok = true,
	    .set_validators = true,
	    .etag = r->etag,
	    .last_modified = r->last_modified,
	    .next_poll = n.at,
	    .next_poll_reason = n.reason,
	    .redirect_url = r->permanent_redirect ? r->final_url : NULL,
	    .set_warning = true,
	    .warning = poller_warning(j),
	};
	if (store_batch_begin(st, j->feed_id, now, &b) != STORE_OK)
		return false;
	for (size_t i = 0; i < j->nitems; i++) {
		if (store_batch_item(b, &j->items[i], NULL) != STORE_OK) {
			store_batch_abort(b);
			return false;
		}
	}
	o->new_items = store_batch_count(b, STORE_ITEM_NEW);
	o->updated_items = store_batch_count(b, STORE_ITEM_UPDATED);
	if (store_batch_commit(b, meta, &fu, &o->first_seq, &o->last_seq) != STORE_OK) {
		o->new_items = o->updated_items = 0;
		return false;
	}
	o->result = POLLER_FETCHED;
	o->warning = fu.warning;
	o->malformed = !parse_wellformed(j->parse);
	poller_set_next(j, &n, o);
	if (r->permanent_redirect) {
		struct store_feed f = {0};
		if (store_feed_get(st, j->feed_id, &f) == STORE_OK)
			poller_follow_redirect(j, r, f.redirect_count, o);
		store_feed_clear(&f);
	}
	return true;
}

static void poller_document(struct poller_job *j, const struct fetch_result *r, int64_t now,
                            struct poller_outcome *o, char *msg, size_t msglen)
{
	if (!j->parse) /* empty body */
		j->parse = parse_new(NULL, poller_on_item, j);
	if (!j->parse) {
		poller_fail(j, r, now, "out of memory", o);
		return;
	}
	int finished = parse_finish(j->parse);
	if (j->too_big) {
		snprintf(msg, msglen, "items larger than %zu bytes in all", poller_held_max(j));
		poller_fail(j, r, now, msg, o);
		return;
	}
	if (finished != 0 || parse_format(j->parse) == FEED_FORMAT_UNKNOWN) {
		const char *why = parse_error(j->parse);
		snprintf(msg, msglen, "not a feed%s%s",
		         why ? ": " : " (no RSS or Atom root element)", why ? why : "");
		poller_fail(j, r, now, msg, o);
		return;
	}
	if (j->oom) {
		poller_fail(j, r, now, "out of memory while parsing", o);
		return;
	}
	if (!poller_commit(j, r, now, o)) {
		/* rolled back; record why and back off (this too may fail: then it is retried next
		 * run) */
		snprintf(msg, msglen, "store: %s", store_errmsg(j->p->st));
		poller_fail(j, r, now, msg, o);
		o->store_failed = true;
	}
}

static void poller_job_free(struct poller_job *j)
{
	parse_free(j->parse);
	for (size_t i = 0; i < j->nitems; i++)
		poller_item_free(&j->items[i]);
	free(j->items);
	free(j->base_url);
	free(j->url);
	free(j->etag);
	free(j->last_modified);
	free(j);
}

static void poller_on_fetched(void *ud, const struct fetch_result *r)
{
	struct poller_job *j = ud;
	struct poller *p = j->p;
	struct poller_outcome o = {.feed_id = j->feed_id,
	                           .url = j->url,
	                           .http_status = (int)r->http_status,
	                           .body_bytes = r->body_bytes};
	char msg[512];
	int64_t now = (int64_t)time(NULL);

	switch (r->status) {
	case FETCH_OK:
		poller_document(j, r, now, &o, msg, sizeof msg);
		break;
	case FETCH_NOT_MODIFIED:
		poller_not_modified(j, r, now, &o);
		break;
	case FETCH_ABORTED:
		o.result = POLLER_ABORTED;
		o.error = r->error;
		break;
	case FETCH_STOPPED: {
		if (j->too_big) {
			snprintf(msg, sizeof msg, "items larger than %zu bytes in all",
			         poller_held_max(j));
			poller_fail(j, r, now, msg, &o);
			break;
		}
		const char *why = j->oom     ? "out of memory"
		                  : j->parse ? parse_error(j->parse)
		                             : NULL;
		snprintf(msg, sizeof msg, "parse stopped: %s", why ? why : "unknown error");
		poller_fail(j, r, now, msg, &o);
		break;
	}
	default:
		poller_fail(j, r, now, r->error, &o);
		break;
	}
	p->pending--;
	p->done(p->ud, &o);
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
	if (!p->engine) {
		free(p);
		return NULL;
	}
	return p;
}

void poller_free(struct poller *p)
{
	if (!p)
		return;
	fetch_engine_free(p->engine);
	free(p);
}

size_t poller_pending(const struct poller *p)
{
	return p->pending;
}

void poller_abort_all(struct poller *p)
{
	fetch_abort_all(p->engine);
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
	struct fetch_result r = {.retry_after = SCHED_NONE};
	struct poller_outcome o = {0};
	poller_fail(j, &r, (int64_t)time(NULL), err, &o);
	poller_job_free(j);
	return -1;
}
