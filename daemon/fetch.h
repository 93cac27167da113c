/*
 * fetch.h - the fetch engine: HTTP(S) transfers with libcurl's multi
 * interface, driven by a libevent loop (CURLMOPT_SOCKETFUNCTION: one event
 * per socket; CURLMOPT_TIMERFUNCTION: one timer).  Those two callbacks only
 * (re)arm events; libcurl itself is only ever called from libevent
 * callbacks, never from inside libcurl's.
 *
 * A transfer streams its body to the caller chunk by chunk (no body is
 * held whole) and ends with exactly one completion callback.  The engine
 * keeps no global state (curl_global_init is main's job), queues requests
 * beyond its parallel limit, and can abort everything at once (SIGTERM).
 *
 * HTTP manners, all in one place: conditional GET with the validators
 * given back byte for byte (a 304 to a request without them is an error),
 * gzip and deflate (decoded here with zlib, not by libcurl, which passes a
 * truncated compressed stream on as whole in 7.88: here it fails the
 * transfer; the codings of every Content-Encoding line and then of
 * Transfer-Encoding, which libcurl leaves undecoded when no TE was sent,
 * form one stack of up to 4 undone last first; any other coding is
 * refused by name, and a label that is no coding at all, like a charset,
 * is ignored as feed readers do), feed media
 * types in Accept, a configurable User-Agent, at most max_redirs redirects
 * over http/https only, a decompressed-body cap counted in the write
 * callback (CURLOPT_MAXFILESIZE stops neither a chunked endless body nor a
 * gzip bomb in libcurl 7.88), time limits, per-host and total connection
 * limits, and a refusal to connect to private addresses checked on every
 * connect (so it holds after redirects and DNS changes).
 */
#ifndef FEEDD_FETCH_H
#define FEEDD_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct fetch_engine;

/* Engine-wide settings; every one has a default and a config key. */
struct fetch_opts {
	const char *user_agent;    /* copied; default "feedd/VERSION (+URL)" */
	long max_redirs;           /* default 5 */
	long connect_timeout;      /* seconds, default 15 */
	long low_speed_limit;      /* bytes/s ... */
	long low_speed_time;       /* ... for this many seconds aborts (default 100 B/s, 30 s) */
	long timeout;              /* seconds for the whole transfer, default 60 */
	int64_t max_body;          /* decompressed bytes, default 8 MiB */
	long max_host_connections; /* default 2 */
	long max_parallel;         /* transfers at once, default 16; the rest wait */
	bool allow_private;        /* connect to loopback/private addresses (default no) */
	bool allow_file;           /* fetch file:// URLs (default no) */
};
void fetch_opts_default(struct fetch_opts *o);

/* What a body sink learns about the response, valid during the call. */
struct fetch_body {
	const char *content_type; /* the response's Content-Type, NULL when none */
	const char *url;          /* the URL it came from, after redirects */
};

/*
 * Body sink: called for each piece of a successful (2xx but 206, or file://)
 * response body, in order.  Bodies of redirects and errors are never
 * passed on.  Return 0 to go on, non-zero to stop the transfer (it then
 * completes with FETCH_STOPPED).  Must not call fetch_start or
 * fetch_abort_all.
 */
typedef int (*fetch_body_fn)(void *ud, const struct fetch_body *b, const void *buf, size_t len);

struct fetch_request {
	const char *url;           /* copied */
	const char *etag;          /* stored ETag, sent back as If-None-Match; NULL for none */
	const char *last_modified; /* stored Last-Modified, sent back as If-Modified-Since */
	bool allow_private;        /* this feed may use private addresses */
	fetch_body_fn on_body;
	void *ud;
};

enum fetch_status {
	FETCH_OK,           /* 2xx but 206; the body went to on_body */
	FETCH_NOT_MODIFIED, /* 304 */
	FETCH_HTTP_ERROR,   /* any other HTTP status (3xx without Location, 4xx, 5xx; a 304
	                       when no validator was sent; a 206, since no Range is sent) */
	FETCH_NET_ERROR,    /* no usable response: DNS, connect, refused address, TLS, limits,
	                       a truncated or undecodable body */
	FETCH_TIMEOUT,      /* a time limit hit */
	FETCH_STOPPED,      /* on_body asked to stop */
	FETCH_ABORTED,      /* fetch_abort_all or fetch_engine_free */
};

/*
 * What the completion callback gets.  Every pointer is owned by the
 * engine and valid only during the callback.
 */
struct fetch_result {
	enum fetch_status status;
	long http_status;        /* last response's code, 0 when none (or file://) */
	const char *error;       /* one line, NULL for OK / NOT_MODIFIED */
	const char *url;         /* the URL requested */
	const char *final_url;   /* after redirects */
	int redirects;           /* hops followed */
	bool permanent_redirect; /* redirects > 0 and every hop was 301 or 308 */
	const char *etag;        /* of the final response, as received; NULL if none */
	const char *last_modified;
	const char *content_type;
	int64_t max_age;     /* Cache-Control max-age, seconds; -1 if none */
	int64_t expires_in;  /* Expires minus Date (or now), seconds; -1 if none */
	int64_t retry_after; /* seconds (an HTTP date converted); -1 if none */
	uint64_t body_bytes; /* decompressed bytes received */
	double seconds;      /* total transfer time */
};

typedef void (*fetch_done_fn)(void *ud, const struct fetch_result *r);

/* NULL on failure (out of memory, curl_multi_init failed).  opts may be NULL. */
struct fetch_engine *fetch_engine_new(struct event_base *base, const struct fetch_opts *opts);
/* Aborts what is in flight (callbacks run with FETCH_ABORTED), then frees. */
void fetch_engine_free(struct fetch_engine *e);

/*
 * Queues a transfer; it starts from the event loop when fewer than
 * max_parallel are running.  done is called exactly once (never from
 * inside fetch_start) with ud = req->ud.  Returns 0, or -1 when the
 * request could not even be queued (bad URL scheme, out of memory) and
 * done will not be called.
 */
int fetch_start(struct fetch_engine *e, const struct fetch_request *req, fetch_done_fn done);

/* Transfers running or queued. */
size_t fetch_pending(const struct fetch_engine *e);

/*
 * Aborts every running and queued transfer now; each gets its done
 * callback with FETCH_ABORTED before this returns.  Call it from the event
 * loop (a signal or timer event), not from a fetch callback.
 */
void fetch_abort_all(struct fetch_engine *e);

/*
 * Whether connecting to sa is refused without allow_private: loopback,
 * private, link-local, CGNAT, multicast, unspecified, broadcast, the IPv6
 * equivalents, and v4-mapped / NAT64 addresses by their IPv4 part.  When
 * text is not NULL it receives the address as text.
 */
bool fetch_addr_private(const struct sockaddr *sa, char *text, size_t textlen);

/*
 * The charset parameter of a Content-Type value ("text/xml; charset=utf-8"
 * -> "utf-8"), unquoted, into out; false when there is none.
 */
bool fetch_content_type_charset(const char *ct, char *out, size_t outlen);

#endif
