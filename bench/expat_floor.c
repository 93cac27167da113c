/*
 * expat_floor.c - the speed floor for bench/parse: runs expat (namespace
 * mode, as feedd does) over a file with empty callbacks, fed in 64 KiB
 * chunks like a network transfer.  Prints nothing but errors.
 *
 * usage: bench_expat_floor FILE
 */
#include <expat.h>
#include <stdio.h>

static void XMLCALL floor_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)ud, (void)name, (void)atts;
}

static void XMLCALL floor_end(void *ud, const XML_Char *name)
{
	(void)ud, (void)name;
}

static void XMLCALL floor_text(void *ud, const XML_Char *s, int len)
{
	(void)ud, (void)s, (void)len;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	XML_Parser p = XML_ParserCreateNS(NULL, '\x01');
	XML_SetElementHandler(p, floor_start, floor_end);
	XML_SetCharacterDataHandler(p, floor_text);
	static char chunk[1 << 16];
	size_t n;
	int rc = 0;
	do {
		n = fread(chunk, 1, sizeof chunk, f);
		if (XML_Parse(p, chunk, (int)n, n == 0) == XML_STATUS_ERROR) {
			fprintf(stderr, "line %lu: %s\n", (unsigned long)XML_GetCurrentLineNumber(p),
				XML_ErrorString(XML_GetErrorCode(p)));
			rc = 1;
			break;
		}
	} while (n > 0);
	XML_ParserFree(p);
	fclose(f);
	return rc;
}
