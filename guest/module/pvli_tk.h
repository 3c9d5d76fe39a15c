/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the files of pvlockinfo_takeover.ko share: the replacement
 * spinlock functions (pvli_tk_lock.c), the ways in front of them (the
 * direct and slowpath entries, pvli_tk_direct.c and pvli_tk_entry.S; the
 * adaptive one's switching, pvli_tk_adapt.c; the livepatch and the
 * module's init, pvli_takeover.c), and the refusal list (pvli_tk_refuse.c).
 */
#ifndef __PVLI_TK_H
#define __PVLI_TK_H

#include <linux/spinlock.h>
#include <asm/ibt.h>

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

/*
 * The direct-call trampoline of all of them (pvli_tk_entry.S); not a C
 * function.  It finds the function by its fentry call's return address.
 */
void pvli_tk_tramp(void);

/*
 * The replaced out-of-line functions: the kernel's name and function,
 * and our replacement.
 */
struct pvli_tk_func {
	const char *name;
	void *old_func;
	void *new_func;
};
#define PVLI_TK_NR_FUNCS	10
extern const struct pvli_tk_func pvli_tk_funcs[PVLI_TK_NR_FUNCS];
/*
 * Where ftrace's call is in a kernel function: right after its endbr64.
 * The direct entry registers exactly this address (ftrace refuses it if
 * the call is elsewhere) because its trampoline recognises the function
 * by the address after that call.
 */
static inline unsigned long pvli_tk_fentry(const void *func)
{
	return (unsigned long)func + ENDBR_INSN_SIZE;
}
/* Where inline arch_spin_lock() users and unswitched callers wait. */
#define PVLI_TK_SLOWPATH	"native_queued_spin_lock_slowpath"

/*
 * The direct entry (pvli_tk_direct.c): 0, or -errno and why.  Without
 * @fast_paths only the slow path is redirected (the slowpath entry).
 */
int pvli_tk_direct_apply(bool fast_paths, char *why, size_t len);
void pvli_tk_direct_remove(void);
/*
 * The fast paths' direct calls on or off while the slow path stays
 * redirected (the adaptive entry): 0, or -errno and why.  Sleeps.
 */
int pvli_tk_direct_fast(bool on, char *why, size_t len);
bool pvli_tk_direct_can_retry(void);

/* Counters, per CPU, summed for the module parameters. */
enum pvli_tk_counter {
	TK_WAITS,	/* contended acquisitions (slow path entries) */
	TK_IRQ_WAITS,	/* waits done with interrupts back on (irq/irqsave callers) */
	TK_IRQSOFF_WAITS, /* waits with interrupts off throughout (halt only with irqsoff_halt) */
	TK_FOREIGN,	/* releases of a lock another CPU took naming itself */
	TK_NR_COUNTERS,
	/*
	 * Time in the slow path (local_clock(), guest ns), the part of it the
	 * waiter's own vCPU was preempted (its steal clock) and the part it
	 * was on a host CPU (its run clock; pvli_own_clocks_atomic()), capped
	 * jointly at the wait; the rest it was halted (or blocked in the
	 * host).  Waits whose clocks were unknown at either end (no live
	 * page, a stale record) add to neither part and are counted.  The
	 * run part is the waiting that took a host CPU: for the kernel's own
	 * slow path, which never halts under TCG, bench/takeover_bound.sh
	 * measures it with pvlocktrace as the wait less the steal.  Kept
	 * per CPU in a pvli_tk_split, read whole (pvli_tk_split.h).
	 */
	TK_WAIT_NS = TK_NR_COUNTERS,
	TK_WAIT_STEAL_NS,
	TK_WAIT_NO_STEAL,
	TK_WAIT_RUN_NS,
	/* Counted by the lock core (shfl_lock.c), not per call here. */
	TK_HALTS,	/* halts (any reason) */
	TK_KICKS,	/* halted waiters kicked */
	TK_QUEUED,	/* waits that queued (policy shfl-pv) */
	TK_SHUFFLES,	/* waiters moved ahead of preempted ones */
	/* Counted by the shim (shim_kernel_nmi.c): halts with interrupts off. */
	TK_NMI_HALTS,	/* halts with interrupts off that reached the hlt (irqsoff_halt) */
	TK_NMI_KICKS,	/* kicks sent as NMIs to such halts */
	TK_NMI_RESCUES,	/* such halts no kick ended within a second (must stay 0) */
};
/*
 * Every counter: X(name, counter, description), in the order of the
 * "counters" line and pvli-takeover's list (its names are the module
 * parameters' too).
 */
#define PVLI_TK_COUNTERS(X)							\
	X(waits, TK_WAITS, "contended spin_lock*() calls so far") \
	X(halts, TK_HALTS, "waiters halted (holder or queue head preempted, or not next)") \
	X(kicks, TK_KICKS, "halted waiters kicked") \
	X(irq_waits, TK_IRQ_WAITS, "waits of irq/irqsave callers done with interrupts on") \
	X(irqsoff_waits, TK_IRQSOFF_WAITS, "waits with interrupts off throughout (they halt only with pvlockinfo's takeover_irqsoff_halt=1)") \
	X(queued, TK_QUEUED, "waits that queued (takeover policy shfl-pv)") \
	X(shuffles, TK_SHUFFLES, "queued waiters moved ahead of ones whose vCPU was preempted") \
	X(foreign, TK_FOREIGN, "releases of a lock another CPU had taken (the kernel does none)") \
	X(irqsoff_halts, TK_NMI_HALTS, "halts with interrupts off that reached the hlt (takeover_irqsoff_halt=1)") \
	X(nmi_kicks, TK_NMI_KICKS, "kicks sent as NMIs, to waiters halted with interrupts off") \
	X(nmi_rescues, TK_NMI_RESCUES, "halts with interrupts off that no kick ended within a second (a lost kick: must stay 0)") \
	X(wait_ns, TK_WAIT_NS, "ns contended spin_lock*() calls waited, all CPUs summed (guest clock)") \
	X(wait_steal_ns, TK_WAIT_STEAL_NS, "of wait_ns: while the waiter's own vCPU was preempted (its steal clock)") \
	X(wait_run_ns, TK_WAIT_RUN_NS, "of wait_ns: while the waiter's own vCPU was on a host CPU (its run clock); the rest of it, halted (or blocked in the host)") \
	X(wait_no_steal, TK_WAIT_NO_STEAL, "waits whose own clocks were unknown (no live page, a stale record): none of their wait_ns is in wait_steal_ns or wait_run_ns")

unsigned long pvli_tk_count(enum pvli_tk_counter c);
/*
 * Every counter on one line, "name=value ..." (PVLI_TK_COUNTERS),
 * the wait split read whole (so steal + run <= wait holds in it and in
 * the difference of two such lines); for the "counters" parameter.
 */
int pvli_tk_show_counters(char *buf, size_t len);

/* @publish_waits: publish waits to the host (every entry but slowpath). */
void pvli_tk_lock_init(bool publish_waits);
/*
 * The waiting policies start.  @name_holders: holders named and hold
 * depth counted from now on; only once every release of a lock we take
 * goes through our release (pvli_tk_funcs all switched, for every task).
 * Without it (the slowpath entry, whose releases are the kernel's) every
 * lock is taken naming nobody.
 */
void pvli_tk_go_live(bool name_holders);
/*
 * Before anything is switched back: nobody named, nobody halts, and no
 * named holder or halting waiter is left.  Sleeps (two RCU grace periods).
 */
void pvli_tk_quiesce(void);
/*
 * While live, holders named (@on: only once every release is ours, as
 * for go-live) or no more (returns once none is named and no waiter may
 * halt behind one; sleeps): the adaptive entry's two states.
 */
void pvli_tk_name_holders(bool on);
/*
 * Publish waits to the page's kernel_waiting from now on, or no more (a
 * wait whose start was published still publishes its end: once every
 * wait that began before has ended, the page says 0).
 */
void pvli_tk_publish_waits(bool on);
/* pvlockinfo.ko's switch flipped (its tk_mutex held): irqs-off halts held while live and on. */
void pvli_tk_switched(bool on);
bool pvli_tk_live(void);
/*
 * The adaptive entry (pvli_tk_adapt.c): direct calls on the fast paths,
 * holders named, while the host overcommits this guest's vCPUs; the
 * slowpath entry's cost (none uncontended) otherwise.
 */
void pvli_tk_adapt_start(void);
void pvli_tk_adapt_stop(void);
int pvli_tk_adapt_show(char *buf, size_t len);
int pvli_tk_show_held(char *buf, size_t len);

#endif /* __PVLI_TK_H */
