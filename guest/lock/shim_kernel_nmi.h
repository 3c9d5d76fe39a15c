/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the two halves of the irqs-off halt share, inside the module:
 * shim_kernel_nmi.c (the halt, the NMI kick and its handler) and
 * shim_kernel_nmi_arm.c (when such halts are allowed, the watchdog that
 * ends a halt whose kick was lost, module init and exit).
 */
#ifndef __SHFL_SHIM_KERNEL_NMI_H
#define __SHFL_SHIM_KERNEL_NMI_H

#include <linux/hrtimer.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/types.h>

struct nmi_halt_cpu {
	u32 halting;		/* in shfl_halt_irqsoff(): kicks must be NMIs */
	u32 seq;		/* halts begun here: one halt from the next */
	unsigned long since;	/* jiffies when the current one began */
	unsigned long pending;	/* bit 0: one of our NMIs is on its way here */
	unsigned long hlts;	/* shfl_halt_irqsoff() calls that reached the hlt */
	unsigned long kicks;	/* NMIs sent from here (kicks) */
	unsigned long rescues;	/* NMIs sent from here (the watchdog) */
	unsigned long skips;	/* NMIs that landed in the window: hlt skipped */
	unsigned long misses;	/* ... and could not skip it (frame not found) */
	int selftest;		/* 1: armed; 2: frame as expected; 3: not */
	struct hrtimer watch;
};
DECLARE_PER_CPU_ALIGNED(struct nmi_halt_cpu, shfl_nmi_halt_cpu);

void shfl_nmi_send(int cpu);
int shfl_nmi_kick_handler(unsigned int type, struct pt_regs *regs);
int shfl_nmi_frame_selftest(void);

#endif /* __SHFL_SHIM_KERNEL_NMI_H */
