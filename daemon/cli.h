/*
 * cli.h - feedd's command line: one function per subcommand.
 * Each returns the process exit status.
 */
#ifndef FEEDD_CLI_H
#define FEEDD_CLI_H

int feedd_main(int argc, char **argv);

/* feedd parse [--base URL] FILE|-   (daemon/cmd_parse.c) */
int cmd_parse(int argc, char **argv);

/* feedd poll [--db PATH] [--config PATH] [--all]   (daemon/cmd_poll.c) */
int cmd_poll(int argc, char **argv);

#endif
