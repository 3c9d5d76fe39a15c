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
 * tells it why when it refuses.  Removal: echo 0 >
 * /sys/kernel/livepatch/pvlockinfo_takeover/enabled, wait for the
 * transition to end, then rmmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <asm/cpufeature.h>
#include <asm/paravirt.h>
#include <asm/qspinlock.h>

#include "pvlockinfo.h"
#include "pvli_takeover.h"

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

/* Why this kernel's slow path is not the one we replace, or NULL. */
static const char *unsupported(void)
{
	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return "not a guest: spinlocks use the queued slow path, not test-and-set";
#ifdef CONFIG_PARAVIRT_SPINLOCKS
	if (pv_ops.lock.queued_spin_lock_slowpath != native_queued_spin_lock_slowpath)
		return "paravirt spinlocks are active (the hypervisor's pv slow path)";
#endif
	return NULL;
}

static void tk_nop(unsigned long ip, unsigned long parent_ip,
		   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

/*
 * Another livepatch (or any ftrace user that changes where a function
 * returns to) already on one of our functions?  Livepatches stack: ours
 * would silently win over it.  An IPMODIFY ftrace_ops on the same
 * functions is refused (-EBUSY) exactly then; it is removed again at once.
 */
static const char *other_patch(char *why, size_t len)
{
	static struct ftrace_ops probe = {
		.func = tk_nop,
		.flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_SAVE_REGS,
	};
	struct klp_func *f;
	int ret = 0;

	for (f = funcs; f->old_name && !ret; f++)
		ret = ftrace_set_filter(&probe, (unsigned char *)f->old_name,
					strlen(f->old_name), 0);
	if (ret) {
		snprintf(why, len, "%s is not a traceable function here (%d)", (--f)->old_name, ret);
		goto out;
	}
	ret = register_ftrace_function(&probe);
	if (!ret) {
		unregister_ftrace_function(&probe);
		goto out;
	}
	snprintf(why, len, ret == -EBUSY ?
		 "another livepatch (or ftrace IPMODIFY user) already patches the spinlock functions" :
		 "ftrace refused a probe of the spinlock functions (%d)", ret);
out:
	ftrace_free_filter(&probe);
	return ret ? why : NULL;
}

static int refuse(const char *why, int ret)
{
	pr_err("takeover refused: %s; the kernel's spinlocks are left as they are\n", why);
	pvli_takeover_refused(why);
	return ret;
}

static int __init pvli_tk_init(void)
{
	char why[128];
	const char *no = unsupported();
	int ret;

	if (no)
		return refuse(no, -EOPNOTSUPP);
	if (other_patch(why, sizeof(why)))
		return refuse(why, -EBUSY);
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
