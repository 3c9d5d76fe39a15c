// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo tracepoints: definitions and the out-of-line halves of the
 * hooks in pvli_trace_hooks.h.
 */
#include <linux/smp.h>
#include <linux/timekeeping.h>

#include "pvlockinfo.h"
#include "pvli_trace_hooks.h"

/* Second read of pvli_trace.h, now generating the events (define_trace.h). */
#define CREATE_TRACE_POINTS
#include "pvli_trace.h"

static u64 steal_or_unknown(int cpu)
{
	return cpu < 0 ? PVLI_TP_STEAL_UNKNOWN : pvli_vcpu_steal_ns(cpu);
}

void __pvli_trace_wait(const void *lock, u32 policy, int holder_cpu, u64 start_ns)
{
	u64 t = start_ns ?: ktime_get_mono_fast_ns();

	trace_pvli_lock_wait((u64)(unsigned long)lock, policy, holder_cpu,
			     steal_or_unknown(holder_cpu),
			     steal_or_unknown(smp_processor_id()), t);
}

void __pvli_trace_acquired(const void *lock, u32 policy)
{
	u64 t = ktime_get_mono_fast_ns();

	trace_pvli_lock_acquired((u64)(unsigned long)lock, policy,
				 steal_or_unknown(smp_processor_id()), t);
}

void __pvli_trace_release(const void *lock, u32 policy)
{
	u64 t = ktime_get_mono_fast_ns();

	trace_pvli_lock_release((u64)(unsigned long)lock, policy,
				steal_or_unknown(smp_processor_id()), t);
}
