/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockinfo lock core: one queue lock, several policies.  See shfl_lock.c
 * for the algorithm and mcs_lock.c for the plain FIFO baseline.
 */
#ifndef __SHFL_LOCK_H
#define __SHFL_LOCK_H

#include "shfl_shim.h"

/*
 * Lock word.  The queue (tail) is separate from the word, as in ShflLock
 * and qspinlock: the queue orders waiters, the word says who holds.
 *
 *   bit 0  LOCKED    someone holds the lock
 *   bit 1  SLOW      a waiter halted on the word: the unlocker must kick
 *                    lock->kick_cpu (qspinlock's _Q_SLOW_VAL)
 *   bit 8  NO_STEAL  the queue has a head: newcomers may not barge in
 */
#define SHFL_LOCKED		0x001U
#define SHFL_SLOW		0x002U
#define SHFL_NO_STEAL		0x100U

#define SHFL_NO_CPU		0xffffU
#define SHFL_QUOTA_UNKNOWN	(~0ULL)	/* shfl_vcpu_quota_ns(): no bound known */

struct shfl_node {
	struct shfl_node *next;
	u32 status;		/* SHFL_WAITING until the predecessor says READY */
	u16 cpu;		/* immutable while queued */
	u16 prev_cpu;		/* predecessor's CPU at enqueue (pvspin wait-early) */
	u32 batch;		/* !0: member of a shuffled batch */
	u32 shuffler;		/* holds the shuffler token */
	u32 bypassed;		/* times a waiter was moved ahead of this one */
	u32 yields;		/* times this waiter gave up the queue head */
	u64 wait_start;		/* shfl_now_ns() at entry, for quota gating */
};

#define SHFL_WAITING		0U
#define SHFL_READY		1U

struct shfl_lock;

/**
 * struct shfl_policy - what distinguishes shfl, shfl-pv, shfl-quota, pvspin
 * @name:        as users type it
 * @trace_id:    its number in the pvlockinfo tracepoints
 *               (enum pvli_trace_policy, include/pvli_trace_ids.h)
 * @prefer:      shuffler: move @curr up to join @shuffler's batch?  NULL:
 *               this policy never shuffles
 * @should_park: a waiter (@head: the queue head, spinning on the word)
 *               has spun @spins times: halt now?  NULL: never halt
 * @should_yield: the queue head may give its place away and requeue
 *               (bounded by SHFL_MAX_YIELDS).  NULL: never
 * @lazy_kick:   a halted successor is not woken at hand-over but made the
 *               one the unlocker kicks (qspinlock's pv_kick_node())
 * @track_hold:  keep lock->hold_ns, a moving estimate of hold time
 * @steal_past_preempted_head: a newcomer may take a free word although a
 *               queue has formed, while the queue head's vCPU is preempted
 *               (the lock would otherwise sit idle until that vCPU runs)
 *
 * Every hook is optional; with all of them NULL the lock is an MCS queue
 * with a test-and-set fast path (ShflLock with nothing to shuffle by).
 */
struct shfl_policy {
	const char *name;
	unsigned int trace_id;
	bool (*prefer)(const struct shfl_lock *lock, const struct shfl_node *shuffler,
		       const struct shfl_node *curr);
	bool (*should_park)(const struct shfl_lock *lock, const struct shfl_node *node,
			    bool head, u32 spins);
	bool (*should_yield)(const struct shfl_lock *lock, const struct shfl_node *node);
	bool lazy_kick;
	bool track_hold;
	bool steal_past_preempted_head;
};

struct shfl_lock {
	u32 word;
	u16 holder_cpu;		/* SHFL_NO_CPU when free; racy hint for waiters */
	u16 kick_cpu;		/* valid while SHFL_SLOW is set */
	u16 head_cpu;		/* queue head spinning on the word; racy hint */
	struct shfl_node *tail;
	u64 hold_ns;		/* moving estimate of hold time (track_hold) */
	u64 acquired_ns;	/* holder's acquisition time (track_hold) */
	const struct shfl_policy *policy;
};

/* Events, counted per CPU (kernel) or per thread (tests). */
struct shfl_stats {
	u64 acquired;		/* lock taken */
	u64 stolen;		/* taken on the fast path */
	u64 queued;		/* went through the queue */
	u64 halts;		/* shfl_halt() calls */
	u64 kicks;		/* shfl_kick() calls */
	u64 shuffles;		/* waiters moved by a shuffler */
	u64 shuffle_walks;	/* shuffler passes over the queue */
	u64 holder_preempted;	/* a waiter saw the holder's vCPU preempted */
	u64 yields;		/* queue heads that let others go first */
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
	sum->yields += s->yields;
}

/* Bounds that make "no starvation" a number, not a hope. */
#define SHFL_MAX_BYPASS		8	/* a waiter is overtaken at most this often */
#define SHFL_MAX_YIELDS		2	/* a waiter requeues at most this often */
#define SHFL_SPIN_THRESHOLD	(1U << 15)	/* pvspin: spins before halting */
#define SHFL_CHECK_MASK		0x7fU	/* consult the channel every 128 spins */

extern const struct shfl_policy shfl_policy_shfl;
extern const struct shfl_policy shfl_policy_shfl_pv;
extern const struct shfl_policy shfl_policy_shfl_quota;
extern const struct shfl_policy shfl_policy_pvspin;

void shfl_lock_init(struct shfl_lock *lock, const struct shfl_policy *policy);
void shfl_lock(struct shfl_lock *lock);
bool shfl_trylock(struct shfl_lock *lock);
void shfl_unlock(struct shfl_lock *lock);

/* The holder's CPU, or -1: a racy hint, for tracing. */
static inline int shfl_holder_cpu(const struct shfl_lock *lock)
{
	u16 cpu = READ_ONCE(lock->holder_cpu);

	return cpu == SHFL_NO_CPU ? -1 : cpu;
}

/* Exposed for the unit tests, which script queues and run one pass. */
u32 shfl_shuffle(struct shfl_lock *lock, struct shfl_node *node, bool head);

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

/* One shuffler pass over any queue of shfl_nodes behind @node. */
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

/* shfl-pv's preference, for other queues: same NUMA node, vCPU running. */
bool shfl_prefer_running(const struct shfl_node *shuffler, const struct shfl_node *curr);

/* Plain FIFO MCS lock: ownership passes through the queue. */
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
