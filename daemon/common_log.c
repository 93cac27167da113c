/* common_log.c - one line per event on stderr with a syslog priority prefix. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "common_log.h"

static int log_level = LOG_PRIO_INFO;

void log_set_level(int level)
{
	if (level < LOG_PRIO_ERR)
		level = LOG_PRIO_ERR;
	if (level > LOG_PRIO_DEBUG)
		level = LOG_PRIO_DEBUG;
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

/* Replaces control characters by spaces so that the message stays one line. */
static void log_flatten(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
}

void log_msg(int prio, const char *fmt, ...)
{
	if (prio > log_level)
		return;
	int saved = errno;
	char line[LOG_LINE_MAX];
	int head = snprintf(line, sizeof line, "<%d>", prio);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line + head, sizeof line - (size_t)head - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	size_t len = (size_t)head + (size_t)n;
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	log_flatten(line + head, len - (size_t)head);
	line[len++] = '\n';
	ssize_t w;
	do
		w = write(STDERR_FILENO, line, len);
	while (w < 0 && errno == EINTR);
	errno = saved;
}
