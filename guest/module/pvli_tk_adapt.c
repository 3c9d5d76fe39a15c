// SPDX-License-Identifier: GPL-2.0-only
/*
 * The takeover's adaptive entry: the direct entry's fast paths only while
 * the host overcommits this guest, the slowpath entry's cost otherwise.
 *
 * Why: the direct entry is what names holders, so that waiters halt
 * behind a holder whose vCPU the host preempted; that is where the
 * takeover's gains at 2x and 4x come from.  But it sits on every
 * uncontended spin_lock() and spin_unlock(): about twice the kernel's own
 * pair under TCG (README, "Cost").  The slowpath entry costs nothing
 * uncontended, and where the host does not preempt the guest's vCPUs
 * there is no preempted holder to halt behind, so it loses nothing that
 * naming would win.  The kernel makes the same choice statically
 * (KVM_HINTS_REALTIME turns pv spinlocks off for dedicated pCPUs); here
 * the host tells us, through the page, how much it preempts.
 *
 * The measure: steal, the time a vCPU was runnable while the host ran
 * something else (the page's steal_ns), over all online vCPUs, as a share
 * of their time, every ADAPT_PERIOD_MS.  Fast paths on when it reaches
 * adapt_steal_pct in one period; off when it stays below half that for
 * ADAPT_DOWN_PERIODS periods in a row, or when the takeover is switched
 * off.  Without a live page (no host side, or a stale one) the share is
 * unknown: fast paths off, since nobody could be seen preempted anyway.
 *
 * The switching, always from this work item (and the module's exit,
 * after it is cancelled):
 *   on:  register the direct calls (every call site switched, on every
 *        CPU, when it returns), then name holders (pvli_tk_name_holders());
 *   off: stop naming, which returns once no lock is held under a name
 *        and no waiter may halt behind one, then unregister the direct
 *        calls.
 * So holders are named only while every release is ours, the rule of
 * pvli_tk_go_live() (pvli_tk_lock.c); in between, the replacements and
 * the kernel's own functions run side by side on the same locks, which
 * pvli_tk_direct.c explains is safe.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "pvlockinfo.h"
#include "pvli_takeover.h"
#include "pvli_trace_ids.h"

#define ADAPT_PERIOD_MS		100
#define ADAPT_DOWN_PERIODS	20	/* 2 s quiet before the fast paths go back */

static unsigned int adapt_steal_pct = 25;
module_param(adapt_steal_pct, uint, 0644);
MODULE_PARM_DESC(adapt_steal_pct,
		 "entry=adaptive: direct calls while vCPUs lose at least this % of their time to host preemption (steal); back to the slowpath entry below half of it for 2 s");

static struct delayed_work adapt_work;
static bool adapt_running;	/* adapt_work scheduled: between start and stop */
static bool adapt_fast;		/* direct calls on and holders named */
static bool adapt_gave_up;	/* the direct calls failed to register: slowpath for good */
static char adapt_why[160];
static u64 *adapt_prev;		/* per CPU: its steal at the last period; U64_MAX: none */
static u64 adapt_prev_ns;
static unsigned int adapt_quiet;	/* periods in a row below the low mark */
static int adapt_permille = -1;		/* steal share of the last period; -1: unknown */
static unsigned long adapt_ups, adapt_downs;

/*
 * Steal over the last period as a share (per mille) of the online
 * vCPUs' time, or -1 when the page cannot tell (or on the first look).
 */
static int adapt_steal_permille(void)
{
	u64 now = ktime_get_ns(), dt = now - adapt_prev_ns, sum = 0;
	unsigned int n = 0;
	bool known = true;
	int cpu;

	adapt_prev_ns = now;
	for_each_online_cpu(cpu) {
		u64 s = pvli_vcpu_steal_ns(cpu), prev = adapt_prev[cpu];

		adapt_prev[cpu] = s;
		if (s == PVLI_TP_STEAL_UNKNOWN) {
			adapt_prev[cpu] = U64_MAX;
			known = false;
			continue;
		}
		if (prev == U64_MAX) {
			known = false;	/* no base yet */
			continue;
		}
		sum += s > prev ? s - prev : 0;	/* a new page starts at 0 */
		n++;
	}
	if (!known || !n || !dt)
		return -1;
	return min_t(u64, div64_u64(sum * 1000, dt * n), 1000);
}

static void adapt_set_fast(bool on)
{
	if (on) {
		int ret = pvli_tk_direct_fast(true, adapt_why, sizeof(adapt_why));

		if (ret) {
			adapt_gave_up = true;
			pr_err("adaptive entry: %s; staying with the slowpath entry (holders not named)\n",
			       adapt_why);
			return;
		}
		pvli_tk_name_holders(true);
		adapt_ups++;
	} else {
		pvli_tk_name_holders(false);
		pvli_tk_direct_fast(false, NULL, 0);
		adapt_downs++;
	}
	WRITE_ONCE(adapt_fast, on);
}

static void adapt_step(struct work_struct *w)
{
	int pm = adapt_steal_permille();
	unsigned int up = READ_ONCE(adapt_steal_pct) * 10;
	bool want;

	WRITE_ONCE(adapt_permille, pm);
	if (pm >= 0 && pm < up / 2)
		adapt_quiet++;
	else
		adapt_quiet = 0;
	if (!READ_ONCE(pvli_takeover_active) || adapt_gave_up || pm < 0)
		want = false;
	else if (adapt_fast)
		want = adapt_quiet < ADAPT_DOWN_PERIODS;
	else
		want = pm >= up;
	if (want != adapt_fast)
		adapt_set_fast(want);
	schedule_delayed_work(&adapt_work, msecs_to_jiffies(ADAPT_PERIOD_MS));
}

/* After go-live without names (the slowpath entry's state). */
void pvli_tk_adapt_start(void)
{
	int cpu;

	adapt_prev = kcalloc(nr_cpu_ids, sizeof(*adapt_prev), GFP_KERNEL);
	if (!adapt_prev) {
		adapt_gave_up = true;
		snprintf(adapt_why, sizeof(adapt_why), "out of memory");
		pr_err("adaptive entry: out of memory; staying with the slowpath entry\n");
		return;
	}
	for_each_possible_cpu(cpu)
		adapt_prev[cpu] = U64_MAX;
	adapt_prev_ns = ktime_get_ns();
	INIT_DELAYED_WORK(&adapt_work, adapt_step);
	adapt_running = true;
	schedule_delayed_work(&adapt_work, msecs_to_jiffies(ADAPT_PERIOD_MS));
}

/* Before the quiesce: the work is gone; the fast paths stay as they are. */
void pvli_tk_adapt_stop(void)
{
	if (adapt_running)
		cancel_delayed_work_sync(&adapt_work);
	adapt_running = false;
	kfree(adapt_prev);
	adapt_prev = NULL;
}

int pvli_tk_adapt_show(char *buf, size_t len)
{
	int pm = READ_ONCE(adapt_permille);

	if (!adapt_running && !adapt_gave_up)
		return scnprintf(buf, len, "-\n");
	if (adapt_gave_up)
		return scnprintf(buf, len, "slowpath (direct calls failed: %s)\n", adapt_why);
	if (pm < 0)
		return scnprintf(buf, len, "%s steal unknown ups %lu downs %lu\n",
				 READ_ONCE(adapt_fast) ? "direct" : "slowpath", adapt_ups, adapt_downs);
	return scnprintf(buf, len, "%s steal %d.%d%% ups %lu downs %lu\n",
			 READ_ONCE(adapt_fast) ? "direct" : "slowpath", pm / 10, pm % 10,
			 adapt_ups, adapt_downs);
}
