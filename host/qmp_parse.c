// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading QMP reply lines (qmp_parse.h).  No JSON library: pvlockd wants
 * two numbers per vCPU from one reply, so this scans for them and refuses
 * anything it cannot account for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qmp_parse.h"

enum qmp_line qmp_line_kind(const char *line)
{
	if (strstr(line, "\"event\""))
		return QMP_LINE_EVENT;
	if (strstr(line, "\"return\""))
		return QMP_LINE_RETURN;
	if (strstr(line, "\"error\""))
		return QMP_LINE_ERROR;
	return QMP_LINE_OTHER;
}

bool qmp_is_greeting(const char *line)
{
	return strstr(line, "\"QMP\"") != NULL;
}

/* The number after "key": at or after @from, before @end; -1 if absent. */
static long long json_number(const char *from, const char *end, const char *key)
{
	const char *p = strstr(from, key);
	char *stop;
	long long v;

	if (!p || p >= end)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoll(p, &stop, 10);
	return errno ? -1 : v;
}

int qmp_parse_cpus_fast(const char *reply, uint32_t *tids, int max)
{
	const char *p = strstr(reply, "\"return\"");
	int n = 0;

	if (!p)
		return -EINVAL;
	for (int i = 0; i < max; i++)
		tids[i] = 0;
	/* Each vCPU is one object in the array: {..."cpu-index": N, ... "thread-id": T ...} */
	while ((p = strchr(p, '{'))) {
		const char *end = strchr(p, '}');
		long long idx, tid;

		if (!end)
			return -EINVAL;
		/* "props" is a nested object: extend to the vCPU object's end. */
		if (strstr(p, "\"props\"") && strstr(p, "\"props\"") < end)
			end = strchr(end + 1, '}');
		if (!end)
			return -EINVAL;
		idx = json_number(p, end, "\"cpu-index\"");
		tid = json_number(p, end, "\"thread-id\"");
		if (idx < 0 || idx >= max || tid <= 0 || tid > UINT32_MAX || tids[idx])
			return -EINVAL;
		tids[idx] = (uint32_t)tid;
		n++;
		p = end + 1;
	}
	if (n == 0)
		return -EINVAL;
	/* cpu-index values must be exactly 0..n-1. */
	for (int i = 0; i < n; i++)
		if (!tids[i])
			return -EINVAL;
	return n;
}
