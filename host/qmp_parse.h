/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What pvlockd reads in QMP's replies.  Pure functions on one reply line
 * (no I/O), so unit tests link them alone.  Each reads the members it
 * wants by their place in the JSON, never by searching the text.
 */
#ifndef __PVLOCKD_QMP_PARSE_H
#define __PVLOCKD_QMP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a line from QEMU is: by its top-level members, tested in this order. */
enum qmp_line {
	QMP_LINE_EVENT,		/* an asynchronous event ("event"): skip it */
	QMP_LINE_RETURN,	/* the command's success reply ("return") */
	QMP_LINE_ERROR,		/* the command's error reply ("error") */
	QMP_LINE_GREETING,	/* the first line on a QMP socket ("QMP") */
	QMP_LINE_OTHER,		/* a JSON object with none of these */
	QMP_LINE_INVALID,	/* not exactly one JSON object: QEMU is not talking QMP */
};

enum qmp_line qmp_line_kind(const char *line);

/* Is @line QEMU's greeting (the first line on a QMP socket)? */
bool qmp_is_greeting(const char *line);

/*
 * Parse a query-cpus-fast "return" reply: @tids[cpu-index] = thread-id
 * for each vCPU, the rest of @tids[0..@max) zero.  Returns the number of
 * vCPUs, or -EINVAL for a reply without them, a cpu-index out of range or
 * repeated, cpu-indexes that are not exactly 0..n-1, or a missing thread-id.
 * Only the vCPU object's own members count (props has a "thread-id" too).
 */
int qmp_parse_cpus_fast(const char *reply, uint32_t *tids, int max);

/* Longest QOM child name pvlockd asks about, with its NUL. */
#define QMP_NAME_MAX	64

/*
 * Parse a qom-list "return" reply: the names of the children whose type
 * is exactly @type (such as "child<memory-backend-bpf>") into @names.
 * Returns how many, -E2BIG if more than @max or a name does not fit, or
 * -EINVAL for a malformed reply.
 */
int qmp_parse_qom_children(const char *reply, const char *type,
			   char (*names)[QMP_NAME_MAX], int max);

/* A "return" that is a non-negative integer (qom-get of one): 0 or -EINVAL. */
int qmp_parse_return_uint(const char *reply, uint64_t *v);

/* An error reply's "desc", printable, into @buf ("no reason given" without one). */
void qmp_error_desc(const char *reply, char *buf, size_t len);

#endif /* __PVLOCKD_QMP_PARSE_H */
