// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo_klp_fixture: a test fixture, not a feature.  Some other
 * livepatch on the kernel's spinlock slow path, so that tests can check
 * that the takeover refuses to stack on top of it and pvlockinfo.ko
 * stays loaded without takeover mode (tests/vm/takeover-refused.sh).
 *
 * Its replacement behaves as the original virt_spin_lock() test-and-set
 * (the guest has no pv spinlocks), so the guest runs as before.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/livepatch.h>
#include <linux/module.h>
#include <asm/qspinlock.h>

static void notrace fixture_slowpath(struct qspinlock *lock, u32 val)
{
	for (;;) {
		int v = atomic_read(&lock->val);

		if (!v && atomic_try_cmpxchg_acquire(&lock->val, &v, _Q_LOCKED_VAL))
			return;
		cpu_relax();
	}
}

static struct klp_func funcs[] = {
	{ .old_name = "native_queued_spin_lock_slowpath", .new_func = fixture_slowpath },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs },	/* vmlinux */
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init fixture_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit fixture_exit(void)
{
}

module_init(fixture_init);
module_exit(fixture_exit);

MODULE_DESCRIPTION("pvlockinfo test fixture: another livepatch on the spinlock slow path");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
