/* SPDX-License-Identifier: GPL-2.0-only */
/* Error messages into a caller's buffer, shared by pvlockd's files. */
#ifndef __PVLOCKD_ERRBUF_H
#define __PVLOCKD_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline __attribute__((format(printf, 3, 4)))
void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

#endif /* __PVLOCKD_ERRBUF_H */
