/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockinfo lock core: one lock word, one queue, several policies.  See
 * shfl_lock.c for the algorithm, shfl_shuffle.c for the shuffler,
 * shfl_policy.c for the policies, pvspin_lock.c for the pv qspinlock
 * baseline and mcs_lock.c for the plain FIFO one.
 */
#ifndef __SHFL_LOCK_H
#define __SHFL_LOCK_H

#include "shfl_shim.h"

/*
 * The lock word: 32 bits in qspinlock's little-endian layout (x86), so
 * that the same lock can live in the guest kernel's own spinlocks (the
 * takeover) as well as in pvlockinfo's locks:
 *
 *   bits  0-6   holder: 0 free; 1 taken by a path that names nobody (the
 *               kernel's own _Q_LOCKED_VAL); else the holder's CPU + 2
 *   bit   7     SLOW: a waiter halts on the word, the release must kick
 *   bits  8-14  head: the queue head's CPU + 1; 0 none named
 *   bit   15    URGENT: the head has waited past the bound: from now on
 *               only it may take a free word
 *   bits 16-31  tail: ((CPU + 1) << 2 | nesting level); 0 no queue
 *
 * The locked byte (bits 0-7) is nonzero exactly while the lock is held.
 */
struct shfl_word {
	union {
		u32 val;
		struct {
			u8 locked;
			u8 head;
			u16 tail;
		};
	};
};

#define SHFL_HOLDER_MASK	0x0000007fU
#define SHFL_SLOW		0x00000080U
#define SHFL_LOCKED_MASK	0x000000ffU
#define SHFL_HEAD_MASK		0x00007f00U
#define SHFL_URGENT		0x00008000U
#define SHFL_TAIL_MASK		0xffff0000U
#define SHFL_HEAD_SHIFT		8
#define SHFL_TAIL_SHIFT		16

#define SHFL_UNKNOWN_HOLDER	1U	/* _Q_LOCKED_VAL */
#define SHFL_CPU_BIAS		2U
#define SHFL_MAX_HOLDER_CPU	(SHFL_HOLDER_MASK - SHFL_CPU_BIAS)
#define SHFL_MAX_HEAD_CPU	((SHFL_HEAD_MASK >> SHFL_HEAD_SHIFT) - 1)
#define SHFL_MAX_QUEUE_CPU	((1U << 14) - 2)

/* Queue nodes per CPU: one per context that can nest (task, softirq, hardirq, NMI). */
#define SHFL_LEVELS		4

#define SHFL_NO_CPU		0xffffU
#define SHFL_QUOTA_UNKNOWN	(~0ULL)	/* shfl_vcpu_quota_ns(): no bound known */

/*
 * A waiter's node, one per CPU per nesting level (as qspinlock's qnodes).
 * It is used from the moment its CPU enters the slow path at that level
 * (for halt state, queued or not) until it leaves with the lock.
 */
struct shfl_node {
	struct shfl_node *next;	/* queue successor; written by it (link) and the shuffler */
	u32 status;		/* SHFL_WAITING until the predecessor makes us the head */
	u16 cpu;		/* immutable */
	u16 level;		/* immutable */
	u32 tail;		/* this node's tail bits in a word; immutable */
	u32 batch;		/* shuffler: member of a shuffled batch */
	u32 shuffler;		/* shuffler: holds the token */
	u32 bypassed;		/* shuffler: times a waiter was moved ahead of this one */
	/*
	 * What this waiter halts on (a lock word or its own status), or
	 * NULL.  Per node, not per CPU: an interrupt that waits for another
	 * lock on the same CPU uses its own node, so it cannot hide this
	 * one from the kicker (see "Halting" in shfl_lock.c).
	 */
	u32 *halted_on;
};

#define SHFL_WAITING		0U
#define SHFL_HEAD		1U

/* Who may take a free word past an existing queue (struct shfl_policy.steal). */
enum shfl_steal {
	/* ShflLock (aqs.c): newcomers take a free word only while there is no queue. */
	SHFL_STEAL_NO_QUEUE,
	/* Newcomers compete for a free word until the head turns urgent. */
	SHFL_STEAL_UNTIL_URGENT,
	/* Test-and-set: nobody ever queues. */
	SHFL_STEAL_ALWAYS,
};

struct shfl_lock;

/**
 * struct shfl_policy - what distinguishes shfl, shfl-pv, shfl-quota, tas-pv
 * @name:        as users type it
 * @trace_id:    its number in the pvlockinfo tracepoints
 *               (enum pvli_trace_policy, include/pvli_trace_ids.h)
 * @steal:       who may take a free word past a queue (enum shfl_steal)
 * @spin_budget: a newcomer that may steal spins this many times on the
 *               word before it queues (0: queues at once)
 * @quick_spins: looks at the word before a waiter sets up: it takes a
 *               wholly free word, and sets up at once if there is a
 *               queue (0: none)
 * @park_budget: a newcomer of a queueing policy halts on the word behind
 *               preempted holders this many times, then queues when it
 *               would halt again (0: never queues for that reason)
 * @node_spins:  a queued waiter that is not the head spins this many
 *               times, then halts until made the head (0: never halts
 *               for that reason)
 * @channel:     consult the host's page: halt while the holder's vCPU is
 *               preempted; count a queue head whose vCPU is not running
 *               as absent; steal past a queue (without a live page the
 *               policy is ShflLock)
 * @park_delay_ns: halt behind a preempted holder only once it has been
 *               seen preempted this long
 * @quota:       I-Spinlock's gate: a vCPU whose run quota will not cover
 *               a typical hold does not take the lock (nor is preferred)
 * @pre_kick:    when a waiter is made the head, also wake its successor
 *               if it halts, so that it is back before it is needed
 * @urgent_bypass, @urgent_ns: the bound (steal past a queue only): the
 *               head turns urgent after losing this many free words, or
 *               after this long as the head
 * @prefer:      shuffler: move @curr up into @shuffler's batch?  NULL:
 *               this policy never shuffles
 * @stats_set:   which per-CPU counters it adds to (SHFL_STATS_*)
 *
 * Every knob off is ShflLock with nothing to shuffle by.
 */
struct shfl_policy {
	const char *name;
	unsigned int trace_id;
	enum shfl_steal steal;
	u32 spin_budget;
	u32 quick_spins;
	u32 park_budget;
	u32 node_spins;
	bool channel;
	u64 park_delay_ns;
	bool quota;
	bool pre_kick;
	u32 urgent_bypass;
	u64 urgent_ns;
	bool (*prefer)(const struct shfl_policy *pol, const struct shfl_node *shuffler,
		       const struct shfl_node *curr, u64 hold_ns);
	unsigned int stats_set;
};

/* Counters per CPU, one set for pvlockinfo's locks, one for the kernel's (takeover). */
#define SHFL_STATS_LOCKS	0
#define SHFL_STATS_KERNEL	1
#define SHFL_NR_STATS		2

struct shfl_stats {
	u64 acquired;		/* lock taken */
	u64 stolen;		/* taken on the fast path or by a newcomer's spin */
	u64 queued;		/* went through the queue */
	u64 halts;		/* halts (any reason) */
	u64 kicks;		/* kicks sent */
	u64 shuffles;		/* waiters moved by a shuffler */
	u64 shuffle_walks;	/* shuffler passes over the queue */
	u64 holder_preempted;	/* a waiter halted because the holder's vCPU was preempted */
	u64 urgent;		/* heads that reached the bypass bound */
	u64 quota_waits;	/* a free word left alone for want of quota */
};

/* @sum += @s, field by field. */
static inline void shfl_stats_add(struct shfl_stats *sum, const struct shfl_stats *s)
{
	sum->acquired += s->acquired;
	sum->stolen += s->stolen;
	sum->queued += s->queued;
	sum->halts += s->halts;
	sum->kicks += s->kicks;
	sum->shuffles += s->shuffles;
	sum->shuffle_walks += s->shuffle_walks;
	sum->holder_preempted += s->holder_preempted;
	sum->urgent += s->urgent;
	sum->quota_waits += s->quota_waits;
}

struct shfl_stats_cpu {
	struct shfl_stats set[SHFL_NR_STATS];
};
SHFL_DECLARE_PER_CPU(struct shfl_stats_cpu, shfl_stats_pcpu);

/* Count an event of counter set @s (SHFL_STATS_*) on this CPU. */
#define shfl_stat_inc(s, field)		shfl_pcpu_inc(shfl_stats_pcpu, set[s].field)
#define shfl_stat_add(s, field, n)	shfl_pcpu_add(shfl_stats_pcpu, set[s].field, (n))

/* Sum of set @set's counters over all CPUs. */
void shfl_stats(unsigned int set, struct shfl_stats *sum);

/*
 * Bounds that make "no starvation" a number, not a hope.  A queue head
 * turns urgent after SHFL_URGENT_BYPASS free words lost to others, or
 * after SHFL_URGENT_NS as the head (about two host scheduler slices),
 * whichever comes first; from then on it is the next to hold the lock.
 * The shuffler overtakes a waiter at most SHFL_MAX_BYPASS times.  (The
 * policies' defaults; see struct shfl_policy.)
 */
#define SHFL_URGENT_BYPASS	16
#define SHFL_URGENT_NS		(6ULL * 1000 * 1000)
#define SHFL_MAX_BYPASS		8
#define SHFL_CHECK_MASK		0x7fU	/* consult the channel every 128 spins */
#define SHFL_MAX_QUICK_SPINS	1024	/* struct shfl_policy.quick_spins: they never halt */
#define SHFL_DEFAULT_HOLD_NS	2000	/* quota gate without a per-lock estimate */

/* Not const: pvlockinfo.ko's lock_* parameters tune the channel policies. */
extern struct shfl_policy shfl_policy_shfl;
extern struct shfl_policy shfl_policy_shfl_pv;
extern struct shfl_policy shfl_policy_shfl_quota;
extern struct shfl_policy shfl_policy_tas_pv;
/* The same, counting into SHFL_STATS_KERNEL: the takeover's policies. */
extern struct shfl_policy shfl_policy_kernel_shfl_pv;
extern struct shfl_policy shfl_policy_kernel_tas_pv;
/* The takeover switched off: test-and-set, no channel (the kernel's own waiting). */
extern struct shfl_policy shfl_policy_kernel_tas;

/* ---- the word, for locks we do not own (the takeover) ------------------------ */

/* This CPU's value for the holder bits. */
static inline u32 shfl_me(void)
{
	u32 cpu = shfl_cpu();

	return cpu <= SHFL_MAX_HOLDER_CPU ? cpu + SHFL_CPU_BIAS : SHFL_UNKNOWN_HOLDER;
}

/* The holder's CPU as the word @v names it, or -1 (free, or unknown). */
static inline int shfl_holder_of(u32 v)
{
	u32 h = v & SHFL_HOLDER_MASK;

	return h >= SHFL_CPU_BIAS ? (int)(h - SHFL_CPU_BIAS) : -1;
}

/* word: 0 -> this CPU holds.  The kernel's own fast path, naming us. */
static inline bool shfl_word_trylock(struct shfl_word *w)
{
	u32 v = READ_ONCE(w->val);

	/* Acquire: pairs with the release of whoever unlocked it. */
	return !v && cmpxchg_acquire(&w->val, v, shfl_me()) == v;
}

void shfl_kick_halted(struct shfl_word *w);

/* Locked byte -> 0, whoever held; kick the waiters halted on the word. */
static inline void shfl_word_unlock(struct shfl_word *w)
{
	/* Release, and a full barrier: pairs with the one in park_on_word(). */
	if (unlikely(xchg(&w->locked, 0) & SHFL_SLOW))
		shfl_kick_halted(w);
}

/* shfl_word_lock_slowpath() flags */
/*
 * The caller turned interrupts off for this lock only (spin_lock_irq*()
 * with them on before): wait with them on, take the lock with them off.
 * Test-and-set policies only: an interrupt handler on top of a queued
 * node could want the same lock.
 */
#define SHFL_WAIT_IRQS_ON	0x1U
/*
 * Take the word naming nobody (SHFL_UNKNOWN_HOLDER): for callers whose
 * release is the kernel's plain store, which kicks no one, so that no
 * waiter halts behind them.
 */
#define SHFL_WAIT_ANONYMOUS	0x2U
/*
 * Interrupts are off and stay off (the caller's): halt anyway where the
 * shim can end such a halt (shfl_can_halt_irqsoff(): an NMI kick).  Only
 * for callers whose every holder's release kicks from outside an NMI:
 * the takeover, which takes locks in an NMI naming nobody.
 */
#define SHFL_WAIT_HALT_IRQSOFF	0x4U

/*
 * The slow path for @w under @pol; @hold_ns: a typical hold of this lock
 * (the quota gate), 0 if unknown.  Returns holding the lock, interrupts as
 * on entry (or off, with SHFL_WAIT_IRQS_ON).  Waiters with interrupts
 * off halt only with SHFL_WAIT_HALT_IRQSOFF; in an NMI they never halt
 * and never queue.
 */
void shfl_word_lock_slowpath(struct shfl_word *w, const struct shfl_policy *pol, u64 hold_ns,
			     unsigned int flags);

/* Does the word @v name a holder whose vCPU the host has preempted? */
bool shfl_holder_preempted(u32 v);

/* ---- pvlockinfo's own locks -------------------------------------------------- */

struct shfl_lock {
	struct shfl_word w;
	const struct shfl_policy *policy;
	u64 hold_ns;		/* moving estimate of hold time (quota policies) */
	/*
	 * Quota policies time one acquisition in SHFL_HOLD_SAMPLE: two clock
	 * reads inside every critical section would lengthen every hold.
	 * Both fields are written by the holder only.
	 */
	u64 acquired_ns;	/* a timed acquisition's start; 0: not timed */
	u32 acquisitions;	/* acquisitions so far (quota policies) */
};

#define SHFL_HOLD_SAMPLE	16

void shfl_lock_init(struct shfl_lock *lock, const struct shfl_policy *policy);
void shfl_lock(struct shfl_lock *lock);
bool shfl_trylock(struct shfl_lock *lock);
void shfl_unlock(struct shfl_lock *lock);

/* The holder's CPU, or -1: a racy hint, for tracing. */
static inline int shfl_holder_cpu(const struct shfl_lock *lock)
{
	return shfl_holder_of(READ_ONCE(lock->w.val));
}

/* ---- the shuffler (shfl_shuffle.c) ------------------------------------------ */

/**
 * struct shfl_queue_ops - what a shuffler pass asks of the lock it walks
 * @is_tail:   is @curr the queue's tail right now (never moved: it may be
 *             getting a successor)?
 * @prefer:    move @curr up into @shuffler's batch?
 * @wait_over: has @node's own wait ended (it may take the lock, or it is
 *             the head now)?  A pass that has grouped someone stops then.
 * @swap_tail: optional: tail @old -> @new if it is still @old (a full
 *             barrier); lets a pass move a preferred tail up
 *
 * Embed it in a struct of your own and container_of() back to the lock.
 */
struct shfl_queue_ops {
	bool (*is_tail)(const struct shfl_queue_ops *q, const struct shfl_node *curr);
	bool (*prefer)(const struct shfl_queue_ops *q, const struct shfl_node *shuffler,
		       const struct shfl_node *curr);
	bool (*wait_over)(const struct shfl_queue_ops *q, const struct shfl_node *node);
	bool (*swap_tail)(const struct shfl_queue_ops *q, struct shfl_node *old,
			  struct shfl_node *new);
};

/* One shuffler pass over any queue of shfl_nodes behind @node; returns waiters moved. */
u32 shfl_walk_queue(struct shfl_node *node, const struct shfl_queue_ops *q);

/*
 * May @node run a pass now?  It holds the token, or it is the queue head
 * (@head) and in no batch yet, which ShflLock lets start one.
 */
static inline bool shfl_may_walk(const struct shfl_node *node, bool head)
{
	/* Acquire: pairs with the release that handed us the token. */
	return smp_load_acquire(&node->shuffler) || (head && !node->batch);
}

/* ---- channel questions the policies ask (shfl_policy.c) ---------------------- */

/* Is @cpu (not us) on no pCPU by the host's page: preempted? */
bool shfl_cpu_preempted(int cpu);
/* @cpu's node at nesting @level: for diagnostics (debugfs) and tests. */
struct shfl_node *shfl_waiter_node(int cpu, int level);
/* Does @cpu have a waiter halted on @ptr (any nesting level)? */
bool shfl_cpu_halted_on(int cpu, const u32 *ptr);
/* Would @cpu's run quota cover a hold of @hold_ns?  Unknown quota: yes. */
bool shfl_quota_covers(int cpu, u64 hold_ns);

/* ---- plain FIFO MCS lock (mcs_lock.c): ownership passes through the queue --- */

struct mcs_node {
	struct mcs_node *next;
	u32 locked;
};

struct mcs_lock {
	struct mcs_node *tail;
};

void mcs_lock_init(struct mcs_lock *lock);
void mcs_lock(struct mcs_lock *lock, struct mcs_node *node);
bool mcs_trylock(struct mcs_lock *lock, struct mcs_node *node);
void mcs_unlock(struct mcs_lock *lock, struct mcs_node *node);

#endif /* __SHFL_LOCK_H */
