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
	{"run", cmd_run, "[run] [--config PATH] [--db PATH] [--socket PATH] [--control-socket PATH] [-v]\n"
			 "                              run the daemon in the foreground"},
	{"parse", cmd_parse, "parse [--base URL] FILE|-   parse one feed, print JSON"},
	{"poll", cmd_poll, "poll [--db PATH] [--config PATH] [--all]   fetch due feeds once"},
	{"add", cmd_add, "add URL [--title T]         add a feed"},
	{"remove", cmd_remove, "remove ID|URL               remove a feed with its items"},
	{"list", cmd_list, "list                        list feeds: state, last fetch, next poll, error"},
	{"import", cmd_import, "import FILE.opml|-          add the feeds of an OPML file"},
	{"export", cmd_export, "export                      print every feed as OPML 2.0"},
};

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: feedd [COMMAND] [ARGS]   (no command: run the daemon)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof cli_cmds / sizeof cli_cmds[0]; i++)
		fprintf(f, "  feedd %s\n", cli_cmds[i].usage);
}

int feedd_main(int argc, char **argv)
{
	/* No subcommand (options only, as systemd's ExecStart passes them): run the daemon. */
	if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "--help") &&
			 strcmp(argv[1], "-h") && strcmp(argv[1], "--version")))
		return cmd_run(argc, argv);
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
