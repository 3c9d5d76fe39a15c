// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel half of the lock-core shim: halting a vCPU and kicking it.
 *
 * A halt is sti;hlt with the condition checked under local_irq_disable(),
 * so a kick IPI that arrives after the check stays pending and ends the
 * hlt at once (the sti shadow covers the hlt).  The host sees the vCPU
 * halt and gives its pCPU to someone else: under TCG the vCPU thread
 * sleeps, under KVM the vCPU exits.  Any other interrupt (the tick) also
 * ends a halt, which callers treat as spurious.  No halt where a kick's
 * IPI would not be sent: on top of a polling idle task (shfl_can_halt()).
 *
 * A kick is a call_single_data IPI to the target CPU behind a claim bit
 * of its own: the first kicker to set the target's claim sends the IPI,
 * the others find it set and lose nothing, as an IPI is on its way; the
 * IPI's handler clears the claim (after a full barrier the target then
 * re-checks what it waits for).  The claim serialises the callers of
 * smp_call_function_single_async(), which must not queue one csd twice
 * (its CSD_FLAG_LOCK test is not atomic: two unlockers kicking one CPU
 * could link the csd into the IPI list twice, a self-linked list and a
 * hard lockup).  irq_work_queue_on() would claim atomically too, but it
 * is not exported to modules.  Sending an IPI is not NMI-safe, so a kick
 * from an NMI is recorded in this CPU's nmi_kicks and sent by a local
 * irq_work (which an NMI may queue) once the NMI is over.  A CPU halted
 * with its interrupts off is kicked by an NMI instead (shim_kernel_nmi.c).
 */
#include <linux/cpumask.h>
#include <linux/export.h>
#include <linux/bitops.h>
#include <linux/irq_work.h>
#include <linux/irqflags.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>

#include "shfl_lock.h"

static DEFINE_PER_CPU(call_single_data_t, kick_csd);	/* a kick to this CPU */
static DEFINE_PER_CPU(unsigned long, kick_claim);	/* bit 0: a kick is on its way */
static DEFINE_PER_CPU(struct irq_work, nmi_flush);	/* this CPU's NMI kicks */
static DEFINE_PER_CPU(cpumask_t, nmi_kicks);		/* targets kicked from NMI here */

/* On the target, in the IPI: taking the interrupt ended the hlt. */
static void kick_ipi(void *claim)
{
	clear_bit(0, claim);
	/* Pairs with the kicker's claim: we re-check what we wait for after this. */
	smp_mb__after_atomic();
}

static void notrace send_kick(int cpu)
{
	unsigned long *claim = per_cpu_ptr(&kick_claim, cpu);

	/* Halted with interrupts off: only an NMI ends that (shim_kernel_nmi.c). */
	if (shfl_kick_by_nmi(cpu))
		return;
	/* Set: a kick to @cpu is on its way, which is as good (see above). */
	if (test_and_set_bit(0, claim))
		return;
	/* The csd was unlocked before its last handler ran: never -EBUSY, but be sure. */
	if (smp_call_function_single_async(cpu, per_cpu_ptr(&kick_csd, cpu)))
		clear_bit(0, claim);
}

/* After an NMI on this CPU: send the kicks it could not. */
static void flush_nmi_kicks(struct irq_work *work)
{
	cpumask_t *mask = this_cpu_ptr(&nmi_kicks);
	int cpu;

	for_each_cpu(cpu, mask) {
		if (cpumask_test_and_clear_cpu(cpu, mask))
			send_kick(cpu);
	}
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
	if (cpu == smp_processor_id())
		return;		/* we are not halted */
	if (unlikely(in_nmi())) {
		cpumask_set_cpu(cpu, this_cpu_ptr(&nmi_kicks));
		irq_work_queue(this_cpu_ptr(&nmi_flush));
		return;
	}
	send_kick(cpu);
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
	for_each_possible_cpu(cpu) {
		INIT_CSD(per_cpu_ptr(&kick_csd, cpu), kick_ipi, per_cpu_ptr(&kick_claim, cpu));
		*per_cpu_ptr(&kick_claim, cpu) = 0;
		*per_cpu_ptr(&nmi_flush, cpu) = IRQ_WORK_INIT_HARD(flush_nmi_kicks);
		cpumask_clear(per_cpu_ptr(&nmi_kicks, cpu));
	}
	return shfl_nmi_halt_init();
}

/*
 * Before the module goes: no NMI kick may still be queued, and no kick
 * IPI may still be on its way to a handler in this module.
 */
void shfl_shim_exit(void)
{
	int cpu;

	shfl_nmi_halt_exit();
	for_each_possible_cpu(cpu)
		irq_work_sync(per_cpu_ptr(&nmi_flush, cpu));
	for_each_possible_cpu(cpu) {
		while (test_bit(0, per_cpu_ptr(&kick_claim, cpu)))
			cpu_relax();
	}
	/* A handler that has cleared its claim may still be returning: IRQs off, an RCU reader. */
	synchronize_rcu();
}
