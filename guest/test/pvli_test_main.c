// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo_test: what measures and tests pvlockinfo.ko, kept apart from
 * the driver as the kernel keeps locktorture apart from the locks.  It
 * uses only what pvlockinfo.ko exports, and adds its debugfs commands
 * (pvli_cmd.h) to the driver's directory, /sys/kernel/debug/pvlockinfo/:
 *
 *   bench         the lock benchmark and torture harness (pvli_bench.c)
 *   hold, watch,  probes that set up known guest situations for the
 *   quota         host's ground truth (pvli_probe.c)
 *   selftest_own  every CPU reads its own record (pvli_selftest.c)
 *   lockcost      ns per uncontended kernel spinlock (pvli_lockcost.c)
 *   tsc_order     the TSC never goes back from one vCPU to another
 *                 (pvli_tsc_order.c)
 *
 * A write to one of them starts kthreads that keep CPUs busy for as long
 * as the run lasts (the probes with preemption off, for seconds): load
 * this module to measure, not in production.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "pvlockinfo.h"
#include "pvli_test.h"

static struct pvli_cmd *const cmds[] = {
	&pvli_bench_cmd, &pvli_hold_cmd, &pvli_watch_cmd, &pvli_quota_cmd, &pvli_selftest_cmd,
	&pvli_lockcost_cmd, &pvli_tsc_order_cmd,
};

static void remove_cmds(unsigned int n)
{
	while (n--)
		pvli_cmd_remove(cmds[n]);
}

static int __init pvli_test_init(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(cmds); i++) {
		int ret = pvli_cmd_add(cmds[i], pvli_debugfs_dir());

		if (ret) {
			remove_cmds(i);
			return ret;
		}
	}
	return 0;
}

static void __exit pvli_test_exit(void)
{
	remove_cmds(ARRAY_SIZE(cmds));
}

module_init(pvli_test_init);
module_exit(pvli_test_exit);

MODULE_DESCRIPTION("pvlockinfo lock harness, channel probes and self-test");
MODULE_AUTHOR("pvlockinfo developers");
MODULE_LICENSE("GPL");
