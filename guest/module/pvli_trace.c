// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo tracepoints: definitions and the out-of-line halves of the
 * hooks in pvli_trace_hooks.h.  The lock events and the hooks are
 * exported: the harness in pvlockinfo_test.ko traces its baselines
 * (spinlock_t, MCS) through them too.
 */
#include <linux/export.h>
#include <linux/smp.h>
#include <linux/timekeeping.h>

#include "pvlockinfo.h"
#include "pvli_trace_hooks.h"

/* Second read of pvli_trace.h, now generating the events (define_trace.h). */
#define CREATE_TRACE_POINTS
#include "pvli_trace.h"

EXPORT_TRACEPOINT_SYMBOL_GPL(pvli_lock_wait);
EXPORT_TRACEPOINT_SYMBOL_GPL(pvli_lock_acquired);
EXPORT_TRACEPOINT_SYMBOL_GPL(pvli_lock_release);

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
EXPORT_SYMBOL_GPL(__pvli_trace_wait);

void __pvli_trace_acquired(const void *lock, u32 policy)
{
	u64 t = ktime_get_mono_fast_ns();

	trace_pvli_lock_acquired((u64)(unsigned long)lock, policy,
				 steal_or_unknown(smp_processor_id()), t);
}
EXPORT_SYMBOL_GPL(__pvli_trace_acquired);

void __pvli_trace_release(const void *lock, u32 policy)
{
	u64 t = ktime_get_mono_fast_ns();

	trace_pvli_lock_release((u64)(unsigned long)lock, policy,
				steal_or_unknown(smp_processor_id()), t);
}
EXPORT_SYMBOL_GPL(__pvli_trace_release);
