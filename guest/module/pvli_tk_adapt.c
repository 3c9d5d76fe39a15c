// SPDX-License-Identifier: GPL-2.0-only
/*
 * The takeover's adaptive entry (the default, entry=auto, where direct
 * calls work): the direct entry's fast paths only while the host
 * overcommits this guest, the slowpath entry's cost otherwise.  It starts
 * up (as the direct entry: the safe guess for a guest whose host is
 * unknown) and goes down after 2 s of little steal.
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
 * something else (the page's steal_ns), over the online vCPUs whose
 * record answers, as a share of their time, every PVLI_TK_ADAPT_PERIOD_MS
 * (100 ms).  The rule (pvli_tk_adapt_rule.c, plain C, unit-tested): fast
 * paths on when two periods in a row reach adapt_steal_pct (one is a
 * blip: an idle 4x guest reads 1-13% per period), but not sooner than 1 s
 * after they went off (a load that comes and goes patches the text at
 * most about once a second); off after 2 s in a row below half that, or
 * at once when the takeover is switched off.  A vCPU whose record does
 * not answer in a period (no base yet, just online, its state unknown, a
 * torn read) is left out of that period; when none answers for 2 s (no
 * live page: no host side, or a stale one) the fast paths go off too,
 * since nobody could be seen preempted anyway.
 *
 * While the fast paths are on, and only then, the page's
 * PVLI_GUEST_KERNEL_LOCKS flag tells the host that the vCPUs publish their
 * kernel hold depth (the slowpath state counts none, as the slowpath
 * entry).
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
#include "pvli_tk.h"
#include "pvli_tk_adapt_rule.h"
#include "pvli_trace_ids.h"

static unsigned int adapt_steal_pct = 25;

static int steal_pct_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret)
		return ret;
	if (v > 100)
		return -ERANGE;
	WRITE_ONCE(adapt_steal_pct, v);
	return 0;
}

static const struct kernel_param_ops steal_pct_ops = {
	.set = steal_pct_set,
	.get = param_get_uint,
};
module_param_cb(adapt_steal_pct, &steal_pct_ops, &adapt_steal_pct, 0644);
MODULE_PARM_DESC(adapt_steal_pct,
		 "adaptive entry (the default): direct calls while vCPUs lose at least this % (0-100; 0: always, after two periods) of their time to host preemption (steal); back to the slowpath entry's paths below half of it for 2 s");

static struct delayed_work adapt_work;
static bool adapt_running;	/* adapt_work scheduled: between start and stop */
static struct pvli_tk_adapt adapt;	/* the rule's state; .fast: direct calls on, holders named */
static bool adapt_gave_up;	/* a switch failed (or no memory): no more switching */
static bool adapt_blocked;	/* the last switch up was refused for now: retried */
static char adapt_why[160];
static u64 *adapt_prev;		/* per CPU: its steal at the last period, or PVLI_TK_ADAPT_NONE */
static u64 adapt_prev_ns;
static int adapt_permille = -1;		/* steal share of the last period; -1: unknown */
static unsigned long adapt_ups, adapt_downs;

/*
 * Steal over the last period as a share (per mille) of the time of the
 * online vCPUs whose record answered, or -1 when none did.
 */
static int adapt_steal_permille(void)
{
	u64 now = ktime_get_ns(), dt = now - adapt_prev_ns, sum = 0;
	unsigned int n = 0;
	int cpu;

	adapt_prev_ns = now;
	for_each_possible_cpu(cpu) {
		u64 s, prev = adapt_prev[cpu];

		if (!cpu_online(cpu)) {
			adapt_prev[cpu] = PVLI_TK_ADAPT_NONE;	/* a new base when it is back */
			continue;
		}
		/* PVLI_TP_STEAL_UNKNOWN is PVLI_TK_ADAPT_NONE: no base either. */
		s = pvli_vcpu_steal_ns(cpu);
		adapt_prev[cpu] = s;
		pvli_tk_adapt_add(prev, s, dt, &sum, &n);
	}
	return pvli_tk_adapt_share(sum, n, dt);
}

/*
 * A registration refused before it touched anything (another direct call
 * on one of the functions, such as a user's BPF fentry program) is tried
 * again when the rule next wants the fast paths, no sooner than its 1 s
 * after a switch down: the slowpath state until the other user detaches
 * (adapt_blocked, shown by pvli_tk_adapt_show()).  One that failed
 * half-way is not (pvli_tk_direct.c): the slowpath state for good.  An
 * unregistration that failed may leave
 * direct calls into our trampoline (nobody named: safe, every release
 * is still ours): it stops switching and pins the module, which must
 * not go while they could.  (An rmmod already under way when it fails
 * cannot be stopped; tk_direct_undo() then says so loudly.)
 */
static void adapt_set_fast(bool on)
{
	int ret;

	if (on) {
		ret = pvli_tk_direct_fast(true, adapt_why, sizeof(adapt_why));
		if (ret && pvli_tk_direct_can_retry()) {
			if (!adapt_blocked)
				pr_warn("adaptive entry: %s; the slowpath entry's paths until that changes (retried every second while the host preempts us)\n",
					adapt_why);
			WRITE_ONCE(adapt_blocked, true);
			adapt.down_ns = ktime_get_ns();	/* the rule's hold-off paces the retries */
			return;
		}
		if (ret) {
			WRITE_ONCE(adapt_gave_up, true);
			pr_err("adaptive entry: %s; staying with the slowpath entry's paths (holders not named)\n",
			       adapt_why);
			return;
		}
		if (adapt_blocked)
			pr_info("adaptive entry: the direct calls registered after all\n");
		WRITE_ONCE(adapt_blocked, false);
		pvli_tk_name_holders(true);
		pvli_tk_publish_waits(true);
		pvli_publish_kernel_flag(true);
		adapt_ups++;
	} else {
		/*
		 * Nothing published once the flag is cleared (it zeroes the
		 * fields): waits stop first, and the grace periods of the
		 * unnaming end every wait that began while they were (each
		 * publishes its end: the page says 0 after); no depth moves
		 * once nobody is named.  So the flag goes before the
		 * unregistration, which can take seconds under load.
		 */
		pvli_tk_publish_waits(false);
		pvli_tk_name_holders(false);
		pvli_publish_kernel_flag(false);
		adapt.down_ns = ktime_get_ns();
		ret = pvli_tk_direct_fast(false, adapt_why, sizeof(adapt_why));
		if (ret) {
			WRITE_ONCE(adapt_gave_up, true);
			/* Our trampoline stays in the kernel's text: so must we. */
			__module_get(THIS_MODULE);
			pr_err("adaptive entry: %s; direct calls left on, holders not named, no more switching; the module stays loaded\n",
			       adapt_why);
			return;
		}
		adapt_downs++;
	}
	WRITE_ONCE(adapt.fast, on);
}

static void adapt_step(struct work_struct *w)
{
	int pm = adapt_steal_permille();
	bool want;

	WRITE_ONCE(adapt_permille, pm);
	want = pvli_tk_adapt_want(&adapt, pm, READ_ONCE(adapt_steal_pct),
				  READ_ONCE(pvli_takeover_active), ktime_get_ns());
	if (want != adapt.fast)
		adapt_set_fast(want);
	/* Nobody retries once the rule no longer asks for the fast paths. */
	if (READ_ONCE(adapt_blocked) &&
	    (!READ_ONCE(pvli_takeover_active) || adapt.quiet >= PVLI_TK_ADAPT_DOWN_PERIODS))
		WRITE_ONCE(adapt_blocked, false);
	if (READ_ONCE(adapt_gave_up))
		return;		/* nothing left to switch */
	queue_delayed_work(system_long_wq, &adapt_work, msecs_to_jiffies(PVLI_TK_ADAPT_PERIOD_MS));
}

/* After go-live with the direct calls on and holders named: up. */
void pvli_tk_adapt_start(void)
{
	int cpu;

	adapt.fast = true;
	adapt_prev = kcalloc(nr_cpu_ids, sizeof(*adapt_prev), GFP_KERNEL);
	if (!adapt_prev) {
		adapt_gave_up = true;
		snprintf(adapt_why, sizeof(adapt_why), "no memory for the steal bookkeeping");
		pr_err("adaptive entry: %s; staying with the direct entry's paths\n", adapt_why);
		return;
	}
	for_each_possible_cpu(cpu)
		adapt_prev[cpu] = PVLI_TK_ADAPT_NONE;
	adapt_prev_ns = ktime_get_ns();
	INIT_DELAYED_WORK(&adapt_work, adapt_step);
	adapt_running = true;
	/* system_long_wq: a switch waits for grace periods and a text patch. */
	queue_delayed_work(system_long_wq, &adapt_work, msecs_to_jiffies(PVLI_TK_ADAPT_PERIOD_MS));
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
	const char *now = READ_ONCE(adapt.fast) ? "direct" : "slowpath";
	int n;

	if (!adapt_running && !READ_ONCE(adapt_gave_up))
		return scnprintf(buf, len, "-\n");
	if (READ_ONCE(adapt_gave_up))
		return scnprintf(buf, len, "%s stuck: %s\n", now, adapt_why);
	n = pm < 0 ? scnprintf(buf, len, "%s steal unknown ups %lu downs %lu", now, adapt_ups, adapt_downs) :
		     scnprintf(buf, len, "%s steal %d.%d%% ups %lu downs %lu",
			       now, pm / 10, pm % 10, adapt_ups, adapt_downs);
	if (READ_ONCE(adapt_blocked))
		n += scnprintf(buf + n, len - n, " (direct calls refused, retrying: %s)", adapt_why);
	return n + scnprintf(buf + n, len - n, "\n");
}
