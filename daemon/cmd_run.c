/*
 * cmd_run.c - `feedd [run] [--config PATH] [--db PATH] [--socket PATH]
 * [--control-socket PATH] [-v]`: the daemon in the foreground (no fork,
 * no PID file; systemd or a terminal supervises it).
 *
 * Defaults come from the config, whose own defaults follow
 * $STATE_DIRECTORY (database), $RUNTIME_DIRECTORY (sockets) and
 * $CONFIGURATION_DIRECTORY (feedd.conf) when systemd sets them.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "daemon.h"

enum { RUN_OPT_CONFIG = 1000, RUN_OPT_DB, RUN_OPT_SOCKET, RUN_OPT_CONTROL };

static const struct option cmd_run_opts[] = {
    {"config", required_argument, NULL, RUN_OPT_CONFIG},
    {"db", required_argument, NULL, RUN_OPT_DB},
    {"socket", required_argument, NULL, RUN_OPT_SOCKET},
    {"control-socket", required_argument, NULL, RUN_OPT_CONTROL},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int cmd_run_usage(FILE *f, int rc)
{
	fprintf(f, "usage: feedd [run] [--config PATH] [--db PATH] [--socket PATH]\n"
	           "             [--control-socket PATH] [-v]\n");
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct daemon_args a = {0};
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, "vh", cmd_run_opts, NULL)) != -1) {
		switch (c) {
		case RUN_OPT_CONFIG:
			a.config_path = optarg;
			break;
		case RUN_OPT_DB:
			a.database = optarg;
			break;
		case RUN_OPT_SOCKET:
			a.socket = optarg;
			break;
		case RUN_OPT_CONTROL:
			a.control_socket = optarg;
			break;
		case 'v':
			a.verbose = true;
			break;
		case 'h':
			return cmd_run_usage(stdout, 0);
		default:
			return cmd_run_usage(stderr, 2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "feedd: unexpected argument '%s'\n", argv[optind]);
		return cmd_run_usage(stderr, 2);
	}
	return daemon_run(&a);
}
