/*
 * control.c - the control socket (see control.h): accept, read request
 * lines with a length bound checked as data arrives, dispatch each through
 * a table of commands, write one reply line each.
 *
 * Clients are plain structs on a TAILQ.  A client that must go (a line
 * too long, EOF) is flagged closing and freed once its replies are
 * flushed; an error or timeout frees it at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common_json.h"
#include "common_log.h"
#include "control.h"
#include "daemon.h"
#include "feeds.h"
#include "metrics.h"
#include "store.h"

struct control_client {
	TAILQ_ENTRY(control_client) entry;
	struct control *ctl;
	struct bufferevent *bev;
	bool closing; /* free once the output is flushed */
};

TAILQ_HEAD(control_client_list, control_client);

struct control {
	struct daemon *d;
	struct evconnlistener *lev;
	struct event *retry; /* re-enables lev after accept() failed */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool owns_path; /* we created the file: unlink it when done */
	struct control_client_list clients;
	size_t nclients;
};

/* A failed request: the reply's "code" and "message". */
struct control_err {
	const char *code;
	char message[512];
};

struct control_req {
	struct daemon *d;
	const struct cjson *obj;
	struct cjson_w *w; /* the reply object, open: add members */
	struct control_err *err;
};

static void control_client_free(struct control_client *cl);
static void control_on_read(struct bufferevent *bev, void *arg);

/* ---------------------------------------------------------------- commands */

static int control_fail(struct control_req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int control_fail(struct control_req *r, const char *code, const char *fmt, ...)
{
	r->err->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err->message, sizeof r->err->message, fmt, ap);
	va_end(ap);
	return -1;
}

static int control_feeds_fail(struct control_req *r, enum feeds_err e, const char *msg)
{
	return control_fail(r, feeds_err_code(e), "%s", msg);
}

/* The "feed" member (an id or a URL) as text into out; false when absent or mistyped. */
static bool control_feed_ref(const struct cjson *obj, char *out, size_t outlen)
{
	const struct cjson *v = cjson_get(obj, "feed");
	if (v && v->type == CJSON_INT && v->u.i > 0)
		return snprintf(out, outlen, "%" PRId64, v->u.i) > 0;
	if (v && v->type == CJSON_STR && v->u.str.len && v->u.str.len < outlen)
		return snprintf(out, outlen, "%s", v->u.str.s) > 0;
	return false;
}

static int control_find(struct control_req *r, struct store_feed *f)
{
	char ref[4096], msg[512];
	if (!control_feed_ref(r->obj, ref, sizeof ref))
		return control_fail(r, "bad_request", "\"feed\" must be a feed id or a URL");
	enum feeds_err e = feeds_find(r->d->store, ref, f, msg, sizeof msg);
	return e == FEEDS_OK ? 0 : control_feeds_fail(r, e, msg);
}

/* Optional string member: NULL when absent, -1 (with the error set) when not a string. */
static int control_opt_str(struct control_req *r, const char *key, const char **out)
{
	const struct cjson *v = cjson_get(r->obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->type != CJSON_STR)
		return control_fail(r, "bad_request", "\"%s\" must be a string", key);
	*out = v->u.str.s;
	return 0;
}

static int control_w_feed(struct control_req *r, const char *key, const struct store_feed *f)
{
	struct buf b = {0};
	if (feeds_json(&b, f) < 0) {
		buf_free(&b);
		return control_fail(r, "store", "out of memory");
	}
	cjson_w_key(r->w, key);
	cjson_w_raw(r->w, b.data, b.len);
	buf_free(&b);
	return 0;
}

static int control_cmd_add(struct control_req *r)
{
	struct daemon *d = r->d;
	const char *url, *title;
	if (control_opt_str(r, "url", &url) < 0 || control_opt_str(r, "title", &title) < 0)
		return -1;
	if (!url)
		return control_fail(r, "bad_request", "add needs \"url\"");
	const struct config_feed *cf = config_feed_find(&d->cfg, url);
	int64_t now = (int64_t)time(NULL), id = 0;
	struct feeds_add a = {
	    .url = url,
	    .title = title ? title : (cf ? cf->title : NULL),
	    .interval = cf ? cf->interval : 0,
	    .allow_private = config_feed_allow_private(&d->cfg, url),
	    .allow_file = d->cfg.allow_file,
	    .next_poll = now,
	};
	char msg[512];
	enum feeds_err e = feeds_add(d->store, &a, now, &id, msg, sizeof msg);
	if (e != FEEDS_OK)
		return control_feeds_fail(r, e, msg);
	log_info("feed %" PRId64 " added: %s", id, url);
	struct store_feed f;
	if (store_feed_get(d->store, id, &f) != STORE_OK)
		return control_fail(r, "store", "%s", store_errmsg(d->store));
	int rc = control_w_feed(r, "feed", &f);
	store_feed_clear(&f);
	daemon_reschedule(d);
	return rc;
}

static int control_cmd_remove(struct control_req *r)
{
	char ref[4096], msg[512];
	if (!control_feed_ref(r->obj, ref, sizeof ref))
		return control_fail(r, "bad_request", "\"feed\" must be a feed id or a URL");
	int64_t id = 0;
	enum feeds_err e = feeds_remove(r->d->store, ref, &id, msg, sizeof msg);
	if (e != FEEDS_OK)
		return control_feeds_fail(r, e, msg);
	log_info("feed %" PRId64 " removed", id);
	daemon_feed_removed(r->d, id);
	cjson_w_kint(r->w, "removed", id);
	return 0;
}

static int control_cmd_list(struct control_req *r)
{
	struct buf b = {0};
	char msg[512];
	enum feeds_err e = feeds_list_json(r->d->store, &b, msg, sizeof msg);
	if (e == FEEDS_OK) {
		cjson_w_key(r->w, "feeds");
		cjson_w_raw(r->w, b.data, b.len);
	}
	buf_free(&b);
	return e == FEEDS_OK ? 0 : control_feeds_fail(r, e, msg);
}

static int control_cmd_poll_now(struct control_req *r)
{
	int64_t id = 0;
	if (cjson_get(r->obj, "feed")) {
		struct store_feed f;
		if (control_find(r, &f) < 0)
			return -1;
		id = f.id;
		bool disabled = f.disabled;
		store_feed_clear(&f);
		if (disabled)
			return control_fail(r, "invalid", "feed %" PRId64 " is disabled", id);
	}
	size_t n = 0;
	if (daemon_poll_now(r->d, id, &n) < 0)
		return control_fail(r, "store", "%s", store_errmsg(r->d->store));
	cjson_w_kint(r->w, "scheduled", (int64_t)n);
	return 0;
}

static void control_w_time(struct cjson_w *w, const char *key, int64_t t)
{
	char buf[32];
	if (!t)
		return;
	date_format(t, buf);
	cjson_w_kstr(w, key, buf);
}

static int control_cmd_why(struct control_req *r)
{
	struct store_feed f;
	if (control_find(r, &f) < 0)
		return -1;
	int64_t now = (int64_t)time(NULL);
	struct cjson_w *w = r->w;
	cjson_w_kint(w, "feed", f.id);
	cjson_w_kstr(w, "url", f.url);
	cjson_w_kstr(w, "state", feeds_state(&f));
	if (f.disabled) {
		cjson_w_kstr(w, "reason", f.disabled_reason ? f.disabled_reason : "disabled");
	} else {
		char t[32];
		date_format(f.next_poll > now ? f.next_poll : now, t);
		cjson_w_kstr(w, "next_poll", t);
		cjson_w_kint(w, "in", f.next_poll > now ? f.next_poll - now : 0);
		cjson_w_kstr(w, "reason", f.next_poll_reason ? f.next_poll_reason : "new feed");
	}
	control_w_time(w, "last_fetch", f.last_fetch);
	cjson_w_kint(w, "errors", f.consecutive_errors);
	if (f.last_error)
		cjson_w_kstr(w, "last_error", f.last_error);
	if (f.warning)
		cjson_w_kstr(w, "warning", f.warning);
	store_feed_clear(&f);
	return 0;
}

static int control_cmd_status(struct control_req *r)
{
	struct daemon *d = r->d;
	struct store_stats st;
	if (store_stats(d->store, &st) != STORE_OK)
		return control_fail(r, "store", "%s", store_errmsg(d->store));
	struct cjson_w *w = r->w;
	char cursor[STORE_CURSOR_MAX];
	int64_t now = (int64_t)time(NULL), next = 0;
	bool found = false;
	cjson_w_kstr(w, "version", FEEDD_VERSION);
	cjson_w_kint(w, "pid", (int64_t)getpid());
	control_w_time(w, "started", d->start_time);
	cjson_w_kint(w, "uptime", now - d->start_time);
	cjson_w_kstr(w, "database", d->cfg.database);
	cjson_w_kstr(w, "epoch", store_epoch(d->store));
	store_cursor_format(cursor, sizeof cursor, store_epoch(d->store), st.head);
	cjson_w_kstr(w, "head", cursor);
	cjson_w_kint(w, "feeds", st.feeds);
	cjson_w_kint(w, "feeds_new", st.feeds_new);
	cjson_w_kint(w, "feeds_ok", st.feeds_ok);
	cjson_w_kint(w, "feeds_failing", st.feeds_failing);
	cjson_w_kint(w, "feeds_disabled", st.feeds_disabled);
	cjson_w_kint(w, "feeds_warning", st.feeds_warning);
	cjson_w_kint(w, "items", st.items);
	cjson_w_kint(w, "events", st.events);
	cjson_w_kint(w, "subscribers", (int64_t)daemon_subscribers(d));
	cjson_w_kint(w, "fetches_in_flight", (int64_t)daemon_fetches_in_flight(d));
	if (store_next_due(d->store, &next, &found) == STORE_OK && found)
		control_w_time(w, "next_poll", next > now ? next : now);
	cjson_w_kstr(w, "log_level", config_log_level_name(d->cfg.log_level));
	return 0;
}

static int control_cmd_metrics(struct control_req *r)
{
	struct daemon *d = r->d;
	struct store_stats st;
	if (store_stats(d->store, &st) != STORE_OK)
		return control_fail(r, "store", "%s", store_errmsg(d->store));
	struct metrics_gauges g = {
	    .store = &st,
	    .subscribers = daemon_subscribers(d),
	    .subscribers_waiting = daemon_subscribers_waiting(d),
	    .control_clients = d->control ? control_clients(d->control) : 0,
	    .fetches_in_flight = daemon_fetches_in_flight(d),
	    .start_time = d->start_time,
	};
	struct buf b = {0};
	int rc = metrics_format(&b, &d->metrics, &g);
	if (rc == 0)
		cjson_w_kstr(r->w, "text", b.data);
	buf_free(&b);
	return rc == 0 ? 0 : control_fail(r, "store", "out of memory");
}

static int control_cmd_export(struct control_req *r)
{
	struct buf b = {0};
	char msg[512];
	enum feeds_err e = feeds_export(r->d->store, &b, (int64_t)time(NULL), msg, sizeof msg);
	if (e == FEEDS_OK)
		cjson_w_kstr(r->w, "opml", b.data);
	buf_free(&b);
	return e == FEEDS_OK ? 0 : control_feeds_fail(r, e, msg);
}

struct control_cmd {
	const char *op;
	int (*fn)(struct control_req *r);
};

static const struct control_cmd control_cmds[] = {
    {"add", control_cmd_add},         {"remove", control_cmd_remove},
    {"list", control_cmd_list},       {"poll-now", control_cmd_poll_now},
    {"why", control_cmd_why},         {"status", control_cmd_status},
    {"metrics", control_cmd_metrics}, {"export", control_cmd_export},
};

static const struct control_cmd *control_cmd_find(const char *op)
{
	for (size_t i = 0; i < sizeof control_cmds / sizeof control_cmds[0]; i++)
		if (!strcmp(op, control_cmds[i].op))
			return &control_cmds[i];
	return NULL;
}

/* The request's "id" when it is a scalar (echoed as given), else NULL. */
static const struct cjson *control_echo_id(const struct cjson *obj)
{
	const struct cjson *id = cjson_get(obj, "id");
	return id && id->type != CJSON_ARR && id->type != CJSON_OBJ ? id : NULL;
}

static void control_reply_error(struct buf *out, const struct cjson *id, const char *code,
                                const char *message)
{
	struct cjson_w w;
	cjson_w_init(&w, out);
	cjson_w_obj(&w);
	if (id) {
		cjson_w_key(&w, "id");
		cjson_w_raw(&w, id->raw, id->rawlen);
	}
	cjson_w_key(&w, "ok");
	cjson_w_bool(&w, false);
	cjson_w_kstr(&w, "code", code);
	cjson_w_kstr(&w, "message", message);
	cjson_w_obj_end(&w);
	cjson_w_line(&w);
}

/* Runs one parsed request; returns 0 with the reply in out, or -1 with err set. */
static int control_run(struct daemon *d, const struct cjson *obj, struct buf *out,
                       struct control_err *err)
{
	struct control_req r = {.d = d, .obj = obj, .err = err};
	const struct cjson *opv = cjson_get(obj, "op");
	if (!opv || opv->type != CJSON_STR) {
		r.err->code = "bad_request";
		snprintf(err->message, sizeof err->message, "a request needs \"op\" (a string)");
		return -1;
	}
	const struct control_cmd *cmd = control_cmd_find(opv->u.str.s);
	if (!cmd) {
		r.err->code = "unknown_op";
		snprintf(err->message, sizeof err->message,
		         "unknown op '%.100s' (add, remove, list, poll-now, why, status, metrics, "
		         "export)",
		         opv->u.str.s);
		return -1;
	}
	struct cjson_w w;
	cjson_w_init(&w, out);
	r.w = &w;
	cjson_w_obj(&w);
	const struct cjson *id = control_echo_id(obj);
	if (id) {
		cjson_w_key(&w, "id");
		cjson_w_raw(&w, id->raw, id->rawlen);
	}
	cjson_w_key(&w, "ok");
	cjson_w_bool(&w, true);
	if (cmd->fn(&r) < 0)
		return -1;
	cjson_w_obj_end(&w);
	if (cjson_w_line(&w) < 0) {
		r.err->code = "store";
		snprintf(err->message, sizeof err->message, "out of memory");
		return -1;
	}
	return 0;
}

void control_handle_line(struct daemon *d, const char *line, size_t len, struct buf *out)
{
	struct cjson obj;
	char msg[256];
	if (len && line[len - 1] == '\r')
		len--;
	if (cjson_parse(line, len, &obj, msg, sizeof msg) < 0) {
		char full[300];
		snprintf(full, sizeof full, "not JSON: %s", msg);
		control_reply_error(out, NULL, "bad_request", full);
		return;
	}
	if (obj.type != CJSON_OBJ) {
		control_reply_error(out, NULL, "bad_request", "a request is a JSON object");
		cjson_free(&obj);
		return;
	}
	struct buf reply = {0};
	struct control_err err = {0};
	if (control_run(d, &obj, &reply, &err) == 0)
		buf_append(out, reply.data, reply.len);
	else
		control_reply_error(out, control_echo_id(&obj), err.code, err.message);
	buf_free(&reply);
	cjson_free(&obj);
}

/* ---------------------------------------------------------------- clients */

static void control_client_free(struct control_client *cl)
{
	struct control *ctl = cl->ctl;
	TAILQ_REMOVE(&ctl->clients, cl, entry);
	ctl->nclients--;
	bufferevent_free(cl->bev);
	free(cl);
}

/* Flags the client to go once its output is flushed. */
static void control_client_close(struct control_client *cl)
{
	cl->closing = true;
	bufferevent_disable(cl->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(cl->bev)) == 0)
		control_client_free(cl);
}

static void control_send(struct control_client *cl, const struct buf *b)
{
	if (b->len)
		bufferevent_write(cl->bev, b->data, b->len);
}

static void control_too_long(struct control_client *cl)
{
	struct buf b = {0};
	char msg[128];
	snprintf(msg, sizeof msg, "request line longer than %zu bytes", cl->ctl->d->cfg.max_line);
	control_reply_error(&b, NULL, "line_too_long", msg);
	control_send(cl, &b);
	buf_free(&b);
	evbuffer_drain(bufferevent_get_input(cl->bev),
	               evbuffer_get_length(bufferevent_get_input(cl->bev)));
	control_client_close(cl);
}

/* Handles the complete lines buffered; returns false when the client was freed. */
static bool control_drain_lines(struct control_client *cl)
{
	struct evbuffer *in = bufferevent_get_input(cl->bev);
	struct daemon *d = cl->ctl->d;
	size_t max = d->cfg.max_line;
	while (!cl->closing) {
		if (evbuffer_get_length(bufferevent_get_output(cl->bev)) >
		    d->cfg.client_output_limit) {
			bufferevent_disable(cl->bev, EV_READ); /* resumes when drained */
			return true;
		}
		size_t eol = 0;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
		if (p.pos < 0) {
			if (evbuffer_get_length(in) > max) {
				control_too_long(cl);
				return false;
			}
			return true;
		}
		if ((size_t)p.pos > max) {
			control_too_long(cl);
			return false;
		}
		const char *line = (const char *)evbuffer_pullup(in, p.pos + 1);
		struct buf out = {0};
		control_handle_line(d, line, (size_t)p.pos, &out);
		evbuffer_drain(in, (size_t)p.pos + 1);
		control_send(cl, &out);
		buf_free(&out);
	}
	return true;
}

static void control_on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	control_drain_lines(arg);
}

static void control_on_write(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)))
		return;
	if (cl->closing) {
		control_client_free(cl);
		return;
	}
	if (!(bufferevent_get_enabled(bev) & EV_READ)) { /* paused by the output limit */
		bufferevent_enable(bev, EV_READ);
		control_drain_lines(cl);
	}
}

static void control_on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct control_client *cl = arg;
	if (what & BEV_EVENT_EOF) { /* answer what came, then go */
		if (control_drain_lines(cl))
			control_client_close(cl);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("control: client idle too long, closing");
	control_client_free(cl);
}

static void control_refuse(struct control *ctl, evutil_socket_t fd)
{
	struct buf b = {0};
	char msg[128];
	snprintf(msg, sizeof msg, "more than %zu control clients", ctl->d->cfg.max_control_clients);
	control_reply_error(&b, NULL, "too_many_clients", msg);
	if (send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control: refusing a client: %s", strerror(errno));
	buf_free(&b);
	evutil_closesocket(fd);
}

static void control_on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                              int salen, void *arg)
{
	(void)lev, (void)sa, (void)salen;
	struct control *ctl = arg;
	const struct config *cfg = &ctl->d->cfg;
	if (ctl->nclients >= cfg->max_control_clients) {
		log_warning("control: too many clients (%zu), refusing one", ctl->nclients);
		control_refuse(ctl, fd);
		return;
	}
	struct control_client *cl = calloc(1, sizeof *cl);
	struct bufferevent *bev =
	    cl ? bufferevent_socket_new(ctl->d->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!bev) {
		free(cl);
		evutil_closesocket(fd);
		return;
	}
	cl->ctl = ctl;
	cl->bev = bev;
	TAILQ_INSERT_TAIL(&ctl->clients, cl, entry);
	ctl->nclients++;
	struct timeval idle = {(time_t)cfg->client_stall_timeout, 0};
	bufferevent_set_timeouts(bev, &idle, &idle);
	bufferevent_setwatermark(bev, EV_READ, 0, cfg->max_line + 2);
	bufferevent_setcb(bev, control_on_read, control_on_write, control_on_event, cl);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* ---------------------------------------------------------------- listening */

static void control_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	(void)fd, (void)what;
	evconnlistener_enable(ctl->lev);
}

/* accept() failed (EMFILE ...): without this the listener would retry at once, forever. */
static void control_on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct control *ctl = arg;
	struct timeval sec = {1, 0};
	log_err("control: accepting a client: %s", strerror(errno));
	evconnlistener_disable(lev);
	evtimer_add(ctl->retry, &sec);
}

static struct control *control_new(struct daemon *d, int fd, char *err, size_t errlen)
{
	struct control *ctl = calloc(1, sizeof *ctl);
	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->d = d;
	TAILQ_INIT(&ctl->clients);
	evutil_make_socket_nonblocking(fd);
	ctl->lev = evconnlistener_new(d->base, control_on_accept, ctl,
	                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	ctl->retry = evtimer_new(d->base, control_on_retry, ctl);
	if (!ctl->lev || !ctl->retry) {
		snprintf(err, errlen, "cannot watch the listening socket");
		if (ctl->lev)
			evconnlistener_free(ctl->lev);
		if (ctl->retry)
			event_free(ctl->retry);
		free(ctl);
		return NULL;
	}
	evconnlistener_set_error_cb(ctl->lev, control_on_accept_error);
	return ctl;
}

/* Whether something accepts connections on path (a live daemon). */
static bool control_path_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool live = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	close(fd);
	return live;
}

/* Removes a stale socket file at path; refuses a live one or a non-socket. */
static int control_clear_path(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT
		           ? 0
		           : (snprintf(err, errlen, "%s: %s", sun->sun_path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", sun->sun_path);
		return -1;
	}
	if (control_path_live(sun)) {
		snprintf(err, errlen, "%s: another daemon is listening there", sun->sun_path);
		return -1;
	}
	if (unlink(sun->sun_path) < 0) {
		snprintf(err, errlen, "%s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int control_bind(const char *path, unsigned mode, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (!*path || strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "%s: socket path empty or too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (control_clear_path(&sun, err, errlen) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0177); /* never a moment with looser permissions */
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc < 0 || chmod(path, mode) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (rc == 0)
			unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

struct control *control_listen(struct daemon *d, const char *path, char *err, size_t errlen)
{
	int fd = control_bind(path, d->cfg.control_socket_mode, err, errlen);
	if (fd < 0)
		return NULL;
	struct control *ctl = control_new(d, fd, err, errlen);
	if (!ctl) {
		close(fd);
		unlink(path);
		return NULL;
	}
	snprintf(ctl->path, sizeof ctl->path, "%s", path);
	ctl->owns_path = true;
	return ctl;
}

struct control *control_adopt(struct daemon *d, int fd, char *err, size_t errlen)
{
	int type = 0;
	socklen_t len = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
		snprintf(err, errlen, "inherited fd %d is not a stream socket", fd);
		return NULL;
	}
	return control_new(d, fd, err, errlen);
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	while (!TAILQ_EMPTY(&ctl->clients))
		control_client_free(TAILQ_FIRST(&ctl->clients));
	evconnlistener_free(ctl->lev);
	event_free(ctl->retry);
	if (ctl->owns_path)
		unlink(ctl->path);
	free(ctl);
}

size_t control_clients(const struct control *ctl)
{
	return ctl->nclients;
}
