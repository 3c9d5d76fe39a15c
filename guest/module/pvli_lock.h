/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockinfo locks for other modules: channel-aware spinlocks.  See
 * pvli_lock.c for the API and guest/lock/shfl_lock.c for the algorithm.
 */
#ifndef __PVLI_LOCK_H
#define __PVLI_LOCK_H

#include <linux/atomic.h>

#include "pvspin_lock.h"
#include "shfl_lock.h"

/**
 * struct pvli_lock_type - a policy users can name
 * @name:     "shfl", "shfl-pv", "shfl-quota", "tas-pv" or "pvspin"
 * @trace_id: its number in the pvlockinfo tracepoints
 * @shfl:     the lock core's policy, or NULL for pvspin (its own lock)
 */
struct pvli_lock_type {
	const char *name;
	unsigned int trace_id;
	const struct shfl_policy *shfl;
};

struct pvli_lock {
	union {
		struct shfl_lock shfl;
		struct pvspin_lock pv;
	};
	const struct pvli_lock_type *type;
	int trace_holder;		/* pvspin: the holder's CPU while traced */
	atomic_t trace_waiters;		/* traced waiters (pvli_trace_hooks.h) */
};

int pvli_lock_init(struct pvli_lock *lock, const char *policy);
void pvli_lock(struct pvli_lock *lock);
bool pvli_trylock(struct pvli_lock *lock);
void pvli_unlock(struct pvli_lock *lock);
const struct pvli_lock_type *pvli_lock_type(const char *name);

/* pvli_lock() in two halves, for the harness in pvlockinfo_test.ko (see pvli_lock.c). */
bool __pvli_lock_acquire(struct pvli_lock *lock, bool *counted);
void __pvli_lock_acquired(struct pvli_lock *lock, bool counted);

#endif /* __PVLI_LOCK_H */
