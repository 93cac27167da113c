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

/* feedd [run] [--config PATH] [--db PATH] [--socket PATH] [--control-socket PATH] [-v]
 * (daemon/cmd_run.c) */
int cmd_run(int argc, char **argv);

/* feedd add|remove|list|import|export (daemon/cmd_feeds.c) */
int cmd_add(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_import(int argc, char **argv); /* daemon/cmd_import.c */
int cmd_export(int argc, char **argv);

#endif
