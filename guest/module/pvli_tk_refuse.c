// SPDX-License-Identifier: GPL-2.0-only
/*
 * The takeover's refusal list (see pvli_tk_refuse.h).  Each entry says
 * why mixing the original spinlock functions with ours would be unsafe
 * or pointless there; the takeover is only safe because every path of
 * the kernel that it does not replace takes a lock by a cmpxchg of the
 * whole word from 0 and releases it by a store of 0 to the locked byte.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#else
#include <errno.h>
#include <stdio.h>
#endif

#include "pvli_tk_refuse.h"

int pvli_tk_refusal(const struct pvli_tk_facts *f, char *why, size_t len)
{
	if (!f->hypervisor) {
		snprintf(why, len, "not a guest: spinlocks use the queued slow path, not test-and-set");
		return -EOPNOTSUPP;
	}
	if (f->cpus < 2) {
		snprintf(why, len, "one CPU: no spinlock is ever contended, there is nothing to take over");
		return -EOPNOTSUPP;
	}
	if (f->lockdep) {
		snprintf(why, len, "LOCKDEP kernel: its spinlock functions track lock classes and owners that the replacements would not, and old and new code mix on the same locks");
		return -EOPNOTSUPP;
	}
	if (f->debug_spinlock) {
		snprintf(why, len, "DEBUG_SPINLOCK kernel: its spinlocks record owners that the replacements would not, and old and new code mix on the same locks");
		return -EOPNOTSUPP;
	}
	if (f->pv_spinlocks) {
		snprintf(why, len, "paravirt spinlocks are active (the hypervisor's pv slow path)");
		return -EOPNOTSUPP;
	}
	if (!f->virt_spin_lock) {
		snprintf(why, len, "virt_spin_lock_key is off (nopvspin, KVM_HINTS_REALTIME or one CPU): the kernel's slow path queues MCS-style, and its tail and plain-store hand-over would collide with the takeover's word");
		return -EOPNOTSUPP;
	}
	if (f->nohz_full) {
		snprintf(why, len, "%u nohz_full CPU%s: a halted waiter there has no tick to bound its halt",
			 f->nohz_full, f->nohz_full == 1 ? "" : "s");
		return -EOPNOTSUPP;
	}
	if (f->ipmodify_taken) {
		snprintf(why, len, "another livepatch (or ftrace IPMODIFY user) already patches %s",
			 f->ipmodify_taken);
		return -EBUSY;
	}
	return 0;
}
