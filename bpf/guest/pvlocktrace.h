/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Types shared by bpf/guest/pvlocktrace.bpf.c and guest/tools/pvlocktrace.c.
 * Fixed-width types only.
 */
#ifndef __PVLOCKTRACE_H
#define __PVLOCKTRACE_H

#include "pvli_trace_ids.h"

/* log2 histogram of wait time: slot i counts [2^i, 2^(i+1)) ns. */
#define PVLT_HIST_SLOTS		36

/* Index of the kernel's own spinlocks (qspinlock slow path) in the stats. */
#define PVLT_KERNEL		PVLI_TP_NR
#define PVLT_NR			(PVLI_TP_NR + 1)

/*
 * Per policy (index: enum pvli_trace_policy, or PVLT_KERNEL), per CPU.
 *
 * A wait runs from pvli_lock_wait to this CPU's pvli_lock_acquired of the
 * same lock.  It is placed on the lock's timeline of holds and hand-overs
 * and split into three parts that add up to wait_ns:
 *
 *   holder_running_ns    the lock was held and the holder's vCPU ran
 *   holder_preempted_ns  the lock was held and the holder's vCPU was
 *                        preempted (its steal clock advanced)
 *   handoff_ns           the lock was between holders: released, not yet
 *                        taken (by us or by a waiter ahead of us); long
 *                        when the lock went to a preempted waiter
 *
 * unplaced_ns is the part of wait_ns that could not be placed (no timeline
 * could be made for the lock when the wait began: the map was full); it
 * is not in the three parts.
 * holder_unknown and torn_starts count waits whose split is approximate
 * (see bpf/guest/pvlocktrace.bpf.c); their total is exact.
 * waiter_preempted_ns is the waiter's own steal during its waits.
 *
 * For PVLT_KERNEL, a wait is one native_queued_spin_lock_slowpath (or
 * __pv_queued_spin_lock_slowpath) call; qspinlock does not record its
 * holder, so only waits, wait_ns, hist and (with pvlockinfo.ko loaded,
 * else no_steal) waiter_preempted_ns are filled in.
 */
struct pvlt_stats {
	__u64 acquisitions;		/* pvli_lock_acquired events */
	__u64 waits;			/* waits seen start to end */
	__u64 wait_ns;
	__u64 holder_running_ns;
	__u64 holder_preempted_ns;
	__u64 handoff_ns;
	__u64 unplaced_ns;
	__u64 waiter_preempted_ns;
	__u64 unplaced_waits;		/* waits with unplaced_ns > 0 */
	__u64 holder_unknown;		/* wait start named a holder the timeline did not */
	__u64 torn_starts;		/* waits that started while a holder wrote the timeline */
	__u64 no_steal;			/* waits without steal clocks (no live page) */
	__u64 missed_waits;		/* acquisitions after a wait whose start we missed */
	__u64 halts;
	__u64 kicks;
	__u64 shuffles;			/* shuffler passes that moved waiters */
	__u64 shuffled;			/* waiters moved */
	__u64 hist[PVLT_HIST_SLOTS];
};

#endif /* __PVLOCKTRACE_H */
