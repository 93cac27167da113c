/*
 * cmd_feeds.h - what the feed-management subcommands share
 * (daemon/cmd_feeds.c, daemon/cmd_import.c): options, opening the config
 * and the store, errors and exit statuses.
 */
#ifndef FEEDD_CMD_FEEDS_H
#define FEEDD_CMD_FEEDS_H

#include <stdbool.h>

#include "config.h"
#include "daemon.h"
#include "feeds.h"
#include "store.h"

struct cmd_feeds_ctx {
	const char *name; /* subcommand, for messages */
	struct daemon_args args;
	const char *title;
	struct config cfg;
	struct store *store;
};

/* Exit status per feeds_err: 0 done, 1 store, 3 not found, 4 exists, 5 invalid. */
extern const int cmd_feeds_exit[];

/* Prints "usage: feedd NAME USAGE [--db PATH] [--config PATH]"; returns 2. */
int cmd_feeds_usage(const char *name, const char *usage);
/* Parses --db, --config (and --title when title_ok); the first operand's index, or -1. */
int cmd_feeds_options(struct cmd_feeds_ctx *x, int argc, char **argv, bool title_ok);
/* Loads the config and opens the store; prints why not and returns -1. */
int cmd_feeds_open(struct cmd_feeds_ctx *x);
void cmd_feeds_close(struct cmd_feeds_ctx *x);
/* Prints "feedd NAME: err"; returns the exit status for e. */
int cmd_feeds_fail(struct cmd_feeds_ctx *x, enum feeds_err e, const char *err);

#endif
