/* cli.c - feedd's subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct cli_cmd cli_cmds[] = {
	{"parse", cmd_parse, "parse [--base URL] FILE|-   parse one feed, print JSON"},
	{"poll", cmd_poll, "poll [--db PATH] [--config PATH] [--all]   fetch due feeds once"},
};

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: feedd COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof cli_cmds / sizeof cli_cmds[0]; i++)
		fprintf(f, "  feedd %s\n", cli_cmds[i].usage);
}

int feedd_main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cli_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("feedd %s\n", FEEDD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof cli_cmds / sizeof cli_cmds[0]; i++)
		if (!strcmp(argv[1], cli_cmds[i].name))
			return cli_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "feedd: unknown command '%s'\n", argv[1]);
	cli_usage(stderr);
	return 2;
}
