// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvli_idle_kick: a test module for the kick of a waiter that halts in a
 * softirq on top of a polling idle task (tests/vm/idle-kick.sh).
 *
 * The lock core's kick (shfl_kick_untraced(), guest/lock/shim_kernel.c)
 * queues a call_single_data on the target CPU.  The kernel sends no IPI
 * for it when the target's idle task has TIF_POLLING_NRFLAG set
 * (call_function_single_prep_ipi(): set_nr_if_polling() sets
 * NEED_RESCHED instead): a polling idle loop notices that by itself.  But
 * softirqs that run on top of the idle task run with its flags, and there
 * the idle loop is not polling: a waiter that halts there with sti;hlt
 * sleeps through its kick, until some other interrupt comes (the tick, if
 * it runs).  The idle task polls while interrupts are on in
 * cpu_idle_poll() (idle=poll; tick broadcast) and in short windows of
 * do_idle() (after tick_nohz_idle_enter() turns interrupts back on), so
 * every lock wait in an idle CPU's softirqs can land there.
 *
 * Loading the module runs ROUNDS rounds on @target (boot with idle=poll
 * and leave @target idle): a timer on @target, so a softirq on its idle
 * task, waits for a word the way the lock core does (halt while it is
 * 0); the loading task, on another CPU, lets it settle, sets the word and
 * kicks @target.  A round is late when a timer interrupt reached @target
 * between the kick and the end of its wait: the kick did not end the
 * wait, the next tick did.  A kick that works ends it within the
 * delivery of one IPI, so a tick in between is a coincidence of a few
 * percent.  The load fails with -EIO if more than a quarter of the rounds
 * that ran on a polling idle task were late, and with -ENOENT if fewer
 * than half of them did (the scene was not set: no idle=poll?).
 *
 * The waiter gives up after GIVE_UP_MS.  Its softirq keeps the idle loop
 * from serving the call-function IPIs that the polling flag turned into
 * NEED_RESCHED, so a loader whose CPU is meanwhile busy in someone's
 * on_each_cpu() towards @target (a kworker's TLB flush after a module's
 * init, say) could never set the word: a deadlock of the test's making,
 * not of the kick.  A round that gave up is left out of the count (and
 * named), far past the tick that ends a lost kick's wait.
 */
#include <linux/delay.h>
#include <linux/hardirq.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/smp.h>
#include <linux/thread_info.h>
#include <linux/timer.h>

#include "shfl_lock.h"

#define ROUNDS		40
#define SETTLE_US	500	/* time for the waiter to reach its hlt */
#define GIVE_UP_MS	200	/* a lost kick ends at the next tick, 4 ms */
#define GAVE_UP		2

static int target = -1;
module_param(target, int, 0444);
MODULE_PARM_DESC(target, "the CPU whose softirq waits (default: the last online CPU)");

static struct {
	u32 word;		/* the condition: the waiter halts while it is 0 */
	int waiting;		/* the waiter has started to wait */
	int done;		/* the waiter has seen the word set, or given up */
	bool gave_up;		/* after GIVE_UP_MS without the word */
	bool polling;		/* it ran on the idle task with polling set */
	bool in_softirq;	/* and in a softirq */
	unsigned int timer_irqs;	/* @target's timer interrupts when the wait ended */
} r;

static struct timer_list waiter_timer;

static unsigned int timer_irqs(int cpu)
{
	return READ_ONCE(per_cpu(irq_stat, cpu).apic_timer_irqs);
}

/* On @target, in TIMER_SOFTIRQ: wait for the word as a lock waiter does. */
static void waiter_fn(struct timer_list *t)
{
	u64 give_up = local_clock() + GIVE_UP_MS * NSEC_PER_MSEC;

	r.polling = is_idle_task(current) && test_thread_flag(TIF_POLLING_NRFLAG);
	r.in_softirq = in_serving_softirq();
	WRITE_ONCE(r.waiting, 1);
	/* Pairs with the kicker's smp_mb() after its store to the word. */
	smp_mb();
	while (!READ_ONCE(r.word)) {
		if (local_clock() > give_up) {
			r.gave_up = true;
			break;
		}
		shfl_halt_untraced(&r.word, ~0U, 0);
	}
	r.timer_irqs = timer_irqs(smp_processor_id());
	smp_store_release(&r.done, 1);
}

/*
 * One round; returns 1 if late, 0 if not, GAVE_UP if the waiter gave up,
 * -errno if it never finished.
 */
static int one_round(bool *polling)
{
	unsigned int at_kick;
	int i;

	memset(&r, 0, sizeof(r));
	timer_setup(&waiter_timer, waiter_fn, 0);
	waiter_timer.expires = jiffies + 1;
	add_timer_on(&waiter_timer, target);
	for (i = 0; i < 1000 && !smp_load_acquire(&r.waiting); i++)
		usleep_range(100, 200);
	if (!r.waiting) {
		del_timer_sync(&waiter_timer);
		return -ETIME;
	}
	udelay(SETTLE_US);
	preempt_disable();
	at_kick = timer_irqs(target);
	WRITE_ONCE(r.word, 1);
	/* Pairs with the waiter's smp_mb(): it sees the word or gets the kick. */
	smp_mb();
	shfl_kick_untraced(target);
	preempt_enable();
	/* A lost kick still ends at the next tick; 2 s is far past that. */
	for (i = 0; i < 2000 && !smp_load_acquire(&r.done); i++)
		usleep_range(1000, 1100);
	del_timer_sync(&waiter_timer);
	if (!r.done)
		return -ETIMEDOUT;
	if (r.gave_up)
		return GAVE_UP;
	*polling = r.polling && r.in_softirq;
	return r.timer_irqs != at_kick;
}

static int __init idle_kick_init(void)
{
	unsigned int polling_rounds = 0, late = 0, late_other = 0, gave_up = 0;
	int i, ret;

	if (target < 0)
		target = cpumask_last(cpu_online_mask);
	if (target >= nr_cpu_ids || !cpu_online(target) || target == raw_smp_processor_id())
		return -EINVAL;
	for (i = 0; i < ROUNDS; i++) {
		bool polling = false;

		ret = one_round(&polling);
		if (ret < 0) {
			pr_err("pvli_idle_kick: FAIL: round %d: the waiter %s\n", i,
			       ret == -ETIME ? "never started" : "never saw the word set");
			return -EIO;
		}
		if (ret == GAVE_UP) {
			gave_up++;
			continue;
		}
		polling_rounds += polling;
		if (polling)
			late += ret;
		else
			late_other += ret;
	}
	pr_info("pvli_idle_kick: target CPU %d: %d rounds, %u on a polling idle task, %u of them late (%u late of the others), %u left out (the waiter gave up: its loader could not run)\n",
		target, ROUNDS, polling_rounds, late, late_other, gave_up);
	if (polling_rounds < ROUNDS / 2) {
		pr_err("pvli_idle_kick: SKIP: too few rounds ran on a polling idle task (boot with idle=poll)\n");
		return -ENOENT;
	}
	if (late > polling_rounds / 4) {
		pr_err("pvli_idle_kick: FAIL: kicks to a waiter in a softirq on a polling idle CPU are lost: it woke at the next tick\n");
		return -EIO;
	}
	pr_info("pvli_idle_kick: PASS\n");
	return 0;
}

static void __exit idle_kick_exit(void)
{
}

module_init(idle_kick_init);
module_exit(idle_kick_exit);
MODULE_DESCRIPTION("pvlockinfo test: kick a waiter halted in a softirq on a polling idle CPU");
MODULE_LICENSE("GPL");
