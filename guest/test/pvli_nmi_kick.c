// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvli_nmi_kick: a test module for halts with interrupts off and their
 * NMI kicks (tests/vm/nmi-kick.sh; guest/lock/shim_kernel_nmi.c).
 *
 * Such a halt checks its condition and then executes hlt with interrupts
 * off; an NMI kick that lands between the two must keep the hlt from
 * happening, which the NMI handler does by making the interrupted code
 * resume past it.  On x86-64 that takes writing the frame iretq really
 * uses (the nested-NMI code's "iret" copy), not only pt_regs: with
 * pt_regs alone the kick is lost and the halt lasts until the watchdog
 * ends it a second later.
 *
 * Loading the module runs rounds for @seconds, a halter kthread on CPU
 * @halter and a kicker on another CPU:
 *   halter: word = 1; interrupts off; while (word == 1) halt with
 *           interrupts off on it; interrupts on; next round
 *   kicker: waits until the halter is halting, waits a pseudo-random
 *           0-@max_delay_us, sets word = 0 and kicks it (the lock core's
 *           kick, which is an NMI for such a halt)
 * The window between check and hlt is widened by @window_spins pauses
 * (the shim's test hook), so that many kicks land inside it.  Every
 * round must end within ROUND_LIMIT_MS of its kick (a lost kick ends a
 * second later, when the watchdog sends its NMI); otherwise the load
 * fails with -EIO.  Rescues are reported, not failed: one can be the
 * test's own (the kicker's CPU stuck behind a call to the halter's CPU,
 * say a TLB flush, until the halter turns interrupts on again, which it
 * does whenever it wakes without a kick).
 */
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched/clock.h>

#include "shfl_lock.h"

#define ROUND_LIMIT_MS	500

static unsigned int seconds = 10;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "how long the rounds run (default 10)");

static unsigned int window_spins = 20000;
module_param(window_spins, uint, 0444);
MODULE_PARM_DESC(window_spins, "pauses between the check and the hlt (default 20000)");

static unsigned int max_delay_us = 200;
module_param(max_delay_us, uint, 0444);
MODULE_PARM_DESC(max_delay_us, "longest wait of the kicker before it kicks (default 200)");

static u32 word;
static atomic_t round_no;		/* the halter's current round */
static atomic_t halting_in;		/* the round it is halting in, or 0 */
static u64 worst_ns, worst_late_ns, rounds;
static u64 kicked_at;			/* local_clock() when the kicker kicked */
static bool stop;			/* no new round */
static bool disarmed;			/* irqs-off halts were disarmed under the test */
static int halter_cpu;

static int halter_fn(void *unused)
{
	int r = 0;

	while (!READ_ONCE(stop)) {
		u64 t0;

		WRITE_ONCE(word, 1);
		atomic_set(&round_no, ++r);
		local_irq_disable();
		t0 = local_clock();
		atomic_set(&halting_in, r);
		while (READ_ONCE(word) == 1) {
			/*
			 * As the lock core: only while armed (a parameter write
			 * may disarm them; its grace period then waits for this
			 * interrupts-off stretch, and the watchdog with it).
			 */
			if (!shfl_can_halt_irqsoff()) {
				WRITE_ONCE(disarmed, true);
				/* Let a call to this CPU in (see below). */
				local_irq_enable();
				cpu_relax();
				local_irq_disable();
				continue;
			}
			shfl_halt_irqsoff(&word, ~0U, 1);
			/*
			 * Not kicked (the watchdog, or someone else's NMI): the
			 * kicker may be stuck behind a call to this CPU, which
			 * only interrupts on will answer.
			 */
			if (READ_ONCE(word) == 1) {
				local_irq_enable();
				cpu_relax();
				local_irq_disable();
			}
		}
		atomic_set(&halting_in, 0);
		worst_ns = max(worst_ns, local_clock() - t0);
		/* From the kick to here: a lost kick shows as the watchdog's second. */
		worst_late_ns = max(worst_late_ns, local_clock() - READ_ONCE(kicked_at));
		local_irq_enable();
		rounds++;
		cond_resched();
	}
	while (!kthread_should_stop())
		msleep(1);
	return 0;
}

static int kicker_fn(void *unused)
{
	u32 seed = 12345;

	while (!kthread_should_stop()) {
		int r = atomic_read(&halting_in);

		if (!r || READ_ONCE(word) != 1) {
			cpu_relax();
			cond_resched();
			continue;
		}
		seed = seed * 1103515245 + 12345;
		udelay((seed >> 8) % (max_delay_us + 1));
		preempt_disable();
		WRITE_ONCE(kicked_at, local_clock());	/* before the halter can see the change */
		WRITE_ONCE(word, 0);
		smp_mb();	/* the change before the kick's read of the halter's state */
		shfl_kick_untraced(halter_cpu);
		preempt_enable();
		/* Until the halter has left this round. */
		while (atomic_read(&halting_in) == r && !kthread_should_stop())
			cond_resched();
	}
	return 0;
}

static int __init nmi_kick_init(void)
{
	struct task_struct *halter, *kicker;
	struct shfl_nmi_counts before, after;
	bool was_on = shfl_nmi_halts_enabled();
	int kicker_cpu, ret;

	if (num_online_cpus() < 2)
		return -EINVAL;
	halter_cpu = cpumask_last(cpu_online_mask);
	kicker_cpu = cpumask_first(cpu_online_mask);
	ret = shfl_nmi_halts_enable(true);	/* the frame self-test, if they were off */
	if (ret) {
		pr_err("pvli_nmi_kick: irqs-off halts cannot be enabled: %d\n", ret);
		return ret;
	}
	shfl_nmi_halts_hold(true);		/* armed: halts allowed, the watchdog runs */
	if (!shfl_nmi_halts_armed()) {
		pr_err("pvli_nmi_kick: FAIL: irqs-off halts enabled and held but not armed\n");
		ret = -EIO;
		goto unhold;
	}
	WRITE_ONCE(shfl_nmi_window_spins, window_spins);
	shfl_nmi_halt_counts(&before);
	halter = kthread_create_on_cpu(halter_fn, NULL, halter_cpu, "pvli_nmi_halter/%u");
	kicker = kthread_create_on_cpu(kicker_fn, NULL, kicker_cpu, "pvli_nmi_kicker/%u");
	if (IS_ERR(halter) || IS_ERR(kicker)) {
		ret = -ENOMEM;
		goto out;
	}
	wake_up_process(halter);
	wake_up_process(kicker);
	msleep(seconds * 1000);
	kthread_stop(kicker);
	/* The halter's last round: nobody kicks it any more, so end it here. */
	WRITE_ONCE(stop, true);
	WRITE_ONCE(kicked_at, local_clock());
	WRITE_ONCE(word, 0);
	smp_mb();
	preempt_disable();
	shfl_kick_untraced(halter_cpu);
	preempt_enable();
	kthread_stop(halter);
	shfl_nmi_halt_counts(&after);
	pr_info("pvli_nmi_kick: %llu rounds in %u s, %lu hlts reached, %lu NMI kicks, %lu landed in the window (%lu not skipped), %lu rescues, longest round %llu us, longest from kick to wake %llu us\n",
		rounds, seconds, after.hlts - before.hlts, after.kicks - before.kicks,
		after.skips - before.skips + after.misses - before.misses,
		after.misses - before.misses, after.rescues - before.rescues,
		div_u64(worst_ns, 1000), div_u64(worst_late_ns, 1000));
	if (READ_ONCE(disarmed)) {
		pr_err("pvli_nmi_kick: FAIL: irqs-off halts were turned off while the test ran (takeover_irqsoff_halt=0?)\n");
		ret = -EIO;
	} else if (worst_late_ns > ROUND_LIMIT_MS * NSEC_PER_MSEC) {
		pr_err("pvli_nmi_kick: FAIL: a kick did not end its halt (the watchdog had to)\n");
		ret = -EIO;
	} else if (after.hlts == before.hlts || after.kicks == before.kicks ||
		   after.skips == before.skips) {
		pr_err("pvli_nmi_kick: FAIL: nothing halted, was kicked or was kicked inside the window: the test shows nothing\n");
		ret = -EIO;
	} else if (after.misses != before.misses) {
		pr_err("pvli_nmi_kick: FAIL: the handler could not find the return frame of a kick in the window\n");
		ret = -EIO;
	} else {
		pr_info("pvli_nmi_kick: PASS\n");
	}
out:
	if (ret == -ENOMEM) {
		if (!IS_ERR(halter))
			kthread_stop(halter);
		if (!IS_ERR(kicker))
			kthread_stop(kicker);
	}
	WRITE_ONCE(shfl_nmi_window_spins, 0);
unhold:
	shfl_nmi_halts_hold(false);
	if (!was_on)
		shfl_nmi_halts_enable(false);
	return ret;
}

static void __exit nmi_kick_exit(void)
{
}

module_init(nmi_kick_init);
module_exit(nmi_kick_exit);
MODULE_DESCRIPTION("pvlockinfo test: NMI kicks of halts with interrupts off, in their window");
MODULE_LICENSE("GPL");
