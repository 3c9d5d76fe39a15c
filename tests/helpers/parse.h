/* SPDX-License-Identifier: GPL-2.0-only */
/* Strict number parsing for the test helpers' command lines. */
#ifndef __PVLI_PARSE_H
#define __PVLI_PARSE_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

/* A command-line number for @prog's option @what, or exit 2 saying why. */
static inline long parse_option_or_exit(const char *prog, const char *what, const char *s)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v > (uint64_t)LONG_MAX) {
		fprintf(stderr, "%s: bad %s '%s'\n", prog, what, s);
		exit(2);
	}
	return (long)v;
}

#endif /* __PVLI_PARSE_H */
