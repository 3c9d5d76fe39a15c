// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel half of the lock-core shim: halting a vCPU and kicking it.
 *
 * A halt is sti;hlt with the condition checked under local_irq_disable(),
 * so a kick IPI that arrives after the check stays pending and ends the
 * hlt at once (the sti shadow covers the hlt).  The host sees the vCPU
 * halt and gives its pCPU to someone else: under TCG the vCPU thread
 * sleeps, under KVM the vCPU exits.  A kick is a no-op cross-CPU call;
 * any other interrupt (the tick) also ends a halt, which callers treat as
 * spurious.
 */
#include <linux/export.h>
#include <linux/irqflags.h>
#include <linux/smp.h>

#include "shfl_lock.h"

DEFINE_PER_CPU(u32 *, shfl_halted_on_pcpu);
DEFINE_PER_CPU(struct shfl_stats, shfl_stats_pcpu);
EXPORT_PER_CPU_SYMBOL_GPL(shfl_stats_pcpu);
static DEFINE_PER_CPU(call_single_data_t, kick_csd);

static void kick_ipi(void *unused)
{
	/* Nothing to do: taking the interrupt ended the hlt. */
}

/* Halt while (*ptr & mask) == val; @trace_cpu >= 0: trace the halt. */
static __always_inline void halt_while(u32 *ptr, u32 mask, u32 val, int trace_cpu)
{
	/*
	 * With interrupts off on entry (a caller inside an irq-disabled
	 * section) a kick could never end the hlt: spin instead.
	 */
	if (!shfl_can_halt()) {
		cpu_relax();
		return;
	}
	local_irq_disable();
	if ((READ_ONCE(*ptr) & mask) == val) {
		if (trace_cpu >= 0)
			trace_pvli_halt(trace_cpu);
		safe_halt();	/* sti; hlt: returns with interrupts on */
	} else {
		local_irq_enable();
	}
}

void shfl_halt(int cpu, u32 *ptr, u32 mask, u32 val)
{
	halt_while(ptr, mask, val, cpu);
}

void notrace shfl_halt_untraced(u32 *ptr, u32 mask, u32 val)
{
	halt_while(ptr, mask, val, -1);
}
EXPORT_SYMBOL_GPL(shfl_halt_untraced);

void notrace shfl_kick_untraced(int cpu)
{
	/* -EBUSY: a kick to @cpu is already in flight, which is as good. */
	smp_call_function_single_async(cpu, per_cpu_ptr(&kick_csd, cpu));
}
EXPORT_SYMBOL_GPL(shfl_kick_untraced);

void shfl_kick(int cpu)
{
	trace_pvli_kick(cpu);
	shfl_kick_untraced(cpu);
}

int shfl_shim_init(void)
{
	int cpu;

	BUILD_BUG_ON(SHFL_QUOTA_UNKNOWN != PVLI_QUOTA_UNKNOWN);
	for_each_possible_cpu(cpu)
		INIT_CSD(per_cpu_ptr(&kick_csd, cpu), kick_ipi, NULL);
	return 0;
}
