/* httpd.c - in-process evhttp test server; see httpd.h. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd.h"

struct httpd_rt {
	struct httpd_route r; /* strings point into owned copies below */
	char *path, *headers, *etag, *last_modified;
	void *body;
	int hits;
	struct evkeyvalq last; /* headers of the last request */
	LIST_ENTRY(httpd_rt) link;
};

/* A reply in progress (delayed, streamed or hanging). */
struct httpd_resp {
	struct httpd *h;
	struct httpd_rt *rt;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct event *timer;
	size_t sent;
	LIST_ENTRY(httpd_resp) link;
};

struct httpd {
	struct event_base *base;
	struct evhttp *http;
	char addr[64];
	int port;
	int inflight, peak;
	LIST_HEAD(, httpd_rt) routes;
	LIST_HEAD(, httpd_resp) resps;
};

static struct httpd_rt *httpd_find(const struct httpd *h, const char *path)
{
	struct httpd_rt *rt;
	LIST_FOREACH(rt, &h->routes, link)
	if (!strcmp(rt->path, path))
		return rt;
	return NULL;
}

static char *httpd_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void httpd_rt_free(struct httpd_rt *rt)
{
	evhttp_clear_headers(&rt->last);
	free(rt->path);
	free(rt->headers);
	free(rt->etag);
	free(rt->last_modified);
	free(rt->body);
	free(rt);
}

void httpd_route(struct httpd *h, const struct httpd_route *r)
{
	struct httpd_rt *old = httpd_find(h, r->path);
	struct httpd_rt *rt = calloc(1, sizeof *rt);

	TAILQ_INIT(&rt->last);
	rt->r = *r;
	rt->path = strdup(r->path);
	rt->headers = httpd_dup(r->headers);
	rt->etag = httpd_dup(r->etag);
	rt->last_modified = httpd_dup(r->last_modified);
	if (r->body) {
		rt->r.body_len = r->body_len ? r->body_len : strlen(r->body);
		rt->body = malloc(rt->r.body_len + 1);
		memcpy(rt->body, r->body, rt->r.body_len);
	}
	if (old) {
		rt->hits = old->hits;
		LIST_REMOVE(old, link);
		/* replies in progress keep pointing at old: keep it alive by swapping */
		struct httpd_resp *p;
		LIST_FOREACH(p, &h->resps, link)
		if (p->rt == old)
			p->rt = rt;
		httpd_rt_free(old);
	}
	LIST_INSERT_HEAD(&h->routes, rt, link);
}

int httpd_hits(const struct httpd *h, const char *path)
{
	struct httpd_rt *rt = httpd_find(h, path);
	return rt ? rt->hits : 0;
}

const char *httpd_req_header(const struct httpd *h, const char *path, const char *name)
{
	struct httpd_rt *rt = httpd_find(h, path);
	return rt ? evhttp_find_header(&rt->last, name) : NULL;
}

int httpd_peak(const struct httpd *h)
{
	return h->peak;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

const char *httpd_url(const struct httpd *h, const char *path)
{
	static char slots[8][512];
	static int next;
	char *s = slots[next++ & 7];
	snprintf(s, sizeof slots[0], "http://%s:%d%s", h->addr, h->port, path);
	return s;
}

static void httpd_resp_free(struct httpd_resp *p)
{
	LIST_REMOVE(p, link);
	if (p->timer)
		event_free(p->timer);
	p->h->inflight--;
	free(p);
}

/* The client went away: a request detached by libevent is ours to free. */
static void httpd_on_close(struct evhttp_connection *conn, void *arg)
{
	struct httpd_resp *p = arg;
	(void)conn;
	if (!evhttp_request_get_connection(p->req))
		evhttp_request_free(p->req);
	httpd_resp_free(p);
}

static void httpd_resp_done(struct httpd_resp *p)
{
	evhttp_connection_set_closecb(p->conn, NULL, NULL);
	httpd_resp_free(p);
}

static void httpd_add_headers(struct evhttp_request *req, const char *headers)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *s = headers;

	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char line[2048];
		snprintf(line, sizeof line, "%.*s", (int)n, s);
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = 0;
			char *v = colon + 1;
			while (*v == ' ')
				v++;
			evhttp_add_header(out, line, v);
		}
		s = nl ? nl + 1 : s + n;
	}
}

static const char *httpd_reason(int status)
{
	return status < 300 ? "OK" : status < 400 ? "Redirect" : "Error";
}

static void httpd_pump(struct httpd_resp *p);

static void httpd_on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	httpd_pump(arg);
}

static void httpd_on_written(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	struct httpd_resp *p = arg;
	if (p->rt->r.delay_ms > 0) {
		struct timeval tv = {p->rt->r.delay_ms / 1000, (p->rt->r.delay_ms % 1000) * 1000};
		evtimer_add(p->timer, &tv);
	} else {
		httpd_pump(p);
	}
}

/* Sends the next piece of a streamed body, or ends it. */
static void httpd_pump(struct httpd_resp *p)
{
	const struct httpd_route *r = &p->rt->r;
	const char *body = p->rt->body;
	size_t len = r->body_len;

	if (r->mode == HTTPD_WHOLE) {
		struct evbuffer *b = evbuffer_new();
		if (body)
			evbuffer_add(b, body, len);
		evhttp_send_reply(p->req, r->status, httpd_reason(r->status), b);
		evbuffer_free(b);
		httpd_resp_done(p);
		return;
	}
	if (r->mode != HTTPD_ENDLESS && r->mode != HTTPD_CLOSE && p->sent >= len) {
		evhttp_send_reply_end(p->req);
		httpd_resp_done(p);
		return;
	}
	size_t n = r->mode == HTTPD_TRICKLE ? 1 : r->chunk ? r->chunk : 1024;
	size_t off = len ? p->sent % len : 0;
	if (n > len - off)
		n = len - off;
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, body + off, n);
	p->sent += n;
	evhttp_send_reply_chunk_with_cb(p->req, b, httpd_on_written, p);
	evbuffer_free(b);
}

static bool httpd_not_modified(const struct httpd_rt *rt, struct evkeyvalq *in)
{
	const char *inm = evhttp_find_header(in, "If-None-Match");
	const char *ims = evhttp_find_header(in, "If-Modified-Since");
	if (rt->etag && inm && !strcmp(rt->etag, inm))
		return true;
	return rt->last_modified && ims && !strcmp(rt->last_modified, ims);
}

static void httpd_remember(struct httpd_rt *rt, struct evkeyvalq *in)
{
	struct evkeyval *kv;
	evhttp_clear_headers(&rt->last);
	TAILQ_FOREACH(kv, in, next)
	evhttp_add_header(&rt->last, kv->key, kv->value);
	rt->hits++;
}

static void httpd_on_request(struct evhttp_request *req, void *arg)
{
	struct httpd *h = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct httpd_rt *rt = httpd_find(h, path ? path : "");
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);

	if (!rt) {
		evhttp_send_error(req, 404, "Not Found");
		return;
	}
	httpd_remember(rt, in);
	if (++h->inflight > h->peak)
		h->peak = h->inflight;
	httpd_add_headers(req, rt->headers);
	if (httpd_not_modified(rt, in)) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		h->inflight--;
		return;
	}
	if (rt->r.status == 0)
		rt->r.status = 200;

	struct httpd_resp *p = calloc(1, sizeof *p);
	p->h = h;
	p->rt = rt;
	p->req = req;
	p->conn = evhttp_request_get_connection(req);
	p->timer = evtimer_new(h->base, httpd_on_timer, p);
	LIST_INSERT_HEAD(&h->resps, p, link);
	evhttp_connection_set_closecb(p->conn, httpd_on_close, p);

	if (rt->r.mode == HTTPD_HANG)
		return;
	if (rt->r.mode == HTTPD_CLOSE)
		req->minor = 0; /* an HTTP/1.0 reply is neither chunked nor kept alive */
	if (rt->r.mode != HTTPD_WHOLE)
		evhttp_send_reply_start(req, rt->r.status, httpd_reason(rt->r.status));
	if (rt->r.delay_ms > 0) {
		struct timeval tv = {rt->r.delay_ms / 1000, (rt->r.delay_ms % 1000) * 1000};
		evtimer_add(p->timer, &tv);
		return;
	}
	httpd_pump(p);
}

struct httpd *httpd_start(struct event_base *base)
{
	return httpd_start_addr(base, "127.0.0.1");
}

struct httpd *httpd_start_addr(struct event_base *base, const char *addr)
{
	struct httpd *h = calloc(1, sizeof *h);
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;

	h->base = base;
	snprintf(h->addr, sizeof h->addr, "%s", addr);
	LIST_INIT(&h->routes);
	LIST_INIT(&h->resps);
	h->http = evhttp_new(base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h->http, addr, 0);
	if (!bs || getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl)) {
		httpd_free(h);
		return NULL;
	}
	h->port = ntohs(sin.sin_port);
	/* no invented Content-Type: tests decide what the client sees */
	evhttp_set_default_content_type(h->http, NULL);
	evhttp_set_gencb(h->http, httpd_on_request, h);
	return h;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	while (!LIST_EMPTY(&h->resps))
		httpd_resp_done(LIST_FIRST(&h->resps));
	if (h->http)
		evhttp_free(h->http);
	while (!LIST_EMPTY(&h->routes)) {
		struct httpd_rt *rt = LIST_FIRST(&h->routes);
		LIST_REMOVE(rt, link);
		httpd_rt_free(rt);
	}
	free(h);
}

/* Runs cmd with its stdin fed from a file holding data; returns its stdout. */
static void *httpd_filter(const char *cmd, const void *data, size_t len, size_t *outlen)
{
	char in[] = "/tmp/feedd-httpd-XXXXXX";
	char line[256];
	snprintf(line, sizeof line, "%s", cmd);
	if (data) {
		int fd = mkstemp(in);
		if (fd < 0 || write(fd, data, len) != (ssize_t)len)
			abort();
		close(fd);
		snprintf(line, sizeof line, "%s < %s", cmd, in);
	}
	FILE *f = popen(line, "r");
	if (!f)
		abort();
	size_t cap = 1 << 16, n = 0, r;
	char *b = malloc(cap);
	while ((r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	pclose(f);
	if (data)
		unlink(in);
	*outlen = n;
	return b;
}

void *httpd_gzip(const void *data, size_t len, size_t *outlen)
{
	return httpd_filter("gzip -c -n", data, len, outlen);
}

void *httpd_gzip_zeros(size_t n, size_t *outlen)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "head -c %zu /dev/zero | gzip -c -n -9", n);
	return httpd_filter(cmd, NULL, 0, outlen);
}
