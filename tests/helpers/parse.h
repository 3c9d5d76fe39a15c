/* SPDX-License-Identifier: GPL-2.0-only */
/* Strict number parsing for the test helpers' command lines. */
#ifndef __PVLI_PARSE_H
#define __PVLI_PARSE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * Parse all of @s as an unsigned number (decimal, 0x hex or 0 octal).
 * Fails on an empty string, leading blanks, a sign, trailing characters
 * or overflow.
 */
static inline bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* strtoull() would skip leading blanks and accept a sign. */
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

#endif /* __PVLI_PARSE_H */
