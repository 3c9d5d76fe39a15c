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
 *    the copy is where it should be, which shfl_nmi_halts_enable()
 *    (shim_kernel_nmi_arm.c, by shfl_nmi_frame_selftest()) also checks
 *    once with an NMI to itself before it lets anyone halt.
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
 *  - Never in an NMI (nothing would end it), and only while armed
 *    (shim_kernel_nmi_arm.c, shfl_can_halt_irqsoff()): both
 *    enabled (shfl_nmi_halts_enable(): pvlockinfo's takeover_irqsoff_halt)
 *    and held by a user (shfl_nmi_halts_hold(): the takeover while it is
 *    live and switched on, the test module), for waits whose caller allows
 *    it (SHFL_WAIT_HALT_IRQSOFF: the takeover's channel policies).
 *  - While armed, and only then, a per-CPU hrtimer (shim_kernel_nmi_arm.c;
 *    hard interrupt context, every 50 ms; the halted CPU's own is held
 *    off, the others' fire) looks for a CPU in one such halt for a
 *    second or more and sends it an NMI: a lost kick would otherwise
 *    stop that CPU for good, which tick-bounded halts (sti;hlt) never
 *    could.  It counts what it ends (nmi_rescues), and the tests
 *    require 0.
 * Known limit: an NMI of someone else's (perf, the NMI watchdog: KVM
 * with a virtual PMU) that arrives between a kicker's claim and its send
 * is claimed by us; ours, arriving later, then goes unclaimed ("NMI
 * received for unknown reason").  Under TCG there is no other NMI.
 */
#define pr_fmt(fmt) "pvlockinfo: " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/objtool.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/smp.h>
#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/nmi.h>

#include "shfl_lock.h"
#include "shim_kernel_nmi.h"

DEFINE_PER_CPU_ALIGNED(struct nmi_halt_cpu, shfl_nmi_halt_cpu);

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

void notrace shfl_halt_irqsoff(u32 *ptr, u32 mask, u32 val)
{
	struct nmi_halt_cpu *c = this_cpu_ptr(&shfl_nmi_halt_cpu);
	u32 hlt;

	/* In this order: the watchdog (nmi_watch()) reads them the other way round. */
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

void shfl_nmi_send(int cpu)
{
	apic->send_IPI(cpu, NMI_VECTOR);
}

/* Called by send_kick() (shim_kernel.c): is @cpu in a halt only an NMI ends? */
bool shfl_kick_by_nmi(int cpu)
{
	struct nmi_halt_cpu *c = per_cpu_ptr(&shfl_nmi_halt_cpu, cpu);

	if (!READ_ONCE(c->halting))
		return false;
	/* Set: an NMI is on its way, and it comes after our change (see the top). */
	if (!test_and_set_bit(0, &c->pending)) {
		this_cpu_inc(shfl_nmi_halt_cpu.kicks);
		shfl_nmi_send(cpu);
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

int notrace shfl_nmi_kick_handler(unsigned int type, struct pt_regs *regs)
{
	struct nmi_halt_cpu *c = this_cpu_ptr(&shfl_nmi_halt_cpu);
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
NOKPROBE_SYMBOL(shfl_nmi_kick_handler);

/*
 * Send this CPU an NMI and see where the handler finds the frame iretq
 * will use (nmi_return_to()).  0, or -EOPNOTSUPP if it is elsewhere or
 * the NMI never came.
 */
int shfl_nmi_frame_selftest(void)
{
	struct nmi_halt_cpu *c;
	unsigned long flags;
	int i, r;

	local_irq_save(flags);
	c = this_cpu_ptr(&shfl_nmi_halt_cpu);
	WRITE_ONCE(c->selftest, 1);
	shfl_nmi_send(smp_processor_id());
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
 * Halts with interrupts off that reached the hlt, NMIs sent as kicks,
 * halts the watchdog ended, and NMIs that landed in the window (skipped
 * the hlt, or could not: the return frame not found).
 */
void shfl_nmi_halt_counts(struct shfl_nmi_counts *n)
{
	int cpu;

	memset(n, 0, sizeof(*n));
	for_each_possible_cpu(cpu) {
		struct nmi_halt_cpu *c = per_cpu_ptr(&shfl_nmi_halt_cpu, cpu);

		n->hlts += READ_ONCE(c->hlts);
		n->kicks += READ_ONCE(c->kicks);
		n->rescues += READ_ONCE(c->rescues);
		n->skips += READ_ONCE(c->skips);
		n->misses += READ_ONCE(c->misses);
	}
}
SHFL_EXPORT(shfl_nmi_halt_counts);

