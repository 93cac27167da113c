/*
 * httpd.h - an in-process HTTP test server (libevent evhttp) on
 * 127.0.0.1 with an ephemeral port, running on the caller's event_base.
 *
 * Each path gets a route: status, extra headers, body, and how the body
 * is sent (whole, chunked in pieces, trickled a byte at a time, endless,
 * or never).  The server remembers the headers of the last request to
 * each path, how many requests each path got, and the largest number of
 * requests it was answering at once, so tests can check what a client
 * sent and how many connections it used.
 *
 * Nothing here is global: several servers may run in one process.
 */
#ifndef FEEDD_TEST_HTTPD_H
#define FEEDD_TEST_HTTPD_H

#include <stddef.h>

struct event_base;
struct httpd;

enum httpd_mode {
	HTTPD_WHOLE = 0, /* the body in one reply (Content-Length set) */
	HTTPD_CHUNKED,   /* chunked encoding, `chunk` bytes per chunk, every `delay_ms` */
	HTTPD_TRICKLE,   /* chunked, one byte every `delay_ms` */
	HTTPD_ENDLESS,   /* chunked, the body repeated forever */
	HTTPD_HANG,      /* never answers */
	HTTPD_CLOSE,     /* an HTTP/1.0 reply: no length, not chunked, the body repeated
	                    forever (a close-delimited endless body) */
};

struct httpd_route {
	const char *path;    /* exact path, query string excluded */
	int status;          /* 0 means 200 */
	const char *headers; /* extra response headers, "Name: value\n" each, or NULL */
	const void *body;    /* NULL for none */
	size_t body_len;     /* 0: strlen(body) */
	enum httpd_mode mode;
	int delay_ms; /* before the reply (WHOLE) or between chunks */
	size_t chunk; /* CHUNKED piece size (0: 1024) */
	/*
	 * Conditional GET: when set and the request carries exactly this
	 * If-None-Match (resp. If-Modified-Since) value, answer 304 instead.
	 */
	const char *etag;
	const char *last_modified;
};

/* Starts listening; NULL on failure. */
struct httpd *httpd_start(struct event_base *base);
/* The same on another local IPv4 address (e.g. one added to lo in a test's network namespace). */
struct httpd *httpd_start_addr(struct event_base *base, const char *addr);
/* Stops, answers nothing more, frees everything. */
void httpd_free(struct httpd *h);

int httpd_port(const struct httpd *h);
/* "http://ADDR:PORT" path (ADDR 127.0.0.1 unless started elsewhere), in a static buffer rotated over 8 slots. */
const char *httpd_url(const struct httpd *h, const char *path);

/* Adds or replaces the route for r->path (everything is copied). */
void httpd_route(struct httpd *h, const struct httpd_route *r);

/* Requests seen for path. */
int httpd_hits(const struct httpd *h, const char *path);
/* A header of the last request to path, or NULL (owned by the server). */
const char *httpd_req_header(const struct httpd *h, const char *path, const char *name);
/* Most requests in progress at once since start. */
int httpd_peak(const struct httpd *h);

/* gzip-compresses data with the gzip(1) program; malloc'd, *outlen set. */
void *httpd_gzip(const void *data, size_t len, size_t *outlen);
/* gzip of n zero bytes (a "bomb" when n is large); malloc'd. */
void *httpd_gzip_zeros(size_t n, size_t *outlen);

#endif
