// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd's log.  One line per message on stderr: "pvlockd: LEVEL: ..."
 * on a terminal, "<PRIO>..." under systemd (JOURNAL_STREAM set), which
 * journald turns into the message's priority.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "pvlockd_log.h"

enum log_level pvlockd_log_level = LOG_INFO;

void pvlockd_log(enum log_level lvl, const char *fmt, ...)
{
	/* syslog priorities, understood by journald on a stream connection */
	static const int prio[] = { 3, 4, 6, 7 };
	static const char *name[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (lvl > pvlockd_log_level)
		return;
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>", prio[lvl]);
	else
		fprintf(stderr, "pvlockd: %s: ", name[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
