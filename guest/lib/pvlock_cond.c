// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libpvlock: a sequence-count condition variable on a futex.
 *
 * Kept in the first 8 bytes of pthread_cond_t (glibc's __wseq), which
 * pthread_cond_init() and PTHREAD_COND_INITIALIZER zero; glibc's __wrefs
 * keeps its flags (process-shared, clock), which we only read.
 *
 *   seq      bumped by every signal and broadcast; the futex word
 *   waiters  threads inside a wait: signals without waiters stay in
 *            user space
 *
 * No lost wake-up: a waiter reads seq while it still holds the mutex,
 * then sleeps only while seq is unchanged.  A signaller that changed
 * the predicate under the mutex bumps seq after the waiter released it,
 * so after the read: the futex wait returns at once or is woken.  The
 * waiter's increment of waiters and the signaller's of seq are both
 * sequentially consistent read-modify-writes, each followed by a read of
 * the other's counter, so at least one of them sees the other: either
 * the signaller sees waiters > 0 and wakes, or the waiter read the new
 * seq and does not sleep.
 *
 * Spurious wake-ups, which POSIX allows, happen: a thread that entered
 * its wait just before a signal may return together with the one the
 * signal woke.  seq wraps after 2^32 signals; a waiter that slept
 * through exactly that many would miss one.
 */
#include <limits.h>
#include <stddef.h>

#include "pvlock_cond.h"
#include "pvlock_mutex.h"

struct pvl_cond {
	uint32_t seq;
	uint32_t waiters;
	uint32_t __glibc_other[7];
	uint32_t wrefs;		/* glibc: bit 0 process-shared, bit 1 CLOCK_MONOTONIC */
	uint32_t __glibc_signals[2];
};

_Static_assert(sizeof(struct pvl_cond) == sizeof(pthread_cond_t), "condvar size");
_Static_assert(offsetof(pthread_cond_t, __data.__wrefs) == offsetof(struct pvl_cond, wrefs),
	       "glibc's flags");

#define GLIBC_COND_SHARED	1
#define GLIBC_COND_MONOTONIC	2

static inline struct pvl_cond *cv(const pthread_cond_t *c)
{
	return (struct pvl_cond *)c;
}

bool pvl_cond_is_pshared(const pthread_cond_t *c)
{
	return LOAD(&cv(c)->wrefs) & GLIBC_COND_SHARED;
}

clockid_t pvl_cond_clock(const pthread_cond_t *c)
{
	return LOAD(&cv(c)->wrefs) & GLIBC_COND_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

int pvl_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct pvl_cond_mutex_ops *ops,
		  clockid_t clock, const struct timespec *abstime)
{
	struct pvl_cond *v = cv(c);
	uint32_t seq;
	int ret, err;

	if (abstime && !pvl_timespec_valid(abstime))
		return EINVAL;
	__atomic_fetch_add(&v->waiters, 1, __ATOMIC_SEQ_CST);
	seq = __atomic_load_n(&v->seq, __ATOMIC_SEQ_CST);
	err = ops->unlock(m);
	if (err) {
		/* Not the owner (error-checking mutex): no wait happened. */
		__atomic_fetch_sub(&v->waiters, 1, __ATOMIC_RELAXED);
		return err;
	}
	ret = pvl_futex_wait(&v->seq, seq, clock, abstime);
	__atomic_fetch_sub(&v->waiters, 1, __ATOMIC_RELAXED);
	/* The mutex comes back in every case, as POSIX wants, even on timeout. */
	err = ops->lock(m);
	if (err)
		return err;	/* EOWNERDEAD of a robust mutex, for one */
	return ret == -ETIMEDOUT ? ETIMEDOUT : 0;
}

void pvl_cond_wake(pthread_cond_t *c, bool one)
{
	struct pvl_cond *v = cv(c);

	__atomic_fetch_add(&v->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->waiters, __ATOMIC_SEQ_CST))
		pvl_futex_wake(&v->seq, one ? 1 : INT_MAX);
}
