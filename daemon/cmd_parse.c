/* cmd_parse.c - feedd parse: placeholder until the parser lands (issue 2). */
#include <stdio.h>

#include "cli.h"

int cmd_parse(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "feedd parse: not built yet\n");
	return 1;
}
