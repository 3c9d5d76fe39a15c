/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A ShflLock queue inside the kernel's 32-bit qspinlock word, for the
 * kernel-spinlock takeover (see qword_lock.c).  Built into pvlockinfo.ko
 * and into the user-space test library, like the rest of the lock core.
 */
#ifndef __QWORD_LOCK_H
#define __QWORD_LOCK_H

#include "shfl_lock.h"

/*
 * The word, in qspinlock's little-endian layout (x86):
 *
 *   bits  0-6   holder: 0 free, 1 taken by a path that does not say who
 *               (the kernel's own _Q_LOCKED_VAL), else CPU + 2
 *   bit   7     HALTED: a waiter halts on the word; the release must kick
 *   bits  8-15  head: the queue head's CPU + 1; 0 none (a hint, as
 *               shfl_lock's head_cpu)
 *   bits 16-31  tail: ((CPU + 1) << 2 | node index); 0 no queue
 */
struct qword {
	union {
		u32 val;
		struct {
			u8 locked;
			u8 head;
			u16 tail;
		};
	};
};

#define QWORD_LOCKED_MASK	0x000000ffU
#define QWORD_HOLDER_MASK	0x0000007fU
#define QWORD_HALTED		0x00000080U
#define QWORD_HEAD_MASK		0x0000ff00U
#define QWORD_TAIL_MASK		0xffff0000U
#define QWORD_HEAD_SHIFT	8
#define QWORD_TAIL_SHIFT	16

#define QWORD_UNKNOWN_HOLDER	1U	/* _Q_LOCKED_VAL */
#define QWORD_CPU_BIAS		2U
#define QWORD_MAX_HOLDER_CPU	(QWORD_HOLDER_MASK - QWORD_CPU_BIAS)
#define QWORD_MAX_HEAD_CPU	0xfeU
#define QWORD_MAX_QUEUE_CPU	((1U << 14) - 2)

/* Queue nodes per CPU: one per context that can nest (task, softirq, hardirq, NMI). */
#define QWORD_NODES		4

struct qword_node {
	struct shfl_node n;
	struct qword *lock;	/* the lock this node queues on */
	u32 tail;		/* this node's tail bits in the word */
};

/* This CPU's value for the holder bits. */
static inline u32 qword_me(void)
{
	u32 cpu = shfl_cpu();

	return cpu <= QWORD_MAX_HOLDER_CPU ? cpu + QWORD_CPU_BIAS : QWORD_UNKNOWN_HOLDER;
}

/* The holder's CPU as the word @v names it, or -1 (free, or unknown). */
static inline int qword_holder_cpu(u32 v)
{
	u32 h = v & QWORD_HOLDER_MASK;

	return h >= QWORD_CPU_BIAS ? (int)(h - QWORD_CPU_BIAS) : -1;
}

/* word: 0 -> this CPU holds.  The kernel's own fast path, naming us. */
static inline bool qword_trylock(struct qword *lock)
{
	u32 v = READ_ONCE(lock->val);

	/* Acquire: pairs with the release of whoever unlocked it. */
	return !v && cmpxchg_acquire(&lock->val, v, qword_me()) == v;
}

void qword_kick_halted(struct qword *lock);

/* Locked byte -> 0, whatever holder it named; kick waiters halted on the word. */
static inline void qword_unlock(struct qword *lock)
{
	/* Release, and a full barrier: see the HALTED invariant in qword_lock.c. */
	if (unlikely(xchg(&lock->locked, 0) & QWORD_HALTED))
		qword_kick_halted(lock);
}

bool qword_steal(struct qword *lock, u32 v);
bool qword_holder_preempted(u32 v);
void qword_park(struct qword *lock, u32 v);
void qword_lock_queued(struct qword *lock);
void qword_stats(struct shfl_stats *sum);

#endif /* __QWORD_LOCK_H */
