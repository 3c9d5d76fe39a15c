// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvli_kick_storm: a test module for the kick race (tests/vm/kick-storm.sh).
 *
 * The lock core wakes a halted vCPU with shfl_kick_untraced(), which
 * queues the target CPU's one call_single_data with
 * smp_call_function_single_async().  That function needs its callers
 * serialised per csd: it tests CSD_FLAG_LOCK and then sets it, two plain
 * accesses (kernel/smp.c).  Two CPUs that unlock locks with the same
 * halted waiter's CPU to kick could both find the flag clear and both
 * llist_add() the same node.  If the target has not taken the first one
 * off its queue by then, the node's next points at itself: the target's
 * IPI handler walks that loop with interrupts off (a hard lockup), and
 * whatever was queued behind the node is lost.  The kick's claim bit
 * (shim_kernel.c) is what prevents it; this storm is what shows it does.
 *
 * Loading the module runs the storm: a kthread on every online CPU but
 * @target kicks @target through shfl_kick_untraced() as fast as it can,
 * for @seconds.  Meanwhile the loading task (run it on a CPU other than
 * @target) checks every 20 ms that @target still answers a cross-CPU
 * call on a csd of its own, which only it queues.  A target that does
 * not answer for PROBE_LIMIT_MS, or a probe that never comes back after
 * the storm, fails the load with -EIO; the result line says which.
 */
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hardirq.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "shfl_lock.h"

#define PROBE_LIMIT_MS	2000

static unsigned int seconds = 10;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "how long the kickers run (default 10)");

static int target = -1;
module_param(target, int, 0444);
MODULE_PARM_DESC(target, "the CPU every kicker kicks (default: the last online CPU)");

struct kicker {
	struct task_struct *task;
	u64 kicks;
};

static atomic_t probes_answered;
static call_single_data_t probe_csd;

static void probe_answer(void *unused)
{
	atomic_inc(&probes_answered);
}

/* Kick @target as the lock paths do: with preemption off. */
static int kicker_fn(void *arg)
{
	struct kicker *k = arg;

	while (!kthread_should_stop()) {
		preempt_disable();
		shfl_kick_untraced(target);
		preempt_enable();
		if (!(++k->kicks & 255))
			cond_resched();
	}
	return 0;
}

/*
 * Probe @target until @deadline: a new probe once the last one has been
 * answered (its csd is then free again; only we queue it).  Returns the
 * longest wait for an answer, in ms; stops early once it passes
 * PROBE_LIMIT_MS.
 */
static unsigned int probe_until(unsigned long deadline, int *sent)
{
	unsigned long sent_at = jiffies;
	unsigned int worst = 0, waited;

	while (time_before(jiffies, deadline)) {
		if (atomic_read(&probes_answered) == *sent) {
			if (!smp_call_function_single_async(target, &probe_csd)) {
				(*sent)++;
				sent_at = jiffies;
			}
		}
		waited = jiffies_to_msecs(jiffies - sent_at);
		if (atomic_read(&probes_answered) != *sent && waited > worst)
			worst = waited;
		if (worst > PROBE_LIMIT_MS)
			break;
		msleep(20);
	}
	return worst;
}

/*
 * What the target is doing: interrupts it takes (timer, function-call
 * IPIs) over half a second, busy-waited (its tick may be the one that
 * advances jiffies), and the state of our probe's csd: still locked means
 * never run, lost or stuck behind a looping entry.
 */
static void report_target(void)
{
	unsigned int timer0, call0, timer1, call1;

	timer0 = READ_ONCE(per_cpu(irq_stat, target).apic_timer_irqs);
	call0 = READ_ONCE(per_cpu(irq_stat, target).irq_call_count);
	mdelay(500);
	timer1 = READ_ONCE(per_cpu(irq_stat, target).apic_timer_irqs);
	call1 = READ_ONCE(per_cpu(irq_stat, target).irq_call_count);
	pr_info("pvli_kick_storm: target CPU %d after the storm: %u timer and %u function-call interrupts in 500 ms; probe csd %s, next %s\n",
		target, timer1 - timer0, call1 - call0,
		READ_ONCE(probe_csd.node.u_flags) & CSD_FLAG_LOCK ? "locked (queued, not run)" : "free",
		READ_ONCE(probe_csd.node.llist.next) == &probe_csd.node.llist ? "itself" :
		READ_ONCE(probe_csd.node.llist.next) ? "another entry" : "none");
}

static int __init kick_storm_init(void)
{
	struct kicker *kickers;
	unsigned int worst, ms;
	int cpu, nr = 0, sent = 0, answered, ret = 0;
	unsigned long start;
	u64 kicks = 0;

	if (target < 0)
		target = cpumask_last(cpu_online_mask);
	if (target >= nr_cpu_ids || !cpu_online(target) || num_online_cpus() < 3)
		return -EINVAL;
	kickers = kcalloc(nr_cpu_ids, sizeof(*kickers), GFP_KERNEL);
	if (!kickers)
		return -ENOMEM;
	INIT_CSD(&probe_csd, probe_answer, NULL);

	for_each_online_cpu(cpu) {
		if (cpu == target)
			continue;
		kickers[cpu].task = kthread_create_on_cpu(kicker_fn, &kickers[cpu], cpu,
							  "pvli_kicker/%u");
		if (IS_ERR(kickers[cpu].task)) {
			ret = PTR_ERR(kickers[cpu].task);
			kickers[cpu].task = NULL;
			goto stop_kickers;
		}
		nr++;
	}
	start = jiffies;
	for_each_online_cpu(cpu)
		if (kickers[cpu].task)
			wake_up_process(kickers[cpu].task);

	worst = probe_until(start + seconds * HZ, &sent);

stop_kickers:
	for_each_online_cpu(cpu) {
		if (!kickers[cpu].task)
			continue;
		kthread_stop(kickers[cpu].task);
		kicks += kickers[cpu].kicks;
	}
	kfree(kickers);
	if (ret)
		return ret;
	ms = jiffies_to_msecs(jiffies - start);

	/* The last probe: answered once the storm is over, unless it was lost. */
	for (int i = 0; i < PROBE_LIMIT_MS / 20 && atomic_read(&probes_answered) != sent; i++)
		msleep(20);
	answered = atomic_read(&probes_answered);
	report_target();
	pr_info("pvli_kick_storm: target CPU %d: %llu kicks from %d CPUs in %u ms; probes sent %d, answered %d, longest wait %u ms\n",
		target, kicks, nr, ms, sent, answered, worst);
	if (worst > PROBE_LIMIT_MS || answered != sent) {
		pr_err("pvli_kick_storm: FAIL: CPU %d stopped answering cross-CPU calls (%s)\n",
		       target, worst > PROBE_LIMIT_MS ? "no answer during the storm"
						     : "a probe was lost");
		return -EIO;
	}
	pr_info("pvli_kick_storm: PASS: CPU %d answered every probe\n", target);
	return 0;
}

static void __exit kick_storm_exit(void)
{
}

module_init(kick_storm_init);
module_exit(kick_storm_exit);
MODULE_DESCRIPTION("pvlockinfo test: many CPUs kick one through the lock core's kick");
MODULE_LICENSE("GPL");
