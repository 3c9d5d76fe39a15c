// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lock policies: settings of the lock core (shfl_lock.c).  The channel's
 * answers (shfl_cpu_preempted(), shfl_quota_covers()) are the plain ones
 * when there is no live page, so every policy degrades to its channel-free
 * self: shfl-pv and shfl-quota to a ShflLock with bounded stealing,
 * tas-pv to test-and-set.
 *
 *   policy      who takes a free word      waiters halt              shuffler prefers
 *   shfl        the head; newcomers only   never                     same NUMA node
 *               while there is no queue
 *   shfl-pv     the head, and newcomers    behind a preempted        ... and vCPU not
 *               until the head is urgent   holder or head; queued    preempted
 *               (a newcomer queues after   ones after node_spins
 *               park_budget halts)
 *   shfl-quota  shfl-pv, but not a vCPU    as shfl-pv                ... and quota covers
 *               whose quota will not cover                           a typical hold
 *               a typical hold
 *   tas-pv      anyone (never queues)      behind a preempted holder -
 */
#include "shfl_lock.h"
#include "pvli_trace_ids.h"

/* ShflLock's own preference: keep waiters of one NUMA node together. */
static bool same_node(const struct shfl_policy *pol, const struct shfl_node *shuffler,
		      const struct shfl_node *curr, u64 hold_ns)
{
	return shfl_cpu_node(curr->cpu) == shfl_cpu_node(shuffler->cpu);
}

/*
 * shfl-pv: ... whose vCPU is on a pCPU or halted.  A halted waiter is a
 * kick away from running; a preempted one is a host slice away.
 */
static bool running(const struct shfl_policy *pol, const struct shfl_node *shuffler,
		    const struct shfl_node *curr, u64 hold_ns)
{
	return same_node(pol, shuffler, curr, hold_ns) && !shfl_cpu_preempted(curr->cpu);
}

/* shfl-quota: ... and with the run quota for a typical hold (I-Spinlock). */
static bool running_with_quota(const struct shfl_policy *pol, const struct shfl_node *shuffler,
			       const struct shfl_node *curr, u64 hold_ns)
{
	return running(pol, shuffler, curr, hold_ns) && shfl_quota_covers(curr->cpu, hold_ns);
}

/*
 * How long a channel-aware waiter spins before it queues, and a queued one
 * before it halts.  A newcomer that keeps spinning is the running waiter
 * the queue may be passed over for; a queued one that keeps spinning only
 * takes its pCPU from the holder (on an oversubscribed host they share).
 */
#define PV_SPIN_BUDGET		(1U << 12)
/*
 * Before all that, the looks for a wholly free word before the set-up
 * (shfl_lock.c, quick_steal()): a waiter behind a preempted holder halts
 * this many looks later.
 */
#define PV_QUICK_SPINS		64
#define PV_NODE_SPINS		(1U << 10)
/*
 * Halts on the word before a newcomer queues: woken by every release of a
 * preempted holder, it races the running vCPUs for the word and, back
 * late, loses; that often is the sign, and the queue then bounds its wait.
 */
#define PV_PARK_BUDGET		4
/* Behind a preempted holder: halt at once, or after this long. */
#define PV_PARK_DELAY_NS	0
/*
 * Whether a hand-over also wakes the new head's successor.  Off: on an
 * overcommitted host the woken vCPU is one more runnable thread, which
 * the host favours as freshly woken, against the holder and the head,
 * long before it is needed.  Measured in one guest per configuration,
 * each repetition against its own ceiling run (2 threads at 2x and 8x2,
 * one at 4x), 8 repetitions, medians: 8x2 0.79 with it, 0.87 without
 * (tas-pv 0.89); 2x 0.90 and 0.91; 4x 0.79 and 0.79 (bench/RESULTS.md,
 * "The hand-over kick (default changed)").
 */
#define PV_PRE_KICK		false

#define SHFL_PV(n, tp, q, pref, set)					\
	.name = n,							\
	.trace_id = tp,							\
	.steal = SHFL_STEAL_UNTIL_URGENT,				\
	.spin_budget = PV_SPIN_BUDGET,					\
	.quick_spins = PV_QUICK_SPINS,					\
	.park_budget = PV_PARK_BUDGET,					\
	.node_spins = PV_NODE_SPINS,					\
	.channel = true,						\
	.park_delay_ns = PV_PARK_DELAY_NS,				\
	.quota = q,							\
	.pre_kick = PV_PRE_KICK,					\
	.urgent_bypass = SHFL_URGENT_BYPASS,				\
	.urgent_ns = SHFL_URGENT_NS,					\
	.prefer = pref,							\
	.stats_set = set

#define TAS_PV(n, set)							\
	.name = n,							\
	.trace_id = PVLI_TP_TAS_PV,					\
	.steal = SHFL_STEAL_ALWAYS,					\
	.quick_spins = PV_QUICK_SPINS,					\
	.channel = true,						\
	.park_delay_ns = PV_PARK_DELAY_NS,				\
	.urgent_bypass = SHFL_URGENT_BYPASS,				\
	.urgent_ns = SHFL_URGENT_NS,					\
	.stats_set = set

struct shfl_policy shfl_policy_shfl = {
	.name = "shfl",
	.trace_id = PVLI_TP_SHFL,
	.steal = SHFL_STEAL_NO_QUEUE,
	.prefer = same_node,
	.stats_set = SHFL_STATS_LOCKS,
};

struct shfl_policy shfl_policy_shfl_pv = {
	SHFL_PV("shfl-pv", PVLI_TP_SHFL_PV, false, running, SHFL_STATS_LOCKS)
};

struct shfl_policy shfl_policy_shfl_quota = {
	SHFL_PV("shfl-quota", PVLI_TP_SHFL_QUOTA, true, running_with_quota, SHFL_STATS_LOCKS)
};

struct shfl_policy shfl_policy_tas_pv = { TAS_PV("tas-pv", SHFL_STATS_LOCKS) };

struct shfl_policy shfl_policy_kernel_shfl_pv = {
	SHFL_PV("shfl-pv", PVLI_TP_SHFL_PV, false, running, SHFL_STATS_KERNEL)
};
SHFL_EXPORT(shfl_policy_kernel_shfl_pv);

struct shfl_policy shfl_policy_kernel_tas_pv = { TAS_PV("tas-pv", SHFL_STATS_KERNEL) };
SHFL_EXPORT(shfl_policy_kernel_tas_pv);

struct shfl_policy shfl_policy_kernel_tas = {
	.name = "tas",
	.trace_id = PVLI_TP_OTHER,
	.steal = SHFL_STEAL_ALWAYS,
	.urgent_bypass = SHFL_URGENT_BYPASS,
	.urgent_ns = SHFL_URGENT_NS,
	.stats_set = SHFL_STATS_KERNEL,
};
SHFL_EXPORT(shfl_policy_kernel_tas);
