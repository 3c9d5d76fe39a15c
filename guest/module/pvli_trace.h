/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockinfo tracepoints: what a lock wait is made of.
 *
 * For every acquisition of a pvlockinfo lock (and of the harness's
 * spinlock_t and MCS baselines):
 *
 *   pvli_lock_wait      the fast path failed: this CPU starts to wait.
 *                       holder_cpu and holder_steal are the holder's CPU
 *                       as the lock (or harness) records it and that
 *                       vCPU's steal clock now; own_steal is ours.
 *   pvli_lock_acquired  inside the critical section; steal: ours.
 *   pvli_lock_release   still inside the critical section; steal: ours.
 *
 * acquired and release fire inside the critical section, so for one
 * lock they are ordered by the lock itself: a tool can keep a per-lock
 * timeline of holds and hand-overs from them, and place each wait on it
 * (bpf/guest/pvlocktrace.bpf.c does).  Steal clocks come from the host page
 * (host ns, PVLI_TP_STEAL_UNKNOWN without a live page); they are read
 * only while the event is enabled.
 *
 * pvli_halt / pvli_kick / pvli_shuffle: the lock core halted this vCPU,
 * kicked @cpu, moved @moved waiters of @lock.
 *
 * Events carry the lock's address as an opaque id, a policy number from
 * include/pvli_trace_ids.h, and the time (ktime_get_mono_fast_ns(), the
 * clock of bpf_ktime_get_ns()) taken before the steal clocks are read,
 * so that a wait is timed from where it starts, not from where its event
 * finished reading the page.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pvlockinfo

#if !defined(__PVLI_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define __PVLI_TRACE_H

#include <linux/tracepoint.h>
#include "pvli_trace_ids.h"

TRACE_EVENT(pvli_lock_wait,
	TP_PROTO(u64 lock, u32 policy, s32 holder_cpu, u64 holder_steal, u64 own_steal,
		 u64 t_ns),
	TP_ARGS(lock, policy, holder_cpu, holder_steal, own_steal, t_ns),
	TP_STRUCT__entry(
		__field(u64, t_ns)
		__field(u64, lock)
		__field(u32, policy)
		__field(s32, holder_cpu)
		__field(u64, holder_steal)
		__field(u64, own_steal)
	),
	TP_fast_assign(
		__entry->lock = lock;
		__entry->policy = policy;
		__entry->holder_cpu = holder_cpu;
		__entry->holder_steal = holder_steal;
		__entry->own_steal = own_steal;
		__entry->t_ns = t_ns;
	),
	TP_printk("lock=%llx policy=%u holder_cpu=%d holder_steal=%llu own_steal=%llu",
		  __entry->lock, __entry->policy, __entry->holder_cpu,
		  __entry->holder_steal, __entry->own_steal)
);

DECLARE_EVENT_CLASS(pvli_lock_hold,
	TP_PROTO(u64 lock, u32 policy, u64 steal, u64 t_ns),
	TP_ARGS(lock, policy, steal, t_ns),
	TP_STRUCT__entry(
		__field(u64, t_ns)
		__field(u64, lock)
		__field(u32, policy)
		__field(u64, steal)
	),
	TP_fast_assign(
		__entry->lock = lock;
		__entry->policy = policy;
		__entry->steal = steal;
		__entry->t_ns = t_ns;
	),
	TP_printk("lock=%llx policy=%u steal=%llu",
		  __entry->lock, __entry->policy, __entry->steal)
);

DEFINE_EVENT(pvli_lock_hold, pvli_lock_acquired,
	TP_PROTO(u64 lock, u32 policy, u64 steal, u64 t_ns),
	TP_ARGS(lock, policy, steal, t_ns));

DEFINE_EVENT(pvli_lock_hold, pvli_lock_release,
	TP_PROTO(u64 lock, u32 policy, u64 steal, u64 t_ns),
	TP_ARGS(lock, policy, steal, t_ns));

TRACE_EVENT(pvli_halt,
	TP_PROTO(int cpu),
	TP_ARGS(cpu),
	TP_STRUCT__entry(__field(int, cpu)),
	TP_fast_assign(__entry->cpu = cpu;),
	TP_printk("cpu=%d", __entry->cpu)
);

TRACE_EVENT(pvli_kick,
	TP_PROTO(int cpu),
	TP_ARGS(cpu),
	TP_STRUCT__entry(__field(int, cpu)),
	TP_fast_assign(__entry->cpu = cpu;),
	TP_printk("cpu=%d", __entry->cpu)
);

TRACE_EVENT(pvli_shuffle,
	TP_PROTO(u64 lock, u32 moved),
	TP_ARGS(lock, moved),
	TP_STRUCT__entry(
		__field(u64, lock)
		__field(u32, moved)
	),
	TP_fast_assign(
		__entry->lock = lock;
		__entry->moved = moved;
	),
	TP_printk("lock=%llx moved=%u", __entry->lock, __entry->moved)
);

#endif /* __PVLI_TRACE_H */

/* Out of tree: the header is next to the module's sources. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE pvli_trace
#include <trace/define_trace.h>
