/* main.c - feedd's entry point; everything else lives in the daemon library. */
#include "cli.h"

int main(int argc, char **argv)
{
	return feedd_main(argc, argv);
}
