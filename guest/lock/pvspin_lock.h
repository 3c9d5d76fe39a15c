/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvspin: Linux's paravirt queued spinlock, ported function by function
 * (kernel/locking/qspinlock.c and qspinlock_paravirt.h): the baseline
 * that KVM guests with PV_UNHALT run.  See pvspin_lock.c.
 */
#ifndef __PVSPIN_LOCK_H
#define __PVSPIN_LOCK_H

#include "shfl_shim.h"

/* qspinlock's word (x86, NR_CPUS < 16K): locked byte, pending byte, tail. */
struct pvspin_lock {
	union {
		u32 val;
		struct {
			u8 locked;
			u8 pending;
		};
		struct {
			u16 locked_pending;
			u16 tail;
		};
	};
};

#define PVSPIN_LOCKED_VAL	1U	/* _Q_LOCKED_VAL */
#define PVSPIN_SLOW_VAL		3U	/* _Q_SLOW_VAL: the unlocker must unhash and kick */
#define PVSPIN_LOCKED_MASK	0x000000ffU
#define PVSPIN_PENDING_VAL	0x00000100U
#define PVSPIN_PENDING_MASK	0x0000ff00U
#define PVSPIN_LOCKED_PENDING_MASK (PVSPIN_LOCKED_MASK | PVSPIN_PENDING_MASK)
#define PVSPIN_TAIL_MASK	0xffff0000U
#define PVSPIN_TAIL_SHIFT	16

/* SPIN_THRESHOLD on x86 (arch/x86/include/asm/spinlock.h). */
#define PVSPIN_SPIN_THRESHOLD	(1U << 15)

static inline void pvspin_lock_init(struct pvspin_lock *lock)
{
	lock->val = 0;
}

void pvspin_lock(struct pvspin_lock *lock);
bool pvspin_trylock(struct pvspin_lock *lock);
void pvspin_unlock(struct pvspin_lock *lock);
/* Can this build run pvspin (its hash table holds this many CPUs)? */
bool pvspin_supported(void);

#endif /* __PVSPIN_LOCK_H */
