// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel half of the lock-core shim, continued: when a waiter may halt
 * with interrupts off (shim_kernel_nmi.c has the halt, the NMI kick and
 * its handler, and why no kick is lost), and the watchdog that ends such
 * a halt should a kick ever be lost.
 *
 * Armed (halts allowed, one hrtimer per online CPU running) exactly
 * while the setting is on (shfl_nmi_halts_enable(): pvlockinfo's
 * takeover_irqsoff_halt), some user holds them (shfl_nmi_halts_hold():
 * the takeover while it is live and switched on, the test module) and
 * the module is not going away: a guest that loads pvlockinfo without
 * the takeover pays no timer interrupts.  Disarming returns once no
 * such halt is in progress.
 */
#define pr_fmt(fmt) "pvlockinfo: " fmt

#include <linux/bitops.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>
#include <asm/nmi.h>

#include "shfl_lock.h"
#include "shim_kernel_nmi.h"

#define WATCH_PERIOD_MS		50
#define WATCH_RESCUE_MS		1000

/* Under nmi_halt_mutex; armed (nmi_halts_on) as the top says. */
static bool nmi_halts_enabled;		/* the setting: takeover_irqsoff_halt */
static unsigned int nmi_halts_holds;	/* shfl_nmi_halts_hold(true) not yet undone */
static bool nmi_halts_dying;		/* module exit has begun: no arming */
static bool nmi_halts_on;		/* armed; read by shfl_can_halt_irqsoff() */
static DEFINE_MUTEX(nmi_halt_mutex);
static enum cpuhp_state nmi_watch_hp;	/* CPUs coming and going: their watchdogs */

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
	if (unlikely(t != this_cpu_ptr(&shfl_nmi_halt_cpu.watch)))
		return HRTIMER_NORESTART;

	for_each_online_cpu(cpu) {
		struct nmi_halt_cpu *c = per_cpu_ptr(&shfl_nmi_halt_cpu, cpu);
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
		shfl_nmi_send(cpu);
		this_cpu_inc(shfl_nmi_halt_cpu.rescues);
		pr_warn_ratelimited("cpu %d: halted with interrupts off for %u ms and no kick came; ended it\n",
				    cpu, jiffies_to_msecs(jiffies - since));
	}
	hrtimer_forward_now(t, ms_to_ktime(WATCH_PERIOD_MS));
	return HRTIMER_RESTART;
}

/* Start @cpu's watchdog; runs on @cpu (the timer is pinned where it starts). */
static void watch_start_on(unsigned int cpu)
{
	hrtimer_start(per_cpu_ptr(&shfl_nmi_halt_cpu.watch, cpu), ms_to_ktime(WATCH_PERIOD_MS),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static void watch_start(void *unused)
{
	watch_start_on(smp_processor_id());
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
	hrtimer_cancel(per_cpu_ptr(&shfl_nmi_halt_cpu.watch, cpu));
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
			hrtimer_cancel(per_cpu_ptr(&shfl_nmi_halt_cpu.watch, cpu));
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
		ret = nmi_halts_dying ? -ENODEV : shfl_nmi_frame_selftest();
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

int shfl_nmi_halt_init(void)
{
	int cpu, ret;

	for_each_possible_cpu(cpu) {
		hrtimer_init(per_cpu_ptr(&shfl_nmi_halt_cpu.watch, cpu), CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_PINNED_HARD);
		per_cpu_ptr(&shfl_nmi_halt_cpu, cpu)->watch.function = nmi_watch;
	}
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "pvlockinfo/nmi_watch:online",
					nmi_watch_online, nmi_watch_offline);
	if (ret < 0)
		return ret;
	nmi_watch_hp = ret;
	ret = register_nmi_handler(NMI_LOCAL, shfl_nmi_kick_handler, 0, "pvli_kick");
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
			pending |= test_bit(0, &per_cpu_ptr(&shfl_nmi_halt_cpu, cpu)->pending);
		if (pending)
			msleep(1);
	} while (pending && time_before(jiffies, end));
	if (pending)
		pr_warn("an NMI kick sent a second ago has not arrived; unloading anyway\n");
	unregister_nmi_handler(NMI_LOCAL, "pvli_kick");
}
