// SPDX-License-Identifier: GPL-2.0-only
/*
 * The takeover's spinlock functions: what spin_lock*(), spin_trylock*()
 * and spin_unlock*() of the guest kernel run while pvlockinfo_takeover's
 * livepatch is applied (pvli_takeover.c installs them), plus the
 * replacement of native_queued_spin_lock_slowpath() for the inline
 * arch_spin_lock() users that never call the out-of-line functions.
 *
 * The guest this serves has no paravirt spinlocks (TCG, or a hypervisor
 * without PV_UNHALT): there the kernel's own contended path is
 * virt_spin_lock(), a test-and-set of the whole lock word, and its unlock
 * stores 0 to the locked byte.  The waiting itself is the lock core's
 * word lock (guest/lock/shfl_lock.c, in pvlockinfo.ko), which lives in
 * that same word; its invariants, and why the kernel's inline paths,
 * arch_spin_*() users and tasks still running the original functions
 * share locks with it safely, are stated there.  What this file adds:
 *
 *  - Every acquisition here, uncontended ones included, names this CPU as
 *    the holder in the locked byte (shfl_word_trylock()); a lock taken by
 *    an unpatched path names nobody (1), and nobody halts behind it.
 *  - How a contended caller waits (tk_wait()):
 *      takeover on, policy shfl-pv (the default): the lock core's shfl-pv
 *        (newcomers compete for the free word, then queue; the queue is
 *        shuffled so that waiters whose vCPU runs go first; waiters halt
 *        while the holder's or the queue head's vCPU is preempted), with
 *        interrupts as the caller had them;
 *      takeover on, policy tas-pv: test-and-set, halting while the
 *        holder's vCPU is preempted (the first version of the takeover);
 *      takeover off: test-and-set, never halting (the kernel's own way).
 *  - Callers of the _irq/_irqsave variants whose interrupts were on never
 *    queue: an interrupt handler on top of a queued node could want the
 *    same lock.  They wait test-and-set with interrupts on (and so can
 *    halt), and turn them off again to take the lock, as the kernel's
 *    spin-ops did with GENERIC_LOCKBREAK: they hold no lock an interrupt
 *    handler could want (they had interrupts on).  NMIs never queue.
 *  - Inline arch_spin_lock() users that reach the slow path release with
 *    the kernel's inline store: they take the word naming nobody.
 *  - Releases are shfl_word_unlock(): an xchg of the locked byte that
 *    kicks the waiters halted on the word.  An unpatched release (a plain
 *    store) kicks nobody, and nobody halts behind such a holder.
 *  - Per CPU, tk_held lists the locks taken here and not yet released;
 *    an entry counts only while the lock word still names this CPU (see
 *    tk_prune()), so a lock released by some other path cannot leave the
 *    count up.  A release of a lock taken before the patch finds nothing
 *    to remove.  The count and the nested waits are published into this
 *    vCPU's page record for the host's LHP/LWP classification.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/hardirq.h>
#include <linux/irqflags.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <asm/qspinlock.h>

#include "pvlockinfo.h"
#include "pvli_takeover.h"
#include "shfl_lock.h"

/*
 * The locks this CPU holds, taken here: one stack per interrupt context
 * level (task, softirq, hardirq, NMI), so that each is only ever changed
 * by its own level, which a higher level interrupts and always returns to
 * unchanged: no interrupt masking needed.  An entry whose lock no longer
 * names this CPU as holder was released by a path that is not ours (an
 * inline unlock, or another CPU; measured: without pruning the count
 * drifted up by 1-4 per CPU over a minute of fork/pipe load): pruned
 * whenever a change leaves or finds other entries on the stack.
 */
#define TK_STACK	8
struct tk_held {
	u32 n;			/* entries in e[] */
	u32 overflow;		/* held beyond TK_STACK, not tracked */
	struct {
		struct qspinlock *lock;
		unsigned long ip;	/* who took it (for the "held" listing) */
	} e[TK_STACK];
};
static DEFINE_PER_CPU(struct tk_held [4], tk_held);
static DEFINE_PER_CPU(u32, tk_waiting);		/* nested waits in progress */
static DEFINE_PER_CPU(unsigned long [TK_NR_COUNTERS], tk_counts);
static struct shfl_stats tk_core_base;	/* the core's kernel counts when we came */

unsigned long pvli_tk_count(enum pvli_tk_counter c)
{
	struct shfl_stats q;
	unsigned long sum = 0;
	int cpu;

	switch (c) {
	case TK_HALTS:
	case TK_KICKS:
	case TK_QUEUED:
	case TK_SHUFFLES:
		/* The lock core's kernel-lock counters, since we were loaded. */
		shfl_stats(SHFL_STATS_KERNEL, &q);
		return c == TK_HALTS ? q.halts - tk_core_base.halts :
		       c == TK_KICKS ? q.kicks - tk_core_base.kicks :
		       c == TK_QUEUED ? q.queued - tk_core_base.queued :
		       q.shuffles - tk_core_base.shuffles;
	default:
		for_each_possible_cpu(cpu)
			sum += per_cpu(tk_counts, cpu)[c];
		return sum;
	}
}

static __always_inline struct shfl_word *tk_word(struct qspinlock *lock)
{
	return (struct shfl_word *)lock;
}

static __always_inline bool tk_trylock(struct qspinlock *lock)
{
	return shfl_word_trylock(tk_word(lock));
}

/* The locked byte of @lock; 0 when unreadable (the lock may be freed). */
static __always_inline u8 tk_locked_byte(struct qspinlock *lock)
{
	u8 locked;

	return get_kernel_nofault(locked, &lock->locked) ? 0 : locked;
}

/* Does @lock still name this CPU (@me) as its holder? */
static __always_inline bool tk_still_mine(struct qspinlock *lock, u32 me)
{
	return (tk_locked_byte(lock) & SHFL_HOLDER_MASK) == me;
}

static __always_inline void tk_prune(struct tk_held *h, u32 me)
{
	u32 i = 0;

	while (i < h->n) {
		if (tk_still_mine(h->e[i].lock, me)) {
			i++;
			continue;
		}
		h->e[i] = h->e[--h->n];
	}
}

/* Locks a CPU holds by its stacks @h, all levels. */
static __always_inline u32 tk_count(const struct tk_held *h)
{
	return READ_ONCE(h[0].n) + READ_ONCE(h[0].overflow) + READ_ONCE(h[1].n) +
	       READ_ONCE(h[1].overflow) + READ_ONCE(h[2].n) + READ_ONCE(h[2].overflow) +
	       READ_ONCE(h[3].n) + READ_ONCE(h[3].overflow);
}

static __always_inline u32 tk_depth(void)
{
	return tk_count(this_cpu_ptr(tk_held));
}

/* After an acquisition here (at @ip): one more lock held on this vCPU. */
static __always_inline void tk_held_add(struct qspinlock *lock, unsigned long ip)
{
	struct tk_held *h = this_cpu_ptr(&tk_held[interrupt_context_level()]);
	/* Nested: drop entries released behind our back (cost only then). */
	if (h->n)
		tk_prune(h, shfl_me());
	if (h->n < TK_STACK) {
		h->e[h->n].lock = lock;
		h->e[h->n].ip = ip;
		h->n++;
	} else {
		h->overflow++;
	}
	pvli_publish_kernel_locks(tk_depth(), this_cpu_read(tk_waiting));
}

/* After a release here. */
static __always_inline void tk_held_del(struct qspinlock *lock)
{
	struct tk_held *h = this_cpu_ptr(&tk_held[interrupt_context_level()]);
	u32 i;

	for (i = h->n; i-- > 0; ) {
		if (h->e[i].lock == lock) {
			h->e[i] = h->e[--h->n];
			break;
		}
	}
	if (i == (u32)-1 && h->overflow)
		h->overflow--;
	if (h->n)
		tk_prune(h, shfl_me());
	pvli_publish_kernel_locks(tk_depth(), this_cpu_read(tk_waiting));
}

/*
 * For the "held" module parameter: per online CPU, the locks it holds
 * (taken here) as "cpu N: D" and one line per tracked entry with its
 * taker and whether the lock word still names the CPU.  Racy by nature
 * (other CPUs change their stacks meanwhile); for debugging and tests.
 */
int pvli_tk_show_held(char *buf, size_t len)
{
	int cpu, lvl, n = 0;
	u32 i;

	for_each_online_cpu(cpu) {
		struct tk_held *h = per_cpu_ptr(tk_held, cpu);
		n += scnprintf(buf + n, len - n, "cpu %d: %u\n", cpu, tk_count(h));
		for (lvl = 0; lvl < 4; lvl++) {
			u32 cnt = min_t(u32, READ_ONCE(h[lvl].n), TK_STACK);

			for (i = 0; i < cnt; i++) {
				n += scnprintf(buf + n, len - n, "  level %d %pS locked byte 0x%02x\n",
					       lvl, (void *)READ_ONCE(h[lvl].e[i].ip),
					       tk_locked_byte(READ_ONCE(h[lvl].e[i].lock)));
			}
		}
	}
	return n;
}

/*
 * Wait for @lock and take it.  @irqs_on: the caller turned interrupts off
 * for this lock only (they were on): wait with them on, take the lock
 * with them off.  Returns with interrupts as on entry.  @flags: more
 * SHFL_WAIT_* flags.
 *
 *   takeover off                 test-and-set, no halting (the kernel's way)
 *   on, policy tas-pv, or a      test-and-set, halting behind a preempted
 *   caller with interrupts on    holder
 *   on, policy shfl-pv           queued (the lock core's shfl-pv)
 */
static void notrace tk_wait(struct qspinlock *lock, bool irqs_on, unsigned int flags)
{
	const struct shfl_policy *pol;

	pvli_publish_kernel_locks(tk_depth(), this_cpu_inc_return(tk_waiting));
	this_cpu_inc(tk_counts[TK_WAITS]);
	if (!READ_ONCE(pvli_takeover_active))
		pol = &shfl_policy_kernel_tas;
	else if (irqs_on || !READ_ONCE(pvli_takeover_queue))
		pol = &shfl_policy_kernel_tas_pv;
	else
		pol = &shfl_policy_kernel_shfl_pv;
	if (irqs_on) {
		this_cpu_inc(tk_counts[TK_IRQ_WAITS]);
		flags |= SHFL_WAIT_IRQS_ON;
	}
	shfl_word_lock_slowpath(tk_word(lock), pol, 0, flags);
	/* Published by the caller's tk_held() (or the next publication). */
	this_cpu_dec(tk_waiting);
}

/*
 * Inline arch_spin_lock() users (the qrwlock wait_lock behind
 * tasklist_lock, for one): their release is the kernel's inline store,
 * which kicks nobody, so they take the word naming nobody and nobody
 * halts behind them; no hold count either.
 */
void notrace pvli_tk_slowpath(struct qspinlock *lock, u32 val)
{
	tk_wait(lock, false, SHFL_WAIT_ANONYMOUS);
	pvli_publish_kernel_locks(tk_depth(), this_cpu_read(tk_waiting));
}

/*
 * The bodies the patched functions share; each caller has set up its
 * preemption/bh/interrupt state as the function it replaces does.  @ip is
 * the patched function's caller, recorded as the taker.
 */
static __always_inline void tk_lock(struct qspinlock *lock, bool irqs_on, unsigned long ip)
{
	if (unlikely(!tk_trylock(lock)))
		tk_wait(lock, irqs_on, 0);
	tk_held_add(lock, ip);
}

static __always_inline bool tk_trylock_held(struct qspinlock *lock, unsigned long ip)
{
	if (!tk_trylock(lock))
		return false;
	tk_held_add(lock, ip);
	return true;
}

static __always_inline unsigned long tk_lock_irqsave(struct qspinlock *lock, unsigned long ip)
{
	unsigned long flags;

	/* Saved rather than assumed on: a caller with them off stays off. */
	local_irq_save(flags);
	preempt_disable();
	tk_lock(lock, !arch_irqs_disabled_flags(flags), ip);
	return flags;
}

static __always_inline void tk_release(struct qspinlock *lock)
{
	shfl_word_unlock(tk_word(lock));
	tk_held_del(lock);
}

void notrace pvli_tk_spin_lock(raw_spinlock_t *lock)
{
	preempt_disable();
	tk_lock(&lock->raw_lock, false, _RET_IP_);
}

void notrace pvli_tk_spin_lock_bh(raw_spinlock_t *lock)
{
	__local_bh_disable_ip(_RET_IP_, SOFTIRQ_LOCK_OFFSET);
	tk_lock(&lock->raw_lock, false, _RET_IP_);
}

unsigned long notrace pvli_tk_spin_lock_irqsave(raw_spinlock_t *lock)
{
	return tk_lock_irqsave(&lock->raw_lock, _RET_IP_);
}

void notrace pvli_tk_spin_lock_irq(raw_spinlock_t *lock)
{
	tk_lock_irqsave(&lock->raw_lock, _RET_IP_);
}

int notrace pvli_tk_spin_trylock(raw_spinlock_t *lock)
{
	preempt_disable();
	if (tk_trylock_held(&lock->raw_lock, _RET_IP_))
		return 1;
	preempt_enable();
	return 0;
}

int notrace pvli_tk_spin_trylock_bh(raw_spinlock_t *lock)
{
	__local_bh_disable_ip(_RET_IP_, SOFTIRQ_LOCK_OFFSET);
	if (tk_trylock_held(&lock->raw_lock, _RET_IP_))
		return 1;
	__local_bh_enable_ip(_RET_IP_, SOFTIRQ_LOCK_OFFSET);
	return 0;
}

void notrace pvli_tk_spin_unlock(raw_spinlock_t *lock)
{
	tk_release(&lock->raw_lock);
	preempt_enable();
}

void notrace pvli_tk_spin_unlock_bh(raw_spinlock_t *lock)
{
	tk_release(&lock->raw_lock);
	__local_bh_enable_ip(_RET_IP_, SOFTIRQ_LOCK_OFFSET);
}

void notrace pvli_tk_spin_unlock_irq(raw_spinlock_t *lock)
{
	tk_release(&lock->raw_lock);
	local_irq_enable();
	preempt_enable();
}

void notrace pvli_tk_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long flags)
{
	tk_release(&lock->raw_lock);
	local_irq_restore(flags);
	preempt_enable();
}

int pvli_tk_lock_init(void)
{
	BUILD_BUG_ON(sizeof(struct shfl_word) != sizeof(struct qspinlock));
	BUILD_BUG_ON(offsetof(struct qspinlock, locked) != offsetof(struct shfl_word, locked));
	BUILD_BUG_ON(offsetof(struct qspinlock, tail) != offsetof(struct shfl_word, tail));
	BUILD_BUG_ON(SHFL_UNKNOWN_HOLDER != _Q_LOCKED_VAL);
	shfl_stats(SHFL_STATS_KERNEL, &tk_core_base);
	return 0;
}
