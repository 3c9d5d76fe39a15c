// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo_test: what measures and tests pvlockinfo.ko, kept apart from
 * the driver as the kernel keeps locktorture apart from the locks.  Its
 * debugfs files go into the driver's directory, /sys/kernel/debug/pvlockinfo/:
 *
 *   bench         the lock benchmark and torture harness (pvli_bench.c)
 *   hold, watch,  probes that set up known guest situations for the
 *   quota         host's ground truth (pvli_probe.c)
 *   selftest_own  every CPU reads its own record (pvli_selftest.c)
 *
 * Their writes start kthreads that spin with preemption off for up to
 * minutes: load this module only to measure.  It uses only what
 * pvlockinfo.ko exports.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/module.h>

#include "pvlockinfo.h"
#include "pvli_test.h"

static const char *const files[] = { "bench", "hold", "watch", "quota", "selftest_own" };

static void remove_files(void)
{
	for (int i = 0; i < ARRAY_SIZE(files); i++)
		debugfs_lookup_and_remove(files[i], pvli_debugfs_dir());
}

static int __init pvli_test_init(void)
{
	int ret;

	pvli_selftest_init();
	pvli_probe_init();
	ret = pvli_bench_init();
	if (ret) {
		remove_files();
		pvli_probe_exit();
		pvli_selftest_exit();
	}
	return ret;
}

static void __exit pvli_test_exit(void)
{
	/* Files first: no write can start after this. */
	remove_files();
	pvli_bench_exit();
	pvli_probe_exit();
	pvli_selftest_exit();
}

module_init(pvli_test_init);
module_exit(pvli_test_exit);

MODULE_DESCRIPTION("pvlockinfo lock harness, channel probes and self-test");
MODULE_AUTHOR("pvlockinfo developers");
MODULE_LICENSE("GPL");
