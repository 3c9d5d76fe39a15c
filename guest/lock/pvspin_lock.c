// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvspin: Linux's paravirt queued spinlock, as KVM guests run it with
 * PV_UNHALT, ported function by function from kernel/locking/qspinlock.c
 * (queued_spin_lock_slowpath() with pv_enabled()) and
 * kernel/locking/qspinlock_paravirt.h of Linux 6.12, so that "pvspin" in
 * the benchmarks is the lock users run, not a weaker one.  Each function
 * below names the kernel function it follows; the README has the table.
 *
 *   word:  tail (16) | pending (8) | locked (8: 0, 1 held, 3 held + SLOW)
 *
 *   newcomers --unfair trylock while pending is clear--> locked
 *        \--queue--> head --sets pending, spins SPIN_THRESHOLD--> locked
 *                      \--clears pending, hashes (lock, node), SLOW, halts
 *                         <--the unlock finds SLOW, unhashes, kicks--
 *        queued waiters spin SPIN_THRESHOLD, or less when their
 *        predecessor is not running (pv_wait_early), then halt; the new
 *        holder does not wake a halted successor at hand-over but makes
 *        its own unlock do it (pv_kick_node(): SLOW + hash)
 *
 * Differences, all forced by the platform and none a change of policy:
 *  - pvs_wait()/pvs_kick() (kvm_wait(), kvm_kick_cpu()) are shfl_halt()
 *    (sti; hlt) and shfl_kick() (an IPI).  Under TCG there is no
 *    PV_UNHALT, so a waiter with interrupts off cannot halt: it spins,
 *    as kvm_wait() would on a host that never kicks.
 *  - The hash table is static: 4 entries per CPU for up to
 *    PVSPIN_HASH_CPUS CPUs (the kernel sizes it at boot).  A guest with
 *    more CPUs cannot run pvspin (pvspin_supported()).
 *  - The vCPU state is a u32 (u8 in the kernel) so that a halt can wait
 *    on it; lockevent counters are the lock core's shfl_stats.
 *  - Like every lock of the harness, a waiter publishes that it waits in
 *    its vCPU's page record (instrumentation for the host's LHP/LWP
 *    count, outside the algorithm).
 */
#include "pvspin_lock.h"
#include "shfl_lock.h"

#define PV_PREV_CHECK_MASK	0xff	/* PV_PREV_CHECK_MASK */
#define PVSPIN_NODES		4	/* MAX_NODES */
#define PVSPIN_HASH_CPUS	256
#define PVSPIN_HASH_BITS	10	/* 4 * PVSPIN_HASH_CPUS entries */
#define PV_HE_PER_LINE		4	/* 64-byte lines of 16-byte entries */

#define stat_inc(field)		shfl_stat_inc(SHFL_STATS_LOCKS, field)

enum vcpu_state {
	vcpu_running = 0,
	vcpu_halted,		/* used only in pv_wait_node() */
	vcpu_hashed,		/* = pv_hash'ed + vcpu_halted */
};

/* struct qnode: the MCS node and the pv_node state in one. */
struct pv_node {
	struct pv_node *next;
	u32 locked;
	int cpu;
	u32 state;
};

struct pv_cpu {
	struct pv_node node[PVSPIN_NODES];
	u32 count;
};
static SHFL_DEFINE_PER_CPU(struct pv_cpu, pv_cpus);

struct pv_hash_entry {
	struct pvspin_lock *lock;
	struct pv_node *node;
};
static struct pv_hash_entry pv_lock_hash[1U << PVSPIN_HASH_BITS];

bool pvspin_supported(void)
{
	return shfl_nr_cpu_ids() <= PVSPIN_HASH_CPUS;
}
SHFL_EXPORT(pvspin_supported);

/* ---- the word (qspinlock.c) -------------------------------------------------- */

static u32 encode_tail(int cpu, int idx)
{
	return ((u32)(cpu + 1) << 2 | idx) << PVSPIN_TAIL_SHIFT;
}

static struct pv_node *decode_tail(u32 tail)
{
	u32 t = tail >> PVSPIN_TAIL_SHIFT;

	return &shfl_per_cpu(pv_cpus, (t >> 2) - 1).node[t & 3];
}

/* xchg_tail(): p,*,* -> n,*,* (x86 has 8 pending bits: a 16-bit xchg) */
static u32 xchg_tail(struct pvspin_lock *lock, u32 tail)
{
	return (u32)xchg(&lock->tail, (u16)(tail >> PVSPIN_TAIL_SHIFT)) << PVSPIN_TAIL_SHIFT;
}

/* clear_pending(): *,1,* -> *,0,* */
static void clear_pending(struct pvspin_lock *lock)
{
	WRITE_ONCE(lock->pending, 0);
}

/* set_locked(): *,*,0 -> *,0,1 */
static void set_locked(struct pvspin_lock *lock)
{
	WRITE_ONCE(lock->locked, PVSPIN_LOCKED_VAL);
}

/* ---- qspinlock_paravirt.h --------------------------------------------------- */

/* pv_hybrid_queued_unfair_trylock(): the queued_spin_trylock() of PV mode. */
static bool pv_hybrid_queued_unfair_trylock(struct pvspin_lock *lock)
{
	/*
	 * Stay in unfair lock mode as long as queued mode waiters are
	 * present in the MCS wait queue but the pending bit isn't set.
	 */
	for (;;) {
		u32 val = READ_ONCE(lock->val);

		if (!(val & PVSPIN_LOCKED_PENDING_MASK) &&
		    cmpxchg_acquire(&lock->locked, 0, PVSPIN_LOCKED_VAL) == 0) {
			stat_inc(stolen);	/* pv_lock_stealing */
			return true;
		}
		if (!(val & PVSPIN_TAIL_MASK) || (val & PVSPIN_PENDING_MASK))
			break;
		cpu_relax();
	}
	return false;
}

/* set_pending(): the head spins on the word; no stealing now. */
static void set_pending(struct pvspin_lock *lock)
{
	WRITE_ONCE(lock->pending, 1);
}

/* trylock_clear_pending(): *,1,0 -> *,0,1 (a cmpxchg: the pending check is no barrier) */
static bool trylock_clear_pending(struct pvspin_lock *lock)
{
	return !READ_ONCE(lock->locked) &&
	       cmpxchg_acquire(&lock->locked_pending, (u16)(PVSPIN_PENDING_VAL),
			       (u16)PVSPIN_LOCKED_VAL) == PVSPIN_PENDING_VAL;
}

/* hash_ptr(): hash_64(), the golden-ratio multiply. */
static unsigned long hash_lock(const struct pvspin_lock *lock)
{
	return (unsigned long)(((u64)(unsigned long)lock * 0x61C8864680B583EBULL) >>
			       (64 - PVSPIN_HASH_BITS));
}

#define for_each_hash_entry(he, offset, hash)					\
	for (hash &= ~(PV_HE_PER_LINE - 1), he = &pv_lock_hash[hash], offset = 0; \
	     offset < (1U << PVSPIN_HASH_BITS);					\
	     offset++, he = &pv_lock_hash[(hash + offset) & ((1U << PVSPIN_HASH_BITS) - 1)])

/*
 * pv_hash(): there is a free entry, as every blocked lock takes one and
 * there are 4 nesting levels per CPU (pvspin_supported()).
 */
static struct pvspin_lock **pv_hash(struct pvspin_lock *lock, struct pv_node *node)
{
	unsigned long offset, hash = hash_lock(lock);
	struct pv_hash_entry *he;

	for_each_hash_entry(he, offset, hash) {
		if (cmpxchg(&he->lock, (struct pvspin_lock *)NULL, lock) == NULL) {
			WRITE_ONCE(he->node, node);
			return &he->lock;
		}
	}
	WARN_ON_ONCE(1);	/* the kernel's BUG() */
	return NULL;
}

/* pv_unhash(): IFF the unlock sees SLOW there MUST be an entry. */
static struct pv_node *pv_unhash(struct pvspin_lock *lock)
{
	unsigned long offset, hash = hash_lock(lock);
	struct pv_hash_entry *he;
	struct pv_node *node;

	for_each_hash_entry(he, offset, hash) {
		if (READ_ONCE(he->lock) == lock) {
			node = READ_ONCE(he->node);
			WRITE_ONCE(he->lock, NULL);
			return node;
		}
	}
	WARN_ON_ONCE(1);	/* the kernel's BUG() */
	return NULL;
}

/* pv_wait_early(): time to check, and the previous node is not running. */
static bool pv_wait_early(struct pv_node *prev, int loop)
{
	if ((loop & PV_PREV_CHECK_MASK) != 0)
		return false;
	return READ_ONCE(prev->state) != vcpu_running;
}

/* pvs_wait() (pv_wait(), kvm_wait()): halt while *ptr still holds val (kvm_wait()). */
static void pvs_wait(u32 *ptr, u32 mask, u32 val)
{
	stat_inc(halts);
	shfl_halt(shfl_cpu(), ptr, mask, val);
}

/* pvs_kick() (pv_kick(), kvm_kick_cpu()). */
static void pvs_kick(int cpu)
{
	stat_inc(kicks);
	shfl_kick(cpu);
}

/* pv_wait_node(): wait for node->locked, halting after a short spin. */
static void pv_wait_node(struct pv_node *node, struct pv_node *prev)
{
	bool wait_early;
	int loop;

	for (;;) {
		for (wait_early = false, loop = PVSPIN_SPIN_THRESHOLD; loop; loop--) {
			if (READ_ONCE(node->locked))
				return;
			if (pv_wait_early(prev, loop)) {
				wait_early = true;
				break;
			}
			cpu_relax();
		}

		/*
		 * Order pn->state vs pn->locked thusly:
		 *
		 * [S] pn->state = vcpu_halted	  [S] next->locked = 1
		 *     MB			      MB
		 * [L] pn->locked		[RmW] pn->state = vcpu_hashed
		 *
		 * Matches the cmpxchg() from pv_kick_node().
		 */
		WRITE_ONCE(node->state, vcpu_halted);
		smp_mb();

		if (!READ_ONCE(node->locked))
			pvs_wait(&node->state, ~0U, vcpu_halted);

		/*
		 * If pv_kick_node() changed us to vcpu_hashed, retain that
		 * value so that pv_wait_head_or_lock() knows not to also hash
		 * this lock.
		 */
		cmpxchg(&node->state, vcpu_halted, vcpu_running);
		(void)wait_early;
	}
}

/*
 * pv_kick_node(): called after setting next->locked = 1 as the lock
 * owner.  Instead of waking a halted successor, move it to the state it
 * would have in pv_wait_head_or_lock(): our unlock will kick it.
 */
static void pv_kick_node(struct pvspin_lock *lock, struct pv_node *node)
{
	/*
	 * Matches with the barrier and cmpxchg() in pv_wait_node(): the
	 * write to next->locked is ordered before the read of the state
	 * whether or not the cmpxchg succeeds.
	 */
	smp_mb();
	if (cmpxchg_relaxed(&node->state, vcpu_halted, vcpu_hashed) != vcpu_halted)
		return;

	/*
	 * Put the lock into the hash table and set the _Q_SLOW_VAL.  We
	 * check both at unlock time, so no atomic is needed.
	 */
	WRITE_ONCE(lock->locked, PVSPIN_SLOW_VAL);
	(void)pv_hash(lock, node);
}

/*
 * pv_wait_head_or_lock(): as the queue head, wait for the locked byte to
 * clear and take it; halt after a short spin.  Returns the word.
 */
static u32 pv_wait_head_or_lock(struct pvspin_lock *lock, struct pv_node *node)
{
	struct pvspin_lock **lp = NULL;
	int loop;

	/* If pv_kick_node() already advanced our state, we are hashed. */
	if (READ_ONCE(node->state) == vcpu_hashed)
		lp = (struct pvspin_lock **)1;

	for (;;) {
		/* The state the queue node wait-early check reads. */
		WRITE_ONCE(node->state, vcpu_running);

		/* Set pending in the active spin loop: no stealing meanwhile. */
		set_pending(lock);
		for (loop = PVSPIN_SPIN_THRESHOLD; loop; loop--) {
			if (trylock_clear_pending(lock))
				goto gotlock;
			cpu_relax();
		}
		clear_pending(lock);

		if (!lp) { /* ONCE */
			lp = pv_hash(lock, node);

			/*
			 * Hash before setting _Q_SLOW_VAL, so that the unlock
			 * that sees SLOW finds the entry.  Matches the read
			 * barrier in pvspin_unlock().
			 */
			if (xchg(&lock->locked, PVSPIN_SLOW_VAL) == 0) {
				/* It was free and is now ours: undo the SLOW. */
				WRITE_ONCE(lock->locked, PVSPIN_LOCKED_VAL);
				WRITE_ONCE(*lp, NULL);
				goto gotlock;
			}
		}
		WRITE_ONCE(node->state, vcpu_hashed);
		pvs_wait(&lock->val, PVSPIN_LOCKED_MASK, PVSPIN_SLOW_VAL);
		/* Lock stealing: the head may have to wait again. */
	}
gotlock:
	return READ_ONCE(lock->val) | PVSPIN_LOCKED_VAL;
}

/* queued_spin_lock_slowpath(), from pv_queue: (PV mode skips the pending path). */
static void pvspin_slowpath(struct pvspin_lock *lock)
{
	struct pv_cpu *c = &shfl_per_cpu(pv_cpus, shfl_cpu());
	struct pv_node *prev, *next, *node;
	u32 old, tail, val;
	int idx;

	idx = c->count++;
	tail = encode_tail(shfl_cpu(), idx);

	/* 4 nodes for task, softirq, hardirq, NMI; beyond: spin on trylock. */
	if (unlikely(idx >= PVSPIN_NODES)) {
		while (!pv_hybrid_queued_unfair_trylock(lock))
			cpu_relax();
		goto release;
	}
	node = &c->node[idx];
	/* The count is ours before the node is: an interrupt uses the next one. */
	barrier();
	node->locked = 0;
	node->next = NULL;
	node->cpu = shfl_cpu();		/* pv_init_node() */
	node->state = vcpu_running;

	/* A (possibly) cold node line was touched: try once more. */
	if (pv_hybrid_queued_unfair_trylock(lock))
		goto release;

	/* The node is initialised before it is published. */
	smp_mb();
	stat_inc(queued);
	old = xchg_tail(lock, tail);
	next = NULL;

	if (old & PVSPIN_TAIL_MASK) {
		prev = decode_tail(old);
		WRITE_ONCE(prev->next, node);
		pv_wait_node(node, prev);
		/* arch_mcs_spin_lock_contended(): an acquire wait. */
		while (!smp_load_acquire(&node->locked))
			cpu_relax();
		next = READ_ONCE(node->next);
	}

	/* PV: the head takes the lock itself; val has the locked bit set. */
	val = pv_wait_head_or_lock(lock, node);

	/*
	 * Claim: n,0,1 -> 0,0,1 if we are the only one queued; otherwise
	 * just keep the lock (set_locked()) and hand over the queue.
	 */
	if ((val & PVSPIN_TAIL_MASK) == tail &&
	    cmpxchg_relaxed(&lock->val, val, PVSPIN_LOCKED_VAL) == val)
		goto release;
	set_locked(lock);

	while (!(next = READ_ONCE(node->next)))
		cpu_relax();
	/* arch_mcs_spin_unlock_contended() */
	smp_store_release(&next->locked, 1);
	pv_kick_node(lock, next);
release:
	stat_inc(acquired);
	barrier();
	c->count--;
}

/* queued_spin_lock(): the inline fast path, 0,0,0 -> 0,0,1. */
void pvspin_lock(struct pvspin_lock *lock)
{
	shfl_preempt_disable();
	if (cmpxchg_acquire(&lock->val, 0, PVSPIN_LOCKED_VAL) == 0) {
		stat_inc(acquired);
		stat_inc(stolen);
		return;
	}
	/* Not the kernel's: tell the host this vCPU waits (LWP), as every policy does. */
	shfl_publish_wait(lock);
	pvspin_slowpath(lock);
	shfl_publish_wait(NULL);
}
SHFL_EXPORT(pvspin_lock);

/* queued_spin_trylock() */
bool pvspin_trylock(struct pvspin_lock *lock)
{
	shfl_preempt_disable();
	if (!READ_ONCE(lock->val) && cmpxchg_acquire(&lock->val, 0, PVSPIN_LOCKED_VAL) == 0) {
		stat_inc(acquired);
		stat_inc(stolen);
		return true;
	}
	shfl_preempt_enable();
	return false;
}
SHFL_EXPORT(pvspin_trylock);

/* __pv_queued_spin_unlock() and __pv_queued_spin_unlock_slowpath() */
void pvspin_unlock(struct pvspin_lock *lock)
{
	struct pv_node *node;
	u8 locked;

	/* Not if SLOW: then we must unhash first, or entries pile up. */
	locked = cmpxchg_release(&lock->locked, PVSPIN_LOCKED_VAL, 0);
	if (likely(locked == PVSPIN_LOCKED_VAL))
		goto out;
	if (WARN_ON_ONCE(locked != PVSPIN_SLOW_VAL))
		goto out;	/* "pvqspinlock: lock has corrupted value" */

	/*
	 * A failed cmpxchg orders nothing: read the node after having read
	 * SLOW.  Matches the xchg setting SLOW in pv_wait_head_or_lock().
	 */
	smp_mb();
	node = pv_unhash(lock);
	smp_store_release(&lock->locked, 0);
	/* The lock may be gone now; the node is per-CPU and stays. */
	if (node)
		pvs_kick(node->cpu);
out:
	shfl_preempt_enable();
}
SHFL_EXPORT(pvspin_unlock);
