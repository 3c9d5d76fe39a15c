/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What pvlockd reads in QMP's replies.  Pure functions on one reply line
 * (no I/O), so unit tests link them alone.
 */
#ifndef __PVLOCKD_QMP_PARSE_H
#define __PVLOCKD_QMP_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* What a line from QEMU is, tested in this order. */
enum qmp_line {
	QMP_LINE_EVENT,		/* an asynchronous event: skip it */
	QMP_LINE_RETURN,	/* the command's success reply */
	QMP_LINE_ERROR,		/* the command's error reply */
	QMP_LINE_OTHER,		/* none of these: skip it */
};

enum qmp_line qmp_line_kind(const char *line);

/* Is @line QEMU's greeting (the first line on a QMP socket)? */
bool qmp_is_greeting(const char *line);

/*
 * Parse a query-cpus-fast "return" reply: @tids[cpu-index] = thread-id
 * for each vCPU, the rest of @tids[0..@max) zero.  Returns the number of
 * vCPUs, or -EINVAL for a reply without them, a cpu-index out of range or
 * repeated, cpu-indexes that are not exactly 0..n-1, or a missing thread-id.
 */
int qmp_parse_cpus_fast(const char *reply, uint32_t *tids, int max);

#endif /* __PVLOCKD_QMP_PARSE_H */
