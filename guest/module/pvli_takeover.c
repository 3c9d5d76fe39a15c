// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo_takeover: the guest kernel's own spinlocks wait the
 * channel-aware way, switched on and off at runtime, without a reboot.
 *
 * A livepatch replaces native_queued_spin_lock_slowpath(), where every
 * contended spin_lock() of the kernel ends up (the inline fast path is a
 * single cmpxchg 0 -> _Q_LOCKED_VAL and stays as it is).  The kernel this
 * targets runs as a guest without paravirt spinlocks (TCG, or a
 * hypervisor without PV_UNHALT): there the original slow path is
 * virt_spin_lock(), a test-and-set on the whole lock word.  The
 * replacement is a test-and-set too, so old and new waiters, fast-path
 * lockers and the inline unlock (store 0 to the locked byte) keep working
 * together while the patch goes on, while it is on, and while it comes
 * off.  Invariants, as qspinlock.c states its own:
 *
 *  - A waiter takes the lock only by cmpxchg of the whole word from 0: it
 *    never sets pending or tail bits, so it excludes queued waiters of the
 *    original slow path too (they keep tail bits set while they wait).
 *  - The locked byte is nonzero exactly while the lock is held; unlock
 *    stores 0 whatever value it held.  A slow-path taker writes its CPU
 *    + TK_CPU_BIAS there (the holder is then known); the fast path writes
 *    _Q_LOCKED_VAL (1): holder unknown, treated as running.
 *  - Only while the holder is known and the channel says its vCPU is
 *    preempted does a waiter halt, and only with interrupts enabled (a
 *    halt with them off could never end).  Nothing kicks it: the inline
 *    unlock cannot, so the next interrupt (at the latest this CPU's tick)
 *    ends the halt, and the waiter looks again.
 *
 * "active" (module parameter, writable at runtime) switches the policy:
 * off, the replacement is plain test-and-set, as the original.  Unload:
 * echo 0 > /sys/kernel/livepatch/pvlockinfo_takeover/enabled, then rmmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hardirq.h>
#include <linux/irqflags.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <asm/cpufeature.h>
#include <asm/paravirt.h>
#include <asm/qspinlock.h>

#include "pvlockinfo.h"

/* Locked-byte value of a slow-path holder: CPU + 2 (1 is the fast path's). */
#define TK_CPU_BIAS	2
#define TK_MAX_CPU	(255 - TK_CPU_BIAS)

static bool active = true;
module_param(active, bool, 0644);
MODULE_PARM_DESC(active, "channel-aware waiting on (1) or plain test-and-set (0)");

static DEFINE_PER_CPU(unsigned long, tk_waits);	/* slow-path entries */
static DEFINE_PER_CPU(unsigned long, tk_halts);	/* halts for a preempted holder */

static unsigned long sum_percpu(unsigned long __percpu *v)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(v, cpu);
	return sum;
}

static int get_waits(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", sum_percpu(&tk_waits));
}

static int get_halts(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", sum_percpu(&tk_halts));
}

static const struct kernel_param_ops waits_ops = { .get = get_waits };
static const struct kernel_param_ops halts_ops = { .get = get_halts };
module_param_cb(waits, &waits_ops, NULL, 0444);
MODULE_PARM_DESC(waits, "contended spin_lock() slow-path entries so far");
module_param_cb(halts, &halts_ops, NULL, 0444);
MODULE_PARM_DESC(halts, "halts while the lock holder's vCPU was preempted");

/*
 * The replacement slow path.  Called with preemption disabled, maybe with
 * interrupts disabled, from any context that may take a spinlock.
 */
static void notrace pvli_tk_slowpath(struct qspinlock *lock, u32 val)
{
	int cpu = smp_processor_id();
	u32 me = cpu <= TK_MAX_CPU ? cpu + TK_CPU_BIAS : _Q_LOCKED_VAL;
	bool aware = READ_ONCE(active);

	this_cpu_inc(tk_waits);
	for (;;) {
		int v = atomic_read(&lock->val);
		u8 holder;

		/* Acquire: pairs with the release of queued_spin_unlock(). */
		if (!v && atomic_try_cmpxchg_acquire(&lock->val, &v, aware ? me : _Q_LOCKED_VAL))
			return;
		holder = v & _Q_LOCKED_MASK;
		if (aware && holder >= TK_CPU_BIAS && !irqs_disabled() && !in_nmi() &&
		    pvli_vcpu_preempted_atomic(holder - TK_CPU_BIAS)) {
			/*
			 * sti;hlt with the check under irqs off: an interrupt
			 * after the check stays pending and ends the hlt.
			 */
			local_irq_disable();
			if (atomic_read(&lock->val) == v) {
				this_cpu_inc(tk_halts);
				safe_halt();
			} else {
				local_irq_enable();
			}
			continue;
		}
		cpu_relax();
	}
}

static struct klp_func funcs[] = {
	{
		.old_name = "native_queued_spin_lock_slowpath",
		.new_func = pvli_tk_slowpath,
	}, { }
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

static int __init pvli_tk_init(void)
{
	const char *why = unsupported();
	int ret;

	if (why) {
		pr_err("takeover refused: %s; the kernel's spinlocks are left as they are\n", why);
		return -EOPNOTSUPP;
	}
	ret = klp_enable_patch(&patch);
	if (ret) {
		pr_err("takeover refused: the livepatch did not apply (%d); the kernel's spinlocks are left as they are\n",
		       ret);
		return ret;
	}
	pr_info("kernel spinlock slow path taken over (active=%d)\n", active);
	return 0;
}

static void __exit pvli_tk_exit(void)
{
	pr_info("kernel spinlock slow path given back\n");
}

module_init(pvli_tk_init);
module_exit(pvli_tk_exit);

MODULE_DESCRIPTION("pvlockinfo: channel-aware waiting for the kernel's own spinlocks (livepatch)");
MODULE_AUTHOR("pvlockinfo developers");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
