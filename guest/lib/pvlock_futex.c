// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libpvlock: futex waits with absolute deadlines.
 *
 * FUTEX_WAIT_BITSET takes an absolute time on CLOCK_MONOTONIC, or on
 * CLOCK_REALTIME with FUTEX_CLOCK_REALTIME, which is what pthread's
 * timed functions hand us.  Every mutex of the library is process-private,
 * hence FUTEX_PRIVATE_FLAG; a spinlock may be shared between processes,
 * but it only parks, and a park is woken by nobody.
 * A park (pvl_futex_park()) is a plain FUTEX_WAIT with a relative
 * timeout on a word nobody wakes: a short sleep that a changed word
 * skips.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pvlock_futex.h"

uint64_t pvl_parks;
uint64_t pvl_parks_full;

int pvl_futex_wait(uint32_t *word, uint32_t val, clockid_t clock, const struct timespec *abstime)
{
	int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG;

	if (abstime && clock == CLOCK_REALTIME)
		op |= FUTEX_CLOCK_REALTIME;
	if (syscall(SYS_futex, word, op, val, abstime, NULL, FUTEX_BITSET_MATCH_ANY) == 0)
		return 0;
	return -errno;
}

void pvl_futex_wake(uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

int pvl_futex_park(uint32_t *word, uint32_t val, long ns)
{
	struct timespec rel = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };

	__atomic_fetch_add(&pvl_parks, 1, __ATOMIC_RELAXED);
	if (syscall(SYS_futex, word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, val, &rel, NULL, 0) == 0)
		return 0;
	if (errno == ETIMEDOUT)
		__atomic_fetch_add(&pvl_parks_full, 1, __ATOMIC_RELAXED);
	return -errno;
}

bool pvl_deadline_passed(clockid_t clock, const struct timespec *abstime)
{
	struct timespec now;

	if (!pvl_timespec_valid(abstime) || clock_gettime(clock, &now))
		return true;
	return now.tv_sec > abstime->tv_sec ||
	       (now.tv_sec == abstime->tv_sec && now.tv_nsec >= abstime->tv_nsec);
}
