// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo lock API, exported to other modules.
 *
 * A struct pvli_lock is a spinlock with spinlock_t's rules (preemption is
 * disabled while it is held or waited for; it must not be taken from
 * interrupt context or with interrupts disabled, where a halted waiter
 * could not be kicked) whose waiting follows a policy:
 *
 *   "shfl"        ShflLock: MCS queue with a shuffler, no host information
 *   "shfl-pv"     waiters of running vCPUs go first; waiters halt while the
 *                 holder's vCPU is preempted (the default)
 *   "shfl-quota"  shfl-pv, and a vCPU about to run out of run quota lets
 *                 others take the lock first
 *   "pvspin"      Linux pv qspinlock behaviour: spin, then halt; kick
 *
 * Every acquisition and release is also published in this vCPU's record
 * of the host page (hold depth; what it waits for), so the host can tell
 * lock-holder from lock-waiter preemption.
 */
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/preempt.h>
#include <linux/string.h>

#include "pvli_lock.h"
#include "pvli_trace_hooks.h"

static const struct shfl_policy *const policies[] = {
	&shfl_policy_shfl,
	&shfl_policy_shfl_pv,
	&shfl_policy_shfl_quota,
	&shfl_policy_pvspin,
};

/* The policy called @name, or NULL. */
const struct shfl_policy *pvli_lock_policy(const char *name)
{
	for (int i = 0; i < ARRAY_SIZE(policies); i++)
		if (!strcmp(policies[i]->name, name))
			return policies[i];
	return NULL;
}
EXPORT_SYMBOL_GPL(pvli_lock_policy);

/**
 * pvli_lock_init - initialise a lock
 * @lock: the lock
 * @policy: "shfl", "shfl-pv", "shfl-quota" or "pvspin"; NULL for "shfl-pv"
 *
 * Return: 0, or -EINVAL for an unknown policy.
 */
int pvli_lock_init(struct pvli_lock *lock, const char *policy)
{
	const struct shfl_policy *pol = pvli_lock_policy(policy ?: "shfl-pv");

	if (!pol)
		return -EINVAL;
	shfl_lock_init(&lock->shfl, pol);
	atomic_set(&lock->trace_waiters, 0);
	return 0;
}
EXPORT_SYMBOL_GPL(pvli_lock_init);

/*
 * pvli_lock() in two halves, so the harness (pvlockinfo_test.ko) can time
 * the moment the lock is held, apart from the accounting after it.  __pvli_lock_acquire()
 * returns whether it had to wait (the fast path failed); the wait event
 * fires between the failed fast path and the queue, with preemption off
 * so that it reads this CPU's own steal clock.  @counted says whether
 * this waiter was counted for tracing; pass it to __pvli_lock_acquired().
 */
bool __pvli_lock_acquire(struct pvli_lock *lock, bool *counted)
{
	u64 start = pvli_trace_start();
	bool waited = false;

	*counted = false;
	preempt_disable();
	if (!shfl_trylock(&lock->shfl)) {
		*counted = pvli_trace_wait(lock, &lock->trace_waiters,
					   lock->shfl.policy->trace_id,
					   shfl_holder_cpu(&lock->shfl), start);
		shfl_lock(&lock->shfl);
		waited = true;
	}
	preempt_enable();	/* the lock keeps its own count */
	return waited;
}
EXPORT_SYMBOL_GPL(__pvli_lock_acquire);

void __pvli_lock_acquired(struct pvli_lock *lock, bool counted)
{
	pvli_trace_acquired(lock, &lock->trace_waiters,
			    lock->shfl.policy->trace_id, counted);
	pvli_publish_hold(1);
}
EXPORT_SYMBOL_GPL(__pvli_lock_acquired);

/**
 * pvli_lock - acquire a lock, waiting as its policy says
 * @lock: the lock
 *
 * Disables preemption until pvli_unlock().  Sleeps never; may halt the
 * vCPU (interrupts stay on) while the holder's vCPU is preempted.
 */
void pvli_lock(struct pvli_lock *lock)
{
	bool counted;

	__pvli_lock_acquire(lock, &counted);
	__pvli_lock_acquired(lock, counted);
}
EXPORT_SYMBOL_GPL(pvli_lock);

/**
 * pvli_trylock - acquire a lock if it is free and nobody queues for it
 * @lock: the lock
 *
 * Return: true if acquired (then preemption is disabled).
 */
bool pvli_trylock(struct pvli_lock *lock)
{
	if (!shfl_trylock(&lock->shfl))
		return false;
	pvli_trace_acquired(lock, &lock->trace_waiters,
			    lock->shfl.policy->trace_id, false);
	pvli_publish_hold(1);
	return true;
}
EXPORT_SYMBOL_GPL(pvli_trylock);

/**
 * pvli_unlock - release a lock taken with pvli_lock() or pvli_trylock()
 * @lock: the lock
 *
 * Kicks a waiter that halted waiting for it; enables preemption.
 */
void pvli_unlock(struct pvli_lock *lock)
{
	pvli_publish_hold(-1);
	pvli_trace_release(lock, &lock->trace_waiters,
			   lock->shfl.policy->trace_id);
	shfl_unlock(&lock->shfl);
}
EXPORT_SYMBOL_GPL(pvli_unlock);
