// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo_takeover: the guest kernel's own spinlocks, taken over at
 * runtime without a reboot, by livepatch.
 *
 * The livepatch replaces the out-of-line spinlock functions every
 * spin_lock*()/spin_trylock*()/spin_unlock*() of the kernel calls (this
 * kernel has no CONFIG_INLINE_SPIN_*, and CONFIG_UNINLINE_SPIN_UNLOCK),
 * and native_queued_spin_lock_slowpath(), where inline arch_spin_lock()
 * users end up.  The replacements and their invariants are in
 * pvli_tk_lock.c: holders are recorded in the lock word, waiters queue
 * in it and are shuffled around preempted vCPUs (the lock core's word
 * lock), halt while the holder's vCPU is preempted and are kicked by its
 * release, and each vCPU's hold depth goes into the shared page.
 *
 * The switch belongs to pvlockinfo.ko (parameter "takeover", see
 * pvli_takeover_ctl.c); this module registers with it once applied and
 * tells it why when it refuses (the list: pvli_tk_refuse.c).  Removal: echo 0 >
 * /sys/kernel/livepatch/pvlockinfo_takeover/enabled, wait for the
 * transition to end, then rmmod.
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
#include "pvli_takeover.h"
#include "pvli_tk_refuse.h"

static int get_counter(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", pvli_tk_count((enum pvli_tk_counter)(long)kp->arg));
}

static const struct kernel_param_ops counter_ops = { .get = get_counter };
#define TK_COUNTER_PARAM(name, c, desc)						\
	module_param_cb(name, &counter_ops, (void *)(long)(c), 0444);		\
	MODULE_PARM_DESC(name, desc)
static int get_held(char *buf, const struct kernel_param *kp)
{
	return pvli_tk_show_held(buf, PAGE_SIZE);
}
static const struct kernel_param_ops held_ops = { .get = get_held };
module_param_cb(held, &held_ops, NULL, 0444);
MODULE_PARM_DESC(held, "spinlocks each online CPU holds now, taken through the takeover, and by whom");

TK_COUNTER_PARAM(waits, TK_WAITS, "contended spin_lock*() calls so far");
TK_COUNTER_PARAM(halts, TK_HALTS, "halts while the lock holder's vCPU was preempted");
TK_COUNTER_PARAM(kicks, TK_KICKS, "halted waiters kicked by a release");
TK_COUNTER_PARAM(irq_waits, TK_IRQ_WAITS, "waits of irq/irqsave callers done with interrupts on");
TK_COUNTER_PARAM(queued, TK_QUEUED, "waits that queued (takeover policy shfl-pv)");
TK_COUNTER_PARAM(shuffles, TK_SHUFFLES, "queued waiters moved ahead of ones whose vCPU was preempted");

#define TK_FUNC(old, new) { .old_name = old, .new_func = new }
static struct klp_func funcs[] = {
	TK_FUNC("_raw_spin_lock", pvli_tk_spin_lock),
	TK_FUNC("_raw_spin_lock_bh", pvli_tk_spin_lock_bh),
	TK_FUNC("_raw_spin_lock_irq", pvli_tk_spin_lock_irq),
	TK_FUNC("_raw_spin_lock_irqsave", pvli_tk_spin_lock_irqsave),
	TK_FUNC("_raw_spin_trylock", pvli_tk_spin_trylock),
	TK_FUNC("_raw_spin_trylock_bh", pvli_tk_spin_trylock_bh),
	TK_FUNC("_raw_spin_unlock", pvli_tk_spin_unlock),
	TK_FUNC("_raw_spin_unlock_bh", pvli_tk_spin_unlock_bh),
	TK_FUNC("_raw_spin_unlock_irq", pvli_tk_spin_unlock_irq),
	TK_FUNC("_raw_spin_unlock_irqrestore", pvli_tk_spin_unlock_irqrestore),
	TK_FUNC("native_queued_spin_lock_slowpath", pvli_tk_slowpath),
	{ }
};

static struct klp_object objs[] = {
	{
		/* name NULL: vmlinux */
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

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
 * ftrace_ops is registered at most once per load of this module: one
 * whose registration failed is not safe to register again (seen on 6.12:
 * its filter hash is freed twice, a BUG in slub).
 */
static struct ftrace_ops tk_probes[ARRAY_SIZE(funcs)];

/* Can an IPMODIFY ops on @first..@last-1 of our functions register?  0 or -errno. */
static int ipmodify_probe(struct ftrace_ops *probe, unsigned int first, unsigned int last)
{
	unsigned int i;
	int ret = 0;

	probe->func = tk_nop;
	probe->flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_SAVE_REGS;
	for (i = first; i < last && !ret; i++) {
		const char *name = funcs[i].old_name;

		ret = ftrace_set_filter(probe, (unsigned char *)name, strlen(name), 0);
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
 */
static const char *ipmodify_taken(void)
{
	unsigned int i;

	unsigned int n = ARRAY_SIZE(funcs) - 1;	/* without the terminator */

	if (ipmodify_probe(&tk_probes[0], 0, n) != -EBUSY)
		return NULL;	/* other errors: the patch itself will say */
	for (i = 0; i < n; i++) {
		if (ipmodify_probe(&tk_probes[i + 1], i, i + 1) == -EBUSY)
			return funcs[i].old_name;
	}
	return "one of the spinlock functions";
}

static void tk_facts(struct pvli_tk_facts *f)
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
	f->ipmodify_taken = ipmodify_taken();
}

static int refuse(const char *why, int ret)
{
	pr_err("takeover refused: %s; the kernel's spinlocks are left as they are\n", why);
	pvli_takeover_refused(why);
	return ret;
}

static int __init pvli_tk_init(void)
{
	struct pvli_tk_facts facts = {};
	char why[256];
	int ret;

	tk_facts(&facts);
	ret = pvli_tk_refusal(&facts, why, sizeof(why));
	if (ret)
		return refuse(why, ret);
	pvli_tk_lock_init();
	ret = klp_enable_patch(&patch);
	if (ret) {
		snprintf(why, sizeof(why), "the livepatch did not apply (%d)", ret);
		return refuse(why, ret);
	}
	pvli_takeover_register();
	pr_info("kernel spinlocks taken over (livepatch transition started)\n");
	return 0;
}

static void __exit pvli_tk_exit(void)
{
	pvli_takeover_unregister();
	pr_info("kernel spinlocks given back\n");
}
module_init(pvli_tk_init);
module_exit(pvli_tk_exit);

MODULE_DESCRIPTION("pvlockinfo: channel-aware waiting for the kernel's own spinlocks (livepatch)");
MODULE_AUTHOR("pvlockinfo developers");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
