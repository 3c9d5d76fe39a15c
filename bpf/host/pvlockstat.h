/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Types shared by bpf/host/pvlockstat.bpf.c and host/pvlockstat.c.
 * Fixed-width types only.
 */
#ifndef __PVLOCKSTAT_H
#define __PVLOCKSTAT_H

/* log2 histogram of microseconds: slot i counts [2^i, 2^(i+1)) us (slot 0: < 2 us). */
#define PVLS_HIST_SLOTS	27

/*
 * Per vCPU thread, keyed by host thread id.  Every counter covers the time
 * since pvlockstat attached.  Off-CPU and wait times are measured from the
 * moment the thread became runnable-but-not-running (preempted, or woken
 * from a halt) to its next switch-in.
 */
struct pvls_vcpu {
	__u32 vm_slot;		/* pvlockd's slot of the VM (pages map index) */
	__u32 vcpu;		/* vCPU index in the VM */
	__u64 preempted;	/* switch-outs while runnable */
	/*
	 * Times the vCPU lost its pCPU to another task while the guest held
	 * a lock / waited for one (the rule: preempt_kind.bpf.h): at a
	 * preemption, or at a wakeup that found the pCPU taken.
	 */
	__u64 lhp;
	__u64 lwp;
	/* Of those, the ones where a guest kernel spinlock was held / waited for. */
	__u64 lhp_kernel;
	__u64 lwp_kernel;
	__u64 steal_ns;		/* runnable, not running: preempted or woken */
	__u64 rq_waits;		/* waits that ended in a switch-in */
	__u64 lhp_offcpu_ns;	/* off-CPU time that started as an LHP */
	__u64 lwp_offcpu_ns;	/* off-CPU time that started as an LWP */
	__u32 lhp_hist[PVLS_HIST_SLOTS];	/* off-CPU time of preempted holders */
	__u32 lwp_hist[PVLS_HIST_SLOTS];	/* off-CPU time of preempted waiters */
	__u32 rq_hist[PVLS_HIST_SLOTS];		/* every run-queue wait */
};

#endif /* __PVLOCKSTAT_H */
