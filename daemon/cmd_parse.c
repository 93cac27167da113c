/*
 * cmd_parse.c - `feedd parse [--base URL] FILE|-`: parses one feed and
 * prints exactly one JSON object (see DESIGN.md for the contract).
 *
 * Items are written as the parser delivers them, so memory stays flat
 * whatever the document's size: the object is printed in the order
 * {"format", "items": [...], "feed", "wellformed", "error"}.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "feed.h"

#define CMD_PARSE_CHUNK (256 * 1024)
#define CMD_PARSE_OUT_BUF (128 * 1024)

struct cmd_parse_out {
	struct parse *p;
	struct buf b;
	size_t nitems;
	bool opened; /* the object and its items array are open */
};

static int cmd_parse_flush(struct cmd_parse_out *o)
{
	if (o->b.len && fwrite(o->b.data, 1, o->b.len, stdout) != o->b.len)
		return -1;
	o->b.len = 0;
	return 0;
}

static int cmd_parse_open(struct cmd_parse_out *o, enum feed_format f)
{
	if (o->opened)
		return 0;
	o->opened = true;
	return buf_puts(&o->b, "{\"format\":\"") || buf_puts(&o->b, feed_format_name(f)) ||
	       buf_puts(&o->b, "\",\"items\":[");
}

static int cmd_parse_item(void *ud, const struct feed_item *it)
{
	struct cmd_parse_out *o = ud;
	const size_t *len = parse_item_lengths(o->p, it);
	if (cmd_parse_open(o, parse_format(o->p)) || (o->nitems && buf_append(&o->b, ",", 1)) ||
	    (len ? json_item_len(&o->b, it, len) : json_item(&o->b, it)))
		return -1;
	o->nitems++;
	if (o->b.len >= CMD_PARSE_OUT_BUF)
		return cmd_parse_flush(o);
	return 0;
}

/* Closes the object: feed, wellformed, error. */
static int cmd_parse_close(struct cmd_parse_out *o, enum feed_format f, const struct feed_meta *m,
			   bool wellformed, const char *error)
{
	static const struct feed_meta none = {.updated = FEED_NO_DATE};
	if (cmd_parse_open(o, f) || buf_puts(&o->b, "],\"feed\":") || json_meta(&o->b, m ? m : &none) ||
	    buf_puts(&o->b, wellformed ? ",\"wellformed\":true" : ",\"wellformed\":false"))
		return -1;
	if (!wellformed && error &&
	    (buf_puts(&o->b, ",\"error\":") || json_str(&o->b, error, strlen(error))))
		return -1;
	if (buf_puts(&o->b, "}\n") || cmd_parse_flush(o) || fflush(stdout))
		return -1;
	return 0;
}

static void cmd_parse_usage(void)
{
	fprintf(stderr, "usage: feedd parse [--base URL] FILE|-\n");
}

/* One line on stderr: newlines in the message would break it. */
static void cmd_parse_errline(const char *file, const char *msg)
{
	fprintf(stderr, "feedd parse: %s: ", file);
	for (const char *s = msg; *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, stderr);
	fputc('\n', stderr);
}

static int cmd_parse_args(int argc, char **argv, const char **base, const char **file)
{
	*base = NULL;
	*file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--base")) {
			if (++i >= argc)
				return -1;
			*base = argv[i];
		} else if (!strncmp(argv[i], "--base=", 7)) {
			*base = argv[i] + 7;
		} else if (!strcmp(argv[i], "--")) {
			if (i + 2 != argc || *file)
				return -1;
			*file = argv[i + 1];
			break;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return -1;
		} else if (*file) {
			return -1;
		} else {
			*file = argv[i];
		}
	}
	return *file ? 0 : -1;
}

int cmd_parse(int argc, char **argv)
{
	const char *base, *file;
	if (cmd_parse_args(argc, argv, &base, &file)) {
		cmd_parse_usage();
		return 2;
	}
	/* All output goes through our own 1 MiB buffer (struct cmd_parse_out),
	 * written with one fwrite per MiB: stdio must not copy it again. */
	setvbuf(stdout, NULL, _IONBF, 0);

	struct cmd_parse_out o = {0};
	bool is_stdin = !strcmp(file, "-");
	int fd = is_stdin ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		char msg[512];
		snprintf(msg, sizeof msg, "cannot open %s: %s", file, strerror(errno));
		cmd_parse_close(&o, FEED_FORMAT_UNKNOWN, NULL, false, msg);
		cmd_parse_errline(file, strerror(errno));
		buf_free(&o.b);
		return 2;
	}

	struct parse_opts opts = {.base_url = base};
	parse_limits_default(&opts.limits);
	o.p = parse_new(&opts, cmd_parse_item, &o);
	if (!o.p) {
		fprintf(stderr, "feedd parse: out of memory\n");
		if (!is_stdin)
			close(fd);
		return 1;
	}
	/* read(2) straight into the parser's input buffer (expat's own while
	 * the document is plain UTF-8): no copy between the kernel and expat */
	bool read_err = false;
	for (;;) {
		void *room = parse_buffer(o.p, CMD_PARSE_CHUNK);
		if (!room)
			break;
		ssize_t n = read(fd, room, CMD_PARSE_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			read_err = true;
		if (n <= 0 || parse_buffer_done(o.p, (size_t)n))
			break;
	}
	if (!is_stdin)
		close(fd);

	int ok = parse_finish(o.p);
	bool wf = parse_wellformed(o.p);
	const char *err = parse_error(o.p);
	if (read_err) {
		wf = false;
		err = "read error";
	}
	if (!wf && !err)
		err = "not well-formed";
	int w = cmd_parse_close(&o, parse_format(o.p), parse_meta(o.p), wf, err);
	int status = 0;
	if (read_err) {
		cmd_parse_errline(file, "read error");
		status = 2;
	} else if (ok) {
		cmd_parse_errline(file, err);
		status = 1;
	} else if (w) {
		fprintf(stderr, "feedd parse: write error: %s\n", strerror(errno));
		status = 1;
	}
	parse_free(o.p);
	buf_free(&o.b);
	return status;
}
