/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel half of the lock-core shim: see shfl_shim.h. */
#ifndef __SHFL_SHIM_KERNEL_H
#define __SHFL_SHIM_KERNEL_H

#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/container_of.h>
#include <linux/export.h>
#include <linux/hardirq.h>
#include <linux/irqflags.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/string.h>
#include <linux/thread_info.h>
#include <linux/sched/clock.h>
#include <linux/topology.h>
#include <linux/smp.h>
#include <linux/types.h>

#include "pvlockinfo.h"
#include "pvli_trace.h"

#define shfl_cpu()			smp_processor_id()
#define shfl_cpu_node(cpu)		cpu_to_node(cpu)
#define shfl_now_ns()			local_clock()
#define shfl_channel_ok()		pvli_available()
/* Lock paths run with preemption off: no RCU read section, no tracing. */
#define shfl_vcpu_preempted(cpu)	pvli_vcpu_preempted_atomic(cpu)
#define shfl_vcpu_quota_ns(cpu)		pvli_vcpu_quota_ns(cpu)
#define shfl_publish_wait(lock)		pvli_publish_wait((u64)(unsigned long)(lock))
#define shfl_trace_shuffle(lock, n)	trace_pvli_shuffle((u64)(unsigned long)(lock), (n))
#define shfl_preempt_disable()		preempt_disable()
#define shfl_irq_disable()		local_irq_disable()
#define shfl_irq_enable()		local_irq_enable()
#define shfl_preempt_enable()		preempt_enable()

void shfl_halt(int cpu, u32 *ptr, u32 mask, u32 val);
void shfl_kick(int cpu);
/* The same without tracepoints, for code inside the kernel's spinlocks. */
void shfl_halt_untraced(u32 *ptr, u32 mask, u32 val);
void shfl_kick_untraced(int cpu);
/*
 * Could a kick end a halt here?  Not with interrupts off, not in an NMI,
 * and not on top of an idle task that polls (TIF_POLLING_NRFLAG: a
 * softirq that an interrupt ran in the idle loop's polling window, or
 * anywhere under idle=poll).  The kick's IPI is not sent to such a CPU
 * (call_function_single_prep_ipi() sets NEED_RESCHED for the poll loop
 * instead), so a halt there would last until some other interrupt; only
 * the idle task sets the flag, on itself, so reading it here is stable.
 */
#define shfl_can_halt()			(!irqs_disabled() && !in_nmi() && \
					 !test_thread_flag(TIF_POLLING_NRFLAG))
#define shfl_in_nmi()			in_nmi()
/*
 * Halting with interrupts off (shim_kernel_nmi.c, armed by
 * shim_kernel_nmi_arm.c): would a kick end it
 * here (armed, interrupts off, not in an NMI)?  Then halt while
 * (*ptr & mask) == val until a kick, which is an NMI.
 */
bool shfl_can_halt_irqsoff(void);
void shfl_halt_irqsoff(u32 *ptr, u32 mask, u32 val);
bool shfl_kick_by_nmi(int cpu);
int shfl_nmi_halts_enable(bool on);		/* the setting */
bool shfl_nmi_halts_enabled(void);
void shfl_nmi_halts_hold(bool hold);		/* a user comes or goes */
bool shfl_nmi_halts_armed(void);		/* enabled and held */
struct shfl_nmi_counts {
	unsigned long hlts;	/* halts with interrupts off that reached the hlt */
	unsigned long kicks;	/* kicks sent as NMIs */
	unsigned long rescues;	/* halts the watchdog ended (lost kicks) */
	unsigned long skips;	/* NMIs that landed between check and hlt */
	unsigned long misses;	/* of those, left to hlt (return frame not found) */
};
void shfl_nmi_halt_counts(struct shfl_nmi_counts *n);
extern u32 shfl_nmi_window_spins;	/* test hook: see shim_kernel_nmi.c */
int shfl_nmi_halt_init(void);
void shfl_nmi_halt_exit(void);

#define SHFL_DEFINE_PER_CPU(type, name)	DEFINE_PER_CPU_ALIGNED(type, name)
#define SHFL_DECLARE_PER_CPU(type, name)	DECLARE_PER_CPU_ALIGNED(type, name)
#define shfl_per_cpu(name, cpu)		per_cpu(name, cpu)
#define shfl_pcpu_inc(name, field)	this_cpu_inc(name.field)
#define shfl_pcpu_add(name, field, n)	this_cpu_add(name.field, (n))
#define shfl_for_each_cpu(cpu)		for_each_possible_cpu(cpu)
#define shfl_nr_cpu_ids()		nr_cpu_ids
int shfl_shim_init(void);
void shfl_shim_exit(void);

#define SHFL_EXPORT(sym)		EXPORT_SYMBOL_GPL(sym)
#define SHFL_EXPORT_PER_CPU(sym)	EXPORT_PER_CPU_SYMBOL_GPL(sym)

#endif /* __SHFL_SHIM_KERNEL_H */
