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
 * stores 0 to the locked byte.  Everything here is compatible with that
 * word, so patched and unpatched lockers and unlockers (inline fast
 * paths, arch_spin_*() users, tasks not yet switched by the livepatch
 * transition) share locks safely.  Invariants, as qspinlock.c states its
 * own:
 *
 *  - A lock is taken only by cmpxchg of the whole 32-bit word from 0.
 *    Nothing here sets pending or tail bits, so it excludes the original
 *    queued slow path's waiters too (they keep tail bits while queued).
 *  - The locked byte is nonzero exactly while the lock is held.  Its low
 *    7 bits name the holder: CPU + TK_CPU_BIAS when taken here, 1
 *    (_Q_LOCKED_VAL) when taken by an unpatched path (holder unknown,
 *    treated as running).  Bit 7 (TK_HALTED) is set by a waiter about to
 *    halt; only the holder's release clears the byte, so the bit lasts
 *    until then.
 *  - Any store of 0 to the locked byte releases the lock, whatever it
 *    held.  A release done here is an xchg: seeing TK_HALTED, it kicks
 *    the CPUs halted on this lock.  An unpatched release (a plain store)
 *    kicks nobody: the halted waiter's next interrupt (at the latest its
 *    tick) ends the halt and it looks again.
 *  - A waiter halts only with interrupts enabled (a halt with them off
 *    could not end), only while the channel says the holder's vCPU is
 *    preempted, and only after it has published itself in tk_halted_on
 *    and set TK_HALTED with an atomic (a full barrier): a release after
 *    that sees the bit and then the published lock.  A kick that arrives
 *    before the hlt stays pending (interrupts off) and ends it.
 *  - Callers of the _irq/_irqsave variants whose interrupts were on wait
 *    with them on, and turn them off again to take the lock, as the
 *    kernel's spin-ops did with GENERIC_LOCKBREAK: they hold no lock that
 *    an interrupt handler could want (they had interrupts on).
 *  - Per CPU, tk_held lists the locks taken here and not yet released;
 *    an entry counts only while the lock word still names this CPU (see
 *    tk_prune()), so a lock released by some other path cannot leave the
 *    count up.  A release of a lock taken before the patch finds nothing
 *    to remove.  The count and the nested waits are published into this
 *    vCPU's page record for the host's LHP/LWP classification.
 *  - pvli_takeover_active off: waiting is the original test-and-set (no
 *    halts); holders are still recorded and published.
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

#define TK_CPU_BIAS	2	/* locked byte of a holder taken here: CPU + 2 */
#define TK_HALTED	0x80	/* a waiter halts: the release must kick */
#define TK_HOLDER_MASK	0x7f
#define TK_MAX_CPU	(TK_HOLDER_MASK - TK_CPU_BIAS)

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
static DEFINE_PER_CPU(struct qspinlock *, tk_halted_on);
static DEFINE_PER_CPU(call_single_data_t, tk_kick_csd);
static DEFINE_PER_CPU(unsigned long [TK_NR_COUNTERS], tk_counts);

unsigned long pvli_tk_count(enum pvli_tk_counter c)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(tk_counts, cpu)[c];
	return sum;
}

/* The locked-byte value naming this CPU.  Preemption is off. */
static __always_inline u32 tk_me(void)
{
	int cpu = smp_processor_id();

	return cpu <= TK_MAX_CPU ? cpu + TK_CPU_BIAS : _Q_LOCKED_VAL;
}

static __always_inline bool tk_trylock(struct qspinlock *lock)
{
	int v = atomic_read(&lock->val);

	/* Acquire: pairs with the release of whoever unlocked it. */
	return !v && atomic_try_cmpxchg_acquire(&lock->val, &v, tk_me());
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
	return (tk_locked_byte(lock) & TK_HOLDER_MASK) == me;
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
		tk_prune(h, tk_me());
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
		tk_prune(h, tk_me());
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

static void tk_kick_ipi(void *unused)
{
	/* Nothing to do: the interrupt itself ended the hlt. */
}

static void notrace tk_kick_waiters(struct qspinlock *lock)
{
	int me = smp_processor_id(), cpu;

	for_each_online_cpu(cpu) {
		if (cpu == me || READ_ONCE(per_cpu(tk_halted_on, cpu)) != lock)
			continue;
		this_cpu_inc(tk_counts[TK_KICKS]);
		/* -EBUSY: a kick to @cpu is in flight already, as good. */
		smp_call_function_single_async(cpu, per_cpu_ptr(&tk_kick_csd, cpu));
	}
}

static __always_inline void tk_unlock(struct qspinlock *lock)
{
	/* Release (xchg is a full barrier); see the TK_HALTED invariant. */
	if (unlikely(xchg(&lock->locked, 0) & TK_HALTED))
		tk_kick_waiters(lock);
}

/* Should a waiter that read lock word @v halt instead of spinning? */
static __always_inline bool tk_should_halt(int v)
{
	u32 holder = v & TK_HOLDER_MASK;

	return READ_ONCE(pvli_takeover_active) && holder >= TK_CPU_BIAS &&
	       !irqs_disabled() && !in_nmi() &&
	       pvli_vcpu_preempted_atomic(holder - TK_CPU_BIAS);
}

/* Halt until @lock (word @v when looked at) is released or an interrupt. */
static void notrace tk_halt(struct qspinlock *lock, int v)
{
	u8 old = v & _Q_LOCKED_MASK;

	local_irq_disable();
	this_cpu_write(tk_halted_on, lock);
	/*
	 * Success proves the lock still held, by the holder we judged, at a
	 * point after tk_halted_on was visible (cmpxchg is a full barrier).
	 */
	if (old && try_cmpxchg(&lock->locked, &old, old | TK_HALTED)) {
		this_cpu_inc(tk_counts[TK_HALTS]);
		safe_halt();		/* sti; hlt: returns with interrupts on */
		local_irq_disable();
	}
	this_cpu_write(tk_halted_on, NULL);
	local_irq_enable();
}

/*
 * Wait for @lock and take it.  @irqs_on: the caller turned interrupts off
 * for this lock only (they were on): wait with them on, take the lock
 * with them off.  Returns with interrupts as on entry.
 */
static void notrace tk_wait(struct qspinlock *lock, bool irqs_on)
{
	u32 me = tk_me();

	pvli_publish_kernel_locks(tk_depth(), this_cpu_inc_return(tk_waiting));
	this_cpu_inc(tk_counts[TK_WAITS]);
	if (irqs_on) {
		this_cpu_inc(tk_counts[TK_IRQ_WAITS]);
		local_irq_enable();
	}
	for (;;) {
		int v = atomic_read(&lock->val);

		if (!v) {
			if (irqs_on)
				local_irq_disable();
			if (atomic_try_cmpxchg_acquire(&lock->val, &v, me))
				break;
			if (irqs_on)
				local_irq_enable();
			continue;
		}
		if (tk_should_halt(v))
			tk_halt(lock, v);
		else
			cpu_relax();
	}
	/* Published by the caller's tk_held() (or the next publication). */
	this_cpu_dec(tk_waiting);
}

void notrace pvli_tk_slowpath(struct qspinlock *lock, u32 val)
{
	/* Inline arch_spin_lock() users: no hold count (their unlock is inline). */
	tk_wait(lock, false);
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
		tk_wait(lock, irqs_on);
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
	tk_unlock(lock);
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
	int cpu;

	for_each_possible_cpu(cpu)
		INIT_CSD(per_cpu_ptr(&tk_kick_csd, cpu), tk_kick_ipi, NULL);
	return 0;
}
