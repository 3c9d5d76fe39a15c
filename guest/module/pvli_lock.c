// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo lock API, exported to other modules.
 *
 * A struct pvli_lock is a spinlock with spinlock_t's rules (preemption is
 * disabled while it is held or waited for; it must not be taken from
 * interrupt context or with interrupts disabled, where a halted waiter
 * could not be kicked) whose waiting follows a policy:
 *
 *   "shfl"        ShflLock: a test-and-set word, an MCS queue whose head
 *                 takes it, a shuffler; no host information
 *   "shfl-pv"     the queue grants the right to compete: running
 *                 newcomers may take a free word until the head has
 *                 waited past a bound; waiters halt while the holder's
 *                 vCPU is preempted; the shuffler moves preempted waiters
 *                 back (the default)
 *   "shfl-quota"  shfl-pv, and a vCPU whose run quota will not cover a
 *                 typical hold does not take the lock
 *   "tas-pv"      test-and-set that halts while the holder's vCPU is
 *                 preempted
 *   "pvspin"      Linux's pv qspinlock, as KVM guests run it
 *
 * Every acquisition and release is also published in this vCPU's record
 * of the host page (hold depth; what it waits for), so the host can tell
 * lock-holder from lock-waiter preemption.
 */
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/kstrtox.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/string.h>

#include "pvli_lock.h"
#include "pvli_trace_hooks.h"
#include "pvli_trace_ids.h"

static const struct pvli_lock_type types[] = {
	{ "shfl", PVLI_TP_SHFL, &shfl_policy_shfl },
	{ "shfl-pv", PVLI_TP_SHFL_PV, &shfl_policy_shfl_pv },
	{ "shfl-quota", PVLI_TP_SHFL_QUOTA, &shfl_policy_shfl_quota },
	{ "tas-pv", PVLI_TP_TAS_PV, &shfl_policy_tas_pv },
	{ "pvspin", PVLI_TP_PVSPIN, NULL },
};

/*
 * Tunables of the channel policies (shfl-pv and shfl-quota, and the
 * takeover's shfl-pv): module parameters lock_spin_budget,
 * lock_node_spins, lock_park_delay_ns, lock_pre_kick, lock_quick_spins,
 * lock_urgent_bypass, lock_urgent_ns, lock_park_budget.  A change applies
 * to waits that start after it.
 */
static struct shfl_policy *const tuned[] = {
	&shfl_policy_shfl_pv, &shfl_policy_shfl_quota, &shfl_policy_kernel_shfl_pv,
	&shfl_policy_tas_pv, &shfl_policy_kernel_tas_pv,
};

enum tunable {
	T_SPIN_BUDGET, T_NODE_SPINS, T_PARK_DELAY_NS, T_PRE_KICK, T_QUICK_SPINS,
	T_URGENT_BYPASS, T_URGENT_NS, T_PARK_BUDGET,
};

static int tunable_set(const char *val, const struct kernel_param *kp)
{
	enum tunable t = (enum tunable)(long)kp->arg;
	u64 v;
	int ret = kstrtou64(val, 0, &v);

	if (ret)
		return ret;
	/*
	 * Quick looks never halt and may run with interrupts off (and in
	 * NMI): keep them short.
	 */
	if ((t == T_PRE_KICK && v > 1) || (t == T_QUICK_SPINS && v > SHFL_MAX_QUICK_SPINS) ||
	    (t == T_URGENT_BYPASS && v < 1) ||
	    (t != T_PARK_DELAY_NS && t != T_URGENT_NS && v > U32_MAX))
		return -ERANGE;
	for (int i = 0; i < ARRAY_SIZE(tuned); i++) {
		struct shfl_policy *p = tuned[i];
		bool queues = p->steal != SHFL_STEAL_ALWAYS;

		switch (t) {
		case T_SPIN_BUDGET: if (queues) WRITE_ONCE(p->spin_budget, v); break;
		case T_NODE_SPINS: if (queues) WRITE_ONCE(p->node_spins, v); break;
		case T_PARK_DELAY_NS: WRITE_ONCE(p->park_delay_ns, v); break;
		case T_PRE_KICK: if (queues) WRITE_ONCE(p->pre_kick, v); break;
		case T_QUICK_SPINS: WRITE_ONCE(p->quick_spins, v); break;
		case T_URGENT_BYPASS: if (queues) WRITE_ONCE(p->urgent_bypass, v); break;
		case T_URGENT_NS: if (queues) WRITE_ONCE(p->urgent_ns, v); break;
		case T_PARK_BUDGET: if (queues) WRITE_ONCE(p->park_budget, v); break;
		}
	}
	return 0;
}

static int tunable_get(char *buf, const struct kernel_param *kp)
{
	const struct shfl_policy *p = &shfl_policy_shfl_pv;

	switch ((enum tunable)(long)kp->arg) {
	case T_SPIN_BUDGET: return sysfs_emit(buf, "%u\n", READ_ONCE(p->spin_budget));
	case T_NODE_SPINS: return sysfs_emit(buf, "%u\n", READ_ONCE(p->node_spins));
	case T_PARK_DELAY_NS: return sysfs_emit(buf, "%llu\n", READ_ONCE(p->park_delay_ns));
	case T_PRE_KICK: return sysfs_emit(buf, "%u\n", READ_ONCE(p->pre_kick));
	case T_QUICK_SPINS: return sysfs_emit(buf, "%u\n", READ_ONCE(p->quick_spins));
	case T_URGENT_BYPASS: return sysfs_emit(buf, "%u\n", READ_ONCE(p->urgent_bypass));
	case T_URGENT_NS: return sysfs_emit(buf, "%llu\n", READ_ONCE(p->urgent_ns));
	case T_PARK_BUDGET: return sysfs_emit(buf, "%u\n", READ_ONCE(p->park_budget));
	}
	return -EINVAL;
}

static const struct kernel_param_ops tunable_ops = { .set = tunable_set, .get = tunable_get };
#define LOCK_TUNABLE(name, t, desc)						\
	module_param_cb(name, &tunable_ops, (void *)(long)(t), 0644);		\
	MODULE_PARM_DESC(name, desc)
LOCK_TUNABLE(lock_spin_budget, T_SPIN_BUDGET,
	     "shfl-pv/shfl-quota: spins a newcomer competes for the free word before it queues");
LOCK_TUNABLE(lock_node_spins, T_NODE_SPINS,
	     "shfl-pv/shfl-quota: spins a queued waiter that is not the head makes before it halts (0: never)");
LOCK_TUNABLE(lock_park_delay_ns, T_PARK_DELAY_NS,
	     "channel policies: halt behind a preempted holder once seen preempted this long (ns)");
LOCK_TUNABLE(lock_quick_spins, T_QUICK_SPINS,
	     "channel policies: a waiter's looks for a wholly free word before it sets up (0: none; at most 1024)");
LOCK_TUNABLE(lock_urgent_bypass, T_URGENT_BYPASS,
	     "shfl-pv/shfl-quota: free words a queue head loses to others before it turns urgent (>= 1)");
LOCK_TUNABLE(lock_urgent_ns, T_URGENT_NS,
	     "shfl-pv/shfl-quota: time as the queue head before it turns urgent (ns)");
LOCK_TUNABLE(lock_park_budget, T_PARK_BUDGET,
	     "shfl-pv/shfl-quota: halts on the word behind preempted holders before a newcomer queues (0: no limit)");
LOCK_TUNABLE(lock_pre_kick, T_PRE_KICK,
	     "shfl-pv/shfl-quota: wake the new queue head's successor too (0/1)");

/* The policy called @name, or NULL. */
const struct pvli_lock_type *pvli_lock_type(const char *name)
{
	for (int i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(types[i].name, name))
			return &types[i];
	return NULL;
}
EXPORT_SYMBOL_GPL(pvli_lock_type);

/**
 * pvli_lock_init - initialise a lock
 * @lock: the lock
 * @policy: "shfl", "shfl-pv", "shfl-quota", "tas-pv" or "pvspin"; NULL
 *          for "shfl-pv"
 *
 * Return: 0, -EINVAL for an unknown policy, -EOPNOTSUPP for pvspin on a
 * guest with more CPUs than its hash table holds.
 */
int pvli_lock_init(struct pvli_lock *lock, const char *policy)
{
	const struct pvli_lock_type *type = pvli_lock_type(policy ?: "shfl-pv");

	if (!type)
		return -EINVAL;
	if (type->shfl)
		shfl_lock_init(&lock->shfl, type->shfl);
	else if (pvspin_supported())
		pvspin_lock_init(&lock->pv);
	else
		return -EOPNOTSUPP;
	lock->type = type;
	lock->trace_holder = PVLI_TP_NO_CPU;
	atomic_set(&lock->trace_waiters, 0);
	return 0;
}
EXPORT_SYMBOL_GPL(pvli_lock_init);

static int holder_cpu(const struct pvli_lock *lock)
{
	return lock->type->shfl ? shfl_holder_cpu(&lock->shfl) : READ_ONCE(lock->trace_holder);
}

/*
 * pvli_lock() in two halves, so the harness (pvlockinfo_test.ko) can time
 * the moment the lock is held, apart from the accounting after it.
 * __pvli_lock_acquire() returns whether it had to wait (the fast path
 * failed); the wait event fires between the failed fast path and the
 * slow path, with preemption off so that it reads this CPU's own steal
 * clock.  @counted says whether this waiter was counted for tracing;
 * pass it to __pvli_lock_acquired().
 */
bool __pvli_lock_acquire(struct pvli_lock *lock, bool *counted)
{
	u64 start = pvli_trace_start();
	bool shfl = lock->type->shfl;

	*counted = false;
	preempt_disable();
	if (shfl ? shfl_trylock(&lock->shfl) : pvspin_trylock(&lock->pv)) {
		preempt_enable();	/* the lock keeps its own count */
		return false;
	}
	*counted = pvli_trace_wait(lock, &lock->trace_waiters, lock->type->trace_id,
				   holder_cpu(lock), start);
	if (shfl)
		shfl_lock(&lock->shfl);
	else
		pvspin_lock(&lock->pv);
	preempt_enable();
	return true;
}
EXPORT_SYMBOL_GPL(__pvli_lock_acquire);

void __pvli_lock_acquired(struct pvli_lock *lock, bool counted)
{
	if (!lock->type->shfl && pvli_trace_wants_holder())
		WRITE_ONCE(lock->trace_holder, smp_processor_id());
	pvli_trace_acquired(lock, &lock->trace_waiters, lock->type->trace_id, counted);
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
 * pvli_trylock - acquire a lock if its word is free and nobody queues for it
 * @lock: the lock
 *
 * Return: true if acquired (then preemption is disabled).
 */
bool pvli_trylock(struct pvli_lock *lock)
{
	if (!(lock->type->shfl ? shfl_trylock(&lock->shfl) : pvspin_trylock(&lock->pv)))
		return false;
	__pvli_lock_acquired(lock, false);
	return true;
}
EXPORT_SYMBOL_GPL(pvli_trylock);

/**
 * pvli_unlock - release a lock taken with pvli_lock() or pvli_trylock()
 * @lock: the lock
 *
 * Kicks waiters that halted waiting for it; enables preemption.
 */
void pvli_unlock(struct pvli_lock *lock)
{
	pvli_publish_hold(-1);
	pvli_trace_release(lock, &lock->trace_waiters, lock->type->trace_id);
	if (!lock->type->shfl && pvli_trace_wants_holder())
		WRITE_ONCE(lock->trace_holder, PVLI_TP_NO_CPU);
	if (lock->type->shfl)
		shfl_unlock(&lock->shfl);
	else
		pvspin_unlock(&lock->pv);
}
EXPORT_SYMBOL_GPL(pvli_unlock);
