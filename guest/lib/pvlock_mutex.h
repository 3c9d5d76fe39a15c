/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpvlock internals: the mutex's fast paths (pvlock_mutex.c has the
 * slow path), inlined into the interposer too.
 */
#ifndef __PVLOCK_MUTEX_H
#define __PVLOCK_MUTEX_H

#include "pvlock_channel.h"
#include "pvlock_futex.h"

/* Polls of a free word before a waiter queues (pvlock_mutex.c). */
#define PVL_PRESPIN	8

int pvl_mutex_lock_slow(pvlock_mutex_t *m, clockid_t clock,
			const struct timespec *abstime) PVL_HIDDEN;

/* The new holder names itself for waiters (pvlock_mutex.c). */
static inline void pvl_mutex_took(pvlock_mutex_t *m)
{
	STORE(&m->holder, (uint64_t)pvl_cpu() << 32 | pvl_tid());
}

static inline int pvl_mutex_lock_inline(pvlock_mutex_t *m)
{
	if (likely(CAS_ACQ(&m->word, 0, 1))) {
		pvl_mutex_took(m);
		return 0;
	}
	return pvl_mutex_lock_slow(m, CLOCK_REALTIME, NULL);
}

static inline int pvl_mutex_trylock_inline(pvlock_mutex_t *m)
{
	if (LOAD(&m->word) == 0 && CAS_ACQ(&m->word, 0, 1)) {
		pvl_mutex_took(m);
		return 0;
	}
	return EBUSY;
}

static inline int pvl_mutex_unlock_inline(pvlock_mutex_t *m)
{
	STORE(&m->holder, 0);
	/* Orders the critical section before the release; pairs with CAS_ACQ/XCHG_ACQ. */
	if (XCHG_REL(&m->word, 0) == 2)
		pvl_futex_wake(&m->word, 1);
	return 0;
}

#endif /* __PVLOCK_MUTEX_H */
