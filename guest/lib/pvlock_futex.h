/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpvlock internals: futex wait, wake and park (pvlock_futex.c), and
 * the clock helpers of timed waits.
 */
#ifndef __PVLOCK_FUTEX_H
#define __PVLOCK_FUTEX_H

#include <time.h>

#include "pvlock_atomic.h"

/* ---- futex ------------------------------------------------------------------ */
/* 0, or -errno (-EAGAIN: *word != val; -ETIMEDOUT; -EINTR). */
int pvl_futex_wait(uint32_t *word, uint32_t val, clockid_t clock,
		   const struct timespec *abstime) PVL_HIDDEN;
void pvl_futex_wake(uint32_t *word, int n) PVL_HIDDEN;
/*
 * Sleep up to @ns while *@word == @val, woken by nobody; counted in
 * pvl_parks, and in pvl_parks_full if it slept all of @ns.  Returns 0
 * or -errno (-EAGAIN: *@word was not @val, no sleep).
 */
int pvl_futex_park(uint32_t *word, uint32_t val, long ns) PVL_HIDDEN;
/*
 * How long a waiter whose holder's vCPU the host preempted sleeps per
 * park (the mutex's and the spinlock's reasons are at their park()):
 * far shorter than a host slice, far longer than a futex round trip.
 */
#define PVL_PARK_NS	300000L

/* Parks of mutex and spinlock waiters (pvl_futex_park()); a syscall follows each. */
extern uint64_t pvl_parks PVL_HIDDEN;
/*
 * Of those, the ones that slept their whole term: the value matched when
 * the sleep began (nobody wakes a park, so a release during it does not
 * end it either).
 */
extern uint64_t pvl_parks_full PVL_HIDDEN;

/* CLOCK_MONOTONIC in ns, or 0 if it cannot be read. */
static inline uint64_t pvl_now_ns(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_MONOTONIC, &t))
		return 0;
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Whether @abstime on @clock has passed; EINVAL-worthy times count as passed. */
bool pvl_deadline_passed(clockid_t clock, const struct timespec *abstime) PVL_HIDDEN;
static inline bool pvl_timespec_valid(const struct timespec *t)
{
	return t->tv_nsec >= 0 && t->tv_nsec < 1000000000L;
}

#endif /* __PVLOCK_FUTEX_H */
