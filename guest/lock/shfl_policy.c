// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lock policies: hook sets for the lock core (shfl_lock.c).  Each hook
 * answers one question from what the host's page says; with no page
 * (shfl_channel_ok() false) every channel-driven answer is the plain one,
 * so shfl-pv and shfl-quota degrade to shfl.
 */
#include "shfl_lock.h"
#include "pvli_trace_ids.h"

/* ShflLock's own policy: keep waiters of one NUMA node together. */
static bool same_node(const struct shfl_lock *lock, const struct shfl_node *shuffler,
		      const struct shfl_node *curr)
{
	return shfl_cpu_node(curr->cpu) == shfl_cpu_node(shuffler->cpu);
}

const struct shfl_policy shfl_policy_shfl = {
	.name = "shfl",
	.trace_id = PVLI_TP_SHFL,
	.prefer = same_node,
};

/* Would @cpu take the lock right away if handed it?  Not if it is off its pCPU. */
static bool vcpu_ready(u16 cpu)
{
	return !READ_ONCE(shfl_halted_on(cpu)) && !shfl_vcpu_preempted(cpu);
}

bool shfl_prefer_running(const struct shfl_node *shuffler, const struct shfl_node *curr)
{
	return same_node(NULL, shuffler, curr) && vcpu_ready(curr->cpu);
}
SHFL_EXPORT(shfl_prefer_running);

/* shfl-pv: waiters whose vCPU runs go first (within the NUMA grouping). */
static bool prefer_running(const struct shfl_lock *lock, const struct shfl_node *shuffler,
			   const struct shfl_node *curr)
{
	return shfl_prefer_running(shuffler, curr);
}

static bool other_vcpu_preempted(u16 cpu, const struct shfl_node *node)
{
	return cpu != SHFL_NO_CPU && cpu != node->cpu && shfl_vcpu_preempted(cpu);
}

/*
 * shfl-pv: spinning while the holder's vCPU is preempted only keeps that
 * vCPU from its pCPU longer (on an oversubscribed host the pCPU we burn
 * may be the one it needs).  Halt; the unlock or the hand-over kicks us.
 * A queued waiter behind a preempted queue head halts too: it cannot get
 * the lock before that head has had it.
 */
static bool holder_preempted(const struct shfl_lock *lock, const struct shfl_node *node,
			     bool head, u32 spins)
{
	if (other_vcpu_preempted(READ_ONCE(lock->holder_cpu), node)) {
		shfl_stat_inc(holder_preempted);
		return true;
	}
	return !head && other_vcpu_preempted(READ_ONCE(lock->head_cpu), node);
}

const struct shfl_policy shfl_policy_shfl_pv = {
	.name = "shfl-pv",
	.trace_id = PVLI_TP_SHFL_PV,
	.prefer = prefer_running,
	.should_park = holder_preempted,
	.steal_past_preempted_head = true,
};

/* Enough run quota left to hold the lock for as long as it usually is held? */
static bool quota_covers_hold(const struct shfl_lock *lock, u16 cpu)
{
	u64 quota = shfl_vcpu_quota_ns(cpu);

	return quota == SHFL_QUOTA_UNKNOWN || quota >= READ_ONCE(lock->hold_ns);
}

/* shfl-quota: ... and whose quota covers a typical hold (I-Spinlock's gate). */
static bool prefer_running_with_quota(const struct shfl_lock *lock,
				      const struct shfl_node *shuffler,
				      const struct shfl_node *curr)
{
	return prefer_running(lock, shuffler, curr) && quota_covers_hold(lock, curr->cpu);
}

/* shfl-quota: a head about to run out of quota lets its successor go first. */
static bool quota_short(const struct shfl_lock *lock, const struct shfl_node *node)
{
	return READ_ONCE(lock->hold_ns) && !quota_covers_hold(lock, node->cpu);
}

const struct shfl_policy shfl_policy_shfl_quota = {
	.name = "shfl-quota",
	.trace_id = PVLI_TP_SHFL_QUOTA,
	.prefer = prefer_running_with_quota,
	.should_park = holder_preempted,
	.should_yield = quota_short,
	.track_hold = true,
	.steal_past_preempted_head = true,
};

/*
 * pvspin, after kernel/locking/qspinlock_paravirt.h: spin a bounded number
 * of times, then halt.  A queued waiter halts early when its predecessor
 * is halted (pv_wait_early()) or, from the channel, preempted: it cannot
 * become the head before that vCPU runs again.
 */
static bool pv_spun_out(const struct shfl_lock *lock, const struct shfl_node *node,
			bool head, u32 spins)
{
	u16 prev = node->prev_cpu;

	if (spins >= SHFL_SPIN_THRESHOLD)
		return true;
	if (head || prev == SHFL_NO_CPU)
		return false;
	return READ_ONCE(shfl_halted_on(prev)) || shfl_vcpu_preempted(prev);
}

const struct shfl_policy shfl_policy_pvspin = {
	.name = "pvspin",
	.trace_id = PVLI_TP_PVSPIN,
	.should_park = pv_spun_out,
	.lazy_kick = true,
};
