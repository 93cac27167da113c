/*
 * feedctl_ctl.c - feedctl's control commands: one request line to feedd's
 * control socket, one reply line back, printed for a human (or as JSON
 * with --json), with an exit status a script can rely on (feedctl_ctl.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common_json.h"
#include "feedctl.h"
#include "feedctl_ctl.h"

const char feedctl_add_usage[] = "add URL [--title TITLE] [--control-socket PATH]";
const char feedctl_remove_usage[] = "remove ID|URL [--control-socket PATH]";
const char feedctl_list_usage[] = "list [--json] [--control-socket PATH]";
const char feedctl_poll_now_usage[] = "poll-now [ID|URL] [--control-socket PATH]";
const char feedctl_why_usage[] = "why ID|URL [--json] [--control-socket PATH]";
const char feedctl_status_usage[] = "status [--json] [--control-socket PATH]";
const char feedctl_metrics_usage[] = "metrics [--control-socket PATH]";
const char feedctl_export_usage[] = "export [--control-socket PATH]";

/* Error codes of the protocol -> exit statuses. */
static const struct {
	const char *code;
	int exit;
} ctl_exits[] = {
    {"not_found", FEEDCTL_EXIT_NOT_FOUND},
    {"exists", FEEDCTL_EXIT_EXISTS},
    {"invalid", FEEDCTL_EXIT_INVALID},
};

static int ctl_exit_for(const char *code)
{
	for (size_t i = 0; code && i < sizeof ctl_exits / sizeof ctl_exits[0]; i++)
		if (!strcmp(code, ctl_exits[i].code))
			return ctl_exits[i].exit;
	return FEEDCTL_EXIT_ERROR;
}

static const char *ctl_default_path(char *buf, size_t len)
{
	const char *env = getenv("FEEDD_CONTROL_SOCKET");
	const char *rt = getenv("RUNTIME_DIRECTORY");
	struct stat st;
	if (env && *env)
		snprintf(buf, len, "%s", env);
	else if (rt && *rt)
		snprintf(buf, len, "%.*s/control.sock", (int)strcspn(rt, ":"), rt);
	else if (stat("/run/feedd/control.sock", &st) == 0)
		snprintf(buf, len, "/run/feedd/control.sock");
	else
		snprintf(buf, len, "feedd-control.sock");
	return buf;
}

int feedctl_ctl_usage(const struct feedctl_ctl *c)
{
	fprintf(stderr, "usage: feedctl %s\n", c->usage);
	return FEEDCTL_EXIT_USAGE;
}

enum { CTL_OPT_SOCKET = 1000, CTL_OPT_TITLE, CTL_OPT_JSON };

/* Parses the options; the operands must number between min and max. */
int feedctl_ctl_options(struct feedctl_ctl *c, int argc, char **argv, int min, int max)
{
	static const struct option opts[] = {
	    {"control-socket", required_argument, NULL, CTL_OPT_SOCKET},
	    {"title", required_argument, NULL, CTL_OPT_TITLE},
	    {"json", no_argument, NULL, CTL_OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	optind = 0;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case CTL_OPT_SOCKET:
			c->path = optarg;
			break;
		case CTL_OPT_TITLE:
			if (strcmp(c->name, "add"))
				return -1;
			c->title = optarg;
			break;
		case CTL_OPT_JSON:
			c->json = true;
			break;
		default:
			return -1;
		}
	}
	c->args = argv + optind;
	c->nargs = argc - optind;
	if (c->nargs < min || c->nargs > max)
		return -1;
	if (!c->path)
		c->path = ctl_default_path(c->pathbuf, sizeof c->pathbuf);
	return 0;
}

int feedctl_ctl_connect(struct feedctl_ctl *c)
{
	c->fd = feedctl_connect(c->path);
	if (c->fd < 0) {
		fprintf(stderr, "feedctl: %s: cannot connect to %s: %s\n", c->name, c->path,
		        strerror(errno));
		return -1;
	}
	feedctl_conn_init(&c->conn, c->fd, FEEDCTL_CTL_REPLY_MAX);
	return 0;
}

static void ctl_close(struct feedctl_ctl *c)
{
	cjson_free(&c->reply);
	if (c->fd >= 0) {
		feedctl_conn_free(&c->conn);
		close(c->fd);
	}
	c->fd = -1;
}

/*
 * Sends the request in b (one JSON object without LF) and reads the reply
 * into c->reply.  Returns 0 when feedd said ok, else the exit status (and
 * prints why, unless quiet).
 */
int feedctl_ctl_request(struct feedctl_ctl *c, struct buf *b, bool quiet)
{
	cjson_free(&c->reply);
	char *line;
	size_t len;
	char err[256];
	if (buf_puts(b, "\n") < 0 || feedctl_write_all(c->fd, b->data, b->len) < 0) {
		fprintf(stderr, "feedctl: %s: sending to %s: %s\n", c->name, c->path,
		        strerror(errno));
		return FEEDCTL_EXIT_ERROR;
	}
	int r = feedctl_conn_readline(&c->conn, &line, &len);
	if (r <= 0) {
		fprintf(stderr, "feedctl: %s: %s\n", c->name,
		        r == 0 ? "feedd closed the connection" : strerror(errno));
		return FEEDCTL_EXIT_ERROR;
	}
	if (cjson_parse(line, len, &c->reply, err, sizeof err) < 0 || c->reply.type != CJSON_OBJ) {
		fprintf(stderr, "feedctl: %s: bad reply from feedd: %s\n", c->name, err);
		return FEEDCTL_EXIT_ERROR;
	}
	const struct cjson *ok = cjson_get(&c->reply, "ok");
	if (ok && ok->type == CJSON_BOOL && ok->u.b)
		return 0;
	const char *code = cjson_get_str(&c->reply, "code");
	const char *msg = cjson_get_str(&c->reply, "message");
	if (!quiet)
		fprintf(stderr, "feedctl: %s: %s (%s)\n", c->name, msg ? msg : "failed",
		        code ? code : "error");
	return ctl_exit_for(code);
}

/* Writes {"op":OP[,"feed":REF]} into b; REF a number when it is all digits. */
static void ctl_req_feed(struct buf *b, const char *op, const char *ref)
{
	struct cjson_w w;
	cjson_w_init(&w, b);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "op", op);
	if (ref) {
		char *end;
		errno = 0;
		long long id = strtoll(ref, &end, 10);
		if (*ref && !*end && !errno && id > 0)
			cjson_w_kint(&w, "feed", id);
		else
			cjson_w_kstr(&w, "feed", ref);
	}
	cjson_w_obj_end(&w);
}

/* Connects, sends a simple request, gets the reply.  0 or the exit status. */
static int ctl_simple(struct feedctl_ctl *c, const char *op, const char *ref)
{
	if (feedctl_ctl_connect(c) < 0)
		return FEEDCTL_EXIT_CONNECT;
	struct buf b = {0};
	ctl_req_feed(&b, op, ref);
	int rc = feedctl_ctl_request(c, &b, false);
	buf_free(&b);
	return rc;
}

static int ctl_print_raw(const struct cjson *v)
{
	fwrite(v->raw, 1, v->rawlen, stdout);
	putchar('\n');
	return 0;
}

/* Prints a string member as it is (metrics text, OPML). */
static int ctl_print_str(struct feedctl_ctl *c, const char *key)
{
	const char *s = cjson_get_str(&c->reply, key);
	if (!s) {
		fprintf(stderr, "feedctl: %s: reply without \"%s\"\n", c->name, key);
		return FEEDCTL_EXIT_ERROR;
	}
	fputs(s, stdout);
	return 0;
}

int feedctl_ctl_finish(struct feedctl_ctl *c, int rc)
{
	ctl_close(c);
	if (rc == 0 && (fflush(stdout) || ferror(stdout))) {
		fprintf(stderr, "feedctl: %s: writing output: %s\n", c->name, strerror(errno));
		rc = FEEDCTL_EXIT_ERROR;
	}
	return rc;
}

/* ---------------------------------------------------------------- commands */

int feedctl_add(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("add", feedctl_add_usage);
	if (feedctl_ctl_options(&c, argc, argv, 1, 1) < 0)
		return feedctl_ctl_usage(&c);
	if (feedctl_ctl_connect(&c) < 0)
		return FEEDCTL_EXIT_CONNECT;
	struct buf b = {0};
	struct cjson_w w;
	cjson_w_init(&w, &b);
	cjson_w_obj(&w);
	cjson_w_kstr(&w, "op", "add");
	cjson_w_kstr(&w, "url", c.args[0]);
	if (c.title)
		cjson_w_kstr(&w, "title", c.title);
	cjson_w_obj_end(&w);
	int rc = feedctl_ctl_request(&c, &b, false);
	buf_free(&b);
	const struct cjson *f = rc ? NULL : cjson_get(&c.reply, "feed");
	const struct cjson *id = f ? cjson_get(f, "id") : NULL;
	if (id && id->type == CJSON_INT)
		printf("%" PRId64 "\n", id->u.i);
	return feedctl_ctl_finish(&c, rc);
}

int feedctl_remove(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("remove", feedctl_remove_usage);
	if (feedctl_ctl_options(&c, argc, argv, 1, 1) < 0)
		return feedctl_ctl_usage(&c);
	int rc = ctl_simple(&c, "remove", c.args[0]);
	const struct cjson *id = rc ? NULL : cjson_get(&c.reply, "removed");
	if (id && id->type == CJSON_INT)
		printf("removed %" PRId64 "\n", id->u.i);
	return feedctl_ctl_finish(&c, rc);
}

static const char *ctl_s(const struct cjson *o, const char *key, const char *dflt)
{
	const char *s = cjson_get_str(o, key);
	return s ? s : dflt;
}

static void ctl_list_line(const struct cjson *f)
{
	const struct cjson *id = cjson_get(f, "id");
	const char *title = cjson_get_str(f, "title");
	printf("%-5" PRId64 " %-8s %-20s %-20s %s%s%s%s\n",
	       id && id->type == CJSON_INT ? id->u.i : 0, ctl_s(f, "state", "?"),
	       ctl_s(f, "last_fetch", "-"),
	       cjson_get(f, "disabled_reason") ? "-" : ctl_s(f, "next_poll", "asap"),
	       ctl_s(f, "url", "?"), title ? " (" : "", title ? title : "", title ? ")" : "");
	if (cjson_get_str(f, "disabled_reason"))
		printf("      disabled: %s\n", cjson_get_str(f, "disabled_reason"));
	if (cjson_get_str(f, "last_error"))
		printf("      error: %s\n", cjson_get_str(f, "last_error"));
	if (cjson_get_str(f, "warning"))
		printf("      warning: %s\n", cjson_get_str(f, "warning"));
}

int feedctl_list(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("list", feedctl_list_usage);
	if (feedctl_ctl_options(&c, argc, argv, 0, 0) < 0)
		return feedctl_ctl_usage(&c);
	int rc = ctl_simple(&c, "list", NULL);
	const struct cjson *feeds = rc ? NULL : cjson_get(&c.reply, "feeds");
	if (!rc && (!feeds || feeds->type != CJSON_ARR)) {
		fprintf(stderr, "feedctl: list: reply without \"feeds\"\n");
		rc = FEEDCTL_EXIT_ERROR;
	} else if (!rc && c.json) {
		ctl_print_raw(feeds);
	} else if (!rc) {
		printf("%-5s %-8s %-20s %-20s %s\n", "ID", "STATE", "LAST FETCH", "NEXT POLL",
		       "URL (TITLE)");
		for (size_t i = 0; i < feeds->u.arr.n; i++)
			ctl_list_line(&feeds->u.arr.v[i]);
	}
	return feedctl_ctl_finish(&c, rc);
}

int feedctl_poll_now(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("poll-now", feedctl_poll_now_usage);
	if (feedctl_ctl_options(&c, argc, argv, 0, 1) < 0)
		return feedctl_ctl_usage(&c);
	int rc = ctl_simple(&c, "poll-now", c.nargs ? c.args[0] : NULL);
	const struct cjson *n = rc ? NULL : cjson_get(&c.reply, "scheduled");
	if (n && n->type == CJSON_INT)
		printf("%" PRId64 " feed%s scheduled now\n", n->u.i, n->u.i == 1 ? "" : "s");
	return feedctl_ctl_finish(&c, rc);
}

/* "1h 5m 3s" */
static void ctl_duration(int64_t s, char *out, size_t len)
{
	int64_t h = s / 3600, m = s / 60 % 60, sec = s % 60;
	if (h)
		snprintf(out, len, "%" PRId64 "h %" PRId64 "m", h, m);
	else if (m)
		snprintf(out, len, "%" PRId64 "m %" PRId64 "s", m, sec);
	else
		snprintf(out, len, "%" PRId64 "s", sec);
}

int feedctl_why(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("why", feedctl_why_usage);
	if (feedctl_ctl_options(&c, argc, argv, 1, 1) < 0)
		return feedctl_ctl_usage(&c);
	int rc = ctl_simple(&c, "why", c.args[0]);
	if (!rc && c.json) {
		ctl_print_raw(&c.reply);
	} else if (!rc) {
		const struct cjson *r = &c.reply, *in = cjson_get(r, "in"),
		                   *id = cjson_get(r, "feed");
		printf("feed %" PRId64 " %s\n", id && id->type == CJSON_INT ? id->u.i : 0,
		       ctl_s(r, "url", "?"));
		if (!strcmp(ctl_s(r, "state", ""), "disabled")) {
			printf("  disabled, not polled: %s\n", ctl_s(r, "reason", "?"));
		} else {
			char d[64] = "now";
			if (in && in->type == CJSON_INT && in->u.i > 0)
				ctl_duration(in->u.i, d, sizeof d);
			printf("  next poll %s (%s%s), set by: %s\n", ctl_s(r, "next_poll", "?"),
			       strcmp(d, "now") ? "in " : "", d, ctl_s(r, "reason", "?"));
		}
		if (cjson_get_str(r, "last_error"))
			printf("  last error: %s\n", cjson_get_str(r, "last_error"));
		if (cjson_get_str(r, "warning"))
			printf("  warning: %s\n", cjson_get_str(r, "warning"));
	}
	return feedctl_ctl_finish(&c, rc);
}

int feedctl_status(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("status", feedctl_status_usage);
	if (feedctl_ctl_options(&c, argc, argv, 0, 0) < 0)
		return feedctl_ctl_usage(&c);
	int rc = ctl_simple(&c, "status", NULL);
	if (!rc && c.json) {
		ctl_print_raw(&c.reply);
	} else if (!rc) {
		for (size_t i = 0; i < c.reply.u.obj.n; i++) {
			const struct cjson_member *m = &c.reply.u.obj.m[i];
			if (!strcmp(m->key, "ok") || !strcmp(m->key, "id"))
				continue;
			if (m->v.type == CJSON_STR)
				printf("%-18s %s\n", m->key, m->v.u.str.s);
			else
				printf("%-18s %.*s\n", m->key, (int)m->v.rawlen, m->v.raw);
		}
	}
	return feedctl_ctl_finish(&c, rc);
}

int feedctl_metrics(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("metrics", feedctl_metrics_usage);
	if (feedctl_ctl_options(&c, argc, argv, 0, 0) < 0)
		return feedctl_ctl_usage(&c);
	int rc = ctl_simple(&c, "metrics", NULL);
	if (!rc)
		rc = ctl_print_str(&c, "text");
	return feedctl_ctl_finish(&c, rc);
}

int feedctl_export(int argc, char **argv)
{
	struct feedctl_ctl c = FEEDCTL_CTL_INIT("export", feedctl_export_usage);
	if (feedctl_ctl_options(&c, argc, argv, 0, 0) < 0)
		return feedctl_ctl_usage(&c);
	int rc = ctl_simple(&c, "export", NULL);
	if (!rc)
		rc = ctl_print_str(&c, "opml");
	return feedctl_ctl_finish(&c, rc);
}
