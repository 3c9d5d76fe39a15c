// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo_takeover: the guest kernel's own spinlocks, taken over at
 * runtime without a reboot.
 *
 * The out-of-line spinlock functions every spin_lock*()/spin_trylock*()/
 * spin_unlock*() of the kernel calls (this kernel has no
 * CONFIG_INLINE_SPIN_*, and CONFIG_UNINLINE_SPIN_UNLOCK) and
 * native_queued_spin_lock_slowpath(), where inline arch_spin_lock() users
 * end up, are replaced by the functions of pvli_tk_lock.c.  Four ways in
 * front of them (parameter "entry"):
 *
 *   direct     ftrace direct calls into a trampoline that jumps to the
 *              replacements (pvli_tk_direct.c): one call, a pop and a
 *              compare or a few per spin_lock(); every CPU switches at
 *              once; one text patch to apply and one to remove.  Needs
 *              DYNAMIC_FTRACE_WITH_DIRECT_CALLS, and nobody else with
 *              a direct call on these functions.  On request.
 *   livepatch  a klp patch: ftrace_regs_caller() and the livepatch
 *              handler on every call (about 16% of hackbench under
 *              TCG), and a per-task transition that takes minutes under
 *              load.  The fallback.
 *   slowpath   only native_queued_spin_lock_slowpath() (pvli_tk_direct.c,
 *              its IPMODIFY ops alone): the uncontended paths and every
 *              release stay the kernel's and cost what they cost
 *              natively.  Nothing we do not release is named, so nobody
 *              halts behind a holder and no hold depth reaches the host;
 *              waiters still queue, are shuffled, and halt in the queue
 *              (the hand-over is ours).  Only on request.
 *   adaptive   the direct entry's fast paths (holders named) while the
 *              host preempts our vCPUs a lot, the slowpath entry's
 *              otherwise (pvli_tk_adapt.c).  The default where direct
 *              calls work (auto); else the livepatch.
 *
 * With the direct entry and the livepatch (and the adaptive one while
 * its fast paths are on), holders are named, and waiters may halt behind
 * them, only while every release of a named lock is ours
 * (pvli_tk_go_live(), pvli_tk_quiesce()): for the livepatch, from the
 * end of its transition to the start of its removal.
 *
 * The switch belongs to pvlockinfo.ko (parameter "takeover", see
 * pvli_takeover_ctl.c); this module registers with it once applied and
 * tells it why when it refuses (the list: pvli_tk_refuse.c).  Removal:
 * adaptive, direct and slowpath entries, rmmod; livepatch, echo 0 >
 * /sys/kernel/livepatch/pvlockinfo_takeover/enabled, wait for the
 * transition to end, then rmmod (pvli-takeover remove does either).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/ftrace.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/tick.h>
#include <asm/cpufeature.h>
#include <asm/paravirt.h>
#include <asm/qspinlock.h>

#include "pvlockinfo.h"
#include "pvli_tk.h"
#include "pvli_tk_refuse.h"

static char *entry = "auto";
module_param(entry, charp, 0444);
MODULE_PARM_DESC(entry, "how calls reach the replacements: auto (adaptive, else livepatch), adaptive (direct calls while the host overcommits the vCPUs, else only the slow path), direct, livepatch, slowpath (only the contended path; nobody named)");

static const char *tk_entry = "none";	/* the entry in use: "adaptive", "direct", "livepatch" or "slowpath" */

static int get_in_use(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s %s\n", tk_entry, pvli_tk_live() ? "live" : "not-live");
}
static const struct kernel_param_ops in_use_ops = { .get = get_in_use };
module_param_cb(in_use, &in_use_ops, NULL, 0444);
MODULE_PARM_DESC(in_use, "the entry in use (adaptive, direct, livepatch, slowpath) and whether waiters are channel-aware (and, but for slowpath, holders named) yet (live)");

static int get_adaptive(char *buf, const struct kernel_param *kp)
{
	return pvli_tk_adapt_show(buf, PAGE_SIZE);
}
static const struct kernel_param_ops adaptive_ops = { .get = get_adaptive };
module_param_cb(adaptive, &adaptive_ops, NULL, 0444);
MODULE_PARM_DESC(adaptive, "the adaptive entry (the default): which entry's paths run now (direct or slowpath), the last 100 ms's steal share, and how often it switched up and down; - for other entries");

static int get_counter(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", pvli_tk_count((enum pvli_tk_counter)(long)kp->arg));
}

static const struct kernel_param_ops counter_ops = { .get = get_counter };
#define TK_COUNTER_PARAM(name, c, desc)						\
	module_param_cb(name, &counter_ops, (void *)(long)(c), 0444);		\
	MODULE_PARM_DESC(name, desc);
static int get_held(char *buf, const struct kernel_param *kp)
{
	return pvli_tk_show_held(buf, PAGE_SIZE);
}
static const struct kernel_param_ops held_ops = { .get = get_held };
module_param_cb(held, &held_ops, NULL, 0444);
MODULE_PARM_DESC(held, "per online CPU: spinlocks it holds now, taken through the takeover naming it");

static int get_counters(char *buf, const struct kernel_param *kp)
{
	return pvli_tk_show_counters(buf, PAGE_SIZE);
}
static const struct kernel_param_ops counters_ops = { .get = get_counters };
module_param_cb(counters, &counters_ops, NULL, 0444);
MODULE_PARM_DESC(counters, "every counter below on one line, name=value; the wait split (wait_ns and its parts) read whole, so its parts add up in every line and in the difference of two");

PVLI_TK_COUNTERS(TK_COUNTER_PARAM)

/* ---- the livepatch entry ------------------------------------------------------ */

static struct klp_func funcs[PVLI_TK_NR_FUNCS + 2];

static void tk_klp_post_patch(struct klp_object *obj)
{
	/* The transition is over: no task runs the originals any more. */
	pvli_tk_go_live(true);
	pr_info("livepatch transition done: holders named, channel-aware waiting\n");
}

static void tk_klp_pre_unpatch(struct klp_object *obj)
{
	pvli_tk_quiesce();
}

static struct klp_object objs[] = {
	{
		/* name NULL: vmlinux */
		.funcs = funcs,
		.callbacks = {
			.post_patch = tk_klp_post_patch,
			.pre_unpatch = tk_klp_pre_unpatch,
		},
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static void tk_klp_funcs(void)
{
	unsigned int i;

	for (i = 0; i < PVLI_TK_NR_FUNCS; i++) {
		funcs[i].old_name = pvli_tk_funcs[i].name;
		funcs[i].new_func = pvli_tk_funcs[i].new_func;
	}
	funcs[i].old_name = PVLI_TK_SLOWPATH;
	funcs[i].new_func = pvli_tk_slowpath;
}

/* ---- the refusal list's facts -------------------------------------------------- */

struct vsl_probe {
	struct hrtimer timer;
	struct qspinlock *lock;
	bool entered;		/* the slow path is about to be called */
	unsigned int ticks;
	u32 seen;
};

#define VSL_TICK_NS	(100 * NSEC_PER_USEC)
#define VSL_TICKS	20

static enum hrtimer_restart vsl_release(struct hrtimer *t)
{
	struct vsl_probe *p = container_of(t, struct vsl_probe, timer);

	p->seen = atomic_read(&p->lock->val);
	/*
	 * Until the slow path has run for a while: a vCPU thread preempted
	 * by the host between hrtimer_start() and the call would otherwise
	 * find the lock free and take it without a trace of its kind.
	 */
	if ((!READ_ONCE(p->entered) || !(p->seen & ~_Q_LOCKED_MASK)) && ++p->ticks < VSL_TICKS) {
		hrtimer_forward_now(t, ns_to_ktime(VSL_TICK_NS));
		return HRTIMER_RESTART;
	}
	smp_store_release(&p->lock->locked, 0);
	return HRTIMER_NORESTART;
}

/*
 * Is virt_spin_lock_key on?  The key is not exported, so ask the code it
 * steers: call the kernel's own slow path on a private lock that we hold,
 * and let a timer on this CPU look at the word every 100 us and release
 * it once it has seen the waiter (or after 2 ms).  virt_spin_lock() only
 * ever reads the word and cmpxchg()es it from 0; the queued MCS path (the
 * key off) first sets the pending bit.  The timer sees which.
 */
static bool virt_spin_lock_on(void)
{
	struct qspinlock lock = { .val = ATOMIC_INIT(_Q_LOCKED_VAL) };
	struct vsl_probe p = { .lock = &lock };

	hrtimer_init_on_stack(&p.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	p.timer.function = vsl_release;
	preempt_disable();
	hrtimer_start(&p.timer, ns_to_ktime(VSL_TICK_NS), HRTIMER_MODE_REL_PINNED_HARD);
	WRITE_ONCE(p.entered, true);
	native_queued_spin_lock_slowpath(&lock, _Q_LOCKED_VAL);
	preempt_enable();
	hrtimer_cancel(&p.timer);
	destroy_hrtimer_on_stack(&p.timer);
	return !(p.seen & ~_Q_LOCKED_MASK);
}

static void tk_nop(unsigned long ip, unsigned long parent_ip,
		   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

/*
 * The probes: one of all our functions, then one per function.  Each
 * ftrace_ops is used at most once per load of this module:
 * ftrace_free_filter() frees its filter hash but leaves func_hash
 * pointing at it, so a filter set on it again frees the hash twice (seen
 * on 6.12 when one probe ops was reused: a BUG in slub).
 */
static struct ftrace_ops tk_probes[PVLI_TK_NR_FUNCS + 2];

/* Can an IPMODIFY ops on @first..@last-1 of our functions register?  0 or -errno. */
static int ipmodify_probe(struct ftrace_ops *probe, unsigned int first, unsigned int last)
{
	unsigned int i;
	int ret = 0;

	probe->func = tk_nop;
	probe->flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_SAVE_REGS;
	/* By address: a name would be matched against every ftrace location. */
	for (i = first; i < last && !ret; i++) {
		const void *func = i < PVLI_TK_NR_FUNCS ? pvli_tk_funcs[i].old_func :
				   native_queued_spin_lock_slowpath;

		ret = ftrace_set_filter_ip(probe, pvli_tk_fentry(func), 0, 0);
	}
	if (!ret)
		ret = register_ftrace_function(probe);
	if (!ret)
		unregister_ftrace_function(probe);
	ftrace_free_filter(probe);
	return ret;
}

/*
 * Another livepatch (or any ftrace user that changes where a function
 * returns to) already on one of our functions?  Livepatches stack: ours
 * would silently win over it.  An IPMODIFY ftrace_ops on the same
 * function is refused (-EBUSY) exactly then; it is removed again at once.
 * One probe of all functions, and only if that is refused one per
 * function to name it.  Returns the first such function, or NULL.
 * @slowpath_only: the slowpath entry, which touches only the slow path.
 */
static const char *ipmodify_taken(bool slowpath_only)
{
	unsigned int i, first = slowpath_only ? PVLI_TK_NR_FUNCS : 0;

	if (ipmodify_probe(&tk_probes[0], first, PVLI_TK_NR_FUNCS + 1) != -EBUSY)
		return NULL;	/* other errors: the patch itself will say */
	for (i = first; i <= PVLI_TK_NR_FUNCS; i++) {
		if (ipmodify_probe(&tk_probes[i + 1], i, i + 1) == -EBUSY)
			return i < PVLI_TK_NR_FUNCS ? pvli_tk_funcs[i].name : PVLI_TK_SLOWPATH;
	}
	return "one of the spinlock functions";
}

static void tk_facts(struct pvli_tk_facts *f, bool slowpath_only)
{
	f->hypervisor = boot_cpu_has(X86_FEATURE_HYPERVISOR);
	f->cpus = num_possible_cpus();
	f->lockdep = IS_ENABLED(CONFIG_LOCKDEP);
	f->debug_spinlock = IS_ENABLED(CONFIG_DEBUG_SPINLOCK);
#ifdef CONFIG_PARAVIRT_SPINLOCKS
	f->pv_spinlocks = pv_ops.lock.queued_spin_lock_slowpath != native_queued_spin_lock_slowpath;
#endif
	f->virt_spin_lock = !f->pv_spinlocks && virt_spin_lock_on();
#ifdef CONFIG_NO_HZ_FULL
	f->nohz_full = tick_nohz_full_running ? cpumask_weight(tick_nohz_full_mask) : 0;
#endif
	f->ipmodify_taken = ipmodify_taken(slowpath_only);
}

/* ---- apply and remove -------------------------------------------------------- */


static int refuse(const char *why, int ret)
{
	pr_err("takeover refused: %s; the kernel's spinlocks are left as they are\n", why);
	pvli_takeover_refused(why);
	return ret;
}

/*
 * Every function of entry @name switched, on every CPU: go live.
 * @name_holders: every release of a lock we take is ours (see
 * pvli_tk_go_live()).  @kernel_fields: the host is told hold depths and
 * waits.
 */
static int __init tk_live_now(const char *name, bool name_holders, bool kernel_fields,
			      u64 t0, u64 t_checks)
{
	tk_entry = name;
	pvli_tk_go_live(name_holders);
	pvli_takeover_register(tk_entry, kernel_fields, pvli_tk_switched);
	pr_info("kernel spinlocks taken over (%s entry) in %llu us (checks %llu us)\n", name,
		(ktime_get_ns() - t0) / NSEC_PER_USEC, t_checks / NSEC_PER_USEC);
	return 0;
}

static int __init pvli_tk_init(void)
{
	struct pvli_tk_facts facts = {};
	u64 t0 = ktime_get_ns(), t_checks;
	/*
	 * The slowpath entry never sees an uncontended acquisition or any
	 * release: it names nobody, counts no hold depth and publishes
	 * nothing to the host.
	 */
	bool slowpath = !strcmp(entry, "slowpath");
	/*
	 * The adaptive entry (auto's choice where direct calls work) starts
	 * as the direct one and goes down to the slowpath one's paths once
	 * the host is seen to preempt our vCPUs little (pvli_tk_adapt.c).
	 */
	bool adaptive = !strcmp(entry, "adaptive") || !strcmp(entry, "auto");
	char why[256];
	int ret;

	if (strcmp(entry, "direct") && strcmp(entry, "livepatch") && !slowpath && !adaptive)
		return refuse("entry must be auto, adaptive, direct, livepatch or slowpath", -EINVAL);
	tk_facts(&facts, slowpath);
	t_checks = ktime_get_ns() - t0;
	/* All of them, whatever the verdict: the tests check the probes by this line. */
	pr_info("facts: hypervisor %d, %u CPUs, lockdep %d, debug_spinlock %d, pv spinlocks %d, virt_spin_lock_key %s, %u nohz_full CPUs\n",
		facts.hypervisor, facts.cpus, facts.lockdep, facts.debug_spinlock,
		facts.pv_spinlocks, facts.pv_spinlocks ? "not probed" : facts.virt_spin_lock ? "on" : "off",
		facts.nohz_full);
	ret = pvli_tk_refusal(&facts, why, sizeof(why));
	if (ret)
		return refuse(why, ret);
	pvli_tk_lock_init(!slowpath);

	if (slowpath) {
		/*
		 * Only native_queued_spin_lock_slowpath(): the uncontended
		 * paths stay the kernel's, and so do all releases, which kick
		 * nobody; so nobody is named and nobody halts behind a holder.
		 * Waiters still queue and are shuffled, and those with
		 * interrupts on halt in the queue (the hand-over is ours).
		 * Callers of the _irq/_irqsave variants arrive here with
		 * interrupts already off and wait with them off.
		 */
		ret = pvli_tk_direct_apply(false, why, sizeof(why));
		if (ret)
			return refuse(why, ret);
		return tk_live_now("slowpath", false, false, t0, t_checks);
	}
	if (strcmp(entry, "livepatch")) {
		ret = IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS) ?
		      pvli_tk_direct_apply(true, why, sizeof(why)) : -EOPNOTSUPP;
		if (!ret) {
			tk_live_now(adaptive ? "adaptive" : "direct", true, true, t0, t_checks);
			if (adaptive)
				pvli_tk_adapt_start();
			return 0;
		}
		if (ret == -EOPNOTSUPP)
			snprintf(why, sizeof(why), "no ftrace direct calls in this kernel");
		if (strcmp(entry, "auto"))	/* direct, adaptive: nothing else will do */
			return refuse(why, ret);
		pr_info("no direct entry (%s); using the livepatch\n", why);
	}

	tk_klp_funcs();
	ret = klp_enable_patch(&patch);
	if (ret) {
		snprintf(why, sizeof(why), "the livepatch did not apply (%d)", ret);
		return refuse(why, ret);
	}
	tk_entry = "livepatch";
	pvli_takeover_register(tk_entry, true, pvli_tk_switched);
	pr_info("kernel spinlocks taken over (livepatch; live once its transition ends)\n");
	return 0;
}

static void __exit pvli_tk_exit(void)
{
	u64 t0 = ktime_get_ns();

	pvli_tk_adapt_stop();	/* first: nothing switches the fast paths any more */
	if (strcmp(tk_entry, "livepatch")) {
		pvli_tk_quiesce();
		pvli_tk_direct_remove();
	} else if (pvli_tk_live()) {
		/*
		 * The livepatch quiesces in its pre_unpatch callback, before
		 * the transition; but a livepatch that replaced ours ran its
		 * own callbacks, not ours: ours are no longer called, and the
		 * quiesce (which gives the irqs-off halts back) is still due.
		 */
		pvli_tk_quiesce();
	}
	pvli_takeover_unregister();
	pr_info("kernel spinlocks given back (%s entry) in %llu us\n", tk_entry,
		(ktime_get_ns() - t0) / NSEC_PER_USEC);
}
module_init(pvli_tk_init);
module_exit(pvli_tk_exit);

MODULE_DESCRIPTION("pvlockinfo: channel-aware waiting for the kernel's own spinlocks");
MODULE_AUTHOR("pvlockinfo developers");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
