/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside pvlockinfo_takeover.ko: the replacement spinlock functions
 * (pvli_tk_lock.c) and the livepatch that installs them (pvli_takeover.c).
 */
#ifndef __PVLI_TAKEOVER_H
#define __PVLI_TAKEOVER_H

#include <linux/spinlock.h>

/* The replacements, one per patched kernel function (same signatures). */
void pvli_tk_spin_lock(raw_spinlock_t *lock);
void pvli_tk_spin_lock_bh(raw_spinlock_t *lock);
void pvli_tk_spin_lock_irq(raw_spinlock_t *lock);
unsigned long pvli_tk_spin_lock_irqsave(raw_spinlock_t *lock);
int pvli_tk_spin_trylock(raw_spinlock_t *lock);
int pvli_tk_spin_trylock_bh(raw_spinlock_t *lock);
void pvli_tk_spin_unlock(raw_spinlock_t *lock);
void pvli_tk_spin_unlock_bh(raw_spinlock_t *lock);
void pvli_tk_spin_unlock_irq(raw_spinlock_t *lock);
void pvli_tk_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long flags);
void pvli_tk_slowpath(struct qspinlock *lock, u32 val);

/* Counters, per CPU, summed for the module parameters. */
enum pvli_tk_counter {
	TK_WAITS,	/* contended acquisitions (slow path entries) */
	TK_HALTS,	/* halts while the holder's vCPU was preempted */
	TK_KICKS,	/* halted waiters kicked by a release */
	TK_IRQ_WAITS,	/* waits done with interrupts back on (irq/irqsave callers) */
	TK_NR_COUNTERS,
	/* Counted by the lock core (shfl_lock.c), not per call here. */
	TK_QUEUED = TK_NR_COUNTERS,	/* waits that queued (policy shfl-pv) */
	TK_SHUFFLES,	/* waiters moved ahead of preempted ones */
};
unsigned long pvli_tk_count(enum pvli_tk_counter c);

int pvli_tk_lock_init(void);
int pvli_tk_show_held(char *buf, size_t len);

#endif /* __PVLI_TAKEOVER_H */
