// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel half of the lock-core shim, continued: halting a vCPU whose
 * interrupts are off, and the NMI that ends such a halt.
 *
 * Why: most contended kernel spinlocks are taken with interrupts already
 * off (the run-queue locks behind every wake-up; 70-89% of hackbench's and
 * fork's waits at 4 vCPUs on one host CPU).  sti;hlt would let an
 * interrupt handler in on top of a queued node, so such waiters used to
 * spin through a preempted holder's whole host slice, on the host CPU the
 * holder needs.  Linux's pv qspinlock halts them anyway (kvm_wait():
 * hlt with interrupts off, ended by the KICK_CPU hypercall); without that
 * hypercall (TCG, or KVM without pv spinlocks) an NMI is the one thing
 * that ends a hlt with interrupts off, so the kick is an NMI IPI.
 *
 * The halt (shfl_halt_irqsoff()):
 *
 *   halting = 1; smp_mb();
 *   window_begin:  load *ptr; if ((v & mask) != val) goto window_end;
 *                  hlt
 *   window_end:    halting = 0
 *
 * The kick (send_kick() in shim_kernel.c, after the waker's full barrier
 * and its read of the node's halted_on): if the target is halting, claim
 * its pending bit and send an NMI (a claim already set: one is on its
 * way); else the ordinary kick IPI.  Why no kick is lost:
 *  - Store buffering: the waker changes *ptr, full barrier, reads
 *    halting; we set halting, full barrier, read *ptr.  One sees the
 *    other: we see the change (and never hlt), or the waker sees halting
 *    and kicks by NMI.
 *  - The NMI is claimed and sent after the change.  Arriving before
 *    window_begin it leaves us to see the change; between window_begin
 *    and the hlt, the handler makes it return to window_end (there is no
 *    sti shadow for NMIs: this is the window's equivalent); during the
 *    hlt, it ends it.  Returning elsewhere takes writing the frame iretq
 *    uses: on x86-64 without FRED the handler's pt_regs is the nested-NMI
 *    code's "outermost" copy, and iretq reads the "iret" copy right above
 *    it (entry_64.S); nmi_return_to() writes both, after checking that
 *    the copy is where it should be, which shfl_nmi_halts_enable() also
 *    checks once with an NMI to itself before it lets anyone halt.
 *  - The pending bit: a kicker that finds it set sends nothing.  Its
 *    change came after the claim, so before the handler clears it, and
 *    after that NMI we re-check (the lock core loops after every halt).
 *    So at most one of our NMIs is in flight per CPU: none merges with
 *    another of ours, and each is claimed by exactly one handler run.
 * And what must hold around it:
 *  - No kick for such a halt is sent from an NMI (shfl_kick() defers
 *    those to an irq_work, which this CPU's waker might only run after
 *    the halted CPU answers it): the takeover takes locks in an NMI
 *    naming nobody, so nobody halts behind an NMI's hold, and queue
 *    hand-overs never run in an NMI (the lock core's invariant 6).
 *  - Never in an NMI (nothing would end it), and only while armed: both
 *    enabled (shfl_nmi_halts_enable(): pvlockinfo's takeover_irqsoff_halt)
 *    and held by a user (shfl_nmi_halts_hold(): the takeover while it is
 *    live and switched on, the test module), for waits whose caller allows
 *    it (SHFL_WAIT_HALT_IRQSOFF: the takeover's channel policies).
 *  - While armed, and only then, a per-CPU hrtimer (hard interrupt
 *    context, every 50 ms; the halted CPU's own is held off, the others'
 *    fire) looks for
 *    a CPU in one such halt for a second or more and sends it an NMI: a
 *    lost kick would otherwise stop that CPU for good, which tick-bounded
 *    halts (sti;hlt) never could.  It counts what it ends (nmi_rescues),
 *    and the tests require 0.
 * Known limit: an NMI of someone else's (perf, the NMI watchdog: KVM
 * with a virtual PMU) that arrives between a kicker's claim and its send
 * is claimed by us; ours, arriving later, then goes unclaimed ("NMI
 * received for unknown reason").  Under TCG there is no other NMI.
 */
#define pr_fmt(fmt) "pvlockinfo: " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kprobes.h>
#include <linux/mutex.h>
#include <linux/objtool.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>
#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/nmi.h>

#include "shfl_lock.h"

#define WATCH_PERIOD_MS		50
#define WATCH_RESCUE_MS		1000

struct nmi_halt_cpu {
	u32 halting;		/* in shfl_halt_irqsoff(): kicks must be NMIs */
	u32 seq;		/* halts begun here: one halt from the next */
	unsigned long since;	/* jiffies when the current one began */
	unsigned long pending;	/* bit 0: one of our NMIs is on its way here */
	unsigned long hlts;	/* shfl_halt_irqsoff() calls that reached the hlt */
	unsigned long kicks;	/* NMIs sent from here (kicks) */
	unsigned long rescues;	/* NMIs sent from here (the watchdog) */
	unsigned long skips;	/* NMIs that landed in the window: hlt skipped */
	unsigned long misses;	/* ... and could not skip it (frame not found) */
	int selftest;		/* 1: armed; 2: frame as expected; 3: not */
	struct hrtimer watch;
};
static DEFINE_PER_CPU_ALIGNED(struct nmi_halt_cpu, nmi_halt_cpu);

/*
 * Under nmi_halt_mutex.  Armed (nmi_halts_on: halts allowed, watchdog
 * running) exactly while enabled and held and not dying, so that a guest
 * that loads pvlockinfo without the takeover pays no timer interrupts.
 */
static bool nmi_halts_enabled;		/* the setting: takeover_irqsoff_halt */
static unsigned int nmi_halts_holds;	/* shfl_nmi_halts_hold(true) not yet undone */
static bool nmi_halts_dying;		/* module exit has begun: no arming */
static bool nmi_halts_on;		/* armed; read by shfl_can_halt_irqsoff() */
static DEFINE_MUTEX(nmi_halt_mutex);
static enum cpuhp_state nmi_watch_hp;	/* CPUs coming and going: their watchdogs */

/* The window: its two ends are what the NMI handler compares against. */
extern const char shfl_nmi_window_begin[], shfl_nmi_window_end[];

/*
 * Test hook (guest/test/pvli_nmi_kick.c): pause this many times between
 * the check and the hlt, to widen the window an NMI may land in.  0 but
 * in that test.
 */
u32 shfl_nmi_window_spins;
SHFL_EXPORT(shfl_nmi_window_spins);

/*
 * Returns whether it reached the hlt.  noipa: one copy only (the labels
 * are global); no kprobe inside (its int3 would move us out of it).
 */
static noinline __noipa void notrace nmi_window(u32 *ptr, u32 mask, u32 val, u32 *hlt)
{
	u32 reached = 0, spins = READ_ONCE(shfl_nmi_window_spins);

	/* The handler compares addresses: no indirect branch comes here. */
	asm volatile(ANNOTATE_NOENDBR
		     "shfl_nmi_window_begin:\n\t"
		     "movl (%[ptr]), %%eax\n\t"
		     "andl %[mask], %%eax\n\t"
		     "cmpl %[val], %%eax\n\t"
		     "jne shfl_nmi_window_end\n\t"
		     "movl $1, %[reached]\n"
		     "1:\n\t"
		     "testl %[spins], %[spins]\n\t"
		     "jz 2f\n\t"
		     "pause\n\t"
		     "decl %[spins]\n\t"
		     "jmp 1b\n"
		     "2:\n\t"
		     "hlt\n\t"
		     ANNOTATE_NOENDBR
		     "shfl_nmi_window_end:\n\t"
		     : [reached] "+r" (reached), [spins] "+r" (spins)
		     : [ptr] "r" (ptr), [mask] "r" (mask), [val] "r" (val)
		     : "eax", "cc", "memory");
	*hlt = reached;
}
NOKPROBE_SYMBOL(nmi_window);

/*
 * Not on a CPU outside cpu_online_mask (coming up or going down): the
 * kernel runs no NMI handler there (exc_nmi()), so nothing would end it.
 * Only the CPU itself changes its bit, so the answer is stable here.
 */
bool shfl_can_halt_irqsoff(void)
{
	return irqs_disabled() && !in_nmi() && READ_ONCE(nmi_halts_on) &&
	       cpu_online(smp_processor_id());
}
SHFL_EXPORT(shfl_can_halt_irqsoff);

void notrace shfl_halt_irqsoff(u32 *ptr, u32 mask, u32 val)
{
	struct nmi_halt_cpu *c = this_cpu_ptr(&nmi_halt_cpu);
	u32 hlt;

	/* In this order: the watchdog reads them the other way round. */
	WRITE_ONCE(c->seq, c->seq + 1);
	smp_wmb();
	WRITE_ONCE(c->since, jiffies);
	smp_wmb();
	WRITE_ONCE(c->halting, 1);
	/* Pairs with the waker's barrier before it reads ->halting (see the top). */
	smp_mb();
	nmi_window(ptr, mask, val, &hlt);
	WRITE_ONCE(c->halting, 0);
	c->hlts += hlt;
}
SHFL_EXPORT(shfl_halt_irqsoff);

static void send_nmi(int cpu)
{
	apic->send_IPI(cpu, NMI_VECTOR);
}

/* Called by send_kick() (shim_kernel.c): is @cpu in a halt only an NMI ends? */
bool shfl_kick_by_nmi(int cpu)
{
	struct nmi_halt_cpu *c = per_cpu_ptr(&nmi_halt_cpu, cpu);

	if (!READ_ONCE(c->halting))
		return false;
	/* Set: an NMI is on its way, and it comes after our change (see the top). */
	if (!test_and_set_bit(0, &c->pending)) {
		this_cpu_inc(nmi_halt_cpu.kicks);
		send_nmi(cpu);
	}
	return true;
}

/*
 * Without FRED the frame iretq uses is the nested-NMI code's "iret" copy,
 * just above pt_regs, which starts with the "outermost" copy's five words
 * (entry_64.S).  Is it there?
 */
static __always_inline bool nmi_iret_frame_found(struct pt_regs *regs)
{
	unsigned long *iret = (unsigned long *)(regs + 1);

	return cpu_feature_enabled(X86_FEATURE_FRED) ||
	       (iret[0] == regs->ip && iret[1] == regs->cs && iret[2] == regs->flags &&
		iret[3] == regs->sp && iret[4] == regs->ss);
}

/*
 * Make the interrupted context resume at @ip.  pt_regs (the "outermost"
 * copy) first: a nested NMI from here on repeats us from it, copying it
 * to the "iret" copy.  Then the "iret" copy in one cmpxchg, which fails
 * if such a repeat has rewritten it meanwhile (to its own frame, whose
 * return must not change; the repeat then redoes ours).  Returns false,
 * changing nothing, if the frame is not where it should be.
 */
static __always_inline bool nmi_return_to(struct pt_regs *regs, unsigned long ip)
{
	unsigned long old = regs->ip;

	if (!nmi_iret_frame_found(regs))
		return false;
	regs->ip = ip;
	if (!cpu_feature_enabled(X86_FEATURE_FRED))
		cmpxchg_local((unsigned long *)(regs + 1), old, ip);
	return true;
}

static int notrace nmi_kick_handler(unsigned int type, struct pt_regs *regs)
{
	struct nmi_halt_cpu *c = this_cpu_ptr(&nmi_halt_cpu);
	unsigned long ip = instruction_pointer(regs);

	/* The self-test: only look (and go on: a kick may have come with it). */
	if (unlikely(READ_ONCE(c->selftest) == 1))
		WRITE_ONCE(c->selftest, nmi_iret_frame_found(regs) ? 2 : 3);
	/* Between the check and the hlt: the kick is this, do not halt. */
	if (ip >= (unsigned long)shfl_nmi_window_begin && ip < (unsigned long)shfl_nmi_window_end) {
		if (nmi_return_to(regs, (unsigned long)shfl_nmi_window_end))
			c->skips++;
		else
			c->misses++;
	}
	/* Full barrier: the halter re-checks after this (see the top). */
	return test_and_clear_bit(0, &c->pending) || READ_ONCE(c->selftest) > 1 ?
	       NMI_HANDLED : NMI_DONE;
}
NOKPROBE_SYMBOL(nmi_kick_handler);

/*
 * Every WATCH_PERIOD_MS on every CPU: end any other CPU's halt that has
 * lasted WATCH_RESCUE_MS (a lost kick, or a wait as long as no lock here
 * should ever see).  Stateless, so that several CPUs may look at once.
 */
static enum hrtimer_restart nmi_watch(struct hrtimer *t)
{
	int me = smp_processor_id(), cpu;

	/*
	 * Another CPU's, moved here by a CPU going down without our
	 * teardown (a hotplug target state between online and ours): this
	 * CPU has its own; two would leave it watched by nobody.
	 */
	if (unlikely(t != this_cpu_ptr(&nmi_halt_cpu.watch)))
		return HRTIMER_NORESTART;

	for_each_online_cpu(cpu) {
		struct nmi_halt_cpu *c = per_cpu_ptr(&nmi_halt_cpu, cpu);
		u32 seq = READ_ONCE(c->seq);
		unsigned long since;

		if (cpu == me)
			continue;
		smp_rmb();
		if (!READ_ONCE(c->halting))
			continue;
		smp_rmb();
		since = READ_ONCE(c->since);	/* halt seq's: it set halting after */
		smp_rmb();
		if (READ_ONCE(c->seq) != seq ||
		    time_before(jiffies, since + msecs_to_jiffies(WATCH_RESCUE_MS)))
			continue;
		/*
		 * One on its way: it ends this halt when it comes (late, not
		 * lost: an NMI merged with someone else's still runs our
		 * handler, and an online CPU runs every NMI's handlers), and a
		 * second one would go unclaimed.
		 */
		if (test_and_set_bit(0, &c->pending))
			continue;
		send_nmi(cpu);
		this_cpu_inc(nmi_halt_cpu.rescues);
		pr_warn_ratelimited("cpu %d: halted with interrupts off for %u ms and no kick came; ended it\n",
				    cpu, jiffies_to_msecs(jiffies - since));
	}
	hrtimer_forward_now(t, ms_to_ktime(WATCH_PERIOD_MS));
	return HRTIMER_RESTART;
}

/* Start @cpu's watchdog; runs on @cpu (the timer is pinned where it starts). */
static void watch_start_on(unsigned int cpu)
{
	hrtimer_start(per_cpu_ptr(&nmi_halt_cpu.watch, cpu), ms_to_ktime(WATCH_PERIOD_MS),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static void watch_start(void *unused)
{
	watch_start_on(smp_processor_id());
}

/*
 * Send this CPU an NMI and see where the handler finds the frame iretq
 * will use (nmi_return_to()).  0, or -EOPNOTSUPP if it is elsewhere or
 * the NMI never came.
 */
static int nmi_frame_selftest(void)
{
	struct nmi_halt_cpu *c;
	unsigned long flags;
	int i, r;

	local_irq_save(flags);
	c = this_cpu_ptr(&nmi_halt_cpu);
	WRITE_ONCE(c->selftest, 1);
	send_nmi(smp_processor_id());
	for (i = 0; i < 100000 && READ_ONCE(c->selftest) == 1; i++)
		udelay(1);
	r = READ_ONCE(c->selftest);
	WRITE_ONCE(c->selftest, 0);
	local_irq_restore(flags);
	if (r == 2)
		return 0;
	pr_err("irqs-off halts refused: %s\n", r == 1 ? "an NMI sent to this CPU never came" :
	       "the NMI return frame is not where this kernel's entry code keeps it");
	return -EOPNOTSUPP;
}

/*
 * CPU hotplug (these run on the CPU itself, under the hotplug lock):
 * one that comes up while armed starts its watchdog; one that goes down
 * stops its own, which would otherwise move to a CPU that stays, which
 * then runs two and, skipping itself in both, is watched by nobody.
 * nmi_halts_update() sets nmi_halts_on, starts and cancels timers
 * under cpus_read_lock(), so each of these runs wholly before or after.
 */
static int nmi_watch_online(unsigned int cpu)
{
	if (READ_ONCE(nmi_halts_on))
		watch_start_on(cpu);
	return 0;
}

/*
 * From here until the CPU leaves cpu_online_mask (milliseconds, in
 * stop_machine) it watches nobody; the other CPUs still watch it.
 */
static int nmi_watch_offline(unsigned int cpu)
{
	hrtimer_cancel(per_cpu_ptr(&nmi_halt_cpu.watch, cpu));
	return 0;
}

/*
 * Arm or disarm as the state says.  When it returns disarmed, no halt
 * with interrupts off is in progress.
 */
static void nmi_halts_update(void)
{
	bool on = nmi_halts_enabled && nmi_halts_holds && !nmi_halts_dying;
	int cpu;

	lockdep_assert_held(&nmi_halt_mutex);
	if (on && !nmi_halts_on) {
		cpus_read_lock();
		on_each_cpu(watch_start, NULL, 1);
		WRITE_ONCE(nmi_halts_on, true);
		cpus_read_unlock();
	} else if (!on && nmi_halts_on) {
		cpus_read_lock();
		WRITE_ONCE(nmi_halts_on, false);
		cpus_read_unlock();
		/*
		 * A halt is an RCU reader (interrupts off from the decision to
		 * halt until it ends): after a grace period none that could
		 * have read "on" is left.  The watchdog runs until then.  (Not
		 * under cpus_read_lock(): hotplug need not wait a grace period
		 * for us, and a CPU that comes up meanwhile reads "off".)
		 */
		synchronize_rcu();
		cpus_read_lock();
		for_each_possible_cpu(cpu)
			hrtimer_cancel(per_cpu_ptr(&nmi_halt_cpu.watch, cpu));
		cpus_read_unlock();
	}
}

/*
 * The setting: let waiters whose interrupts are off halt while a user
 * holds them (@on), or never.  Turning it on first checks that the NMI
 * handler can end such a halt; returns 0 or -errno.
 */
int shfl_nmi_halts_enable(bool on)
{
	int ret = 0;

	mutex_lock(&nmi_halt_mutex);
	if (on && !nmi_halts_enabled) {
		ret = nmi_halts_dying ? -ENODEV : nmi_frame_selftest();
		if (!ret)
			nmi_halts_enabled = true;
	} else if (!on) {
		nmi_halts_enabled = false;
	}
	nmi_halts_update();
	mutex_unlock(&nmi_halt_mutex);
	return ret;
}
SHFL_EXPORT(shfl_nmi_halts_enable);

bool shfl_nmi_halts_enabled(void)
{
	return READ_ONCE(nmi_halts_enabled);
}
SHFL_EXPORT(shfl_nmi_halts_enabled);

/*
 * A user of such halts comes (@hold) or goes; they are armed while one
 * is here (and enabled).  Sleeps.  Each hold is undone exactly once.
 */
void shfl_nmi_halts_hold(bool hold)
{
	mutex_lock(&nmi_halt_mutex);
	if (hold)
		nmi_halts_holds++;
	else if (!WARN_ON_ONCE(!nmi_halts_holds))
		nmi_halts_holds--;
	nmi_halts_update();
	mutex_unlock(&nmi_halt_mutex);
}
SHFL_EXPORT(shfl_nmi_halts_hold);

/* Halts allowed and the watchdog running (enabled, and held). */
bool shfl_nmi_halts_armed(void)
{
	return READ_ONCE(nmi_halts_on);
}
SHFL_EXPORT(shfl_nmi_halts_armed);

/*
 * Halts with interrupts off that reached the hlt, NMIs sent as kicks,
 * halts the watchdog ended, and NMIs that landed in the window (skipped
 * the hlt, or could not: the return frame not found).
 */
void shfl_nmi_halt_counts(struct shfl_nmi_counts *n)
{
	int cpu;

	memset(n, 0, sizeof(*n));
	for_each_possible_cpu(cpu) {
		struct nmi_halt_cpu *c = per_cpu_ptr(&nmi_halt_cpu, cpu);

		n->hlts += READ_ONCE(c->hlts);
		n->kicks += READ_ONCE(c->kicks);
		n->rescues += READ_ONCE(c->rescues);
		n->skips += READ_ONCE(c->skips);
		n->misses += READ_ONCE(c->misses);
	}
}
SHFL_EXPORT(shfl_nmi_halt_counts);

int shfl_nmi_halt_init(void)
{
	int cpu, ret;

	for_each_possible_cpu(cpu) {
		hrtimer_init(per_cpu_ptr(&nmi_halt_cpu.watch, cpu), CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_PINNED_HARD);
		per_cpu_ptr(&nmi_halt_cpu, cpu)->watch.function = nmi_watch;
	}
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "pvlockinfo/nmi_watch:online",
					nmi_watch_online, nmi_watch_offline);
	if (ret < 0)
		return ret;
	nmi_watch_hp = ret;
	ret = register_nmi_handler(NMI_LOCAL, nmi_kick_handler, 0, "pvli_kick");
	if (ret)
		cpuhp_remove_state_nocalls(nmi_watch_hp);
	return ret;
}

void shfl_nmi_halt_exit(void)
{
	unsigned long end;
	bool pending;
	int cpu;

	mutex_lock(&nmi_halt_mutex);
	nmi_halts_dying = true;		/* a parameter write now cannot arm */
	nmi_halts_update();
	mutex_unlock(&nmi_halt_mutex);
	cpuhp_remove_state_nocalls(nmi_watch_hp);
	/*
	 * A kick may have found a halt that was ending anyway: its NMI can
	 * still be on its way (under TCG until the host runs that vCPU), and
	 * the handler must be in when it comes.  Its pending bit says so.
	 */
	end = jiffies + HZ;
	do {
		pending = false;
		for_each_possible_cpu(cpu)
			pending |= test_bit(0, &per_cpu_ptr(&nmi_halt_cpu, cpu)->pending);
		if (pending)
			msleep(1);
	} while (pending && time_before(jiffies, end));
	if (pending)
		pr_warn("an NMI kick sent a second ago has not arrived; unloading anyway\n");
	unregister_nmi_handler(NMI_LOCAL, "pvli_kick");
}
