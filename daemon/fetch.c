/*
 * fetch.c - the fetch engine; see fetch.h.
 *
 * Control flow: fetch_start builds an easy handle and queues it; a "kick"
 * event moves queued transfers into the multi handle while fewer than
 * max_parallel run.  libcurl tells us which sockets to watch and when to
 * wake it (fetch_on_curl_socket / fetch_on_curl_timer, which only arm
 * events); the events call curl_multi_socket_action, then collect finished
 * transfers and run their completion callbacks.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <iconv.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "fetch.h"

#define FETCH_DEFAULT_UA "feedd/" FEEDD_VERSION " (+https://github.com/feedd/feedd)"
#define FETCH_ACCEPT                                                                               \
	"Accept: application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "           \
	"application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"

/* Response headers we keep, reset at every status line (each redirect hop). */
enum fetch_hdr {
	HDR_ETAG,
	HDR_LAST_MODIFIED,
	HDR_CONTENT_TYPE,
	HDR_CACHE_CONTROL,
	HDR_EXPIRES,
	HDR_DATE,
	HDR_RETRY_AFTER,
	HDR_CONTENT_ENCODING,  /* every line of it, joined with ", " (one list, RFC 9110 5.3) */
	HDR_TRANSFER_ENCODING, /* likewise */
	HDR_COUNT
};
static const char *const fetch_hdr_names[HDR_COUNT] = {
    "ETag", "Last-Modified", "Content-Type",     "Cache-Control",     "Expires",
    "Date", "Retry-After",   "Content-Encoding", "Transfer-Encoding",
};

/*
 * The encodings asked for, and decoded here with zlib rather than by
 * libcurl: libcurl 7.88 passes on a truncated gzip or deflate stream as if
 * it were whole (no error), so half a document would be stored as a
 * complete one.  Decoding ourselves, the end of the stream is known.
 */
#define FETCH_ACCEPT_ENCODING "gzip, deflate"
#define FETCH_ZBUF 16384
/* Codings stacked on one body (Content- and Transfer-Encoding together) at most. */
#define FETCH_MAX_CODINGS 4

enum fetch_coding {
	FC_UNDECIDED,   /* no body byte of the final response yet */
	FC_IDENTITY,    /* passed on as received */
	FC_ZLIB,        /* one or more layers of gzip, x-gzip or deflate: inflated here */
	FC_UNSUPPORTED, /* anything else: refused */
};

/* One coding to undo: a zlib stream (gzip members follow one another). */
struct fetch_zlayer {
	const char *name; /* "gzip", "x-gzip" or "deflate" */
	bool raw_ok;      /* "deflate": maybe without its zlib header */
	bool init, end;   /* inflate set up; its stream (the last member so far) ended */
	bool trailer;     /* bytes after the last member that start no member: ignored */
	uint64_t out;     /* bytes it put out (capped like the body: padding inside a layer) */
	z_stream z;
};

struct fetch_xfer {
	TAILQ_ENTRY(fetch_xfer) link;
	struct fetch_engine *e;
	CURL *h;
	struct curl_slist *hdrs;
	char *url;
	bool allow_private;
	fetch_body_fn on_body;
	fetch_done_fn on_done;
	void *ud;
	/* response state */
	long status;        /* of the current response, 0 before any */
	bool non_permanent; /* a followed redirect was not 301/308 */
	char *hdr[HDR_COUNT];
	uint64_t body_bytes; /* decoded */
	uint64_t raw_bytes;  /* as received (also capped: empty gzip members decode to nothing) */
	struct fetch_body body; /* set at the first piece passed on */
	bool conditional;       /* validators were sent */
	bool in_body;           /* the final response's header block has ended */
	enum fetch_coding coding;
	enum fetch_hdr unknown_coding; /* whose list had a label fetch does not know, or 0 */
	/* the codings in the order they were applied: undone from the last */
	struct fetch_zlayer layer[FETCH_MAX_CODINGS];
	int nlayers;
	bool bad_response;    /* refused (undecodable body, conflicting lengths): msg says why */
	char *content_length; /* of the current response, as received */
	bool too_big, stopped, refused;
	char refused_addr[64];
	char errbuf[CURL_ERROR_SIZE];
	char msg[CURL_ERROR_SIZE + 64];
};
TAILQ_HEAD(fetch_list, fetch_xfer);

struct fetch_engine {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;  /* libcurl's one timer */
	struct event *kick;   /* starts queued transfers */
	struct event **socks; /* one event per socket, indexed by fd */
	size_t nsocks;
	struct fetch_opts opts;
	char *user_agent;
	struct fetch_list queue, active;
	size_t nactive;
	bool aborting;
};

void fetch_opts_default(struct fetch_opts *o)
{
	*o = (struct fetch_opts){
	    .user_agent = FETCH_DEFAULT_UA,
	    .max_redirs = 5,
	    .connect_timeout = 15,
	    .low_speed_limit = 100,
	    .low_speed_time = 30,
	    .timeout = 60,
	    .max_body = 8 << 20,
	    .max_host_connections = 2,
	    .max_parallel = 16,
	};
}

/* ---- private addresses ---- */

struct fetch_net4 {
	uint32_t net;
	int bits;
};
static const struct fetch_net4 fetch_private4[] = {
    {0x00000000, 8},  /* "this network", 0.0.0.0 */
    {0x0a000000, 8},  /* 10/8 */
    {0x64400000, 10}, /* 100.64/10 CGNAT */
    {0x7f000000, 8},  /* loopback */
    {0xa9fe0000, 16}, /* link-local */
    {0xac100000, 12}, /* 172.16/12 */
    {0xc0000000, 24}, /* 192.0.0/24 protocol assignments */
    {0xc0a80000, 16}, /* 192.168/16 */
    {0xc6120000, 15}, /* 198.18/15 benchmarking */
    {0xe0000000, 4},  /* multicast */
    {0xf0000000, 4},  /* reserved, broadcast */
};

struct fetch_net6 {
	uint8_t net[2];
	int bits;
};
static const struct fetch_net6 fetch_private6[] = {
    {{0xfc, 0x00}, 7},  /* unique local */
    {{0xfe, 0x80}, 10}, /* link-local */
    {{0xfe, 0xc0}, 10}, /* site-local (deprecated) */
    {{0xff, 0x00}, 8},  /* multicast */
};

static bool fetch_v4_private(uint32_t a)
{
	for (size_t i = 0; i < sizeof fetch_private4 / sizeof fetch_private4[0]; i++) {
		uint32_t mask = ~0u << (32 - fetch_private4[i].bits);
		if ((a & mask) == fetch_private4[i].net)
			return true;
	}
	return false;
}

static bool fetch_v6_private(const uint8_t *b)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
	static const uint8_t zero[12];
	/* ::/96 (::, ::1, v4-compatible), ::ffff:0:0/96 and 64:ff9b::/96 by the IPv4 part */
	if (!memcmp(b, zero, 12) || !memcmp(b, mapped, 12) || !memcmp(b, nat64, 12))
		return fetch_v4_private((uint32_t)b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15]);
	uint16_t top = (uint16_t)(b[0] << 8 | b[1]);
	for (size_t i = 0; i < sizeof fetch_private6 / sizeof fetch_private6[0]; i++) {
		uint16_t net = (uint16_t)(fetch_private6[i].net[0] << 8 | fetch_private6[i].net[1]);
		uint16_t mask = (uint16_t)(0xffffu << (16 - fetch_private6[i].bits));
		if ((top & mask) == net)
			return true;
	}
	return false;
}

bool fetch_addr_private(const struct sockaddr *sa, char *text, size_t textlen)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		if (text)
			inet_ntop(AF_INET, &s4->sin_addr, text, (socklen_t)textlen);
		return fetch_v4_private(ntohl(s4->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (text)
			inet_ntop(AF_INET6, &s6->sin6_addr, text, (socklen_t)textlen);
		return fetch_v6_private(s6->sin6_addr.s6_addr);
	}
	if (text && textlen)
		snprintf(text, textlen, "address family %d", sa->sa_family);
	return true; /* anything else (AF_UNIX ...) is not for feeds */
}

/* Runs for every connect, also after redirects: the SSRF check. */
static curl_socket_t fetch_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch_xfer *x = clientp;
	(void)purpose;
	if (!x->allow_private &&
	    fetch_addr_private(&a->addr, x->refused_addr, sizeof x->refused_addr)) {
		x->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- headers and body ---- */

static void fetch_hdr_reset(struct fetch_xfer *x)
{
	for (int i = 0; i < HDR_COUNT; i++) {
		free(x->hdr[i]);
		x->hdr[i] = NULL;
	}
}

static void fetch_status_line(struct fetch_xfer *x, const char *line)
{
	const char *sp = strchr(line, ' ');
	long code = sp ? strtol(sp + 1, NULL, 10) : 0;
	x->in_body = false;
	if (code >= 100 && code < 200)
		return; /* interim response */
	if (x->status >= 300 && x->status < 400 && x->status != 301 && x->status != 308)
		x->non_permanent = true; /* the previous response was a followed redirect */
	x->status = code;
	fetch_hdr_reset(x);
	free(x->content_length);
	x->content_length = NULL;
}

/*
 * RFC 9112 6.3: differing Content-Length values make the body's end
 * unknowable (libcurl 7.88 believes the last): the response is refused.
 */
static bool fetch_same_length(struct fetch_xfer *x, const char *v)
{
	if (!x->content_length) {
		x->content_length = strdup(v);
		return true;
	}
	if (!strcmp(x->content_length, v))
		return true;
	snprintf(x->msg, sizeof x->msg, "conflicting Content-Length headers (%.40s, %.40s)",
	         x->content_length, v);
	x->bad_response = true;
	return false;
}

/*
 * Keeps a header's value; the coding headers' lines are one list (RFC 9110
 * 8.4, 9112 6.1), so a later line adds to what came before instead of
 * replacing it.
 */
static void fetch_hdr_set(struct fetch_xfer *x, enum fetch_hdr h, const char *v)
{
	char *old = x->hdr[h];
	if (old && (h == HDR_CONTENT_ENCODING || h == HDR_TRANSFER_ENCODING)) {
		if (asprintf(&x->hdr[h], "%s, %s", old, v) < 0)
			x->hdr[h] = NULL;
	} else {
		x->hdr[h] = strdup(v);
	}
	free(old);
}

static size_t fetch_on_header(char *buf, size_t size, size_t n, void *ud)
{
	struct fetch_xfer *x = ud;
	size_t len = size * n;
	char line[8192];

	if (len >= sizeof line)
		return len; /* no header we want is that long */
	memcpy(line, buf, len);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	line[len] = 0;
	if (!len && x->status >= 200) {
		x->in_body = true; /* the blank line after the final response's headers */
		return size * n;
	}
	if (!strncmp(line, "HTTP/", 5)) {
		fetch_status_line(x, line);
		return size * n;
	}
	char *colon = strchr(line, ':');
	if (!colon)
		return size * n;
	*colon = 0;
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vl = strlen(v);
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		v[--vl] = 0;
	if (!strcasecmp(line, "Content-Length") && !fetch_same_length(x, v))
		return 0; /* aborts the transfer */
	for (int i = 0; i < HDR_COUNT; i++)
		if (!strcasecmp(line, fetch_hdr_names[i]))
			fetch_hdr_set(x, (enum fetch_hdr)i, v);
	return size * n;
}

/* Passes a piece of the (decoded) body on; false to stop the transfer. */
static bool fetch_deliver(struct fetch_xfer *x, const char *buf, size_t len)
{
	x->body_bytes += len;
	if (x->body_bytes > (uint64_t)x->e->opts.max_body) {
		x->too_big = true;
		return false; /* the only cap that holds for chunked and compressed bodies */
	}
	if (!x->on_body || !len)
		return true;
	if (!x->body.url) {
		char *eff = NULL;
		curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL,
		                  &eff); /* fine in a write callback */
		x->body.url = eff ? eff : x->url;
	}
	x->body.content_type = x->hdr[HDR_CONTENT_TYPE];
	if (x->on_body(x->ud, &x->body, buf, len)) {
		x->stopped = true;
		return false;
	}
	return true;
}

/* Content-Encoding labels that are no coding at all: the body is as it is. */
static const char *const fetch_no_codings[] = {"identity", "none", "binary", "7bit", "8bit"};

/* Compressions fetch knows of and does not decode (never asked for): refused by name. */
static const char *const fetch_foreign_codings[] = {
    "br",   "compress", "x-compress",   "zstd",      "bzip2", "x-bzip2", "xz",
    "lzma", "exi",      "pack200-gzip", "aes128gcm", "dcb",   "dcz",     "lz4",
};

/* Whether the n bytes at t are one of the names in list[0..count). */
static bool fetch_token_in(const char *t, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && !strncasecmp(t, list[i], n))
			return true;
	return false;
}

/*
 * A label servers put in Content-Encoding that names no coding: identity,
 * "none" and the like, a media type, or a charset ("UTF-8" is common).
 * Feed readers read such a body as it is, and so does fetch.
 */
static bool fetch_no_coding(const char *t, size_t n)
{
	char name[64];
	if (!n || memchr(t, '/', n) ||
	    fetch_token_in(t, n, fetch_no_codings,
	                   sizeof fetch_no_codings / sizeof *fetch_no_codings))
		return true;
	if (n >= sizeof name)
		return false;
	memcpy(name, t, n);
	name[n] = 0;
	iconv_t cd = iconv_open("UTF-8", name); /* a charset the system knows */
	if (cd == (iconv_t)-1)
		return false;
	iconv_close(cd);
	return true;
}

static enum fetch_coding fetch_refuse(struct fetch_xfer *x, const char *what, const char *v)
{
	snprintf(x->msg, sizeof x->msg, "unsupported %s: %.200s", what, v);
	x->bad_response = true;
	return FC_UNSUPPORTED;
}

/*
 * Adds the codings of one header's list (v; NULL for none) to x->layer, in
 * the order they were applied.  gzip, x-gzip and deflate are layers to
 * inflate; "chunked" (Transfer-Encoding) libcurl has undone already; a
 * label that is no coding is skipped; a compression fetch does not decode
 * is refused by name, as is a stack of more than FETCH_MAX_CODINGS; a label
 * fetch does not know is noted in x->unknown_coding (fetch_check_unknown
 * decides at the first body byte).
 */
static enum fetch_coding fetch_codings_add(struct fetch_xfer *x, const char *what, const char *v)
{
	static const char *const zlib[] = {"gzip", "x-gzip", "deflate"};
	bool te = !strcmp(what, "Transfer-Encoding");
	for (const char *p = v ? v : ""; *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",;"), len = n;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		int z = -1;
		for (int i = 0; i < 3 && z < 0; i++)
			if (fetch_token_in(p, len, &zlib[i], 1))
				z = i;
		if (z >= 0) {
			if (x->nlayers == FETCH_MAX_CODINGS) {
				snprintf(x->msg, sizeof x->msg,
				         "more than %d codings in %s: %.200s", FETCH_MAX_CODINGS,
				         what, v);
				x->bad_response = true;
				return FC_UNSUPPORTED;
			}
			struct fetch_zlayer *l = &x->layer[x->nlayers++];
			l->name = zlib[z];
			l->raw_ok = z == 2;
		} else if (fetch_token_in(p, len, fetch_foreign_codings,
		                          sizeof fetch_foreign_codings /
		                              sizeof fetch_foreign_codings[0])) {
			return fetch_refuse(x, what, v);
		} else if (!(te && len == 7 && !strncasecmp(p, "chunked", 7)) &&
		           !fetch_no_coding(p, len) && !x->unknown_coding) {
			x->unknown_coding = te ? HDR_TRANSFER_ENCODING : HDR_CONTENT_ENCODING;
		}
		p += n;
		p += strcspn(p, ","); /* parameters after ';' */
	}
	return x->nlayers ? FC_ZLIB : FC_IDENTITY;
}

/*
 * The final response's codings, decided at its first body byte:
 * Content-Encoding's list, then Transfer-Encoding's (applied over it; not
 * asked for, since no TE is sent, and passed on undecoded by libcurl 7.88,
 * but decoded here with the same checks rather than stored as garbage).
 */
static enum fetch_coding fetch_coding_of(struct fetch_xfer *x)
{
	enum fetch_coding c =
	    fetch_codings_add(x, "Content-Encoding", x->hdr[HDR_CONTENT_ENCODING]);
	if (c != FC_UNSUPPORTED)
		c = fetch_codings_add(x, "Transfer-Encoding", x->hdr[HDR_TRANSFER_ENCODING]);
	return c;
}

/*
 * A label fetch does not know (a sloppy server's "text" or "plain", or a
 * compression newer than this list) on a body that starts like a document
 * (markup after a byte order mark or white space) is no coding: the body
 * is read as it is, as browsers do.  Anything else with it is refused by
 * name: an unknown compression, or one stacked with gzip or deflate, whose
 * order cannot be known.
 */
static enum fetch_coding fetch_check_unknown(struct fetch_xfer *x, enum fetch_coding c,
                                             const unsigned char *b, size_t len)
{
	if (!x->unknown_coding || c == FC_UNSUPPORTED)
		return c;
	size_t i = 0;
	if (len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;
	else if (len >= 2 && ((b[0] == 0xfe && b[1] == 0xff) || (b[0] == 0xff && b[1] == 0xfe)))
		i = len; /* UTF-16 */
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	if (c == FC_IDENTITY && (i == len || b[i] == '<'))
		return c;
	const char *what = x->unknown_coding == HDR_TRANSFER_ENCODING ? "Transfer-Encoding"
	                                                              : "Content-Encoding";
	return fetch_refuse(x, what, x->hdr[x->unknown_coding]);
}

static bool fetch_decode_failed(struct fetch_xfer *x, const struct fetch_zlayer *l, const char *why)
{
	snprintf(x->msg, sizeof x->msg, "bad %s body: %.200s", l->name, why ? why : "corrupt data");
	x->bad_response = true;
	return false;
}

/*
 * Sets up inflate at the stream's first byte: gzip and zlib headers are
 * told apart by zlib itself (windowBits 15+32); a "deflate" body that does
 * not start like a zlib header (raw deflate, as some servers send) is
 * read raw.
 */
static bool fetch_inflate_init(struct fetch_xfer *x, struct fetch_zlayer *l, unsigned char first)
{
	bool raw = l->raw_ok && !((first & 0x0f) == 8 && (first >> 4) <= 7);
	if (inflateInit2(&l->z, raw ? -15 : 15 + 32) != Z_OK)
		return fetch_decode_failed(x, l, "out of memory");
	l->init = true;
	return true;
}

static bool fetch_inflate(struct fetch_xfer *x, int i, const char *buf, size_t len);

/* Passes bytes out of layer i on: into the layer applied before it, or to the sink. */
static bool fetch_pass(struct fetch_xfer *x, int i, const char *buf, size_t len)
{
	if (i == 0)
		return fetch_deliver(x, buf, len);
	struct fetch_zlayer *l = &x->layer[i - 1];
	if (!len || l->trailer)
		return true;
	return fetch_inflate(x, i - 1, buf, len);
}

/* Inflates one piece of layer i's input and passes the output on. */
static bool fetch_inflate(struct fetch_xfer *x, int i, const char *buf, size_t len)
{
	struct fetch_zlayer *l = &x->layer[i];
	unsigned char out[FETCH_ZBUF];

	if (!l->init && !fetch_inflate_init(x, l, (unsigned char)buf[0]))
		return false;
	l->z.next_in = (unsigned char *)buf;
	l->z.avail_in = (uInt)len;
	while (l->z.avail_in && !l->trailer) {
		if (l->end) {
			/* another gzip member may follow (gzip -c a b), also in a later
			 * piece of the body; anything else is ignored */
			if (l->z.next_in[0] != 0x1f || inflateReset(&l->z) != Z_OK) {
				l->trailer = true;
				break;
			}
			l->end = false;
		}
		l->z.next_out = out;
		l->z.avail_out = sizeof out;
		int rc = inflate(&l->z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			return fetch_decode_failed(x, l, l->z.msg);
		size_t got = sizeof out - l->z.avail_out;
		l->out += got;
		if (l->out > (uint64_t)x->e->opts.max_body) {
			x->too_big = true;
			return false;
		}
		/* the next layer's calls use their own stream: l's state is kept in l */
		if (!fetch_pass(x, i, (const char *)out, got))
			return false;
		if (rc == Z_STREAM_END)
			l->end = true;
		else if (rc == Z_BUF_ERROR && l->z.avail_out)
			break; /* needs more input */
	}
	return true;
}

/* The first layer (from the outside) whose stream has not ended; NULL when all have. */
static const struct fetch_zlayer *fetch_unfinished_layer(const struct fetch_xfer *x)
{
	for (int i = x->nlayers - 1; i >= 0; i--)
		if (!x->layer[i].end)
			return &x->layer[i];
	return NULL;
}

/* A response whose body is the document: 2xx, but not 206 (a part of it: no Range is sent). */
static bool fetch_is_document(long code)
{
	return code >= 200 && code < 300 && code != 206;
}

static size_t fetch_on_write(char *buf, size_t size, size_t n, void *ud)
{
	struct fetch_xfer *x = ud;
	size_t len = size * n;

	if (!len)
		return 0;
	x->raw_bytes += len;
	if (x->raw_bytes > (uint64_t)x->e->opts.max_body) {
		x->too_big = true;
		return 0;
	}
	if (x->status != 0 && !fetch_is_document(x->status)) {
		x->body_bytes += len; /* error page: counted (as received), not parsed */
		return len;
	}
	if (x->coding == FC_UNDECIDED)
		x->coding = fetch_check_unknown(x, fetch_coding_of(x), (unsigned char *)buf, len);
	bool ok = x->coding == FC_IDENTITY ? fetch_deliver(x, buf, len)
	          : x->coding == FC_ZLIB   ? fetch_pass(x, x->nlayers, buf, len)
	                                   : false;
	return ok ? len : 0; /* 0: CURLE_WRITE_ERROR */
}

/*
 * libcurl reads a followed redirect's body without passing it to the write
 * callback (to keep the connection): only its progress count sees those
 * bytes, so an endless redirect body is cut here rather than at the total
 * timeout.
 */
static int fetch_on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                             curl_off_t ulnow)
{
	struct fetch_xfer *x = ud;
	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	if (dlnow <= (curl_off_t)x->e->opts.max_body)
		return 0;
	x->too_big = true;
	return 1; /* CURLE_ABORTED_BY_CALLBACK */
}

/* ---- result ---- */

static int64_t fetch_header_time(const char *v)
{
	if (!v)
		return -1;
	time_t t = curl_getdate(v, NULL);
	return t == (time_t)-1 ? -1 : (int64_t)t;
}

static int64_t fetch_max_age(const char *cc)
{
	if (!cc)
		return -1;
	for (const char *p = cc; (p = strcasestr(p, "max-age")); p += 7) {
		if (p != cc && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t')
			continue; /* s-maxage and friends */
		const char *q = p + 7;
		while (*q == ' ')
			q++;
		if (*q++ != '=')
			continue;
		if (*q == '"')
			q++;
		if (*q < '0' || *q > '9')
			continue;
		return strtoll(q, NULL, 10);
	}
	return -1;
}

static int64_t fetch_retry_after(const char *v, int64_t date)
{
	if (!v)
		return -1;
	if (*v >= '0' && *v <= '9')
		return strtoll(v, NULL, 10); /* saturates; the scheduler clamps */
	int64_t t = fetch_header_time(v);
	if (t < 0)
		return -1;
	return t > date ? t - date : 0;
}

static enum fetch_status fetch_classify(struct fetch_xfer *x, CURLcode rc, long code)
{
	const struct fetch_opts *o = &x->e->opts;

	if (x->refused) {
		snprintf(x->msg, sizeof x->msg, "refused private address %s", x->refused_addr);
		return FETCH_NET_ERROR;
	}
	if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(x->msg, sizeof x->msg, "body larger than %lld bytes",
		         (long long)o->max_body);
		return FETCH_NET_ERROR;
	}
	if (x->stopped) {
		snprintf(x->msg, sizeof x->msg, "stopped while reading the body");
		return FETCH_STOPPED;
	}
	if (x->bad_response)
		return FETCH_NET_ERROR; /* msg says why */
	if (rc == CURLE_TOO_MANY_REDIRECTS) {
		snprintf(x->msg, sizeof x->msg, "more than %ld redirects", o->max_redirs);
		return FETCH_NET_ERROR;
	}
	if (rc == CURLE_OUT_OF_MEMORY && !x->in_body && !x->errbuf[0]) {
		/* libcurl 7.88 says only "Out of memory" for a header line over its 100 KB */
		snprintf(x->msg, sizeof x->msg,
		         "response header too large (libcurl: out of memory)");
		return FETCH_NET_ERROR;
	}
	if (rc != CURLE_OK) {
		snprintf(x->msg, sizeof x->msg, "%s",
		         x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? FETCH_TIMEOUT : FETCH_NET_ERROR;
	}
	const struct fetch_zlayer *cut = x->coding == FC_ZLIB ? fetch_unfinished_layer(x) : NULL;
	if (cut) {
		snprintf(x->msg, sizeof x->msg, "%s body ended before its compressed stream did",
		         cut->name);
		return FETCH_NET_ERROR;
	}
	if (code == 304 && !x->conditional) {
		/* "not modified" since nothing: no document, and no reason to retry soon */
		snprintf(x->msg, sizeof x->msg, "HTTP 304 to a request without validators");
		return FETCH_HTTP_ERROR;
	}
	if (code == 304)
		return FETCH_NOT_MODIFIED;
	if (code == 0 || fetch_is_document(code))
		return FETCH_OK;
	snprintf(x->msg, sizeof x->msg,
	         code == 206 ? "HTTP %ld (a part of the document) to a request without Range"
	                     : "HTTP %ld",
	         code);
	return FETCH_HTTP_ERROR;
}

static void fetch_xfer_free(struct fetch_xfer *x)
{
	for (int i = 0; i < x->nlayers; i++)
		if (x->layer[i].init)
			inflateEnd(&x->layer[i].z);
	free(x->content_length);
	fetch_hdr_reset(x);
	curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->url);
	free(x);
}

/* Runs the completion callback and frees x (already out of the multi handle and lists). */
static void fetch_finish(struct fetch_xfer *x, CURLcode rc, bool aborted)
{
	struct fetch_result r = {.url = x->url, .final_url = x->url};
	long code = 0, redirects = 0;
	char *eff = NULL;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->h, CURLINFO_REDIRECT_COUNT, &redirects);
	curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &eff);
	curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME, &r.seconds);
	if (aborted) {
		snprintf(x->msg, sizeof x->msg, "aborted");
		r.status = FETCH_ABORTED;
	} else {
		r.status = fetch_classify(x, rc, code);
	}
	if (r.status != FETCH_OK && r.status != FETCH_NOT_MODIFIED)
		r.error = x->msg;
	if (eff)
		r.final_url = eff;
	r.http_status = code;
	r.redirects = (int)redirects;
	r.permanent_redirect = redirects > 0 && !x->non_permanent;
	r.etag = x->hdr[HDR_ETAG];
	r.last_modified = x->hdr[HDR_LAST_MODIFIED];
	r.content_type = x->hdr[HDR_CONTENT_TYPE];
	r.max_age = fetch_max_age(x->hdr[HDR_CACHE_CONTROL]);
	int64_t date = fetch_header_time(x->hdr[HDR_DATE]);
	if (date < 0)
		date = (int64_t)time(NULL);
	int64_t exp = fetch_header_time(x->hdr[HDR_EXPIRES]);
	r.expires_in = exp > date ? exp - date : -1;
	r.retry_after = fetch_retry_after(x->hdr[HDR_RETRY_AFTER], date);
	r.body_bytes = x->body_bytes;
	x->on_done(x->ud, &r);
	fetch_xfer_free(x);
}

/* ---- libcurl <-> libevent ---- */

static void fetch_start_queued(struct fetch_engine *e);

static void fetch_check_done(struct fetch_engine *e)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(e->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct fetch_xfer *x = NULL;
		CURLcode rc = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(e->multi, x->h);
		TAILQ_REMOVE(&e->active, x, link);
		e->nactive--;
		fetch_finish(x, rc, false);
	}
	fetch_start_queued(e);
}

static void fetch_on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct fetch_engine *e = arg;
	int running;
	int action =
	    (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	curl_multi_socket_action(e->multi, fd, action, &running);
	fetch_check_done(e);
}

static void fetch_on_timer_event(evutil_socket_t fd, short what, void *arg)
{
	struct fetch_engine *e = arg;
	int running;
	(void)fd;
	(void)what;
	curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fetch_check_done(e);
}

/* CURLMOPT_SOCKETFUNCTION: only (re)arms the socket's event. */
static int fetch_on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct fetch_engine *e = userp;
	(void)easy;
	(void)socketp;
	if (s < 0)
		return -1;
	if (what == CURL_POLL_REMOVE) {
		if ((size_t)s < e->nsocks && e->socks[s]) {
			event_free(e->socks[s]);
			e->socks[s] = NULL;
		}
		return 0;
	}
	if ((size_t)s >= e->nsocks) {
		size_t n = (size_t)s + 64;
		struct event **p = realloc(e->socks, n * sizeof *p);
		if (!p)
			return -1;
		memset(p + e->nsocks, 0, (n - e->nsocks) * sizeof *p);
		e->socks = p;
		e->nsocks = n;
	}
	short flags = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
	              (what & CURL_POLL_OUT ? EV_WRITE : 0);
	struct event *ev = e->socks[s];
	if (ev) {
		event_del(ev);
		event_assign(ev, e->base, s, flags, fetch_on_socket_event, e);
	} else {
		ev = event_new(e->base, s, flags, fetch_on_socket_event, e);
		if (!ev)
			return -1;
		e->socks[s] = ev;
	}
	return event_add(ev, NULL);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arms the one timer; 0 ms fires on the next loop turn. */
static int fetch_on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetch_engine *e = userp;
	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(e->timer);
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	return evtimer_add(e->timer, &tv);
}

static void fetch_start_queued(struct fetch_engine *e)
{
	while (e->nactive < (size_t)e->opts.max_parallel && !TAILQ_EMPTY(&e->queue)) {
		struct fetch_xfer *x = TAILQ_FIRST(&e->queue);
		TAILQ_REMOVE(&e->queue, x, link);
		if (curl_multi_add_handle(e->multi, x->h) != CURLM_OK) {
			fetch_finish(x, CURLE_OUT_OF_MEMORY, false);
			continue;
		}
		TAILQ_INSERT_TAIL(&e->active, x, link);
		e->nactive++;
	}
}

static void fetch_on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fetch_start_queued(arg);
}

/* ---- engine ---- */

struct fetch_engine *fetch_engine_new(struct event_base *base, const struct fetch_opts *opts)
{
	struct fetch_engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	if (opts)
		e->opts = *opts;
	else
		fetch_opts_default(&e->opts);
	if (e->opts.max_parallel < 1)
		e->opts.max_parallel = 1;
	e->user_agent = strdup(e->opts.user_agent ? e->opts.user_agent : FETCH_DEFAULT_UA);
	e->opts.user_agent = e->user_agent;
	e->base = base;
	TAILQ_INIT(&e->queue);
	TAILQ_INIT(&e->active);
	e->multi = curl_multi_init();
	e->timer = evtimer_new(base, fetch_on_timer_event, e);
	e->kick = event_new(base, -1, 0, fetch_on_kick, e);
	if (!e->user_agent || !e->multi || !e->timer || !e->kick) {
		fetch_engine_free(e);
		return NULL;
	}
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, fetch_on_curl_socket);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, fetch_on_curl_timer);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, e->opts.max_host_connections);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, e->opts.max_parallel);
	return e;
}

void fetch_engine_free(struct fetch_engine *e)
{
	if (!e)
		return;
	if (e->multi) {
		fetch_abort_all(e);
		curl_multi_cleanup(e->multi);
	}
	for (size_t i = 0; i < e->nsocks; i++)
		if (e->socks[i])
			event_free(e->socks[i]);
	free(e->socks);
	if (e->timer)
		event_free(e->timer);
	if (e->kick)
		event_free(e->kick);
	free(e->user_agent);
	free(e);
}

static bool fetch_scheme_is(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	return !strncasecmp(url, scheme, n) && !strncmp(url + n, "://", 3);
}

/* Adds "Name: value" unless value could smuggle a header (CR, LF). */
static struct curl_slist *fetch_add_validator(struct curl_slist *l, const char *name, const char *v,
                                              bool *added)
{
	if (!v || !*v || strpbrk(v, "\r\n"))
		return l;
	size_t n = strlen(name) + strlen(v) + 3;
	char *line = malloc(n);
	if (!line)
		return l;
	snprintf(line, n, "%s: %s", name, v);
	struct curl_slist *r = curl_slist_append(l, line);
	free(line);
	*added |= r != NULL;
	return r ? r : l;
}

static int fetch_setup(struct fetch_engine *e, struct fetch_xfer *x)
{
	const struct fetch_opts *o = &e->opts;
	CURL *h = x->h;
	bool file = fetch_scheme_is(x->url, "file");

	x->hdrs = curl_slist_append(NULL, FETCH_ACCEPT);
	x->hdrs = fetch_add_validator(x->hdrs, "If-None-Match", x->hdr[HDR_ETAG], &x->conditional);
	x->hdrs = fetch_add_validator(x->hdrs, "If-Modified-Since", x->hdr[HDR_LAST_MODIFIED],
	                              &x->conditional);
	fetch_hdr_reset(x);
	if (!x->hdrs)
		return -1;
	int bad = 0;
	bad |= curl_easy_setopt(h, CURLOPT_URL, x->url);
	bad |= curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, file ? "http,https,file" : "http,https");
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, o->max_redirs);
	bad |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, FETCH_ACCEPT_ENCODING);
	bad |= curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L); /* fetch_inflate does */
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, e->user_agent);
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
	bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o->low_speed_time);
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout);
	/* stops early on a too-big Content-Length; the write callback does the rest */
	bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
	bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fetch_on_header);
	bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_on_write);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, fetch_on_progress);
	bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, fetch_opensocket);
	bad |= curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, x);
	return bad ? -1 : 0;
}

int fetch_start(struct fetch_engine *e, const struct fetch_request *req, fetch_done_fn done)
{
	const char *u = req->url;
	if (e->aborting || !u || !done)
		return -1;
	if (!fetch_scheme_is(u, "http") && !fetch_scheme_is(u, "https") &&
	    !(e->opts.allow_file && fetch_scheme_is(u, "file")))
		return -1;

	struct fetch_xfer *x = calloc(1, sizeof *x);
	if (!x)
		return -1;
	x->e = e;
	x->url = strdup(u);
	x->allow_private = e->opts.allow_private || req->allow_private;
	x->on_body = req->on_body;
	x->on_done = done;
	x->ud = req->ud;
	/* the request's validators ride in hdr[] until fetch_setup has used them */
	x->hdr[HDR_ETAG] = req->etag ? strdup(req->etag) : NULL;
	x->hdr[HDR_LAST_MODIFIED] = req->last_modified ? strdup(req->last_modified) : NULL;
	x->h = curl_easy_init();
	if (!x->url || !x->h || fetch_setup(e, x)) {
		fetch_xfer_free(x);
		return -1;
	}
	TAILQ_INSERT_TAIL(&e->queue, x, link);
	event_active(e->kick, 0, 0);
	return 0;
}

size_t fetch_pending(const struct fetch_engine *e)
{
	size_t n = e->nactive;
	struct fetch_xfer *x;
	TAILQ_FOREACH(x, &e->queue, link)
	n++;
	return n;
}

void fetch_abort_all(struct fetch_engine *e)
{
	struct fetch_xfer *x;

	e->aborting = true;
	while ((x = TAILQ_FIRST(&e->active))) {
		TAILQ_REMOVE(&e->active, x, link);
		e->nactive--;
		curl_multi_remove_handle(e->multi, x->h);
		fetch_finish(x, CURLE_ABORTED_BY_CALLBACK, true);
	}
	while ((x = TAILQ_FIRST(&e->queue))) {
		TAILQ_REMOVE(&e->queue, x, link);
		fetch_finish(x, CURLE_ABORTED_BY_CALLBACK, true);
	}
	e->aborting = false;
}

bool fetch_content_type_charset(const char *ct, char *out, size_t outlen)
{
	const char *p = ct;
	while (p && (p = strchr(p, ';'))) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "charset=", 8))
			continue;
		p += 8;
		bool quoted = *p == '"';
		p += quoted;
		size_t n = strcspn(p, quoted ? "\"" : " \t;");
		if (!n || n >= outlen)
			return false;
		memcpy(out, p, n);
		out[n] = 0;
		return true;
	}
	return false;
}
