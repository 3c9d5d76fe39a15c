// SPDX-License-Identifier: GPL-2.0-only
/*
 * The takeover's spinlock functions: what spin_lock*(), spin_trylock*()
 * and spin_unlock*() of the guest kernel run while pvlockinfo_takeover is
 * applied (the direct entry or the livepatch puts them in front of the
 * originals), plus the replacement of native_queued_spin_lock_slowpath()
 * for the inline arch_spin_lock() users that never call the out-of-line
 * functions; the slowpath entry installs only that last one.
 *
 * The guest this serves has no paravirt spinlocks and virt_spin_lock_key
 * on (the refusal list, pvli_tk_refuse.c, makes sure): there the kernel's
 * own contended path is virt_spin_lock(), a test-and-set of the whole
 * lock word, and its unlock stores 0 to the locked byte.  The waiting
 * itself is the lock core's word lock (guest/lock/shfl_lock.c, in
 * pvlockinfo.ko), which lives in that same word; its invariants, and why
 * the kernel's inline paths, arch_spin_*() users and callers of the
 * original functions share locks with it safely, are stated there.
 *
 * The uncontended path is the original's plus as little as we can:
 *
 *   lock:    preempt_disable(); cmpxchg 0 -> me; depth++ and publish it
 *   unlock:  xchg locked byte -> 0 (kick if SLOW); depth-- and publish it
 *
 * "me" is one per-CPU load: this CPU + 2 while holders are named (the
 * takeover is live, with the direct entry or the livepatch, or the
 * adaptive entry while its fast paths are on), 1 (names
 * nobody, as the kernel's own _Q_LOCKED_VAL) before that and while it
 * goes.  Naming has a rule:
 * a holder is named only if its release is ours, because only ours
 * kicks the waiters halted behind it (the original's plain store
 * kicks nobody).  pvli_tk_go_live() and pvli_tk_quiesce() keep it.
 *
 * Hold depth: per CPU, one counter of named acquisitions not yet
 * released.  The release learns who held from the byte its xchg
 * returns, so a lock taken anonymously (by old code, or before the
 * takeover went live) is never subtracted, and a lock we named is
 * subtracted exactly once, whoever releases it (ours does, by the rule
 * above).  That is what kept the old per-CPU stacks drifting: they
 * guessed from the word after the fact.  Interrupts and NMIs nest
 * balanced on the same counter (single-instruction per-CPU updates), so
 * the last value stored into the page is always the current one.  A
 * release of a lock that another CPU named cannot touch that CPU's
 * counter; the kernel does not do that (a spinlock is released where it
 * was taken, with preemption off in between), and TK_FOREIGN counts it
 * should it ever happen.
 *
 * Publishing: the depth and the number of waits in progress go into this
 * vCPU's record of the shared page (the depth through pvli_own_depth,
 * never NULL: one per-CPU pointer load and a store, no branch; waits
 * through pvli_own_guest), which the host reads when it preempts the vCPU to
 * classify the preemption as lock-holder or lock-waiter preemption.
 *
 * How a contended caller waits (tk_wait()):
 *   switch on, live, policy shfl-pv (the default): the lock core's
 *     shfl-pv (newcomers compete for the free word, then queue; the
 *     queue is shuffled so that waiters whose vCPU runs go first;
 *     waiters halt while the holder's or the queue head's vCPU is
 *     preempted), with interrupts as the caller had them;
 *   switch on, live, policy tas-pv: test-and-set, halting while the
 *     holder's vCPU is preempted;
 *   otherwise: test-and-set, never halting (the kernel's own way).
 * Callers of the _irq/_irqsave variants whose interrupts were on never
 * queue: an interrupt handler on top of a queued node could want the
 * same lock.  They wait test-and-set with interrupts on (and so can
 * halt), and turn them off again to take the lock, as the kernel's
 * spin-ops did with GENERIC_LOCKBREAK.  NMIs never queue.
 *
 * With the slowpath entry only pvli_tk_slowpath() is ours: every lock is
 * taken naming nobody (the releases are the kernel's), so nobody halts
 * behind a holder, and the _irq/_irqsave callers arrive with interrupts
 * already off and wait (queued) with them off, as in the kernel's own
 * queued slow path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/irqflags.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <asm/qspinlock.h>

#include "pvlockinfo.h"
#include "pvli_tk.h"
#include "pvli_tk_split.h"
#include "shfl_lock.h"

/* What the fast paths read: one cache line per CPU. */
struct tk_cpu {
	u32 me;		/* holder bits we take a word with (see the top) */
	u32 self;	/* this CPU's own holder bits, named or not; 0 if it has none */
	u32 depth;	/* named acquisitions not yet released here */
	u32 waiting;	/* contended acquisitions in progress (nested) */
};
static DEFINE_PER_CPU_ALIGNED(struct tk_cpu, tk_cpu);
static DEFINE_PER_CPU(unsigned long [TK_NR_COUNTERS], tk_counts);
/*
 * The wait split (pvli_tk_split.h), a record per context a CPU can nest:
 * task, softirq, hardirq, then an NMI-class entry (NMI, #MC, #DB, int3:
 * irqentry_nmi_enter()) per depth, since those can nest in each other.
 * A context is only ever interrupted by deeper ones, so each record has
 * one writer at a time and no writer needs interrupts off.  A wait nested
 * deeper than TK_SPLIT_NMI_DEPTHS NMI-class entries is left out of the
 * split (it is in "waits"); none is expected.
 */
#define TK_SPLIT_NMI_DEPTHS	4
struct tk_splits {
	struct pvli_tk_split rec[3 + TK_SPLIT_NMI_DEPTHS];
};
static DEFINE_PER_CPU(struct tk_splits, tk_splits);
static struct shfl_stats tk_core_base;	/* the core's kernel counts when we came */
/* Under tk_hold_mutex: */
static DEFINE_MUTEX(tk_hold_mutex);
static bool tk_holds_nmi_halts;	/* shfl_nmi_halts_hold(true) done and not undone */
static bool tk_switch_on = true;	/* pvlockinfo.ko's switch, as last told (pvli_tk_switched()) */
static struct shfl_nmi_counts tk_nmi_base;	/* the shim's irqs-off halt counts when we came */
static bool tk_is_live;			/* between go_live and quiesce */
/*
 * Waits are published to the page's kernel_waiting: set at init, before
 * any replacement runs, but not with the slowpath entry, which claims no
 * kernel_* field (tk_live_now(), pvli_takeover.c); switched by the
 * adaptive entry with its fast paths (pvli_tk_publish_waits()).  The
 * depth needs no such gate: only the fast paths publish it.
 */
static bool tk_publishes;

const struct pvli_tk_func pvli_tk_funcs[PVLI_TK_NR_FUNCS] = {
#define TK_FUNC(name, fn) { #name, name, pvli_tk_##fn }
	TK_FUNC(_raw_spin_unlock, spin_unlock),
	TK_FUNC(_raw_spin_unlock_bh, spin_unlock_bh),
	TK_FUNC(_raw_spin_unlock_irq, spin_unlock_irq),
	TK_FUNC(_raw_spin_unlock_irqrestore, spin_unlock_irqrestore),
	TK_FUNC(_raw_spin_trylock, spin_trylock),
	TK_FUNC(_raw_spin_trylock_bh, spin_trylock_bh),
	TK_FUNC(_raw_spin_lock, spin_lock),
	TK_FUNC(_raw_spin_lock_bh, spin_lock_bh),
	TK_FUNC(_raw_spin_lock_irq, spin_lock_irq),
	TK_FUNC(_raw_spin_lock_irqsave, spin_lock_irqsave),
#undef TK_FUNC
};

/* Counter @c of the wait split @s (TK_WAIT_NS to TK_WAIT_RUN_NS). */
static u64 tk_split_count(const struct pvli_tk_split *s, enum pvli_tk_counter c)
{
	return c == TK_WAIT_NS ? s->wait_ns :
	       c == TK_WAIT_STEAL_NS ? s->steal_ns :
	       c == TK_WAIT_RUN_NS ? s->run_ns : s->no_clocks;
}

/* The wait split of every CPU, each record read whole. */
static void tk_split_sum(struct pvli_tk_split *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu)
		for (i = 0; i < ARRAY_SIZE(tk_splits.rec); i++)
			pvli_tk_split_read(&per_cpu_ptr(&tk_splits, cpu)->rec[i], sum);
}

unsigned long pvli_tk_count(enum pvli_tk_counter c)
{
	struct pvli_tk_split split;
	struct shfl_stats q;
	unsigned long sum = 0;
	int cpu;

	if (c >= TK_NMI_HALTS) {
		struct shfl_nmi_counts n;

		shfl_nmi_halt_counts(&n);
		return c == TK_NMI_HALTS ? n.hlts - tk_nmi_base.hlts :
		       c == TK_NMI_KICKS ? n.kicks - tk_nmi_base.kicks :
		       n.rescues - tk_nmi_base.rescues;
	}
	if (c >= TK_HALTS) {
		/* The lock core's kernel-lock counters, since we were loaded. */
		shfl_stats(SHFL_STATS_KERNEL, &q);
		return c == TK_HALTS ? q.halts - tk_core_base.halts :
		       c == TK_KICKS ? q.kicks - tk_core_base.kicks :
		       c == TK_QUEUED ? q.queued - tk_core_base.queued :
		       q.shuffles - tk_core_base.shuffles;
	}
	if (c >= TK_WAIT_NS) {
		tk_split_sum(&split);
		return tk_split_count(&split, c);
	}
	for_each_possible_cpu(cpu)
		sum += per_cpu(tk_counts, cpu)[c];
	return sum;
}

int pvli_tk_show_counters(char *buf, size_t len)
{
#define TK_LINE_ENTRY(name, c, desc) { #name, c },
	static const struct { const char *name; enum pvli_tk_counter c; } line[] = {
		PVLI_TK_COUNTERS(TK_LINE_ENTRY)
	};
#undef TK_LINE_ENTRY
	struct pvli_tk_split split;
	int i, n = 0;

	/* One read of the split for its four: the same whole waits in each. */
	tk_split_sum(&split);
	for (i = 0; i < ARRAY_SIZE(line); i++) {
		enum pvli_tk_counter c = line[i].c;
		u64 v = c >= TK_WAIT_NS && c < TK_HALTS ? tk_split_count(&split, c) :
			pvli_tk_count(c);

		n += scnprintf(buf + n, len - n, "%s%s=%llu", i ? " " : "", line[i].name, v);
	}
	return n + scnprintf(buf + n, len - n, "\n");
}

static __always_inline struct shfl_word *tk_word(struct qspinlock *lock)
{
	return (struct shfl_word *)lock;
}

/* This vCPU's guest record, or NULL; preemption is off (an RCU reader). */
static __always_inline struct pvli_vcpu_guest *tk_own(void)
{
	return this_cpu_read(pvli_own_guest);
}

/* No branch: pvli_own_depth points at a sink while there is no page. */
static __always_inline void tk_publish_depth(u32 depth)
{
	WRITE_ONCE(*this_cpu_read(pvli_own_depth), depth);
}

/*
 * Publish this CPU's count of waits in progress, if waits are published
 * now or @was (the wait that ends published its start): a wait whose
 * start was published always publishes its end, so that once publishing
 * stops and every wait that began before has ended (the adaptive entry's
 * grace periods) the page says 0.  Returns whether it published.
 */
static __always_inline bool tk_publish_waiting(u32 waiting, bool was)
{
	struct pvli_vcpu_guest *g = tk_own();
	bool pub = READ_ONCE(tk_publishes);

	if (g && (pub || was))
		WRITE_ONCE(g->kernel_waiting, waiting);
	return pub;
}

/*
 * After an acquisition with holder bits @me.  Without a branch on the
 * uncontended path (each one ends a translation block under TCG): an
 * anonymous acquisition adds 0 and publishes the depth unchanged.
 */
static __always_inline void tk_held_add(u32 me)
{
	tk_publish_depth(this_cpu_add_return(tk_cpu.depth, (u32)(me != SHFL_UNKNOWN_HOLDER)));
}

/*
 * After a release that found holder bits @was (the locked byte, SLOW
 * masked off).  "self" is shfl_me() without its bounds check: a CPU too
 * high to be named has 0, which no held lock's holder bits are.
 */
static __always_inline void tk_held_del(u32 was)
{
	if (likely(was == this_cpu_read(tk_cpu.self)))
		tk_publish_depth(this_cpu_dec_return(tk_cpu.depth));
	else if (was != SHFL_UNKNOWN_HOLDER)	/* anonymous ones were never counted */
		this_cpu_inc(tk_counts[TK_FOREIGN]);
}

/*
 * For the "held" module parameter: per online CPU, its hold depth.
 * Racy by nature; for debugging and tests.
 */
int pvli_tk_show_held(char *buf, size_t len)
{
	int cpu, n = 0;

	for_each_online_cpu(cpu)
		n += scnprintf(buf + n, len - n, "cpu %d: %u\n", cpu,
			       READ_ONCE(per_cpu_ptr(&tk_cpu, cpu)->depth));
	return n;
}

/*
 * A wait of @ns: the waiter's steal and run clocks were @s0 and @r0 at its
 * start (ok0: known) and @s1 and @r1 at its end (ok1).  Preemption is off,
 * so the record is this context's on this CPU until we are done.
 */
static __always_inline void tk_count_wait(u64 ns, bool ok0, u64 s0, u64 r0,
					  bool ok1, u64 s1, u64 r1)
{
	unsigned int level = interrupt_context_level(), i = level;

	if (level == 3) {
		i = 2 + (nmi_count() >> NMI_SHIFT);	/* depth 1 is the NMI's own */
		if (i >= ARRAY_SIZE(tk_splits.rec))
			return;
	}
	pvli_tk_split_add(&this_cpu_ptr(&tk_splits)->rec[i], ns, ok0 && ok1, s0, r0, s1, r1);
}

/*
 * Wait for @lock and take it with holder bits @me.  @irqs_on: the caller
 * turned interrupts off for this lock only (they were on): wait with them
 * on, take the lock with them off.  Returns with interrupts as on entry.
 * @flags: more SHFL_WAIT_* flags.
 */
static noinline void notrace tk_wait(struct qspinlock *lock, u32 me, bool irqs_on,
				     unsigned int flags)
{
	const struct shfl_policy *pol;
	bool published = tk_publish_waiting(this_cpu_inc_return(tk_cpu.waiting), false);
	/* Time then clocks; at the end clocks then time (clocks inside the wait). */
	u64 t0 = local_clock(), t1, s0, r0, s1, r1;
	bool ok0 = pvli_own_clocks_atomic(&s0, &r0), ok1;

	this_cpu_inc(tk_counts[TK_WAITS]);
	if (!READ_ONCE(pvli_takeover_active) || !READ_ONCE(tk_is_live))
		pol = &shfl_policy_kernel_tas;
	else if (irqs_on || !READ_ONCE(pvli_takeover_queue))
		pol = &shfl_policy_kernel_tas_pv;
	else
		pol = &shfl_policy_kernel_shfl_pv;
	if (irqs_on) {
		this_cpu_inc(tk_counts[TK_IRQ_WAITS]);
		flags |= SHFL_WAIT_IRQS_ON;
	} else if (irqs_disabled()) {
		/*
		 * The caller's: the lock core halts with them off only where
		 * an NMI kick can end it (irqsoff_halt; shim_kernel_nmi.c).
		 * Safe for us: an NMI's holds name nobody (tk_me()).
		 */
		this_cpu_inc(tk_counts[TK_IRQSOFF_WAITS]);
		flags |= SHFL_WAIT_HALT_IRQSOFF;
	}
	if (me == SHFL_UNKNOWN_HOLDER)
		flags |= SHFL_WAIT_ANONYMOUS;
	shfl_word_lock_slowpath(tk_word(lock), pol, 0, flags);
	ok1 = pvli_own_clocks_atomic(&s1, &r1);
	t1 = local_clock();
	tk_publish_waiting(this_cpu_dec_return(tk_cpu.waiting), published);
	tk_count_wait(t1 - t0, ok0, s0, r0, ok1, s1, r1);
}

/*
 * Inline arch_spin_lock() users (the qrwlock wait_lock behind
 * tasklist_lock, for one) and callers of the original functions: their
 * release is the kernel's plain store, which kicks nobody, so they take
 * the word naming nobody and nobody halts behind them; no hold count.
 */
void notrace pvli_tk_slowpath(struct qspinlock *lock, u32 val)
{
	tk_wait(lock, SHFL_UNKNOWN_HOLDER, false, 0);
}

/*
 * The bodies the patched functions share; each caller has set up its
 * preemption/bh/interrupt state as the function it replaces does.
 */
/*
 * The contended ends of tk_lock() and tk_release(), out of line: then
 * nothing on the uncontended paths lives across a call, and the callers
 * save no register (two memory accesses fewer each, under TCG each a
 * softmmu lookup).
 */
static noinline void notrace tk_lock_contended(struct qspinlock *lock, u32 me, bool irqs_on)
{
	tk_wait(lock, me, irqs_on, 0);
	tk_held_add(me);
}

static noinline void notrace tk_release_kick(struct qspinlock *lock, u8 was)
{
	shfl_kick_halted(tk_word(lock));
	tk_held_del(was & SHFL_HOLDER_MASK);
}

/*
 * The holder bits to take a word with: this CPU's "me", but nobody in an
 * NMI.  An NMI's release could only defer its kicks (sending an IPI is
 * not NMI-safe), and a waiter halted with interrupts off (woken by NMI
 * kicks only) behind it might be what the interrupted context waits for
 * before it runs them.  Not only trylocks: BPF's hash maps, for one,
 * spin_lock() in NMIs (perf programs).  A select, not a branch: the
 * uncontended path stays one translation block under TCG (it costs one
 * per-CPU load, preempt_count's).
 */
static __always_inline u32 tk_me(void)
{
	u32 me = this_cpu_read(tk_cpu.me);

	return in_nmi() ? SHFL_UNKNOWN_HOLDER : me;
}

static __always_inline void tk_lock(struct qspinlock *lock, bool irqs_on)
{
	u32 me = tk_me();
	int v = 0;

	/* Acquire: pairs with the release of whoever unlocked it. */
	if (likely(atomic_try_cmpxchg_acquire(&lock->val, &v, me)))
		tk_held_add(me);
	else
		tk_lock_contended(lock, me, irqs_on);
}

static __always_inline bool tk_trylock(struct qspinlock *lock)
{
	u32 me = tk_me();
	int v = atomic_read(&lock->val);

	if (unlikely(v) || !atomic_try_cmpxchg_acquire(&lock->val, &v, me))
		return false;
	tk_held_add(me);
	return true;
}

static __always_inline unsigned long tk_lock_irqsave(struct qspinlock *lock)
{
	unsigned long flags;

	/* Saved rather than assumed on: a caller with them off stays off. */
	local_irq_save(flags);
	preempt_disable();
	tk_lock(lock, !arch_irqs_disabled_flags(flags));
	return flags;
}

static __always_inline void tk_release(struct qspinlock *lock)
{
	/* Release, and a full barrier: pairs with the one in the core's park_on_word(). */
	u8 was = xchg(&lock->locked, 0);

	if (unlikely(was & SHFL_SLOW))
		tk_release_kick(lock, was);
	else
		tk_held_del(was & SHFL_HOLDER_MASK);
}

void notrace pvli_tk_spin_lock(raw_spinlock_t *lock)
{
	preempt_disable();
	tk_lock(&lock->raw_lock, false);
}

void notrace pvli_tk_spin_lock_bh(raw_spinlock_t *lock)
{
	__local_bh_disable_ip(_RET_IP_, SOFTIRQ_LOCK_OFFSET);
	tk_lock(&lock->raw_lock, false);
}

unsigned long notrace pvli_tk_spin_lock_irqsave(raw_spinlock_t *lock)
{
	return tk_lock_irqsave(&lock->raw_lock);
}

void notrace pvli_tk_spin_lock_irq(raw_spinlock_t *lock)
{
	tk_lock_irqsave(&lock->raw_lock);
}

int notrace pvli_tk_spin_trylock(raw_spinlock_t *lock)
{
	preempt_disable();
	if (tk_trylock(&lock->raw_lock))
		return 1;
	preempt_enable();
	return 0;
}

int notrace pvli_tk_spin_trylock_bh(raw_spinlock_t *lock)
{
	__local_bh_disable_ip(_RET_IP_, SOFTIRQ_LOCK_OFFSET);
	if (tk_trylock(&lock->raw_lock))
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

/* Holder bits for every CPU: its own (named) or SHFL_UNKNOWN_HOLDER. */
static void tk_set_naming(bool named)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		u32 me = cpu <= SHFL_MAX_HOLDER_CPU ? cpu + SHFL_CPU_BIAS : SHFL_UNKNOWN_HOLDER;

		WRITE_ONCE(per_cpu_ptr(&tk_cpu, cpu)->me, named ? me : SHFL_UNKNOWN_HOLDER);
	}
}

/*
 * Irqs-off halts (and their watchdog, 20 timer interrupts a second per
 * vCPU) are armed while we are live and switched on: switched off, no
 * waiter halts (tk_wait()), so nothing needs them.  Held once, however
 * often either changes.  Disarming is safe at any time: a waiter halts
 * with interrupts off only while they are armed, and the disarm waits
 * for the halts in progress (shim_kernel_nmi_arm.c).
 */
static void tk_update_nmi_hold(void)
{
	bool hold = READ_ONCE(tk_is_live) && tk_switch_on;

	lockdep_assert_held(&tk_hold_mutex);
	if (tk_holds_nmi_halts != hold) {
		shfl_nmi_halts_hold(hold);
		tk_holds_nmi_halts = hold;
	}
}

void pvli_tk_switched(bool on)
{
	mutex_lock(&tk_hold_mutex);
	tk_switch_on = on;
	tk_update_nmi_hold();
	mutex_unlock(&tk_hold_mutex);
}

void pvli_tk_go_live(bool name_holders)
{
	tk_set_naming(name_holders);
	mutex_lock(&tk_hold_mutex);
	WRITE_ONCE(tk_is_live, true);
	tk_update_nmi_hold();
	mutex_unlock(&tk_hold_mutex);
}

bool pvli_tk_live(void)
{
	return READ_ONCE(tk_is_live);
}

/*
 * Holders named from now on (@on), or no more.  Off returns once no lock
 * is held under our name and no waiter is left that may halt behind a
 * named holder.
 */
void pvli_tk_name_holders(bool on)
{
	int cpu;

	tk_set_naming(on);
	if (on)
		return;
	/*
	 * Every spinlock is held, and every wait runs, with preemption (or
	 * bottom halves, or interrupts) off: an RCU reader.  A reader that
	 * began before the first grace period ended may still have read the
	 * old "me" or policy; the second waits for it.  After that no lock
	 * is held under our name (its release was ours, which kicked) and
	 * no waiter that may halt behind a named holder is left.
	 */
	synchronize_rcu();
	synchronize_rcu();
	for_each_possible_cpu(cpu) {
		u32 d = READ_ONCE(per_cpu_ptr(&tk_cpu, cpu)->depth);

		if (d)
			pr_warn("cpu %d: hold depth %u after the last named holder left\n", cpu, d);
	}
}

void pvli_tk_publish_waits(bool on)
{
	WRITE_ONCE(tk_publishes, on);
}

void pvli_tk_quiesce(void)
{
	mutex_lock(&tk_hold_mutex);
	WRITE_ONCE(tk_is_live, false);
	mutex_unlock(&tk_hold_mutex);
	pvli_tk_name_holders(false);
	/* No waiter of ours is left to halt: disarm. */
	mutex_lock(&tk_hold_mutex);
	tk_update_nmi_hold();
	mutex_unlock(&tk_hold_mutex);
}

void pvli_tk_lock_init(bool publish_waits)
{
	int cpu;

	tk_publishes = publish_waits;
	BUILD_BUG_ON(sizeof(struct shfl_word) != sizeof(struct qspinlock));
	BUILD_BUG_ON(offsetof(struct qspinlock, locked) != offsetof(struct shfl_word, locked));
	BUILD_BUG_ON(offsetof(struct qspinlock, tail) != offsetof(struct shfl_word, tail));
	BUILD_BUG_ON(SHFL_UNKNOWN_HOLDER != _Q_LOCKED_VAL);
	for_each_possible_cpu(cpu)
		per_cpu_ptr(&tk_cpu, cpu)->self = cpu <= SHFL_MAX_HOLDER_CPU ? cpu + SHFL_CPU_BIAS : 0;
	tk_set_naming(false);
	shfl_stats(SHFL_STATS_KERNEL, &tk_core_base);
	shfl_nmi_halt_counts(&tk_nmi_base);
}
