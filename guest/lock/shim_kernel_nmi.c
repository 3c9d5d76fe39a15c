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
 *   nmi_halting = 1; smp_mb();
 *   window_begin:  load *ptr; if ((v & mask) != val) goto window_end;
 *                  hlt
 *   window_end:    nmi_halting = 0
 *
 * The kick (send_kick() in shim_kernel.c, after the waker's full barrier
 * and its read of the node's halted_on): nmi_halting set -> due++ and an
 * NMI IPI, else the ordinary kick IPI.  Why no kick is lost:
 *  - Store buffering: the waker changes *ptr, full barrier, reads
 *    nmi_halting; we set nmi_halting, full barrier, read *ptr.  One sees
 *    the other: we see the change (and never hlt), or the waker sees
 *    nmi_halting and sends an NMI.
 *  - An NMI is sent after the change.  Arriving before window_begin it
 *    leaves the window to see the change; between window_begin and the
 *    hlt, the handler moves the return address to window_end (there is
 *    no sti shadow for NMIs: this is the window's equivalent); during the
 *    hlt, it ends it (the return address is window_end already).
 *  - NMIs sent while one is in service are latched (one) or dropped;
 *    the latched one is delivered after every dropped send, so after its
 *    change.
 * And what must hold around it:
 *  - No kick for such a halt is sent from an NMI (shfl_kick() defers
 *    those to an irq_work, which this CPU's waker might only run after
 *    the halted CPU answers it): the takeover takes locks in an NMI
 *    naming nobody, so nobody halts behind an NMI's hold, and queue
 *    hand-overs never run in an NMI (the lock core's invariant 6).
 *  - Never in an NMI (nothing would end it) and only while enabled
 *    (shfl_nmi_halts_enable()), which the takeover does at go-live and
 *    undoes at quiesce, when no waiter is left.
 *  - A watchdog thread, running while enabled, looks every 50 ms for a
 *    CPU in one such halt for 200 ms or more and sends it an NMI: a lost
 *    kick would hang that CPU for good, which tick-bounded halts (sti;hlt)
 *    never could.  It counts what it ends (nmi_rescues), and the tests
 *    require 0.
 */
#define pr_fmt(fmt) "pvlockinfo: " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/objtool.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <asm/apic.h>
#include <asm/nmi.h>

#include "shfl_lock.h"

struct nmi_halt_cpu {
	u32 halting;		/* in shfl_halt_irqsoff(): kicks must be NMIs */
	u32 seq;		/* halts begun here: the watchdog tells one from the next */
	unsigned long since;	/* jiffies when the current one began */
	atomic_t due;		/* NMIs sent here by kicks, not yet seen by the handler */
	unsigned long halts, kicks, rescues;
	u32 watch_seq;		/* the watchdog's: ->seq when it last looked */
};
static DEFINE_PER_CPU_ALIGNED(struct nmi_halt_cpu, nmi_halt_cpu);

static bool nmi_halts_on;		/* shfl_can_halt_irqsoff(); under nmi_halt_mutex */
static DEFINE_MUTEX(nmi_halt_mutex);
static struct task_struct *nmi_watchdog;

/* The window: its two ends are what the NMI handler compares against. */
extern const char shfl_nmi_window_begin[], shfl_nmi_window_end[];

static noinline void notrace nmi_window(u32 *ptr, u32 mask, u32 val)
{
	/* The handler compares addresses: no indirect branch comes here. */
	asm volatile(ANNOTATE_NOENDBR
		     "shfl_nmi_window_begin:\n\t"
		     "movl (%[ptr]), %%eax\n\t"
		     "andl %[mask], %%eax\n\t"
		     "cmpl %[val], %%eax\n\t"
		     "jne shfl_nmi_window_end\n\t"
		     "hlt\n\t"
		     ANNOTATE_NOENDBR
		     "shfl_nmi_window_end:\n\t"
		     : : [ptr] "r" (ptr), [mask] "r" (mask), [val] "r" (val)
		     : "eax", "cc", "memory");
}

bool shfl_can_halt_irqsoff(void)
{
	return irqs_disabled() && !in_nmi() && READ_ONCE(nmi_halts_on);
}

void notrace shfl_halt_irqsoff(u32 *ptr, u32 mask, u32 val)
{
	struct nmi_halt_cpu *c = this_cpu_ptr(&nmi_halt_cpu);

	/* In this order: the watchdog reads them the other way round. */
	WRITE_ONCE(c->seq, c->seq + 1);
	smp_wmb();
	WRITE_ONCE(c->since, jiffies);
	smp_wmb();
	WRITE_ONCE(c->halting, 1);
	/* Pairs with the waker's barrier before it reads ->halting (see the top). */
	smp_mb();
	c->halts++;
	nmi_window(ptr, mask, val);
	WRITE_ONCE(c->halting, 0);
}

/* Called by send_kick() (shim_kernel.c): is @cpu in a halt only an NMI ends? */
bool shfl_kick_by_nmi(int cpu)
{
	struct nmi_halt_cpu *c = per_cpu_ptr(&nmi_halt_cpu, cpu);

	if (!READ_ONCE(c->halting))
		return false;
	atomic_inc(&c->due);
	this_cpu_inc(nmi_halt_cpu.kicks);
	apic->send_IPI(cpu, NMI_VECTOR);
	return true;
}

static int notrace nmi_kick_handler(unsigned int type, struct pt_regs *regs)
{
	struct nmi_halt_cpu *c = this_cpu_ptr(&nmi_halt_cpu);
	unsigned long ip = instruction_pointer(regs);
	int due;

	/* Between the check and the hlt: the kick is this, do not halt. */
	if (ip >= (unsigned long)shfl_nmi_window_begin && ip < (unsigned long)shfl_nmi_window_end)
		instruction_pointer_set(regs, (unsigned long)shfl_nmi_window_end);
	/*
	 * Ours if one was sent and not yet seen.  Two sends can arrive as
	 * one NMI; the count left over then claims a later NMI of nobody's,
	 * which is harmless (no other handler wanted it).
	 */
	due = atomic_read(&c->due);
	while (due > 0) {
		if (atomic_try_cmpxchg(&c->due, &due, due - 1))
			return NMI_HANDLED;
	}
	return NMI_DONE;
}

#define WATCH_PERIOD_MS		50
#define WATCH_RESCUE_MS		200

/* Ends a halt that no kick ended in time; see the top. */
static int nmi_watchdog_fn(void *unused)
{
	while (!kthread_should_stop()) {
		int cpu;

		schedule_timeout_interruptible(msecs_to_jiffies(WATCH_PERIOD_MS));
		for_each_online_cpu(cpu) {
			struct nmi_halt_cpu *c = per_cpu_ptr(&nmi_halt_cpu, cpu);
			u32 seq = READ_ONCE(c->seq), halting;
			unsigned long since;

			smp_rmb();
			halting = READ_ONCE(c->halting);
			smp_rmb();
			since = READ_ONCE(c->since);
			smp_rmb();
			/*
			 * Halting in halt seq (->since its own), seen halting in
			 * that same halt by the last look too: 50 ms at least.
			 */
			if (!halting || READ_ONCE(c->seq) != seq || seq != c->watch_seq) {
				c->watch_seq = halting ? seq : seq - 1;
				continue;
			}
			if (time_before(jiffies, since + msecs_to_jiffies(WATCH_RESCUE_MS)))
				continue;
			c->rescues++;
			pr_warn_ratelimited("cpu %d: halted with interrupts off for %u ms and no kick came; ended it (nmi_rescues %lu)\n",
					    cpu, jiffies_to_msecs(jiffies - since), c->rescues);
			atomic_inc(&c->due);
			apic->send_IPI(cpu, NMI_VECTOR);
			c->watch_seq = seq - 1;	/* its next rescue only after a full wait */
		}
	}
	return 0;
}

/*
 * Let waiters whose interrupts are off halt (@on), or stop that; returns
 * 0 or -errno (the watchdog thread could not start).  When it returns
 * after turning them off, no such halt is in progress.
 */
int shfl_nmi_halts_enable(bool on)
{
	struct task_struct *t;
	int ret = 0;

	mutex_lock(&nmi_halt_mutex);
	if (on && !nmi_halts_on) {
		t = kthread_run(nmi_watchdog_fn, NULL, "pvli_nmi_watch");
		if (IS_ERR(t)) {
			ret = PTR_ERR(t);
		} else {
			nmi_watchdog = t;
			WRITE_ONCE(nmi_halts_on, true);
		}
	} else if (!on && nmi_halts_on) {
		WRITE_ONCE(nmi_halts_on, false);
		/*
		 * A halt is an RCU reader (interrupts off from the decision to
		 * halt until it ends): after a grace period none that could
		 * have read "on" is left.  The watchdog runs until then.
		 */
		synchronize_rcu();
		kthread_stop(nmi_watchdog);
		nmi_watchdog = NULL;
	}
	mutex_unlock(&nmi_halt_mutex);
	return ret;
}
SHFL_EXPORT(shfl_nmi_halts_enable);

bool shfl_nmi_halts_enabled(void)
{
	return READ_ONCE(nmi_halts_on);
}
SHFL_EXPORT(shfl_nmi_halts_enabled);

/* Halts with interrupts off, NMI kicks sent, and halts the watchdog ended. */
void shfl_nmi_halt_counts(unsigned long *halts, unsigned long *kicks, unsigned long *rescues)
{
	int cpu;

	*halts = *kicks = *rescues = 0;
	for_each_possible_cpu(cpu) {
		struct nmi_halt_cpu *c = per_cpu_ptr(&nmi_halt_cpu, cpu);

		*halts += READ_ONCE(c->halts);
		*kicks += READ_ONCE(c->kicks);
		*rescues += READ_ONCE(c->rescues);
	}
}
SHFL_EXPORT(shfl_nmi_halt_counts);

int shfl_nmi_halt_init(void)
{
	return register_nmi_handler(NMI_LOCAL, nmi_kick_handler, 0, "pvli_kick");
}

void shfl_nmi_halt_exit(void)
{
	int cpu, i;

	shfl_nmi_halts_enable(false);
	/*
	 * A kick may have found a halt that was ending anyway: its NMI can
	 * still be on its way (under TCG until the host runs that vCPU).
	 * Give such NMIs 100 ms to arrive while the handler is in; a count
	 * left over by two sends that arrived as one NMI never drains.
	 */
	for (i = 0; i < 100; i++) {
		bool pending = false;

		for_each_possible_cpu(cpu)
			pending |= atomic_read(per_cpu_ptr(&nmi_halt_cpu.due, cpu)) > 0;
		if (!pending)
			break;
		msleep(1);
	}
	unregister_nmi_handler(NMI_LOCAL, "pvli_kick");
}
