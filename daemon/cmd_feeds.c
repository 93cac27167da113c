/*
 * cmd_feeds.c - managing feeds without a daemon: `feedd add`, `remove`,
 * `list`, `import`, `export`.  They open the store directly (SQLite's
 * locking makes that safe next to a running daemon, which picks the
 * changes up at its next schedule check) and go through feeds.c, the same
 * code the control socket uses.
 *
 * Exit status: 0 done, 1 failed (store, I/O), 2 usage, 3 no such feed,
 * 4 feed already exists, 5 invalid URL or document.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_feeds.h"
#include "daemon.h"

enum { CMD_OPT_DB = 1000, CMD_OPT_CONFIG, CMD_OPT_TITLE };

static const struct option cmd_feeds_opts[] = {
    {"db", required_argument, NULL, CMD_OPT_DB},
    {"config", required_argument, NULL, CMD_OPT_CONFIG},
    {"title", required_argument, NULL, CMD_OPT_TITLE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The same numbers as feedctl's (whose 3 is "cannot connect"), so that a
 * script handles both alike. */
const int cmd_feeds_exit[] = {
    [FEEDS_OK] = 0,         [FEEDS_ERR_INVALID] = 6,
    [FEEDS_ERR_EXISTS] = 5, [FEEDS_ERR_NOT_FOUND] = 4,
    [FEEDS_ERR_STORE] = 1,
};

int cmd_feeds_usage(const char *name, const char *usage)
{
	fprintf(stderr, "usage: feedd %s %s [--db PATH] [--config PATH]\n", name, usage);
	return 2;
}

/* Parses options; returns the index of the first operand, or -1 on a usage error. */
int cmd_feeds_options(struct cmd_feeds_ctx *x, int argc, char **argv, bool title_ok)
{
	optind = 0;
	opterr = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", cmd_feeds_opts, NULL)) != -1) {
		switch (c) {
		case CMD_OPT_DB:
			x->args.database = optarg;
			break;
		case CMD_OPT_CONFIG:
			x->args.config_path = optarg;
			break;
		case CMD_OPT_TITLE:
			if (!title_ok)
				return -1;
			x->title = optarg;
			break;
		default:
			return -1;
		}
	}
	return optind;
}

/* Loads the config and opens the store; prints why not. */
int cmd_feeds_open(struct cmd_feeds_ctx *x)
{
	char err[1024];
	if (daemon_config_load(&x->cfg, &x->args, err, sizeof err) < 0) {
		fprintf(stderr, "feedd %s: %s\n", x->name, err);
		return -1;
	}
	struct store_opts so;
	store_opts_default(&so);
	so.busy_timeout_ms = (int)(x->cfg.busy_timeout * 1000);
	if (store_open(x->cfg.database, &so, &x->store) != STORE_OK) {
		fprintf(stderr, "feedd %s: %s: %s\n", x->name, x->cfg.database,
		        store_errmsg(x->store));
		store_close(x->store);
		x->store = NULL;
		config_free(&x->cfg);
		return -1;
	}
	return 0;
}

void cmd_feeds_close(struct cmd_feeds_ctx *x)
{
	store_close(x->store);
	config_free(&x->cfg);
}

int cmd_feeds_fail(struct cmd_feeds_ctx *x, enum feeds_err e, const char *err)
{
	fprintf(stderr, "feedd %s: %s\n", x->name, err);
	return cmd_feeds_exit[e];
}

static int cmd_feeds_write(const struct buf *b)
{
	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
		return 1;
	return fflush(stdout) ? 1 : 0;
}

int cmd_add(int argc, char **argv)
{
	struct cmd_feeds_ctx x = {.name = "add"};
	int i = cmd_feeds_options(&x, argc, argv, true);
	if (i < 0 || argc - i != 1)
		return cmd_feeds_usage(x.name, "URL [--title TITLE]");
	if (cmd_feeds_open(&x) < 0)
		return 1;
	const char *url = argv[i];
	const struct config_feed *cf = config_feed_find(&x.cfg, url);
	struct feeds_add a = {
	    .url = url,
	    .title = x.title ? x.title : (cf ? cf->title : NULL),
	    .allow_private = config_feed_allow_private(&x.cfg, url),
	    .interval = cf ? cf->interval : 0,
	    .allow_file = x.cfg.allow_file,
	};
	char err[1024];
	int64_t id = 0;
	enum feeds_err e = feeds_add(x.store, &a, (int64_t)time(NULL), &id, err, sizeof err);
	int rc = e == FEEDS_OK ? 0 : cmd_feeds_fail(&x, e, err);
	if (e == FEEDS_OK)
		printf("%" PRId64 "\n", id);
	cmd_feeds_close(&x);
	return rc;
}

int cmd_remove(int argc, char **argv)
{
	struct cmd_feeds_ctx x = {.name = "remove"};
	int i = cmd_feeds_options(&x, argc, argv, false);
	if (i < 0 || argc - i != 1)
		return cmd_feeds_usage(x.name, "ID|URL");
	if (cmd_feeds_open(&x) < 0)
		return 1;
	char err[1024];
	int64_t id = 0;
	enum feeds_err e = feeds_remove(x.store, argv[i], &id, err, sizeof err);
	int rc = e == FEEDS_OK ? 0 : cmd_feeds_fail(&x, e, err);
	if (e == FEEDS_OK)
		printf("removed %" PRId64 "\n", id);
	cmd_feeds_close(&x);
	return rc;
}

int cmd_list(int argc, char **argv)
{
	struct cmd_feeds_ctx x = {.name = "list"};
	int i = cmd_feeds_options(&x, argc, argv, false);
	if (i < 0 || argc - i != 0)
		return cmd_feeds_usage(x.name, "");
	if (cmd_feeds_open(&x) < 0)
		return 1;
	char err[1024];
	struct buf b = {0};
	enum feeds_err e = feeds_list_text(x.store, &b, err, sizeof err);
	int rc = e == FEEDS_OK ? cmd_feeds_write(&b) : cmd_feeds_fail(&x, e, err);
	buf_free(&b);
	cmd_feeds_close(&x);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct cmd_feeds_ctx x = {.name = "export"};
	int i = cmd_feeds_options(&x, argc, argv, false);
	if (i < 0 || argc - i != 0)
		return cmd_feeds_usage(x.name, "");
	if (cmd_feeds_open(&x) < 0)
		return 1;
	char err[1024];
	struct buf b = {0};
	enum feeds_err e = feeds_export(x.store, &b, (int64_t)time(NULL), err, sizeof err);
	int rc = e == FEEDS_OK ? cmd_feeds_write(&b) : cmd_feeds_fail(&x, e, err);
	buf_free(&b);
	cmd_feeds_close(&x);
	return rc;
}
