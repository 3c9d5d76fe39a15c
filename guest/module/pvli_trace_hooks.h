/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Calls into the pvlockinfo tracepoints for lock code.
 *
 * Only contention is traced: a wait, and every acquisition and release
 * of a lock while somebody waits for it (@waiters > 0), which is all a
 * tool needs to split waits (see bpf/guest/pvlocktrace.bpf.c).  An uncontended
 * acquisition costs one static branch and one read of @waiters, so a
 * tracer leaves lock throughput alone.  Each call is a static branch
 * while its event is off.  Call with preemption disabled.
 */
#ifndef __PVLI_TRACE_HOOKS_H
#define __PVLI_TRACE_HOOKS_H

#include <linux/atomic.h>
#include <linux/timekeeping.h>
#include <linux/types.h>
#include "pvli_trace.h"

void __pvli_trace_wait(const void *lock, u32 policy, int holder_cpu, u64 start_ns);
void __pvli_trace_acquired(const void *lock, u32 policy);
void __pvli_trace_release(const void *lock, u32 policy);

/*
 * When an acquisition attempt starts, for pvli_trace_wait(): a wait
 * begins when the caller asks for the lock, not when its fast path has
 * failed (which can take a page read, or a host preemption).  0 while
 * the wait event is off.
 */
static inline u64 pvli_trace_start(void)
{
	return trace_pvli_lock_wait_enabled() ? ktime_get_mono_fast_ns() : 0;
}

/*
 * This CPU, which asked for @lock at @start_ns (pvli_trace_start()), has
 * to wait; @holder_cpu holds it (or PVLI_TP_NO_CPU).  Returns whether it
 * counted itself in @waiters, which pvli_trace_acquired() must then undo.
 */
static inline bool pvli_trace_wait(const void *lock, atomic_t *waiters, u32 policy,
				   int holder_cpu, u64 start_ns)
{
	if (!trace_pvli_lock_wait_enabled())
		return false;
	/* Full barrier: holders that release after this see a waiter. */
	atomic_inc(waiters);
	smp_mb__after_atomic();
	__pvli_trace_wait(lock, policy, holder_cpu, start_ns);
	return true;
}

/* This CPU took @lock (@counted: as a waiter); first thing inside. */
static inline void pvli_trace_acquired(const void *lock, atomic_t *waiters, u32 policy,
				       bool counted)
{
	if (trace_pvli_lock_acquired_enabled() && (counted || atomic_read(waiters)))
		__pvli_trace_acquired(lock, policy);
	if (counted)
		atomic_dec(waiters);
}

/* This CPU is about to release @lock; last thing inside. */
static inline void pvli_trace_release(const void *lock, atomic_t *waiters, u32 policy)
{
	if (trace_pvli_lock_release_enabled() && atomic_read(waiters))
		__pvli_trace_release(lock, policy);
}

/* Record the holder's CPU for pvli_trace_wait() only while anyone listens. */
static inline bool pvli_trace_wants_holder(void)
{
	return trace_pvli_lock_wait_enabled();
}

#endif /* __PVLI_TRACE_HOOKS_H */
