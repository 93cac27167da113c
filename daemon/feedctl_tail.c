/*
 * feedctl_tail.c - `feedctl tail`: subscribe to feedd's subscriber socket
 * and print the events.
 *
 *	feedctl tail [--socket PATH] [--after CURSOR|oldest] [--feeds 3,7]
 *		     [--format json|line] [--cursor-file FILE]
 *
 * --format json (default) prints each item event exactly as feedd sent it,
 * one JSON object per line, plus the {"ev":"live"} marker, for jq.  --format
 * line prints one readable line per item.
 *
 * --cursor-file FILE: when FILE holds a cursor, tail resumes after it
 * (it wins over --after).  After each handled item event, once the event
 * was flushed to stdout, its cursor is written to FILE atomically
 * (temporary file, fsync, rename): a restarted tail resumes exactly where
 * it stopped, and after a crash (kill -9) at most the last event printed
 * is printed again; none is ever skipped (at-least-once).  The price is
 * an fsync per event, which only a long replay notices.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "common_json.h"
#include "feedctl.h"

const char feedctl_tail_usage[] =
    "tail [--socket PATH] [--after CURSOR|oldest] [--feeds ID,ID..] [--format json|line] "
    "[--cursor-file FILE]";

#define TAIL_MAX_LINE (64u << 20)
#define TAIL_CURSOR_MAX 128

struct tail {
	const char *socket;
	const char *after;
	const char *cursor_file;
	int line_format;
	struct buf feeds;             /* "3,7" */
	char cursor[TAIL_CURSOR_MAX]; /* last handled item's cursor, "" for none */
	char saved[TAIL_CURSOR_MAX];  /* what the cursor file holds */
	char resume[TAIL_CURSOR_MAX]; /* read from the cursor file at start */
};

static volatile sig_atomic_t tail_stop;

static void tail_on_signal(int sig)
{
	tail_stop = sig;
}

static int tail_fail(int code, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "feedctl: tail: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return code;
}

static int tail_usage(const char *why)
{
	if (why)
		fprintf(stderr, "feedctl: tail: %s\n", why);
	fprintf(stderr, "usage: feedctl %s\n", feedctl_tail_usage);
	return FEEDCTL_EXIT_USAGE;
}

/* "<hex epoch>:<decimal seq>" (the syntax only; feedd judges the rest). */
static int tail_cursor_ok(const char *s)
{
	size_t e = strspn(s, "0123456789abcdefABCDEF");
	if (e == 0 || e > 64 || s[e] != ':')
		return 0;
	size_t d = strspn(s + e + 1, "0123456789");
	return d > 0 && d <= 19 && s[e + 1 + d] == 0;
}

static int tail_parse_feeds(struct tail *t, const char *list)
{
	const char *p = list;
	for (;;) {
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end == p || errno || v <= 0 || (*end && *end != ','))
			return -1;
		char num[24];
		snprintf(num, sizeof num, "%s%lld", t->feeds.len ? "," : "", v);
		if (buf_puts(&t->feeds, num))
			return -1;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static int tail_args(struct tail *t, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"after", required_argument, NULL, 'a'},
	    {"feeds", required_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'},
	    {"cursor-file", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			t->socket = optarg;
			break;
		case 'a':
			t->after = optarg;
			break;
		case 'c':
			t->cursor_file = optarg;
			break;
		case 'f':
			if (tail_parse_feeds(t, optarg))
				return tail_usage("--feeds takes positive feed ids: 3,7");
			break;
		case 'F':
			if (strcmp(optarg, "json") && strcmp(optarg, "line"))
				return tail_usage("--format is json or line");
			t->line_format = !strcmp(optarg, "line");
			break;
		case 'h':
			printf("usage: feedctl %s\n", feedctl_tail_usage);
			return -1;
		default:
			return tail_usage(NULL);
		}
	}
	if (optind != argc)
		return tail_usage("unexpected argument");
	if (t->after && strcmp(t->after, "oldest") && !tail_cursor_ok(t->after))
		return tail_usage("--after takes a cursor EPOCH:SEQ or 'oldest'");
	return 0;
}

/* ---------------------------------------------------------------- the cursor file */

/* Reads the cursor file into t->resume.  0 (also when it does not exist), or an exit status. */
static int tail_cursor_load(struct tail *t)
{
	char text[TAIL_CURSOR_MAX + 2];
	if (!t->cursor_file)
		return 0;
	FILE *f = fopen(t->cursor_file, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return tail_fail(FEEDCTL_EXIT_ERROR, "cursor file %s: %s", t->cursor_file,
		                 strerror(errno));
	}
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = 0;
	text[strcspn(text, "\r\n")] = 0;
	if (strlen(text) >= sizeof t->resume || !tail_cursor_ok(text))
		return tail_fail(FEEDCTL_EXIT_ERROR, "cursor file %s: %s", t->cursor_file,
		                 "does not hold a cursor EPOCH:SEQ");
	memcpy(t->resume, text, strlen(text) + 1);
	memcpy(t->saved, text, strlen(text) + 1);
	return 0;
}

static int tail_fsync_dir(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof dir, ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Writes t->cursor to the cursor file (temp + fsync + rename).  0 or an exit status. */
static int tail_cursor_save(struct tail *t)
{
	char tmp[4096], text[TAIL_CURSOR_MAX + 1];
	if (!t->cursor_file || !t->cursor[0] || !strcmp(t->cursor, t->saved))
		return 0;
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", t->cursor_file, (long)getpid());
	int n = snprintf(text, sizeof text, "%s\n", t->cursor);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok = fd >= 0 && feedctl_write_all(fd, text, (size_t)n) == 0 && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, t->cursor_file) != 0) {
		int e = errno;
		unlink(tmp);
		return tail_fail(FEEDCTL_EXIT_ERROR, "cursor file %s: %s", t->cursor_file,
		                 strerror(e));
	}
	tail_fsync_dir(t->cursor_file);
	snprintf(t->saved, sizeof t->saved, "%s", t->cursor);
	return 0;
}

/* stdout first, then the cursor: a cursor never runs ahead of the output. */
static int tail_checkpoint(struct tail *t)
{
	if (fflush(stdout) != 0) {
		if (errno == EPIPE)
			return -2; /* the reader went away: stop quietly */
		return tail_fail(FEEDCTL_EXIT_ERROR, "writing output: %s%s", strerror(errno), "");
	}
	return tail_cursor_save(t);
}

/* ---------------------------------------------------------------- output */

/* Copies s into out with control characters as spaces. */
static void tail_put_clean(const char *s)
{
	for (; s && *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

static void tail_print_line(const struct cjson *ev)
{
	const struct cjson *feed = cjson_get(ev, "feed"), *item = cjson_get(ev, "item");
	const char *date = cjson_get_str(item, "published");
	const char *ftitle = cjson_get_str(feed, "title");
	const char *title = cjson_get_str(item, "title");
	const char *link = cjson_get_str(item, "link");
	const char *kind = cjson_get_str(ev, "kind");
	if (!date)
		date = cjson_get_str(item, "updated");
	if (date && strlen(date) >= 16)
		printf("%.10s %.5s  ", date, date + 11);
	else
		printf("%-16s  ", "-");
	tail_put_clean(ftitle ? ftitle : cjson_get_str(feed, "url"));
	fputs(": ", stdout);
	tail_put_clean(title ? title : "(untitled)");
	if (link) {
		fputs("  ", stdout);
		tail_put_clean(link);
	}
	if (kind && !strcmp(kind, "update"))
		fputs("  (updated)", stdout);
	putchar('\n');
}

/* ---------------------------------------------------------------- the session */

static int tail_send_sub(struct tail *t, int fd)
{
	struct buf b = {0};
	struct cjson_w w;
	const char *after = t->resume[0] ? t->resume : t->after;
	cjson_w_init(&w, &b);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "op", "sub");
	if (after)
		cjson_w_kstr(&w, "after", after);
	if (t->feeds.len) {
		char *list = strndup(t->feeds.data, t->feeds.len), *save = NULL;
		cjson_w_key(&w, "feeds");
		cjson_w_arr(&w);
		for (char *tok = list ? strtok_r(list, ",", &save) : NULL; tok;
		     tok = strtok_r(NULL, ",", &save))
			cjson_w_int(&w, strtoll(tok, NULL, 10));
		cjson_w_arr_end(&w);
		if (!list)
			w.err = -1;
		free(list);
	}
	cjson_w_obj_end(&w);
	int rc = cjson_w_line(&w) || feedctl_write_all(fd, b.data, b.len) ? -1 : 0;
	buf_free(&b);
	return rc;
}

static int tail_hello(struct feedctl_conn *conn)
{
	char *line;
	size_t len;
	struct cjson v;
	char err[128];
	int r = feedctl_conn_readline(conn, &line, &len);
	if (r <= 0)
		return tail_fail(FEEDCTL_EXIT_ERROR, "protocol error: %s%s",
		                 r == 0 ? "connection closed before hello" : strerror(errno), "");
	if (cjson_parse(line, len, &v, err, sizeof err))
		return tail_fail(FEEDCTL_EXIT_ERROR, "protocol error: hello is not JSON: %s%s", err,
		                 "");
	const char *ev = cjson_get_str(&v, "ev");
	const struct cjson *proto = cjson_get(&v, "proto");
	int rc = 0;
	if (ev && !strcmp(ev, "error")) {
		rc = tail_fail(FEEDCTL_EXIT_ERROR, "feedd error %s: %s", cjson_get_str(&v, "code"),
		               cjson_get_str(&v, "message"));
	} else if (!ev || strcmp(ev, "hello") || !proto || proto->type != CJSON_INT ||
	           proto->u.i != 1) {
		rc = tail_fail(FEEDCTL_EXIT_ERROR,
		               "protocol error: expected hello with proto 1%s%s", "", "");
	}
	cjson_free(&v);
	return rc;
}

/* One event line.  0 to go on, 1 to stop with success, or an exit status + 16. */
static int tail_event(struct tail *t, const char *line, size_t len)
{
	struct cjson v;
	char err[128];
	if (cjson_parse(line, len, &v, err, sizeof err))
		return 16 +
		       tail_fail(FEEDCTL_EXIT_ERROR, "protocol error: not JSON: %s%s", err, "");
	const char *ev = cjson_get_str(&v, "ev");
	int rc = 0;
	if (!ev) {
		rc = 16 + tail_fail(FEEDCTL_EXIT_ERROR, "protocol error: %s%s", "no \"ev\"", "");
	} else if (!strcmp(ev, "item")) {
		const char *cur = cjson_get_str(&v, "cursor");
		if (!cur || strlen(cur) >= sizeof t->cursor) {
			rc = 16 + tail_fail(FEEDCTL_EXIT_ERROR, "protocol error: %s%s",
			                    "item without a cursor", "");
		} else {
			if (t->line_format)
				tail_print_line(&v);
			else
				printf("%.*s\n", (int)len, line);
			snprintf(t->cursor, sizeof t->cursor, "%s", cur);
			if (t->cursor_file) {
				rc = tail_checkpoint(t);
				rc = rc == -2 ? 1 : rc ? 16 + rc : 0;
			}
		}
	} else if (!strcmp(ev, "live")) {
		if (!t->line_format)
			printf("%.*s\n", (int)len, line);
	} else if (!strcmp(ev, "error")) {
		const char *code = cjson_get_str(&v, "code");
		const char *msg = cjson_get_str(&v, "message");
		rc = 16 + tail_fail(FEEDCTL_EXIT_ERROR, "feedd error %s: %s", code ? code : "?",
		                    msg ? msg : "");
	} else if (!strcmp(ev, "shutdown")) {
		rc = 1;
	} /* hb and events of later versions: nothing to do */
	cjson_free(&v);
	return rc;
}

static int tail_loop(struct tail *t, struct feedctl_conn *conn)
{
	for (;;) {
		char *line;
		size_t len;
		if (!feedctl_conn_pending(conn)) {
			int c = tail_checkpoint(t);
			if (c)
				return c == -2 ? FEEDCTL_EXIT_OK : c;
		}
		if (tail_stop)
			return FEEDCTL_EXIT_OK;
		int r = feedctl_conn_readline(conn, &line, &len);
		if (r == 0)
			return FEEDCTL_EXIT_OK;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return tail_fail(FEEDCTL_EXIT_ERROR, "protocol error: %s%s",
			                 errno == EMSGSIZE ? "line too long" : strerror(errno), "");
		r = tail_event(t, line, len);
		if (r == 1)
			return FEEDCTL_EXIT_OK;
		if (r)
			return r - 16;
	}
}

int feedctl_tail(int argc, char **argv)
{
	struct tail t = {0};
	char sockbuf[4096];
	struct sigaction sa = {.sa_handler = tail_on_signal};
	int rc = tail_args(&t, argc, argv);
	if (rc)
		goto out;
	if ((rc = tail_cursor_load(&t)))
		goto out;
	if (!t.socket)
		t.socket = feedctl_sub_socket(sockbuf, sizeof sockbuf);
	int fd = feedctl_connect(t.socket);
	if (fd < 0) {
		rc = tail_fail(FEEDCTL_EXIT_CONNECT, "cannot connect to %s: %s", t.socket,
		               strerror(errno));
		goto out;
	}
	sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: a signal ends the wait */
	sigaction(SIGTERM, &sa, NULL);
	struct feedctl_conn conn;
	feedctl_conn_init(&conn, fd, TAIL_MAX_LINE);
	rc = tail_hello(&conn);
	if (!rc && tail_send_sub(&t, fd))
		rc = tail_fail(FEEDCTL_EXIT_ERROR, "sending sub: %s%s", strerror(errno), "");
	if (!rc)
		rc = tail_loop(&t, &conn);
	int c = tail_checkpoint(&t);
	if (!rc && c > 0)
		rc = c;
	feedctl_conn_free(&conn);
	close(fd);
out:
	buf_free(&t.feeds);
	return rc < 0 ? FEEDCTL_EXIT_OK : rc;
}
