/*
 * testutil.h - helpers shared by the Check test programs: files, temporary
 * directories, running a program and capturing what it printed.
 */
#ifndef FEEDD_TESTUTIL_H
#define FEEDD_TESTUTIL_H

#include <stddef.h>

/* Reads a whole file; returns a NUL-terminated malloc'd buffer (abort on error). */
char *tu_read_file(const char *path, size_t *len);
/* Path of a fixture: FIXTURES "/" name, in a static buffer rotated over 8 slots. */
const char *tu_fixture(const char *name);
/* Creates a fresh temporary directory; returns its malloc'd path. */
char *tu_tmpdir(void);
/* Removes a directory tree (rm -rf). */
void tu_rmtree(const char *path);
/* Descriptors this process has open now. */
int tu_open_fds(void);

struct tu_run {
	int status;	/* exit status, or 128+signal */
	char *out;	/* stdout, NUL-terminated, malloc'd */
	size_t outlen;
	char *err;	/* stderr, NUL-terminated, malloc'd */
	size_t errlen;
};
/* Runs argv (argv[0] a path) with stdin from in (NULL: /dev/null); waits for it. */
void tu_run(struct tu_run *r, char *const argv[], const char *in, size_t inlen);
void tu_run_free(struct tu_run *r);

#endif
