/*
 * test_fetch.c - the fetch engine (daemon/fetch.c) against a real evhttp
 * server on loopback (tests/httpd.c), in the same event loop.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "httpd.h"
#include "testutil.h"

struct got {
	bool done;
	enum fetch_status status;
	long http_status;
	char *error, *etag, *last_modified, *final_url, *content_type;
	int redirects;
	bool permanent;
	int64_t max_age, expires_in, retry_after;
	uint64_t body_bytes;
	char *body, *body_url;
	size_t len, calls, biggest;
	size_t stop_after; /* on_body asks to stop after this many bytes (0: never) */
};

static struct event_base *base;
static struct httpd *srv;
static struct fetch_opts opts;

static char *dup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int on_body(void *ud, const struct fetch_body *b, const void *buf, size_t len)
{
	struct got *g = ud;
	free(g->body_url);
	g->body_url = strdup(b->url);
	g->body = realloc(g->body, g->len + len + 1);
	memcpy(g->body + g->len, buf, len);
	g->len += len;
	g->body[g->len] = 0;
	g->calls++;
	if (len > g->biggest)
		g->biggest = len;
	return g->stop_after && g->len >= g->stop_after;
}

static void on_done(void *ud, const struct fetch_result *r)
{
	struct got *g = ud;
	ck_assert(!g->done);
	g->done = true;
	g->status = r->status;
	g->http_status = r->http_status;
	g->error = dup0(r->error);
	g->etag = dup0(r->etag);
	g->last_modified = dup0(r->last_modified);
	g->final_url = dup0(r->final_url);
	g->content_type = dup0(r->content_type);
	g->redirects = r->redirects;
	g->permanent = r->permanent_redirect;
	g->max_age = r->max_age;
	g->expires_in = r->expires_in;
	g->retry_after = r->retry_after;
	g->body_bytes = r->body_bytes;
}

static void got_free(struct got *g)
{
	free(g->error);
	free(g->etag);
	free(g->last_modified);
	free(g->final_url);
	free(g->content_type);
	free(g->body);
	free(g->body_url);
	memset(g, 0, sizeof *g);
}

static void setup(void)
{
	base = event_base_new();
	srv = httpd_start(base);
	ck_assert_ptr_nonnull(srv);
	fetch_opts_default(&opts);
	opts.allow_private = true; /* the server is on loopback */
}

static void teardown(void)
{
	httpd_free(srv);
	event_base_free(base);
}

static void start(struct fetch_engine *e, struct got *g, const char *url, const char *etag,
                  const char *lm)
{
	struct fetch_request rq = {
	    .url = url, .etag = etag, .last_modified = lm, .on_body = on_body, .ud = g};
	ck_assert_int_eq(fetch_start(e, &rq, on_done), 0);
}

static void wait_all(struct got *g, size_t n)
{
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += g[i].done;
		if (done == n)
			return;
		event_base_loop(base, EVLOOP_ONCE);
	}
}

/* Fetches one URL with the current opts. */
static void fetch1(struct got *g, const char *url, const char *etag, const char *lm)
{
	struct fetch_engine *e = fetch_engine_new(base, &opts);
	ck_assert_ptr_nonnull(e);
	start(e, g, url, etag, lm);
	wait_all(g, 1);
	fetch_engine_free(e);
}

static void route(const char *path, int status, const char *headers, const char *body)
{
	struct httpd_route r = {.path = path, .status = status, .headers = headers, .body = body};
	httpd_route(srv, &r);
}

static const char *feed_doc = "<rss version=\"2.0\"><channel><title>t</title>"
                              "<item><guid>1</guid><title>one</title></item></channel></rss>";

/* ---- streaming ---- */

START_TEST(body_arrives_in_pieces_as_it_streams)
{
	size_t n = 200000;
	char *big = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = 0;
	struct httpd_route r = {.path = "/big", .body = big, .mode = HTTPD_CHUNKED, .chunk = 4096};
	httpd_route(srv, &r);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/big"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_uint_eq(g.len, n);
	ck_assert(!memcmp(g.body, big, n));
	ck_assert_uint_gt(g.calls, 1);
	ck_assert_uint_lt(g.biggest, n);
	free(big);
	got_free(&g);
}
END_TEST

START_TEST(content_type_is_passed_with_the_body)
{
	route("/ct", 200, "Content-Type: text/html; charset=\"ISO-8859-1\"\n", "<html></html>");
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/ct"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_str_eq(g.content_type, "text/html; charset=\"ISO-8859-1\"");
	char cs[32];
	ck_assert(fetch_content_type_charset(g.content_type, cs, sizeof cs));
	ck_assert_str_eq(cs, "ISO-8859-1");
	got_free(&g);
}
END_TEST

START_TEST(charset_parameter_is_found_and_unquoted)
{
	char cs[32];
	ck_assert(fetch_content_type_charset("text/xml;charset=utf-8", cs, sizeof cs));
	ck_assert_str_eq(cs, "utf-8");
	ck_assert(
	    fetch_content_type_charset("application/xml; q=1; Charset=\"KOI8-R\"", cs, sizeof cs));
	ck_assert_str_eq(cs, "KOI8-R");
	ck_assert(!fetch_content_type_charset("application/rss+xml", cs, sizeof cs));
	ck_assert(!fetch_content_type_charset(NULL, cs, sizeof cs));
}
END_TEST

START_TEST(sink_can_stop_a_transfer)
{
	struct httpd_route r = {
	    .path = "/endless", .body = "0123456789", .mode = HTTPD_ENDLESS, .chunk = 1000};
	httpd_route(srv, &r);
	struct got g = {.stop_after = 5000};
	fetch1(&g, httpd_url(srv, "/endless"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_STOPPED);
	got_free(&g);
}
END_TEST

/* ---- conditional GET ---- */

START_TEST(first_fetch_sends_no_validators)
{
	route("/f", 200, "ETag: \"v1\"\n", feed_doc);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/f"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_ptr_null(httpd_req_header(srv, "/f", "If-None-Match"));
	ck_assert_ptr_null(httpd_req_header(srv, "/f", "If-Modified-Since"));
	got_free(&g);
}
END_TEST

START_TEST(validators_are_sent_back_byte_for_byte_and_304_parses_nothing)
{
	const char *etag = "W/\"a b;c\\\"d\"";
	const char *lm = "Tue, 15 Nov 1994 08:12:31 GMT";
	struct httpd_route r = {.path = "/c", .body = feed_doc, .etag = etag, .last_modified = lm};
	char hdrs[256];
	snprintf(hdrs, sizeof hdrs, "ETag: %s\nLast-Modified: %s\n", etag, lm);
	r.headers = hdrs;
	httpd_route(srv, &r);

	struct got g1 = {0}, g2 = {0};
	fetch1(&g1, httpd_url(srv, "/c"), NULL, NULL);
	ck_assert_int_eq(g1.status, FETCH_OK);
	ck_assert_str_eq(g1.etag, etag);
	ck_assert_str_eq(g1.last_modified, lm);

	fetch1(&g2, httpd_url(srv, "/c"), g1.etag, g1.last_modified);
	ck_assert_str_eq(httpd_req_header(srv, "/c", "If-None-Match"), etag);
	ck_assert_str_eq(httpd_req_header(srv, "/c", "If-Modified-Since"), lm);
	ck_assert_int_eq(g2.status, FETCH_NOT_MODIFIED);
	ck_assert_int_eq(g2.http_status, 304);
	ck_assert_uint_eq(g2.calls, 0);
	ck_assert_str_eq(g2.etag, etag); /* refreshed from the 304 */
	got_free(&g1);
	got_free(&g2);
}
END_TEST

START_TEST(validator_with_a_line_break_is_not_sent)
{
	route("/v", 200, NULL, feed_doc);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/v"), "\"x\"\r\nX-Evil: 1", NULL);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_ptr_null(httpd_req_header(srv, "/v", "X-Evil"));
	ck_assert_ptr_null(httpd_req_header(srv, "/v", "If-None-Match"));
	got_free(&g);
}
END_TEST

/* ---- request headers ---- */

START_TEST(accept_user_agent_and_accept_encoding_are_sent)
{
	opts.user_agent = "feedd/9.9 (+https://example.org/feedd)";
	route("/h", 200, NULL, feed_doc);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/h"), NULL, NULL);
	ck_assert_str_eq(httpd_req_header(srv, "/h", "User-Agent"), opts.user_agent);
	ck_assert_ptr_nonnull(strstr(httpd_req_header(srv, "/h", "Accept"), "application/rss+xml"));
	ck_assert_ptr_nonnull(
	    strstr(httpd_req_header(srv, "/h", "Accept"), "application/atom+xml"));
	const char *ae = httpd_req_header(srv, "/h", "Accept-Encoding");
	ck_assert_ptr_nonnull(ae);
	ck_assert_ptr_nonnull(strstr(ae, "gzip"));
	ck_assert_ptr_nonnull(strstr(ae, "deflate"));
	/* only what fetch.c decodes itself (and so can tell whole from truncated) */
	ck_assert_ptr_null(strstr(ae, "br"));
	ck_assert_ptr_null(strstr(ae, "zstd"));
	got_free(&g);
}
END_TEST

START_TEST(gzip_body_is_decoded)
{
	size_t zl;
	void *z = httpd_gzip(feed_doc, strlen(feed_doc), &zl);
	struct httpd_route r = {
	    .path = "/gz", .headers = "Content-Encoding: gzip\n", .body = z, .body_len = zl};
	httpd_route(srv, &r);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/gz"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_str_eq(g.body, feed_doc);
	free(z);
	got_free(&g);
}
END_TEST

/* ---- redirects ---- */

START_TEST(permanent_redirects_on_every_hop_are_reported)
{
	char h1[256], h2[256];
	snprintf(h1, sizeof h1, "Location: %s\n", httpd_url(srv, "/mid"));
	snprintf(h2, sizeof h2, "Location: /new\n");
	route("/old", 301, h1, "moved");
	route("/mid", 308, h2, "moved");
	route("/new", 200, NULL, feed_doc);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/old"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_int_eq(g.redirects, 2);
	ck_assert(g.permanent);
	ck_assert_str_eq(g.final_url, httpd_url(srv, "/new"));
	ck_assert_str_eq(g.body_url, httpd_url(srv, "/new")); /* the base for relative links */
	ck_assert_str_eq(g.body, feed_doc); /* the redirect bodies were not passed on */
	got_free(&g);
}
END_TEST

START_TEST(a_temporary_hop_makes_the_redirect_temporary)
{
	route("/p1", 301, "Location: /p2\n", NULL);
	route("/p2", 302, "Location: /p3\n", NULL);
	route("/p3", 200, NULL, feed_doc);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/p1"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_int_eq(g.redirects, 2);
	ck_assert(!g.permanent);
	got_free(&g);
}
END_TEST

START_TEST(redirects_stop_at_max_redirs)
{
	opts.max_redirs = 3;
	route("/loop", 301, "Location: /loop\n", NULL);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/loop"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_NET_ERROR);
	ck_assert_str_eq(g.error, "more than 3 redirects");
	ck_assert_int_eq(httpd_hits(srv, "/loop"), 4);
	got_free(&g);
}
END_TEST

START_TEST(redirect_to_ftp_is_refused)
{
	route("/toftp", 302, "Location: ftp://127.0.0.1/feed\n", NULL);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/toftp"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_NET_ERROR);
	ck_assert_ptr_nonnull(strstr(g.error, "ftp"));
	got_free(&g);
}
END_TEST

START_TEST(redirect_to_file_is_refused_even_when_file_is_allowed)
{
	opts.allow_file = true;
	route("/tofile", 301, "Location: file:///etc/passwd\n", NULL);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/tofile"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_NET_ERROR);
	ck_assert_uint_eq(g.calls, 0);
	got_free(&g);
}
END_TEST

/* ---- file:// ---- */

START_TEST(file_urls_only_when_allowed)
{
	char *dir = tu_tmpdir();
	char path[512], url[600];
	snprintf(path, sizeof path, "%s/feed.xml", dir);
	FILE *f = fopen(path, "w");
	fputs(feed_doc, f);
	fclose(f);
	snprintf(url, sizeof url, "file://%s", path);

	struct fetch_engine *e = fetch_engine_new(base, &opts);
	struct got g = {0};
	struct fetch_request rq = {.url = url, .on_body = on_body, .ud = &g};
	ck_assert_int_eq(fetch_start(e, &rq, on_done), -1);
	fetch_engine_free(e);

	opts.allow_file = true;
	fetch1(&g, url, NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_OK);
	ck_assert_str_eq(g.body, feed_doc);
	got_free(&g);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(other_schemes_are_refused)
{
	struct fetch_engine *e = fetch_engine_new(base, &opts);
	struct got g = {0};
	struct fetch_request rq = {.url = "ftp://127.0.0.1/x", .on_body = on_body, .ud = &g};
	ck_assert_int_eq(fetch_start(e, &rq, on_done), -1);
	rq.url = "gopher://127.0.0.1/x";
	ck_assert_int_eq(fetch_start(e, &rq, on_done), -1);
	fetch_engine_free(e);
	ck_assert(!g.done);
}
END_TEST

/* ---- limits ---- */

START_TEST(endless_chunked_body_is_capped)
{
	opts.max_body = 64 * 1024;
	struct httpd_route r = {
	    .path = "/endless", .body = "<!-- endless -->", .mode = HTTPD_ENDLESS, .chunk = 4096};
	httpd_route(srv, &r);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/endless"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_NET_ERROR);
	ck_assert_str_eq(g.error, "body larger than 65536 bytes");
	ck_assert_uint_le(g.len, 64 * 1024);
	got_free(&g);
}
END_TEST

START_TEST(gzip_bomb_is_capped_after_decoding)
{
	opts.max_body = 1 << 20;
	size_t zl;
	void *z = httpd_gzip_zeros(50 << 20, &zl);
	ck_assert_uint_lt(zl, 1 << 20); /* the wire size is under the cap */
	struct httpd_route r = {
	    .path = "/bomb", .headers = "Content-Encoding: gzip\n", .body = z, .body_len = zl};
	httpd_route(srv, &r);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/bomb"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_NET_ERROR);
	ck_assert_str_eq(g.error, "body larger than 1048576 bytes");
	ck_assert_uint_le(g.len, 1 << 20);
	free(z);
	got_free(&g);
}
END_TEST

START_TEST(too_big_content_length_stops_before_the_body)
{
	opts.max_body = 1000;
	char *big = calloc(1, 5001);
	memset(big, 'x', 5000);
	route("/cl", 200, NULL, big);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/cl"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_NET_ERROR);
	ck_assert_str_eq(g.error, "body larger than 1000 bytes");
	ck_assert_uint_eq(g.len, 0);
	free(big);
	got_free(&g);
}
END_TEST

START_TEST(low_speed_limit_aborts_a_trickle)
{
	opts.low_speed_limit = 100;
	opts.low_speed_time = 1;
	struct httpd_route r = {
	    .path = "/slow", .body = feed_doc, .mode = HTTPD_TRICKLE, .delay_ms = 700};
	httpd_route(srv, &r);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/slow"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_TIMEOUT);
	ck_assert_uint_lt(g.len, strlen(feed_doc));
	got_free(&g);
}
END_TEST

START_TEST(total_timeout_aborts_a_server_that_never_answers)
{
	opts.timeout = 1;
	struct httpd_route r = {.path = "/hang", .mode = HTTPD_HANG};
	httpd_route(srv, &r);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/hang"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(g.error, "timed out"));
	got_free(&g);
}
END_TEST

START_TEST(connect_timeout_aborts_a_connect_that_hangs)
{
	/* a listener whose accept queue is full drops further SYNs: connect hangs */
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sin;
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(l, 0), 0);
	getsockname(l, (struct sockaddr *)&sin, &sl);
	int fill[4];
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sin, sizeof sin);
	}
	opts.connect_timeout = 1;
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	struct got g = {0};
	fetch1(&g, url, NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(g.error, "onnect"));
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(l);
	got_free(&g);
}
END_TEST

static void fetch_many(const char *path, int n, struct got *g)
{
	struct fetch_engine *e = fetch_engine_new(base, &opts);
	for (int i = 0; i < n; i++)
		start(e, &g[i], httpd_url(srv, path), NULL, NULL);
	ck_assert_uint_eq(fetch_pending(e), (size_t)n);
	wait_all(g, (size_t)n);
	ck_assert_uint_eq(fetch_pending(e), 0);
	fetch_engine_free(e);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(g[i].status, FETCH_OK);
		got_free(&g[i]);
	}
}

START_TEST(per_host_connection_limit_serializes_requests)
{
	opts.max_host_connections = 1;
	struct httpd_route r = {.path = "/d", .body = feed_doc, .delay_ms = 150};
	httpd_route(srv, &r);
	struct got g[4] = {0};
	fetch_many("/d", 4, g);
	ck_assert_int_eq(httpd_hits(srv, "/d"), 4);
	ck_assert_int_eq(httpd_peak(srv), 1);
}
END_TEST

START_TEST(parallel_limit_bounds_transfers_in_flight)
{
	opts.max_host_connections = 10;
	opts.max_parallel = 2;
	struct httpd_route r = {.path = "/d", .body = feed_doc, .delay_ms = 150};
	httpd_route(srv, &r);
	struct got g[6] = {0};
	fetch_many("/d", 6, g);
	ck_assert_int_eq(httpd_hits(srv, "/d"), 6);
	ck_assert_int_eq(httpd_peak(srv), 2);
}
END_TEST

START_TEST(transfers_run_concurrently)
{
	opts.max_host_connections = 10;
	struct httpd_route r = {.path = "/d", .body = feed_doc, .delay_ms = 300};
	httpd_route(srv, &r);
	struct got g[4] = {0};
	fetch_many("/d", 4, g);
	ck_assert_int_eq(httpd_peak(srv), 4);
}
END_TEST

/* ---- private addresses ---- */

START_TEST(private_address_is_refused_by_default)
{
	opts.allow_private = false;
	route("/p", 200, NULL, feed_doc);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/p"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_NET_ERROR);
	ck_assert_str_eq(g.error, "refused private address 127.0.0.1");
	ck_assert_int_eq(httpd_hits(srv, "/p"), 0);
	got_free(&g);
}
END_TEST

START_TEST(a_feed_may_opt_in_to_private_addresses)
{
	opts.allow_private = false;
	route("/p", 200, NULL, feed_doc);
	struct fetch_engine *e = fetch_engine_new(base, &opts);
	struct got g = {0};
	struct fetch_request rq = {
	    .url = httpd_url(srv, "/p"), .allow_private = true, .on_body = on_body, .ud = &g};
	ck_assert_int_eq(fetch_start(e, &rq, on_done), 0);
	wait_all(&g, 1);
	fetch_engine_free(e);
	ck_assert_int_eq(g.status, FETCH_OK);
	got_free(&g);
}
END_TEST

static bool priv(const char *a)
{
	struct sockaddr_storage ss = {0};
	if (strchr(a, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, a, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, a, &s4->sin_addr), 1);
	}
	char text[64];
	bool r = fetch_addr_private((struct sockaddr *)&ss, text, sizeof text);
	return r;
}

START_TEST(address_classes)
{
	static const char *const bad[] = {
	    "127.0.0.1",
	    "127.255.0.9",
	    "10.1.2.3",
	    "172.16.0.1",
	    "172.31.255.255",
	    "192.168.1.1",
	    "169.254.169.254",
	    "100.64.0.1",
	    "100.127.255.255",
	    "0.0.0.0",
	    "224.0.0.1",
	    "239.1.1.1",
	    "255.255.255.255",
	    "::",
	    "::1",
	    "fc00::1",
	    "fd12::1",
	    "fe80::1",
	    "febf::1",
	    "ff02::1",
	    "::ffff:127.0.0.1",
	    "::ffff:10.0.0.1",
	    "64:ff9b::a9fe:a9fe",
	    "::127.0.0.1",
	};
	static const char *const good[] = {
	    "93.184.216.34",      "8.8.8.8",
	    "172.15.255.255",     "172.32.0.1",
	    "100.63.255.255",     "100.128.0.1",
	    "192.169.0.1",        "2606:4700::1111",
	    "2001:db8::1",        "::ffff:93.184.216.34",
	    "64:ff9b::5db8:d822",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(priv(bad[i]), "%s should be private", bad[i]);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(!priv(good[i]), "%s should be public", good[i]);
}
END_TEST

/* ---- status codes and scheduling hints ---- */

START_TEST(error_status_is_reported_and_its_body_not_passed_on)
{
	route("/503", 503, "Retry-After: 120\n", "<html>busy</html>");
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/503"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_HTTP_ERROR);
	ck_assert_int_eq(g.http_status, 503);
	ck_assert_str_eq(g.error, "HTTP 503");
	ck_assert_int_eq(g.retry_after, 120);
	ck_assert_uint_eq(g.calls, 0);
	got_free(&g);
}
END_TEST

START_TEST(retry_after_as_an_http_date)
{
	route("/429", 429,
	      "Date: Sun, 06 Nov 1994 08:49:37 GMT\nRetry-After: Sun, 06 Nov 1994 09:49:37 GMT\n",
	      NULL);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/429"), NULL, NULL);
	ck_assert_int_eq(g.http_status, 429);
	ck_assert_int_eq(g.retry_after, 3600);
	got_free(&g);
}
END_TEST

START_TEST(cache_control_max_age_and_expires_are_read)
{
	route("/cc", 200,
	      "Cache-Control: public, s-maxage=50, max-age=7200\n"
	      "Date: Sun, 06 Nov 1994 08:49:37 GMT\nExpires: Sun, 06 Nov 1994 10:49:37 GMT\n",
	      feed_doc);
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/cc"), NULL, NULL);
	ck_assert_int_eq(g.max_age, 7200);
	ck_assert_int_eq(g.expires_in, 7200);
	ck_assert_int_eq(g.retry_after, -1);
	got_free(&g);
}
END_TEST

START_TEST(gone_is_an_http_error_with_its_status)
{
	route("/gone", 410, NULL, "gone");
	struct got g = {0};
	fetch1(&g, httpd_url(srv, "/gone"), NULL, NULL);
	ck_assert_int_eq(g.status, FETCH_HTTP_ERROR);
	ck_assert_int_eq(g.http_status, 410);
	got_free(&g);
}
END_TEST

/* ---- abort ---- */

static void on_abort_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fetch_abort_all(arg);
}

START_TEST(abort_all_ends_running_and_queued_transfers)
{
	opts.max_parallel = 2;
	struct httpd_route r = {.path = "/hang", .mode = HTTPD_HANG};
	httpd_route(srv, &r);
	struct fetch_engine *e = fetch_engine_new(base, &opts);
	struct got g[4] = {0};
	for (int i = 0; i < 4; i++)
		start(e, &g[i], httpd_url(srv, "/hang"), NULL, NULL);
	struct event *t = evtimer_new(base, on_abort_timer, e);
	struct timeval tv = {0, 200000};
	evtimer_add(t, &tv);
	wait_all(g, 4);
	ck_assert_uint_eq(fetch_pending(e), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(g[i].status, FETCH_ABORTED);
		got_free(&g[i]);
	}
	event_free(t);
	fetch_engine_free(e);
}
END_TEST

static Suite *fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("engine");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, body_arrives_in_pieces_as_it_streams);
	tcase_add_test(tc, content_type_is_passed_with_the_body);
	tcase_add_test(tc, charset_parameter_is_found_and_unquoted);
	tcase_add_test(tc, sink_can_stop_a_transfer);
	tcase_add_test(tc, first_fetch_sends_no_validators);
	tcase_add_test(tc, validators_are_sent_back_byte_for_byte_and_304_parses_nothing);
	tcase_add_test(tc, validator_with_a_line_break_is_not_sent);
	tcase_add_test(tc, accept_user_agent_and_accept_encoding_are_sent);
	tcase_add_test(tc, gzip_body_is_decoded);
	tcase_add_test(tc, permanent_redirects_on_every_hop_are_reported);
	tcase_add_test(tc, a_temporary_hop_makes_the_redirect_temporary);
	tcase_add_test(tc, redirects_stop_at_max_redirs);
	tcase_add_test(tc, redirect_to_ftp_is_refused);
	tcase_add_test(tc, redirect_to_file_is_refused_even_when_file_is_allowed);
	tcase_add_test(tc, file_urls_only_when_allowed);
	tcase_add_test(tc, other_schemes_are_refused);
	tcase_add_test(tc, endless_chunked_body_is_capped);
	tcase_add_test(tc, gzip_bomb_is_capped_after_decoding);
	tcase_add_test(tc, too_big_content_length_stops_before_the_body);
	tcase_add_test(tc, low_speed_limit_aborts_a_trickle);
	tcase_add_test(tc, total_timeout_aborts_a_server_that_never_answers);
	tcase_add_test(tc, connect_timeout_aborts_a_connect_that_hangs);
	tcase_add_test(tc, per_host_connection_limit_serializes_requests);
	tcase_add_test(tc, parallel_limit_bounds_transfers_in_flight);
	tcase_add_test(tc, transfers_run_concurrently);
	tcase_add_test(tc, private_address_is_refused_by_default);
	tcase_add_test(tc, a_feed_may_opt_in_to_private_addresses);
	tcase_add_test(tc, address_classes);
	tcase_add_test(tc, error_status_is_reported_and_its_body_not_passed_on);
	tcase_add_test(tc, retry_after_as_an_http_date);
	tcase_add_test(tc, cache_control_max_age_and_expires_are_read);
	tcase_add_test(tc, gone_is_an_http_error_with_its_status);
	tcase_add_test(tc, abort_all_ends_running_and_queued_transfers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	SRunner *sr = srunner_create(fetch_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
