/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The takeover's refusal list: the facts about the running kernel that
 * decide whether pvlockinfo_takeover may replace its spinlock functions,
 * and the decision.  The decision is plain C with no kernel dependency,
 * so the user-space unit tests check every entry of the list, including
 * the kernels we cannot boot here (LOCKDEP, DEBUG_SPINLOCK, KVM).
 */
#ifndef __PVLI_TK_REFUSE_H
#define __PVLI_TK_REFUSE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#endif

struct pvli_tk_facts {
	bool hypervisor;	/* X86_FEATURE_HYPERVISOR */
	unsigned int cpus;	/* possible CPUs */
	bool lockdep;		/* CONFIG_LOCKDEP */
	bool debug_spinlock;	/* CONFIG_DEBUG_SPINLOCK */
	bool pv_spinlocks;	/* the pv slow path is installed (KVM PV_UNHALT, Xen) */
	/*
	 * virt_spin_lock_key is on: the kernel's slow path is virt_spin_lock()'s
	 * test-and-set (measured, see pvli_takeover.c), not the queued MCS one.
	 */
	bool virt_spin_lock;
	unsigned int nohz_full;	/* CPUs in nohz_full mode */
	/* A function another IPMODIFY ftrace user (a livepatch) already has, or NULL. */
	const char *ipmodify_taken;
};

/*
 * 0 if the takeover may apply; else -EOPNOTSUPP (this kernel is not one
 * it is made for) or -EBUSY (someone else patches the same functions),
 * with the reason in @why.  The first reason in the list wins.
 */
int pvli_tk_refusal(const struct pvli_tk_facts *f, char *why, size_t len);

#endif /* __PVLI_TK_REFUSE_H */
