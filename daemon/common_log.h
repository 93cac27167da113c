/*
 * common_log.h - logging of feedd and feedctl: one line per event on
 * stderr, prefixed with its syslog priority ("<3>" error, "<4>" warning,
 * "<6>" info, "<7>" debug) so that journald keeps the severities when it
 * runs the daemon, and a human still reads the line in a terminal.
 *
 * A message never spans lines: newlines and other control characters in
 * it are replaced by spaces, and it is cut at LOG_LINE_MAX bytes.  Each
 * line goes out in one write(2), so lines from several processes sharing
 * stderr do not interleave.
 *
 * The threshold is the one piece of process-wide state in feedd: logging
 * is called from everywhere, and threading a handle through every call
 * would buy nothing (there is one stderr per process).
 */
#ifndef FEEDD_COMMON_LOG_H
#define FEEDD_COMMON_LOG_H

#define LOG_PRIO_ERR 3
#define LOG_PRIO_WARNING 4
#define LOG_PRIO_NOTICE 5
#define LOG_PRIO_INFO 6
#define LOG_PRIO_DEBUG 7

/* Longest line written, prefix and newline included; longer messages are cut. */
#define LOG_LINE_MAX 2048

/* Messages with a priority above level (a LOG_PRIO_*) are dropped.  Default: info. */
void log_set_level(int level);
int log_get_level(void);

/* Writes one line "<prio>message\n" to stderr when prio <= the level. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_PRIO_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_PRIO_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_PRIO_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_PRIO_DEBUG, __VA_ARGS__)

#endif
