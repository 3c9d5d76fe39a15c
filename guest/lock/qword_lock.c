// SPDX-License-Identifier: GPL-2.0-only
/*
 * qword lock: shfl-pv (shfl_lock.c, shfl_policy.c) for locks we do not
 * own: the guest kernel's spinlocks, under the takeover.  Their word is
 * 32 bits the kernel's inline code also uses, so the queue lives in the
 * word (as qspinlock's does): the tail names a per-CPU node, the lock
 * holds no pointers.
 *
 * Who else touches the word, and what they need (the guest has no pv
 * spinlocks, so the kernel's own contended path is virt_spin_lock()):
 *
 *  - the kernel's fast path and virt_spin_lock() take the lock by cmpxchg
 *    of the whole word from 0 to 1, and its trylock likewise: they never
 *    overtake a queue (its tail is in the word) and never see one they
 *    would have to join;
 *  - the kernel's unlock stores 0 to the locked byte: it releases whatever
 *    holder the byte named and kicks nobody (see HALTED below).
 *
 * Invariants:
 *
 *  - The locked byte is nonzero exactly while the lock is held.  Its
 *    holder bits name the holder's CPU (qword_me()) when taken here.
 *  - HALTED is set, by an atomic on the locked byte, only by a waiter
 *    about to halt that has published the word in shfl_halted_on(); it
 *    lasts until the release.  qword_unlock() is an xchg of the byte, so
 *    it sees HALTED and then kicks every CPU halted on the word.  After a
 *    kernel unlock (a plain store) a halted waiter wakes on its next
 *    interrupt, at the latest the tick.
 *  - A lock is taken by a cmpxchg that finds the locked byte 0:
 *    qword_trylock() from a 0 word, qword_steal() keeping head and tail
 *    (waiters that cannot queue, and newcomers past a preempted head),
 *    and the queue head.
 *  - The tail is set only by qword_lock_queued(): it swaps itself in and
 *    links behind the previous tail's node, which stays queued until it
 *    sees the link.  A head that takes the lock while it is the tail
 *    clears the tail (and head) in the same cmpxchg, so a newcomer that
 *    swapped the tail first makes that cmpxchg fail.
 *  - A node is used by its CPU at nesting level count (like qspinlock's
 *    qnodes): an interrupt that queues on the same CPU uses the next one
 *    and returns before the interrupted level resumes.  Beyond
 *    QWORD_NODES levels, or with CPU numbers the tail cannot hold, a
 *    waiter steals instead of queueing.
 *  - Waiters queue with interrupts as the caller had them.  With them on
 *    (a plain spin_lock() caller) an interrupt handler may run on top of
 *    a queued node; it cannot want this lock or one ordered before it, or
 *    the caller's holding it with interrupts on would deadlock the same
 *    way (lockdep's irq-safe/unsafe rule).
 *  - Shuffling (shfl_walk_queue()) rewires only nodes behind the shuffler,
 *    as in shfl_lock.c; it may also move a preferred tail up, by a
 *    cmpxchg of the tail bits that fails if anyone has queued behind it.
 */
#include "qword_lock.h"

struct qword_cpu {
	struct qword_node node[QWORD_NODES];
	u32 count;			/* nodes in use: the nesting level */
};
static SHFL_DEFINE_PER_CPU(struct qword_cpu, qword_cpus);
static SHFL_DEFINE_PER_CPU(struct shfl_stats, qword_stats_pcpu);

#define stat_inc(field)		shfl_pcpu_inc(qword_stats_pcpu, field)

void qword_stats(struct shfl_stats *sum)
{
	int cpu;

	shfl_for_each_cpu(cpu)
		shfl_stats_add(sum, &shfl_per_cpu(qword_stats_pcpu, cpu));
}
SHFL_EXPORT(qword_stats);

/* ---- the word ------------------------------------------------------------ */

static u32 encode_tail(u32 cpu, u32 idx)
{
	return ((cpu + 1) << 2 | idx) << QWORD_TAIL_SHIFT;
}

static struct qword_node *decode_tail(u32 v)
{
	u32 t = (v & QWORD_TAIL_MASK) >> QWORD_TAIL_SHIFT;

	return &shfl_per_cpu(qword_cpus, (t >> 2) - 1).node[t & 3];
}

/* word @v, locked byte 0 -> this CPU holds; head and tail stay. */
bool qword_steal(struct qword *lock, u32 v)
{
	if (v & QWORD_LOCKED_MASK)
		return false;
	return cmpxchg_acquire(&lock->val, v, v | qword_me()) == v;
}
SHFL_EXPORT(qword_steal);

static bool cpu_preempted(int cpu)
{
	return cpu >= 0 && cpu != (int)shfl_cpu() && shfl_vcpu_preempted(cpu);
}

/* Does word @v name a holder whose vCPU the host has preempted? */
bool qword_holder_preempted(u32 v)
{
	return cpu_preempted(qword_holder_cpu(v));
}
SHFL_EXPORT(qword_holder_preempted);

static int head_cpu(u32 v)
{
	return (int)((v & QWORD_HEAD_MASK) >> QWORD_HEAD_SHIFT) - 1;
}

/* word: the @mask bits -> @bits, the rest kept (a full barrier).  Returns the old word. */
static u32 word_set_bits(struct qword *lock, u32 mask, u32 bits)
{
	u32 v = READ_ONCE(lock->val), old;

	for (;;) {
		old = cmpxchg(&lock->val, v, (v & ~mask) | bits);
		if (old == v)
			return v;
		v = old;
	}
}

/* word: head bits -> @cpu + 1 (0 if it does not fit). */
static void set_head(struct qword *lock, u32 cpu)
{
	word_set_bits(lock, QWORD_HEAD_MASK,
		      cpu < QWORD_MAX_HEAD_CPU ? (cpu + 1) << QWORD_HEAD_SHIFT : 0);
}

/* ---- halting and kicking --------------------------------------------------- */

/*
 * Halt while the holder named by word @v still holds: set HALTED so that
 * its release kicks us.  Returns at once where a kick could not end a
 * halt (shfl_can_halt()).
 */
void qword_park(struct qword *lock, u32 v)
{
	u32 cpu = shfl_cpu();
	u8 holder = v & QWORD_HOLDER_MASK, cur;

	if (!holder || !shfl_can_halt())
		return;
	WRITE_ONCE(shfl_halted_on(cpu), &lock->val);
	/* The cmpxchg is a full barrier: our halted_on is seen before HALTED. */
	cur = READ_ONCE(lock->locked);
	while ((cur & QWORD_HOLDER_MASK) == holder && !(cur & QWORD_HALTED)) {
		u8 old = cmpxchg(&lock->locked, cur, cur | QWORD_HALTED);

		if (old == cur)
			cur |= QWORD_HALTED;
		else
			cur = old;
	}
	if (cur == (holder | QWORD_HALTED)) {
		stat_inc(halts);
		shfl_halt_untraced(&lock->val, QWORD_LOCKED_MASK, cur);
	}
	WRITE_ONCE(shfl_halted_on(cpu), NULL);
}
SHFL_EXPORT(qword_park);

/* A node's condition (its status) changed: kick its CPU if it halts on it. */
static void wake_node(struct qword_node *node, u16 cpu)
{
	smp_mb();	/* pairs with the smp_mb() in park_node() */
	if (READ_ONCE(shfl_halted_on(cpu)) == &node->n.status) {
		stat_inc(kicks);
		shfl_kick_untraced(cpu);
	}
}

/* A queued waiter, not the head: halt until made the head. */
static void park_node(struct qword_node *node)
{
	u16 cpu = node->n.cpu;

	WRITE_ONCE(shfl_halted_on(cpu), &node->n.status);
	smp_mb();	/* pairs with the smp_mb() in wake_node() */
	if (READ_ONCE(node->n.status) == SHFL_WAITING) {
		stat_inc(halts);
		shfl_halt_untraced(&node->n.status, ~0U, SHFL_WAITING);
	}
	WRITE_ONCE(shfl_halted_on(cpu), NULL);
}

/* ---- the queue --------------------------------------------------------------- */

/* What a shuffler pass over this lock's queue asks (shfl_walk_queue()). */
struct qword_walk {
	struct shfl_queue_ops ops;
	struct qword *lock;
	bool head;
};

static bool walk_is_tail(const struct shfl_queue_ops *q, const struct shfl_node *curr)
{
	const struct qword_walk *w = container_of(q, struct qword_walk, ops);
	u32 v = READ_ONCE(w->lock->val);

	return (v & QWORD_TAIL_MASK) && curr == &decode_tail(v)->n;
}

static bool walk_swap_tail(const struct shfl_queue_ops *q, struct shfl_node *old,
			   struct shfl_node *new)
{
	const struct qword_walk *w = container_of(q, struct qword_walk, ops);
	u32 ot = container_of(old, struct qword_node, n)->tail;
	u32 nt = container_of(new, struct qword_node, n)->tail;
	u32 v = READ_ONCE(w->lock->val), prev;

	while ((v & QWORD_TAIL_MASK) == ot) {
		prev = cmpxchg(&w->lock->val, v, (v & ~QWORD_TAIL_MASK) | nt);
		if (prev == v)
			return true;
		v = prev;
	}
	return false;
}

static bool walk_prefer(const struct shfl_queue_ops *q, const struct shfl_node *shuffler,
			const struct shfl_node *curr)
{
	return shfl_prefer_running(shuffler, curr);
}

static bool walk_wait_over(const struct shfl_queue_ops *q, const struct shfl_node *node)
{
	const struct qword_walk *w = container_of(q, struct qword_walk, ops);

	return w->head ? !(READ_ONCE(w->lock->locked))
		       : READ_ONCE(node->status) != SHFL_WAITING;
}

/* Run a shuffler pass if @node holds the token (or heads outside any batch). */
static void maybe_shuffle(struct qword *lock, struct qword_node *node, bool head)
{
	struct qword_walk w = {
		.ops = {
			.is_tail = walk_is_tail,
			.prefer = walk_prefer,
			.wait_over = walk_wait_over,
			.swap_tail = walk_swap_tail,
		},
		.lock = lock,
		.head = head,
	};
	u32 moved;

	if (!shfl_may_walk(&node->n, head))
		return;
	stat_inc(shuffle_walks);
	moved = shfl_walk_queue(&node->n, &w.ops);
	shfl_pcpu_add(qword_stats_pcpu, shuffles, moved);
}

/* Not the head yet: spin on our node until the predecessor says READY. */
static void wait_in_queue(struct qword *lock, struct qword_node *node)
{
	u32 spins = 0, v;

	/* Acquire: pairs with the release in pass_head(). */
	while (smp_load_acquire(&node->n.status) == SHFL_WAITING) {
		maybe_shuffle(lock, node, false);
		if ((++spins & SHFL_CHECK_MASK) == 0 && shfl_can_halt()) {
			/* Behind a preempted holder or head: no use spinning (shfl-pv). */
			v = READ_ONCE(lock->val);
			if (qword_holder_preempted(v) || cpu_preempted(head_cpu(v))) {
				stat_inc(holder_preempted);
				park_node(node);
			}
		}
		cpu_relax();
	}
}

/* The head: take the locked byte.  Returns the word as it was taken. */
static u32 wait_for_word(struct qword *lock, struct qword_node *node)
{
	u32 spins = 0, v, me = qword_me(), next, tail = node->tail;

	for (;;) {
		v = READ_ONCE(lock->val);
		if (!(v & QWORD_LOCKED_MASK)) {
			/* Last in the queue: the queue (and its head) goes with us. */
			next = (v & QWORD_TAIL_MASK) == tail ? me : (v & QWORD_TAIL_MASK) | me;
			if (cmpxchg_acquire(&lock->val, v, next) == v)
				return v;
			continue;
		}
		maybe_shuffle(lock, node, true);
		if ((++spins & SHFL_CHECK_MASK) == 0 && qword_holder_preempted(v)) {
			stat_inc(holder_preempted);
			qword_park(lock, v);
		}
		cpu_relax();
	}
}

/* Make @next the head: we hold the lock; nobody else writes its status. */
static void pass_head(struct qword *lock, struct qword_node *node, struct qword_node *next)
{
	u16 cpu = next->n.cpu;	/* read before READY: @next may then return */

	/* The shuffler token must outlive us: it goes with the queue head. */
	if (READ_ONCE(node->n.shuffler))
		WRITE_ONCE(next->n.shuffler, 1);
	/* Named now, not when it notices: it may be preempted before it does. */
	set_head(lock, cpu);
	/* Release: our shuffles and the lock's data; pairs with wait_in_queue(). */
	smp_store_release(&next->n.status, SHFL_READY);
	wake_node(next, cpu);
}

/*
 * Queue for @lock and take it (shfl-pv).  Interrupts stay as they are;
 * see the invariants above for why waiting with them on is safe.
 */
void qword_lock_queued(struct qword *lock)
{
	u32 cpu = shfl_cpu(), idx, v;
	struct qword_cpu *qc = &shfl_per_cpu(qword_cpus, cpu);
	struct qword_node *node, *prev, *next;

	idx = qc->count++;
	if (idx >= QWORD_NODES || cpu > QWORD_MAX_QUEUE_CPU) {
		while (!qword_steal(lock, READ_ONCE(lock->val)))
			cpu_relax();
		stat_inc(stolen);
		goto out;
	}
	/* The count is ours before the node is: an interrupt uses the next one. */
	barrier();
	node = &qc->node[idx];
	node->lock = lock;
	node->n.next = NULL;
	node->n.status = SHFL_WAITING;
	node->n.cpu = cpu;
	node->n.prev_cpu = SHFL_NO_CPU;
	node->n.batch = 0;
	node->n.shuffler = 0;
	node->n.bypassed = 0;
	node->tail = encode_tail(cpu, idx);

	/*
	 * A free word, or one whose queue head the host has preempted (it
	 * could not take the lock before it runs again): take it now.
	 */
	v = READ_ONCE(lock->val);
	if (!(v & QWORD_LOCKED_MASK) && (!v || cpu_preempted(head_cpu(v))) &&
	    qword_steal(lock, v)) {
		stat_inc(stolen);
		goto out;
	}

	/* word: tail -> us; full barrier: the node is ready before it is reachable. */
	v = word_set_bits(lock, QWORD_TAIL_MASK, node->tail);
	stat_inc(queued);
	if (v & QWORD_TAIL_MASK) {
		prev = decode_tail(v);
		/* prev stays queued until it sees our link: safe to read. */
		node->n.prev_cpu = prev->n.cpu;
		WRITE_ONCE(prev->n.next, &node->n);
		wait_in_queue(lock, node);
	} else {
		set_head(lock, cpu);
	}

	v = wait_for_word(lock, node);
	if ((v & QWORD_TAIL_MASK) != node->tail) {
		/* Someone is behind us, or is linking in right now. */
		while (!READ_ONCE(node->n.next))
			cpu_relax();
		next = container_of(READ_ONCE(node->n.next), struct qword_node, n);
		pass_head(lock, node, next);
	}
out:
	/* Our node is free again once nobody can reach it: after the hand-over. */
	barrier();
	qc->count--;
}
SHFL_EXPORT(qword_lock_queued);

/* qword_unlock() found HALTED: kick every CPU halted on the word. */
void qword_kick_halted(struct qword *lock)
{
	int cpu;

	shfl_for_each_cpu(cpu) {
		if (cpu == (int)shfl_cpu() || READ_ONCE(shfl_halted_on(cpu)) != &lock->val)
			continue;
		stat_inc(kicks);
		shfl_kick_untraced(cpu);
	}
}
SHFL_EXPORT(qword_kick_halted);
