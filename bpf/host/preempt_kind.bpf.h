/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one rule for what a host preemption of a vCPU hits in the guest,
 * read from the guest half of its record (include/pvli_abi.h) while the
 * vCPU is off its pCPU.  host_sched.bpf.c counts it into the page
 * (lhp_count, lwp_count) and its private counters; pvlockstat.bpf.c into
 * its per-thread statistics.  One rule, so the two never disagree on
 * what an LHP is.
 *
 *   a lock held:        hold_depth or kernel_hold_depth != 0    LHP
 *   else one waited for: wait_lock or kernel_waiting != 0        LWP
 *   else                                                        harmless
 *
 * The kernel_* fields are the guest kernel's own spinlocks, published
 * while the takeover is applied (PVLI_GUEST_KERNEL_LOCKS); zero
 * otherwise.  A hold outranks a wait: a vCPU that holds one lock while
 * it waits for another (nesting) delays every waiter of the first.
 *
 * The guest half is untrusted: each field is loaded once and only tested
 * for zero, never followed or used as an index.
 *
 * Include after vmlinux.h (in a unit test: <linux/types.h> and
 * <stdbool.h>), bits.bpf.h and pvli_abi.h.
 */
#ifndef __PVLI_PREEMPT_KIND_BPF_H
#define __PVLI_PREEMPT_KIND_BPF_H

enum pvli_preempt_kind {
	PVLI_PREEMPT_HARMLESS = 0,	/* no guest lock held or waited for */
	PVLI_PREEMPT_LHP = 1,		/* lock-holder preemption */
	PVLI_PREEMPT_LWP = 2,		/* lock-waiter preemption */
};

/*
 * What preempting the vCPU whose guest half is @g hits.  @kernel, if not
 * NULL, says whether a guest kernel spinlock makes it so: for an LHP,
 * kernel_hold_depth != 0; for an LWP, kernel_waiting != 0.
 */
static __always_inline enum pvli_preempt_kind
pvli_preempt_kind(const struct pvli_vcpu_guest *g, bool *kernel)
{
	__u32 depth = READ_ONCE(g->hold_depth);
	__u32 kdepth = READ_ONCE(g->kernel_hold_depth);
	__u64 wait = READ_ONCE(g->wait_lock);
	__u32 kwait = READ_ONCE(g->kernel_waiting);

	if (depth || kdepth) {
		if (kernel)
			*kernel = kdepth != 0;
		return PVLI_PREEMPT_LHP;
	}
	if (kernel)
		*kernel = kwait != 0;
	return wait || kwait ? PVLI_PREEMPT_LWP : PVLI_PREEMPT_HARMLESS;
}

#endif /* __PVLI_PREEMPT_KIND_BPF_H */
